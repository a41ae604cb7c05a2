r"""Argument checks shared by every math package (``theory``, ``linear_models``, ``deep``).

This package sits at the bottom of the house: it imports only numpy (and torch lazily, for
tensor checks), and ``theory``, ``linear_models`` and ``deep`` all import it, never each other
for validation.

Contract
--------
Bad input raises :class:`ValueError` (wrong value, range, shape) or :class:`TypeError` (wrong
kind of object, complex or boolean data where real numbers are expected) whose message starts
with the parameter's name and shows the value received. Nothing downstream of a check ever sees
NaN, ±inf, complex numbers or booleans unless the constraint says so.

Declarative constraints
-----------------------
In the spirit of scikit-learn's ``_parameter_constraints`` and numpyro's ``arg_constraints``,
each parameter is described by one constraint object and checked (and converted) by it:

>>> from validation import Real, Integral, Options, Array, validate_params
>>> @validate_params({"beta": Real(low=0, closed="neither"), "X": Array(ndim=2)})
... def f(X, beta=1.0):
...     return X.sum() / beta

* :class:`Real` — a real scalar (bool and complex rejected), finite unless ``finite=False``,
  in an interval whose ends may be open or closed; returns ``float``.
* :class:`Integral` — an integer (bool rejected; integral floats rejected), in a range;
  returns ``int``.
* :class:`Options` — one of a fixed set of values (compared with ``==``, type-strict for
  strings).
* :class:`Array` — array-like of real numbers converted to a float64 ndarray: number of
  dimensions, exact or partial shape, finiteness, elementwise bounds, a minimum size.
* :class:`Tensor` — a torch tensor: dimensions, real floating dtype, finiteness (optional).
* :class:`InstanceOf`, :class:`Generator` (``numpy.random.Generator``), :class:`Optional`.

:func:`validate_params` applies a dict of constraints to a function's bound arguments (by
name, defaults included) and passes the converted values on. Hot torch paths call the check
functions directly instead of the decorator.

Torch tensors handed to numpy APIs (one rule, everywhere)
---------------------------------------------------------
A numpy function has no gradient, so a tensor given to it — on any device, with or without
``requires_grad`` — is **detached explicitly** and copied to host memory
(``tensor.detach().cpu().numpy()``) by :func:`to_numpy`, which every :class:`Array` check uses.
The result is a plain ndarray: no gradient flows back into the tensor, by construction, and no
``RuntimeError: Can't call numpy() on Tensor that requires grad`` ever surfaces. Complex and
boolean tensors are rejected like complex and boolean arrays.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import numbers
import threading

import numpy as np

__all__ = [
    "Constraint", "Real", "Integral", "Options", "Array", "Tensor", "InstanceOf", "Generator",
    "Optional", "validate_params", "to_numpy", "as_float_array", "check_real", "check_int",
    "check_choice", "check_tensor", "check_rng", "check_device", "check_module_input",
    "positive_scalar", "positive_vector", "training_forward",
]

_CLOSED = ("both", "left", "right", "neither")


def _show(value, limit: int = 80) -> str:
    """A short repr of ``value`` for error messages."""
    try:
        if hasattr(value, "shape") and getattr(value, "ndim", 0) > 0:
            text = f"{type(value).__name__} of shape {tuple(value.shape)}"
        else:
            text = repr(value)
    except Exception:  # noqa: BLE001 - a repr must never mask the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_tensor(value) -> bool:
    mod = type(value).__module__
    if not mod.startswith("torch"):
        return False
    import torch

    return isinstance(value, torch.Tensor)


def to_numpy(value):
    """``value`` as a numpy array; a torch tensor is detached and moved to the CPU first (the
    rule of the module docstring). Other inputs go through ``np.asarray`` unchanged."""
    if _is_tensor(value):
        return value.detach().cpu().numpy()
    return np.asarray(value)


class Constraint:
    """A check for one parameter: ``check(value, name)`` returns the (converted) value or
    raises ValueError/TypeError naming ``name``."""

    def check(self, value, name: str):  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


def _interval_text(low, high, closed) -> str:
    lo = "(" if closed in ("right", "neither") else "["
    hi = ")" if closed in ("left", "neither") else "]"
    return f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"


def _in_interval(v, low, high, closed) -> bool:
    if low is not None and (v < low or (v == low and closed in ("right", "neither"))):
        return False
    if high is not None and (v > high or (v == high and closed in ("left", "neither"))):
        return False
    return True


class Real(Constraint):
    """A real scalar in an interval (``closed`` in "both", "left", "right", "neither").

    Accepts Python and numpy reals and 0-d real arrays or tensors; rejects bool and complex
    (TypeError), NaN and ±inf unless ``finite=False`` (ValueError). Returns a ``float``.
    """

    def __init__(self, low=None, high=None, closed: str = "both", finite: bool = True):
        if closed not in _CLOSED:
            raise ValueError(f"closed must be one of {_CLOSED}, got {closed!r}")
        self.low, self.high, self.closed, self.finite = low, high, closed, finite

    def check(self, value, name: str) -> float:
        return check_real(value, name, low=self.low, high=self.high, closed=self.closed,
                          finite=self.finite)


def check_real(value, name: str, *, low=None, high=None, closed: str = "both",
               finite: bool = True) -> float:
    """Function form of :class:`Real`."""
    if _is_tensor(value) or isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise TypeError(f"{name} must be a real number, got {_show(value)}")
        value = value.item()          # a 0-d tensor is detached by .item() (module docstring)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_show(value)} "
                        f"({type(value).__name__})")
    v = float(value)
    if finite and not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if math.isnan(v):
        raise ValueError(f"{name} must not be NaN")
    if not _in_interval(v, low, high, closed):
        raise ValueError(f"{name} must lie in {_interval_text(low, high, closed)}, got {value!r}")
    return v


class Integral(Constraint):
    """An integer in ``[low, high]`` (either end may be None). Python and numpy integers; bool
    and floats (even integral ones) are a TypeError. Returns an ``int``."""

    def __init__(self, low=None, high=None):
        self.low, self.high = low, high

    def check(self, value, name: str) -> int:
        return check_int(value, name, low=self.low, high=self.high)


def check_int(value, name: str, *, low=None, high=None) -> int:
    """Function form of :class:`Integral`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_show(value)} ({type(value).__name__})")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must lie in {_interval_text(low, high, 'both')}, got {v}")
    return v


