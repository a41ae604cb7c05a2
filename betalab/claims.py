"""Claims: one checked statement each, with a verdict that a comparison decided.

A claim records what is stated (``statement``), where (``source``: paper + equation /
figure / section), what was expected (``expected``: a value or a relation), what betalab
measured (``measured``), the tolerance and why it has its size, and a verdict.

Kinds (``kind``, required everywhere)
-------------------------------------
``paper``
    a statement or number printed in one of the seed papers.
``extension``
    a result betalab adds (beyond what the papers state).
``check``
    an implementation check (code against an independent oracle) kept in the report
    because it helps a reader trust a figure; most such checks live in the tests.

The report counts the three kinds apart; its headline counts paper claims by verdict.

Verdicts
--------
``holds``
    measured agrees with expected within the tolerance.
``fails``
    it does not; ``betalab reproduce`` exits non-zero.
``differs``
    the paper is wrong: its printed form (a number, or a formula evaluated as printed) was
    compared with what betalab computes and disagrees beyond the stated tolerance, and the
    comparison can carry that accusation. Its ``basis`` (required, recorded) is one of
    :data:`BASES`: a *derivation*, an *exact computation*, the *paper's text* (two printed
    statements that contradict each other) or a *paper-scale measurement* (the paper's own
    configuration and data, ``scale`` ``"full"``). A reduced-scale or substitute-data run that
    disagrees with the paper is a failure to reproduce at that scale: it is decided by
    :func:`close` or :func:`relation` (``fails``), with the scale and the substitution in its
    statement, and :func:`as_printed` refuses it. Only :func:`as_printed` and
    :func:`as_printed_relation` produce ``differs``, and only from that comparison: were the
    printed form to agree, the verdict would be ``holds``. A ``differs`` claim always comes
    paired with its corrected statement, checked as its own claim (``pair`` names it), whose
    text and threshold are fixed before the comparison and which is never the printed
    statement's complement.
``not run``
    the claim needs something this run does not have (a dataset download, a GPU sweep, a
    baseline not yet built); ``why``, ``would_run`` (what would decide it) and ``cost`` say
    so, and ``substitute`` names what is checked instead, if anything. Made by :func:`not_run`.
``constructed``
    a number matched *by construction*: betalab solved for an unstated setting so that the
    paper's number comes out. It is a labelled construction note, not a reproduction; the
    note says what was solved for and what remains free. Made by :func:`constructed`.

A verdict cannot be passed in: :class:`Claim` refuses to be built except by the
constructors of this module (and by :meth:`Claim.from_dict` when a stored report is read
back), and no constructor takes a verdict argument.

``scale`` records the size a deep-study claim was measured at: ``""`` (not a deep study),
``"quick"`` (the CPU-sized default run), ``"cpu"`` (a larger CPU run), ``"gpu"`` (a run on a
lent GPU, larger than cpu and smaller than full; the claim states what was cut) or ``"full"``
(paper size).
"""

from __future__ import annotations

__all__ = ["VERDICTS", "KINDS", "SCALES", "BASES", "REDUCED_SCALES", "Claim", "close", "relation", "as_printed",
           "as_printed_relation", "not_run", "constructed", "convergence", "converged_lengths", "at_convergence",
           "MIN_TRACE_POINTS", "gated_by_convergence", "superseded"]

import math
from dataclasses import asdict, dataclass, field
from typing import Any

VERDICTS = ("holds", "fails", "differs", "not run", "constructed")
KINDS = ("paper", "extension", "check")
SCALES = ("", "quick", "cpu", "gpu", "full")
#: what can show a printed statement wrong (the ``basis`` of a ``differs`` claim)
BASES = ("derivation", "exact computation", "paper text", "paper-scale measurement")
#: scales below the paper's: a measurement there cannot show the paper wrong
REDUCED_SCALES = ("quick", "cpu", "gpu")

_KEY = object()  # held by the constructors of this module only


