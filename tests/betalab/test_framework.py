"""The claims, registry, runner and CLI contract, on a throw-away study."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from betalab import claims, registry, runner
from betalab.cli import main


def test_close_verdicts():
    assert claims.close("x", "s", 1.0, 1.0 + 1e-9, rtol=1e-6, kind="check").verdict == "holds"
    assert claims.close("x", "s", 1.0, 1.1, rtol=1e-6, kind="check").verdict == "fails"
    assert claims.close("x", "s", 0.0, float("nan"), atol=1.0, kind="check").verdict == "fails"
    with pytest.raises(ValueError, match="rtol or atol"):
        claims.close("x", "s", 1.0, 1.0, kind="check")


def test_kind_is_required_and_checked():
    with pytest.raises(TypeError, match="kind"):
        claims.close("x", "s", 1.0, 1.0, atol=1.0)  # noqa: the missing keyword is the test
    with pytest.raises(TypeError, match="kind"):
        claims.relation("x", "s", "e", 1, True)
    with pytest.raises(ValueError, match="kind"):
        claims.relation("x", "s", "e", 1, True, kind="paperish")
    with pytest.raises(ValueError, match="scale"):
        claims.relation("x", "s", "e", 1, True, kind="paper", scale="huge")
    c = claims.close("x", "s", 1.0, 1.0, atol=1.0, kind="extension", scale="quick")
    assert (c.kind, c.scale) == ("extension", "quick")
    assert claims.Claim.from_dict(c.to_dict()) == c


def test_a_verdict_cannot_be_passed_in():
    """Claim refuses direct construction: only the comparison constructors decide verdicts."""
    with pytest.raises(TypeError, match="verdict cannot"):
        claims.Claim("x", "s", "1", 2, "-", "holds")
    with pytest.raises(TypeError, match="verdict cannot"):
        claims.Claim("x", "s", "1", 2, "-", "differs", note="n", kind="paper", pair="y")
    assert not hasattr(claims, "differs") and not hasattr(claims, "offline")
    for f in (claims.close, claims.relation, claims.as_printed, claims.as_printed_relation,
              claims.not_run, claims.constructed):
        assert "verdict" not in f.__code__.co_varnames[:f.__code__.co_argcount
                                                         + f.__code__.co_kwonlyargcount]


def _corrected():
    return claims.close("corrected", "s", 2.0, 2.0, atol=1e-12, kind="paper")


def test_as_printed_differs_only_when_the_printed_form_disagrees():
    """A study cannot produce a 'differs' whose printed form agrees: the same call with an
    agreeing printed value gives 'holds'."""
    printed, corrected = claims.as_printed("p", "s", 1.0, 1.5, atol=0.1, why="w", corrected=_corrected(), basis="derivation")
    assert printed.verdict == "differs" and printed.note == "w" and printed.pair == "corrected"
    assert corrected.pair == "p" and corrected.verdict == "holds"
    agreeing, _ = claims.as_printed("p", "s", 1.0, 1.05, atol=0.1, why="w", corrected=_corrected(), basis="derivation")
    assert agreeing.verdict == "holds" and agreeing.note == ""
    r, _ = claims.as_printed_relation("p", "s", "e", 3, 3 == 3, why="w", corrected=_corrected(), basis="derivation")
    assert r.verdict == "holds"
    r, _ = claims.as_printed_relation("p", "s", "e", 3, 3 == 4, why="w", corrected=_corrected(), basis="derivation")
    assert r.verdict == "differs"
    with pytest.raises(TypeError, match="corrected"):
        claims.as_printed("p", "s", 1.0, 1.5, atol=0.1, why="w", corrected="the fix", basis="derivation")
    with pytest.raises(ValueError, match="why"):
        claims.as_printed("p", "s", 1.0, 1.5, atol=0.1, why="", corrected=_corrected(), basis="derivation")
    nr = claims.not_run("n", "s", "1", why="w.", would_run="r.", cost="c.", kind="paper")
    with pytest.raises(ValueError, match="corrected"):
        claims.as_printed("p", "s", 1.0, 1.5, atol=0.1, why="w", corrected=nr, basis="derivation")


def test_differs_needs_a_basis_that_can_show_the_paper_wrong():
    """'differs' accuses the paper of an error: the basis is required and recorded, and a
    measurement below the paper's scale cannot carry it (it is a reproduction: close/relation)."""
    printed, _ = claims.as_printed("p", "s", 1.0, 1.5, atol=0.1, why="w", corrected=_corrected(),
                                   basis="exact computation")
    assert printed.basis == "exact computation" and printed.to_dict()["basis"] == "exact computation"
    assert claims.Claim.from_dict(printed.to_dict()) == printed
    with pytest.raises(TypeError, match="basis"):
        claims.as_printed("p", "s", 1.0, 1.5, atol=0.1, why="w", corrected=_corrected())  # noqa
    with pytest.raises(ValueError, match="basis"):
        claims.as_printed("p", "s", 1.0, 1.5, atol=0.1, why="w", corrected=_corrected(),
                          basis="a hunch")
    for scale in claims.REDUCED_SCALES + ("",):
        with pytest.raises(ValueError, match="reduced-scale"):
            claims.as_printed_relation("p", "s", "e", 3, False, why="w", corrected=_corrected(),
                                       basis="paper-scale measurement", scale=scale)
    full, _ = claims.as_printed_relation("p", "s", "e", 3, False, why="w", corrected=_corrected(),
                                         basis="paper-scale measurement", scale="full")
    assert full.verdict == "differs"
    # a stored 'differs' without its basis (an older report) is not read back as valid
    d = printed.to_dict()
    d["basis"] = ""
    with pytest.raises(ValueError, match="basis"):
        claims.Claim.from_dict(d)
    # the corrected claim is another statement, never the printed one
    same = claims.relation("p", "s", "e", 1, True, kind="paper")
    with pytest.raises(ValueError, match="other than the printed"):
        claims.as_printed_relation("p", "s", "e", 3, False, why="w", corrected=same,
                                   basis="derivation")