class Options(Constraint):
    """One of ``choices``. Strings must be strings (no ``"0" == 0`` surprises)."""

    def __init__(self, *choices):
        self.choices = tuple(choices)

    def check(self, value, name: str):
        return check_choice(value, name, self.choices)


def check_choice(value, name: str, choices):
    """Function form of :class:`Options`."""
    for c in choices:
        if type(value) is type(c) and value == c:
            return value
        if isinstance(c, str) or isinstance(value, str) or isinstance(value, (bool, np.bool_)):
            continue
        if c is None or value is None:
            continue
        try:
            if value == c:
                return value
        except Exception:  # noqa: BLE001 - an odd __eq__ is not a match
            continue
    raise ValueError(f"{name} must be one of {tuple(choices)}, got {_show(value)}")


class Array(Constraint):
    """Array-like of real numbers as a float64 ndarray.

    ndim : int or tuple of ints, allowed numbers of dimensions (None: any)
    shape : tuple with ints or None per axis (None: any length); implies ndim
    finite : reject NaN and ±inf
    low, high, closed : elementwise bounds, as for :class:`Real`
    min_size : at least this many elements
    """

    def __init__(self, ndim=None, shape=None, finite: bool = True, low=None, high=None,
                 closed: str = "both", min_size: int = 0):
        self.ndim, self.shape, self.finite = ndim, shape, finite
        self.low, self.high, self.closed, self.min_size = low, high, closed, min_size

    def check(self, value, name: str) -> np.ndarray:
        return as_float_array(value, name, self.ndim, shape=self.shape, finite=self.finite,
                              low=self.low, high=self.high, closed=self.closed,
                              min_size=self.min_size)


