"""Kumar & Poole, *On Implicit Regularization in β-VAEs* (ICML 2020, arXiv 2002.00041).

One module per figure or section the studies reproduce, in the paper's order:

============================  ========================================  ==========================
module                        reproduces                                study
============================  ========================================  ==========================
``sec3_uniqueness``           sec. 3.2, App. C, Figs 1, 5, 6; sec. 3.1  kp-uniqueness
``sec4_posterior_jacobian``   secs 4–5, 7, eqs 3–14                     kp-posterior-jacobian
``sec4_eqs5_6_hessian``       sec. 4, eqs 5–6: the Hessian              (in kp-posterior-jacobian)
``sec5_known_decoder``        sec. 5, eq 11: a known decoder            (in kp-trained-jacobian)
``figs2_3_trained_jacobian``  Figs 2, 3, 7; App. D–E                    kp-trained-jacobian
``fig3_objectives``           Fig 3, App. F: the objectives             (in kp-trained-jacobian)
``sec7_sample_quality``       sec. 7, Fig. 4, Table 1, App. G           kp-sample-quality
``app_a_nonuniqueness``       App. A: prior-preserving mixing           kp-nonuniqueness
============================  ========================================  ==========================

Shared by several of them: ``_shared`` (the citation) and ``_trained_vae`` (the trained β-VAEs of
kp-trained-jacobian: training, folds, traces and the convergence gate).
"""
