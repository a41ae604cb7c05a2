"""Kumar & Poole 2020 on trained networks: ``kp-trained-jacobian`` (Figs 2, 3, 7; App. E, F).

β-VAEs with Gaussian prior, unit-variance Gaussian observations and amortised Gaussian posteriors
that are diagonal, block-diagonal (blocks of b latents, Cholesky head) or full (the reference
without a block constraint) are trained on a β grid; at held-out points the study compares

* the posterior precision Σ⁻¹ with I + JᵀJ/β (eq 11, Gaussian case) within the block pattern;
* the off-block energy of JᵀJ of a block-posterior model with that of the full-posterior
  reference (Fig 2 / 7: "block-diagonal posterior covariance encourages a block diagonal
  structure on JᵀJ");
* the coherence of the Jacobian columns of a diagonal-posterior model with the reference
  (sec. 5.1: diagonal Σ drives J towards orthogonal columns);
* at checkpoints, the β-VAE objective (one-sample Monte Carlo training, many-sample evaluation),
  its Taylor approximation (eq 7) and GRAE (eq 13) (Fig 3 / App. F), and the measured
  Taylor − GRAE gap against β·KL(N(0,Σ) ‖ N(0, M⁻¹)) (the corrected sec. 7 formula).

Substitutes (stated in every claim): MNIST is not obtainable offline; scikit-learn's bundled 8×8
digits (1,797 images, standardised, 497 held out instead of 5,000) replace it, and an ELU MLP the
App. D elu CNN. The relations are statements about any trained Gaussian VAE, so the substitution
changes their numbers (D = 64 pixels, a smaller network, fewer iterations) but not what they test;
the closeness of the three objectives depends on how concentrated q is, which the data set sets.

A control with a known decoder (``manifold_control``): on data x = g*(s) + σε from a random ELU
decoder g* (``deep.data.manifold``), a model with as many latents as g* trained at β = σ² is
compared with the truth: its decoder's tangent space with span J_{g*}(s), and its posterior
precision's eigenvalues with those of I + J*ᵀJ*/σ² (eq 11 with the exact Jacobian). This is the
one data set on which the Jacobian the theory speaks of is known, not estimated.
"""

from __future__ import annotations

import numpy as np

from betalab.claims import close, gated_by_convergence, not_run, relation
from betalab.registry import StudyConfig, StudyResult, study

PAPER = "Kumar & Poole 2020"
SUBSTITUTE = ("sklearn's 8x8 digits (standardised; 497 held-out points) for MNIST, an ELU MLP for the "
              "App. D elu CNN")

#: scale → grid and training sizes; App. D's d ∈ {8, 12, 16, 20}, b ∈ {2, 3} where b divides d.
#: cpu: measured 4.6 ms per step at batch 64, widths (128, 64) on one thread; the 65 models ×
#: 5,000 steps took 32 min in all (recorded, on 2 cores shared with a test run)
#: Fig. 3 / App. F's latent size (sec. 7: "d = 12"), or the largest of a grid without it
FIG3_D = 12
SCALES = {
    "quick": {"dims": (8,), "betas": (0.1, 1.0), "posteriors": {8: ("diagonal", "block:2", "full")},
              "steps": 400, "checkpoints": (100, 400), "batch": 64, "widths": (128, 64),
              "n_eval": 128, "mc": 64},
    "cpu": {"dims": (8, 12, 16, 20), "betas": (0.03, 0.1, 0.3, 1.0, 3.0),
            "posteriors": {8: ("diagonal", "block:2", "full"),
                           12: ("diagonal", "block:2", "block:3", "full"),
                           16: ("diagonal", "block:2", "full"),      # b = 3 divides neither 16
                           20: ("diagonal", "block:2", "full")},     # nor 20
            "steps": 5000, "checkpoints": (500, 1000, 2000, 5000), "batch": 64, "widths": (128, 64),
            "n_eval": 497, "mc": 256},
}


def _block(posterior: str, d: int) -> int:
    from deep.models.posteriors import parse_posterior

    return parse_posterior(posterior, d)


