"""Stühmer et al. 2020 (ISA-VAE), the dSprites runs shared by sec. 4.1 (Fig. 5a; Fig. 5b's App. A.5
representatives) and App. A.2 (Fig. 7): one model trained (:func:`train_model`) and scored
(:func:`train_and_score`, the sampled MIG of :func:`sampled_mig` along training and at its end),
the runs of a study kept as pieces (:func:`_runs`), App. A.5's representative rule
(:func:`representative_index`) and the latent figures of a trained model (:func:`latent_figures`).

Each run trains one model (:func:`train_and_score`) and is kept as a piece of
``StudyConfig.partial`` as soon as it is scored, so an interrupted cpu-scale study resumes with
the runs it has not finished.
"""

from __future__ import annotations

import math

import numpy as np

from betalab.registry import StudyConfig
from betalab.studies.common import along_steps
from deep.traversal import kl_per_latent


def _dataset(reduced: bool):
    from deep.data import DSprites

    return (DSprites.reduced() if reduced else DSprites()).materialize()


def train_model(model: str, prior: str, beta: float, seed: int, *, steps: int, hidden: int,
                batch: int, reduced: bool, device: str = "cpu", learn_exponents: bool = False,
                evaluate=None, at=()):
    """Train one VAE on dSprites (Adam 1e-3, Stühmer et al. 2020 Table 1; 20 latents for the
    normal prior, the layout's number for an ISA prior). Deterministic for a given seed.

    ``evaluate(net, data, step)``, if given, is called after each step count in ``at`` (updates
    done, in [1, steps]). It must neither draw from the training's random streams (each step
    has its own generator, :func:`deep.train.step_generator`, and data order,
    :func:`deep.train.epoch_order`, so nothing global is consumed) nor change the parameters,
    and it must hand the net back in training mode (:func:`deep.metrics.encode_dataset` does):
    then training is the same with and without it, bit for bit.

    Returns (model, dataset, losses per step)."""
    from validation import resolve_device
    from deep.models import VAEConfig, build_objective, build_vae
    from deep.priors import parse_prior
    from deep.train import TrainConfig, Trainer, seeded_init
    from theory.lp_nested import n_leaves

    dev = resolve_device(device)
    data = _dataset(reduced)
    latent = 20 if prior == "normal" else n_leaves(parse_prior(prior))     # Table 1: 20 latents
    vcfg = VAEConfig(latent_dim=latent, hidden=hidden, prior=prior, learn_exponents=learn_exponents)
    net, obj = seeded_init(lambda: (build_vae(vcfg), build_objective(model, beta,
                                                                     dataset_size=len(data))), seed)
    net, obj = net.to(dev), obj.to(dev)
    epochs = math.ceil(steps * batch / len(data)) + 1
    tr = Trainer(net, obj, data, TrainConfig(epochs=epochs, batch_size=batch, lr=1e-3, seed=seed), dev)
    at = set(at)
    if evaluate is not None and any(not 1 <= s <= steps for s in at):
        raise ValueError(f"at must lie in [1, {steps}], got {sorted(at)}")
    losses = []
    for _ in range(steps):
        losses.append(tr.run_step()["loss"])
        if evaluate is not None and tr.step in at:
            evaluate(net, data, tr.step)
    return net, data, losses


def sampled_mig(mu, lv, f, seed: int, n_mig: int, device) -> float:
    """The score of Fig. 5a: Chen et al. 2018's sampled MIG without the shape factor (Stühmer
    et al. 2020, sec. 4), ``n_mig`` Monte Carlo samples per entropy, drawn from the fixed stream
    ``(seed, 7)``. Every evaluation of a run, along training and at its end, draws that same
    stream afresh (common random numbers: the change of the score between two points is not
    blurred by fresh sampling noise), so the end value is the one an evaluation only at the end
    gives. NaN when ``n_mig`` is 0."""
    from deep.metrics import mig_sampled

    if not n_mig:
        return float("nan")
    return float(mig_sampled(mu, lv, f, n_samples=n_mig, rng=np.random.default_rng([seed, 7]),
                             exclude=(0,), device=device)["mig"])


def _exponents_of(net) -> np.ndarray:
    """The prior's exponents (p0, p1, …) as float64, empty for the normal prior."""
    ex = getattr(net.prior, "exponents", None)
    return np.zeros(0) if ex is None else ex.detach().cpu().double().numpy()


