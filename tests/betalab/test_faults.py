"""Faults a report or a study cache must survive without a crash loop or a hang (issue 34): a
malformed recorded run is one error record of its study while every other study reports; an
unreadable saved piece is computed again with a one-line notice naming it; a wait for a piece's
lock held by a stopped process ends after a stated time."""

import json
import os
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from betalab import claims, registry, runner
from betalab.io import PartialResults

# ---- recorded runs (betalab.runner.recorded_records, with_recorded) ---------------------------


@pytest.fixture
def two_toy_studies():
    """Two registered toy studies, one claim each (it holds); the value is 1 at cpu scale,
    0.5 at quick scale."""
    names = ["zz-toy-fault-a", "zz-toy-fault-b"]

    def recheck(numbers, seed):
        v = numbers["value"]
        return [claims.relation("value is positive", "none", "> 0", v, v > 0, kind="paper",
                                scale=numbers["scale"])]

    def toy(config):
        value = 1.0 if config.scale == "cpu" else 0.5
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, value])
        numbers = {"value": value, "scale": config.scale}
        return registry.StudyResult(numbers, {"line": fig}, recheck(numbers, config.seed))

    for name in names:
        registry.study(name, title="toy", paper="none", source="none", recheck=recheck)(toy)
    yield names
    for name in names:
        registry._REGISTRY.pop(name)


def _record_both(tmp_path, names):
    out, root = tmp_path / "results", tmp_path / "recorded"
    for name in names:
        runner.run_study(name, registry.StudyConfig(scale="cpu"), out)
        runner.record_run(name, "cpu", out, root)
    return out, root


def _truncate(path):
    path.write_bytes(path.read_bytes()[:40])


def _as_list(path):
    path.write_text("[1, 2, 3]")


def _other_study(path):
    rec = json.loads(path.read_text())
    path.write_text(json.dumps({**rec, "study": "fa-pruning"}))


def _no_numbers(path):
    rec = json.loads(path.read_text())
    path.write_text(json.dumps({k: v for k, v in rec.items() if k != "numbers"}))


def _figure_gone(path):
    (path.parent / "line.png").unlink()


def _figure_outside(path):
    rec = json.loads(path.read_text())
    path.write_text(json.dumps({**rec, "figures": ["../../../trav/owned.txt"]}))


def _not_utf8(path):
    path.write_bytes(b"\xff\xfe\x00garbage")


MALFORMED = {"truncated": (_truncate, "JSONDecodeError"), "empty": (lambda p: p.write_text(""), "JSONDecodeError"),
             "not utf-8": (_not_utf8, "UnicodeDecodeError"), "a list": (_as_list, "not a record"),
             "other study": (_other_study, "not 'zz-toy-fault-a'"), "no numbers": (_no_numbers, "'numbers'"),
             "figure missing": (_figure_gone, "missing"), "figure outside": (_figure_outside, "not a file name")}


@pytest.mark.parametrize("fault", sorted(MALFORMED))
def test_a_malformed_recorded_run_is_an_error_record_and_the_others_report(tmp_path, two_toy_studies,
                                                                          fault):
    """The malformed run's study gets one error line naming its file; the other study is reported
    from its recorded run as before; nothing is written outside ``out``; no exception."""
    bad, good = two_toy_studies
    out, root = _record_both(tmp_path, two_toy_studies)
    path = root / bad / "cpu" / "result.json"
    spoil, why = MALFORMED[fault]
    spoil(path)
    quick = [runner.run_study(n, registry.StudyConfig(), out) for n in two_toy_studies]
    recorded = runner.recorded_records(root)
    reported = {r["study"]: r for r in runner.write_report(quick, registry.StudyConfig(), out, recorded)}
    err = reported[bad]["error"]
    assert err and "\n" not in err and str(path) in err and why in err, err
    assert reported[bad]["claims"] == [] and reported[bad]["figures"] == []
    assert not reported[good]["error"] and reported[good]["recorded"]
    assert reported[good]["numbers"]["value"] == 1.0 and reported[good]["config"]["scale"] == "cpu"
    assert [c["verdict"] for c in reported[good]["claims"]] == ["holds"]
    md = (out / "report.md").read_text()
    assert f"`{err}` (its recorded run is not used)" in md
    assert "1 studies raised an error" in md
    assert json.loads((out / "claims.json").read_text())["errors"] == [bad]
    assert not (tmp_path / "trav").exists()