def test_not_run_and_constructed_say_why():
    c = claims.not_run("n", "s", "1", why="needs a GPU.", would_run="betalab train.", cost="1 h.",
                       kind="paper", substitute="a smaller run")
    assert c.verdict == "not run" and "needs a GPU" in c.note and c.substitute == "a smaller run"
    for missing in ("why", "would_run", "cost"):
        kw = {"why": "w", "would_run": "r", "cost": "c", missing: ""}
        with pytest.raises(ValueError, match=missing):
            claims.not_run("n", "s", "1", kind="paper", **kw)
    k = claims.constructed("n", "s", -17.82, -17.82, how="solved for λ.", free="N.", kind="paper")
    assert k.verdict == "constructed" and "not reproduced" in k.note
    with pytest.raises(ValueError, match="free"):
        claims.constructed("n", "s", 1.0, 1.0, how="h", free="", kind="paper")


def test_convergence_of_several_traces_needs_every_one():
    """A record of several labelled traces (one per model of a comparison) is converged only
    when every trace levelled off, each judged by the one-trace rule on its own seeds."""
    steps = [500, 1000, 1500, 2000]
    # seed mean 0.26 → 0.2613: moved 0.0013 < s.e. sd(0.251, 0.262, 0.271)/√3 ≈ 0.0058
    flat = [[0.1, 0.12, 0.11], [0.2, 0.21, 0.22], [0.25, 0.26, 0.27], [0.251, 0.262, 0.271]]
    # seed mean 0.255 → 0.305: moved 0.05, not less than s.e. 0.005
    moving = [[0.1, 0.12], [0.2, 0.21], [0.25, 0.26], [0.3, 0.31]]
    one = claims.convergence({"statistic": "s", "steps": steps, "values": flat})
    both = claims.convergence({"statistic": "s", "steps": steps, "values": {"a": flat, "b": flat}})
    assert both["converged"] and both["traces"]["a"] == one
    late = claims.convergence({"statistic": "s", "steps": steps, "values": {"a": flat, "b": moving}})
    assert not late["converged"] and late["traces"]["a"]["converged"]
    assert late["moved"] == pytest.approx(0.05) and late["n_seeds"] == 2     # the trace that moved
    with pytest.raises(ValueError, match="labelled trace"):
        claims.convergence({"statistic": "s", "steps": steps, "values": {}})
    with pytest.raises(ValueError, match="at least"):
        claims.convergence({"statistic": "s", "steps": steps, "values": {"a": flat[:3]}})
    c = claims.relation("r", "s", "x > 0", 1.0, True, kind="paper", scale="cpu")
    kw = dict(would_run="run longer.", cost="1 h.")
    (ok,) = claims.at_convergence([c], {"statistic": "s", "steps": steps,
                                        "values": {"a": flat, "b": flat}}, **kw)
    assert ok.verdict == "holds" and "Converged" in ok.note and "a: moved" in ok.note \
        and "b: moved" in ok.note
    (no,) = claims.at_convergence([c], {"statistic": "s", "steps": steps,
                                        "values": {"a": flat, "b": moving}}, **kw)
    assert no.verdict == "not run" and "not levelled off in b " in no.note
    assert no.measured["convergence"]["traces"]["b"]["converged"] is False


