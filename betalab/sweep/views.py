"""The standard views over a sweep database: numbers first (pure functions of the flat table
of :meth:`betalab.results.Results.table`), then the figures drawn from them.

* :func:`metric_by_beta` — per model and β, the mean of a metric over seeds and its standard
  error ``s / sqrt(n)`` (the form of Stühmer et al. 2020, Fig. 5a);
* :func:`representative_runs` — Stühmer et al. 2020, App. A.5: among a model's runs in the
  upper 50% quantile of MIG, the run whose (MIG, reconstruction) pair has the smallest
  Mahalanobis distance to the mean of that upper half;
* :func:`higgins_cell` — Higgins et al. 2017, App. A.4: the ``higgins_scores`` of one
  (model, latent size, β) cell's replicas (seeds) pooled, the bottom 50% discarded
  (10 replicas × 3 classifier seeds = 30 scores → the top 15); :func:`higgins_by_beta_norm`
  — that score per latent size M against β_norm = βM/N (sec. 4.2, App. A.5; N = 4096);
* :func:`trace_by_beta` — a metric along training (``[eval] along``) of each (model, β) cell's
  replicas, in the trace format of :func:`betalab.claims.convergence` (steps × seeds);
* figures: metric vs β with error bars per model, metric vs reconstruction scatter
  (Fig. 5b's form), per-setting strip plots that show bimodal settings, and the Higgins score
  against β_norm with one line per latent size (Higgins et al. 2017, Fig. 5 right's form).

:func:`higgins_cell` and :func:`higgins_by_beta_norm` need the list-valued metric
``higgins_scores``: read the table with ``Results.table(lists=True)``; :func:`trace_by_beta`
needs each run's ``along`` (a dict, left out of any table): pass ``Results.runs("done")``.
"""

from __future__ import annotations

__all__ = ["RECONSTRUCTION", "metric_by_beta", "representative_run",
           "representative_runs", "higgins_cell", "higgins_by_beta_norm", "trace_by_beta",
           "plot_metric_vs_beta",
           "plot_metric_vs_reconstruction", "plot_strips", "plot_higgins_vs_beta_norm",
           "write_figures"]

import numpy as np

from betalab.sweep.spec import INPUT_SIZE

RECONSTRUCTION = "heldout_log_px_z"
#: what makes one cell of Higgins et al. 2017's protocol: its replicas differ in the seed only
_CELL = ("model", "latent_dim", "beta")


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


def _higgins_rows(rows, what):
    rows = list(rows)
    for r in rows:
        if not isinstance(r, dict):
            raise TypeError(f"{what}: each row must be a dict (a Results.table(lists=True) row)")
        if "higgins_scores" not in r:
            raise ValueError(f"{what}: run {r.get('run_id')!r} has no higgins_scores (a sweep with "
                             "[eval] higgins = true, read with Results.table(lists=True))")
    return rows


def higgins_cell(rows: list[dict]) -> dict:
    """Higgins et al. 2017, App. A.4 on one cell: the ``higgins_scores`` (3 classifier seeds
    each) of ``rows``, the replicas of one (model, latent_dim, β) trained with different seeds,
    pooled and passed to :func:`deep.metrics.classifier_scores.higgins_protocol` (bottom 50%
    discarded: 10 replicas × 3 = 30 scores → the top 15).

    Returns ``mean``, ``std`` (of the kept scores), ``kept``, ``n`` (scores pooled),
    ``replicas`` (runs), the cell's ``model``, ``latent_dim``, ``beta`` and
    ``beta_norm`` = βM/N (App. A.5, N = :data:`betalab.sweep.spec.INPUT_SIZE`).
    ValueError for no rows, rows of different cells, or a run without higgins_scores."""
    from deep.metrics.classifier_scores import higgins_protocol

    rows = _higgins_rows(rows, "rows")
    if not rows:
        raise ValueError("rows: no runs in the cell")
    cells = {tuple(r.get(k) for k in _CELL) for r in rows}
    if len(cells) != 1:
        raise ValueError(f"rows: runs of one (model, latent_dim, beta) cell expected, got {sorted(cells, key=str)}")
    seeds = [r.get("seed") for r in rows]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"rows: each replica once (distinct seeds), got seeds {seeds}")
    p = higgins_protocol([s for r in rows for s in r["higgins_scores"]])
    model, m, beta = next(iter(cells))
    return {"mean": p["mean"], "std": p["std"], "kept": p["kept"], "n": p["n"],
            "replicas": len(rows), "model": model, "latent_dim": m, "beta": beta,
            "beta_norm": beta * m / INPUT_SIZE}


