"""Sikka 2020, Results, Figs 4–5: the claims of the two deep studies (``sikka-fig4``,
``sikka-fig5``) decided from their numbers alone, so that a recorded run's verdicts can be
re-derived (:func:`claims_from_numbers`, both studies' ``recheck``).

Each paper claim on the curves A–D (and Fig 5E's axes of motion) is decided on paired
differences over the same initialisations, at the cpu scale only where its own curve levelled
off along training (:func:`betalab.studies.sikka2020._deep.convergence_traces`); the quick scale
decides none of them. The settings and numbers are in :mod:`betalab.studies.sikka2020._deep`.
"""

from __future__ import annotations

import numpy as np

from betalab import claims as C
from betalab.studies.sikka2020._deep import (PRINTED_INITIALISATIONS, PRINTED_REALISATIONS,
                                             SCALES, SUBSTITUTE, TRAVERSAL_BETAS)
from betalab.studies.sikka2020._shared import PAPER

#: per-step cost of a 100-member ensemble at cpu scale, measured on this 2-core machine with one
#: thread: 0.21 s (Fig 4) and 0.26 s (Fig 5) under a load of ≈6 processes on 2 cores, which the
#: same benchmark (0.14 s loaded, 0.041 s idle) scales to ≈0.06 s and ≈0.08 s on an idle core;
#: evaluation adds ≈1 s (Fig 4) and ≈7 s (Fig 5) per β. The recorded cpu runs took 1,652 s (Fig 4)
#: and 3,458 s (Fig 5) on 2 cores. One evaluation along training (encode_members + piece_numbers,
#: the cpu-scale networks, n_eval and n_z, 16 members after 50 steps, one thread, two other
#: training processes running) measured 0.03 s (Fig 4) and 0.2 s (Fig 5) a member: ≈3 s and
#: ≈20 s for 100 members, so the 3 × 12 added evaluations add ≈2 min (Fig 4) and ≈12 min (Fig 5)
#: at that load (≈0.5 and ≈4 min on an idle core, by the factor above)
CPU_COST = {"fig4": "about 30 min on 2 CPU cores (28 min recorded, plus 36 evaluations along "
                    "training of ≈3 s each, measured)",
            "fig5": "about 70 min on 2 CPU cores (58 min recorded, plus 36 evaluations along "
                    "training of ≈20 s each, measured)"}
FULL_COST = ("12 β × 10,000 steps of a 100-member ensemble of 256-200-200 networks on 1600-pixel "
             "images: ≈1.6 GFLOP per member-step forward and backward, 12 × 10⁴ × 100 × 1.6e9 ≈ 2e16 FLOP "
             "in all, under "
             "an hour on one modern GPU (estimated, not measured)")


# ============================================================================ statistics
def _paired(values, i, j):
    """Mean and standard error of values[j] − values[i] over the initialisations (the same
    seeds at every β, so the difference is paired)."""
    d = np.asarray(values[j], float) - np.asarray(values[i], float)
    d = d[np.isfinite(d)]
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


def _where(numbers) -> str:
    sc, d = numbers["settings"], numbers["data"]
    return (f"{SUBSTITUTE}; {sc['members']} initialisations per β, β ∈ {list(sc['betas'])}, tanh "
            f"{'-'.join(map(str, sc['widths']))} networks, {sc['steps']} Adam steps of "
            f"{sc['batch']} on {sc['n_train']} images, {d['canvas']}×{d['canvas']} canvas, "
            f"evaluated on {sc['n_eval']} fresh draws")


def _would_run(numbers: dict) -> str:
    fig = numbers["fig"]
    if not numbers.get("convergence"):
        return (f"`betalab run sikka-{fig} --scale cpu`, which records the ELBO, TIE, "
                "reconstruction and CI loss of every initialisation at 25/50/75/100 % of the "
                "steps.")
    return (f"a longer cpu-scale run: SCALES['cpu']['steps'] raised above "
            f"{numbers['settings']['steps']:,} until the curve's shape levels off "
            f"(`betalab run sikka-{fig} --scale cpu`).")


# ============================================================================ the paper's claims
# Each returns (statement, source, expected, measured, ok, tolerance, curve): the claim before
# it is gated by its curve's convergence record (:func:`_decided`).
def _elbo_claim(src, betas, q, mean):
    """ELBO maximal near β = 1 (Fig A; eqs 20–22)."""
    i1, ia = int(np.flatnonzero(betas == 1.0)[0]), int(np.nanargmax(mean["elbo"]))
    gap, gap_se = _paired(q["elbo"], ia, i1) if ia != i1 else (0.0, 0.0)
    elbo_ok = 0.75 <= betas[ia] <= 1.5 and -gap <= 2 * gap_se
    measured = {"argmax_beta": float(betas[ia]), "elbo_1_minus_max": gap, "paired_se": gap_se}
    return ("ELBO (mean over initialisations) is maximal near β = 1",
            f"{src}A; eqs 20–22", "argmax_β ELBO in [0.75, 1.5] and ELBO(1) within 2 paired "
            "standard errors of the maximum", measured, elbo_ok, "2 paired standard errors",
            "elbo")


