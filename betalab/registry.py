"""The study registry.

A *study* reproduces one toy figure or table of one paper. It is a plain
function ``f(config: StudyConfig) -> StudyResult`` decorated with
:func:`study`. Every module in :mod:`betalab.studies` and its per-paper packages is imported
by :func:`all_studies`, so adding a study means adding one module there (and a
notebook in ``notebooks/``); nothing else needs editing.

The study function computes; it never writes files. Writing (figures, JSON,
the report) is done by :mod:`betalab.runner`.

A study declares its main knobs (N, σ², the β grid, ...) as :class:`Param` entries; a caller
overrides them with ``StudyConfig(params={...})`` and an unknown or invalid value raises before
anything runs. Calling a study closes the pyplot figures it made: they stay usable as objects
(``result.figures[...]``, ``savefig``) but a notebook does not display them a second time.

With the environment variable ``BETALAB_CACHE`` set to a directory, a study called without
``StudyConfig.partial`` keeps its resumable pieces (trained models' numbers) there, under
``<study>/<scale>-seed<seed>-<device>/``, and a later call with the same settings loads them
instead of training again: a notebook re-run, or a kernel restarted, takes seconds. Each piece is
reused only when its signature (the settings that determine it) matches.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import numbers
import os
import pkgutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from betalab.claims import Claim

__all__ = ["SCALES", "Param", "StudyConfig", "StudyResult", "Study", "study", "all_studies",
           "get", "grid", "integer", "notebook_path", "real"]

SCALES = ("quick", "cpu", "full")

#: the environment variable naming a directory where studies keep their pieces between calls
CACHE_ENV = "BETALAB_CACHE"


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
    params : mapping of str to value
        Overrides of the study's declared knobs (``Study.params``: name -> :class:`Param`), e.g.
        ``{"betas": [0.5, 1, 2], "n": 500}``; empty (default) runs the study's own values for
        ``scale``. Checked when the study is called: an unknown name raises ValueError listing
        the valid ones.
    """

    full: bool = False
    seed: int = 0
    device: str = "auto"
    partial: Any = field(default=None, compare=False, repr=False)
    scale: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def piece(self, key: str, signature: dict, compute):
        """A resumable piece of a long study: the stored result ``key`` of :attr:`partial` when
        its ``signature`` matches, otherwise ``compute()``, stored there before it is returned
        (:meth:`betalab.io.PartialResults.fetch`: processes sharing the directory compute it
        once); computed every time when the study runs without ``partial``."""
        if self.partial is None:
            return compute()
        from deep.data.dsprites import CACHE_VERSION

        # a piece computed on another dSprites renderer measured other images: never reused
        return self.partial.fetch(key, {**signature, "dsprites renderer": CACHE_VERSION}, compute)

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
        if not isinstance(self.params, Mapping):
            raise TypeError(f"params must be a mapping of parameter names to values, got "
                            f"{type(self.params).__name__}")
        for key in self.params:
            if not isinstance(key, str):
                raise TypeError(f"params keys must be str, got {key!r}")
        object.__setattr__(self, "params", dict(self.params))

    def param(self, name: str, default: Any) -> Any:
        """The override of the study's knob ``name`` if ``params`` has one, else ``default``."""
        return self.params.get(name, default)

    def rng(self, stream: int = 0):
        """A fresh generator for an independent random stream of this study."""
        import numpy as np

        return np.random.default_rng([self.seed, stream])


@dataclass(frozen=True)
class Param:
    """A knob of a study that ``StudyConfig.params`` may override.

    doc : str
        What it is, with the paper's symbol and the default per scale (shown in notebooks).
    check : callable ``(name, value) -> value``
        Validates a value and returns it normalised (e.g. a float array); raises ValueError or
        TypeError naming ``name``. Use :func:`integer`, :func:`real` or :func:`grid`.
    """

    doc: str
    check: Callable[[str, Any], Any]


