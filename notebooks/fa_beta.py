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
# # β-VI in factor analysis: same directions, different amplitude (Stühmer et al. 2020, App. B.5)
#
# β-VI with $M = 1/\beta$ is VI on $M$ replicated observations (App. B.1): the β-posterior has
# precision $\tilde\Lambda = M W^\top\Psi^{-1}W + I$ and the free energy at the mean-field
# optimum is
# $\mathcal F_\beta = \beta\big[\sum_n\log\tilde Z(x_n) - N\,\mathrm{KL}(q^*\|\tilde p)\big]$,
# where $\tilde Z$ does not depend on the rotation. So the maximisers stay at $\theta = m\pi/2$
# for every β and only the amplitude $\beta N\,\mathrm{KL}$ changes. In the eq 16 normalisation
# ($\mathcal F_\beta/\beta$) the amplitude falls monotonically with β; in eq 13's it does not
# (see the claims).

# %%
from betalab.registry import StudyConfig
from betalab.studies.factor_analysis import beta_study

result = beta_study(StudyConfig(seed=0))  # study "fa-beta"
result.figures["beta"]

# %%
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}: measured {c.measured}")

# %% [markdown]
# ## Your own β grid
# The study declares its knobs; `StudyConfig(params=...)` overrides them (an unknown name or an
# invalid value, e.g. a decreasing grid, raises `ValueError` before anything runs).

# %%
from betalab.registry import get

for name, p in get("fa-beta").params.items():
    print(f"{name}: {p.doc}")

# %%
wide = beta_study(StudyConfig(params={"betas": [0.01, 0.1, 1.0, 10.0, 100.0], "n_theta": 181}))
print(f"amplitude (eq 16) per β: {[round(float(a), 4) for a in wide.numbers['amplitude_eq16']]}")
wide.figures["beta"]
