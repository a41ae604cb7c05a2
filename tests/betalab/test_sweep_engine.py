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


def test_the_probe_is_the_training_time_of_one_ensemble():
    """Oracle: the ensemble's own steps, timed by hand — the probe's estimate for the whole
    training is total steps × the time of a step, so it lies within a factor 3 of 40 timed
    steps of the same ensemble (step times vary with load; a wrong step count or unit is off
    by 10× or more)."""
    import time

    from betalab.sweep.work import build_ensemble

    tiny = load_spec(TINY)
    group = tiny.groups[0]
    estimate = driver._probe_seconds(group)
    ens, _, _ = build_ensemble(group.runs, "cpu")
    ens.run_step()
    t0 = time.perf_counter()
    for _ in range(39):
        ens.run_step()
    measured = (time.perf_counter() - t0) * 40 / 39
    assert measured / 3 < estimate < measured * 3, (estimate, measured)


def test_run_sweep_without_an_engine_names_the_one_it_chose(tmp_path, monkeypatch):
    monkeypatch.setattr(driver, "_probe_seconds", lambda group: 1e-3)
    spec = parse_spec(open(TINY).read().replace("max_steps = 40", "max_steps = 2"))
    lines = []
    counts = driver.run_sweep(spec, tmp_path / "t.sqlite", inline=None, log=lines.append)
    assert counts == {"done": 8}
    assert lines[0].startswith("sweep 'tiny': 8 runs in 4 ensembles; 0 finished, 4 ensembles to "
                               "run; engine inline (4 ensembles")
