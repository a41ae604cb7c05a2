"""Figures shared by the studies, the command line and the notebooks (plotting only; the
numbers come from the pure functions of ``theory``, ``linear_models`` and ``deep``)."""

from __future__ import annotations

__all__ = ["traversal_grid", "SHAPE_COLOURS", "convergence_decision", "along_figure",
           "shade_last_quarter", "traversal_figure", "latent_factor_figure"]

import textwrap

import numpy as np


def traversal_grid(images, values, row_labels, title: str, *, vmin=0.0, vmax=1.0,
                   cmap: str = "gray", fontsize: int = 7):
    """A grid of decoded images, one row per traversed latent, one column per value:
    ``images`` (rows, len(values), H, W) as :func:`deep.traversal.latent_traversal` returns it
    (several traversals stacked along the rows are drawn the same way), ``row_labels`` one
    per row, the values under the last row. ``vmin=None`` scales each image on its own."""
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    vals = np.asarray(values, dtype=float)
    if images.ndim != 4 or images.shape[1] != vals.size:
        raise ValueError(f"images must be (rows, {vals.size}, H, W), got shape {images.shape}")
    if len(row_labels) != images.shape[0]:
        raise ValueError(f"row_labels: {len(row_labels)} labels for {images.shape[0]} rows")
    rows, cols = images.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(max(cols * 0.9, 8.5), rows * 0.95 + 0.6),
                             squeeze=False, layout="constrained")
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            ax.imshow(images[r, c], cmap=cmap, vmin=vmin, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(row_labels[r], fontsize=fontsize)
            if r == rows - 1:
                ax.set_xlabel(f"{vals[c]:+.1f}", fontsize=fontsize)
    fig.suptitle(title, fontsize=9)
    return fig


SHAPE_COLOURS = {0: ("square", "tab:green"), 1: ("ellipse", "tab:red"), 2: ("heart", "tab:blue")}



def convergence_decision(trace: dict) -> str:
    """The convergence rule's decision on ``trace`` (:func:`betalab.claims.convergence`), in a
    line for a figure's title."""
    from betalab.claims import convergence

    rec = convergence(trace)
    parts = rec.get("traces", {"": rec})
    per = "; ".join(f"{k + ': ' if k else ''}moved {r['moved']:.2g} "
                    f"{'<' if r['converged'] else '≥'} s.e. {r['se']:.2g}" for k, r in parts.items())
    verdict = "converged" if rec["converged"] else "not converged"
    return textwrap.fill(f"{verdict} (last quarter: {per})", 100)



def along_figure(trace: dict, ylabel: str, title: str, scale: str, line=None):
    """The deciding statistic along training: the mean over seeds ± 1 s.e. of each labelled
    trace of ``trace`` (``values``: {label: (K, n_seeds)}, as :func:`betalab.claims.convergence`
    reads it) against the step, the convergence decision in the title; ``line`` a reference
    value drawn dashed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    steps = np.asarray(trace["steps"], float)
    for label, v in trace["values"].items():
        v = np.asarray(v, float)
        mean = v.mean(1)
        se = v.std(1, ddof=1) / np.sqrt(v.shape[1]) if v.shape[1] > 1 else np.zeros_like(mean)
        ax.errorbar(steps, mean, yerr=se, marker="o", ms=3, capsize=2,
                    label=f"{label} ({v.shape[1]} seed{'s' if v.shape[1] > 1 else ''})")
    if line is not None:
        ax.axhline(line, color="k", ls="--", lw=0.8)
    shade_last_quarter(ax, steps)
    ax.set_xlabel("training step (shaded: the last quarter the convergence rule reads)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(f"{title}, scale {scale}\n{convergence_decision(trace)}", fontsize=8)
    return fig



def shade_last_quarter(ax, steps) -> None:
    """Shade the steps :func:`betalab.claims.convergence` reads as the last quarter (from the
    first point at or after 75 % of the steps to the end)."""
    start = min(int(np.searchsorted(steps, 0.75 * steps[-1])), steps.size - 2)
    ax.axvspan(steps[start], steps[-1], color="grey", alpha=0.12, lw=0)



def traversal_figure(model, dataset, mu, kl, title, n_steps=9, limit=3.0, ref_index=None,
                     n_latents=None):
    """Decoded images of one reference code with one latent varied over [-limit, limit]
    (Higgins et al. 2017, Fig. 6A bottom rows; Stühmer et al. 2020, App. A.5); the
    ``n_latents`` latents of highest KL (default all). The images are
    :func:`deep.traversal.latent_traversal`'s, drawn by :func:`betalab.plot.traversal_grid`."""
    import torch

    from deep.traversal import latent_traversal

    order = [int(j) for j in np.argsort(kl)[::-1][: n_latents or len(kl)]]
    ref = mu[len(mu) // 2 if ref_index is None else ref_index]
    vals = np.linspace(-limit, limit, n_steps)
    p = next(model.parameters())
    imgs = latent_traversal(model.mean_image, torch.as_tensor(ref).to(p), order, vals)
    imgs = imgs.reshape(len(order), n_steps, 64, 64)
    return traversal_grid(imgs, vals, [f"z{j}\nKL {kl[j]:.2f}" for j in order], title)



def latent_factor_figure(mu, f, kl, values, title, n_latents=None):
    """Mean latent activation against position (heat map), scale and orientation, one line
    per shape (Higgins et al. 2017, Fig. 6A; Stühmer et al. 2020, App. A.5, Figs 8-15)."""
    import matplotlib.pyplot as plt

    order = np.argsort(kl)[::-1][: n_latents or mu.shape[1]]
    sizes = f.max(0) + 1
    fig, axes = plt.subplots(len(order), 3, figsize=(8.5, 1.6 * len(order) + 0.4), squeeze=False,
                             layout="constrained")
    lim = max(1e-6, np.abs(mu[:, order]).max())
    for r, j in enumerate(order):
        grid = np.zeros((sizes[4], sizes[3]))
        np.add.at(grid, (f[:, 4], f[:, 3]), mu[:, j])
        grid /= len(mu) / (sizes[3] * sizes[4])
        ax = axes[r, 0]
        ax.imshow(grid, cmap="RdBu_r", vmin=-lim, vmax=lim, origin="upper")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(f"z{j} (KL {kl[j]:.2f})", fontsize=7)
        for col, (k, name) in enumerate(((1, "scale"), (2, "orientation")), start=1):
            ax = axes[r, col]
            for s, (sname, colour) in SHAPE_COLOURS.items():
                m = np.array([mu[(f[:, 0] == s) & (f[:, k] == v), j].mean() for v in range(sizes[k])])
                ax.plot(values[name], m, color=colour, lw=1.2, label=sname)
            ax.set_ylim(-lim, lim)
            ax.tick_params(labelsize=6)
            if r == 0:
                ax.set_title(f"mean z vs {name}", fontsize=8)
    axes[0, 0].set_title("mean z vs position (x, y)", fontsize=8)
    axes[0, 2].legend(fontsize=6, loc="upper right")
    fig.suptitle(title, fontsize=9)
    return fig

