"""The ISA-VAE (Stühmer et al. 2020, sec. 3.2, eq. 12, App. A.2) against known answers.

1. every exponent 2 with s = 2 is N(0, I): the Monte Carlo KL of eq. 12 and its gradients
   average to the closed form;
2. a 2-D Lp-nested prior with p != 2: the Monte Carlo KL against 2-D quadrature of
   E_q[log q - log p] with the numpy density of :mod:`theory.lp_nested`;
3. maximum likelihood of the learnable exponents on Algorithm 1 samples recovers them;
4. training steps lower the loss and move the exponents; the ISA-β-TCVAE terms telescope.
"""

import math

import numpy as np
import pytest
import torch

from deep.data import DSprites
from deep.models import VAEConfig, build_objective, build_vae
from deep.models import distributions as dist
from deep.models.objectives import kl_decomposition
from deep.priors import (PAPER_ISA_LAYOUT, LearnableLpNested, LpNestedPrior, format_prior,
                         parse_prior)
from deep.train import TrainConfig, Trainer, seeded_init, step_generator
from theory import lp_nested as L

DATA = DSprites(n_scales=2, n_orientations=4, n_positions=8)      # 768 images


@pytest.fixture(autouse=True)
def _float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _pair(prior, seed=0, latent_dim=4, **kw):
    """A normal-prior VAE and a VAE with ``prior`` sharing every network weight (8x8 images)."""
    normal = seeded_init(lambda: build_vae(VAEConfig(latent_dim=latent_dim, hidden=16,
                                                     image_size=8)), seed)
    isa = seeded_init(lambda: build_vae(VAEConfig(latent_dim=latent_dim, hidden=16, prior=prior,
                                                  image_size=8, **kw)), seed)
    for a, b in zip(normal.parameters(), isa.parameters()):
        assert torch.equal(a, b)
    return normal, isa


def test_prior_strings():
    assert format_prior(parse_prior("isa")) == "isa:2.1;2.2x4,2.2x4,2.2x4,2.2x4,2.2x4"
    assert parse_prior(PAPER_ISA_LAYOUT) == L.isa_tree(2.1, [(2.2, 4)] * 5)   # eq 9, Table 1
    assert parse_prior(" isa: 2 ; 1.9x3, 2*2.5x2 ") == L.isa_tree(2.0, [(1.9, 3), (2.5, 2), (2.5, 2)])
    assert parse_prior("normal") is None
    for bad in ["isa:2.1", "isa:2.1;2.2", "isa:2.1;0x4", "isa:-1;2x2", "isa:2;2x0", "lp:2;2x2",
                "isa:2;0*2x2", "isa:2;nanx2"]:
        with pytest.raises(ValueError, match="prior"):
            parse_prior(bad)
    with pytest.raises(TypeError, match="prior"):
        parse_prior(2.1)


def test_bad_configs_name_the_option():
    with pytest.raises(ValueError, match="latent_dim 10 does not match"):
        VAEConfig(latent_dim=10, prior="isa")
    with pytest.raises(ValueError, match="learn_exponents"):
        VAEConfig(latent_dim=4, learn_exponents=True)
    with pytest.raises(ValueError, match="prior_scale"):
        VAEConfig(latent_dim=20, prior="isa", prior_scale=-1.0)
    with pytest.raises(ValueError, match="n_samples"):
        build_objective("isa-vae", 1.0, n_samples=0)
    with pytest.raises(ValueError, match="prior"):
        VAEConfig(latent_dim=4, prior="isa:2;2x-4")


def test_unit_variance_default_scale():
    prior = LpNestedPrior(parse_prior("isa"))
    assert prior.scale == pytest.approx(L.unit_variance_scale(parse_prior("isa")), rel=1e-15)
    z = prior.sample(100_000, generator=torch.Generator().manual_seed(0))
    # var of 1e5 draws: se ≈ sqrt(2/1e5) ≈ 0.0045 per coordinate (platykurtic: a bit less)
    np.testing.assert_allclose(z.var(0).numpy(), 1.0, atol=5 * 0.0045)


def test_all_twos_is_the_normal_prior_exactly():
    _, isa = _pair("isa:2;2*2x2", prior_scale=2.0)
    z = torch.randn(50, 4, generator=torch.Generator().manual_seed(1)) * 3
    want = dist.StandardNormalPrior(4).log_prob(z)
    torch.testing.assert_close(isa.prior.log_prob(z), want, rtol=1e-13, atol=1e-12)


