"""The β-VAE metric (Higgins et al. 2017, sec. 3, App. A.4, eq. 5) and the FactorVAE
metric (Kim & Mnih 2018, sec. 4), array-first.

Both sample from a set of encoded points ``codes`` (n, d) with their factor
indices ``factors`` (n, K) — normally the whole ground-truth grid — by
choosing rows that share the value of one factor.  For a full grid this is
exactly Higgins' generative process: fixing ``v_y`` and drawing the other
factors afresh is a uniform draw among the rows with the same ``v_y``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from deep.metrics.information import check_codes_factors, check_labels
from validation import as_float_array
from validation import check_int, check_real

#: largest ``|feature|`` of the classifiers (their standard deviation, a sum of squares, stays in float64)
FEATURE_BOUND = 1e100

__all__ = ["beta_vae_pairs", "zdiff_from_pairs", "beta_vae_zdiff", "fit_softmax_classifier",
           "fit_softmax_adagrad", "predict_softmax", "beta_vae_accuracy", "beta_vae_score",
           "HIGGINS_FACTORS", "HIGGINS_L", "HIGGINS_N_TRAIN", "HIGGINS_N_TEST", "HIGGINS_SEEDS",
           "higgins_replica_scores", "higgins_protocol", "factor_vae_votes", "factor_vae_score"]


def _groups(f: np.ndarray, k: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Values of factor k and, for each, the rows that have it."""
    order = np.argsort(f[:, k], kind="stable")
    vals, starts = np.unique(f[order, k], return_index=True)
    return vals, np.split(order, starts[1:])


def _check_common(n_train, n_test, batch_size, factor_indices, n_factors, first: str = "n_train"):
    for name, v in ((first, n_train), ("n_test", n_test), ("batch_size", batch_size)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    idx = tuple(range(n_factors)) if factor_indices is None else tuple(factor_indices)
    if any(isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) for k in idx):
        raise TypeError(f"factor_indices must be ints (factor columns), got {factor_indices!r}")
    if not idx or any(not 0 <= k < n_factors for k in idx):
        raise ValueError(f"factor_indices must index the {n_factors} factors, got {factor_indices!r}")
    return idx


