"""The per-run evaluation of a sweep: disentanglement scores, held-out reconstruction, KL per
dimension and active units of one trained VAE (pure numpy/torch, no I/O).

* MIG, histogram (Locatello et al. 2019) and sampled (Chen et al. 2018), on the whole grid;
* β-VAE score (Higgins et al. 2017, App. A.4; factors scale, orientation, pos_x, pos_y) and
  FactorVAE score (Kim & Mnih 2018), evaluation accuracies;
* on the held-out images: ``heldout_log_px_z`` = E_q(z|x) log p(x|z) (nats per image, one
  reparameterised draw per image), ``kl`` = E_x KL(q(z|x) || p(z)) (closed form for N(0, I),
  one-draw Monte Carlo for an ISA prior), ``kl_per_dim`` (N(0, I) only: the KL factorises,
  Higgins et al. 2017, eq. 4) and ``heldout_neg_elbo``;
* ``active_units``: latents with Var_x E_q[z_j | x] > 0.01 over the grid (Burda et al. 2016,
  sec. 5.2);
* with ``higgins=True``: ``higgins_scores``, the three classifier-seed accuracies of Higgins et
  al. 2017's metric as published (App. A.4: Adagrad classifier, 5,000 test points) on the
  model's posterior means over the whole grid, ``higgins_score`` their mean and
  ``higgins_converged`` the classifiers' convergence flags — one model replica of the paper's
  10 replicas × 3 seeds, pooled across a sweep's seeds by
  :func:`betalab.sweep.views.higgins_cell`.
"""

from __future__ import annotations

__all__ = ["ACTIVE_UNIT_THRESHOLD", "active_units", "heldout_terms", "factor_response_of",
           "evaluate_vae", "evaluate_vaes"]

import numpy as np
import torch

from deep.metrics.classifier_scores import (HIGGINS_N_TEST, HIGGINS_N_TRAIN, beta_vae_score,
                                            factor_vae_score, higgins_replica_scores)
from deep.metrics.information import mig_histogram
from deep.metrics.sampled_mig import mig_sampled
from deep.metrics.wrappers import encode_dataset
from deep.models import distributions as dist
from validation import as_float_array, check_int, check_real, check_tensor


def _check_vae(model):
    if not isinstance(model, torch.nn.Module) or not all(
            hasattr(model, a) for a in ("encode", "decode", "log_likelihood", "prior")):
        raise TypeError(f"model must be a VAE (deep.models.VAE), got {type(model).__name__}")
    return model

#: Burda et al. 2016, sec. 5.2: a unit is active when Cov_x(E_q[u|x]) > 10^-2
ACTIVE_UNIT_THRESHOLD = 1e-2


def active_units(mu: np.ndarray, threshold: float = ACTIVE_UNIT_THRESHOLD) -> int:
    """Number of latents whose posterior mean varies over the data: mu (n, d) -> int."""
    mu = as_float_array(mu, "mu", 2, low=-1e100, high=1e100, min_size=1)
    threshold = check_real(threshold, "threshold", low=0.0)
    return int((np.var(mu, axis=0) > threshold).sum())


@torch.no_grad()
def heldout_terms(model, x: torch.Tensor, generator: torch.Generator) -> dict:
    """E_q log p(x|z), KL and (normal prior) KL per dimension on the images ``x`` (B, 1, H, W)."""
    _check_vae(model)
    check_tensor(x, "x", finite=True, min_size=1)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    mu, logvar = model.encode(x)
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    z = mu + torch.exp(0.5 * logvar) * eps
    ll = model.log_likelihood(x, model.decode(z))
    if isinstance(model.prior, dist.StandardNormalPrior):
        kl_dims = dist.kl_diag_gaussian_std_normal(mu, logvar).mean(0)
        kl, per_dim = float(kl_dims.sum()), [float(v) for v in kl_dims]
    else:
        kl = float((dist.gaussian_log_density(z, mu, logvar).sum(-1) - model.prior.log_prob(z)).mean())
        per_dim = None
    return {"heldout_log_px_z": float(ll.mean()), "kl": kl, "kl_per_dim": per_dim,
            "heldout_neg_elbo": float(-ll.mean()) + kl}


