# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Over-complete factor analysis: VI prunes the extra latent (Stühmer et al. 2020, App. B.4)
#
# Eq 17: $x = \frac{\alpha}{\sqrt2}(1,1)^\top z_1 + \frac{\beta'}{\sqrt2}(1,1)^\top z_2
# + \frac{\rho}{\sqrt2}(1,-1)^\top z_3 + \epsilon$ with $\alpha^2 + \beta'^2 = 1$
# (the paper calls $\beta'$ "$\beta$"; renamed here to avoid the clash with β-VI).
# All $\alpha$ give the same $WW^\top$, hence the same likelihood; the data are built so this
# covariance is the ML one. The columns of $W$ for $z_1, z_2$ are parallel, so
# $W^\top\Psi^{-1}W$ is diagonal only at $\alpha = 0$ (or $\beta' = 0$): there the mean-field
# bound is tight and the pruned latent's posterior is its prior.

# %%
from betalab.registry import StudyConfig
from betalab.studies.stuhmer2020.app_b4_fa_pruning import pruning_study

result = pruning_study(StudyConfig(seed=0))  # study "fa-pruning"
result.figures["pruning"]

# %%
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}: measured {c.measured}")
