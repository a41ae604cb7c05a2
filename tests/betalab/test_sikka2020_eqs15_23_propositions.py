"""linear-vae-propositions (betalab.studies.sikka2020.eqs15_23_propositions)
runs in quick mode and keeps the claims contract."""

import matplotlib.pyplot as plt

from betalab.registry import StudyConfig, get


def test_linear_vae_propositions_claims(check_claims):
    res = get("linear-vae-propositions")(StudyConfig(seed=0))
    plt.close("all")
    check_claims("linear-vae-propositions", res.claims)
