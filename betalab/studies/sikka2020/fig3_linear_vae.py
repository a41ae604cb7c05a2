"""Sikka 2020, Fig 3 (Results, "Numerical Verification of Analytical Model"; eqs 26–47): the
analytically tractable linear β-VAE at its optimum.

Study ``linear-vae-fig3``: Fig 3 A–D at the thesis setting (N = 128, k = 2,
A_ij = (1+δ_ij)/2): ELBO*, MIE/TIE, reconstruction*, KL* against β, posterior collapse, and the
errata (eqs 40, 45, App. 5).

The math lives in :mod:`theory.linear_vae` and :mod:`linear_models.linear_vae`.
"""

from __future__ import annotations

import itertools

import numpy as np

from betalab import claims as C
from betalab.registry import StudyConfig, StudyResult, study
from betalab.studies.sikka2020._shared import (K_THESIS, N_THESIS, PAPER, _betas, _nonincreasing,
                                               _plt, _refine_min)
from linear_models import linear_vae as L
from theory import linear_vae as T


# =============================================================================== numbers
def _tie_minimisers(A, betas, sw) -> dict:
    """The TIE minimiser in β, refined by bounded scalar minimisation: canonical axes
    (``b_tie``, ``tie_min``) and minimised over the signed permutations (``b_al``, ``al_min``)."""
    def tie_at(b):
        return float(L.tie_over_group(A, [b])[0])

    b_tie, tie_min = _refine_min(tie_at, betas, sw["tie"])
    b_al, al_min = _refine_min(lambda b: float(L.tie_aligned(A, [b])[0]), betas, sw["tie_aligned"])
    return {"b_tie": b_tie, "tie_min": tie_min, "b_al": b_al, "al_min": al_min}


def _tie_by_matching(A, betas) -> dict:
    """TIE axis matching: the thesis does not say how latents are matched to sources. Per signed
    permutation of the latents, the grid argmin of TIE and its value."""
    group = {}
    for perm in itertools.permutations(range(K_THESIS)):
        for signs in itertools.product([1.0, -1.0], repeat=K_THESIS):
            v = L.tie_over_group(A, betas, perm=perm, signs=signs)
            j = int(np.argmin(v))
            group[f"perm={perm},signs={tuple(int(s) for s in signs)}"] = (float(betas[j]), float(v[j]))
    return group


def _fig3_numbers(betas, sw, lam, i1, tie, group) -> dict:
    i_elbo = int(np.argmax(sw["elbo"]))
    return {"collapse_thresholds": lam, "n_betas": len(betas),
            "elbo_argmax_beta": float(betas[i_elbo]), "elbo_at_1": float(sw["elbo"][i1]),
            "tie_argmin_beta": tie["b_tie"], "tie_min": tie["tie_min"],
            "tie_aligned_argmin_beta": tie["b_al"], "tie_aligned_min": tie["al_min"],
            "tie_at_1": float(sw["tie"][i1]), "tie_argmin_by_group_element": group}


# =============================================================================== claims
def _elbo_claims(betas, sw, S, i1):
    """(A) ELBO* maximal at β = 1; at β = 1 the decoder is ML PPCA."""
    i_elbo = int(np.argmax(sw["elbo"]))
    return [
        C.relation("ELBO* is maximal at β = 1", f"{PAPER}, Fig 3A, eq 22",
                   "argmax_β ELBO*(β) = 1", float(betas[i_elbo]), betas[i_elbo] == 1.0,
                   tolerance=f"log grid of {len(betas)} β containing 1", kind="paper",
                   note=f"ELBO*(1) = {sw['elbo'][i1]:.6f} nats per point"),
        C.close("At β = 1 the optimal decoder is ML PPCA: log p_θ*(x) equals the true "
                "data log-likelihood", f"{PAPER}, eqs 27, 31 (betalab closed form)",
                -0.5 * (N_THESIS * np.log(2 * np.pi) + np.linalg.slogdet(S)[1] + N_THESIS),
                sw["log_likelihood"][i1], rtol=1e-12, kind="check",
                note="oracle: the Gaussian log-likelihood of N(0, Σ_x) from slogdet; "
                     "tolerance: float64"),
    ]


