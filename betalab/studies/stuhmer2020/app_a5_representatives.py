"""Stühmer et al. 2020 (ISA-VAE), App. A.5 (representative models, Figs 8–16) on the recorded cpu
Fig. 5b sweeps: each model's representative run, picked by the paper's rule and retrained from
its stored configuration with its latent-vs-factor and traversal figures
(:func:`fig5b_cpu_representatives`), and the check that the retrained model gives its recorded
MIG (:func:`representatives_claims`); part of the study isa-vae-fig5b. The printed
representatives are :data:`REPRESENTATIVE_PRINTED`."""

from __future__ import annotations

from pathlib import Path

from betalab import claims as C
from betalab.studies.stuhmer2020._dsprites_runs import latent_figures
from betalab.studies.stuhmer2020.fig5b_sweeps import FIG5B_CPU

#: App. A.5, Figs 8–16, as printed: (model, β) -> (MIG, log p(x))
REPRESENTATIVE_PRINTED = {("beta-vae", 1.0): (0.14, -21.99), ("isa-vae", 1.0): (0.20, -20.93),
                          ("isa-vae", 2.0): (0.41, -25.86), ("isa-vae", 3.0): (0.48, -32.42),
                          ("beta-tcvae", 3.0): (0.43, -33.40)}


def fig5b_cpu_representatives(path: Path = FIG5B_CPU, device: str = "cpu",
                              max_steps: int | None = None) -> tuple[dict, dict]:
    """App. A.5 on the recorded cpu Fig. 5b sweeps: each model's representative run (the upper
    half by sampled MIG, the paper's MIG, nearest its mean by Mahalanobis distance in (MIG,
    reconstruction); :func:`betalab.sweep.views.representative_runs`), retrained from its stored
    configuration as a one-member ensemble (:func:`betalab.sweep.work.build_ensemble`, as the
    sweep trains it; ``max_steps`` shortens it, for tests), with the latent-vs-factor and
    traversal figures of Figs 8–16. Returns (figures, numbers per model: the run's β, seed and
    recorded metrics, and the retrained model's histogram MIG on the whole grid)."""
    from betalab.results import open_results
    from betalab.sweep.views import representative_runs
    from betalab.sweep.work import build_ensemble, dataset

    table, configs = [], {}
    for db in sorted(Path(path).glob("*.sqlite")):
        with open_results(db) as res:
            table += res.table()
            configs.update({r["run_id"]: r["config"] for r in res.runs("done")})
    figures, numbers = {}, {}
    for model, row in representative_runs(table, "mig_sampled").items():
        run = dict(configs[row["run_id"]], run_id=row["run_id"])
        if max_steps is not None:
            run["max_steps"] = max_steps
        ens, _, _ = build_ensemble([run], device)
        total = ens.total_steps if run["max_steps"] is None else min(run["max_steps"], ens.total_steps)
        while ens.step < total:
            ens.run_step()
        net = ens.member_model(0).cpu().eval()
        label = (f"{model} at β = {row['beta']:g} (seed {row['seed']}), the representative run of the "
                 f"cpu-scale Fig. 5b sweep\n(App. A.5 rule; recorded MIG {row['mig_sampled']:.2f}, "
                 f"E_q log p(x|z) {row['heldout_log_px_z']:.1f}; retrained)")
        figs, retrained = latent_figures(net, dataset(run["dataset"]), f"fig5b_representative_{model}", label)
        figures.update(figs)
        numbers[model] = {k: row[k] for k in ("run_id", "beta", "seed", "mig_sampled", "mig_histogram",
                                               "heldout_log_px_z")}
        numbers[model]["retrained_mig_histogram"] = retrained
    return figures, numbers


def representatives_claims(numbers: dict) -> list:
    """The check of isa-vae-fig5b's numbers on App. A.5: each representative run of the cpu
    sweeps, retrained, gives its recorded histogram MIG exactly; not run when the sweeps are on
    an earlier renderer, incomplete, or the run is at the quick scale; none without recorded
    Fig. 5b sweeps."""
    scale = numbers["scale"]
    f5b = numbers.get("fig5b")
    reps = numbers.get("fig5b_representatives") or {}
    stmt = ("Each representative run of the cpu-scale Fig. 5b sweep, retrained alone from its "
            "stored configuration, gives its recorded histogram MIG exactly")
    src = "Stühmer et al. 2020, App. A.5 (representative models)"
    if reps:
        return [C.relation(
            stmt, src, "equal to the recorded value",
            {m: [r["mig_histogram"], r["retrained_mig_histogram"]] for m, r in sorted(reps.items())},
            all(r["mig_histogram"] == r["retrained_mig_histogram"] for r in reps.values()),
            tolerance="exact: a one-member ensemble on the same device trains as the sweep's member "
                      "did, and the metric is recomputed on the whole grid", kind="check", scale=scale)]
    if not f5b:
        return []
    why = (f"the recorded Fig. 5b sweeps were measured on dSprites renderer version "
           f"{', '.join(map(str, f5b['stale_renderer']))}: their representatives are not "
           "retrained on the current one." if f5b.get("stale_renderer") else
           "the representatives are retrained at the cpu scale only (this run is "
           f"{scale})." if scale == "quick" else
           "the recorded sweeps are not complete: no representative is picked.")
    return [C.not_run(stmt, src, "equal to the recorded value", kind="check", scale=scale,
                      why=why, would_run="`betalab run isa-vae-fig5b --scale cpu`.",
                      cost="about 15 min on one CPU core (five 4,000-step trainings).")]
