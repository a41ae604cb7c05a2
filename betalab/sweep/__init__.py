"""Grids of runs: spec → run configs with stable ids (:mod:`.spec`), one ensemble per task on
Ray (:mod:`.driver`, the only module that imports ray; the task itself is :mod:`.work`), the
SQLite results store (:mod:`.store`; readers: :mod:`betalab.results`) and the standard views
(:mod:`.views`)."""

from betalab.sweep.spec import Sweep, load_spec, parse_spec

__all__ = ["Sweep", "load_spec", "parse_spec"]
