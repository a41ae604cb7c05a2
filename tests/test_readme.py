"""Every ```python block of README.md and of the guide (docs/guide/*.md) runs as pasted.

Each block runs on its own, in a fresh interpreter (a fresh namespace; nothing carries over from
an earlier block) whose working directory is an empty temporary directory, so a block must
import and define everything it uses. The one block that reads a file written by a shell
command of these pages, the sweep database ``results/tiny.sqlite`` of
``betalab sweep run sweeps/tiny.toml``, finds it there: the test writes it with the store's own
API (the tiny spec's runs, marked finished with metrics from a seeded generator) instead of
training the sweep's models. Blocks that register a study (the "Adding a study" template) do so
in their own process and leave this one's registry alone.

The same pages quote no tally of the claims report, every path their commands write is ignored
by git, and every relative link in them reaches a file of the repository.
"""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs" / "guide").glob("*.md"))]
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


def _name(page: Path) -> str:
    """README.md, guide/sweeps.md: the page as the test ids name it."""
    return page.relative_to(ROOT / "docs").as_posix() if page != README else page.name


BLOCKS = [(_name(page), line, source) for page in PAGES for line, source in python_blocks(page.read_text())]


def test_the_extraction_finds_every_block():
    # oracle: a plain count of opening fences, indented or not, over every page
    assert len(PAGES) > 5, PAGES                    # the README and the guide's pages
    opening = [ln for page in PAGES for ln in page.read_text().splitlines() if ln.strip() == "```python"]
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


@pytest.mark.parametrize("page, line, source", BLOCKS, ids=[f"{page}:line{ln}" for page, ln, _ in BLOCKS])
def test_readme_block_runs_as_pasted(page, line, source, tmp_path):
    if "results/tiny.sqlite" in source:
        _tiny_sweep_database(tmp_path / "results" / "tiny.sqlite")
    script = tmp_path / "block.py"
    script.write_text(source)
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"{page} line {line}:\n{source}\n{proc.stderr[-3000:]}"


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_the_readme_quotes_no_tally_of_the_report(page):
    """The claim counts and coverage figures are the report's (they change with every recorded
    run): the README and the guide point to them and never write them down, so they cannot drift."""
    text = page.read_text()
    patterns = (r"\d+ paper claims", r"\d+ hold\b", r"\d+ differ\b", r"\d+ (?:fail|not run)\b",
                r"\d+ covered\b", r"\d+ / \d+ / \d+ / \d+")
    found = [m.group(0) for p in patterns for m in re.finditer(p, text)]
    assert not found, found


def test_what_the_readme_commands_write_is_ignored_by_git():
    # every --out / --db path of the shell commands of the README and the guide (sweeps,
    # training runs, results) must leave `git status` clean; spec files a user writes on purpose
    # are exempt
    text = "\n".join(page.read_text() for page in PAGES)
    paths = sorted({m[1] for m in re.finditer(r"--(?:out|db) ((?:runs|results)/[\w.$/-]*)", text)})
    assert any(p.startswith("runs/") for p in paths) and any(p.startswith("results/") for p in paths)
    done = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT,
                          capture_output=True, text=True)
    assert sorted(done.stdout.split()) == paths, f"not ignored: {set(paths) - set(done.stdout.split())}"


LINK = re.compile(r"\[[^\]\n]*\]\(\s*(?:<([^>\n]+)>|([^)\s]+))(?:\s+\"[^\"]*\")?\s*\)")
# a fenced block: ``` (no backtick after it on its line) or ~~~, to a closing fence at least as long
FENCED = re.compile(r"^[ \t]*(?P<f>`{3,}(?=[^`\n]*$)|~{3,}).*?^[ \t]*(?P=f)[`~]*[ \t]*$", re.M | re.S)


def relative_links(text: str) -> list[str]:
    """The targets of the inline Markdown links of ``text`` outside code (fenced blocks and code
    spans), less the absolute ones (a scheme such as http: or mailto:) and same-page anchors."""
    text = re.sub(r"(`+).+?\1", "", FENCED.sub("", text), flags=re.S)
    targets = [a or b for a, b in LINK.findall(text)]
    return [t for t in targets if not re.match(r"[a-zA-Z][\w+.-]*:", t) and not t.startswith("#")]


def test_relative_links_are_found():
    text = ("[a](x.md) [b](../y/z.md#part) [c](https://e.org/x.md) [d](#here) `[e](in-code.md)`\n"
            "```sh\n[f](in-block.md)\n```\n[g](<with space.md>) [h](m.md \"title\")\n"
            "```` ```python ```` [i](after.md)\n~~~~\n[j](in-tildes.md)\n~~~~\n")
    assert relative_links(text) == ["x.md", "../y/z.md#part", "with space.md", "m.md", "after.md"]


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_relative_link_reaches_a_file_of_the_repository(page):
    # oracle: the file system; a link is read relative to the page's folder, its #anchor dropped
    targets = relative_links(page.read_text())
    missing = [t for t in targets
               if not (page.parent / unquote(t.split("#")[0])).resolve().is_relative_to(ROOT)
               or not (page.parent / unquote(t.split("#")[0])).exists()]
    assert not missing, missing


def test_the_readme_links_every_guide_page():
    linked = {(ROOT / t.split("#")[0]).resolve() for t in relative_links(README.read_text())}
    assert [_name(p) for p in PAGES[1:] if p.resolve() not in linked] == []