def test_report_counts_the_kinds_apart():
    """The headline counts paper claims by verdict; extensions and checks apart (a constructed
    match is not counted as holding)."""
    from betalab.runner import counts, headline

    cs = [claims.close("a", "s", 1.0, 1.0, atol=1, kind="paper"),
          claims.close("b", "s", 1.0, 9.0, atol=1, kind="paper"),
          *claims.as_printed("c", "s", 1.0, 9.0, atol=1, why="w", corrected=_corrected(), basis="derivation"),
          claims.constructed("d", "s", 1.0, 1.0, how="h.", free="f.", kind="paper"),
          claims.not_run("e", "s", "1", why="w.", would_run="r.", cost="c.", kind="paper"),
          claims.relation("f", "s", "e", 1, True, kind="extension"),
          claims.relation("g", "s", "e", 1, True, kind="check"),
          claims.relation("h", "s", "e", 1, False, kind="check")]
    cnt = counts(cs)
    assert cnt["paper"] == {"holds": 2, "fails": 1, "differs": 1, "not run": 1, "constructed": 1}
    assert cnt["extension"]["holds"] == 1 and cnt["check"] == {
        "holds": 1, "fails": 1, "differs": 0, "not run": 0, "constructed": 0}
    text = headline(cnt)
    assert "Paper claims: 6** — 2 hold, 1 fail, 1 differ" in text
    assert "1 not run here, 1 constructed" in text
    assert "extensions: 1** (1 hold, 0 fail)" in text and "checks: 2** (1 hold, 1 fail)" in text