def factor_response_of(mu, factors, *, bins: int = 20, shape_factor: int = 0,
                       orientation_factor: int = 2) -> dict:
    """What each latent of the codes ``mu`` (n, d) says about each ground-truth factor of
    ``factors`` (n, K) — the quantities behind Higgins et al. 2017, Fig. 6 (latents against
    factors; informative latents have high KL):

    * ``factor_mi`` (d, K): I(z_j; v_k) in nats of the histogram-discretised codes (``bins``
      equal-width bins, :func:`deep.metrics.information.mig_histogram`'s estimator) and
      ``factor_entropy`` (K,): H(v_k), its upper bound;
    * ``orientation_response`` (S, R, d): the mean code at each (shape, orientation) pair over
      all other factors — Fig. 6's rotation curves, one per shape (columns ``shape_factor`` and
      ``orientation_factor`` of ``factors``; dSprites: 0 and 2;
      :func:`deep.metrics.latent_response.mean_response`)."""
    from deep.metrics.information import check_codes_factors
    from deep.metrics.latent_response import mean_response

    c, f = check_codes_factors(mu, factors)
    shape_factor = check_int(shape_factor, "shape_factor", low=0, high=f.shape[1] - 1)
    orientation_factor = check_int(orientation_factor, "orientation_factor", low=0, high=f.shape[1] - 1)
    if shape_factor == orientation_factor:
        raise ValueError(f"orientation_factor must differ from shape_factor ({shape_factor})")
    info = mig_histogram(c, f, bins)
    table = mean_response(c, f, orientation_factor, by=shape_factor)
    return {"factor_mi": info["mi"].tolist(), "factor_entropy": info["entropies"].tolist(),
            "orientation_response": table.tolist()}


def _host_metrics(job) -> dict:
    """The metrics of one model computed from its codes on the host: factor_response_of and
    Higgins et al.'s scores (a worker process's task in :func:`evaluate_vaes`)."""
    mu, factors, bins, with_response, higgins_rng, n_train, n_test = job
    out = factor_response_of(mu, factors, bins=bins) if with_response else {}
    if higgins_rng is not None:
        scores, converged = higgins_replica_scores(mu, factors, higgins_rng, n_train=n_train, n_test=n_test)
        out.update({"higgins_scores": [float(v) for v in scores],
                    "higgins_score": float(np.mean(scores)),
                    "higgins_converged": [bool(c) for c in converged]})
    return out


def evaluate_vae(model, dataset, heldout, *, seed: int = 0, n_train: int = 5000,
                 n_test: int = 2500, batch_size: int = 64, mig_samples: int = 10000,
                 mig_bins: int = 20, higgins: bool = False, replica: int = 0,
                 higgins_n_train: int = HIGGINS_N_TRAIN, higgins_n_test: int = HIGGINS_N_TEST,
                 standard: bool = True, factor_response: bool = False) -> dict:
    """Every metric of the module docstring for ``model`` on a ground-truth ``dataset`` (numpy
    ``images``, or a :class:`deep.data.DeviceStore` already on the model's device) with held-out
    indices ``heldout``; the metrics' randomness comes from ``seed``. The codes are computed on
    the model's device, and so is the sampled MIG (in larger chunks on a GPU; the same
    estimator, float64 either way).

    ``standard=False`` leaves out the two MIGs, the β-VAE and FactorVAE scores and the active
    units (the held-out terms stay): a sweep that needs only Higgins et al.'s metric skips the
    sampled MIG's ~10⁸ pairwise densities per model.

    ``higgins``: also Higgins et al. 2017's metric, by the call the study ``higgins-fig5-table``
    makes for each replica of its rows
    (:func:`deep.metrics.classifier_scores.higgins_replica_scores` with its defaults: L = 64,
    5,000 training and 5,000 test points, 3 classifier seeds, standardised features), on the
    codes of every image; its metric data and classifier seeds come from
    ``default_rng([seed, 5, replica])`` — ``replica`` (a sweep passes the training seed) gives
    each trained replica a fresh draw of the metric's data, as the study's replicas get, and
    leaves the other metrics' random stream unchanged. ``higgins_n_train`` / ``higgins_n_test``
    (default the study's 5,000 each) are smaller only in tests.

    ``factor_response``: also :func:`factor_response_of` the codes (what each latent says about
    each factor: Higgins et al. 2017, Fig. 6). :func:`evaluate_vaes` evaluates several models."""
    return evaluate_vaes([model], dataset, heldout, replicas=[replica], seed=seed,
                         n_train=n_train, n_test=n_test, batch_size=batch_size,
                         mig_samples=mig_samples, mig_bins=mig_bins, higgins=higgins,
                         higgins_n_train=higgins_n_train, higgins_n_test=higgins_n_test,
                         standard=standard, factor_response=factor_response)[0]


