"""Networks, likelihoods, the β-VAE / β-TCVAE / FactorVAE objectives and their
estimators against independent oracles (torch.distributions, quadrature, enumeration)."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from deep.models import VAEConfig, build_objective, build_vae, permute_dims
from deep.models import distributions as dist
from deep.models import objectives as obj
from deep.models.networks import Discriminator



@pytest.fixture(autouse=True)
def _float64_default():
    """float64 for this module's oracles, restored afterwards so other modules keep float32."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def test_paper_mlp_parameter_count():
    # Stühmer App. A.4 / Higgins Table 1: 4096-1200-1200-2d and d-1200-1200-1200-4096
    m = build_vae(VAEConfig(latent_dim=10))
    enc = 4096 * 1200 + 1200 + 1200 * 1200 + 1200 + 1200 * 20 + 20
    dec = 10 * 1200 + 1200 + 2 * (1200 * 1200 + 1200) + 1200 * 4096 + 4096
    assert sum(p.numel() for p in m.encoder.parameters()) == enc
    assert sum(p.numel() for p in m.decoder.parameters()) == dec
    disc = Discriminator(10)
    assert sum(p.numel() for p in disc.parameters()) == 10 * 1000 + 1000 + 4 * 1001000 + 2002


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_shapes(arch):
    m = build_vae(VAEConfig(arch=arch, latent_dim=3, hidden=32))
    x = torch.rand(5, 1, 64, 64)
    out = m(x, torch.Generator().manual_seed(0))
    assert out["mu"].shape == (5, 3) and out["out"].shape == (5, 1, 64, 64)


def test_densities_match_torch_distributions(rng):
    mu, lv = torch.from_numpy(rng.normal(size=(7, 4))), torch.from_numpy(rng.normal(size=(7, 4)))
    z = torch.from_numpy(rng.normal(size=(7, 4)))
    normal = torch.distributions.Normal(mu, torch.exp(0.5 * lv))
    torch.testing.assert_close(dist.gaussian_log_density(z, mu, lv), normal.log_prob(z))
    kl = torch.distributions.kl_divergence(normal, torch.distributions.Normal(0.0, 1.0))
    torch.testing.assert_close(dist.kl_diag_gaussian_std_normal(mu, lv), kl)
    logits = torch.from_numpy(rng.normal(size=(3, 1, 4, 4)))
    x = torch.from_numpy((rng.random((3, 1, 4, 4)) < 0.5).astype(float))
    bern = torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(dist.bernoulli_log_likelihood(logits, x), bern)
    gl = torch.distributions.Normal(logits, 0.3).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(dist.gaussian_log_likelihood(logits, x, 0.3), gl)


