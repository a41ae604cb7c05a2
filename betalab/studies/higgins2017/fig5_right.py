"""Higgins et al. 2017, Fig. 5 (right) and App. A.5: the disentanglement metric against the
normalised β_norm = βM/N, one line per latent size M — an inverted U in β whose optimum grows
with M. Decided at the "gpu" scale from the recorded time-boxed GPU sweep
(``recorded/sweeps/higgins-fig5-right-gpu``: M ∈ {5, 10, 20}, 8 β_norm, 2 replicas, 7,000 steps
per model; :func:`betalab.studies.higgins2017._gpu_sweeps.right_numbers`); at the paper's size
(``sweeps/higgins-fig5-right.toml``) not run, with its cost. Part of the study
``higgins-fig5-table`` (:mod:`betalab.studies.higgins2017.fig5_left`)."""

from __future__ import annotations

import math

import numpy as np

from betalab import claims as C
from betalab.studies.higgins2017._gpu_sweeps import gated, right_where
from betalab.studies.higgins2017._shared import SWEEPS, _sweep_command, sweep_cost

SRC_RIGHT = "Higgins et al. 2017, Fig. 5 (right), App. A.5"


def right_cells(right: dict) -> dict:
    """Fig. 5 (right) in numbers: per latent size M, for each β (ascending) the cell of
    :func:`betalab.sweep.views.higgins_by_beta_norm` (mean of the kept half of the replicas' ×
    classifier seeds' scores) and ``se``: the standard error of the replicas' mean scores
    (their training seeds are the spread that matters; ddof 1)."""
    from betalab.sweep.views import higgins_by_beta_norm

    table = [{"higgins_scores": r["scores"], "seed": r["seed"], "model": "beta-vae",
              "latent_dim": r["latent_dim"], "beta": r["beta"]} for r in right["runs"]]
    cells = higgins_by_beta_norm(table)
    for m, e in cells.items():
        e["se"] = []
        for b in e["beta"]:
            means = [float(np.mean(r["scores"])) for r in right["runs"]
                     if r["latent_dim"] == m and r["beta"] == b]
            e["se"].append(float(np.std(means, ddof=1) / math.sqrt(len(means))) if len(means) > 1
                           else float("nan"))
    return cells


def _optimum(e: dict) -> tuple[int, float, list]:
    """Index of the best cell, the pooled standard error, and the β_norm values whose score is
    within 2 standard errors of the best (the optimum, as resolved)."""
    mean, se = np.asarray(e["mean"]), np.asarray(e["se"])
    pooled = float(np.sqrt(np.nanmean(se ** 2)))
    best = int(np.argmax(mean))
    near = [float(b) for b, v in zip(e["beta_norm"], mean) if v >= mean[best] - 2 * pooled]
    return best, pooled, near


def _inverted_u_claim(cells: dict, where: str):
    shape = {}
    for m, e in cells.items():
        best, pooled, _ = _optimum(e)
        mean = e["mean"]
        shape[m] = {"best_beta_norm": e["beta_norm"][best], "best": round(100 * mean[best], 2),
                    "lowest_beta": round(100 * mean[0], 2), "highest_beta": round(100 * mean[-1], 2),
                    "se": round(100 * pooled, 2)}
        shape[m]["ok"] = bool(0 < best < len(mean) - 1 and mean[best] - mean[0] > 2 * pooled
                              and mean[best] - mean[-1] > 2 * pooled)
    return C.relation(
        f"Fig. 5 (right): for each latent size M the score is an inverted U in β_norm [{where}]",
        SRC_RIGHT, "the best β_norm is inside the grid and beats both ends by > 2 standard errors",
        {str(m): v for m, v in shape.items()}, all(v["ok"] for v in shape.values()),
        kind="paper", scale="gpu",
        note="scores in %: the kept half of each cell's replicas × 3 classifier seeds; se: the "
             "replicas' standard error pooled over the cell's β grid")