def as_float_array(value, name: str, ndim=None, *, shape=None, finite: bool = True, low=None,
                   high=None, closed: str = "both", min_size: int = 0) -> np.ndarray:
    """Function form of :class:`Array`: ``value`` as a float64 ndarray, checked."""
    if value is None:
        raise TypeError(f"{name} must be array-like of real numbers, got None")
    try:
        raw = to_numpy(value)
    except Exception as err:  # noqa: BLE001 - ragged lists, odd objects
        raise TypeError(f"{name} must be array-like of real numbers, got {_show(value)}") from err
    kind = raw.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex values ({_show(value)})")
    if kind == "b":
        raise TypeError(f"{name} must hold numbers, got booleans ({_show(value)})")
    if kind not in "iuf":
        if kind == "O":
            items = raw.ravel()
            if any(isinstance(x, (bool, np.bool_, complex, np.complexfloating)) for x in items) or \
                    not all(isinstance(x, numbers.Real) for x in items):
                raise TypeError(f"{name} must be array-like of real numbers, got {_show(value)}")
        else:
            raise TypeError(f"{name} must be array-like of real numbers, got {_show(value)} "
                            f"(dtype {raw.dtype})")
    try:
        arr = raw.astype(np.float64)
    except (TypeError, ValueError, OverflowError) as err:
        raise TypeError(f"{name} must be array-like of real numbers, got {_show(value)}") from err
    if shape is not None:
        shape = tuple(shape)
        if arr.ndim != len(shape) or any(s is not None and a != s for a, s in zip(arr.shape, shape)):
            want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    elif ndim is not None:
        ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in ndims:
            raise ValueError(f"{name} must have {' or '.join(map(str, ndims))} dimensions, "
                             f"got shape {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} elements, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not contain NaN")
    if (low is not None or high is not None) and arr.size:
        ok = np.ones(arr.shape, bool)
        if low is not None:
            ok &= (arr > low) if closed in ("right", "neither") else (arr >= low)
        if high is not None:
            ok &= (arr < high) if closed in ("left", "neither") else (arr <= high)
        if not ok.all():
            bad = float(arr[~ok].ravel()[0])
            raise ValueError(f"{name} must lie in {_interval_text(low, high, closed)} elementwise, "
                             f"got {bad!r}")
    return arr


class Tensor(Constraint):
    """A torch tensor: ``ndim`` (int, tuple or None), real floating dtype unless
    ``floating=False`` (then any real dtype; complex and bool always rejected), finite if
    ``finite``, at least ``min_size`` elements. Returned unchanged (gradients preserved)."""

    def __init__(self, ndim=None, floating: bool = True, finite: bool = False, min_size: int = 0):
        self.ndim, self.floating, self.finite, self.min_size = ndim, floating, finite, min_size

    def check(self, value, name: str):
        return check_tensor(value, name, ndim=self.ndim, floating=self.floating,
                            finite=self.finite, min_size=self.min_size)


_TRAINING = threading.local()


@contextlib.contextmanager
def training_forward():
    """The forward passes of a trainer: inside (this thread), :func:`check_tensor` with
    ``grad_exempt=True`` lets a non-finite tensor that requires grad through, so the NaN of a
    diverged model reaches its loss, where the trainers handle it
    (:class:`deep.train.NonFiniteLossError`, the per-member and per-trial masks of the batched
    trainers). Outside, every such tensor is checked like any other. Also a decorator."""
    before = getattr(_TRAINING, "on", False)
    _TRAINING.on = True
    try:
        yield
    finally:
        _TRAINING.on = before