def _likelihood_premise_claims(betas, sw, i1):
    """Sikka eq 23's premise: 'as reconstruction performance worsens with β, the data likelihood
    decreases'. Evaluated on log p_θ*(x) of the optimal decoder along the β grid; the optimal
    decoder is PPCA with noise β (log-likelihood maximal at the ML fit, β = 1)."""
    ll = np.asarray(sw["log_likelihood"])
    d = np.diff(ll)
    below, above = d[: i1], d[i1:]
    return C.as_printed_relation(
        "The data log-likelihood log p_θ*(x) decreases with β (premise of eq 23)", f"{PAPER}, eq 23",
        "non-increasing along the β grid", {"max_increase": float(d.max()),
                                            "argmax_beta": float(betas[int(np.argmax(ll))])},
        bool(np.all(d <= 1e-10)), tolerance="steps above 1e-10 nats count (float64)",
        basis="derivation", why="At the optimum the decoder is PPCA with noise β, whose likelihood is maximal at the ML "
            "fit β = 1: log p_θ*(x) increases on β < 1 and decreases on β > 1 (paired claim). The "
            "premise holds for β ≥ 1 only.",
        corrected=C.relation("Corrected: log p_θ*(x) increases with β below 1 and decreases above 1 "
                             "(maximal at β = 1)", f"{PAPER}, eq 23 (corrected)",
                             "Δ > 0 for β < 1, Δ ≤ 0 for β ≥ 1",
                             {"min_step_below_1": float(below.min()), "max_step_above_1": float(above.max())},
                             bool(np.all(below > 0) and np.all(above <= 1e-10)),
                             tolerance="1e-10 nats (float64)", kind="paper"))


def _mie_claims(betas, sw, lam, i1):
    """(B) MIE non-monotonic in β, 0 at β = 1 and positive elsewhere below total collapse."""
    mie = sw["mie"]
    mie_nonmono = bool(np.any(np.diff(mie) > 1e-9) and np.any(np.diff(mie) < -1e-9))
    return [
        C.relation("MIE is non-monotonic in β", f"{PAPER}, Fig 3B, §Numerical Verification",
                   "both increases and decreases along the β grid",
                   [float(np.diff(mie).min()), float(np.diff(mie).max())], mie_nonmono,
                   tolerance="steps larger than 1e-9 nats count", kind="paper"),
        C.close("MIE is minimal (= 0) at β = 1: the optimal DᵀD is diagonal, so the model "
                "posterior factorises", f"{PAPER}, Fig 3B", 0.0, mie[i1], atol=1e-10,
                kind="paper", note="tolerance: float64. MIE is also 0 for β ≥ λ_1 = 66.25 (both latents collapsed, q = p_θ(z|x) "
                     "= prior); the non-trivial minimiser is β = 1"),
        C.relation("MIE > 0 for every β ≠ 1 below total collapse", f"{PAPER}, Fig 3B",
                   "min MIE over β ∉ {1} and β < λ_1 > 0",
                   float(mie[(betas != 1.0) & (betas < lam[0])].min()),
                   mie[(betas != 1.0) & (betas < lam[0])].min() > 0, kind="extension"),
    ]


def _tie_claims(betas, sw, lam, i1, tie):
    """(B) TIE non-monotonic with a finite minimiser, above 1 at the thesis setting."""
    b_tie, tie_min = tie["b_tie"], tie["tie_min"]
    interior = betas[0] < b_tie < lam[0]
    return [
        C.relation("TIE is non-monotonic in β with a finite minimiser", f"{PAPER}, Fig 3B",
                   "interior minimiser β* (not at the grid ends, below total collapse)",
                   b_tie, interior, kind="paper",
                   note=f"canonical axes; β* = {b_tie:.4f}, TIE(β*) = {tie_min:.4f} nats vs "
                        f"TIE(1) = {sw['tie'][i1]:.4f}"),
        C.relation("Optimal β for TIE is above 1 at the thesis setting", f"{PAPER}, Fig 3B",
                   "β* > 1", b_tie, b_tie > 1.0, kind="extension",
                   note="the thesis shows a minimum but does not state where; refined by "
                        "bounded scalar minimisation"),
    ]


