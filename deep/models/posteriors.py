r"""Amortised Gaussian posteriors with block-diagonal covariance (Kumar & Poole 2020, App. D).

q(z|x) = N(μ(x), Σ(x)) with Σ block-diagonal, d/b blocks of size b, each given by its Cholesky
factor: Σ = C Cᵀ, C block-diagonal and lower triangular ("an additional fc layer in the encoder
outputting the entries of the appropriate Cholesky factors C_{z|x} such that Σ_{z|x} = C Cᵀ is
block diagonal with desired block sizes", App. D / sec. 7). Block size 1 is the mean-field
posterior, block size d the full-covariance one. The precision Σ⁻¹ = C⁻ᵀC⁻¹ has the same block
pattern: eq 11 relates it to the decoder's JᵀH_pJ.

Encoder head layout, per example, ``raw`` of shape (B, n) with n = :func:`n_cov_params`: for each
block the b diagonal entries first, as *log-variances* (the diagonal of C is exp(raw/2), so block
size 1 is exactly the ``logvar`` head of the mean-field models), then the b(b−1)/2 strictly-lower
entries of C in row-major order (``torch.tril_indices(b, b, -1)``).

Shapes: ``mu`` (B, d); ``chol`` (B, K, b, b) with K = d/b blocks.
"""

from __future__ import annotations

__all__ = ["POSTERIOR_KINDS", "parse_posterior", "n_cov_params", "block_cholesky",
           "block_dense", "sample_block_gaussian", "block_log_density", "kl_block_std_normal"]

import numbers

import torch

from deep.models.distributions import LOG_2PI
from validation import check_int, check_tensor


def _check_chol(chol, name: str = "chol"):
    """Block Cholesky factors (B, K, b, b): a finite real floating tensor with square blocks."""
    check_tensor(chol, name, ndim=4, finite=True, grad_exempt=True)
    if chol.shape[-1] != chol.shape[-2] or chol.shape[-1] < 1:
        raise ValueError(f"{name} must have shape (B, K, b, b), got {tuple(chol.shape)}")
    return chol


def _check_mu(mu, chol, name: str = "mu"):
    """Means (..., B, d) with d = K·b of ``chol`` (B, K, b, b)."""
    check_tensor(mu, name, finite=True, grad_exempt=True)
    B, K, b, _ = chol.shape
    if mu.ndim < 1 or mu.shape[-1] != K * b or (mu.ndim >= 2 and mu.shape[-2] not in (1, B)):
        raise ValueError(f"{name} must have shape (..., {B}, {K * b}) (d = K·b of chol "
                         f"{tuple(chol.shape)}), got {tuple(mu.shape)}")
    return mu

POSTERIOR_KINDS = ("diagonal", "block:b", "full")


def parse_posterior(spec: str, latent_dim: int) -> int:
    """The block size b of a posterior spec: "diagonal" → 1, "block:b" → b, "full" → d.

    Raises ValueError naming ``posterior`` when the spec is unknown or b does not divide d.
    """
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, numbers.Integral) or latent_dim < 1:
        # the wording of VAEConfig's check (the CLI reports it as --latent-dim)
        raise ValueError(f"latent_dim must be a positive int, got {latent_dim!r}")
    if not isinstance(spec, str):
        raise TypeError(f"posterior must be a string such as 'diagonal', 'block:2' or 'full', "
                        f"got {type(spec).__name__}")
    if spec == "diagonal":
        return 1
    if spec == "full":
        return latent_dim
    head, _, tail = spec.partition(":")
    if head != "block" or not tail.isdigit() or int(tail) < 1:
        raise ValueError(f"posterior must be one of 'diagonal', 'block:b' (b a positive int) or "
                         f"'full', got {spec!r}")
    b = int(tail)
    if latent_dim % b:
        raise ValueError(f"posterior: block size {b} does not divide latent_dim {latent_dim}")
    return b


def n_cov_params(latent_dim: int, block: int) -> int:
    """Entries of the Cholesky factors: (d/b) · b(b+1)/2 (d for the mean-field posterior)."""
    latent_dim = check_int(latent_dim, "latent_dim", low=1)
    block = check_int(block, "block", low=1)
    if latent_dim % block:
        raise ValueError(f"block must divide latent_dim {latent_dim}, got {block}")
    return latent_dim // block * block * (block + 1) // 2


