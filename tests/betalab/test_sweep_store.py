"""betalab.sweep.store and betalab.results: the database read back with the sqlite3 module
(the oracle), its schema and spec checks, finished runs never overwritten, readers alongside
the writer."""

import json
import sqlite3

import pytest

from betalab.results import open_results
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
