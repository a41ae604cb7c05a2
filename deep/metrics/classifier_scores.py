"""The β-VAE metric (Higgins et al. 2017, sec. 3, App. A.4, eq. 5) and the FactorVAE
metric (Kim & Mnih 2018, sec. 4), array-first.

Both sample from a set of encoded points ``codes`` (n, d) with their factor
indices ``factors`` (n, K) — normally the whole ground-truth grid — by
choosing rows that share the value of one factor.  For a full grid this is
exactly Higgins' generative process: fixing ``v_y`` and drawing the other
factors afresh is a uniform draw among the rows with the same ``v_y``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from deep.metrics.information import check_codes_factors
from validation import check_real, check_rng


def _groups(f: np.ndarray, k: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Values of factor k and, for each, the rows that have it."""
    order = np.argsort(f[:, k], kind="stable")
    vals, starts = np.unique(f[order, k], return_index=True)
    return vals, np.split(order, starts[1:])


def _check_common(n_train, n_test, batch_size, factor_indices, n_factors):
    for name, v in (("n_train", n_train), ("n_test", n_test), ("batch_size", batch_size)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    idx = tuple(range(n_factors)) if factor_indices is None else tuple(factor_indices)
    if not idx or any(not 0 <= k < n_factors for k in idx):
        raise ValueError(f"factor_indices must index the {n_factors} factors, got {factor_indices!r}")
    return idx


def beta_vae_zdiff(codes, factors, n_points: int, batch_size: int, rng: np.random.Generator,
                   factor_indices=None) -> tuple[np.ndarray, np.ndarray]:
    """Training points of the β-VAE metric (Higgins et al. 2017, eq. 5).

    For each point: ``y ~ Unif(factor_indices)``; ``L = batch_size`` pairs (a, b) with
    ``v_a ~ p(v)`` and ``v_b`` sharing ``[v_a]_y``;
    ``z_diff = (1/L) sum_l |z_a - z_b|``.

    Returns z_diff (n_points, d) and labels y (n_points,) (positions in ``factor_indices``).
    """
    c, f = check_codes_factors(codes, factors)
    idx = _check_common(n_points, 1, batch_size, factor_indices, f.shape[1])
    groups = {k: _groups(f, k) for k in idx}
    value_pos = {k: {v: i for i, v in enumerate(groups[k][0])} for k in idx}
    zdiff = np.empty((n_points, c.shape[1]))
    labels = rng.integers(0, len(idx), size=n_points)
    for p in range(n_points):
        k = idx[labels[p]]
        a = rng.integers(0, c.shape[0], size=batch_size)
        b = np.empty_like(a)
        for l, row in enumerate(a):
            grp = groups[k][1][value_pos[k][f[row, k]]]
            b[l] = grp[rng.integers(0, grp.size)]
        zdiff[p] = np.abs(c[a] - c[b]).mean(0)
    return zdiff, labels


def fit_softmax_classifier(x: np.ndarray, y: np.ndarray, n_classes: int, l2: float = 1e-6,
                           maxiter: int = 2000) -> np.ndarray:
    """Linear softmax classifier trained on negative log-likelihood (Higgins App. A.4),
    by L-BFGS on standardised features (deterministic).  Returns a predictor's weights
    ``W`` of shape (d + 1, C) for standardised features with a bias column."""
    mean, std = x.mean(0), x.std(0)
    std[std == 0] = 1.0
    xs = np.hstack([(x - mean) / std, np.ones((x.shape[0], 1))])
    onehot = np.eye(n_classes)[y]

    def fun(w):
        w = w.reshape(xs.shape[1], n_classes)
        logits = xs @ w
        lse = logsumexp(logits, axis=1)
        nll = (lse - (logits * onehot).sum(1)).mean() + 0.5 * l2 * (w[:-1] ** 2).sum()
        p = np.exp(logits - lse[:, None])
        grad = xs.T @ (p - onehot) / xs.shape[0]
        grad[:-1] += l2 * w[:-1]
        return nll, grad.ravel()

    res = minimize(fun, np.zeros(xs.shape[1] * n_classes), jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter})
    return {"w": res.x.reshape(xs.shape[1], n_classes), "mean": mean, "std": std}


