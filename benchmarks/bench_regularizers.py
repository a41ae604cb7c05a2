"""Speed of the GRAE regularizers (Kumar & Poole 2020, eqs 13-14), printed as ratios.

1. exact regularizer: forward-mode Jacobian (deep.regularizers) vs a reverse-mode loop over
   the D output dimensions, for d <= 32 latents;
2. one GRAE≈ training step (k = 1 column) vs a plain autoencoder step of the same network,
   with the matmul-count floor of the ratio, and vs a one-sample β-VAE step.

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
    print()
    print("training step, k = 1 column (GRAE≈) vs plain AE vs β-VAE step, same MLP, Adam:")
    print("  the floor is the multiply-add count of GRAE≈'s matmuls over the AE's (forward +")
    print("  backward): one extra tangent product per decoder layer after the first.")
    for D, H, batch, d in [(256, 128, 64, 16), (784, 256, 128, 16), (784, 512, 256, 32),
                           (4096, 512, 128, 10)]:
        ae, gr, vae, floor = _training_steps(D, H, batch, d)
        print(f"  D={D:4d} H={H:4d} batch={batch:3d} d={d:2d}: AE {ae*1e3:7.2f} ms, "
              f"GRAE≈/AE {gr/ae:4.2f}x (floor {floor:4.2f}x, target <= 1.5x), "
              f"GRAE≈/β-VAE {gr/vae:4.2f}x")


def _training_steps(D, H, batch, d):
    torch.manual_seed(0)
    enc = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ELU(), torch.nn.Linear(H, d))
    enc2 = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ELU(), torch.nn.Linear(H, 2 * d))
    dec = torch.nn.Sequential(torch.nn.Linear(d, H), torch.nn.ELU(), torch.nn.Linear(H, D))
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params + list(enc2.parameters()), 1e-3)
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

    def vae_step():  # Gaussian β-VAE, one reparameterised sample, β = 0.5
        opt.zero_grad()
        mu, logvar = enc2(x).chunk(2, -1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(-1)
        (0.5 * (x - dec(z)).pow(2).sum(-1) + 0.5 * kl).mean().backward()
        opt.step()

    times = _interleaved([ae_step, grae_step, vae_step])
    # multiply-adds per example: forward, weight gradient, input gradient (not for layer 1)
    ae_macs = 3 * (D * H + H * d + d * H + H * D) - D * H
    extra = 3 * H * D  # tangent through the last decoder layer: forward, dW, dt
    return (*times, (ae_macs + extra) / ae_macs)


def _interleaved(fns, rounds=40):
    """Median time of each function, calls interleaved so drift hits all alike."""
    for f in fns:
        for _ in range(3):
            f()
    samples = [[] for _ in fns]
    for _ in range(rounds):
        for f, s in zip(fns, samples):
            t = time.perf_counter()
            f()
            s.append(time.perf_counter() - t)
    return [sorted(s)[len(s) // 2] for s in samples]


if __name__ == "__main__":
    main()