def check_tensor(value, name: str, *, ndim=None, floating: bool = True, finite: bool = False,
                 min_size: int = 0, last_dim: int | None = None, grad_exempt: bool = False):
    """Function form of :class:`Tensor`; ``last_dim`` fixes the length of the last axis.

    ``grad_exempt``: inside :func:`training_forward` only, skip the finiteness check for a
    tensor that requires grad. For the building blocks a model's forward pass runs through
    (densities, networks): during training a NaN computed by a diverged model must reach the
    loss, where the trainers report it as :class:`deep.train.NonFiniteLossError`; called
    directly, a non-finite input is an error naming it, with or without grad."""
    if not _is_tensor(value):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    import torch

    if value.dtype.is_complex:
        raise TypeError(f"{name} must be real, got a complex tensor ({value.dtype})")
    if value.dtype == torch.bool:
        raise TypeError(f"{name} must hold numbers, got a bool tensor")
    if floating and not value.dtype.is_floating_point:
        raise TypeError(f"{name} must have a floating-point dtype, got {value.dtype}")
    if ndim is not None:
        ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.ndim not in ndims:
            raise ValueError(f"{name} must have {' or '.join(map(str, ndims))} dimensions, "
                             f"got shape {tuple(value.shape)}")
    if last_dim is not None and (value.ndim == 0 or value.shape[-1] != last_dim):
        raise ValueError(f"{name} must have last dimension {last_dim}, got shape {tuple(value.shape)}")
    if value.numel() < min_size:
        raise ValueError(f"{name} must have at least {min_size} elements, got shape "
                         f"{tuple(value.shape)}")
    # Inside torch.func transforms (vmap over the members of an ensemble, deep.ensemble) a
    # value check would be data-dependent control flow: there only the structure is checked,
    # and a non-finite member is caught by its non-finite loss.
    if finite and not (grad_exempt and value.requires_grad and getattr(_TRAINING, "on", False)) \
            and not torch._C._functorch.is_functorch_wrapped_tensor(value):
        with torch.no_grad():
            if not _all_finite(value):
                raise ValueError(f"{name} must be finite (found NaN or inf)")
    return value


def _all_finite(value) -> bool:
    """``bool(torch.isfinite(value).all())`` for a real tensor, computed as the finiteness of its
    minimum and maximum: :func:`torch.aminmax` propagates NaN, so both are finite exactly when
    every element is. One reduction without the element-wise bool tensor: ~10x faster on an
    image batch, which every training step checks several times."""
    import torch

    if value.numel() == 0:
        return True
    lo, hi = torch.aminmax(value)
    return bool(torch.isfinite(lo) & torch.isfinite(hi))          # one device sync


class InstanceOf(Constraint):
    """An instance of ``types`` (a type or a tuple of types)."""

    def __init__(self, types):
        self.types = types

    def check(self, value, name: str):
        if not isinstance(value, self.types):
            want = self.types.__name__ if isinstance(self.types, type) else \
                " or ".join(t.__name__ for t in self.types)
            raise TypeError(f"{name} must be a {want}, got {type(value).__name__}")
        return value


class Generator(Constraint):
    """A ``numpy.random.Generator`` (``allow_none``: None passes through)."""

    def __init__(self, allow_none: bool = False):
        self.allow_none = allow_none

    def check(self, value, name: str):
        return check_rng(value, name, allow_none=self.allow_none)


def check_rng(value, name: str = "rng", *, allow_none: bool = False):
    """Function form of :class:`Generator`."""
    if value is None and allow_none:
        return None
    if not isinstance(value, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator, got {type(value).__name__}")
    return value


def check_device(value, name: str = "device"):
    """A torch device (a ``torch.device`` or a string such as ``"cpu"``, ``"cuda:0"``) as a
    ``torch.device``; anything torch does not parse, or a CUDA/MPS device this machine does not
    have, is a ValueError (TypeError for a wrong type) naming ``name`` — not torch's
    AssertionError at the first allocation."""
    import torch

    if not isinstance(value, (str, torch.device)):
        raise TypeError(f"{name} must be a torch.device or a device string such as 'cpu', got "
                        f"{_show(value)}")
    try:
        dev = torch.device(value)
    except (RuntimeError, ValueError) as err:
        raise ValueError(f"{name} must be a torch device such as 'cpu' or 'cuda', got {value!r}") from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name} {value!r}: CUDA is not available here (torch "
                             f"{torch.__version__}); use 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"{name} {value!r}: this machine has {torch.cuda.device_count()} "
                             "CUDA device(s)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name} {value!r}: MPS is not available here; use 'cpu'")
    return dev


