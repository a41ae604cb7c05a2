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
# # The ISA prior breaks rotation symmetry (Stühmer et al. 2020, sec. 3.2, eqs 7–11)
#
# With the radial law of eq 11 the $L_p$-nested density (eq 7) is
# $\log p(z) = c - f(z)^{p_0}/s$, and for the ISA tree of eq 9 it factorises over subspaces.
# For a rotation $R$ and samples $z \sim p$,
#
# $$ E_p[\log p(Rz) - \log p(z)] = -\mathrm{KL}(p \,\|\, p\circ R) \le 0, $$
#
# zero iff $p$ is invariant under $R$ ($R$ preserves volume, so $p\circ R$ is a density).
# The study measures it for the dSprites layout ($l_0 = 5$, $l_i = 4$, $p_0 = 2.1$,
# $p_i = 2.2$), rotating within a subspace and across two subspaces, next to the
# standard normal (all exponents 2, $s = 2$) and the factorial prior with all exponents 2.1.

# %%
from betalab.registry import StudyConfig
from betalab.studies.stuhmer2020.sec4_symmetry_breaking import symmetry  # study "isa-symmetry-breaking"

result = symmetry(StudyConfig())
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}: {c.measured}")

# %%
result.figures["symmetry_breaking"]
