"""Sikka, *A Deeper Look at the Unsupervised Learning of Disentangled Representations in β-VAE*
(Harvard thesis 2020; see also Sikka, Zhong, Yin & Pehlevan, arXiv 1912.05127).

One module per figure or group of equations the studies reproduce, in the thesis' order:

============================  =========================================  =========================
module                        reproduces                                 study
============================  =========================================  =========================
``eqs15_23_propositions``     eqs 15–23, App. 3: the propositions on β   linear-vae-propositions
``eq24_fixed_decoder``        eq 24: the decoder fixed at D = A          linear-vae-fixed-decoder
``fig3_linear_vae``           Fig 3, eqs 26–47: the linear β-VAE         linear-vae-fig3
``tie_family``                eqs 5, 26–28, 45–46 (beyond the thesis)    linear-vae-tie-family
``fig4_mixed_digits``         Results, Fig 4: deep β-VAE, mixed digits   sikka-fig4
``fig5_placed_digit``         Results, Fig 5: deep β-VAE, placed digit   sikka-fig5
============================  =========================================  =========================

Shared by several of them: ``_shared`` (the thesis' linear setting), ``_deep`` (the deep studies'
settings, data and training), ``_deep_claims`` (their claims from numbers alone) and
``_deep_figures`` (their curves against β).
"""
