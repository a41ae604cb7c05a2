"""Stühmer, Turner & Nowozin 2020, sec. 2.4, Fig 1 (App. B.7–B.9): over-complete ICA under VI and
β-VI — VI orthogonalises, β-VI (β = 5) prunes.

Study ``ica-overcomplete`` on the setting of :mod:`betalab.studies.stuhmer2020._ica`, with
N = 300 points (quick) or 2000 (full), drawn with ``config.rng(0)``.

Both fits start at the true W (App. B.7), first optimise q alone (giving
:math:`\\max_q\\mathcal F_\\beta(q, W_{true})`, the "start"), then W and q jointly by L-BFGS with
exact autograd gradients, accepting only steps that raise the free energy, until the relative
change of :math:`\\mathcal F_\\beta` per iteration is < 1e-12 (or every gradient entry < 1e-7).

Orthogonality is measured by undirected pairwise angles between columns of W; a component is
called pruned when its norm is below 1% of the largest.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, optimize, stats

from betalab.claims import close, relation
from betalab.registry import StudyConfig, StudyResult, study
from betalab.studies.stuhmer2020._ica import NU, PAPER, PRUNE_RATIO, SCALE, true_model
from linear_models import ica

ORTHO_TOL = 5.0  # degrees


# ----------------------------------------------------------------------------- numbers

def closest_gaussian_to_prior(nu=NU, scale=SCALE) -> float:
    """s* maximising H[N(0, s²)] + E log t_ν(z): the q a pruned latent sits at (argmin KL(q‖p))."""
    f = lambda log_s: -(log_s + ica.expected_log_prior(0.0, np.exp(log_s), nu, scale))  # noqa: E731
    return float(np.exp(optimize.minimize_scalar(f, bounds=(-5, 3), method="bounded",
                                                 options={"xatol": 1e-12}).x))


def _summary(fit, W_true):
    norms = ica.column_norms(fit.W)
    pruned = norms < PRUNE_RATIO * norms.max()
    kept_angles = ica.pairwise_angles(fit.W, min_norm=PRUNE_RATIO * norms.max())
    return norms, pruned, kept_angles


def _pair_true_angle(W_true, pruned):
    keep = np.flatnonzero(~pruned)
    return ica.pairwise_angles(W_true[:, keep]) if keep.size >= 2 else np.array([])


def _gh_check(fit, n_check=8):
    """|GH − quad| of E log p(z) at the n_check (n, k) with the widest q of the fit."""
    idx = np.argsort(fit.s.ravel())[-n_check:]
    errs = []
    for i in idx:
        m, s = fit.mu.ravel()[i], fit.s.ravel()[i]
        f = lambda z: stats.norm.pdf(z, m, s) * stats.t.logpdf(z, fit.nu, scale=fit.scale)  # noqa: E731
        ref = integrate.quad(f, m - 40 * s, m + 40 * s, points=[0.0] if abs(m) < 40 * s else None,
                             limit=500, epsabs=1e-14, epsrel=1e-13)[0]
        errs.append(abs(float(ica.expected_log_prior(m, s, fit.nu, fit.scale)) - ref))
    return float(max(errs))


def fit_at_beta(X, W_true, psi, beta, config):
    """The β fit from the truth, its likelihood (Monte Carlo, stream 10 + β) and its numbers."""
    fit = ica.fit_meanfield(X, W_true, psi, beta, NU, SCALE)
    norms, pruned, kept_angles = _summary(fit, W_true)
    ll = ica.log_likelihood(X, fit.W, psi, NU, SCALE, rng=config.rng(10 + int(beta)),
                            W_ref=W_true, n_samples=4096 if config.full else 2048)
    # progress along the trajectory (fraction of the free-energy gain of the joint phase) at
    # which the smallest column first drops below half its true norm (1.0)
    traj_norms = np.linalg.norm(fit.W_trace, axis=1)  # (T, K)
    frac = (fit.trace - fit.free_energy_start) / (fit.free_energy - fit.free_energy_start)
    below = np.flatnonzero(traj_norms.min(axis=1) < 0.5)
    frac_half = float(frac[below[0]]) if below.size else 1.0
    entry = {
        "W": fit.W, "norms": norms, "pruned": pruned, "kept_pair_angles_deg": kept_angles,
        "directions_deg": ica.directions(fit.W), "F_start": fit.free_energy_start,
        "F_end": fit.free_energy, "n_iter": fit.info, "converged": fit.converged,
        "loglik_fit": ll["value"], "loglik_true": ll["value_ref"], "loglik_diff": ll["diff"],
        "loglik_diff_se": ll["diff_se"], "loglik_se": ll["se"],
        "progress_when_three_kept": frac_half, "max_s": float(fit.s.max()),
    }
    return fit, entry, ll


# ----------------------------------------------------------------------------- claims

def _ascent_claims(beta, fit, ll):
    """The ascent from the truth improves F; the truth has the higher likelihood; F bounds it."""
    src = "App. B.7 (initialise at the truth, only improving steps)"
    claims = [relation(
        f"β = {beta:g}: starting at the true W, the free energy at the end exceeds that at the start",
        src, "F_end > F_start, every accepted step improves",
        {"F_start": fit.free_energy_start, "F_end": fit.free_energy},
        fit.free_energy > fit.free_energy_start and bool(np.all(np.diff(fit.trace) >= 0))
        and fit.converged, tolerance="monotone trace, L-BFGS converged", kind="check")]
    claims.append(relation(
        f"β = {beta:g}: the true parameters have lower free energy than the solution but "
        "equal or higher likelihood", "sec. 2.3 eq 4; App. B.9",
        "log p(X|W_true) − log p(X|W_fit) ≥ −2 se",
        {"loglik_true_minus_fit": -ll["diff"], "se": ll["diff_se"],
         "F_true": fit.free_energy_start, "F_fit": fit.free_energy},
        -ll["diff"] >= -2 * ll["diff_se"] and fit.free_energy_start < fit.free_energy,
        tolerance="2 Monte Carlo standard errors (paired λ draws)", kind="paper"))
    if beta == 1.0:
        claims.append(relation(
            "β = 1: the ELBO is a lower bound: F_end ≤ log p(X|W_fit)", "sec. 2.3, eq 4",
            "log p(X|W_fit) − F_end > 3 se", {"gap": ll["value"] - fit.free_energy, "se": ll["se"]},
            ll["value"] - fit.free_energy > 3 * ll["se"], tolerance="3 Monte Carlo se",
            kind="check"))
    return claims


def _keeps_three_claim(norms, pruned, frac_half):
    """Fig 1b at β = 1: the paper's N, W and ψ are unstated: the settings tried substitute for
    them, so a disagreement fails to reproduce Fig 1b there; it does not show the figure wrong."""
    why_b1 = ((f"At the VI optimum one component is pruned (norms {np.round(norms, 4).tolist()}) "
              f"in this setting and in every other one tried (directions 0/60/120° and "
              f"20/70/135°, ψ ∈ {{0.01, 0.03, 0.1, 0.3, 1}}, N 300–1000). All three components "
              f"are still present (smallest norm ≥ 0.5) only during the first "
              f"{100 * frac_half:.0f}% of the free-energy gain from the truth, so the "
              "paper's Fig 1b is consistent with a run stopped early (its optimiser accepted "
              "only improving gradient steps and was slow, App. B.7); N, W and ψ are unstated."))
    return close(
        "β = 1 (VI) keeps all three components (number of components with norm ≥ 1% of the "
        "largest) [settings substituted for the unstated N, W, ψ]",
        "sec. 2.4, Fig 1b; App. B.8", 3, int((~pruned).sum()), atol=0.5, note=why_b1,
        kind="paper")


def _component_claims(beta, fit, entry, s_star, W_true):
    """Pruning, orthogonality of the kept pair, and the pruned component's posterior."""
    norms, pruned, kept_angles = entry["norms"], entry["pruned"], entry["kept_pair_angles_deg"]
    ortho = kept_angles.size == 1 and abs(kept_angles[0] - 90.0) < ORTHO_TOL
    true_pair = _pair_true_angle(W_true, pruned)
    claims = [_keeps_three_claim(norms, pruned, entry["progress_when_three_kept"])] if beta == 1.0 else []
    claims.append(relation(
        f"β = {beta:g}: one component pruned (norm → 0) and the remaining two orthogonal"
        + (" (what the settings tried give at β = 1)" if beta == 1.0 else ""),
        "sec. 2.4, Fig 1c; App. B.8" if beta == 5.0 else "sec. 2.4 / Fig 1b, settings tried",
        f"1 norm < {PRUNE_RATIO:g}·max, kept pair angle within {ORTHO_TOL:g}° of 90°",
        {"norms": norms, "kept_pair_angle_deg": kept_angles, "true_angle_of_that_pair": true_pair},
        int(pruned.sum()) == 1 and ortho, tolerance=f"{PRUNE_RATIO:g} norm ratio, {ORTHO_TOL:g}°",
        kind="paper" if beta == 5.0 else "extension"))
    claims.append(relation(
        f"β = {beta:g}: the kept components are more orthogonal than the true ones",
        "sec. 2.3–2.4; App. B.8", "kept pair angle > its true angle",
        {"fit": kept_angles, "true": true_pair},
        kept_angles.size == 1 and true_pair.size == 1 and kept_angles[0] > true_pair[0],
        kind="paper"))
    if pruned.sum() == 1:
        k = int(np.flatnonzero(pruned)[0])
        mu_k, s_k = fit.mu[:, k], fit.s[:, k]
        claims.append(relation(
            f"β = {beta:g}: the pruned component's posterior sits at the prior "
            "(the Gaussian closest to it: μ = 0, s = s*)", "sec. 2.3 (pruned ⇒ posterior = prior)",
            "max|μ| < 1e-2, max|s − s*| < 1e-2",
            {"max_abs_mu": float(np.abs(mu_k).max()), "max_abs_s_minus_sstar":
             float(np.abs(s_k - s_star).max()), "s_star": s_star},
            np.abs(mu_k).max() < 1e-2 and np.abs(s_k - s_star).max() < 1e-2,
            tolerance="1e-2 (the pruned q's gradient vanishes with the column norm, so the "
                      "optimiser leaves it within ~1e-3 of s*)", kind="paper"))
    return claims


