"""The claims report: ``report.md`` and a self-contained ``report.html`` beside it.

The report is built from the records of every study in the output directory (see
:func:`betalab.runner.write_report`), in this order: the tally (paper claims by verdict, then
per study), contents, the errata (every claim whose printed form differs from what was
measured, with its corrected claim), how to read a claim, the coverage of the papers, and one
section per study with its figures (captioned) and its claims, each once, numbers rounded to
the digits their tolerance makes meaningful.

The HTML version is rendered from the Markdown by :func:`markdown_to_html` (the small subset
this module writes: headings, paragraphs, lists, tables, images, code blocks, inline code,
bold, italics, links); its figures are inlined as base64 ``data:`` URIs and its style sheet is
embedded, so it renders offline from a single file.
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path


__all__ = ["fmt_value", "measured_text", "reason", "build_markdown", "markdown_to_html", "anchor",
           "claim_anchor",
           "plain_mathtext"]


_GREEK = {name: chr(code) for name, code in (
    ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4), ("epsilon", 0x3B5),
    ("zeta", 0x3B6), ("eta", 0x3B7), ("theta", 0x3B8), ("kappa", 0x3BA), ("lambda", 0x3BB),
    ("mu", 0x3BC), ("nu", 0x3BD), ("xi", 0x3BE), ("pi", 0x3C0), ("rho", 0x3C1), ("sigma", 0x3C3),
    ("tau", 0x3C4), ("phi", 0x3C6), ("chi", 0x3C7), ("psi", 0x3C8), ("omega", 0x3C9),
    ("Sigma", 0x3A3), ("Psi", 0x3A8), ("Delta", 0x394), ("leq", 0x2264), ("geq", 0x2265),
    ("approx", 0x2248), ("times", 0xD7), ("pm", 0xB1), ("infty", 0x221E))}


def plain_mathtext(text: str) -> str:
    """Matplotlib's ``$...$`` mathtext in a title as plain text: the dollar signs dropped, Greek
    letters and a few operators as their characters, ``\\mathcal{N}``-style wrappers and
    braces removed (``$\\beta = 1$`` -> ``β = 1``)."""

    def plain(m):
        body = re.sub(r"\\(?:mathcal|mathrm|mathbf|mathit|operatorname|text)\s*", "", m.group(1))
        body = re.sub(r"\\([A-Za-z]+)", lambda g: _GREEK.get(g.group(1), g.group(1)), body)
        return body.replace("{", "").replace("}", "").replace("\\", "")

    return re.sub(r"(?<!\\)\$([^$]+)\$", plain, text)


# -- numbers ----------------------------------------------------------------------------------

def _digits_for(tolerance: str, expected) -> int:
    """Significant digits that make a comparison at ``tolerance`` readable: one more than the
    relative tolerance resolves, between 3 and 10 (4 when there is no numeric tolerance)."""
    m = re.search(r"rtol=([0-9.eE+-]+)", tolerance or "")
    rel = float(m.group(1)) if m else 0.0
    a = re.search(r"atol=([0-9.eE+-]+)", tolerance or "")
    try:
        e = abs(float(str(expected).split()[0]))
    except (ValueError, IndexError):
        e = 0.0
    if a and e > 0:
        rel = max(rel, float(a.group(1)) / e)
    if rel <= 0 or not math.isfinite(rel):
        return 4
    return max(3, min(10, math.ceil(-math.log10(rel)) + 1))


def fmt_value(v, digits: int = 4, limit: int = 6) -> str:
    """A measured value as a reader wants it: floats to ``digits`` significant digits, at most
    ``limit`` items of a list or dict (then ``…`` and the count), long strings shortened."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v == 0 or not math.isfinite(v):
            return str(v)
        return f"{v:.{digits}g}"
    if isinstance(v, (list, tuple)):
        shown = ", ".join(fmt_value(x, digits, limit) for x in v[:limit])
        more = f", … ({len(v)} items)" if len(v) > limit else ""
        return f"[{shown}{more}]"
    if isinstance(v, dict):
        items = list(v.items())
        shown = ", ".join(f"{k}: {fmt_value(x, digits, limit)}" for k, x in items[:limit])
        more = f", … ({len(items)} entries)" if len(items) > limit else ""
        return "{" + shown + more + "}"
    s = " ".join(str(v).split())
    return s if len(s) <= 160 else s[:157] + "…"


def measured_text(c: dict) -> str:
    """The measured value of claim ``c`` (a claim dict) rounded to its tolerance's digits; a
    value far from the expected one (over 0.1% apart, e.g. a printed form that differs) to 4."""
    digits = _digits_for(c.get("tolerance", ""), c.get("expected"))
    m = c.get("measured")
    try:
        e = float(str(c.get("expected")).split()[0])
        if isinstance(m, (int, float)) and abs(m - e) > 1e-3 * max(abs(e), 1e-300):
            digits = min(digits, 4)
    except (ValueError, IndexError):
        pass
    return fmt_value(m, digits)


