"""Recorded larger-scale runs (``recorded/<study>/<scale>/``): every recorded verdict is
re-derived from its recorded numbers by the current code, and the report takes a study's claims
from its recorded run."""

import json

import matplotlib.pyplot as plt
import pytest

from betalab import claims, registry, runner

RECORDED = sorted(runner.RECORDED.glob("*/*/result.json"))


def test_recorded_verdicts_follow_from_recorded_numbers():
    for path in RECORDED:
        _check_recorded(path)


def _check_recorded(path):
    rec = json.loads(path.read_text())
    study = registry.get(rec["study"])
    assert study.recheck is not None
    derived = runner.rederive({**rec, "recorded": path.parent.as_posix()})
    assert not derived.get("error"), derived["error"]
    again = [claims.Claim.from_dict(c) for c in derived["claims"]]
    stored = [claims.Claim.from_dict(c) for c in rec["claims"]]
    assert [(c.statement, c.verdict, c.kind, c.scale) for c in again] == \
        [(c.statement, c.verdict, c.kind, c.scale) for c in stored]
    assert rec["config"]["scale"] == path.parent.name and not rec["error"]
    for fig in rec["figures"]:
        assert (path.parent / fig).stat().st_size > 0


@pytest.fixture
def toy_cpu_study():
    name = "zz-toy-recorded-study"

    def recheck(numbers, seed):
        v = numbers["value"]
        return [claims.relation("value is positive", "none", "> 0", v, v > 0, kind="paper",
                                scale=numbers["scale"])]

    def toy(config):
        value = 1.0 if config.scale == "cpu" else -1.0       # decided only at cpu scale
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, value])
        numbers = {"value": value, "scale": config.scale}
        return registry.StudyResult(numbers, {"line": fig}, recheck(numbers, config.seed))

    registry.study(name, title="toy", paper="none", source="none", recheck=recheck)(toy)
    yield name
    registry._REGISTRY.pop(name)


def test_a_run_on_an_earlier_dsprites_renderer_is_not_a_verdict():
    """A recorded run of a dSprites study measured on another renderer version keeps its numbers
    but decides nothing: every decided claim reads not run, saying which renderer it was on."""
    from deep.data.dsprites import CACHE_VERSION

    rec = {"study": "higgins-fig5-table", "versions": {}, "config": {"scale": "cpu", "seed": 0}}
    assert runner.stale_renderer(rec) == 1
    assert runner.stale_renderer({**rec, "versions": {"dsprites renderer": CACHE_VERSION}}) is None
    assert runner.stale_renderer({**rec, "study": "sikka-fig4"}) is None
    decided = [claims.close("x", "s", 1.0, 1.0, atol=0.1, kind="paper", scale="cpu"),
               claims.close("y", "s", 1.0, 2.0, atol=0.1, kind="paper", scale="cpu")]
    out = claims.superseded(decided, why="renderer 1.", would_run="r.", cost="c.")
    assert [c.verdict for c in out] == ["not run", "not run"]
    assert "renderer 1" in out[0].note and "'holds'" in out[0].note and "'fails'" in out[1].note


def test_record_and_report(tmp_path, toy_cpu_study):
    out, root = tmp_path / "results", tmp_path / "recorded"
    cpu = runner.run_study(toy_cpu_study, registry.StudyConfig(scale="cpu"), out)
    assert (out / "cpu" / toy_cpu_study / "result.json").exists()      # not the quick directory
    assert cpu["claims"][0]["verdict"] == "holds"
    dest = runner.record_run(toy_cpu_study, "cpu", out, root)
    assert (dest / "line.png").stat().st_size > 0
    quick = runner.run_study(toy_cpu_study, registry.StudyConfig(), out)
    assert quick["claims"][0]["verdict"] == "fails"
    runner.write_report([quick], registry.StudyConfig(), out, runner.recorded_records(root))
    report = (out / "report.md").read_text()
    assert "Recorded **cpu-scale** run" in report and "**Paper claims: 1** — 1 hold" in report
    assert f"](cpu/{toy_cpu_study}/line.png)" in report
    assert (out / "cpu" / toy_cpu_study / "line.png").exists()
    # without a recorded run the quick verdict stands
    runner.write_report([quick], registry.StudyConfig(), out, {})
    assert "1 fail" in (out / "report.md").read_text()


def test_record_refuses_what_does_not_recheck(tmp_path, toy_cpu_study):
    out = tmp_path / "results"
    with pytest.raises(ValueError, match="no finished cpu run"):
        runner.record_run(toy_cpu_study, "cpu", out, tmp_path / "rec")
    runner.run_study(toy_cpu_study, registry.StudyConfig(scale="cpu"), out)
    path = out / "cpu" / toy_cpu_study / "result.json"
    rec = json.loads(path.read_text())
    rec["claims"][0]["verdict"] = "differs"                   # a verdict edited by hand
    path.write_text(json.dumps(rec))
    with pytest.raises(ValueError, match="re-derived"):
        runner.record_run(toy_cpu_study, "cpu", out, tmp_path / "rec")
    with pytest.raises(ValueError, match="scale"):
        runner.record_run(toy_cpu_study, "quick", out, tmp_path / "rec")


def test_edited_recorded_files_never_reach_the_report(tmp_path, toy_cpu_study, monkeypatch):
    """A recorded verdict edited by hand is re-derived away; a recorded number or figure edited by
    hand is refused (its manifest digest), one line naming the file, and the command exits 1;
    the report's exit status follows the recorded run's claims, not the quick run's."""
    from betalab.cli import main

    out, root = tmp_path / "results", tmp_path / "recorded"
    runner.run_study(toy_cpu_study, registry.StudyConfig(scale="cpu"), out)
    dest = runner.record_run(toy_cpu_study, "cpu", out, root)
    path = dest / "result.json"
    pristine = path.read_text()
    monkeypatch.setattr(runner, "RECORDED", root)
    # the quick run's own claim fails (value -1), the recorded cpu claim holds: the report holds
    assert main(["run", toy_cpu_study, "--out", str(tmp_path / "o0")]) == 0
    # a verdict flipped by hand: the report re-derives "holds" from the numbers
    rec = json.loads(pristine)
    rec["claims"][0]["verdict"] = "fails"
    path.write_text(json.dumps(rec))
    assert main(["run", toy_cpu_study, "--out", str(tmp_path / "o1")]) == 0
    assert json.loads((tmp_path / "o1" / "claims.json").read_text())["claims"][0]["verdict"] == "holds"
    # a number edited by hand: refused, with the file named, and the status is 1
    rec = json.loads(pristine)
    rec["numbers"]["value"] = -1.0
    path.write_text(json.dumps(rec))
    assert main(["run", toy_cpu_study, "--out", str(tmp_path / "o2")]) == 1
    md = (tmp_path / "o2" / "report.md").read_text()
    assert "result.json: not a usable recorded run" in md and "numbers differ" in md
    # a figure edited by hand: refused the same way
    path.write_text(pristine)
    (dest / "line.png").write_bytes(b"not the recorded figure")
    assert main(["run", toy_cpu_study, "--out", str(tmp_path / "o3")]) == 1
    assert "'line.png' differs" in (tmp_path / "o3" / "report.md").read_text()