def test_monte_carlo_kl_and_gradients_match_closed_form_for_all_twos():
    normal, isa = _pair("isa:2;2*2x2", prior_scale=2.0)
    x = (torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(2)) < 0.3).double()
    beta, n_draws, n_rep = 1.0, 4000, 32
    obj_n = build_objective("beta-vae", beta, n_samples=n_draws)
    obj_i = build_objective("isa-vae", beta, n_samples=n_draws)
    kls, grads = [], []
    for r in range(n_rep):
        outs = []
        for model, obj in ((normal, obj_n), (isa, obj_i)):
            model.zero_grad()
            out = obj(model, x, torch.Generator().manual_seed(100 + r))   # same draws of z
            out.loss.backward()
            outs.append((out.terms, torch.cat([p.grad.flatten() for p in model.encoder.parameters()])))
        (tn, gn), (ti, gi) = outs
        assert float(tn["recon"]) == float(ti["recon"])                  # same z, same decoder
        kls.append(float(ti["kl"]) - float(tn["kl"]))
        grads.append((gi - gn).numpy())
    kls, grads = np.array(kls), np.array(grads)
    # Monte Carlo minus closed form: zero mean; 5 standard errors over the n_rep repetitions
    se = kls.std(ddof=1) / math.sqrt(n_rep)
    assert abs(kls.mean()) < 5 * se + 1e-12
    gse = grads.std(0, ddof=1) / math.sqrt(n_rep)
    big = gse > 1e-9                           # parameters the KL does not reach have zero gradient
    assert big.sum() > 100
    z = grads.mean(0)[big] / gse[big]
    # under the null each z is t-distributed with 31 dof: |z| > 5.5 has probability ~2e-3 over
    # these few hundred coordinates; the mean of z^2 is 1 ± 0.1
    assert np.max(np.abs(z)) < 5.5 and np.mean(z ** 2) < 1.5


def _kl_by_quadrature(mu, sd, tree, scale, m=1601):
    """E_q[log q - log p] for q = N(mu, diag sd^2) in 2-D by the tensor trapezoid rule on
    ±9 sd (tail mass < 1e-18); log p is the numpy density of theory.lp_nested (eq 7, 11)."""
    g = [np.linspace(mu[j] - 9 * sd[j], mu[j] + 9 * sd[j], m) for j in range(2)]
    Z = np.stack(np.meshgrid(*g, indexing="ij"), -1)
    logq = (-0.5 * (((Z - mu) / sd) ** 2 + np.log(2 * np.pi * sd ** 2))).sum(-1)
    f = np.exp(logq) * (logq - L.log_prob(Z, tree, scale))
    return np.trapezoid(np.trapezoid(f, g[1], axis=1), g[0])


@pytest.mark.parametrize("spec,scale", [("isa:1.5;1x2", 1.0), ("isa:3.0;0.8x2", 0.7)])
def test_monte_carlo_kl_against_2d_quadrature(spec, scale):
    tree = parse_prior(spec)
    prior = LpNestedPrior(tree, scale)
    mu, sd = np.array([0.3, -0.8]), np.array([0.5, 0.2])
    want = _kl_by_quadrature(mu, sd, tree, scale)
    n = 400_000
    m, lv = torch.tensor(mu).expand(n, 2), torch.tensor(np.log(sd ** 2)).expand(n, 2)
    z = dist.sample_diag_gaussian(m, lv, torch.Generator().manual_seed(3))
    est = (dist.gaussian_log_density(z, m, lv).sum(-1) - prior.log_prob(z)).numpy()
    se = est.std() / math.sqrt(n)
    # 5 standard errors; the trapezoid rule on the kinks at z_j = 0 errs by O(h^2) ~ 1e-6
    assert abs(est.mean() - want) < 5 * se, (est.mean(), want, se)


