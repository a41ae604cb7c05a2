"""Atomic file output: every file is written to a temporary name in the same
directory and renamed into place, so an interrupted run never leaves a
half-written figure, JSON file or report behind."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path, obj) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def save_figure(fig, path_without_suffix, formats=("png", "pdf"), dpi: int = 130) -> list[Path]:
    """Save a matplotlib figure in each format, atomically; returns the paths."""
    out = []
    for fmt in formats:
        path = Path(f"{path_without_suffix}.{fmt}")
        with atomic_path(path) as tmp:
            # Fixed metadata keeps the files byte-identical for a fixed seed.
            meta = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", metadata=meta)
        out.append(path)
    return out
