"""Stühmer, Turner & Nowozin 2020, sec. 2.4 / App. B.8: over-complete ICA component norms and
angles against β, beyond the paper's two values β = 1 and 5.

Study ``ica-beta-sweep`` on the setting of :mod:`betalab.studies.stuhmer2020._ica` (each fit
starts at the truth, as in :mod:`betalab.studies.stuhmer2020.fig1_ica_overcomplete`): where
pruning starts, and how the KL(q‖p) per point moves with β. The math lives in
:mod:`linear_models.ica`.
"""

from __future__ import annotations

import numpy as np

from betalab.claims import relation
from betalab.registry import Param, StudyConfig, StudyResult, grid, integer, real, study
from betalab.studies.stuhmer2020._ica import NU, PAPER, PRUNE_RATIO, PSI, SCALE, true_model
from linear_models import ica


# ----------------------------------------------------------------------------- numbers

def sweep(X, W_true, psi, betas):
    """Sorted column norms, kept components, largest kept pair angle and KL(q‖p)/N per β."""
    n = X.shape[0]
    norms, kept_angle, kl, n_kept = [], [], [], []
    for beta in betas:
        fit = ica.fit_meanfield(X, W_true, psi, float(beta), NU, SCALE)
        nm = ica.column_norms(fit.W)
        norms.append(np.sort(nm)[::-1])
        n_kept.append(int(np.sum(nm >= PRUNE_RATIO * nm.max())))
        ang = ica.pairwise_angles(fit.W, min_norm=PRUNE_RATIO * nm.max())
        kept_angle.append(float(ang.max()))
        t = ica.free_energy_terms(X, fit.W, psi, fit.mu, fit.s, NU, SCALE)
        kl.append(t["kl"] / n)
    return np.array(norms), kept_angle, np.array(kl), np.array(n_kept)


# ----------------------------------------------------------------------------- claims

def _sweep_claims(betas, kl, n_kept, onset):
    return [
        relation("β = 5 prunes one component (and β = 1 already does at the optimum)",
                 "sec. 2.4, Fig 1c", "n_kept(β=5) = 2", {"n_kept": dict(zip(betas.tolist(), n_kept.tolist()))},
                 n_kept[np.isclose(betas, 5.0)][0] == 2, kind="paper"),
        relation("the biases grow with β: q moves towards the prior (KL(q‖p) per point "
                 "non-increasing in β)", "sec. 2.4 (coordinate-ascent argument)",
                 "KL per point non-increasing along the β grid", kl,
                 bool(np.all(np.diff(kl) <= 1e-9)), tolerance="1e-9 nats (optimiser stopping)",
                 kind="paper"),
        relation("the number of kept components is non-increasing in β", "sec. 2.4",
                 "n_kept non-increasing", n_kept, bool(np.all(np.diff(n_kept) <= 0)), kind="paper"),
        relation("where pruning starts: one component is pruned at every β on the grid, so the "
                 f"onset lies below the smallest β = {betas[0]:g} (at the optimum; see the "
                 "trajectory figure of ica-overcomplete for how long three survive)",
                 "beyond the paper (sec. 2.4 shows β = 1 and 5 only)",
                 f"n_kept = 2 for all β ≥ {betas[0]:g}", {"onset_beta": onset, "n_kept": n_kept},
                 bool(np.all(n_kept == 2)), kind="extension"),
    ]


# ----------------------------------------------------------------------------- figure

def sweep_figure(betas, norms, kept_angle, kl, onset, W_true, n, noise):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for k in range(3):
        axes[0].plot(betas, norms[:, k], "o-", label=f"{k + 1}st largest $\\|w\\|$" if k == 0 else
                     ("2nd largest" if k == 1 else "smallest"))
    axes[0].axvline(onset, color="gray", ls=":", label=f"first grid β with a pruned component: {onset:g}")
    axes[0].set_title("column norms of W (truth: 1, 1, 1)")
    axes[1].plot(betas, kept_angle, "o-", color="tab:red", label="fit (largest kept pair)")
    axes[1].axhline(ica.pairwise_angles(W_true).max(), color="tab:blue", ls="--", label="truth (largest pair)")
    axes[1].set_title("angle between kept components (deg)")
    axes[2].plot(betas, kl, "o-", color="k")
    axes[2].set_title("KL(q‖p) per point (eq 13 penalty)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("β")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(f"Over-complete ICA (App. B.8 setting; N = {n}, σ² = {noise:g}) under β-VI: "
                 "where does pruning start?")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- study

@study("ica-beta-sweep", title="Over-complete ICA: component norms and angles against β",
       paper=PAPER, source="sec. 2.4 (beyond the paper's two β values); App. B.8",
       notebook="stuhmer2020_fig1_ica_overcomplete.py",
       params={"n": Param("number of data points N; default 200 (full: 1000)", integer(lo=10)),
               "betas": Param("β grid (increasing, must hold 5, the value of Fig 1c); default "
                              "(0.1, 0.3, 1, 2, 5, 8)", grid(2, contains=(5.0,))),
               "noise_variance": Param(f"observation noise variance σ² (Ψ = σ² I); default {PSI[0]}",
                                       real(lo=0.0))})
def ica_beta_sweep(config: StudyConfig) -> StudyResult:
    n = config.param("n", 1000 if config.full else 200)
    betas = np.asarray(config.param("betas", [0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0]
                                    if config.full else [0.1, 0.3, 1.0, 2.0, 5.0, 8.0]))
    W_true, psi = true_model()
    psi = np.full_like(psi, config.param("noise_variance", psi[0]))
    X, _ = ica.sample(n, W_true, psi, NU, SCALE, rng=config.rng(0))
    norms, kept_angle, kl, n_kept = sweep(X, W_true, psi, betas)
    onset = float(betas[np.argmax(n_kept < 3)]) if np.any(n_kept < 3) else float("inf")
    numbers = {"N": n, "noise_variance": float(psi[0]), "betas": betas, "norms_sorted": norms, "n_kept": n_kept,
               "largest_kept_pair_angle_deg": np.array(kept_angle), "kl_per_point": kl,
               "pruning_onset_beta": onset}
    claims = _sweep_claims(betas, kl, n_kept, onset)
    fig = sweep_figure(betas, norms, kept_angle, kl, onset, W_true, n, psi[0])
    return StudyResult(numbers=numbers, figures={"sweep": fig}, claims=claims)
