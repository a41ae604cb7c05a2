"""Sikka 2020, eqs 15–23 and App. 3 (Results, "Theoretical Statements about β Dynamics in
β-VAE"): the propositions on β.

Study ``linear-vae-propositions``: dL*/dβ = −KL* (eqs 15–17), KL* and reconstruction*
non-increasing in β (eqs 18–19, App. 3), ELBO* maximal at β = 1 (eqs 20–22), on the linear β-VAE
(closed form and the numerical eq 43 solver) and on factor analysis with a fixed decoder.
"""

from __future__ import annotations

import numpy as np

from betalab import claims as C
from betalab.registry import StudyConfig, StudyResult, study
from betalab.studies.sikka2020._shared import (K_THESIS, N_THESIS, PAPER, _betas, _nonincreasing,
                                               _plt)
from linear_models import linear_vae as L
from theory import linear_vae as T

#: relative step of the central differences in β
_H = 1e-6


# =============================================================================== numbers
def _closed_form_terms(S, betas):
    """The optimum's terms along ``betas`` (closed form) and max |dL*/dβ + KL*| by central
    differences."""
    t = L.optimum_terms(S, K_THESIS, betas)
    fd = (L.optimum_terms(S, K_THESIS, betas * (1 + _H))["objective"]
          - L.optimum_terms(S, K_THESIS, betas * (1 - _H))["objective"]) / (2 * _H * betas)
    return t, float(np.abs(fd + t["kl"]).max())


def _numerical_solver_terms(config):
    """The numerical eq 43 solver at a few β (independent of the closed form): its solutions,
    their reconstruction, KL and ELBO, and the closed-form optimum at the same β."""
    N_num = N_THESIS if config.full else 16
    A_n = T.thesis_mixing(N_num, K_THESIS)
    S_n = T.data_covariance(A_n)
    b_num = np.array([0.5, 0.9, 1.0, 1.1, 2.0, 4.0])
    rng = config.rng(1)
    sols = [L.solve_optimality(S_n, K_THESIS, b, rng, n_starts=2) for b in b_num]
    tn = {"reconstruction": [], "kl": []}
    for b, s in zip(b_num, sols):
        tt = T.objective_terms(s.params, S_n)
        tn["reconstruction"].append(tt["reconstruction"])
        tn["kl"].append(tt["kl"])
    tn = {k: np.array(v) for k, v in tn.items()}
    tn["elbo"] = tn["reconstruction"] - tn["kl"]
    closed = L.optimum_terms(S_n, K_THESIS, b_num)
    return N_num, b_num, sols, tn, closed


def _factor_analysis_terms(config):
    """Factor analysis with a fixed decoder (foundation issue): per β the mean-field optimum's
    terms per point, and max |dF*/dβ + KL*| by central differences."""
    from linear_models import factor_analysis as fa

    rng = config.rng(2)
    Lx, K, n = 6, 2, 500
    W = rng.standard_normal((Lx, K))
    psi = 0.3 + rng.random(Lx)
    X = rng.standard_normal((n, K)) @ W.T + rng.standard_normal((n, Lx)) * np.sqrt(psi)
    fb = _betas(120, 0.1, 20.0)
    fa_t = {"reconstruction": [], "kl": [], "objective": []}
    for b in fb:
        means, var = fa.meanfield_optimum(X, W, psi, b)
        et = fa.elbo_terms(X, W, psi, means, var)
        fa_t["reconstruction"].append(et["reconstruction"] / n)
        fa_t["kl"].append(et["kl"] / n)
        fa_t["objective"].append(fa.free_energy(X, W, psi, b) / n)
    fa_t = {k: np.array(v) for k, v in fa_t.items()}
    fa_t["elbo"] = fa_t["reconstruction"] - fa_t["kl"]
    fd = np.array([(fa.free_energy(X, W, psi, b * (1 + _H)) - fa.free_energy(X, W, psi, b * (1 - _H)))
                   / (2 * _H * b * n) for b in fb])
    return fb, fa_t, float(np.abs(fd + fa_t["kl"]).max()), {"L": Lx, "K": K, "n": n}


# =============================================================================== claims
def _monotone_claims(claims, label, betas, t, atol=1e-10):
    ok, d = _nonincreasing(t["kl"], atol)
    claims.append(C.relation(f"KL* non-increasing in β ({label})", f"{PAPER}, eq 18, App. 3",
                             "max ΔKL* ≤ 0", d, ok, tolerance=f"{atol:g}", kind="paper"))
    ok, d = _nonincreasing(t["reconstruction"], atol)
    claims.append(C.relation(f"Reconstruction* non-increasing in β ({label})", f"{PAPER}, eq 19",
                             "max Δrec* ≤ 0", d, ok, tolerance=f"{atol:g}", kind="paper"))
    b = np.asarray(betas)
    i = int(np.argmax(t["elbo"]))
    claims.append(C.relation(f"ELBO* maximal at β = 1 ({label})", f"{PAPER}, eqs 20–22",
                             "argmax β = 1", float(b[i]), b[i] == 1.0,
                             tolerance=f"grid of {len(b)} β containing 1", kind="paper"))


