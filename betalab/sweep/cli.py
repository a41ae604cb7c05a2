"""``betalab sweep run | status | plot`` (called by :mod:`betalab.cli`)::

    betalab sweep run SPEC [--db PATH] [--address ADDR | --num-cpus N | --inline [--eval-workers N]]
                      [--retry transient|failed|none] [--max-runs N]
    betalab sweep status --db PATH
    betalab sweep plot --db PATH [--out DIR]

Without ``--address``, ``--num-cpus`` or ``--inline`` the engine is chosen for the spec at
hand (:func:`betalab.sweep.driver.choose_engine`) and named in the first line.

Exit status: 0 when every run is done, 1 when some failed (or stayed unfinished), 2 on bad input
or a database that cannot be written.
"""

from __future__ import annotations

__all__ = ["add_parser", "main"]

import sys
from pathlib import Path


def add_parser(sub) -> None:
    sw = sub.add_parser("sweep", help="grids of runs on Ray into one SQLite results database")
    ssub = sw.add_subparsers(dest="sweep_command", required=True)
    run = ssub.add_parser("run", help="run (or continue) the sweep of a TOML spec")
    run.add_argument("spec", help="TOML spec, e.g. sweeps/tiny.toml")
    run.add_argument("--db", default=None, help="results database (default results/<name>.sqlite)")
    run.add_argument("--address", default=None,
                     help="Ray cluster address (runs the sweep on that cluster)")
    run.add_argument("--num-cpus", type=int, default=None,
                     help="run on an embedded local Ray with this many CPUs")
    run.add_argument("--inline", action="store_true",
                     help="no Ray: train the ensembles in turn in this process (a machine without Ray)")
    # none of the three: the faster engine for the spec (betalab.sweep.driver.choose_engine),
    # named in the first line
    run.add_argument("--retry", choices=("transient", "failed", "none"), default="transient",
                     help="failed runs of an earlier call to run again: those that failed for a "
                          "transient reason (I/O, out of memory, killed, unreadable checkpoint; "
                          "the default), every failed run, or none")
    run.add_argument("--max-runs", type=int, default=None, metavar="N",
                     help="run a spec of more than 10,000 runs (betalab.sweep.spec.MAX_RUNS): "
                          "state its count, or more")
    run.add_argument("--eval-workers", type=int, default=1,
                     help="with --inline: processes that fit each ensemble's Higgins classifiers "
                          "side by side (same results; default 1)")
    st = ssub.add_parser("status", help="runs per status, and the errors of failed runs")
    st.add_argument("--db", required=True)
    pl = ssub.add_parser("plot", help="the standard figures of a results database")
    pl.add_argument("--db", required=True)
    pl.add_argument("--out", default=None, help="output directory (default: next to the database)")


def main(args) -> int:
    try:
        if args.sweep_command == "run":
            from betalab.sweep.driver import run_sweep
            from betalab.sweep.spec import MAX_RUNS, load_spec

            sweep = load_spec(args.spec, max_runs=MAX_RUNS if args.max_runs is None else args.max_runs)
            db = args.db or f"results/{sweep.name}.sqlite"
            counts = run_sweep(sweep, db, address=args.address, num_cpus=args.num_cpus,
                               inline=True if args.inline else None, eval_workers=args.eval_workers,
                               retry=args.retry)
            print(f"betalab sweep: {db}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
            return 0 if set(counts) == {"done"} else 1
        from betalab.results import open_results

        with open_results(args.db) as res:
            if args.sweep_command == "status":
                counts = res.counts()
                print(f"sweep {res.name!r} ({args.db}): "
                      + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
                for r in res.runs("failed"):
                    lines = (r["error"] or "").strip().splitlines() or ["?"]
                    print(f"  failed {r['run_id']} {r['config']['model']} β={r['config']['beta']:g} "
                          f"seed={r['config']['seed']} ({r['failure'] or 'unknown'}): {lines[-1]}")
                from betalab.sweep.driver import progress

                for line in progress_lines(progress(args.db)):
                    print(line)
                return 0
            from betalab.sweep.views import representative_runs, write_figures

            table = res.table(lists=True)
            out = Path(args.out) if args.out else Path(args.db).with_suffix("")
            paths = write_figures(table, out)
            # App. A.5's rule under the sampled MIG (Chen et al. 2018, the estimator the paper
            # cites), as the isa-vae-fig5a study decides it; the histogram MIG shown beside it
            for model, run in representative_runs(table, "mig_sampled").items():
                if run is not None:
                    print(f"representative {model} (App. A.5, by sampled MIG): {run['run_id']} "
                          f"β={run['beta']:g} seed={run['seed']} "
                          f"sampled MIG={_fmt(run.get('mig_sampled'))} "
                          f"histogram MIG={_fmt(run.get('mig_histogram'))}")
            print(f"betalab sweep plot: {len(paths)} files in {out}/")
            return 0
    except (ValueError, TypeError) as err:
        print(f"betalab sweep: error: {err}", file=sys.stderr)
        return 2


def progress_lines(p: dict) -> list[str]:
    """:func:`betalab.sweep.driver.progress` in words: each ensemble under way (its step, its
    evaluations along training, its checkpoint's age), how many wait, and the time left at the
    finished runs' pace."""
    out, waiting = [], 0
    for g in p["groups"]:
        if "step" not in g and "checkpoint_error" not in g:
            waiting += 1
            continue
        what = ", ".join(f"{n} {s}" for s, n in sorted(g["statuses"].items()))
        if "step" in g:
            of = f" of {g['steps']:,}" if g.get("steps") else ""
            out.append(f"  ensemble {g['group_id']} ({what}): step {g['step']:,}{of}, "
                       f"{g['evaluated']} evaluation{'s' if g['evaluated'] != 1 else ''} along "
                       f"training; checkpoint written {_ago(g['checkpoint_age_s'])}")
        else:
            out.append(f"  ensemble {g['group_id']} ({what}): checkpoint unreadable now "
                       f"({g['checkpoint_error']})")
    if waiting:
        out.append(f"  {waiting} ensemble{'s' if waiting != 1 else ''} not started")
    if p["groups"] and p["left_s"] is not None:
        out.append(f"  ≈{_ago(p['left_s'], ago=False)} left at the pace of the finished runs "
                   f"({p['pace']:.0f} s of training and evaluation per run, one ensemble at a time)")
    return out


def _ago(seconds: float, ago: bool = True) -> str:
    text = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 \
        else f"{seconds / 3600:.1f} h"
    return text + (" ago" if ago else "")


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
