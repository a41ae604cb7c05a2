"""linear-vae-tie-family (betalab.studies.sikka2020.tie_family) runs in quick mode and keeps the
claims contract."""

import matplotlib.pyplot as plt

from betalab.registry import StudyConfig, get


def test_linear_vae_tie_family_claims(check_claims):
    res = get("linear-vae-tie-family")(StudyConfig(seed=0))
    plt.close("all")
    check_claims("linear-vae-tie-family", res.claims)
