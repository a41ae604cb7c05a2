r"""Sikka 2020, Results, Figs 4–5 (Methods: "Realistic Simulation Methods"; Results: "Realistic
Simulation with Deep β-VAE"): what the two deep studies share — their settings, data, training
and the numbers of each β.

Two studies, one per figure (:mod:`~betalab.studies.sikka2020.fig4_mixed_digits`,
:mod:`~betalab.studies.sikka2020.fig5_placed_digit`):

``sikka-fig4``
    mixed digits, x = A s + η with the columns of A two digit images
    (:func:`deep.data.digits.mixed_digits`): linear-Gaussian in s, so the ground-truth
    posterior is eq 28 in closed form;
``sikka-fig5``
    one digit placed on a blank canvas at p = A s + η, A_ij = 2δ_ij + 0.73
    (:func:`deep.data.digits.placed_digit`): the posterior given the image is
    computed by quadrature (:mod:`deep.metrics.inference_error`); Fig 5E traversals.

The reading of the thesis' generative schemes is written down in :mod:`deep.data.digits`.
Digits are scikit-learn's bundled 8×8 set (``load_digits``), the substitute for MNIST, which
cannot be obtained offline; every claim says so.

Model and training (Methods, "Model Architecture", "Training Details"): encoder FC 256-200-200
tanh with linear heads for the mean and log-variance of k = 2 latents, symmetric decoder, Gaussian
posterior, Gaussian likelihood (unit variance on the standardised pixels), N(0, I) prior, Adam
1e-3, 1000 training images standardised (one shift and scale). For each β the initialisations are trained
at once as a :class:`deep.ensemble.Ensemble` (member i has seed i at every β).

Quantities per β, per trained model, averaged over fresh draws of the data process (nats per
image, on the standardised pixels):

* reconstruction objective E_q log p(x|z) (eq 49; Monte Carlo over z), conditional-independence
  loss KL(q(z|x) ‖ p(z)) (eq 50; closed form), ELBO = their difference (eq 8);
* TIE = E KL(q(z|x) ‖ p(s|x)) (eq 5), the latent axes matched to the sources by the signed
  permutation that minimises it (as the linear study's ``tie_aligned``);
* ``|correlation|`` of the posterior means with the sources s and (Fig 5) with the position p, the
  "axes of motion", after matching.

Scales (``StudyConfig.scale``; each β is a piece of ``StudyConfig.partial``, so an interrupted
run resumes with the β it has not finished):

* ``quick`` — a demonstration in ``make reproduce`` (a few models, a few hundred steps); the
  paper's claims are ``not run`` at this scale, the implementation checks are decided;
* ``cpu``   — 100 initialisations per β on a grid dense around 1, smaller networks (64-32-32)
  and canvases (Fig 4: 8×8 digits; Fig 5: a 16×16 canvas) so that both figures fit in under two
  hours on 2 CPU cores (:data:`betalab.studies.sikka2020._deep_claims.CPU_COST`);
* ``full``  — the thesis' networks (256-200-200), 1000 epochs, a 40×40 canvas with 24×24
  (upsampled) digits; a GPU job.

Every quantity above is also measured at 25/50/75 % of the steps (:func:`train_ensemble`'s
``evaluate``, the same estimator and draws as at the end), and each paper claim is decided only
where its own curve has stopped moving along training (:func:`convergence_traces`). The claims
are in :mod:`~betalab.studies.sikka2020._deep_claims`, the curves' figures in
:mod:`~betalab.studies.sikka2020._deep_figures`.
"""

from __future__ import annotations

import math

import numpy as np

from betalab.registry import StudyConfig
from betalab.studies.common import ALONG, along_steps

SUBSTITUTE = "scikit-learn's 8×8 digits for MNIST (not obtainable offline)"
#: Sikka 2020, Methods ("300 realizations for each β") and Fig 4 caption ("100 random
#: initializations")
PRINTED_REALISATIONS, PRINTED_INITIALISATIONS = 300, 100