def _predict(model, x):
    xs = np.hstack([(x - model["mean"]) / model["std"], np.ones((x.shape[0], 1))])
    return np.argmax(xs @ model["w"], axis=1)


def beta_vae_score(codes, factors, *, rng: np.random.Generator, n_train: int = 5000,
                   n_test: int = 5000, batch_size: int = 64, factor_indices=None) -> dict:
    """The β-VAE disentanglement metric (Higgins et al. 2017, sec. 3, App. A.4, eq. 5).

    Accuracy of a linear softmax classifier predicting the fixed factor ``y`` from
    ``z_diff`` (Higgins Fig. 5 reports it on 5000 test points; dSprites: the four
    factors pos_x, pos_y, scale, rotation, i.e. ``factor_indices=(1, 2, 3, 4)``).
    Ground-truth codes score 100% (Higgins Fig. 5: "Ground truth 100%").

    Returns dict with ``train_accuracy`` and ``eval_accuracy``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    c, f = check_codes_factors(codes, factors)
    idx = _check_common(n_train, n_test, batch_size, factor_indices, f.shape[1])
    x_tr, y_tr = beta_vae_zdiff(c, f, n_train, batch_size, rng, idx)
    x_te, y_te = beta_vae_zdiff(c, f, n_test, batch_size, rng, idx)
    model = fit_softmax_classifier(x_tr, y_tr, len(idx))
    return {"train_accuracy": float(np.mean(_predict(model, x_tr) == y_tr)),
            "eval_accuracy": float(np.mean(_predict(model, x_te) == y_te))}


def factor_vae_votes(codes, factors, n_votes: int, batch_size: int, rng: np.random.Generator,
                     factor_indices=None, active=None, scale=None) -> np.ndarray:
    """Vote matrix (d, K_used) of the FactorVAE metric (Kim & Mnih 2018, sec. 4): for each
    vote fix one factor's value, take ``batch_size`` rows with it, divide the codes by their
    global standard deviation, and vote for the (active) dimension of least variance."""
    c, f = check_codes_factors(codes, factors)
    idx = _check_common(n_votes, 1, batch_size, factor_indices, f.shape[1])
    scale = c.std(0) if scale is None else scale
    active = np.ones(c.shape[1], bool) if active is None else active
    groups = {k: _groups(f, k) for k in idx}
    votes = np.zeros((c.shape[1], len(idx)), dtype=np.int64)
    act = np.flatnonzero(active)
    for _ in range(n_votes):
        col = rng.integers(0, len(idx))
        grp = groups[idx[col]][1][rng.integers(0, len(groups[idx[col]][1]))]
        rows = grp[rng.integers(0, grp.size, size=batch_size)]
        var = (c[rows][:, act] / scale[act]).var(0, ddof=1)
        votes[act[np.argmin(var)], col] += 1
    return votes


def factor_vae_score(codes, factors, *, rng: np.random.Generator, n_train: int = 10000,
                     n_test: int = 5000, batch_size: int = 64, factor_indices=None,
                     prune_threshold: float = 0.05) -> dict:
    """The FactorVAE metric (Kim & Mnih 2018): majority-vote accuracy.

    Dimensions whose global variance is below ``prune_threshold`` are ignored
    (collapsed latents; as disentanglement_lib).  The classifier maps each code
    dimension to the factor it voted for most on the training votes; the score is
    its accuracy on independent test votes.  Ground-truth codes score 1.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    c, f = check_codes_factors(codes, factors)
    idx = _check_common(n_train, n_test, batch_size, factor_indices, f.shape[1])
    if batch_size < 2:
        raise ValueError("batch_size must be >= 2 (a variance is taken)")
    prune_threshold = check_real(prune_threshold, "prune_threshold", low=0.0)
    scale = c.std(0)
    active = scale ** 2 >= prune_threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    tr = factor_vae_votes(c, f, n_train, batch_size, rng, idx, active, scale)
    te = factor_vae_votes(c, f, n_test, batch_size, rng, idx, active, scale)
    assign = np.argmax(tr, axis=1)
    return {"train_accuracy": float(tr[np.arange(len(assign)), assign].sum() / tr.sum()),
            "eval_accuracy": float(te[np.arange(len(assign)), assign].sum() / te.sum()),
            "num_active_dims": int(active.sum())}
