"""isa-symmetry-breaking (Stühmer et al. 2020, secs 3.2 and 4, eqs 7–11) runs in quick mode with no
failing claim, and every difference has its correction."""

import matplotlib.pyplot as plt

from betalab.registry import StudyConfig, get


def test_no_claim_fails_and_differs_have_corrections(check_claims):
    res = get("isa-symmetry-breaking")(StudyConfig(seed=1))
    check_claims("isa-symmetry-breaking", res.claims)
    assert res.figures
    plt.close("all")