def integer(lo: int = 1, hi: int | None = None) -> Callable[[str, Any], int]:
    """Check for an int in [lo, hi]."""

    def check(name, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < lo or (hi is not None and value > hi):
            bound = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
            raise ValueError(f"{name} must be an int {bound}, got {value!r}")
        return int(value)

    return check


def real(lo: float = 0.0, hi: float = float("inf"), *, open_lo: bool = True) -> Callable[[str, Any], float]:
    """Check for a finite real in (lo, hi] (or [lo, hi] with ``open_lo=False``)."""

    def check(name, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
        v = float(value)
        below = v <= lo if open_lo else v < lo
        if v != v or below or v > hi or v in (float("inf"), float("-inf")):
            raise ValueError(f"{name} must be finite and in {'(' if open_lo else '['}{lo:g}, {hi:g}], "
                             f"got {value!r}")
        return v

    return check


def grid(min_len: int = 2, *, lo: float = 0.0, contains: tuple[float, ...] = ()) -> Callable[[str, Any], Any]:
    """Check for a strictly increasing grid of finite reals > lo, at least ``min_len`` long and
    holding every value of ``contains`` (those a study's claims are about); returns a tuple of
    floats (hashable and comparable, unlike an array)."""

    def check(name, value):
        import numpy as np

        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__len__"):
            raise TypeError(f"{name} must be a sequence of numbers, got {type(value).__name__}")
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a sequence of numbers, got {value!r}") from None
        if arr.ndim != 1 or arr.size < min_len:
            raise ValueError(f"{name} must be a 1-d sequence of at least {min_len} numbers, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)) or np.any(arr <= lo):
            raise ValueError(f"{name} must hold finite numbers > {lo:g}, got {arr.tolist()}")
        if np.any(np.diff(arr) <= 0):
            raise ValueError(f"{name} must be strictly increasing, got {arr.tolist()}")
        missing = [c for c in contains if not np.any(np.isclose(arr, c, rtol=0, atol=1e-12))]
        if missing:
            raise ValueError(f"{name} must contain {missing} (the claims are about these values), "
                             f"got {arr.tolist()}")
        return tuple(arr.tolist())

    return check


def check_params(study_name: str, declared: Mapping[str, Param], given: Mapping[str, Any]) -> dict:
    """Validate ``given`` overrides against a study's ``declared`` knobs; return them normalised."""
    out = {}
    for key, value in given.items():
        if key not in declared:
            valid = ", ".join(sorted(declared)) or "none (this study has no overridable parameters)"
            raise ValueError(f"unknown parameter {key!r} for study {study_name!r}; valid: {valid}")
        out[key] = declared[key].check(key, value)
    return out


@contextlib.contextmanager
def _new_figures_closed():
    """Close the pyplot figures made inside the block (the objects stay usable).

    A figure left open is displayed automatically at the end of a notebook cell; the study's
    figures are shown through ``result.figures`` instead, so each appears once."""
    plt = sys.modules.get("matplotlib.pyplot")
    before = set(plt.get_fignums()) if plt is not None else set()
    try:
        yield
    finally:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:
            for num in set(plt.get_fignums()) - before:
                plt.close(num)


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
    #: the knobs ``StudyConfig.params`` may override, name -> :class:`Param`
    params: Mapping[str, Param] = field(default_factory=dict)

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


def _writable_dir(path: Path) -> bool:
    """Whether ``path`` is (or can be made) a directory this process can write a file in; if
    not, one line on standard error says the study runs without its cache (``BETALAB_CACHE``
    unusable: a file in the way, a read-only disk, no permission), instead of an OSError."""
    import sys
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
        return True
    except OSError as err:
        print(f"betalab: {CACHE_ENV}: cannot write in {path} ({err.strerror or err}); "
              "running without the study cache", file=sys.stderr, flush=True)
        return False


def study(name: str, *, title: str, paper: str, source: str, notebook: str = "",
          recheck: Callable | None = None, params: Mapping[str, Param] | None = None):
    """Register ``func`` as the study ``name`` (e.g. ``"fa-rotation"``).

    The registered (and returned) function checks ``config.params`` against ``params`` before
    calling ``func`` with the normalised values, and closes the pyplot figures ``func`` made."""
    declared = dict(params or {})
    for key, p in declared.items():
        if not isinstance(p, Param):
            raise TypeError(f"params[{key!r}] of study {name!r} must be a Param, got {type(p).__name__}")

    def decorator(func):
        if name in _REGISTRY and _REGISTRY[name].func.__wrapped__ is not func:
            raise ValueError(f"study name {name!r} registered twice")

        @functools.wraps(func)
        def run(config: StudyConfig | None = None) -> StudyResult:
            config = StudyConfig() if config is None else config
            if not isinstance(config, StudyConfig):
                raise TypeError(f"config must be a StudyConfig, got {type(config).__name__}")
            config = replace(config, params=check_params(name, declared, config.params))
            cache = os.environ.get(CACHE_ENV)
            if config.partial is None and cache:
                from betalab.io import PartialResults

                where = Path(cache) / name / f"{config.scale}-seed{config.seed}-{config.device}"
                if _writable_dir(where):
                    config = replace(config, partial=PartialResults(where))
            with _new_figures_closed():
                return func(config)

        run.params = declared
        _REGISTRY[name] = Study(name, title, paper, source, run, notebook, recheck, declared)
        return run

    return decorator


def all_studies() -> dict[str, Study]:
    """Import every module of :mod:`betalab.studies`, its per-paper packages included, and return
    the registry, sorted."""
    import betalab.studies as pkg

    for mod in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}."):
        importlib.import_module(mod.name)
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> Study:
    studies = all_studies()
    if name not in studies:
        raise ValueError(f"unknown study {name!r}; known: {', '.join(studies)}")
    return studies[name]


def notebook_path(s: Study) -> Path | None:
    root = Path(__file__).resolve().parent.parent / "notebooks"
    return root / s.notebook if s.notebook else None
