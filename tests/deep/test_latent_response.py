"""deep.metrics.latent_response (Higgins et al. 2017, Fig. 6) against brute force and signals
of known frequency content."""

import numpy as np
import pytest

from deep.data import full_grid
from deep.metrics.latent_response import dominant_frequency, mean_response, rotation_harmonics

GRID = full_grid((3, 2, 40, 3, 3))          # shape, scale, orientation (40 over 2π), x, y


def test_mean_response_equals_brute_force_means(rng):
    codes = rng.normal(size=(len(GRID), 4))
    got = mean_response(codes, GRID, 2, by=0)
    assert got.shape == (3, 40, 4)
    for s in range(3):
        for o in (0, 7, 39):
            rows = (GRID[:, 0] == s) & (GRID[:, 2] == o)
            np.testing.assert_allclose(got[s, o], codes[rows].mean(0), rtol=0, atol=1e-12)
    flat = mean_response(codes, GRID, 3)
    np.testing.assert_allclose(flat[1], codes[GRID[:, 3] == 1].mean(0), rtol=0, atol=1e-12)


def test_dominant_frequency_of_known_signals():
    theta = 2 * np.pi * np.arange(40) / 40
    for k in (1, 2, 4, 7):
        out = dominant_frequency(3.0 + np.cos(k * theta + 0.3))
        assert out["k"] == k and out["share"] == pytest.approx(1.0, abs=1e-12)
    # amplitudes 1 and 0.5: Parseval gives the larger harmonic 1 / (1 + 0.25) of the power
    out = dominant_frequency(np.sin(2 * theta) + 0.5 * np.cos(5 * theta))
    assert out["k"] == 2 and out["share"] == pytest.approx(0.8, abs=1e-12)


def test_rotation_harmonics_recover_each_shapes_symmetry(rng):
    """A code whose rotation latent oscillates as Fig. 6 describes (period π/2 square, π ellipse,
    2π heart), plus noise and a dependence on position: frequencies 4, 2, 1."""
    theta = 2 * np.pi * GRID[:, 2] / 40
    k = np.array([4, 2, 1])[GRID[:, 0]]
    z0 = np.cos(k * theta + 0.5) + 0.3 * GRID[:, 3] + 0.2 * rng.normal(size=len(GRID))
    codes = np.column_stack([z0, rng.normal(size=len(GRID))])
    out = rotation_harmonics(codes, GRID, 0)
    assert [out[s]["k"] for s in range(3)] == [4, 2, 1]
    assert min(out[s]["share"] for s in range(3)) > 0.9


def test_bad_input_is_named():
    codes = np.random.default_rng(0).normal(size=(len(GRID), 2))
    with pytest.raises(ValueError, match="by must differ"):
        mean_response(codes, GRID, 2, by=2)
    with pytest.raises(ValueError, match="factor"):
        mean_response(codes, GRID, 5)
    with pytest.raises(ValueError, match="every level"):
        keep = ~((GRID[:, 0] == 0) & (GRID[:, 2] == 3))          # one (shape, orientation) cell gone
        mean_response(codes[keep], GRID[keep], 2, by=0)
    with pytest.raises(ValueError, match="response is constant"):
        dominant_frequency(np.ones(40))
    with pytest.raises(ValueError, match="latent"):
        rotation_harmonics(codes, GRID, 2)
    with pytest.raises(ValueError, match="rotation_factor must differ"):
        rotation_harmonics(codes, GRID, 0, shape_factor=2)
