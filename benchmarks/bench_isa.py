"""One training step of the ISA-VAE (Stühmer et al. 2020, eq. 12: Lp-nested prior, Monte Carlo
KL) against a β-VAE step of the same network (closed-form KL), on the paper's dSprites MLP
(App. A.4: 4096-1200-1200-40 / 20-1200-1200-1200-4096, 20 latents, Table 1). Target: the ISA
step costs at most 1.2× the β-VAE step. Also: the prior's log-density alone, forward+backward,
on a (batch, 20) tensor, as a fraction of the β-VAE step.

No peer exists to compare with: the only public ISA-VAE code cannot run (its prior package was
never published), so the baseline is the β-VAE of the same network.

    .venv/bin/python benchmarks/bench_isa.py [--batch 256] [--steps 15] [--threads 2]
"""

import argparse
import time

import numpy as np
import torch

from deep.data import DSprites
from deep.models import VAEConfig, build_objective, build_vae
from deep.train import TrainConfig, parameter_groups, seeded_init, step_generator, train_step


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=15)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    d = DSprites()
    x = torch.from_numpy(d.images(np.random.default_rng(0).integers(0, len(d), args.batch)))
    setups = {
        "beta-vae": ("beta-vae", dict(prior="normal")),
        "isa-vae": ("isa-vae", dict(prior="isa")),
        "isa-vae, learned exponents": ("isa-vae", dict(prior="isa:2.1;5*2x4", learn_exponents=True)),
    }
    runs = {}
    for name, (obj_name, kw) in setups.items():
        model = seeded_init(lambda: build_vae(VAEConfig(latent_dim=20, hidden=1200, **kw)), 0)
        opt = torch.optim.Adam(parameter_groups(model, TrainConfig()), lr=1e-3)
        runs[name] = (model, build_objective(obj_name, 1.0), opt)
    times = {k: [] for k in runs}
    for i in range(args.steps + 2):                      # interleaved; the first 2 are warm-up
        for name, (model, obj, opt) in runs.items():
            t0 = time.perf_counter()
            train_step(model, obj, opt, None, x, step_generator(0, i), i)
            if i >= 2:
                times[name].append(time.perf_counter() - t0)
    med = {k: float(np.median(v)) for k, v in times.items()}
    prior = runs["isa-vae"][0].prior
    z = torch.randn(args.batch, 20, requires_grad=True)
    t_prior = []
    for _ in range(50):
        t0 = time.perf_counter()
        prior.log_prob(z).sum().backward()
        t_prior.append(time.perf_counter() - t0)
    print(f"Paper MLP, 20 latents, batch {args.batch}, {args.threads} threads, median of {args.steps}:")
    for k, v in med.items():
        print(f"  {k:28s} {v * 1e3:8.1f} ms   ratio to beta-vae {v / med['beta-vae']:.3f}"
              + ("  (target <= 1.20)" if k != "beta-vae" else ""))
    print(f"  prior log_prob fwd+bwd       {np.median(t_prior) * 1e3:8.3f} ms   "
          f"= {np.median(t_prior) / med['beta-vae']:.4f} of a beta-vae step")


if __name__ == "__main__":
    main()