def block_cholesky(raw: torch.Tensor, block: int) -> torch.Tensor:
    """The block Cholesky factors C from the encoder head, (B, n) → (B, K, b, b).

    Diagonal of C = exp(raw_diag / 2) > 0 (so C is a valid Cholesky factor for any ``raw``);
    strictly-lower entries taken as they are (module docstring for the layout).
    """
    block = check_int(block, "block", low=1)
    check_tensor(raw, "raw", ndim=2, finite=True, grad_exempt=True)
    per = block * (block + 1) // 2
    B, n = raw.shape
    if n % per:
        raise ValueError(f"raw has {n} entries, not a multiple of b(b+1)/2 = {per} (block {block})")
    K = n // per
    r = raw.reshape(B, K, per)
    C = torch.diag_embed(torch.exp(0.5 * r[..., :block]))
    if block > 1:
        i, j = torch.tril_indices(block, block, -1, device=raw.device)
        lower = raw.new_zeros(B, K, block * block)
        lower[..., i * block + j] = r[..., block:]
        C = C + lower.reshape(B, K, block, block)
    return C


def block_dense(blocks: torch.Tensor) -> torch.Tensor:
    """The dense block-diagonal (B, d, d) matrix of (B, K, b, b) blocks (e.g. Σ = C Cᵀ blockwise)."""
    B, K, b, _ = _check_chol(blocks, "blocks").shape
    out = blocks.new_zeros(B, K, b, K, b)
    k = torch.arange(K, device=blocks.device)
    out[:, k, :, k, :] = blocks.transpose(0, 1)
    return out.reshape(B, K * b, K * b)


def sample_block_gaussian(mu: torch.Tensor, chol: torch.Tensor,
                          generator: torch.Generator | None = None,
                          eps: torch.Tensor | None = None) -> torch.Tensor:
    """Reparameterised z = μ + C ε, ε ~ N(0, I) from ``generator`` (or given ``eps`` of shape
    (..., B, d): leading sample dimensions broadcast)."""
    B, K, b, _ = _check_chol(chol).shape
    _check_mu(mu, chol)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if eps is not None:
        _check_mu(eps, chol, "eps")
    if eps is None:
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    e = eps.reshape(*eps.shape[:-1], K, b)
    return mu + (chol @ e.unsqueeze(-1)).squeeze(-1).reshape(eps.shape)


def block_log_density(z: torch.Tensor, mu: torch.Tensor, chol: torch.Tensor) -> torch.Tensor:
    r"""log N(z; μ, CCᵀ) summed over blocks, (..., B, d) → (..., B).

    .. math:: -\tfrac12\big(d\log 2\pi + \|C^{-1}(z-\mu)\|^2\big) - \sum_i \log C_{ii}

    (triangular solves per block; no dense inverse).
    """
    B, K, b, _ = _check_chol(chol).shape
    _check_mu(mu, chol)
    _check_mu(z, chol, "z")
    r = (z - mu).reshape(*z.shape[:-1], K, b, 1)
    lead = r.shape[:-4]
    w = torch.linalg.solve_triangular(chol.expand(*lead, B, K, b, b), r, upper=False)
    logdiag = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum((-1, -2))
    return -0.5 * (K * b * LOG_2PI + w.pow(2).sum((-1, -2, -3))) - logdiag


def kl_block_std_normal(mu: torch.Tensor, chol: torch.Tensor) -> torch.Tensor:
    r"""KL(N(μ, CCᵀ) ‖ N(0, I)) per example, (B,); Kumar & Poole 2020, eq 8's last term / β:

    .. math:: \tfrac12\big(\|\mu\|^2 + \operatorname{tr}\Sigma - \log|\Sigma| - d\big),\quad
              \operatorname{tr}\Sigma = \|C\|_F^2,\ \log|\Sigma| = 2\sum_i \log C_{ii}.
    """
    _check_mu(mu, _check_chol(chol))
    d = mu.shape[-1]
    logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum((-1, -2))
    return 0.5 * (mu.pow(2).sum(-1) + chol.pow(2).sum((-1, -2, -3)) - logdet - d)
