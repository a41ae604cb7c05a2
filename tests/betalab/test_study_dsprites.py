"""The dSprites study's figures show what they claim: on codes equal to the factors the
latent-vs-factor panels reproduce the factors exactly; traversals have one row per latent."""

import matplotlib.pyplot as plt
import numpy as np
import torch

from betalab.studies.dsprites import latent_factor_figure, traversal_figure
from deep.data import DSprites
from deep.models import VAEConfig, build_vae


def test_latent_vs_factor_panels_on_ground_truth_codes():
    d = DSprites(n_scales=3, n_orientations=4, n_positions=4)
    f = d.factors_of(np.arange(len(d)))
    codes = np.stack([f[:, 3], f[:, 1], f[:, 2]], 1).astype(float)   # pos_x, scale, orientation
    kl = np.array([3.0, 2.0, 1.0])                                   # keeps this row order
    fig = latent_factor_figure(codes, f, kl, d.factor_values(), "test")
    axes = np.array(fig.axes).reshape(3, 3)
    heat = np.asarray(axes[0, 0].images[0].get_array())
    np.testing.assert_array_equal(heat, np.tile(np.arange(4.0), (4, 1)))   # mean z0 = pos_x index
    for line in axes[1, 1].lines:                                           # mean z1 vs scale
        np.testing.assert_array_equal(line.get_ydata(), np.arange(3.0))
    for line in axes[2, 2].lines:                                           # mean z2 vs orientation
        np.testing.assert_array_equal(line.get_ydata(), np.arange(4.0))
    assert [ln.get_label() for ln in axes[1, 1].lines] == ["square", "ellipse", "heart"]
    plt.close(fig)


def test_traversal_grid_varies_one_latent_per_row():
    torch.manual_seed(0)
    model = build_vae(VAEConfig(latent_dim=3, hidden=8))
    mu = np.zeros((5, 3), dtype=np.float32)
    fig = traversal_figure(model, None, mu, np.array([0.1, 0.3, 0.2]), "t", n_steps=4)
    assert len(fig.axes) == 3 * 4
    labels = [fig.axes[r * 4].get_ylabel().split("\n")[0] for r in range(3)]
    assert labels == ["z1", "z2", "z0"]                                     # sorted by KL
    plt.close(fig)
