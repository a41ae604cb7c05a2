"""lp-nested-fig2 (Stühmer et al. 2020, sec. 3.2, eqs 6 and 8, Fig. 2) runs in quick mode with no
failing claim, and its volumes agree with eq 8."""

import math

import matplotlib.pyplot as plt
import pytest

from betalab.registry import StudyConfig, get


@pytest.fixture(scope="module")
def result():
    yield get("lp-nested-fig2")(StudyConfig(seed=1))
    plt.close("all")


def test_no_claim_fails_and_differs_have_corrections(result, check_claims):
    check_claims("lp-nested-fig2", result.claims)
    assert result.figures


def test_fig2_volumes_against_eq8(result):
    vols = result.numbers["volumes"]
    assert len(vols) == 9
    v = vols["p0=2,p1=2"]
    assert v["eq8_volume"] == pytest.approx(4 * math.pi / 3, rel=1e-13)      # the unit ball
    assert abs(v["mc_volume"] - v["eq8_volume"]) < 4 * v["mc_se"]