def reason(note: str, width: int = 100) -> str:
    """The first phrase of a claim's note (up to the first sentence end), at most ``width``
    characters: the one-phrase reason printed with a ``differs`` verdict."""
    text = " ".join((note or "").split())
    m = re.search(r"[.;](\s|$)", text)
    first = text[:m.start()] if m else text
    return first if len(first) <= width else first[:width - 1].rstrip() + "…"


# -- Markdown ---------------------------------------------------------------------------------

def anchor(name: str) -> str:
    """The id of a section (``study-<name>``, only [a-z0-9-])."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def claim_anchor(cid: str) -> str:
    """The id of a claim's row in ``report.html`` (``claim-<study>-<n>`` for ``<study>:<n>``)."""
    return anchor("claim-" + cid)


_CLAIM_ID = re.compile(r"[a-z0-9-]+:\d+")


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _tally_table(records: list[dict], counts_of) -> list[str]:
    cols = ("holds", "differs", "fails", "not run", "constructed")
    lines = ["| study | scale | paper claims | " + " | ".join(cols) + " | extensions | checks |",
             "|---|---|--:|" + "--:|" * len(cols) + "--:|--:|"]
    total = {v: 0 for v in cols}
    tp = te = tk = 0
    for r in records:
        cnt = counts_of(r)
        p, e, k = cnt["paper"], sum(cnt["extension"].values()), sum(cnt["check"].values())
        scale = r.get("config", {}).get("scale", "?") + (" (recorded)" if r.get("recorded") else "")
        if r.get("error"):
            scale += ", **error**"
        lines.append(f"| [{r['study']}](#{anchor('study-' + r['study'])}) | {scale} | "
                     f"{sum(p.values())} | " + " | ".join(str(p[v]) for v in cols)
                     + f" | {e} | {k} |")
        for v in cols:
            total[v] += p[v]
        tp, te, tk = tp + sum(p.values()), te + e, tk + k
    lines.append(f"| **all {len(records)} studies** | | **{tp}** | "
                 + " | ".join(f"**{total[v]}**" for v in cols) + f" | **{te}** | **{tk}** |")
    return lines


def _errata(records: list[dict]) -> list[str]:
    lines = []
    for r in records:
        by_statement = {c["statement"]: (i, c) for i, c in enumerate(r["claims"], start=1)}
        for i, c in enumerate(r["claims"], start=1):
            if c["verdict"] != "differs":
                continue
            j, corr = by_statement.get(c.get("pair", ""), (None, None))
            lines += [f"- **{r['study']}:{i}** — {c['statement']} ({c['source']})",
                      f"  - shown by: {c.get('basis') or 'unrecorded'}",
                      f"  - as printed: {c['expected'].replace(' (as printed)', '')}; "
                      f"measured: {measured_text(c)}",
                      f"  - why: {' '.join(c['note'].split())}"]
            if corr is not None:
                lines.append(f"  - corrected ({r['study']}:{j}, {corr['verdict']}): "
                             f"{corr['statement']} — expected {corr['expected']}, measured "
                             f"{measured_text(corr)}")
            else:
                lines.append(f"  - corrected: {c.get('pair', '')}")
    return lines or ["No claim differs from its paper's printed form."]


