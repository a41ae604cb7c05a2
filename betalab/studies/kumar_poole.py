"""Kumar & Poole 2020, *On Implicit Regularization in β-VAEs*: studies.

* ``kp-posterior-jacobian`` — secs. 4–5, 7: the optimal posterior covariance (eq 11) as the
  argmax of eq 8, exactness for linear Gaussian decoders, GRAE (eq 13) and its bounds
  (eq 14, Frobenius), the stochastic GRAE≈ estimator, and the corrected Taylor–GRAE gap.
* ``kp-nonuniqueness`` — App. A: the mixing transforms that leave a factorised (Laplace) or
  correlated (bivariate Student-t) prior invariant, and the paper's ``|det J_r| = 1`` statement.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from betalab.claims import as_printed, as_printed_relation, close, relation
from betalab.registry import Param, StudyConfig, StudyResult, study

PAPER = "Kumar & Poole 2020"


def _mlp(rng, d, D, hidden=16):
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.Tanh(),
                              torch.nn.Linear(hidden, D)).double()
    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) / np.sqrt(p.shape[-1]))
    return net


def linear_gaussian_objective(x, A, b, mu, Sigma, beta, noise_var=1.0):
    """Exact β-VAE objective E_q log N(x; Az + b, noise_var·I) − β KL(N(mu, Sigma) ‖ N(0, I)).

    Written from the Gaussian expectations directly (Kumar & Poole 2020, eq 2 with a linear
    decoder), without :mod:`theory.implicit_regularization`, so that it can serve as an oracle:
    E‖x − Az − b‖² = ‖x − Aμ − b‖² + tr(AΣAᵀ), KL = ½(tr Σ + μᵀμ − d − log|Σ|).
    """
    D, d = A.shape
    r = x - A @ mu - b
    rec = -0.5 * (D * np.log(2 * np.pi * noise_var) + (r @ r + np.trace(A @ Sigma @ A.T)) / noise_var)
    kl = 0.5 * (np.trace(Sigma) + mu @ mu - d - np.linalg.slogdet(Sigma)[1])
    return float(rec - beta * kl)


def linear_gaussian_posterior(x, A, b, noise_var):
    """Exact posterior of z ~ N(0, I), x | z ~ N(Az + b, noise_var·I), by conditioning the joint
    Gaussian of (z, x) (Schur complement): mean Aᵀ(AAᵀ + cI)⁻¹(x − b), cov I − Aᵀ(AAᵀ + cI)⁻¹A."""
    G = np.linalg.solve(A @ A.T + noise_var * np.eye(A.shape[0]), A).T
    return G @ (x - b), np.eye(A.shape[1]) - G @ A


def maximise_gaussian_q(objective, d):
    """(μ, Σ) maximising ``objective(mu, Sigma)`` over a Cholesky parametrisation (BFGS)."""
    tril = np.tril_indices(d)

    def unpack(t):
        Lc = np.zeros((d, d))
        Lc[tril] = t[d:]
        Lc[np.diag_indices(d)] = np.exp(np.diag(Lc))
        return t[:d], Lc @ Lc.T

    res = optimize.minimize(lambda t: -objective(*unpack(t)), np.zeros(d + len(tril[0])),
                            method="BFGS", options={"gtol": 1e-10})
    return unpack(res.x)


def mlp_decoder(activation: str, sizes, seed: int = 0):
    """A random MLP g with ``activation`` (``"relu"`` or ``"elu"``) between float64 linear layers
    of ``sizes`` (latent first, logits last): returns (g, its parameter tensors)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    act = {"relu": torch.relu, "elu": torch.nn.functional.elu}[activation]
    Ws = [torch.randn(o, i, generator=gen, dtype=torch.float64) / i ** 0.5
          for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [torch.randn(o, generator=gen, dtype=torch.float64) * 0.5 for o in sizes[1:]]

    def g(v):
        h = v
        for k, (W, b) in enumerate(zip(Ws, bs)):
            h = h @ W.T + b
            if k < len(Ws) - 1:
                h = act(h)
        return h

    return g, Ws + bs


def hessian_eq5_eq6(g, z, x):
    """Kumar & Poole 2020, eqs 5–6 at one latent point z (d,) for a decoder ``g`` (a torch
    function of z giving Bernoulli logits for the D pixels of x): returns (exact, eq5, eq6), three
    d × d float64 arrays.

    ``exact`` is torch's Hessian of z ↦ log p(x | g(z)) (the oracle, differentiating the
    composite); ``eq6`` = J_gᵀ H_p J_g with H_p = −diag(σ(g)(1 − σ(g))); ``eq5`` adds
    Σ_i (∂ log p/∂g_i) ∇²g_i(z), with ∂ log p/∂g = x − σ(g) and each output's Hessian taken
    separately. For a piecewise-linear decoder ∇²g = 0 off the kinks, so eq 6 is eq 5."""
    import torch

    z = torch.as_tensor(np.asarray(z, float))
    x = torch.as_tensor(np.asarray(x, float))

    def log_p(v):                                  # Bernoulli with logits g(v)
        t = g(v)
        return (x * t - torch.nn.functional.softplus(t)).sum()

    with torch.no_grad():
        prob = torch.sigmoid(g(z))
    exact = torch.autograd.functional.hessian(log_p, z)
    J = torch.autograd.functional.jacobian(g, z)                       # (D, d)
    eq6 = -(J.T * (prob * (1 - prob))) @ J
    second = sum((x[i] - prob[i]) * torch.autograd.functional.hessian(lambda v: g(v)[i], z)
                 for i in range(x.numel()))
    return exact.numpy(), (eq6 + second).numpy(), eq6.numpy()


def train_relu_vae_decoder(x, latent_dim: int = 3, steps: int = 300, beta: float = 1.0,
                           seed: int = 0):
    """A small β-VAE with a relu MLP decoder (d-16-16-D, Bernoulli logits) and a linear Gaussian
    encoder, trained by Adam (1e-2, full batch, one reparameterised sample) on binary images
    ``x`` (n, D): returns (decoder g, encoder means (n, d), the first and last losses)."""
    import torch

    xt = torch.as_tensor(np.asarray(x, float))
    g, params = mlp_decoder("relu", (latent_dim, 16, 16, xt.shape[1]), seed)
    gen = torch.Generator().manual_seed(seed + 1)
    enc = torch.randn(xt.shape[1], 2 * latent_dim, generator=gen, dtype=torch.float64) * 0.05
    params = [p.requires_grad_() for p in params] + [enc.requires_grad_()]
    opt = torch.optim.Adam(params, lr=1e-2)
    losses = []
    for _ in range(steps):
        mu, logvar = (xt @ enc).chunk(2, -1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen, dtype=torch.float64)
        t = g(z)
        rec = (xt * t - torch.nn.functional.softplus(t)).sum(-1)
        kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(-1)
        loss = (beta * kl - rec).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    for p in params:
        p.requires_grad_(False)
    with torch.no_grad():
        mu = (xt @ enc)[:, :latent_dim].numpy()
    return g, mu, (losses[0], losses[-1])


def ppca_meanfield_gap(column_norms, theta: float, x, sigma: float = 0.5) -> float:
    """log p(x) − max over factorised Gaussian q of the ELBO, for probabilistic PCA with
    decoder B = A·R(θ) (Kumar & Poole 2020, sec. 3.1): A has orthogonal columns of the given
    norms, R(θ) rotates the latents, noise σ²I. log p(x) = log N(x; 0, BBᵀ + σ²I) by scipy; the
    ELBO (Gaussian expectations in closed form) is maximised over q's means and log-variances
    by BFGS. Zero exactly when the posterior of B factorises."""
    A = np.diag(np.asarray(column_norms, float))
    c, s_ = np.cos(theta), np.sin(theta)
    B = A @ np.array([[c, -s_], [s_, c]])
    x = np.asarray(x, float)
    log_px = stats.multivariate_normal(np.zeros(2), B @ B.T + sigma ** 2 * np.eye(2)).logpdf(x)

    def neg_elbo(t):
        m, logv = t[:2], t[2:]
        v = np.exp(logv)
        rec = -0.5 * (2 * np.log(2 * np.pi * sigma ** 2)
                      + (np.sum((x - B @ m) ** 2) + np.sum(v * np.sum(B ** 2, 0))) / sigma ** 2)
        kl = 0.5 * np.sum(m ** 2 + v - logv - 1)
        return -(rec - kl)

    res = optimize.minimize(neg_elbo, np.zeros(4), method="BFGS", options={"gtol": 1e-12})
    return float(log_px + res.fun)


@study("kp-posterior-jacobian", title="Posterior covariance, decoder Jacobian and GRAE",
       paper=PAPER, source="secs. 4-5, 7, eqs 3-14", notebook="kumar_poole_regularizers.py")
def posterior_jacobian(config: StudyConfig) -> StudyResult:
    import matplotlib.pyplot as plt
    import torch

    from deep import regularizers as R
    from theory import implicit_regularization as ir

    rng = config.rng(0)
    claims, numbers = [], {}

    # eq 11 is the argmax of eq 8 (numerical maximisation over Cholesky factors)
    D, d, beta = 6, 3, 0.5
    J = rng.normal(size=(D, d))
    hd = -rng.uniform(0.5, 2.0, size=D)
    H = ir.jacobian_hessian(J, hd)
    mu = rng.normal(size=d)
    tril = np.tril_indices(d)

    def chol(theta):
        L = np.zeros((d, d))
        L[tril] = theta
        L[np.diag_indices(d)] = np.exp(np.diag(L))
        return L @ L.T

    res = optimize.minimize(lambda t: -ir.taylor_objective(0.0, H, mu, chol(t), beta),
                            np.zeros(len(tril[0])), method="BFGS", options={"gtol": 1e-10})
    err = float(np.max(np.abs(chol(res.x) - ir.optimal_posterior_covariance(J, hd, beta))))
    numbers["eq11_argmax_max_abs_err"] = err
    claims.append(close("The optimal posterior covariance (I - J^T H_p J / beta)^-1 maximises "
                        "the concave second-order objective", f"{PAPER}, eqs 8, 9, 11",
                        0.0, err, atol=1e-5, kind="paper",
                        note="oracle: BFGS over Cholesky factors; tolerance: BFGS gradient 1e-10 "
                             "on a well-conditioned 3×3 problem"))

    # linear decoder, Gaussian observations: Taylor = β-VAE (MC), = GRAE at the optimum
    A, b, x = rng.normal(size=(4, 2)), rng.normal(size=4), rng.normal(size=4)
    mu2 = rng.normal(size=2)
    S = np.array([[0.5, 0.1], [0.1, 0.3]])
    exact = linear_gaussian_objective(x, A, b, mu2, S, beta)
    logp_mu = stats.multivariate_normal(np.zeros(4), np.eye(4)).logpdf(x - A @ mu2 - b)
    taylor = float(ir.taylor_objective(logp_mu, ir.jacobian_hessian(A, None), mu2, S, beta))
    numbers.update(linear_exact=exact, linear_taylor=taylor)
    claims.append(close("Linear decoder, Gaussian observations: the Taylor objective (eq 7) equals "
                        "the beta-VAE objective (exact Gaussian expectations)",
                        f"{PAPER}, eqs 3-7", exact, taylor, rtol=1e-12, kind="paper",
                        note="the second-order expansion is exact for a linear decoder; oracle: "
                             "linear_gaussian_objective (written without theory.implicit_regularization); "
                             "tolerance: float64"))
    S_opt = ir.optimal_posterior_covariance(A, None, beta)
    grae = float(ir.grae_loss(x, A @ mu2 + b, mu2, A, beta)) + 2 * np.log(2 * np.pi)
    claims.append(close("Linear Gaussian decoder at the optimal covariance: beta-VAE objective = "
                        "-GRAE (eq 13) up to the constant D/2 log 2pi", f"{PAPER}, eqs 12-13",
                        -grae, linear_gaussian_objective(x, A, b, mu2, S_opt, beta), rtol=1e-12,
                        kind="paper", note="oracle: the exact objective of linear_gaussian_objective; "
                                           "tolerance: float64"))

    # gap between GRAE and Taylor: the printed form vs the corrected one
    Sig = np.array([[0.4, -0.1], [-0.1, 0.2]])
    gap = float(ir.taylor_grae_gap(A, None, Sig, beta))
    # oracle: objective at Σ* minus objective at Σ, both exact (the Taylor objective is exact here)
    direct = (linear_gaussian_objective(x, A, b, mu2, S_opt, beta)
              - linear_gaussian_objective(x, A, b, mu2, Sig, beta))
    Mp = np.eye(2) + A.T @ A @ Sig / beta
    printed_det = np.linalg.det(Mp - 2)  # log|(I + J^TJΣ/β) − d| as printed
    printed = beta / 2 * (np.trace(Mp) - (np.log(printed_det) if printed_det > 0 else np.nan))
    numbers.update(gap_corrected=gap, gap_direct=direct, gap_printed=float(printed))
    claims += as_printed(
        "The Taylor-GRAE gap is beta/2 [tr(I + J^TJ Sigma/beta) - log|(I + J^TJ Sigma/beta) - d|] "
        "(as printed), evaluated against the exact objective difference", f"{PAPER}, sec. 7 and App. F",
        float(printed), direct, rtol=1e-10,
        basis="derivation", why="Malformed: d sits inside the log-determinant (here its argument is "
            f"{printed_det:.3g}) and the bracket makes tr(I + ...) = d + ...; it does not vanish at "
            "eq 11. Derived (sympy): gap = beta/2 [tr(M Sigma) - log|M Sigma| - d] = beta "
            "KL(N(0,Sigma) || N(0,M^-1)), M = I + J^TJ/beta (paired claim).",
        corrected=close("Corrected gap beta/2[tr(M Sigma) - log|M Sigma| - d] equals the exact "
                        "beta-VAE objective at Sigma* minus that at Sigma", f"{PAPER}, sec. 7 (corrected)",
                        direct, gap, rtol=1e-10, kind="paper",
                        note="oracle: linear_gaussian_objective; tolerance: float64 on a difference "
                             "of O(1) objectives"))
    claims.append(close("The gap vanishes at the optimal covariance of eq 11",
                        f"{PAPER}, sec. 7", 0.0, float(ir.taylor_grae_gap(A, None, S_opt, beta)),
                        atol=1e-12, kind="check", note="tolerance: float64"))

    # sec. 7: "multiplication by β for the KL term ... is equivalent to assuming an isotropic decoding
    # covariance of (1/β)I": the β-objective's maximiser against the exact posterior of each decoder.
    beta_c = 4.0
    mu_b, Sig_b = maximise_gaussian_q(lambda m, Sg: linear_gaussian_objective(x, A, b, m, Sg, beta_c), 2)
    post = {c: linear_gaussian_posterior(x, A, b, c) for c in (1 / beta_c, beta_c)}
    err = {c: float(max(np.abs(mu_b - m).max(), np.abs(Sig_b - Sg).max())) for c, (m, Sg) in post.items()}
    numbers["decoder_covariance_equivalence"] = {"beta": beta_c, "err_printed_1_over_beta": err[1 / beta_c],
                                                 "err_beta": err[beta_c]}
    claims += as_printed_relation(
        f"β on the KL term is equivalent to a decoder covariance (1/β)I (β = {beta_c:g}: the maximiser "
        "q of the β-objective equals the exact posterior with decoder covariance I/β)",
        f"{PAPER}, sec. 7 (CelebA paragraph)", "max |Δμ|, |ΔΣ| ≤ 1e-6", err[1 / beta_c],
        err[1 / beta_c] <= 1e-6, tolerance="1e-6 (BFGS gradient tolerance 1e-10)",
        basis="derivation", why="Dividing the objective by β gives E_q log N(x; g(z), I)/β − KL = E_q log N(x; g(z), βI) − KL "
            "+ const: the equivalent decoder covariance is βI, not (1/β)I (paired claim).",
        corrected=close(f"Corrected: the maximiser of the β-objective (β = {beta_c:g}) is the exact "
                        "posterior with decoder covariance βI (max abs difference of mean and covariance)",
                        f"{PAPER}, sec. 7 (corrected)", 0.0, err[beta_c], atol=1e-6, kind="paper",
                        note="measured: BFGS on the exact objective over (μ, Cholesky Σ); oracle: "
                             "Gaussian conditioning of the joint (z, x); tolerance: BFGS gradient 1e-10"))

    # Bernoulli H_p
    sym = ir.derive_bernoulli_hessian()
    claims.append(relation("Bernoulli observations: H_p,ii = -1/(1 - x_i - g_i)^2 for binary x "
                           "(sympy)", f"{PAPER}, sec. 5.1", "residual 0 for x=0 and x=1",
                           [str(sym["residual_x0"]), str(sym["residual_x1"])],
                           sym["residual_x0"] == 0 and sym["residual_x1"] == 0, kind="paper"))

    # torch regularizers on a random tanh MLP decoder
    dz, Dx = 8, 32
    net = _mlp(rng, dz, Dx)
    z = torch.from_numpy(rng.normal(size=(64, dz)))
    Jt = R.decoder_jacobian(net, z).detach().numpy()
    betas = np.logspace(-2, 1, 13)
    curves = {m: [] for m in ("exact", "hadamard", "frobenius")}
    for bb in betas:
        for m in curves:
            with torch.no_grad():
                curves[m].append(float(R.grae_regularizer(net, z, bb, mode=m).mean()))
    numbers["betas"] = betas.tolist()
    numbers["regularizer_curves"] = curves
    had_ok = all(h >= e - 1e-12 for h, e in zip(curves["hadamard"], curves["exact"]))
    fro_ok = all(f >= e - 1e-12 for f, e in zip(curves["frobenius"], curves["exact"]))
    claims.append(relation("Hadamard bound: log|I + J^TJ/beta| <= sum_i log(1 + ||J_:,i||^2/beta) "
                           "(random tanh MLP, 13 betas)", f"{PAPER}, eq 14", "holds at every beta",
                           had_ok, had_ok, tolerance="1e-12 (float64)", kind="paper"))
    claims.append(relation("First-order term ||J||_F^2/beta upper-bounds the exact regularizer "
                           "(log(1+s) <= s)", f"{PAPER}, sec. 5.3", "holds at every beta", fro_ok, fro_ok,
                           tolerance="1e-12 (float64)", kind="paper"))
    exact_np = float(ir.grae_regularizer(Jt, None, 0.3).mean())
    claims.append(close("Forward-mode exact regularizer equals dense numpy log-det",
                        f"{PAPER}, eq 13", exact_np,
                        float(R.grae_regularizer(net, z, 0.3).detach().mean()), rtol=1e-10,
                        kind="check", note="float64 torch vs numpy"))
    gen = torch.Generator().manual_seed(config.seed)
    reps = 400 if config.full else 100
    draws = R.grae_regularizer(net, z.repeat(reps, 1), 0.3, mode="stochastic",
                               generator=gen).detach().numpy()
    had = float(R.grae_regularizer(net, z, 0.3, mode="hadamard").detach().mean())
    se_st = float(draws.reshape(reps, -1).mean(1).std(ddof=1) / np.sqrt(reps))
    numbers.update(stochastic_mean=float(draws.mean()), hadamard_mean=had, stochastic_se=se_st)
    claims.append(close("GRAE-approx (k=1 uniformly sampled column, scaled by d) is unbiased for "
                        "the Hadamard bound (4 standard errors)", f"{PAPER}, below eq 14",
                        had, float(draws.mean()), atol=4 * se_st, kind="paper",
                        note=f"tolerance: 4 standard errors of the mean over {reps} replicate passes "
                             f"(se = {se_st:.3g}, {100 * se_st / had:.2g}% of the value)"))
    # sec. 5.3's first-order regularizer: the printed product J_g [−H_p^(1/2)] against the shapes
    Jd, hd2 = rng.normal(size=(7, 3)), -rng.uniform(0.5, 2.0, size=7)
    conforms = Jd.shape[1] == np.diag(hd2).shape[0]
    M = Jd.T @ np.diag(-hd2) @ Jd
    beta_big = 1e3 * float(np.linalg.norm(M, 2))
    exact_big = beta_big / 2 * np.linalg.slogdet(np.eye(3) + M / beta_big)[1]
    first = 0.5 * float(np.sum((np.sqrt(-hd2)[:, None] * Jd) ** 2))
    claims += as_printed_relation(
        "First-order regularizer for general H_p is ||J_g [-H_p^(1/2)]||_F^2 (as printed: the product "
        "J_g [-H_p^(1/2)] is defined)", f"{PAPER}, sec. 5.3", "inner dimensions agree",
        {"J_g": list(Jd.shape), "H_p": [7, 7]}, conforms,
        basis="derivation", why="J_g is D x d and H_p is D x D: the printed product does not conform. The weighting acts "
            "on J's rows, (-H_p)^(1/2) J_g (paired claim).",
        corrected=close("Corrected: beta/2 log|I - J^T H_p J/beta| -> 1/2 ||(-H_p)^(1/2) J||_F^2 for "
                        "large beta (relative difference at beta = 1e3 ||J^T(-H_p)J||)",
                        f"{PAPER}, sec. 5.3 (corrected)", 0.0, abs(exact_big / first - 1), atol=1e-3,
                        kind="paper", note="log|I + M/β| = tr M/β − tr M²/(2β²) + …, so the relative "
                                           "difference is ≤ ‖M‖/(2β) = 5e-4 here"))

    # eqs 5–6: the Hessian of log p(x|g(z)); eq 6 drops Σ_i ∂log p/∂g_i ∇²g_i, exact for relu
    from sklearn.datasets import load_digits

    digits = (load_digits().data[:400] > 7).astype(float)          # 8×8 digits, binarised
    g_trained, mu_tr, (loss0, loss1) = train_relu_vae_decoder(digits, seed=config.seed)
    zs = rng.normal(size=(20, 3))
    xs = (rng.uniform(size=(20, 8)) < 0.5).astype(float)
    rel = {}
    cases = {"relu": [(mlp_decoder("relu", (3, 16, 16, 8), k)[0], zs[k], xs[k]) for k in range(20)],
             "elu": [(mlp_decoder("elu", (3, 16, 16, 8), k)[0], zs[k], xs[k]) for k in range(20)],
             "trained_relu": [(g_trained, mu_tr[k], digits[k]) for k in range(20)]}
    for name, items in cases.items():
        r5, r6 = [], []
        for g_k, zk, xk in items:
            ex, h5, h6 = hessian_eq5_eq6(g_k, zk, xk)
            nrm = np.linalg.norm(ex)
            r5.append(np.linalg.norm(h5 - ex) / nrm)
            r6.append(np.linalg.norm(h6 - ex) / nrm)
        rel[name] = {"eq5_max_rel_err": float(max(r5)), "eq6_max_rel_err": float(max(r6)),
                     "eq6_median_rel_err": float(np.median(r6))}
    rel["trained_relu"]["loss_first_last"] = [loss0, loss1]
    numbers["eqs5_6"] = rel
    claims.append(close("Eq 6 is exact for a piecewise-linear (relu) decoder: J^T H_p J equals "
                        "the Hessian of log p(x|g(z)) (max relative error over 20 random points)",
                        f"{PAPER}, eqs 5-6 and the sentence after eq 5", 0.0,
                        rel["relu"]["eq6_max_rel_err"], atol=1e-12, kind="paper",
                        note="oracle: torch's Hessian of the composite z -> log p(x|g(z)) "
                             "(Bernoulli logits, random 3-16-16-8 relu MLP); ∇²g = 0 off the kinks, "
                             "which random points miss almost surely; tolerance: float64 round-off"))
    claims.append(close("Eq 6 is exact for a trained relu decoder: J^T H_p J equals the Hessian of "
                        "log p(x|g(z)) at the encoder means of 20 training digits",
                        f"{PAPER}, eqs 5-6", 0.0, rel["trained_relu"]["eq6_max_rel_err"],
                        atol=1e-12, kind="paper",
                        note="a β-VAE (linear encoder, relu 3-16-16-64 decoder, Bernoulli) trained "
                             "300 Adam steps on 400 binarised 8×8 scikit-learn digits (MNIST is not "
                             f"obtainable offline; loss {loss0:.1f} -> {loss1:.1f} nats); same oracle "
                             "and tolerance"))
    claims.append(close("Eq 5 in full (with the Σ_i ∂log p/∂g_i ∇²g_i term) equals the Hessian "
                        "of log p(x|g(z)) for a smooth (elu) decoder",
                        f"{PAPER}, eq 5", 0.0, rel["elu"]["eq5_max_rel_err"], atol=1e-12,
                        kind="paper", note="same oracle and networks with elu; tolerance: float64 round-off"))
    claims.append(relation("For an elu decoder eq 6 is an approximation: dropping ∇²g changes the "
                           "Hessian (median relative difference above 1e-3)",
                           f"{PAPER}, sec. 7 and App. D (elu 'to test the approximation quality "
                           "of GRAE when eq (6) is not exact')", "median relative error > 1e-3",
                           rel["elu"], rel["elu"]["eq6_median_rel_err"] > 1e-3, kind="paper",
                           tolerance="1e-3: nine orders above the relu case's round-off"))

    # figure: regularizers vs beta (left), Σ* vs (I + JᵀJ/β)⁻¹ structure (right)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    for m, style in zip(curves, ("-", "--", ":")):
        ax.plot(betas, curves[m], style, label={"exact": "exact log|I + JᵀJ/β| (eq 13)",
                                                "hadamard": "Hadamard bound (eq 14)",
                                                "frobenius": "‖J‖²_F/β (sec. 5.3)"}[m])
    ax.errorbar([0.3], [draws.mean()], yerr=[4 * se_st], fmt="o", color="k",
                label="GRAE≈, k=1 (mean ± 4 SE)")
    ax.set(xscale="log", yscale="log", xlabel="β", ylabel="regularizer (mean over 64 z)",
           title=f"Decoder regularizers, tanh MLP d={dz}, D={Dx}")
    ax.legend(fontsize=8)
    ax = axes[1]
    scales = np.logspace(-1, 1, 30)
    ax.plot(scales, [float(ir.taylor_grae_gap(A, None, s * S_opt, beta)) for s in scales],
            label="corrected gap β·KL(N(0,Σ)‖N(0,Σ*))")
    ax.axvline(1.0, color="k", lw=0.5)
    ax.set(xscale="log", xlabel="Σ = c·Σ* (eq 11)", ylabel="GRAE − Taylor objective",
           title="Taylor–GRAE gap, linear decoder (sec. 7, corrected)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return StudyResult(numbers=numbers, figures={"regularizers": fig}, claims=claims)


@study("kp-nonuniqueness", title="Prior-preserving mixing transforms", paper=PAPER,
       source="App. A", notebook="kumar_poole_nonuniqueness.py")
def nonuniqueness(config: StudyConfig) -> StudyResult:
    import matplotlib.pyplot as plt

    from linear_models import uniqueness as U

    rng = config.rng(1)
    n = 100_000 if config.full else 20_000
    claims, numbers = [], {}
    dist = stats.laplace()
    z = dist.rvs(size=(n, 2), random_state=rng)
    Urot = U.rotation_matrix(np.pi / 4)
    r = U.mixing_transform(z, Urot, dist)
    edges = dist.ppf(np.linspace(0, 1, 7)[1:-1])
    counts = np.bincount(np.digitize(r[:, 0], edges) * 6 + np.digitize(r[:, 1], edges), minlength=36)
    p_chi = float(stats.chisquare(counts).pvalue)
    numbers["laplace_chi2_pvalue"] = p_chi
    claims.append(relation("r = F^-1 o Phi o U o Phi^-1 o F leaves a factorised Laplace prior "
                           "invariant (chi-square over 36 prior-equiprobable cells)",
                           f"{PAPER}, App. A", "p-value > 0.001", p_chi, p_chi > 1e-3,
                           tolerance=f"chi-square test at level 1e-3, n = {n}, fixed seed", kind="paper"))
    corr = float(np.corrcoef(z[:, 1], r[:, 0])[0, 1])
    numbers["mixing_corr"] = corr
    claims.append(relation("r mixes the latents: r_1(z) depends on z_2", f"{PAPER}, App. A",
                           "|corr(z_2, r_1)| > 10/sqrt(n)", corr, abs(corr) > 10 / np.sqrt(n),
                           tolerance="10 standard errors of a null correlation (1/sqrt(n))", kind="paper"))
    zz = z[:500]
    Jfd = U.numerical_jacobian(lambda w: U.mixing_transform(w, Urot, dist), zz)
    logdet = np.log(np.abs(np.linalg.det(Jfd)))
    ratio = dist.logpdf(zz).sum(-1) - dist.logpdf(U.mixing_transform(zz, Urot, dist)).sum(-1)
    numbers.update(max_abs_logdet=float(np.max(np.abs(logdet))),
                   max_err_prior_ratio=float(np.max(np.abs(logdet - ratio))))
    claims += as_printed(
        "The mixing transform has |det J_r(z)| = 1 (max |log|det J_r|| over 500 points)",
        f"{PAPER}, App. A", 0.0, float(np.max(np.abs(logdet))), atol=1e-5,
        basis="exact computation", why="Finite-difference Jacobians give |log|det J_r|| up to the value measured. The chain rule "
            "gives |det J_r(z)| = p(z)/p(r(z)) (1 only for the Gaussian prior); invariance r#p = p is "
            "what the argument needs (paired claim).",
        corrected=close("|det J_r(z)| = p(z)/p(r(z)) (finite differences, 500 points, max "
                        "abs error of the log)", f"{PAPER}, App. A (corrected)", 0.0,
                        float(np.max(np.abs(logdet - ratio))), atol=1e-5, kind="paper",
                        note="tolerance: central finite differences of step ~1e-6, error ~1e-8–1e-6"),
        kind="paper")

    prior = U.BivariateStudentT(df=6.0, rho=0.6)
    zc = prior.sample(n, rng)
    rc = U.darmois_mixing_transform(zc, U.rotation_matrix(np.pi / 3), prior)
    pks = [float(stats.kstest(rc[:, i], stats.t(6.0).cdf).pvalue) for i in range(2)]
    numbers["corr_prior_ks_pvalues"] = pks
    claims.append(relation("Correlated prior (bivariate t, nu=6, rho=0.6): the Darmois version "
                           "keeps the t_6 marginals (KS)", f"{PAPER}, App. A, correlated priors",
                           "both p-values > 0.001", pks, min(pks) > 1e-3,
                           tolerance=f"KS at level 1e-3, n = {n}, fixed seed", kind="paper"))
    boot = [np.corrcoef(prior.sample(n, rng).T)[0, 1] for _ in range(10)]
    cr = float(np.corrcoef(rc.T)[0, 1])
    claims.append(close("Correlated prior: the correlation rho = 0.6 is preserved",
                        f"{PAPER}, App. A, correlated priors", 0.6, cr,
                        atol=float(4 * np.std(boot)), kind="paper",
                        note=f"tolerance: 4 standard deviations of the sample correlation, from 10 fresh "
                             f"samples of size n = {n}"))
    zc5 = zc[:300]
    Jc = U.numerical_jacobian(
        lambda w: U.darmois_mixing_transform(w, U.rotation_matrix(np.pi / 3), prior), zc5)
    errc = float(np.max(np.abs(np.log(np.abs(np.linalg.det(Jc)))
                               - (prior.logpdf(zc5) - prior.logpdf(rc[:300])))))
    claims.append(close("Correlated prior: |det J_r| = p(z)/p(r(z)) pointwise (change of variables "
                        "<=> r#p = p)", f"{PAPER}, App. A (corrected)", 0.0, errc, atol=1e-5,
                        kind="extension", note="tolerance: central finite differences"))

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    m = 3000
    axes[0].scatter(z[:m, 0], z[:m, 1], s=2, alpha=0.4, label="z ~ Laplace⊗Laplace")
    axes[0].scatter(r[:m, 0], r[:m, 1], s=2, alpha=0.4, label="r(z)")
    axes[0].set(xlim=(-6, 6), ylim=(-6, 6), title="App. A: r#p = p (Laplace prior)",
                xlabel="z₁", ylabel="z₂")
    axes[0].legend(fontsize=8, markerscale=4)
    sc = axes[1].scatter(z[:m, 0], z[:m, 1], c=r[:m, 0], s=3, cmap="coolwarm",
                         vmin=-3, vmax=3)
    axes[1].set(xlim=(-6, 6), ylim=(-6, 6), title="r₁(z): depends on both z₁ and z₂ (mixing)",
                xlabel="z₁", ylabel="z₂")
    fig.colorbar(sc, ax=axes[1])
    axes[2].hist(logdet, bins=40)
    axes[2].set(xlabel="log|det J_r(z)| (finite differences)", ylabel="count",
                title="App. A states |det J_r| = 1; it is p(z)/p(r(z))")
    fig.tight_layout()
    return StudyResult(numbers=numbers, figures={"mixing": fig}, claims=claims)


# --------------------------------------------------------------------------- uniqueness (App. C)

def _angle_difference(a, b):
    """Difference of two rotation angles in degrees, wrapped to (−45, 45] (the angles are
    defined modulo 90° once permutations and reflections are removed)."""
    return 45.0 - np.mod(45.0 - (np.asarray(a) - np.asarray(b)), 90.0)


def _run_uniqueness_experiment(nl, covariance, amortized, lengths, n_samples, n_final, seed,
                               device, chunk, quad_order, partial=None, progress=False,
                               column_norms=(2.0, 1.0)):
    """One App. C experiment (one ν, one Σ type, amortised or not), trials batched in chunks.

    Every data set is trained twice, from two independent initialisations (and fixed random
    rotations): trial 2i and 2i+1 share x, z, W. Chunk c draws its data and initialisations
    from its own seed ``seed + [c]``, so it does not depend on the other chunks; with
    ``partial`` (a :class:`betalab.io.PartialResults`) a finished chunk is kept and an
    interrupted run resumes at the first unfinished one. ``progress`` shows a bar over the
    chunks. Returns per-trial arrays.
    """
    import torch
    from deep.progress import bar

    from deep import uniqueness as DU
    from linear_models.uniqueness import rotation_angle

    keys = ("n", "elbo", "elbo_final", "angle", "angle_final", "iterations")
    out = {k: [] for k in keys}
    name = f"{nl}-{covariance}-{'amortised' if amortized else 'unamortised'}"
    if tuple(column_norms) != (2.0, 1.0):
        name += "-norms" + "-".join(f"{c:g}" for c in column_norms)
    starts = range(0, len(lengths), chunk)
    for c, s in enumerate(bar(starts, desc=f"kp-uniqueness {name}", unit="chunk",
                               show=progress, mininterval=5.0)):
        signature = {"seed": list(seed) + [c], "lengths": [int(n) for n in lengths[s:s + chunk]],
                     "n_samples": n_samples, "n_final": n_final, "quad_order": quad_order}
        if tuple(column_norms) != (2.0, 1.0):
            signature["column_norms"] = [float(c) for c in column_norms]

        def chunk_fit(c=c, s=s):
            rng = np.random.default_rng(list(seed) + [c])
            gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
            one = DU.make_data(lengths[s:s + chunk], nl, n_samples, rng, column_norms=column_norms)
            data = DU.UniquenessData(*(np.repeat(a, 2, axis=0) for a in (one.x, one.z, one.W,
                                                                         one.n)),
                                     nonlinearity=nl)
            fit = DU.train_uniqueness_newton(data, covariance, amortized, gen, device=device,
                                             n_final=n_final, quad_order=quad_order)
            res = {k: fit[k] for k in ("n", "elbo", "elbo_final", "iterations")}
            res["angle"] = [rotation_angle(z, m) for z, m in zip(data.z, fit["mu"])]
            res["angle_final"] = [rotation_angle(z, m) for z, m in zip(data.z, fit["mu_final"])]
            return res

        res = chunk_fit() if partial is None else \
            partial.fetch(f"{name}-chunk{c}", signature, chunk_fit)
        for k in keys:
            out[k] += np.asarray(res[k]).tolist()
    return {k: np.asarray(v) for k, v in out.items()}


NONLINEARITIES = ("identity", "tanh", "sigmoid", "elu")


def _nonlinearity_subset(name, value):
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of nonlinearities from {NONLINEARITIES}, got {value!r}")
    bad = [v for v in value if v not in NONLINEARITIES]
    if bad or not value or len(set(value)) != len(value):
        raise ValueError(f"{name} must be distinct values from {NONLINEARITIES}, got {list(value)!r}")
    return tuple(v for v in NONLINEARITIES if v in value)  # the study's order


@study("kp-uniqueness", title="Mean-field q makes the latents unique (rotation angle vs ELBO)",
       paper=PAPER, source="sec. 3.2, App. C, Figs 1, 5, 6", notebook="kumar_poole_uniqueness.py",
       params={"nonlinearities": Param(
           f"decoder nonlinearities ν to run, a subset of {NONLINEARITIES} (default: all four); "
           "each ν's four experiments and their seeds do not depend on the others",
           _nonlinearity_subset)})
def uniqueness(config: StudyConfig) -> StudyResult:
    """Rotation angle between true and inferred latents vs ELBO gap (Kumar & Poole 2020, App. C).

    Settings not stated by the paper (recorded in the claims): decoder σ fixed to the true 0.05;
    W with orthogonal columns of norms 2 and 1; trained by batched saddle-free Newton / LM
    (``deep.uniqueness.train_uniqueness_newton``) after 200 Adam steps, because the paper's
    gradient descent does not reach the optimum in feasible time at σ = 0.05 (the rotation
    direction is ~10⁴ times flatter than the stiff ones); run lengths are Newton iterations.
    Every data set is fitted from two initialisations, which tests uniqueness directly: a
    unique optimum gives the same angle twice.
    """
    nls = config.param("nonlinearities", NONLINEARITIES)
    if config.full:  # 13 run lengths; 20 data sets each, 100 for the two longest: 420 trials
        base = np.array([1, 2, 3, 5, 8, 12, 16, 20, 25, 30, 40, 50, 60])
        lengths = np.concatenate([np.repeat(base[:-2], 10), np.repeat(base[-2:], 50)])
        n_samples, n_final, chunk = 4000, 200, 30
    else:
        lengths = np.array([1, 4, 10, 25, 1, 4, 10, 25])
        n_samples, n_final, chunk = 200, 60, 8
    numbers = {"nonlinearities": list(nls), "n_trials_per_experiment": 2 * int(lengths.size),
               "n_data_sets_per_experiment": int(lengths.size), "n_samples": n_samples,
               "newton_iterations_max": n_final}
    exps = {}
    for nl in nls:
        for amortized in (True, False):
            for cov in ("diagonal", "full"):
                key = f"{nl}/{cov}/{'amortised' if amortized else 'unamortised'}"
                seed = [config.seed, 6, NONLINEARITIES.index(nl), int(amortized), int(cov == "full")]
                exps[key] = _run_uniqueness_experiment(
                    nl, cov, amortized, lengths, n_samples, n_final, seed, config.device,
                    # Gauss–Hermite order: 2 is exact for ν = identity; 4 for the others
                    chunk, quad_order=2 if nl == "identity" else 4, partial=config.partial,
                    progress=config.full)
                e = exps[key]
                numbers[key] = {k: v.tolist() for k, v in e.items()}
                numbers[key + "/median_abs_angle_final"] = float(np.median(np.abs(e["angle_final"])))
                pair = np.abs(_angle_difference(e["angle_final"][0::2], e["angle_final"][1::2]))
                numbers[key + "/median_pair_angle_difference"] = float(np.median(pair))

    if "identity" in nls:
        # sec. 3.1's negative control: PPCA whose W has orthogonal columns of equal norms
        for amortized in (True, False):
            am = "amortised" if amortized else "unamortised"
            e = _run_uniqueness_experiment(
                "identity", "diagonal", amortized, lengths, n_samples, n_final,
                [config.seed, 6, 9, int(amortized)], config.device, chunk, quad_order=2,
                partial=config.partial, progress=config.full, column_norms=(1.0, 1.0))
            pair = np.abs(_angle_difference(e["angle_final"][0::2], e["angle_final"][1::2]))
            numbers[f"ppca-equal-norms/{am}"] = {k: v.tolist() for k, v in e.items()}
            numbers[f"ppca-equal-norms/{am}/median_pair_angle_difference"] = float(np.median(pair))

    scale = "full" if config.full else "quick"
    n_sets = int(lengths.size)
    tol = (f"median over {n_sets} data sets ({scale} scale: {n_samples} points each); the 1° and 5° "
           "limits sit an order of magnitude from the measured medians of either side")
    claims = []
    for nl in nls:
        for am in ("amortised", "unamortised"):
            d, f = exps[f"{nl}/diagonal/{am}"], exps[f"{nl}/full/{am}"]
            fig_ref = "Figs 1, 5" if am == "amortised" else "Fig 6"
            src = f"{PAPER}, sec. 3.2, App. C, {fig_ref}"
            pd = numbers[f"{nl}/diagonal/{am}/median_pair_angle_difference"]
            pf = numbers[f"{nl}/full/{am}/median_pair_angle_difference"]
            unique = relation(
                f"nu={nl}, {am}: with diagonal Sigma the optimum is unique: median |difference| "
                f"of the converged angles of two initialisations on the same data",
                f"{src}; Thm 1", "< 1 deg", pd, pd < 1.0, tolerance=tol, kind="paper", scale=scale,
                note="Direct test of uniqueness: the same data set fitted from two random "
                     "initialisations and random fixed rotations O1, O2, O.")
            not_unique = relation(
                f"nu={nl}, {am}: with full Sigma the optimum is not unique: median |difference| "
                f"of the converged angles of two initialisations on the same data",
                f"{src}; Thm 1", "> 5 deg", pf, pf > 5.0, tolerance=tol, kind="paper", scale=scale)
            md = float(np.median(np.abs(d["angle_final"])))
            mf = float(np.median(np.abs(f["angle_final"])))
            text = (f"nu={nl}, {am}: with diagonal Sigma the inferred latents align with the "
                    f"true ones at the optimum: median |rotation angle| of the converged trials")
            text2 = (f"nu={nl}, {am}: at the optimum the diagonal-Sigma angles are closer to 0 "
                     f"than the full-Sigma ones (median |angle|, diagonal vs full)")
            # For ν = identity the true posterior factorises at the true rotation, so alignment is
            # the paper's claim as it stands. For nonlinear ν every rotation A -> AR of the decoder
            # has the same likelihood (rotation-invariant prior) and the ELBO selects the one with
            # the smallest mean-field gap: the printed statement is evaluated, and where it does
            # not hold the paired claim is uniqueness itself, which is what Thm 1 supports.
            why = ("The optimum is unique (paired claim), but for nonlinear nu it is not "
                   "the true rotation: all rotations A -> AR of the decoder have the same "
                   "likelihood (rotation-invariant prior) and the ELBO selects the one with the "
                   "smallest mean-field gap, i.e. the most factorised posterior "
                   "(J = diag(nu'(Az))A with orthogonal columns, eq 11); the true posterior is "
                   "factorised at the true rotation only for nu = identity.")
            claims += as_printed_relation(
                text, src, "< 5 deg", md, md < 5.0, tolerance=tol, basis="derivation", why=why, corrected=unique,
                kind="paper", scale=scale)
            claims += as_printed_relation(
                text2, src, "diagonal < full", [md, mf], md < mf, tolerance=tol,
                basis="derivation", why=why.replace("(paired claim)", "(see the diagonal-Sigma uniqueness claim)")
                + " The paired claim is the full-Sigma non-uniqueness that the comparison was meant "
                  "to show.", corrected=not_unique, kind="paper", scale=scale)
            if nl != "identity":
                gap = d["elbo_final"] - d["elbo"]
                near = np.abs(d["angle"][gap < 1e-2])
                far = np.abs(d["angle"][gap > 1e-1])
                numbers[f"{nl}/{am}/diag_near_far_mean_abs_angle"] = [
                    float(near.mean()) if near.size else None, float(far.mean()) if far.size else None]

    # sec. 3.1 in closed form: rotations of PPCA's latents keep a factorised posterior exactly
    # when W's columns have equal norms
    thetas = np.linspace(0.05, np.pi / 2 - 0.05, 12)
    x31 = np.array([0.7, -1.3])
    gaps = {name: [ppca_meanfield_gap(cn, t, x31) for t in thetas]
            for name, cn in (("equal_norms", (1.0, 1.0)), ("norms_2_1", (2.0, 1.0)))}
    numbers["ppca_rotation_meanfield_gap"] = {"theta": thetas.tolist(), **gaps}
    claims.append(relation(
        "Sec. 3.1: probabilistic PCA whose W has orthogonal columns of equal norms keeps a "
        "factorised posterior under every rotation of the latents (mean-field gap 0), while "
        "unequal norms (2, 1) make every non-trivial rotation cost nats",
        f"{PAPER}, sec. 3.1 (Darmais–Skitovich condition (ii))",
        "max gap < 1e-8 for equal norms; min gap > 1e-3 for norms (2, 1), 12 angles in (0, π/2)",
        {k: [float(min(v)), float(max(v))] for k, v in gaps.items()},
        max(gaps["equal_norms"]) < 1e-8 and min(gaps["norms_2_1"]) > 1e-3, kind="paper",
        tolerance="1e-8: BFGS to gradient 1e-12 on a 4-parameter concave problem",
        note="oracle: log p(x) by scipy's multivariate normal minus the ELBO maximised over "
             "(means, log-variances) by BFGS; σ = 0.5, one data point (the gap does not depend "
             "on x)"))
    if "identity" in nls:
        pe = numbers["ppca-equal-norms/unamortised/median_pair_angle_difference"]
        pa = numbers["ppca-equal-norms/amortised/median_pair_angle_difference"]
        pu = numbers["identity/diagonal/unamortised/median_pair_angle_difference"]
        claims.append(relation(
            "nu=identity, sec. 3.1 negative control of the uniqueness experiment: with W's columns of equal "
            "norms, two initialisations of the unamortised diagonal-Sigma fit on the same data "
            "stop at different angles (median |difference|), while norms 2 and 1 give one angle",
            f"{PAPER}, sec. 3.1; App. C", "> 5 deg for equal norms, < 1 deg for norms (2, 1)",
            {"equal_norms": pe, "norms_2_1": pu}, pe > 5.0 and pu < 1.0, tolerance=tol,
            kind="paper", scale=scale,
            note="the nu = identity experiment with W's column norms (1, 1): the optimum is a "
                 "circle of solutions, so each initialisation stops at its own angle. With the "
                 f"amortised (linear) encoder the two initialisations end {pa:.2g}° apart "
                 "(median): the flat direction is there, but the encoder's path from a small "
                 "random start is set by the data, which both share"))

    fig = _uniqueness_figure(exps, nls, numbers)
    return StudyResult(numbers=numbers, figures={"rotation_angle": fig}, claims=claims)


def _uniqueness_figure(exps, nls, numbers):
    """Rotation angle against the ELBO gap: columns ν, rows diagonal / full Σ, shared axes.

    Right of the dashed line: every trial at its recorded run length (the paper's Figs 1, 5, 6).
    Left of it: the converged angles, the two initialisations of each data set side by side and
    joined, so a unique optimum shows as joins of zero length (the uniqueness test of Thm 1)."""
    import matplotlib.pyplot as plt

    floor = 1e-6  # recorded gaps below this are drawn at it
    fig, axes = plt.subplots(2, len(nls), figsize=(4.0 * len(nls) + 0.6, 7.8), sharex=True,
                             sharey=True, squeeze=False, constrained_layout=True)
    styles = {"amortised": dict(color="C0", marker="o"), "unamortised": dict(color="C3", marker="s")}
    for j, nl in enumerate(nls):
        for i, cov in enumerate(("diagonal", "full")):
            ax = axes[i, j]
            text = []
            for m, (am, st) in enumerate(styles.items()):
                e = exps[f"{nl}/{cov}/{am}"]
                gap = np.maximum(e["elbo_final"] - e["elbo"], floor)
                ax.scatter(gap, e["angle"], s=12, color=st["color"], marker=st["marker"], alpha=0.7,
                           label=f"{am}, recorded run length" if (i, j) == (0, 0) else None)
                fin = e["angle_final"]
                n_sets = len(fin) // 2
                for k in range(n_sets):  # trials 2k and 2k+1 share a data set
                    x = floor * 10 ** (-0.25 - 2.5 * (m * n_sets + k + 0.5) / (2 * n_sets))
                    ax.plot([x, x], fin[2 * k:2 * k + 2], color=st["color"], lw=1.2)
                    ax.scatter([x, x], fin[2 * k:2 * k + 2], s=10, color=st["color"], marker=st["marker"],
                               facecolor="white", zorder=3,
                               label=f"{am}, converged pair" if (i, j, k) == (0, 0, 0) else None)
                text.append(f"{numbers[f'{nl}/{cov}/{am}/median_pair_angle_difference']:.2g}°")
            ax.axvline(floor * 10 ** -0.1, color="0.4", ls="--", lw=0.8)
            ax.axhline(0, color="k", lw=0.5)
            ax.set_xscale("log")
            ax.set_ylim(-46, 46)
            ax.set_yticks([-45, -30, -15, 0, 15, 30, 45])
            ax.grid(alpha=0.3)
            ax.set_title(f"ν = {nl}, {cov} $\\Sigma$\nconverged pairs, median |Δ|: " + " / ".join(text),
                         fontsize=9)
            if j == 0:
                ax.set_ylabel("rotation angle (deg)")
            if i == 1:
                ax.set_xlabel("ELBO gap to the trial's optimum (nats)")
    ax = axes[0, 0]
    ax.set_xlim(floor * 10 ** -3, None)
    ticks = [floor * 10 ** -1.5] + [floor * 10 ** k for k in range(1, 8, 2)]
    ax.set_xticks(ticks, ["converged"] + [f"$10^{{{int(np.log10(t))}}}$" for t in ticks[1:]])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=8.5)
    fig.suptitle("Kumar & Poole 2020, App. C (Figs 1, 5, 6): rotation angle vs ELBO gap. Left of the "
                 "dashed line: converged angles of the two initialisations of each data set, joined\n"
                 f"(diagonal $\\Sigma$: one optimum, zero-length joins; full $\\Sigma$: not unique). "
                 f"Recorded gaps below {floor:g} nats are drawn at {floor:g}. Pairs: amortised / "
                 "unamortised.", fontsize=10)
    return fig
