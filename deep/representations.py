"""The training-free representations of Higgins et al. 2017, Fig. 5 (left) and App. A.3: raw
pixels, PCA and ICA of the pixels, and an untrained VAE encoder, as code functions
``rows -> codes`` over a ground-truth dataset (:class:`deep.data.DSprites`).

* PCA keeps the top ``n_components`` principal components of the pixels, whitened (each divided
  by the square root of its variance: "PCA results calculated using whitened pixel data",
  App. A.3); the fraction of the pixel variance they explain is the printed "60.8%".
* ICA is FastICA (Hyvärinen & Oja 2000, as implemented in scikit-learn, which the paper cites)
  on whitened pixels, ``n_components`` sources; App. A.3 fits it per pair of shapes.
* The untrained VAE is the encoder of Higgins Table 1 (FC 1200-1200 ReLU, 10 latents) at its
  random initialisation; its code is the posterior mean μ(x) (sec. 3).

The covariance and the ICA are estimated from ``rows`` (a uniform sample of the grid, or the
whole grid): stated with each use.
"""

from __future__ import annotations

import numpy as np

from validation import check_device, check_int, check_real

__all__ = ["fit_pca", "fit_fastica", "linear_codes", "pixel_codes", "vae_mean_codes"]


def _check_dataset(dataset):
    if not hasattr(dataset, "images") or not hasattr(dataset, "__len__"):
        raise TypeError(f"dataset: needs len() and images(index), got {type(dataset).__name__}")
    return dataset


def _check_rows(rows, n: int, name: str = "rows") -> np.ndarray:
    try:
        r = np.asarray(rows)
    except ValueError:                      # ragged nesting
        r = np.asarray(None)
    if r.ndim != 1 or r.size < 2 or not np.issubdtype(r.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D integer array of at least 2 row indices, got "
                         f"{r.dtype} {r.shape}")
    if r.min() < 0 or r.max() >= n:
        raise ValueError(f"{name} must index the dataset's {n} images")
    return r.astype(np.int64)


def _check_components(n_components, d: int) -> int:
    if not isinstance(n_components, (int, np.integer)) or isinstance(n_components, bool) \
            or not 1 <= n_components <= d:
        raise ValueError(f"n_components must be an int in [1, {d}], got {n_components!r}")
    return int(n_components)


def pixel_codes(dataset, chunk: int = 4096):
    """Raw pixels as codes: ``rows -> images (m, D)`` float32 (D = 4096 for dSprites)."""
    _check_dataset(dataset)
    chunk = check_int(chunk, "chunk", low=1)

    def codes(rows):
        rows = np.asarray(rows)
        return np.concatenate([_flat(dataset.images(rows[s:s + chunk]))
                               for s in range(0, max(rows.size, 1), chunk)])

    return codes


def _flat(images):
    """Images (m, 1, H, W) as rows (m, H·W) (4096 pixels for dSprites)."""
    return images.reshape(images.shape[0], -1)


def _centred_chunks(dataset, rows: np.ndarray, mean: np.ndarray, chunk: int):
    for s in range(0, rows.size, chunk):
        yield dataset.images(rows[s:s + chunk]).reshape(-1, mean.size).astype(np.float64) - mean


#: centred float64 pixels up to this many bytes are kept in memory by :func:`fit_pca` (one read
#: of the images instead of one per subspace-iteration pass)
PCA_IN_MEMORY_BYTES = 512 * 2**20


def fit_pca(dataset, rows, n_components: int = 10, *, whiten: bool = True, chunk: int = 8192,
            oversample: int = 10, max_iter: int = 50, rtol: float = 1e-12,
            seed: int = 0) -> dict:
    """PCA of the images of ``rows`` (Higgins et al. 2017, App. A.3).

    The top eigenpairs of the pixel covariance (ddof 0) by block subspace iteration on the
    centred images (Halko, Martinsson & Tropp 2011, Alg. 4.4: ``n_components + oversample``
    vectors, re-orthonormalised every pass, until the sum of the top Ritz values changes by less
    than ``rtol`` relative), so the D × D covariance is never formed; the total variance is the
    sum of the per-pixel variances.

    Returns ``mean`` (D,), ``components`` (k, D) (unit eigenvectors, largest eigenvalue first,
    each scaled by 1/sqrt(eigenvalue) when ``whiten``), ``explained_variance`` (k,),
    ``explained_variance_ratio`` (k,) = eigenvalue / total variance, and ``n_iter``.
    """
    rows = _check_rows(rows, len(_check_dataset(dataset)))
    chunk = check_int(chunk, "chunk", low=1)
    oversample = check_int(oversample, "oversample", low=0)
    max_iter = check_int(max_iter, "max_iter", low=1)
    rtol = check_real(rtol, "rtol", low=0.0)
    seed = check_int(seed, "seed", low=0)
    first = dataset.images(rows[:1]).reshape(1, -1)
    d = first.shape[1]
    k = _check_components(n_components, d)
    s1, s2 = np.zeros(d), np.zeros(d)
    for x in _centred_chunks(dataset, rows, np.zeros(d), chunk):
        s1 += x.sum(0)
    mean = s1 / rows.size
    for x in _centred_chunks(dataset, rows, mean, chunk):
        s2 += (x * x).sum(0)
    total = s2.sum() / rows.size
    if rows.size * d * 8 <= PCA_IN_MEMORY_BYTES:        # read once; every pass is then two products
        held = [np.concatenate(list(_centred_chunks(dataset, rows, mean, chunk)))]

        def passes():
            return held
    else:
        def passes():
            return _centred_chunks(dataset, rows, mean, chunk)
    m = min(d, k + oversample)
    q = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, m)))[0]
    prev, n_iter = np.inf, 0
    for n_iter in range(1, max_iter + 1):
        y = np.zeros((d, m))
        for x in passes():
            y += x.T @ (x @ q)
        y /= rows.size                                 # covariance times q
        ritz = np.linalg.eigvalsh(q.T @ y)[::-1][:k].sum()
        q = np.linalg.qr(y)[0]
        if abs(ritz - prev) <= rtol * abs(ritz):
            break
        prev = ritz
    # Rayleigh-Ritz on the converged subspace
    y = np.zeros((d, m))
    for x in passes():
        y += x.T @ (x @ q)
    evals, evecs = np.linalg.eigh(q.T @ (y / rows.size))
    lam, vec = evals[::-1][:k], (q @ evecs[:, ::-1][:, :k]).T
    if whiten:
        if np.any(lam <= 0):
            raise ValueError("whiten: a kept component has zero variance")
        vec = vec / np.sqrt(lam)[:, None]
    return {"mean": mean, "components": vec, "explained_variance": lam,
            "explained_variance_ratio": lam / total, "n_iter": n_iter}


