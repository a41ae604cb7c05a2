"""The sweep driver on a local Ray with 2 CPUs, run as the command line runs it: a driver
killed by its PID mid-sweep and started again leaves each run once in the database, with the
results of an uninterrupted sweep (the oracle: every ensemble trained in this process, one after
the other, without Ray, and recorded in a database of the same spec), read back with the sqlite3
module; failing runs are recorded and the sweep goes on; readers query while the driver writes.
One sweep's whole life runs in one test: each Ray start-up costs several seconds."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from betalab.results import open_results

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "sweeps" / "tiny.toml"


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.update(OMP_NUM_THREADS="1", RAY_USAGE_STATS_ENABLED="0")
    return env


def _cmd(spec, db, *extra):
    return [sys.executable, "-m", "betalab.cli", "sweep", "run", str(spec), "--db", str(db),
            "--num-cpus", "2", *extra]


def _end_group(pid):
    """The driver runs in its own session; end what is left of it (Ray's helper processes)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _run(*args):
    proc = subprocess.Popen(_cmd(*args), cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate()
    finally:
        _end_group(proc.pid)
    return proc.returncode, out, err


#: how long the processes a killed driver started may outlive it: the watcher
#: (betalab.sweep.reaper) polls every 0.5 s; Ray's own detection takes 30–90 s
REAPED_WITHIN_S = 15


def _running(proc) -> bool:
    """Still running: not ended and not a zombie (a dead process whose parent has not waited for
    it: in a container whose first process reaps nothing, every orphan of a killed parent)."""
    import psutil

    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill_after_the_first_finished_run(cmd, db, env):
    """Start the driver ``cmd``, read ``db`` while it writes, and kill the driver by its PID as
    soon as one run has finished; every process the driver started (a local Ray cluster, its
    workers) must end by itself soon after. Returns (the counts seen, the last table read)."""
    import psutil

    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    seen, table, left = [], [], []
    try:
        while proc.poll() is None:
            if db.exists():                              # created whole, then renamed in place
                with open_results(db) as reader:          # a reader while the driver writes
                    seen.append(reader.counts())
                    table = reader.table()
                if seen[-1].get("done", 0) + seen[-1].get("failed", 0) >= 1:
                    break
            time.sleep(0.05)
        started = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)                 # the driver, by its PID
        proc.wait()
        deadline = time.monotonic() + REAPED_WITHIN_S
        while (left := [p for p in started if _running(p)]) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        _end_group(proc.pid)
    assert proc.returncode == -signal.SIGKILL            # killed, not finished
    assert not left, f"still running {REAPED_WITHIN_S} s after the driver was killed: {left}"
    return seen, table


def _rows(db):
    con = sqlite3.connect(db)
    try:
        return {r[0]: r[1:] for r in con.execute(
            "SELECT run_id, status, metrics, curve, error, finished_at FROM runs")}
    finally:
        con.close()


def _results(rows):
    return {k: v[:4] for k, v in rows.items()}          # everything but the timestamp


# a small evaluation: the sweeps of this file test the driver, not the scores
SMALL_EVAL = """
[eval]
n_train = 40
n_test = 20
batch_size = 8
mig_samples = 50
"""

FAILING = """
[sweep]
name = "failing"
ensemble = 2
[model]
latent_dim = 3
hidden = 8
[train]
batch_size = 32
max_steps = 5
""" + SMALL_EVAL + """
[grid]
model = ["beta-vae"]
seed = [0, 1]
lr = [1e-3, 1e30]       # one Adam step of size 1e30: the loss is no longer finite
"""


# Two models × two β × two seeds × two learning rates, ensembles of 2: eight ensembles, four of
# which fail (lr 1e30: one Adam step of that size and the loss is no longer finite). Small
# networks and a small evaluation keep each ensemble to about a second, so the test's cost is
# the two Ray start-ups; eight ensembles on 2 CPUs leave several unfinished when the first ends.
def _small_spec(name: str, grid: str) -> str:
    """A spec of small networks (ensembles of 2, 40 steps, checkpoints every 10) and the small
    evaluation, over ``grid`` (the [grid] table's lines)."""
    return f"""
[sweep]
name = "{name}"
ensemble = 2
checkpoint_every = 10
[model]
latent_dim = 3
hidden = 16
[train]
batch_size = 32
max_steps = 40
""" + SMALL_EVAL + "\n[grid]\n" + grid


LIFECYCLE = _small_spec("lifecycle", """
model = ["beta-vae", "beta-tcvae"]
beta = [1.0, 4.0]
seed = [0, 1]
lr = [1e-3, 1e30]
""")


def test_a_killed_driver_restarts_matches_an_uninterrupted_sweep_and_records_failures(
        tmp_path, sweep_in_process):
    """The sweep's whole life on Ray: killed mid-sweep by its PID, started again with the same
    command, it finishes with the oracle's results (failed runs recorded with their error, the
    sweep going on past them); a third call runs nothing, without Ray."""
    from betalab.sweep.spec import load_spec

    spec = tmp_path / "lifecycle.toml"
    spec.write_text(LIFECYCLE)
    sweep_in_process(load_spec(spec), tmp_path / "ref.sqlite")      # the oracle
    ref = _rows(tmp_path / "ref.sqlite")
    assert len(ref) == 16 and sorted(v[0] for v in ref.values()) == ["done"] * 8 + ["failed"] * 8

    db = tmp_path / "cut.sqlite"
    seen, table = _kill_after_the_first_finished_run(_cmd(spec, db), db, _env())
    assert all(sum(c.values()) == 16 for c in seen) and len(table) >= 1
    cut = _rows(db)
    finished = {k: v for k, v in cut.items() if v[0] in ("done", "failed")}
    assert 1 <= len(finished) < 16
    assert all(cut[k][:4] == ref[k][:4] for k in finished)

    code, out, err = _run(spec, db)                       # the same command again
    assert code == 1, err                                 # some runs failed, by design
    assert "Token authentication is enabled" not in err   # Ray's start-up notice is not shown
    assert f"{len(finished)} finished" in out
    after = _rows(db)
    assert _results(after) == _results(ref)               # each run once, the same results
    assert all(after[k][4] == v[4] for k, v in finished.items())   # finished runs were not re-run
    assert all(v[3].startswith("non-finite loss at step") for v in after.values() if v[0] == "failed")
    assert not (tmp_path / "cut.sqlite.checkpoints").exists()

    code, out, err = _run(spec, db)                       # nothing left to run: no Ray, no change
    assert code == 1 and "16 finished, 0 ensembles to run" in out
    assert _rows(db) == after
    status = subprocess.run([sys.executable, "-m", "betalab.cli", "sweep", "status", "--db", str(db)],
                            cwd=ROOT, env=_env(), capture_output=True, text=True)
    assert status.returncode == 0 and "8 done, 8 failed" in status.stdout
    assert status.stdout.count("non-finite loss at step") == 8


def test_bad_input_fails_before_anything_is_written(tmp_path):
    code, out, err = _run(TINY, tmp_path / "a.sqlite", "--address", "127.0.0.1:1")
    assert code == 2 and "--address" in err and not (tmp_path / "a.sqlite").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.read_text().replace("hidden = 32", "hidden = 32\nwidth = 3"))
    code, out, err = _run(bad, tmp_path / "b.sqlite")
    assert code == 2 and "model.width" in err and not (tmp_path / "b.sqlite").exists()
    spec = tmp_path / "failing.toml"
    spec.write_text(FAILING)
    from betalab.sweep.spec import load_spec
    from betalab.sweep.store import ResultsStore

    ResultsStore(tmp_path / "c.sqlite", load_spec(spec)).close()   # a database of another spec
    code, out, err = _run(TINY, tmp_path / "c.sqlite")
    assert code == 2 and "another spec" in err