def _matching_claims(betas, lam, tie, group):
    """TIE as a function of β depends on the matching of latents to sources (printed/corrected
    pair), and the canonical axes reach the group minimum at the thesis setting."""
    b_tie, tie_min, b_al, al_min = tie["b_tie"], tie["tie_min"], tie["b_al"], tie["al_min"]
    interior_elems = [g for g, (b, _) in group.items() if b < lam[0]]
    interior_betas = sorted({round(b, 2) for g, (b, _) in group.items() if b < lam[0]})
    argmins = sorted({round(b, 4) for b, _ in group.values()})
    out = list(C.as_printed_relation(
        "TIE = E KL(q(z|x) ‖ p_gt(z|x)) as a well-defined function of β: every matching of latents to "
        "sources (the 8 signed permutations) gives the same minimiser", f"{PAPER}, eq 5, Fig 3B",
        "one argmin over the 8 matchings", {g: round(b, 4) for g, (b, _) in group.items()},
        len(argmins) == 1, tolerance=f"argmins on the {len(betas)}-point grid, rounded to 1e-4",
        basis="derivation", why="The β-optimum is unique only up to signed permutations of the latent axes (each is an "
            "exact solution of eq 43), and the thesis does not say how latent i is matched to source "
            f"i. Of the 8 matchings, {len(interior_elems)} give an interior TIE minimum (grid β* in "
            f"{interior_betas}); the other {len(group) - len(interior_elems)} decrease monotonically "
            "until total collapse (β ≥ λ_1). Fig 3B's 'clear minimum' can only correspond to the "
            "first group; the corrected TIE minimises over the matchings (paired claim).",
        corrected=C.relation("Corrected TIE (minimised over the signed permutations matching latents to "
                             "sources) has an interior minimiser in β", f"{PAPER}, eq 5 (corrected)",
                             "β_min < β* < λ_1", b_al, betas[0] < b_al < lam[0], kind="paper",
                             note=f"β* = {b_al:.4f}, TIE(β*) = {al_min:.4f} nats")))
    out.append(C.close("Canonical TIE (latents by decreasing λ, (AᵀD)_ii ≥ 0) equals the "
                       "group-minimised TIE at the thesis setting", f"{PAPER}, eq 5 (corrected)",
                       tie_min, al_min, rtol=1e-8, kind="check",
                       note=f"two code paths of linear_models.linear_vae (tie_over_group, tie_aligned); "
                            f"aligned β* = {b_al:.4f}; canonical β* = {b_tie:.4f}; tolerance: "
                            "bounded scalar minimisation to 1e-10 in log β"))
    return out


def _rec_kl_claims(sw):
    """(C), (D) reconstruction* and KL* non-increasing."""
    ok_r, d_r = _nonincreasing(sw["reconstruction"])
    ok_k, d_k = _nonincreasing(sw["kl"])
    return [C.relation("Reconstruction* is non-increasing in β", f"{PAPER}, Fig 3C, eq 19",
                       "max Δrec ≤ 0", d_r, ok_r, tolerance="1e-10 (float64)", kind="paper"),
            C.relation("KL* is non-increasing in β", f"{PAPER}, Fig 3D, eq 18",
                       "max ΔKL ≤ 0", d_k, ok_k, tolerance="1e-10 (float64)", kind="paper")]


