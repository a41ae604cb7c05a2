"""The coverage ledger: the papers' checkable items and their status in betalab.

Each :class:`Item` is one checkable thing printed in a seed paper (an equation, a figure, a
table, a number in the text) with its status:

``covered``
    decided by the claims it names;
``partial``
    some of it is decided by the claims it names, ``reason`` says what is not;
``not run``
    every claim it names is a ``not run`` claim (a dataset download, a GPU sweep, a baseline not
    built): what would decide it is written, nothing is decided yet; ``reason`` says why. Counted
    apart from ``partial``;
``missing``
    no claim decides it; ``reason`` says why (data not obtainable offline, needs a GPU,
    not yet built, no claim).

Claims are named by ``"<study>: <start of the statement>"``; :func:`resolve` turns the names
into the claim ids of a run (``<study>:<n>``) and reports any name that matches no claim of a
study that ran, and :func:`status_mismatches` any item whose status disagrees with the verdicts
of its claims in that run (a ``not run`` item one of whose claims was decided, or an item of
another status whose claims were all not run). The ledger itself, and the :class:`Item` it is
made of, live in :mod:`betalab.ledger` (data only; this module reads it, never the reverse).
"""

from __future__ import annotations

__all__ = ["STATUSES", "PAPERS", "Item", "LEDGER", "Resolved", "match", "resolve",
           "unresolved_names", "status_mismatches", "summary", "report_lines"]

from dataclasses import dataclass, field

from betalab.ledger import LEDGER, PAPERS, STATUSES, Item

@dataclass
class Resolved:
    item: Item
    ids: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    not_in_run: list[str] = field(default_factory=list)  # names of studies this run skipped


def match(name: str, study: str, statement: str) -> bool:
    """Whether the ledger name ``"<study>: <statement start>"`` names this claim."""
    s, _, start = name.partition(": ")
    return s == study and statement.startswith(start)


def resolve(ledger, ids, studies_run=None) -> list[Resolved]:
    """Resolve each item's claim names against ``ids`` (pairs ``(claim id, Claim)``).

    A name whose study did not run (not in ``studies_run``) is kept apart, not counted as
    unresolved.
    """
    out = []
    for item in ledger:
        r = Resolved(item)
        for name in item.claims:
            study = name.partition(": ")[0]
            hits = [(cid, c) for cid, c in ids if match(name, c.study, c.statement)]
            if hits:
                r.ids += [cid for cid, _ in hits]
                r.verdicts += [c.verdict for _, c in hits]
            elif studies_run is not None and study not in studies_run:
                r.not_in_run.append(name)
            else:
                r.unresolved.append(name)
        out.append(r)
    return out


def unresolved_names(ledger, study: str, claims, scope=()) -> list[str]:
    """Names in ``ledger`` that point at ``study`` but match none of its ``claims``.

    ``scope``: statement starts; when given, only the names whose statement part starts with one
    of them are checked (for a run of part of a study, e.g. one ν of kp-uniqueness).
    """
    bad = []
    for item in ledger:
        for name in item.claims:
            s, _, start = name.partition(": ")
            if s != study or (scope and not start.startswith(tuple(scope))):
                continue
            if not any(match(name, study, c.statement) for c in claims):
                bad.append(name)
    return bad


def status_mismatches(resolved: list[Resolved]) -> list[str]:
    """``"<paper> <ref>: <what>"`` of every item whose status disagrees with the verdicts of the
    claims its names resolved to in this run: ``not run`` exactly when every one of them is
    ``not run``. Items none of whose claims were in the run are not judged."""
    bad = []
    for r in resolved:
        if not r.verdicts:
            continue
        all_not_run = all(v == "not run" for v in r.verdicts)
        if (r.item.status == "not run") != all_not_run:
            bad.append(f"{r.item.paper} {r.item.ref}: {r.item.what} (status {r.item.status}, "
                       f"verdicts {', '.join(sorted(set(r.verdicts)))})")
    return bad


def summary(resolved: list[Resolved]) -> dict:
    """Counts per paper and status (and their totals), the unresolved names and the items whose
    status disagrees with their claims' verdicts (:func:`status_mismatches`)."""
    out = {p: {s: 0 for s in STATUSES} for p in PAPERS}
    for r in resolved:
        out[r.item.paper][r.item.status] += 1
    return {"counts": out,
            "totals": {s: sum(c[s] for c in out.values()) for s in STATUSES},
            "unresolved": sorted({n for r in resolved for n in r.unresolved}),
            "status_mismatches": status_mismatches(resolved)}


def report_lines(resolved: list[Resolved]) -> list[str]:
    """The coverage section of the report: counts per paper and status, then every item."""
    s = summary(resolved)
    lines = ["| paper | " + " | ".join(STATUSES) + " | items |",
             "|---|" + "---|" * (len(STATUSES) + 1)]
    for key, name in PAPERS.items():
        c = s["counts"][key]
        lines.append(f"| {name} | " + " | ".join(str(c[st]) for st in STATUSES)
                     + f" | {sum(c.values())} |")
    t = s["totals"]
    lines.append("| **all papers** | " + " | ".join(f"**{t[st]}**" for st in STATUSES)
                 + f" | **{sum(t.values())}** |")
    lines += ["", "*not run*: every claim of the item is a not-run claim (what would decide it is "
                  "written in the claim); counted apart from *partial*."]
    if s["unresolved"]:
        lines += ["", "**Ledger entries that match no claim of this run:** "
                  + "; ".join(s["unresolved"])]
    if s["status_mismatches"]:
        lines += ["", "**Ledger statuses that disagree with this run's verdicts:** "
                  + "; ".join(s["status_mismatches"])]
    for key, name in PAPERS.items():
        lines += ["", f"### {name}", "", "| item | what | status | claims | reason |",
                  "|---|---|---|---|---|"]
        for r in resolved:
            if r.item.paper != key:
                continue
            ids = ", ".join(f"{i} ({v})" for i, v in zip(r.ids, r.verdicts))
            if r.not_in_run:
                ids += (", " if ids else "") + f"{len(r.not_in_run)} in studies not run"
            if r.unresolved:
                ids += (", " if ids else "") + f"**{len(r.unresolved)} unresolved**"
            cells = (r.item.ref, r.item.what, r.item.status, ids or "-", r.item.reason or "-")
            lines.append("| " + " | ".join(x.replace("|", "\\|").replace("\n", " ") for x in cells)
                         + " |")
    return lines
