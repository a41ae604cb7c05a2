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
"""

from __future__ import annotations

import math

import numpy as np

from betalab.claims import close, gated_by_convergence, not_run, relation
from betalab.registry import StudyConfig, StudyResult, study

PAPER = "Kumar & Poole 2020"
SRC = f"{PAPER}, sec. 7, Fig. 4, Table 1, App. G"
SUBSTITUTE = ("sklearn's 8x8 digits for CelebA; the kernel distance (KID) on features of a digit "
              "classifier for FID; an ELU MLP (d = 8) for the App. D CNN (d = 128)")
MODELS = ("beta-vae", "grae-approx")
NAMES = {"beta-vae": "β-VAE", "grae-approx": "GRAE≈"}
SCALES = {
    "quick": {"betas": (0.1, 1.0), "seeds": 2, "steps": 300, "batch": 64, "widths": (128, 64),
              "d": 8, "n_samples": 300, "classifier_steps": 1500},
    "cpu": {"betas": (0.01, 0.03, 0.1, 0.3, 1.0, 3.0), "seeds": 5, "steps": 4000, "batch": 64,
            "widths": (128, 64), "d": 8, "n_samples": 497, "classifier_steps": 1500},
}
#: one of the pieces a run keeps per model (the claims read only these)
KEYS = ("kid", "sharpness")


def train_and_sample(x_train, model: str, beta: float, *, d: int, steps: int, batch: int, widths,
                     seed: int, n_samples: int) -> np.ndarray:
    """Train one model (``beta-vae`` with one-sample Monte Carlo or ``grae-approx``) and return
    ``n_samples`` decoded prior samples g(z), z ~ N(0, I), as (n, 64) standardised pixels."""
    import torch

    from deep.data import ArrayImages
    from deep.models import VAEConfig, build_objective, build_vae
    from deep.train import TrainConfig, Trainer, seeded_init

    cfg = VAEConfig("elu-mlp", latent_dim=d, image_size=8, likelihood="gaussian", widths=tuple(widths))
    net, objective = seeded_init(lambda: (build_vae(cfg), build_objective(model, beta)), seed)
    data = ArrayImages(x_train, 8)
    epochs = -(-steps * batch // len(data)) + 1
    trainer = Trainer(net, objective, data, TrainConfig(epochs, batch, 1e-3, seed=seed), "cpu")
    while trainer.step < steps:
        trainer.run_step()
    g = torch.Generator().manual_seed(10_000 + seed)
    with torch.no_grad():
        net.eval()
        z = torch.randn((n_samples, d), generator=g)
        x = net.decode(z)
    return x.reshape(n_samples, -1).double().numpy()


def _pieces(config: StudyConfig, sc: dict, x_train) -> dict:
    from tqdm.auto import tqdm

    grid = [(m, b, s) for m in MODELS for b in sc["betas"] for s in range(sc["seeds"])]
    out = {}
    for m, b, s in tqdm(grid, desc="kp-sample-quality", leave=False, mininterval=5,
                        disable=config.scale == "quick"):
        key = f"{m}-b{b:g}-s{s}"
        sig = {"study": "kp-sample-quality", "scale": config.scale, "key": key, "seed": config.seed,
               **sc}
        r = config.piece(key, sig, lambda: {"samples": train_and_sample(
            x_train, m, b, d=sc["d"], steps=sc["steps"], batch=sc["batch"], widths=sc["widths"],
            seed=config.seed * 100 + s, n_samples=sc["n_samples"])})
        out[(m, b, s)] = np.asarray(r["samples"])
    return out


def _z(n_tests: int) -> float:
    """Two-sided 5% critical value with a Bonferroni correction over ``n_tests`` comparisons."""
    from scipy.stats import norm

    return float(norm.ppf(1 - 0.05 / (2 * n_tests)))


def _cell(numbers, model, beta, key):
    v = np.asarray([r[key] for r in numbers["runs"] if r["model"] == model and r["beta"] == beta])
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("inf")


@gated_by_convergence(
    lambda n: n.get("convergence"),
    would_run="`betalab run kp-sample-quality --scale cpu`, which records the KID of every "
              "model's samples at 25/50/75/100 % of the steps.",
    cost="about 14 min on 2 CPU cores (recorded), proportionally more for longer training.")
def claims_from(numbers: dict, seed: int = 0) -> list:
    """Every claim of the study from its numbers alone (the recheck of a recorded run)."""
    scale = numbers["scale"]
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
                               cost="60 trainings of 4,000 steps on 2 CPU cores (≈30 min)",
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
        out.append(relation(
            f"{paper[0][0]} [{where}]", SRC,
            f"|KID(GRAE≈) − KID(β-VAE)| ≤ {z:.2f} standard errors at every β", diffs, ok,
            kind="paper", scale=scale,
            tolerance=f"{z:.2f} SE: the two-sided 5% level, Bonferroni-corrected over {len(betas)} β",
            note=f"substitutes: {SUBSTITUTE}; standard errors over seeds"))
        lo, hi = min(betas), max(betas)
        blur, ok = {}, True
        for m in MODELS:
            (s_lo, e_lo), (s_hi, e_hi) = _cell(numbers, m, lo, "sharpness"), _cell(numbers, m, hi, "sharpness")
            blur[m] = {f"beta={lo:g}": round(s_lo, 4), f"beta={hi:g}": round(s_hi, 4)}
            ok &= s_hi < s_lo - 2 * math.hypot(e_lo, e_hi)
        out.append(relation(
            f"{paper[1][0]} [{where}]", SRC,
            f"sharpness at β = {hi:g} below that at β = {lo:g} by 2 standard errors, both models",
            blur, ok, kind="paper", scale=scale,
            note="sharpness = mean squared pixel gradient of the decoded prior samples (a blurrier "
                 f"image has less); the held-out digits' is {numbers['sharpness_real']:.3f}"))
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
            imgs = samples[(m, b, 0)][:8].reshape(2, 4, 8, 8).transpose(0, 2, 1, 3).reshape(16, 32)
            axes[i, j].imshow(imgs, cmap="gray_r")
            axes[i, j].set(xticks=[], yticks=[])
            if i == 0:
                axes[i, j].set_title(f"β = {b:g}", fontsize=9)
            if j == 0:
                axes[i, j].set_ylabel(NAMES[m])
    fig1.suptitle("Table 1 analogue: decoded prior samples (digits)", fontsize=10)
    return {"fig4_sample_quality": fig4, "table1_samples": fig1}


@study("kp-sample-quality", title="GRAE≈ vs β-VAE: sample quality and blurriness over β",
       paper=PAPER, source="sec. 7, Fig. 4, Table 1, App. G", notebook="kp_sample_quality.py",
       recheck=claims_from)
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
    for (m, b, s), x in samples.items():
        runs.append({"model": m, "beta": b, "seed": s,
                     "kid": kernel_distance(classifier_features(net, x), f_real),
                     "sharpness": float(sharpness(x.reshape(-1, 8, 8)).mean())})
    numbers = {"scale": scale, "betas": list(sc["betas"]), "seeds": sc["seeds"], "steps": sc["steps"],
               "kid_real": kernel_distance(classifier_features(net, x_tr[:len(x_te)]), f_real),
               "sharpness_real": float(sharpness(x_te.reshape(-1, 8, 8)).mean()), "runs": runs}
    if config.scale == "full":
        numbers["note"] = "no full scale: CelebA is not obtainable; the cpu configuration ran"
    return StudyResult(numbers=numbers, figures=_figures(numbers, samples, sc),
                       claims=claims_from(numbers))