def test_beta_vae_loss_is_recon_plus_beta_kl():
    # Higgins et al. 2017, eq. 4; same generator -> same z for both betas
    m = build_vae(VAEConfig(latent_dim=3, hidden=16))
    x = (torch.rand(6, 1, 64, 64, generator=torch.Generator().manual_seed(1)) < 0.3).double()
    o1 = build_objective("beta-vae", 1.0)(m, x, torch.Generator().manual_seed(0))
    o4 = build_objective("beta-vae", 4.0)(m, x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(o1.loss, o1.terms["neg_elbo"])
    torch.testing.assert_close(o4.loss, o1.terms["recon"] + 4.0 * o1.terms["kl"])


# ----------------------------------------------------------------- MSS weights
def test_mss_weights_rows_sum_to_one_and_have_the_strata():
    n, b = 50, 6
    w = obj.mss_log_weights(b, n, dtype=torch.float64).exp()
    torch.testing.assert_close(w.sum(1), torch.ones(b, dtype=torch.float64))
    for i in range(b):
        assert math.isclose(w[i, i], 1 / n)
        assert math.isclose(w[i, (i + 1) % b], (n - (b - 1)) / (n * (b - 1)))


def test_widely_copied_weight_matrix_fills_the_wrong_entries():
    # the copied construction W.view(-1)[::M+1] with M = B-1 strides by B: column 0, not the diagonal
    b, n = 5, 20
    m = b - 1
    w = torch.full((b, b), 1 / m, dtype=torch.float64)
    w.view(-1)[::m + 1] = 1 / n
    assert torch.all(w[:, 0] == 1 / n) and w[1, 1] != 1 / n
    assert not torch.allclose(w, obj.mss_log_weights(b, n, dtype=torch.float64).exp())


def test_mss_is_unbiased_by_enumerating_every_batch(rng):
    # E over uniformly random batches of q_hat(z) equals q(z) = (1/N) sum_n q(z|n), exactly
    n, b, d = 6, 3, 2
    mu = torch.from_numpy(rng.normal(size=(n, d)))
    lv = torch.from_numpy(rng.normal(scale=0.3, size=(n, d)))
    z = torch.from_numpy(rng.normal(size=(1, d)))
    exact = logsumexp(dist.gaussian_log_density(z, mu, lv).sum(-1).numpy()) - math.log(n)
    logw = obj.mss_log_weights(b, n, dtype=torch.float64)
    vals = []
    for others in itertools.permutations(range(1, n), b - 1):
        batch = [0, *others]                          # z ~ q(z|n_0) sits in row 0
        lq = dist.gaussian_log_density(z, mu[batch], lv[batch]).sum(-1)
        vals.append(torch.logsumexp(logw[0] + lq, 0).exp().item())
    assert math.isclose(np.mean(vals), math.exp(exact), rel_tol=1e-12)


# ------------------------------------------------ TC against an exact reference
def _mixture_tc_by_quadrature(mu, sd):
    """Exact TC of q(z) = (1/N) sum_n N(mu_n, diag sd^2) in 2-D by grid quadrature."""
    lo, hi = mu.min(0) - 8 * sd, mu.max(0) + 8 * sd
    # spacing <= sd/6: the trapezoid rule on Gaussian integrands is accurate to ~1e-9 here
    g = [np.linspace(lo[k], hi[k], int((hi[k] - lo[k]) / (sd / 6)) + 1) for k in range(2)]
    h = [gk[1] - gk[0] for gk in g]

    def logn(x, m):
        return -0.5 * (np.log(2 * np.pi * sd ** 2) + (x - m) ** 2 / sd ** 2)

    l0 = logn(g[0][:, None], mu[None, :, 0])                  # (G, N)
    l1 = logn(g[1][:, None], mu[None, :, 1])
    lq = np.concatenate([logsumexp(l0[i:i + 8, None, :] + l1[None, :, :], axis=2)   # chunked
                         for i in range(0, len(g[0]), 8)]) - np.log(len(mu))
    lq0 = logsumexp(l0, axis=1) - np.log(len(mu))
    lq1 = logsumexp(l1, axis=1) - np.log(len(mu))
    neg_h = np.sum(np.exp(lq) * lq) * h[0] * h[1]
    return neg_h - np.sum(np.exp(lq0) * lq0) * h[0] - np.sum(np.exp(lq1) * lq1) * h[1]


def _correlated_case(rng, n=300):
    # posterior means from a correlated Gaussian: the aggregate posterior is close to
    # N(0, C + sd^2 I), whose TC is 0.5 * (sum log diag - log det)
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    mu = rng.multivariate_normal(np.zeros(2), cov, size=n)
    return mu, 0.4


def test_mixture_tc_reference_is_near_the_gaussian_closed_form(rng):
    mu, sd = _correlated_case(rng, n=2000)
    c = np.cov(mu.T, bias=True) + sd ** 2 * np.eye(2)
    closed = 0.5 * (np.log(np.diag(c)).sum() - np.linalg.slogdet(c)[1])
    # the mixture is a kernel density estimate of the Gaussian; the gap shrinks with N
    assert abs(_mixture_tc_by_quadrature(mu, sd) - closed) < 0.02 * closed


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_tc_estimators_against_exact_tc(rng, estimator):
    mu_np, sd = _correlated_case(rng)
    n = len(mu_np)
    exact = _mixture_tc_by_quadrature(mu_np, sd)
    mu = torch.from_numpy(mu_np)
    lv = torch.full_like(mu, 2 * math.log(sd))
    reps, per_sample = 40, []
    g = torch.Generator().manual_seed(0)
    for _ in range(reps):
        z = dist.sample_diag_gaussian(mu, lv, g)
        if estimator == "mws":
            # the whole dataset as the batch: MWS is then the exact aggregate posterior, so the
            # per-sample TC terms are unbiased Monte Carlo draws of the exact TC
            lqz, lprod = obj.aggregate_log_densities(z, mu, lv, estimator="mws")
            per_sample.append((lqz - lprod).numpy())
        else:
            # MSS is unbiased for q(z), not for log q(z): average q_hat over 200 random batches
            # of B=100 (each row's n_i fixed), then take the log; the Jensen gap vanishes as 1/200
            lq_acc = torch.full((n,), -math.inf, dtype=torch.float64)
            lp_acc = torch.full((n, 2), -math.inf, dtype=torch.float64)
            for _ in range(200):
                perm = torch.randperm(n, generator=g)
                for s in range(0, n, 100):
                    rows = perm[s:s + 100]
                    mat = obj.log_qz_matrix(z[rows], mu[rows], lv[rows])
                    logw = obj.mss_log_weights(100, n, dtype=torch.float64)
                    lq_acc[rows] = torch.logaddexp(lq_acc[rows], torch.logsumexp(logw + mat.sum(-1), 1))
                    lp_acc[rows] = torch.logaddexp(lp_acc[rows],
                                                   torch.logsumexp(logw[:, :, None] + mat, 1))
            lq_acc, lp_acc = lq_acc - math.log(200), lp_acc - math.log(200)   # sums -> means
            per_sample.append((lq_acc - lp_acc.sum(-1)).numpy())
            if len(per_sample) == 4:
                break
    per_sample = np.concatenate(per_sample)
    est, se = per_sample.mean(), per_sample.std() / np.sqrt(per_sample.size)
    assert abs(est - exact) <= 4 * se + (0.0 if estimator == "mws" else 0.01 * exact)


def test_kl_decomposition_telescopes():
    # Stühmer et al. 2020, eq. 3: MI + TC + DWKL = E[log q(z|n) - log p(z)]
    g = torch.Generator().manual_seed(3)
    mu, lv = torch.randn(64, 3, generator=g), 0.3 * torch.randn(64, 3, generator=g)
    z = dist.sample_diag_gaussian(mu, lv, g)
    prior = dist.StandardNormalPrior(3)
    for est in ("mws", "mss"):
        t = obj.kl_decomposition(z, mu, lv, prior.log_prob_dims(z), 1000, est)
        direct = (dist.gaussian_log_density(z, mu, lv).sum(-1) - prior.log_prob(z)).mean()
        torch.testing.assert_close(t["mi"] + t["tc"] + t["dwkl"], direct)


# ------------------------------------------------------------------ FactorVAE
def test_permute_dims_permutes_each_dimension_across_the_batch():
    g = torch.Generator().manual_seed(0)
    z = torch.arange(256 * 10, dtype=torch.float64).reshape(256, 10)
    p = permute_dims(z, g)
    # every column is a permutation of the same column (across the batch) ...
    torch.testing.assert_close(p.sort(0).values, z)
    # ... independently per dimension: rows are mixtures of different samples
    src = (p // 10).long()                 # the sample each entry came from
    assert (src == src[:, :1]).all(1).sum() == 0
    # the within-sample shuffle bug keeps each row's multiset and fails the column check
    bad = torch.stack([row[torch.randperm(10, generator=g)] for row in z])
    assert not torch.equal(bad.sort(0).values, z)


def test_density_ratio_tc_with_the_optimal_discriminator(rng):
    # logits (log q(z), log prod q_j(z_j)) for q = N(0, C): TC = 0.5 (sum log C_jj - log det C)
    c = np.array([[1.0, 0.6, 0.2], [0.6, 1.0, 0.5], [0.2, 0.5, 2.0]])
    z = rng.multivariate_normal(np.zeros(3), c, size=20000)
    from scipy.stats import multivariate_normal, norm
    lq = multivariate_normal(np.zeros(3), c).logpdf(z)
    lprod = norm.logpdf(z / np.sqrt(np.diag(c))).sum(1) - 0.5 * np.log(np.diag(c)).sum()
    logits = torch.from_numpy(np.stack([lq, lprod], 1))
    closed = 0.5 * (np.log(np.diag(c)).sum() - np.linalg.slogdet(c)[1])
    se = (lq - lprod).std() / np.sqrt(len(z))
    assert abs(obj.density_ratio_tc(logits).item() - closed) <= 4 * se


def test_factor_vae_aux_loss_trains_only_the_discriminator():
    m = build_vae(VAEConfig(latent_dim=4, hidden=16))
    o = build_objective("factor-vae", 5.0, latent_dim=4, disc_hidden=8)
    x = (torch.rand(16, 1, 64, 64, generator=torch.Generator().manual_seed(0)) < 0.2).double()
    out = o(m, x, torch.Generator().manual_seed(1))
    out.aux_loss.backward()
    assert all(p.grad is None for p in m.parameters())
    assert all(p.grad is not None for p in o.discriminator.parameters())
    torch.testing.assert_close(out.loss, out.terms["neg_elbo"] + 5.0 * out.terms["tc"])


def test_bad_input():
    with pytest.raises(ValueError, match="unknown model"):
        build_objective("beta-gan", 1.0)
    with pytest.raises(ValueError, match="beta"):
        build_objective("beta-vae", -1.0)
    with pytest.raises(ValueError, match="dataset_size"):
        build_objective("beta-tcvae", 2.0)
    with pytest.raises(ValueError, match="dataset_size"):
        obj.mss_log_weights(10, 5)
    with pytest.raises(ValueError, match="arch"):
        VAEConfig(arch="resnet")
    with pytest.raises(ValueError, match="latent_dim"):
        VAEConfig(latent_dim=0)


def test_bernoulli_log_likelihood_equals_the_fused_cross_entropy(rng):
    # logits over the whole range, across softplus's cut-over at 50 and float32's exp overflow
    logits = torch.from_numpy(rng.normal(scale=30.0, size=(4, 1, 8, 8)))
    logits[0, 0, 0, :4] = torch.tensor([-200.0, -50.0, 50.0, 200.0], dtype=torch.float64)
    for x in (torch.from_numpy((rng.random((4, 1, 8, 8)) < 0.5).astype(float)),
              torch.from_numpy(rng.random((4, 1, 8, 8)))):               # binary and grey x
        ref = -torch.nn.functional.binary_cross_entropy_with_logits(
            logits, x, reduction="none").flatten(1).sum(1)
        # float64 rounding of sums of 64 terms of size <= 200: 1e-12 relative
        torch.testing.assert_close(dist.bernoulli_log_likelihood(logits, x), ref, rtol=1e-12, atol=0)
        got32 = dist.bernoulli_log_likelihood(logits.float(), x.float())
        assert torch.isfinite(got32).all()
        # float32 resolution (6e-8) times the terms' size, summed over 64 pixels
        torch.testing.assert_close(got32.double(), ref, rtol=1e-5, atol=0)


def test_tanh3_networks_have_the_thesis_layers():
    """Sikka 2020, Methods: encoder 256-200-200 tanh + linear heads for (mean, log-variance) of
    k = 2 latents; symmetric decoder 200-200-256 tanh + linear output of N pixels."""
    import torch
    from torch import nn

    from deep.models import VAEConfig, build_vae

    vae = build_vae(VAEConfig(arch="tanh3", latent_dim=2, image_size=40, likelihood="gaussian"))
    enc = [m for m in vae.encoder.net if isinstance(m, nn.Linear)]
    dec = [m for m in vae.decoder.net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in enc] == [(1600, 256), (256, 200), (200, 200), (200, 4)]
    assert [(m.in_features, m.out_features) for m in dec] == [(2, 200), (200, 200), (200, 256), (256, 1600)]
    assert sum(isinstance(m, nn.Tanh) for m in vae.encoder.net) == 3
    assert sum(isinstance(m, nn.Tanh) for m in vae.decoder.net) == 3
    # the decoder output is linear (a Gaussian mean): a large last bias passes through unchanged
    with torch.no_grad():
        dec[-1].bias.fill_(7.0)
        dec[-1].weight.zero_()
    assert torch.all(vae.mean_image(torch.zeros(1, 2)) == 7.0)


def test_widths_only_for_tanh3():
    import pytest

    from deep.models import VAEConfig

    with pytest.raises(ValueError, match="widths"):
        VAEConfig(arch="mlp", widths=(8, 8, 8))
    with pytest.raises(ValueError, match="widths"):
        VAEConfig(arch="tanh3", widths=(8, 0, 8))
