"""What the studies of every paper share: the points along training at which a deep study
measures its deciding statistic. (Figures shared across papers live in :mod:`betalab.plot`; what
the studies of one paper share lives in that paper's package.)"""

from __future__ import annotations

#: the fractions of a run's steps at which its deciding statistic is measured along training
#: (betalab.claims.convergence: at least four points, the last at the end of training)
ALONG = (0.25, 0.5, 0.75, 1.0)


def along_steps(steps: int, fractions=ALONG) -> list[int]:
    """The step counts (updates done) at which a run of ``steps`` steps is evaluated along
    training: each fraction of ``steps``, rounded, at least 1; increasing, without repeats."""
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if any(not 0 < float(f) <= 1 for f in fractions):
        raise ValueError(f"fractions must lie in (0, 1], got {list(fractions)}")
    return sorted({max(1, round(float(f) * steps)) for f in fractions})
