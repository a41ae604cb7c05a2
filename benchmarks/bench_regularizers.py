"""Speed of the GRAE regularizers (Kumar & Poole 2020, eqs 13-14), printed as ratios.

1. exact regularizer: forward-mode Jacobian (deep.regularizers) vs a reverse-mode loop over
   the D output dimensions, for d <= 32 latents;
2. one GRAE≈ training step (k = 1 column) vs a plain autoencoder step of the same network.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_regularizers.py
"""

import time

import torch

from deep.regularizers import grae_approx_loss, grae_regularizer


def _timeit(fn, reps=5):
    fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def reverse_loop_logdet(decoder, z, beta):
    z = z.detach().requires_grad_(True)
    out = decoder(z)
    rows = [torch.autograd.grad(out[:, k].sum(), z, retain_graph=True, create_graph=True)[0]
            for k in range(out.shape[1])]
    J = torch.stack(rows, 1)  # (batch, D, d)
    M = torch.eye(z.shape[1]) + J.transpose(1, 2) @ J / beta
    return torch.logdet(M)


def main():
    torch.manual_seed(0)
    D, batch = 256, 64
    for d in (4, 8, 16, 32):
        dec = torch.nn.Sequential(torch.nn.Linear(d, 128), torch.nn.ELU(), torch.nn.Linear(128, D))
        z = torch.randn(batch, d)
        fwd = _timeit(lambda: grae_regularizer(dec, z, 0.5).sum().backward())
        rev = _timeit(lambda: reverse_loop_logdet(dec, z, 0.5).sum().backward())
        print(f"d={d:2d} D={D}: forward-mode {fwd*1e3:7.2f} ms, reverse loop {rev*1e3:7.2f} ms, "
              f"reverse/forward = {rev/fwd:5.1f}x")
    d = 16
    enc = torch.nn.Sequential(torch.nn.Linear(D, 128), torch.nn.ELU(), torch.nn.Linear(128, d))
    dec = torch.nn.Sequential(torch.nn.Linear(d, 128), torch.nn.ELU(), torch.nn.Linear(128, D))
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), 1e-3)
    x = torch.randn(batch, D)
    gen = torch.Generator().manual_seed(0)

    def ae_step():
        opt.zero_grad()
        (0.5 * (x - dec(enc(x))).pow(2).sum(-1)).mean().backward()
        opt.step()

    def grae_step():
        opt.zero_grad()
        grae_approx_loss(enc, dec, x, 0.5, generator=gen).mean().backward()
        opt.step()

    ae, gr = _timeit(ae_step, 20), _timeit(grae_step, 20)
    print(f"training step d={d}: AE {ae*1e3:.2f} ms, GRAE≈ {gr*1e3:.2f} ms, ratio {gr/ae:.2f}x "
          f"(target <= 1.5x)")


if __name__ == "__main__":
    main()
