"""Training objectives: a loss to minimise plus named terms.

Every objective is an ``nn.Module`` (so auxiliary networks, e.g. the FactorVAE
discriminator, are registered with it) called as ``objective(model, x,
generator)`` and returning an :class:`ObjectiveOutput`:

``loss``
    scalar to minimise w.r.t. the model's parameters (a *negative* ELBO-like
    free energy, averaged over the batch);
``terms``
    named scalars (detached) for logging;
``aux_loss``
    scalar to minimise w.r.t. the objective's own parameters, or None.

Objectives
----------
* :class:`BetaVAE` — Higgins et al. 2017, eq. 4:
  ``-E_q[log p(x|z)] + beta KL(q(z|x) || p(z))`` (beta = 1: the VAE). With the Lp-nested prior
  of :class:`deep.priors.LpNestedPrior` it is the ISA-VAE of Stühmer et al. 2020, eq. 12
  (``"isa-vae"``): the KL has no closed form and is estimated by Monte Carlo over z.
* :class:`BetaTCVAE` — Chen et al. 2018; Stühmer et al. 2020, eq. 3:
  ``-E_q[log p(x|z)] + alpha I_q(z; n) + beta TC(z) + gamma sum_j KL(q(z_j) || p(z_j))``
  with the aggregate posterior estimated by minibatch-weighted (MWS) or
  minibatch-stratified (MSS) sampling. With the Lp-nested prior it is the ISA-β-TCVAE
  (``"isa-tcvae"``, Stühmer et al. 2020, Figs. 8–16), see :func:`kl_decomposition`.
* :class:`FactorVAE` — Kim & Mnih 2018: ``-ELBO + gamma TC`` with TC estimated by the
  density-ratio trick ``E_q[log D(z) / (1 - D(z))]`` and a discriminator trained to tell
  q(z) from the dimension-wise permuted batch.
"""

from __future__ import annotations

__all__ = ["OBJECTIVES", "ISA_OBJECTIVES", "GRAE_OBJECTIVES", "GRAE", "check_posterior", "ESTIMATORS", "ObjectiveOutput",
           "prior_terms", "kl_term", "BetaVAE", "log_qz_matrix", "mss_log_weights",
           "aggregate_log_densities", "kl_decomposition", "BetaTCVAE", "permute_dims",
           "density_ratio_tc", "FactorVAE", "build_objective"]

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from deep.models import distributions as dist
from deep.models import posteriors as post
from deep.models.networks import Discriminator
from deep.names import GRAE_OBJECTIVES, ISA_OBJECTIVES, OBJECTIVES  # re-exported
from validation import check_int, check_tensor

ESTIMATORS = ("mws", "mss")


@dataclass
class ObjectiveOutput:
    loss: torch.Tensor
    terms: dict
    aux_loss: torch.Tensor | None = None
    forward: dict | None = None


def _check_weight(name, v):
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    return float(v)


def _check_samples(n_samples):
    if not isinstance(n_samples, int) or isinstance(n_samples, bool) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}")
    return n_samples


def check_batch(x, min_rows: int = 1) -> torch.Tensor:
    """A batch of images: a real floating tensor with at least ``min_rows`` rows (a mean over
    an empty batch is NaN)."""
    check_tensor(x, "x", floating=True, finite=True)
    if x.ndim < 2 or x.shape[0] < min_rows:
        raise ValueError(f"x must be a batch (B, ...) with B >= {min_rows}, got shape {tuple(x.shape)}")
    return x


def _check_model(model):
    """A VAE-like module: an ``nn.Module`` with a ``prior`` (:class:`deep.models.VAE`)."""
    if not isinstance(model, nn.Module) or not isinstance(getattr(model, "prior", None), nn.Module):
        raise TypeError(f"model must be a VAE (an nn.Module with a prior), got {type(model).__name__}")
    return model


def _check_fwd(fwd):
    """The dict a VAE's forward returns: tensors ``mu``, ``z`` and ``logvar`` (and ``chol`` for a
    block posterior)."""
    if not isinstance(fwd, dict) or any(k not in fwd for k in ("mu", "logvar", "z")):
        raise TypeError(f"fwd must be the dict of a VAE's forward pass (keys 'mu', 'logvar', 'z'), "
                        f"got {type(fwd).__name__}")
    return fwd