def _study_section(r: dict, display) -> list[str]:
    cfg = r.get("config", {})
    lines = [f'<a id="{anchor("study-" + r["study"])}"></a>', "",
             f"## {r['study']}: {r['title']}", "", f"*{r['paper']}, {r['source']}.*", ""]
    run = [f"scale **{cfg.get('scale', '?')}**", f"seed {cfg.get('seed', '?')}"]
    if r.get("device"):
        run.append(f"device `{r['device']}`")
    if r.get("date"):
        run.append(f"run {r['date']}")
    if r.get("seconds") is not None:
        run.append(f"{_duration(r['seconds'])}")
    commit = r.get("versions", {}).get("betalab commit")
    if commit:
        run.append(f"betalab commit {commit}")
    lines += ["Run: " + ", ".join(run) + ".", ""]
    if r.get("recorded"):
        lines += [f"Recorded **{cfg.get('scale')}-scale** run, kept in `{display(r['recorded'])}`; "
                  f"its verdicts are re-derived from its numbers by the tests. Rerun: "
                  f"`betalab run {r['study']} --scale {cfg.get('scale')}`.", ""]
    if r.get("error"):
        last = [ln for ln in r["error"].strip().splitlines() if ln.strip()][-1:]
        where = ("(its recorded run is not used)" if r.get("recorded")
                 else "(the traceback is in the study's `error.log`)")
        lines += ["**The study raised an error:** `" + (last[0] if last else "?") + f"` {where}.", ""]
        return lines
    captions = r.get("captions", {})
    for n, fig in enumerate(r["figures"], start=1):
        # plain text: a recorded run's captions were stored with the figures' mathtext
        cap = plain_mathtext(captions.get(fig) or Path(fig).stem.replace("_", " "))
        lines += [f"![{_cell(cap)}]({fig})", "", f"*Figure {n}: {cap}.*", ""]
    if r["claims"]:
        lines += ["| id | claim | kind | expected | measured | tolerance | verdict |",
                  "|---|---|---|---|---|---|---|"]
        notes = []
        for i, c in enumerate(r["claims"], start=1):
            cid = f"{r['study']}:{i}"
            verdict = f"**{c['verdict']}**" if c["verdict"] in ("fails", "differs") else c["verdict"]
            kind = c["kind"] + (f", {c['scale']}" if c.get("scale") else "")
            lines.append("| " + " | ".join(_cell(x) for x in (
                cid, c["statement"], kind, c["expected"], measured_text(c), c["tolerance"],
                verdict)) + " |")
            note = " ".join((c.get("note") or "").split())
            if c.get("substitute"):
                note += f" Substitute: {c['substitute']}"
            if note:
                notes.append(f"- {cid} ({c['source']}): {note}")
            else:
                notes.append(f"- {cid}: {c['source']}.")
        lines += ["", "Sources and notes:", ""] + notes + [""]
    return lines


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def build_markdown(records: list[dict], *, headline: str, counts_of, versions: dict,
                   coverage_lines: list[str], display) -> str:
    """The whole report as Markdown. ``counts_of(record)`` counts a record's claims by kind and
    verdict; ``display(path)`` shows a recorded run's directory."""
    n_differs = sum(c["verdict"] == "differs" for r in records for c in r["claims"])
    lines = ["# betalab claims report", "", headline, ""]
    lines += _tally_table(records, counts_of)
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", "",
              "## Contents", "",
              f"- [Errata: {n_differs} claims that differ as printed](#errata)",
              "- [Reading a claim](#reading)", "- [Coverage of the papers](#coverage)"]
    lines += [f"- [{r['study']}: {r['title']}](#{anchor('study-' + r['study'])})" for r in records]
    lines += ["", '<a id="errata"></a>', "", "## Errata", "",
              "Each claim below is printed in a paper in a form shown wrong by a derivation, an "
              "exact computation, the paper's own text or a run at the paper's scale and data "
              "(*shown by*); the corrected statement is checked as its own claim. Failures to "
              "reproduce a statement at a reduced scale or on substitute data are not errata: "
              "they are the *fails* of the study sections.", ""]
    lines += _errata(records)
    lines += ["", '<a id="reading"></a>', "", "## Reading a claim", "",
              "Kinds: a *paper claim* is a statement or number printed in a seed paper; a *betalab "
              "extension* is a result betalab adds; an *implementation check* tests betalab's code "
              "against an independent oracle (kept here where it helps a reader; most checks are "
              "tests).", "",
              "Verdicts: *holds* — measured matches expected within the stated tolerance; *fails*; "
              "*differs* — the paper is wrong: its printed form was evaluated and disagrees with "
              "what betalab computes beyond the tolerance (had it agreed, the verdict would be "
              "*holds*), shown by a derivation, an exact computation, the paper's own text or a run "
              "at the paper's scale and data (the errata name which); the corrected statement is "
              "checked as its own claim next to it. A run below the paper's scale, or on substitute "
              "data, that disagrees *fails* to reproduce the statement at that scale and is never "
              "an erratum; such a run decides a claim only when the statistic it rests on levelled "
              "off along training (else *not run: not converged*); *not run* — needs data, "
              "compute or a baseline this run does not have (why, what would run it and its cost "
              "are given); *constructed* — an unstated setting was solved for so that the paper's "
              "number comes out: a construction note, not a reproduction. Measured values are "
              "rounded to one digit more than their tolerance resolves (4 significant digits "
              "otherwise); `result.json` of each study keeps them in full.", "",
              '<a id="coverage"></a>', "", "## Coverage of the papers", ""]
    lines += coverage_lines
    lines.append("")
    for r in records:
        lines += _study_section(r, display)
    return "\n".join(lines) + "\n"


