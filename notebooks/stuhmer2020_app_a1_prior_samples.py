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
# # Exact samples of the ISA prior (Stühmer et al. 2020, App. A.1, Algorithm 1)
#
# Algorithm 1 (Sinz & Bethge 2010): per inner node draw
# $s_i \sim \mathrm{Dir}[n_{i,1}/p_i, \dots, n_{i,l_i}/p_i]$, set $\tilde u_i = s_i^{1/p_i}$,
# descend from the root multiplying radii, normalise by $f$ (the $\mathrm{Beta}(n,1)$ radius of
# step 1 cancels), draw the radius from eq 11 ($f^{p_0}/s \sim \mathrm{Gamma}(n/p_0)$) and
# random signs. The study compares samples of the paper's layouts with the exact 1-D marginal
# (a 1-D quadrature, `theory.lp_nested.isa_leaf_marginal_logpdf`), the subspace-norm law
# $v_i^{p_0}/s \sim \mathrm{Gamma}(n_i/p_0)$ and the radial law.
#
# The torch prior used by the ISA-VAE (`deep.priors.LpNested`) shares the tree notation:

# %%
import torch

from betalab.registry import StudyConfig
from betalab.studies.stuhmer2020.app_a1_prior_samples import samples  # study "isa-prior-samples"
from deep.priors import LpNested, isa_tree

prior = LpNested(isa_tree(2.1, [(2.2, 4)] * 5), scale=1.0)
z = prior.sample((4,), generator=torch.Generator().manual_seed(0))
print(z.shape, prior.log_prob(z))

# %%
result = samples(StudyConfig())
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}: {c.measured}")

# %%
result.figures["isa_prior_samples"]
