"""Rotation angle (App. C) and the non-uniqueness construction (App. A) of Kumar & Poole 2020."""

import numpy as np
import pytest
from scipy import stats

from linear_models import uniqueness as U

SIGNED_PERMS = [np.array(p) for p in ([[1, 0], [0, 1]], [[0, 1], [1, 0]])]
SIGNED_PERMS = [P @ np.diag(s) for P in SIGNED_PERMS for s in ([1, 1], [1, -1], [-1, 1], [-1, -1])]


def _brute_force_angle(Z, M):
    """Grid search of min ‖Z − R(φ) S M‖ over φ and S ∈ {I, reflection}, reduced mod 90°
    (a 0.5° grid, then a 0.005° grid around the best point)."""
    best = (np.inf, None, None)
    for refl in (np.eye(2), np.diag([1.0, -1.0])):
        for grid in (np.arange(-180, 180, 0.5),):
            for phi in grid:
                O = U.rotation_matrix(np.radians(phi)) @ refl
                err = np.sum((Z - M @ O.T) ** 2)
                if err < best[0]:
                    best = (err, phi, refl)
    _, phi0, refl = best
    for phi in np.arange(phi0 - 0.5, phi0 + 0.5, 0.005):
        O = U.rotation_matrix(np.radians(phi)) @ refl
        err = np.sum((Z - M @ O.T) ** 2)
        if err < best[0]:
            best = (err, phi, refl)
    return -((-best[1] + 45.0) % 90.0 - 45.0)


@pytest.mark.parametrize("theta", [-44.0, -30.0, -3.0, 0.0, 12.5, 37.0, 45.0])
def test_rotation_angle_recovers_a_known_rotation_up_to_signed_permutation(rng, theta):
    Z = rng.normal(size=(300, 2))
    for P in SIGNED_PERMS:
        O = U.rotation_matrix(np.radians(theta)) @ P  # Z = O M
        M = 3.0 * Z @ O  # inferred latents with arbitrary scale
        got = U.rotation_angle(Z, M)
        assert abs(got - theta) < 1e-9 or abs(abs(got) - 45.0) < 1e-9 and abs(abs(theta) - 45) < 1e-9


def test_rotation_angle_matches_brute_force_with_noise(rng):
    for _ in range(3):
        Z = rng.normal(size=(200, 2))
        A = rng.normal(size=(2, 2))  # a general (non-orthogonal) map plus noise
        M = Z @ A.T + 0.3 * rng.normal(size=Z.shape)
        got = U.rotation_angle(Z, M)
        assert -45 < got <= 45
        assert abs(got - _brute_force_angle(Z, M)) < 0.02


def test_rotation_angle_bad_input(rng):
    with pytest.raises(ValueError, match="Z"):
        U.rotation_angle(rng.normal(size=(10, 3)), rng.normal(size=(10, 3)))
    with pytest.raises(ValueError, match="same shape"):
        U.rotation_angle(rng.normal(size=(10, 2)), rng.normal(size=(11, 2)))
    with pytest.raises(ValueError, match="M"):
        U.rotation_angle(rng.normal(size=(10, 2)), np.full((10, 2), np.nan))


def test_sample_uniqueness_data_column_norms_and_noise(rng):
    x, z, W = U.sample_uniqueness_data(4000, "identity", rng)
    np.testing.assert_allclose(np.linalg.norm(W, axis=0), [2.0, 1.0], rtol=1e-12)
    resid = x - z @ W.T
    assert abs(resid.std() - 0.05) < 4 * 0.05 / np.sqrt(2 * 8000)
    x, z, W = U.sample_uniqueness_data(100, "sigmoid", rng)
    assert x.shape == (100, 2)
    with pytest.raises(ValueError, match="nonlinearity"):
        U.sample_uniqueness_data(100, "relu6", rng)


MARGINALS = {"laplace": stats.laplace(), "student_t5": stats.t(5), "gaussian": stats.norm()}