def test_betalab_run_reports_past_a_malformed_recorded_run(tmp_path, two_toy_studies, monkeypatch,
                                                           capsys):
    """``betalab run`` (the CLI, with the repository's recorded runs replaced by a directory
    where one file is not JSON): another study runs and reports as before; the study of the
    malformed file runs too, and its report section is the one-line error naming the file."""
    from betalab.cli import main

    bad, good = two_toy_studies
    _, root = _record_both(tmp_path, two_toy_studies)
    path = root / bad / "cpu" / "result.json"
    path.write_text("{ not json")
    monkeypatch.setattr(runner, "RECORDED", root)
    assert main(["run", good, "--out", str(tmp_path / "o1")]) == 0
    md = (tmp_path / "o1" / "report.md").read_text()
    assert "Recorded **cpu-scale** run" in md and "raised an error" not in md
    # its own quick claims hold, but the report's recorded run cannot be read: exit status 1
    assert main(["run", bad, "--out", str(tmp_path / "o2")]) == 1
    text = capsys.readouterr()
    assert "Traceback" not in text.out + text.err
    md = (tmp_path / "o2" / "report.md").read_text()
    assert f"recorded/{bad}/cpu/result.json: not a usable recorded run (JSONDecodeError: " in md
    assert "1 studies raised an error" in text.out


def test_the_repository_recorded_runs_are_usable():
    """No committed recorded run is an error record."""
    for name, rec in runner.recorded_records().items():
        assert not rec.get("error"), rec["error"]


# ---- saved pieces (betalab.io.PartialResults) ------------------------------------------------

PIECE_FAULTS = {"truncated": lambda b: b[:len(b) // 2], "empty": lambda b: b"",
                "garbage": lambda b: b"\x00garbage" * 10, "header only": lambda b: b[:30],
                # bytes of the first member changed: its CRC-32 no longer matches
                "flipped": lambda b: b[:200] + bytes(x ^ 0xFF for x in b[200:260]) + b[260:]}


@pytest.mark.parametrize("fault", sorted(PIECE_FAULTS))
def test_an_unreadable_piece_is_computed_again_with_one_notice(tmp_path, capsys, fault):
    p = PartialResults(tmp_path / "p")
    p.save("piece", {"x": 1}, {"v": np.arange(50.0)})
    path = tmp_path / "p" / "piece.npz"
    path.write_bytes(PIECE_FAULTS[fault](path.read_bytes()))
    calls = []

    def compute():
        calls.append(1)
        return {"v": np.arange(50.0) * 2}

    got = p.fetch("piece", {"x": 1}, compute)
    err = capsys.readouterr().err
    assert calls == [1]
    np.testing.assert_array_equal(got["v"], np.arange(50.0) * 2)
    assert len(err.strip().splitlines()) == 1 and str(path) in err and "computing it again" in err
    np.testing.assert_array_equal(p.load("piece", {"x": 1})["v"], np.arange(50.0) * 2)   # saved
    assert capsys.readouterr().err == ""
    assert sorted(f.name for f in (tmp_path / "p").iterdir()) == ["piece.npz"]


# ---- a wait for a piece's lock ends (betalab.io.PartialResults.fetch) -------------------------

_HOLDER = """
import sys, time
from pathlib import Path
from betalab.io import PartialResults

root, ready = sys.argv[1], Path(sys.argv[2])


def compute():
    ready.write_text("holding")
    time.sleep(600)                                  # stopped long before this ends
    return {"v": [0.0]}


PartialResults(root).fetch("piece", {"x": 1}, compute)
"""


def test_a_wait_for_a_stopped_holder_ends_after_the_stated_time(tmp_path, capsys, monkeypatch):
    """A child process takes the piece's lock and is stopped (SIGSTOP, as Ctrl-Z stops it); with
    ``BETALAB_LOCK_WAIT=0.5`` this process says who holds the piece, and 0.5 s later computes it
    itself, without the cache (the holder's piece is not written over)."""
    import signal
    import subprocess
    import sys
    import time

    from betalab import io

    script, ready = tmp_path / "holder.py", tmp_path / "ready"
    script.write_text(_HOLDER)
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path / "p"), str(ready)])
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert child.poll() is None and time.monotonic() < deadline, "the holder did not start"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGSTOP)
        stat = Path(f"/proc/{child.pid}/stat")
        while stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "T":
            assert time.monotonic() < deadline, "the holder did not stop"
            time.sleep(0.01)                          # the signal is delivered asynchronously
        monkeypatch.setenv(io.LOCK_WAIT_ENV, "0.5")
        calls = []
        t0 = time.monotonic()
        got = PartialResults(tmp_path / "p").fetch(
            "piece", {"x": 1}, lambda: calls.append(1) or {"v": np.array([2.0])})
        waited = time.monotonic() - t0
        err = capsys.readouterr().err.strip().splitlines()
        assert calls == [1] and got["v"].tolist() == [2.0]
        assert 0.5 <= waited < 30, waited
        piece = tmp_path / "p" / "piece.npz"
        stopped = " (stopped)" if stat.exists() else ""      # where /proc tells the state
        assert err == [
            f"betalab: {piece}: waiting for process {child.pid}{stopped}, which is computing it "
            f"(at most 0.5 s, BETALAB_LOCK_WAIT)",
            f"betalab: {piece}: still locked by process {child.pid}{stopped} after 0.5 s; "
            f"computing it here without the cache (BETALAB_LOCK_WAIT sets the wait)"]
        assert not piece.exists()                        # nothing saved by the waiter
    finally:
        os.kill(child.pid, signal.SIGKILL)
        os.kill(child.pid, signal.SIGCONT)
        child.wait(timeout=60)


