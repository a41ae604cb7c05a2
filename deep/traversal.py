"""Latent traversals: what a decoder draws when one latent is varied around a code.

The figure of every disentanglement paper (Higgins et al. 2017, Fig. 6A's rows; Stühmer et al.
2020, App. A.5, Figs 8-16; Sikka 2020, Fig 5E): start from a reference code ``z_ref``, set
latent ``j`` to each of ``values`` in turn, the others held, and decode. The images here;
drawing them is :func:`betalab.plot.traversal_grid`.
"""

from __future__ import annotations

__all__ = ["latent_traversal", "kl_per_latent"]

import numpy as np


def latent_traversal(decode, z_ref, dims, values) -> np.ndarray:
    """``out[r, c] = decode(z)`` with ``z = z_ref`` except ``z[dims[r]] = values[c]``.

    ``decode``: a callable from a float tensor (N, d) to N images (any trailing shape), e.g. a
    VAE's ``mean_image`` or ``decode``; called once, under ``torch.no_grad``, with the
    ``len(dims) * len(values)`` codes on the device and dtype of ``z_ref`` when it is a tensor
    (float32 CPU otherwise). Returns a float array (len(dims), len(values), *image shape)."""
    import torch

    if not callable(decode):
        raise TypeError(f"decode must be callable (codes -> images), got {type(decode).__name__}")
    ref = z_ref if isinstance(z_ref, torch.Tensor) else torch.as_tensor(
        np.asarray(z_ref, dtype=np.float32))
    if ref.ndim != 1 or ref.numel() == 0 or not ref.is_floating_point():
        raise ValueError(f"z_ref must be a non-empty 1-D float code, got shape {tuple(ref.shape)}")
    if not bool(torch.isfinite(ref).all()):
        raise ValueError("z_ref must be finite")
    d = ref.numel()
    dims = list(dims) if not isinstance(dims, (int, np.integer)) else [dims]
    if not dims or any(isinstance(j, bool) or not isinstance(j, (int, np.integer)) for j in dims):
        raise TypeError(f"dims must be a non-empty sequence of ints, got {dims!r}")
    if any(not 0 <= j < d for j in dims):
        raise ValueError(f"dims must lie in [0, {d}) (the code's length), got {dims!r}")
    vals = np.asarray(values, dtype=float)
    if vals.ndim != 1 or vals.size == 0 or not np.all(np.isfinite(vals)):
        raise ValueError("values must be a non-empty 1-D sequence of finite numbers")
    z = ref.detach().reshape(1, 1, d).repeat(len(dims), vals.size, 1).clone()
    v = torch.as_tensor(vals, dtype=ref.dtype, device=ref.device)
    for r, j in enumerate(dims):
        z[r, :, j] = v
    with torch.no_grad():
        imgs = decode(z.reshape(-1, d))
    imgs = imgs.detach().cpu().numpy() if isinstance(imgs, torch.Tensor) else np.asarray(imgs)
    if imgs.shape[0] != len(dims) * vals.size:
        raise ValueError(f"decode returned {imgs.shape[0]} images for {len(dims) * vals.size} codes")
    return imgs.reshape(len(dims), vals.size, *imgs.shape[1:]).astype(float)


def kl_per_latent(mu, logvar) -> np.ndarray:
    """KL(N(μ_j, σ_j²) ‖ N(0, 1)) per latent, averaged over the rows of ``mu``/``logvar``
    (N, d): ½(μ² + σ² − log σ² − 1) (Kingma & Welling 2014, App. B), the usual order of the
    rows of a traversal figure (most informative first)."""
    mu, logvar = np.asarray(mu), np.asarray(logvar)      # float32 codes stay float32
    if not (np.issubdtype(mu.dtype, np.floating) and np.issubdtype(logvar.dtype, np.floating)):
        mu, logvar = mu.astype(float), logvar.astype(float)
    if mu.ndim != 2 or mu.shape != logvar.shape or mu.size == 0:
        raise ValueError(f"mu and logvar must be non-empty (N, d) arrays of one shape, got "
                         f"{mu.shape} and {logvar.shape}")
    return (0.5 * (mu ** 2 + np.exp(logvar) - logvar - 1)).mean(0)
