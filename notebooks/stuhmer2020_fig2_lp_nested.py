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
# # Lp-nested functions: iso-contours (Stühmer et al. 2020, Fig. 2, eqs 6 and 8)
#
# An $L_p$-nested function is a tree of $L_p$ norms (eq 6):
#
# $$ f(z) = \Big(|z_1|^{p_0} + \big(|z_2|^{p_1} + |z_3|^{p_1}\big)^{p_0/p_1}\Big)^{1/p_0}, $$
#
# written in betalab's tree notation as `(p0, [None, (p1, [None, None])])` (a leaf is `None`).
# The unit "sphere" $\{f = 1\}$ has the surface measure of eq 8 (Sinz & Bethge 2010),
#
# $$ S_f(1) = 2^n \prod_{i} \frac{\prod_{k=1}^{l_i} \Gamma[n_{i,k}/p_i]}{p_i^{l_i-1}\Gamma[n_i/p_i]}, $$
#
# defined by $\int g(f(z))\,dz = S_f(1)\int_0^\infty g(r) r^{n-1} dr$, so the unit ball has
# volume $S_f(1)/n$ — which the study checks by Monte Carlo. The printed eq 8 runs the inner
# product to $l_1$; the study shows that only $l_i$ normalises.

# %%
from betalab.registry import StudyConfig
from betalab.studies.stuhmer2020.fig2_lp_nested import fig2  # study "lp-nested-fig2"
from theory import lp_nested as L

tree = (2.0, [None, (9.0, [None, None])])
print("f at (0.6, 0.5, 0.5):", L.evaluate(tree, [0.6, 0.5, 0.5]), " log S_f(1):", L.log_surface_area(tree))

# %%
result = fig2(StudyConfig())
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}: {c.measured}")

# %%
result.figures["fig2_isocontours"]
