"""Shared timing and memory helpers of the benchmarks (imported as a sibling module when a
benchmark runs as a script: ``python benchmarks/bench_x.py``).

Every comparison is *paired*: the peers run interleaved in one process, round after round, and
each round gives one ratio. The spread of those ratios (min / median / max) is printed, not a
ratio of two unrelated bests, so load that changes during the run shows up as spread instead of
moving one side only.
"""

from __future__ import annotations

import time

import numpy as np


def interleaved(fns: dict, repeats: int = 15, inner: int = 1, warmup: int = 2) -> dict:
    """Seconds per call of each function in ``fns`` (name -> callable), shape (repeats,) each.

    Every round calls each function ``inner`` times in turn (after ``warmup`` untimed calls of
    each), so round r of every peer saw nearly the same machine load.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    out = {k: np.empty(repeats) for k in fns}
    for r in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            out[k][r] = (time.perf_counter() - t0) / inner
    return out


def block_minima(fns: dict, blocks: int = 8, per_block: int = 6, inner: int = 20,
                 warmup: int = 2) -> dict:
    """Seconds per call of each function in ``fns``, shape (blocks,): the peers run interleaved
    (:func:`interleaved`, ``blocks * per_block`` rounds of ``inner`` calls) and each block of
    ``per_block`` consecutive rounds keeps each peer's fastest round. For calls of microseconds
    on a shared machine the median of single rounds swings with every interruption (100x seen);
    the fastest round of a block is the call's own cost, and a block's peers saw the same load,
    so the per-block ratios (:func:`ratio`) stay paired."""
    t = interleaved(fns, repeats=blocks * per_block, inner=inner, warmup=warmup)
    return {k: v.reshape(blocks, per_block).min(axis=1) for k, v in t.items()}


def spread(x, scale: float = 1.0, fmt: str = "{:.3g}") -> str:
    """'min / median / max' of ``x * scale``."""
    x = np.asarray(x) * scale
    return " / ".join(fmt.format(v) for v in (x.min(), np.median(x), x.max()))


def ratio(times: dict, num: str, den: str) -> np.ndarray:
    """Per-round ratios times[num] / times[den] (paired: same round, same load)."""
    return np.asarray(times[num]) / np.asarray(times[den])


def once(fn):
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    res = fn()
    return time.perf_counter() - t0, res


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_extra_mib(fn):
    """(seconds, result, MiB) of one call: the process's peak resident set during the call above
    its resident set before it (Linux: peak reset through /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")                       # reset VmHWM to the current VmRSS
    before = _status_kib("VmRSS")
    t, res = once(fn)
    return t, res, (_status_kib("VmHWM") - before) / 1024


def _peak_in_child(setup, call, args):
    data = setup(*args)
    return peak_extra_mib(lambda: call(data))[2]


def peak_extra_mib_fresh(setup, call, *args) -> float:
    """MiB of :func:`peak_extra_mib` for ``call(setup(*args))`` in a fresh (spawned) process:
    the inputs are built there first, then the call is measured. In a process that ran the call
    before, the allocator keeps freed blocks and the high-water mark hardly moves, so an in-process
    measurement after other rounds understates a call's memory (to ≈0 MiB for betalab's sampled
    MIG, which made a "351×" ratio of a 1 MiB floor). ``setup`` and ``call`` must be importable
    module-level functions."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_peak_in_child, (setup, call, args))
