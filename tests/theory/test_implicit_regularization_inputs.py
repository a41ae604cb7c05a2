"""Issue 18, item 8 (theory): mismatched dimensions that were silently broadcast or summed.
Oracle for the valid case: the closed forms at a hand-computable point (J = 0: the
regularizer log|I| = 0)."""

import numpy as np
import pytest

from theory import implicit_regularization as ir


def test_mu_of_the_wrong_dimension_is_rejected_by_name():
    J = np.zeros((3, 2))            # D = 3, d = 2
    for mu in (np.zeros(3), np.zeros(1)):
        with pytest.raises(ValueError, match="^mu"):
            ir.deterministic_objective(0.0, J, None, mu, 1.0)
        with pytest.raises(ValueError, match="^mu"):
            ir.grae_loss(np.zeros(3), np.zeros(3), mu, J, 1.0)
    with pytest.raises(ValueError, match="^J"):
        ir.grae_loss(np.zeros(4), np.zeros(4), np.zeros(2), J, 1.0)
    # J = 0: log|I| = 0, so the objective is ll − β/2‖μ‖² and the loss ½‖x−g‖² + β/2‖μ‖²
    mu = np.array([1.0, 2.0])
    assert ir.deterministic_objective(-1.0, J, None, mu, 2.0) == pytest.approx(-1.0 - 5.0, abs=1e-15)
    x, g = np.array([1.0, 0.0, 0.0]), np.zeros(3)
    assert ir.grae_loss(x, g, mu, J, 2.0) == pytest.approx(0.5 + 5.0, abs=1e-15)


@pytest.mark.parametrize("call, name", [
    (lambda J: ir.optimal_posterior_covariance(np.where(J == 0, 1e308, J), None, 1.0), "J"),
    (lambda J: ir.grae_regularizer(J, np.full(3, -1e308), 1.0), "hess_diag"),
    (lambda J: ir.hadamard_bound(J, None, 1e-320), "beta"),
    (lambda J: ir.grae_loss(np.full(3, 1e308), np.zeros(3), np.zeros(2), J, 1.0), "x"),
    (lambda J: ir.deterministic_objective(0.0, J, None, np.array([1e308, 0.0]), 1.0), "mu"),
    # batch shapes that do not broadcast (was a numpy error naming no argument)
    (lambda J: ir.deterministic_objective(np.zeros(3), np.zeros((0, 3, 2)), None, np.ones((3, 2)), 1.0), "J"),
    (lambda J: ir.deterministic_objective(np.zeros(2), np.zeros((3, 3, 2)), None, np.ones((3, 2)), 1.0),
     "log_lik_at_mean"),
    (lambda J: ir.grae_loss(np.ones((3, 3)), np.zeros((3, 3)), np.ones((3, 2)), np.zeros((0, 3, 2)), 1.0), "J"),
])
def test_values_outside_the_float64_safe_ranges_are_rejected_by_name(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call(np.zeros((3, 2)))


def test_the_extremes_of_the_accepted_ranges_give_finite_results():
    """J at ±1e50, H_p = −1e100, β = 1e-50 (and 1e50), μ, x at 1e100: every closed form finite."""
    J = np.random.default_rng(0).choice([-1.0, 1.0], size=(2, 50, 4)) * ir.J_BOUND
    hd, mu, ll = np.full((2, 50), -1e100), np.full((2, 4), 1e100), np.full(2, -1e100)
    for beta in ir.BETA_RANGE:
        for out in (ir.optimal_posterior_covariance(J, hd, beta), ir.grae_regularizer(J, hd, beta),
                    ir.deterministic_objective(ll, J, hd, mu, beta), ir.hadamard_bound(J, hd, beta),
                    ir.grae_loss(np.full((2, 50), 1e100), np.full((2, 50), -1e100), mu, J, beta)):
            assert np.all(np.isfinite(out))
