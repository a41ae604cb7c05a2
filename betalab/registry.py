"""The study registry.

A *study* reproduces one toy figure or table of one paper. It is a plain
function ``f(config: StudyConfig) -> StudyResult`` decorated with
:func:`study`. Every module in :mod:`betalab.studies` is imported by
:func:`all_studies`, so adding a study means adding one module there (and a
notebook in ``notebooks/``); nothing else needs editing.

The study function computes; it never writes files. Writing (figures, JSON,
the report) is done by :mod:`betalab.runner`.
"""

from __future__ import annotations

__all__ = ["SCALES", "StudyConfig", "StudyResult", "Study", "study", "all_studies",
           "get", "notebook_path"]

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from betalab.claims import Claim


SCALES = ("quick", "cpu", "full")


@dataclass(frozen=True)
class StudyConfig:
    """What every study accepts.

    full : bool
        False (default) runs the quick CPU configuration; True the paper-size one.
    scale : str or None
        ``"quick"`` (part of ``make reproduce``, about a minute), ``"cpu"`` (a configuration that
        decides a deep study's claims on 2 CPU cores within an hour or two) or ``"full"`` (the
        paper's configuration, for a GPU); None (default) means ``"full" if full else "quick"``.
        Studies without a cpu configuration run their quick one at ``"cpu"``.
    seed : int
        Seed of every random number the study draws (``np.random.default_rng(seed)``).
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``...: used only by studies running torch models.
    partial : betalab.io.PartialResults or None
        Where long studies keep finished pieces so an interrupted run can resume; set by the
        runner (not part of the configuration that identifies a result).
    """

    full: bool = False
    seed: int = 0
    device: str = "auto"
    partial: Any = field(default=None, compare=False, repr=False)
    scale: str | None = None

    def __post_init__(self):
        if not isinstance(self.full, bool):
            raise TypeError(f"full must be a bool, got {type(self.full).__name__}")
        if self.scale is None:
            object.__setattr__(self, "scale", "full" if self.full is True else "quick")
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, got {self.scale!r}")
        if self.full is True and self.scale != "full":
            raise ValueError(f"full=True contradicts scale={self.scale!r}")
        object.__setattr__(self, "full", self.scale == "full")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")
        if not isinstance(self.full, bool):
            raise TypeError(f"full must be a bool, got {type(self.full).__name__}")

    def rng(self, stream: int = 0):
        """A fresh generator for an independent random stream of this study."""
        import numpy as np

        return np.random.default_rng([self.seed, stream])


@dataclass
class StudyResult:
    """What a study returns: numbers (JSON-able), figures (matplotlib) and claims."""

    numbers: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    paper: str
    source: str
    func: Callable[[StudyConfig], StudyResult]
    notebook: str = ""
    #: claims from a study's numbers alone, ``recheck(numbers, seed) -> [Claim]``: lets the
    #: verdicts of a recorded run (``recorded/``) be re-derived from its recorded numbers
    recheck: Callable | None = None

    def __call__(self, config: StudyConfig | None = None) -> StudyResult:
        config = StudyConfig() if config is None else config
        result = self.func(config)
        if not isinstance(result, StudyResult):
            raise TypeError(f"study {self.name!r} returned {type(result).__name__}, not StudyResult")
        for c in result.claims:
            if not isinstance(c, Claim):
                raise TypeError(f"study {self.name!r} returned a claim of type {type(c).__name__}")
        result.claims = [c.with_study(self.name) for c in result.claims]
        return result


_REGISTRY: dict[str, Study] = {}


def study(name: str, *, title: str, paper: str, source: str, notebook: str = "",
          recheck: Callable | None = None):
    """Register ``func`` as the study ``name`` (e.g. ``"fa-rotation"``)."""

    def decorator(func):
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ValueError(f"study name {name!r} registered twice")
        _REGISTRY[name] = Study(name, title, paper, source, func, notebook, recheck)
        return func

    return decorator


def all_studies() -> dict[str, Study]:
    """Import every module of :mod:`betalab.studies` and return the registry, sorted."""
    import betalab.studies as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{mod.name}")
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> Study:
    studies = all_studies()
    if name not in studies:
        raise ValueError(f"unknown study {name!r}; known: {', '.join(studies)}")
    return studies[name]


def notebook_path(s: Study) -> Path | None:
    root = Path(__file__).resolve().parent.parent / "notebooks"
    return root / s.notebook if s.notebook else None
