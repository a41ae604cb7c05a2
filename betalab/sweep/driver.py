"""The sweep driver: hand every unfinished ensemble of a spec to Ray, write each outcome to
the results database as it arrives. The only module of betalab that imports ray.

* Ray: an embedded local instance by default (the machine's cores, no dashboard); an existing
  cluster with ``address``, with no other change; or none with ``inline=True`` (the ensembles
  in turn in this process: a machine without Ray, e.g. one GPU host). On a GPU each ensemble asks for
  ``sweep.gpus_per_task`` of a GPU, so several ensembles share one device.
* Restart: the database knows every run's status; a driver started again with the same spec
  and database submits only ensembles that still have runs neither ``done`` nor ``failed``
  (a finished run is never re-run, and never overwritten), and an ensemble that was killed
  mid-training resumes from its checkpoint under ``<db>.checkpoints/``.
* Isolation: a run whose loss becomes non-finite, or a task that raises, is recorded as
  ``failed`` with its error in one line and the kind of its failure, and the sweep goes on.
* Retry: a run that failed for a transient reason (I/O, out of memory, a killed worker, a
  checkpoint that cannot be read: :func:`betalab.sweep.work.failure_kind`) is run again by the
  next driver, from its ensemble's last valid checkpoint or from scratch; ``retry="failed"``
  (``--retry failed``) runs every failed run again, ``retry="none"`` none. An ensemble's
  checkpoint is kept while one of its runs may be retried; checkpoints that could not be read
  are kept in ``<db>.checkpoints/corrupt/``, never deleted.
* Faults of the database or its path (a directory, a file where a directory should be, a
  truncated or foreign database, a directory this user may not write, a read-only or full
  disk) raise ValueError in one line before anything is written (:func:`check_db_path`;
  ``betalab sweep run`` exits 2); a database that stops accepting writes mid-sweep does the
  same, its unfinished runs left for the next driver.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from betalab.sweep.spec import Sweep, load_spec
from betalab.sweep.store import FINISHED, RETRY, ResultsStore, check_database, one_line


def checkpoint_dir(db_path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".checkpoints")


def progress(db_path, now: float | None = None) -> dict:
    """Where the sweep in the database at ``db_path`` stands, for ``betalab sweep status``.

    Returns ``groups``: one entry per ensemble with a run not done — its ``group_id``, ``runs``
    (count), ``statuses`` (counts), and from its checkpoint, when one is written
    (``<db>.checkpoints/<group>.pt``): ``step`` (the optimizer steps done), ``steps`` (the
    runs' ``max_steps``), ``evaluated`` (evaluations along training done, per member) and
    ``checkpoint_age_s``; and ``pace``: from the finished ensembles, the mean seconds of
    training and evaluation per run (None before one has finished), and ``left_s``, the runs
    not done at that pace, one ensemble at a time, less the steps their checkpoints hold."""
    import torch

    from betalab.results import open_results

    now = time.time() if now is None else now
    ckdir = checkpoint_dir(db_path)
    with open_results(db_path) as res:
        rows = res.runs()
    by_group: dict[str, list] = {}
    for r in rows:
        by_group.setdefault(r["group_id"], []).append(r)
    done = [r for r in rows if r["status"] == "done" and r.get("train_seconds") is not None]
    # train_seconds is the group's (its members together), eval_seconds per model
    per_run = None
    if done:
        size = {g: len(rs) for g, rs in by_group.items()}
        per_run = float(sum(r["train_seconds"] / size[r["group_id"]] + (r["eval_seconds"] or 0.0)
                            for r in done) / len(done))
    groups, left = [], 0.0
    for gid, rs in by_group.items():
        if all(r["status"] == "done" for r in rs):
            continue
        entry = {"group_id": gid, "runs": len(rs), "statuses": {}}
        for r in rs:
            entry["statuses"][r["status"]] = entry["statuses"].get(r["status"], 0) + 1
        steps = rs[0]["config"].get("max_steps")
        entry["steps"] = steps
        ck = ckdir / f"{gid}.pt"
        todo = sum(r["status"] != "done" for r in rs)
        frac_done = 0.0
        if ck.exists():
            try:
                state = torch.load(ck, map_location="cpu", weights_only=True, mmap=True)
                entry["step"] = int(state["ensemble"]["step"])
                entry["evaluated"] = _evaluations(state)
                entry["checkpoint_age_s"] = max(0.0, now - ck.stat().st_mtime)
                if steps:
                    frac_done = min(1.0, entry["step"] / steps)
            except Exception as err:  # noqa: BLE001 - a checkpoint being written or damaged
                entry["checkpoint_error"] = one_line(err)
        groups.append(entry)
        if per_run is not None:
            left += todo * per_run * (1.0 - frac_done)
    return {"groups": groups, "pace": per_run, "left_s": left if per_run is not None else None}


def _evaluations(state: dict) -> int:
    """Evaluations along training a checkpoint holds (per member)."""
    along = state.get("along") or []
    first = along[0] if along else {}
    return len(first.get("steps", [])) if isinstance(first, dict) else 0


def check_address(address: str, timeout: float = 5.0) -> None:
    """ValueError unless something listens at ``address`` ("host:port", "ray://host:port";
    "auto" is left to Ray). Ray itself would retry an unreachable address for minutes."""
    if address == "auto":
        return
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--address {address!r}: expected HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise ValueError(f"--address {address!r}: no Ray cluster reachable there ({err})") from None


def _use_cluster_token() -> None:
    """Before connecting to a running cluster: if ``RAY_AUTH_MODE`` is unset and a token is
    available (``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``, the file
    ``ray start --head`` writes), authenticate with it. Ray 2.59 and later start a head node with
    token authentication on, but a driver that connects to one only sends the token when told
    to; without it the connection fails after ~20 s of retries ("Authentication token is missing
    or incorrect"). An explicit ``RAY_AUTH_MODE`` is left as it is."""
    if os.environ.get("RAY_AUTH_MODE") is not None:
        return
    try:      # Ray's own switch (the one ray.init uses for a new local cluster), quietly
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available)
    except ImportError:       # a Ray without token authentication: nothing to send
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def _init_ray(address, num_cpus):
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")      # no network at run time
    # Ray turns token authentication on for a new local cluster (a token in ~/.ray/auth_token)
    # and announces it with a warning at every start; the behaviour is kept, the line dropped.
    # Its other warnings still show (level ERROR only on that module's logger).
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
    if address:
        check_address(address)
        _use_cluster_token()
        try:
            ray.init(address=address, **kw)
        except Exception as err:               # ConnectionError, ValueError, RuntimeError, ...
            raise ValueError(f"--address {address!r}: cannot connect to a Ray cluster: "
                             f"{type(err).__name__}: {err}") from None
    else:
        ray.init(num_cpus=num_cpus or os.cpu_count(), **kw)
    return ray


def _watch_local_cluster():
    """Start :mod:`betalab.sweep.reaper` for the local cluster ``ray.init`` just started (its
    processes are this driver's children); returns the watcher's Popen, or None."""
    import psutil

    me = psutil.Process()
    cluster = [f"{p.pid}:{p.create_time()!r}" for p in me.children()]
    if not cluster:
        return None
    return subprocess.Popen([sys.executable, "-m", "betalab.sweep.reaper", str(me.pid),
                             repr(me.create_time()), *cluster],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)


def run_sweep(sweep: Sweep | str | os.PathLike, db_path, *, address: str | None = None,
              num_cpus: int | None = None, inline: bool = False, eval_workers: int = 1,
              retry: str = "transient", log=print) -> dict:
    """Run (or continue) ``sweep`` into the database at ``db_path``; returns the status counts.

    ``inline``: no Ray; the ensembles are trained in turn in this process (same results,
    checkpoints and resumption; ``address`` and ``num_cpus`` must then be left unset); None:
    the faster engine for the spec at hand (:func:`choose_engine`);
    ``eval_workers`` (inline only) processes fit each ensemble's Higgins classifiers side by
    side (:func:`deep.metrics.summary.evaluate_vaes`: the same results), for a GPU host whose
    cores would otherwise wait. ``retry``: which failed runs of an earlier driver run again
    (``transient``, ``failed``: all, ``none``). Everything is validated (spec, database) before
    Ray starts."""
    if not isinstance(sweep, Sweep):
        sweep = load_spec(sweep)
    if num_cpus is not None and (not isinstance(num_cpus, int) or num_cpus < 1):
        raise ValueError(f"num_cpus must be a positive int, got {num_cpus!r}")
    if inline is not None and not isinstance(inline, bool):
        raise TypeError(f"inline must be a bool or None, got {type(inline).__name__}")
    if inline is None and (address or num_cpus is not None):
        inline = False                          # a cluster, or a local Ray's size: Ray was asked for
    if inline is None and isinstance(eval_workers, int) and eval_workers > 1:
        inline = True                           # evaluation workers are the inline engine's
    if inline and (address or num_cpus is not None):
        raise ValueError("inline: runs without Ray, so address and num_cpus must be left unset")
    if not isinstance(eval_workers, int) or isinstance(eval_workers, bool) or eval_workers < 1:
        raise ValueError(f"eval_workers must be a positive int, got {eval_workers!r}")
    if retry not in RETRY:
        raise ValueError(f"retry must be one of {RETRY}, got {retry!r}")
    if eval_workers > 1 and inline is False:
        raise ValueError("eval_workers: Ray gives each ensemble one CPU; more evaluation workers "
                         "need inline")
    if address:
        check_address(address)             # before a new database is created
    check_db_path(db_path, sweep)          # read-only: before the lock or anything is written
    made = _make_parents(Path(db_path))
    existed = Path(db_path).exists()
    try:
        lock = _lock(db_path)
        try:
            return _run_locked(sweep, db_path, address, num_cpus, inline, eval_workers, retry, log)
        except ValueError:
            # refused before any run started (no cluster, no GPU, ...): a database this call
            # created holds nothing but pending runs, so it goes, as if nothing had been written
            if not existed:
                _discard_unstarted(db_path)
            raise
        finally:
            Path(lock.name).unlink(missing_ok=True)
            lock.close()
    except (OSError, sqlite3.Error) as err:          # the disk filled up, went read-only, ...
        raise ValueError(f"{db_path}: {one_line(err)}") from None
    finally:
        for d in reversed(made):                    # the directories made for nothing
            try:
                d.rmdir()
            except OSError:
                break


def _discard_unstarted(db_path) -> None:
    """Remove the database at ``db_path`` (and its journal) if none of its runs ever started."""
    try:
        con = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
        try:
            started = con.execute("SELECT COUNT(*) FROM runs WHERE status != 'pending'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return
    if started == 0:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def check_db_path(db_path, sweep: Sweep | None = None) -> None:
    """ValueError, in one line naming the fault, unless a driver can write the database at
    ``db_path``: not a directory; its nearest existing ancestor a directory this user may write
    (``os.access``: a read-only file system is refused for root as well); an existing file
    readable and writable and a sweep database of ``sweep`` (:func:`check_database`).
    Reads only: nothing is created."""
    p = Path(db_path)
    if p.is_dir():
        raise ValueError(f"--db {p}: a directory, not a database file")
    if p.exists() and not p.is_file():
        raise ValueError(f"--db {p}: not a regular file")
    parent = p.parent
    while not parent.exists():
        if parent.is_symlink():
            raise ValueError(f"--db {p}: {parent} is a dangling link")
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"--db {p}: {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"--db {p}: cannot write in {parent} (read-only or permission denied)")
    if p.exists():
        if not os.access(p, os.R_OK | os.W_OK):
            raise ValueError(f"--db {p}: a read-only file")
        check_database(p, sweep)


def _make_parents(path: Path) -> list[Path]:
    """Create the missing directories above ``path``; the ones created, outermost first."""
    missing = []
    d = path.parent
    while not d.exists():
        missing.append(d)
        d = d.parent
    for d in reversed(missing):
        d.mkdir()
    return missing[::-1]


def _exclusive(f, db_path):
    """``f`` (an open file) locked exclusively for this driver's lifetime (the system drops the
    lock when the process ends, killed or not); closed, and a ValueError, if another holds it."""
    import fcntl

    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise ValueError(f"{db_path}: another sweep driver is running on this database") from None
    return f


def _lock(db_path):
    """An exclusive lock on ``<db>.lock``: one driver per database."""
    path = Path(f"{db_path}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    return _exclusive(open(path, "a"), db_path)


def _hold_database(db_path):
    """A second exclusive lock, on the database file itself (``flock``, which SQLite's own
    byte-range locks do not touch), once it exists: ``<db>.lock`` can be deleted by hand while a
    driver runs, the database cannot without losing the sweep. None while there is no file."""
    try:
        f = open(db_path, "rb")
    except FileNotFoundError:
        return None
    return _exclusive(f, db_path)


def _run_locked(sweep, db_path, address, num_cpus, inline, eval_workers, retry, log):
    held = _hold_database(db_path)          # before the store reads or writes anything
    try:
        store = ResultsStore(db_path, sweep)
        held = held or _hold_database(db_path)
        return _run_store(sweep, store, db_path, address, num_cpus, inline, eval_workers, retry, log)
    finally:
        if held is not None:
            held.close()


def _run_store(sweep, store, db_path, address, num_cpus, inline, eval_workers, retry, log):
    try:
        again = store.retry(retry)
        if again:
            log(f"retrying {len(again)} failed runs "
                f"({'every failed run' if retry == 'failed' else 'transient failures'})")
        status = store.statuses()
        todo = [g for g in sweep.groups if any(status[r["run_id"]] not in FINISHED for r in g.runs)]
        n_done = sum(s in FINISHED for s in status.values())
        engine = ""
        if todo and inline is None:
            inline, why = choose_engine(sweep, todo)
            engine = f"; {why}"
        log(f"sweep {sweep.name!r}: {len(sweep.runs)} runs in {len(sweep.groups)} ensembles; "
            f"{n_done} finished, {len(todo)} ensembles to run{engine}")
        if todo:
            if inline:
                _dispatch_inline(sweep, store, todo, db_path, eval_workers, log)
            else:
                _dispatch(sweep, store, todo, db_path, address, num_cpus, log)
        counts = _counts(store.statuses())
        transient = store.conn.execute(
            "SELECT COUNT(*) FROM runs WHERE failure = 'transient' AND status = 'failed'").fetchone()[0]
    finally:
        store.close()
    if counts.get("pending", 0) == counts.get("running", 0) == transient == 0:
        _remove_checkpoints(checkpoint_dir(db_path))
    return counts


#: seconds a local Ray costs a CPU sweep beyond its training: starting the cluster and its
#: workers (each imports torch and builds the data set) and shutting it down. Measured on this
#: repository's 2-core machine, one core free (a training job on the other): sweeps/tiny.toml
#: (4 ensembles) took 27.7 and 28.9 s on a one-CPU local Ray (its ensembles in turn, as inline)
#: against 15.6 and 17.5 s inline, alternating rounds: 11.7 s more.
RAY_OVERHEAD_S = 12.0


def _probe_seconds(group) -> float:
    """Seconds one ensemble's training takes, from two timed steps after one untimed one (the
    evaluation is left out, so an estimate that is low when evaluation is long)."""
    from betalab.sweep.work import build_ensemble

    ens, _, _ = build_ensemble(group.runs, "cpu")
    first = group.runs[0]
    total = ens.total_steps if first["max_steps"] is None else min(first["max_steps"], ens.total_steps)
    ens.run_step()
    t0 = time.perf_counter()
    ens.run_step()
    ens.run_step()
    return total * (time.perf_counter() - t0) / 2


def choose_engine(sweep, todo) -> tuple[bool, str]:
    """(inline, why) for the ensembles ``todo`` of ``sweep`` when no engine was named: Ray for a
    device other than the CPU (ensembles share a GPU); inline when Ray would have nothing to run
    side by side (one ensemble, one core); otherwise Ray when running ensembles side by side on
    the cores saves more than :data:`RAY_OVERHEAD_S`, from a probe of the first ensemble's
    training (:func:`_probe_seconds`)."""
    if sweep.settings["device"] != "cpu":
        return False, f"engine Ray (device {sweep.settings['device']}: ensembles share the GPU)"
    cores, n = os.cpu_count() or 1, len(todo)
    if n < 2 or cores < 2:
        return True, (f"engine inline ({n} ensemble{'s' * (n != 1)} on {cores} "
                      f"core{'s' * (cores != 1)}: nothing to run side by side)")
    per_group = _probe_seconds(todo[0])
    workers = min(cores, n)
    saved = (n - math.ceil(n / workers)) * per_group
    if saved > RAY_OVERHEAD_S:
        return False, (f"engine Ray ({n} ensembles of ≈{per_group:.3g} s training on {workers} "
                       f"workers save ≈{saved:.0f} s, more than Ray's ≈{RAY_OVERHEAD_S:.0f} s "
                       "start-up; --inline to train them in this process)")
    return True, (f"engine inline ({n} ensembles of ≈{per_group:.3g} s training: {workers} Ray "
                  f"workers would save ≈{saved:.0f} s, less than Ray's ≈{RAY_OVERHEAD_S:.0f} s "
                  "start-up; --num-cpus N to use Ray)")


def _remove_checkpoints(ckdir: Path) -> None:
    """The ensembles' checkpoints (and temporaries of killed writers) of a sweep with nothing
    left to run; ``corrupt/`` (checkpoints that could not be read) stays."""
    if not ckdir.is_dir():
        return
    for p in ckdir.iterdir():
        if p.is_file():
            p.unlink(missing_ok=True)
    try:
        ckdir.rmdir()
    except OSError:            # corrupt/ is there
        pass


def _dispatch(sweep, store, todo, db_path, address, num_cpus, log):
    from betalab.sweep.work import resolve_device, train_group

    device = sweep.settings["device"]
    ray = _init_ray(address, num_cpus)
    watcher = None if address else _watch_local_cluster()
    try:
        if device == "auto":
            device = "cuda" if ray.cluster_resources().get("GPU", 0) > 0 else "cpu"
        if device == "cuda" and ray.cluster_resources().get("GPU", 0) <= 0:
            raise ValueError("sweep.device cuda: the Ray cluster has no GPU")
        if device == "cpu":
            resolve_device("cpu")
        _check_precision(sweep, device)
        gpus = sweep.settings["gpus_per_task"] if device == "cuda" else 0
        task = ray.remote(num_cpus=1, num_gpus=gpus, max_retries=0)(train_group)
        ckdir = checkpoint_dir(db_path)           # made by the first checkpoint written
        pending = {}
        for g in todo:
            store.mark_running([r["run_id"] for r in g.runs])
            ref = task.remote(g.runs, checkpoint_dir=str(ckdir), group_id=g.group_id, device=device,
                              checkpoint_every=sweep.settings["checkpoint_every"],
                              precision=sweep.settings["precision"])
            pending[ref] = g
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            g = pending.pop(ready[0])
            try:
                results = ray.get(ready[0])
            except Exception as err:          # the worker died (killed, out of memory): record, go on
                results = [{"run_id": r["run_id"], "status": "failed", "error": one_line(err),
                            "failure": "transient", "finished_at": time.time()} for r in g.runs]
            _record(store, g, results, ckdir, log)
    finally:
        ray.shutdown()
        if watcher is not None:
            watcher.kill()
            watcher.wait()


def _check_precision(sweep, device) -> None:
    """``sweep.precision`` against the device the runs train on (``auto`` resolved), before any
    run starts: tf32 where no CUDA is is a spec error, not a failure of every run."""
    from deep.precision import resolve_precision

    try:
        resolve_precision(sweep.settings["precision"], str(device))
    except ValueError as err:
        raise ValueError(f"spec key 'sweep.precision': {err}") from None


def _dispatch_inline(sweep, store, todo, db_path, eval_workers, log):
    """The ensembles in turn in this process, each recorded as it finishes (no Ray)."""
    from betalab.sweep.work import resolve_device, train_group

    device = resolve_device(sweep.settings["device"])
    _check_precision(sweep, device)
    ckdir = checkpoint_dir(db_path)               # made by the first checkpoint written
    for i, g in enumerate(todo):
        log(f"ensemble {g.group_id} ({i + 1}/{len(todo)}, {len(g.runs)} runs) on {device}")
        store.mark_running([r["run_id"] for r in g.runs])
        results = train_group(g.runs, checkpoint_dir=str(ckdir), group_id=g.group_id,
                              device=str(device), checkpoint_every=sweep.settings["checkpoint_every"],
                              eval_workers=eval_workers, precision=sweep.settings["precision"])
        _record(store, g, results, ckdir, log)


def _record(store, g, results, ckdir, log):
    store.record(*results)                       # the ensemble's runs at once
    if not any(r.get("failure") == "transient" for r in results):   # else kept for the retry
        (ckdir / f"{g.group_id}.pt").unlink(missing_ok=True)
    done = sum(r["status"] == "done" for r in results)
    log(f"ensemble {g.group_id}: {done}/{len(results)} done"
        + "".join(f"; {r['run_id']} failed ({r.get('failure') or 'unknown'}): {r['error']}"
                  for r in results if r["status"] == "failed"))


def _counts(status: dict) -> dict:
    out = {}
    for s in status.values():
        out[s] = out.get(s, 0) + 1
    return out
