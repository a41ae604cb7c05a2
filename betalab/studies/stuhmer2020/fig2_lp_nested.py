"""Stühmer, Turner & Nowozin 2020, sec. 3.2, Fig. 2 (eqs 6 and 8): iso-contours of the Lp-nested
function of eq 6 for p0, p1 ∈ {1, 2, 9}, and the surface area of eq 8 against Monte Carlo.

Study ``lp-nested-fig2``. The math lives in :mod:`theory.lp_nested`.
"""

from __future__ import annotations

import math

import numpy as np

from betalab.claims import close, relation
from betalab.registry import StudyConfig, StudyResult, study
from betalab.studies.stuhmer2020._lp_nested import PAPER
from theory import lp_nested as L

PS = [1.0, 2.0, 9.0]


# ----------------------------------------------------------------------------- numbers

def _ball_volume_mc(tree, m, rng):
    """MC volume of {f <= 1} from uniform points in [-1, 1]^n (``|z_j| <= f(z)``); (est, se)."""
    n = L.n_leaves(tree)
    hit = L.evaluate(tree, rng.uniform(-1, 1, size=(m, n))) <= 1
    return 2**n * hit.mean(), 2**n * hit.std() / math.sqrt(m)


def iso_surface(p0, p1, k):
    """Points z (2k, k, 3) of f(z) = 1 for the tree (p0, [z1, (p1, [z2, z3])]), in generalised
    polar coordinates: ``|z1|^p0 + w^p0 = cos²a + sin²a = 1`` and ``|z2|^p1 + |z3|^p1 = w^p1``."""
    a, b = np.meshgrid(np.linspace(0, np.pi, k), np.linspace(0, 2 * np.pi, 2 * k))
    sp = lambda t, q: np.sign(t) * np.abs(t) ** (2 / q)  # noqa: E731  generalised polar coords
    w = np.abs(np.sin(a)) ** (2 / p0)
    return np.stack([sp(np.cos(a), p0), w * sp(np.cos(b), p1), w * sp(np.sin(b), p1)], -1)


def surfaces_and_volumes(rng, m_mc, k):
    """For the nine (p0, p1): the iso-surface, max ``|f − 1|`` on it, and the unit-ball volume
    S_f(1)/3 of eq 8 against Monte Carlo (z-scores)."""
    max_dev, zs, vols, surfaces = 0.0, [], {}, {}
    for p0 in PS:
        for p1 in PS:
            tree = (p0, [None, (p1, [None, None])])
            z = iso_surface(p0, p1, k)
            surfaces[(p0, p1)] = z
            max_dev = max(max_dev, float(np.max(np.abs(L.evaluate(tree, z) - 1))))
            est, se = _ball_volume_mc(tree, m_mc, rng)
            exact = math.exp(L.log_surface_area(tree)) / 3
            zs.append(abs(exact - est) / se)
            vols[f"p0={p0:g},p1={p1:g}"] = {"eq8_volume": exact, "mc_volume": est, "mc_se": se}
    return max_dev, zs, vols, surfaces


def eq8_unequal_children(rng, m_mc):
    """Eq 8 on a tree with l_0 = 3 ≠ l_1 = 2, with the inner product over l_i children and as the
    extraction prints it (to l_1): (volume, literal volume, MC estimate, MC se)."""
    tree3 = (1.5, [None, None, (0.7, [None, None])])            # l_0 = 3 children, l_1 = 2
    literal = (4 * math.log(2) + 2 * math.lgamma(1 / 1.5) - 2 * math.log(1.5) - math.lgamma(4 / 1.5)
               + 2 * math.lgamma(1 / 0.7) - math.log(0.7) - math.lgamma(2 / 0.7))
    est3, se3 = _ball_volume_mc(tree3, m_mc, rng)
    return math.exp(L.log_surface_area(tree3)) / 4, math.exp(literal) / 4, est3, se3


# ----------------------------------------------------------------------------- claims

