"""``betalab sweep run`` against faults of its database and paths (issue 34): a truncated,
empty or garbage database, a database path that is a directory, a parent path that is a file, a
directory the user may not write, a read-only database file and a full disk each end in one line
on stderr and exit status 2, with nothing written (the directory listing and the file's bytes
are compared before and after).

The driver runs in this process (``--inline``: no Ray) or in a forked child of it when the
fault needs one: a child that drops root to uid/gid 65534 meets the kernel's permission checks
(root ignores them), and a child with ``RLIMIT_FSIZE`` set (SIGXFSZ ignored) meets a disk that
is full for it — writes past the limit fail with EFBIG ("File too large"; SQLite reports "disk
I/O error"; a real ENOSPC would need a tiny file system mounted, which needs root). Both are real
faults of the system calls, not patched functions; SQLite's own "database or disk is full" is
also given to the driver by a patched ``sqlite3.connect``."""

import os
import resource
import shutil
import signal
import sqlite3
import sys
import tempfile
import traceback
from pathlib import Path

import pytest

import betalab.runner  # noqa: F401 - imported before a child drops its rights (lazy imports)
import betalab.sweep.driver  # noqa: F401
import betalab.sweep.work  # noqa: F401
from betalab.cli import main
from betalab.sweep.spec import load_spec
from betalab.sweep.store import ResultsStore

SPEC = """
[sweep]
name = "faults"
ensemble = 2
[model]
latent_dim = 3
hidden = 8
[train]
batch_size = 32
max_steps = 4
[eval]
n_train = 40
n_test = 20
batch_size = 8
mig_samples = 50
[grid]
model = ["beta-vae"]
beta = [1.0, 2.0]
seed = [0]
"""


