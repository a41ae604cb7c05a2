"""deep.progress.bar: drawn on a terminal only, whatever the caller passes."""

import io
import sys

import pytest

from deep.progress import bar, shown


class _Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("tty, show, env, drawn", [
    (True, True, None, True),
    (True, False, None, False),       # the caller's quiet
    (True, True, "1", False),         # TQDM_DISABLE, as tqdm reads it
    (True, True, "0", True),
    (False, True, None, False),       # a log or a pipe: no carriage returns
])
def test_a_bar_is_drawn_only_on_a_terminal(monkeypatch, tty, show, env, drawn):
    err = _Tty() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    if env is None:
        monkeypatch.delenv("TQDM_DISABLE", raising=False)
    else:
        monkeypatch.setenv("TQDM_DISABLE", env)
    assert shown(show) is drawn
    items = list(bar(range(5), show=show, desc="loop", mininterval=0))
    assert items == list(range(5))                      # the iterable passes through unchanged
    assert ("loop" in err.getvalue()) is drawn
    assert ("\r" in err.getvalue()) is drawn
