"""The SQLite results database of a sweep: one file, WAL, written by the sweep driver only.

Schema (version :data:`SCHEMA_VERSION`)::

    meta(key TEXT PRIMARY KEY, value TEXT)      schema_version, fingerprint, name, created
    runs(run_id TEXT PRIMARY KEY,               the hash of the run's full config
         group_id TEXT,                         the ensemble it is trained in
         status TEXT,                           pending | running | done | failed
         config TEXT,                           JSON
         metrics TEXT,                          JSON (NULL until done)
         curve TEXT,                            JSON training curve {"step": [...], "loss": [...], ...}
         error TEXT,                            why a run failed, in one line
         submitted_at, started_at, finished_at REAL (unix seconds; the view runs_readable
                                                shows them as ISO 8601 UTC text),
         train_seconds, eval_seconds REAL,      timings inside the worker
         device TEXT, versions TEXT,            where it ran; package versions (JSON)
         failure TEXT)                          of a failed run: transient | deterministic

``running`` means handed to the scheduler; a driver that is killed leaves runs ``running``,
and the next driver treats them as unfinished. ``failure`` says whether a failed run is retried
by the next driver (:meth:`ResultsStore.retry`); it came after the first databases: a driver adds
the column to a database without it (where it reads NULL, "unknown"), and readers read it where
it is. The database is created whole in a temporary file and renamed into place, so a failed
creation leaves nothing behind. Readers:
:mod:`betalab.results` (or the ``sqlite3`` shell).

A database committed under ``recorded/`` is first turned to rollback-journal mode
(``sqlite3 DB 'PRAGMA journal_mode=DELETE'``: the header changes, no row does), so that a
read-only checkout can read it (a WAL database needs a writable directory for its ``-shm``).
"""

from __future__ import annotations

__all__ = ["SCHEMA_VERSION", "STATUSES", "FINISHED", "FAILURES", "RETRY", "check_schema", "check_database", "one_line",
           "ResultsStore"]

import json
import os
import sqlite3
import time
from pathlib import Path

SCHEMA_VERSION = 1
STATUSES = ("pending", "running", "done", "failed")
FINISHED = ("done", "failed")
#: the kinds of failure (:func:`betalab.sweep.work.failure_kind`)
FAILURES = ("transient", "deterministic")
#: what ``betalab sweep run --retry`` may ask for: transient failures (the default), every
#: failed run, or none
RETRY = ("transient", "failed", "none")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    config TEXT NOT NULL,
    metrics TEXT,
    curve TEXT,
    error TEXT,
    submitted_at REAL,
    started_at REAL,
    finished_at REAL,
    train_seconds REAL,
    eval_seconds REAL,
    device TEXT,
    versions TEXT,
    failure TEXT CHECK (failure IN ('transient', 'deterministic'))
);
CREATE INDEX runs_status ON runs (status);
"""

#: the runs with their times as ISO 8601 UTC text, for a reader with the ``sqlite3`` shell
#: (``SELECT * FROM runs_readable``); the table keeps unix seconds, which the code computes with
_READABLE = """
CREATE VIEW IF NOT EXISTS runs_readable AS
SELECT run_id, group_id, status, failure, error, device,
       strftime('%Y-%m-%dT%H:%M:%fZ', submitted_at, 'unixepoch') AS submitted,
       strftime('%Y-%m-%dT%H:%M:%fZ', started_at, 'unixepoch') AS started,
       strftime('%Y-%m-%dT%H:%M:%fZ', finished_at, 'unixepoch') AS finished,
       train_seconds, eval_seconds, metrics, config
FROM runs;
"""


def check_schema(conn: sqlite3.Connection, path) -> dict:
    """The meta table as a dict; ValueError unless this is a betalab sweep database of this
    schema version."""
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as err:
        raise ValueError(f"{path}: not a betalab sweep database ({err})") from None
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        raise ValueError(f"{path}: schema version {meta.get('schema_version')!r}, this betalab "
                         f"reads version {SCHEMA_VERSION}")
    return meta


def one_line(err: BaseException) -> str:
    """``Type: message`` of an exception on one line (SQLite's and the OS's own words)."""
    text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    return " ".join(text.split())


def check_database(path, sweep=None) -> dict:
    """Read-only checks of the existing database at ``path`` before a driver writes to it: a
    betalab sweep database of this schema (:func:`check_schema`), undamaged (SQLite's
    ``PRAGMA quick_check``: a truncated or overwritten file fails it) and, with ``sweep``,
    written by that spec. Returns the meta table; ValueError naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: not a database file")
    # No -wal beside it: no connection is open in WAL mode and every commit is in the file, so
    # it is read as immutable, which creates no -shm or -wal (a plain read-only connection to
    # a WAL database would leave both behind); else shared, as any reader.
    wal = Path(f"{path}-wal").exists()
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + ("?mode=ro" if wal else "?mode=ro&immutable=1"),
                               uri=True, timeout=30)
    except sqlite3.Error as err:
        raise ValueError(f"{path}: cannot be opened ({one_line(err)})") from None
    try:
        meta = check_schema(conn, path)
        try:
            found = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as err:
            raise ValueError(f"{path}: a damaged sweep database ({one_line(err)})") from None
        if found != ["ok"]:
            raise ValueError(f"{path}: a damaged sweep database (quick_check: {found[0]})")
    finally:
        conn.close()
    if sweep is not None and meta.get("fingerprint") != sweep.fingerprint:
        raise ValueError(f"{path}: written by another spec (sweep {meta.get('name')!r}, "
                         f"other runs); use another --db")
    return meta


