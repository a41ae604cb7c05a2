"""Run studies, write their outputs and the claims report.

Layout of the output directory (default ``results/``)::

    results/
      report.md              the tally, errata, coverage, then every study: figures and claims
      report.html            the same as one self-contained page (figures inlined)
      claims.json            every claim, machine readable
      <study>/result.json    numbers, claims, figure list, config of one study (quick scale)
      <study>/<figure>.png   and .pdf
      cpu/<study>/...        the same for a study run at ``--scale cpu`` (full/<study>: full)

The report covers every study run into the output directory, not only the last command's: running
one study rewrites its own section and keeps every other study's (:func:`collect_records`).

Runs at a larger scale that decided claims are kept in the repository under
``recorded/<study>/<scale>/`` (``betalab record``): their ``result.json`` and figures. The report
then takes that study's claims from its recorded run (stating scale, date and commit), and a test
re-derives every recorded verdict from the recorded numbers with the current code
(:attr:`betalab.registry.Study.recheck`), so a recorded verdict is never written by hand.

Every file is written atomically (:mod:`betalab.io`). ``reproduce(...,
resume=True)`` reuses a study's ``result.json`` when its config matches, so
an interrupted ``betalab reproduce --resume`` loses only unfinished studies.
"""

from __future__ import annotations

__all__ = ["RECORDED", "study_dir", "run_study", "device_used", "figure_caption",
           "SCALE_ORDER", "recorded_records", "recorded_error", "record_run", "with_recorded", "select",
           "reproduce", "PAPER_VERDICTS", "claim_ids", "counts", "headline",
           "collect_records", "write_report", "exit_code"]

import json
import platform
import subprocess
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, replace
from fnmatch import fnmatch
from pathlib import Path

from betalab import io
from betalab.claims import Claim
from betalab.registry import Study, StudyConfig, all_studies, get


def _config_dict(config: StudyConfig) -> dict:
    d = asdict(config)
    d.pop("partial", None)  # where pieces are kept, not what is computed
    return d


#: where recorded larger-scale runs live (committed with the code)
RECORDED = Path(__file__).resolve().parent.parent / "recorded"


def study_dir(out: str | Path, name: str, scale: str) -> Path:
    """Output directory of study ``name`` at ``scale``: ``out/name`` for quick, else
    ``out/<scale>/name`` (a quick reproduce never overwrites a long run)."""
    return Path(out) / name if scale == "quick" else Path(out) / scale / name


