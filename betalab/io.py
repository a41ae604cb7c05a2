"""Atomic file output: every file is written to a temporary name in the same
directory and renamed into place, so an interrupted run never leaves a
half-written figure, JSON file or report behind.

A temporary file is named ``.<name>.<pid>.<random><suffix>``: the id of the process writing it
is part of the name, so a later run can tell the leftovers of a killed process (``kill -9``
gives it no chance to clean up) from a file another live process is still writing, and
:func:`remove_stale_temporaries` removes the former.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
import time
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "write_text", "write_json", "save_figure", "remove_stale_temporaries",
           "LOCK_WAIT_SECONDS", "LOCK_WAIT_ENV", "lock_wait_seconds", "PartialResults"]

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                               suffix=suffix or path.suffix)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 → the usual permissions of a new file
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True   # a process we may not signal exists (or the pid is out of range: keep)
    return True


#: the name :func:`atomic_path` gives a temporary file: ``.<name>.<pid>.<random><suffix>``
#: (``.<name>.<random><suffix>`` before the pid was part of it)
_TEMPORARY = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?[A-Za-z0-9_]{4,}(?:\.[A-Za-z0-9]+)?$")


def remove_stale_temporaries(directory, names=None) -> list[Path]:
    """Remove the temporary files that :func:`atomic_path` left in ``directory`` when the process
    writing them was killed (for the files ``names`` only, or any); returns the removed paths.

    A temporary file whose writing process is still alive is kept (another run may be writing
    it); one without a process id in its name (written by an older betalab) is stale.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = []
    for tmp in directory.glob(".*"):
        m = _TEMPORARY.match(tmp.name)
        if m is None or not tmp.is_file():
            continue
        if names is not None and not any(tmp.name.startswith(f".{n}.") for n in names):
            continue
        if m.group("pid") and _alive(int(m.group("pid"))):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


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


#: how long a process waits for another process's lock on a saved piece before it computes the
#: piece itself, without the cache (a process holding the lock may be stopped, e.g. by Ctrl-Z)
LOCK_WAIT_SECONDS = 900.0
#: the environment variable that overrides :data:`LOCK_WAIT_SECONDS` (seconds, >= 0)
LOCK_WAIT_ENV = "BETALAB_LOCK_WAIT"


def lock_wait_seconds() -> float:
    """:data:`LOCK_WAIT_SECONDS`, or the value of ``$BETALAB_LOCK_WAIT`` when it is set."""
    raw = os.environ.get(LOCK_WAIT_ENV, "").strip()
    if not raw:
        return LOCK_WAIT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{LOCK_WAIT_ENV} must be a number of seconds >= 0, got {raw!r}")
    return value


def _holder(lock: Path) -> str:
    """Who holds ``lock``, as its holder wrote it (its process id), with the process's state when
    the system says it is stopped."""
    try:
        pid = lock.read_text().split()[0]
        int(pid)
    except (OSError, IndexError, ValueError):
        return "another process"
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        state = ""
    return f"process {pid}" + (" (stopped)" if state in ("T", "t") else "")


def _wait_for_lock(f, lock: Path, piece: Path, limit: float) -> bool:
    """Take the exclusive lock on the open file ``f``: at once, or after a one-line notice
    naming its holder, within ``limit`` seconds (polled); False when the time ran out."""
    import fcntl

    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        pass
    print(f"betalab: {piece}: waiting for {_holder(lock)}, which is computing it (at most "
          f"{limit:g} s, {LOCK_WAIT_ENV})", file=sys.stderr, flush=True)
    deadline, delay = time.monotonic() + limit, 0.02
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(2 * delay, 1.0)
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            continue