def _fig2_claims(max_dev, zs, m_mc, vol_ok, vol_lit, est3, se3):
    src = f"{PAPER}, eq 6, Fig. 2"
    return [
        close("The plotted surfaces are the iso-contours f(z) = 1 of eq 6 (max |f − 1| on them)",
              src, 0.0, max_dev, atol=1e-12, kind="check", note="tolerance: float64 round-off"),
        relation("Unit-ball volume S_f(1)/n from eq 8 agrees with Monte Carlo for all nine (p0, p1)",
                 f"{PAPER}, eq 8", "max |z-score| < 4", float(max(zs)), max(zs) < 4,
                 tolerance=f"4 MC standard errors ({m_mc} uniform points each, relative se ≈ 0.2%)",
                 kind="paper"),
        close("p0 = p1 = 2 gives the Euclidean sphere: S_f(1) = 4π", f"{PAPER}, eq 8",
              4 * math.pi, math.exp(L.log_surface_area((2.0, [None, (2.0, [None, None])]))), rtol=1e-13,
              kind="check", note="reduction to the special case; tolerance: float64 lgamma round-off"),
        relation("Eq 8 (inner product over the l_i children of node i) matches the MC unit-ball volume "
                 "on a tree with l_0 = 3 ≠ l_1 = 2", f"{PAPER}, eq 8", "|z-score| < 4",
                 abs(vol_ok - est3) / se3, abs(vol_ok - est3) / se3 < 4,
                 tolerance=f"4 MC standard errors ({m_mc} points)", kind="paper",
                 note="The main-text extraction shows the product's upper limit as l1; read literally, "
                      f"the volume would be {vol_lit:.4f}, {abs(vol_lit - est3) / se3:.0f} MC standard "
                      "errors off. The sentence after eq 8 defines l_i and Algorithm 1 (appendix, cleaner "
                      "text) runs over l_i children, so l1 is taken as an artefact of the text "
                      "extraction, not an erratum."),
    ]


# ----------------------------------------------------------------------------- figure

def fig2_figure(surfaces):
    """The 3 × 3 grid of iso-surfaces f(z) = 1."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(10, 10))
    for i, p0 in enumerate(PS):
        for j, p1 in enumerate(PS):
            z = surfaces[(p0, p1)]
            ax = fig.add_subplot(3, 3, 3 * i + j + 1, projection="3d")
            ax.plot_surface(z[..., 1], z[..., 2], z[..., 0], cmap="viridis", linewidth=0,
                            antialiased=True, rstride=1, cstride=1, alpha=0.9)
            ax.set_title(f"$p_0={p0:g}$, $p_1={p1:g}$", fontsize=10, pad=0)
            # three ticks per axis in small type, labels close to the axes: the default ticks
            # overlapped and the z label ran into the next panel's title
            for axis, name in ((ax.xaxis, "$z_2$"), (ax.yaxis, "$z_3$"), (ax.zaxis, "$z_1$")):
                axis.set_ticks([-1, 0, 1])
                axis.set_label_text(name, fontsize=9)
                axis.labelpad = -6
            ax.tick_params(labelsize=7, pad=-2)
            ax.set_box_aspect((1, 1, 1), zoom=0.85)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.92, wspace=0.05, hspace=0.12)
    fig.suptitle("Fig. 2: iso-surfaces $f(z)=1$ of the $L_p$-nested function, eq. 6", y=0.97)
    return fig


# ----------------------------------------------------------------------------- study

@study("lp-nested-fig2", title="Iso-contours of the Lp-nested function of eq 6 (Fig. 2)",
       paper=PAPER, source="sec. 3.2, eqs 6 and 8, Fig. 2", notebook="stuhmer2020_fig2_lp_nested.py")
def fig2(config: StudyConfig) -> StudyResult:
    rng = config.rng(0)
    m_mc = 1_000_000 if config.full else 200_000
    k = 60 if config.full else 36
    max_dev, zs, vols, surfaces = surfaces_and_volumes(rng, m_mc, k)
    vol_ok, vol_lit, est3, se3 = eq8_unequal_children(rng, m_mc)
    claims = _fig2_claims(max_dev, zs, m_mc, vol_ok, vol_lit, est3, se3)
    fig = fig2_figure(surfaces)
    return StudyResult(numbers={"max_abs_f_minus_1": max_dev, "volumes": vols,
                                "eq8_literal_volume": vol_lit, "eq8_volume": vol_ok,
                                "mc_volume_l0_3": est3, "mc_se_l0_3": se3},
                       figures={"fig2_isocontours": fig}, claims=claims)
