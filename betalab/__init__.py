"""betalab: the studies, the claims report, the command line and training runs.

The math lives in three packages beside this one — :mod:`theory` (sympy derivations and
numpy/scipy closed forms), :mod:`linear_models` (solvers for the linear models) and :mod:`deep`
(torch models, priors, metrics, procedural data). ``betalab`` is the only package that writes
files:

:mod:`betalab.registry`   the studies: one toy figure of one paper each, ``f(StudyConfig) -> StudyResult``
:mod:`betalab.claims`     claims and their verdicts, decided by a comparison (``close``, ``relation``, ...)
:mod:`betalab.runner`     run studies, keep their results, write the report (:mod:`betalab.report`)
:mod:`betalab.coverage`   which items of each paper the claims cover (the ledger: :mod:`betalab.ledger`)
:mod:`betalab.train`      ``betalab train``: checkpoints, exact resume, curves; :func:`load_run`
:mod:`betalab.sweep`      grids of training runs on Ray with a SQLite store (:mod:`betalab.results`)
:mod:`betalab.cli`        the ``betalab`` command

From Python::

    from betalab.registry import get, StudyConfig
    result = get("fa-pruning")(StudyConfig(seed=0))     # numbers, figures, claims
    from betalab import load_run
    model, config = load_run("runs/NAME")              # a model trained by `betalab train`
"""

from __future__ import annotations

__all__ = ["__version__", "load_run"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("betalab")
    except PackageNotFoundError:      # run from a source tree that was never installed
        return "0+unknown"


__version__ = _version()


def load_run(path, device: str = "cpu"):
    """The trained model of a ``betalab train`` run (eval mode) and its configuration:
    ``model, config = load_run("runs/NAME")``. See :func:`betalab.train.rundir.load_run`."""
    from betalab.train import load_run as _load_run

    return _load_run(path, device)
