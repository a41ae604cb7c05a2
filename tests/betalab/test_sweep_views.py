"""betalab.sweep.views: means and standard errors per (model, β), Stühmer et al. 2020
App. A.5's representative run against a brute-force Mahalanobis distance (scipy), Higgins
et al. 2017's protocol per cell (App. A.4) against sorting by hand, and a metric along training
in the convergence rule's trace format against values built from a known formula."""

import numpy as np
import pytest
from scipy.spatial.distance import mahalanobis

from betalab.sweep.views import (higgins_by_beta_norm, higgins_cell, metric_by_beta,
                                 representative_run, trace_by_beta, write_figures)


def _table(rng):
    rows = []
    for model in ("beta-vae", "isa-vae"):
        for beta in (1.0, 4.0):
            for seed in range(5):
                rows.append({"run_id": f"{model}{beta}{seed}", "model": model, "beta": beta, "seed": seed,
                             "mig_histogram": float(rng.random()), "heldout_log_px_z": float(-100 * rng.random())})
    return rows


def test_metric_by_beta(rng):
    table = _table(rng)
    got = metric_by_beta(table, "mig_histogram")
    for model, e in got.items():
        for b, mean, se, n in zip(e["beta"], e["mean"], e["se"], e["n"]):
            v = [r["mig_histogram"] for r in table if r["model"] == model and r["beta"] == b]
            assert n == 5
            np.testing.assert_allclose(mean, np.mean(v), rtol=1e-14)
            np.testing.assert_allclose(se, np.std(v, ddof=1) / np.sqrt(5), rtol=1e-14)
    with pytest.raises(ValueError, match="metric"):
        metric_by_beta(table, "accuracy")


def test_representative_run_is_the_brute_force_mahalanobis_minimiser(rng):
    rows = [r for r in _table(rng) if r["model"] == "beta-vae"]
    got = representative_run(rows)
    med = np.median([r["mig_histogram"] for r in rows])
    upper = [r for r in rows if r["mig_histogram"] >= med]
    x = np.array([[r["mig_histogram"], r["heldout_log_px_z"]] for r in upper])
    vi = np.linalg.inv(np.cov(x.T))
    d = [mahalanobis(p, x.mean(0), vi) for p in x]
    assert got is upper[int(np.argmin(d))]
    assert representative_run([]) is None


def test_figures_are_written(tmp_path, rng):
    paths = write_figures(_table(rng), tmp_path, metrics=("mig_histogram",))
    assert sorted(p.name for p in paths) == sorted(
        f"mig_histogram_{v}.{e}" for v in ("vs_beta", "vs_reconstruction", "strips") for e in ("png", "pdf"))
    with pytest.raises(ValueError, match="no finished runs"):
        write_figures([], tmp_path)


def _higgins_table(rng, ms=(5, 10), norms=(0.001, 0.01, 0.1), seeds=10):
    rows = []
    for m in ms:
        for bn in norms:
            for seed in range(seeds):
                rows.append({"run_id": f"{m}-{bn}-{seed}", "model": "beta-vae", "latent_dim": m,
                             "beta": bn * 4096 / m, "seed": seed,
                             "higgins_scores": rng.uniform(0.25, 1.0, 3).tolist()})
    return rows


def test_higgins_cell_keeps_the_top_half_of_replicas_times_seeds(rng):
    table = _higgins_table(rng)
    cell = [r for r in table if r["latent_dim"] == 10 and r["beta"] == 0.01 * 4096 / 10]
    got = higgins_cell(cell)
    pooled = sorted((s for r in cell for s in r["higgins_scores"]), reverse=True)
    assert got["n"] == 30 and got["replicas"] == 10
    np.testing.assert_array_equal(got["kept"], pooled[:15])     # App. A.4: 30 scores → top 15
    # a mean and a population std of 15 numbers in [0.25, 1]: float64 rounding ~1e-16
    np.testing.assert_allclose(got["mean"], np.mean(pooled[:15]), rtol=1e-14)
    np.testing.assert_allclose(got["std"], np.std(pooled[:15]), rtol=1e-14)
    np.testing.assert_allclose(got["beta_norm"], 0.01, rtol=1e-15)   # one product, one quotient
    with pytest.raises(ValueError, match="rows"):
        higgins_cell([])
    with pytest.raises(ValueError, match="rows"):                    # two cells
        higgins_cell(cell + [table[0]])
    with pytest.raises(ValueError, match="rows"):                    # a replica twice
        higgins_cell(cell + cell[:1])
    with pytest.raises(ValueError, match="higgins_scores"):
        higgins_cell([{k: v for k, v in cell[0].items() if k != "higgins_scores"}])
    with pytest.raises(TypeError, match="rows"):
        higgins_cell(["run"])


