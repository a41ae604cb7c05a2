"""Speed of the torch Lp-nested prior (deep.priors.LpNested), Stühmer et al. 2020 eqs 7–11.

Target (issue 5): log_prob of a 2048 × 20 batch (the paper's dSprites setting, Table 1) costs
at most 3× a ``Normal`` log-prob of the same batch on CPU; sampling 10^6 points takes seconds.
Timings interleave the two peers and keep each one's best of many repeats (the machine is
shared). Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_priors.py``.
"""

import time

import torch

from deep.priors import LpNested, isa_tree


def best_us(fns, repeats=40, inner=50):
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            best[k] = min(best[k], (time.perf_counter() - t0) / inner * 1e6)
    return best


def main():
    torch.set_num_threads(1)
    tree = isa_tree(2.1, [(2.2, 4)] * 5)
    for dtype in (torch.float32, torch.float64):
        z = torch.randn(2048, 20, generator=torch.Generator().manual_seed(0), dtype=dtype)
        for validate in (True, False):
            lp = LpNested(tree, 1.0, dtype=dtype, validate_args=validate)
            nrm = torch.distributions.Normal(torch.zeros((), dtype=dtype), torch.ones((), dtype=dtype),
                                             validate_args=validate)
            t = best_us({"lp_nested": lambda: lp.log_prob(z), "normal": lambda: nrm.log_prob(z)})
            print(f"log_prob 2048x20 {str(dtype):14s} validate={validate!s:5s}: LpNested {t['lp_nested']:7.1f} us, "
                  f"Normal {t['normal']:7.1f} us, ratio {t['lp_nested'] / t['normal']:.2f} (target <= 3)")
    # backward in z and exponents, vs Normal with a learnable scale
    z = torch.randn(2048, 20, requires_grad=True)
    p = torch.tensor([2.1] + [2.2] * 5, requires_grad=True)
    sc = torch.ones((), requires_grad=True)
    t = best_us({"lp_nested": lambda: LpNested(tree, 1.0, exponents=p).log_prob(z).sum().backward(),
                 "normal": lambda: torch.distributions.Normal(0.0, sc).log_prob(z).sum().backward()},
                repeats=15, inner=20)
    print(f"forward+backward (z, exponents):  LpNested {t['lp_nested']:7.1f} us, Normal {t['normal']:7.1f} us, "
          f"ratio {t['lp_nested'] / t['normal']:.2f}")
    d = LpNested(tree, 1.0)
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    d.sample((10**6,), generator=gen)
    t_lp = time.perf_counter() - t0
    t0 = time.perf_counter()
    torch.randn(10**6, 20, generator=gen)
    t_n = time.perf_counter() - t0
    print(f"sample 10^6 x 20 float32: LpNested {t_lp:.2f} s, randn {t_n:.3f} s, ratio {t_lp / t_n:.0f}")


if __name__ == "__main__":
    main()