def _collapse_claims(config):
    """Posterior collapse measured by optimising the objective (eq 34) numerically.

    Oracle for the thresholds: the eigenvalues of Σ_x (numpy eigvalsh); for the thesis setting
    they are 1 + (a ± b) with a = 1 + (N−1)/4, b = 1 + (N−2)/4 the entries of AᵀA, i.e. 66.25 and
    1.25 at N = 128. Measured: the L-BFGS solution of eq 43 (linear_models.linear_vae.
    solve_optimality, which never uses the closed form) at β = 0.9 λ_i and 1.1 λ_i, counting
    latents whose KL exceeds 1e-3 nats.
    """
    N = N_THESIS if config.full else 16
    A = T.thesis_mixing(N, K_THESIS)
    S = T.data_covariance(A)
    lam = np.linalg.eigvalsh(S)[::-1][:K_THESIS]
    a, b = 1 + (N - 1) / 4, 1 + (N - 2) / 4
    rng = config.rng(4)
    active, min_active_kl = {}, np.inf
    for i, l in enumerate(lam):
        for f in (0.9, 1.1):
            p = L.solve_optimality(S, K_THESIS, f * l, rng, n_starts=2).params
            mean_var, mean_mu2 = T.encoder_moments(p, S)
            kl = 0.5 * (np.diag(mean_mu2) + mean_var - p.b_sigma - 1)
            active[f"{f:g}·λ{i + 1}"] = int(np.sum(kl > 1e-3))
            if np.any(kl > 1e-3):
                min_active_kl = min(min_active_kl, float(kl[kl > 1e-3].min()))
    expected = {"0.9·λ1": 1, "1.1·λ1": 0, "0.9·λ2": 2, "1.1·λ2": 1}
    return [
        C.close(f"Collapse thresholds λ_i(Σ_x) at the thesis mixing (N = {N}) are 1 + (a ± b) from the "
                "2×2 Gram matrix AᵀA (largest; max abs difference of both)", f"{PAPER}, eqs 26–28",
                0.0, float(np.max(np.abs(lam - (1 + np.array([a + b, a - b]))))), atol=1e-9,
                kind="check", note="numpy eigvalsh of the N×N Σ_x against the hand-derived 2×2 values "
                                   "(66.25 and 1.25 at N = 128); tolerance: float64"),
        C.relation("Posterior collapse: latent i is switched off exactly for β ≥ λ_i(Σ_x) (number of "
                   "active latents, optimising the objective numerically at β = 0.9 λ_i and 1.1 λ_i)",
                   "betalab closed form (PPCA with noise β); Sikka 2020, eq 43", str(expected), active,
                   active == expected, kind="extension",
                   tolerance=f"active: KL_i > 1e-3 nats (smallest active KL measured: "
                             f"{min_active_kl:.3g} nats)",
                   note=f"N = {N}, λ = {np.round(lam, 4).tolist()}; L-BFGS from 2 random starts"),
    ]


def _eq45_claims(config, A, S, p, F, E):
    """Eq 45 (MIE/TIE in closed form) as printed and corrected against Monte Carlo, at a
    perturbed encoder (TIE) and at the β = 2 optimum (MIE)."""
    rng = config.rng(3)
    n = 200_000 if config.full else 50_000
    x = rng.standard_normal((n, N_THESIS)) @ np.linalg.cholesky(S).T
    kl = T.gaussian_kl(x @ p.W_mu.T, np.exp(p.b_sigma), x @ F.T, E)
    mc, se = float(kl.mean()), float(kl.std() / np.sqrt(n))
    # at β = 2 only one latent is active and E is diagonal, so test eq 45 at a non-optimal encoder too
    q = p._replace(W_mu=p.W_mu + 0.05 * rng.standard_normal(p.W_mu.shape), b_sigma=p.b_sigma + 0.3)
    F1, E1 = T.true_posterior(A)
    kl1 = T.gaussian_kl(x @ q.W_mu.T, np.exp(q.b_sigma), x @ F1.T, E1)
    mc1, se1 = float(kl1.mean()), float(kl1.std() / np.sqrt(n))
    printed = T.inference_error(q, S, F1, E1, printed=True)
    tol_note = f"{n} samples, tolerance 4 standard errors"
    out = list(C.as_printed(
        "Eq 45 with E_ii^{-1} (read as 1/E_ii) equals the Monte Carlo TIE at a perturbed "
        "encoder", f"{PAPER}, eq 45", printed, mc1, atol=4 * se1,
        basis="exact computation", why="E_ii^{-1} read as 1/E_ii does not match the Monte Carlo average of "
            "KL(q‖p_gt); the derivation (App. 4, sympy) gives (E^{-1})_ii (paired claim).",
        corrected=C.close("Eq 45 corrected ((E^{-1})_ii) equals the Monte Carlo TIE",
                          f"{PAPER}, eq 45 (corrected)", mc1, T.inference_error(q, S, F1, E1),
                          atol=4 * se1, kind="paper", note=tol_note),
        kind="paper"))
    out.append(C.close("Eq 45 corrected equals the Monte Carlo MIE at the β = 2 optimum",
                       f"{PAPER}, eqs 45, 47 (corrected)", mc, T.inference_error(p, S, F, E), atol=4 * se + 1e-12,
                       kind="paper", note=tol_note + " (+1e-12: the MIE is ≈ 0 here)"))
    return out


