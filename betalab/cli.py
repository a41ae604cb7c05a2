"""The ``betalab`` command line::

    betalab list
    betalab run NAME [--full | --scale quick|cpu|full] [--seed S] [--out DIR] [--device D]
    betalab record NAME --scale cpu|full [--out DIR]
    betalab record --rederive
    betalab reproduce [--full | --scale S] [--only PATTERN] [--jobs N] [--seed S] [--out DIR] [--resume]
                      [--quick-too]
    betalab train ...                      (betalab.train.cli)
    betalab plot RUN [--traversal] | export RUN   (a training run's curves or traversals, its weights)
    betalab sweep run SPEC | status | plot (betalab.sweep.cli)

Exit status: 0 when no claim of the report fails (a claim that differs is paired with its
corrected claim; not run and constructed claims do not count); 1 when a claim of the report
fails, a recorded run's included (its claims re-derived from its numbers), or a study raises or
its recorded run cannot be read (one line each, naming the study's error.log); 2 on bad usage
(one line, nothing run or written).
"""

from __future__ import annotations

__all__ = ["EXAMPLES", "check_study", "list_lines", "main"]

import argparse
import sys
from pathlib import Path

from betalab.registry import StudyConfig, all_studies

EXAMPLES = """examples:
  betalab list                                  the studies, with their run times
  betalab run fa-pruning                        one study; updates its section of results/report.md
  betalab reproduce --jobs 2                    every study (quick), then results/report.md + .html
  betalab reproduce --only 'fa-*' --resume      a subset, reusing finished studies
  betalab run isa-vae-fig5a --scale cpu         the size that decides a deep study (1-2 h on 2 cores)
  betalab train --dataset dsprites-reduced --hidden 256 --batch-size 128 --epochs 2 --out runs/demo
  betalab plot runs/demo                        a training run's curves (runs/demo/curves.png)

`betalab COMMAND --help` describes each command."""


