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
    from betalab.studies import higgins as H

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