_GRID = (0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0)
#: ``along``: the fractions of the steps at which every member is evaluated (the last at the end;
#: :func:`betalab.studies.common.along_steps`); the quick scale evaluates along training too
#: (4 members: a fraction of a second per evaluation), so its figure shows the curves' drift
SCALES = {
    "quick": dict(members=4, betas=(0.5, 1.0, 2.0, 4.0), steps=300, batch=100, n_train=1000,
                  n_eval=400, n_z=4, widths=(32, 16, 16), along=ALONG),
    "cpu": dict(members=100, betas=_GRID, steps=3000, batch=100, n_train=1000, n_eval=1000,
                n_z=8, widths=(64, 32, 32), along=ALONG),
    "full": dict(members=100, betas=_GRID, steps=10_000, batch=100, n_train=1000, n_eval=2000,
                 n_z=32, widths=(256, 200, 200), along=ALONG),
}
#: per figure and scale: the data process (canvas, digit upsampling, position units) and the β of
#: the Fig 5E traversals
FIG4_DATA = {"quick": dict(canvas=8, upsample=1), "cpu": dict(canvas=8, upsample=1),
             "full": dict(canvas=40, upsample=3)}
FIG4_CLASSES, FIG4_NOISE = (3, 8), 1.0
FIG5_DATA = {"quick": dict(canvas=16, upsample=1, pixels_per_unit=0.5),
             "cpu": dict(canvas=16, upsample=1, pixels_per_unit=0.5),
             "full": dict(canvas=40, upsample=3, pixels_per_unit=1.0)}
FIG5_CLASS = 3
TRAVERSAL_BETAS = (0.5, 4.0)


# ============================================================================ data
def make_data(fig: str, scale: str, rng: np.random.Generator) -> dict:
    """Training and evaluation draws of the figure's process, standardised to mean 0 and
    standard deviation 1 over the training set (Methods).

    The standardisation is one shift and one scale for the whole image, not per pixel: on the
    Fig 5 canvas a pixel the digit covers in one of 1000 training images has a standard
    deviation ≈ 0.03, and per-pixel scaling would turn it into values ≈ 30 that dominate the
    Gaussian likelihood. A scalar scale also keeps the pixel noise of Fig 4 isotropic, as in
    eq 26.

    Returns dict with ``train`` (n_train, N) and ``eval`` (n_eval, N) standardised float64, the
    evaluation ``s`` (and ``p``, ``lo``, ``hi`` for Fig 5), ``A``, ``side``, ``mean``, ``scale``.
    """
    from deep.data import digits as G

    sc = SCALES[scale]
    if fig == "fig4":
        d = FIG4_DATA[scale]
        t = G.digit_templates(FIG4_CLASSES, d["upsample"])
        def draw(n): return G.mixed_digits(t, n, rng, canvas=d["canvas"], noise_std=FIG4_NOISE)
    elif fig == "fig5":
        d = FIG5_DATA[scale]
        t = G.digit_templates((FIG5_CLASS,), d["upsample"])[0]
        def draw(n): return G.placed_digit(t, n, rng, canvas=d["canvas"],
                                           pixels_per_unit=d["pixels_per_unit"])
    else:
        raise ValueError(f"fig must be 'fig4' or 'fig5', got {fig!r}")
    train, ev = draw(sc["n_train"]), draw(sc["n_eval"])
    mean, scl = float(train["x"].mean()), float(train["x"].std())
    out = {"train": (train["x"] - mean) / scl, "eval": (ev["x"] - mean) / scl, "s": ev["s"],
           "A": ev["A"], "side": d["canvas"], "mean": mean, "scale": scl}
    if fig == "fig5":
        out["p"] = ev["p"]
        out["lo"], out["hi"] = G.cell_bounds(ev["cell"], canvas=d["canvas"], digit=t.shape[0],
                                             pixels_per_unit=d["pixels_per_unit"])
    return out


