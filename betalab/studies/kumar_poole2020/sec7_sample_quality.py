"""Kumar & Poole 2020, sec. 7, Fig. 4 and Table 1: models trained with GRAE≈ (eq 13 with the
stochastic Hadamard bound of eq 14) and with the β-VAE objective over a β grid behave alike in
sample quality; larger β gives blurrier samples. Study ``kp-sample-quality``.

Substitutes (stated in every claim): CelebA, FID and its Inception network cannot be obtained
offline. scikit-learn's bundled 8×8 digits (standardised, 497 held out) replace CelebA; the
sample-quality score is the kernel distance (KID, :func:`deep.metrics.sample_quality.
kernel_distance`) between features of decoded prior samples and of the held-out digits, the
features being the hidden layer of a small classifier trained on the training digits
(:func:`~deep.metrics.sample_quality.train_feature_classifier`); blurriness is read as the mean
squared pixel gradient (:func:`~deep.metrics.sample_quality.sharpness`). The models: Gaussian
prior, unit-variance Gaussian observations, diagonal Gaussian posterior, d = 8, the ELU MLP of
``kp-trained-jacobian`` instead of the App. D CNN, Adam 1e-3, batch 64; 5 seeds per (model, β)
at cpu scale, as the paper's 5 runs. The comparison is between two objectives on the same data
and networks, so the substitution changes the numbers, not what is compared.

Scales: ``quick`` (2 β × 2 seeds × 300 steps: the pipeline and a sanity check; the paper's
claims are decided at ``cpu``), ``cpu`` (6 β from 0.01 to 3 × 5 seeds × 4,000 steps).

Every model's prior samples are also decoded at 25/50/75 % of its steps (the same latent draws
as at the end), so the KID and the sharpness are known along training; each paper claim is
decided only where its own deciding statistic levelled off (:func:`convergence_traces`,
:func:`betalab.claims.at_convergence`).
"""

from __future__ import annotations

import math

import numpy as np

from betalab.claims import at_convergence, not_run, relation
from betalab.registry import StudyConfig, StudyResult, study
from betalab.plot import along_figure
from betalab.studies.common import ALONG, along_steps

from ._shared import PAPER

SRC = f"{PAPER}, sec. 7, Fig. 4, Table 1, App. G"
SUBSTITUTE = ("sklearn's 8x8 digits for CelebA; the kernel distance (KID) on features of a digit "
              "classifier for FID; an ELU MLP (d = 8) for the App. D CNN (d = 128)")
MODELS = ("beta-vae", "grae-approx")
NAMES = {"beta-vae": "β-VAE", "grae-approx": "GRAE≈"}
#: ``along``: the fractions of the steps at which every model's samples are decoded (the last at
#: the end); an evaluation decodes ``n_samples`` latents through the d = 8 MLP and scores them
#: (KID, sharpness) in milliseconds, so the quick scale records them too
SCALES = {
    "quick": {"betas": (0.1, 1.0), "seeds": 2, "steps": 300, "batch": 64, "widths": (128, 64),
              "d": 8, "n_samples": 300, "classifier_steps": 1500, "along": ALONG},
    "cpu": {"betas": (0.01, 0.03, 0.1, 0.3, 1.0, 3.0), "seeds": 5, "steps": 4000, "batch": 64,
            "widths": (128, 64), "d": 8, "n_samples": 497, "classifier_steps": 1500,
            "along": ALONG},
}
#: what the cpu scale costs (the convergence gate's ``cost``): the recorded run took 850 s for
#: the 60 trainings of 4,000 steps on 2 CPU cores. One evaluation along training (decode 497
#: prior samples, classifier features, KID and sharpness) measured 0.05–0.06 s on one thread of
#: this 2-core machine while two other training processes ran (tiny configuration: the cpu-scale
#: network and n_samples, 20 training steps; a training step measured 3–4 ms the same way), so
#: the 3 added evaluations of each of the 60 models add ≈10 s in all, about 1 %.
CPU_COST = ("about 14 min on 2 CPU cores (60 trainings of 4,000 steps, recorded; the three "
            "evaluations along training of each model add ≈0.2 s, measured: ≈10 s in all), "
            "proportionally more for longer training.")
#: one of the pieces a run keeps per model (the claims read only these)
KEYS = ("kid", "sharpness")


