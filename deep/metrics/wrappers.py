"""Entry points: ``mig(codes, factors, estimator=...)`` and encoding a dataset with a model."""

from __future__ import annotations

__all__ = ["MIG_ESTIMATORS", "mig", "encode_dataset"]

import numpy as np

from deep.metrics.information import mig_histogram
from deep.metrics.sampled_mig import mig_sampled
from validation import check_choice, check_device, check_int

MIG_ESTIMATORS = ("histogram", "sampled")


def mig(codes, factors, estimator: str = "histogram", bins: int = 20, *, logvar=None,
        rng: np.random.Generator | None = None, n_samples: int = 10000, exclude=(),
        chunk_samples: int = 256, chunk_points: int = 8192) -> float:
    """Mutual information gap.

    ``estimator="histogram"``: the discretised MIG of Locatello et al. 2019 on ``codes``
    (e.g. posterior means) with ``bins`` equal-width bins.
    ``estimator="sampled"``: Chen et al. 2018's estimator from q(z|x) with means
    ``codes`` and log-variances ``logvar`` (needs ``rng``); ``exclude``, ``chunk_samples``
    and ``chunk_points`` as in :func:`mig_sampled`.
    """
    check_choice(estimator, "estimator", MIG_ESTIMATORS)
    if estimator == "histogram":
        return mig_histogram(codes, factors, bins)["mig"]
    if estimator == "sampled":
        if logvar is None:
            raise ValueError("logvar is required by the sampled MIG")
        if rng is None:
            raise ValueError("rng is required by the sampled MIG")
        return mig_sampled(codes, logvar, factors, n_samples=n_samples, rng=rng,
                           exclude=exclude, chunk_samples=chunk_samples,
                           chunk_points=chunk_points)["mig"]
    raise ValueError(f"estimator must be one of {MIG_ESTIMATORS}, got {estimator!r}")


def encode_dataset(model, dataset, indices=None, batch_size: int = 1024, device=None):
    """Posterior means and log-variances of ``dataset`` images (all, or ``indices``); the
    images may be numpy arrays or tensors (a :class:`deep.data.DeviceStore`).

    Returns mu (n, d), logvar (n, d) float64 numpy and factors (n, K) int64.
    """
    import torch

    from deep.metrics.information import check_labels

    if not isinstance(model, torch.nn.Module) or not hasattr(model, "encode"):
        raise TypeError(f"model must be a VAE (an nn.Module with encode), got {type(model).__name__}")
    if not all(hasattr(dataset, a) for a in ("__len__", "images", "factors_of")):
        raise TypeError(f"dataset must be a ground-truth dataset (len, images, factors_of), got "
                        f"{type(dataset).__name__}")
    idx = np.arange(len(dataset)) if indices is None else check_labels(indices, "indices", 1)
    if idx.size == 0 or idx.min() < 0 or idx.max() >= len(dataset):
        raise ValueError(f"indices must be non-empty and lie in [0, {len(dataset)})")
    batch_size = check_int(batch_size, "batch_size", low=1)
    if device is None:
        device = next(model.parameters()).device
    device = check_device(device)
    dtype = next(model.parameters()).dtype
    mus, lvs = [], []
    was_training = model.training
    model.eval()
    with torch.no_grad():            # codes gathered on the device, copied to the host once
        for s in range(0, idx.size, batch_size):
            x = torch.as_tensor(dataset.images(idx[s:s + batch_size])).to(device=device, dtype=dtype)
            mu, lv = model.encode(x)
            mus.append(mu.double())
            lvs.append(lv.double())
    model.train(was_training)
    return (torch.cat(mus).cpu().numpy(), torch.cat(lvs).cpu().numpy(), dataset.factors_of(idx))
