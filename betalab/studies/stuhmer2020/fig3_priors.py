"""Stühmer, Turner & Nowozin 2020, sec. 3.1, Fig. 3 (eq 5): leptokurtic vs platykurtic priors and
the orientation of an encoded square; what κ of eq 5 measures.

Study ``lp-nested-fig3``: the expected log-prior of a rotated uniform square under the
p-generalised normal (closed form, checked by Monte Carlo of the Lp-nested log-density), and the
excess kurtosis against κ. The math lives in :mod:`theory.lp_nested`.
"""

from __future__ import annotations

import math

import numpy as np

from betalab.claims import close, relation
from betalab.registry import StudyConfig, StudyResult, study
from betalab.studies.stuhmer2020._lp_nested import PAPER
from theory import lp_nested as L

PS = [0.5, 1.0, 1.5, 2.0, 2.5, 4.0, 9.0]


# ----------------------------------------------------------------------------- numbers

def rotated_square_curves(theta):
    """E[log p] = c − E[Σ|z|^p]/s for the p-generalised normal (eq 5 with τ = 1/s, s = 1), up to c;
    the argmax over θ does not depend on c, s or the size of the square (homogeneity)."""
    return {p: -L.expected_abs_power_rotated_square(theta, p) for p in PS}


def mc_max_z(rng, m):
    """Monte Carlo cross-check with the Lp-nested log_prob itself (single node = eq 5): the largest
    ``|z-score|`` of the closed form over p ∈ {1, 4} and θ ∈ {0, π/8, π/4}."""
    xy = rng.uniform(-1, 1, size=(m, 2))
    zmax = 0.0
    for p in (1.0, 4.0):
        for th in (0.0, np.pi / 8, np.pi / 4):
            R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
            lp = L.log_prob(xy @ R.T, (p, [None, None])) - L.log_normalizer((p, [None, None]))
            zmax = max(zmax, abs(lp.mean() + L.expected_abs_power_rotated_square(th, p)) / (lp.std() / math.sqrt(m)))
    return zmax


# ----------------------------------------------------------------------------- claims

def _fig3_claims(deg, argmax, flat2, zmax, kap, exk):
    src = f"{PAPER}, sec. 3.1, Fig. 3"
    lep, pla = [p for p in PS if p < 2], [p for p in PS if p > 2]
    return [
        relation("A leptokurtic prior (p < 2) favours the diagonal encoding: E[log p] is maximal at 45°",
                 src, "argmax = 45° for p ∈ {0.5, 1, 1.5}", {f"p={p:g}": argmax[p] for p in lep},
                 all(argmax[p] == 45.0 for p in lep), tolerance=f"grid step {deg[1]:.2g}°",
                 kind="paper"),
        relation("A platykurtic prior (p > 2) favours the axis-aligned encoding: maximum at 0°",
                 src, "argmax = 0° for p ∈ {2.5, 4, 9}", {f"p={p:g}": argmax[p] for p in pla},
                 all(argmax[p] == 0.0 for p in pla), tolerance=f"grid step {deg[1]:.2g}°",
                 kind="paper"),
        close("At p = 2 (Gaussian) E[log p] does not depend on the angle (peak-to-peak)", src, 0.0, flat2,
              atol=1e-12, kind="paper",
              note="p = 2 is rotation invariant: no orientation is preferred. Tolerance: float64."),
        relation("Closed form of E Σ|z_i|^p for the rotated square agrees with Monte Carlo of log_prob",
                 src, "max |z-score| < 4", zmax, zmax < 4, tolerance="4 MC standard errors",
                 kind="check"),
        relation("p = 2/(1+κ): κ = 0 is the normal (p = 2), κ = 1 the Laplacian (p = 1)",
                 f"{PAPER}, eq 5", "p(0) = 2, p(1) = 1", [float(L.p_from_kappa(0.0)), float(L.p_from_kappa(1.0))],
                 L.p_from_kappa(0.0) == 2.0 and L.p_from_kappa(1.0) == 1.0, kind="paper"),
        relation("κ of eq 5 is 'a measure of kurtosis' (Box & Tiao's wording): the excess kurtosis "
                 "Γ(5/p)Γ(1/p)/Γ(3/p)² − 3 is strictly increasing in κ and has the sign of κ "
                 "(κ > 0 leptokurtic, κ < 0 platykurtic)", f"{PAPER}, eq 5 [34]",
                 "monotone, sign(κ) = sign(excess kurtosis)",
                 {"min_step": float(np.min(np.diff(exk))), "sign_agree": bool(np.all(np.sign(exk) == np.sign(kap)))},
                 bool(np.all(np.diff(exk) > 0) and np.all(np.sign(exk) == np.sign(kap))), kind="paper",
                 note="κ is a shape parameter that orders the kurtosis, not the kurtosis itself "
                      f"(κ = 1 has excess kurtosis {float(L.gennorm_excess_kurtosis(1.0)):.3g})."),
    ]