def resolve_device(value, name: str = "device"):
    """``"auto"``: the GPU when CUDA is available, else the CPU; anything else through
    :func:`check_device` (a device this machine lacks is a ValueError naming ``name``)."""
    import torch

    if isinstance(value, str) and value == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return check_device(value, name)


def check_module_input(module, value, name: str = "x"):
    """``value`` (a tensor) in the floating dtype and on the device of ``module``'s parameters:
    a float32 batch given to a float64 model (or the reverse) is a TypeError naming ``name`` and
    both dtypes, a batch on another device a ValueError, instead of torch's "mat1 and mat2 must
    have the same dtype" from inside a layer. A module without floating parameters, or a value
    that is not a tensor, is passed through (the layers check it), and so is a value in the
    autocast dtype while autocast is on for its device."""
    import torch

    if not isinstance(value, torch.Tensor):
        return value
    p = next((t for t in module.parameters() if t.is_floating_point()), None)
    if p is None:
        return value
    # under autocast (deep.precision's bf16) a layer's output is in the autocast dtype by design
    autocast = (torch.is_autocast_enabled(value.device.type)
                and value.dtype == torch.get_autocast_dtype(value.device.type))
    if value.is_floating_point() and value.dtype != p.dtype and not autocast:
        raise TypeError(f"{name} is {value.dtype} but the model's parameters are {p.dtype}: convert "
                        f"one of them ({name}.to({p.dtype}) or model.to({value.dtype}))")
    if value.device != p.device:
        raise ValueError(f"{name} is on {value.device} but the model is on {p.device}: move one "
                         f"of them ({name}.to('{p.device}'))")
    return value


class Optional(Constraint):
    """None, or a value satisfying ``inner``."""

    def __init__(self, inner: Constraint):
        self.inner = inner

    def check(self, value, name: str):
        return None if value is None else self.inner.check(value, name)


def validate_params(constraints: dict):
    """Decorator: check (and convert) the named arguments of a function with ``constraints``
    (``{parameter name: Constraint}``) before the body runs; defaults are checked too."""

    if not isinstance(constraints, dict) or not all(
            isinstance(k, str) and isinstance(c, Constraint) for k, c in constraints.items()):
        raise TypeError(f"constraints must be a dict {{parameter name: Constraint}}, got "
                        f"{_show(constraints)}")

    def decorate(func):
        sig = inspect.signature(func)
        unknown = set(constraints) - set(sig.parameters)
        if unknown:
            raise ValueError(f"constraints for unknown parameters {sorted(unknown)} of {func.__name__}")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as err:
                raise TypeError(f"{func.__name__}: {err}") from None
            bound.apply_defaults()
            for name, constraint in constraints.items():
                bound.arguments[name] = constraint.check(bound.arguments[name], name)
            return func(*bound.args, **bound.kwargs)

        wrapper.parameter_constraints = dict(constraints)
        return wrapper

    return decorate


# ---------------------------------------------------------------- shorthands kept from the
# linear-model solvers (the names their modules already use)

def positive_scalar(value, name: str) -> float:
    """A finite real > 0 (:class:`Real` with an open lower end at 0)."""
    return check_real(value, name, low=0.0, closed="right")


def positive_vector(value, name: str, length: int | None = None) -> np.ndarray:
    """A finite 1-d float64 array, entries > 0 (variances), optionally of a given length."""
    arr = as_float_array(value, name, 1)
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} must have length {length} (rows of W), got {arr.shape[0]}"
                         if name == "psi" else f"{name} must have length {length}, got {arr.shape[0]}")
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 elementwise (variances), got min {arr.min()}")
    return arr