@pytest.fixture
def shared(tmp_path):
    """A directory every uid may enter and read (not the 0700 pytest directories), with the
    spec in it; removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="betalab-faults-"))
    root.chmod(0o755)
    (root / "spec.toml").write_text(SPEC)
    (root / "spec.toml").chmod(0o644)
    load_spec(root / "spec.toml")          # every lazy import of parsing done in this process
    yield root
    for d, _, _ in os.walk(root):
        os.chmod(d, 0o755)
    shutil.rmtree(root)


def _listing(d: Path) -> dict:
    """Every file under ``d`` with its bytes: what "nothing written" compares."""
    return {p.relative_to(d).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(d.rglob("*"))}


def _sweep_run(spec, db, capsys):
    code = main(["sweep", "run", str(spec), "--db", str(db), "--inline"])
    out = capsys.readouterr()
    return code, out.out, out.err


def _database(path: Path) -> Path:
    """A valid database of SPEC (no run finished) at ``path``, in rollback-journal mode."""
    ResultsStore(path, load_spec_text(SPEC)).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    return path


def load_spec_text(text):
    from betalab.sweep.spec import parse_spec

    return parse_spec(text)


def _one_error_line(code, out, err):
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("betalab sweep: error: "), err
    assert "Traceback" not in out + err
    return lines[0]


# ---- faults met in this process --------------------------------------------------------------

def _garbage(p):
    p.write_bytes(b"garbage, not SQLite" * 200)


def _truncated(p):
    data = _database(p).read_bytes()
    p.write_bytes(data[:len(data) // 2])


def _header_only(p):
    data = _database(p).read_bytes()
    p.write_bytes(data[:100])


def _empty(p):
    p.write_bytes(b"")


def _other_spec(p):
    ResultsStore(p, load_spec_text(SPEC.replace("seed = [0]", "seed = [0, 1]"))).close()


DATABASE_FAULTS = {"garbage": (_garbage, "not a betalab sweep database"),
                   "truncated": (_truncated, "damaged|not a betalab sweep database"),
                   "header only": (_header_only, "damaged|not a betalab sweep database"),
                   "empty": (_empty, "not a betalab sweep database"),
                   "other spec": (_other_spec, "another spec")}


@pytest.mark.parametrize("fault", sorted(DATABASE_FAULTS))
def test_a_bad_database_is_refused_in_one_line(shared, capsys, fault):
    import re

    db = shared / "data" / "r.sqlite"
    db.parent.mkdir()
    make, why = DATABASE_FAULTS[fault]
    make(db)
    before = _listing(shared)
    line = _one_error_line(*_sweep_run(shared / "spec.toml", db, capsys))
    assert re.search(why, line) and str(db) in line, line
    assert _listing(shared) == before                  # no .lock, -wal, -shm or byte changed


def test_a_database_path_that_is_a_directory(shared, capsys):
    (shared / "r.sqlite").mkdir()
    before = _listing(shared)
    line = _one_error_line(*_sweep_run(shared / "spec.toml", shared / "r.sqlite", capsys))
    assert "a directory, not a database file" in line
    assert _listing(shared) == before


@pytest.mark.parametrize("depth", [1, 3])
def test_a_parent_path_that_is_a_file(shared, capsys, depth):
    (shared / "plain").write_text("a file")
    db = shared.joinpath("plain", *["sub"] * (depth - 1), "r.sqlite")
    before = _listing(shared)
    line = _one_error_line(*_sweep_run(shared / "spec.toml", db, capsys))
    assert f"{shared / 'plain'} is a file, not a directory" in line
    assert _listing(shared) == before


def test_missing_parents_are_made_and_removed_when_nothing_is_written(shared, capsys, monkeypatch):
    """A database in directories that do not exist yet: they are made for it, and removed
    again when the database cannot be created (here: SQLite refuses, as on a full disk)."""
    real = sqlite3.connect

    def full(path, *a, **kw):
        if ".tmp" in str(path):
            raise sqlite3.OperationalError("database or disk is full")
        return real(path, *a, **kw)

    monkeypatch.setattr(sqlite3, "connect", full)
    before = _listing(shared)
    line = _one_error_line(*_sweep_run(shared / "spec.toml", shared / "a" / "b" / "r.sqlite", capsys))
    assert "cannot create the database (OperationalError: database or disk is full)" in line
    assert _listing(shared) == before


# ---- faults met in a child process: another uid, a file-size limit ----------------------------

def _in_child(fn, *, other_user=False, fsize=None):
    """``fn()`` in a forked child; its exit status and its stdout + stderr. ``other_user``:
    the child drops root to uid/gid 65534 (when it is root); ``fsize``: RLIMIT_FSIZE in bytes."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                               # the child
        code = 99
        try:
            os.close(r)
            os.dup2(w, 1)
            os.dup2(w, 2)
            sys.stdout = sys.stderr = os.fdopen(w, "w", buffering=1)
            if fsize is not None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            if other_user and os.getuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            code = fn()
        except BaseException:                                   # noqa: BLE001 - reported
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            os._exit(code if isinstance(code, int) else 98)
    os.close(w)
    with os.fdopen(r) as f:
        text = f.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), text


def _cli(spec, db):
    return lambda: main(["sweep", "run", str(spec), "--db", str(db), "--inline"])


def _child_error_line(code, text):
    assert code == 2, text
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("betalab sweep: error: "), text
    return lines[0]


@pytest.mark.parametrize("where", ["r.sqlite", "sub/deeper/r.sqlite"])
def test_a_directory_the_user_may_not_write(shared, where):
    """Mode 0555 (owned by root when the test runs as root, read by uid 65534): refused before
    the lock file or any directory is made."""
    ro = shared / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    before = _listing(shared)
    line = _child_error_line(*_in_child(_cli(shared / "spec.toml", ro / where), other_user=True))
    assert f"cannot write in {ro} (read-only or permission denied)" in line, line
    assert _listing(shared) == before


def test_a_read_only_database_file(shared):
    db = _database(shared / "r.sqlite")
    db.chmod(0o444)
    (shared).chmod(0o777)                 # the directory may be written; the file may not
    try:
        before = _listing(shared)
        line = _child_error_line(*_in_child(_cli(shared / "spec.toml", db), other_user=True))
    finally:
        shared.chmod(0o755)
    assert f"--db {db}: a read-only file" in line
    assert _listing(shared) == before