def test_higgins_by_beta_norm_has_one_line_per_latent_size(rng, tmp_path):
    table = _higgins_table(rng)
    got = higgins_by_beta_norm(table)
    assert sorted(got) == [5, 10]
    for m, e in got.items():
        np.testing.assert_allclose(e["beta_norm"], [0.001, 0.01, 0.1], rtol=1e-15)
        assert e["n"] == [30, 30, 30]
        for b, mean in zip(e["beta"], e["mean"]):
            cell = [r for r in table if r["latent_dim"] == m and r["beta"] == b]
            assert mean == higgins_cell(cell)["mean"]
    assert higgins_by_beta_norm(table, model="isa-vae") == {}
    for r in table:                       # the standard figures need these scalar metrics
        r.update(mig_histogram=0.5, heldout_log_px_z=-50.0)
    paths = write_figures(table, tmp_path, metrics=("mig_histogram",))
    assert {p.name for p in paths} >= {"higgins_vs_beta_norm_beta-vae.png",
                                       "higgins_vs_beta_norm_beta-vae.pdf"}


# ---- a metric along training ([eval] along) in the convergence rule's trace format -------------

def _along_rows(steps=(500, 1000, 1500, 2000)):
    """Runs of two models × two β × three seeds whose sampled MIG along training is a known
    function of (model, β, seed, point): 0.1·β + 0.01·seed + 0.001·i, +1 for isa-vae. Given
    as Results.runs() gives them (config and metrics apart), seeds in reverse order."""
    rows = []
    for model in ("beta-vae", "isa-vae"):
        for beta in (1.0, 4.0):
            for seed in (2, 1, 0):
                mig = [(model == "isa-vae") + 0.1 * beta + 0.01 * seed + 0.001 * i
                       for i in range(len(steps))]
                rows.append({"run_id": f"{model}-{beta}-{seed}", "status": "done",
                             "config": {"model": model, "beta": beta, "seed": seed, "latent_dim": 20},
                             "metrics": {"mig_sampled": mig[-1], "along": {
                                 "steps": list(steps), "mig_sampled": mig,
                                 "heldout_log_px_z": [-100.0] * len(steps)}}})
    return rows


def test_trace_by_beta_of_one_cell_is_steps_by_seeds():
    got = trace_by_beta(_along_rows(), "mig_sampled", model="beta-vae", beta=4.0)
    assert got["statistic"] == "mig_sampled" and got["steps"] == [500, 1000, 1500, 2000]
    assert got["seeds"] == [0, 1, 2]
    want = [[0.4 + 0.01 * s + 0.001 * i for s in (0, 1, 2)] for i in range(4)]   # (K, n_seeds)
    np.testing.assert_array_equal(got["values"], want)   # the same float operations: exact
    from betalab.claims import convergence

    rec = convergence(got)                 # the claims read it as it is
    assert rec["n_seeds"] == 3 and rec["steps"] == [500.0, 1000.0, 1500.0, 2000.0]
    # the mean moved 0.001 over the last quarter, less than the seeds' se 0.01/√3: converged
    assert rec["converged"] and rec["moved"] == pytest.approx(0.001, rel=1e-9)


def test_trace_by_beta_of_several_cells_is_labelled():
    rows = _along_rows()
    got = trace_by_beta(rows, "mig_sampled")
    assert sorted(got["values"]) == ["beta-vae, β = 1", "beta-vae, β = 4", "isa-vae, β = 1",
                                     "isa-vae, β = 4"]
    np.testing.assert_array_equal(got["values"]["isa-vae, β = 1"],
                                  [[1 + 0.1 + 0.01 * s + 0.001 * i for s in (0, 1, 2)] for i in range(4)])
    assert got["seeds"]["isa-vae, β = 4"] == [0, 1, 2]
    by_model = trace_by_beta(rows, "mig_sampled", model="isa-vae")
    assert sorted(by_model["values"]) == ["isa-vae, β = 1", "isa-vae, β = 4"]
    # flat rows (config and metrics in one dict) give the same trace; latent_dim selects too
    flat = [{**r["config"], **r["metrics"], "run_id": r["run_id"]} for r in rows]
    assert trace_by_beta(flat, "mig_sampled", latent_dim=20) == got
    # a latent size that varies is named in the label (Higgins et al. 2017, Fig. 5 right)
    rows[0]["config"]["latent_dim"] = 10
    labels = trace_by_beta(rows, "mig_sampled", model="beta-vae", beta=1.0)["values"]
    assert sorted(labels) == ["beta-vae, β = 1, M = 10", "beta-vae, β = 1, M = 20"]


