"""linear-vae-fixed-decoder (betalab.studies.sikka2020.eq24_fixed_decoder)
runs in quick mode and keeps the claims contract."""

import matplotlib.pyplot as plt

from betalab.registry import StudyConfig, get


def test_linear_vae_fixed_decoder_claims(check_claims):
    res = get("linear-vae-fixed-decoder")(StudyConfig(seed=0))
    plt.close("all")
    check_claims("linear-vae-fixed-decoder", res.claims)
