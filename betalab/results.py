"""Read a sweep's results database (``betalab sweep run ... --db PATH``) from Python.

Read-only: the sweep driver is the only writer, and readers may query while it writes (the
database is in WAL mode, so a reader sees the last committed state)::

    from betalab import results
    db = results.open_results("results/tiny.sqlite")
    db.counts()                                   # {"done": 8}
    rows = db.runs(status="done")                 # dicts: run_id, status, config, metrics, ...
    table = db.table()                            # one flat dict per run: config keys + metrics

The same data is one ``sqlite3 results/tiny.sqlite 'select run_id, status from runs'`` away.
"""

from __future__ import annotations

__all__ = ["Results", "open_results"]

import json
import sqlite3
from pathlib import Path

from betalab.sweep.store import STATUSES, check_schema

_COLUMNS = ("run_id", "group_id", "status", "config", "metrics", "curve", "error", "submitted_at",
            "started_at", "finished_at", "train_seconds", "eval_seconds", "device", "versions")
_JSON = ("config", "metrics", "curve", "versions")


class Results:
    """A read-only view of one sweep database."""

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_file():
            raise ValueError(f"no results database at {self.path}")
        self.conn = sqlite3.connect(f"file:{self.path.resolve()}?mode=ro", uri=True, timeout=30)
        self.meta = check_schema(self.conn, self.path)

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
        cols = [c for c in _COLUMNS if curves or c != "curve"]
        sql = f"SELECT {', '.join(cols)} FROM runs"
        rows = self.conn.execute(sql + (" WHERE status = ? ORDER BY rowid" if status else " ORDER BY rowid"),
                                 (status,) if status else ()).fetchall()
        out = []
        for row in rows:
            d = dict(zip(cols, row))
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


def open_results(path) -> Results:
    """Open the sweep database at ``path`` for reading (ValueError if it is not one)."""
    return Results(path)