def prior_terms(model) -> dict:
    """The prior's exponents as loggable terms ``{"p0": .., "p1": ..}`` (learned exponents,
    Stühmer et al. 2020, App. A.2); empty for the normal prior."""
    _check_model(model)
    ex = getattr(model.prior, "exponents", None)
    return {} if ex is None else {f"p{i}": v for i, v in enumerate(ex.detach().unbind(0))}


def kl_term(model, fwd: dict) -> torch.Tensor:
    """KL(q(z|x) || p(z)) per sample, (B,): closed form if the prior offers one, else the
    one-sample Monte Carlo estimate log q(z|x) - log p(z). A block-diagonal posterior (``fwd``
    holds its Cholesky factors ``"chol"``; normal prior only) uses
    :func:`deep.models.posteriors.kl_block_std_normal`."""
    _check_model(model)
    _check_fwd(fwd)
    if "chol" in fwd:
        return post.kl_block_std_normal(fwd["mu"], fwd["chol"])
    kl = getattr(model.prior, "kl_from_diag_gaussian", None)
    out = kl(fwd["mu"], fwd["logvar"]) if kl is not None else None
    if out is None:
        out = dist.gaussian_log_density(fwd["z"], fwd["mu"], fwd["logvar"]).sum(-1) \
            - model.prior.log_prob(fwd["z"])
    return out


class BetaVAE(nn.Module):
    """Higgins et al. 2017, eq. 4 (beta = 1 is the VAE of Kingma & Welling 2014); with an
    Lp-nested prior, the ISA-VAE of Stühmer et al. 2020, eq. 12:

    .. math:: \\mathcal L = E_{q(z|x)}[\\log p(x|z)] - \\beta\\,
              E_{q(z|x)}[\\log q(z|x) - \\log p_{ISA}(z)]

    estimated with ``n_samples`` reparameterised draws of z per data point (the KL in closed
    form when the prior has one, else the Monte Carlo average of log q − log p on the same draws).
    The loss is −𝓛 averaged over the batch.
    """

    name = "beta-vae"

    def __init__(self, beta: float = 1.0, n_samples: int = 1):
        super().__init__()
        self.beta = _check_weight("beta", beta)
        self.n_samples = _check_samples(n_samples)

    def forward(self, model, x: torch.Tensor, generator=None) -> ObjectiveOutput:
        check_batch(x)
        if self.n_samples == 1:
            fwd = model(x, generator)
            rec = -model.log_likelihood(x, fwd["out"]).mean()
            kl = kl_term(model, fwd).mean()
        else:
            fwd, rec, kl = _multi_sample(model, x, self.n_samples, generator)
        loss = rec + self.beta * kl
        terms = {"loss": loss, "recon": rec, "kl": kl, "neg_elbo": rec + kl, **prior_terms(model)}
        return ObjectiveOutput(loss, {k: v.detach() for k, v in terms.items()}, None, fwd)


def _multi_sample(model, x, n_samples, generator):
    """S draws of z per point: returns (fwd of the first draw, mean reconstruction term,
    mean KL term), the means over S and the batch."""
    if getattr(model, "block", 1) > 1:
        return _multi_sample_block(model, x, n_samples, generator)
    mu, logvar = model.encode(x)
    b, d = mu.shape
    eps = torch.randn((n_samples, b, d), generator=generator, device=mu.device, dtype=mu.dtype)
    z = mu + torch.exp(0.5 * logvar) * eps                                   # (S, B, d)
    out = model.decode(z.reshape(n_samples * b, d))
    xs = x.expand(n_samples, *x.shape).reshape(n_samples * b, *x.shape[1:])
    rec = -model.log_likelihood(xs, out).mean()
    kl = getattr(model.prior, "kl_from_diag_gaussian", lambda m, v: None)(mu, logvar)
    if kl is None:
        kl = dist.gaussian_log_density(z, mu, logvar).sum(-1) - model.prior.log_prob(z)
    fwd = {"mu": mu, "logvar": logvar, "z": z[0], "out": out[:b]}
    return fwd, rec, kl.mean()


