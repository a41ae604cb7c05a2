"""deep.metrics.posterior_jacobian: special cases with known answers, and eq 11 at a linear
Gaussian model where the exact posterior is known (Kumar & Poole 2020, eq 11 is exact there)."""

import numpy as np
import pytest
import torch

from deep.metrics import posterior_jacobian as pj
from deep.regularizers import orthogonality_penalty


def test_block_structured_gram_has_no_off_block_energy_and_random_has_some():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(3, 2, 2, dtype=torch.float64, generator=g)
    G = torch.block_diag(*(a @ a.T for a in A))[None]
    mask = pj.block_mask(6, 2)
    assert pj.off_block_energy(G, mask).item() == 0.0
    J = torch.randn(1, 20, 6, dtype=torch.float64, generator=g)
    G2 = J.transpose(1, 2) @ J
    # brute force: sum of squares of the entries outside the 2x2 diagonal blocks
    off = sum(G2[0, i, j] ** 2 for i in range(6) for j in range(6) if i // 2 != j // 2)
    torch.testing.assert_close(pj.off_block_energy(G2, mask)[0], off / (G2[0] ** 2).sum(),
                               rtol=1e-12, atol=0)   # float64 sums in another order


def test_column_coherence_matches_orthogonality_penalty_and_is_zero_for_orthogonal_columns():
    g = torch.Generator().manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(4, 9), torch.nn.Tanh(), torch.nn.Linear(9, 12)).double()
    z = torch.randn(5, 4, dtype=torch.float64, generator=g)
    from deep.regularizers import decoder_jacobian

    J = decoder_jacobian(net, z)
    torch.testing.assert_close(pj.column_coherence(J.transpose(1, 2) @ J),
                               orthogonality_penalty(net, z), rtol=1e-8, atol=1e-14)
    # rtol: the penalty adds eps = 1e-12 to n_i n_j, which is above 1e-4 for this net: relative shift < 1e-8
    Q = torch.linalg.qr(torch.randn(12, 4, dtype=torch.float64, generator=g))[0] * torch.tensor([1., 2, 3, 4])
    assert pj.column_coherence((Q.T @ Q)[None]).item() < 1e-28


def test_eq11_error_is_zero_for_the_exact_posterior_of_a_linear_gaussian_model():
    """x | z ~ N(Az, βI) (the β-VAE with σ = 1 is a VAE with decoder variance β): its exact
    posterior precision, by Gaussian conditioning, is I + AᵀA/β, what eq 11 states."""
    rng = np.random.default_rng(2)
    A, beta = rng.normal(size=(7, 4)), 0.3
    cov_x = A @ A.T + beta * np.eye(7)
    post_cov = np.eye(4) - A.T @ np.linalg.solve(cov_x, A)          # Schur complement
    P = torch.from_numpy(np.linalg.inv(post_cov))[None]
    M = torch.eye(4, dtype=torch.float64)[None] + torch.from_numpy(A.T @ A)[None] / beta
    # float64 inversion of a matrix with condition number < 1e3: 1e-10 is rounding
    assert pj.eq11_relative_error(P, M, pj.block_mask(4, 4)).item() < 1e-10
    assert pj.eq11_relative_error(2 * P, M, pj.block_mask(4, 4)).item() == pytest.approx(1.0, rel=1e-10)


def test_block_mask_rejects_a_block_that_does_not_divide_d():
    with pytest.raises(ValueError, match="block"):
        pj.block_mask(8, 3)


def test_largest_principal_angle_matches_scipy_subspace_angles():
    from scipy.linalg import subspace_angles

    g = torch.Generator().manual_seed(3)
    A = torch.randn(6, 10, 3, dtype=torch.float64, generator=g)
    B = torch.randn(6, 10, 4, dtype=torch.float64, generator=g)
    want = [np.degrees(subspace_angles(a.numpy(), b.numpy())).max() for a, b in zip(A, B)]
    # float64 QR and SVD against scipy's own route: rounding, amplified near 0° and 90° by arccos
    np.testing.assert_allclose(pj.largest_principal_angle(A, B).numpy(), want, rtol=0, atol=1e-6)
    # a subspace of B, in another basis, has angle 0; an orthogonal complement 90°
    inside = B[:, :, :3] @ torch.randn(3, 3, dtype=torch.float64, generator=g)
    assert pj.largest_principal_angle(inside, B).max().item() < 1e-5
    e = torch.eye(10, dtype=torch.float64)
    assert pj.largest_principal_angle(e[None, :, :2], e[None, :, 2:5]).item() == pytest.approx(90.0, abs=1e-9)


def test_spectrum_log_ratio_ignores_the_basis_and_sees_a_scale():
    rng = np.random.default_rng(4)
    R = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    lam = np.array([1.0, 3.0, 10.0, 300.0])
    P = torch.from_numpy(R @ np.diag(lam) @ R.T)[None]
    Q = torch.from_numpy(np.diag(lam[::-1]).copy())[None]
    # a rotated copy: the same spectrum; float64 eigvalsh rounding relative to λ_max/λ_min = 300
    assert pj.spectrum_log_ratio(P, Q).max().item() < 1e-12
    np.testing.assert_allclose(pj.spectrum_log_ratio(2 * P, Q).numpy(), np.log(2), rtol=1e-12)
    with pytest.raises(ValueError, match="P must be positive definite"):
        pj.spectrum_log_ratio(-P, Q)
    with pytest.raises(ValueError, match="largest_principal_angle|A and B"):
        pj.largest_principal_angle(torch.zeros(1, 3, 4, dtype=torch.float64), torch.zeros(1, 3, 4, dtype=torch.float64))


def test_metric_curve_lengths_on_a_line_and_a_circle():
    """Linear Gaussian model (the exact posterior precision is I + AᵀA/β): the two lengths are
    both ‖A(z_b − z_a)‖. A circle of radius r (g(z) = r(cos z, sin z), J ᵀJ = r²): the metric
    length is r|Δz| and the decoded polyline's length is the chord sum 2rn·sin(Δz/2n)."""
    rng = np.random.default_rng(5)
    A, beta = torch.from_numpy(rng.normal(size=(6, 3))), 0.3
    P = torch.eye(3, dtype=torch.float64) + A.T @ A / beta
    za, zb = (torch.from_numpy(rng.normal(size=(4, 3))) for _ in range(2))
    metric, decoded = pj.metric_curve_lengths(lambda z: z @ A.T, lambda x: P.expand(len(x), 3, 3),
                                              za, zb, beta, n_points=5)
    want = ((zb - za) @ A.T).norm(dim=1)
    torch.testing.assert_close(metric, want, rtol=1e-12, atol=0)      # float64 rounding
    torch.testing.assert_close(decoded, want, rtol=1e-12, atol=0)
    r, n = 2.0, 33
    za, zb = torch.zeros(1, 1, dtype=torch.float64), torch.full((1, 1), 3.0, dtype=torch.float64)
    metric, decoded = pj.metric_curve_lengths(
        lambda z: r * torch.cat([z.cos(), z.sin()], 1),
        lambda x: torch.full((len(x), 1, 1), 1 + r ** 2 / beta, dtype=torch.float64), za, zb, beta, n)
    assert metric.item() == pytest.approx(r * 3.0, rel=1e-12)
    assert decoded.item() == pytest.approx(2 * r * (n - 1) * np.sin(3.0 / (2 * (n - 1))), rel=1e-12)
    with pytest.raises(ValueError, match="n_points"):
        pj.metric_curve_lengths(lambda z: z, lambda x: P, za, zb, beta, n_points=1)