def _nonincreasing_claims(src, betas, q):
    """Reconstruction (Fig C; eq 19) and CI loss (Fig D; eq 18) non-increasing."""
    out = []
    for key, label, eq in (("rec", "The reconstruction objective E_q log p(x|z)", "C; eq 19"),
                           ("kl", "The conditional-independence loss KL(q(z|x) ‖ p(z))", "D; eq 18")):
        steps = [_paired(q[key], i, i + 1) for i in range(len(betas) - 1)]
        z = [d / se if se > 0 else (np.inf if d > 0 else 0.0) for d, se in steps]
        out.append((f"{label} is non-increasing in β", f"{src}{eq}",
                    "no increase between neighbouring β larger than 3 paired standard errors",
                    {"largest_step": float(max(d for d, _ in steps)),
                     "largest_step_in_se": float(max(z))}, max(z) <= 3.0,
                    "3 paired standard errors per step (11 steps: a Bonferroni-like margin)", key))
    return out


def _tie_claim(src, betas, q, mean):
    """TIE: interior minimum (Fig B; eq 5), its depth against the spread over initialisations."""
    im = int(np.nanargmin(mean["tie"]))
    interior = 0 < im < len(betas) - 1
    ends = [_paired(q["tie"], im, e) for e in (0, len(betas) - 1)]
    depth = min(d for d, _ in ends)
    sd_at = float(np.nanstd(q["tie"][im], ddof=1))
    band = float(np.nanmax(q["tie"][im]) - np.nanmin(q["tie"][im]))
    deep_enough = all(d > 2 * se for d, se in ends)
    return ("TIE (latents matched to sources) is non-monotonic in β with an interior minimum",
            f"{src}B; eq 5", "argmin_β mean TIE not at a grid end, and TIE at both ends "
            "above the minimum by more than 2 paired standard errors",
            {"argmin_beta": float(betas[im]), "tie_min": float(mean["tie"][im]),
             "depth_nats": depth, "depth_over_sd": depth / sd_at if sd_at > 0 else None,
             "depth_over_minmax_band": depth / band if band > 0 else None,
             "paired_se_ends": [se for _, se in ends]},
            interior and deep_enough, "2 paired standard errors", "tie")


def _axes_claim(src, betas, numbers):
    """Fig 5E: at large β the two latents encode the two axes of motion."""
    j = int(np.flatnonzero(betas == TRAVERSAL_BETAS[1])[0])
    cp = np.asarray(numbers["corr_p"], float)[j]          # (K, 2)
    cs = np.asarray(numbers["corr_s"], float)[j]
    worst = np.nanmin(cp, axis=1)
    return (f"At large β (β = {TRAVERSAL_BETAS[1]:g}) the two latents encode the two "
            "axes of motion", f"{src}E; Results", "mean over initialisations of the "
            "smaller |corr(latent mean, matched canvas axis)| ≥ 0.9",
            {"mean_min_abs_corr_axes": float(np.nanmean(worst)),
             "fraction_of_models_above_0.9": float(np.nanmean(worst >= 0.9)),
             "mean_abs_corr_sources": np.nanmean(cs, axis=0)},
            float(np.nanmean(worst)) >= 0.9, "0.9 (fixed before the run)", "corr_p")


def _paper_claims(numbers: dict, src: str) -> list:
    """The paper's claims on the figure's curves, before gating (:func:`_decided`)."""
    betas = np.asarray(numbers["betas"], float)
    q = {k: np.asarray(numbers[k], float) for k in ("elbo", "rec", "kl", "tie")}
    mean = {k: np.nanmean(v, axis=1) for k, v in q.items()}
    paper = [_elbo_claim(src, betas, q, mean), *_nonincreasing_claims(src, betas, q),
             _tie_claim(src, betas, q, mean)]
    if numbers["fig"] == "fig5":
        paper.append(_axes_claim(src, betas, numbers))
    return paper