class PartialResults:
    """Per-piece results of a long study, one ``.npz`` file per piece under ``root``.

    A study hands a piece's arrays to :meth:`save` as soon as they are computed and asks
    :meth:`load` before computing a piece, so an interrupted run redoes only the unfinished
    pieces. Each file stores the ``signature`` (the settings that determine the piece) and
    is reused only when the signature matches. Files are written atomically.

    A piece computed through :meth:`fetch` also stores how long it took; :attr:`reused_seconds`
    sums those of the pieces this object loaded instead of computing (an earlier process's work),
    so a resumed study can report the time its results cost in all.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        #: seconds spent computing the pieces that were loaded rather than computed here
        self.reused_seconds = 0.0

    def _path(self, name: str) -> Path:
        if not name or any(c in name for c in "\\:") or ".." in name:
            raise ValueError(f"name must be a plain relative name, got {name!r}")
        return self.root / f"{name}.npz"

    def load(self, name: str, signature: dict) -> dict | None:
        """The arrays saved under ``name`` with this ``signature``, else None (also for a file
        that cannot be read, after a one-line notice naming it on stderr)."""
        return self._load(name, signature, notice=True)

    def _load(self, name: str, signature: dict, notice: bool) -> dict | None:
        import numpy as np

        path = self._path(name)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as f:
                if str(f["__signature__"]) != json.dumps(signature, sort_keys=True):
                    return None
                got = {k: f[k] for k in f.files if k not in ("__signature__", "__seconds__")}
                if "__seconds__" in f.files:
                    self.reused_seconds += float(f["__seconds__"])
                return got
        except FileNotFoundError:          # removed since exists(): another process cleared it
            return None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
            # truncated (BadZipFile), empty (EOFError), garbage or written by another program:
            # the piece is computed again and saved over it
            why = " ".join(f"{type(err).__name__}: {err}".split())
            if notice:
                print(f"betalab: {path}: unreadable saved piece ({why}); computing it again",
                      file=sys.stderr, flush=True)
            return None

    def fetch(self, name: str, signature: dict, compute):
        """The piece ``name`` with this ``signature``: loaded when it is saved, otherwise
        ``compute()``, saved before it is returned.

        Processes sharing ``root`` compute each piece once: the one computing it holds an
        exclusive lock on a hidden ``.<name>.lock`` beside the piece (and writes its process id
        there), and another asking for the same piece waits for that lock, then loads what was
        saved. The lock file is removed once the piece is saved (the system drops the lock of a
        killed process). A waiter says on stderr which process holds the piece; after
        :func:`lock_wait_seconds` (:data:`LOCK_WAIT_SECONDS`, ``$BETALAB_LOCK_WAIT``) it says so
        again and computes the piece itself, without the cache (it saves nothing: the holder
        will), so a stopped holder never makes it wait for ever."""
        if not callable(compute):
            raise TypeError(f"compute must be a callable returning the piece's arrays, got "
                            f"{type(compute).__name__}")
        limit = lock_wait_seconds()
        got = self._load(name, signature, notice=False)     # the notice, if any, under the lock
        if got is not None:
            return got
        path = self._path(name)
        lock = path.with_name(f".{path.stem}.lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "a+") as f:
            if not _wait_for_lock(f, lock, path, limit):
                print(f"betalab: {path}: still locked by {_holder(lock)} after {limit:g} s; "
                      f"computing it here without the cache ({LOCK_WAIT_ENV} sets the wait)",
                      file=sys.stderr, flush=True)
                return compute()
            try:
                f.seek(0)
                f.truncate()
                f.write(f"{os.getpid()}\n")             # who holds it, for a waiter's message
                f.flush()
                got = self.load(name, signature)       # saved while this process waited
                if got is None:
                    t0 = time.perf_counter()
                    got = compute()
                    self.save(name, signature, got, seconds=time.perf_counter() - t0)
            finally:
                lock.unlink(missing_ok=True)
        return got

    def save(self, name: str, signature: dict, arrays: dict, seconds: float | None = None) -> None:
        """Store ``arrays`` under ``name`` with ``signature`` (and, when given, the ``seconds``
        computing them took)."""
        import numpy as np

        extra = {} if seconds is None else {"__seconds__": float(seconds)}
        with atomic_path(self._path(name), suffix=".npz") as tmp:
            np.savez(tmp, __signature__=json.dumps(signature, sort_keys=True), **extra,
                     **{k: np.asarray(v) for k, v in arrays.items()})

    def clear(self) -> None:
        """Remove every saved piece (after the study has finished)."""
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)