def fit_fastica(dataset, rows, n_components: int = 10, *, seed: int = 0, whitening=None,
                max_iter: int = 1000, tol: float = 1e-4) -> dict:
    """FastICA on the whitened images of ``rows`` (Higgins et al. 2017, App. A.3: "fastICA
    (Pedregosa et al., 2011) ... applied to the whitened pixel data").

    The pixels are whitened to their top ``n_components`` principal components (``whitening``:
    a :func:`fit_pca` result with ``whiten=True``, computed from ``rows`` if None) and
    scikit-learn's ``FastICA(whiten=False)`` unmixes those. Returns ``mean`` (D,),
    ``components`` (k, D) (unmixing ∘ whitening, applied to centred pixels) and ``n_iter``."""
    import warnings

    from sklearn.decomposition import FastICA
    from sklearn.exceptions import ConvergenceWarning

    rows = _check_rows(rows, len(_check_dataset(dataset)))
    seed = check_int(seed, "seed", low=0, high=2**32 - 1)
    max_iter = check_int(max_iter, "max_iter", low=1)
    tol = check_real(tol, "tol", low=0.0, closed="right")
    white = fit_pca(dataset, rows, n_components, whiten=True) if whitening is None else whitening
    x = linear_codes(dataset, white)(rows)
    ica = FastICA(whiten=False, random_state=seed, max_iter=max_iter, tol=tol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ica.fit(x)
    return {"mean": white["mean"], "components": ica.components_ @ white["components"],
            "n_iter": int(ica.n_iter_)}


def linear_codes(dataset, fit: dict, chunk: int = 8192):
    """Codes ``(x - mean) @ components.T`` of a fitted :func:`fit_pca` / :func:`fit_fastica`:
    ``rows -> (m, k)`` float64."""
    _check_dataset(dataset)
    chunk = check_int(chunk, "chunk", low=1)
    if not isinstance(fit, dict) or "mean" not in fit or "components" not in fit:
        raise TypeError(f"fit must be a fit_pca / fit_fastica result (keys 'mean', 'components'), got "
                        f"{type(fit).__name__}")

    def codes(rows):
        rows = np.asarray(rows)
        out = np.empty((rows.size, fit["components"].shape[0]))
        for s in range(0, rows.size, chunk):
            x = dataset.images(rows[s:s + chunk]).reshape(-1, fit["mean"].size).astype(np.float64)
            out[s:s + chunk] = (x - fit["mean"]) @ fit["components"].T
        return out

    return codes


def vae_mean_codes(encoder, dataset, rows, *, batch_size: int = 2048, device="cpu") -> np.ndarray:
    """Posterior means μ(x) (Higgins et al. 2017, sec. 3: ``z = μ(x)``) of the images of
    ``rows`` under a VAE's ``encode`` (``x -> (mu, logvar)``): (m, d) float64."""
    import torch

    rows = _check_rows(rows, len(_check_dataset(dataset)))
    if not isinstance(encoder, torch.nn.Module) or not callable(getattr(encoder, "encode", None)):
        raise TypeError(f"encoder must have encode(x) -> (mu, logvar) (a VAE), got {type(encoder).__name__}")
    batch_size = check_int(batch_size, "batch_size", low=1)
    device = check_device(device)
    out = []
    with torch.no_grad():
        for s in range(0, rows.size, batch_size):
            x = torch.from_numpy(dataset.images(rows[s:s + batch_size])).to(device)
            out.append(encoder.encode(x)[0].double().cpu().numpy())
    return np.concatenate(out)
