"""lp-nested-fig3 (Stühmer et al. 2020, sec. 3.1, eq 5, Fig. 3) runs in quick mode with no failing
claim, and its maximisers and kurtosis agree with the closed forms."""

import matplotlib.pyplot as plt
import pytest

from betalab.registry import StudyConfig, get


@pytest.fixture(scope="module")
def result():
    yield get("lp-nested-fig3")(StudyConfig(seed=1))
    plt.close("all")


def test_no_claim_fails_and_differs_have_corrections(result, check_claims):
    check_claims("lp-nested-fig3", result.claims)
    assert result.figures


def test_fig3_argmax(result):
    am = result.numbers["argmax_deg"]
    assert am["1"] == 45.0 and am["4"] == 0.0
    assert result.numbers["excess_kurtosis_at_kappa1"] == pytest.approx(3.0)
