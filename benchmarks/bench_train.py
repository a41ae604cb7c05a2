"""One training step of the paper's MLP β-VAE (Stühmer App. A.4) at batch 256 on CPU:
betalab's objective + train_step vs a minimal hand-written torch loop of the same
network (target: within 10 %).  Both use the same pre-rendered batch.

    .venv/bin/python benchmarks/bench_train.py [--steps 20] [--threads 2]
"""

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deep.data import DSprites
from deep.models import VAEConfig, build_objective, build_vae
from deep.train import seeded_init, step_generator, train_step


def hand_model():
    enc = nn.Sequential(nn.Flatten(), nn.Linear(4096, 1200), nn.ReLU(), nn.Linear(1200, 1200),
                        nn.ReLU(), nn.Linear(1200, 20))
    dec = nn.Sequential(nn.Linear(10, 1200), nn.Tanh(), nn.Linear(1200, 1200), nn.Tanh(),
                        nn.Linear(1200, 1200), nn.Tanh(), nn.Linear(1200, 4096))
    return enc, dec


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    d = DSprites()
    x = torch.from_numpy(d.images(np.random.default_rng(0).integers(0, len(d), 256)))

    model = seeded_init(lambda: build_vae(VAEConfig(latent_dim=10, hidden=1200)), 0)
    obj = build_objective("beta-vae", 4.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    enc, dec = seeded_init(hand_model, 0)
    opt2 = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3)
    g = torch.Generator().manual_seed(0)

    def ours(i):
        train_step(model, obj, opt, None, x, step_generator(0, i), i)

    def hand(i):
        h = enc(x)
        mu, lv = h[:, :10], h[:, 10:]
        z = mu + torch.exp(0.5 * lv) * torch.randn(mu.shape, generator=g)
        rec = F.binary_cross_entropy_with_logits(dec(z).view(-1, 1, 64, 64), x,
                                                 reduction="sum") / x.shape[0]
        kl = 0.5 * (mu ** 2 + lv.exp() - lv - 1).sum(1).mean()
        loss = rec + 4.0 * kl
        opt2.zero_grad()
        loss.backward()
        opt2.step()

    times = {"ours": [], "hand": []}
    for i in range(args.steps + 3):            # interleaved, first 3 are warm-up
        for name, fn in (("ours", ours), ("hand", hand)):
            t0 = time.perf_counter()
            fn(i)
            if i >= 3:
                times[name].append(time.perf_counter() - t0)
    med = {k: float(np.median(v)) for k, v in times.items()}
    print(f"MLP β-VAE step, batch 256, {args.threads} threads, median of {args.steps}:")
    print(f"  betalab train_step: {med['ours'] * 1e3:8.1f} ms")
    print(f"  hand-written loop:  {med['hand'] * 1e3:8.1f} ms")
    print(f"  ratio betalab/hand = {med['ours'] / med['hand']:.3f}  (target <= 1.10)")
    t0 = time.perf_counter()
    for _ in range(5):
        d.images(np.random.default_rng(1).integers(0, len(d), 256))
    print(f"  (rendering a batch of 256 on the fly: {(time.perf_counter() - t0) / 5 * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
