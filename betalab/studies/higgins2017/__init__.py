"""Higgins et al., *β-VAE: Learning Basic Visual Concepts with a Constrained Variational
Framework* (ICLR 2017).

One module per figure, table or section the studies reproduce, in the paper's order:

=========================  ====================================  =======================
module                     reproduces                            study
=========================  ====================================  =======================
``sec2_objective``         sec. 2, eqs 1–4: the β-VAE objective  (in the quick study)
``sec4_2_dsprites_quick``  sec. 4.2: a β-VAE on 2D shapes        dsprites-beta-vae-quick
``fig5_left``              Fig. 5 (left): the metric table       higgins-fig5-table
``fig5_left_trained``      Fig. 5 (left): trained rows           (in higgins-fig5-table)
``fig5_right``             Fig. 5 (right), App. A.5              (in higgins-fig5-table)
``fig6``                   sec. 4.2, Fig. 6                      (in higgins-fig5-table)
``app_a4_pca_variance``    App. A.4: PCA-10's variance           (in higgins-fig5-table)
``app_table1``             App. Table 1: architectures           (in higgins-fig5-table)
=========================  ====================================  =======================

Shared by several of them: ``_shared`` (the printed table, the sweep specs and their costs) and
``_gpu_sweeps`` (the recorded GPU sweeps, read and gated by renderer and convergence).
"""