def test_maximum_likelihood_recovers_the_exponents():
    true = L.isa_tree(2.1, [(1.6, 3), (3.0, 3)])
    scale = 1.3
    z = torch.from_numpy(L.sample(20_000, true, scale, np.random.default_rng(11)))
    model = LearnableLpNested(L.isa_tree(2.1, [(2.0, 3), (2.0, 3)]), scale)   # App. A.2 start
    opt = torch.optim.LBFGS(model.parameters(), max_iter=200, tolerance_grad=1e-12,
                            tolerance_change=1e-15, line_search_fn="strong_wolfe")

    def nll():
        opt.zero_grad()
        loss = -model.log_prob(z).mean()
        loss.backward()
        return loss

    opt.step(nll)
    theta = model.log_exponents.detach().clone()
    # standard errors from the observed information (Hessian of the total NLL in p = exp θ)
    p = torch.exp(theta).requires_grad_(True)

    def total_nll(p):
        return -torch.sum(model().__class__(model.tree, torch.tensor(scale),
                                            exponents=torch.cat([model.root, p])).log_prob(z))

    h = torch.autograd.functional.hessian(total_nll, p)
    se = torch.sqrt(torch.diag(torch.linalg.inv(h))).numpy()
    got = p.detach().numpy()
    assert np.all(se < 0.05)                                  # the data do pin the exponents
    np.testing.assert_array_less(np.abs(got - [1.6, 3.0]), 5 * se)


def test_training_lowers_the_loss_and_moves_the_exponents():
    model, obj = seeded_init(lambda: (
        build_vae(VAEConfig(latent_dim=6, hidden=32, prior="isa:2.1;3*2x2", learn_exponents=True)),
        build_objective("isa-vae", 1.0)), 0)
    t = Trainer(model, obj, DATA, TrainConfig(epochs=1, batch_size=64, lr=3e-3, prior_lr=2e-2))
    assert [g["lr"] for g in t.optimizer.param_groups] == [3e-3, 2e-2]
    x = t.batch(0)

    def loss_at(seed_step):
        with torch.no_grad():
            return float(obj(model, x, step_generator(0, seed_step)).loss)

    before = np.mean([loss_at(s) for s in range(20)])
    p0 = model.prior.exponents.detach().clone()
    log = [t.run_step() for _ in range(t.steps_per_epoch)]
    after = np.mean([loss_at(s) for s in range(20)])
    assert after < before - 100          # nats per image; an untrained decoder costs ~2800
    p1 = model.prior.exponents.detach()
    assert p1[0] == p0[0] == 2.1                                  # p0 fixed (App. A.2)
    assert torch.all(p1[1:] != p0[1:])
    # each step logs the exponents it used, i.e. those before its update
    assert log[0]["p1"] == float(p0[1]) and log[0]["p0"] == 2.1
    assert log[-1]["p1"] != float(p1[1])


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_isa_tcvae_terms_telescope_to_the_monte_carlo_kl(estimator):
    model = seeded_init(lambda: build_vae(VAEConfig(latent_dim=6, hidden=16,
                                                    prior="isa:2.1;2.2x2,1.8x4")), 0)
    obj = build_objective("isa-tcvae", 3.0, dataset_size=len(DATA), estimator=estimator)
    x = torch.from_numpy(DATA.images(np.arange(40))).double()
    out = obj(model, x, torch.Generator().manual_seed(5))
    t = out.terms
    fwd = out.forward
    mc_kl = (dist.gaussian_log_density(fwd["z"], fwd["mu"], fwd["logvar"]).sum(-1)
             - model.prior.log_prob(fwd["z"])).mean()
    torch.testing.assert_close(t["mi"] + t["tc"] + t["dwkl"], mc_kl.detach(), rtol=1e-12, atol=1e-10)
    torch.testing.assert_close(t["kl"], mc_kl.detach(), rtol=1e-12, atol=1e-10)
    # the loss is recon + MI + β TC + DWKL on those terms
    torch.testing.assert_close(out.loss.detach(), t["recon"] + t["mi"] + 3.0 * t["tc"] + t["dwkl"],
                               rtol=1e-12, atol=1e-9)
    with pytest.raises(ValueError, match="log_pz"):
        kl_decomposition(fwd["z"], fwd["mu"], fwd["logvar"], torch.zeros(3))


def test_learned_exponents_start_at_two_for_the_paper_layout():
    m = build_vae(VAEConfig(latent_dim=20, hidden=8, prior="isa", learn_exponents=True))
    torch.testing.assert_close(m.prior.exponents.detach(),
                               torch.tensor([2.1, 2.0, 2.0, 2.0, 2.0, 2.0]))     # App. A.2
    m = build_vae(VAEConfig(latent_dim=20, hidden=8, prior="isa"))
    torch.testing.assert_close(m.prior.exponents.detach(),
                               torch.tensor([2.1, 2.2, 2.2, 2.2, 2.2, 2.2]))     # Table 1
