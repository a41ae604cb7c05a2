"""Every notebook opens as a notebook (jupytext percent format) and runs in quick mode."""

import runpy
from pathlib import Path

import jupytext
import matplotlib.pyplot as plt
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.py"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no jupytext notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_parses_as_percent_notebook(path):
    nb = jupytext.read(path, fmt="py:percent")
    kinds = {cell.cell_type for cell in nb.cells}
    assert {"markdown", "code"} <= kinds, f"{path.name} needs markdown and code cells"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_in_quick_mode(path, monkeypatch):
    monkeypatch.chdir(path.parent)
    namespace = runpy.run_path(str(path), run_name="__main__")
    plt.close("all")
    assert "result" in namespace, f"{path.name} must bind the study's StudyResult to `result`"
    claims = namespace["result"].claims
    assert not [c for c in claims if c.verdict == "fails"]
    from betalab import coverage

    for study in {c.study for c in claims}:  # the ledger names the claims this study makes
        assert coverage.unresolved_names(coverage.LEDGER, study, claims) == [], study
