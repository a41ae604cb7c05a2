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
    the paper's printed form (a number, or a formula evaluated as printed) was compared with
    what betalab measures and disagrees beyond the stated tolerance. Only :func:`as_printed`
    and :func:`as_printed_relation` produce it, and only from that comparison: were the
    printed form to agree, the verdict would be ``holds``. A ``differs`` claim always comes
    paired with its corrected statement, checked as its own claim (``pair`` names it).
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

__all__ = ["VERDICTS", "KINDS", "SCALES", "Claim", "close", "relation", "as_printed",
           "as_printed_relation", "not_run", "constructed"]

import math
from dataclasses import asdict, dataclass, field
from typing import Any

VERDICTS = ("holds", "fails", "differs", "not run", "constructed")
KINDS = ("paper", "extension", "check")
SCALES = ("", "quick", "cpu", "gpu", "full")

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


def _check_corrected(corrected):
    if not isinstance(corrected, Claim):
        raise TypeError(f"corrected must be a Claim, got {type(corrected).__name__}")
    if corrected.verdict not in ("holds", "fails"):
        raise ValueError("corrected must be a claim decided by close() or relation(), got verdict "
                         f"{corrected.verdict!r}")


def _pair(printed: Claim, corrected: Claim) -> tuple[Claim, Claim]:
    from dataclasses import replace

    return printed, replace(corrected, pair=printed.statement)


def as_printed(statement: str, source: str, printed: float, measured: float, *,
               rtol: float = 0.0, atol: float = 0.0, why: str, corrected: Claim,
               kind: str = "paper", scale: str = "") -> tuple[Claim, Claim]:
    """The paper's printed number (or its printed formula evaluated) against what is measured.

    The verdict is ``holds`` when ``printed`` and ``measured`` agree within
    ``atol + rtol*|printed|`` and ``differs`` otherwise; ``why`` explains the difference
    (shown only when it differs). Returns ``(printed claim, corrected claim)``: the
    corrected statement, checked by :func:`close` or :func:`relation`, is always reported
    next to it.
    """
    _check_kind(kind)
    _check_text(why, "why")
    _check_corrected(corrected)
    measured, printed = float(measured), float(printed)
    ok, tol = _within(printed, measured, rtol, atol)
    c = Claim(statement, source, f"{printed:.6g} (as printed)", measured, tol,
              "holds" if ok else "differs", "" if ok else why, kind=kind, scale=scale,
              pair=corrected.statement, _key=_KEY)
    return _pair(c, corrected)


def as_printed_relation(statement: str, source: str, printed: str, measured: Any, agrees: bool, *,
                        tolerance: str = "exact", why: str, corrected: Claim,
                        kind: str = "paper", scale: str = "") -> tuple[Claim, Claim]:
    """The paper's printed statement, evaluated: ``agrees`` is the boolean the study computed
    by evaluating the printed form against ``measured``. ``holds`` if it agrees, else
    ``differs`` (with ``why``); returns ``(printed claim, corrected claim)`` as
    :func:`as_printed` does."""
    _check_kind(kind)
    _check_text(why, "why")
    _check_corrected(corrected)
    ok = bool(agrees)
    c = Claim(statement, source, f"{printed} (as printed)", measured, tolerance,
              "holds" if ok else "differs", "" if ok else why, kind=kind, scale=scale,
              pair=corrected.statement, _key=_KEY)
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
