"""ica-overcomplete (Stühmer et al. 2020, Fig 1, App. B.7–B.9) runs in quick mode, makes every claim,
and its numbers agree with the library."""

import numpy as np
import pytest

from betalab.registry import StudyConfig, get
from linear_models import ica


@pytest.fixture(scope="module")
def fig1():
    return get("ica-overcomplete")(StudyConfig(seed=0))


def test_fig1_claims_hold_or_fail_to_reproduce_with_note(fig1, check_claims):
    # Fig 1b (β = 1 keeps all three components) fails to reproduce in the settings tried (the
    # paper's N, W and ψ are unstated): a reproduction failure, not an erratum
    check_claims("ica-overcomplete", fig1.claims,
                 expected_failures=("β = 1 (VI) keeps all three components",))
    verdicts = [c.verdict for c in fig1.claims]
    assert verdicts.count("differs") == 0 and len(fig1.claims) >= 12
    failed = next(c for c in fig1.claims if c.verdict == "fails")
    assert "unstated" in failed.note and "settings substituted" in failed.statement
    assert set(fig1.figures) == {"fig1", "trajectory"}


def test_fig1_numbers_are_consistent(fig1):
    """F_start is max_q F at the truth and F_end the free energy of the reported solution."""
    n = fig1.numbers
    for tag in ("beta1", "beta5"):
        assert n[tag]["F_end"] > n[tag]["F_start"]
        norms = np.asarray(n[tag]["norms"])
        assert np.isclose(norms, ica.column_norms(np.asarray(n[tag]["W"]))).all()
    # the pruned component's posterior is the Gaussian closest to the prior: s* solves
    # d/ds [log s + E log t(z)] = 0; check against a central finite difference of that objective
    s = n["s_star"]
    h = 1e-5
    g = lambda v: np.log(v) + ica.expected_log_prior(0.0, v, 3.5, 1.0)  # noqa: E731
    assert abs((g(s + h) - g(s - h)) / (2 * h)) < 1e-6


def _title_overlaps(fig) -> list[str]:
    """The panel titles that the figure's suptitle covers once drawn (as saved: Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    sup = fig._suptitle.get_window_extent(renderer)
    return [ax.get_title() for ax in fig.get_axes()
            if ax.get_title() and sup.overlaps(ax.title.get_window_extent(renderer))]


def test_the_fig1_suptitle_clears_the_panel_titles(fig1):
    assert _title_overlaps(fig1.figures["fig1"]) == []
