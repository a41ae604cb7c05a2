"""Higgins et al. 2017, sec. 4.2 and Fig. 6: the latents of the β-VAE (β = 4) align with x, y,
scale and rotation — the informative ones carry high KL, the rotation latent oscillates with
each shape's symmetry — where the VAE (β = 1) entangles. Measured at the "gpu" scale on the
M = 10 models of the recorded Fig. 5 (right) GPU sweep (their latent × factor mutual information
and orientation responses, ``[eval] factor_response``;
:func:`betalab.studies.higgins2017._gpu_sweeps.right_numbers`); at the full length not run.
Part of the study ``higgins-fig5-table`` (:mod:`betalab.studies.higgins2017.fig5_left`)."""

from __future__ import annotations

import math

import numpy as np

from betalab import claims as C
from betalab.studies.higgins2017._gpu_sweeps import gated, right_where
from betalab.studies.higgins2017._shared import (FIG6_BETAS, FIG6_M, LABELLED, SWEEP_BATCH,
                                                 SWEEP_EPOCHS, SWEEP_STEPS, _per_run_cost,
                                                 _sweep_command)

SRC_6 = "Higgins et al. 2017, sec. 4.2, Fig. 6"
#: dSprites' factor columns (deep.data.dsprites.FACTOR_NAMES)
FACTOR_COLUMNS = ("shape", "scale", "orientation", "pos_x", "pos_y")
ORIENTATION = 2
#: the period of each shape under rotation (sec. 4.2, Fig. 6): cycles of its image per full turn
#: (dSprites' shape order: square, ellipse, heart)
SYMMETRY = {"square": 4, "ellipse": 2, "heart": 1}
#: a latent "encodes" a factor when it carries at least this fraction of the factor's entropy
#: (betalab's threshold; Fig. 6 prints none)
ENCODES = 0.2


def _normalised_mi(run: dict) -> np.ndarray:
    """I(z_j; v_k) / H(v_k), latents × factors."""
    return np.asarray(run["factor_mi"]) / np.asarray(run["factor_entropy"])


def _labelled_mig(run: dict) -> float:
    """The histogram MIG over the four labelled factors (Chen et al. 2018, eq. 6, as
    :func:`deep.metrics.information.mig_from_mi`)."""
    from deep.metrics.information import mig_from_mi

    mi = np.asarray(run["factor_mi"])[:, LABELLED]
    return mig_from_mi(mi, np.asarray(run["factor_entropy"])[list(LABELLED)])[0]


def _rotation_latent(run: dict) -> tuple[int, float, list]:
    """The latent with most information about orientation, its normalised MI, and the dominant
    harmonic of its mean response over orientation for each shape
    (:func:`deep.metrics.latent_response.dominant_frequency`)."""
    from deep.metrics.latent_response import dominant_frequency

    nmi = _normalised_mi(run)
    j = int(np.argmax(nmi[:, ORIENTATION]))
    resp = np.asarray(run["orientation_response"])
    ks = []
    for s in range(resp.shape[0]):
        try:
            ks.append(dominant_frequency(resp[s, :, j])["k"])
        except ValueError:                               # a constant response: no harmonic
            ks.append(0)
    return j, float(nmi[j, ORIENTATION]), ks


def _informative_high_kl_claim(fig6: list, where: str):
    from scipy.stats import spearmanr

    rhos = []
    for r in fig6:
        info = _normalised_mi(r)[:, LABELLED].sum(1)
        rhos.append(float(spearmanr(r["kl_per_dim"], info).statistic))
    return C.relation(
        f"Fig. 6: the informative latents are those with high KL (M = {FIG6_M}, every β) [{where}]",
        SRC_6, "Spearman ρ(KL_j, Σ_k I(z_j; v_k)/H(v_k)) > 0 in every model",
        {"models": len(rhos), "min_rho": round(min(rhos), 3), "median_rho": round(float(np.median(rhos)), 3)},
        all(v > 0 for v in rhos), kind="paper", scale="gpu",
        note="k over the four labelled factors; scipy.stats.spearmanr per model")