def test_no_study_writes_a_verdict_by_hand():
    """Studies and notebooks build claims only through the constructors, never pass a literal
    True/False as the outcome of a relation, and never name a verdict."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    files = sorted((root / "betalab" / "studies").rglob("*.py")) + sorted((root / "notebooks").glob("*.py"))
    assert files
    outcome_position = {"relation": 4, "as_printed_relation": 4}
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in ("_KEY", "Claim"):
                raise AssertionError(f"{path.name}:{node.lineno} touches Claim directly")
            if isinstance(node, ast.Attribute) and node.attr in ("_KEY", "Claim"):
                raise AssertionError(f"{path.name}:{node.lineno} touches Claim directly")
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            assert not any(k.arg == "verdict" for k in node.keywords), f"{path.name}:{node.lineno}"
            if name in outcome_position:
                pos = outcome_position[name]
                arg = node.args[pos] if len(node.args) > pos else next(
                    (k.value for k in node.keywords if k.arg in ("ok", "agrees")), None)
                assert arg is not None, f"{path.name}:{node.lineno}"
                assert not isinstance(arg, ast.Constant), \
                    f"{path.name}:{node.lineno}: {name} with a literal outcome"


def test_coverage_items_are_validated_and_resolved():
    from betalab import coverage

    with pytest.raises(ValueError, match="reason"):
        coverage.Item("higgins", "Fig 5", "table", "missing")
    with pytest.raises(ValueError, match="claims"):
        coverage.Item("higgins", "Fig 5", "table", "covered")
    with pytest.raises(ValueError, match="paper"):
        coverage.Item("nobody", "Fig 5", "table", "missing", reason="r")
    with pytest.raises(ValueError, match="status"):
        coverage.Item("higgins", "Fig 5", "table", "done", ("s: a",))
    item = coverage.Item("higgins", "Fig 5", "table", "partial", ("toy: value is",), reason="r")
    c = claims.relation("value is finite", "none", "finite", 1, True, kind="paper").with_study("toy")
    res = coverage.resolve([item], [("toy:1", c)])
    assert res[0].ids == ["toy:1"] and res[0].verdicts == ["holds"] and not res[0].unresolved
    res = coverage.resolve([item], [], studies_run={"other"})
    assert res[0].not_in_run == ["toy: value is"] and not res[0].unresolved
    assert coverage.unresolved_names([item], "toy", []) == ["toy: value is"]
    assert coverage.summary(res)["counts"]["higgins"] == {"covered": 0, "partial": 1, "not run": 0,
                                                          "missing": 0}


def test_the_ledger_is_well_formed():
    from betalab import coverage
    from betalab.ledger import LEDGER

    assert LEDGER and all(isinstance(i, coverage.Item) for i in LEDGER)
    assert {i.paper for i in LEDGER} == set(coverage.PAPERS)
    keys = [(i.paper, i.ref, i.what) for i in LEDGER]
    assert len(keys) == len(set(keys)), "duplicate ledger items"
    studies = set(registry.all_studies())
    for i in LEDGER:
        for name in i.claims:
            assert name.partition(": ")[0] in studies, name


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
            claims=[claims.relation("value is finite", "none", "finite", value, value == value,
                                    kind="paper"),
                    claims.close("value is 100", "none", 100.0, value, atol=1.0, kind="check")])

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
    assert f"]({toy_study}/line.png)" in report and "scale **quick**, seed 3" in report
    assert "**Paper claims: 1** — 1 hold" in report and "## Coverage of the papers" in report
    assert f"| {toy_study}:2 | value is 100 | check |" in report
    assert data["counts"]["check"]["fails"] == 1 and data["claims"][0]["id"] == f"{toy_study}:1"
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
    assert main(["reproduce", "--seed", "notanint"]) == 2
    assert "--seed: invalid int value" in capsys.readouterr().err


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


def test_a_config_piece_is_computed_once_then_loaded(tmp_path):
    """StudyConfig.piece: computed and stored on the first call, loaded on the second (the
    compute function's call count is the oracle), recomputed for another signature, and
    computed every time without partial results."""
    import numpy as np

    from betalab.io import PartialResults

    calls = []

    def compute():
        calls.append(1)
        return {"v": np.arange(3.0) * len(calls)}

    cfg = registry.StudyConfig(partial=PartialResults(tmp_path / "p"))
    first = cfg.piece("k", {"x": 1}, compute)
    again = cfg.piece("k", {"x": 1}, compute)
    np.testing.assert_array_equal(again["v"], first["v"])
    assert len(calls) == 1
    cfg.piece("k", {"x": 2}, compute)
    assert len(calls) == 2
    bare = registry.StudyConfig()
    bare.piece("k", {"x": 1}, compute)
    bare.piece("k", {"x": 1}, compute)
    assert len(calls) == 4


_FETCH_CHILD = """
import sys, time
from betalab.io import PartialResults

root, log = sys.argv[1], sys.argv[2]


def compute():
    with open(log, "a") as f:
        f.write("computed\\n")
    time.sleep(1.0)                        # long enough for the other process to ask meanwhile
    return {"v": [1.0, 2.0]}


print(PartialResults(root).fetch("piece", {"x": 1}, compute)["v"][1])
"""


def test_processes_sharing_partial_results_compute_a_piece_once(tmp_path):
    """Two processes ask for the same piece at the same moment: one computes it, the other waits
    and loads it (the oracle: compute's own log, one line); no lock file is left behind."""
    import subprocess
    import sys

    script, log = tmp_path / "child.py", tmp_path / "log.txt"
    script.write_text(_FETCH_CHILD)
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path / "p"), str(log)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    assert [out.strip() for out, _ in outs] == ["2.0", "2.0"]
    assert log.read_text() == "computed\n"
    assert sorted(f.name for f in (tmp_path / "p").iterdir()) == ["piece.npz"]
    from betalab.io import PartialResults

    with pytest.raises(TypeError, match="compute"):
        PartialResults(tmp_path / "q").fetch("piece", {"x": 1}, {"v": [1.0]})


def test_the_cache_directory_keeps_pieces_between_calls(tmp_path, monkeypatch):
    """BETALAB_CACHE: a study called without partial results keeps its pieces under
    <study>/<scale>-seed<seed>-<device>/ and loads them on the next call with the same
    settings; another seed computes again; an explicit partial wins; unset, nothing is kept.
    The compute function's call count is the oracle."""
    import numpy as np

    from betalab.io import PartialResults

    name, calls = "zz-toy-cached-study", []

    def toy(config):
        v = config.piece("p", {"seed": config.seed}, lambda: calls.append(1) or {"v": np.ones(2)})
        return registry.StudyResult(numbers={"v": v["v"].tolist()}, figures={}, claims=[
            claims.relation("toy", "none", "ones", 1, True, kind="check")])

    study = registry.study(name, title="toy", paper="none", source="none")(toy)
    try:
        study(registry.StudyConfig())
        assert len(calls) == 1 and not any(tmp_path.iterdir())        # unset: nothing kept
        monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "cache"))
        study(registry.StudyConfig())
        study(registry.StudyConfig())
        assert len(calls) == 2
        assert (tmp_path / "cache" / name / "quick-seed0-auto" / "p.npz").exists()
        study(registry.StudyConfig(seed=3))
        assert len(calls) == 3
        study(registry.StudyConfig(partial=PartialResults(tmp_path / "own")))
        assert len(calls) == 4 and (tmp_path / "own" / "p.npz").exists()
    finally:
        registry._REGISTRY.pop(name)


