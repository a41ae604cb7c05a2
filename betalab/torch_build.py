"""Install the right torch build: ``python betalab/torch_build.py [--variant cpu|cuXXX] [--index URL]``.

Run by ``make install`` before the project itself (it imports nothing from betalab, so it runs
from a fresh clone). The choice:

* ``--index URL`` (``make install TORCH_INDEX=URL``): torch from that index, nothing else asked;
* ``--variant cpu`` (the default where ``nvidia-smi`` finds no GPU): pip is first asked, in a dry
  run, what a plain ``pip install torch==VERSION`` would install with this machine's
  configuration. If that is a CPU build (a ``+cpu`` version, no ``nvidia-*`` libraries) — as on
  a machine whose package index serves the CPU wheel — the plain install is used; if it is a
  CUDA build (as PyPI's Linux wheel is: about 20 ``nvidia-*`` packages, gigabytes), torch comes
  from the PyTorch CPU index, https://download.pytorch.org/whl/cpu;
* ``--variant cuXXX`` (the default ``cu128`` where ``nvidia-smi`` finds a GPU): torch from
  https://download.pytorch.org/whl/cuXXX.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

__all__ = ["PYTORCH_INDEX", "plain_build", "choose"]

PYTORCH_INDEX = "https://download.pytorch.org/whl/"


def plain_build(report: dict) -> str:
    """``"cpu"`` or ``"cuda"``: the torch build in a ``pip install --dry-run --report`` report."""
    names = [i["metadata"]["name"].lower() for i in report.get("install", [])]
    versions = [i["metadata"]["version"] for i in report.get("install", [])
                if i["metadata"]["name"].lower() == "torch"]
    if any(n.startswith("nvidia-") for n in names) or any("+cu" in v or "+rocm" in v for v in versions):
        return "cuda"
    return "cpu"


def choose(variant: str, index: str | None, plain: str | None) -> tuple[list[str], str]:
    """The extra pip arguments for torch and the reason, given the wanted ``variant``, an
    explicit ``index`` (or None) and what a plain install would give (``plain``; None if the
    dry run failed)."""
    if index:
        return ["--index-url", index], f"torch from {index} (TORCH_INDEX)"
    if variant == "cpu":
        if plain == "cuda":
            return (["--index-url", PYTORCH_INDEX + "cpu"],
                    "a plain install would pull the CUDA build: torch from the PyTorch CPU index")
        why = "a plain install gives the CPU build here" if plain == "cpu" else \
            "the dry run failed: a plain install"
        return [], why
    if not (variant.startswith("cu") or variant.startswith("rocm")):
        raise ValueError(f"TORCH_VARIANT must be cpu, cuXXX (e.g. cu128) or rocmX.Y, got {variant!r}")
    return ["--index-url", PYTORCH_INDEX + variant], f"the {variant} build from the PyTorch index"


def _dry_run(python: str, spec: str) -> str | None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "report.json")
        r = subprocess.run([python, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                            "--quiet", "--report", path, spec], capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(path):
            return None
        with open(path) as f:
            return plain_build(json.load(f))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--version", default="2.13.0", help="torch version (default: %(default)s)")
    p.add_argument("--variant", default="cpu", help="cpu, cuXXX or rocmX.Y (default: cpu)")
    p.add_argument("--index", default="", help="install torch from this index URL")
    args = p.parse_args(argv)
    spec = f"torch=={args.version}"
    plain = None if args.index or args.variant != "cpu" else _dry_run(sys.executable, spec)
    try:
        extra, why = choose(args.variant, args.index or None, plain)
    except ValueError as err:
        print(f"torch_build: error: {err}", file=sys.stderr)
        return 2
    print(f"torch_build: {spec}: {why}", flush=True)
    return subprocess.run([sys.executable, "-m", "pip", "install", spec, *extra]).returncode


if __name__ == "__main__":
    sys.exit(main())