def _optimum_grows_claim(cells: dict, where: str):
    near = {m: _optimum(e)[2] for m, e in cells.items()}
    ms = sorted(near)
    ordered = all(max(near[a]) <= min(near[b]) for a, b in zip(ms, ms[1:]))
    grows = ordered and min(near[ms[-1]]) > max(near[ms[0]])
    return C.relation(
        f"Fig. 5 (right): the best normalised β_norm = βM/N grows with the latent size M [{where}]",
        SRC_RIGHT, "the β_norm within 2 standard errors of each M's best are ordered in M and "
                   "strictly higher at the largest M than at the smallest",
        {str(m): [float(f"{b:.3g}") for b in near[m]] for m in ms}, grows, kind="paper",
        scale="gpu", note="per M, the β_norm whose score is within 2 pooled standard errors of "
                          "the best: an unresolved optimum spans several")


def fig5_right_claims(right: dict) -> list:
    """Fig. 5 (right) at the recorded GPU sweep's scale ("gpu"), each compared with what the
    paper states: an inverted U in β for every M; an optimum β_norm that grows with M."""
    steps = sorted({r["steps"] for r in right["runs"]})
    if len(steps) != 1 or not right["runs"]:
        return []
    cells = right_cells(right)
    where = right_where(right)
    out = [_inverted_u_claim(cells, where), _optimum_grows_claim(cells, where)]
    return gated(out, right, "right",
                 would_run=f"{_sweep_command('right')} with the Higgins score recorded at "
                           "25/50/75/100 % of the steps.")


def fig5_right_full_claim(right: dict | None):
    """Fig. 5 (right) at the paper's size: not run (the sweep ``sweeps/higgins-fig5-right.toml``
    and its cost); ``right``, the recorded GPU cut when there is one, says so."""
    return C.not_run(
        "Fig. 5 (right): the best normalised β = βM/N grows with the latent size M, and the "
        "score is an inverted U in β for each M", "Higgins et al. 2017, Fig. 5 (right)",
        "optimal β_norm increasing in M; inverted U", kind="paper", scale="full",
        why="a grid of β × latent sizes of trained models at the full length; run here only "
            "as a time-boxed cut on a lent GPU (the gpu-scale claims)" if right else
            "a grid of β × latent sizes of trained models; its sweep has not been run here "
            "(a GPU job).",
        would_run=f"{_sweep_command('right')} (M ∈ {{5, 10, 20, 50}} × β_norm ∈ {{1e-3 … 1e-1}} "
                  "× 10 seeds), then `betalab sweep plot --db "
                  f"{SWEEPS['right'][1]}` (higgins_vs_beta_norm: the score against β_norm, one "
                  "line per M; betalab.sweep.views.higgins_by_beta_norm).",
        cost=sweep_cost("right"))


def fig5_right_figure(right: dict):
    """Fig. 5 (right): the score against β_norm, one line per M (± 1 standard error over the
    replicas)."""
    import matplotlib.pyplot as plt

    cells = right_cells(right)
    steps = right["runs"][0]["steps"]
    f5, ax = plt.subplots(figsize=(5.6, 3.8), constrained_layout=True)
    for m, e in cells.items():
        ax.errorbar(e["beta_norm"], 100 * np.asarray(e["mean"]), yerr=100 * np.asarray(e["se"]),
                    marker="o", capsize=3, label=f"M = {m}")
    ax.set_xscale("log")
    ax.set_xlabel(r"$\beta_{\mathrm{norm}} = \beta M / N$")
    ax.set_ylabel("disentanglement metric score (%)")
    ax.set_ylim(top=min(ax.get_ylim()[1], 102))
    ax.set_title(f"Fig. 5 (right) [gpu scale: {steps:,} steps per model; ± 1 s.e. over replicas]",
                 fontsize=9)
    ax.legend(title="latents", fontsize=8)
    return f5