@dataclass(frozen=True)
class Claim:
    statement: str
    source: str
    expected: str
    measured: Any
    tolerance: str
    verdict: str
    note: str = ""
    substitute: str = ""
    study: str = field(default="", compare=False)
    kind: str = "paper"
    scale: str = ""
    pair: str = ""  # the statement of the paired claim: printed ↔ corrected
    basis: str = ""  # as_printed claims: what the comparison rests on (one of BASES)
    _key: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self._key is not _KEY:
            raise TypeError("a Claim is made by betalab.claims.close(), relation(), as_printed(), "
                            "as_printed_relation(), not_run() or constructed(); a verdict cannot "
                            "be passed in")
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        _check_kind(self.kind)
        _check_scale(self.scale)
        if self.verdict == "differs" and not (self.note and self.pair):
            raise ValueError("a 'differs' claim needs a note and the corrected claim it is paired with")
        if self.basis:
            _check_basis(self.basis, self.scale)
        elif self.verdict == "differs":
            raise ValueError(f"a 'differs' claim needs its basis, one of {BASES}")
        if self.verdict == "not run" and not self.note:
            raise ValueError("a 'not run' claim needs a note saying why and what would run it")
        if self.verdict == "constructed" and not self.note:
            raise ValueError("a 'constructed' claim needs a note saying what was solved for")

    @property
    def failed(self) -> bool:
        return self.verdict == "fails"

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("_key")
        d["measured"] = _jsonable(self.measured)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Claim":
        """Read back a claim of a stored report (its verdict was decided when it was made)."""
        return cls(**d, _key=_KEY)

    def with_study(self, study: str) -> "Claim":
        from dataclasses import replace

        return replace(self, study=study)


def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def _check_scale(scale):
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")


def _check_basis(basis, scale):
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
    if basis == "paper-scale measurement" and scale != "full":
        raise ValueError(
            f"basis 'paper-scale measurement' needs scale 'full', got {scale!r}: a reduced-scale "
            "or substitute-data run that disagrees with the paper fails to reproduce it at that "
            "scale; decide it with close() or relation(), the scale in its statement")


def _check_text(value, name):
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")


def _jsonable(v):
    if isinstance(v, (str, bool, int)) or v is None:
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if hasattr(v, "tolist"):
        return _jsonable(v.tolist())
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return str(v)


def _within(expected: float, measured: float, rtol: float, atol: float) -> tuple[bool, str]:
    if not isinstance(rtol, (int, float)) or not isinstance(atol, (int, float)):
        raise TypeError("rtol and atol must be numbers")
    if rtol < 0 or atol < 0 or (rtol == 0 and atol == 0):
        raise ValueError("close() needs a positive rtol or atol")
    tol = atol + rtol * abs(expected)
    ok = math.isfinite(measured) and abs(measured - expected) <= tol
    parts = [f"rtol={rtol:g}"] if rtol else []
    parts += [f"atol={atol:g}"] if atol else []
    return ok, ", ".join(parts)


def close(statement: str, source: str, expected: float, measured: float, *,
          rtol: float = 0.0, atol: float = 0.0, note: str = "", kind: str, scale: str = "") -> Claim:
    """Claim that ``measured`` equals ``expected`` within ``atol + rtol*|expected|``.

    ``note`` should say why the tolerance has its size (dtype, standard error and its n,
    discretisation).
    """
    _check_kind(kind)
    measured, expected = float(measured), float(expected)
    ok, tol = _within(expected, measured, rtol, atol)
    return Claim(statement, source, f"{expected:.6g}", measured, tol,
                 "holds" if ok else "fails", note, kind=kind, scale=scale, _key=_KEY)


def relation(statement: str, source: str, expected: str, measured: Any, ok: bool, *,
             tolerance: str = "exact", note: str = "", kind: str, scale: str = "") -> Claim:
    """Claim that a relation (an inequality, an argmax, a sign pattern) holds.

    ``ok`` is the boolean the study computed from ``measured``.
    """
    _check_kind(kind)
    return Claim(statement, source, expected, measured, tolerance,
                 "holds" if bool(ok) else "fails", note, kind=kind, scale=scale, _key=_KEY)


