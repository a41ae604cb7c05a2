"""Discrete entropies and mutual information (plug-in), and the histogram MIG.

All quantities are in nats.  Plug-in estimates from counts ``c_ab`` over n samples:

.. math:: \\hat I(A;B) = \\sum_{a,b} \\frac{c_{ab}}{n}\\log\\frac{n\\,c_{ab}}{c_{a\\cdot} c_{\\cdot b}},
          \\qquad \\hat H(A) = -\\sum_a \\frac{c_a}{n}\\log\\frac{c_a}{n}.

For independent A, B with ``|A|`` and ``|B|`` levels, ``2 n \\hat I`` is the G
statistic, asymptotically chi-squared with ``(|A|-1)(|B|-1)`` degrees of
freedom (Wilks 1938): the basis of the bound used in the tests.
"""

from __future__ import annotations

__all__ = ["check_codes_factors", "discrete_entropy", "discrete_mutual_info",
           "histogram_discretize", "mutual_info_matrix", "mig_from_mi", "mig_histogram"]

import numpy as np

from validation import as_float_array, check_int, to_numpy


def check_labels(a, name: str, ndim: int | tuple = 1) -> np.ndarray:
    """Discrete labels: an integer array, or floats that are all whole numbers; as int64.
    Booleans, complex numbers, NaN/inf and fractional values are rejected naming ``name``."""
    try:
        raw = to_numpy(a) if a is not None else None
    except (TypeError, ValueError):       # ragged nesting: as_float_array names it below
        raw = None
    if raw is not None and np.issubdtype(raw.dtype, np.integer):
        arr = raw
    else:
        arr = as_float_array(a, name)
        if not np.all(arr == np.round(arr)):
            raise TypeError(f"{name} must be discrete (integer-valued)")
    ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in ndims:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndims))} dimension(s), "
                         f"got shape {arr.shape}")
    if np.any(np.abs(arr) > 2 ** 62):
        raise ValueError(f"{name} must hold labels of magnitude below 2**62")
    return arr.astype(np.int64)


#: largest ``|code|`` of the metrics (differences and squares of codes stay in float64)
CODE_BOUND = 1e100


def check_codes_factors(codes, factors, *, discrete_factors: bool = True):
    """Validate ``codes`` (n, d) float and ``factors`` (n, K) discrete; return them as arrays."""
    c = as_float_array(codes, "codes", low=-CODE_BOUND, high=CODE_BOUND)
    if c.ndim != 2 or c.shape[0] < 2 or c.shape[1] < 1:
        raise ValueError(f"codes must have shape (n, d) with n >= 2, got {c.shape}")
    if discrete_factors:
        try:
            raw = to_numpy(factors) if factors is not None else None
        except (TypeError, ValueError):   # ragged nesting: check_labels names it below
            raw = None
        if raw is not None and raw.dtype.kind == "f" and not np.all(np.isfinite(raw)):
            raise TypeError("factors must be discrete (integer-valued), found NaN or inf")
        f = check_labels(factors, "factors", 2)
    else:
        f = as_float_array(factors, "factors", 2)
    if f.shape[1] < 1:
        raise ValueError(f"factors must have shape (n, K) with K >= 1, got {f.shape}")
    if f.shape[0] != c.shape[0]:
        raise ValueError(f"codes and factors must have the same length, got {c.shape[0]} "
                         f"and {f.shape[0]}")
    return c, f


def _labels(x: np.ndarray) -> np.ndarray:
    return np.unique(x, return_inverse=True)[1].ravel()


def discrete_entropy(a) -> float:
    """Plug-in entropy of a discrete sample a (n,) (integer labels, n >= 1), nats."""
    a = check_labels(a, "a")
    if a.size == 0:
        raise ValueError("a must hold at least one label, got an empty array")
    _, cnt = np.unique(a, return_counts=True)
    p = cnt / cnt.sum()
    return float(-(p * np.log(p)).sum())


def discrete_mutual_info(a, b) -> float:
    """Plug-in mutual information of two discrete samples a, b (n,) (integer labels), nats."""
    a, b = check_labels(a, "a"), check_labels(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"b must have the length of a ({a.shape[0]}), got {b.shape[0]}")
    if a.size == 0:
        raise ValueError("a must hold at least one label, got an empty array")
    return _mi_of_labels(_labels(a), _labels(b))


