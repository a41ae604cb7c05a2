"""deep.metrics.sample_quality against independent oracles: the kernel distance against a
brute-force double sum with scikit-learn's polynomial kernel and against its known expectation
(0 for two samples of one distribution, Monte Carlo within its standard error); sharpness
against a hand-computed image; the feature classifier against the labels it learns."""

import numpy as np
import pytest
from sklearn.metrics.pairwise import polynomial_kernel

from deep.data.digits import digit_split
from deep.metrics.sample_quality import (classifier_features, kernel_distance, sharpness,
                                         train_feature_classifier)


def _brute(a, b):
    f = a.shape[1]
    k = lambda x, y: polynomial_kernel(x, y, degree=3, gamma=1.0 / f, coef0=1.0)  # noqa: E731
    m, n = len(a), len(b)
    xx = sum(k(a[i:i + 1], a[j:j + 1])[0, 0] for i in range(m) for j in range(m) if i != j)
    yy = sum(k(b[i:i + 1], b[j:j + 1])[0, 0] for i in range(n) for j in range(n) if i != j)
    xy = sum(k(a[i:i + 1], b[j:j + 1])[0, 0] for i in range(m) for j in range(n))
    return xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2 * xy / (m * n)


def test_kernel_distance_equals_the_brute_force_double_sum():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 3)), rng.normal(0.5, 1.0, size=(5, 3))
    # float64 sums of ~100 terms: 1e-12 relative
    assert kernel_distance(a, b) == pytest.approx(_brute(a, b), rel=1e-12)
    assert kernel_distance(a, a[::-1]) == pytest.approx(_brute(a, a[::-1]), rel=1e-12)


def test_kernel_distance_is_unbiased_and_grows_with_a_shift():
    """Two samples of one distribution: the mean of 400 estimates is within 4 standard errors
    of 0; a mean shift of 1 gives a clearly positive distance (more than 20 of those errors)."""
    rng = np.random.default_rng(1)
    same = np.array([kernel_distance(rng.normal(size=(20, 4)), rng.normal(size=(20, 4)))
                     for _ in range(400)])
    se = same.std(ddof=1) / np.sqrt(len(same))
    assert abs(same.mean()) < 4 * se
    shifted = kernel_distance(rng.normal(size=(200, 4)), rng.normal(1.0, 1.0, size=(200, 4)))
    assert shifted > 20 * se


def test_sharpness_by_hand_and_bad_input():
    img = np.array([[[0.0, 1.0], [2.0, 4.0]]])
    # vertical diffs 2, 3 -> squares 4, 9 -> mean 6.5; horizontal 1, 2 -> 1, 4 -> 2.5
    assert sharpness(img) == pytest.approx([0.5 * (6.5 + 2.5)])
    blurred = np.full((1, 4, 4), 3.0)
    assert sharpness(blurred) == [0.0]
    with pytest.raises(ValueError, match="images"):
        sharpness(np.zeros((1, 1, 5)))
    with pytest.raises(ValueError, match="a and b"):
        kernel_distance(np.zeros((1, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="columns"):
        kernel_distance(np.zeros((3, 2)), np.zeros((3, 4)))


def test_the_feature_classifier_learns_the_digits():
    """Trained on 1,300 digits, it labels held-out ones far above chance (10%): its features
    carry the class, which is what the kernel distance compares; the same seed gives the same
    network."""
    x_tr, y_tr, x_te, y_te = digit_split(np.random.default_rng(0), labels=True)
    net = train_feature_classifier(x_tr, y_tr, steps=1500, seed=3)
    import torch

    with torch.no_grad():
        acc = (net(torch.as_tensor(x_te)).argmax(1).numpy() == y_te).mean()
    assert acc > 0.9
    again = train_feature_classifier(x_tr, y_tr, steps=1500, seed=3)
    np.testing.assert_array_equal(classifier_features(net, x_te), classifier_features(again, x_te))
    assert classifier_features(net, x_te).shape == (497, 64)
    with pytest.raises(ValueError, match="y"):
        train_feature_classifier(x_tr, y_tr[:-1])
    with pytest.raises(ValueError, match="columns"):
        classifier_features(net, x_te[:, :10])


def test_digit_split_labels_follow_the_images():
    from sklearn.datasets import load_digits

    x_tr, y_tr, x_te, y_te = digit_split(np.random.default_rng(5), labels=True)
    plain = digit_split(np.random.default_rng(5))
    np.testing.assert_array_equal(plain[0], x_tr)
    np.testing.assert_array_equal(plain[1], x_te)
    d = load_digits()
    x = (d.data - d.data.mean()) / d.data.std()
    # each returned image's label is the label of the bundled image it equals
    lookup = {row.tobytes(): lab for row, lab in zip(x, d.target)}
    assert all(lookup[r.tobytes()] == lab for r, lab in zip(x_te, y_te))
    with pytest.raises(TypeError, match="labels"):
        digit_split(np.random.default_rng(5), labels=1)