def _gh_claim(beta, fit):
    gh = _gh_check(fit)
    return relation(
        f"β = {beta:g}: the Gauss–Hermite cross-entropy is exact at the widest q of the fit",
        "App. B.7 (1-D integrations)", "max |GH − quad| < 1e-8 nats per term",
        gh, gh < 1e-8, tolerance="1e-8 (quadrature at 1e-13 relative; GH order error)",
        kind="check")


# ----------------------------------------------------------------------------- figures

def _draw_components(ax, W, color, label, ls="-", length=2.5):
    for k in range(W.shape[1]):
        w = W[:, k] * length
        ax.plot([-w[0], w[0]], [-w[1], w[1]], color=color, ls=ls, lw=2.2,
                label=label if k == 0 else None)


def fig1_figure(X, W_true, fits, numbers):
    """Fig 1 (a)-(c): the data with the true and the found components."""
    import matplotlib.pyplot as plt

    # constrained layout: tight_layout left the suptitle over the panels' titles (equal aspect)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), sharex=True, sharey=True, layout="constrained")
    lim = 6.0
    for ax in axes:
        ax.scatter(X[:, 0], X[:, 1], s=6, color="tab:blue", alpha=0.35, label="data")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
    axes[0].set_ylabel("$x_2$")
    _draw_components(axes[0], W_true, "tab:blue", "true $w_k$")
    axes[0].set_title(f"(a) Student-t sources (ν = {NU}), K = 3, L = 2")
    for ax, beta, lab in ((axes[1], 1.0, "(b) VI, β = 1"), (axes[2], 5.0, "(c) β-VI, β = 5")):
        _draw_components(ax, W_true, "tab:blue", "true $w_k$", ls="--")
        _draw_components(ax, fits[beta].W, "tab:red", "found $w_k$")
        ang = numbers[f"beta{beta:g}"]["kept_pair_angles_deg"]
        ax.set_title(f"{lab}: kept angle {', '.join(f'{a:.1f}°' for a in ang)}")
    axes[2].legend(loc="lower right", fontsize=8)
    fig.suptitle("Stühmer et al. 2020, Fig 1 / App. B.8: VI and β-VI on over-complete ICA "
                 "(eq 13, initialised at the truth)")
    return fig