def _mi_of_labels(la: np.ndarray, lb: np.ndarray) -> float:
    """Plug-in mutual information of two label arrays with values 0 … max."""
    n = la.size
    na, nb = la.max() + 1, lb.max() + 1
    joint = np.bincount(la * nb + lb, minlength=na * nb).reshape(na, nb).astype(np.float64)
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float(max((joint[nz] / n * np.log(n * joint[nz] / (pa @ pb)[nz])).sum(), 0.0))


def histogram_discretize(codes, bins: int = 20) -> np.ndarray:
    """Equal-width histogram bin of each code dimension (Locatello et al. 2019, the
    ``_histogram_discretize`` of disentanglement_lib): (n, d) -> int (n, d) in [0, bins)."""
    bins = check_int(bins, "bins", low=2)
    c = as_float_array(codes, "codes", 2, min_size=1)
    out = np.empty(c.shape, dtype=np.int64)
    for j in range(c.shape[1]):
        edges = np.histogram(c[:, j], bins)[1]
        out[:, j] = np.digitize(c[:, j], edges[:-1]) - 1
    return out


def mutual_info_matrix(discrete_codes, factors) -> np.ndarray:
    """``m[j, k] = I(code_j; factor_k)`` for discrete codes (n, d) and factors (n, K): (d, K)."""
    dc, f = check_labels(discrete_codes, "discrete_codes", 2), check_labels(factors, "factors", 2)
    if dc.shape[0] != f.shape[0]:
        raise ValueError(f"factors must have {dc.shape[0]} rows (as discrete_codes), got {f.shape[0]}")
    if dc.shape[0] == 0:
        raise ValueError("discrete_codes must hold at least one row")
    # each column relabelled once (discrete_mutual_info relabels both of its arguments per call)
    lc = [_labels(dc[:, j]) for j in range(dc.shape[1])]
    lf = [_labels(f[:, k]) for k in range(f.shape[1])]
    return np.array([[_mi_of_labels(a, b) for b in lf] for a in lc])


def mig_from_mi(mi: np.ndarray, entropies: np.ndarray) -> tuple[float, np.ndarray]:
    """MIG from a (d, K) MI matrix and the factor entropies (K,) (Chen et al. 2018, eq. 6):

    .. math:: \\mathrm{MIG} = \\frac1K\\sum_k \\frac{I(z_{j^{(k)}}; v_k) - \\max_{j\\ne j^{(k)}}
              I(z_j; v_k)}{H(v_k)},\\qquad j^{(k)} = \\arg\\max_j I(z_j; v_k).

    Returns the MIG and the per-factor normalised gaps (K,).
    """
    mi = as_float_array(mi, "mi", 2)
    h = as_float_array(entropies, "entropies", 1)
    if mi.shape[0] < 2 or mi.shape[1] < 1:
        raise ValueError(f"mi: MIG needs at least two code dimensions, got MI matrix {mi.shape}")
    if h.shape != (mi.shape[1],):
        raise ValueError(f"entropies must have shape ({mi.shape[1]},), got {h.shape}")
    if np.any(h <= 0):
        raise ValueError("entropies: every factor must vary (positive entropy)")
    top = np.sort(mi, axis=0)[::-1]
    gaps = (top[0] - top[1]) / h
    return float(gaps.mean()), gaps


def mig_histogram(codes, factors, bins: int = 20) -> dict:
    """The discretised MIG of Locatello et al. 2019 (disentanglement_lib ``compute_mig``).

    Parameters
    ----------
    codes : array of shape (n, d)       representations (e.g. posterior means)
    factors : int array of shape (n, K) ground-truth factor indices
    bins : number of equal-width bins per code dimension

    Returns dict with ``mig``, ``gaps`` (K,), ``mi`` (d, K), ``entropies`` (K,).
    """
    c, f = check_codes_factors(codes, factors)
    bins = check_int(bins, "bins", low=2)
    dc = histogram_discretize(c, bins)
    mi = mutual_info_matrix(dc, f)
    h = np.array([discrete_entropy(f[:, k]) for k in range(f.shape[1])])
    score, gaps = mig_from_mi(mi, h)
    return {"mig": score, "gaps": gaps, "mi": mi, "entropies": h}
