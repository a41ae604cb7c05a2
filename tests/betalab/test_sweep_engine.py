"""The engine a sweep runs on when none is named (betalab.sweep.driver.choose_engine): Ray where
ensembles can share a device or run side by side for longer than Ray takes to start, inline
otherwise; the decision and its numbers are the first line of ``sweep run``."""

import pytest

from betalab.sweep import driver
from betalab.sweep.spec import load_spec, parse_spec

TINY = "sweeps/tiny.toml"


def test_a_gpu_spec_runs_on_ray_and_one_ensemble_inline():
    gpu = parse_spec(open(TINY).read().replace('device = "cpu"', 'device = "cuda"'))
    inline, why = driver.choose_engine(gpu, gpu.groups)
    assert inline is False and "engine Ray" in why and "cuda" in why
    tiny = load_spec(TINY)
    inline, why = driver.choose_engine(tiny, tiny.groups[:1])
    assert inline is True and "1 ensemble on" in why


@pytest.mark.parametrize("seconds, cores, expect_inline", [
    (1e4, 2, False),      # long ensembles on 2 cores: side by side saves hours
    (1e-3, 2, True),      # milliseconds each: Ray's start-up costs more than it saves
    (1e4, 1, True),       # one core: nothing runs side by side
])
def test_the_probe_decides_between_ray_and_inline(monkeypatch, seconds, cores, expect_inline):
    monkeypatch.setattr(driver, "_probe_seconds", lambda group: seconds)
    monkeypatch.setattr(driver.os, "cpu_count", lambda: cores)
    tiny = load_spec(TINY)
    inline, why = driver.choose_engine(tiny, tiny.groups)
    assert inline is expect_inline, why
    if cores == 2:
        saved = (len(tiny.groups) - len(tiny.groups) // 2) * seconds      # 4 ensembles, 2 workers
        assert f"save ≈{saved:.0f} s" in why and f"≈{driver.RAY_OVERHEAD_S:.0f} s" in why


def test_the_probe_is_the_training_time_of_one_ensemble(monkeypatch):
    """Oracle: a clock that advances 0.25 s between its two readings around the two timed steps,
    so a step "takes" 0.125 s and the estimate is the spec's 40 steps × 0.125 s = 5 s (a wrong
    step count, number of timed steps or unit gives another number; no wall time is measured)."""
    readings = iter([10.0, 10.25])
    monkeypatch.setattr(driver.time, "perf_counter", lambda: next(readings))
    tiny = load_spec(TINY)
    assert tiny.groups[0].runs[0]["max_steps"] == 40
    assert driver._probe_seconds(tiny.groups[0]) == pytest.approx(5.0)


def test_run_sweep_without_an_engine_names_the_one_it_chose(tmp_path, monkeypatch):
    monkeypatch.setattr(driver, "_probe_seconds", lambda group: 1e-3)
    spec = parse_spec(open(TINY).read().replace("max_steps = 40", "max_steps = 2"))
    lines = []
    counts = driver.run_sweep(spec, tmp_path / "t.sqlite", inline=None, log=lines.append)
    assert counts == {"done": 8}
    assert lines[0].startswith("sweep 'tiny': 8 runs in 4 ensembles; 0 finished, 4 ensembles to "
                               "run; engine inline (4 ensembles")
