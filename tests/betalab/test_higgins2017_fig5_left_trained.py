"""higgins-fig5-table: the trained rows of Higgins et al. 2017, Fig. 5 (left), decided from the
recorded GPU sweep (betalab.studies.higgins2017.fig5_left_trained, _gpu_sweeps)."""

import numpy as np
import pytest

from betalab.studies.higgins2017 import _gpu_sweeps as G
from betalab.studies.higgins2017 import fig5_left_trained as T

# the Higgins score along training, levelled off: the seed mean moves 0.001 over the last
# quarter, less than its standard error 0.0067 over three seeds
CONVERGED = {"statistic": "Higgins score", "steps": [250, 500, 750, 1000],
             "values": [[0.5, 0.52, 0.54], [0.6, 0.62, 0.64], [0.7, 0.72, 0.74],
                        [0.701, 0.721, 0.741]]}


def _trained(vae_scores, beta_vae_scores, steps=1000):
    runs = [{"seed": s, "beta": b, "steps": steps, "scores": list(v)}
            for b, block in ((1.0, vae_scores), (4.0, beta_vae_scores)) for s, v in enumerate(block)]
    return {"source": "recorded/sweeps/x", "planned_runs": len(runs), "batch_size": 64,
            "hidden": 1200, "optimizer": "adagrad", "lr": 0.01, "runs": runs,
            "convergence": CONVERGED}




def test_trained_rows_are_decided_against_the_printed_values():
    """Scores drawn at the printed means and spreads hold (the rows and their ordering);
    the same scores with the rows swapped fail all three — against numpy's top-half mean of the
    pooled scores (App. A.4)."""
    rng = np.random.default_rng(0)
    vae = rng.normal(0.6158, 0.004, (10, 3))
    bvae = rng.normal(0.9923, 0.0008, (10, 3))
    claims = T.trained_claims(_trained(vae, bvae))
    assert [c.verdict for c in claims] == ["holds"] * 3 and {c.scale for c in claims} == {"gpu"}
    top = np.sort(bvae.ravel())[15:]                     # the top half of 30 scores
    assert claims[1].measured == pytest.approx(100 * top.mean(), abs=1e-9)
    swapped = T.trained_claims(_trained(bvae, vae))
    assert [c.verdict for c in swapped] == ["fails"] * 3
    assert T.trained_claims(_trained(vae, [])) == []      # one row only: nothing decided
    # rows caught still learning (the score rose 0.1 over the last quarter) are not decided
    moving = _trained(vae, bvae)
    moving["convergence"] = dict(CONVERGED, values=CONVERGED["values"][:3] + [[0.8, 0.82, 0.84]])
    undecided = T.trained_claims(moving)
    assert {c.verdict for c in undecided} == {"not run"}
    assert all("not converged" in c.note for c in undecided)


def test_the_recorded_gpu_sweep_is_read_from_its_database(monkeypatch, done_rows):
    """The recorded trained-row runs (recorded/sweeps/higgins-fig5-left-gpu) read back with
    sqlite3 directly: the same finished runs, steps and scores as trained_numbers gives. They
    were measured on renderer version 1: read with the current renderer they are marked stale,
    and their claims read not run."""
    import deep.data.dsprites as D

    assert G.trained_numbers()["stale_renderer"] == [1]
    gpu = T.trained_claims(G.trained_numbers())
    assert gpu and {c.verdict for c in gpu} == {"not run"}
    assert all("renderer version 1" in c.note for c in gpu)
    monkeypatch.setattr(D, "CACHE_VERSION", 1)
    t = G.trained_numbers()
    assert t["stale_renderer"] is None
    want = sorted((c["seed"], c["beta"], m["higgins_scores"], m["steps"])
                  for c, m in done_rows(G.TRAINED_SWEEP))
    got = sorted((r["seed"], r["beta"], r["scores"], r["steps"]) for r in t["runs"])
    assert got == want and len(got) == 20 and t["planned_runs"] == 20
    assert G.trained_numbers(G.TRAINED_SWEEP.parent / "absent") is None


