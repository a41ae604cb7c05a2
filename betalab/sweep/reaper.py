"""Ends a local Ray cluster's processes when the driver that started it dies.

``ray.init()`` without an address starts the cluster (GCS server, raylet, monitor, log monitor,
agents, workers) as the driver's children. A driver that exits shuts them down; a driver that is
killed (``kill -9``, the out-of-memory killer) leaves them running until they notice on their
own, 30–90 s later, holding memory and a CPU core each worker. The driver starts this watcher
in its own session right after ``ray.init``::

    python -m betalab.sweep.reaper DRIVER_PID DRIVER_START PID:START [PID:START ...]

It polls the driver twice a second and remembers every process below the listed ones as they
appear (once the driver is gone Ray's node processes die with it, and their children are
orphaned: no longer found from them); once the driver is gone it kills every remembered process
still running, then exits. A process is matched by its PID and its start time, so a PID
the system has since reused is never touched. If the listed processes end first (the driver
shut Ray down), the watcher exits without doing anything.
"""

from __future__ import annotations

import sys
import time

__all__ = ["POLL_S", "main"]

POLL_S = 0.5


def _same(pid: int, start: float):
    """The process ``pid`` if it is still the one that started at ``start``, else None."""
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc if proc.create_time() == start else None
    except psutil.Error:
        return None


def _alive(proc) -> bool:
    import psutil

    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def main(argv: list[str]) -> int:
    import psutil

    driver = _same(int(argv[0]), float(argv[1]))
    known = {p.pid: p for p in (_same(int(pid), float(start)) for pid, start in
                                (item.split(":", 1) for item in argv[2:])) if p is not None}
    while True:
        driver_alive = driver is not None and _alive(driver)
        # Everything below the cluster, remembered as it appears: when the driver dies, Ray's
        # node processes die with it but their children (the agents, the workers) are handed to
        # the system's first process and can no longer be found from them.
        for proc in [p for p in known.values() if _alive(p)]:
            try:
                for child in proc.children(recursive=True):
                    known.setdefault(child.pid, child)
            except psutil.Error:
                pass
        if not driver_alive:
            break
        if not any(_alive(p) for p in known.values()):
            return 0                                   # Ray was shut down: nothing to do
        time.sleep(POLL_S)
    victims = [p for p in known.values() if _alive(p)]
    for proc in victims:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(victims, timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
