"""deep.data.digits: the Fig 4 / Fig 5 generators of Sikka 2020 against direct constructions
(a hand-pasted canvas, the sample covariance of x = A s + η) and their bad-input errors."""

import numpy as np
import pytest

from deep.data import digits as G


def test_templates_are_the_bundled_digits_scaled_to_unit_range():
    from sklearn.datasets import load_digits

    d = load_digits()
    t = G.digit_templates((3, 8))
    assert t.shape == (2, 8, 8) and t.min() >= 0 and t.max() <= 1
    np.testing.assert_array_equal(t[1] * 16, d.images[np.flatnonzero(d.target == 8)[0]])
    up = G.digit_templates((3,), upsample=3)[0]
    np.testing.assert_array_equal(up[::3, ::3], t[0])          # each pixel repeated 3 × 3


def test_mixed_digits_covariance_is_AAt_plus_noise():
    t = G.digit_templates((3, 8))
    rng = np.random.default_rng(0)
    n = 40_000
    d = G.mixed_digits(t, n, rng, canvas=10, noise_std=0.5)
    A = d["A"]
    # the columns of A are the digits centred on the blank canvas (offset 1 on a 10-pixel canvas)
    np.testing.assert_array_equal(A[:, 1].reshape(10, 10)[1:9, 1:9], t[1])
    assert A[:, 0].reshape(10, 10)[0].sum() == 0
    np.testing.assert_allclose(d["x"], d["s"] @ A.T + (d["x"] - d["s"] @ A.T))  # shape sanity
    cov = np.cov(d["x"].T)
    expected = A @ A.T + 0.25 * np.eye(100)
    # sample covariance entries have standard error ≈ sqrt((Σ_ii Σ_jj + Σ_ij²)/n) ≤ 1.5/200;
    # 6 of those bound the largest of 10,000 entries
    assert np.max(np.abs(cov - expected)) < 6 * np.sqrt(2 * np.max(np.diag(expected)) ** 2 / n)


def test_mixing_matrix_multiplies_the_sources():
    t = G.digit_templates((3, 8))
    M = np.array([[2.0, 0.5], [0.0, 1.0]])
    np.testing.assert_allclose(G.digit_mixing_matrix(t, 8, M), G.digit_mixing_matrix(t, 8) @ M)


def test_placed_digit_matches_a_hand_pasted_canvas_and_its_cell_bounds():
    t = G.digit_templates((3,))[0]
    rng = np.random.default_rng(1)
    d = G.placed_digit(t, 500, rng, canvas=16, pixels_per_unit=0.5)
    np.testing.assert_allclose(d["p"], d["s"] @ G.placement_mixing().T + (d["p"] - d["s"] @ d["A"].T))
    np.testing.assert_array_equal(d["A"], [[2.73, 0.73], [0.73, 2.73]])      # 2 δ_ij + 0.73
    for i in range(20):
        np.testing.assert_array_equal(d["x"][i].reshape(16, 16), G.paste(t, 16, d["cell"][i]))
    lo, hi = G.cell_bounds(d["cell"], canvas=16, digit=8, pixels_per_unit=0.5)
    assert np.all((lo <= d["p"]) & (d["p"] < hi))         # each position lies in its own cell
    interior = np.isfinite(lo) & np.isfinite(hi)
    np.testing.assert_allclose((hi - lo)[interior], 2.0)  # 1 pixel = 2 units at 0.5 px per unit
    assert np.any(~interior)                               # some positions were clipped


@pytest.mark.parametrize("call,name", [
    (lambda t: G.mixed_digits(t, 5, np.random.default_rng(0), canvas=6), "canvas"),
    (lambda t: G.digit_mixing_matrix(t, 8, np.eye(3)), "mixing"),
    (lambda t: G.placed_digit(t[0], 5, np.random.default_rng(0), canvas=16, A=np.eye(3)), "A"),
    (lambda t: G.placed_digit(t[0], 5, np.random.default_rng(0), canvas=7), "canvas"),
    (lambda t: G.placed_digit(t[0], 5, np.random.default_rng(0), canvas=16, pixels_per_unit=0), "pixels_per_unit"),
    (lambda t: G.mixed_digits(t, 5, np.random.default_rng(0), canvas=8, noise_std=-1.0), "noise_std"),
    (lambda t: G.mixed_digits(t, 0, np.random.default_rng(0), canvas=8), "n"),
    (lambda t: G.digit_templates((11,)), "classes"),
])
def test_bad_input_names_the_parameter(call, name):
    t = G.digit_templates((3, 8))
    with pytest.raises(ValueError, match=name):
        call(t)


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="rng"):
        G.mixed_digits(G.digit_templates((3, 8)), 5, 0, canvas=8)