def test_runner_hands_studies_partial_results_and_clears_them(tmp_path):
    name, seen = "zz-toy-partial-study", []

    def toy(config):
        seen.append(config.partial.root)
        config.partial.save("piece", {"seed": config.seed}, {"v": [1.0]})
        assert (config.partial.root / "piece.npz").exists()
        return registry.StudyResult(numbers={}, figures={}, claims=[
            claims.relation("piece kept", "none", "kept", 1, config.partial is not None,
                            kind="check")])

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


def test_an_unusable_study_cache_runs_the_study_without_it(tmp_path, monkeypatch, capsys):
    """BETALAB_CACHE under a regular file (mkdir fails with an OSError): the study runs, computes
    its piece, and one line says it ran without the cache; with a usable cache the piece is
    computed once for two runs."""
    calls = []

    def toy(config):
        value = config.piece("p", {"v": 1}, lambda: calls.append(1) or {"x": np.array([2.0])})
        return registry.StudyResult({"x": float(value["x"][0])}, {}, [
            claims.close("x is 2", "none", 2.0, float(value["x"][0]), atol=1e-12, kind="check")])

    name = "zz-toy-cache"
    registry.study(name, title="toy", paper="none", source="none")(toy)
    try:
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        monkeypatch.setenv(registry.CACHE_ENV, str(blocker / "cache"))
        assert registry.get(name)(registry.StudyConfig()).numbers == {"x": 2.0}
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "running without the study cache" in err and str(blocker) in err
        monkeypatch.setenv(registry.CACHE_ENV, str(tmp_path / "ok"))
        calls.clear()
        for _ in range(2):
            assert registry.get(name)(registry.StudyConfig()).numbers == {"x": 2.0}
        assert calls == [1] and capsys.readouterr().err == ""
    finally:
        registry._REGISTRY.pop(name)


def test_converged_lengths_read_the_points_a_shorter_run_records():
    """converged_lengths on a curve every 500 steps to 6,000: the lengths it can test are those
    whose 25/50/75/100 % points (as a sweep's [eval] along places them) lie on the curve, and
    each record is the rule applied to exactly those rows — checked against along_steps and
    convergence called by hand; a curve rising by a known amount per point fails at the lengths
    where its last-quarter move exceeds the seed standard error."""
    from betalab.sweep.work import along_steps

    steps = list(range(500, 6001, 500))
    rng = np.random.default_rng(0)
    seeds = rng.normal(0, 0.03, 3)                      # a fixed offset per seed: s.e. ≈ 0.02
    rise = np.minimum(np.arange(1, 13), 6) * 0.01       # rises 0.01 a point, flat from step 3,000
    values = rise[:, None] + seeds[None, :]
    trace = {"statistic": "s", "steps": steps, "values": values}
    got = claims.converged_lengths(trace)
    assert [r["length"] for r in got] == [2000, 4000, 6000]
    for r in got:
        at = along_steps([0.25, 0.5, 0.75], r["length"]) + [r["length"]]
        rows = [steps.index(s) for s in at]
        want = claims.convergence({"statistic": "s", "steps": at, "values": values[rows]})
        assert {k: r[k] for k in want} == want
    se = values[-1].std(ddof=1) / np.sqrt(3)
    # L = 2,000: 1,500 → 2,000 moves 0.01 (< s.e. here), L = 4,000: 3,000 → 4,000 moves 0
    assert got[0]["moved"] == pytest.approx(0.01) and got[1]["moved"] == pytest.approx(0.0, abs=1e-12)
    assert got[0]["converged"] == (0.01 < se) and got[1]["converged"]
    steep = {"statistic": "s", "steps": steps, "values": np.arange(1, 13)[:, None] * 0.1 + seeds}
    assert not any(r["converged"] for r in claims.converged_lengths(steep))
    assert claims.converged_lengths({**trace, "steps": [100, 200, 300, 700, 900, 1100, 1300,
                                                       1500, 1700, 1900, 2100, 2300]}) == []
    for bad in ((0.5, 0.25, 0.75, 1.0), (0.25, 0.5, 0.75), (0.25, 0.5, 0.75, 0.9)):
        with pytest.raises(ValueError, match="fractions"):
            claims.converged_lengths(trace, bad)
    with pytest.raises(ValueError, match="one cell"):
        claims.converged_lengths({**trace, "values": {"a": values}})


