"""The ``betalab`` command line.

    betalab list
    betalab run NAME [--full | --scale quick|cpu|full] [--seed S] [--out DIR] [--device D]
    betalab record NAME --scale cpu|full [--out DIR]
    betalab reproduce [--full | --scale S] [--only PATTERN] [--jobs N] [--seed S] [--out DIR] [--resume]
    betalab train ...                      (betalab.train)
    betalab sweep run SPEC | status | plot (betalab.sweep.cli)

Exit status is 1 when any claim fails or a study raises, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from betalab.registry import StudyConfig, all_studies


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="betalab", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the registered studies")

    def common(sp):
        sp.add_argument("--full", action="store_true", help="paper-size configuration (= --scale full)")
        sp.add_argument("--scale", default=None, choices=("quick", "cpu", "full"),
                        help="quick (default), cpu (deep studies: decides on 2 cores in 1-2 h) "
                             "or full (the paper's configuration, for a GPU)")
        sp.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        sp.add_argument("--out", default="results", help="output directory (default results/)")
        sp.add_argument("--device", default="auto", help="torch device for deep studies (default auto)")

    run = sub.add_parser("run", help="run one study")
    run.add_argument("name")
    common(run)
    rep = sub.add_parser("reproduce", help="run every (or the selected) study and write the report")
    common(rep)
    rep.add_argument("--only", default=None, help="glob or substring of study names")
    rep.add_argument("--jobs", type=int, default=1, help="parallel processes (default 1)")
    rep.add_argument("--resume", action="store_true",
                     help="reuse finished studies with the same configuration")
    rec = sub.add_parser("record", help="keep a finished cpu/full-scale run in recorded/ "
                                        "(its verdicts are then in every report)")
    rec.add_argument("name")
    rec.add_argument("--scale", required=True, choices=("cpu", "full"))
    rec.add_argument("--out", default="results", help="where the run was written (default results/)")
    from betalab.train import add_parser as add_train_parser

    add_train_parser(sub)
    from betalab.sweep.cli import add_parser as add_sweep_parser

    add_sweep_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from betalab import runner

    if args.command == "train":
        from betalab.train import main as train_main

        return train_main(args)
    if args.command == "record":
        try:
            dest = runner.record_run(args.name, args.scale, args.out)
        except (ValueError, TypeError) as err:
            print(f"betalab: error: {err}", file=sys.stderr)
            return 2
        print(f"recorded: {dest}")
        return 0
    if args.command == "sweep":
        from betalab.sweep.cli import main as sweep_main

        return sweep_main(args)
    if args.command == "list":
        for s in all_studies().values():
            print(f"{s.name:28s} {s.paper}, {s.source}: {s.title}")
        return 0
    try:
        if args.full and args.scale not in (None, "full"):
            raise ValueError(f"--full contradicts --scale {args.scale}")
        config = StudyConfig(full=args.full, seed=args.seed, device=args.device,
                             scale="full" if args.full else args.scale)
        if args.command == "run":
            records = [runner.run_study(runner.get(args.name).name, config, args.out)]
            runner.write_report(records, config, args.out)
        else:
            records = runner.reproduce(config, args.out, only=args.only, jobs=args.jobs,
                                       resume=args.resume)
    except (ValueError, TypeError) as err:
        print(f"betalab: error: {err}", file=sys.stderr)
        return 2
    code = runner.exit_code(records)
    # the report's records: a study with a recorded larger-scale run is reported from it
    records = runner.with_recorded(records, runner.recorded_records(), Path(args.out))
    for r in records:
        if r.get("error"):
            print(f"{r['study']}: ERROR\n{r['error']}", file=sys.stderr)
        if r.get("recorded"):
            print(f"{r['study']}: claims of the recorded {r['config']['scale']}-scale run "
                  f"({runner._display(r['recorded'])})")
        for c in r["claims"]:
            print(f"[{c['verdict']:7s}] {r['study']}: {c['statement']}")
    from betalab import coverage

    ids = runner.claim_ids(records)
    print(runner.headline(runner.counts([c for _, c in ids]),
                          sum(bool(r.get("error")) for r in records)).replace("**", ""))
    cov = coverage.summary(coverage.resolve(coverage.LEDGER, ids, {r["study"] for r in records}))
    print("Coverage (covered / partial / missing items): " + "; ".join(
        f"{coverage.PAPERS[p].split(' (')[0]} {c['covered']} / {c['partial']} / {c['missing']}"
        for p, c in cov["counts"].items()))
    print(f"report: {args.out}/report.md")
    return code


if __name__ == "__main__":
    sys.exit(main())