@pytest.mark.parametrize("name", list(MARGINALS))
def test_mixing_transform_leaves_factorised_prior_invariant_and_mixes(rng, name):
    dist = MARGINALS[name]
    n = 20000
    z = dist.rvs(size=(n, 2), random_state=rng)
    Urot = U.rotation_matrix(np.pi / 5)
    r = U.mixing_transform(z, Urot, dist)
    # goodness of fit: chi-square over a 6×6 grid of prior-equiprobable cells (independence +
    # marginals at once), and KS per marginal
    edges = dist.ppf(np.linspace(0, 1, 7)[1:-1])
    cells = np.digitize(r[:, 0], edges) * 6 + np.digitize(r[:, 1], edges)
    counts = np.bincount(cells, minlength=36)
    assert stats.chisquare(counts).pvalue > 1e-3
    assert all(stats.kstest(r[:, i], dist.cdf).pvalue > 1e-3 for i in range(2))
    # mixing: r_1 depends on z_2 (correlation far beyond its null standard error 1/√n)
    assert abs(np.corrcoef(z[:, 1], r[:, 0])[0, 1]) > 10 / np.sqrt(n)
    # round trip of the tail-accurate maps
    np.testing.assert_allclose(U.from_gaussian(U.to_gaussian(z, dist), dist), z, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", list(MARGINALS))
def test_jacobian_determinant_is_prior_ratio_not_one(rng, name):
    dist = MARGINALS[name]
    z = dist.rvs(size=(200, 2), random_state=rng)
    Urot = U.rotation_matrix(0.9)
    J = U.numerical_jacobian(lambda w: U.mixing_transform(w, Urot, dist), z)
    logdet_fd = np.log(np.abs(np.linalg.det(J)))
    np.testing.assert_allclose(U.mixing_jacobian_logdet(z, Urot, dist), logdet_fd, atol=1e-6)
    assert np.all(np.abs(J[:, 0, 1]) > 0) and np.all(np.abs(J[:, 1, 0]) > 0)
    if name == "gaussian":  # the special case where the paper's |det J_r| = 1 holds
        np.testing.assert_allclose(logdet_fd, 0.0, atol=1e-6)
    else:
        # far above the finite-difference error (1e-6 above): |det J_r| = 1 fails
        assert np.max(np.abs(logdet_fd)) > 1e-3


def test_darmois_construction_for_correlated_prior(rng):
    prior = U.BivariateStudentT(df=6.0, rho=0.6)
    n = 20000
    z = prior.sample(n, rng)
    r = U.darmois_mixing_transform(z, U.rotation_matrix(np.pi / 3), prior)
    # the Darmois map sends the prior to N(0, I) (checked with scipy's independent logpdf below)
    np.testing.assert_allclose(prior.from_gaussian(prior.to_gaussian(z)), z, rtol=1e-8, atol=1e-8)
    # invariance: marginals are t_6 and the correlation is rho
    assert all(stats.kstest(r[:, i], stats.t(6.0).cdf).pvalue > 1e-3 for i in range(2))
    corr = np.corrcoef(r.T)[0, 1]
    boot = [np.corrcoef(prior.sample(n, rng).T)[0, 1] for _ in range(20)]
    assert abs(corr - 0.6) < 4 * np.std(boot) + 1e-3
    # change of variables: |det J_r| = p(z)/p(r(z)) pointwise ⟺ r#p = p (bijective r)
    zz = z[:100]
    J = U.numerical_jacobian(lambda w: U.darmois_mixing_transform(w, U.rotation_matrix(np.pi / 3), prior), zz)
    np.testing.assert_allclose(np.log(np.abs(np.linalg.det(J))),
                               prior.logpdf(zz) - prior.logpdf(r[:100]), atol=1e-5)
    # mixing: the second output depends on the first input beyond the prior correlation path
    assert np.all(np.abs(J[:, 0, 1]) > 0)