def beta_vae_pairs(factors, n_points: int, batch_size: int, rng: np.random.Generator,
                   factor_indices=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs of the β-VAE metric's generative process (Higgins et al. 2017, eq. 5).

    For each of ``n_points`` training points: ``y ~ Unif(factor_indices)``; ``L = batch_size``
    rows ``a`` drawn uniformly (``v_a ~ p(v)``) and, for each, a row ``b`` drawn uniformly among
    the rows sharing ``[v_a]_y`` (on a full factor grid that is exactly "``[v_b]_y = [v_a]_y``,
    every other factor drawn afresh from p(v)").

    Returns rows ``a`` and ``b`` (n_points, L) int64 and labels ``y`` (n_points,) (positions in
    ``factor_indices``).
    """
    try:
        f = np.asarray(factors)
    except (TypeError, ValueError) as err:
        raise ValueError(f"factors must be an integer array of shape (n, K): {err}") from None
    if f.ndim != 2 or f.shape[0] < 2 or not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"factors must be an integer array of shape (n, K) with n >= 2, "
                         f"got {f.dtype} {f.shape}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    if not isinstance(n_points, (int, np.integer)) or isinstance(n_points, bool) or n_points < 1:
        raise ValueError(f"n_points must be a positive int, got {n_points!r}")
    idx = _check_common(n_points, 1, batch_size, factor_indices, f.shape[1])
    labels = rng.integers(0, len(idx), size=n_points)
    a = rng.integers(0, f.shape[0], size=(n_points, batch_size))
    u = rng.random(size=(n_points, batch_size))
    b = np.empty_like(a)
    for pos, k in enumerate(idx):
        rows = labels == pos
        if not rows.any():
            continue
        order = np.argsort(f[:, k], kind="stable")
        _, starts, group, sizes = np.unique(f[order, k], return_inverse=True, return_index=True,
                                            return_counts=True)
        g = np.empty(f.shape[0], dtype=np.int64)
        g[order] = group
        ga = g[a[rows]]
        b[rows] = order[starts[ga] + np.minimum((u[rows] * sizes[ga]).astype(np.int64),
                                                sizes[ga] - 1)]
    return a, b, labels


def zdiff_from_pairs(codes, a: np.ndarray, b: np.ndarray, chunk: int = 256) -> np.ndarray:
    """``z_diff = (1/L) sum_l |z_a,l - z_b,l|`` (Higgins et al. 2017, eq. 5) for each row of the
    pair arrays ``a``, ``b`` (n_points, L).

    ``codes`` is an (n, d) array or a function mapping row indices (m,) to codes (m, d), for
    representations too large to hold for every image (raw pixels); it is called on ``chunk``
    training points' rows at a time. Returns (n_points, d) float64.
    """
    a, b = check_labels(a, "a", 2), check_labels(b, "b", 2)
    if a.shape != b.shape:
        raise ValueError(f"a and b must be (n_points, L) arrays of one shape, got {a.shape} and "
                         f"{b.shape}")
    if not isinstance(chunk, (int, np.integer)) or isinstance(chunk, bool) or chunk < 1:
        raise ValueError(f"chunk must be a positive int, got {chunk!r}")
    if not callable(codes):
        c = as_float_array(codes, "codes", 2, min_size=1)
        for name, rows in (("a", a), ("b", b)):
            if rows.size and (rows.min() < 0 or rows.max() >= c.shape[0]):
                raise ValueError(f"{name} must hold row indices of codes in [0, {c.shape[0]})")
    rep = codes if callable(codes) else (lambda rows, c=c: c[rows])
    out = None
    for s in range(0, a.shape[0], chunk):
        ca = np.asarray(rep(a[s:s + chunk].ravel()), dtype=np.float64)
        cb = np.asarray(rep(b[s:s + chunk].ravel()), dtype=np.float64)
        if out is None:
            out = np.empty((a.shape[0], ca.shape[1]))
        m = min(chunk, a.shape[0] - s)
        out[s:s + m] = np.abs(ca - cb).reshape(m, a.shape[1], -1).mean(1)
    return out


def beta_vae_zdiff(codes, factors, n_points: int, batch_size: int, rng: np.random.Generator,
                   factor_indices=None) -> tuple[np.ndarray, np.ndarray]:
    """Training points of the β-VAE metric (Higgins et al. 2017, eq. 5): :func:`beta_vae_pairs`
    then :func:`zdiff_from_pairs`. Returns z_diff (n_points, d) and labels y (n_points,)."""
    c, f = check_codes_factors(codes, factors)
    a, b, labels = beta_vae_pairs(f, n_points, batch_size, rng, factor_indices)
    return zdiff_from_pairs(c, a, b), labels


def _softmax_nll(xs: np.ndarray, onehot: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood of a linear softmax classifier (weights ``w`` (d+1, C) on
    features with a trailing bias column) and its gradient."""
    logits = xs @ w
    lse = logsumexp(logits, axis=1)
    p = np.exp(logits - lse[:, None])
    return float((lse - (logits * onehot).sum(1)).mean()), xs.T @ (p - onehot) / xs.shape[0]


def _with_bias(x: np.ndarray) -> np.ndarray:
    return np.hstack([x, np.ones((x.shape[0], 1))])


def _check_xy(x, y, n_classes):
    """Features (n, d), labels (n,) in [0, n_classes), n_classes >= 1, checked by name."""
    n_classes = check_int(n_classes, "n_classes", low=1)
    x = as_float_array(x, "x", 2, low=-FEATURE_BOUND, high=FEATURE_BOUND)
    y = check_labels(y, "y", 1)
    if x.shape[0] < 1 or y.shape != x.shape[:1]:
        raise ValueError(f"x (n, d) and y (n,) must hold the same n >= 1 points, got {x.shape} and {y.shape}")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"y must hold class labels in [0, {n_classes}) (n_classes), got {y.min()} .. {y.max()}")
    return x, y, n_classes


def fit_softmax_classifier(x: np.ndarray, y: np.ndarray, n_classes: int, l2: float = 1e-6,
                           maxiter: int = 2000, standardize: bool = True) -> dict:
    """Linear softmax classifier trained on negative log-likelihood (Higgins App. A.4) plus
    ``0.5 * l2 * |W|^2`` (bias not penalised), by L-BFGS (deterministic). With
    ``standardize`` the features are first scaled to zero mean and unit variance.

    ``standardize=False, l2=1/(C n)`` is scikit-learn's multinomial ``LogisticRegression(C)``
    objective divided by n, the classifier of disentanglement_lib's β-VAE score.
    Returns the model (a dict for :func:`predict_softmax`)."""
    x, y, n_classes = _check_xy(x, y, n_classes)
    l2 = check_real(l2, "l2", low=0.0, high=FEATURE_BOUND)
    maxiter = check_int(maxiter, "maxiter", low=1)
    mean, std = (x.mean(0), x.std(0)) if standardize else (np.zeros(x.shape[1]), np.ones(x.shape[1]))
    std = np.where(std == 0, 1.0, std)
    xs = _with_bias((x - mean) / std)
    onehot = np.eye(n_classes)[y]

    def fun(w):
        w = w.reshape(xs.shape[1], n_classes)
        nll, grad = _softmax_nll(xs, onehot, w)
        grad[:-1] += l2 * w[:-1]
        return nll + 0.5 * l2 * (w[:-1] ** 2).sum(), grad.ravel()

    res = minimize(fun, np.zeros(xs.shape[1] * n_classes), jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter, "gtol": 1e-9, "ftol": 1e-14})
    return {"w": res.x.reshape(xs.shape[1], n_classes), "mean": mean, "std": std}


