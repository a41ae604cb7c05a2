"""The layering of STYLE.md, "Where the deep half goes": only betalab/sweep/ imports ray, and
the ensemble, the device store and the per-run evaluation in deep/ open no files."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("theory", "linear_models", "deep", "betalab", "notebooks", "benchmarks")


def _imports(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_sweep_package_imports_ray():
    users = sorted(str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                   if "ray" in _imports(p))
    assert users and all(u.startswith("betalab/sweep/") for u in users), users


def test_the_new_deep_modules_do_no_file_io():
    for rel in ("deep/ensemble.py", "deep/data/stores.py", "deep/metrics/summary.py"):
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        calls = {n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", "")
                 for n in ast.walk(tree) if isinstance(n, ast.Call)}
        assert not calls & {"open", "save", "write_text", "write_bytes", "savez", "mkdir"}, rel
