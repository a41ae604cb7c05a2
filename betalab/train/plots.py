"""The figures of a ``betalab train`` run: its learning curves (``curves.png``) and, for a
dSprites run, its latent traversals (``traversals.png``); ``betalab plot RUN [--traversal]``
redraws them. Figures are written through :func:`betalab.io.save_figure` only."""

from __future__ import annotations

import json
from pathlib import Path

from betalab import io
from betalab.train.config import training_images
from betalab.train.rundir import load_run, read_log

__all__ = ["curves_figure", "plot_run", "plot_traversals"]


def curves_figure(records: list[dict], title: str):
    """Every logged term of ``records`` (``metrics.jsonl`` lines) against the step, one panel
    per term; over 100 steps a running mean over 1% of the run is drawn on the raw values."""
    import matplotlib.pyplot as plt
    import numpy as np

    keys = [k for k in records[0] if k != "step" and isinstance(records[0][k], (int, float))]
    steps = np.array([r["step"] for r in records])
    ncol = min(3, len(keys))
    nrow = -(-len(keys) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.8 * nrow), squeeze=False)
    width = max(1, len(records) // 100)
    for ax, k in zip(axes.flat, keys):
        y = np.array([r.get(k, np.nan) for r in records], dtype=float)
        ax.plot(steps, y, lw=0.6, color="0.7" if width > 1 else "C0")
        if width > 1:
            ax.plot(steps[width - 1:], np.convolve(y, np.ones(width) / width, mode="valid"),
                    lw=1.2, color="C0")
        ax.set_title(k)
        ax.set_xlabel("step")
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    fig.suptitle(f"{title} ({len(records)} steps)")
    fig.tight_layout()
    return fig


def plot_run(run) -> Path:
    """Write ``curves.png`` (:func:`curves_figure`) into the run directory ``run``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    run = Path(run)
    records = read_log(run / "metrics.jsonl")
    if not records:
        raise ValueError(f"{run}: no logged step to plot (metrics.jsonl is empty or missing)")
    title = run.name
    try:
        cfg = json.loads((run / "config.json").read_text())
        title = f"{run.name}: {cfg['model']}, β = {cfg['beta']:g}, {cfg['dataset']}"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    fig = curves_figure(records, title)
    io.save_figure(fig, run / "curves", formats=("png",))
    plt.close(fig)
    return run / "curves.png"


def plot_traversals(run, n_images: int = 2048) -> Path:
    """Write ``traversals.png`` into the dSprites run directory ``run``: its trained model's
    latents sorted by KL (against N(0, I), from the posterior means and variances of
    ``n_images`` images spread over the grid), each varied over [−3, 3] around one image's code
    (Higgins et al. 2017, Fig. 6A; :func:`betalab.plot.traversal_figure`), with the
    number of active latents (KL > 0.1 nats) in the title."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np

    from betalab.plot import traversal_figure
    from deep.metrics import encode_dataset
    from deep.traversal import kl_per_latent

    run = Path(run)
    model, config = load_run(run)
    if config.dataset not in ("dsprites", "dsprites-reduced"):
        raise ValueError(f"run: traversals are drawn for dSprites runs, got {config.dataset!r}")
    data = training_images(config.dataset, config.seed)
    rows = np.linspace(0, len(data) - 1, min(n_images, len(data))).round().astype(int)
    mu, lv, _ = encode_dataset(model, data, indices=rows)
    kl = kl_per_latent(mu, lv)
    active = int((kl > 0.1).sum())
    fig = traversal_figure(model, data, mu, kl, f"{run.name}: {config.model}, β = {config.beta:g}, "
                           f"{active} of {kl.size} latents active (KL > 0.1 nats)")
    io.save_figure(fig, run / "traversals", formats=("png",))
    plt.close(fig)
    return run / "traversals.png"
