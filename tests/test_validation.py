"""The shared argument checks (validation): each constraint against hand-worked cases.

Oracle: the answer is known by construction for every input (a value inside or outside a
stated interval, a dtype of a stated kind); messages must start with the parameter's name.
"""

import math

import numpy as np
import pytest
import torch

from validation import (Array, Integral, Optional, Options, Real, Tensor, as_float_array,
                        check_real, to_numpy, validate_params)


@pytest.mark.parametrize("value, closed, ok", [
    (0.0, "both", True), (0.0, "left", True), (0.0, "right", False), (0.0, "neither", False),
    (1.0, "both", True), (1.0, "left", False), (1.0, "right", True), (0.5, "neither", True),
    (-1e-300, "both", False), (1 + 1e-15, "both", False),
])
def test_real_interval_ends(value, closed, ok):
    c = Real(0.0, 1.0, closed=closed)
    if ok:
        assert c.check(value, "x") == value
    else:
        with pytest.raises(ValueError, match=r"^x must lie in"):
            c.check(value, "x")


@pytest.mark.parametrize("bad, exc", [
    (True, TypeError), (np.bool_(False), TypeError), (1 + 0j, TypeError), ("1", TypeError),
    (None, TypeError), ([1.0], TypeError), (np.ones(2), TypeError),
    (math.nan, ValueError), (math.inf, ValueError), (-math.inf, ValueError),
])
def test_real_rejects_by_name(bad, exc):
    with pytest.raises(exc, match=r"^beta "):
        check_real(bad, "beta")


def test_real_accepts_numpy_and_0d_tensors():
    # known answers: the same number in every container
    for v in (2, np.float32(2.0), np.int64(2), np.array(2.0), torch.tensor(2.0, requires_grad=True)):
        assert check_real(v, "beta") == 2.0
    with pytest.raises(TypeError, match="^beta"):
        check_real(torch.tensor(2.0 + 1j), "beta")


def test_integral():
    assert Integral(1).check(np.int32(3), "n") == 3
    for bad in (3.0, True, "3", None):
        with pytest.raises(TypeError, match="^n must be an int"):
            Integral(1).check(bad, "n")
    with pytest.raises(ValueError, match=r"^n must lie in \[1, 5\], got 0"):
        Integral(1, 5).check(0, "n")


def test_options_are_type_strict():
    c = Options("exact", "hadamard", 0)
    assert c.check("exact", "mode") == "exact"
    assert c.check(np.int64(0), "mode") == 0
    for bad in ("bogus", "0", False, None, 0.5):
        with pytest.raises(ValueError, match="^mode must be one of"):
            c.check(bad, "mode")


def test_array_conversion_and_rejections():
    a = as_float_array([[1, 2], [3, 4]], "X", 2)
    assert a.dtype == np.float64 and a.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    cases = [
        (np.array([1 + 2j]), TypeError, "complex"),
        (np.array([True, False]), TypeError, "booleans"),
        (["a", "b"], TypeError, "real numbers"),
        ([[1.0], [1.0, 2.0]], TypeError, "real numbers"),
        ([1.0, np.nan], ValueError, "finite"),
        ([1.0, np.inf], ValueError, "finite"),
        (None, TypeError, "None"),
    ]
    for value, exc, word in cases:
        with pytest.raises(exc, match=f"^X .*{word}"):
            as_float_array(value, "X")
    with pytest.raises(ValueError, match=r"^X must have 2 dimensions, got shape \(3,\)"):
        as_float_array([1, 2, 3], "X", 2)
    with pytest.raises(ValueError, match=r"^X must have shape \(\*, 2\)"):
        Array(shape=(None, 2)).check(np.ones((3, 3)), "X")
    with pytest.raises(ValueError, match=r"^psi must lie in \(0, inf\] elementwise, got 0.0"):
        Array(ndim=1, low=0, closed="right").check([1.0, 0.0], "psi")