def test_a_resumed_run_reports_the_seconds_of_the_pieces_it_reused(tmp_path):
    """A piece computed through PartialResults.fetch stores its compute time; a later run that
    loads it instead adds that time to its record's ``seconds`` (``seconds_resumed`` says how
    much), so `betalab list` shows what a resumed study cost in all. Oracle: a piece saved with
    a known 1,000 s by a first, interrupted run."""
    import numpy as np

    from betalab.io import PartialResults

    name = "zz-toy-resumed-study"

    def toy(config):
        got = config.piece("p", {"x": 1}, lambda: {"v": np.ones(2)})
        return registry.StudyResult(numbers={"v": float(got["v"].sum())}, figures={}, claims=[])

    registry.study(name, title="toy", paper="none", source="none")(toy)
    try:
        cfg = registry.StudyConfig()
        fresh = runner.run_study(name, cfg, tmp_path / "a")
        assert "seconds_resumed" not in fresh
        out = tmp_path / "b"
        partial = PartialResults(runner.study_dir(out, name, "quick") / "partial")
        from deep.data.dsprites import CACHE_VERSION

        partial.save("p", {"x": 1, "dsprites renderer": CACHE_VERSION}, {"v": np.ones(2)},
                     seconds=1000.0)
        resumed = runner.run_study(name, cfg, out)
        assert resumed["numbers"] == fresh["numbers"] == {"v": 2.0}
        assert resumed["seconds_resumed"] == 1000.0 and resumed["seconds"] >= 1000.0
        # fetch stores the time it computed a piece
        p = PartialResults(tmp_path / "c")
        p.fetch("q", {}, lambda: {"v": np.zeros(1)})
        with np.load(tmp_path / "c" / "q.npz") as f:
            assert float(f["__seconds__"]) >= 0.0
        again = PartialResults(tmp_path / "c")
        assert set(again.load("q", {})) == {"v"} and again.reused_seconds >= 0.0
    finally:
        registry._REGISTRY.pop(name)


@settings(max_examples=60, deadline=None)
@given(unit=st.integers(1, 50), k=st.integers(4, 24), seeds=st.integers(2, 5),
       data=st.data())
def test_converged_lengths_property_brute_force(unit, k, seeds, data):
    """Property: on any curve measured every ``unit`` steps, converged_lengths returns exactly the
    lengths L on the curve whose four points (as a sweep of L steps evaluated at 25/50/75 %
    places them, along_steps, plus L) all lie on the curve and are distinct — found here by
    brute force over every step — each with convergence's record on those rows."""
    from betalab.sweep.work import along_steps

    steps = [unit * (i + 1) for i in range(k)]
    vals = np.array(data.draw(st.lists(st.lists(st.floats(-1e3, 1e3), min_size=seeds,
                                                max_size=seeds), min_size=k, max_size=k)))
    trace = {"statistic": "s", "steps": steps, "values": vals}
    got = {r["length"]: r for r in claims.converged_lengths(trace)}
    want = {}
    for i, L in enumerate(steps):
        at = along_steps([0.25, 0.5, 0.75], L) + [L]
        if len(at) == 4 and all(s in steps for s in at):
            want[L] = claims.convergence({"statistic": "s", "steps": at,
                                          "values": vals[[steps.index(s) for s in at]]})
    assert sorted(got) == sorted(want)
    for L, rec in want.items():
        assert {key: got[L][key] for key in rec} == rec
