"""Sweep overhead: run a spec (default sweeps/tiny.toml) into a fresh database and compare the
driver's wall time with the time the tasks themselves took (data, training, evaluation).

    .venv/bin/python benchmarks/bench_sweep.py [--spec sweeps/tiny.toml] [--num-cpus 2]

overhead per run = (wall × parallel tasks − Σ task time) / runs: Ray start-up, scheduling,
transfers and the database writes, as a fraction of the mean task time per run.
"""

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from betalab.sweep.driver import run_sweep
from betalab.sweep.spec import load_spec


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--spec", default="sweeps/tiny.toml")
    p.add_argument("--num-cpus", type=int, default=2)
    args = p.parse_args()
    sweep = load_spec(args.spec)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        t0 = time.time()
        run_sweep(sweep, db, num_cpus=args.num_cpus, log=lambda *_: None)
        wall = time.time() - t0
        con = sqlite3.connect(db)
        first = con.execute("SELECT MIN(submitted_at) FROM runs").fetchone()[0]
        groups = con.execute("SELECT group_id, MIN(started_at), MAX(finished_at), MAX(train_seconds), "
                             "SUM(eval_seconds) FROM runs GROUP BY group_id").fetchall()
        con.close()
    n = len(sweep.runs)
    task = sum(g[2] - g[1] for g in groups)
    train = sum(g[3] for g in groups)
    parallel = min(args.num_cpus, len(groups))
    overhead = (wall * parallel - task) / n
    print(f"{args.spec}: {n} runs in {len(groups)} ensembles on {args.num_cpus} CPUs: wall {wall:.1f} s; "
          f"tasks {task:.1f} s in all (training {train:.1f} s, evaluation "
          f"{sum(g[4] for g in groups):.1f} s); overhead per run {overhead:.2f} s = "
          f"{overhead / (task / n):.2f} of a run's task time; of the wall time, "
          f"{first - t0:.1f} s before the first submission (Ray start-up, database)")


if __name__ == "__main__":
    main()