def trajectory_figure(fits, W_true, n):
    """Column norms, the angle between w1 and w3, and F_β/N along the ascent."""
    import matplotlib.pyplot as plt

    fig2, axes2 = plt.subplots(1, 3, figsize=(13, 3.8))
    for beta, color in ((1.0, "tab:purple"), (5.0, "tab:red")):
        fit = fits[beta]
        it = np.arange(len(fit.trace)) - fit.n_q_iter
        nrm = np.linalg.norm(fit.W_trace, axis=1)
        for k in range(3):
            axes2[0].plot(it, nrm[:, k], color=color, ls=("-", "--", ":")[k],
                          label=f"β = {beta:g}, $\\|w_{k + 1}\\|$")
        U = fit.W_trace / np.maximum(nrm[:, None, :], 1e-300)
        cos13 = np.abs(np.sum(U[:, :, 0] * U[:, :, 2], axis=1))
        axes2[1].plot(it, np.degrees(np.arccos(np.clip(cos13, 0, 1))), color=color, label=f"β = {beta:g}")
        axes2[2].plot(it, fit.trace / n, color=color, label=f"β = {beta:g}")
    axes2[0].set_xscale("symlog", linthresh=10)
    axes2[1].set_xscale("symlog", linthresh=10)
    axes2[2].set_xscale("symlog", linthresh=10)
    axes2[0].set_title("column norms (truth: 1)")
    axes2[1].axhline(ica.pairwise_angles(W_true[:, [0, 2]])[0], color="tab:blue", ls="--", label="true")
    axes2[1].set_title("angle between $w_1$ and $w_3$ (deg)")
    axes2[2].set_title("free energy per point $\\mathcal{F}_\\beta/N$ (eq 13)")
    for ax in axes2:
        ax.set_xlabel("accepted L-BFGS step of the joint phase (<0: q only)")
        ax.legend(fontsize=7)
    fig2.tight_layout()
    return fig2