def train_model(x_train, model: str, beta: float, *, d: int, steps: int, batch: int, widths,
                seed: int, evaluate=None, at=()):
    """Train one model (``beta-vae`` with one-sample Monte Carlo or ``grae-approx``) on the
    standardised digits ``x_train`` (n, 64): the ELU MLP, Adam 1e-3. Deterministic for a seed.

    ``evaluate(net, step)``, if given, is called after each step count in ``at`` (updates done,
    in [1, steps]). The training draws nothing global (each step has its own generator and data
    order, :func:`deep.train.step_generator`, :func:`deep.train.epoch_order`), so an evaluation
    that changes no parameter and hands the net back in training mode (:func:`decode_prior`
    does) leaves the training the same, bit for bit. Returns the trained net."""
    from deep.data import ArrayImages
    from deep.models import VAEConfig, build_objective, build_vae
    from deep.train import TrainConfig, Trainer, seeded_init

    cfg = VAEConfig("elu-mlp", latent_dim=d, image_size=8, likelihood="gaussian", widths=tuple(widths))
    net, objective = seeded_init(lambda: (build_vae(cfg), build_objective(model, beta)), seed)
    data = ArrayImages(x_train, 8)
    epochs = -(-steps * batch // len(data)) + 1
    trainer = Trainer(net, objective, data, TrainConfig(epochs, batch, 1e-3, seed=seed), "cpu")
    at = set(at)
    if evaluate is not None and any(not 1 <= s <= steps for s in at):
        raise ValueError(f"at must lie in [1, {steps}], got {sorted(at)}")
    while trainer.step < steps:
        trainer.run_step()
        if evaluate is not None and trainer.step in at:
            evaluate(net, trainer.step)
    return net


def decode_prior(net, n_samples: int, seed: int) -> np.ndarray:
    """``n_samples`` decoded prior samples g(z), z ~ N(0, I) drawn from the generator seeded
    ``10_000 + seed`` (the same latents at every evaluation of a run: the change of the scores
    along training is not blurred by fresh draws), as (n, 64) standardised pixels (float32
    values in float64). Draws nothing global; hands the net back in the mode it came in."""
    import torch

    g = torch.Generator().manual_seed(10_000 + seed)
    was_training = net.training
    try:
        with torch.no_grad():
            net.eval()
            z = torch.randn((n_samples, net.latent_dim), generator=g)
            x = net.decode(z)
    finally:
        net.train(was_training)
    return x.reshape(n_samples, -1).double().numpy()


def train_and_sample(x_train, model: str, beta: float, *, d: int, steps: int, batch: int, widths,
                     seed: int, n_samples: int, along=()) -> dict:
    """Train one model (:func:`train_model`) and decode ``n_samples`` prior samples
    (:func:`decode_prior`) at the end of training and, with ``along`` (fractions of the steps,
    :func:`betalab.studies.common.along_steps`), during it.

    Returns ``steps`` (K,) and ``samples`` (K, n, 64): the samples after each of those step
    counts, the last the end of training (K = 1 without ``along``)."""
    points = along_steps(steps, along) if along else [steps]
    seen = []

    def evaluate(net, step):
        if step < steps:                    # the end point is decoded below, once
            seen.append(decode_prior(net, n_samples, seed))

    net = train_model(x_train, model, beta, d=d, steps=steps, batch=batch, widths=widths,
                      seed=seed, evaluate=evaluate if along else None, at=points)
    return {"steps": np.asarray(points), "samples": np.stack(seen + [decode_prior(net, n_samples, seed)])}


def _pieces(config: StudyConfig, sc: dict, x_train) -> dict:
    from deep.progress import bar

    grid = [(m, b, s) for m in MODELS for b in sc["betas"] for s in range(sc["seeds"])]
    out = {}
    for m, b, s in bar(grid, desc="kp-sample-quality", leave=False, mininterval=5,
                        show=config.scale != "quick"):
        key = f"{m}-b{b:g}-s{s}"
        # the signature holds ``along``: a piece of an earlier run (the end point only) is not reused
        sig = {"study": "kp-sample-quality", "scale": config.scale, "key": key, "seed": config.seed,
               **sc}

        def compute(m=m, b=b, s=s):
            r = train_and_sample(x_train, m, b, d=sc["d"], steps=sc["steps"], batch=sc["batch"],
                                 widths=sc["widths"], seed=config.seed * 100 + s,
                                 n_samples=sc["n_samples"], along=sc["along"])
            # float32 holds the decoder's float32 outputs exactly, in half the space
            return {"steps": r["steps"], "samples": r["samples"].astype(np.float32)}

        r = config.piece(key, sig, compute)
        out[(m, b, s)] = {"steps": np.asarray(r["steps"]).tolist(),
                          "samples": np.asarray(r["samples"], dtype=np.float64)}
    return out


def _z(n_tests: int) -> float:
    """Two-sided 5% critical value with a Bonferroni correction over ``n_tests`` comparisons."""
    from scipy.stats import norm

    return float(norm.ppf(1 - 0.05 / (2 * n_tests)))


def _cell(numbers, model, beta, key):
    v = np.asarray([r[key] for r in numbers["runs"] if r["model"] == model and r["beta"] == beta])
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("inf")


def convergence_traces(numbers: dict) -> dict:
    """The deciding statistic of each paper claim along training, in the trace format of
    :func:`betalab.claims.convergence`, from the runs' ``kid_along`` / ``sharpness_along``.

    ``{"Fig. 4": trace, "Table 1": trace}``; empty when the runs hold no record along training.

    The rule's input, one per claim (Kumar & Poole 2020, sec. 7):

    * Fig. 4 is decided on KID(GRAE≈) − KID(β-VAE) at each β against its standard error, so the
      trace is that difference, one labelled trace per β of shape (K, seeds): seed i of one model
      against seed i of the other (the same initialisation, batches and step noise: the
      objective is the only difference); the claim is decided only when the difference has
      levelled off at every β;
    * Table 1 is decided on sharpness(smallest β) − sharpness(largest β) of each model, so the
      trace is that gap per seed, one labelled trace per model (both must have levelled off).
    """
    runs = numbers["runs"]
    if not runs or any("kid_along" not in r for r in runs):
        return {}
    betas, seeds = numbers["betas"], numbers["seeds"]
    steps = numbers["along_steps"]

    def along(model, beta, key):                           # (K, seeds)
        cell = sorted((r for r in runs if r["model"] == model and r["beta"] == beta),
                      key=lambda r: r["seed"])
        if len(cell) != seeds:
            raise ValueError(f"runs: {len(cell)} seeds of {model} at β = {beta:g}, expected {seeds}")
        return np.asarray([r[key] for r in cell], dtype=float).T

    lo, hi = min(betas), max(betas)
    return {
        "Fig. 4": {"statistic": "KID(GRAE≈) − KID(β-VAE) (seed i against seed i)", "steps": steps,
                   "values": {f"β = {b:g}": along("grae-approx", b, "kid_along")
                              - along("beta-vae", b, "kid_along") for b in betas}},
        "Table 1": {"statistic": f"sharpness(β = {lo:g}) − sharpness(β = {hi:g}) per seed",
                    "steps": steps,
                    "values": {NAMES[m]: along(m, lo, "sharpness_along")
                               - along(m, hi, "sharpness_along") for m in MODELS}}}


def _would_run(numbers: dict) -> str:
    if not numbers.get("convergence"):
        return ("`betalab run kp-sample-quality --scale cpu`, which records the KID and the "
                "sharpness of every model's samples at 25/50/75/100 % of the steps.")
    return (f"a longer cpu-scale run: SCALES['cpu']['steps'] raised above {numbers['steps']:,} "
            "until the statistic levels off (`betalab run kp-sample-quality --scale cpu`).")


def claims_from(numbers: dict, seed: int = 0) -> list:
    """Every claim of the study from its numbers alone (the recheck of a recorded run). At the cpu
    scale each paper claim keeps its verdict only where its own deciding statistic levelled off
    along training (``numbers["convergence"]``, :func:`convergence_traces`); a run without that
    record (one recorded before it existed) reads *not run*."""
    scale = numbers["scale"]
    traces = numbers.get("convergence") or {}

    def gated(claim, group):
        return at_convergence([claim], traces.get(group), would_run=_would_run(numbers),
                              cost=CPU_COST)
    betas = numbers["betas"]
    where = (f"{scale} scale: digits (1,300 train / 497 held out), d = 8 ELU MLP, "
             f"{numbers['steps']:,} Adam steps, {numbers['seeds']} seeds per (model, β), KID on "
             "classifier features")
    out = []
    floor = numbers["kid_real"]
    worst_floor = max(_cell(numbers, m, b, "kid")[0] for m in MODELS for b in betas)
    out.append(relation(
        f"[{scale} scale] held-out digits are closer to the training digits (KID {floor:.3g}) than "
        "the samples of every trained model", SRC, "KID(real, real) < KID(samples, real) for every cell",
        {"real": round(floor, 5), "smallest_model": round(min(_cell(numbers, m, b, "kid")[0]
                                                            for m in MODELS for b in betas), 5)},
        all(_cell(numbers, m, b, "kid")[0] > floor for m in MODELS for b in betas),
        kind="check", scale=scale,
        note="a sanity check of the score: its noise floor (two samples of the data) is below "
             f"the models' values (largest {worst_floor:.3g})"))
    paper = [
        ("Fig. 4: GRAE≈ and β-VAE samples stay close in sample quality (FID) at every β ≥ 0.01",
         "close"),
        ("Table 1: larger β gives blurrier samples, for both β-VAE and GRAE≈", "blurrier"),
    ]
    if scale == "quick":
        for stmt, _ in paper:
            out.append(not_run(stmt, SRC, "decided at cpu scale", kind="paper", scale=scale,
                               why="the quick run trains 2 seeds for 300 steps: too few for the "
                                   "standard errors the comparison needs",
                               would_run="`betalab run kp-sample-quality --scale cpu` (recorded: "
                                         "recorded/kp-sample-quality/cpu)",
                               cost=CPU_COST,
                               substitute=SUBSTITUTE))
    else:
        z = _z(len(betas))
        diffs, ok = {}, True
        for b in betas:
            (mb, sb), (mg, sg) = _cell(numbers, "beta-vae", b, "kid"), _cell(numbers, "grae-approx", b, "kid")
            se = math.hypot(sb, sg)
            diffs[f"{b:g}"] = {"beta_vae": round(mb, 5), "grae_approx": round(mg, 5),
                               "z": round((mg - mb) / se, 2) if se > 0 else None}
            ok &= abs(mg - mb) <= z * se
        out += gated(relation(
            f"{paper[0][0]} [{where}]", SRC,
            f"|KID(GRAE≈) − KID(β-VAE)| ≤ {z:.2f} standard errors at every β", diffs, ok,
            kind="paper", scale=scale,
            tolerance=f"{z:.2f} SE: the two-sided 5% level, Bonferroni-corrected over {len(betas)} β",
            note=f"substitutes: {SUBSTITUTE}; standard errors over seeds"), "Fig. 4")
        lo, hi = min(betas), max(betas)
        blur, ok = {}, True
        for m in MODELS:
            (s_lo, e_lo), (s_hi, e_hi) = _cell(numbers, m, lo, "sharpness"), _cell(numbers, m, hi, "sharpness")
            blur[m] = {f"beta={lo:g}": round(s_lo, 4), f"beta={hi:g}": round(s_hi, 4)}
            ok &= s_hi < s_lo - 2 * math.hypot(e_lo, e_hi)
        out += gated(relation(
            f"{paper[1][0]} [{where}]", SRC,
            f"sharpness at β = {hi:g} below that at β = {lo:g} by 2 standard errors, both models",
            blur, ok, kind="paper", scale=scale,
            note="sharpness = mean squared pixel gradient of the decoded prior samples (a blurrier "
                 f"image has less); the held-out digits' is {numbers['sharpness_real']:.3f}"),
            "Table 1")
    out.append(not_run(
        "Fig. 4 on CelebA: FID of GRAE≈ and β-VAE samples (5 runs per β, all standard deviations "
        "below 1)", SRC, "close FIDs", kind="paper", scale="full",
        why="CelebA and the Inception network of FID cannot be obtained offline",
        would_run="the same comparison with CelebA 64×64, the App. D CNN (d = 128) and FID",
        cost="2 objectives × ~8 β × 5 runs of a CNN on CelebA: GPU-days",
        substitute="this study's digits/KID comparison (the cpu-scale claims above)"))
    return out


def _figures(numbers, samples, sc):
    import matplotlib.pyplot as plt

    betas = numbers["betas"]
    fig4, ax = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    for m, c in zip(MODELS, ("tab:blue", "tab:orange")):
        for a, key, lab in ((ax[0], "kid", "KID to held-out digits"), (ax[1], "sharpness", "sharpness")):
            cells = [_cell(numbers, m, b, key) for b in betas]
            a.errorbar(betas, [v for v, _ in cells], yerr=[e for _, e in cells], marker="o",
                       capsize=3, color=c, label=NAMES[m])
            a.set(xscale="log", xlabel="β", ylabel=lab)
    ax[0].axhline(numbers["kid_real"], color="k", ls=":", lw=0.8, label="held-out vs training digits")
    ax[1].axhline(numbers["sharpness_real"], color="k", ls=":", lw=0.8, label="held-out digits")
    ax[0].set_title("Fig. 4 analogue: sample quality")
    ax[1].set_title("blurriness (lower = blurrier)")
    for a in ax:
        a.legend(fontsize=8)
    # Table 1 analogue: 8 samples of seed 0 per (model, β)
    fig1, axes = plt.subplots(len(MODELS), len(betas), figsize=(1.9 * len(betas) + 0.6, 2.6),
                              constrained_layout=True, squeeze=False)
    for i, m in enumerate(MODELS):
        for j, b in enumerate(betas):
            imgs = samples[(m, b, 0)]["samples"][-1][:8].reshape(2, 4, 8, 8).transpose(0, 2, 1, 3).reshape(16, 32)
            axes[i, j].imshow(imgs, cmap="gray_r")
            axes[i, j].set(xticks=[], yticks=[])
            if i == 0:
                axes[i, j].set_title(f"β = {b:g}", fontsize=9)
            if j == 0:
                axes[i, j].set_ylabel(NAMES[m])
    fig1.suptitle("Table 1 analogue: decoded prior samples (digits)", fontsize=10)
    figs = {"fig4_sample_quality": fig4, "table1_samples": fig1}
    traces = numbers.get("convergence") or {}
    if traces:
        lo, hi = min(betas), max(betas)
        figs["fig4_along"] = along_figure(
            traces["Fig. 4"], "KID(GRAE≈) − KID(β-VAE)",
            "Fig. 4 along training, per β (mean ± s.e. over seeds)", numbers["scale"], line=0.0)
        figs["table1_along"] = along_figure(
            traces["Table 1"], f"sharpness(β = {lo:g}) − sharpness(β = {hi:g})",
            "Table 1 along training, per model (mean ± s.e. over seeds)", numbers["scale"],
            line=0.0)
    return figs


@study("kp-sample-quality", title="GRAE≈ vs β-VAE: sample quality and blurriness over β",
       paper=PAPER, source="sec. 7, Fig. 4, Table 1, App. G",
       notebook="kumar_poole2020_sec7_sample_quality.py", recheck=claims_from)
def sample_quality(config: StudyConfig) -> StudyResult:
    from deep.data.digits import digit_split
    from deep.metrics.sample_quality import (classifier_features, kernel_distance, sharpness,
                                             train_feature_classifier)

    scale = config.scale if config.scale in SCALES else "cpu"
    sc = SCALES[scale]
    x_tr, y_tr, x_te, _ = digit_split(config.rng(0), labels=True)
    net = train_feature_classifier(x_tr, y_tr, steps=sc["classifier_steps"], seed=config.seed)
    f_real = classifier_features(net, x_te)
    samples = _pieces(config, sc, x_tr)
    runs = []
    for (m, b, s), r in samples.items():
        # the same estimators at every point along training; the last point is the end's
        kid = [kernel_distance(classifier_features(net, x), f_real) for x in r["samples"]]
        sharp = [float(sharpness(x.reshape(-1, 8, 8)).mean()) for x in r["samples"]]
        runs.append({"model": m, "beta": b, "seed": s, "kid": kid[-1], "sharpness": sharp[-1],
                     "kid_along": kid, "sharpness_along": sharp})
    numbers = {"scale": scale, "betas": list(sc["betas"]), "seeds": sc["seeds"], "steps": sc["steps"],
               "kid_real": kernel_distance(classifier_features(net, x_tr[:len(x_te)]), f_real),
               "sharpness_real": float(sharpness(x_te.reshape(-1, 8, 8)).mean()), "runs": runs,
               "along_steps": next(iter(samples.values()))["steps"]}
    numbers["convergence"] = convergence_traces(numbers)
    if config.scale == "full":
        numbers["note"] = "no full scale: CelebA is not obtainable; the cpu configuration ran"
    return StudyResult(numbers=numbers, figures=_figures(numbers, samples, sc),
                       claims=claims_from(numbers))