def test_a_free_lock_is_taken_at_once_and_the_wait_is_checked(tmp_path, capsys, monkeypatch):
    from betalab import io

    assert io.LOCK_WAIT_SECONDS == 900.0 and io.lock_wait_seconds() == 900.0
    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv(io.LOCK_WAIT_ENV, bad)
        with pytest.raises(ValueError, match="BETALAB_LOCK_WAIT"):
            PartialResults(tmp_path / "p").fetch("piece", {}, lambda: {"v": [1.0]})
    monkeypatch.setenv(io.LOCK_WAIT_ENV, "0")
    lock = tmp_path / "p" / ".piece.lock"
    lock.parent.mkdir()
    lock.write_text("12345\n")                          # left by a killed holder: no lock held
    got = PartialResults(tmp_path / "p").fetch("piece", {}, lambda: {"v": [1.0]})
    assert list(got["v"]) == [1.0] and capsys.readouterr().err == ""
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["piece.npz"]


def test_reproduce_does_not_run_at_quick_scale_what_the_report_shows_from_a_recorded_run(
        tmp_path, two_toy_studies):
    """The report of a study with a recorded cpu run is that run's: reproduce skips the quick run
    (nothing written under ``out/<study>``) unless ``quick_too``, and the report is the same."""
    out, root = _record_both(tmp_path, two_toy_studies)
    recorded = runner.recorded_records(root)
    only = "zz-toy-fault-*"
    assert runner.shown_from_recorded(two_toy_studies, registry.StudyConfig(), recorded) == two_toy_studies
    assert runner.shown_from_recorded(two_toy_studies, registry.StudyConfig(scale="cpu"), recorded) == []
    fast = tmp_path / "fast"
    runner.reproduce(registry.StudyConfig(), fast, only=only, progress=False, recorded=recorded)
    assert not any((fast / n).exists() for n in two_toy_studies)          # no quick run
    both = tmp_path / "both"
    runner.reproduce(registry.StudyConfig(), both, only=only, progress=False, recorded=recorded,
                     quick_too=True)
    assert all((both / n / "result.json").exists() for n in two_toy_studies)
    a, b = (json.loads((d / "claims.json").read_text()) for d in (fast, both))
    assert a["claims"] == b["claims"] and [c["measured"] for c in a["claims"]] == [1.0, 1.0]
    assert all(s["recorded"] and s["scale"] == "cpu" for s in a["studies"].values())
