"""Sikka 2020, eqs 5, 26–28, 45–46 (the true inference error of the linear β-VAE), extended by
betalab beyond the thesis' one mixing matrix.

Study ``linear-vae-tie-family``: the optimal β and the best TIE over a family of mixings
A_ij = δ_ij(1−m) + m (columns rescaled): TIE reaches 0 only for a diagonal AᵀA, and for every
non-diagonal mixing some β ≠ 1 lowers it.
"""

from __future__ import annotations

import numpy as np

from betalab import claims as C
from betalab.registry import StudyConfig, StudyResult, study
from betalab.studies.sikka2020._shared import PAPER, _betas, _plt, _refine_min
from linear_models import linear_vae as L
from theory import linear_vae as T


# =============================================================================== numbers
def _family_grid(config) -> tuple[list, np.ndarray, list]:
    """The family's settings: N, the off-diagonal mixing m and the column-norm ratios."""
    Ns = [2, 8, 32, 128] if config.full else [2, 8, 128]
    ms = np.linspace(0.0, 0.9, 19 if config.full else 10)
    ratios = [0.5, 1.0] if not config.full else [0.3, 0.5, 1.0, 2.0]
    return Ns, ms, ratios


def _family_optima(Ns, ms, ratios):
    """Per (ratio, N, m): β* = argmin of the aligned TIE, TIE(β*) and TIE(1)."""
    betas = _betas(800, 0.05, 300.0)
    bstar = np.zeros((len(ratios), len(Ns), len(ms)))
    tmin = np.zeros_like(bstar)
    t_one = np.zeros_like(bstar)
    for a, r in enumerate(ratios):
        for i, N in enumerate(Ns):
            for j, m in enumerate(ms):
                A = T.thesis_mixing(N, 2, m) * np.array([1.0, r])
                sw = L.beta_sweep(A, betas)
                bstar[a, i, j], tmin[a, i, j] = _refine_min(
                    lambda b: float(L.tie_aligned(A, [b])[0]), betas, sw["tie_aligned"])
                t_one[a, i, j] = float(L.tie_aligned(A, [1.0])[0])
    return bstar, tmin, t_one


# =============================================================================== claims
def _family_claims(ms, bstar, tmin, t_one):
    diag = ms == 0.0
    return [
        C.close("TIE can reach 0 only when AᵀA is diagonal: at m = 0 the best TIE is 0, at β = 1",
                "betalab (eqs 5, 28, 45)", 0.0, float(tmin[:, :, diag].max()), atol=1e-8, kind="extension",
                note=f"β* at m = 0: {np.round(bstar[:, :, diag].ravel(), 6).tolist()}"),
        C.relation("For every non-diagonal mixing (m > 0) the best TIE is bounded away from 0",
                   "betalab (eqs 5, 28, 45)", "min TIE(β*) > 0", float(tmin[:, :, ~diag].min()),
                   tmin[:, :, ~diag].min() > 1e-6, kind="extension"),
        C.relation("For m > 0, TIE(β*) < TIE(1): some β ≠ 1 always helps the true inference error",
                   "betalab (eqs 5, 45)", "TIE(β*) < TIE(1) for all m > 0",
                   float((t_one - tmin)[:, :, ~diag].min()), np.all((t_one - tmin)[:, :, ~diag] > 0),
                   kind="extension"),
    ]


def _equal_norms_claim(ms, ratios, bstar, numbers):
    diag = ms == 0.0
    eq = ratios.index(1.0)
    above, below = numbers["n_beta_star_above_1"], numbers["n_beta_star_below_1"]
    return C.relation("Equal column norms (the thesis family): β* > 1 for every m > 0 and N",
                      "betalab extension", "min β* > 1", float(bstar[eq][:, ~diag].min()),
                      bstar[eq][:, ~diag].min() > 1.0, kind="extension",
                      note=f"all ratios: β* above 1 in {above}, below 1 in {below} of "
                           f"{numbers['n_settings']} settings; max β* = {bstar[:, :, ~diag].max():.3f}")


# =============================================================================== figure
def _family_figure(Ns, ms, ratios, bstar, tmin):
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for a, r in enumerate(ratios):
        for i, N in enumerate(Ns):
            ls = ["-", "--", ":", "-."][a % 4]
            axes[0].plot(ms, bstar[a, i], ls=ls, color=f"C{i}", marker="o", ms=3,
                         label=f"N = {N}, |a₂|/|a₁| = {r}")
            axes[1].plot(ms, tmin[a, i], ls=ls, color=f"C{i}", marker="o", ms=3)
    axes[0].axhline(1.0, color="k", lw=1)
    axes[0].set(xlabel="off-diagonal mixing m (A_ij = δ_ij(1−m) + m)", ylabel="β* = argmin TIE",
                title="Optimal β for the true inference error")
    axes[1].set(xlabel="off-diagonal mixing m", ylabel="TIE(β*) [nats]", yscale="symlog",
                title="Best achievable TIE (min over β and latent symmetries)")
    axes[0].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle("Linear β-VAE beyond Sikka 2020: TIE against β over a family of mixing matrices (k = 2)",
                 fontsize=10)
    fig.tight_layout()
    return fig


# =============================================================================== the study
@study("linear-vae-tie-family", title="Beyond the thesis: optimal β and best TIE for a family of mixings",
       paper=PAPER, source="eqs 5, 26–28, 45–46 (betalab extension)",
       notebook="sikka2020_tie_family.py")
def tie_family(config: StudyConfig) -> StudyResult:
    Ns, ms, ratios = _family_grid(config)
    bstar, tmin, t_one = _family_optima(Ns, ms, ratios)
    claims = _family_claims(ms, bstar, tmin, t_one)
    diag = ms == 0.0
    above = int((bstar[:, :, ~diag] > 1 + 1e-6).sum())
    below = int((bstar[:, :, ~diag] < 1 - 1e-6).sum())
    numbers = {"Ns": Ns, "ms": ms, "column_ratios": ratios, "beta_star": bstar, "tie_min": tmin,
               "tie_at_1": t_one, "n_beta_star_above_1": above, "n_beta_star_below_1": below,
               "n_settings": int((~diag).sum() * len(Ns) * len(ratios))}
    claims.append(_equal_norms_claim(ms, ratios, bstar, numbers))
    fig = _family_figure(Ns, ms, ratios, bstar, tmin)
    return StudyResult(numbers=numbers, figures={"tie_family": fig}, claims=claims)
