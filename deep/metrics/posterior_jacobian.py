r"""Posterior covariance vs decoder Jacobian at a trained model (Kumar & Poole 2020, eq 11,
Figs 2, 3, 7, App. E–F), and the three objectives of Fig 3 evaluated on held-out points.

For Gaussian observations N(g(z), σ²I) eq 11 reads Σ⁻¹ = M := I + JᵀJ/(βσ²) with J = J_g(h(x)).
Everything here is a pure function of tensors; shapes: Σ, P, G (B, d, d), J (B, D, d).
"""

from __future__ import annotations

__all__ = ["block_mask", "eq11_relative_error", "off_block_energy", "column_coherence",
           "largest_principal_angle", "spectrum_log_ratio", "metric_curve_lengths", "model_geometry",
           "objective_values"]

import math

import torch

from deep.regularizers import _check_beta, decoder_jacobian
from validation import check_int, check_tensor


def _check_square(G, name: str):
    """A finite real floating batch of square matrices (..., d, d)."""
    check_tensor(G, name, finite=True)
    if G.ndim < 2 or G.shape[-1] != G.shape[-2] or G.shape[-1] < 1:
        raise ValueError(f"{name} must be a batch of square matrices (..., d, d), got {tuple(G.shape)}")
    return G


def _check_mask(mask, d: int):
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool torch.Tensor (block_mask), got "
                        f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if tuple(mask.shape) != (d, d):
        raise ValueError(f"mask must have shape {(d, d)}, got {tuple(mask.shape)}")
    return mask


def _check_model(model):
    if not isinstance(model, torch.nn.Module) or not all(
            hasattr(model, a) for a in ("posterior_covariance", "flat_decoder", "obs_sigma")):
        raise TypeError(f"model must be a VAE (deep.models.VAE), got {type(model).__name__}")
    return model