# ----------------------------------------------------------------------------- study

@study("ica-overcomplete", title="Over-complete ICA: VI orthogonalises, β-VI (β = 5) prunes (Fig 1, B.8)",
       paper=PAPER, source="sec. 2.4, Fig 1; App. B.7–B.9",
       notebook="stuhmer2020_fig1_ica_overcomplete.py")
def ica_overcomplete(config: StudyConfig) -> StudyResult:
    n = 2000 if config.full else 300
    W_true, psi = true_model()
    X, _ = ica.sample(n, W_true, psi, NU, SCALE, rng=config.rng(0))
    s_star = closest_gaussian_to_prior()
    fits, numbers, claims = {}, {"N": n, "W_true": W_true, "psi": psi, "nu": NU, "s_star": s_star}, []
    for beta in (1.0, 5.0):
        fit, entry, ll = fit_at_beta(X, W_true, psi, beta, config)
        fits[beta] = fit
        numbers[f"beta{beta:g}"] = entry
        claims += _ascent_claims(beta, fit, ll)
        claims += _component_claims(beta, fit, entry, s_star, W_true)
        claims.append(_gh_claim(beta, fit))
    numbers["true_pair_angles_deg"] = ica.pairwise_angles(W_true)
    fig = fig1_figure(X, W_true, fits, numbers)
    fig2 = trajectory_figure(fits, W_true, n)
    return StudyResult(numbers=numbers, figures={"fig1": fig, "trajectory": fig2}, claims=claims)