def _check_corrected(corrected, statement):
    if not isinstance(corrected, Claim):
        raise TypeError(f"corrected must be a Claim, got {type(corrected).__name__}")
    if corrected.statement == statement:
        raise ValueError("corrected must state something other than the printed statement")
    if corrected.verdict not in ("holds", "fails"):
        raise ValueError("corrected must be a claim decided by close() or relation(), got verdict "
                         f"{corrected.verdict!r}")


def _pair(printed: Claim, corrected: Claim) -> tuple[Claim, Claim]:
    from dataclasses import replace

    return printed, replace(corrected, pair=printed.statement)


def as_printed(statement: str, source: str, printed: float, measured: float, *,
               rtol: float = 0.0, atol: float = 0.0, why: str, corrected: Claim, basis: str,
               kind: str = "paper", scale: str = "") -> tuple[Claim, Claim]:
    """The paper's printed number (or its printed formula evaluated) against what is measured.

    The verdict is ``holds`` when ``printed`` and ``measured`` agree within
    ``atol + rtol*|printed|`` and ``differs`` otherwise; ``why`` explains the difference
    (shown only when it differs). ``basis`` (one of :data:`BASES`) is what the comparison rests
    on; a measurement below the paper's scale is refused (it is a reproduction, decided by
    :func:`close`). Returns ``(printed claim, corrected claim)``: the corrected statement,
    checked by :func:`close` or :func:`relation`, is always reported next to it.
    """
    _check_kind(kind)
    _check_text(why, "why")
    _check_scale(scale)
    _check_basis(basis, scale)
    _check_corrected(corrected, statement)
    measured, printed = float(measured), float(printed)
    ok, tol = _within(printed, measured, rtol, atol)
    c = Claim(statement, source, f"{printed:.6g} (as printed)", measured, tol,
              "holds" if ok else "differs", "" if ok else why, kind=kind, scale=scale,
              pair=corrected.statement, basis=basis, _key=_KEY)
    return _pair(c, corrected)


def as_printed_relation(statement: str, source: str, printed: str, measured: Any, agrees: bool, *,
                        tolerance: str = "exact", why: str, corrected: Claim, basis: str,
                        kind: str = "paper", scale: str = "") -> tuple[Claim, Claim]:
    """The paper's printed statement, evaluated: ``agrees`` is the boolean the study computed
    by evaluating the printed form against ``measured``. ``holds`` if it agrees, else
    ``differs`` (with ``why``); returns ``(printed claim, corrected claim)`` as
    :func:`as_printed` does (``basis`` as there)."""
    _check_kind(kind)
    _check_text(why, "why")
    _check_scale(scale)
    _check_basis(basis, scale)
    _check_corrected(corrected, statement)
    ok = bool(agrees)
    c = Claim(statement, source, f"{printed} (as printed)", measured, tolerance,
              "holds" if ok else "differs", "" if ok else why, kind=kind, scale=scale,
              pair=corrected.statement, basis=basis, _key=_KEY)
    return _pair(c, corrected)


def not_run(statement: str, source: str, expected: str, *, why: str, would_run: str, cost: str,
            kind: str, substitute: str = "", measured: Any = None, scale: str = "") -> Claim:
    """A claim this run does not decide: ``why`` (e.g. needs a dataset download, a GPU sweep,
    a baseline not yet built), ``would_run`` (the command or study that would decide it),
    ``cost`` (its measured or estimated cost). ``substitute`` names what is checked instead,
    if anything (as its own claim)."""
    _check_kind(kind)
    for name, v in (("why", why), ("would_run", would_run), ("cost", cost)):
        _check_text(v, name)
    note = f"Not run: {why} Would run: {would_run} Cost: {cost}"
    return Claim(statement, source, expected, measured, "-", "not run", note, substitute,
                 kind=kind, scale=scale, _key=_KEY)