def _decided(numbers: dict, paper: list) -> list:
    """Not run at the quick scale; otherwise each claim decided only where its own curve
    levelled off along training (``numbers["convergence"]``)."""
    fig, scale = numbers["fig"], numbers["scale"]
    where = _where(numbers)
    traces = numbers.get("convergence") or {}
    out = []
    for statement, source, expected, measured, ok, tol, curve in paper:
        if scale == "quick":
            out.append(C.not_run(statement, source, expected, kind="paper", scale="quick",
                                 measured=measured, why=f"the quick run is a demonstration ({where}).",
                                 would_run=f"`betalab run sikka-{fig} --scale cpu`.",
                                 cost=CPU_COST[fig]))
        else:
            # decided only where this claim's own curve levelled off along training
            out += C.at_convergence(
                [C.relation(statement, source, expected, measured, ok, tolerance=tol,
                            kind="paper", scale=scale, note=where)],
                traces.get(curve), would_run=_would_run(numbers),
                cost=f"{CPU_COST[fig]}, proportionally more for longer training.")
    return out


def _full_scale_claim(numbers: dict, src: str):
    fig = numbers["fig"]
    return C.not_run(f"Fig {fig[-1]} at the thesis' configuration (256-200-200 networks, "
                     "1000 epochs, 100 initialisations per β)", src,
                     "the curves and claims above at paper size", kind="paper", scale="full",
                     why="paper-size networks for 100 initialisations × 12 β need a GPU.",
                     would_run=f"`betalab run sikka-{fig} --scale full --device cuda`.",
                     cost=FULL_COST)


# ============================================================================ checks and counts
def _check_claims(numbers, scale):
    ch = numbers["checks"]
    out = []
    if "linear" in ch:
        lin = ch["linear"]
        out.append(C.close(
            "The deep studies' TIE (closed-form posterior, minimum over signed permutations) on the "
            f"linear β-VAE optimum at β = {lin['beta']:g} equals the closed form of "
            "linear_models.linear_vae", f"{PAPER}, eqs 5, 45–46", lin["closed_form"], lin["mc"],
            atol=4 * lin["se"], kind="check", scale=scale,
            note=f"Fig 4's mixing matrix (two digit images, noise σ = 1); Monte Carlo over "
                 f"{lin['n']} draws of x, tolerance 4 standard errors"))
    if "quadrature" in ch:
        qd = ch["quadrature"]
        out.append(C.close(
            "The placement TIE by quadrature (Gauss–Hermite and adaptive) tends to the closed-form "
            "Gaussian KL for a vanishing cell (max abs difference)", f"{PAPER}, eqs 5, 28; Fig 5",
            0.0, qd["max_abs_diff"], atol=1e-5, kind="check", scale=scale,
            note=f"cell side {qd['width']:g}: the non-Gaussian posterior differs from eq 28 by "
                 "O(side²) ≈ 1e-7 relative; 1e-5 nats leaves room for the quadrature's 1e-12"))
    return out


def _realisations_claims(numbers, K):
    """Fig 4 caption against Methods: the printed counts of runs per β."""
    statement = ("Runs per β: the Methods' '300 realizations for each β' and Fig 4's '100 random "
                 "initializations' are the same count")
    corrected = C.relation(
        "Figs 4–5 are reproduced with 100 initialisations per β (the figure caption's count) at "
        "the cpu and full scales", f"{PAPER}, Fig 4 caption", "members = 100 at cpu and full",
        {s: SCALES[s]["members"] for s in SCALES}, SCALES["cpu"]["members"] == 100 ==
        SCALES["full"]["members"], kind="check", scale=numbers["scale"],
        note=f"this run: {K} initialisations per β")
    return list(C.as_printed_relation(
        statement, f"{PAPER}, Methods (Training Details) and Fig 4 caption",
        f"{PRINTED_REALISATIONS} = {PRINTED_INITIALISATIONS}",
        {"methods": PRINTED_REALISATIONS, "fig4_caption": PRINTED_INITIALISATIONS},
        PRINTED_REALISATIONS == PRINTED_INITIALISATIONS, kind="paper", scale=numbers["scale"],
        basis="paper text", why="the thesis prints two counts of runs per β; the figures' bands are described over "
            "100 initialisations, which betalab follows (paired claim)", corrected=corrected))


# ============================================================================ all claims
def claims_from_numbers(numbers: dict, seed: int = 0) -> list:
    """Every claim of ``sikka-fig4`` / ``sikka-fig5`` from the study's numbers alone (so a
    recorded run's verdicts can be re-derived). At the cpu scale each paper claim keeps its
    verdict only where its own curve levelled off along training (``numbers["convergence"]``,
    :func:`betalab.studies.sikka2020._deep.convergence_traces`); without that record it reads
    *not run*."""
    fig, scale = numbers["fig"], numbers["scale"]
    src = f"{PAPER}, Results, Fig {fig[-1]}"
    K = np.asarray(numbers["elbo"], float).shape[1]
    out = _check_claims(numbers, scale)
    out += _decided(numbers, _paper_claims(numbers, src))
    if scale != "full":
        out.append(_full_scale_claim(numbers, src))
    if fig == "fig4":
        out += _realisations_claims(numbers, K)
    return out
