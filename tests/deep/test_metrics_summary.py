"""deep.metrics.summary: the per-run evaluation against direct computations with
torch.distributions (the oracle for the likelihood and the KL) and numpy."""

import numpy as np
import pytest
import torch

from deep.data import DSprites
from deep.metrics import encode_dataset, mig_histogram
from deep.metrics.summary import active_units, evaluate_vae, heldout_terms
from deep.models import VAEConfig, build_vae
from deep.train import seeded_init

DATA = DSprites(n_scales=2, n_orientations=4, n_positions=8)      # 768 images


def _model(prior="normal"):
    cfg = VAEConfig(latent_dim=4, hidden=16, prior=prior)
    return seeded_init(lambda: build_vae(cfg), 0).double()


def test_heldout_terms_match_torch_distributions():
    model = _model()
    x = torch.from_numpy(DATA.images(np.arange(0, 768, 7))).double()
    got = heldout_terms(model, x, torch.Generator().manual_seed(3))
    with torch.no_grad():
        mu, logvar = model.encode(x)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(3), dtype=mu.dtype)
    z = mu + torch.exp(0.5 * logvar) * eps
    with torch.no_grad():
        logits = model.decode(z)
    ll = torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1).mean()
    kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).mean(0)
    # float64 sums of 4096 pixel terms: 1e-12 relative
    np.testing.assert_allclose(got["heldout_log_px_z"], float(ll), rtol=1e-12)
    np.testing.assert_allclose(got["kl_per_dim"], kl.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(got["kl"], float(kl.sum()), rtol=1e-12)
    np.testing.assert_allclose(got["heldout_neg_elbo"], float(kl.sum() - ll), rtol=1e-12)


def test_isa_prior_has_a_monte_carlo_kl_and_no_per_dimension_kl():
    model = _model("isa:2.1;2*2.2x2")
    x = torch.from_numpy(DATA.images(np.arange(0, 768, 7))).double()
    got = heldout_terms(model, x, torch.Generator().manual_seed(3))
    assert got["kl_per_dim"] is None and np.isfinite(got["kl"])


def test_evaluate_vae_metrics():
    model = _model()
    held = np.arange(0, 768, 10)
    m = evaluate_vae(model, DATA, held, seed=1, n_train=60, n_test=30, batch_size=8,
                     mig_samples=100)
    mu, _, factors = encode_dataset(model, DATA)
    # oracle: Burda et al.'s count with numpy
    assert m["active_units"] == int((mu.var(0) > 0.01).sum()) == active_units(mu)
    assert m["mig_histogram"] == mig_histogram(mu, factors)["mig"]
    for k in ("mig_sampled", "beta_vae_score", "factor_vae_score"):
        assert 0.0 <= m[k] <= 1.0
    again = evaluate_vae(model, DATA, held, seed=1, n_train=60, n_test=30, batch_size=8,
                         mig_samples=100)
    assert again == m                                      # the metrics' randomness is the seed's


def test_evaluate_vae_higgins_is_the_studys_call():
    """``higgins=True`` adds the metric of Higgins et al. 2017 by the call the study
    higgins-fig5-table makes per replica at its cpu scale (L = 64, 5,000 / 5,000 points,
    3 classifier seeds) on the model's posterior means; the other metrics are unchanged."""
    from betalab.studies.higgins2017 import fig5_left as H

    model = _model()
    held = np.arange(0, 768, 10)
    kw = dict(seed=1, n_train=60, n_test=30, batch_size=8, mig_samples=100)
    plain = evaluate_vae(model, DATA, held, **kw)
    m = evaluate_vae(model, DATA, held, higgins=True, replica=4, **kw)
    assert {k: v for k, v in m.items() if not k.startswith("higgins_")} == plain
    mu, _, factors = encode_dataset(model, DATA)
    want, conv = H._replica_scores(mu, factors, H.SCALES["cpu"], np.random.default_rng([1, 5, 4]))
    assert m["higgins_scores"] == want.tolist() and m["higgins_converged"] == conv
    assert m["higgins_score"] == float(np.mean(want))
    other = evaluate_vae(model, DATA, held, higgins=True, replica=5, **kw)
    assert other["higgins_scores"] != m["higgins_scores"]       # a fresh draw per replica
    with pytest.raises(TypeError, match="higgins"):
        evaluate_vae(model, DATA, held, higgins=1, **kw)
    with pytest.raises(ValueError, match="replica"):
        evaluate_vae(model, DATA, held, higgins=True, replica=-1, **kw)


def test_evaluate_vae_on_a_device_store_and_without_the_standard_metrics():
    """The images may come from a DeviceStore (a sweep evaluates from the device it trained
    on): the same metrics as from the numpy dataset, exactly (the store unpacks the same 0/1
    pixels). ``standard=False`` keeps the held-out terms and Higgins' metric of the full call
    and drops the MIGs, the two scores and the active units."""
    from deep.data import DeviceStore

    model = _model()
    held = np.arange(0, 768, 10)
    kw = dict(seed=1, n_train=60, n_test=30, batch_size=8, mig_samples=100, higgins=True,
              higgins_n_train=50, higgins_n_test=40)
    full = evaluate_vae(model, DATA, held, **kw)
    assert evaluate_vae(model, DeviceStore(DATA, "cpu"), held, **kw) == full
    lean = evaluate_vae(model, DATA, held, standard=False, **kw)
    dropped = {"mig_histogram", "mig_sampled", "beta_vae_score", "factor_vae_score", "active_units"}
    assert lean == {k: v for k, v in full.items() if k not in dropped}
    with pytest.raises(TypeError, match="standard"):
        evaluate_vae(model, DATA, held, standard=1, **kw)


def test_evaluate_vaes_is_evaluate_vae_per_model():
    """Several models at once (a sweep's ensemble) give each model's evaluate_vae exactly —
    Higgins' classifiers fitted together or in two worker processes."""
    from deep.metrics.summary import evaluate_vaes

    models = [_model(), seeded_init(lambda: build_vae(VAEConfig(latent_dim=4, hidden=16)), 1).double()]
    held = np.arange(0, 768, 10)
    kw = dict(seed=1, n_train=60, n_test=30, batch_size=8, mig_samples=100, higgins=True,
              higgins_n_train=50, higgins_n_test=40, standard=False)
    alone = [evaluate_vae(m, DATA, held, replica=r, **kw) for m, r in zip(models, (3, 4))]
    assert evaluate_vaes(models, DATA, held, replicas=[3, 4], **kw) == alone
    assert evaluate_vaes(models, DATA, held, replicas=[3, 4], workers=2, **kw) == alone
    with pytest.raises(ValueError, match="replicas"):
        evaluate_vaes(models, DATA, held, replicas=[3], **kw)
    with pytest.raises(TypeError, match="models"):
        evaluate_vaes([], DATA, held, replicas=[], **kw)


def test_factor_response_against_direct_means_and_sklearn_mutual_information():
    """factor_response_of: the orientation response is the mean code over the rows of each
    (shape, orientation) pair (numpy boolean masks, the oracle); the mutual information of a
    code that copies a factor equals that factor's entropy, and an independent code's is
    sklearn's mutual_info_score of the same discretisation."""
    from sklearn.metrics import mutual_info_score

    from deep.data import full_grid
    from deep.metrics.information import histogram_discretize
    from deep.metrics.summary import factor_response_of

    f = full_grid((3, 2, 8, 4, 4))
    rng = np.random.default_rng(0)
    mu = np.column_stack([f[:, 2] + 0.0, rng.normal(size=len(f)), np.cos(2 * np.pi * f[:, 2] / 8) * (f[:, 0] + 1)])
    got = factor_response_of(mu, f, bins=8)
    resp = np.array(got["orientation_response"])
    assert resp.shape == (3, 8, 3)
    for s in range(3):
        for r in range(8):
            # means of a few hundred floats: a few ulps
            np.testing.assert_allclose(resp[s, r], mu[(f[:, 0] == s) & (f[:, 2] == r)].mean(0), rtol=1e-12, atol=1e-14)
    mi, h = np.array(got["factor_mi"]), np.array(got["factor_entropy"])
    np.testing.assert_allclose(mi[0, 2], h[2], rtol=1e-12)             # z_0 = the orientation
    dc = histogram_discretize(mu, 8)
    for k in range(5):
        np.testing.assert_allclose(mi[1, k], mutual_info_score(dc[:, 1], f[:, k]), rtol=1e-10, atol=1e-15)
    with pytest.raises(ValueError, match="factor"):
        factor_response_of(mu, f, orientation_factor=9)
    with pytest.raises(ValueError, match="must differ"):
        factor_response_of(mu, f, orientation_factor=0)
    with pytest.raises(ValueError, match="every level"):
        factor_response_of(mu[(f[:, 2] != 3) | (f[:, 0] != 1)], f[(f[:, 2] != 3) | (f[:, 0] != 1)])