def train_and_score(model: str, prior: str, beta: float, seed: int, *, steps: int, hidden: int,
                    batch: int, n_mig: int, reduced: bool, device: str = "cpu",
                    learn_exponents: bool = False, along=()) -> dict:
    """Train one VAE on dSprites (:func:`train_model`) and score it; returns plain numbers.

    ``along``: fractions of ``steps`` (:func:`along_steps`) at which the deciding statistics are
    also measured during training — the sampled MIG when ``n_mig`` > 0 (exactly as at the end:
    :func:`sampled_mig`), the prior's exponents when it has any. Training is bit-identical with
    and without them (see :func:`train_model`).

    Returns
    -------
    dict with ``mig`` (Chen et al. 2018's sampled MIG without shape, the score of Stühmer et al.
    2020, sec. 4; NaN when ``n_mig`` is 0), ``mig_histogram`` (20-bin histogram MIG, all five
    factors), ``recon`` (mean −log p(x|z) over the whole grid, one z per image, nats), ``kl``
    (mean KL per latent, from the posterior means and variances against N(0, 1) — a size, not
    the ISA KL), ``exponents`` (final prior exponents, empty for the normal prior) and
    ``loss_first`` / ``loss_last`` (mean loss over the first and last 50 steps). With ``along``:
    ``along_steps`` (K,), ``along_mig`` (K,) when ``n_mig`` > 0 and ``along_exponents`` (K, n_p)
    when the prior has exponents, the last point the end of training (equal to ``mig`` and
    ``exponents``).
    """
    import torch

    from deep.metrics import encode_dataset, mig_histogram
    from deep.train import step_generator

    points = along_steps(steps, along) if along else []
    trace_mig, trace_p = [], []

    def evaluate(net, data, step):
        if step == steps:                   # the end point is scored below, once
            return
        if n_mig:
            mu, lv, f = encode_dataset(net, data)
            trace_mig.append(sampled_mig(mu, lv, f, seed, n_mig, next(net.parameters()).device))
        trace_p.append(_exponents_of(net))

    net, data, losses = train_model(model, prior, beta, seed, steps=steps, hidden=hidden,
                                    batch=batch, reduced=reduced, device=device,
                                    learn_exponents=learn_exponents,
                                    evaluate=evaluate if points else None, at=points)
    dev = next(net.parameters()).device
    mu, lv, f = encode_dataset(net, data, device=dev)
    mig = sampled_mig(mu, lv, f, seed, n_mig, dev)
    out = {"mig": mig, "mig_histogram": mig_histogram(mu, f)["mig"],
           "kl": kl_per_latent(mu, lv),
           "loss_first": float(np.mean(losses[:50])), "loss_last": float(np.mean(losses[-50:]))}
    rec, g = [], step_generator(seed, 10 ** 9, dev)
    net.eval()
    with torch.no_grad():
        for s in range(0, len(data), 1024):
            x = torch.from_numpy(data.images(np.arange(s, min(s + 1024, len(data))))).to(dev)
            fwd = net(x, g)
            rec.append(-net.log_likelihood(x, fwd["out"]).cpu().numpy())
    out["recon"] = float(np.concatenate(rec).mean())
    out["exponents"] = _exponents_of(net)
    if points:
        out["along_steps"] = np.array(points)
        if n_mig:
            out["along_mig"] = np.array(trace_mig + [mig])
        if out["exponents"].size:
            out["along_exponents"] = np.array(trace_p + [out["exponents"]])
    return out


def representative_index(mig, recon) -> int:
    """The representative model of a set of runs, Stühmer et al. 2020, App. A.5: among the runs
    in the upper 50% quantile of MIG, the one closest in Mahalanobis distance (with the mean
    and the variance of MIG and reconstruction loss over those runs, i.e. a diagonal
    covariance) to their mean. Returns an index into ``mig``."""
    mig, recon = np.asarray(mig, float), np.asarray(recon, float)
    if mig.shape != recon.shape or mig.ndim != 1 or mig.size == 0:
        raise ValueError(f"mig and recon must be 1-D of equal non-zero length, got {mig.shape}, "
                         f"{recon.shape}")
    top = np.flatnonzero(mig >= np.median(mig))
    pts = np.column_stack([mig[top], recon[top]])
    var = pts.var(0)
    var[var == 0] = 1.0                                  # a constant coordinate adds nothing
    d2 = (((pts - pts.mean(0)) ** 2) / var).sum(1)
    return int(top[np.argmin(d2)])


def _runs(config: StudyConfig, label: str, grid, sc: dict, progress_desc: str):
    """Train and score every (key, kwargs) of ``grid``; each run is a piece of config.partial."""
    from deep.progress import bar

    results = {}
    for key, kw in bar(grid, desc=progress_desc, leave=False, mininterval=5,
                        show=config.scale != "quick"):
        sig = {"study": label, "scale": config.scale, "key": key, "seed0": config.seed,
               **{k: v for k, v in kw.items()}, **sc}
        name = f"{label}-{key}"
        res = config.piece(name, sig, lambda: train_and_score(
            **kw, steps=sc["steps"], hidden=sc["hidden"], batch=sc["batch"], n_mig=sc["n_mig"],
            reduced=sc["reduced"], device=config.device, along=sc.get("along", ())))
        results[key] = {k: np.asarray(v) for k, v in res.items()}
    return results


_DEMO = {"quick": " (a short demonstration: models this briefly trained have not yet learned "
                  "the factors)"}


def _longer(study: str, scales: str, statistic: str):
    """The ``would_run`` of a study's convergence gate: the cpu run that records ``statistic``
    along training when the numbers hold no record, else a longer one than theirs."""
    def would_run(numbers):
        if numbers.get("convergence") is None:
            return (f"`betalab run {study} --scale cpu`, which records {statistic} of every "
                    "seed at 25/50/75/100 % of the steps.")
        return (f"a longer cpu-scale run: {scales}['cpu']['steps'] raised above "
                f"{numbers['settings']['steps']:,} until {statistic} levels off "
                f"(`betalab run {study} --scale cpu`).")
    return would_run


def latent_figures(net, data, key: str, label: str) -> tuple[dict, float]:
    """The latent-vs-factor plot and the traversals of a trained model (Stühmer et al. 2020,
    App. A.5, Figs 8–16 form; the latents of highest KL), named ``<key>_latents`` and
    ``<key>_traversals`` and titled with ``label``. Returns (figures, its histogram MIG on the
    whole grid)."""
    from betalab.plot import latent_factor_figure, traversal_figure
    from deep.metrics import encode_dataset, mig_histogram

    mu, lv, f = encode_dataset(net, data)
    kl = kl_per_latent(mu, lv)
    figs = {f"{key}_latents": latent_factor_figure(
                mu, f, kl, data.factor_values(),
                f"{label}: mean latent vs factors, 6 latents of highest KL", n_latents=6),
            f"{key}_traversals": traversal_figure(
                net, data, mu, kl, f"{label}: traversals of the 8 latents of highest KL", n_latents=8)}
    return figs, float(mig_histogram(mu, f)["mig"])
