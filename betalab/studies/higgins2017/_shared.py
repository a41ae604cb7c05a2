"""Higgins et al. 2017 (β-VAE, ICLR): what the figure modules of the study ``higgins-fig5-table``
share — the labelled factors of the disentanglement metric (sec. 3, App. A.4), Fig. 5 (left) as
printed, Fig. 6's models, and the sweeps that would decide the trained rows, Fig. 5 (right) and
Fig. 6 at the paper's size with their cost (App. Table 1 trained with Adagrad at 1e-2)."""

from __future__ import annotations

SRC = "Higgins et al. 2017, Fig. 5 (left), sec. 3, App. A.3-A.4"
#: the four labelled factors of sec. 3 / App. A.4 (indices into dSprites' shape, scale,
#: orientation, pos_x, pos_y)
LABELLED = (1, 2, 3, 4)
#: Fig. 5 (left), as printed: (mean %, ± %)
PRINTED = {"ground_truth": (100.0, 0.0), "raw_pixels": (45.75, 0.8), "pca": (84.9, 0.4),
           "ica": (42.03, 10.6), "untrained_vae": (44.14, 2.5), "vae": (61.58, 0.5),
           "beta_vae": (99.23, 0.1)}
ROW_NAMES = {"ground_truth": "Ground truth", "raw_pixels": "Raw pixels", "pca": "PCA",
             "ica": "ICA", "untrained_vae": "VAE untrained", "vae": "VAE (β = 1)",
             "beta_vae": "β-VAE (β = 4)"}
#: Fig. 6's models: the VAE (β = 1) and the β-VAE (β = 4) with M = 10 latents
FIG6_M, FIG6_BETAS = 10, (1.0, 4.0)
#: the sweeps that would decide the trained rows and Fig. 5 (right): spec, database, runs
SWEEPS = {"left": ("sweeps/higgins-fig5-left.toml", "results/higgins-fig5-left.sqlite", 20),
          "right": ("sweeps/higgins-fig5-right.toml", "results/higgins-fig5-right.sqlite", 280)}
#: their training (App. Table 1 does not print batch size or length; the specs' choices): batch
#: 64, 30 epochs of the 90% of the 737,280 images not held out
SWEEP_BATCH, SWEEP_EPOCHS = 64, 30
SWEEP_STEPS = SWEEP_EPOCHS * (737_280 - round(0.1 * 737_280)) // SWEEP_BATCH     # 311,040
#: measured: 20 Adagrad steps (after 3 warm-up steps) of the Table 1 MLP (4096-1200-1200-20 /
#: 10-1200-1200-1200-4096) at batch 64, float32, one CPU thread, on 2 cores shared with other
#: jobs (load ≈ 5): median 0.19–0.21 s per step over two measurements, fastest step 0.10 s
CPU_SECONDS_PER_STEP = 0.2
#: measured on one NVIDIA H200 (sweeps/fit_budget.py, recorded/sweeps/higgins-fig5-left-gpu):
#: 8.86 ms per step of a 10-member ensemble of the same MLP (30 steps after 5 warm-up), float32
GPU_SECONDS_PER_STEP, GPU_ENSEMBLE = 8.86e-3, 10


def _sweep_command(which: str) -> str:
    spec, db, _ = SWEEPS[which]
    return f"`betalab sweep run {spec} --db {db}`"


def _per_run_cost() -> str:
    hours = SWEEP_STEPS * CPU_SECONDS_PER_STEP / 3600
    return (f"measured ≈{CPU_SECONDS_PER_STEP} s per step of the Table 1 MLP at batch "
            f"{SWEEP_BATCH} on one CPU thread (20 steps; 2 shared cores), so ≈{hours:.0f} h per "
            "run on a CPU")


def sweep_cost(which: str) -> str:
    """The cost text of a sweep: steps = epochs × 737,280 × 0.9 / batch per run, times the
    measured CPU step; a GPU is needed (its time per step is not measured here)."""
    runs = SWEEPS[which][2]
    total = runs * SWEEP_STEPS * CPU_SECONDS_PER_STEP / 3600
    gpu = runs / GPU_ENSEMBLE * SWEEP_STEPS * GPU_SECONDS_PER_STEP / 3600
    return (f"{runs} runs × {SWEEP_STEPS:,} steps ({SWEEP_EPOCHS} epochs × 737,280 × 0.9 / "
            f"{SWEEP_BATCH}); {_per_run_cost()}, ≈{total:,.0f} CPU-hours in all (ensembles of 10 "
            f"are no faster per member on a CPU); on one H200, {GPU_SECONDS_PER_STEP * 1e3:.2f} ms "
            f"per step of an ensemble of {GPU_ENSEMBLE} (measured), ≈{gpu:.1f} GPU-hours of "
            "training plus ≈15 s of evaluation per model.")