def _eq81_claims(p, F, E):
    """App. 5, eq 81 (the model posterior) as printed against eq 44 (Gaussian conditioning)."""
    D = p.D
    printed_shape_ok = True
    try:
        np.linalg.inv(D @ D.T + np.eye(N_THESIS)) @ D.T
    except ValueError:
        printed_shape_ok = False
    joint_F = D.T @ np.linalg.inv(D @ D.T + np.eye(N_THESIS))
    joint_E = np.eye(K_THESIS) - joint_F @ D
    err = max(np.abs(joint_F - F).max(), np.abs(joint_E - E).max())
    return C.as_printed_relation(
        "Model posterior p_θ(x|z) = N((DDᵀ+I_N)^{-1}Dᵀ, (DDᵀ+I_N)^{-1}): the printed mean map is "
        "computable", f"{PAPER}, App. 5, eq 81", "a k-dimensional Gaussian in z with mean linear in x",
        "shape mismatch (N×N)·(k×N)" if not printed_shape_ok else "computable", printed_shape_ok,
        basis="derivation", why="App. 5 writes p(x|z) for the posterior p(z|x), drops x from the mean and uses N×N "
            "matrices; App. 4, eq 77 also writes p_θ(x|z). The correct form is eq 44, "
            "(DᵀD+I_k)^{-1}Dᵀx, (DᵀD+I_k)^{-1} (push-through identity; paired claim).",
        corrected=C.close("Eq 44 equals Gaussian conditioning of the joint (z, x) (max abs difference)",
                          f"{PAPER}, eq 44 (App. 5 corrected)", 0.0, err, atol=1e-12, kind="paper",
                          note="tolerance: float64"))


def _eq40_claims():
    """Eq 40's exponent: does the printed exponent make the closed-form optimum's gradient
    nonzero? At W^σ = 0 both exponents agree, so compare the printed and derived eq 40 away from
    it (sympy)."""
    import sympy as sp

    rec, klsym, sym = T.derive_averaged_objective(2, 1)
    Lsym = rec - sym["beta"] * klsym
    M = sym["W_sigma"]
    grad = sp.Matrix(M.shape[0], M.shape[1], lambda i, j: sp.diff(Lsym, M[i, j]))
    diffs = {}
    for label, printed40 in (("printed", True), ("corrected", False)):
        cond = T.printed_gradient_conditions(sym, eq40_as_printed=printed40)["W_sigma"]
        expr = -2 * grad - cond
        pt = {s_: sp.Rational(j + 1, 5) for j, s_ in enumerate(sorted(expr.free_symbols, key=str))}
        diffs[label] = float(max(abs(v) for v in expr.subs(pt).evalf()))
    return C.as_printed_relation(
        "Eq 40: exponent ½[W^σΣ]_ab W^σ_ab + b^σ_a gives −2 ∂L/∂W^σ of eq 34 (sympy, rational test "
        "point, N = 2, k = 1)", f"{PAPER}, eqs 40, 43", "difference 0", diffs["printed"],
        diffs["printed"] <= 1e-12, tolerance="1e-12 (exact rationals evaluated in float)",
        basis="derivation", why="sympy: the derivative of eq 34 has the exponent ½[W^σΣW^σᵀ]_aa + b^σ_a (as in eq 41); "
            "the printed exponent differs away from W^σ = 0. Same solution set, since both vanish iff "
            "[W^σΣ]_ab = 0 (paired claim).",
        corrected=C.close("Eq 40 corrected is −2 ∂L/∂W^σ of eq 34 (sympy, rational test point)",
                          f"{PAPER}, eq 40 (corrected)", 0.0, diffs["corrected"], atol=1e-12, kind="paper",
                          note="tolerance: exact rationals evaluated in float"))


