"""The command line and the report a new user meets: a report that accumulates over runs and
never loses a study's claims, an errata section, readable numbers, a self-contained HTML page,
plain progress off a terminal, a tally line, ``--version``, examples, "did you mean"."""

import base64
import importlib.metadata
import json
import re
from html.parser import HTMLParser

import matplotlib.pyplot as plt
import pytest

from betalab import claims, registry
from betalab.cli import list_lines, main


def _toy(value: float, title: str):
    def study(config):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, value])
        fig.suptitle(title)
        corrected = claims.close("the value is 0.1234", "none", 0.1234, value, rtol=1e-2,
                                 kind="paper")
        printed, corrected = claims.as_printed(
            "the value is 0.2 as printed", "Toy 2020, eq. 1", 0.2, value, rtol=1e-2,
            why="the printed constant drops a factor 0.617; see the derivation", corrected=corrected,
            basis="derivation")
        return registry.StudyResult({"value": value}, {"line": fig}, [
            printed, corrected,
            claims.relation("a dict is measured", "none", "x > 0", {"x": value, "y": [value] * 9},
                            value > 0, kind="check")])
    return study


@pytest.fixture(name="toys")
def toys_fixture():
    names = ["zz-toy-a", "zz-toy-b"]
    for name, v in zip(names, (0.123456789012, 0.12341)):
        registry.study(name, title=f"toy {name}", paper="Toy 2020", source="Fig. 1")(
            _toy(v, f"Toy curve of {name}"))
    yield names
    for name in names:
        registry._REGISTRY.pop(name)


