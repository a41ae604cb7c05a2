"""Stühmer, Turner & Nowozin, *Independent Subspace Analysis for Unsupervised Learning of
Disentangled Representations* (AISTATS 2020, arXiv 1909.05063), with its appendix.

One module per figure, table or section the studies reproduce, in the paper's order:

=============================  ======================================  =========================
module                         reproduces                              study
=============================  ======================================  =========================
``fig1_ica_overcomplete``      sec. 2.4, Fig 1; App. B.7–B.9           ica-overcomplete
``fig2_lp_nested``             sec. 3.2, eqs 6 and 8, Fig. 2           lp-nested-fig2
``fig3_priors``                sec. 3.1, eq 5, Fig. 3                  lp-nested-fig3
``sec4_symmetry_breaking``     secs 3.2 and 4, eqs 7–11                isa-symmetry-breaking
``fig5a``                      sec. 4.1, Fig. 5a; App. A.5 bimodality  isa-vae-fig5a
``fig5b``                      sec. 4.1, Fig. 5b                       isa-vae-fig5b
``fig5b_sweeps``               Fig. 5b: the recorded cpu sweeps        (numbers of fig5b)
``app_a1_prior_samples``       App. A.1, Algorithm 1; sec. 4 layouts   isa-prior-samples
``app_a2_exponents``           App. A.2, Fig. 7                        isa-vae-exponents
``app_a3_table1``              App. A.3, Table 1; App. A.4             (checks of fig5b)
``app_a5_representatives``     App. A.5, Figs 8–16                     (part of fig5b)
``app_b3_fa_rotation``         App. B.3, eqs 14–16                     fa-rotation
``app_b4_fa_pruning``          App. B.4, eq 17                         fa-pruning
``app_b5_fa_beta``             App. B.5–B.6                            fa-beta
``app_b8_ica_beta_sweep``      sec. 2.4, App. B.8 (beyond two β)       ica-beta-sweep
=============================  ======================================  =========================

Shared by several of them (and by no other paper's studies): ``_dsprites_runs`` (one dSprites
VAE trained and scored), ``_learning_curves`` (the recorded curves that set the cpu lengths),
``_fa``, ``_ica`` and ``_lp_nested`` (the toy settings and citations).
"""