def test_a_full_disk_when_the_database_is_created(shared):
    before = _listing(shared)
    line = _child_error_line(*_in_child(_cli(shared / "spec.toml", shared / "new" / "r.sqlite"),
                                        fsize=2048))
    assert "cannot create the database" in line and "disk I/O error" in line, line
    assert _listing(shared) == before                    # no temporary file, lock or directory


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_a_full_disk_when_the_database_is_written(shared, journal):
    """An existing database that cannot be written (rollback journal: turning it to WAL fails;
    WAL: marking the first ensemble running fails): one line, the rows as they were."""
    db = _database(shared / "r.sqlite")
    if journal == "wal":
        con = sqlite3.connect(db)
        con.execute("PRAGMA journal_mode=WAL")
        con.close()
    before = _listing(shared)
    code, text = _in_child(_cli(shared / "spec.toml", db), fsize=1)
    line = _child_error_line(code, text)
    assert line.startswith(f"betalab sweep: error: {db}: ") and "disk I/O error" in line, line
    assert _listing(shared) == before                  # no -wal, -shm, lock, or byte changed


def test_sweep_status_reads_what_sweep_run_refuses(shared, capsys):
    """The same faults give ``sweep status`` one line too (it reads, never writes)."""
    _garbage(shared / "g.sqlite")
    assert main(["sweep", "status", "--db", str(shared / "g.sqlite")]) == 2
    assert "not a betalab sweep database" in capsys.readouterr().err


# ---- retry (transient failures run again; --retry failed) -------------------------------------

RETRY_SPEC = SPEC.replace('name = "faults"', 'name = "retry"\ncheckpoint_every = 2').replace(
    "max_steps = 4", "max_steps = 6")


def _rows(db):
    con = sqlite3.connect(db)
    try:
        return {r[0]: r[1:] for r in con.execute(
            "SELECT run_id, status, failure, error, metrics, curve, finished_at FROM runs")}
    finally:
        con.close()


def _results(rows):
    return {k: (v[0], v[3], v[4]) for k, v in rows.items()}     # status, metrics, curve


@pytest.fixture
def retry_spec(shared):
    spec = shared / "retry.toml"
    spec.write_text(RETRY_SPEC)
    ref = shared / "ref.sqlite"
    assert main(["sweep", "run", str(spec), "--db", str(ref), "--inline"]) == 0     # the oracle
    return spec, _rows(ref)


@pytest.mark.parametrize("fault", [OSError(28, "No space left on device"), MemoryError()],
                         ids=["ENOSPC", "MemoryError"])
def test_a_transient_failure_is_retried_from_the_last_valid_checkpoint(shared, retry_spec, capsys,
                                                                       monkeypatch, fault):
    """The second checkpoint write fails (step 4 of 6): both runs are recorded failed, transient,
    the cause in one line; the checkpoint of step 2 is kept; the same command again resumes from
    it and stores what an uninterrupted sweep stores."""
    from betalab.sweep import work
    from betalab.sweep.driver import checkpoint_dir

    spec, ref = retry_spec
    db = shared / "r.sqlite"
    real_save, saves, resumed = work._save_checkpoint, [], []

    def failing_save(path, state):
        saves.append(state["ensemble"]["step"])
        if len(saves) == 2:
            raise fault
        real_save(path, state)

    monkeypatch.setattr(work, "_save_checkpoint", failing_save)
    code, out, err = _sweep_run(spec, db, capsys)
    assert code == 1 and f"{db}: 2 failed" in out, (out, err)
    rows = _rows(db)
    cause = "OSError: [Errno 28] No space left on device" if isinstance(fault, OSError) else "MemoryError"
    assert {(v[0], v[1], v[2]) for v in rows.values()} == {("failed", "transient", cause)}
    [ckpt] = checkpoint_dir(db).glob("*.pt")
    assert saves == [2, 4]
    assert main(["sweep", "status", "--db", str(db)]) == 0
    assert capsys.readouterr().out.count(f"(transient): {cause}") == 2

    monkeypatch.setattr(work, "_save_checkpoint", real_save)     # the fault is gone
    real_resume = work._resume
    monkeypatch.setattr(work, "_resume", lambda ens, *a: resumed.append(a[0]) or real_resume(ens, *a))
    code, out, err = _sweep_run(spec, db, capsys)
    assert code == 0 and "retrying 2 failed runs (transient failures)" in out, (out, err)
    assert resumed == [ckpt]                                      # from the step-2 checkpoint
    assert _results(_rows(db)) == _results(ref)
    assert all(v[1] is None for v in _rows(db).values())
    assert not checkpoint_dir(db).exists()