def _aligned_claim(b4: list, where: str):
    best = {FACTOR_COLUMNS[k]: round(min(float(_normalised_mi(r)[:, k].max()) for r in b4), 3)
            for k in LABELLED}
    return C.relation(
        f"Fig. 6: with β = 4 latents align with x, y, scale and rotation [{where}]", SRC_6,
        f"for each labelled factor some latent carries ≥ {ENCODES:.0%} of its entropy, in "
        "every replica", best, all(v >= ENCODES for v in best.values()), kind="paper",
        scale="gpu", note=f"measured: the least, over the {len(b4)} replicas, of each factor's "
                          "best I(z_j; v_k)/H(v_k)")


def _entangles_claim(b4: list, b1: list, where: str):
    m4, m1 = [_labelled_mig(r) for r in b4], [_labelled_mig(r) for r in b1]
    se = math.hypot(np.std(m4, ddof=1) / math.sqrt(len(m4)) if len(m4) > 1 else 0.0,
                    np.std(m1, ddof=1) / math.sqrt(len(m1)) if len(m1) > 1 else 0.0)
    return C.relation(
        f"Fig. 6: the VAE (β = 1) entangles where the β-VAE (β = 4) disentangles [{where}]",
        SRC_6, "MIG over the four labelled factors: β = 4 above β = 1 by > 2 standard errors",
        {"beta_4": round(float(np.mean(m4)), 3), "beta_1": round(float(np.mean(m1)), 3),
         "se": round(float(se), 3)}, float(np.mean(m4)) > float(np.mean(m1)) + 2 * se,
        kind="paper", scale="gpu", note="histogram MIG (20 bins) of each replica's posterior "
                                        "means over the whole grid, mean over replicas")


def _rotation_claim(b4: list, where: str):
    from deep.data.dsprites import SHAPES

    rot = [_rotation_latent(r) for r in b4]
    want = [SYMMETRY[s] for s in SHAPES]
    return C.relation(
        f"Fig. 6: with β = 4 the rotation latent oscillates with each shape's symmetry: "
        f"period 2π heart, π ellipse, π/2 square [{where}]", SRC_6,
        f"a latent carrying ≥ {ENCODES:.0%} of the orientation's entropy whose mean response's "
        f"dominant harmonic is {dict(zip(SHAPES, want))} cycles per turn, in every replica",
        [{"latent": j, "orientation_mi": round(v, 3), "harmonics": dict(zip(SHAPES, ks))}
         for j, v, ks in rot],
        all(v >= ENCODES and ks == want for _, v, ks in rot), kind="paper", scale="gpu",
        note="per replica, the latent with most orientation information; its mean over the "
             "other factors at each of the 40 orientations, per shape; "
             "deep.metrics.latent_response.dominant_frequency")


def fig6_claims(right: dict) -> list:
    """Fig. 6 at the recorded Fig. 5 (right) GPU sweep's scale ("gpu"), on its M = 10 models,
    each compared with what the paper states: informative latents have high KL; at β = 4 a
    latent encodes each labelled factor and the representation is more disentangled than the
    VAE's; rotation latents oscillate with each shape's symmetry."""
    runs = right["runs"]
    steps = sorted({r["steps"] for r in runs})
    if len(steps) != 1 or not runs:
        return []
    where = right_where(right)
    fig6 = [r for r in runs if r["latent_dim"] == FIG6_M]
    out = [_informative_high_kl_claim(fig6, where)]
    b4 = [r for r in fig6 if r["beta"] == 4.0]
    b1 = [r for r in fig6 if r["beta"] == 1.0]
    if b4 and b1:
        out += [_aligned_claim(b4, where), _entangles_claim(b4, b1, where),
                _rotation_claim(b4, where)]
    return gated(out, right, "right",
                 would_run=f"{_sweep_command('right')} with the Higgins score recorded at "
                           "25/50/75/100 % of the steps.")