class ResultsStore:
    """The driver's connection: create or open the database of ``sweep`` at ``path``.

    An existing file is checked read-only first (:func:`check_database`), so a damaged or
    foreign file is refused before anything is written to it; a database that cannot be
    created or opened for writing (a full or read-only disk) raises ValueError naming it."""

    def __init__(self, path, sweep):
        self.path = Path(path)
        if self.path.exists():
            check_database(self.path, sweep)
        else:
            self._create(sweep)
        companions = [Path(f"{self.path}{s}") for s in ("-wal", "-shm")]
        new = [c for c in companions if not c.exists()]
        self.conn = None
        try:
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as err:
            if self.conn is not None:
                self.conn.close()
            for c in new:      # made empty by this failed open (a live reader's -shm is not empty)
                if c.exists() and c.stat().st_size == 0:
                    c.unlink()
            raise ValueError(f"{self.path}: cannot be opened for writing ({one_line(err)})") from None
        meta = check_schema(self.conn, self.path)
        if meta.get("fingerprint") != sweep.fingerprint:
            self.conn.close()
            raise ValueError(f"{self.path}: written by another spec (sweep {meta.get('name')!r}, "
                             f"other runs); use another --db")
        if "failure" not in [r[1] for r in self.conn.execute("PRAGMA table_info(runs)")]:
            self.conn.execute("ALTER TABLE runs ADD COLUMN failure TEXT")     # written before it
        self.conn.executescript(_READABLE)                 # a database written before the view

    def _create(self, sweep) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        conn = None
        try:
            conn = sqlite3.connect(tmp)
            with conn:
                conn.executescript(_SCHEMA + _READABLE)
                conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                    ("schema_version", str(SCHEMA_VERSION)), ("fingerprint", sweep.fingerprint),
                    ("name", sweep.name), ("created", repr(time.time()))])
                conn.executemany(
                    "INSERT INTO runs (run_id, group_id, status, config) VALUES (?, ?, 'pending', ?)",
                    [(r["run_id"], g.group_id, json.dumps(r, sort_keys=True))
                     for g in sweep.groups for r in g.runs])
            conn.close()
            os.replace(tmp, self.path)
        except BaseException as err:
            if conn is not None:
                conn.close()
            for leftover in (tmp, Path(f"{tmp}-journal")):
                leftover.unlink(missing_ok=True)
            if isinstance(err, (OSError, sqlite3.Error)):       # a full or read-only disk, ...
                raise ValueError(f"{self.path}: cannot create the database ({one_line(err)})") from None
            raise

    def statuses(self) -> dict:
        """run_id -> status."""
        return dict(self.conn.execute("SELECT run_id, status FROM runs").fetchall())

    def retry(self, which: str = "transient") -> list[str]:
        """Make failed runs pending again, so that this driver runs them: those whose failure
        is transient (``which="transient"``), every failed run (``"failed"``) or none
        (``"none"``). Returns their ids."""
        if which not in RETRY:
            raise ValueError(f"retry must be one of {RETRY}, got {which!r}")
        if which == "none":
            return []
        sql = "SELECT run_id FROM runs WHERE status = 'failed'" + (
            " AND failure = 'transient'" if which == "transient" else "")
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            ids = [r[0] for r in self.conn.execute(sql + " ORDER BY rowid").fetchall()]
            self.conn.executemany("UPDATE runs SET status = 'pending' WHERE run_id = ?",
                                  [(i,) for i in ids])
        return ids

    def mark_running(self, run_ids) -> None:
        now = time.time()
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(
                "UPDATE runs SET status = 'running', submitted_at = ? "
                "WHERE run_id = ? AND status NOT IN ('done', 'failed')", [(now, r) for r in run_ids])

    def record(self, *results: dict) -> None:
        """Store runs' outcomes (dicts from :func:`betalab.sweep.work.train_group`) in one
        transaction; a finished run is never overwritten."""
        rows = []
        for result in results:
            if result["status"] not in FINISHED:
                raise ValueError(f"status must be one of {FINISHED}, got {result['status']!r}")
            failure = result.get("failure") if result["status"] == "failed" else None
            if failure is not None and failure not in FAILURES:
                raise ValueError(f"failure must be one of {FAILURES}, got {failure!r}")
            rows.append((result["status"], _json(result.get("metrics")), _json(result.get("curve")),
                         result.get("error"), result.get("started_at"),
                         result.get("finished_at", time.time()), result.get("train_seconds"),
                         result.get("eval_seconds"), result.get("device"),
                         _json(result.get("versions")), failure, result["run_id"]))
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(
                "UPDATE runs SET status = ?, metrics = ?, curve = ?, error = ?, started_at = ?, "
                "finished_at = ?, train_seconds = ?, eval_seconds = ?, device = ?, versions = ?, "
                "failure = ? WHERE run_id = ? AND status NOT IN ('done', 'failed')", rows)

    def close(self) -> None:
        self.conn.close()


def _json(obj):
    return None if obj is None else json.dumps(obj, sort_keys=True, allow_nan=True)
