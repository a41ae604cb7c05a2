"""Latent traversals: what a decoder draws when one latent is varied around a code.

The figure of every disentanglement paper (Higgins et al. 2017, Fig. 6A's rows; Stühmer et al.
2020, App. A.5, Figs 8-16; Sikka 2020, Fig 5E): start from a reference code ``z_ref``, set
latent ``j`` to each of ``values`` in turn, the others held, and decode. The images here;
drawing them is :func:`betalab.plot.traversal_grid`.
"""

from __future__ import annotations

__all__ = ["latent_traversal", "kl_per_latent"]

import numpy as np

from validation import as_float_array, check_module_input, check_tensor


def latent_traversal(decode, z_ref, dims, values) -> np.ndarray:
    """``out[r, c] = decode(z)`` with ``z = z_ref`` except ``z[dims[r]] = values[c]``.

    ``decode``: a callable from a float tensor (N, d) to N images (any trailing shape), e.g. a
    VAE's ``mean_image`` or ``decode``; called once, under ``torch.no_grad``, with the
    ``len(dims) * len(values)`` codes on the device and dtype of ``z_ref`` when it is a tensor
    (which must match the decoder's module, if it is one), else of the decoder's parameters
    (float32 CPU for a plain function). Returns a float array
    ``(len(dims), len(values), *image shape)``."""
    import torch

    if not callable(decode):
        raise TypeError(f"decode must be callable (codes -> images), got {type(decode).__name__}")
    # a module (or a bound method of one, e.g. vae.mean_image): the codes in its dtype and on
    # its device; a tensor z_ref must already be there (check_module_input names it)
    owner = decode if isinstance(decode, torch.nn.Module) else getattr(decode, "__self__", None)
    param = next((t for t in owner.parameters() if t.is_floating_point()), None) \
        if isinstance(owner, torch.nn.Module) else None
    if isinstance(z_ref, torch.Tensor):
        ref = check_tensor(z_ref, "z_ref", ndim=1, finite=True, min_size=1)
        if param is not None:
            check_module_input(owner, ref, "z_ref")
    else:
        ref = torch.as_tensor(as_float_array(z_ref, "z_ref", ndim=1, min_size=1),
                              dtype=torch.float32 if param is None else param.dtype,
                              device=None if param is None else param.device)
    d = ref.numel()
    dims = list(dims) if isinstance(dims, (list, tuple, range, np.ndarray)) else [dims]
    if not dims or any(isinstance(j, (bool, np.bool_)) or not isinstance(j, (int, np.integer))
                       for j in dims):
        raise TypeError(f"dims must be a non-empty sequence of ints (latent indices), got {dims!r}")
    if any(not 0 <= j < d for j in dims):
        raise ValueError(f"dims must lie in [0, {d}) (z_ref has {d} latents), got {dims!r}")
    vals = as_float_array(values, "values", ndim=1, min_size=1)
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
    checked = [as_float_array(a, n, ndim=2, min_size=1) for a, n in ((mu, "mu"), (logvar, "logvar"))]
    if checked[0].shape != checked[1].shape:
        raise ValueError(f"mu and logvar must have one shape, got {checked[0].shape} and "
                         f"{checked[1].shape}")
    # magnitudes whose KL overflows float64: an error naming the argument, never inf
    if np.abs(checked[0]).max() > 1e150:
        raise ValueError("mu: entries beyond 1e150 make μ² overflow")
    if checked[1].max() > 700.0:
        raise ValueError("logvar: entries beyond 700 make σ² = exp(logvar) overflow")
    # float32 codes keep float32 arithmetic (the numbers the studies recorded)
    dt = np.result_type(np.asarray(mu).dtype, np.asarray(logvar).dtype)
    mu, logvar = checked if not np.issubdtype(dt, np.floating) else (
        checked[0].astype(dt), checked[1].astype(dt))
    return (0.5 * (mu ** 2 + np.exp(logvar) - logvar - 1)).mean(0)
