"""higgins-fig5-table: the training-free rows of Higgins et al. 2017, Fig. 5 (left)."""

import numpy as np
import pytest

from betalab.registry import StudyConfig
from betalab.studies import higgins as H

MICRO = dict(reduced=True, n_train=200, n_test=200, L=64, seeds=2, replicas=1, pixel_replicas=1,
             pca_rows=2000, ica_rows=1500, vae_pool=5000)


@pytest.fixture(scope="module")
def numbers():
    out = H.compute(StudyConfig(seed=0), MICRO, log=lambda msg: None)
    out["scale"] = "quick"
    return out


def test_pipeline_gives_the_known_answers(numbers, check_claims):
    s = H.summary(numbers)
    # ground truth: the labelled factor's z_diff column is exactly 0 (Higgins Fig. 5: 100%)
    assert s["ground_truth"]["mean"] == 100.0
    for k in ("raw_pixels", "pca", "ica", "untrained_vae"):
        # four balanced labels: a representation that carries the factors scores above chance;
        # 200 test points give a binomial sd of 3.1 points around 25%, so 35% is 3.3 sd above it
        # (the untrained encoder, the weakest, scored 57% at the quick scale)
        assert 35.0 < s[k]["mean"] <= 100.0, k
    check_claims("higgins-fig5-table", H.claims_from(numbers, "quick"))


def _numbers_with(row_scores: dict) -> dict:
    rows = {k: {"scores": np.full((2, 3), v / 100).tolist(), "converged": [[True] * 3] * 2}
            for k, v in row_scores.items()}
    return {"rows": rows, "n_images": 737_280, "protocol": {"L": 64, "n_train": 5000, "n_test": 5000},
            "pca_explained_variance": 0.608, "pca_explained_variance_sklearn": 0.607,
            "pca_fit_rows": 50_000, "pca_check_rows": 20_000, "scale": "cpu",
            "pca_fraction_quarters": [0.606, 0.608, 0.607, 0.609]}


def test_printed_values_hold_and_far_values_differ_with_a_corrected_claim(check_claims):
    printed = {k: H.PRINTED[k][0] for k in ("ground_truth", "raw_pixels", "pca", "ica", "untrained_vae")}
    claims = H.claims_from(_numbers_with(printed), "cpu")
    assert {c.verdict for c in claims if c.kind == "paper" and c.verdict != "not run"} == {"holds"}
    check_claims("higgins-fig5-table", claims)
    # raw pixels 10 points above the print, beyond 2·hypot(0.8, 0) = 1.6: differs, paired
    far = dict(printed, raw_pixels=55.75)
    claims = H.claims_from(_numbers_with(far), "cpu")
    raw = [c for c in claims if c.statement.startswith("Fig. 5 (left): Raw pixels")]
    assert [c.verdict for c in raw] == ["differs"]
    check_claims("higgins-fig5-table", claims)


def test_the_paper_scales_run_the_shared_protocol():
    """The cpu and full scales are the per-replica protocol the sweeps' ``[eval] higgins`` runs
    (deep.metrics.classifier_scores' HIGGINS_* constants), so their numbers are comparable."""
    from deep.metrics import classifier_scores as cs

    for scale in ("cpu", "full"):
        sc = H.SCALES[scale]
        assert (sc["n_train"], sc["n_test"], sc["L"], sc["seeds"]) == (
            cs.HIGGINS_N_TRAIN, cs.HIGGINS_N_TEST, cs.HIGGINS_L, cs.HIGGINS_SEEDS)
    assert H.LABELLED == cs.HIGGINS_FACTORS


