"""Sample quality without an Inception network: a kernel distance on the features of a small
classifier, and image sharpness (pure numpy/torch, no I/O).

Kumar & Poole 2020 (sec. 7, Fig. 4, Table 1) compare β-VAE and GRAE≈ samples by FID on CelebA
and by their blurriness. CelebA and the Inception network behind FID cannot be obtained offline;
the same comparison is made here on features of a classifier trained on the data set at hand:

* :func:`kernel_distance` — the unbiased estimate of the squared maximum mean discrepancy with
  the cubic polynomial kernel k(a, b) = (aᵀb / f + 1)³ on f-dimensional features: the "kernel
  inception distance" (KID) of Bińkowski et al. 2018 (sec. 4, "Demystifying MMD GANs"), which,
  unlike FID, has an unbiased estimator (its expectation is 0 for samples of the data
  distribution itself);
* :func:`train_feature_classifier` / :func:`classifier_features` — a one-hidden-layer ReLU
  classifier trained with Adam on labelled images; its hidden activations are the features;
* :func:`sharpness` — the mean squared finite-difference gradient of an image (a blurrier image
  has less high-frequency energy; the quantity Table 1's "smoothness/blurriness" is read with).
"""

from __future__ import annotations

__all__ = ["kernel_distance", "sharpness", "train_feature_classifier", "classifier_features"]

import math

import numpy as np
import torch

from validation import as_float_array, check_int, check_real


def kernel_distance(a, b, *, degree: int = 3, coef0: float = 1.0) -> float:
    r"""Unbiased MMD² between the rows of ``a`` (m, f) and ``b`` (n, f) with the polynomial kernel
    :math:`k(x, y) = (x^\top y / f + c_0)^{\text{degree}}` (Bińkowski et al. 2018, sec. 4, KID):

    .. math:: \frac{1}{m(m-1)}\sum_{i\ne j} k(a_i, a_j) + \frac{1}{n(n-1)}\sum_{i\ne j} k(b_i, b_j)
              - \frac{2}{mn}\sum_{i,j} k(a_i, b_j).

    Needs m, n ≥ 2; computed in float64."""
    a = as_float_array(a, "a", 2, low=-1e30, high=1e30)
    b = as_float_array(b, "b", 2, low=-1e30, high=1e30)
    if a.shape[0] < 2 or b.shape[0] < 2:
        raise ValueError(f"a and b need at least 2 rows each, got {a.shape[0]} and {b.shape[0]}")
    if a.shape[1] != b.shape[1] or a.shape[1] < 1:
        raise ValueError(f"a and b must have the same positive number of columns, got "
                         f"{a.shape[1]} and {b.shape[1]}")
    # bounded so that (x·y/f + c0)^degree stays finite in float64 for |x|, |y| ≤ 1e30
    degree = check_int(degree, "degree", low=1, high=5)
    coef0 = check_real(coef0, "coef0", low=0.0, high=1e30)
    f = a.shape[1]

    def k(x, y):
        return (x @ y.T / f + coef0) ** degree

    m, n = a.shape[0], b.shape[0]
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    xx = (kaa.sum() - np.trace(kaa)) / (m * (m - 1))
    yy = (kbb.sum() - np.trace(kbb)) / (n * (n - 1))
    out = float(xx + yy - 2 * kab.mean())
    if not math.isfinite(out):
        raise ValueError("a, b: the kernel values overflow float64; rescale the features")
    return out


def sharpness(images) -> np.ndarray:
    """Mean squared finite difference of each image (n, H, W) along both axes, shape (n,):
    (mean of (x[i+1, j] − x[i, j])² + mean of (x[i, j+1] − x[i, j])²) / 2."""
    x = as_float_array(images, "images", 3, low=-1e100, high=1e100)
    if x.shape[1] < 2 or x.shape[2] < 2:
        raise ValueError(f"images must be at least 2 × 2, got {x.shape[1:]}")
    dv = np.diff(x, axis=1) ** 2
    dh = np.diff(x, axis=2) ** 2
    return 0.5 * (dv.mean(axis=(1, 2)) + dh.mean(axis=(1, 2)))


def train_feature_classifier(x, y, *, hidden: int = 64, steps: int = 2000, lr: float = 1e-3,
                             batch_size: int = 64, seed: int = 0) -> torch.nn.Sequential:
    """A classifier ``x`` (n, D) → class logits: Linear(D, hidden), ReLU, Linear(hidden, K), K =
    max(y) + 1, trained with Adam on the cross-entropy for ``steps`` minibatch steps, float64;
    its initial weights and minibatches come from a generator seeded with ``seed`` (the same
    network for the same arguments)."""
    x = as_float_array(x, "x", 2, low=-1e30, high=1e30)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != x.shape[0] or not np.issubdtype(y.dtype, np.integer) or \
            y.size == 0 or y.min() < 0:
        raise ValueError(f"y must be non-negative integer labels, one per row of x ({x.shape[0]})")
    hidden = check_int(hidden, "hidden", low=1)
    steps = check_int(steps, "steps", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    lr = check_real(lr, "lr", low=0.0, closed="right")
    seed = check_int(seed, "seed", low=0)
    g = torch.Generator().manual_seed(seed)
    k = int(y.max()) + 1
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(),
                              torch.nn.Linear(hidden, k)).double()
    with torch.no_grad():
        for layer in (net[0], net[2]):
            bound = 1 / np.sqrt(layer.in_features)           # torch's default uniform bound
            layer.weight.uniform_(-bound, bound, generator=g)
            layer.bias.uniform_(-bound, bound, generator=g)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y, dtype=torch.int64)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(0, xt.shape[0], (min(batch_size, xt.shape[0]),), generator=g)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
        opt.step()
    return net.eval()


def classifier_features(net: torch.nn.Sequential, x) -> np.ndarray:
    """The hidden ReLU activations of a :func:`train_feature_classifier` network, (n, hidden)."""
    if not isinstance(net, torch.nn.Sequential) or len(net) != 3:
        raise TypeError("net must be a network from train_feature_classifier")
    x = as_float_array(x, "x", 2, low=-1e30, high=1e30)
    if x.shape[1] != net[0].in_features:
        raise ValueError(f"x must have {net[0].in_features} columns, got {x.shape[1]}")
    with torch.no_grad():
        return net[1](net[0](torch.as_tensor(x))).numpy()