def constructed(statement: str, source: str, target: float, achieved: float, *, how: str,
                free: str, kind: str = "paper", scale: str = "") -> Claim:
    """A paper number that betalab's setting was *solved for*: a construction note, not a
    reproduction. ``how`` says what was solved for, ``free`` what the construction leaves
    free (what the number does not determine). ``achieved`` is the value the constructed
    setting gives (it matches ``target`` by construction)."""
    _check_kind(kind)
    _check_text(how, "how")
    _check_text(free, "free")
    return Claim(statement, source, f"{float(target):.6g}", float(achieved), "-", "constructed",
                 f"Constructed, not reproduced: {how} Free: {free}", kind=kind, scale=scale,
                 _key=_KEY)


# ------------------------------------------------------------------ convergence of trained runs
_CONVERGED = "Converged: the seed mean"
#: the fewest points along training a convergence record must have (e.g. 25/50/75/100 %)
MIN_TRACE_POINTS = 4


def convergence(trace: dict) -> dict:
    """Whether the deciding statistic of a reduced-scale run has levelled off.

    ``trace`` is ``{"statistic": name, "steps": [s_1 < … < s_K], "values": V}`` with ``V`` of
    shape (K, n_seeds) (or (K,) for one seed or one pooled value per point): the statistic
    measured on the runs at K points along training, the last at the end (K ≥
    :data:`MIN_TRACE_POINTS`). The rule, fixed before any run: the seed mean moved less over the
    last quarter of training (from the first point at or after 75 % of the steps to the last)
    than its standard error over seeds at the end (sd/√n, ddof 1). With one seed there is no
    standard error and the run is never called converged.

    ``V`` may also be a dict of labelled traces, ``{label: (K, n_label)}`` on the same steps
    (e.g. one per model of a comparison, when the claims rest on every one of them): each is
    judged by the rule above on its own seeds, and the record is converged only when every
    trace is. Its ``traces`` then holds each label's record, and ``moved``/``se``/``last``/
    ``n_seeds`` are those of the first trace that did not level off (else of the first).

    Returns ``converged``, ``moved`` (``|mean change|`` over the last quarter), ``se``, ``last``
    (the seed mean at each point), ``steps``, ``statistic``, ``n_seeds``. ValueError for a
    malformed trace.
    """
    import numpy as np

    if not isinstance(trace, dict) or not {"statistic", "steps", "values"} <= set(trace):
        raise ValueError("trace must be a dict with statistic, steps and values")
    if isinstance(trace["values"], dict):
        if not trace["values"]:
            raise ValueError("trace: a dict of values needs at least one labelled trace")
        parts = {str(k): convergence({**trace, "values": v}) for k, v in trace["values"].items()}
        lead = next((r for r in parts.values() if not r["converged"]), next(iter(parts.values())))
        return {**lead, "statistic": str(trace["statistic"]), "traces": parts,
                "converged": all(r["converged"] for r in parts.values())}
    steps = np.asarray(trace["steps"], dtype=float)
    v = np.asarray(trace["values"], dtype=float)
    v = v[:, None] if v.ndim == 1 else v
    if steps.ndim != 1 or steps.size < MIN_TRACE_POINTS or v.shape[0] != steps.size or v.ndim != 2:
        raise ValueError(f"trace: at least {MIN_TRACE_POINTS} points along training, steps of "
                         f"shape (K,) and values of shape (K, n_seeds); got steps "
                         f"{steps.shape}, values {v.shape}")
    if np.any(np.diff(steps) <= 0) or not np.all(np.isfinite(v)):
        raise ValueError("trace: steps must increase and values be finite")
    mean = v.mean(axis=1)
    start = int(np.searchsorted(steps, 0.75 * steps[-1]))
    start = min(start, steps.size - 2)            # at least one interval in the last quarter
    moved = float(abs(mean[-1] - mean[start]))
    n = v.shape[1]
    se = float(v[-1].std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    return {"statistic": str(trace["statistic"]), "steps": steps.tolist(), "last": mean.tolist(),
            "moved": moved, "se": se, "n_seeds": n, "converged": bool(n > 1 and moved < se)}


def converged_lengths(trace: dict, fractions=(0.25, 0.5, 0.75, 1.0)) -> list[dict]:
    """What :func:`convergence` would decide for each training length a learning curve can test.

    ``trace`` is one cell's curve as :func:`convergence` reads it (``values`` of shape
    (K, n_seeds), not a dict of labelled traces), measured densely along one long run. A run of
    L steps evaluated at ``fractions`` of L (the last 1: its end) sees the curve's points at the
    steps ⌊f·L + ½⌋ (:func:`betalab.sweep.work.along_steps`); with constant-rate training a run
    stopped at L is the long run at step L. For every L among the curve's steps at which all
    those points are on the curve, the rule's record on them: ``[{"length": L, **record}]`` in
    increasing L (empty when no length can be tested). ValueError for a malformed trace or
    fractions that are not increasing values in (0, 1] ending at 1."""
    import numpy as np

    if not isinstance(trace, dict) or not {"statistic", "steps", "values"} <= set(trace) \
            or isinstance(trace["values"], dict):
        raise ValueError("trace must be one cell's curve: a dict with statistic, steps and values "
                         "of shape (K, n_seeds)")
    f = np.asarray(fractions, dtype=float)
    if f.ndim != 1 or f.size < MIN_TRACE_POINTS or np.any(np.diff(f) <= 0) or f[0] <= 0 \
            or f[-1] != 1.0:
        raise ValueError(f"fractions must be at least {MIN_TRACE_POINTS} increasing values in "
                         f"(0, 1] ending at 1, got {fractions!r}")
    steps = [int(s) for s in trace["steps"]]
    v = np.asarray(trace["values"], dtype=float)
    v = v[:, None] if v.ndim == 1 else v
    if v.ndim != 2 or v.shape[0] != len(steps):
        raise ValueError(f"trace: values must have shape (K, n_seeds) with K = {len(steps)} steps, "
                         f"got {v.shape}")
    from betalab.sweep.work import along_steps

    where = {s: i for i, s in enumerate(steps)}
    out = []
    for length in steps:
        at = along_steps(f[:-1].tolist(), length) + [length]    # as a sweep of L steps places them
        if len(at) == f.size and all(s in where for s in at):
            rows = [where[s] for s in at]
            out.append({"length": length, **convergence(
                {"statistic": trace["statistic"], "steps": at, "values": v[rows]})})
    return out


def _trace_text(rec: dict) -> str:
    """One record of :func:`convergence` in words: the move over the last quarter against the
    seed standard error, and the seed mean along training, per labelled trace if several."""
    def one(r):
        pts = ", ".join(f"{s:,.0f}: {v:.3g}" for s, v in zip(r["steps"], r["last"]))
        rel = "less than" if r["converged"] else "not less than"
        return (f"moved {r['moved']:.3g} over the last quarter of training, {rel} its seed "
                f"standard error {r['se']:.3g} ({r['n_seeds']} seeds); along training "
                f"(step: mean) {pts}")
    if "traces" not in rec:
        return one(rec)
    return "; ".join(f"{label}: {one(r)}" for label, r in rec["traces"].items())


def at_convergence(claims: list, trace: dict | None, *, would_run: str, cost: str,
                   exempt=None) -> list:
    """Reduced-scale claims of trained runs, decided only where their deciding statistic levelled
    off (:func:`convergence`). Claims of scale ``cpu``/``gpu`` decided by :func:`close` or
    :func:`relation` (holds/fails) keep their verdict, with the convergence record in the note,
    when ``trace`` converged; otherwise they read *not run* at that scale: "not converged" with
    the curve's last values (or "no record along training" when ``trace`` is None), and
    ``would_run``/``cost`` say what length would settle it. Other claims pass unchanged, and so
    do those ``exempt(claim)`` names: identities that hold for any parameters, hence at every
    point of training (the study says why). A trace of several labelled traces (see
    :func:`convergence`) decides only when every one of them levelled off."""
    from dataclasses import replace

    rec = None if trace is None else convergence(trace)
    out = []
    for c in claims:
        if c.scale not in ("cpu", "gpu") or c.verdict not in ("holds", "fails") or \
                c.kind == "check" or _CONVERGED in c.note or (exempt and exempt(c)):
            out.append(c)
            continue
        if rec is not None and rec["converged"]:
            if "traces" in rec:
                text = (f"{_CONVERGED} of {rec['statistic']} levelled off in every trace: "
                        f"{_trace_text(rec)}.")
            else:
                text = (f"{_CONVERGED} of {rec['statistic']} moved {rec['moved']:.3g} over the "
                        f"last quarter of training, less than its seed standard error "
                        f"{rec['se']:.3g} ({rec['n_seeds']} seeds).")
            out.append(replace(c, note=(f"{c.note} " if c.note else "") + text))
            continue
        if rec is None:
            why = ("no record of the deciding statistic along training (this run stored only its "
                   f"end point), so its {c.verdict!r} is not a verdict yet.")
            measured = c.measured
        elif "traces" in rec:
            late = [k for k, r in rec["traces"].items() if not r["converged"]]
            why = (f"not converged: the seed mean of {rec['statistic']} has not levelled off in "
                   f"{', '.join(late)} (each trace must move less over the last quarter of "
                   f"training than its seed standard error); {_trace_text(rec)}. "
                   f"The run would have read {c.verdict!r}.")
            measured = {"at the end": c.measured, "convergence": rec}
        else:
            pts = ", ".join(f"{s:,.0f}: {v:.3g}" for s, v in zip(rec["steps"], rec["last"]))
            why = (f"not converged: the seed mean of {rec['statistic']} moved {rec['moved']:.3g} "
                   f"over the last quarter of training, not less than its seed standard error "
                   f"{rec['se']:.3g} ({rec['n_seeds']} seeds); along training (step: mean) {pts}. "
                   f"The run would have read {c.verdict!r}.")
            measured = {"at the end": c.measured, "convergence": rec}
        note = f"Not run: {why} Would run: {would_run} Cost: {cost}"
        out.append(replace(c, verdict="not run", note=note, measured=measured,
                           tolerance="-", pair=""))
    return out


def gated_by_convergence(trace_of, *, would_run: str, cost: str, exempt=None):
    """Decorator for a study's ``claims(numbers, seed)`` function: its reduced-scale claims of
    trained runs pass through :func:`at_convergence` with the trace ``trace_of(numbers)`` (None
    when the numbers hold no record along training). ``would_run`` and ``cost`` may be callables
    of the numbers; ``exempt`` as in :func:`at_convergence`."""
    import functools

    def wrap(f):
        @functools.wraps(f)
        def claims_of(numbers, *args, **kwargs):
            text = [w(numbers) if callable(w) else w for w in (would_run, cost)]
            return at_convergence(f(numbers, *args, **kwargs), trace_of(numbers),
                                  would_run=text[0], cost=text[1], exempt=exempt)
        return claims_of
    return wrap


def superseded(claims: list, *, why: str, would_run: str, cost: str) -> list:
    """The decided claims (holds, fails, differs) of a recorded run whose data have since
    changed, as *not run*: ``why`` says what changed; ``would_run`` and ``cost`` what re-decides
    them. Not-run and constructed claims pass unchanged."""
    from dataclasses import replace

    out = []
    for c in claims:
        if c.verdict not in ("holds", "fails", "differs"):
            out.append(c)
            continue
        note = f"Not run: {why} It read {c.verdict!r}. Would run: {would_run} Cost: {cost}"
        out.append(replace(c, verdict="not run", note=note, tolerance="-", pair="", basis=""))
    return out
