"""dsprites-beta-vae-quick (Higgins et al. 2017, sec. 4.2; betalab.studies.higgins2017.
sec4_2_dsprites_quick): its figures show what they claim — on codes equal to the factors the
latent-vs-factor panels reproduce the factors exactly; traversals have one row per latent — and
the quick model learns, once, in the study cache."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from betalab.plot import latent_factor_figure, traversal_figure
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


@pytest.fixture(scope="module")
def quick(study_cache_dir):
    """The quick study as its notebook runs it (seed 0), in the session's study cache: this test
    trains the model, and the notebook, run after the study tests, loads it."""
    from betalab.registry import CACHE_ENV, StudyConfig, get

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(study_cache_dir))
        return get("dsprites-beta-vae-quick")(StudyConfig(seed=0))


def test_the_quick_model_learns_three_latents(quick, check_claims):
    """On the calibrated renderer the quick β-VAE keeps at least 3 of its 6 latents above 0.1
    nats of KL (the traversals then move a sprite), and every claim of the study holds."""
    kl = np.asarray(quick.numbers["trained"]["kl_per_dim"])
    assert kl.shape == (6,) and int(np.sum(kl > 0.1)) >= 3, kl
    check_claims("dsprites-beta-vae-quick", quick.claims)
    (active,) = [c for c in quick.claims if c.statement.startswith("The quick β-VAE keeps")]
    assert active.verdict == "holds" and active.measured["active"] >= 3


def test_the_quick_training_is_a_piece_reloaded_bit_for_bit(quick, study_cache_dir):
    """A second call finds the trained model in the study cache (the piece stores every weight
    and logged term) and gives the same scores to the last bit, without training again."""
    from betalab.registry import CACHE_ENV, StudyConfig, get

    assert list(study_cache_dir.glob("dsprites-beta-vae-quick/*/train.npz"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(study_cache_dir))
        mp.setattr("deep.train.Trainer.run_step", lambda self: pytest.fail("trained again"))
        again = get("dsprites-beta-vae-quick")(StudyConfig(seed=0))
    for key in ("trained", "final_terms"):
        a, b = again.numbers[key], quick.numbers[key]
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a), key
