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
# # Beyond the thesis: the true inference error over a family of mixings
#
# Family: $A_{ij} = \delta_{ij}(1-m) + m$ (the thesis has $m = \tfrac12$), optionally with the
# second column scaled by a ratio $r$, for several $N$, $k = 2$. For each $A$ the TIE (eqs 5,
# 45–46) at the closed-form β-optimum is minimised over the symmetry group of the optimum
# (signed permutations, and rotations among equal eigenvalues: orthogonal Procrustes) and
# then over β (`linear_models.linear_vae.tie_aligned`). Questions: when is the optimal β above
# 1, when below, and how far is the best TIE from zero? TIE can vanish only if the ground-truth
# posterior factorises ($A^\top A$ diagonal, $m = 0$).

# %%
from betalab.registry import StudyConfig
from betalab.studies.sikka2020.tie_family import tie_family

result = tie_family(StudyConfig())  # study "linear-vae-tie-family"
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}: {c.measured}")

# %%
result.figures["tie_family"]
