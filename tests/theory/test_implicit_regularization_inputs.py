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
