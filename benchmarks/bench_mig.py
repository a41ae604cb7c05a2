"""Sampled MIG (Chen et al. 2018) over the full dSprites grid (737,280 points) with d = 10
latents, in bounded memory: time and peak RSS, against the (N x S x d) float64 matrix a
non-chunked implementation materialises.

    .venv/bin/python benchmarks/bench_mig.py [--samples 200] [--device cpu]
"""

import argparse
import resource
import time

import numpy as np
import torch

from deep.data import DSprites
from deep.metrics import mig_sampled


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    d = DSprites()
    f = d.factors_of(np.arange(len(d)))
    rng = np.random.default_rng(0)
    # a code that depends on the factors: z_k ~ v_k (k < 5) plus 5 noise dims
    mu = np.hstack([f / np.array(d.factor_sizes), rng.normal(size=(len(d), 5))])
    lv = np.full_like(mu, 2 * np.log(0.05))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    t0 = time.perf_counter()
    res = mig_sampled(mu, lv, f, n_samples=args.samples, rng=rng, exclude=(0,), device=args.device)
    dt = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    naive = len(d) * args.samples * mu.shape[1] * 8 / 2**20
    print(f"sampled MIG, N={len(d):,}, d={mu.shape[1]}, S={args.samples}, device {args.device}")
    print(f"  time {dt:.1f} s; MIG (shape excluded) = {res['mig']:.3f}")
    print(f"  peak RSS {rss1:.0f} MiB (before the call {rss0:.0f} MiB)")
    print(f"  a non-chunked N x S x d float64 matrix: {naive:,.0f} MiB; "
          f"ratio peak-RSS/naive = {rss1 / naive:.3f}")


if __name__ == "__main__":
    main()
