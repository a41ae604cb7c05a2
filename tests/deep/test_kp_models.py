"""Kumar & Poole 2020, App. D models: block-diagonal posteriors, GRAE and GRAE≈ as objectives.

Oracles: torch.distributions.MultivariateNormal (log-density, KL), Monte Carlo covariance within
its standard error, torch.func.jacrev Jacobians with a dense log-determinant, and the closed-form
constant relating β on the KL to a decoder variance.
"""

import math
import warnings

import pytest
import torch
from torch.func import jacrev

from deep.models import VAEConfig, build_objective, build_vae, check_posterior
from deep.models import posteriors as post
from deep.regularizers import grae_regularizer


def _model(posterior="diagonal", d=6, obs_sigma=1.0, seed=0):
    torch.manual_seed(seed)
    cfg = VAEConfig("elu-mlp", latent_dim=d, image_size=4, likelihood="gaussian", obs_sigma=obs_sigma,
                    posterior=posterior, widths=(16, 12))
    return build_vae(cfg).double()


@pytest.mark.parametrize("block", [1, 2, 3, 6])
def test_block_density_and_kl_match_multivariate_normal(block):
    g = torch.Generator().manual_seed(block)
    d, B = 6, 7
    raw = torch.randn(B, post.n_cov_params(d, block), generator=g, dtype=torch.float64)
    C = post.block_cholesky(raw, block)
    Sigma = post.block_dense(C @ C.transpose(-1, -2))
    mu = torch.randn(B, d, generator=g, dtype=torch.float64)
    z = torch.randn(3, B, d, generator=g, dtype=torch.float64)
    mvn = torch.distributions.MultivariateNormal(mu, Sigma)
    std = torch.distributions.MultivariateNormal(torch.zeros(d, dtype=torch.float64),
                                                 torch.eye(d, dtype=torch.float64))
    # float64 triangular solves vs torch's own Cholesky of the dense matrix: rounding only
    torch.testing.assert_close(post.block_log_density(z, mu, C), mvn.log_prob(z), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(post.kl_block_std_normal(mu, C), torch.distributions.kl_divergence(mvn, std),
                               rtol=1e-10, atol=1e-10)
    # the off-block entries are exactly zero (the block structure of Σ and Σ⁻¹)
    mask = torch.block_diag(*[torch.ones(block, block)] * (d // block)).bool()
    assert (Sigma[:, ~mask] == 0).all()
    assert (torch.linalg.inv(Sigma)[:, ~mask].abs() < 1e-12).all()


def test_block_vae_samples_have_the_encoded_covariance():
    m = _model("block:3")
    x = torch.rand(1, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    mu, Sigma = m.posterior_covariance(x)
    n = 40_000
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        z = torch.stack([m(x.expand(1000, 1, 4, 4), g)["z"] for _ in range(n // 1000)]).reshape(n, -1)
    emp = torch.cov(z.T)
    # standard error of a sample covariance entry: sqrt((Σ_ii Σ_jj + Σ_ij²)/n); 5 SE per entry
    se = torch.sqrt((torch.outer(Sigma[0].diagonal(), Sigma[0].diagonal()) + Sigma[0] ** 2) / n)
    assert ((emp - Sigma[0]).abs() <= 5 * se).all()
    assert ((z.mean(0) - mu[0]).abs() <= 5 * torch.sqrt(Sigma[0].diagonal() / n)).all()


@pytest.mark.parametrize("obs_sigma", [1.0, 0.5])
def test_grae_loss_matches_jacrev_oracle(obs_sigma):
    m, beta = _model("full", obs_sigma=obs_sigma), 0.3
    x = torch.rand(5, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    loss = build_objective("grae", beta)(m, x).loss
    # oracle: reverse-mode Jacobian per example, dense slogdet, explicit Gaussian log-density
    mu = m.encoder(x)[:, :6]
    dec = lambda z: m.decoder(z[None]).flatten()                                 # noqa: E731
    J = torch.stack([jacrev(dec)(mu[i]) for i in range(5)])                      # (B, D, d)
    M = torch.eye(6, dtype=torch.float64) + J.transpose(1, 2) @ J / (beta * obs_sigma ** 2)
    g = m.decoder(mu).flatten(1)
    D = g.shape[1]
    nll = 0.5 * ((x.flatten(1) - g) ** 2).sum(1) / obs_sigma ** 2 + 0.5 * D * math.log(2 * math.pi * obs_sigma ** 2)
    oracle = (nll + beta / 2 * mu.pow(2).sum(1) + beta / 2 * torch.linalg.slogdet(M)[1]).mean()
    torch.testing.assert_close(loss, oracle, rtol=1e-10, atol=1e-10)  # float64, same math


def test_grae_approx_is_unbiased_for_the_hadamard_bound():
    m, beta = _model("diagonal"), 0.2
    x = torch.rand(4, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    obj = build_objective("grae-approx", beta)
    with torch.no_grad():
        draws = torch.stack([obj(m, x, torch.Generator().manual_seed(s)).loss for s in range(600)])
        mu = m.encode_mean(x)
        base = build_objective("grae", beta)(m, x).terms
        hadamard = grae_regularizer(m.flat_decoder(), mu, beta, mode="hadamard").mean()
    expected = base["recon"] + beta * (base["enc_reg"] + 0.5 * hadamard)
    se = draws.std() / math.sqrt(len(draws))
    assert abs(draws.mean() - expected) < 4 * se            # Monte Carlo: 4 standard errors
    assert draws.std() > 0                                   # it is stochastic


def test_beta_on_kl_is_decoder_variance_beta():
    """β-VAE loss (σ = 1) − β · VAE loss (σ² = β) = D/2 log 2π − β D/2 log 2πβ, for any
    parameters and data (Kumar & Poole 2020, sec. 7 prints (1/β)I; the algebra gives βI)."""
    beta = 0.25
    m1, m2 = _model("block:2"), _model("block:2", obs_sigma=math.sqrt(beta))
    m2.load_state_dict(m1.state_dict())
    x = torch.rand(6, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    l1 = build_objective("beta-vae", beta)(m1, x, torch.Generator().manual_seed(0)).loss
    l2 = build_objective("beta-vae", 1.0)(m2, x, torch.Generator().manual_seed(0)).loss
    D = 16
    const = D / 2 * math.log(2 * math.pi) - beta * D / 2 * math.log(2 * math.pi * beta)
    torch.testing.assert_close(l1 - beta * l2, torch.tensor(const, dtype=torch.float64),
                               rtol=1e-10, atol=1e-10)   # an identity; float64 rounding only


def test_multi_sample_block_elbo_matches_single_sample_average():
    """S draws in one call equal the average of S one-draw calls in expectation: compare both to
    a 4000-draw reference within Monte Carlo error."""
    m = _model("block:3")
    x = torch.rand(3, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        many = build_objective("beta-vae", 0.5, n_samples=4000)(m, x, torch.Generator().manual_seed(7)).loss
        ones = torch.stack([build_objective("beta-vae", 0.5)(m, x, torch.Generator().manual_seed(s)).loss
                            for s in range(400)])
    assert abs(ones.mean() - many) < 4 * ones.std() / math.sqrt(400)   # 4 standard errors


@pytest.mark.parametrize("model, posterior, match", [
    ("beta-vae", "block:4", "posterior: block size 4 does not divide latent_dim 6"),
    ("grae", "diagonal", "posterior: model 'grae' supports 'full'"),
    ("grae-approx", "block:2", "posterior: model 'grae-approx' supports 'diagonal'"),
    ("beta-tcvae", "full", "posterior: model 'beta-tcvae' supports 'diagonal'"),
    ("beta-vae", "blocks:2", "posterior must be one of"),
])
def test_bad_posterior_is_a_value_error(model, posterior, match):
    with pytest.raises(ValueError, match=match):
        check_posterior(model, posterior, 6)


def test_bad_beta_and_likelihood():
    for beta in (0.0, -1.0):
        with pytest.raises(ValueError, match="beta"):
            build_objective("grae-approx", beta)
    m = build_vae(VAEConfig("elu-mlp", latent_dim=2, image_size=4, widths=(8,)))   # Bernoulli
    with pytest.raises(ValueError, match="likelihood"):
        build_objective("grae", 1.0)(m, torch.rand(2, 1, 4, 4))
    with pytest.raises(ValueError, match="posterior"):
        VAEConfig("elu-mlp", latent_dim=6, image_size=4, posterior="block:4")
    with pytest.raises(ValueError, match="posterior"):
        build_objective("beta-tcvae", 1.0, dataset_size=10)(_model("block:2").float(),
                                                           torch.rand(3, 1, 4, 4))


def test_the_elu_cnn_is_app_d_layer_by_layer():
    """arch "elu-cnn" against App. D's MNIST table (the oracle: its printed layers as data):
    Conv 64,4,1 / 128,4,2 / 256,4,2 / 512,4,2 / 512,4,1 with ELU, FC d; FC 7·7·256, ConvT
    512,4,1 / 256,4,1 / 128,4,2 / 64,4,2, Conv 1,4,1 (sigmoid optional); and the sizes a 28 × 28 image
    takes through them (28 → 28 → 14 → 7 → 3 → 3; 7 → 8 → 7 → 14 → 28, by hand)."""
    from torch import nn

    m = build_vae(VAEConfig("elu-cnn", latent_dim=12, image_size=28, likelihood="gaussian"))
    enc = [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in m.encoder.net if isinstance(c, nn.Conv2d)]
    assert enc == [(64, 4, 1), (128, 4, 2), (256, 4, 2), (512, 4, 2), (512, 4, 1)]
    dec = [(type(c).__name__, c.out_channels, c.kernel_size[0], c.stride[0])
           for c in m.decoder.net if isinstance(c, (nn.Conv2d, nn.ConvTranspose2d))]
    assert dec == [("ConvTranspose2d", 512, 4, 1), ("ConvTranspose2d", 256, 4, 1),
                   ("ConvTranspose2d", 128, 4, 2), ("ConvTranspose2d", 64, 4, 2), ("Conv2d", 1, 4, 1)]
    assert m.decoder.fc[0].out_features == 7 * 7 * 256 and isinstance(m.decoder.net[-1], nn.Conv2d)
    from deep.models.networks import EluConvDecoder

    assert isinstance(EluConvDecoder(12, 28).net[-1], nn.Sigmoid)          # App. D's, on request
    assert sum(isinstance(c, nn.ELU) for c in m.encoder.net) == 5
    sizes, h = [], torch.zeros(1, 1, 28, 28)
    for layer in m.encoder.net:
        h = layer(h)
        if isinstance(layer, nn.Conv2d):
            sizes.append(h.shape[-1])
    assert sizes == [28, 14, 7, 3, 3] and m.encoder.net[-1].out_features == 24
    sizes, h = [], m.decoder.fc(torch.zeros(1, 12)).view(1, 256, 7, 7)
    for layer in m.decoder.net:
        h = layer(h)
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            sizes.append(h.shape[-1])
    assert sizes == [8, 7, 14, 28, 28]
    # the stride-1 "same" padding is torch's own padding="same" (1 before, 2 after)
    conv = m.encoder.net[1]
    x = torch.randn(2, 1, 28, 28)
    with warnings.catch_warnings():       # torch notes that even kernels pad with a copy
        warnings.simplefilter("ignore", UserWarning)
        same = torch.nn.functional.conv2d(x, conv.weight, conv.bias, padding="same")
    torch.testing.assert_close(conv(m.encoder.net[0](x)), same, rtol=0, atol=1e-5)   # float32 sums
    # a block posterior widens the head (App. D: the Cholesky entries); bad sides fail by name
    blk = build_vae(VAEConfig("elu-cnn", latent_dim=12, image_size=28, likelihood="gaussian", posterior="block:3"))
    assert blk.encoder.net[-1].out_features == 12 + post.n_cov_params(12, 3)
    with pytest.raises(ValueError, match="image_size"):
        build_vae(VAEConfig("elu-cnn", latent_dim=4, image_size=30))


def test_grae_on_the_elu_cnn_matches_a_brute_force_jacobian():
    """The exact GRAE regularizer (eq. 13, log|I + JᵀJ/β| per example) through the CNN decoder
    (the generic vmap-jvp path) against torch.func.jacrev of each example's decoder output."""
    torch.manual_seed(0)
    m = build_vae(VAEConfig("elu-cnn", latent_dim=3, image_size=8, likelihood="gaussian")).double()
    z = torch.randn(2, 3, dtype=torch.float64)
    flat = lambda v: m.decoder(v).flatten(1)                                   # noqa: E731
    got = grae_regularizer(flat, z, 0.5)
    J = torch.stack([jacrev(lambda v: flat(v[None])[0])(zi) for zi in z])      # (B, D, d)
    want = torch.logdet(torch.eye(3, dtype=torch.float64) + J.transpose(1, 2) @ J / 0.5)   # per example
    # float64: the two Jacobians agree to rounding; the log-determinants to 1e-10
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
