"""MIG estimators against real peers, time and peak memory, on identical codes.

Codes: d = 10 latents over a dSprites factor grid, z_k = v_k / size_k (k < 5) plus 5 noise
dimensions, posterior log-variance 2 log 0.05 (a code that depends on the factors).

Peers and their configuration
-----------------------------
1. Histogram MIG (Locatello et al. 2019): ``deep.metrics.mig_histogram`` against
   disentanglement_lib 1.5's own numpy code, ``evaluation.metrics.mig._compute_mig`` with its
   ``histogram_discretizer`` and 20 bins (sklearn ``mutual_info_score`` per pair), on the same
   (N, d) codes; the two MIG values are printed and must agree to rounding.
2. Sampled MIG (Chen et al. 2018): ``deep.metrics.mig_sampled`` (streaming log-sum-exp in
   chunks) against a straightforward implementation that builds the (S, N_rows, d) matrix of
   log q(z_s | n) for every entropy and reduces it with one ``torch.logsumexp`` — the same
   random draws (the same generator sequence), so the values agree to rounding. Run on a
   sub-grid where that matrix fits (default 3 × 6 × 10 × 8 × 8 = 11,520 points).
3. The full grid (737,280 points) by ``mig_sampled`` alone at a small S; the cost is linear in S
   (every entropy is S × rows × d log-densities), so the time for a larger S is printed.

Peak memory is the resident-set high-water mark during the call above the resident set before
it, each measured in a fresh process that builds the inputs and then makes the one call
(``_timing.peak_extra_mib_fresh``: in the timing process the allocator's retained blocks hide a
call's memory). Timings are paired (interleaved rounds).

    .venv/bin/python benchmarks/bench_mig.py [--samples 200] [--full-samples 10] [--hist-n 100000]
"""

import argparse
import logging
import math
import sys
import types
import warnings

import numpy as np
import torch

from _timing import interleaved, peak_extra_mib, peak_extra_mib_fresh, ratio, spread
from deep.data import full_grid
from deep.data.dsprites import FULL_FACTOR_SIZES
from deep.metrics import mig_histogram, mig_sampled

SUB_GRID = (3, 6, 10, 8, 8)


def codes(f, sizes, rng):
    mu = np.hstack([f / np.array(sizes), rng.normal(size=(len(f), 5))])
    return mu, np.full_like(mu, 2 * np.log(0.05))


