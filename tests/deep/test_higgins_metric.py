"""The β-VAE metric exactly as published (Higgins et al. 2017, sec. 3, eq. 5, App. A.4) against
independent oracles: disentanglement_lib's implementation of the same score on the same
batches, closed-form z_diff expectations, scikit-learn's logistic regression, and PCA/FastICA
special cases."""

import math
import sys
import types
import warnings

import numpy as np
import pytest

from deep.data import full_grid
from deep.data.ground_truth import index_of
from deep.metrics.classifier_scores import (beta_vae_accuracy, beta_vae_pairs,
                                            fit_softmax_adagrad, fit_softmax_classifier,
                                            higgins_protocol, higgins_replica_scores,
                                            predict_softmax, zdiff_from_pairs)

SIZES = (3, 6, 10, 8, 8)                      # the reduced dSprites grid
GRID = full_grid(SIZES)


def _disentanglement_lib_beta_vae():
    # disentanglement_lib's metric module needs gin's configurable decorator but none of its
    # TensorFlow parts: an empty gin.tf keeps TensorFlow out of the test environment
    sys.modules.setdefault("gin.tf", types.ModuleType("gin.tf"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from disentanglement_lib.evaluation.metrics import beta_vae
    return beta_vae


class _GridData:
    """disentanglement_lib's GroundTruthData over the reduced grid, labelling the four factors
    scale, rotation, x, y; an "observation" is the grid row, the shape drawn uniformly."""

    num_factors = 4

    def sample_factors(self, n, random_state):
        return np.stack([random_state.randint(s, size=n) for s in SIZES[1:]], axis=1)

    def sample_observations_from_factors(self, factors, random_state):
        shape = random_state.randint(SIZES[0], size=len(factors))
        return index_of(np.column_stack([shape, factors]), SIZES)


def _noisy_codes(rng):
    # partly informative codes: each labelled factor scaled, plus Gaussian noise, plus two
    # pure-noise dimensions — accuracies well inside (0.25, 1), where classifiers can disagree
    signal = GRID[:, 1:] * np.array([0.3, 0.1, 0.2, 0.2])
    return np.hstack([signal, np.zeros((len(GRID), 2))]) + rng.normal(scale=0.5, size=(len(GRID), 6))


def test_same_batches_same_value_as_disentanglement_lib():
    dl = _disentanglement_lib_beta_vae()
    codes = _noisy_codes(np.random.default_rng(0))
    rep = lambda rows: codes[rows]                                   # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = dl.compute_beta_vae_sklearn(_GridData(), rep, np.random.RandomState(3),
                                          batch_size=16, num_train=2000, num_eval=1000)
    # the same batches: replay disentanglement_lib's own generator on the same random state
    # (its LogisticRegression(lbfgs) draws nothing from it)
    rs = np.random.RandomState(3)
    x_tr, y_tr = dl._generate_training_batch(_GridData(), rep, 16, 2000, rs)
    x_te, y_te = dl._generate_training_batch(_GridData(), rep, 16, 1000, rs)
    # sklearn's LogisticRegression(C=1) objective / n: unstandardised features, l2 = 1/n
    model = fit_softmax_classifier(x_tr, y_tr, 4, l2=1.0 / len(x_tr), standardize=False)
    ours = np.mean(predict_softmax(model, x_te) == y_te)
    # sklearn stops at max_iter=100 short of the optimum that L-BFGS reaches here: points at a
    # near-tie can flip; 2 of 1,000 test points allowed (0 differ at this seed)
    assert abs(ours - ref["eval_accuracy"]) <= 2 / 1000


def test_adagrad_classifier_reaches_the_logistic_optimum():
    # the published classifier "trained ... until convergence" must score what the exact
    # optimum of the same (unregularised) model scores: scikit-learn's LogisticRegression
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    codes = _noisy_codes(rng)
    a, b, y = beta_vae_pairs(GRID, 3000, 16, rng, (1, 2, 3, 4))
    x = zdiff_from_pairs(codes, a, b)
    x_tr, y_tr, x_te, y_te = x[:2000], y[:2000], x[2000:], y[2000:]
    mu, sd = x_tr.mean(0), x_tr.std(0)
    sk = LogisticRegression(C=1e6, max_iter=10_000).fit((x_tr - mu) / sd, y_tr)
    sk_acc = np.mean(sk.predict((x_te - mu) / sd) == y_te)
    models = fit_softmax_adagrad(np.stack([x_tr] * 3), np.stack([y_tr] * 3), 4, seeds=[0, 1, 2])
    assert all(m["converged"] for m in models)
    accs = [np.mean(predict_softmax(m, x_te) == y_te) for m in models]
    # the convergence rule stops within 1e-4 (relative) of the optimum's loss: measured at most
    # 3 of 1,000 test predictions differ from the optimum's; 1% allowed
    assert max(abs(acc - sk_acc) for acc in accs) <= 0.01
    # the seeds matter (the paper's three classifier seeds): not every run is identical
    assert len({m["w"].tobytes() for m in models}) == 3


def test_pairs_share_the_labelled_factor_and_draw_the_rest_uniformly():
    rng = np.random.default_rng(2)
    a, b, y = beta_vae_pairs(GRID, 4000, 8, rng, (1, 2, 3, 4))
    k = np.array([1, 2, 3, 4])[y]
    assert np.all(GRID[a, k[:, None]] == GRID[b, k[:, None]])
    # every other factor of b is uniform and independent of a: for ground-truth codes the mean
    # |v_a - v_b| of a factor with s levels is (s^2 - 1) / (3 s) (independent discrete uniforms)
    zd = zdiff_from_pairs(GRID.astype(float), a, b)
    for j, s in enumerate(SIZES):
        rows = k != j
        expected = (s * s - 1) / (3 * s)
        # sd of one |v_a - v_b| is below s/2; the mean of 8 pairs × n rows: 4 standard errors
        se = (s / 2) / math.sqrt(8 * rows.sum())
        assert abs(zd[rows, j].mean() - expected) <= 4 * se
        assert np.all(zd[~rows, j] == 0)


def test_ground_truth_codes_score_100_percent_with_the_published_classifier():
    # Higgins et al. 2017, Fig. 5: "Ground truth 100%"
    rng = np.random.default_rng(3)
    a, b, y = beta_vae_pairs(GRID, 1000, 16, rng, (1, 2, 3, 4))
    x = zdiff_from_pairs(GRID.astype(float), a, b)
    acc = beta_vae_accuracy((x[:500], y[:500]), (x[500:], y[500:]), 4, classifier="adagrad",
                            rng=rng)
    assert acc["eval_accuracy"] == 1.0


def test_one_replica_is_eq_5_then_three_seeded_adagrad_classifiers():
    """higgins_replica_scores against the steps done by hand in its documented order: training
    pairs, test pairs, then the classifier seeds, all from one generator."""
    codes = np.random.default_rng(1).normal(size=(GRID.shape[0], 5)) + GRID[:, [1, 2, 3, 4, 0]]
    got, conv = higgins_replica_scores(codes, GRID, np.random.default_rng(7), n_train=300,
                                       n_test=200, L=8)
    rng = np.random.default_rng(7)
    a, b, y = beta_vae_pairs(GRID, 300, 8, rng, (1, 2, 3, 4))
    x_tr, y_tr = zdiff_from_pairs(codes, a, b), y
    a, b, y = beta_vae_pairs(GRID, 200, 8, rng, (1, 2, 3, 4))
    x_te, y_te = zdiff_from_pairs(codes, a, b), y
    seeds = [int(s) for s in rng.integers(2**63, size=3)]
    want = [np.mean(predict_softmax(fit_softmax_adagrad(x_tr, y_tr, 4, seeds=s), x_te) == y_te)
            for s in seeds]
    # the batched fit of the three seeds is the single fits stacked, so the accuracies (counts
    # over 200 points) agree exactly
    assert got.tolist() == want and len(conv) == 3
    # a callable and a subset give the same as the array restricted by hand
    sub = np.flatnonzero(GRID[:, 0] == 1)
    by_rows, _ = higgins_replica_scores(lambda r: codes[r], GRID, np.random.default_rng(2),
                                        n_train=100, n_test=100, L=4, subset=sub)
    restricted, _ = higgins_replica_scores(codes[sub], GRID[sub], np.random.default_rng(2),
                                           n_train=100, n_test=100, L=4)
    assert by_rows.tolist() == restricted.tolist()
    # ground-truth codes: every seed scores 100% (Higgins et al. 2017, Fig. 5)
    gt, _ = higgins_replica_scores(GRID.astype(float), GRID, np.random.default_rng(0),
                                   n_train=300, n_test=200)
    assert gt.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(TypeError, match="rng"):
        higgins_replica_scores(codes, GRID, 0)
    with pytest.raises(ValueError, match="n_seeds"):
        higgins_replica_scores(codes, GRID, rng, n_seeds=0)
    with pytest.raises(ValueError, match="codes"):
        higgins_replica_scores(codes[:10], GRID, rng)


def test_protocol_discards_the_bottom_half():
    p = higgins_protocol(np.arange(30) / 100)
    np.testing.assert_array_equal(p["kept"], np.arange(29, 14, -1) / 100)
    assert math.isclose(p["mean"], np.arange(15, 30).mean() / 100, rel_tol=1e-12)
    with pytest.raises(ValueError, match="scores"):
        higgins_protocol([0.5, np.nan])


def test_bad_input_names_the_parameter():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="factors"):
        beta_vae_pairs(GRID.astype(float), 10, 4, rng)
    with pytest.raises(ValueError, match="a and b"):
        zdiff_from_pairs(GRID.astype(float), np.zeros((2, 3), int), np.zeros((2, 4), int))
    with pytest.raises(ValueError, match="seeds"):
        fit_softmax_adagrad(np.zeros((2, 5, 3)), np.zeros((2, 5), int), 2, seeds=[0])
    with pytest.raises(ValueError, match="lr"):
        fit_softmax_adagrad(np.zeros((5, 3)), np.zeros(5, int), 2, seeds=0, lr=-1.0)
    with pytest.raises(ValueError, match="classifier"):
        beta_vae_accuracy((np.zeros((4, 2)), np.zeros(4, int)), (np.zeros((4, 2)), np.zeros(4, int)),
                          2, classifier="sgd")

