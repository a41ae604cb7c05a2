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
# # The linear β-VAE of Sikka (2020): Fig 3
#
# Data $x = As + \eta$, $s\sim\mathcal N(0,I_k)$, $\eta\sim\mathcal N(0,I_N)$ (eq 26), so
# $x\sim\mathcal N(0,\Sigma_x)$, $\Sigma_x = AA^\top + I_N$ (eq 27). Encoder
# $\mu_z = W^\mu x + b^\mu$, $\Sigma_z = \mathrm{diag}\,e^{W^\sigma x + b^\sigma}$ (eqs 29–30),
# decoder $\mathcal N(Dz + b^D, I_N)$ (eq 32).
#
# Averaging the β-objective (eq 33) over the data gives eq 34 (App. 1; derived with sympy in
# `theory.linear_vae.derive_averaged_objective`, constants restored). Its stationary points
# (eq 43) have a closed-form global maximum, `linear_models.linear_vae.optimum`: with
# $\Sigma_x = U\Lambda U^\top$,
#
# $$D = U_k\,\mathrm{diag}\sqrt{(\lambda_i-\beta)_+},\quad W^\mu = \mathrm{diag}\frac{\sqrt{(\lambda_i-\beta)_+}}{\max(\lambda_i,\beta)}U_k^\top,\quad
# \sigma_i^2 = \frac{\beta}{\max(\lambda_i,\beta)},\quad W^\sigma = 0,$$
#
# probabilistic PCA with noise β; latent $i$ collapses for $\beta\ge\lambda_i$. At the thesis
# setting ($N=128$, $k=2$, $A_{ij}=\tfrac12(1+\delta_{ij})$) the thresholds are
# $\lambda_1 = 66.25$ and $\lambda_2 = 1.25$.
#
# MIE and TIE (eqs 4–5) use eq 45 **corrected**: $(E^{-1})_{ii}$, not $E_{ii}^{-1}$; the model
# posterior is eq 44 (App. 5 prints $p(x|z)$ with $N\times N$ matrices). TIE depends on how
# the model's latent axes (defined up to sign and permutation) are matched to the sources.

# %%
from betalab.registry import StudyConfig
from betalab.studies.sikka2020.fig3_linear_vae import fig3

result = fig3(StudyConfig())  # study "linear-vae-fig3"
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}: {c.measured}")

# %%
result.figures["fig3"]