# ============================================================================ training
def train_ensemble(x, side: int, beta: float, seeds, *, widths, steps: int, batch: int,
                   device: str = "cpu", evaluate=None, at=()):
    """Train one β-VAE per seed at ``beta`` on the standardised images ``x`` (n, side²), all at
    once (:class:`deep.ensemble.Ensemble`): "tanh3" networks of ``widths`` (Sikka 2020,
    Methods), 2 latents, Gaussian likelihood σ = 1, Adam 1e-3. Returns the ensemble.

    ``evaluate(ens, step)``, if given, is called after each step count in ``at`` (updates done,
    in [1, steps]). Each step draws its batches and noise from its own generators
    (:func:`deep.train.step_generator`, :func:`deep.train.epoch_order`), nothing global, so an
    evaluation that reads the members through copies (:func:`encode_members` does:
    ``Ensemble.member_model``) and draws from its own generator leaves the training the same,
    bit for bit."""
    from validation import resolve_device
    from deep.data import ArrayImages, DeviceStore
    from deep.ensemble import Ensemble, build_members
    from deep.models import VAEConfig
    from deep.train import TrainConfig
    from theory.linear_vae import check_beta

    beta = check_beta(beta)
    dev = resolve_device(device)
    data = DeviceStore(ArrayImages(x, side), dev)
    cfg = VAEConfig(arch="tanh3", latent_dim=2, likelihood="gaussian", image_size=side,
                    widths=tuple(widths))
    models, objectives, seeds = build_members(cfg, "beta-vae", [{"seed": int(s), "beta": beta}
                                                                for s in seeds],
                                              dataset_size=len(data))
    epochs = math.ceil(steps * batch / len(data)) + 1
    ens = Ensemble(models, objectives, seeds, data, TrainConfig(epochs=epochs, batch_size=batch),
                   dev)
    at = set(at)
    if evaluate is not None and any(not 1 <= s <= steps for s in at):
        raise ValueError(f"at must lie in [1, {steps}], got {sorted(at)}")
    for _ in range(steps):
        last = ens.run_step()
        if evaluate is not None and ens.step in at:
            evaluate(ens, ens.step)
    ens.last_loss = last["loss"].cpu().numpy()
    return ens


def encode_members(ens, x, n_z: int, seed: int) -> dict:
    """Every member's q(z|x) on ``x`` (n, N) and its terms, per member (arrays of length K):
    ``mu``, ``var`` (K, n, 2); ``rec`` = mean over x of E_q log p(x|z) (``n_z`` draws of z per
    x, from the generator seeded ``seed``: the same draws at every evaluation of a run, so the
    change along training is not blurred by fresh noise); ``kl`` = mean KL(q ‖ N(0, I)) (closed
    form), ``kl_dims`` (K, 2). Reads the members through copies; draws nothing global."""
    import torch

    from deep.models.distributions import kl_diag_gaussian_std_normal

    g = torch.Generator(device=ens.device).manual_seed(seed)
    xt = torch.as_tensor(np.asarray(x), dtype=ens.dtype, device=ens.device)
    xt = xt.view(len(x), 1, ens.template.model.vae.decoder.image_size, -1)
    out = {"mu": [], "var": [], "rec": [], "kl": [], "kl_dims": []}
    with torch.no_grad():
        for k in range(ens.k):
            m = ens.member_model(k).to(ens.device)
            mu, logvar = m.encode(xt)
            eps = torch.randn((n_z, *mu.shape), generator=g, device=ens.device, dtype=ens.dtype)
            z = (mu + torch.exp(0.5 * logvar) * eps).reshape(-1, mu.shape[1])
            ll = m.log_likelihood(xt.repeat(n_z, 1, 1, 1), m.decode(z))
            kl = kl_diag_gaussian_std_normal(mu, logvar)
            out["mu"].append(mu.double().cpu().numpy())
            out["var"].append(torch.exp(logvar).double().cpu().numpy())
            out["rec"].append(float(ll.double().mean()))
            out["kl"].append(float(kl.sum(1).double().mean()))
            out["kl_dims"].append(kl.double().mean(0).cpu().numpy())
    return {k: np.asarray(v) for k, v in out.items()}


