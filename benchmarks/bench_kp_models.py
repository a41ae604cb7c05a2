"""Speed of the Kumar & Poole 2020 training objectives through the VAE models, printed as ratios.

1. a GRAE≈ step (eq 14, one sampled Jacobian column) vs a plain autoencoder step (the same model,
   reconstruction loss of the posterior mean only), and vs its floor: the autoencoder step plus
   one more decoder pass, forward and backward, at a second code (any GRAE≈ must push a tangent
   through the decoder and back; App. D's decoder holds ≈80 % of the CNN's multiply-adds, which
   puts the ratio to the plain autoencoder near 1.8×); target: within 10 % of the floor;
2. a β-VAE step with a block-diagonal posterior (b = 2, 3, full) vs the diagonal one; target ≤ 1.2×.

The models are App. D's MNIST CNN (``arch="elu-cnn"``) on 28 × 28 inputs, d = 12, batch 64;
``--arch elu-mlp`` times the ELU MLP at a paper-like width (1024, 512) instead. Each step is the
fastest of ``--reps`` after one warm-up (a CNN step is seconds on a CPU).

    .venv/bin/python benchmarks/bench_kp_models.py [--arch elu-cnn|elu-mlp] [--reps 3]
"""

import argparse

import time

import torch

from deep.models import VAEConfig, build_objective, build_vae


def _step_time(model, loss_fn, x, reps=10):
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss_fn(model, x, torch.Generator().manual_seed(i)).backward()
        opt.step()

    step(0)
    best = float("inf")
    for i in range(reps):
        t = time.perf_counter()
        step(i + 1)
        best = min(best, time.perf_counter() - t)
    return best


def _floor_loss(m, x, g):
    """The autoencoder's loss plus a second decoder pass at a perturbed code: the least work a
    GRAE≈ step does (a decoder tangent forward and its backward)."""
    z = m.encode_mean(x)
    v = torch.randn(z.shape, generator=g)
    return ((x - m.decode(z)).pow(2).sum((1, 2, 3)).mean()
            + m.decode(z + 1e-3 * v).pow(2).sum((1, 2, 3)).mean())


def _model(posterior, arch, d=12, side=28):
    torch.manual_seed(0)
    widths = (1024, 512) if arch == "elu-mlp" else None
    return build_vae(VAEConfig(arch, latent_dim=d, image_size=side, likelihood="gaussian",
                               widths=widths, posterior=posterior))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="elu-cnn", choices=("elu-cnn", "elu-mlp"))
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be positive")
    arch, reps = args.arch, args.reps
    print(f"{arch}, 28 x 28, d = 12, batch 64, {torch.get_num_threads()} threads")
    x = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    ae = lambda m, x, g: (x - m.decode(m.encode_mean(x))).pow(2).sum((1, 2, 3)).mean()  # noqa: E731
    grae = build_objective("grae-approx", 0.1)
    t_ae = _step_time(_model("diagonal", arch), ae, x, reps)
    t_g = _step_time(_model("diagonal", arch), lambda m, x, g: grae(m, x, g).loss, x, reps)
    t_floor = _step_time(_model("diagonal", arch), _floor_loss, x, reps)
    print(f"GRAE≈ step / autoencoder step: {t_g / t_ae:.2f}x  ({t_g * 1e3:.1f} ms vs {t_ae * 1e3:.1f} ms)")
    print(f"GRAE≈ step / its floor (autoencoder + one more decoder pass): {t_g / t_floor:.2f}x  "
          f"({t_floor * 1e3:.1f} ms; target <= 1.1x)")
    bv = build_objective("beta-vae", 0.1)
    t_diag = _step_time(_model("diagonal", arch), lambda m, x, g: bv(m, x, g).loss, x, reps)
    for post in ("block:2", "block:3", "full"):
        t = _step_time(_model(post, arch), lambda m, x, g: bv(m, x, g).loss, x, reps)
        print(f"β-VAE step, {post} / diagonal posterior: {t / t_diag:.2f}x  ({t * 1e3:.1f} ms vs "
              f"{t_diag * 1e3:.1f} ms; target <= 1.2x)")


if __name__ == "__main__":
    main()
