"""The repository's layout as a reader holds the papers: one package per paper under
``betalab/studies/``, one module per figure, table or section, files short enough to read, and
no circle of imports in ``betalab/`` (counting the imports inside functions too)."""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ROOT / "betalab" / "studies"
PAPERS = ("higgins2017", "kumar_poole2020", "sikka2020", "stuhmer2020")
#: the size a module of the studies keeps to (lines), and a function in it
MAX_LINES, MAX_FUNCTION = 450, 80


def _modules(top: Path) -> dict[str, Path]:
    out = {}
    for p in top.rglob("*.py"):
        parts = p.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def _imported(path: Path, name: str, known: dict) -> set[str]:
    """The modules of ``known`` that ``path`` (module ``name``) imports anywhere in its body."""
    out = set()
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join(pkg + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m in known and m != name}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_import_cycles_finds_a_planted_circle():
    """The oracle on hand-made graphs: a circle of three is found, a chain is not."""
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_circle_of_imports_in_betalab():
    known = _modules(ROOT / "betalab")
    graph = {m: _imported(p, m, known) for m, p in known.items()}
    assert graph["betalab.coverage"] >= {"betalab.ledger"}         # the reader reads the data
    assert "betalab.coverage" not in graph["betalab.ledger"]
    assert import_cycles(graph) == []


def test_the_studies_are_one_package_per_paper():
    flat = sorted(p.name for p in STUDIES.glob("*.py") if p.name != "__init__.py")
    assert flat == ["common.py"], flat          # what several papers share, and nothing else
    assert sorted(p.name for p in STUDIES.iterdir() if p.is_dir() and p.name != "__pycache__") \
        == sorted(PAPERS)


@pytest.mark.parametrize("paper", PAPERS)
def test_a_paper_package_lists_its_modules_and_imports_nothing(paper):
    pkg = importlib.import_module(f"betalab.studies.{paper}")
    public = [m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")]
    assert public
    assert [m for m in public if f"``{m}``" not in pkg.__doc__] == []
    tree = ast.parse((STUDIES / paper / "__init__.py").read_text())
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def test_every_registered_study_lives_in_its_papers_package():
    from betalab.registry import all_studies

    for s in all_studies().values():
        module = s.func.__module__
        assert module.split(".")[2] in PAPERS, (s.name, module)


@pytest.mark.parametrize("path", sorted(STUDIES.rglob("*.py")), ids=lambda p: p.relative_to(STUDIES).as_posix())
def test_study_modules_and_their_functions_stay_short(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_LINES
    long = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(ast.parse(text))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.end_lineno - n.lineno + 1 > MAX_FUNCTION]
    assert long == []
