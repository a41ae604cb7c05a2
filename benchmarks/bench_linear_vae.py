"""Closed-form β-sweep of the linear β-VAE (Sikka 2020, N = 128, k = 2) against its algorithmic
limit and against solving eq 43 numerically.

* limit: one symmetric eigendecomposition of the 128 × 128 data covariance
  (``numpy.linalg.eigh``); the closed form of every β needs the spectrum of S, so a sweep cannot
  cost less than one eigendecomposition. Printed: sweep time / eigh time (paired rounds).
* numerical: ``linear_models.linear_vae.solve_optimality`` (L-BFGS on eq 43, one start) per β,
  timed on ``--numeric`` values of β and reported per β (no extrapolation); the closed form's
  per-β time is the sweep time / number of β. There is no third-party solver of this model to
  compare with; the numerical solver is the straightforward approach.

Run: OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_linear_vae.py [--betas 1000] [--numeric 5]
"""

import argparse

import numpy as np

from _timing import interleaved, once, ratio, spread
from linear_models import linear_vae as L
from theory import linear_vae as T


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--betas", type=int, default=1000)
    ap.add_argument("--numeric", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=20)
    a = ap.parse_args()
    A = T.thesis_mixing(128, 2)
    S = T.data_covariance(A)
    betas = np.geomspace(0.05, 100, a.betas)
    t = interleaved({"sweep": lambda: L.beta_sweep(A, betas), "eigh": lambda: np.linalg.eigh(S)},
                    repeats=a.repeats)
    print(f"closed-form sweep, {a.betas} β (all Fig 3 quantities): {spread(t['sweep'], 1e3)} ms; "
          f"one eigh of S (128 x 128): {spread(t['eigh'], 1e3)} ms")
    print(f"  sweep / one eigendecomposition (the limit): {spread(ratio(t, 'sweep', 'eigh'), fmt='{:.1f}')}x")
    rng = np.random.default_rng(0)
    per = np.array([once(lambda: L.solve_optimality(S, 2, b, rng, n_starts=1))[0]
                    for b in np.geomspace(0.05, 100, a.numeric)])
    closed = np.median(t["sweep"]) / a.betas
    print(f"numerical eq 43, one start, per β: {spread(per, 1e3)} ms over {a.numeric} β; "
          f"closed form per β {closed * 1e6:.1f} us; numerical / closed form per β "
          f"{spread(per / closed, fmt='{:.0f}')}x")


if __name__ == "__main__":
    main()
