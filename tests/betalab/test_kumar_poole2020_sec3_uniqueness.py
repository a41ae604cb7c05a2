"""kp-uniqueness (Kumar & Poole 2020, sec. 3.2, App. C): the quick study, one ν per test, returns its
figure and no failing claims; the nonlinearities parameter is checked; angles wrap modulo 90°; an
interrupted experiment resumes from its finished chunks."""

import matplotlib.pyplot as plt
import pytest

from betalab.registry import StudyConfig, get


@pytest.mark.parametrize("nl", ["identity", "tanh", "sigmoid", "elu"])
def test_uniqueness_study(nl, check_claims, study_cache):
    """One ν per test (its four experiments and seeds do not depend on the other ν), so the
    quick study's 16 experiments spread over the test workers; together the four tests check
    every claim of ``kp-uniqueness``. Seed 0 in the session's study cache: the notebook runs
    ν = identity and tanh with the same seeds, and trains them once with these tests."""
    r = get("kp-uniqueness")(StudyConfig(seed=0, params={"nonlinearities": [nl]}))
    assert r.figures
    heads = {c.statement.split(",")[0] for c in r.claims}
    # every subset also carries sec. 3.1's closed-form PPCA claim (ν = identity adds the
    # negative-control experiment, under its own "nu=identity" heading)
    sec31 = {h for h in heads if h.startswith("Sec. 3.1")}
    assert heads - sec31 == {f"nu={nl}"} and len(sec31) == 1
    assert len(r.claims) >= 4  # amortised or not x (alignment, diagonal < full), with their pairs
    # the ledger's names of this ν (and of sec. 3.1); tests/betalab/test_ledger.py checks that
    # every kp-uniqueness name is one of these parts, so the four tests resolve them all
    check_claims("kp-uniqueness", r.claims, ledger_scope=(f"nu={nl},", "Sec. 3.1"))
    plt.close("all")
    if nl == "identity":
        key = "identity/diagonal/amortised"
        # converged diagonal-Σ trials recover the true latents up to a few degrees
        assert r.numbers[key + "/median_abs_angle_final"] < 5.0
        assert len(r.numbers[key]["angle"]) == r.numbers["n_trials_per_experiment"]
        # sec. 3.1: equal column norms leave the unamortised fit's angle set by its initialisation
        assert r.numbers["ppca-equal-norms/unamortised/median_pair_angle_difference"] > 5.0
        assert max(r.numbers["ppca_rotation_meanfield_gap"]["equal_norms"]) < 1e-8
    for am in ("amortised", "unamortised"):
        # two initialisations on the same data: one optimum with diagonal Σ, not with full Σ
        assert r.numbers[f"{nl}/diagonal/{am}/median_pair_angle_difference"] < 1.0
        assert r.numbers[f"{nl}/full/{am}/median_pair_angle_difference"] > 5.0


def test_uniqueness_nonlinearities_are_checked():
    study = get("kp-uniqueness")
    with pytest.raises(ValueError, match="nonlinearities must be distinct values"):
        study(StudyConfig(params={"nonlinearities": ["relu"]}))
    with pytest.raises(ValueError, match="nonlinearities"):
        study(StudyConfig(params={"nonlinearities": []}))
    with pytest.raises(TypeError, match="nonlinearities must be a list"):
        study(StudyConfig(params={"nonlinearities": "tanh"}))


def test_angle_difference_wraps_modulo_90_degrees():
    from betalab.studies.kumar_poole2020.sec3_uniqueness import _angle_difference

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
    from betalab.studies.kumar_poole2020 import sec3_uniqueness as kp
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