def _multi_sample_block(model, x, n_samples, generator):
    """:func:`_multi_sample` for a block-diagonal posterior (closed-form KL, normal prior)."""
    mu, C = model.encode_cholesky(x)
    b, d = mu.shape
    eps = torch.randn((n_samples, b, d), generator=generator, device=mu.device, dtype=mu.dtype)
    z = post.sample_block_gaussian(mu, C, eps=eps)                           # (S, B, d)
    out = model.decode(z.reshape(n_samples * b, d))
    xs = x.expand(n_samples, *x.shape).reshape(n_samples * b, *x.shape[1:])
    rec = -model.log_likelihood(xs, out).mean()
    logvar = torch.log(C.pow(2).sum(-1).reshape(mu.shape))
    fwd = {"mu": mu, "logvar": logvar, "chol": C, "z": z[0], "out": out[:b]}
    return fwd, rec, post.kl_block_std_normal(mu, C).mean()


def _diagonal_only(model, name):
    if getattr(model, "block", 1) > 1:
        raise ValueError(f"posterior: {name} supports the diagonal posterior only, the model has "
                         f"blocks of {model.block}")


# ------------------------------------------------------------ aggregate posterior
def log_qz_matrix(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``M[i, j, k] = log q(z_ik | n_j)``, (B, d) x3 -> (B, B, d)."""
    for name, t in (("z", z), ("mu", mu), ("logvar", logvar)):
        check_tensor(t, name, ndim=2)
    if mu.shape != z.shape or logvar.shape != z.shape:
        raise ValueError(f"mu and logvar must have the shape of z {tuple(z.shape)} (B, d), got "
                         f"{tuple(mu.shape)} and {tuple(logvar.shape)}")
    return dist.gaussian_log_density(z[:, None, :], mu[None, :, :], logvar[None, :, :])


def mss_log_weights(batch_size: int, dataset_size: int, device=None,
                    dtype=torch.float32) -> torch.Tensor:
    """Log importance weights of minibatch stratified sampling (Chen et al. 2018, App. C.2).

    Row ``i`` estimates ``q(z_i) = (1/N) sum_n q(z_i|n)`` from the batch in which
    ``z_i ~ q(z|n_i)``, with ``M = B - 1`` other samples:

    .. math:: \\hat q(z_i) = \\tfrac1N q(z_i|n_i) + \\tfrac{N-M}{NM} q(z_i|n_{i+1})
              + \\tfrac1M \\sum_{j\\ne i, i+1} q(z_i|n_j)

    (indices mod B).  Each row sums to 1 and, for a uniformly random batch,
    ``E[\\hat q(z_i)] = q(z_i)`` exactly: every other point enters with
    probability M/(N-1) and expected weight ((M-1)/M * 1/M + 1/M * (N-M)/(NM)) = (N-1)/(NM)
    (tested by enumeration).  The widely copied matrix that writes
    ``W.view(-1)[::M+1] = 1/N`` with ``M = B - 1`` fills the *first column*, not the
    diagonal (stride B, not B + 1); this function builds the entries by index.

    Returns
    -------
    logw : Tensor of shape (B, B)
    """
    batch_size = check_int(batch_size, "batch_size", low=2)
    dataset_size = check_int(dataset_size, "dataset_size", low=batch_size)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype (log-weights are real), got {dtype!r}")
    n, m = dataset_size, batch_size - 1
    w = torch.full((batch_size, batch_size), 1.0 / m, dtype=torch.float64)
    i = torch.arange(batch_size)
    w[i, i] = 1.0 / n
    w[i, (i + 1) % batch_size] = (n - m) / (n * m)
    return w.log().to(device=device, dtype=dtype)


def aggregate_log_densities(z, mu, logvar, dataset_size: int | None = None,
                            estimator: str = "mws") -> tuple[torch.Tensor, torch.Tensor]:
    """Estimates of log q(z_i) and sum_j log q(z_ij) from a batch (Chen et al. 2018, App. C).

    * ``"mws"``: minibatch-weighted sampling, the batch as draws from the empirical
      distribution, ``\\hat q(z_i) = (1/B) sum_j q(z_i|n_j)``.  With the whole dataset as
      the batch (B = N) it is the exact aggregate posterior.  (Chen et al.'s reference
      code normalises by ``log(N B)`` instead of ``log B``; that shifts log q(z) by
      ``-log N`` and the TC by ``(d-1) log N``, a constant that leaves the gradients but
      not the value intact.)
    * ``"mss"``: minibatch-stratified sampling with :func:`mss_log_weights` (needs N).

    Parameters
    ----------
    z, mu, logvar : Tensor of shape (B, d)
    dataset_size : int, N (required for "mss")

    Returns
    -------
    log_qz : (B,)           estimate of log q(z_i)
    log_prod_qzj : (B,)     estimate of sum_j log q(z_ij)
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    # grad_exempt: in a trainer's forward pass a diverged model's NaN must reach its loss (a
    # NonFiniteLossError, the run stopped before its update), not stop here with a ValueError
    check_tensor(z, "z", ndim=2, min_size=1, finite=True, grad_exempt=True)
    check_tensor(mu, "mu", ndim=2, finite=True, grad_exempt=True)
    check_tensor(logvar, "logvar", ndim=2, finite=True, grad_exempt=True)
    if z.shape != mu.shape or z.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the shape of z {tuple(z.shape)} (B, d), got "
                         f"{tuple(mu.shape)} and {tuple(logvar.shape)}")
    b = z.shape[0]
    mat = log_qz_matrix(z, mu, logvar)                       # (B, B, d)
    if estimator == "mws":
        log_qz = torch.logsumexp(mat.sum(-1), dim=1) - math.log(b)
        log_prod = (torch.logsumexp(mat, dim=1) - math.log(b)).sum(-1)
    else:
        if dataset_size is None:
            raise ValueError("dataset_size is required for the 'mss' estimator")
        logw = mss_log_weights(b, dataset_size, z.device, z.dtype)
        log_qz = torch.logsumexp(logw + mat.sum(-1), dim=1)
        log_prod = torch.logsumexp(logw[:, :, None] + mat, dim=1).sum(-1)
    return log_qz, log_prod