#: Adagrad's initial accumulator and epsilon (``torch.optim.Adagrad``'s defaults; the paper does
#: not print them)
ADAGRAD_INITIAL_ACCUMULATOR, ADAGRAD_EPS = 0.0, 1e-10
#: the largest accepted learning rate (the paper's is 1e-2)
MAX_ADAGRAD_LR = 1e3


def fit_softmax_adagrad(x, y, n_classes: int, *, seeds, lr: float = 1e-2, batch_size: int = 64,
                        tol: float = 1e-4, patience: int = 5, max_epochs: int = 2000) -> list:
    """The classifier of Higgins et al. 2017, App. A.4: a fully connected linear layer with a
    softmax output, trained on the negative log-likelihood "using the Adagrad optimisation
    algorithm with learning rate of 1e-2 until convergence", from a random initialisation whose
    seed is what the paper's three classifier seeds vary.

    Several problems are trained at once: ``x`` (M, n, d) and ``y`` (M, n) hold M training sets
    (or (n, d) and (n,) for one), ``seeds`` M classifier seeds (or one int).

    Unprinted choices, stated: features standardised with their training mean and standard
    deviation (on raw z_diff features Adagrad at 1e-2 is still far from the optimum after 3,000
    epochs); weights initialised N(0, 0.01²); minibatches of ``batch_size`` (the paper's B)
    reshuffled every epoch; Adagrad's accumulator starting at
    :data:`ADAGRAD_INITIAL_ACCUMULATOR` (``ADAGRAD_EPS`` added to its root); "convergence" = the
    full training loss has not improved by a relative ``tol`` for ``patience`` epochs, or the
    training set has been classified without error for ``patience`` epochs (separable data: the
    loss then only falls by growing the weights, without changing a prediction); at most
    ``max_epochs``.

    Returns one model per problem (dicts for :func:`predict_softmax`) with ``epochs`` and
    ``converged``.
    """
    # features within ±1e100: their standard deviation (squares) stays in float64
    x, y = as_float_array(x, "x", low=-1e100, high=1e100), check_labels(y, "y", (1, 2))
    n_classes = check_int(n_classes, "n_classes", low=1)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"y must hold class labels in [0, {n_classes}) (n_classes), got {y.min()} .. {y.max()}")
    single = x.ndim == 2
    if single:
        x, y, seeds = x[None], y[None], [seeds]
    if x.ndim != 3 or y.shape != x.shape[:2] or x.shape[1] < 1:
        raise ValueError(f"x must be (M, n, d) with y (M, n), got {x.shape} and {y.shape}")
    seeds = list(seeds)
    if len(seeds) != x.shape[0]:
        raise ValueError(f"seeds must hold one seed per problem ({x.shape[0]}), got {len(seeds)}")
    for name, v in (("batch_size", batch_size), ("patience", patience), ("max_epochs", max_epochs)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    for name, v in (("lr", lr), ("tol", tol)):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    if lr > MAX_ADAGRAD_LR:
        # Adagrad moves each weight by at most lr per step: larger rates overflow the logits
        raise ValueError(f"lr must be at most {MAX_ADAGRAD_LR:g}, got {lr!r}")
    m_, n, d = x.shape
    mean, std = x.mean(1, keepdims=True), x.std(1, keepdims=True)
    std = np.where(std == 0, 1.0, std)
    xs = np.concatenate([(x - mean) / std, np.ones((m_, n, 1))], axis=2)
    onehot = np.eye(n_classes)[y]
    rngs = [np.random.default_rng(s) for s in seeds]
    w = np.stack([r.normal(scale=0.01, size=(d + 1, n_classes)) for r in rngs])
    acc = np.full_like(w, ADAGRAD_INITIAL_ACCUMULATOR)
    best = np.full(m_, np.inf)
    stale = np.zeros(m_, dtype=np.int64)
    epochs = np.zeros(m_, dtype=np.int64)
    active = np.ones(m_, dtype=bool)
    for _ in range(max_epochs):
        idx = np.flatnonzero(active)
        perm = np.stack([rngs[i].permutation(n) for i in idx])
        for s in range(0, n, batch_size):
            rows = perm[:, s:s + batch_size]
            xb, ob = xs[idx[:, None], rows], onehot[idx[:, None], rows]
            wi = w[idx]
            # the softmax in a (problem, class, point) layout: numpy reduces over a middle
            # axis as elementwise operations, over a short last axis point by point (4x slower)
            lt = np.swapaxes(wi, 1, 2) @ np.swapaxes(xb, 1, 2)
            lt -= lt.max(axis=1, keepdims=True)
            p = np.exp(lt)
            p /= p.sum(axis=1, keepdims=True)
            g = np.swapaxes(xb, 1, 2) @ (np.swapaxes(p, 1, 2) - ob) / rows.shape[1]
            acc[idx] += g * g
            w[idx] -= lr * g / (np.sqrt(acc[idx]) + ADAGRAD_EPS)
        every = idx.size == m_
        lt = np.swapaxes(w[idx], 1, 2) @ np.swapaxes(xs if every else xs[idx], 1, 2)
        top = lt.max(axis=1, keepdims=True)                    # logsumexp over the classes
        lse = (top + np.log(np.exp(lt - top).sum(axis=1, keepdims=True)))[:, 0]
        loss = (lse - np.take_along_axis(lt, y[idx][:, None], axis=1)[:, 0]).mean(1)
        separated = (lt.argmax(1) == y[idx]).all(1)
        epochs[idx] += 1
        better = (loss < best[idx] * (1 - tol)) & ~separated
        best[idx] = np.where(better, loss, best[idx])
        stale[idx] = np.where(better, 0, stale[idx] + 1)
        active[idx] = stale[idx] < patience
        if not active.any():
            break
    models = [{"w": w[i], "mean": mean[i, 0], "std": std[i, 0], "epochs": int(epochs[i]),
               "converged": bool(stale[i] >= patience)} for i in range(m_)]
    return models[0] if single else models


def predict_softmax(model: dict, x: np.ndarray) -> np.ndarray:
    """Class predictions of a model from :func:`fit_softmax_classifier` /
    :func:`fit_softmax_adagrad`."""
    if not isinstance(model, dict) or any(k not in model for k in ("w", "mean", "std")):
        raise TypeError(f"model must be a classifier dict (keys 'w', 'mean', 'std'), got {type(model).__name__}")
    x = as_float_array(x, "x", 2, low=-FEATURE_BOUND, high=FEATURE_BOUND)
    if x.shape[1] != model["w"].shape[0] - 1:
        raise ValueError(f"x must have {model['w'].shape[0] - 1} features (the model's), got shape {x.shape}")
    return np.argmax(_with_bias((x - model["mean"]) / model["std"]) @ model["w"], axis=1)


CLASSIFIERS = ("lbfgs", "adagrad")


def beta_vae_accuracy(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                      n_classes: int, *, classifier: str = "adagrad",
                      rng: np.random.Generator | None = None) -> dict:
    """Train the metric's linear classifier on ``train`` = (z_diff, y) and score it on ``test``.

    ``classifier``: ``"adagrad"`` (Higgins et al. 2017, App. A.4, as published:
    :func:`fit_softmax_adagrad`; needs ``rng``, the classifier seed) or ``"lbfgs"`` (the same
    model's near-unregularised optimum on standardised features, deterministic).
    Returns ``train_accuracy`` and ``eval_accuracy``."""
    if classifier not in CLASSIFIERS:
        raise ValueError(f"classifier must be one of {CLASSIFIERS}, got {classifier!r}")
    for name, pair in (("train", train), ("test", test)):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"{name} must be a pair (z_diff, y), got {type(pair).__name__}")
    (x_tr, y_tr), (x_te, y_te) = train, test
    n_classes = check_int(n_classes, "n_classes", low=1)
    x_te, y_te, _ = _check_xy(x_te, y_te, n_classes)
    if classifier == "adagrad":
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator for the adagrad classifier")
        model = fit_softmax_adagrad(x_tr, y_tr, n_classes, seeds=int(rng.integers(2**63)))
    else:
        model = fit_softmax_classifier(x_tr, y_tr, n_classes)
    return {"train_accuracy": float(np.mean(predict_softmax(model, x_tr) == y_tr)),
            "eval_accuracy": float(np.mean(predict_softmax(model, x_te) == y_te))}


