"""The Kumar & Poole studies run in quick mode, return figures and no failing claims."""

import matplotlib.pyplot as plt

from betalab.registry import StudyConfig, get


def _check(name):
    result = get(name)(StudyConfig(seed=1))
    assert result.figures and result.claims
    assert not [c.statement for c in result.claims if c.verdict == "fails"]
    assert all(c.note for c in result.claims if c.verdict == "differs")
    plt.close("all")
    return result


def test_posterior_jacobian_study():
    r = _check("kp-posterior-jacobian")
    assert r.numbers["eq11_argmax_max_abs_err"] < 1e-5
    # the corrected gap is the difference of the two objectives (independently computed)
    assert abs(r.numbers["gap_corrected"] - r.numbers["gap_direct"]) < 1e-10


def test_nonuniqueness_study():
    r = _check("kp-nonuniqueness")
    assert r.numbers["max_abs_logdet"] > 1e-3  # the paper's |det J_r| = 1 does not hold
    assert r.numbers["max_err_prior_ratio"] < 1e-5


def test_uniqueness_study():
    r = _check("kp-uniqueness")
    key = "identity/diagonal/amortised"
    # converged diagonal-Σ trials recover the true latents up to a few degrees
    assert r.numbers[key + "/median_abs_angle_final"] < 5.0
    assert len(r.numbers[key]["angle"]) == r.numbers["n_trials_per_experiment"]
    for nl in ("identity", "tanh", "sigmoid", "elu"):
        for am in ("amortised", "unamortised"):
            # two initialisations on the same data: one optimum with diagonal Σ, not with full Σ
            assert r.numbers[f"{nl}/diagonal/{am}/median_pair_angle_difference"] < 1.0
            assert r.numbers[f"{nl}/full/{am}/median_pair_angle_difference"] > 5.0


def test_angle_difference_wraps_modulo_90_degrees():
    from betalab.studies.kumar_poole import _angle_difference

    # (−45, 45] angles are defined modulo 90°: 44° and −44° are 2° apart
    assert abs(_angle_difference(44.0, -44.0) + 2.0) < 1e-12
    assert abs(_angle_difference(-44.0, 44.0) - 2.0) < 1e-12
    assert abs(_angle_difference(10.0, 3.0) - 7.0) < 1e-12
    assert _angle_difference(45.0, -45.0) == 0.0


def test_uniqueness_chunks_are_kept_and_resumed(tmp_path, monkeypatch):
    """An interrupted experiment resumes from its finished chunks and gives the same result
    as an uninterrupted run (each chunk has its own seed)."""
    import numpy as np

    from betalab.io import PartialResults
    from betalab.studies import kumar_poole as kp
    from deep import uniqueness as DU

    args = ("identity", "diagonal", True, np.array([1, 3, 2, 4]), 60, 8, [1, 6, 0, 1, 0], "cpu",
            2)
    partial = PartialResults(tmp_path / "partial")
    first = kp._run_uniqueness_experiment(*args, quad_order=2, partial=partial)
    assert len(list((tmp_path / "partial").glob("*.npz"))) == 2
    fresh = kp._run_uniqueness_experiment(*args, quad_order=2)  # no partial results at all
    for k in first:
        np.testing.assert_array_equal(first[k], fresh[k])

    # lose the second chunk: the first is loaded, only the second is trained again
    (tmp_path / "partial" / "identity-diagonal-amortised-chunk1.npz").unlink()
    calls = []
    train = DU.train_uniqueness_newton
    monkeypatch.setattr(DU, "train_uniqueness_newton",
                        lambda data, *a, **kw: calls.append(data.n.tolist()) or train(data, *a,
                                                                                     **kw))
    resumed = kp._run_uniqueness_experiment(*args, quad_order=2, partial=partial)
    assert calls == [[2, 2, 4, 4]]
    for k in first:
        np.testing.assert_array_equal(first[k], resumed[k])

    # other settings do not reuse the kept chunks
    calls.clear()
    kp._run_uniqueness_experiment(*args[:5], 9, *args[6:], quad_order=2, partial=partial)
    assert len(calls) == 2