def _files(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


def test_running_one_study_keeps_every_other_studys_claims(tmp_path, toys, capsys):
    a, b = toys
    out = tmp_path / "results"
    assert main(["run", a, "--out", str(out)]) == 0
    assert main(["run", b, "--out", str(out)]) == 0
    data = json.loads((out / "claims.json").read_text())
    assert sorted({c["study"] for c in data["claims"]}) == [a, b]
    assert len(data["claims"]) == 6 and data["studies"][a]["device"] == "cpu"
    assert main(["run", a, "--out", str(out), "--seed", "4"]) == 0       # a rerun replaces a's
    data = json.loads((out / "claims.json").read_text())
    assert len(data["claims"]) == 6 and data["studies"][a]["seed"] == 4
    assert data["studies"][b]["seed"] == 0
    before = _files(out)
    capsys.readouterr()
    for bad in (["--device", "bogus"], ["--device", "cuda:99"], ["--out", str(out / "claims.json")],
                ["--scale", "cpu", "--full"]):
        assert main(["run", a, "--out", str(out), *bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
    assert _files(out) == before                                        # nothing lost or written


def test_report_opens_with_the_tally_contents_and_errata(tmp_path, toys, capsys):
    a, b = toys
    out = tmp_path / "results"
    assert main(["reproduce", "--only", "zz-toy-*", "--out", str(out), "--jobs", "1"]) == 0
    md = (out / "report.md").read_text()
    heads = [ln for ln in md.splitlines() if ln.startswith("## ")]
    assert heads[:4] == ["## Contents", "## Errata", "## Reading a claim", "## Coverage of the papers"]
    assert md.index("**Paper claims: 4** — 2 hold, 0 fail, 2 differ") < md.index("## Contents")
    assert f"| [{a}](#study-{a}) | quick | 2 | 1 | 1 | 0 | 0 | 0 | 0 | 1 |" in md
    assert "| **all 2 studies** | | **4** | **2** | **2** |" in md
    errata = md[md.index("## Errata"):md.index("## Reading a claim")]
    assert f"**{a}:1** — the value is 0.2 as printed (Toy 2020, eq. 1)" in errata
    # rtol 1e-2 resolves 2 digits: 3 significant digits shown (not 0.123456789012)
    assert "as printed: 0.2; measured: 0.123" in errata and "0.123456789012" not in md
    assert "shown by: derivation" in errata
    assert f"corrected ({a}:2, holds): the value is 0.1234" in errata
    # each claim once in the study sections; the dict and the long list readable
    assert md.count("| the value is 0.1234 |") == 2 and md.count("a dict is measured") == 2
    assert "{x: 0.1235, y: [0.1235, 0.1235, 0.1235, 0.1235, 0.1235, 0.1235, … (9 items)]}" in md
    assert f"![Toy curve of {a}]({a}/line.png)" in md and f"*Figure 1: Toy curve of {a}.*" in md
    assert "device `cpu`" in md and "device `auto`" not in md
    out_text = capsys.readouterr().out
    assert f"[differs] {a}:1 the value is 0.2 as printed — the printed constant drops a factor " \
           f"0.617\n" in out_text
    assert f"{a}: 3 claims (2 hold, 1 differs)\n" in out_text
    assert "Report of 2 studies: Paper claims: 4 — 2 hold" in out_text
    assert out_text.rstrip().endswith(f"report: {out / 'report.md'} (and report.html)")


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.attrs, self.ids, self.tags = [], set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        d = dict(attrs)
        self.attrs.append((tag, d))
        if "id" in d:
            self.ids.add(d["id"])


def test_html_report_is_self_contained(tmp_path, toys):
    a, b = toys
    out = tmp_path / "results"
    assert main(["reproduce", "--only", "zz-toy-*", "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    p = _Collect()
    p.feed(page)
    imgs = [d["src"] for t, d in p.attrs if t == "img"]
    assert len(imgs) == 2
    for name, src in zip(toys, imgs):      # the figures themselves, byte for byte
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == (out / name / "line.png").read_bytes()
    links = [d.get("href", "") for t, d in p.attrs if t == "a" and "href" in d]
    assert all(h.startswith("#") for h in links) and {h[1:] for h in links} <= p.ids
    assert not any(t in p.tags for t in ("script", "link", "iframe"))       # nothing to fetch
    assert "http://" not in page and "https://" not in page
    assert p.tags.count("table") >= 4 and "<figcaption>" in page
    # every claim's row can be linked to (the documentation's paper pages do): one id per claim
    # of claims.json, on the row whose first cell is that claim's id
    from betalab.report import claim_anchor

    ids = [c["id"] for c in json.loads((out / "claims.json").read_text())["claims"]]
    assert len(ids) == 6
    for cid in ids:
        row = re.search(rf'<tr id="{claim_anchor(cid)}"><td>([^<]*)</td>', page)
        assert row and row.group(1) == cid, cid


def test_plain_progress_off_a_terminal(tmp_path, toys, capsys):
    assert main(["reproduce", "--only", "zz-toy-*", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\r" not in err
    assert re.search(r"^\[2/2\] zz-toy-b: 3 claims, \d+ s$", err, re.M), err


def test_version_help_and_did_you_mean(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"betalab {importlib.metadata.version('betalab')}"
    assert main(["--help"]) == 0
    assert "examples:" in capsys.readouterr().out
    assert main(["run", "fa-prunning"]) == 2
    err = capsys.readouterr().err
    assert "did you mean fa-pruning?" in err and err.count("\n") == 1
    assert main(["reproduce", "--jobs", "0"]) == 2 and "--jobs" in capsys.readouterr().err
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--help" in err


def test_list_is_compact_and_has_a_runtime_per_scale():
    from betalab.runtimes import RUNTIMES

    lines = list_lines()
    assert all(len(ln) <= 100 for ln in lines)
    studies = registry.all_studies()
    assert set(RUNTIMES) == set(studies)              # a new study must state its run time
    rows = {ln.split()[0]: ln.split()[1:4] for ln in lines[1:] if ln.split()[0] in studies}
    assert set(rows) == set(studies)
    assert all(re.fullmatch(r"\d+(s|min|h)\*?|=|\?|GPU", t) for r in rows.values() for t in r)


def test_list_shows_the_time_a_run_here_measured(tmp_path):
    """A finished run's own time (its result.json) wins over the table, marked '*'; a run that
    raised, or of another scale, does not count."""
    import json

    from betalab.runner import study_dir
    from betalab.runtimes import estimate

    d = study_dir(tmp_path, "fa-beta", "quick")
    d.mkdir(parents=True)
    rec = {"study": "fa-beta", "config": {"scale": "quick"}, "seconds": 200.0, "error": None}
    (d / "result.json").write_text(json.dumps(rec))
    assert estimate("fa-beta", "quick", tmp_path) == "3min*"
    assert estimate("fa-beta", "quick", None) == "1s"                 # the table
    (d / "result.json").write_text(json.dumps({**rec, "error": "boom"}))
    assert estimate("fa-beta", "quick", tmp_path) == "1s"


def test_list_shows_the_time_of_each_recorded_run():
    """The cpu time of a study with a recorded cpu run is that run's own ``seconds`` (the oracle:
    its result.json), not a number copied into the table."""
    import json

    from betalab.runner import RECORDED
    from betalab.runtimes import _text, estimate

    found = 0
    for path in sorted(RECORDED.glob("*/cpu/result.json")):
        seconds = json.loads(path.read_text()).get("seconds")
        if seconds:
            assert estimate(path.parent.parent.name, "cpu", None) == _text(seconds), path
            found += 1
    assert found >= 5


def test_temporaries_of_killed_runs_are_removed_from_results(tmp_path, toys):
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()                                              # its pid is now a dead writer's
    a = toys[0]
    (tmp_path / a).mkdir()
    stale = [tmp_path / a / f".result.json.{p.pid}.k3j2h1.json", tmp_path / a / ".line.png.x8f7.png",
             tmp_path / f".report.md.{p.pid}.q1w2e3.md", tmp_path / ".claims.json.old.json"]
    for f in stale:
        f.write_bytes(b"")
    assert main(["run", a, "--out", str(tmp_path)]) == 0
    assert not any(f.exists() for f in stale)
    assert not [f for f in tmp_path.rglob(".*") if f.is_file()]


def test_captions_are_plain_text():
    """A figure title's mathtext reaches the report as text (the report typesets no TeX)."""
    import matplotlib.pyplot as plt

    from betalab.report import plain_mathtext
    from betalab.runner import figure_caption

    assert plain_mathtext("MIG at $\\beta = 1$") == "MIG at β = 1"
    assert plain_mathtext("$\\mathcal{N}(0, \\sigma^2)$ and $q$") == "N(0, σ^2) and q"
    assert plain_mathtext("a price of \\$5, no math") == "a price of \\$5, no math"
    fig, ax = plt.subplots()
    fig.suptitle("Fig. 5a at $\\beta = 1$")
    assert figure_caption(fig) == "Fig. 5a at β = 1"
    plt.close(fig)
