"""Cost of the App. C uniqueness experiment (Kumar & Poole 2020), printed as ratios and times.

1. Batched vs loop: all T trials of one experiment as one batched tensor program
   (``deep.uniqueness.train_uniqueness_newton``) vs a Python loop calling the same function on
   one trial at a time. Identical inputs: one ``make_data`` call draws the T data sets and the
   loop trains trial i on slice i of them; every call takes a generator seeded 0 (the fixed
   random rotations and the initialisation). Same settings (Newton to 60 iterations, diagonal Σ).
2. Scaling of the full experiment (4000 points, Newton up to 200 iterations) in the number of
   trials: one experiment is timed at several trial counts, the affine fit time = a + b·T is
   printed with its residuals, and the 420-trial time of ``betalab run kp-uniqueness --full``
   is read off that measured fit, not a proportional scaling of one chunk: a batch iterates
   until its slowest trial has converged and its tensors grow with T, so the cost per trial is
   not constant (on a loaded 2-core machine it rose from 1.7 s at T = 5 to 2.3 s at T = 20).
   The fit still extrapolates beyond the largest T measured; ``--all`` times all 420.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_uniqueness.py [--nu tanh] [--trials 8]
        [--counts 5,10,20] [--all]
"""

import argparse
import time

import numpy as np
import torch

from deep import uniqueness as DU

BASE = np.array([1, 2, 3, 5, 8, 12, 16, 20, 25, 30, 40, 50, 60])
FULL_LENGTHS = np.concatenate([np.repeat(BASE[:-2], 20), np.repeat(BASE[-2:], 100)])  # 420


def _slice(data, i):
    return DU.UniquenessData(data.x[i:i + 1], data.z[i:i + 1], data.W[i:i + 1], data.n[i:i + 1],
                             data.nonlinearity)


def _train(data, amortized, cov, n_final, q):
    t = time.perf_counter()
    out = DU.train_uniqueness_newton(data, cov, amortized, torch.Generator().manual_seed(0),
                                     n_final=n_final, quad_order=q)
    return time.perf_counter() - t, out


def batched_vs_loop(nl, T, n_samples=400):
    q = 2 if nl == "identity" else 4
    data = DU.make_data(np.array([1, 4, 10, 25] * (T // 4)), nl, n_samples, np.random.default_rng(0))
    for amortized in (True, False):
        tb, _ = _train(data, amortized, "diagonal", 60, q)
        per = [_train(_slice(data, i), amortized, "diagonal", 60, q)[0] for i in range(T)]
        tl = sum(per)
        print(f"  {nl}, {'amortised' if amortized else 'unamortised'}, diagonal, {T} trials of "
              f"{n_samples} points (same data): batched {tb:6.1f} s, loop {tl:6.1f} s "
              f"(per trial {min(per):.2f} / {np.median(per):.2f} / {max(per):.2f} s), "
              f"loop/batched {tl / tb:4.1f}x")


def scaling(nl, counts, run_all):
    q = 2 if nl == "identity" else 4
    rng = np.random.default_rng(0)
    ts = []
    for T in counts:
        data = DU.make_data(rng.choice(FULL_LENGTHS, T, replace=False), nl, 4000, np.random.default_rng(1))
        t, out = _train(data, True, "diagonal", 200, q)
        ts.append(t)
        print(f"  {nl}, amortised, diagonal, {T:3d} trials x 4000 points: {t:7.1f} s "
              f"({t / T:.2f} s per trial, mean Newton iterations {out['iterations'].mean():.0f})", flush=True)
    b, a = np.polyfit(counts, ts, 1)
    resid = np.max(np.abs(np.polyval([b, a], counts) - ts))
    print(f"  measured scaling: time = {a:.1f} s + {b:.2f} s x T (max residual {resid:.1f} s); "
          f"from this fit 420 trials would take {(a + b * 420) / 60:.1f} min per experiment, "
          f"for this one of the four experiments (the full-Σ ones cost more)")
    if run_all:
        data = DU.make_data(FULL_LENGTHS, nl, 4000, np.random.default_rng(1))
        for amortized in (True, False):
            for cov in ("diagonal", "full"):
                t, _ = _train(data, amortized, cov, 200, q)
                print(f"  all 420 trials, {'amortised  ' if amortized else 'unamortised'}, {cov:8s}: "
                      f"{t / 60:.1f} min", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nu", default="tanh", choices=("identity", "tanh", "sigmoid", "elu"))
    ap.add_argument("--trials", type=int, default=8, help="trials of the batched-vs-loop part (multiple of 4)")
    ap.add_argument("--counts", default="5,10,20", help="trial counts of the scaling part")
    ap.add_argument("--all", action="store_true", help="also run all 420 trials of the four experiments")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print("batched tensor program vs Python loop over the same trials:")
    batched_vs_loop(args.nu, args.trials)
    print(f"full App. C experiment (4000 points, Newton to 200 iterations), nu={args.nu}, "
          f"{torch.get_num_threads()} thread(s):")
    scaling(args.nu, [int(c) for c in args.counts.split(",")], args.all)


if __name__ == "__main__":
    main()