def fig6_full_claim(right: dict | None):
    """Fig. 6 at the paper's size: not run (Table 1 models trained at the full length);
    ``right``, the recorded GPU cut when there is one, says so."""
    return C.not_run(
        "Fig. 6: at β = 4 the informative latents align with x, y, scale and rotation; rotation "
        "latents oscillate with the shape's symmetry; the VAE (β = 1) entangles",
        "Higgins et al. 2017, sec. 4.2, Fig. 6", "aligned latents; 2π / π / π/2 periods",
        kind="paper", scale="full",
        why="needs Table 1 models trained at the full length; measured here only on the "
            "time-boxed GPU cut of Fig. 5 (right) (the gpu-scale claims)" if right
            else "needs trained Table 1 models (the sweeps keep metrics, not weights).",
        would_run="per-latent mutual information with each factor (the ``mi`` matrix of "
                  "deep.metrics.mig_histogram) and the dominant frequency of each rotation "
                  "latent's mean response per shape (deep.metrics.latent_response."
                  "rotation_harmonics: k = 1 heart, 2 ellipse, 4 square), on Table 1 models "
                  "trained with "
                  "`betalab train --model beta-vae --beta 4 --optimizer adagrad --lr 1e-2 "
                  f"--batch-size {SWEEP_BATCH} --epochs {SWEEP_EPOCHS}` (and --beta 1).",
        cost=f"2 runs × {SWEEP_STEPS:,} steps; {_per_run_cost()}: a GPU job.")


def _fig6_row(f6, row, r) -> None:
    """One model's row of the Fig. 6 figure: its latents' normalised MI with each factor beside
    their KL, and its rotation latent's mean response over orientation per shape."""
    from deep.data.dsprites import SHAPES

    nmi = _normalised_mi(r)
    im = row[0].imshow(nmi, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    row[0].set_xticks(range(nmi.shape[1]), [c.replace("_", " ") for c in FACTOR_COLUMNS], fontsize=8)
    row[0].set_yticks(range(nmi.shape[0]),
                      [f"z{j} (KL {kl:.1f})" for j, kl in enumerate(r["kl_per_dim"])], fontsize=7)
    row[0].set_title(f"β = {r['beta']:g}, seed {r['seed']}: " + r"$I(z_j; v_k)/H(v_k)$", fontsize=9)
    f6.colorbar(im, ax=row[0], shrink=0.8)
    j, v, ks = _rotation_latent(r)
    resp = np.asarray(r["orientation_response"])
    angles = np.arange(resp.shape[1]) * 360 / resp.shape[1]
    for s, name in enumerate(SHAPES):
        row[1].plot(angles, resp[s, :, j], label=f"{name} (k = {ks[s]})")
    row[1].set_xlabel("orientation (degrees)")
    row[1].set_ylabel(f"mean of z{j}")
    row[1].set_title(f"z{j}, the latent with most orientation information "
                     f"(I/H = {v:.2f})", fontsize=9)
    row[1].legend(fontsize=7)


def fig6_figure(right: dict):
    """Fig. 6 in numbers (per model of M = 10 at β = 1 and 4, first replica: :func:`_fig6_row`),
    or None when the sweep kept no orientation response."""
    import matplotlib.pyplot as plt

    steps = right["runs"][0]["steps"]
    fig6 = sorted((r for r in right["runs"] if "orientation_response" in r),
                  key=lambda r: (r["beta"], r["seed"]))
    picked = [next(r for r in fig6 if r["beta"] == b) for b in FIG6_BETAS if any(r["beta"] == b for r in fig6)]
    if not picked:
        return None
    f6, axes = plt.subplots(len(picked), 2, figsize=(9, 3.2 * len(picked)), constrained_layout=True,
                            squeeze=False)
    for row, r in zip(axes, picked):
        _fig6_row(f6, row, r)
    f6.suptitle(f"Fig. 6 in numbers [gpu scale: M = {FIG6_M}, {steps:,} steps]", fontsize=10)
    return f6
