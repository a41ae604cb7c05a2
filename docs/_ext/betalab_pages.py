"""The generated pages of the documentation site, written into ``docs/_generated`` at every build
(before Sphinx reads its sources):

* ``papers/<paper>.md``: one page per paper from the coverage ledger (:mod:`betalab.ledger`),
  every checkable item with its status, the claims that decide it, why it is not (fully)
  decided, and the notebooks of the studies it names;
* ``notebooks/*.py``: the jupytext notebooks, copied (MyST-NB executes them);
* ``tally.md``: the landing page's claims tally, read from the latest ``results/claims.json``;
* ``claims.md``: the claims report page; the self-contained ``results/report.html`` of the latest
  ``make reproduce`` is published beside it (``html_extra_path``).

Only files whose content changes are rewritten, so an unchanged rebuild reads nothing again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent          # docs/
ROOT = HERE.parent
OUT = HERE / "_generated"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def read_notebook(text: str):
    """A ``notebooks/*.py`` percent script as a notebook (jupytext), with the Python
    ``language_info`` its header leaves out (the kernel adds it when the notebook runs; a build
    that does not execute still highlights the code as Python)."""
    import jupytext

    nb = jupytext.reads(text, fmt="py:percent")
    nb.metadata.setdefault("language_info", {"name": "python", "pygments_lexer": "ipython3"})
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = one_line_math(cell.source)
    return nb


def one_line_math(source: str) -> str:
    """Inline ``$...$`` math joined onto one line. JupyterLab takes the math out before it
    parses the Markdown; MyST parses the Markdown first, where a wrapped line of an equation
    that starts with ``+`` or ``-`` begins a list and splits the equation."""
    import re

    return re.sub(r"(?<![$\\])\$(?!\$)([^$]+?)(?<!\\)\$(?!\$)",
                  lambda m: "$" + " ".join(m.group(1).split("\n")) + "$", source)


def _latest_claims() -> list[dict] | None:
    """The claims of the latest report (``results/claims.json``) when the site carries that
    report (``report.html`` beside it), else None: the links below point into it."""
    path = ROOT / "results" / "claims.json"
    if not path.exists() or not (ROOT / "results" / "report.html").exists():
        return None
    import json

    return json.loads(path.read_text())["claims"]


def _claim_cell(name: str, latest) -> str:
    """A ledger claim name, and a link to each claim of the latest report it names (its row in
    ``report.html``: id and verdict)."""
    from betalab.coverage import match
    from betalab.report import claim_anchor

    text = f"`{_cell(name)}`"
    if latest is None:
        return text
    hits = [c for c in latest if match(name, c["study"], c["statement"])]
    return text + "".join(f' <a class="reference external" href="../../report.html#'
                          f'{claim_anchor(c["id"])}">{c["id"]} ({c["verdict"]})</a>' for c in hits)


def paper_page(paper: str) -> str:
    from betalab import coverage
    from betalab.registry import all_studies

    studies = all_studies()
    items = [i for i in coverage.LEDGER if i.paper == paper]
    counts = {s: sum(i.status == s for i in items) for s in coverage.STATUSES}
    lines = [f"# {coverage.PAPERS[paper]}", "",
             f"{len(items)} checkable items: " + ", ".join(f"{n} {s}" for s, n in counts.items())
             + ". *covered*: the named claims decide the item; *partial*: they decide part of it "
             "(the reason says which part is not); *not run*: every named claim is a not-run claim, "
             "which says what would decide it; *missing*: no claim. The claims themselves, with "
             "their verdicts and numbers, are in the {doc}`claims report <../claims>`.", "",
             "| where | item | status | claims | notebook | why not (fully) decided |",
             "|---|---|---|---|---|---|"]
    latest = _latest_claims()
    for i in items:
        names = "<br>".join(_claim_cell(n, latest) for n in i.claims) or "—"
        books = sorted({studies[n.partition(': ')[0]].notebook for n in i.claims
                        if n.partition(': ')[0] in studies and studies[n.partition(': ')[0]].notebook})
        links = "<br>".join(f"{{doc}}`{b[:-3]} <../notebooks/{b[:-3]}>`" for b in books) or "—"
        lines.append(f"| {_cell(i.ref)} | {_cell(i.what)} | {i.status} | {names} | {links} | "
                     f"{_cell(i.reason) or '—'} |")
    return "\n".join(lines) + "\n"


def tally_text() -> str:
    path = ROOT / "results" / "claims.json"
    try:
        data = json.loads(path.read_text())
        counts = data["counts"]
    except (OSError, ValueError, KeyError):
        return ("The claims tally appears here after `make reproduce` (it writes "
                "`results/claims.json`); see the {doc}`claims report </_generated/claims>`.\n")
    p = counts["paper"]
    n = sum(p.values())
    return (f"**The latest claims report** (`results/claims.json`): {n} paper claims — "
            f"{p['holds']} hold, {p['fails']} fail, {p['differs']} differ as printed, "
            f"{p['not run']} not run here, {p['constructed']} constructed. "
            "See the {doc}`claims report </_generated/claims>`.\n")


def claims_page(extra: Path) -> str:
    report = ROOT / "results" / "report.html"
    if report.exists():
        extra.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(report, extra / "report.html")
        return ("# The claims report\n\nEvery claim of every study, decided, with its numbers, "
                "figures and notes: the self-contained report of the latest `make reproduce` "
                "(`results/report.html`).\n\n"
                '<p><a class="reference external" href="../report.html">Open the claims '
                'report</a></p>\n\n' + tally_text().split(" See the")[0] + "\n")
    (extra / "report.html").unlink(missing_ok=True)
    return ("# The claims report\n\n`make reproduce` writes it (`results/report.html`: every "
            "claim of every study, decided, with its numbers, figures and notes); this page links "
            "to it once it exists. This build found none.\n")


def generate(app=None) -> None:
    from betalab import coverage

    for paper in coverage.PAPERS:
        _write(OUT / "papers" / f"{paper}.md", paper_page(paper))
    books = sorted((ROOT / "notebooks").glob("*.py"))
    for b in books:
        _write(OUT / "notebooks" / b.name, b.read_text())
    for old in (OUT / "notebooks").glob("*.py"):
        if old.name not in {b.name for b in books}:
            old.unlink()
    for stub in (OUT / "api").glob("*.rst"):       # autosummary's page of a module since moved
        if not _module_exists(stub.stem):
            stub.unlink()
    _write(OUT / "tally.md", tally_text())
    _write(OUT / "claims.md", claims_page(HERE / "_build" / "extra"))


def _module_exists(name: str) -> bool:
    """Whether the dotted module ``name`` is a module or package of the source tree."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def setup(app):
    extra = HERE / "_build" / "extra"
    extra.mkdir(parents=True, exist_ok=True)
    app.config.html_extra_path = list(app.config.html_extra_path) + [str(extra)]
    generate()
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
