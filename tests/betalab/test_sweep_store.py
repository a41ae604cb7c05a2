"""betalab.sweep.store and betalab.results: the database read back with the sqlite3 module
(the oracle), its schema and spec checks, finished runs never overwritten, readers alongside
the writer, and a read-only checkout."""

import json
import os
import sqlite3
from pathlib import Path

import pytest

from betalab.results import RECORDED, open_results
from betalab.sweep.spec import parse_spec
from betalab.sweep.store import SCHEMA_VERSION, ResultsStore

SPEC = """
[model]
latent_dim = 4
hidden = 8
[grid]
model = ["beta-vae"]
beta = [1.0, 2.0]
seed = [0, 1, 2]
"""


def test_created_database_as_sqlite_sees_it(tmp_path):
    sw = parse_spec(SPEC)
    store = ResultsStore(tmp_path / "r.sqlite", sw)
    con = sqlite3.connect(tmp_path / "r.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
    assert cols[:5] == ["run_id", "group_id", "status", "config", "metrics"]
    assert {"error", "started_at", "finished_at", "train_seconds", "device", "versions"} <= set(cols)
    rows = con.execute("SELECT run_id, status, config FROM runs ORDER BY rowid").fetchall()
    assert [r[0] for r in rows] == [r["run_id"] for r in sw.runs]
    assert {r[1] for r in rows} == {"pending"}
    assert [json.loads(r[2]) for r in rows] == sw.runs
    meta = dict(con.execute("SELECT key, value FROM meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION) and meta["fingerprint"] == sw.fingerprint
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("r.sqlite")) == []


def test_record_and_read_back(tmp_path):
    sw = parse_spec(SPEC)
    store = ResultsStore(tmp_path / "r.sqlite", sw)
    ids = [r["run_id"] for r in sw.runs]
    store.mark_running(ids[:2])
    reader = open_results(tmp_path / "r.sqlite")          # a reader while the writer is open
    assert reader.counts() == {"pending": 4, "running": 2}
    store.record({"run_id": ids[0], "status": "done", "metrics": {"mig_histogram": 0.25},
                  "device": "cpu", "train_seconds": 1.5})
    store.record({"run_id": ids[1], "status": "failed", "error": "non-finite loss at step 3"})
    assert reader.counts() == {"pending": 4, "done": 1, "failed": 1}   # committed rows are seen
    # a finished run is never overwritten
    store.record({"run_id": ids[0], "status": "failed", "error": "late duplicate"})
    store.mark_running(ids[:1])
    done = reader.runs("done")
    assert [r["run_id"] for r in done] == [ids[0]] and done[0]["metrics"] == {"mig_histogram": 0.25}
    table = reader.table()
    assert table == [{"run_id": ids[0], **{k: v for k, v in sw.runs[0].items()
                                           if not isinstance(v, dict)}, "mig_histogram": 0.25}]
    assert reader.runs("failed")[0]["error"] == "non-finite loss at step 3"
    with pytest.raises(ValueError, match="status"):
        reader.runs("finished")
    with pytest.raises(ValueError, match="status"):
        store.record({"run_id": ids[2], "status": "running"})
    reader.close()
    store.close()


def test_reopen_checks_spec_and_schema(tmp_path):
    sw = parse_spec(SPEC)
    ResultsStore(tmp_path / "r.sqlite", sw).close()
    ResultsStore(tmp_path / "r.sqlite", sw).close()                  # same spec: fine
    with pytest.raises(ValueError, match="another spec"):
        ResultsStore(tmp_path / "r.sqlite", parse_spec(SPEC.replace("seed = [0, 1, 2]", "seed = [0]")))
    con = sqlite3.connect(tmp_path / "r.sqlite")
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(ValueError, match="schema version"):
        ResultsStore(tmp_path / "r.sqlite", sw)
    with pytest.raises(ValueError, match="schema version"):
        open_results(tmp_path / "r.sqlite")
    (tmp_path / "other.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValueError, match="not a betalab sweep database"):
        open_results(tmp_path / "other.sqlite")
    with pytest.raises(ValueError, match="no results database"):
        open_results(tmp_path / "missing.sqlite")


# ---- a read-only checkout (issue 34, item 6) -------------------------------------------------

RECORDED_DBS = sorted(RECORDED.glob("sweeps/*/*.sqlite"))
_READ_AS_OTHER = """
import json, sqlite3, sys
from betalab.results import open_results
out = {}
for path in sys.argv[1:]:
    with open_results(path) as res:
        out[path] = {"counts": res.counts(), "ids": [r["run_id"] for r in res.runs()]}
try:                                 # the connection betalab made before: shared, read-only
    con = sqlite3.connect("file:" + sys.argv[-1] + "?mode=ro", uri=True)
    con.execute("SELECT COUNT(*) FROM runs").fetchall()
    out["plain"] = "read"
except sqlite3.Error as err:
    out["plain"] = str(err)
print(json.dumps(out))
"""


def _reader_without_write_access():
    """``(argv prefix, run kwargs)`` that run Python as a user who cannot write a directory owned
    by this one: this user when it is not root (it respects the permission bits), else uid/gid
    65534 (root ignores them), with an interpreter that user may execute; None if there is none."""
    import shutil
    import subprocess
    import sys

    if os.getuid() != 0:
        return [sys.executable], {}
    kw = {"user": 65534, "group": 65534, "extra_groups": [], "cwd": "/"}
    for exe in (sys.executable, shutil.which("python3", path="/usr/bin:/bin")):
        if exe is None:
            continue
        try:
            ok = subprocess.run([exe, "-c", "import sqlite3, tomllib"], capture_output=True,
                                timeout=60, **kw).returncode == 0
        except OSError:
            ok = False
        if ok:
            return [exe], kw
    return None


def test_recorded_databases_are_rollback_journal():
    """Byte 18-19 of an SQLite header: 1 = rollback journal, 2 = WAL (which a reader that
    cannot create ``-shm`` beside the file cannot open)."""
    assert RECORDED_DBS
    for db in RECORDED_DBS:
        head = db.read_bytes()[:20]
        assert head[:16] == b"SQLite format 3\x00" and (head[18], head[19]) == (1, 1), db


def test_recorded_databases_opened_immutable_leave_no_trace():
    """The reader of a recorded database takes no lock and creates or changes no file there."""
    for db in RECORDED_DBS:
        before = sorted(p.name for p in db.parent.iterdir())
        data = db.read_bytes()
        with open_results(db) as res:
            assert res.conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            assert sum(res.counts().values()) == len(res.runs()) > 0
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                res.conn.execute("CREATE TABLE x (a)")
        assert sorted(p.name for p in db.parent.iterdir()) == before and db.read_bytes() == data


def test_read_only_checkout_reads_every_database(tmp_path):
    """Copies of every recorded database and a WAL database as the driver writes it, in a
    directory the reading user may not write (mode 0555, files 0444, owned by another uid when
    this test runs as root): betalab's reader reads every run, where a plain shared read-only
    connection to the WAL database fails ("unable to open" / "readonly") — the fault of a
    read-only checkout, reproduced and read through."""
    import shutil
    import subprocess
    import tempfile

    how = _reader_without_write_access()
    if how is None:
        pytest.skip("no Python interpreter runs as a user without write access here")
    argv, kw = how
    store = ResultsStore(tmp_path / "wal.sqlite", parse_spec(SPEC))
    store.record({"run_id": parse_spec(SPEC).runs[0]["run_id"], "status": "done", "metrics": {}})
    store.close()
    assert (tmp_path / "wal.sqlite").read_bytes()[18] == 2              # WAL, as written
    root = Path(tempfile.mkdtemp(prefix="betalab-ro-"))                  # /tmp: reachable by all
    try:
        copies = []
        for i, db in enumerate(RECORDED_DBS + [tmp_path / "wal.sqlite"]):
            copies.append(root / f"{i}-{db.name}")
            shutil.copyfile(db, copies[-1])
            copies[-1].chmod(0o444)
        root.chmod(0o555)
        repo = Path(__file__).resolve().parents[2]
        proc = subprocess.run(argv + ["-c", _READ_AS_OTHER, *map(str, copies)], capture_output=True,
                              text=True, timeout=120, env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"},
                              **kw)
        assert proc.returncode == 0, proc.stderr
        got = json.loads(proc.stdout)
        for db, copy in zip(RECORDED_DBS + [tmp_path / "wal.sqlite"], copies):
            with open_results(db, immutable=True) as res:
                assert got[str(copy)] == {"counts": res.counts(),
                                          "ids": [r["run_id"] for r in res.runs()]}, db
        assert got["plain"] != "read"                 # the fault is real for this user
        assert sorted(p.name for p in root.iterdir()) == sorted(p.name for p in copies)
    finally:
        root.chmod(0o755)
        shutil.rmtree(root)


def test_results_immutable_is_checked(tmp_path):
    with pytest.raises(TypeError, match="immutable"):
        open_results(tmp_path / "r.sqlite", immutable="yes")


def test_the_readable_view_shows_the_times_as_iso_text(tmp_path):
    """``SELECT * FROM runs_readable`` (the sqlite3 shell) shows each time as ISO 8601 UTC
    text, the same instant as the table's unix seconds (the oracle: datetime)."""
    import datetime
    import sqlite3

    from betalab.sweep.spec import parse_spec
    from betalab.sweep.store import ResultsStore

    sweep = parse_spec((Path(__file__).resolve().parents[2] / "sweeps" / "tiny.toml").read_text())
    db = tmp_path / "t.sqlite"
    store = ResultsStore(db, sweep)
    run = sweep.runs[0]["run_id"]
    store.record({"run_id": run, "status": "done", "device": "cpu", "started_at": 1796656000.25,
                  "finished_at": 1796656123.5, "metrics": {"mig_histogram": 0.1}})
    store.close()
    con = sqlite3.connect(db)
    started, finished = con.execute(
        "SELECT started, finished FROM runs_readable WHERE run_id = ?", (run,)).fetchone()
    con.close()
    assert finished == datetime.datetime.fromtimestamp(1796656123.5, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert started.endswith("Z") and started < finished
