"""Stühmer, Turner & Nowozin 2020, App. B.4 (eq 17): mean-field VI prunes the extra component of
over-complete factor analysis (and, App. B.5, for every β).

Study ``fa-pruning``: W = [α u, β' u, ρ v] with α² + β'² = 1 keeps WWᵀ, hence the likelihood, while
the free energy is maximal at α = 0, where the pruned component's posterior is its prior. The math
lives in :mod:`linear_models.factor_analysis`.
"""

from __future__ import annotations

import numpy as np

from betalab import claims as C
from betalab.registry import StudyConfig, StudyResult, study
from betalab.studies.stuhmer2020._fa import PAPER
from linear_models import factor_analysis as fa

# B.4 (eq 17): ρ and the noise are not given; any ρ > 0 shows the effect.
PRUNE_N, PRUNE_RHO, PRUNE_NOISE = 100, 0.6, 0.1
BETAS = (0.5, 1.0, 2.0, 5.0, 10.0)


# ----------------------------------------------------------------------------- numbers

def pruning_weights(alpha: float) -> np.ndarray:
    """Eq 17: W = [α u, β' u, ρ v] with u = (1,1)/√2, v = (1,−1)/√2 and α² + β'² = 1."""
    u, v = np.array([1.0, 1.0]) / np.sqrt(2), np.array([1.0, -1.0]) / np.sqrt(2)
    return np.column_stack([alpha * u, np.sqrt(1 - alpha**2) * u, PRUNE_RHO * v])


def pruning_problem(seed: int):
    psi = np.full(2, PRUNE_NOISE)
    W0 = pruning_weights(0.0)
    X = fa.data_with_second_moment(W0 @ W0.T + np.diag(psi), PRUNE_N, np.random.default_rng([seed, 2]))
    return X, psi


# ----------------------------------------------------------------------------- claims

def _pruning_claims(X, psi, alphas, ll, curves):
    src = f"{PAPER}, App. B.4, eq 17"
    F = curves[1.0]
    cl = [
        C.relation("log-likelihood is constant in α (α² + β'² = 1 keeps WWᵀ)", src, "max−min ≈ 0",
                   float(np.ptp(ll)), np.ptp(ll) <= 1e-9 * abs(ll[0]),
                   tolerance="1e-9 relative (float64 round-off)", kind="paper"),
        C.relation("the free energy is maximal at α = 0", src, "argmax α = 0",
                   float(alphas[np.argmax(F)]), np.argmax(F) == 0,
                   tolerance=f"α grid of {len(alphas)} points on [0, ½]", kind="paper"),
        C.relation("F strictly decreases on α ∈ [0, ½]", src, "all differences < 0",
                   float(np.max(np.diff(F))), bool(np.all(np.diff(F) < 0)), kind="paper"),
        C.close("at α = 0 the bound is tight: F = log L", src, 0.0, float(ll[0] - F[0]), atol=1e-8,
                kind="paper", note="tolerance: float64 round-off on ~10² nats"),
    ]
    m, v = fa.meanfield_optimum(X, pruning_weights(0.0), psi)
    cl.append(C.close("the pruned component's posterior equals its prior N(0, 1) (max |mean| + |var − 1|)",
                      src, 0.0, float(np.max(np.abs(m[:, 0])) + abs(v[0] - 1)), atol=1e-12,
                      kind="paper", note="tolerance: float64 round-off"))
    ok_beta = {b: int(np.argmax(c)) == 0 for b, c in curves.items()}
    cl.append(C.relation("for every β the maximiser stays at α = 0 (B.5: 'a similar observation applies to "
                         "the pruning experiment')", f"{PAPER}, App. B.5", "argmax α = 0 for all β",
                         {str(b): float(alphas[np.argmax(c)]) for b, c in curves.items()}, all(ok_beta.values()),
                         tolerance=f"α grid of {len(alphas)} points", kind="paper"))
    return cl


# ----------------------------------------------------------------------------- figure

def pruning_figure(alphas, ll, curves):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    ax.plot(alphas, ll, color="k", label="log-likelihood")
    ax.plot(alphas, curves[1.0], color="tab:red", label="free energy (β = 1)")
    ax.set_xlabel("α (weight of z₁ on the shared direction)")
    ax.set_ylabel("nats")
    ax.set_title("App. B.4 (eq 17): over-complete FA, K = 3, L = 2")
    ax.legend(fontsize=8)
    ax = axes[1]
    for b, c in curves.items():
        ax.plot(alphas, c - c[0], label=f"β = {b:g}")
    ax.set_xlabel("α")
    ax.set_ylabel("F_β/β − F_β/β at α = 0 (eq 16 normalisation)")
    ax.set_title("App. B.5: β changes the amplitude, not the maximiser")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- study

@study("fa-pruning", title="Mean-field VI prunes the extra component of over-complete FA",
       paper=PAPER, source="App. B.4, eq 17", notebook="stuhmer2020_app_b4_fa_pruning.py")
def pruning_study(config: StudyConfig) -> StudyResult:
    X, psi = pruning_problem(config.seed)
    alphas = np.linspace(0.0, 0.5, 201 if config.full else 51)
    ll = np.array([fa.log_likelihood(X, pruning_weights(a), psi) for a in alphas])
    curves = {b: np.array([fa.free_energy(X, pruning_weights(a), psi, b, "eq16") for a in alphas]) for b in BETAS}
    cl = _pruning_claims(X, psi, alphas, ll, curves)
    fig = pruning_figure(alphas, ll, curves)
    numbers = {"alphas": alphas, "log_likelihood": ll, **{f"free_energy_beta_{b:g}": c for b, c in curves.items()}}
    return StudyResult(numbers, {"pruning": fig}, cl)
