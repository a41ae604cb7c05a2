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
# # Leptokurtic vs platykurtic priors (Stühmer et al. 2020, sec. 3.1, eq 5, Fig. 3)
#
# The generalised Gaussian prior of eq 5, $p(z) \propto \exp(-\tau \|z\|_p^p)$, with
# $p = 2/(1+\kappa)$. Encode the $(x, y)$ position of a sprite, uniform on a square, by a
# rotation $z = R_\theta (x, y)$. The expected log-prior is
# $c - \tau\,E[|z_1|^p + |z_2|^p]$, and for $a = |\cos\theta|$, $b = |\sin\theta|$,
# $H(u) = u^{p+2}/((p+1)(p+2))$, integrating twice gives
#
# $$ E|a x + b y|^p = \frac{H(a+b) - H(|a-b|)}{2ab}. $$
#
# **Claims**: maximum at 45° (diagonal) for $p<2$, at 0° (axis aligned) for $p>2$; flat at $p=2$.
# We also check what $\kappa$ is: not the excess kurtosis (the Laplacian has $\kappa=1$ but excess
# kurtosis 3) but Box & Tiao's shape parameter, monotone in it with the same sign.

# %%
from betalab.registry import StudyConfig
from betalab.studies.stuhmer2020.fig3_priors import fig3  # study "lp-nested-fig3"

result = fig3(StudyConfig())
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}: {c.measured}")

# %%
result.figures["fig3_rotated_square"]

# %%
result.figures["kappa_vs_kurtosis"]
