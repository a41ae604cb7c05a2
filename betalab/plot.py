"""Figures shared by the studies, the command line and the notebooks (plotting only; the
numbers come from the pure functions of ``theory``, ``linear_models`` and ``deep``)."""

from __future__ import annotations

__all__ = ["traversal_grid"]

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