def beta_vae_score(codes, factors, *, rng: np.random.Generator, n_train: int = 5000,
                   n_test: int = 5000, batch_size: int = 64, factor_indices=None,
                   classifier: str = "lbfgs") -> dict:
    """The β-VAE disentanglement metric (Higgins et al. 2017, sec. 3, App. A.4, eq. 5).

    Accuracy of a linear softmax classifier predicting the fixed factor ``y`` from
    ``z_diff`` (Higgins Fig. 5 reports it on 5000 test points; dSprites: the four
    factors pos_x, pos_y, scale, rotation, i.e. ``factor_indices=(1, 2, 3, 4)``).
    ``batch_size`` is the number L of pairs averaged into one z_diff. Ground-truth codes score
    100% (Higgins Fig. 5: "Ground truth 100%"). ``classifier`` as in :func:`beta_vae_accuracy`
    (the Adagrad classifier draws its seed from ``rng``).

    Returns dict with ``train_accuracy`` and ``eval_accuracy``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    c, f = check_codes_factors(codes, factors)
    idx = _check_common(n_train, n_test, batch_size, factor_indices, f.shape[1])
    train = beta_vae_zdiff(c, f, n_train, batch_size, rng, idx)
    test = beta_vae_zdiff(c, f, n_test, batch_size, rng, idx)
    return beta_vae_accuracy(train, test, len(idx), classifier=classifier, rng=rng)


#: Higgins et al. 2017's protocol per model replica as betalab runs it (the study
#: ``higgins-fig5-table`` at its cpu/full scales and the sweeps' ``[eval] higgins``):
#: the four labelled dSprites factors scale, orientation, pos_x, pos_y (sec. 3, App. A.4);
#: L = 64 pairs per z_diff (unprinted: disentanglement_lib's configuration of the same score);
#: 5,000 training points (unprinted) and 5,000 test points (sec. 4.2: "5,000 test samples");
#: three classifier seeds per replica (App. A.4)
HIGGINS_FACTORS = (1, 2, 3, 4)
HIGGINS_L = 64
HIGGINS_N_TRAIN = 5000
HIGGINS_N_TEST = 5000
HIGGINS_SEEDS = 3


def higgins_replica_scores(codes, factors, rng: np.random.Generator, *,
                           n_train: int = HIGGINS_N_TRAIN, n_test: int = HIGGINS_N_TEST,
                           L: int = HIGGINS_L, n_seeds: int = HIGGINS_SEEDS,
                           factor_indices=HIGGINS_FACTORS, subset=None,
                           chunk: int = 256) -> tuple[np.ndarray, list]:
    """The scores of one model replica under Higgins et al. 2017, App. A.4: fresh metric data
    from ``rng`` (``n_train`` training and ``n_test`` test z_diff points of eq. 5, ``L`` pairs
    each, :func:`beta_vae_pairs` / :func:`zdiff_from_pairs`), then ``n_seeds`` linear softmax
    classifiers trained with Adagrad at 1e-2 (:func:`fit_softmax_adagrad`: standardised
    features, minibatches of 64), one per classifier seed drawn from ``rng``, each scored on the
    test points.

    ``codes``: (n, d) codes of the rows of ``factors`` (n, K) — the posterior means μ(x), sec. 3
    — or a function of row indices; ``subset``: restrict the pairs to those rows (their indices
    into ``factors``), ``codes`` still being called with rows of ``factors``.
    Returns the ``n_seeds`` test accuracies (array) and whether each classifier met the
    convergence rule (list of bool). :func:`higgins_protocol` pools them over replicas."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    for name, v in (("n_train", n_train), ("n_test", n_test), ("L", L), ("n_seeds", n_seeds),
                    ("chunk", chunk)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    try:
        f = np.asarray(factors)
    except (TypeError, ValueError) as err:
        raise ValueError(f"factors must be an integer array of shape (n, K): {err}") from None
    if f.ndim != 2 or not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"factors must be an integer array of shape (n, K), got {f.dtype} {f.shape}")
    n_rows = f.shape[0]
    if subset is not None:
        subset = np.asarray(subset)
        if subset.ndim != 1 or not np.issubdtype(subset.dtype, np.integer) or subset.size < 2 \
                or subset.min() < 0 or subset.max() >= n_rows:
            raise ValueError(f"subset must be at least 2 row indices into factors, got "
                             f"{subset.dtype} {subset.shape}")
        f = f[subset]
    if not callable(codes):
        # codes within ±1e100: the classifier standardises squares of their differences
        c = as_float_array(codes, "codes", 2, low=-1e100, high=1e100)
        if c.shape[0] != n_rows or c.shape[1] < 1:
            raise ValueError(f"codes must be (n, d) with one row per row of factors, got "
                             f"{c.shape} for {n_rows} rows")

        def codes(rows, c=c):
            return c[rows]

    def rep(rows):
        return codes(rows if subset is None else subset[rows])

    data = []
    for n in (n_train, n_test):
        a, b, y = beta_vae_pairs(f, n, L, rng, factor_indices)
        data.append((zdiff_from_pairs(rep, a, b, chunk=chunk), y))
    (x_tr, y_tr), (x_te, y_te) = data
    seeds = [int(s) for s in rng.integers(2**63, size=n_seeds)]
    models = fit_softmax_adagrad(np.stack([x_tr] * n_seeds), np.stack([y_tr] * n_seeds),
                                 len(tuple(factor_indices)), seeds=seeds)
    return (np.array([np.mean(predict_softmax(m, x_te) == y_te) for m in models]),
            [m["converged"] for m in models])