# ----------------------------------------------------------------------------- figures

def fig3_figure(deg, curves):
    """Fig. 3: the log-prior contours with the preferred square, and E[log p] against the angle."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    g = np.linspace(-2.2, 2.2, 301)
    X, Y = np.meshgrid(g, g)
    sq = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], float)
    r45 = np.array([[1, -1], [1, 1]]) / math.sqrt(2)
    for ax, p, name, rot in [(axes[0], 1.0, "Laplace (p = 1, leptokurtic)", r45),
                             (axes[1], 4.0, "p = 4 (platykurtic)", np.eye(2))]:
        Z = L.log_prob(np.stack([X, Y], -1), (p, [None, None]))
        ax.contour(X, Y, Z, levels=12, cmap="Greys")
        s2 = sq @ rot.T
        ax.plot(*s2.T, color="C3", lw=2, label="preferred encoding of the square")
        ax.set_aspect("equal"); ax.set_title(f"log-prior, {name}")
        ax.set_xlabel("$z_1$"); ax.set_ylabel("$z_2$"); ax.legend(loc="lower right", fontsize=8)
    ax = axes[2]
    for p, c in curves.items():
        ax.plot(deg, c - c[0], label=f"p = {p:g}")
    ax.axvline(45, color="k", ls=":", lw=1)
    ax.set_xlabel("rotation angle of the encoded square [deg]")
    ax.set_ylabel(r"$E[\log p(R_\theta x)] - E[\log p(x)]$")
    ax.set_title("Fig. 3: expected log-prior (eq 5, τ = 1) vs rotation")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def kappa_figure(kap, exk):
    """The excess kurtosis of gennorm(p = 2/(1+κ)) against κ."""
    import matplotlib.pyplot as plt

    fig_k, axk = plt.subplots(figsize=(5, 3.6))
    axk.plot(kap, exk, label="excess kurtosis of gennorm($p=2/(1+\\kappa)$)")
    axk.plot(kap, kap, "--", label="identity (if κ were the excess kurtosis)")
    axk.axhline(0, color="k", lw=0.5); axk.axvline(0, color="k", lw=0.5)
    axk.set_xlabel("κ (eq 5)"); axk.set_ylabel("excess kurtosis"); axk.legend(fontsize=8)
    axk.set_title("What κ of eq 5 measures")
    fig_k.tight_layout()
    return fig_k


# ----------------------------------------------------------------------------- study

@study("lp-nested-fig3", title="Leptokurtic vs platykurtic priors and the orientation of a square (Fig. 3)",
       paper=PAPER, source="sec. 3.1, eq 5, Fig. 3", notebook="stuhmer2020_fig3_priors.py")
def fig3(config: StudyConfig) -> StudyResult:
    rng = config.rng(0)
    theta = np.linspace(0, np.pi / 2, 181 if config.full else 91)          # 0.5° / 1° steps
    deg = np.degrees(theta)
    curves = rotated_square_curves(theta)
    argmax = {p: float(deg[np.argmax(c)]) for p, c in curves.items()}
    flat2 = float(np.ptp(curves[2.0]))
    zmax = mc_max_z(rng, 400_000 if config.full else 100_000)
    kap = np.linspace(-0.95, 3.0, 400)
    exk = L.gennorm_excess_kurtosis(L.p_from_kappa(kap))
    claims = _fig3_claims(deg, argmax, flat2, zmax, kap, exk)
    fig, fig_k = fig3_figure(deg, curves), kappa_figure(kap, exk)
    return StudyResult(numbers={"argmax_deg": {f"{p:g}": a for p, a in argmax.items()},
                                "p2_peak_to_peak": flat2, "mc_max_z": zmax,
                                "excess_kurtosis_at_kappa1": float(L.gennorm_excess_kurtosis(1.0))},
                       figures={"fig3_rotated_square": fig, "kappa_vs_kurtosis": fig_k}, claims=claims)