class _Parser(argparse.ArgumentParser):
    """Bad usage: one line on stderr (and where to look), exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version() -> str:
    from betalab import __version__

    return __version__


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="betalab", description="Analytical theory and numerical verification of "
                                            "beta-VAEs: run the studies, write the claims report, "
                                            "train models.",
                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"betalab {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ls = sub.add_parser("list", help="the registered studies, with estimated run times per scale")
    ls.add_argument("--long", action="store_true", help="also each study's paper and source")

    def common(sp):
        sp.add_argument("--full", action="store_true", help="paper-size configuration (= --scale full)")
        sp.add_argument("--scale", default=None, choices=("quick", "cpu", "full"),
                        help="quick (default), cpu (deep studies: decides on 2 cores in 1-2 h) "
                             "or full (the paper's configuration, for a GPU)")
        sp.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
        sp.add_argument("--out", default="results", help="output directory (default: results)")
        sp.add_argument("--device", default="auto",
                        help="torch device of the deep studies: auto (the GPU if CUDA is "
                             "available, else the CPU), cpu, cuda, cuda:N, mps (default: auto)")

    run = sub.add_parser("run", help="run one study and update its section of the report",
                         description="Run one study; its section of OUT/report.md, report.html "
                                     "and claims.json is rewritten, every other study's kept.")
    run.add_argument("name", help="study name (betalab list)")
    common(run)
    rep = sub.add_parser("reproduce", help="run every (or the selected) study and write the report")
    common(rep)
    rep.add_argument("--only", default=None, help="glob or substring of study names")
    rep.add_argument("--jobs", type=int, default=1, help="parallel processes (default: 1)")
    rep.add_argument("--resume", action="store_true",
                     help="reuse finished studies with the same configuration")
    rep.add_argument("--quick-too", action="store_true",
                     help="also run the studies that the report shows from their recorded "
                          "cpu/full-scale runs (by default they are not run at the smaller scale)")
    rec = sub.add_parser("record", help="keep a finished cpu/full-scale run in recorded/ "
                                        "(its verdicts are then in every report)")
    rec.add_argument("name", nargs="?", help="study name (betalab list)")
    rec.add_argument("--scale", choices=("cpu", "full"))
    rec.add_argument("--rederive", action="store_true",
                     help="rewrite every recorded run's claims as the current code derives them "
                          "from the recorded numbers (after a change of the claim rules)")
    rec.add_argument("--out", default="results", help="where the run was written (default: results)")
    from betalab.train.cli import add_parser as add_train_parser

    add_train_parser(sub)
    pl = sub.add_parser("plot", help="redraw the curves figure of a training run (RUN/curves.png)")
    pl.add_argument("run", help="run directory of `betalab train`")
    pl.add_argument("--traversal", action="store_true",
                    help="draw the latent traversals of a dSprites run instead (RUN/traversals.png)")
    ex = sub.add_parser("export", help="write a training run's weights alone (RUN/model.pt), "
                                       "loadable by betalab.load_run")
    ex.add_argument("run", help="run directory of `betalab train`")
    ex.add_argument("--to", default=None, help="destination file (default: RUN/model.pt)")
    from betalab.sweep.cli import add_parser as add_sweep_parser

    add_sweep_parser(sub)
    return p


def check_study(name: str) -> str:
    """``name`` if it is a registered study; else ValueError with the closest names."""
    import difflib

    names = list(all_studies())
    if name in names:
        return name
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not close:
        close = [n for n in names if name and (name in n or n.startswith(name.split("-")[0] + "-"))][:3]
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return _raise(f"unknown study {name!r}{hint} (betalab list shows them all)")


def _raise(message):
    raise ValueError(message)


def list_lines(width: int = 100, long: bool = False) -> list[str]:
    """``betalab list``: one line per study (at most ``width`` characters): its name, the
    estimated run time of each scale and its title; with ``long``, its paper and source below."""
    from betalab.runtimes import estimate

    lines = [f"{'study':25} {'quick':>5} {'cpu':>5} {'full':>5}  title"]
    for s in all_studies().values():
        times = " ".join(f"{estimate(s.name, sc):>5}" for sc in ("quick", "cpu", "full"))
        text = f"{s.name:25} {times}  {s.title}"
        lines.append(text if len(text) <= width else text[:width - 1] + "…")
        if long:
            lines.append(f"{'':27}{s.paper}, {s.source}"[:width])
    lines += ["Run times on 2 shared CPU cores (quick, cpu) and at the paper's size (full); "
              "'=' runs the",
              "quick configuration, GPU: needs one, '?': not measured; '*': measured by the latest "
              "run in results/.", "Papers and sources: betalab list --long."]
    return lines


def _plural(verdict: str, n: int) -> str:
    """'1 holds', '2 hold'; 'not run' and 'constructed' stay as they are."""
    return verdict[:-1] if n != 1 and verdict in ("holds", "fails", "differs") else verdict


def _print_summary(records, report_records, out) -> None:
    from betalab import coverage, runner
    from betalab.report import reason

    for r in records:
        if r.get("error"):
            last = [ln for ln in r["error"].strip().splitlines() if ln.strip()][-1:]
            log = runner.study_dir(out, r["study"], r["config"]["scale"]) / "error.log"
            print(f"betalab: {r['study']} raised {last[0] if last else 'an error'} "
                  f"(traceback in {log})", file=sys.stderr)
    shown = {r["study"] for r in records}
    for r in report_records:
        if r["study"] not in shown:
            continue
        if r.get("recorded"):
            print(f"{r['study']}: claims of the recorded {r['config']['scale']}-scale run "
                  f"({runner._display(r['recorded'])})")
        verdicts = [c["verdict"] for c in r["claims"]]
        tally = ", ".join(f"{verdicts.count(v)} {_plural(v, verdicts.count(v))}"
                          for v in runner.PAPER_VERDICTS if verdicts.count(v))
        print(f"{r['study']}: {len(verdicts)} claims ({tally or 'none'})")
        for i, c in enumerate(r["claims"], start=1):
            if c["verdict"] in ("differs", "fails"):
                why = f" — {reason(c['note'])}" if c["verdict"] == "differs" else ""
                print(f"  [{c['verdict']}] {r['study']}:{i} {c['statement']}{why}")
    ids = runner.claim_ids(report_records)
    n_err = sum(bool(r.get("error")) for r in report_records)
    cov = coverage.summary(coverage.resolve(coverage.LEDGER, ids, {r["study"] for r in report_records}))
    print(f"Coverage ({' / '.join(coverage.STATUSES)} items): " + "; ".join(
        f"{coverage.PAPERS[p].split(' (')[0]} " + " / ".join(str(c[s]) for s in coverage.STATUSES)
        for p, c in cov["counts"].items()))
    n = len(report_records)
    print(f"Report of {n} {'study' if n == 1 else 'studies'}: "
          + runner.headline(runner.counts([c for _, c in ids]), n_err).replace("**", ""))
    print(f"report: {Path(out) / 'report.md'} (and report.html)")


def main(argv: list[str] | None = None) -> int:
    import os

    # A log or a pipe: no progress bars (their carriage returns and escape codes), plain lines
    # instead. Set before anything imports tqdm, which reads TQDM_DISABLE once, at its import.
    plain = not sys.stderr.isatty() and "TQDM_DISABLE" not in os.environ
    if plain:
        os.environ["TQDM_DISABLE"] = "1"
    try:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as stop:      # --help, --version (0) or bad usage (2, one line printed)
            return stop.code if isinstance(stop.code, int) else 2
        return _main(args)
    except BrokenPipeError:     # `betalab list | head`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        if plain:
            os.environ.pop("TQDM_DISABLE", None)


def _main(args) -> int:
    from betalab import runner

    if args.command == "train":
        from betalab.train.cli import main as train_main

        return train_main(args)
    if args.command in ("plot", "export"):
        from betalab.train.plots import plot_run, plot_traversals
        from betalab.train.rundir import export_weights

        try:
            if args.command == "export":
                path = export_weights(args.run, args.to)
            else:
                path = plot_traversals(args.run) if args.traversal else plot_run(args.run)
        except (ValueError, TypeError) as err:
            print(f"betalab {args.command}: error: {err}", file=sys.stderr)
            return 2
        print(path)
        return 0
    if args.command == "record":
        try:
            if args.rederive:
                for path in runner.rederive_recorded():
                    print(f"re-derived: {runner._display(path)}")
                return 0
            if not args.name or not args.scale:
                raise ValueError("record needs a study name and --scale (or --rederive)")
            dest = runner.record_run(check_study(args.name), args.scale, args.out)
        except (ValueError, TypeError) as err:
            print(f"betalab: error: {err}", file=sys.stderr)
            return 2
        print(f"recorded: {dest}")
        return 0
    if args.command == "sweep":
        from betalab.sweep.cli import main as sweep_main

        return sweep_main(args)
    if args.command == "list":
        for line in list_lines(long=args.long):
            print(line)
        return 0
    from betalab.checks import check_device, check_output_dir

    try:     # everything checked before any study runs or any file is written
        if args.full and args.scale not in (None, "full"):
            raise ValueError(f"--full contradicts --scale {args.scale}")
        if args.seed < 0:
            raise ValueError(f"--seed must be >= 0, got {args.seed}")
        check_device(args.device)
        check_output_dir(args.out)
        config = StudyConfig(full=args.full, seed=args.seed, device=args.device,
                             scale="full" if args.full else args.scale)
        if args.command == "run":
            name = check_study(args.name)
        else:
            if args.jobs < 1:
                raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
            runner.select(args.only)
    except (ValueError, TypeError) as err:
        print(f"betalab: error: {err}", file=sys.stderr)
        return 2
    if args.command == "run":
        records = [runner.run_study(name, config, args.out)]
        report_records = runner.write_report(records, config, args.out)
    else:
        records = runner.reproduce(config, args.out, only=args.only, jobs=args.jobs,
                                   resume=args.resume, quick_too=args.quick_too)
        report_records = runner.collect_records(records, args.out)
        report_records = runner.with_recorded(report_records, runner.recorded_records(),
                                              Path(args.out))
    _print_summary(records, report_records, args.out)
    # the status of the report: a claim failing in a recorded run (re-derived from its numbers)
    # or a recorded run that cannot be read fails the command as a failing quick claim does
    return runner.exit_code(report_records)


if __name__ == "__main__":
    sys.exit(main())
