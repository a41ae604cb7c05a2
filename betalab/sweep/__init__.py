"""Grids of runs: spec → run configs with stable ids (:mod:`betalab.sweep.spec`), one ensemble
per task on Ray (:mod:`betalab.sweep.driver`, the only module that imports ray; the task itself
is :mod:`betalab.sweep.work`), the SQLite results store (:mod:`betalab.sweep.store`; readers:
:mod:`betalab.results`) and the standard views (:mod:`betalab.sweep.views`)."""

from betalab.sweep.spec import Sweep, load_spec, parse_spec

__all__ = ["Sweep", "load_spec", "parse_spec"]