def kl_decomposition(z, mu, logvar, log_pz, dataset_size=None, estimator="mws") -> dict:
    """The three terms of Stühmer et al. 2020, eq. 3 (Chen et al. 2018, eq. 2), per batch.

    ``mi = E[log q(z|n) - log q(z)]`` (index-code MI), ``tc = E[log q(z) - sum_j log q(z_j)]``,
    ``dwkl = E[sum_j log q(z_j) - log p(z)]``; they telescope to ``E[log q(z|n) - log p(z)]``, a
    one-sample estimate of E KL(q(z|n) || p(z)), on the same samples and for either estimator.
    (Eq. 3 as extracted writes the first term KL(q(z|x) || q(z)p(x)); it is
    KL(q(z, x) || q(z) p(x)).)

    For a factorised prior ``dwkl = sum_j KL(q(z_j) || p(z_j))``, Chen et al.'s dimension-wise KL.
    For a prior that does not factorise (the Lp-nested prior of the ISA-β-TCVAE, Stühmer et al.
    2020, Figs. 8–16) the same telescoping, written E[log q(z|n) − log p(z)] = E[log q(z|n) −
    log q(z)] + E[log q(z) − Σ_j log q(z_j)] + E[Σ_j log q(z_j) − log p(z)], leaves as its third
    term ``KL(prod_j q(z_j) ‖ p(z))``-like quantity E_q[Σ_j log q(z_j) − log p(z)]: the expectation
    is under q(z), not under prod_j q(z_j), so it is not itself a KL divergence and can be
    negative; only the sum of the three terms is the KL.

    log_pz : (B,) log p(z_i) (any prior), or (B, d) log p(z_ij) per dimension of a factorised
        prior (summed over d).
    """
    log_qz_x = dist.gaussian_log_density(z, mu, logvar).sum(-1)
    log_qz, log_prod = aggregate_log_densities(z, mu, logvar, dataset_size, estimator)
    check_tensor(log_pz, "log_pz", finite=True, grad_exempt=True)
    if log_pz.shape not in (z.shape, z.shape[:1]):
        raise ValueError(f"log_pz must have shape (B,) or (B, d) = {tuple(z.shape)}, "
                         f"got {tuple(log_pz.shape)}")
    if log_pz.ndim == 2:
        log_pz = log_pz.sum(-1)
    return {"mi": (log_qz_x - log_qz).mean(), "tc": (log_qz - log_prod).mean(),
            "dwkl": (log_prod - log_pz).mean()}