def test_one_driver_per_database(tmp_path):
    from betalab.sweep.driver import _lock, run_sweep

    held = _lock(tmp_path / "d.sqlite")                   # as a running driver holds it
    try:
        with pytest.raises(ValueError, match="another sweep driver"):
            run_sweep(TINY, tmp_path / "d.sqlite")
    finally:
        held.close()
    assert not (tmp_path / "d.sqlite").exists()


def test_inline_sweep_records_what_the_in_process_oracle_records(tmp_path, sweep_in_process):
    """``--inline`` (no Ray: a machine without it) trains the ensembles in turn in the driver's
    process; its database holds the oracle's results, failures included, and a second call
    runs nothing."""
    from betalab.sweep.spec import load_spec

    spec = tmp_path / "failing.toml"
    spec.write_text(FAILING)
    sweep_in_process(load_spec(spec), tmp_path / "ref.sqlite")
    cmd = [sys.executable, "-m", "betalab.cli", "sweep", "run", str(spec), "--db",
           str(tmp_path / "in.sqlite"), "--inline"]
    done = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True)
    assert done.returncode == 1, done.stderr                       # two runs fail by design
    assert _results(_rows(tmp_path / "in.sqlite")) == _results(_rows(tmp_path / "ref.sqlite"))
    assert not (tmp_path / "in.sqlite.checkpoints").exists()
    again = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True)
    assert again.returncode == 1 and "4 finished, 0 ensembles to run" in again.stdout
    bad = subprocess.run(cmd + ["--num-cpus", "2"], cwd=ROOT, env=_env(), capture_output=True, text=True)
    assert bad.returncode == 2 and "inline" in bad.stderr



# ---- a real cluster: a head node started with `ray start --head`, as on a workstation or cluster

CLUSTER = _small_spec("cluster", """model = ["beta-vae"]
beta = [1.0, 2.0, 4.0, 6.0]
seed = [0, 1]
""")