def block_mask(d: int, block: int, device=None) -> torch.Tensor:
    """Boolean (d, d) mask of the diagonal blocks of size ``block`` (ValueError if it does not
    divide d)."""
    d = check_int(d, "d", low=1)
    if isinstance(block, bool) or not isinstance(block, int) or block < 1 or d % block:
        raise ValueError(f"block must be a positive int dividing d = {d}, got {block!r}")
    return torch.block_diag(*[torch.ones(block, block, dtype=torch.bool)] * (d // block)).to(device)


def eq11_relative_error(precision: torch.Tensor, M: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""‖mask ⊙ (Σ⁻¹ − M)‖_F / ‖mask ⊙ M‖_F per example, (B,): eq 11 compared within the block
    pattern the posterior can express (off the blocks Σ⁻¹ is zero by construction)."""
    _check_square(precision, "precision")
    _check_square(M, "M")
    if M.shape != precision.shape:
        raise ValueError(f"M must have the shape of precision {tuple(precision.shape)}, got {tuple(M.shape)}")
    m = _check_mask(mask, M.shape[-1]).to(precision.dtype)
    return torch.linalg.matrix_norm((precision - M) * m) / torch.linalg.matrix_norm(M * m)


def off_block_energy(G: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Fraction of ‖G‖_F² off the diagonal blocks, ‖(1 − mask) ⊙ G‖_F² / ‖G‖_F², (B,)."""
    _check_mask(mask, _check_square(G, "G").shape[-1])
    return (G * ~mask).pow(2).sum((-1, -2)) / G.pow(2).sum((-1, -2))


def column_coherence(G: torch.Tensor) -> torch.Tensor:
    r"""Mean squared cosine between distinct Jacobian columns from the Gram matrix G = JᵀJ,
    mean_{i<j} G_ij² / (G_ii G_jj), (B,): 0 for orthogonal columns (sec. 5.1; the same quantity
    as :func:`deep.regularizers.orthogonality_penalty`)."""
    _check_square(G, "G")
    n = torch.diagonal(G, dim1=-2, dim2=-1)
    C2 = G.pow(2) / (n[..., :, None] * n[..., None, :])
    d = G.shape[-1]
    iu = torch.triu_indices(d, d, 1)
    return C2[..., iu[0], iu[1]].mean(-1)


@torch.no_grad()
def model_geometry(model, x: torch.Tensor, beta: float) -> dict:
    """Σ, Σ⁻¹, μ, J and M = I + JᵀJ/(βσ²) of a trained Gaussian-observation VAE at the points
    ``x`` (B, 1, H, W); computed in the model's dtype (use float64 for comparisons)."""
    _check_model(model)
    check_tensor(x, "x", finite=True, min_size=1)
    beta = _check_beta(beta)
    mu, Sigma = model.posterior_covariance(x)
    J = decoder_jacobian(model.flat_decoder(), mu)                           # (B, D, d)
    G = J.transpose(1, 2) @ J
    d = mu.shape[1]
    M = torch.eye(d, dtype=mu.dtype, device=mu.device) + G / (beta * model.obs_sigma ** 2)
    return {"mu": mu, "Sigma": Sigma, "precision": torch.linalg.inv(Sigma), "J": J, "G": G, "M": M}


def largest_principal_angle(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    r"""The largest principal angle, in degrees, between the column spaces of A and B per example
    (B,): arccos of the smallest singular value of Q_Aᵀ Q_B, with Q the orthonormal bases of
    their QR factorisations (Björck & Golub 1973). Shapes (batch, D, k) and (batch, D, k') with
    k ≤ k' ≤ D; 0° when span A ⊆ span B. Used to compare a trained decoder's tangent space
    span J_g(μ(x)) with the known manifold's span J_{g*}(s) (Kumar & Poole 2020, eq 11)."""
    check_tensor(A, "A", finite=True)
    check_tensor(B, "B", finite=True)
    if A.ndim != 3 or B.ndim != 3 or A.shape[:2] != B.shape[:2] or not 1 <= A.shape[2] <= B.shape[2] <= A.shape[1]:
        raise ValueError(f"A and B must be (batch, D, k) and (batch, D, k') with k <= k' <= D, got "
                         f"{tuple(A.shape)} and {tuple(B.shape)}")
    qa, qb = torch.linalg.qr(A)[0], torch.linalg.qr(B)[0]
    s = torch.linalg.svdvals(qa.transpose(1, 2) @ qb)[:, -1]
    return torch.rad2deg(torch.arccos(s.clamp(-1.0, 1.0)))


def spectrum_log_ratio(P: torch.Tensor, Q: torch.Tensor) -> torch.Tensor:
    r""":math:`|\log \lambda_i(P) - \log \lambda_i(Q)|` for the ascending eigenvalues of two
    batches of symmetric positive-definite matrices, (batch, d): a comparison that does not
    depend on the basis, so a trained posterior precision Σ⁻¹ can be compared with I + J*ᵀJ*/β
    of a known decoder whose latents the model recovers only up to a rotation (the prior
    N(0, I) is rotation invariant; Kumar & Poole 2020, sec. 3 and eq 11). ValueError if an
    eigenvalue is not positive."""
    _check_square(P, "P")
    _check_square(Q, "Q")
    if P.shape != Q.shape:
        raise ValueError(f"Q must have the shape of P {tuple(P.shape)}, got {tuple(Q.shape)}")
    lp, lq = torch.linalg.eigvalsh(P), torch.linalg.eigvalsh(Q)
    for name, lam in (("P", lp), ("Q", lq)):
        if not bool((lam > 0).all()):
            raise ValueError(f"{name} must be positive definite (its least eigenvalue is {float(lam.min()):.3g})")
    return (lp.log() - lq.log()).abs()


def metric_curve_lengths(decode, precision, z_a: torch.Tensor, z_b: torch.Tensor, beta: float,
                         n_points: int = 17) -> tuple:
    r"""Lengths of the straight latent segments z_a → z_b (batch, d) measured two ways
    (Kumar & Poole 2020, sec. 5.2):

    * under the metric the posterior induces, G(z) = β(Σ⁻¹_{z|x} − I) at x = g(z) (eq 11 read
      as a Riemannian metric: G = J_gᵀJ_g for unit-variance Gaussian observations), summed over
      ``n_points − 1`` pieces with G averaged over each piece's two ends;
    * in data space: the Euclidean length of the decoded polyline g(z_0), …, g(z_{n−1}).

    ``decode`` maps latents (m, d) to flat means (m, D); ``precision`` maps those means (m, D) to
    posterior precisions Σ⁻¹ (m, d, d). Returns (metric_length, decoded_length), each (batch,).
    The two agree when eq 11 holds along the segment and the pieces are short."""
    check_tensor(z_a, "z_a", finite=True)
    check_tensor(z_b, "z_b", finite=True)
    if z_a.ndim != 2 or z_a.shape != z_b.shape:
        raise ValueError(f"z_a and z_b must have one shape (batch, d), got {tuple(z_a.shape)} and {tuple(z_b.shape)}")
    beta = _check_beta(beta)
    n_points = check_int(n_points, "n_points", low=2)
    if not callable(decode) or not callable(precision):
        raise TypeError("decode and precision must be callables")
    B, d = z_a.shape
    t = torch.linspace(0, 1, n_points, dtype=z_a.dtype, device=z_a.device)[None, :, None]
    z = z_a[:, None] + t * (z_b - z_a)[:, None]                              # (B, n, d)
    x = decode(z.reshape(-1, d))
    G = beta * (precision(x) - torch.eye(d, dtype=z.dtype, device=z.device))
    G = G.reshape(B, n_points, d, d)
    x = x.reshape(B, n_points, -1)
    dz = z[:, 1:] - z[:, :-1]
    Gm = (G[:, 1:] + G[:, :-1]) / 2
    metric = torch.einsum("bni,bnij,bnj->bn", dz, Gm, dz).clamp(min=0).sqrt().sum(1)
    return metric, (x[:, 1:] - x[:, :-1]).norm(dim=-1).sum(1)


@torch.no_grad()
def objective_values(model, x: torch.Tensor, beta: float, n_samples: int,
                     generator: torch.Generator | None = None) -> dict:
    r"""The three minimisation objectives of Fig 3 per example (B,), Gaussian observations:

    * ``beta_vae``: −E_q log p(x|z) + β KL(q‖p) (eq 2), E_q by ``n_samples`` draws (its Monte
      Carlo standard error per example in ``beta_vae_se``), the KL in closed form;
    * ``taylor``: −log p(x|μ) + tr(JᵀJΣ)/(2σ²) + β KL (eq 7 with H_p = −I/σ²);
    * ``grae``: −log p(x|μ) + β/2‖μ‖² + β/2 log|I + JᵀJ/(βσ²)| (eq 12/13).
    """
    from deep.models import posteriors as post

    n_samples = check_int(n_samples, "n_samples", low=2)      # its standard error needs two draws
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    geo = model_geometry(model, x, beta)
    beta = _check_beta(beta)
    mu, Sigma, G = geo["mu"], geo["Sigma"], geo["G"]
    _, C = model.encode_cholesky(x)
    kl = post.kl_block_std_normal(mu, C)
    B, d = mu.shape
    eps = torch.randn((n_samples, B, d), generator=generator, dtype=mu.dtype, device=mu.device)
    z = post.sample_block_gaussian(mu, C, eps=eps)
    xs = x.expand(n_samples, *x.shape).reshape(n_samples * B, *x.shape[1:])
    nll = -model.log_likelihood(xs, model.decode(z.reshape(-1, d))).reshape(n_samples, B)
    nll_mean = -model.log_likelihood(x, model.decode(mu))
    s2 = model.obs_sigma ** 2
    taylor = nll_mean + 0.5 * torch.einsum("bij,bji->b", G, Sigma) / s2 + beta * kl
    grae = nll_mean + beta / 2 * mu.pow(2).sum(-1) + beta / 2 * torch.linalg.slogdet(geo["M"])[1]
    return {"beta_vae": nll.mean(0) + beta * kl, "beta_vae_se": nll.std(0) / math.sqrt(n_samples),
            "taylor": taylor, "grae": grae, "geometry": geo}
