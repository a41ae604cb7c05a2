"""Closed-form β-sweep vs solving eq 43 numerically per β (Sikka 2020, N = 128, k = 2).

Prints the time of a 1,000-β closed-form sweep (linear_models.linear_vae.beta_sweep) and of the
numerical eq 43 solver (L-BFGS, 1 start) on a subset of β, extrapolated per β, and their ratio.
Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_linear_vae.py
"""

import time

import numpy as np

from linear_models import linear_vae as L
from theory import linear_vae as T


def main(n_betas: int = 1000, n_numeric: int = 10) -> None:
    A = T.thesis_mixing(128, 2)
    S = T.data_covariance(A)
    betas = np.geomspace(0.05, 100, n_betas)
    L.beta_sweep(A, betas)  # warm-up
    t0 = time.perf_counter()
    reps = 20
    for _ in range(reps):
        L.beta_sweep(A, betas)
    closed = (time.perf_counter() - t0) / reps
    rng = np.random.default_rng(0)
    sub = np.geomspace(0.05, 100, n_numeric)
    t0 = time.perf_counter()
    for b in sub:
        L.solve_optimality(S, 2, b, rng, n_starts=1)
    per_beta = (time.perf_counter() - t0) / n_numeric
    numeric = per_beta * n_betas
    print(f"closed-form sweep, {n_betas} β (all Fig 3 quantities): {closed * 1e3:.2f} ms")
    print(f"numerical eq 43 per β: {per_beta:.3f} s (measured on {n_numeric} β); "
          f"extrapolated to {n_betas} β: {numeric:.1f} s")
    print(f"ratio numerical / closed form: {numeric / closed:.0f}x")


if __name__ == "__main__":
    main()