def test_a_truncated_checkpoint_is_moved_aside_and_the_retry_starts_from_scratch(shared, retry_spec,
                                                                                 capsys):
    from betalab.sweep import work
    from betalab.sweep.driver import checkpoint_dir

    spec, ref = retry_spec
    db = shared / "r.sqlite"
    sweep = load_spec(spec)
    ResultsStore(db, sweep).close()
    ckpt = checkpoint_dir(db) / f"{sweep.groups[0].group_id}.pt"
    work._save_checkpoint(ckpt, {"format": work.CHECKPOINT_FORMAT, "group_id": sweep.groups[0].group_id,
                                 "ensemble": {"step": 2}, "curves": []})
    data = ckpt.read_bytes()[:-100]
    ckpt.write_bytes(data)                                        # truncated
    code, out, err = _sweep_run(spec, db, capsys)
    assert code == 1 and "2 failed" in out
    [aside] = (checkpoint_dir(db) / "corrupt").iterdir()
    assert aside.read_bytes() == data and not ckpt.exists()      # moved, not deleted
    errors = {v[2] for v in _rows(db).values()}
    assert len(errors) == 1
    [error] = errors
    assert error.startswith(f"CorruptCheckpoint: checkpoint {ckpt.name} unreadable (")
    assert f"moved to {aside}" in error and "\n" not in error
    assert {v[1] for v in _rows(db).values()} == {"transient"}
    code, out, err = _sweep_run(spec, db, capsys)
    assert code == 0 and "retrying 2 failed runs" in out, (out, err)
    assert _results(_rows(db)) == _results(ref)
    assert sorted(p.relative_to(checkpoint_dir(db)).as_posix()
                  for p in checkpoint_dir(db).rglob("*")) == ["corrupt", f"corrupt/{aside.name}"]


def test_a_deterministic_failure_is_retried_only_when_asked(shared, capsys, monkeypatch):
    """A run whose loss is non-finite (lr = 1e30) stays failed on the next call; ``--retry
    failed`` runs it again (its finished_at moves, the done run's does not), and it fails
    again, deterministic; ``--retry none`` leaves even a transient failure alone."""
    spec = shared / "det.toml"
    spec.write_text(SPEC.replace("[grid]", "[grid]\nlr = [1e-3, 1e30]"))
    db = shared / "d.sqlite"
    code, out, _ = _sweep_run(spec, db, capsys)
    assert code == 1 and "2 done, 2 failed" in out
    first = _rows(db)
    assert {v[1] for v in first.values() if v[0] == "failed"} == {"deterministic"}
    assert all(v[2].startswith("non-finite loss at step") for v in first.values() if v[0] == "failed")
    code, out, _ = _sweep_run(spec, db, capsys)
    assert code == 1 and "4 finished, 0 ensembles to run" in out and _rows(db) == first
    assert main(["sweep", "run", str(spec), "--db", str(db), "--inline", "--retry", "failed"]) == 1
    out = capsys.readouterr().out
    assert "retrying 2 failed runs (every failed run)" in out and "1 ensembles to run" in out
    again = _rows(db)
    for k, v in first.items():
        assert again[k][:3] == v[:3]
        assert (again[k][5] != v[5]) == (v[0] == "failed")
    con = sqlite3.connect(db)
    con.execute("UPDATE runs SET failure = 'transient' WHERE status = 'failed'")
    con.commit()
    con.close()
    assert main(["sweep", "run", str(spec), "--db", str(db), "--inline", "--retry", "none"]) == 1
    assert "4 finished, 0 ensembles to run" in capsys.readouterr().out


