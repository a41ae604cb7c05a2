"""betalab.sweep.views: means and standard errors per (model, β), and Stühmer et al. 2020
App. A.5's representative run against a brute-force Mahalanobis distance (scipy)."""

import numpy as np
import pytest
from scipy.spatial.distance import mahalanobis

from betalab.sweep.views import metric_by_beta, representative_run, write_figures


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
