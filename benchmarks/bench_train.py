"""One training step of the MLP β-VAE (Stühmer et al. 2020, App. A.4 at hidden 1200; the quick
studies' width 128) on a CPU: betalab's ``Trainer.run_step`` against the strongest hand-written
torch loop of the same network — ``torch.optim.Adam(fused=True)``, the same Bernoulli
reconstruction and Gaussian KL, no checks — on the same pre-rendered batch. Target: within 10 %
(ratio ≤ 1.10) at every size.

The Trainer is the whole step a user gets: its optimizer (``deep.train.fastest``: fused Adam
where torch has it), the batch lookup (here a data set whose ``images`` returns the fixed batch),
the step's seeded noise generator, the objective's terms returned as floats, and the
non-finite-loss check. Paired rounds, interleaved; min / median / max of the per-round ratios.

    .venv/bin/python benchmarks/bench_train.py [--steps 30] [--threads 1]
"""

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from _timing import spread
from deep.data import DSprites
from deep.models import VAEConfig, build_objective, build_vae
from deep.train import TrainConfig, Trainer, seeded_init

SIZES = ((1200, 64), (1200, 256), (128, 64))      # (hidden, batch): Table 1's MLP; the quick width


class _Fixed:
    """A data set of ``n`` items whose every batch is ``x`` (the batch is rendered once)."""

    def __init__(self, x, n):
        self.x, self.n = x, n

    def __len__(self):
        return self.n

    def images(self, idx):
        return self.x


def hand_model(hidden, latent=10):
    enc = nn.Sequential(nn.Flatten(), nn.Linear(4096, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                        nn.ReLU(), nn.Linear(hidden, 2 * latent))
    dec = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                        nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 4096))
    return enc, dec


def one_size(hidden, batch, steps):
    d = DSprites()
    x = d.images(np.random.default_rng(0).integers(0, len(d), batch))
    model = seeded_init(lambda: build_vae(VAEConfig(latent_dim=10, hidden=hidden)), 0)
    trainer = Trainer(model, build_objective("beta-vae", 4.0), _Fixed(x, 10 ** 6),
                      TrainConfig(epochs=1, batch_size=batch), "cpu")
    enc, dec = seeded_init(lambda: hand_model(hidden), 0)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-3, fused=True)
    xt = torch.from_numpy(x)
    g = torch.Generator().manual_seed(0)

    def hand():
        h = enc(xt)
        mu, lv = h[:, :10], h[:, 10:]
        z = mu + torch.exp(0.5 * lv) * torch.randn(mu.shape, generator=g)
        rec = F.binary_cross_entropy_with_logits(dec(z).view(-1, 1, 64, 64), xt,
                                                 reduction="sum") / xt.shape[0]
        kl = 0.5 * (mu ** 2 + lv.exp() - lv - 1).sum(1).mean()
        loss = rec + 4.0 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    times = {"ours": [], "hand": []}
    for i in range(steps + 3):                 # interleaved; the first 3 rounds warm up
        for name, fn in (("ours", trainer.run_step), ("hand", hand)):
            t0 = time.perf_counter()
            fn()
            if i >= 3:
                times[name].append(time.perf_counter() - t0)
    ours, hand_t = np.array(times["ours"]), np.array(times["hand"])
    print(f"hidden {hidden}, batch {batch}: Trainer.run_step {np.median(ours) * 1e3:.1f} ms, "
          f"fused-Adam hand loop {np.median(hand_t) * 1e3:.1f} ms; ratio "
          f"{spread(ours / hand_t, fmt='{:.3f}')} (min / median / max; target <= 1.10)")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"MLP β-VAE training step, {args.threads} thread(s), {args.steps} paired rounds")
    for hidden, batch in SIZES:
        one_size(hidden, batch, args.steps)


if __name__ == "__main__":
    main()
