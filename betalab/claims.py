"""Claims: one checked statement of a paper each.

A claim records what a paper says (``statement``), where it says it
(``source``: paper + equation / figure / section), what betalab expected
(``expected``: a value or a relation), what it measured (``measured``), the
tolerance used, and a verdict:

``holds``
    measured agrees with expected within the tolerance.
``fails``
    it does not; ``betalab reproduce`` exits non-zero.
``differs``
    the paper's number or statement cannot be matched *as printed*, and the
    note explains why (an erratum, an unstated setting, ...). The corrected
    statement is then a separate claim that must hold.
``offline``
    the claim cannot be reproduced offline (e.g. it needs a dataset download);
    ``substitute`` names what betalab checks instead.

Constructors :func:`close`, :func:`relation`, :func:`differs` and
:func:`offline` compute the verdict, so a study never writes a verdict by hand.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

VERDICTS = ("holds", "fails", "differs", "offline")


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

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.verdict == "differs" and not self.note:
            raise ValueError("a 'differs' claim needs a note explaining the difference")
        if self.verdict == "offline" and not self.substitute:
            raise ValueError("an 'offline' claim needs the substitute that was checked")

    @property
    def failed(self) -> bool:
        return self.verdict == "fails"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["measured"] = _jsonable(self.measured)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Claim":
        return cls(**d)


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


def close(statement: str, source: str, expected: float, measured: float, *,
          rtol: float = 0.0, atol: float = 0.0, note: str = "") -> Claim:
    """Claim that ``measured`` equals ``expected`` within ``atol + rtol*|expected|``."""
    if rtol < 0 or atol < 0 or (rtol == 0 and atol == 0):
        raise ValueError("close() needs a positive rtol or atol")
    measured = float(measured)
    expected = float(expected)
    tol = atol + rtol * abs(expected)
    ok = math.isfinite(measured) and abs(measured - expected) <= tol
    parts = [f"rtol={rtol:g}"] if rtol else []
    parts += [f"atol={atol:g}"] if atol else []
    return Claim(statement, source, f"{expected:.6g}", measured, ", ".join(parts),
                 "holds" if ok else "fails", note)


def relation(statement: str, source: str, expected: str, measured: Any, ok: bool, *,
             tolerance: str = "exact", note: str = "") -> Claim:
    """Claim that a relation (an inequality, an argmax, a sign pattern) holds.

    ``ok`` is the boolean the study computed from ``measured``.
    """
    return Claim(statement, source, expected, measured, tolerance,
                 "holds" if bool(ok) else "fails", note)


def differs(statement: str, source: str, expected: str, measured: Any, note: str, *,
            tolerance: str = "-") -> Claim:
    """The paper's statement as printed does not hold; ``note`` says why."""
    return Claim(statement, source, expected, measured, tolerance, "differs", note)


def offline(statement: str, source: str, expected: str, substitute: str, *,
            measured: Any = None, note: str = "") -> Claim:
    """The claim needs something unavailable offline; ``substitute`` was checked instead."""
    return Claim(statement, source, expected, measured, "-", "offline", note, substitute)
