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
# # The disentanglement metric and the training-free rows of Fig. 5 (Higgins et al. 2017)
#
# The metric (sec. 3, eq. 5, App. A.4): draw a factor $y$ among x, y, scale and rotation; draw L
# pairs of images that share factor $y$ and nothing else by design; average the absolute
# differences of their codes,
#
# $$z_{\rm diff} = \frac1L\sum_{l=1}^L |z_{l,a} - z_{l,b}|;$$
#
# a linear softmax classifier, trained with Adagrad (learning rate $10^{-2}$) to convergence,
# predicts $y$ from $z_{\rm diff}$. The score is its accuracy on 5,000 test points; the paper
# trains 10 replicas of each model, scores each with 3 classifier seeds and reports the top half
# of the 30 scores.
#
# Here the rows that need no training: the ground-truth factors, raw pixels, PCA (ten whitened
# components), FastICA fitted per pair of shapes (App. A.3) and an untrained Table 1 encoder.
# `quick` runs on the reduced grid (this notebook); `betalab run higgins-fig5-table --scale cpu`
# runs the paper's protocol on all 737,280 images.

# %%
import numpy as np

from deep.data import full_grid
from deep.metrics.classifier_scores import beta_vae_pairs, zdiff_from_pairs

grid = full_grid((3, 6, 10, 8, 8))
a, b, y = beta_vae_pairs(grid, 4, 64, np.random.default_rng(0), factor_indices=(1, 2, 3, 4))
print("labels:", y)
print("z_diff of the ground-truth codes (the labelled factor's column is 0):")
print(zdiff_from_pairs(grid.astype(float), a, b).round(2))

# %%
from betalab.registry import StudyConfig
from betalab.studies.higgins2017.fig5_left import higgins_fig5_table  # study "higgins-fig5-table"

result = higgins_fig5_table(StudyConfig())    # StudyConfig(scale="cpu") for the deciding run
for c in result.claims:
    print(f"[{c.verdict}] {c.statement}")

# %%
result.figures["fig5_table"]