def test_not_run_claims_name_their_sweeps_and_cost():
    """The trained rows and Fig. 5 (right) stay not run, naming the exact sweep command; the
    cost's numbers are those of the shipped specs."""
    from betalab.sweep.spec import load_spec

    claims = H.claims_from(_numbers_with({k: H.PRINTED[k][0] for k in (
        "ground_truth", "raw_pixels", "pca", "ica", "untrained_vae")}), "cpu")
    not_run = {c.statement.split(":")[0]: c for c in claims if c.verdict == "not run"}
    assert sorted(not_run) == ["Fig. 5 (left)", "Fig. 5 (right)", "Fig. 6"]
    for key, which in (("Fig. 5 (left)", "left"), ("Fig. 5 (right)", "right")):
        spec, db, runs = H.SWEEPS[which]
        note = not_run[key].note
        assert f"`betalab sweep run {spec} --db {db}`" in note
        assert f"{runs} runs × 311,040 steps" in note and "GPU-hours of training" in note
        sweep = load_spec(spec)
        assert len(sweep.runs) == runs
        for r in sweep.runs:                 # steps per run = epochs × ⌊0.9 · 737,280 / batch⌋
            assert (r["epochs"], r["batch_size"], r["holdout"]) == (H.SWEEP_EPOCHS, H.SWEEP_BATCH, 0.1)
    assert H.SWEEP_STEPS == 30 * (663_552 // 64) == 311_040
    assert "≈17 h per run" in not_run["Fig. 5 (left)"].note        # 311,040 × 0.2 s = 17.3 h
    assert "≈346 CPU-hours" in not_run["Fig. 5 (left)"].note
    assert "≈4,838 CPU-hours" in not_run["Fig. 5 (right)"].note
    # the measured H200 step of a 10-member ensemble: 2 × 311,040 × 8.86 ms = 1.53 h
    assert "≈1.5 GPU-hours" in not_run["Fig. 5 (left)"].note
    assert "≈21.4 GPU-hours" in not_run["Fig. 5 (right)"].note     # 28 ensembles


def _trained(vae_scores, beta_vae_scores, steps=1000):
    runs = [{"seed": s, "beta": b, "steps": steps, "scores": list(v)}
            for b, block in ((1.0, vae_scores), (4.0, beta_vae_scores)) for s, v in enumerate(block)]
    return {"source": "recorded/sweeps/x", "planned_runs": len(runs), "batch_size": 64,
            "hidden": 1200, "optimizer": "adagrad", "lr": 0.01, "runs": runs}


def test_trained_rows_are_decided_against_the_printed_values():
    """Scores drawn at the printed means and spreads hold (the rows and their ordering);
    the same scores with the rows swapped fail all three — against numpy's top-half mean of the
    pooled scores (App. A.4)."""
    rng = np.random.default_rng(0)
    vae = rng.normal(0.6158, 0.004, (10, 3))
    bvae = rng.normal(0.9923, 0.0008, (10, 3))
    claims = H.trained_claims(_trained(vae, bvae))
    assert [c.verdict for c in claims] == ["holds"] * 3 and {c.scale for c in claims} == {"gpu"}
    top = np.sort(bvae.ravel())[15:]                     # the top half of 30 scores
    assert claims[1].measured == pytest.approx(100 * top.mean(), abs=1e-9)
    swapped = H.trained_claims(_trained(bvae, vae))
    assert [c.verdict for c in swapped] == ["fails"] * 3
    assert H.trained_claims(_trained(vae, [])) == []      # one row only: nothing decided


def test_the_recorded_gpu_sweep_is_read_from_its_database():
    """The recorded trained-row runs (recorded/sweeps/higgins-fig5-left-gpu) read back with
    sqlite3 directly: the same finished runs, steps and scores as trained_numbers gives."""
    import json
    import sqlite3

    t = H.trained_numbers()
    con = sqlite3.connect(H.TRAINED_SWEEP / "results.sqlite")
    try:
        rows = con.execute("SELECT config, metrics FROM runs WHERE status = 'done'").fetchall()
    finally:
        con.close()
    want = sorted((json.loads(c)["seed"], json.loads(c)["beta"], json.loads(m)["higgins_scores"],
                   json.loads(m)["steps"]) for c, m in rows)
    got = sorted((r["seed"], r["beta"], r["scores"], r["steps"]) for r in t["runs"])
    assert got == want and len(got) == 10 and t["planned_runs"] == 20
    assert H.trained_numbers(H.TRAINED_SWEEP.parent / "absent") is None