def higgins_protocol(scores) -> dict:
    """Higgins et al. 2017, App. A.4: of the scores of every (model replica, classifier seed)
    pair (10 × 3 in the paper), discard the bottom 50% and report the rest.

    Returns ``kept`` (sorted, descending), their ``mean`` and ``std`` (population, ddof 0: the
    paper does not say which; its "±" is read as this spread) and ``n``."""
    s = np.sort(as_float_array(scores, "scores", low=0.0, high=1.0).ravel())[::-1]   # accuracies
    if s.size < 2:
        raise ValueError(f"scores must hold at least 2 finite values, got {s.size}")
    kept = s[: s.size - s.size // 2]
    return {"kept": kept, "mean": float(kept.mean()), "std": float(kept.std()), "n": int(s.size)}


def factor_vae_votes(codes, factors, n_votes: int, batch_size: int, rng: np.random.Generator,
                     factor_indices=None, active=None, scale=None) -> np.ndarray:
    """Vote matrix (d, K_used) of the FactorVAE metric (Kim & Mnih 2018, sec. 4): for each
    vote fix one factor's value, take ``batch_size`` rows with it, divide the codes by their
    global standard deviation, and vote for the (active) dimension of least variance."""
    c, f = check_codes_factors(codes, factors)
    idx = _check_common(n_votes, 1, batch_size, factor_indices, f.shape[1], "n_votes")
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