def _trainer(x_train, d: int, posterior: str, beta: float, *, steps: int, batch: int, widths,
             seed: int, device="cpu"):
    """The model and trainer of one β-VAE of the study (ELU MLP on 8×8 = 64-pixel data, Gaussian
    observations, one-sample Monte Carlo, Adam 1e-3), and a function giving a float64 copy."""
    from deep.data import ArrayImages
    from deep.models import VAEConfig, build_objective, build_vae
    from deep.train import TrainConfig, Trainer, seeded_init

    cfg = VAEConfig("elu-mlp", latent_dim=d, image_size=8, likelihood="gaussian", widths=tuple(widths),
                    posterior=posterior)
    model, objective = seeded_init(lambda: (build_vae(cfg), build_objective("beta-vae", beta)), seed)
    data = ArrayImages(x_train, 8)
    epochs = -(-steps * batch // len(data)) + 1
    trainer = Trainer(model, objective, data, TrainConfig(epochs, batch, 1e-3, seed=seed), device)

    def float64():
        m64 = build_vae(cfg).double()
        m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
        return m64.eval()

    return trainer, float64


def train_and_evaluate(x_train, x_test, d: int, posterior: str, beta: float, *, steps: int,
                       checkpoints, batch: int, widths, seed: int, mc: int, device="cpu") -> dict:
    """Train one β-VAE (one-sample Monte Carlo, Adam 1e-3) and evaluate it at ``checkpoints``:
    the Fig 3 objectives (means over ``x_test``) at each, the Fig 2 geometry at the last."""
    import torch

    from deep.metrics import posterior_jacobian as pj

    trainer, float64 = _trainer(x_train, d, posterior, beta, steps=steps, batch=batch, widths=widths,
                                seed=seed, device=device)
    xt = torch.as_tensor(x_test, dtype=torch.float64).reshape(-1, 1, 8, 8)
    mask = pj.block_mask(d, _block(posterior, d))
    out = {k: [] for k in ("step", "beta_vae", "beta_vae_se", "taylor", "grae", "gap_formula")}
    from theory.implicit_regularization import taylor_grae_gap

    for stop in checkpoints:
        while trainer.step < stop:
            trainer.run_step()
        m64 = float64()
        ov = pj.objective_values(m64, xt, beta, mc, torch.Generator().manual_seed(seed + 1))
        geo = ov["geometry"]
        formula = taylor_grae_gap(geo["J"].numpy(), None, geo["Sigma"].numpy(), beta)
        out["step"].append(stop)
        for k in ("beta_vae", "taylor", "grae"):
            out[k].append(float(ov[k].mean()))
        # Monte Carlo standard error of the held-out mean: sqrt(mean of per-point SE²) / sqrt(n)
        out["beta_vae_se"].append(float(torch.sqrt((ov["beta_vae_se"] ** 2).mean() / len(xt))))
        out["gap_formula"].append(float(np.mean(formula)))
    G, P, M = geo["G"], geo["precision"], geo["M"]
    out.update(eq11_error=float(pj.eq11_relative_error(P, M, mask).median()),
               off_block=float(pj.off_block_energy(G, pj.block_mask(d, 2 if d % 2 == 0 else 1)).mean()),
               off_block3=float(pj.off_block_energy(G, pj.block_mask(d, 3)).mean()) if d % 3 == 0 else float("nan"),
               coherence=float(pj.column_coherence(G).mean()),
               example_precision=P[0].numpy(), example_G=G[0].numpy())
    return {k: np.asarray(v) for k, v in out.items()}


#: the known-decoder control (the issue's third substitute, App. D has none): data on a k = 4
#: dimensional manifold in D = 64 (deep.data.manifold: a random two-layer ELU decoder g*, noise
#: σ = 0.1), a model with d = k latents trained at the matched β = σ² (with unit-variance
#: observations, β is the decoder variance: the model class contains the true one). Measured
#: at 20,000 steps: ≈70 s per model on one thread.
MANIFOLD = {"k": 4, "noise": 0.1, "hidden": 32, "n_train": 4000, "n_test": 500,
            "quick": {"posteriors": ("full",), "steps": 3000},
            "cpu": {"posteriors": ("full", "diagonal"), "steps": 20000}}


def manifold_control(posterior: str, *, steps: int, seed: int, batch: int = 64, widths=(128, 64),
                     device="cpu") -> dict:
    """Train a β-VAE on the known-decoder manifold (``MANIFOLD``) and compare it with the truth
    at held-out points x = g*(s) + σε:

    * ``angle``: the largest principal angle between the trained decoder's tangent space
      span J_g(μ(x)) and the manifold's span J_{g*}(s), degrees (Kumar & Poole 2020, sec. 5: the
      Jacobian the theory speaks of is the data manifold's);
    * ``eig_log_ratio``: |log λ_i(Σ⁻¹) − log λ_i(I + J*ᵀJ*/σ²)| per ascending eigenvalue: eq 11
      with the exact Jacobian of the true decoder, whose Laplace posterior precision this is;
      eigenvalues, because the latents are identified only up to a rotation;
    * ``eq11_error``: eq 11 at the trained decoder, as on the digits;
    * ``length_log_ratio``: |log(metric length / decoded length)| of latent segments, the
      metric being β(Σ⁻¹ − I), the posterior read as a Riemannian metric (sec. 5.2).

    Medians over the test points (per eigenvalue for the spectrum)."""
    import torch

    from deep.data import manifold
    from deep.metrics import posterior_jacobian as pj

    k, noise = MANIFOLD["k"], MANIFOLD["noise"]
    rng = np.random.default_rng([seed, 16])
    weights = manifold.random_decoder(k, 64, rng, hidden=MANIFOLD["hidden"])
    _, x_train = manifold.manifold_latents(MANIFOLD["n_train"], weights, rng, noise)
    s_test, x_test = manifold.manifold_latents(MANIFOLD["n_test"], weights, rng, noise)
    beta = noise ** 2
    trainer, float64 = _trainer(x_train, k, posterior, beta, steps=steps, batch=batch, widths=widths,
                                seed=seed, device=device)
    while trainer.step < steps:
        trainer.run_step()
    m64 = float64()
    with torch.no_grad():
        geo = pj.model_geometry(m64, torch.as_tensor(x_test).reshape(-1, 1, 8, 8), beta)
    J_true = torch.as_tensor(manifold.decoder_jacobian(weights, s_test))
    M_true = torch.eye(k, dtype=torch.float64) + J_true.transpose(1, 2) @ J_true / beta
    mask = pj.block_mask(k, _block(posterior, k))
    # sec. 5.2: the metric the posterior induces, β(Σ⁻¹ − I), against decoded lengths, on the
    # segments between the encoder means of two halves of the test points
    half = MANIFOLD["n_test"] // 2
    with torch.no_grad():
        metric, decoded = pj.metric_curve_lengths(
            lambda z: m64.decode(z).reshape(len(z), -1),
            lambda x: torch.linalg.inv(m64.posterior_covariance(x.reshape(-1, 1, 8, 8))[1]),
            geo["mu"][:half], geo["mu"][half:2 * half], beta)
    return {"angle": float(pj.largest_principal_angle(geo["J"], J_true).median()),
            "length_log_ratio": float((metric / decoded).log().abs().median()),
            "eig_log_ratio": pj.spectrum_log_ratio(geo["precision"], M_true).median(0).values.numpy(),
            "eq11_error": float(pj.eq11_relative_error(geo["precision"], geo["M"], mask).median())}


def _manifold_pieces(config: StudyConfig, scale: str) -> dict:
    sc = MANIFOLD[scale]
    out = {}
    for p in sc["posteriors"]:
        sig = {"study": "kp-trained-jacobian/manifold", "posterior": p, "steps": sc["steps"],
               "seed": config.seed, **{k: v for k, v in MANIFOLD.items() if k not in SCALES}}
        r = config.piece(f"manifold-{p}", sig, lambda: manifold_control(p, steps=sc["steps"],
                                                                        seed=config.seed))
        out[p] = {q: _jsonable(v) for q, v in r.items()}
    return {"steps": sc["steps"], **out}


def _manifold_claims(m: dict, scale: str) -> list:
    """The known-decoder control's claims from its numbers (``_manifold_pieces``)."""
    src = f"{PAPER}, eq 11, sec. 5 (known-decoder control)"
    k, noise = MANIFOLD["k"], MANIFOLD["noise"]
    sub = (f"Substitute: a synthetic manifold with a known decoder (k = {k} latents, D = 64, a random "
           f"two-layer ELU g*, noise σ = {noise:g}; {MANIFOLD['n_train']} training and "
           f"{MANIFOLD['n_test']} held-out points), a model with d = k latents at β = σ² = {noise**2:g}, "
           f"{m['steps']} Adam steps.")
    claims = []
    for p in sorted(q for q in m if q != "steps"):       # JSON keeps keys sorted
        r = m[p]
        claims.append(relation(
            f"Known decoder, {p} posterior: the trained decoder's tangent space is the manifold's "
            f"(median over held-out points of the largest principal angle between span J_g(μ(x)) and "
            f"span J_g*(s) < 10°)", src, "< 10°", round(float(r["angle"]), 2), r["angle"] < 10.0,
            tolerance="10°: two random 4-dimensional subspaces of R^64 have a largest angle near "
            "90°; 10° leaves room for a decoder fitted from 4,000 noisy points", note=sub,
            kind="extension", scale=scale))
        if "length_log_ratio" in r:
            lr = float(r["length_log_ratio"])
            claims.append(relation(
                f"Known decoder, {p} posterior: sec. 5.2: the posterior read as a Riemannian metric, "
                f"G = β(Σ⁻¹ − I), measures decoded lengths: median over {MANIFOLD['n_test'] // 2} "
                f"latent segments of |log(length under G / Euclidean length of the decoded curve)| "
                f"< log 1.25", f"{PAPER}, sec. 5.2, eq 11", "< log 1.25 = 0.223", round(lr, 4),
                lr < np.log(1.25), tolerance="a factor 1.25 in length: the square root of the factor "
                "1.5 allowed on the precision's eigenvalues", note=sub, kind="extension", scale=scale))
        ratios = np.asarray(r["eig_log_ratio"], dtype=float)
        stmt = (f"Known decoder, {p} posterior: eq 11 with the exact Jacobian: the eigenvalues of the "
                f"trained posterior precision Σ⁻¹ are those of I + J*ᵀJ*/σ² at the true latent within a "
                f"factor 1.5 (median over held-out points of |log λ_i ratio| < log 1.5, every i)")
        measured = {"median |log ratio| per eigenvalue": np.round(ratios, 3).tolist()}
        if scale == "quick":
            claims.append(not_run(
                stmt, src, "< log 1.5 = 0.405 for every eigenvalue",
                why=f"the quick scale trains {m['steps']} steps, too few for the posterior variances "
                    "(they converge after the tangent space: 0.3-0.7 at 3,000 steps, measured)",
                would_run="betalab run kp-trained-jacobian --scale cpu",
                cost="about 70 s per posterior on one CPU core (20,000 steps, measured)",
                kind="extension", substitute=sub, measured=measured, scale=scale))
        else:
            claims.append(relation(
                stmt, src, "< log 1.5 = 0.405 for every eigenvalue", measured,
                bool(np.all(ratios < np.log(1.5))), tolerance="a factor 1.5: the amortised encoder and "
                "one-sample Monte Carlo training leave a residual; eq 6's Hessian term and the "
                "Laplace approximation of the true posterior are O(σ) here", note=sub,
                kind="extension", scale=scale))
    return claims


def _pieces(config: StudyConfig, sc: dict, x_train, x_test) -> dict:
    from tqdm.auto import tqdm

    grid = [(d, p, b) for d in sc["dims"] for p in sc["posteriors"][d] for b in sc["betas"]]
    res = {}
    for d, p, b in tqdm(grid, desc="kp-trained-jacobian", leave=False, mininterval=5,
                        disable=config.scale == "quick"):
        key = f"d{d}-{p.replace(':', '')}-b{b:g}"
        sig = {"study": "kp-trained-jacobian", "scale": config.scale, "key": key, "seed": config.seed,
               **{k: v for k, v in sc.items() if k != "posteriors"}}
        r = config.piece(key, sig, lambda: train_and_evaluate(
            x_train, x_test, d, p, b, steps=sc["steps"], checkpoints=sc["checkpoints"],
            batch=sc["batch"], widths=sc["widths"], seed=config.seed, mc=sc["mc"], device="cpu"))
        res[(d, p, b)] = {k: np.asarray(v) for k, v in r.items()}
    return res


def _full_scale_claims(scale):
    cost = ("4 d x 3 posteriors x a beta grid of about 6 = 72 models, 20k iterations of the App. D "
            "CNN each (arch elu-cnn): a step at 28x28, batch 64 measured 0.8 s on this machine's 2 "
            "CPU threads (benchmarks/bench_kp_models.py), about 4.5 h per model, 330 CPU-hours in "
            "all: a GPU job (its CNN step is not measured here)")
    run = ("betalab run kp-trained-jacobian --scale full (not implemented: needs MNIST, which "
           "cannot be obtained offline; the CNN is arch elu-cnn)")
    return [not_run(f"On MNIST (28x28, the App. D elu CNN, d in {{8, 12, 16, 20}}, 20k iterations), "
                    f"{what}", f"{PAPER}, {src}", exp, why="MNIST is not obtainable offline and the "
                    "paper-size CNN sweep needs a GPU; the digits substitute decides the claim at the "
                    "cpu scale", would_run=run, cost=cost, kind="paper", substitute=SUBSTITUTE,
                    scale=scale)
            for what, src, exp in (
                ("block-diagonal Σ gives JᵀJ of the same block structure", "Figs 2, 7", "block pattern"),
                ("β-VAE, Taylor and GRAE objectives stay close over a wide range of β", "Fig 3, App. F",
                 "close"))]


#: the per-model numbers a recorded run keeps (everything the claims read)
NUMBER_KEYS = ("eq11_error", "off_block", "off_block3", "coherence", "beta_vae", "beta_vae_se",
               "taylor", "grae", "gap_formula")


def _jsonable(v):
    """Plain numbers for JSON; NaN (a quantity undefined for this model) as None."""
    a = np.asarray(v, dtype=float)
    return None if a.ndim == 0 and np.isnan(a) else a.tolist()


def _key(d: int, p: str, b: float) -> str:
    return f"d{d} {p} beta={b:g}"


def _unkey(k: str) -> tuple:
    d, p, b = k.split(" ")
    return int(d[1:]), p, float(b.split("=")[1])


@gated_by_convergence(
    lambda n: n.get("convergence"),
    would_run="`betalab run kp-trained-jacobian --scale cpu`, which records the deciding "
              "objectives of every model at 25/50/75/100 % of the steps.",
    cost="about 36 min on 2 CPU cores (recorded), proportionally more for longer training.",
    # Taylor − GRAE = β·KL(N(0,Σ)‖N(0,M⁻¹)) is an identity of the two objectives (sec. 7, App. F,
    # corrected): it holds for any parameters, so at every point of training
    exempt=lambda c: "the corrected sec. 7 formula" in c.statement)
def claims_from(numbers: dict, seed: int = 0) -> list:
    """Every claim of the study from its numbers alone (the recheck of a recorded run)."""
    scale = numbers["scale"]
    sc = dict(SCALES[scale])
    res = {_unkey(k): {q: np.asarray(v, dtype=float) for q, v in r.items()}
           for k, r in numbers["runs"].items()}
    # the grid the numbers were computed on (a recorded run keeps its own when SCALES grows)
    sc["dims"] = tuple(sorted({d for d, _, _ in res}))
    sc["posteriors"] = {d: tuple(p for p in SCALES[scale]["posteriors"].get(d, ()) if (d, p) in
                                 {(k[0], k[1]) for k in res}) or tuple(sorted({k[1] for k in res if k[0] == d}))
                        for d in sc["dims"]}
    sc["betas"] = tuple(sorted({b for _, _, b in res}))
    betas, claims = sc["betas"], []
    src2, src3 = f"{PAPER}, Figs 2, 7 (App. E), eq 11", f"{PAPER}, Fig 3 (App. F), eqs 7, 13"
    sub = f"Substitute: {SUBSTITUTE}; {sc['steps']} Adam steps at batch {sc['batch']}."

    for d in sc["dims"]:
        # eq 11 at the trained encoder: median relative error over test points, per posterior and β
        errs = {(p, b): float(res[(d, p, b)]["eq11_error"]) for p in sc["posteriors"][d] for b in betas}
        below = np.mean([e < 0.5 for e in errs.values()])
        claims.append(relation(
            f"d={d}: eq 11 holds at the trained encoder in many cases: Σ⁻¹ ≈ I + JᵀJ/β within the "
            f"block pattern (median relative Frobenius error over test points < 0.5 in more than "
            f"half of the (posterior, β) settings)", src2,
            "error < 0.5 in > half of the settings ('in many cases', sec. 7)",
            {f"{p} β={b:g}": round(e, 3) for (p, b), e in errs.items()},
            below > 0.5, tolerance="0.5: eq 11 is the optimum of the second-order objective; the "
            "amortised encoder, finite training and the elu curvature (eq 6 not exact) leave a residual",
            note=sub, kind="paper", scale=scale))
        # block structure vs the full-posterior reference
        for p in sc["posteriors"][d]:
            if not p.startswith("block"):
                continue
            key = "off_block" if p == "block:2" else "off_block3"
            fb = [float(res[(d, p, b)][key]) for b in betas]
            ff = [float(res[(d, "full", b)][key]) for b in betas]
            claims.append(relation(
                f"d={d}, {p}: the block posterior gives JᵀJ less off-block energy than the full-"
                f"posterior reference, at every β", src2, "off-block fraction(block) < (full)",
                {"block": np.round(fb, 4).tolist(), "full": np.round(ff, 4).tolist()},
                all(a < c for a, c in zip(fb, ff)), tolerance="strict inequality at every β",
                note=sub, kind="paper", scale=scale))
        cd = [float(res[(d, "diagonal", b)]["coherence"]) for b in betas]
        cf = [float(res[(d, "full", b)]["coherence"]) for b in betas]
        claims.append(relation(
            f"d={d}: a diagonal posterior gives nearly orthogonal Jacobian columns (mean squared "
            f"cosine below the full-posterior reference's, at every β)", f"{PAPER}, sec. 5.1, eq 11",
            "coherence(diagonal) < coherence(full)", {"diagonal": np.round(cd, 4).tolist(),
                                                       "full": np.round(cf, 4).tolist()},
            all(a < c for a, c in zip(cd, cf)), tolerance="strict inequality at every β",
            note=sub, kind="paper", scale=scale))

    # Fig 3: d = 12 (or the largest d of the grid), every non-full posterior (b = 1, 2, 3)
    d = FIG3_D if FIG3_D in sc["dims"] else max(sc["dims"])
    for p in [q for q in sc["posteriors"][d] if q != "full"]:
        rs = [res[(d, p, b)] for b in betas]
        bv = np.array([r["beta_vae"][-1] for r in rs])
        ta = np.array([r["taylor"][-1] for r in rs])
        gr = np.array([r["grae"][-1] for r in rs])
        c = 64 / 2 * np.log(2 * np.pi)       # the Gaussian normaliser D/2 log 2π, common to all three
        rel = np.abs(bv - gr) / np.abs(bv - c)
        claims.append(relation(
            f"d={d}, {p}: β-VAE, Taylor (eq 7) and GRAE (eq 13) objectives stay close: |β-VAE − GRAE| "
            f"/ |β-VAE − D/2·log 2π| < 5% over at least half the β grid", src3,
            "< 0.05 at ≥ half of the β",
            {f"β={b:g}": round(float(v), 4) for b, v in zip(betas, rel)},
            np.mean(rel < 0.05) >= 0.5, tolerance="5% relative: the paper says 'close', read as a "
            "few per cent of the objective", note=sub, kind="paper", scale=scale))
        gvt, gtg = np.abs(bv - ta), ta - gr
        trend = (f"d={d}, {p}: the gaps grow with β and the Taylor–GRAE gap grows faster than the "
                 f"β-VAE–Taylor gap (from the smallest to the largest β)")
        if scale == "quick":
            claims.append(not_run(
                trend, src3, "Δ|Taylor−GRAE| > Δ|β-VAE−Taylor| > 0 between the β ends",
                why=f"the quick scale trains {sc['steps']} steps at {len(betas)} β values, too short "
                    "for the gaps of the converged models (the gaps still move by their own size "
                    "between seeds)", would_run="betalab run kp-trained-jacobian --scale cpu",
                cost="about 32 min on 2 CPU cores (65 models x 5,000 steps, measured)", kind="paper",
                substitute=SUBSTITUTE, scale=scale,
                measured={"|bvae-taylor|": np.round(gvt, 4).tolist(),
                          "taylor-grae": np.round(gtg, 4).tolist()}))
        else:
            measured = {"|bvae-taylor|": np.round(gvt, 4).tolist(),
                        "taylor-grae": np.round(gtg, 4).tolist()}
            tol = (f"strict inequalities; the Monte Carlo standard error of β-VAE is ≤ "
                   f"{max(float(r['beta_vae_se'][-1]) for r in rs):.2g}")
            d_tg, d_bt = gtg[-1] - gtg[0], gvt[-1] - gvt[0]
            # measured on the digits, a substitute for the paper's data: a disagreement fails to
            # reproduce the ordering there (the printed claim and its rule, nothing paired)
            claims.append(relation(
                f"{trend} [{scale} scale, digits substitute]", src3,
                "Δ(Taylor−GRAE) > Δ|β-VAE−Taylor| > 0 between the β ends", measured,
                d_tg > d_bt > 0, tolerance=tol, kind="paper", scale=scale,
                note=f"{sub} Between β = {betas[0]:g} and {betas[-1]:g} the β-VAE–Taylor gap grows "
                     f"by {d_bt:.3g} nats and the Taylor–GRAE gap by {d_tg:.3g}. A disagreement "
                     "fails to reproduce the ordering on the substitute data; it does not show "
                     "the paper wrong."))
        fo = np.array([r["gap_formula"][-1] for r in rs])
        claims.append(close(
            f"d={d}, {p}: the measured Taylor − GRAE gap equals β·KL(N(0,Σ)‖N(0,M⁻¹)), the corrected "
            f"sec. 7 formula (largest deviation over the β grid, nats)", f"{PAPER}, sec. 7, App. F "
            "(corrected)", 0.0, float(np.max(np.abs(gtg - fo))), atol=1e-8,
            note="the two objectives computed in torch float64 from forward-mode Jacobians; the "
                 "formula by theory.implicit_regularization.taylor_grae_gap in numpy: rounding only. "
                 + sub,
            kind="paper", scale=scale))
    if "manifold" in numbers:
        claims += _manifold_claims(numbers["manifold"], scale)
    return claims + _full_scale_claims(scale)


@study("kp-trained-jacobian", title="Trained β-VAEs: posterior precision vs JᵀJ, objective gaps",
       paper=PAPER, source="Figs 2, 3, 7; App. D-F; eqs 7, 11, 13", notebook="kp_posterior_jacobian.py",
       recheck=claims_from)
def trained_jacobian(config: StudyConfig) -> StudyResult:
    import matplotlib.pyplot as plt

    from deep.data.digits import digit_split

    scale = config.scale if config.scale in SCALES else "cpu"
    if config.scale == "full":
        return StudyResult(claims=_full_scale_claims("full"), numbers={}, figures={})
    sc = SCALES[scale]
    x_train, x_test = digit_split(config.rng(0))
    x_test = x_test[:sc["n_eval"]]
    res = _pieces(config, sc, x_train, x_test)
    betas = sc["betas"]
    numbers = {"scale": scale, "runs": {_key(d, p, b): {k: _jsonable(r[k]) for k in NUMBER_KEYS}
                                        for (d, p, b), r in res.items()},
               "manifold": _manifold_pieces(config, scale)}
    claims = claims_from(numbers)

    # figures: Fig 2 (precision vs JᵀJ, one test point) and Fig 3 (objectives vs β)
    panels = [(d, p, b) for d in sc["dims"] for p in sc["posteriors"][d] if p.startswith("block")
              for b in betas]
    fig2, axes = plt.subplots(2, len(panels), figsize=(2.2 * len(panels), 4.6), squeeze=False)
    for j, (d, p, b) in enumerate(panels):
        r = res[(d, p, b)]
        for i, (mat, lab) in enumerate(((r["example_precision"], "Σ⁻¹"), (r["example_G"], "JᵀJ"))):
            axes[i, j].imshow(np.abs(mat), cmap="viridis")
            axes[i, j].set(xticks=[], yticks=[], title=f"{lab}: d={d} {p} β={b:g}" if i == 0 else lab)
    fig2.tight_layout()
    d = FIG3_D if FIG3_D in sc["dims"] else max(sc["dims"])
    fig3, axes = plt.subplots(1, len(sc["posteriors"][d]) - 1, figsize=(4 * (len(sc["posteriors"][d]) - 1), 3.2),
                              squeeze=False)
    for ax, p in zip(axes[0], [q for q in sc["posteriors"][d] if q != "full"]):
        for k, lab in (("beta_vae", "β-VAE"), ("taylor", "Taylor (eq 7)"), ("grae", "GRAE (eq 13)")):
            ax.plot(betas, [res[(d, p, b)][k][-1] for b in betas], "o-", label=lab)
        ax.set(xscale="log", xlabel="β", ylabel="objective (nats, held-out mean)", title=f"d={d}, {p}")
        ax.legend(fontsize=8)
    fig3.tight_layout()
    return StudyResult(claims=claims, numbers=numbers, figures={"fig2_precision_vs_jtj": fig2,
                                                                 "fig3_objectives": fig3})
