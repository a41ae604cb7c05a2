"""Input checks shared by the linear-model solvers: one clear ValueError naming the parameter."""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(value, name: str, ndim: int | tuple[int, ...]) -> np.ndarray:
    """``value`` as a finite float64 array with ``ndim`` dimensions, else ValueError."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be array-like of numbers") from err
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in ndims:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndims))} dimensions, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def positive_scalar(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value}")
    return value


def positive_vector(value, name: str, length: int | None = None) -> np.ndarray:
    arr = as_float_array(value, name, 1)
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have length {length}, got {arr.shape[0]}")
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 elementwise (variances), got min {arr.min()}")
    return arr