class BetaTCVAE(nn.Module):
    """β-TCVAE (Chen et al. 2018; Stühmer et al. 2020, eq. 3): alpha MI + beta TC + gamma DWKL.

    With a prior that does not factorise (the Lp-nested prior), the ISA-β-TCVAE: DWKL becomes
    E[Σ_j log q(z_j) − log p(z)] (:func:`kl_decomposition`) and the reported ``kl`` is the
    Monte Carlo E[log q(z|x) − log p(z)] on the same draws."""

    name = "beta-tcvae"

    def __init__(self, beta: float = 1.0, dataset_size: int | None = None, *, alpha: float = 1.0,
                 gamma: float = 1.0, estimator: str = "mss"):
        super().__init__()
        self.beta = _check_weight("beta", beta)
        self.alpha = _check_weight("alpha", alpha)
        self.gamma = _check_weight("gamma", gamma)
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
        if estimator == "mss" and (not isinstance(dataset_size, int) or dataset_size < 2):
            raise ValueError(f"dataset_size must be an int >= 2 for 'mss', got {dataset_size!r}")
        self.dataset_size, self.estimator = dataset_size, estimator

    def forward(self, model, x, generator=None) -> ObjectiveOutput:
        _diagonal_only(model, self.name)
        check_batch(x, 2 if self.estimator == "mss" else 1)
        fwd = model(x, generator)
        log_pz_dims = getattr(model.prior, "log_prob_dims", None)
        log_pz = model.prior.log_prob(fwd["z"]) if log_pz_dims is None else log_pz_dims(fwd["z"])
        rec = -model.log_likelihood(x, fwd["out"]).mean()
        t = kl_decomposition(fwd["z"], fwd["mu"], fwd["logvar"], log_pz,
                             self.dataset_size, self.estimator)
        loss = rec + self.alpha * t["mi"] + self.beta * t["tc"] + self.gamma * t["dwkl"]
        kl = kl_term(model, fwd).mean()
        terms = {"loss": loss, "recon": rec, "kl": kl, "neg_elbo": rec + kl, **t,
                 **prior_terms(model)}
        return ObjectiveOutput(loss, {k: v.detach() for k, v in terms.items()}, None, fwd)


def permute_dims(z: torch.Tensor, generator: torch.Generator | None = None,
                 keys: torch.Tensor | None = None) -> torch.Tensor:
    """Samples of prod_j q(z_j): each latent dimension permuted *across the batch*
    independently (Kim & Mnih 2018, Alg. 1).  Column ``j`` of the output is a
    permutation of column ``j`` of ``z`` (not a shuffle within a sample).

    Parameters
    ----------
    z : (B, d)
    keys : (B, d)
        uniform draws whose column-wise argsort is the permutation; drawn from
        ``generator`` (``torch.rand``) when None, or handed in (:mod:`deep.ensemble` draws them
        outside its batched computation)

    Returns
    -------
    (B, d)
    """
    check_tensor(z, "z", ndim=2, finite=True)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if keys is not None:
        check_tensor(keys, "keys", ndim=2, finite=True)
    return _permute_dims(z, generator, keys)


def _permute_dims(z, generator=None, keys=None):
    """:func:`permute_dims` without the value checks (inside FactorVAE's forward a diverged
    model's NaN must reach the loss and NonFiniteLossError)."""
    if keys is None:
        keys = torch.rand(z.shape, generator=generator, device=z.device)
    elif keys.shape != z.shape:
        raise ValueError(f"keys must have the shape of z {tuple(z.shape)}, got {tuple(keys.shape)}")
    return torch.gather(z, 0, torch.argsort(keys, dim=0))


def density_ratio_tc(logits: torch.Tensor) -> torch.Tensor:
    """TC by the density-ratio trick (Kim & Mnih 2018, eq. 3):
    ``E_q(z)[log D(z) / (1 - D(z))]`` with ``D = softmax(logits)[:, 0]``, i.e. the mean of
    ``logits[:, 0] - logits[:, 1]``.  With the Bayes-optimal discriminator, logits
    ``(log q(z), log prod_j q(z_j))``, it is exactly E[log q(z) - sum_j log q(z_j)] = TC.

    logits : (B, 2) -> scalar
    """
    check_tensor(logits, "logits", ndim=2, min_size=1, finite=True, grad_exempt=True)
    if logits.shape[1] != 2:
        raise ValueError(f"logits must have shape (B, 2), got {tuple(logits.shape)}")
    return (logits[:, 0] - logits[:, 1]).mean()