def piece_numbers(fig: str, data: dict, enc: dict) -> dict:
    """The numbers of one β from the members' encodings: ``elbo``, ``rec``, ``kl``, ``kl_dims``,
    ``tie`` (aligned), ``tie_identity`` (latent i ↔ source i), ``corr_s`` (and ``corr_p``)."""
    from deep.metrics import inference_error as I

    if fig == "fig4":
        m, E = I.gaussian_posterior(_raw(data), data["A"], FIG4_NOISE)
        def kl_fn(mu, var): return I.gaussian_kl_per_point(mu, var, m, E)
    else:
        logz = I.placement_log_evidence(data["lo"], data["hi"], data["A"])
        def kl_fn(mu, var): return I.placement_kl(mu, var, data["lo"], data["hi"], data["A"],
                                                  log_evidence=logz)
    tie, tie_id, corr_s, corr_p = [], [], [], []
    for mu, var in zip(enc["mu"], enc["var"]):
        if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(var)) and np.all(var > 0)):
            tie.append(np.nan)                       # a member whose loss became non-finite
            tie_id.append(np.nan)
            corr_s.append(np.full(2, np.nan))
            corr_p.append(np.full(2, np.nan))
            continue
        t, Q, vals = I.aligned_tie(kl_fn, mu, var)
        tie.append(t)
        tie_id.append(vals[0])                       # signed_permutations(2)[0] is the identity
        corr_s.append(I.aligned_abs_correlation(mu, data["s"]))
        corr_p.append(I.aligned_abs_correlation(mu, data["p"]) if fig == "fig5" else np.full(2, np.nan))
    out = {"rec": enc["rec"], "kl": enc["kl"], "elbo": enc["rec"] - enc["kl"],
           "kl_dims": enc["kl_dims"], "tie": np.array(tie), "tie_identity": np.array(tie_id),
           "corr_s": np.array(corr_s)}
    out["corr_p"] = np.array(corr_p)              # NaN for Fig 4 (no positions)
    return out


def _raw(data):
    """The evaluation images in pixel units (the posterior is a function of the raw image)."""
    return data["eval"] * data["scale"] + data["mean"]


#: the quantities a piece also records along training (``along_<key>``, (K, members[, 2])): those
#: the paper claims are decided on (``corr_p`` for Fig 5 only: Fig 4 has no positions)
TRACED = ("elbo", "rec", "kl", "tie", "corr_p")


def run_betas(config: StudyConfig, fig: str, data: dict, sc: dict) -> dict:
    """Train and evaluate every β of ``sc["betas"]``; each β is a piece of ``config.partial``.
    Returns {β: piece}, a piece holding :func:`piece_numbers` plus ``loss_last`` and member 0's
    parameters (``param__<name>``) for the traversals; with ``sc["along"]`` also
    ``along_steps`` (K,) and, for each of :data:`TRACED`, ``along_<key>`` (K, members[, 2]): the
    same numbers at those steps, the last the end point."""
    from deep.progress import bar

    seeds = [1000 * config.seed + i for i in range(sc["members"])]
    points = along_steps(sc["steps"], sc["along"]) if sc.get("along") else []
    pieces = {}
    for beta in bar(sc["betas"], desc=f"Sikka {fig}: β", leave=False, mininterval=5,
                     show=config.scale != "quick"):
        # the signature holds ``along``: a piece of an earlier run (the end point only) is not reused
        sig = {"study": f"sikka-{fig}", "scale": config.scale, "seed": config.seed,
               "beta": float(beta), **{k: list(v) if isinstance(v, tuple) else v
                                       for k, v in sc.items() if k != "betas"}}
        name = f"sikka-{fig}-b{beta:g}"

        def compute(beta=beta):
            seen = []

            def evaluate(ens, step):
                if step < sc["steps"]:          # the end point is evaluated below, once
                    seen.append(piece_numbers(fig, data, encode_members(
                        ens, data["eval"], sc["n_z"], seed=config.seed)))

            ens = train_ensemble(data["train"], data["side"], beta, seeds, widths=sc["widths"],
                                 steps=sc["steps"], batch=sc["batch"], device=config.device,
                                 evaluate=evaluate if points else None, at=points)
            res = piece_numbers(fig, data, encode_members(ens, data["eval"], sc["n_z"],
                                                          seed=config.seed))
            if points:
                # the same estimators at every point along training, the last the end point
                res["along_steps"] = np.asarray(points)
                for k in TRACED if fig == "fig5" else TRACED[:-1]:   # Fig 4 has no positions
                    if k in res:
                        res[f"along_{k}"] = np.stack([np.asarray(r[k], float) for r in seen]
                                                     + [np.asarray(res[k], float)])
            res["loss_last"] = ens.last_loss
            res.update({f"param__{n}": v.cpu().numpy() for n, v in ens.member_state_dict(0).items()})
            return res

        res = config.piece(name, sig, compute)
        pieces[float(beta)] = res
    return pieces


# ============================================================================ convergence
def _neighbour_steps(values, betas) -> dict:
    """{"β_i→β_i+1": q(β_i+1) − q(β_i) per initialisation} from ``values`` (n_β, K, members):
    (K, members) each, the members non-finite at any point (a loss that became non-finite)
    left out of that difference."""
    v = np.asarray(values, float)
    out = {}
    for i in range(len(betas) - 1):
        d = v[i + 1] - v[i]
        out[f"β {betas[i]:g}→{betas[i + 1]:g}"] = d[:, np.all(np.isfinite(d), axis=0)]
    return out


