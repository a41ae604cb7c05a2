"""Stühmer et al. 2020 (ISA-VAE), the recorded learning curves that set the cpu protocols' lengths
of sec. 4.1 (Fig. 5b) and App. A.2 (Fig. 7): whether a protocol's length is one from which a
curve has levelled off (:func:`levelled_from`), the check claim that says so
(:func:`curve_claim`) and the curves' figure (:func:`curve_figure`)."""

from __future__ import annotations

import numpy as np

from betalab import claims as C


def levelled_from(lengths: list[dict], protocol_steps: int) -> bool:
    """Whether a protocol of ``protocol_steps`` is supported by a learning curve's record
    (:func:`betalab.claims.converged_lengths`): the rule holds at that length and at every longer
    length the curve tests (a rule that flips back to "moving" later does not support it)."""
    rec = {r["length"]: r["converged"] for r in lengths}
    return protocol_steps in rec and all(ok for L, ok in rec.items() if L >= protocol_steps)


def curve_claim(statement: str, src: str, cells: dict, protocol_steps: int, source: str):
    """Check claim: ``protocol_steps`` is a length from which every cell's recorded learning curve
    has levelled off (:func:`levelled_from`). ``cells``: label -> the curve's ``lengths``."""
    return C.relation(
        statement, src,
        "the convergence rule holds on the curve's points at 25/50/75/100 % of the protocol's "
        "length and of every longer length the curve tests",
        {label: {f"{r['length']:,} steps": {"moved": round(r["moved"], 4), "s.e.": round(r["se"], 4),
                                            "levelled off": r["converged"]} for r in lengths}
         for label, lengths in cells.items()},
        all(levelled_from(lengths, protocol_steps) for lengths in cells.values()),
        tolerance="the rule's own (betalab.claims.convergence): the seed mean moves less over "
                  "the last quarter than its standard error at the end",
        kind="check", scale="cpu",
        note=f"read from {source} by betalab.claims.converged_lengths: a run of L steps is the "
             "long run stopped at L (constant learning rate, the same data order).")


def curve_figure(cells: dict, ylabel: str, title: str):
    """Learning curves, one panel per cell (label -> {"trace": {steps, values (K, seeds)},
    "lengths"}): each seed and the mean ± s.e. against the step, each testable length marked with
    the convergence rule's decision."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(cells), figsize=(6.4 * len(cells), 3.8), squeeze=False,
                             constrained_layout=True)
    for ax, (label, cell) in zip(axes[0], cells.items()):
        steps = np.asarray(cell["trace"]["steps"], float)
        v = np.asarray(cell["trace"]["values"], float)
        for j in range(v.shape[1]):
            ax.plot(steps, v[:, j], color="grey", lw=0.8, alpha=0.7,
                    label="seeds" if j == 0 else None)
        ax.errorbar(steps, v.mean(1), yerr=v.std(1, ddof=1) / np.sqrt(v.shape[1]), color="k",
                    marker="o", ms=3, capsize=2, label="mean ± s.e.")
        for r in cell["lengths"]:
            ax.axvline(r["length"], color="tab:green" if r["converged"] else "tab:red", ls=":",
                       lw=1)
            ax.annotate(f"{r['length']:,}: {'levelled' if r['converged'] else 'moving'}\n"
                        f"moved {r['moved']:.3f}, s.e. {r['se']:.3f}", (r["length"], 0.02),
                        xycoords=("data", "axes fraction"), fontsize=5, ha="right",
                        xytext=(-2, 0), textcoords="offset points", rotation=90, va="bottom")
        ax.set_xlabel("training step")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7, loc="upper left")
        ax.set_title(label, fontsize=8)
    fig.suptitle(title, fontsize=9)
    return fig