class FactorVAE(nn.Module):
    """FactorVAE (Kim & Mnih 2018) with the discriminator of Stühmer et al. 2020, App. A.4.

    ``loss = -E[log p(x|z)] + KL(q(z|x)||p(z)) + gamma * TC``, where
    ``TC = E_q(z)[log D(z)/(1-D(z))] = E[logit_0 - logit_1]`` (density-ratio trick);
    ``aux_loss`` is the discriminator's cross-entropy on (z, class 0) and
    (permute_dims(z), class 1), both detached from the VAE.  Kim & Mnih permute
    a second batch; here the same batch is permuted (its dimensions are still
    independent after permutation).
    """

    name = "factor-vae"

    def __init__(self, gamma: float = 10.0, latent_dim: int = 10, hidden: int = 1000,
                 layers: int = 5):
        super().__init__()
        self.gamma = _check_weight("gamma", gamma)
        self.discriminator = Discriminator(latent_dim, hidden, layers)

    def forward(self, model, x, generator=None, perm_keys=None) -> ObjectiveOutput:
        """``perm_keys``: the permutation's uniform draws (:func:`permute_dims`), else drawn from
        ``generator`` after the reparameterisation noise."""
        _diagonal_only(model, self.name)
        check_batch(x)
        fwd = model(x, generator)
        rec = -model.log_likelihood(x, fwd["out"]).mean()
        kl = kl_term(model, fwd).mean()
        logits = self.discriminator(fwd["z"])
        tc = density_ratio_tc(logits)
        loss = rec + kl + self.gamma * tc
        z_d = fwd["z"].detach()
        z_perm = _permute_dims(z_d, generator, perm_keys)
        zeros = torch.zeros(z_d.shape[0], dtype=torch.long, device=z_d.device)
        # the detached codes go through the discriminator's layers directly: its forward checks
        # a user's input for NaN, and here a diverged model's NaN must reach NonFiniteLossError
        aux = 0.5 * (F.cross_entropy(self.discriminator.net(z_d), zeros)
                     + F.cross_entropy(self.discriminator.net(z_perm), zeros + 1))
        terms = {"loss": loss, "recon": rec, "kl": kl, "neg_elbo": rec + kl, "tc": tc,
                 "disc_loss": aux}
        return ObjectiveOutput(loss, {k: v.detach() for k, v in terms.items()}, aux, fwd)


def build_objective(name: str, beta: float = 1.0, *, latent_dim: int = 10,
                    dataset_size: int | None = None, estimator: str = "mss",
                    disc_hidden: int = 1000, n_samples: int = 1) -> nn.Module:
    """The objective called ``name`` (one of :data:`OBJECTIVES`); ``beta`` is the
    regularisation strength (gamma for FactorVAE, as in Stühmer et al. 2020, Table 1).

    ``"isa-vae"`` and ``"isa-tcvae"`` are :class:`BetaVAE` and :class:`BetaTCVAE`; what makes
    them ISA models is the model's Lp-nested prior (:class:`deep.models.VAEConfig` ``prior``).
    ``n_samples`` (draws of z per point) applies to "beta-vae" and "isa-vae"."""
    if name not in OBJECTIVES:
        raise ValueError(f"name: unknown model {name!r}; known: {', '.join(OBJECTIVES)}")
    if name in GRAE_OBJECTIVES:
        if n_samples != 1:
            raise ValueError(f"n_samples: {name} is deterministic (no draws of z), got {n_samples!r}")
        return GRAE(beta, "exact" if name == "grae" else "stochastic")
    _check_weight("beta", beta)
    _check_samples(n_samples)
    if n_samples > 1 and name not in ("beta-vae", "isa-vae"):
        raise ValueError(f"n_samples > 1 is implemented for beta-vae and isa-vae, not {name!r}")
    if name in ("beta-vae", "isa-vae"):
        return BetaVAE(beta, n_samples)
    if name in ("beta-tcvae", "isa-tcvae"):
        return BetaTCVAE(beta, dataset_size, estimator=estimator)
    return FactorVAE(beta, latent_dim, disc_hidden)


