"""The FA studies: every claim holds, is an explained difference or a labelled construction;
determinism per seed."""

import numpy as np
import pytest

from betalab.registry import StudyConfig, get
from linear_models import factor_analysis as fa


@pytest.mark.parametrize("name", ["fa-rotation", "fa-pruning", "fa-beta"])
def test_fa_study_claims(name, check_claims):
    res = get(name)(StudyConfig(seed=0))
    check_claims(name, res.claims)
    verdicts = {c.verdict for c in res.claims}
    assert verdicts <= {"holds", "differs", "constructed"}
    assert sum(c.verdict == "holds" for c in res.claims) >= 3


def test_the_quoted_numbers_are_labelled_constructions_not_reproductions():
    """−17.82 and −57.16 are solved for: a claim whose expected value comes from the construction
    under test must be labelled, never counted as holding."""
    res = get("fa-rotation")(StudyConfig(seed=0))
    quoted = [c for c in res.claims if "17.82" in c.statement or "57.16" in c.statement]
    assert [c.verdict for c in quoted] == ["constructed", "constructed"]
    assert all("σ² drops out" in c.note for c in quoted)


def test_beta_vi_fit_is_ppca_with_noise_beta_sigma2():
    """App. B / B.6 erratum: the β-VI fit (W learned) against Tipping & Bishop's closed form with
    noise βσ², for a setting other than the study's (an independent data set and noise)."""
    from betalab.studies.factor_analysis import fit_w_beta_vi

    rng = np.random.default_rng(5)
    S = np.array([[2.0, 0.6], [0.6, 0.5]])
    X = fa.data_with_second_moment(S, 50, rng)
    psi = np.full(2, 0.1)
    W0 = fa.ml_orthogonal_weights(S, 0.1)
    lam, U = np.linalg.eigh(X.T @ X / 50)
    for beta in (1.0, 3.0):
        Wb = fit_w_beta_vi(X, W0, psi, beta)
        np.testing.assert_allclose(Wb @ Wb.T, U @ np.diag(np.clip(lam - 0.1 * beta, 0, None)) @ U.T,
                                   atol=1e-6)


def test_rotation_setting_reproduces_the_quoted_numbers_for_any_seed():
    from betalab.studies.factor_analysis import ROT_N, rotation_problem

    for seed in (0, 7):
        X, W, psi, _ = rotation_problem(seed)
        assert X.shape == (ROT_N, 2)
        np.testing.assert_allclose(fa.log_likelihood(X, W, psi), -17.82, atol=1e-9)
        W45 = W @ fa.rotation(np.pi / 4).T
        np.testing.assert_allclose(fa.free_energy(X, W45, psi), -57.16, atol=1e-9)


def test_same_seed_same_numbers():
    a = get("fa-pruning")(StudyConfig(seed=3)).numbers
    b = get("fa-pruning")(StudyConfig(seed=3)).numbers
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