def evaluate_vaes(models, dataset, heldout, *, replicas, seed: int = 0, n_train: int = 5000,
                  n_test: int = 2500, batch_size: int = 64, mig_samples: int = 10000,
                  mig_bins: int = 20, higgins: bool = False,
                  higgins_n_train: int = HIGGINS_N_TRAIN, higgins_n_test: int = HIGGINS_N_TEST,
                  standard: bool = True, factor_response: bool = False,
                  workers: int = 1) -> list[dict]:
    """:func:`evaluate_vae` for each of ``models`` (``replicas[i]`` is model i's ``replica``),
    with the same results. The codes and held-out terms are computed on the models' device in
    turn; what is then computed from the codes on the host (:func:`factor_response_of`,
    Higgins et al.'s classifiers: seconds per model) runs in ``workers`` spawned processes when
    ``workers`` > 1 — a lent GPU host's idle cores evaluate an ensemble's members side by side."""
    if not isinstance(models, (list, tuple)) or not models:
        raise TypeError(f"models must be a non-empty list of VAEs, got {type(models).__name__}")
    if not isinstance(replicas, (list, tuple)) or len(replicas) != len(models):
        raise ValueError(f"replicas must hold one replica per model ({len(models)}), got {replicas!r}")
    for name, flag in (("higgins", higgins), ("standard", standard), ("factor_response", factor_response)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {flag!r}")
    for replica in replicas:
        if not isinstance(replica, (int, np.integer)) or isinstance(replica, bool) or replica < 0:
            raise ValueError(f"replicas: each replica must be a non-negative int, got {replica!r}")
    for name, v in (("n_train", n_train), ("n_test", n_test), ("batch_size", batch_size),
                    ("mig_samples", mig_samples), ("mig_bins", mig_bins),
                    ("higgins_n_train", higgins_n_train), ("higgins_n_test", higgins_n_test),
                    ("workers", workers)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    from deep.metrics.information import check_labels

    for model in models:
        _check_vae(model)
    seed = check_int(seed, "seed", low=0)
    if not hasattr(dataset, "images") or not hasattr(dataset, "__len__"):
        raise TypeError(f"dataset must be a ground-truth dataset (images, factors), got {type(dataset).__name__}")
    held = check_labels(heldout, "heldout", 1)
    if held.size == 0 or held.min() < 0 or held.max() >= len(dataset):
        raise ValueError(f"heldout must be non-empty indices in [0, {len(dataset)})")
    outs, jobs = [], []
    for model, replica in zip(models, replicas):
        mu, logvar, factors = encode_dataset(model, dataset)
        rng = np.random.default_rng([seed, 3])
        p = next(model.parameters())
        gen = torch.Generator(device=p.device)
        gen.manual_seed(int(np.random.SeedSequence([seed, 4]).generate_state(1)[0]))
        was_training = model.training
        model.eval()
        x = torch.as_tensor(dataset.images(held)).to(p.device, p.dtype)
        out = heldout_terms(model, x, gen)
        model.train(was_training)
        if standard:
            # the sampled MIG's (samples x points) density blocks: larger on a GPU (fewer launches)
            chunks = (1024, 16384) if p.device.type == "cuda" else (64, 1024)
            out.update({
                "mig_histogram": mig_histogram(mu, factors, mig_bins)["mig"],
                "mig_sampled": mig_sampled(mu, logvar, factors, n_samples=mig_samples, rng=rng,
                                           device=p.device, chunk_samples=chunks[0],
                                           chunk_points=chunks[1])["mig"],
                "beta_vae_score": beta_vae_score(mu, factors, rng=rng, n_train=n_train, n_test=n_test,
                                                 batch_size=batch_size, factor_indices=(1, 2, 3, 4))["eval_accuracy"],
                "factor_vae_score": factor_vae_score(mu, factors, rng=rng, n_train=n_train, n_test=n_test,
                                                     batch_size=batch_size)["eval_accuracy"],
                "active_units": active_units(mu),
            })
        outs.append(out)
        jobs.append((mu, factors, mig_bins, factor_response,
                     np.random.default_rng([seed, 5, replica]) if higgins else None,
                     higgins_n_train, higgins_n_test))
    if workers == 1 or len(jobs) == 1:
        host = [_host_metrics(job) for job in jobs]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawned (not forked) workers: this process may hold a CUDA context
        with ProcessPoolExecutor(min(workers, len(jobs)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            host = list(pool.map(_host_metrics, jobs))
    for out, extra in zip(outs, host):
        out.update(extra)
    return outs