def _errata_claims(config, A, S):
    """Errata of the thesis: each printed form evaluated against an oracle, paired with the
    corrected form checked as its own claim."""
    p = L.optimum(S, K_THESIS, 2.0, reference=A).params
    F, E = T.model_posterior(p.D)
    return [*_eq45_claims(config, A, S, p, F, E), *_eq81_claims(p, F, E), *_eq40_claims()]


# =============================================================================== figure
def _fig3_figure(betas, sw, lam, b_tie, b_al):
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), sharex=True)
    (a, b), (c, d) = axes
    a.plot(betas, sw["elbo"], color="C0")
    a.axvline(betas[np.argmax(sw["elbo"])], ls="--", color="k", lw=1, label="argmax (β = 1)")
    a.set(ylabel="ELBO* [nats]", title="(A) ELBO* (eq 20)")
    b.plot(betas, sw["mie"], color="C1", label="MIE (eq 4)")
    b.plot(betas, sw["tie"], color="C2", label="TIE, canonical axes (eq 5)")
    b.plot(betas, sw["tie_aligned"], color="C3", ls=":", lw=2, label="TIE, min over symmetries")
    b.axvline(1.0, ls="--", color="C1", lw=1)
    b.axvline(b_tie, ls="--", color="C2", lw=1, label=f"TIE argmin β = {b_tie:.3f}")
    # MIE and TIE are non-negative and 0 at some β: symlog with a linear range near 0 shows the
    # zeros; limits from the data, so no negative tick appears and TIE stays inside the axes
    top = max(float(np.nanmax(sw[k])) for k in ("mie", "tie", "tie_aligned"))
    b.set_yscale("symlog", linthresh=1e-2)
    b.set(ylabel="nats (symlog: linear below 0.01)", ylim=(0.0, top * 2.0), title="(B) MIE / TIE (eq 45 corrected)")
    c.plot(betas, sw["reconstruction"], color="C4")
    c.set(ylabel="E log p(x|z) [nats]", title="(C) Reconstruction* (eq 49)")
    d.plot(betas, sw["kl"], color="C5")
    d.set(ylabel="KL(q‖p) [nats]", title="(D) KL* (eq 50)")
    for ax in axes.ravel():
        ax.set_xscale("log")
        for l_ in lam:
            ax.axvline(l_, color="0.6", lw=0.8, ls=":")
        ax.grid(alpha=0.3)
    for ax in (c, d):
        ax.set_xlabel("β")
    a.legend(fontsize=8)
    b.legend(fontsize=7)
    fig.suptitle("Sikka 2020, Fig 3: linear β-VAE at the optimum, N = 128, k = 2, "
                 "$A_{ij} = (1+\\delta_{ij})/2$ (dotted: collapse thresholds $\\lambda_i$)", fontsize=10)
    fig.tight_layout()
    return fig


# =============================================================================== the study
@study("linear-vae-fig3", title="Linear β-VAE: ELBO*, MIE/TIE, reconstruction*, KL* against β",
       paper=PAPER, source="Fig 3, eqs 26–47", notebook="sikka2020_fig3_linear_vae.py")
def fig3(config: StudyConfig) -> StudyResult:
    A = T.thesis_mixing(N_THESIS, K_THESIS)
    S = T.data_covariance(A)
    betas = _betas(2000 if config.full else 600)
    sw = L.beta_sweep(A, betas)
    lam = L.collapse_thresholds(S, K_THESIS)
    i1 = int(np.flatnonzero(betas == 1.0)[0])
    tie = _tie_minimisers(A, betas, sw)
    group = _tie_by_matching(A, betas)
    numbers = _fig3_numbers(betas, sw, lam, i1, tie, group)
    claims = [*_elbo_claims(betas, sw, S, i1), *_likelihood_premise_claims(betas, sw, i1),
              *_mie_claims(betas, sw, lam, i1), *_tie_claims(betas, sw, lam, i1, tie),
              *_matching_claims(betas, lam, tie, group), *_rec_kl_claims(sw),
              *_collapse_claims(config), *_errata_claims(config, A, S)]
    fig = _fig3_figure(betas, sw, lam, tie["b_tie"], tie["b_al"])
    return StudyResult(numbers=numbers, figures={"fig3": fig}, claims=claims)
