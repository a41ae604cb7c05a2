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
# # Propositions on β (Sikka 2020, eqs 15–23, App. 3)
#
# With $\mathcal L^*(\beta) = \max_{\theta,\phi}\,\mathbb E_q\log p_\theta(x|z) - \beta\,\mathrm{KL}(q\|p)$
# (eq 15), the envelope theorem gives $d\mathcal L^*/d\beta = -\mathrm{KL}^*\le 0$ (eqs 16–17);
# App. 3 shows $\mathrm{KL}^*$ is non-increasing (eq 18), hence the reconstruction too (eq 19),
# and $\mathrm{ELBO}^* = \mathcal L^* - (1-\beta)\mathrm{KL}^*$ (eq 21) is maximal at β = 1.
#
# For the linear β-VAE the closed form gives $\mathrm{KL}^* = \tfrac12\sum_{i\le k}\log\frac{\max(\lambda_i,\beta)}{\beta}$
# and $\mathrm{rec}^* = -\tfrac N2\log2\pi - \tfrac12[\sum_{i\le k}\min(\lambda_i,\beta) + \sum_{i>k}\lambda_i]$.
# The study checks the propositions on (1) that closed form with finite differences, (2) the
# numerical solutions of eq 43, and (3) factor analysis with a fixed decoder
# (`linear_models.factor_analysis`, mean-field q optimal per β).

# %%
from betalab.registry import StudyConfig
from betalab.studies.sikka2020.eqs15_23_propositions import propositions

result = propositions(StudyConfig())  # study "linear-vae-propositions"
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}: {c.measured}")

# %%
result.figures["propositions"]