def run_study(name: str, config: StudyConfig, out: str | Path = "results") -> dict:
    """Run one study and write its figures and ``result.json``; return the record."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    import time

    s = get(name)
    out_dir = study_dir(out, name, config.scale)
    rel = out_dir.relative_to(Path(out)).as_posix()
    io.remove_stale_temporaries(out_dir)
    partial = io.PartialResults(out_dir / "partial")
    config = replace(config, partial=partial)
    record = {"study": name, "title": s.title, "paper": s.paper, "source": s.source,
              "config": _config_dict(config), "figures": [], "captions": {}, "numbers": {},
              "claims": [], "error": None, "date": _today(), "versions": _versions(),
              "device": device_used(config.device)}
    t0 = time.perf_counter()
    try:
        result = s(config)
    except Exception:  # recorded in the report; the run goes on with other studies
        record["error"] = traceback.format_exc()
        record["seconds"] = round(time.perf_counter() - t0, 1)
        io.write_text(out_dir / "error.log", record["error"])
        io.write_json(out_dir / "result.json", record)
        return record
    # a resumed run: what its pieces cost in the processes that computed them, plus this one's
    record["seconds"] = round(time.perf_counter() - t0 + partial.reused_seconds, 1)
    if partial.reused_seconds:
        record["seconds_resumed"] = round(partial.reused_seconds, 1)
    (out_dir / "error.log").unlink(missing_ok=True)
    for fig_name, fig in result.figures.items():
        io.save_figure(fig, out_dir / fig_name)
        record["captions"][f"{rel}/{fig_name}.png"] = figure_caption(fig)
        plt.close(fig)
        record["figures"].append(f"{rel}/{fig_name}.png")
    from betalab.claims import _jsonable

    record["numbers"] = _jsonable(result.numbers)
    record["claims"] = [c.to_dict() for c in result.claims]
    io.write_json(out_dir / "result.json", record)
    partial.clear()
    return record


def device_used(device: str) -> str:
    """The torch device ``device`` stands for on this machine (``auto`` resolved)."""
    from betalab.checks import check_device

    try:
        return str(check_device(device))
    except (ValueError, TypeError):
        return str(device)


def figure_caption(fig) -> str:
    """A caption from a figure's own titles: its suptitle, else its panels' titles, as plain
    text (:func:`betalab.report.plain_mathtext`: a report page typesets no TeX)."""
    from betalab.report import plain_mathtext

    sup = getattr(fig, "_suptitle", None)
    text = sup.get_text().strip() if sup is not None else ""
    if text:
        return plain_mathtext(" ".join(text.split()))
    titles = [" ".join(ax.get_title().split()) for ax in fig.get_axes() if ax.get_title().strip()]
    return plain_mathtext("; ".join(dict.fromkeys(titles)))




def _today() -> str:
    import datetime

    return datetime.date.today().isoformat()


def _load_record(out: Path, name: str, config: StudyConfig) -> dict | None:
    path = study_dir(out, name, config.scale) / "result.json"
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if record.get("config") != _config_dict(config) or record.get("error"):
        return None
    try:  # a record written by an older betalab (other claim fields) is recomputed
        [Claim.from_dict(c) for c in record["claims"]]
    except (TypeError, ValueError, KeyError):
        return None
    return record


SCALE_ORDER = ("quick", "cpu", "full")


def recorded_records(root: Path = None) -> dict[str, dict]:
    """The recorded run of the largest scale of every study under ``root`` (default
    :data:`RECORDED`), by study name. A ``result.json`` that cannot be read as a recorded run
    (not JSON, not a record of its study and scale) gives that study an error record naming
    the file (:func:`recorded_error`), kept whatever else is recorded for the study, and every
    other study is read as usual: one bad file never stops a report."""
    root = RECORDED if root is None else Path(root)
    out = {}
    for path in sorted(root.glob("*/*/result.json")):
        scale, name = path.parent.name, path.parent.parent.name
        if scale not in SCALE_ORDER:
            continue
        if out.get(name, {}).get("error"):
            continue
        try:
            rec = _read_recorded(path, name, scale)
        except (OSError, UnicodeDecodeError, ValueError) as err:
            out[name] = recorded_error(path, name, scale, err)
            continue
        rec["recorded"] = path.parent.as_posix()
        if name not in out or SCALE_ORDER.index(scale) > SCALE_ORDER.index(out[name]["config"]["scale"]):
            out[name] = rec
    return out


def manifest(rec: dict, directory: Path) -> dict:
    """Content digests of a recorded run: SHA-256 of its numbers (canonical JSON) and of each of
    its figure files in ``directory``. :func:`record_run` stores it in ``result.json``; every
    report checks it, so a recorded number or figure edited by hand is refused, not reported."""
    import hashlib

    text = json.dumps(rec["numbers"], sort_keys=True, separators=(",", ":"), allow_nan=True)
    return {"numbers": hashlib.sha256(text.encode()).hexdigest(),
            "figures": {f: hashlib.sha256((Path(directory) / f).read_bytes()).hexdigest()
                        for f in rec["figures"]}}


def _read_recorded(path: Path, name: str, scale: str) -> dict:
    """The record in ``path``; ValueError unless it is one of study ``name`` at ``scale`` whose
    numbers and figures match its manifest (:func:`manifest`)."""
    rec = json.loads(path.read_text(encoding="utf-8"))      # JSONDecodeError is a ValueError
    if not isinstance(rec, dict):
        raise ValueError(f"a JSON {type(rec).__name__}, not a record")
    if rec.get("study") != name:
        raise ValueError(f"its study is {rec.get('study')!r}, not {name!r} of its directory")
    if not isinstance(rec.get("config"), dict) or rec["config"].get("scale") != scale:
        raise ValueError(f"its config is not one of scale {scale!r} (its directory)")
    for key, kind in (("numbers", dict), ("figures", list), ("claims", list)):
        if not isinstance(rec.get(key), kind):
            raise ValueError(f"its {key!r} is not a {kind.__name__}")
    for f in rec["figures"]:
        if not isinstance(f, str) or Path(f).name != f or f in (".", ".."):
            raise ValueError(f"figure {f!r} is not a file name of its directory")
        if not (path.parent / f).is_file():
            raise ValueError(f"figure {f!r} is missing")
    want = rec.get("manifest")
    if not isinstance(want, dict):
        raise ValueError("it has no manifest (re-record it, or `betalab record --rederive` "
                         "to stamp its files as they are)")
    got = manifest(rec, path.parent)
    if got["numbers"] != want.get("numbers"):
        raise ValueError("its numbers differ from those recorded (manifest digest)")
    changed = sorted(f for f in got["figures"] if got["figures"][f] != (want.get("figures") or {}).get(f))
    if changed:
        raise ValueError(f"figure {changed[0]!r} differs from the one recorded (manifest digest)")
    return rec


def recorded_error(path, name: str, scale: str, err: Exception) -> dict:
    """The error record of study ``name`` whose recorded ``path`` cannot be used: no claims, no
    figures, and one line naming the file and why."""
    try:
        s = get(name)
        title, paper, source = s.title, s.paper, s.source
    except (KeyError, ValueError):
        title, paper, source = "(not a registered study)", "?", "?"
    why = " ".join(f"{type(err).__name__}: {err}".split())
    return {"study": name, "title": title, "paper": paper, "source": source,
            "config": {"scale": scale, "seed": None}, "figures": [], "captions": {},
            "numbers": {}, "claims": [], "recorded": Path(path).parent.as_posix(),
            "error": f"{_display(path)}: not a usable recorded run ({why})"}


def record_run(name: str, scale: str, out: str | Path = "results", root: Path = None) -> Path:
    """Copy the finished ``scale`` run of study ``name`` (its ``result.json`` and PNG figures)
    from ``out`` into ``root/<name>/<scale>/`` (default :data:`RECORDED`). Refused unless the run
    finished without error at that scale and the study's ``recheck`` re-derives every verdict
    from the numbers."""
    import shutil

    if scale not in ("cpu", "full"):
        raise ValueError(f"scale: only cpu or full runs are recorded, got {scale!r}")
    s = get(name)
    src = study_dir(out, name, scale)
    path = src / "result.json"
    if not path.exists():
        raise ValueError(f"no finished {scale} run of {name} in {src} (run `betalab run {name} "
                         f"--scale {scale}` first)")
    rec = json.loads(path.read_text())
    if rec.get("error") or rec.get("config", {}).get("scale") != scale:
        raise ValueError(f"{path} is not a finished {scale}-scale run")
    if s.recheck is None:
        raise ValueError(f"study {name} has no recheck: its verdicts cannot be re-derived")
    again = s.recheck(rec["numbers"], rec["config"]["seed"])
    if [(c.statement, c.verdict) for c in again] != [(c["statement"], c["verdict"]) for c in rec["claims"]]:
        raise ValueError(f"{path}: the claims re-derived from its numbers differ from the stored ones")
    rec["claims"] = [c.with_study(name).to_dict() for c in again]     # notes as the code words them
    dest = (RECORDED if root is None else Path(root)) / name / scale
    dest.mkdir(parents=True, exist_ok=True)
    for fig in rec["figures"]:
        shutil.copyfile(Path(out) / fig, dest / Path(fig).name)
    rec["figures"] = [Path(f).name for f in rec["figures"]]
    rec["manifest"] = manifest(rec, dest)
    io.write_json(dest / "result.json", rec)
    return dest


def _display(path) -> str:
    p = Path(path).resolve()
    return p.relative_to(RECORDED.parent).as_posix() if p.is_relative_to(RECORDED.parent) else str(p)


#: the studies whose numbers are measured on procedural dSprites (deep.data.dsprites): a recorded
#: run of one of them on another renderer version measured other images than the current ones
DSPRITES_STUDIES = ("dsprites-beta-vae-quick", "higgins-fig5-table", "isa-vae-fig5a",
                    "isa-vae-exponents")


def stale_renderer(rec: dict) -> int | None:
    """The dSprites renderer version a recorded run of a :data:`DSPRITES_STUDIES` study was
    measured on, when it is not the current one (runs recorded before the version was stored
    were on version 1); None when it is current or the study does not use dSprites."""
    from deep.data.dsprites import CACHE_VERSION

    if rec.get("study") not in DSPRITES_STUDIES:
        return None
    v = (rec.get("versions") or {}).get("dsprites renderer", 1)
    return None if v == CACHE_VERSION else v


def rederive(rec: dict) -> dict:
    """A recorded run with its claims re-derived from its recorded numbers by the current code
    (the study's ``recheck``): a recorded verdict, number or note edited by hand never reaches
    the report, and a change of the rules (e.g. of what may read ``differs``) applies to recorded
    runs at once. A study without a recheck, or whose recheck raises, gives an error record."""
    name = rec.get("study", "?")
    try:
        s = get(name)
        if s.recheck is None:
            raise ValueError(f"study {name} has no recheck: its verdicts cannot be re-derived")
        again = s.recheck(rec["numbers"], rec["config"]["seed"])
    except Exception as e:  # noqa: BLE001 - any failure is reported against the recorded run
        where = rec.get("recorded", "the recorded run")
        return {**rec, "claims": [], "error": f"{where}: its claims cannot be re-derived from its "
                                             f"numbers: {type(e).__name__}: {e}"}
    old = stale_renderer(rec)
    if old is not None:
        from betalab import claims as C
        from deep.data.dsprites import CACHE_VERSION

        scale = rec["config"]["scale"]
        again = C.superseded(
            again, why=f"measured on procedural dSprites of renderer version {old}; the current "
                       f"renderer (version {CACHE_VERSION}) draws the archive's sprites, so these "
                       "numbers are not comparable with the paper's.",
            would_run=f"`betalab run {name} --scale {scale}`, then `betalab record {name} "
                      f"--scale {scale}`.", cost="that of the recorded run (betalab list).")
    return {**rec, "claims": [c.with_study(name).to_dict() for c in again]}


def rederive_recorded(root: Path = None) -> list[Path]:
    """Rewrite the stored claims of every recorded run under ``root`` (default :data:`RECORDED`)
    as the current code re-derives them from the recorded numbers (after a change of the claim
    rules; the numbers and figures are untouched), and stamp its manifest (:func:`manifest`) from
    the files as they are. Returns the files rewritten; ValueError naming the run whose claims
    cannot be re-derived."""
    root = RECORDED if root is None else Path(root)
    done = []
    for path in sorted(root.glob("*/*/result.json")):
        rec = json.loads(path.read_text())
        again = rederive({**rec, "recorded": path.parent.as_posix()})
        if again.get("error"):
            raise ValueError(again["error"])
        stamp = manifest(rec, path.parent)
        if again["claims"] != rec["claims"] or stamp != rec.get("manifest"):
            io.write_json(path, {**rec, "claims": again["claims"], "manifest": stamp})
            done.append(path)
    return done


def with_recorded(records: list[dict], recorded: dict[str, dict], out: Path) -> list[dict]:
    """The records of the report: a study with a recorded run of a larger scale than the one
    just run takes its figures from the recorded run (copied into ``out/<scale>/<study>/``) and
    its claims re-derived from the recorded numbers (:func:`rederive`)."""
    import shutil

    merged = []
    for r in records:
        rec = recorded.get(r["study"])
        run_scale = r.get("config", {}).get("scale", "quick")
        if rec is None or SCALE_ORDER.index(rec["config"]["scale"]) <= SCALE_ORDER.index(run_scale):
            merged.append(r)
            continue
        if rec.get("error"):                    # unreadable: reported as such (recorded_records)
            merged.append(rec)
            continue
        dest = study_dir(out, r["study"], rec["config"]["scale"])
        figs = []
        try:
            for f in rec["figures"]:
                if not isinstance(f, str) or Path(f).name != f or f in (".", ".."):
                    raise ValueError(f"figure {f!r} is not a file name of its directory")
                src = Path(rec["recorded"]) / f
                if not src.is_file():
                    raise ValueError(f"figure {f!r} is missing")
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest / f)
                figs.append(f"{dest.relative_to(out).as_posix()}/{f}")
        except (OSError, ValueError) as err:
            path = Path(rec["recorded"]) / "result.json"
            merged.append(recorded_error(path, r["study"], rec["config"]["scale"], err))
            continue
        again = rederive(rec)
        merged.append({**again, "figures": figs, "error": again.get("error")})
    return merged


def select(only: str | None = None) -> list[Study]:
    studies = list(all_studies().values())
    if only:
        studies = [s for s in studies if fnmatch(s.name, only) or only in s.name]
        if not studies:
            raise ValueError(f"--only {only!r} matches no study")
    return studies


def shown_from_recorded(names, config: StudyConfig, recorded: dict[str, dict]) -> list[str]:
    """The studies among ``names`` whose report section comes from a recorded run of a larger
    scale than ``config.scale`` (:func:`with_recorded`): running them at this scale would
    compute figures and claims that the report does not show."""
    here = SCALE_ORDER.index(config.scale)
    return [n for n in names if n in recorded
            and SCALE_ORDER.index(recorded[n].get("config", {}).get("scale", "quick")) > here]


def reproduce(config: StudyConfig, out: str | Path = "results", only: str | None = None,
              jobs: int = 1, resume: bool = False, progress: bool = True, quick_too: bool = False,
              recorded: dict[str, dict] | None = None) -> list[dict]:
    """Run the selected studies (in ``jobs`` processes) and write the report.

    A study with a recorded run of a larger scale (``recorded``, default the repository's) is
    reported from that run and not run here, unless ``quick_too``: its record in the returned
    list is a placeholder (``"shown_from": "recorded"``, no claims) that the report replaces."""
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    out = Path(out)
    recorded = recorded_records() if recorded is None else recorded
    studies = select(only)
    records: dict[str, dict] = {}
    skipped = [] if quick_too else shown_from_recorded([s.name for s in studies], config, recorded)
    for name in skipped:
        records[name] = {"study": name, "config": _config_dict(config), "figures": [],
                         "captions": {}, "numbers": {}, "claims": [], "error": None,
                         "shown_from": "recorded"}
    if skipped and progress:
        import sys

        print(f"{len(skipped)} {'study is' if len(skipped) == 1 else 'studies are'} shown from "
              f"their recorded runs, not run at {config.scale} scale (--quick-too runs them): "
              + ", ".join(skipped), file=sys.stderr, flush=True)
    todo = []
    for s in studies:
        if s.name in records:
            continue
        rec = _load_record(out, s.name, config) if resume else None
        if rec is not None:
            records[s.name] = rec
        else:
            todo.append(s.name)

    bar = _StudyProgress(len(studies), len(records), progress)
    if jobs == 1 or len(todo) <= 1:
        for name in todo:
            bar.start(name)
            records[name] = run_study(name, config, out)
            bar.done(records[name])
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(run_study, name, config, out): name for name in todo}
            for fut in as_completed(futures):
                records[futures[fut]] = fut.result()
                bar.done(records[futures[fut]])
    bar.close()
    ordered = [records[s.name] for s in studies]
    write_report(ordered, config, out, recorded)
    return ordered


class _StudyProgress:
    """Progress of ``reproduce``: a tqdm bar on a terminal; elsewhere (a log, a pipe) one plain
    line per finished study, without escape codes."""

    def __init__(self, total: int, initial: int, enabled: bool):
        from deep.progress import shown

        self.total, self.n, self.enabled = total, initial, enabled
        self.bar = None
        if shown(enabled):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, desc="studies", unit="study")

    def start(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(name)

    def done(self, record: dict) -> None:
        import sys

        self.n += 1
        if self.bar is not None:
            self.bar.set_postfix_str(record["study"])
            self.bar.update()
        elif self.enabled:
            what = "error" if record.get("error") else f"{len(record['claims'])} claims"
            print(f"[{self.n}/{self.total}] {record['study']}: {what}, "
                  f"{record.get('seconds', 0):.0f} s", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _versions() -> dict:
    import importlib.metadata as md

    from deep.data.dsprites import CACHE_VERSION

    v = {"python": platform.python_version(), "dsprites renderer": CACHE_VERSION}
    for pkg in ("numpy", "scipy", "sympy", "autograd", "torch", "matplotlib"):
        try:
            v[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            v[pkg] = "not installed"
    try:
        v["betalab commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
            cwd=Path(__file__).parent, timeout=5).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        v["betalab commit"] = "unknown"
    return v


PAPER_VERDICTS = ("holds", "fails", "differs", "not run", "constructed")


def claim_ids(records: list[dict]) -> list[tuple[str, Claim]]:
    """Every claim with its id ``<study>:<n>`` (n = its position in the study, from 1)."""
    out = []
    for r in records:
        for i, c in enumerate(r["claims"], start=1):
            out.append((f"{r['study']}:{i}", Claim.from_dict(c)))
    return out


def counts(claims: list[Claim]) -> dict:
    """Claims counted apart by kind, then by verdict."""
    from betalab.claims import KINDS

    return {k: {v: sum(c.kind == k and c.verdict == v for c in claims) for v in PAPER_VERDICTS}
            for k in KINDS}


def headline(cnt: dict, n_errors: int = 0) -> str:
    """The report's headline: paper claims by verdict, then extensions and checks."""
    p, e, k = cnt["paper"], cnt["extension"], cnt["check"]
    text = (f"**Paper claims: {sum(p.values())}** — {p['holds']} hold, {p['fails']} fail, "
            f"{p['differs']} differ as printed (each paired with its corrected claim), "
            f"{p['not run']} not run here, {p['constructed']} constructed (matched by "
            f"construction, not reproduced). "
            f"**Betalab extensions: {sum(e.values())}** ({e['holds']} hold, {e['fails']} fail). "
            f"**Implementation checks: {sum(k.values())}** ({k['holds']} hold, {k['fails']} fail).")
    others = {v: e[v] + k[v] for v in ("differs", "not run", "constructed") if e[v] + k[v]}
    if others:
        text += " Other verdicts among extensions and checks: " + ", ".join(
            f"{n} {v}" for v, n in others.items()) + "."
    if n_errors:
        text += f" **{n_errors} studies raised an error.**"
    return text


def collect_records(records: list[dict], out: str | Path) -> list[dict]:
    """The records of the report in ``out``: ``records`` (just run) and, for every other
    registered study, the record it left in ``out`` — of its largest finished scale, else its
    latest error — so running one study updates its section and keeps the others'. Records in
    registry order; a record written by an older betalab (unreadable claims) is left out."""
    out = Path(out)
    new = {r["study"]: r for r in records}
    merged = []
    for name in all_studies():
        if name in new:
            merged.append(new.pop(name))
            continue
        found = []
        for scale in SCALE_ORDER:
            path = study_dir(out, name, scale) / "result.json"
            try:
                rec = json.loads(path.read_text())
                [Claim.from_dict(c) for c in rec["claims"]]
            except (OSError, ValueError, TypeError, KeyError):
                continue
            if rec.get("study") == name and rec.get("config", {}).get("scale") == scale:
                found.append(rec)
        good = [r for r in found if not r.get("error")]
        if good or found:
            merged.append((good or found)[-1])
    return merged + list(new.values())   # studies not in the registry (tests' toys) last


def write_report(records: list[dict], config: StudyConfig, out: str | Path,
                 recorded: dict[str, dict] | None = None) -> list[dict]:
    """Write ``report.md``, ``report.html`` and ``claims.json`` in ``out`` for ``records`` and
    every other study already run there (:func:`collect_records`); a study with a recorded run
    of a larger scale (:func:`recorded_records`, default: the repository's) is reported from
    that run. Returns the records reported."""
    from betalab import coverage, report

    out = Path(out)
    io.remove_stale_temporaries(out, ("report.md", "report.html", "claims.json"))
    records = collect_records(records, out)
    records = with_recorded(records, recorded_records() if recorded is None else recorded, out)
    ids = claim_ids(records)
    claims = [c for _, c in ids]
    cnt = counts(claims)
    errors = [r for r in records if r.get("error")]
    versions = _versions()
    ledger = coverage.resolve(coverage.LEDGER, ids, studies_run={r["study"] for r in records})
    io.write_json(out / "claims.json", {
        "config": _config_dict(config), "versions": versions, "counts": cnt,
        "coverage": coverage.summary(ledger), "errors": [r["study"] for r in errors],
        "studies": {r["study"]: {"scale": r["config"]["scale"], "seed": r["config"]["seed"],
                                 "device": r.get("device"), "date": r.get("date"),
                                 "recorded": bool(r.get("recorded"))} for r in records},
        "claims": [{"id": cid, **c.to_dict()} for cid, c in ids]})
    md = report.build_markdown(
        records, headline=headline(cnt, len(errors)),
        counts_of=lambda r: counts([Claim.from_dict(c) for c in r["claims"]]),
        versions=versions, coverage_lines=coverage.report_lines(ledger), display=_display)
    io.write_text(out / "report.md", md)
    io.write_text(out / "report.html", report.markdown_to_html(md, out))
    return records


def exit_code(records: list[dict]) -> int:
    """1 if any claim fails or any study raised, else 0."""
    bad = any(r.get("error") for r in records) or any(
        c["verdict"] == "fails" for r in records for c in r["claims"])
    return 1 if bad else 0
