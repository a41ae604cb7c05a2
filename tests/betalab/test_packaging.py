"""Packaging for teaching: LICENSE, CITATION.cff, ``__version__``, package overviews, ``__all__``,
and the torch build the Makefile installs."""

import importlib
import os
import importlib.metadata
import pkgutil
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_version_license_and_citation_agree_with_pyproject():
    import yaml

    import betalab

    assert betalab.__version__ == importlib.metadata.version("betalab")
    assert PYPROJECT["license"] == "MIT" and PYPROJECT["license-files"] == ["LICENSE"]
    lic = (ROOT / "LICENSE").read_text()
    assert lic.startswith("MIT License") and "the betalab authors" in lic
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["license"] == "MIT"
    assert str(cff["version"]) == PYPROJECT["version"]
    # the five papers betalab checks (README's table of papers)
    firsts = [r["authors"][0]["family-names"] for r in cff["references"]]
    assert sorted(firsts) == ["Higgins", "Kumar", "Sikka", "Sikka", "Stühmer"]
    readme = (ROOT / "README.md").read_text()
    assert all(name in readme for name in ("Stühmer", "Kumar & Poole", "Higgins", "Sikka"))


PACKAGES = ["theory", "linear_models", "deep", "betalab"]


@pytest.mark.parametrize("package", PACKAGES)
def test_package_docstring_is_an_overview_of_every_public_module(package):
    pkg = importlib.import_module(package)
    doc = pkg.__doc__ or ""
    public = [m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")]
    if package == "betalab":       # the overview names the modules a reader starts from
        public = ["registry", "claims", "runner", "coverage", "train", "sweep", "cli"]
    missing = [m for m in public if f"{package}.{m}" not in doc]
    assert not missing, missing
    assert "Example" in doc or "From Python" in doc or "loads in one call" in doc


def _public_modules():
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        for m in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
            if any(part.startswith("_") for part in m.name.split(".")) or m.ispkg:
                continue
            if m.name in ("betalab.sweep.driver",):      # imports ray: checked without it
                continue
            yield m.name


@pytest.mark.parametrize("name", list(_public_modules()))
def test_public_modules_declare_all(name):
    mod = importlib.import_module(name)
    if name.startswith("betalab.studies.") or name == "betalab.ledger":
        return      # studies register themselves; the ledger is data
    assert hasattr(mod, "__all__"), name
    assert all(hasattr(mod, n) for n in mod.__all__), name


def _report(*pkgs):
    return {"install": [{"metadata": {"name": n, "version": v}} for n, v in pkgs]}


def test_torch_build_choice():
    from betalab.torch_build import PYTORCH_INDEX, choose, plain_build

    here = _report(("torch", "2.13.0+cpu"), ("sympy", "1.14.0"))           # this machine's index
    pypi = _report(("torch", "2.13.0"), ("nvidia-cublas-cu12", "12.8"), ("sympy", "1.14.0"))
    mac = _report(("torch", "2.13.0"), ("sympy", "1.14.0"))                  # no CUDA wheels at all
    assert [plain_build(r) for r in (here, pypi, mac)] == ["cpu", "cuda", "cpu"]
    assert choose("cpu", None, "cpu")[0] == []                               # plain pip install
    assert choose("cpu", None, None)[0] == []                                # dry run failed
    assert choose("cpu", None, "cuda")[0] == ["--index-url", PYTORCH_INDEX + "cpu"]
    assert choose("cu128", None, None)[0] == ["--index-url", PYTORCH_INDEX + "cu128"]
    assert choose("cpu", "https://example.org/simple", "cuda")[0] == [
        "--index-url", "https://example.org/simple"]
    with pytest.raises(ValueError, match="TORCH_VARIANT"):
        choose("gpu", None, None)


def test_a_folder_named_betalab_beside_a_script_does_not_shadow_the_package(tmp_path):
    """A clone into ``betalab/`` and a script run from its parent: the folder (no
    ``__init__.py`` at its top) would be imported as an empty namespace package if the
    environment only had the editable install's finder, which Python asks after its path search
    (``make install`` adds the project root as a path entry)."""
    import subprocess
    import sys

    (tmp_path / "betalab" / "notebooks").mkdir(parents=True)     # what a clone's top looks like
    (tmp_path / "script.py").write_text("import betalab\nfrom betalab import load_run\n"
                                        "print(betalab.__file__)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == ROOT / "betalab" / "__init__.py"


def test_every_package_of_the_source_is_declared_in_pyproject():
    """pyproject lists the packages explicitly (never discovered): a new subpackage (a paper's
    studies, a split module) must be listed, or a wheel would leave it out."""
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {p.parent.relative_to(ROOT).as_posix().replace("/", ".")
             for top in ("validation", "theory", "linear_models", "deep", "betalab")
             for p in (ROOT / top).rglob("__init__.py")}
    assert found == declared
