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
# # Non-uniqueness of latent-variable models: prior-preserving mixing transforms
# *Kumar & Poole 2020, App. A; study `kp-nonuniqueness`.*
#
# For a factorised prior $p(z) = \prod_i p_i(z_i)$ the construction of Locatello et al.
# (2019) maps z to uniforms $u_i = F_i(z_i)$, then to standard normals $n_i = \Phi^{-1}(u_i)$
# (the paper writes $\psi^{-1}(z_i)$, a typo), rotates them with an orthogonal U and maps back:
# $r = F^{-1}\circ\Phi\circ U\circ\Phi^{-1}\circ F$. Because n is spherically symmetric,
# $r\#p = p$: the prior, and hence $p(x)$, is unchanged, while the latents are mixed.
#
# For correlated priors the first step uses the conditional c.d.f.s
# $u_i = F_{i|1..i-1}(z_i | z_{<i})$ (the Darmois construction), implemented here for a
# bivariate Student-t prior.
#
# **Erratum.** The paper states $|\det J_r(z)| = 1$. The chain rule gives
# $J_r = \mathrm{diag}(\phi(n')/p(r))\,U\,\mathrm{diag}(p(z)/\phi(n))$ with $\|n'\| = \|n\|$, so
# $|\det J_r(z)| = p(z)/p(r(z))$ — 1 only for the Gaussian prior. What the argument of eq 1
# needs is the invariance $r\#p = p$, which holds.

# %%
from betalab.registry import StudyConfig
from betalab.studies.kumar_poole2020.app_a_nonuniqueness import nonuniqueness

result = nonuniqueness(StudyConfig())  # study "kp-nonuniqueness"
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}: measured {c.measured}")

# %%
result.figures["mixing"]
