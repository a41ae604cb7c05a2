"""Every ```python block of README.md runs as pasted.

Each block runs on its own, in a fresh interpreter (a fresh namespace; nothing carries over from
an earlier block) whose working directory is an empty temporary directory, so a block must
import and define everything it uses. The one block that reads a file written by a shell
command of the README, the sweep database ``results/tiny.sqlite`` of
``betalab sweep run sweeps/tiny.toml``, finds it there: the test writes it with the store's own
API (the tiny spec's runs, marked finished with metrics from a seeded generator) instead of
training the sweep's models. Blocks that register a study (the "Adding a study" template) do so
in their own process and leave this one's registry alone.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^(?P<indent>[ \t]*)```python[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, dedented source) of every ```python block, indented ones included."""
    out = []
    for m in FENCE.finditer(text):
        indent = len(m["indent"])
        body = "".join(line[indent:] if line[:indent].strip() == "" else line
                       for line in m["body"].splitlines(keepends=True))
        out.append((text.count("\n", 0, m.start()) + 1, body))
    return out


BLOCKS = python_blocks(README.read_text())


def test_the_extraction_finds_every_block():
    # oracle: a plain count of opening fences, indented or not
    opening = [ln for ln in README.read_text().splitlines() if ln.strip() == "```python"]
    assert len(BLOCKS) == len(opening) >= 5
    assert python_blocks("x\n  ```python\n  a = 1\n   b = 2\n  ```\n") == [(2, "a = 1\n b = 2\n")]


def _tiny_sweep_database(path: Path) -> None:
    from betalab.sweep.spec import parse_spec
    from betalab.sweep.store import ResultsStore

    sweep = parse_spec((ROOT / "sweeps" / "tiny.toml").read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    store = ResultsStore(path, sweep)
    rng = np.random.default_rng(0)
    store.record(*({"run_id": r["run_id"], "status": "done", "device": "cpu",
                    "metrics": {"mig_histogram": float(rng.uniform(0, 0.3)),
                                "heldout_log_px_z": float(rng.uniform(-200, -100))}} for r in sweep.runs))
    store.close()


@pytest.mark.parametrize("line, source", BLOCKS, ids=[f"line{ln}" for ln, _ in BLOCKS])
def test_readme_block_runs_as_pasted(line, source, tmp_path):
    if "results/tiny.sqlite" in source:
        _tiny_sweep_database(tmp_path / "results" / "tiny.sqlite")
    script = tmp_path / "block.py"
    script.write_text(source)
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"README.md line {line}:\n{source}\n{proc.stderr[-3000:]}"


def test_the_readme_quotes_no_tally_of_the_report():
    """The claim counts and coverage figures are the report's (they change with every recorded
    run): the README points to them and never writes them down, so they cannot drift."""
    import re

    text = README.read_text()
    patterns = (r"\d+ paper claims", r"\d+ hold\b", r"\d+ differ\b", r"\d+ (?:fail|not run)\b",
                r"\d+ covered\b", r"\d+ / \d+ / \d+ / \d+")
    found = [m.group(0) for p in patterns for m in re.finditer(p, text)]
    assert not found, found


def test_what_the_readme_commands_write_is_ignored_by_git():
    # every --out / --db / --to path of the README's shell commands (sweeps, training runs,
    # results) must leave `git status` clean; spec files a user writes on purpose are exempt
    text = README.read_text()
    paths = sorted({m[1] for m in re.finditer(r"--(?:out|db) ((?:runs|results)/[\w.$/-]*)", text)})
    assert any(p.startswith("runs/") for p in paths) and any(p.startswith("results/") for p in paths)
    done = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT,
                          capture_output=True, text=True)
    assert sorted(done.stdout.split()) == paths, f"not ignored: {set(paths) - set(done.stdout.split())}"
