"""Sikka 2020, Results, Figs 4–5: the figures the two deep studies share — the curves A–D
against β (ELBO, TIE, reconstruction, CI loss; mean over initialisations with min and max) and
the deciding statistics along training. Fig 5E's traversals are drawn in
:mod:`betalab.studies.sikka2020.fig5_placed_digit`.
"""

from __future__ import annotations

import numpy as np

from betalab import claims as C
from betalab.studies.sikka2020._deep import TRAVERSAL_BETAS


def curves_figure(numbers: dict):
    """Figs 4/5 A–D: ELBO, TIE, reconstruction, CI loss against β; solid = mean over
    initialisations, dashed = min and max, vertical dashed = the extremum."""
    import matplotlib.pyplot as plt

    betas = np.asarray(numbers["betas"], float)
    fno = numbers["fig"][-1]
    panels = (("elbo", "(A) ELBO", np.nanargmax), ("tie", "(B) TIE, latents matched", np.nanargmin),
              ("rec", r"(C) reconstruction $E_q\log p(x|z)$", None),
              ("kl", r"(D) CI loss KL$(q(z|x)\|p(z))$", None))
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), sharex=True)
    for ax, (key, title, ext) in zip(axes.ravel(), panels):
        v = np.asarray(numbers[key], float)
        m = np.nanmean(v, axis=1)
        ax.plot(betas, m, "-o", ms=3, color="C0")
        ax.plot(betas, np.nanmin(v, axis=1), "--", color="C0", lw=0.8)
        ax.plot(betas, np.nanmax(v, axis=1), "--", color="C0", lw=0.8)
        if ext is not None:
            ax.axvline(betas[ext(m)], ls="--", color="k", lw=0.8)
        ax.set(xscale="log", title=title, ylabel="nats per image")
        ax.grid(alpha=0.3)
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    ticks = [b for b in (0.25, 0.5, 1, 2, 4, 8) if betas.min() <= b <= betas.max()] or [1]
    for ax in axes.ravel():
        # a few labelled β values; no labels on the minor ticks (they overlap on a log axis)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    for ax in axes[1]:
        ax.set_xlabel(r"$\beta$")
    sc = numbers["settings"]
    fig.suptitle(f"Sikka 2020, Fig {fno} ({numbers['scale']} scale): {sc['members']} "
                 f"initialisations per β; digits: scikit-learn 8×8 for MNIST", fontsize=9)
    fig.tight_layout()
    return fig


def _decision(trace: dict) -> str:
    """The convergence rule's decision on ``trace`` in a few words, for a panel title: the
    labelled traces that have not levelled off, if any."""
    rec = C.convergence(trace)
    if rec["converged"]:
        return "converged"
    late = [k for k, r in rec.get("traces", {}).items() if not r["converged"]]
    return "not converged" + (f" ({len(late)} of {len(rec['traces'])} steps still move)"
                              if late else f" (moved {rec['moved']:.2g} ≥ s.e. {rec['se']:.2g})")


def along_figure(numbers: dict):
    """The deciding statistics along training: per curve (ELBO, TIE, reconstruction, CI loss)
    the curve against β at each evaluation step, drawn relative to β = 1 (q(β) − q(1) per
    initialisation: mean ± paired s.e., the differences the claims are decided on), and for
    Fig 5 the smaller ``|corr|`` with the axes at β = 4 against the step (mean ± s.e.); each panel's
    title says whether its convergence record
    (:func:`~betalab.studies.sikka2020._deep.convergence_traces`) levelled off."""
    import matplotlib.pyplot as plt

    betas = np.asarray(numbers["betas"], float)
    steps, traces = numbers["along_steps"], numbers["convergence"]
    i1 = int(np.flatnonzero(betas == 1.0)[0])
    panels = (("elbo", "(A) ELBO"), ("tie", "(B) TIE"), ("rec", r"(C) $E_q\log p(x|z)$"),
              ("kl", "(D) CI loss"))
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    fig5 = "corr_p" in traces
    fig, grid = plt.subplots(2, 3 if fig5 else 2, figsize=(13 if fig5 else 9, 6.6),
                             constrained_layout=True)
    axes = grid.ravel()
    if fig5:
        axes[5].set_axis_off()
    ticks = [b for b in (0.25, 0.5, 1, 2, 4, 8) if betas.min() <= b <= betas.max()] or [1]
    colours = plt.cm.viridis(np.linspace(0.15, 0.85, len(steps)))
    for ax, (key, title) in zip(axes, panels):
        v = np.asarray(numbers[f"{key}_along"], float)                  # (n_β, K, members)
        d = v - v[i1]
        for k, (st, c) in enumerate(zip(steps, colours)):
            dk = d[:, k]
            n = np.sum(np.isfinite(dk), axis=1)
            se = np.nanstd(dk, axis=1, ddof=1) / np.sqrt(np.maximum(n, 1))
            ax.errorbar(betas, np.nanmean(dk, axis=1), yerr=se, color=c, marker="o", ms=2.5,
                        capsize=2, lw=1, label=f"step {st:,}")
        ax.axhline(0.0, color="k", lw=0.6, ls=":")
        ax.set(xscale="log", xlabel=r"$\beta$", ylabel="q(β) − q(1), nats per image")
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f"{title}: {_decision(traces[key])}", fontsize=8)
    axes[0].legend(fontsize=7)
    if fig5:
        ax = axes[4]
        w = np.asarray(traces["corr_p"]["values"], float)                # (K, members)
        ax.errorbar(steps, w.mean(1), yerr=w.std(1, ddof=1) / np.sqrt(w.shape[1]), marker="o",
                    ms=3, capsize=2)
        ax.axhline(0.9, color="k", lw=0.6, ls="--")
        ax.set(xlabel="training step", ylabel="smaller |corr| with the axes")
        ax.set_title(f"(E) β = {TRAVERSAL_BETAS[1]:g}: {_decision(traces['corr_p'])}", fontsize=8)
    sc = numbers["settings"]
    fig.suptitle(f"Sikka 2020, Fig {numbers['fig'][-1]} along training ({numbers['scale']} scale, "
                 f"{sc['members']} initialisations; mean ± paired s.e.)\na claim is decided only "
                 "where its curve's neighbouring differences levelled off", fontsize=9)
    return fig


def curve_figures(numbers: dict) -> dict:
    """The figures of ``sikka-fig4`` / ``sikka-fig5`` drawn from their numbers: ``fig<n>`` (the
    curves) and, with a record along training, ``fig<n>_along``."""
    fno = numbers["fig"][-1]
    figures = {f"fig{fno}": curves_figure(numbers)}
    if numbers.get("convergence"):
        figures[f"fig{fno}_along"] = along_figure(numbers)
    return figures