def test_trace_by_beta_refuses_what_is_not_one_trace():
    rows = _along_rows()
    with pytest.raises(ValueError, match="no run with"):
        trace_by_beta(rows, "mig_sampled", model="factor-vae")
    with pytest.raises(ValueError, match="'beta-vae-1.0-2' has no record along training"):
        trace_by_beta([{**rows[0], "metrics": {"mig_sampled": 0.1}}] + rows[1:], "mig_sampled")
    with pytest.raises(ValueError, match="Results.table"):        # a table leaves 'along' out
        trace_by_beta([{**r["config"], "run_id": r["run_id"]} for r in rows], "mig_sampled")
    with pytest.raises(ValueError, match="'mig_histogram' is not recorded along training.*"
                                         "known: \\['heldout_log_px_z', 'mig_sampled'\\]"):
        trace_by_beta(rows, "mig_histogram")
    late = _along_rows(steps=(400, 1000, 1500, 2000))
    with pytest.raises(ValueError, match="steps differ: run 'beta-vae-1.0-2' .* at steps "
                                         r"\[500, 1000, 1500, 2000\], run 'beta-vae-1.0-1' at \[400"):
        trace_by_beta(rows[:1] + late[1:], "mig_sampled", model="beta-vae", beta=1.0)
    with pytest.raises(ValueError, match="distinct seeds.*seeds \\[0, 1, 2, 2\\]"):
        trace_by_beta(rows + rows[:1], "mig_sampled", model="beta-vae", beta=1.0)
    broken = _along_rows()
    broken[0]["metrics"]["along"]["mig_sampled"].pop()
    with pytest.raises(ValueError, match="3 values of 'mig_sampled' along training for 4 steps"):
        trace_by_beta(broken, "mig_sampled")


def test_sweep_plot_names_the_estimator_of_each_mig(tmp_path, capsys):
    """``betalab sweep plot`` picks App. A.5's representatives by the sampled MIG, as the study
    does, and labels both estimators; the pick equals representative_runs(table, "mig_sampled")."""
    from pathlib import Path

    from betalab.cli import main
    from betalab.results import open_results
    from betalab.sweep.spec import parse_spec
    from betalab.sweep.store import ResultsStore
    from betalab.sweep.views import representative_runs

    sweep = parse_spec((Path(__file__).resolve().parents[2] / "sweeps" / "tiny.toml").read_text())
    db = tmp_path / "tiny.sqlite"
    store = ResultsStore(db, sweep)
    rng = np.random.default_rng(0)
    store.record(*({"run_id": r["run_id"], "status": "done", "device": "cpu",
                    "metrics": {"mig_histogram": float(rng.uniform(0, 0.3)),
                                "mig_sampled": float(rng.uniform(0, 0.3)),
                                "beta_vae_score": float(rng.uniform(0.5, 1)),
                                "factor_vae_score": float(rng.uniform(0.5, 1)),
                                "heldout_log_px_z": float(rng.uniform(-200, -100))}}
                   for r in sweep.runs))
    store.close()
    assert main(["sweep", "plot", "--db", str(db), "--out", str(tmp_path / "figs")]) == 0
    out = capsys.readouterr().out
    with open_results(db) as res:
        picked = representative_runs(res.table(lists=True), "mig_sampled")
    lines = [ln for ln in out.splitlines() if ln.startswith("representative ")]
    assert len(lines) == len([r for r in picked.values() if r is not None]) >= 1
    for model, run in picked.items():
        line = next(ln for ln in lines if ln.startswith(f"representative {model} "))
        assert run["run_id"] in line and f"sampled MIG={run['mig_sampled']:.3f}" in line
        assert f"histogram MIG={run['mig_histogram']:.3f}" in line and " MIG=" not in line.replace(
            "sampled MIG=", "").replace("histogram MIG=", "")