def convergence_traces(numbers: dict) -> dict:
    """Each paper claim's deciding statistic along training, in the trace format of
    :func:`betalab.claims.convergence` (``{curve: trace}``; empty when the numbers hold no record
    along training, as in a run recorded before it was kept).

    The rule's input (Sikka 2020, Results, Figs 4–5): the claims on the curves A–D against β are
    claims on their shape — where the ELBO peaks (A; eqs 20–22), that TIE dips inside the grid
    (B; eq 5), that reconstruction (C; eq 19) and CI loss (D; eq 18) do not rise — and each is
    decided on paired differences between β values over the same initialisations (``_paired``
    of :mod:`~betalab.studies.sikka2020._deep_claims`). A curve's shape is fixed by its
    neighbouring differences, so the rule reads, per curve, q(β_i+1) − q(β_i) of each
    initialisation, one labelled trace per neighbouring pair, shape (K, members); the curve's
    claim is decided only when every one of them moved less over the last quarter of training
    than its paired standard error. Fig 5E's claim is decided on each initialisation's smaller
    ``|corr(latent mean, matched axis)|`` at β = 4, so that is its trace, (K, members)."""
    if "along_steps" not in numbers:
        return {}
    betas, steps = list(numbers["betas"]), list(numbers["along_steps"])
    names = {"elbo": "ELBO", "rec": "E_q log p(x|z)", "kl": "KL(q(z|x) ‖ p(z))", "tie": "TIE"}
    out = {k: {"statistic": f"{name}(β_i+1) − {name}(β_i) per initialisation", "steps": steps,
               "values": _neighbour_steps(numbers[f"{k}_along"], betas)}
           for k, name in names.items()}
    if numbers["fig"] == "fig5":
        j = betas.index(TRAVERSAL_BETAS[1])
        worst = np.nanmin(np.asarray(numbers["corr_p_along"], float)[j], axis=-1)   # (K, members)
        out["corr_p"] = {"statistic": f"the smaller |corr(latent mean, matched canvas axis)| at "
                                      f"β = {TRAVERSAL_BETAS[1]:g}", "steps": steps,
                         "values": worst[:, np.all(np.isfinite(worst), axis=0)]}
    return out


# ============================================================================ the studies' numbers
def study_numbers(config: StudyConfig, fig: str) -> tuple[dict, dict, dict]:
    """The numbers of ``sikka-fig4`` / ``sikka-fig5`` before their checks: the settings, every
    β's per-member numbers stacked (n_β, K[, 2]), and with a record along training the traced
    quantities (``<key>_along``, (n_β, K, members[, 2]), the last point the end) and their
    :func:`convergence_traces`. Returns (numbers, data, pieces): the figure's data
    (:func:`make_data`) and the pieces of :func:`run_betas`, for the figure's own checks and
    traversals."""
    sc = SCALES[config.scale]
    data = make_data(fig, config.scale, config.rng(1))
    pieces = run_betas(config, fig, data, sc)
    betas = [float(b) for b in sc["betas"]]
    numbers = {"fig": fig, "scale": config.scale, "settings": sc, "betas": betas,
               "data": (FIG4_DATA if fig == "fig4" else FIG5_DATA)[config.scale],
               "checks": {}}
    keys = ("elbo", "rec", "kl", "tie", "tie_identity", "kl_dims", "corr_s", "loss_last")
    for key in keys + (("corr_p",) if fig == "fig5" else ()):
        numbers[key] = np.stack([np.asarray(pieces[b][key], float) for b in betas])
    if all("along_steps" in pieces[b] for b in betas):
        # the traced quantities along training, (n_β, K, members[, 2]), the last point the end
        numbers["along_steps"] = [int(s) for s in pieces[betas[0]]["along_steps"]]
        for key in TRACED if fig == "fig5" else TRACED[:-1]:
            numbers[f"{key}_along"] = np.stack([np.asarray(pieces[b][f"along_{key}"], float)
                                                for b in betas])
        numbers["convergence"] = convergence_traces(numbers)
    return numbers, data, pieces