# -- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}
h1,h2,h3{line-height:1.25}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:13px}th,td{border:1px solid #ccc;
padding:3px 6px;vertical-align:top}th{background:#f3f3f3}td.r,th.r{text-align:right}
code{background:#f3f3f3;padding:0 3px;border-radius:3px}pre{background:#f6f6f6;padding:.6em;
overflow-x:auto}figure{margin:1em 0}figure img{max-width:100%}figcaption{font-style:italic;
color:#444}ul{padding-left:1.4em}
"""

def _inline(text: str) -> str:
    """Escape ``text`` and render the inline Markdown this module writes."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) > 1:
            out.append(f"<code>{html.escape(p[1:-1])}</code>")
            continue
        s = html.escape(p, quote=False).replace("\\|", "|")
        s = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)",
                   lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', s)
        s = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", r"<em>\1</em>", s)
        out.append(s)
    return "".join(out)


def _split_row(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip())
    return [c.strip() for c in cells[1:-1]]


def _data_uri(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    mime = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg"}.get(
        path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def markdown_to_html(md: str, base: str | Path, title: str = "betalab claims report") -> str:
    """Render the report's Markdown as one self-contained HTML page; images (paths relative to
    ``base``) are inlined as ``data:`` URIs, a missing image shows its alternative text."""
    base = Path(base)
    lines = md.split("\n")
    out = []
    i = 0
    pending_id = None
    while i < len(lines):
        ln = lines[i]
        if not ln.strip():
            i += 1
            continue
        m = re.fullmatch(r'<a id="([a-z0-9-]+)"></a>', ln.strip())
        if m:
            pending_id = m.group(1)
            i += 1
            continue
        m = re.match(r"(#{1,4}) (.*)", ln)
        if m:
            level = len(m.group(1))
            ident = f' id="{pending_id}"' if pending_id else ""
            pending_id = None
            out.append(f"<h{level}{ident}>{_inline(m.group(2))}</h{level}>")
            i += 1
            continue
        m = re.fullmatch(r"!\[(.*)\]\(([^)\s]+)\)", ln.strip())
        if m:
            alt, src = m.group(1).replace("\\|", "|"), m.group(2)
            uri = _data_uri(base / src)
            img = (f'<img src="{uri}" alt="{html.escape(alt)}">' if uri
                   else f"<p>[missing figure: {html.escape(src)}]</p>")
            cap = ""
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and re.fullmatch(r"\*Figure \d+: .*\*", lines[j].strip()):
                cap = f"<figcaption>{_inline(lines[j].strip()[1:-1])}</figcaption>"
                i = j
            out.append(f"<figure>{img}{cap}</figure>")
            i += 1
            continue
        if ln.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("<pre>" + html.escape("\n".join(lines[i + 1:j])) + "</pre>")
            i = j + 1
            continue
        if ln.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            head, body = _split_row(rows[0]), rows[2:]
            aligns = ["r" if c.strip().endswith(":") else "" for c in _split_row(rows[1])]
            cls = lambda k: f' class="{aligns[k]}"' if k < len(aligns) and aligns[k] else ""  # noqa: E731
            t = ["<table><thead><tr>" + "".join(f"<th{cls(k)}>{_inline(c)}</th>"
                                                for k, c in enumerate(head)) + "</tr></thead><tbody>"]
            for r in body:
                cells = _split_row(r)
                # a claim's row carries its id, so pages can link to one claim
                first = cells[0].strip() if cells else ""
                rid = (f' id="{claim_anchor(first)}"'
                       if head and head[0].strip() == "id" and _CLAIM_ID.fullmatch(first) else "")
                t.append(f"<tr{rid}>" + "".join(f"<td{cls(k)}>{_inline(c)}</td>"
                                                for k, c in enumerate(cells)) + "</tr>")
            out.append("".join(t) + "</tbody></table>")
            continue
        if ln.startswith("- "):
            items = []
            while i < len(lines) and (lines[i].startswith("- ") or lines[i].startswith("  - ")):
                if lines[i].startswith("- "):
                    items.append([lines[i][2:], []])
                else:
                    items[-1][1].append(lines[i][4:])
                i += 1
            out.append("<ul>" + "".join(
                f"<li>{_inline(a)}" + ("<ul>" + "".join(f"<li>{_inline(b)}</li>" for b in sub)
                                       + "</ul>" if sub else "") + "</li>" for a, sub in items)
                + "</ul>")
            continue
        para = []
        while i < len(lines) and lines[i].strip() and not re.match(r"(#{1,4} |\||- |```|!\[|<a id=)",
                                                                   lines[i]):
            para.append(lines[i].rstrip().removesuffix("  "))
            i += 1
        out.append(f"<p>{_inline(' '.join(para))}</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(out) + "\n</body></html>\n")
