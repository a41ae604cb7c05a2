"""The claims, registry, runner and CLI contract, on a throw-away study."""

import json

import matplotlib.pyplot as plt
import pytest

from betalab import claims, registry, runner
from betalab.cli import main


def test_close_verdicts():
    assert claims.close("x", "s", 1.0, 1.0 + 1e-9, rtol=1e-6).verdict == "holds"
    assert claims.close("x", "s", 1.0, 1.1, rtol=1e-6).verdict == "fails"
    assert claims.close("x", "s", 0.0, float("nan"), atol=1.0).verdict == "fails"
    with pytest.raises(ValueError, match="rtol or atol"):
        claims.close("x", "s", 1.0, 1.0)


def test_differs_and_offline_need_explanations():
    with pytest.raises(ValueError, match="note"):
        claims.Claim("x", "s", "1", 2, "-", "differs")
    with pytest.raises(ValueError, match="substitute"):
        claims.Claim("x", "s", "1", 2, "-", "offline")
    with pytest.raises(ValueError, match="verdict"):
        claims.Claim("x", "s", "1", 2, "-", "maybe")


def test_config_validation():
    with pytest.raises(ValueError, match="seed"):
        registry.StudyConfig(seed=-1)
    with pytest.raises(TypeError, match="full"):
        registry.StudyConfig(full=1)


@pytest.fixture
def toy_study():
    name = "zz-toy-test-study"

    def toy(config):
        rng = config.rng()
        value = float(rng.normal())
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, value])
        return registry.StudyResult(
            numbers={"value": value},
            figures={"line": fig},
            claims=[claims.relation("value is finite", "none", "finite", value, value == value),
                    claims.close("value is 100", "none", 100.0, value, atol=1.0)])

    registry.study(name, title="toy", paper="none", source="none")(toy)
    yield name
    registry._REGISTRY.pop(name)


def test_runner_writes_report_and_is_deterministic(tmp_path, toy_study):
    cfg = registry.StudyConfig(seed=3)
    recs = runner.reproduce(cfg, tmp_path, only=toy_study, progress=False)
    assert runner.exit_code(recs) == 1  # the second claim fails by construction
    data = json.loads((tmp_path / "claims.json").read_text())
    assert [c["verdict"] for c in data["claims"]] == ["holds", "fails"]
    assert (tmp_path / toy_study / "line.png").stat().st_size > 0
    assert (tmp_path / toy_study / "line.pdf").stat().st_size > 0
    report = (tmp_path / "report.md").read_text()
    assert f"![{toy_study}/line.png]" in report and "seed **3**" in report
    first = json.loads((tmp_path / toy_study / "result.json").read_text())["numbers"]
    runner.reproduce(cfg, tmp_path / "again", only=toy_study, progress=False)
    again = json.loads((tmp_path / "again" / toy_study / "result.json").read_text())["numbers"]
    assert first == again
    assert not list(tmp_path.rglob(".*.tmp")) and not list(tmp_path.rglob(".line.*"))


def test_resume_reuses_matching_results(tmp_path, toy_study):
    cfg = registry.StudyConfig(seed=1)
    runner.reproduce(cfg, tmp_path, only=toy_study, progress=False)
    path = tmp_path / toy_study / "result.json"
    rec = json.loads(path.read_text())
    rec["numbers"]["marker"] = "kept"
    path.write_text(json.dumps(rec))
    runner.reproduce(cfg, tmp_path, only=toy_study, resume=True, progress=False)
    assert json.loads(path.read_text())["numbers"]["marker"] == "kept"
    runner.reproduce(registry.StudyConfig(seed=2), tmp_path, only=toy_study, resume=True, progress=False)
    assert "marker" not in json.loads(path.read_text())["numbers"]


def test_cli_errors_are_clear(capsys):
    assert main(["run", "no-such-study", "--out", "/tmp/unused"]) == 2
    assert "unknown study" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reproduce", "--seed", "notanint"])


def test_every_registered_study_has_a_notebook():
    from pathlib import Path

    for s in registry.all_studies().values():
        nb = registry.notebook_path(s)
        assert nb is not None and nb.exists(), f"study {s.name} has no notebook"
        assert s.name in Path(nb).read_text(), f"notebook {nb} does not call study {s.name}"


def test_partial_results_round_trip_and_signature(tmp_path):
    import numpy as np

    from betalab.io import PartialResults

    p = PartialResults(tmp_path / "p")
    assert p.load("a", {"x": 1}) is None
    p.save("a", {"x": 1}, {"v": np.arange(3.0), "n": [1, 2]})
    got = p.load("a", {"x": 1})
    np.testing.assert_array_equal(got["v"], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(got["n"], [1, 2])
    assert p.load("a", {"x": 2}) is None  # other settings: recomputed
    (tmp_path / "p" / "a.npz").write_bytes(b"truncated")
    assert p.load("a", {"x": 1}) is None  # unreadable: recomputed
    assert not [f for f in (tmp_path / "p").iterdir() if f.name.startswith(".")]  # no temp files
    with pytest.raises(ValueError, match="name"):
        p.save("../escape", {}, {})
    p.clear()
    assert not (tmp_path / "p").exists()


def test_runner_hands_studies_partial_results_and_clears_them(tmp_path):
    name, seen = "zz-toy-partial-study", []

    def toy(config):
        seen.append(config.partial.root)
        config.partial.save("piece", {"seed": config.seed}, {"v": [1.0]})
        assert (config.partial.root / "piece.npz").exists()
        return registry.StudyResult(numbers={}, figures={}, claims=[
            claims.relation("piece kept", "none", "kept", 1, True)])

    registry.study(name, title="toy", paper="none", source="none")(toy)
    try:
        record = runner.run_study(name, registry.StudyConfig(), tmp_path)
    finally:
        registry._REGISTRY.pop(name)
    assert seen == [tmp_path / name / "partial"]
    assert record["error"] is None and "partial" not in record["config"]
    assert not (tmp_path / name / "partial").exists()  # finished: the pieces are removed


def test_atomic_files_get_the_usual_permissions(tmp_path):
    import os

    from betalab import io

    umask = os.umask(0o022)
    os.umask(umask)
    path = io.write_text(tmp_path / "a.txt", "x")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_scales():
    assert registry.StudyConfig().scale == "quick"
    assert registry.StudyConfig(full=True).scale == "full"
    c = registry.StudyConfig(scale="full")
    assert c.full is True and c.scale == "full"
    assert registry.StudyConfig(scale="cpu").full is False
    with pytest.raises(ValueError, match="scale"):
        registry.StudyConfig(scale="gpu")
    with pytest.raises(ValueError, match="contradicts"):
        registry.StudyConfig(full=True, scale="cpu")
