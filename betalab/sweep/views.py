"""The standard views over a sweep database: numbers first (pure functions of the flat table
of :meth:`betalab.results.Results.table`), then the figures drawn from them.

* :func:`metric_by_beta` — per model and β, the mean of a metric over seeds and its standard
  error ``s / sqrt(n)`` (the form of Stühmer et al. 2020, Fig. 5a);
* :func:`representative_runs` — Stühmer et al. 2020, App. A.5: among a model's runs in the
  upper 50% quantile of MIG, the run whose (MIG, reconstruction) pair has the smallest
  Mahalanobis distance to the mean of that upper half;
* figures: metric vs β with error bars per model, metric vs reconstruction scatter
  (Fig. 5b's form), and per-setting strip plots that show bimodal settings.
"""

from __future__ import annotations

__all__ = ["RECONSTRUCTION", "metric_by_beta", "representative_run",
           "representative_runs", "plot_metric_vs_beta",
           "plot_metric_vs_reconstruction", "plot_strips", "write_figures"]

import numpy as np

RECONSTRUCTION = "heldout_log_px_z"


def _settings(table, key="beta"):
    models = sorted({r["model"] for r in table})
    return models, sorted({r[key] for r in table})


def metric_by_beta(table: list[dict], metric: str) -> dict:
    """``{model: {"beta": [...], "mean": [...], "se": [...], "n": [...]}}`` over finite values;
    se is NaN for a single seed."""
    if table and metric not in table[0]:
        raise ValueError(f"metric {metric!r} is not in the table; known: {sorted(table[0])}")
    out = {}
    for model in sorted({r["model"] for r in table}):
        rows = [r for r in table if r["model"] == model]
        betas = sorted({r["beta"] for r in rows})
        entry = {"beta": [], "mean": [], "se": [], "n": []}
        for b in betas:
            v = np.array([r[metric] for r in rows if r["beta"] == b and r[metric] is not None], float)
            v = v[np.isfinite(v)]
            entry["beta"].append(b)
            entry["n"].append(int(v.size))
            entry["mean"].append(float(v.mean()) if v.size else float("nan"))
            entry["se"].append(float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan"))
        out[model] = entry
    return out


def representative_run(rows: list[dict], metric: str = "mig_histogram",
                       reconstruction: str = RECONSTRUCTION) -> dict | None:
    """Stühmer et al. 2020, App. A.5 on ``rows`` (the runs of one model): keep the runs with
    ``metric`` >= its median, and return the one minimising the Mahalanobis distance of
    (metric, reconstruction) to their mean (covariance of that upper half, pseudo-inverse when
    singular). None for no runs."""
    pts = [(r, r[metric], r[reconstruction]) for r in rows
           if r.get(metric) is not None and r.get(reconstruction) is not None
           and np.isfinite(r[metric]) and np.isfinite(r[reconstruction])]
    if not pts:
        return None
    m = np.array([p[1] for p in pts])
    upper = [p for p in pts if p[1] >= np.quantile(m, 0.5)]
    x = np.array([[p[1], p[2]] for p in upper], float)
    d = x - x.mean(0)
    cov = np.cov(x.T) if len(x) > 1 else np.zeros((2, 2))
    dist2 = np.einsum("ij,jk,ik->i", d, np.linalg.pinv(np.atleast_2d(cov)), d)
    return upper[int(np.argmin(dist2))][0]


def representative_runs(table: list[dict], metric: str = "mig_histogram",
                        reconstruction: str = RECONSTRUCTION) -> dict:
    """``{model: run}``: :func:`representative_run` of each model's runs."""
    return {m: representative_run([r for r in table if r["model"] == m], metric, reconstruction)
            for m in sorted({r["model"] for r in table})}


# ------------------------------------------------------------------------------- figures
def plot_metric_vs_beta(table, metric, ax=None):
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(5, 3.5))[1]
    for model, e in metric_by_beta(table, metric).items():
        ax.errorbar(e["beta"], e["mean"], yerr=np.nan_to_num(e["se"]), marker="o", capsize=3, label=model)
    ax.set_xlabel("β")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} vs β (mean ± s.e. over seeds)")
    ax.legend(fontsize=8)
    return ax


def plot_metric_vs_reconstruction(table, metric, ax=None):
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(5, 3.5))[1]
    reps = representative_runs(table, metric)
    for model in sorted({r["model"] for r in table}):
        rows = [r for r in table if r["model"] == model]
        pts = ax.scatter([r[RECONSTRUCTION] for r in rows], [r[metric] for r in rows], s=14, label=model)
        if reps.get(model) is not None:
            ax.scatter([reps[model][RECONSTRUCTION]], [reps[model][metric]], s=90, marker="*",
                       color=pts.get_facecolor()[0], edgecolor="k")
    ax.set_xlabel("held-out E_q log p(x|z) (nats)")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} vs reconstruction (★ App. A.5 representative)")
    ax.legend(fontsize=8)
    return ax


def plot_strips(table, metric, ax=None):
    import matplotlib.pyplot as plt

    models, betas = _settings(table)
    ax = ax or plt.subplots(figsize=(max(5, 0.6 * len(models) * len(betas)), 3.5))[1]
    rng = np.random.default_rng(0)                      # jitter only, fixed for identical files
    labels = []
    for i, (model, b) in enumerate((m, b) for m in models for b in betas):
        v = [r[metric] for r in table if r["model"] == model and r["beta"] == b]
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(v)), v, s=12)
        labels.append(f"{model}\nβ={b:g}")
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} per setting (one dot per seed)")
    return ax


def write_figures(table: list[dict], out_dir, metrics=("mig_histogram", "mig_sampled",
                                                       "beta_vae_score", "factor_vae_score")) -> list:
    """Every standard figure of ``table`` under ``out_dir`` (png + pdf, atomically)."""
    import matplotlib.pyplot as plt

    from betalab import io

    if not table:
        raise ValueError("no finished runs to plot")
    paths = []
    for metric in metrics:
        for name, fn in (("vs_beta", plot_metric_vs_beta), ("vs_reconstruction", plot_metric_vs_reconstruction),
                         ("strips", plot_strips)):
            ax = fn(table, metric)
            paths += io.save_figure(ax.figure, f"{out_dir}/{metric}_{name}")
            plt.close(ax.figure)
    return paths
