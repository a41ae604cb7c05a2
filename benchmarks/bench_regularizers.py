"""Speed of the GRAE regularizers (Kumar & Poole 2020, eqs 13-14), printed as ratios.

1. exact regularizer: forward-mode Jacobian (deep.regularizers) vs reverse mode done the
   strongest way torch offers, ``torch.func.vmap(torch.func.jacrev(decoder))`` (vectorised over
   the D output rows and the batch, no Python loop), both followed by the same log-det and a
   backward pass, for d <= 32 latents; paired rounds, min / median / max;
2. one GRAE≈ training step (k = 1 column) vs a plain autoencoder step of the same network, and
   vs a one-sample β-VAE step. The limit printed beside it is measured, not counted: a GRAE≈
   step does everything an AE step does plus, for the tangent J e_k through the decoder's last
   layer, three (batch × H × D) matrix products (the tangent's forward product, its weight
   gradient and its input gradient; through the first layer the tangent is a column of the weight,
   no product). ``limit = (AE step + those three torch.mm calls, timed alone) / AE step`` is
   therefore a floor on GRAE≈/AE for this network: only the GRAE≈ step's own elementwise work
   (the ELU derivative, the tangent's norm) separates the measured ratio from it.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_regularizers.py
"""

import time

import torch

from _timing import interleaved, ratio, spread
from deep.regularizers import grae_approx_loss, grae_regularizer


def jacrev_logdet(decoder, z, beta):
    """log det(I + JᵀJ/β) with J from vmap(jacrev): the reverse-mode peer (Kumar & Poole 2020,
    eq 13)."""
    J = torch.func.vmap(torch.func.jacrev(decoder))(z)          # (batch, D, d)
    M = torch.eye(z.shape[1]) + J.transpose(1, 2) @ J / beta
    return torch.logdet(M)


def main():
    torch.manual_seed(0)
    D, batch = 256, 64
    for d in (4, 8, 16, 32):
        dec = torch.nn.Sequential(torch.nn.Linear(d, 128), torch.nn.ELU(), torch.nn.Linear(128, D))
        z = torch.randn(batch, d)
        a, b = grae_regularizer(dec, z, 0.5), jacrev_logdet(dec, z, 0.5)
        assert torch.allclose(a, b, rtol=1e-4), "the two Jacobian paths disagree"
        t = interleaved({"fwd": lambda: grae_regularizer(dec, z, 0.5).sum().backward(),
                         "rev": lambda: jacrev_logdet(dec, z, 0.5).sum().backward()}, repeats=15)
        print(f"d={d:2d} D={D}: forward-mode {spread(t['fwd'], 1e3)} ms, vmap(jacrev) "
              f"{spread(t['rev'], 1e3)} ms, jacrev/forward {spread(ratio(t, 'rev', 'fwd'), fmt='{:.1f}')}x")
    print()
    print("training step, k = 1 column (GRAE≈) vs plain AE vs β-VAE step, same MLP, Adam:")
    print("  'limit': (AE step + the tangent's three extra matmuls, timed alone) / AE step (docstring)")
    for D, H, batch, d in [(256, 128, 64, 16), (784, 256, 128, 16), (784, 512, 256, 32),
                           (4096, 512, 128, 10)]:
        ae, gr, vae, mm = _training_steps(D, H, batch, d)
        print(f"  D={D:4d} H={H:4d} batch={batch:3d} d={d:2d}: AE {ae*1e3:7.2f} ms, "
              f"GRAE≈/AE {gr/ae:4.2f}x (limit {(ae + mm) / ae:4.2f}x, target <= 1.5x), "
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

    # the tangent's extra products through the last decoder layer: forward, weight grad, input grad
    th, W2, gD = torch.randn(batch, H), torch.randn(D, H), torch.randn(batch, D)

    def extra_mm():
        torch.mm(th, W2.t())
        torch.mm(gD.t(), th)
        torch.mm(gD, W2)

    return tuple(_interleaved([ae_step, grae_step, vae_step, extra_mm]))


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