# ------------------------------------------------------------ GRAE (Kumar & Poole 2020)
def check_posterior(model: str, posterior: str, latent_dim: int) -> int:
    """The block size of ``posterior`` if objective ``model`` supports it, else ValueError naming
    ``posterior``: the β-VAE (and ISA-VAE) any block structure, β-TCVAE and FactorVAE the
    diagonal one (their aggregate-posterior estimators are per dimension; the ISA-VAE's
    Lp-nested prior has no closed-form KL against a correlated q), GRAE the full one
    (eq 13 is eq 8 at the optimal *full* covariance of eq 11) and GRAE≈ the diagonal one (the
    Hadamard bound of eq 14 is eq 8 at the optimal *diagonal* covariance,
    ``Σ_ii = (1 + ‖J_:,i‖²/β)⁻¹``, Kumar & Poole 2020, sec. 5.3)."""
    block = post.parse_posterior(posterior, latent_dim)
    if model == "grae" and block != latent_dim:
        raise ValueError(f"posterior: model 'grae' supports 'full' only (eq 13), got {posterior!r}")
    if model in ("grae-approx", "beta-tcvae", "factor-vae", "isa-vae", "isa-tcvae") and block != 1:
        raise ValueError(f"posterior: model {model!r} supports 'diagonal' only, got {posterior!r}")
    return block


class GRAE(nn.Module):
    r"""The Gaussian Regularized AutoEncoder (Kumar & Poole 2020, eq 13) and GRAE≈ (eq 14).

    .. math:: -\log p(x|g(h(x))) + \tfrac\beta2\|h(x)\|^2
              + \tfrac\beta2 R(h(x)),\qquad
              R = \log\big|I + J^\top J/(\beta\sigma^2)\big|\ \text{(exact, eq 13)}

    or, for ``mode="stochastic"`` (GRAE≈), one uniformly sampled Jacobian column scaled by d,
    an unbiased estimate of the Hadamard bound ``Σ_i log(1 + ‖J_:,i‖²/(βσ²))`` (eq 14, k = 1 as
    in the paper's experiments). J is the decoder Jacobian at the encoding h(x) = the posterior mean
    (the encoder's covariance head, if any, is not used). With Gaussian observations of variance
    σ² (``obs_sigma``), H_p = −I/σ² (eq 12); the paper's eq 13 is σ = 1. The reconstruction term
    keeps log p's normalising constant, so the value is directly comparable with the β-VAE loss
    (−E_q log p(x|z) + β KL): it is −(eq 12), the β-VAE loss at the optimal covariance of the
    second-order objective (eq 10). The regularizers come from :mod:`deep.regularizers`.
    """

    def __init__(self, beta: float, mode: str = "exact", n_columns: int = 1):
        super().__init__()
        from deep.regularizers import _check_beta

        if mode not in ("exact", "stochastic"):
            raise ValueError(f"mode must be 'exact' or 'stochastic', got {mode!r}")
        self.beta = _check_beta(beta)
        self.mode, self.n_columns = mode, check_int(n_columns, "n_columns", low=1)
        self.name = "grae" if mode == "exact" else "grae-approx"

    def forward(self, model, x, generator=None) -> ObjectiveOutput:
        from deep.regularizers import _regularizer

        if model.likelihood != "gaussian":
            raise ValueError(f"likelihood: {self.name} needs Gaussian observations (eq 13), "
                             f"got {model.likelihood!r}")
        check_batch(x)
        mu = model.encode_mean(x)
        if self.n_columns > mu.shape[1]:
            raise ValueError(f"n_columns must lie in [1, {mu.shape[1]}] (the latents), got {self.n_columns}")
        hess = None
        if model.obs_sigma != 1.0:
            D = x[0].numel()
            hess = torch.full((x.shape[0], D), -1.0 / model.obs_sigma ** 2, dtype=x.dtype,
                              device=x.device)
        out, reg = _regularizer(model.flat_decoder(), mu, self.beta, self.mode, self.n_columns,
                                generator, hess)
        rec = -model.log_likelihood(x, out.view_as(x)).mean()
        enc = 0.5 * mu.pow(2).sum(-1).mean()
        dec = 0.5 * reg.mean()
        loss = rec + self.beta * (enc + dec)
        terms = {"loss": loss, "recon": rec, "enc_reg": enc, "dec_reg": dec}
        return ObjectiveOutput(loss, {k: v.detach() for k, v in terms.items()}, None,
                               {"mu": mu, "z": mu, "out": out.view_as(x)})