def higgins_by_beta_norm(table: list[dict], model: str = "beta-vae") -> dict:
    """Higgins et al. 2017, Fig. 5 (right) in numbers: ``{M: {"beta": [...], "beta_norm": [...],
    "mean": [...], "std": [...], "n": [...]}}`` — per latent size M of ``model``'s runs, each β's
    :func:`higgins_cell`, ordered by β."""
    rows = [r for r in _higgins_rows(table, "table") if r.get("model") == model]
    out = {}
    for m in sorted({r["latent_dim"] for r in rows}):
        entry = {"beta": [], "beta_norm": [], "mean": [], "std": [], "n": []}
        for b in sorted({r["beta"] for r in rows if r["latent_dim"] == m}):
            c = higgins_cell([r for r in rows if r["latent_dim"] == m and r["beta"] == b])
            for k in entry:
                entry[k].append(c[k])
        out[m] = entry
    return out


#: what the replicas of one cell traced along training share (their seeds differ)
_TRACE_CELL = ("model", "latent_dim", "beta", "gamma", "alpha")


def _flat(row: dict) -> dict:
    """A row of ``Results.runs()`` (config and metrics apart) as one flat dict; a flat row as is."""
    if isinstance(row, dict) and isinstance(row.get("config"), dict):
        return {**row["config"], **(row.get("metrics") or {}), "run_id": row.get("run_id")}
    if not isinstance(row, dict):
        raise TypeError(f"rows: each row must be a dict, got {type(row).__name__}")
    return row


def _cell_label(cell: tuple, varies: set) -> str:
    model, m, beta, gamma, alpha = cell
    label = f"{model}, {'γ' if model == 'factor-vae' else 'β'} = {beta:g}"
    for key, name, v in (("latent_dim", "M", m), ("gamma", "γ", gamma), ("alpha", "α", alpha)):
        if key in varies and v is not None and not (key == "gamma" and model == "factor-vae"):
            label += f", {name} = {v:g}"
    return label