def test_tensors_given_to_numpy_apis_are_detached():
    """The one rule of the module docstring: detach explicitly, never a RuntimeError."""
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    arr = as_float_array(t * 3, "X", 1)
    assert arr.tolist() == [3.0, 6.0]          # the values, exactly
    assert isinstance(to_numpy(t), np.ndarray)
    with pytest.raises(TypeError, match="^X must be real"):
        as_float_array(torch.tensor([1j]), "X")


def test_tensor_constraint():
    c = Tensor(ndim=2, finite=True)
    z = torch.zeros(2, 3, requires_grad=True)
    assert c.check(z, "z") is z
    for bad, exc in [(np.zeros((2, 3)), TypeError), (torch.zeros(2, 3, dtype=torch.int64), TypeError),
                     (torch.zeros(2, 3, dtype=torch.complex64), TypeError),
                     (torch.zeros(2, 3, dtype=torch.bool), TypeError), (torch.zeros(3), ValueError),
                     (torch.tensor([[0.0, math.nan, 0.0]] * 2), ValueError)]:
        with pytest.raises(exc, match="^z "):
            c.check(bad, "z")


def test_validate_params_decorator_checks_defaults_and_converts():
    @validate_params({"X": Array(ndim=2), "beta": Real(0, closed="neither"),
                      "k": Optional(Integral(1))})
    def f(X, beta=1.0, k=None):
        return X.sum() / beta, k

    assert f([[1, 2]], 2) == (1.5, None)
    with pytest.raises(ValueError, match="^beta"):
        f([[1, 2]], beta=0.0)
    with pytest.raises(TypeError, match="^k must be an int"):
        f([[1, 2]], k=1.5)
    with pytest.raises(TypeError, match="^f: "):
        f()

    with pytest.raises(ValueError, match="unknown parameters"):
        validate_params({"nope": Real()})(lambda x: x)


def test_a_nonfinite_tensor_with_grad_is_an_error_outside_a_trainers_forward_pass():
    """A NaN in a tensor that requires grad, passed to a density directly, is a ValueError
    naming it; inside training_forward (a trainer's forward pass) it reaches the output, where
    the trainers catch it (the NaN of a diverged model); the flag is restored afterwards, also
    after an exception."""
    import torch

    from deep.models import distributions as dist
    from validation import training_forward

    z = torch.tensor([[float("nan"), 0.0]], requires_grad=True)
    zeros = torch.zeros(1, 2)
    with pytest.raises(ValueError, match="z"):
        dist.gaussian_log_density(z, zeros, zeros)
    with training_forward():
        out = dist.gaussian_log_density(z, zeros, zeros)
    assert torch.isnan(out).any()
    with pytest.raises(RuntimeError):
        with training_forward():
            raise RuntimeError("inside")
    with pytest.raises(ValueError, match="z"):
        dist.gaussian_log_density(z, zeros, zeros)


def test_the_learnable_prior_as_a_bare_distribution_rejects_a_nonfinite_z():
    """``LearnableLpNested(tree)()`` (the distribution itself) names a NaN z, with or without
    grad; in a trainer's forward pass a z with grad gives a NaN log-density (the NaN the
    trainers catch)."""
    import torch

    from deep.priors import LearnableLpNested
    from theory.lp_nested import isa_tree
    from validation import training_forward

    prior = LearnableLpNested(isa_tree(2.1, [(2.2, 2)]))
    for grad in (False, True):
        z = torch.tensor([[float("nan"), 0.0]], dtype=prior.exponents.dtype, requires_grad=grad)
        with pytest.raises(ValueError, match="z"):
            prior().log_prob(z)
        with pytest.raises(ValueError, match="z"):
            prior.log_prob(z)
    with training_forward():
        assert torch.isnan(prior().log_prob(z)).all()
    ok = torch.zeros(1, 2, dtype=prior.exponents.dtype)
    assert torch.isfinite(prior().log_prob(ok)).all()
