"""Cost of the App. C uniqueness experiment (Kumar & Poole 2020), printed as ratios and times.

1. all trials of one experiment as one batched tensor program vs a Python loop over the same
   trials (one trial per call), same data, same settings;
2. the full experiment of ``betalab run kp-uniqueness --full`` (420 trials, 4000 points,
   Newton iterations up to 200) for one ν: each of the four experiments (amortised or not,
   diagonal or full Σ) is timed on ``--chunk`` of its trials and the time is scaled to 420.
   ``--all`` runs all 420 trials instead.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_uniqueness.py [--nu tanh] [--all]
"""

import argparse
import time

import numpy as np
import torch

from deep import uniqueness as DU


def _train(lengths, nl, n_samples, amortized, cov, seed, n_final, quad_order):
    data = DU.make_data(lengths, nl, n_samples, np.random.default_rng(seed))
    t = time.perf_counter()
    out = DU.train_uniqueness_newton(data, cov, amortized, torch.Generator().manual_seed(seed),
                                     n_final=n_final, quad_order=quad_order)
    return time.perf_counter() - t, out


def batched_vs_loop(nl="tanh", T=16, n_samples=400):
    lengths = np.array([1, 4, 10, 25] * (T // 4))
    q = 2 if nl == "identity" else 4
    for amortized in (True, False):
        tb, _ = _train(lengths, nl, n_samples, amortized, "diagonal", 0, 60, q)
        tl = sum(_train(lengths[i:i + 1], nl, n_samples, amortized, "diagonal", i, 60, q)[0]
                 for i in range(T))
        print(f"  {nl}, {'amortised' if amortized else 'unamortised'}, diagonal, {T} trials of "
              f"{n_samples} points: batched {tb:6.1f} s, loop {tl:6.1f} s, loop/batched "
              f"{tl / tb:4.1f}x")


def full_experiment(nl, chunk, run_all):
    base = np.array([1, 2, 3, 5, 8, 12, 16, 20, 25, 30, 40, 50, 60])
    lengths = np.concatenate([np.repeat(base[:-2], 20), np.repeat(base[-2:], 100)])  # 420
    rng = np.random.default_rng(0)
    sample = lengths if run_all else rng.choice(lengths, chunk, replace=False)
    q = 2 if nl == "identity" else 4
    total = 0.0
    for amortized in (True, False):
        for cov in ("diagonal", "full"):
            t, out = _train(sample, nl, 4000, amortized, cov, 1, 200, q)
            est = t * lengths.size / sample.size
            total += est
            print(f"  {nl}, {'amortised  ' if amortized else 'unamortised'}, {cov:8s}: "
                  f"{sample.size} trials {t:7.1f} s -> 420 trials {est / 60:6.1f} min "
                  f"(mean Newton iterations {out['iterations'].mean():.0f})", flush=True)
    print(f"  all four experiments for nu={nl}: {total / 60:.1f} min on "
          f"{torch.get_num_threads()} threads")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nu", default="tanh", choices=("identity", "tanh", "sigmoid", "elu"))
    ap.add_argument("--chunk", type=int, default=30, help="trials timed per experiment")
    ap.add_argument("--all", action="store_true", help="run all 420 trials")
    ap.add_argument("--skip-loop", action="store_true", help="skip the batched-vs-loop part")
    args = ap.parse_args()
    if not args.skip_loop:
        print("batched tensor program vs Python loop over trials:")
        batched_vs_loop(args.nu)
    print(f"full App. C experiment (420 trials x 4000 points), nu={args.nu}:")
    full_experiment(args.nu, args.chunk, args.all)


if __name__ == "__main__":
    main()