@pytest.fixture
def ray_head():
    """A Ray head node on 127.0.0.1 (``ray start --head --block``, in its own session), with
    token authentication as Ray starts one (on by default since Ray 2.59), the token a fresh one
    given to this head only (``RAY_AUTH_TOKEN``). Stopped at the end with the processes it
    started (its process group), not with ``ray stop``, which would stop every Ray here."""
    import secrets
    import shutil
    import socket
    import tempfile

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(32)
    temp = tempfile.mkdtemp(prefix="rh", dir="/tmp")    # Ray's socket paths must stay short
    env = {k: v for k, v in _env().items() if k != "RAY_AUTH_MODE"}
    env["RAY_AUTH_TOKEN"] = token
    log = open(Path(temp) / "head.log", "w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block", f"--port={port}",
         "--node-ip-address=127.0.0.1", "--num-cpus=2", "--include-dashboard=false",
         "--disable-usage-stats", f"--temp-dir={temp}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    t0 = time.monotonic()
    try:
        while True:              # a hang guard, not a performance bound: a head that never comes up
            assert proc.poll() is None, (Path(temp) / "head.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() - t0 < 180, (Path(temp) / "head.log").read_text()
                time.sleep(0.3)
        yield f"127.0.0.1:{port}", token
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)           # --block stops what it started
            proc.wait(60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            _end_group(proc.pid)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def test_a_sweep_on_a_real_head_node_survives_a_killed_driver(tmp_path, ray_head, sweep_in_process):
    """``--address`` against a head started by ``ray start --head``, which requires its token:
    the driver sends it without being told (``RAY_AUTH_MODE`` unset, the token in
    ``RAY_AUTH_TOKEN``), is killed after its first finished run, and the same command finishes
    the sweep with the results of the in-process oracle, each run once."""
    from betalab.sweep.spec import load_spec

    address, token = ray_head
    spec = tmp_path / "cluster.toml"
    spec.write_text(CLUSTER)
    sweep_in_process(load_spec(spec), tmp_path / "ref.sqlite")
    ref = _rows(tmp_path / "ref.sqlite")
    env = {k: v for k, v in _env().items() if k != "RAY_AUTH_MODE"}
    env["RAY_AUTH_TOKEN"] = token
    db = tmp_path / "cluster.sqlite"
    cmd = [sys.executable, "-m", "betalab.cli", "sweep", "run", str(spec), "--db", str(db),
           "--address", address]
    _kill_after_the_first_finished_run(cmd, db, env)
    finished = {k for k, v in _rows(db).items() if v[0] == "done"}
    assert 1 <= len(finished) < 8
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          start_new_session=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{len(finished)} finished" in done.stdout
    assert "Token authentication" not in done.stderr and "InvalidAuthToken" not in done.stderr
    after = _rows(db)
    assert {v[0] for v in after.values()} == {"done"} and _results(after) == _results(ref)


def test_status_reads_each_unfinished_ensembles_checkpoint_and_the_pace(tmp_path, sweep_in_process,
                                                                        capsys):
    """`betalab sweep status` on a sweep with two ensembles done, one under way (a checkpoint at
    step 20 of 40 with one evaluation along training) and one pending: the step and evaluations
    are read from the checkpoint, the pace is the finished runs' mean training share plus
    evaluation (summed by hand from the database), and the time left counts half the steps of
    the running ensemble and all of the pending one's."""
    import torch

    from betalab.cli import main
    from betalab.sweep.driver import checkpoint_dir, progress
    from betalab.sweep.spec import load_spec

    sweep = load_spec(TINY)
    db = tmp_path / "s.sqlite"
    sweep_in_process(sweep, db)
    running, pending = sweep.groups[2], sweep.groups[3]
    con = sqlite3.connect(db)
    for g, status in ((running, "running"), (pending, "pending")):
        con.executemany("UPDATE runs SET status = ? WHERE run_id = ?",
                        [(status, r["run_id"]) for r in g.runs])
    con.commit()
    done = con.execute("SELECT train_seconds, eval_seconds FROM runs WHERE status = 'done'").fetchall()
    con.close()
    size = len(running.runs)
    pace = sum(t / size + e for t, e in done) / len(done)
    ck = checkpoint_dir(db)
    ck.mkdir()
    torch.save({"format": 1, "group_id": running.group_id, "ensemble": {"step": 20},
                "along": [{"steps": [10]}] * size}, ck / f"{running.group_id}.pt")
    p = progress(db, now=(ck / f"{running.group_id}.pt").stat().st_mtime + 30)
    assert [g["group_id"] for g in p["groups"]] == [running.group_id, pending.group_id]
    first = p["groups"][0]
    assert (first["step"], first["steps"], first["evaluated"]) == (20, 40, 1)
    assert first["checkpoint_age_s"] == pytest.approx(30)
    assert p["pace"] == pytest.approx(pace)
    assert p["left_s"] == pytest.approx(size * pace * 0.5 + len(pending.runs) * pace)
    assert main(["sweep", "status", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"ensemble {running.group_id} (2 running): step 20 of 40, 1 evaluation along training" in out
    assert "1 ensemble not started" in out and "left at the pace of the finished runs" in out
