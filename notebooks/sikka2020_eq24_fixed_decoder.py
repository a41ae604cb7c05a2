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
# # Fixed decoder (Sikka 2020, eq 24)
#
# With the decoder fixed to the generative process, $D = A$, only the encoder is trained.
# From eqs 36, 40, 41 its β-optimum is the ridge encoder
# $W^\mu = (A^\top A + \beta I)^{-1}A^\top$, $W^\sigma = 0$,
# $\sigma_i^2 = \beta/([A^\top A]_{ii}+\beta)$ (`linear_models.linear_vae.fixed_decoder_optimum`).
# Since $\log p_\theta(x)$ no longer depends on β, $\mathrm{MIE}(\beta) = \log p_\theta(x) - \mathrm{ELBO}^*(\beta)$
# (eq 24) is minimal where the ELBO is maximal: at β = 1. Here MIE = TIE (model posterior =
# ground-truth posterior, eq 28), and its minimum is not zero: the mean-field q cannot
# represent the correlated posterior $(A^\top A + I)^{-1}$.

# %%
from betalab.registry import StudyConfig
from betalab.studies.sikka2020.eq24_fixed_decoder import fixed_decoder

result = fixed_decoder(StudyConfig())  # study "linear-vae-fixed-decoder"
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}: {c.measured}")

# %%
result.figures["fixed_decoder"]
