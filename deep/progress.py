"""Progress bars that only a terminal sees.

Every long loop of betalab reports through :func:`bar`: a tqdm bar when standard error is a
terminal, nothing when it is a log file or a pipe (a bar there is a stream of carriage returns),
when the caller asks for quiet, or when ``TQDM_DISABLE`` is set. tqdm alone would let a caller's
``disable=False`` show the bar in a log: the decision is made here, once.
"""

from __future__ import annotations

__all__ = ["bar", "shown"]

import os
import sys


def shown(show: bool = True) -> bool:
    """Whether a bar would be drawn: ``show``, standard error a terminal, TQDM_DISABLE unset."""
    off = os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no")
    return bool(show) and not off and sys.stderr.isatty()


def bar(iterable=None, *, show: bool = True, **kwargs):
    """``tqdm(iterable, **kwargs)``, disabled unless :func:`shown`."""
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=not shown(show), **kwargs)