def trace_by_beta(rows: list[dict], metric: str, *, model: str | None = None,
                  beta: float | None = None, **where) -> dict:
    """``metric`` along training of the replicas (seeds) of each cell among ``rows``, in the
    trace format of :func:`betalab.claims.convergence`: ``{"statistic": metric, "steps":
    [s_1 < … < s_K], "values": V, "seeds": …}``.

    ``rows``: runs of a sweep with ``[eval] along`` — ``Results.runs("done")`` (each run's
    ``metrics["along"]``), or flat dicts with an ``along`` key — kept when they match ``model``,
    ``beta`` and ``where`` (any other config key, e.g. ``latent_dim=10``), each left out when
    None. A cell is one (model, latent_dim, β, γ, α); its replicas are its runs, ordered by seed.
    One cell: ``V`` of shape (K, n_seeds), ``seeds`` the list of its seeds. Several cells: ``V``
    is ``{label: (K, n_seeds)}`` (labels such as ``"beta-vae, β = 4"``, with M, γ or α where they
    vary), the labelled traces :func:`betalab.claims.convergence` converges only when each does;
    ``seeds`` is ``{label: [...]}``. A value stored as None reads NaN (which the convergence rule
    refuses).

    ValueError naming the problem: no run matches; a run without ``along`` (its sweep evaluated
    only at the end) or without ``metric`` in it; runs evaluated at different steps (a trace has
    one step axis); a replica twice in a cell."""
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a str, got {type(metric).__name__}")
    want = {k: v for k, v in {"model": model, "beta": beta, **where}.items() if v is not None}
    chosen = [r for r in map(_flat, rows) if all(r.get(k) == v for k, v in want.items())]
    if not chosen:
        raise ValueError(f"rows: no run with {want or 'any settings'}")
    for r in chosen:
        along = r.get("along")
        if not isinstance(along, dict) or "steps" not in along:
            raise ValueError(f"run {r.get('run_id')!r} has no record along training ('along': its "
                             "sweep had no [eval] along, or the rows are a Results.table(), which "
                             "leaves it out; pass Results.runs('done'))")
        if metric not in along:
            known = sorted(k for k in along if k != "steps")
            raise ValueError(f"metric {metric!r} is not recorded along training in run "
                             f"{r.get('run_id')!r}; known: {known}")
        if len(along[metric]) != len(along["steps"]):
            raise ValueError(f"run {r.get('run_id')!r}: {len(along[metric])} values of {metric!r} "
                             f"along training for {len(along['steps'])} steps")
    steps = list(chosen[0]["along"]["steps"])
    for r in chosen[1:]:
        if list(r["along"]["steps"]) != steps:
            raise ValueError(f"the replicas' steps differ: run {chosen[0].get('run_id')!r} was "
                             f"evaluated along training at steps {steps}, run {r.get('run_id')!r} "
                             f"at {list(r['along']['steps'])}; a trace has one step axis")
    cells: dict[tuple, list] = {}
    for r in chosen:
        cells.setdefault(tuple(r.get(k) for k in _TRACE_CELL), []).append(r)
    varies = {k for i, k in enumerate(_TRACE_CELL) if len({c[i] for c in cells}) > 1}
    values, seeds = {}, {}
    for cell in sorted(cells, key=lambda c: [(v is None, "" if v is None else v) for v in c]):
        reps = sorted(cells[cell], key=lambda r: r.get("seed"))
        got = [r.get("seed") for r in reps]
        label = _cell_label(cell, varies)
        if len(set(got)) != len(got):
            raise ValueError(f"rows: each replica once per cell (distinct seeds); {label} has "
                             f"seeds {got}")
        v = np.array([[np.nan if x is None else float(x) for x in r["along"][metric]]
                      for r in reps], dtype=float).T                      # (K, n_seeds)
        values[label], seeds[label] = v.tolist(), got
    if len(values) == 1:
        (label,) = values
        return {"statistic": metric, "steps": steps, "values": values[label], "seeds": seeds[label]}
    return {"statistic": metric, "steps": steps, "values": values, "seeds": seeds}


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


def plot_higgins_vs_beta_norm(table, model="beta-vae", ax=None):
    """Higgins et al. 2017, Fig. 5 (right)'s form: the metric (App. A.4 protocol, %) against
    β_norm = βM/N on a log axis, one line per latent size M; error bars: the std of the kept
    scores (the paper's "±", Fig. 5 left)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(5.5, 3.8))[1]
    for m, e in higgins_by_beta_norm(table, model).items():
        ax.errorbar(e["beta_norm"], 100 * np.asarray(e["mean"]), yerr=100 * np.asarray(e["std"]),
                    marker="o", capsize=3, label=f"M = {m}")
    ax.set_xscale("log")
    ax.axhline(25, color="k", lw=0.8, ls=":", label="chance (4 factors)")
    ax.set_xlabel(f"β_norm = βM/N (N = {INPUT_SIZE})")
    ax.set_ylabel("disentanglement metric (%)")
    ax.set_title(f"{model}: Higgins metric vs normalised β (top half of replicas × 3 seeds)",
                 fontsize=9)
    ax.legend(fontsize=8)
    return ax


def write_figures(table: list[dict], out_dir, metrics=("mig_histogram", "mig_sampled",
                                                       "beta_vae_score", "factor_vae_score")) -> list:
    """Every standard figure of ``table`` under ``out_dir`` (png + pdf, atomically); when its
    rows carry ``higgins_scores`` (``Results.table(lists=True)`` of a sweep with ``[eval]
    higgins``), also the Higgins score against β_norm of each model
    (``higgins_vs_beta_norm_<model>``)."""
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
    for model in sorted({r["model"] for r in table if "higgins_scores" in r}):
        ax = plot_higgins_vs_beta_norm([r for r in table if "higgins_scores" in r], model)
        paths += io.save_figure(ax.figure, f"{out_dir}/higgins_vs_beta_norm_{model}")
        plt.close(ax.figure)
    return paths
