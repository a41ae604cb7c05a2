"""Higgins et al. 2017, Fig. 5 (left, trained rows), Fig. 5 (right) and Fig. 6: the readers of
the recorded GPU sweeps that decide them at the "gpu" scale (time-boxed cuts of
``sweeps/higgins-fig5-left.toml`` and ``sweeps/higgins-fig5-right.toml`` run on a lent GPU), and
the gate every claim decided from them passes (an earlier dSprites renderer, or a score that has
not levelled off along training, reads not run)."""

from __future__ import annotations

from pathlib import Path

from betalab import claims as C
from betalab.studies.higgins2017._shared import FIG6_BETAS, FIG6_M, _sweep_command, sweep_cost

_RECORDED = Path(__file__).resolve().parents[3] / "recorded" / "sweeps"
#: the trained-row runs of that GPU sweep (a results database and the fitted spec)
TRAINED_SWEEP = _RECORDED / "higgins-fig5-left-gpu"
#: the Fig. 5 (right) runs of a time-boxed GPU sweep (sweeps/higgins-fig5-right.toml cut by
#: sweeps/fit_budget.py: M ∈ {5, 10, 20}, β_norm = (10/4096)·2^k, k = −2 … 5, 2 seeds,
#: ``[eval] factor_response``), a results database and the fitted spec
RIGHT_SWEEP = _RECORDED / "higgins-fig5-right-gpu"


def _recorded_sweep(path: Path, run_of) -> dict | None:
    """A recorded GPU sweep's finished runs (``run_of(config, metrics, row)`` each), its planned
    run count and training settings, or None when ``path`` holds no ``results.sqlite``."""
    db = Path(path) / "results.sqlite"
    if not db.exists():
        return None
    from betalab.results import open_results

    from deep.data.dsprites import CACHE_VERSION

    with open_results(db) as res:
        every = res.runs("done")
        planned = sum(res.counts().values())
    # runs measured on another dSprites renderer drew other images: not comparable; a sweep with
    # no run on the current renderer is read as it is, marked stale (its claims read not run)
    done = [r for r in every if (r.get("versions") or {}).get("dsprites renderer", 1) == CACHE_VERSION]
    stale = None if done else sorted({(r.get("versions") or {}).get("dsprites renderer", 1)
                                      for r in every})
    done = done or every
    if not done:
        return None
    cfg = done[0]["config"] if done else {}
    from betalab.sweep.views import trace_by_beta

    # the Higgins score of every replica along training ([eval] along), one trace per (M, β)
    # cell: the claims are decided only when every cell levelled off (betalab.claims)
    along = all("along" in (r["metrics"] or {}) for r in done)
    return {"source": Path(path).relative_to(Path(path).parents[2]).as_posix(),
            "planned_runs": planned, "batch_size": cfg.get("batch_size"),
            "hidden": cfg.get("hidden"), "optimizer": cfg.get("optimizer"), "lr": cfg.get("lr"),
            "runs": [run_of(r["config"], r["metrics"], r) for r in done],
            "convergence": trace_by_beta(done, "higgins_score") if along else None,
            "stale_renderer": stale}


def trained_numbers(path: Path = TRAINED_SWEEP) -> dict | None:
    """The finished runs of the recorded trained-row sweep at ``path`` (its ``results.sqlite``
    and ``spec.toml``), or None when there is none: per run its seed, β, steps and the three
    classifier-seed scores of this study's protocol (``[eval] higgins``), and the sweep's
    planned runs and steps."""
    return _recorded_sweep(path, lambda c, m, r: {
        "seed": c["seed"], "beta": c["beta"], "steps": m["steps"], "scores": m["higgins_scores"],
        "converged": m["higgins_converged"], "kl": m["kl"],
        "heldout_log_px_z": m["heldout_log_px_z"], "device": r["device"]})


def right_numbers(path: Path = RIGHT_SWEEP) -> dict | None:
    """The finished runs of the recorded Fig. 5 (right) GPU sweep at ``path``, or None: per run
    M, β, seed, steps, its three classifier-seed scores, KL per latent and the latent-factor
    mutual information (``[eval] factor_response``); Fig. 6's models (M = 10, β ∈ {1, 4}) also
    keep their orientation responses (shapes × orientations × latents)."""
    def run_of(c, m, r):
        run = {"latent_dim": c["latent_dim"], "beta": c["beta"], "seed": c["seed"],
               "steps": m["steps"], "scores": m["higgins_scores"], "kl_per_dim": m["kl_per_dim"],
               "factor_mi": m["factor_mi"], "factor_entropy": m["factor_entropy"],
               "heldout_log_px_z": m["heldout_log_px_z"], "device": r["device"]}
        if c["latent_dim"] == FIG6_M and c["beta"] in FIG6_BETAS:
            run["orientation_response"] = m["orientation_response"]
        return run

    return _recorded_sweep(path, run_of)


def right_where(right: dict) -> str:
    """The scale of the Fig. 5 (right) sweep's claims (Fig. 5 (right) and Fig. 6), for their
    statements: the model, its training and the latent sizes M of the runs (all trained for
    the same number of steps)."""
    runs = right["runs"]
    steps = runs[0]["steps"]
    epochs = steps * right["batch_size"] / (737_280 - round(0.1 * 737_280))
    seeds = len({r["seed"] for r in runs})
    ms = sorted({r["latent_dim"] for r in runs})
    return (f"gpu scale: App. Table 1 model (hidden {right['hidden']}), {right['optimizer']} "
            f"{right['lr']:g}, batch {right['batch_size']}, {steps:,} steps = {epochs:.2f} "
            f"epochs, M ∈ {{{', '.join(str(m) for m in ms)}}}, {seeds} replicas per cell, "
            "one H200")


def _stale(claims: list, sweep: dict, which: str) -> list:
    """The claims of a recorded sweep measured on an earlier dSprites renderer, as not run."""
    from deep.data.dsprites import CACHE_VERSION

    return C.superseded(
        claims, why=f"{sweep['source']} was measured on procedural dSprites of renderer version "
                    f"{', '.join(map(str, sweep['stale_renderer']))}; the current renderer (version "
                    f"{CACHE_VERSION}) draws the archive's sprites.",
        would_run=f"{_sweep_command(which)} on a GPU (with the score along training), recorded in "
                  "place of the old database.", cost=sweep_cost(which))


def gated(claims: list, sweep: dict, which: str, would_run: str) -> list:
    """The claims decided from a recorded sweep (``which``: "left" or "right"), as not run when
    it was measured on an earlier renderer (:func:`_stale`) or when its score had not levelled
    off along training (:func:`betalab.claims.at_convergence`, ``would_run`` saying at what
    length it would)."""
    if sweep.get("stale_renderer"):
        return _stale(claims, sweep, which)
    return C.at_convergence(claims, sweep.get("convergence"), would_run=would_run,
                            cost=sweep_cost(which))