def _derivative_claim(err):
    return C.close("dL*/dβ = −KL* (finite differences along the sweep; linear β-VAE)",
                   f"{PAPER}, eqs 16–17", 0.0, err, atol=1e-6,
                   kind="paper",
                   note="central differences, relative step 1e-6 (truncation ~1e-12, round-off "
                        "~1e-10 relative); max |dL*/dβ + KL*| over the grid")


def _solver_claim(sols, closed):
    return C.close("Numerical eq 43 solutions reach the closed-form optimum (max |ΔL*|)",
                   f"{PAPER}, eq 43", 0.0,
                   float(np.abs(np.array([s.objective for s in sols]) - closed["objective"]).max()),
                   atol=1e-8, kind="check",
                   note="L-BFGS (gtol 1e-11) against the closed form; tolerance: optimiser stopping")


def _fa_derivative_claim(err):
    return C.close("dF*/dβ = −KL* on factor analysis (fixed W, Ψ; mean-field q optimal per β)",
                   f"{PAPER}, eq 16 (general); Stühmer et al. 2020, eq 13", 0.0,
                   err, atol=1e-6, kind="paper",
                   note="central differences, relative step 1e-6")


# =============================================================================== figure
def _propositions_figure(betas, t, fb, fa_t):
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    ax.plot(betas, t["objective"], label="L*(β) (eq 15)")
    ax2 = ax.twinx()
    ax2.plot(betas, -t["kl"], color="C1", ls="--", label="−KL* = dL*/dβ (eq 16)")
    ax.set(xscale="log", xlabel="β", ylabel="L* [nats]", title="Linear β-VAE: L* and its slope")
    ax2.set_ylabel("dL*/dβ")
    # one legend for both axes, under the panel: inside it covered the curves
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=8)
    ax = axes[1]
    ax.plot(betas, t["kl"], label="KL* (eq 18)")
    ax.plot(betas, t["reconstruction"] - t["reconstruction"][0], label="rec* − rec*($\\beta_{min}$) (eq 19)")
    ax.plot(betas, t["elbo"] - t["elbo"].max(), label="ELBO* − max (eq 22)")
    ax.axvline(1.0, ls="--", color="k", lw=1)
    ax.set(xscale="log", xlabel="β", ylabel="nats", title="Linear β-VAE, N = 128, k = 2")
    ax.legend(fontsize=8)
    ax = axes[2]
    ax.plot(fb, fa_t["kl"], label="KL*")
    ax.plot(fb, fa_t["reconstruction"] - fa_t["reconstruction"][0], label="rec* − rec*($\\beta_{min}$)")
    ax.plot(fb, fa_t["elbo"] - fa_t["elbo"].max(), label="ELBO* − max")
    ax.axvline(1.0, ls="--", color="k", lw=1)
    ax.set(xscale="log", xlabel="β", ylabel="nats per point", title="Factor analysis, fixed decoder")
    ax.legend(fontsize=8)
    fig.suptitle("Sikka 2020, propositions eqs 15–23 (App. 3)", fontsize=10)
    fig.tight_layout()
    return fig


# =============================================================================== the study
@study("linear-vae-propositions", title="Propositions on β: dL*/dβ = −KL*, KL* and rec* non-increasing, ELBO* max at 1",
       paper=PAPER, source="eqs 15–23, App. 3", notebook="sikka2020_eqs15_23_propositions.py")
def propositions(config: StudyConfig) -> StudyResult:
    A = T.thesis_mixing(N_THESIS, K_THESIS)
    S = T.data_covariance(A)
    betas = _betas(400 if config.full else 200, 0.05, 100.0)
    t, err = _closed_form_terms(S, betas)
    N_num, b_num, sols, tn, closed = _numerical_solver_terms(config)
    fb, fa_t, fa_err, fa_size = _factor_analysis_terms(config)

    claims = [_derivative_claim(err)]
    _monotone_claims(claims, "linear β-VAE", betas, t)
    _monotone_claims(claims, f"numerical eq 43 solutions, N = {N_num}", b_num, tn, atol=1e-7)
    claims.append(_solver_claim(sols, closed))
    claims.append(_fa_derivative_claim(fa_err))
    _monotone_claims(claims, "factor analysis", fb, fa_t)

    numbers = {"numerical_solver": {"N": N_num, "betas": b_num, "residual": [s.residual for s in sols],
                                    **{k: v for k, v in tn.items()}},
               "fa": fa_size}
    fig = _propositions_figure(betas, t, fb=fb, fa_t=fa_t)
    return StudyResult(numbers=numbers, figures={"propositions": fig}, claims=claims)