def test_failure_kinds():
    import torch

    from betalab.sweep.work import CorruptCheckpoint, failure_kind

    for err in (OSError(28, "No space left on device"), MemoryError(), CorruptCheckpoint("x"),
                FileNotFoundError("gone"), torch.cuda.OutOfMemoryError("CUDA out of memory")):
        assert failure_kind(err) == "transient", err
    for err in (ValueError("spec"), TypeError("t"), KeyError("k"), RuntimeError("bug")):
        assert failure_kind(err) == "deterministic", err


def test_a_database_without_the_failure_column(shared, capsys):
    """Databases written before the ``failure`` column: readers give None, a driver adds it."""
    from betalab.results import open_results

    spec = shared / "spec.toml"
    db = shared / "old.sqlite"
    ResultsStore(db, load_spec(spec)).close()
    con = sqlite3.connect(db)
    con.execute("DROP VIEW runs_readable")            # it came after the column: not there either
    con.execute("ALTER TABLE runs DROP COLUMN failure")
    con.close()
    with open_results(db) as res:
        assert {r["failure"] for r in res.runs()} == {None}
    code, out, err = _sweep_run(spec, db, capsys)
    assert code == 0, err
    con = sqlite3.connect(db)
    assert "failure" in [r[1] for r in con.execute("PRAGMA table_info(runs)")]
    assert con.execute("SELECT COUNT(*) FROM runs_readable WHERE finished IS NOT NULL").fetchone()[0] > 0
    con.close()


def test_a_database_that_fills_up_mid_sweep(shared, retry_spec, capsys, monkeypatch):
    """Recording an ensemble's results fails (SQLite: the disk is full): one line, exit 2, the
    runs left unfinished; the same command again runs them and stores the oracle's results."""
    spec, ref = retry_spec
    db = shared / "r.sqlite"
    real = ResultsStore.record

    def full(self, *results):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ResultsStore, "record", full)
    line = _one_error_line(*_sweep_run(spec, db, capsys))
    assert line == f"betalab sweep: error: {db}: OperationalError: database or disk is full"
    assert {v[0] for v in _rows(db).values()} == {"running"}
    monkeypatch.setattr(ResultsStore, "record", real)
    code, out, err = _sweep_run(spec, db, capsys)
    assert code == 0 and "0 finished, 1 ensembles to run" in out, (out, err)
    assert _results(_rows(db)) == _results(ref)


def test_deleting_the_lock_file_does_not_let_a_second_driver_in(tmp_path):
    """A running driver also holds the database file itself: with ``<db>.lock`` deleted by hand,
    a second driver is still refused in one line, and the database is untouched."""
    from betalab.sweep.driver import _hold_database, _lock, run_sweep
    from betalab.sweep.spec import load_spec
    from betalab.sweep.store import ResultsStore

    tiny = Path(__file__).resolve().parents[2] / "sweeps" / "tiny.toml"
    db = tmp_path / "d.sqlite"
    ResultsStore(db, load_spec(tiny)).close()
    lock, held = _lock(db), _hold_database(db)           # what a running driver holds
    try:
        Path(f"{db}.lock").unlink()
        before = db.read_bytes()
        with pytest.raises(ValueError, match="another sweep driver"):
            run_sweep(tiny, db)
        assert db.read_bytes() == before
    finally:
        held.close()
        lock.close()


def test_a_sweep_refused_before_any_run_leaves_no_database(tmp_path):
    """``device = "cuda"`` on a cluster without a GPU is refused after Ray starts (exit 2, one
    line); the database this call created held only pending runs and is removed."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    spec = tmp_path / "cuda.toml"
    spec.write_text((root / "sweeps" / "tiny.toml").read_text().replace('device = "cpu"', 'device = "cuda"'))
    assert 'device = "cuda"' in spec.read_text()
    db = tmp_path / "c.sqlite"
    env = {**os.environ, "PYTHONPATH": str(root), "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "betalab.cli", "sweep", "run", str(spec), "--db", str(db),
                           "--num-cpus", "1"], cwd=root, env=env, capture_output=True, text=True,
                          start_new_session=True, timeout=600)
    assert done.returncode == 2 and "no GPU" in done.stderr, done.stderr[-2000:]
    assert not db.exists() and not Path(f"{db}.lock").exists()