def dlib_mig():
    # disentanglement_lib's metric modules need gin's decorators, not TensorFlow
    sys.modules.setdefault("gin.tf", types.ModuleType("gin.tf"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)     # gin 0.4's "blacklist is deprecated" notices
        import gin
        from disentanglement_lib.evaluation.metrics import mig, utils
    logging.disable(logging.NOTSET)
    gin.clear_config()
    gin.bind_parameter("discretizer.discretizer_fn", utils._histogram_discretize)
    gin.bind_parameter("discretizer.num_bins", 20)
    return lambda mu, f: mig._compute_mig(mu.T, f.T)["discrete_mig"]


def naive_sampled_mig(mu, lv, f, n_samples, rng, exclude=(0,)):
    """Chen et al. 2018's estimator, written out: per entropy, the full (S, N_rows, d) matrix of
    Gaussian log-densities, reduced by logsumexp over the rows. Same draws as mig_sampled."""
    mu_t, lv_t = torch.as_tensor(mu), torch.as_tensor(lv)

    def entropy(rows):
        pick = rows[rng.integers(0, rows.size, size=n_samples)]
        eps = torch.from_numpy(rng.standard_normal((n_samples, mu.shape[1])))
        z = mu_t[pick] + torch.exp(0.5 * lv_t[pick]) * eps
        m, v = mu_t[rows][None], lv_t[rows][None]
        lp = -0.5 * (math.log(2 * math.pi) + v + (z[:, None] - m) ** 2 / torch.exp(v))  # (S, R, d)
        return -(torch.logsumexp(lp, 1) - math.log(rows.size)).mean(0).numpy()

    h = entropy(np.arange(len(f)))
    used = [k for k in range(f.shape[1]) if k not in exclude]
    gaps = []
    for k in used:
        levels, counts = np.unique(f[:, k], return_counts=True)
        hc = sum(c / len(f) * entropy(np.flatnonzero(f[:, k] == u)) for u, c in zip(levels, counts))
        mi = np.sort(np.clip(h - hc, 0, None))[::-1]
        p = counts / len(f)
        gaps.append((mi[0] - mi[1]) / -(p * np.log(p)).sum())
    return float(np.mean(gaps))


def _hist_codes(n, with_peer=False):
    f = full_grid(FULL_FACTOR_SIZES)
    rng = np.random.default_rng(0)
    f = f[rng.choice(len(f), n, replace=False)]
    mu, _ = codes(f, FULL_FACTOR_SIZES, rng)
    return mu, f, dlib_mig() if with_peer else None


def _ours_hist(data):
    return mig_histogram(data[0], data[1], bins=20)


def _peer_hist(data):
    return data[2](data[0], data[1])


def histogram_part(n, repeats):
    mu, f, peer = _hist_codes(n, with_peer=True)
    ours_v, peer_v = mig_histogram(mu, f, bins=20)["mig"], peer(mu, f)
    t = interleaved({"ours": lambda: mig_histogram(mu, f, bins=20), "dlib": lambda: peer(mu, f)},
                    repeats=repeats, warmup=1)
    m_ours = peak_extra_mib_fresh(_hist_codes, _ours_hist, n)
    m_peer = peak_extra_mib_fresh(_hist_codes, _peer_hist, n, True)
    print(f"histogram MIG, N = {n:,} random dSprites points, d = 10, 20 bins, {repeats} paired rounds:")
    print(f"  betalab {spread(t['ours'])} s, peak +{m_ours:.0f} MiB; disentanglement_lib "
          f"{spread(t['dlib'])} s, peak +{m_peer:.0f} MiB")
    print(f"  peer / betalab {spread(ratio(t, 'dlib', 'ours'), fmt='{:.2f}')}; "
          f"MIG {ours_v:.10f} vs {peer_v:.10f} (|diff| {abs(ours_v - peer_v):.1e})")


def _sub_grid_codes(samples):
    f = full_grid(SUB_GRID)
    mu, lv = codes(f, SUB_GRID, np.random.default_rng(1))
    return mu, lv, f, samples


def _ours_sampled(data):
    mu, lv, f, samples = data
    return mig_sampled(mu, lv, f, n_samples=samples, rng=np.random.default_rng(2), exclude=(0,))["mig"]


def _naive_sampled(data):
    mu, lv, f, samples = data
    return naive_sampled_mig(mu, lv, f, samples, np.random.default_rng(2))


def sampled_part(samples, repeats):
    data = _sub_grid_codes(samples)
    mu, _, f, _ = data
    run = {"ours": lambda: _ours_sampled(data), "naive": lambda: _naive_sampled(data)}
    t = interleaved(run, repeats=repeats, warmup=0)
    v_o, v_n = run["ours"](), run["naive"]()
    m_o = peak_extra_mib_fresh(_sub_grid_codes, _ours_sampled, samples)
    m_n = peak_extra_mib_fresh(_sub_grid_codes, _naive_sampled, samples)
    big = samples * len(f) * mu.shape[1] * 8 / 2**20
    print(f"sampled MIG, sub-grid {'x'.join(map(str, SUB_GRID))} = {len(f):,} points, d = 10, "
          f"S = {samples}, shape excluded, {repeats} paired rounds:")
    print(f"  betalab {spread(t['ours'])} s, peak +{m_o:.0f} MiB; N x S peer {spread(t['naive'])} s, "
          f"peak +{m_n:.0f} MiB (its largest matrix {big:.0f} MiB)")
    print(f"  peer / betalab time {spread(ratio(t, 'naive', 'ours'), fmt='{:.2f}')}, "
          f"memory {m_n / m_o:.1f}x (fresh processes); MIG {v_o:.10f} vs {v_n:.10f} (|diff| {abs(v_o - v_n):.1e})")


def full_part(samples, target):
    f = full_grid(FULL_FACTOR_SIZES)
    mu, lv = codes(f, FULL_FACTOR_SIZES, np.random.default_rng(1))
    t, res, mem = peak_extra_mib(lambda: mig_sampled(mu, lv, f, n_samples=samples,
                                                     rng=np.random.default_rng(2), exclude=(0,)))
    big = target * len(f) * mu.shape[1] * 8 / 2**30
    print(f"sampled MIG, full grid {len(f):,} points, S = {samples}: {t:.1f} s, peak +{mem:.0f} MiB, "
          f"MIG {res['mig']:.3f}; S = {target} would take ~{t * target / samples / 60:.0f} min "
          f"(linear in S) where an N x S peer would need {big:.0f} GiB per entropy")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hist-n", type=int, default=100_000)
    p.add_argument("--samples", type=int, default=200, help="S on the sub-grid")
    p.add_argument("--full-samples", type=int, default=10, help="S on the full grid (0: skip)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    histogram_part(args.hist_n, args.repeats)
    sampled_part(args.samples, args.repeats)
    if args.full_samples:
        full_part(args.full_samples, 200)


if __name__ == "__main__":
    main()
