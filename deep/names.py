"""The names the command line offers, importable without torch (``betalab --help`` and
``--version`` answer before torch loads)."""

__all__ = ["GRAE_OBJECTIVES", "ISA_OBJECTIVES", "OBJECTIVES", "OPTIMIZERS"]

#: the objectives ``build_objective`` accepts (:mod:`deep.models.objectives`)
OBJECTIVES = ("beta-vae", "beta-tcvae", "factor-vae", "isa-vae", "isa-tcvae", "grae", "grae-approx")
#: the deterministic objectives of Kumar & Poole 2020 (eq 13 and GRAE≈, eq 14)
GRAE_OBJECTIVES = ("grae", "grae-approx")
#: objectives whose model has an Lp-nested (ISA) prior; the others use N(0, I)
ISA_OBJECTIVES = ("isa-vae", "isa-tcvae")
#: the optimizers of the VAE's parameters: Adam (Stühmer et al. 2020, Table 1) and Adagrad
#: (Higgins et al. 2017, App. Table 1, "2D shapes (VAE): Adagrad, 1e-2")
OPTIMIZERS = ("adam", "adagrad")
