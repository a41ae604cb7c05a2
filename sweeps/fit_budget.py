"""Fit a sweep spec to a wall-clock training budget on this machine, then run it without Ray.

    python3 sweeps/fit_budget.py SPEC --train-seconds S --out SPEC2 --db DB
                                 [--ensemble K] [--no-standard] [--set SECTION.KEY=VALUE ...]
                                 [--probe-steps P] [--run [--eval-workers W]]

For a machine lent for minutes (one GPU host without Ray): the spec's first ensemble is built
on the spec's device and ``P`` optimizer steps are timed after a warm-up; ``[train] max_steps``
is set to the largest multiple of 1,000 steps whose training fits ``S`` seconds for all the
spec's ensembles in turn; the result is written to ``SPEC2`` (name suffixed ``-budget``) and,
with ``--run``, run inline into ``DB`` (:func:`betalab.sweep.driver.run_sweep`, ``inline=True``).
``--ensemble`` and ``--no-standard`` override ``[sweep] ensemble`` and set ``[eval] standard =
false``; ``--set grid.latent_dim=[5, 10]`` sets any key to a TOML value (a cut of the grid, an
evaluation flag) before the fit. ``--eval-workers`` is :func:`run_sweep`'s (processes for the
Higgins classifiers). The written spec records what was run: commit it next to the database's
results.

Exit status 0 when every run is done, 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:                 # run as a script from a checkout
    sys.path.insert(0, str(ROOT))


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to a spec")


def dump_spec(raw: dict, header: str = "") -> str:
    """A spec's sections of scalars and lists as TOML text (what :func:`tomllib.loads` reads back)."""
    lines = [header.rstrip()] if header else []
    for section, table in raw.items():
        lines += ["", f"[{section}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines).lstrip("\n") + "\n"


def parse_setting(item: str) -> tuple[str, str, object]:
    """``"section.key=VALUE"`` → (section, key, the TOML value); ValueError naming ``--set``."""
    target, sep, value = item.partition("=")
    section, dot, key = target.strip().partition(".")
    if not sep or not dot or not section or not key:
        raise ValueError(f"--set: expected SECTION.KEY=VALUE, got {item!r}")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"--set {target.strip()}: {value.strip()!r} is not a TOML value ({err})") from None
    return section, key.strip(), parsed


def step_seconds(group_runs, device: str, probe_steps: int, warmup: int = 5) -> float:
    """Seconds per optimizer step of the ensemble of ``group_runs`` on ``device`` (after
    ``warmup`` steps), built as :func:`betalab.sweep.work.train_group` builds it."""
    import torch

    from betalab.sweep.work import build_ensemble, resolve_device

    dev = resolve_device(device)
    ens, _, _ = build_ensemble(group_runs, dev)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(warmup):
        ens.run_step()
    sync()
    t0 = time.perf_counter()
    for _ in range(probe_steps):
        ens.run_step()
    sync()
    return (time.perf_counter() - t0) / probe_steps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spec")
    ap.add_argument("--train-seconds", type=float, required=True)
    ap.add_argument("--out", required=True, help="the fitted spec (TOML) to write")
    ap.add_argument("--db", required=True, help="results database for --run")
    ap.add_argument("--ensemble", type=int, default=None)
    ap.add_argument("--no-standard", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="set a spec key to a TOML value before the fit (repeatable)")
    ap.add_argument("--eval-workers", type=int, default=1)
    ap.add_argument("--probe-steps", type=int, default=50)
    ap.add_argument("--run", action="store_true")
    args = ap.parse_args(argv)
    try:
        from betalab.sweep.driver import run_sweep
        from betalab.sweep.spec import parse_spec

        if not args.train_seconds > 0:
            raise ValueError(f"--train-seconds must be positive, got {args.train_seconds}")
        if args.probe_steps < 1:
            raise ValueError(f"--probe-steps must be positive, got {args.probe_steps}")
        text = Path(args.spec).read_text()
        raw = tomllib.loads(text)
        raw.setdefault("sweep", {})
        raw["sweep"]["name"] = raw["sweep"].get("name", "sweep") + "-budget"
        if args.ensemble is not None:
            raw["sweep"]["ensemble"] = args.ensemble
        if args.no_standard:
            raw.setdefault("eval", {})["standard"] = False
        for item in args.set:
            section, key, value = parse_setting(item)
            raw.setdefault(section, {})[key] = value
        probe = parse_spec(dump_spec(raw))
        from betalab.sweep.work import resolve_device

        device = probe.settings["device"]
        sec = step_seconds(probe.groups[0].runs, device, args.probe_steps)
        where = str(resolve_device(device))
        per_group = args.train_seconds / len(probe.groups)
        steps = int(per_group / sec) // 1000 * 1000
        if steps < 1000:
            raise ValueError(f"--train-seconds {args.train_seconds:g}: {sec * 1e3:.1f} ms per step "
                             f"leaves fewer than 1,000 steps per ensemble")
        total = probe.groups[0].runs[0]
        raw.setdefault("train", {})["max_steps"] = steps
        header = (f"# {Path(args.spec).name} fitted by sweeps/fit_budget.py to {args.train_seconds:g} s of "
                  f"training: {sec * 1e3:.2f} ms per step of a {len(probe.groups[0].runs)}-member "
                  f"ensemble on {where}, so max_steps = {steps} per run "
                  f"(batch {total['batch_size']}).")
        out = dump_spec(raw, header)
        sweep = parse_spec(out)                     # what is written is a valid spec
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(out)
        print(f"fit_budget: {sec * 1e3:.2f} ms/step, max_steps {steps}; wrote {args.out}", flush=True)
        if not args.run:
            return 0
        counts = run_sweep(sweep, args.db, inline=True, eval_workers=args.eval_workers)
        print(f"fit_budget: {args.db}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        return 0 if set(counts) == {"done"} else 1
    except (ValueError, TypeError, OSError, tomllib.TOMLDecodeError) as err:
        print(f"fit_budget: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
