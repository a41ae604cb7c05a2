"""Stühmer et al. 2020 (ISA-VAE), sec. 4.1, Fig. 5b at cpu scale, the numbers: the recorded cpu
sweeps (recorded/sweeps/stuhmer-fig5b-cpu, :func:`fig5b_cpu_numbers`: both MIGs and the held-out
reconstruction per model and β, and the sampled MIG along training) and the learning curve that
set their length (recorded/sweeps/stuhmer-fig5b-cpu-curve, :func:`fig5b_curve_numbers`). Read by
the study isa-vae-fig5b (:mod:`betalab.studies.stuhmer2020.fig5b`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from betalab import claims as C

#: the recorded cpu-scale Fig. 5b sweeps (sweeps/stuhmer-fig5b-cpu-{normal,isa}.toml): one
#: directory with each spec's database as <kind>.sqlite and the spec as <kind>.toml
FIG5B_CPU = Path(__file__).resolve().parents[3] / "recorded" / "sweeps" / "stuhmer-fig5b-cpu"
#: each ISA model and the baseline it is compared with (Stühmer et al. 2020, sec. 4.1)
FIG5B_PAIRS = (("isa-vae", "beta-vae"), ("isa-tcvae", "beta-tcvae"))
#: the two MIGs the claims are decided with: Chen et al. 2018's sampled estimator over the five
#: factors, and the histogram MIG (Locatello et al. 2019); the paper's text does not say which
FIG5B_MIGS = ("mig_sampled", "mig_histogram")
#: the learning curve that set the cpu sweeps' length (sweeps/stuhmer-fig5b-cpu-curve.toml),
#: recorded as curve.sqlite with its spec as curve.toml
FIG5B_CURVE = FIG5B_CPU.parent / "stuhmer-fig5b-cpu-curve"


def fig5b_cpu_numbers(path: Path = FIG5B_CPU) -> dict | None:
    """Per model and β (ascending): the mean and standard error over seeds of both MIGs and of
    the held-out E_q log p(x|z), from the finished runs of the recorded cpu sweeps at ``path``;
    None when there are none."""
    from betalab.results import open_results
    from betalab.sweep.views import metric_by_beta, trace_by_beta
    from deep.data.dsprites import CACHE_VERSION

    dbs = sorted(Path(path).glob("*.sqlite"))
    if not dbs:
        return None
    table, settings, all_done, every_table, every_done = [], None, [], [], []
    shared = ("dataset", "hidden", "latent_dim", "batch_size", "max_steps", "lr")
    for db in dbs:
        with open_results(db) as res:
            # runs measured on another dSprites renderer drew other images: not comparable
            every = res.runs("done")
            done = [r for r in every
                    if (r.get("versions") or {}).get("dsprites renderer", 1) == CACHE_VERSION]
            rows = res.table()
        all_done += done
        every_done += every
        keep = {r["run_id"] for r in done}
        table += [r for r in rows if r["run_id"] in keep]
        every_table += rows
        for r in done:           # the claims compare the models at one protocol: one for all
            got = {k: r["config"].get(k) for k in shared}
            if settings is None:
                settings, first_db = got, db.name
            elif got != settings:
                raise ValueError(f"{db.name}: run {r['run_id']} was trained with {got}, "
                                 f"{first_db}'s with {settings}; Fig. 5b compares one protocol")
    # sweeps with no run on the current renderer are read as they are, marked stale: their claims
    # read not run (fig5a_claims)
    stale = None if table else sorted({(r.get("versions") or {}).get("dsprites renderer", 1)
                                       for r in every_done})
    if not table:
        table, all_done = every_table, every_done
        if all_done:
            settings = {k: all_done[0]["config"].get(k) for k in shared}
    if not table:
        return None
    # FactorVAE's discriminator width (App. A.4: 1000; a cpu sweep may narrow it)
    widths = {r["config"].get("disc_hidden", 1000) for r in all_done
              if r["config"]["model"] == "factor-vae"}
    if len(widths) > 1:
        raise ValueError(f"{path}: FactorVAE runs with discriminators of widths {sorted(widths)}")
    settings = {**settings, "disc_hidden": widths.pop() if widths else None}
    out = {"source": Path(path).relative_to(Path(path).parents[2]).as_posix(),
           "settings": settings, "seeds": len({r["seed"] for r in table}), "stale_renderer": stale}
    for metric in FIG5B_MIGS + ("heldout_log_px_z",):
        out[metric] = metric_by_beta(table, metric)
    # the sampled MIG of every run along training ([eval] along), one trace per (model, β)
    # cell: Fig. 5b's claims are decided only when every cell levelled off (betalab.claims)
    along = all("along" in (r["metrics"] or {}) for r in all_done)
    out["convergence"] = trace_by_beta(all_done, "mig_sampled") if along else None
    return out


def fig5b_curve_numbers(path: Path = FIG5B_CURVE) -> dict | None:
    """The recorded learning curve (one (model, β) setting, its seeds, the sampled MIG every few
    hundred steps) and the convergence rule's record at each length it can test
    (:func:`betalab.claims.converged_lengths`); None when no curve is recorded."""
    from betalab.results import open_results
    from betalab.sweep.views import trace_by_beta
    from deep.data.dsprites import CACHE_VERSION

    rows = []
    for db in sorted(Path(path).glob("*.sqlite")):
        with open_results(db) as res:
            rows += [r for r in res.runs("done")
                     if (r.get("versions") or {}).get("dsprites renderer", 1) == CACHE_VERSION]
    if not rows:
        return None
    trace = trace_by_beta(rows, "mig_sampled")
    if isinstance(trace["values"], dict):
        raise ValueError(f"{path}: a learning curve is one (model, β) setting, got "
                         f"{sorted(trace['values'])}")
    c = rows[0]["config"]
    return {"source": Path(path).relative_to(Path(path).parents[2]).as_posix(),
            "setting": {"model": c["model"], "beta": c["beta"], "max_steps": c["max_steps"],
                        "seeds": sorted(r["config"]["seed"] for r in rows)},
            "trace": {"statistic": "the sampled MIG (Chen et al. 2018)", "steps": trace["steps"],
                      "values": np.asarray(trace["values"], float).tolist()},
            "lengths": [{k: r[k] for k in ("length", "moved", "se", "converged")}
                        for r in C.converged_lengths(trace)]}
