"""Read a sweep's results database (``betalab sweep run … --db PATH``) from Python.

Read-only: the sweep driver is the only writer, and readers may query while it writes (the
database is in WAL mode, so a reader sees the last committed state)::

    from betalab import results
    db = results.open_results("results/tiny.sqlite")
    db.counts()                                   # {"done": 8}
    rows = db.runs(status="done")                 # dicts: run_id, status, config, metrics, ...
    table = db.table()                            # one flat dict per run: config keys + metrics

The same data is one ``sqlite3 results/tiny.sqlite 'select run_id, status from runs'`` away.

A read-only checkout can read every database: a database under ``recorded/`` (committed, never
written again) is opened ``immutable`` — SQLite then takes no lock and creates no ``-shm``,
``-wal`` or ``-journal`` file beside it — and the committed databases are in rollback-journal
mode (``PRAGMA journal_mode=DELETE`` before they are committed; a test checks every one), so
the ``sqlite3`` shell reads them there too. Any other database that cannot be opened for shared
reading (a WAL database in a directory this user may not write) is read as an immutable snapshot.
"""

from __future__ import annotations

__all__ = ["RECORDED", "Results", "open_results"]

import json
import sqlite3
from pathlib import Path

from betalab.sweep.store import STATUSES, check_schema

_COLUMNS = ("run_id", "group_id", "status", "config", "metrics", "curve", "error", "submitted_at",
            "started_at", "finished_at", "train_seconds", "eval_seconds", "device", "versions",
            "failure")
_JSON = ("config", "metrics", "curve", "versions")
#: the committed recorded runs (:data:`betalab.runner.RECORDED`): databases there are immutable
RECORDED = Path(__file__).resolve().parent.parent / "recorded"


class Results:
    """A read-only view of one sweep database.

    ``immutable``: open it as a file nothing writes (no locks, no files created beside it);
    ``None`` (default): immutable for a database under :data:`RECORDED`, else a shared
    read-only connection (it sees a live driver's commits), falling back to immutable when
    that cannot be opened (a WAL database in a directory this user may not write)."""

    def __init__(self, path, immutable: bool | None = None):
        if immutable is not None and not isinstance(immutable, bool):
            raise TypeError(f"immutable must be a bool or None, got {immutable!r}")
        self.path = Path(path)
        if not self.path.is_file():
            raise ValueError(f"no results database at {self.path}")
        if immutable is None and self.path.resolve().is_relative_to(RECORDED):
            immutable = True
        self.conn = _connect(self.path, bool(immutable))
        try:
            self.meta = check_schema(self.conn, self.path)
        except ValueError:
            self.conn.close()
            if immutable is not None or not _read_only_fault(self.path):
                raise
            self.conn = _connect(self.path, True)
            self.meta = check_schema(self.conn, self.path)
        # columns added after the first databases (``failure``) read None where they are missing
        self._columns = {r[1] for r in self.conn.execute("PRAGMA table_info(runs)")}

    @property
    def name(self) -> str:
        return self.meta.get("name", "")

    def counts(self) -> dict:
        """Number of runs per status."""
        return dict(self.conn.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())

    def runs(self, status: str | None = None, curves: bool = False) -> list[dict]:
        """Every run (or those with ``status``), JSON columns decoded, in insertion order."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        cols = [c for c in _COLUMNS if (curves or c != "curve") and c in self._columns]
        sql = f"SELECT {', '.join(cols)} FROM runs"
        rows = self.conn.execute(sql + (" WHERE status = ? ORDER BY rowid" if status else " ORDER BY rowid"),
                                 (status,) if status else ()).fetchall()
        out = []
        for row in rows:
            d = dict(zip(cols, row))
            if "failure" not in d:
                d["failure"] = None
            for c in _JSON:
                if d.get(c) is not None:
                    d[c] = json.loads(d[c])
            out.append(d)
        return out

    def table(self, status: str = "done", lists: bool = False) -> list[dict]:
        """One flat dict per run: run_id, the config's scalar keys, then the scalar metrics;
        with ``lists``, the list-valued metrics too (``higgins_scores``, ``kl_per_dim``, ...)."""
        if not isinstance(lists, bool):
            raise TypeError(f"lists must be a bool, got {lists!r}")
        keep = (dict,) if lists else (dict, list)
        out = []
        for r in self.runs(status):
            row = {"run_id": r["run_id"]}
            row.update({k: v for k, v in r["config"].items() if not isinstance(v, (dict, list))})
            row.update({k: v for k, v in (r["metrics"] or {}).items() if not isinstance(v, keep)})
            out.append(row)
        return out

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _connect(path: Path, immutable: bool) -> sqlite3.Connection:
    # as_uri() percent-encodes the path, so a '?', '#' or '%' in a name is not read as a parameter
    uri = path.resolve().as_uri() + ("?mode=ro&immutable=1" if immutable else "?mode=ro")
    return sqlite3.connect(uri, uri=True, timeout=30)


def _read_only_fault(path: Path) -> bool:
    """Whether a shared read-only connection to ``path`` fails only because this user cannot
    write beside it (SQLite: "attempt to write a readonly database", "unable to open")."""
    try:
        conn = _connect(path, False)
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        finally:
            conn.close()
    except sqlite3.OperationalError as err:
        return "readonly" in str(err) or "unable to open" in str(err)
    except sqlite3.DatabaseError:
        return False
    return False


def open_results(path, immutable: bool | None = None) -> Results:
    """Open the sweep database at ``path`` for reading (ValueError if it is not one);
    ``immutable`` as :class:`Results`."""
    return Results(path, immutable)
