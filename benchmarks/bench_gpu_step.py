"""The step of a 10-member Table-1 ensemble on a GPU against its floors, per precision and batch.

The measurement issue 31 asks of a lent GPU, prepared to run in one go (and tested on a CPU at a
small width, ``--small``):

* **the step** of K = 10 MLP β-VAEs of Higgins et al. 2017, App. Table 1 (encoder 4096–1200–1200,
  10 latents, decoder 1200–1200–1200–4096) trained as one batched ensemble
  (``deep.ensemble.Ensemble``; ``bf16`` trains the members one after another,
  ``SequentialMembers``, since autocast does not reach inside vmap), at batch 64 (Higgins'
  Adagrad) and 2048 (Stühmer et al. 2020, Table 1), for ``fp32``, ``tf32`` and ``bf16``;
* **its floors**: FLOP floor = 3 × 2 × K × B × (multiply-adds of one image's forward pass)
  (backward ≈ 2× forward) at the device's dense peak for the precision; memory-traffic floor =
  K × P × 4 bytes × 7 (weights read by the forward and the backward pass, gradients written
  and read, the optimizer's two moments read and written... counted as 7 passes over P float32
  parameters) at the device's memory bandwidth. The step's ratio to the larger floor is printed;
* **agreement**: the mean final loss of the K members after ``--check-steps`` steps in each
  precision against fp32's, in units of fp32's spread over the members' seeds;
* **the projection**: Higgins' Fig. 5 (left) trained rows at full length — 20 models × 311,040
  steps at batch 64 — as 2 ensembles of 10 one after another at the measured step.

Peaks (dense, per NVIDIA's data sheets): H100 SXM fp32 67, tf32 495, bf16 989 TFLOP/s, HBM3
3.35 TB/s; H200 the same compute, 4.8 TB/s. Another device prints the times without floors.

    .venv/bin/python benchmarks/bench_gpu_step.py                 # on the GPU
    .venv/bin/python benchmarks/bench_gpu_step.py --device cpu --small --steps 3 --check-steps 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from deep.data import DSprites
from deep.ensemble import Ensemble, SequentialMembers, build_members
from deep.models import VAEConfig
from deep.train import TrainConfig

PEAKS = {  # name substring: ({precision: dense FLOP/s}, bytes/s)
    "H100": ({"fp32": 67e12, "tf32": 495e12, "bf16": 989e12}, 3.35e12),
    "H200": ({"fp32": 67e12, "tf32": 495e12, "bf16": 989e12}, 4.8e12),
}
HIGGINS_STEPS, HIGGINS_MODELS = 311_040, 20


def macs_per_image(hidden: int, latent: int = 10, pixels: int = 4096) -> int:
    enc = pixels * hidden + hidden * hidden + hidden * 2 * latent
    dec = latent * hidden + 2 * hidden * hidden + hidden * pixels
    return enc + dec


def _ensemble(k, hidden, batch, precision, device, data):
    members = [{"seed": s, "beta": 4.0} for s in range(k)]
    models, objectives, seeds = build_members(VAEConfig(latent_dim=10, hidden=hidden), "beta-vae",
                                              members, dataset_size=len(data))
    engine = SequentialMembers if precision == "bf16" else Ensemble
    return engine(models, objectives, seeds, data, TrainConfig(epochs=10 ** 4, batch_size=batch),
                  device, precision)


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def step_seconds(ens, steps, device) -> float:
    for _ in range(3):
        ens.run_step()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        ens.run_step()
    _sync(device)
    return (time.perf_counter() - t0) / steps


def final_losses(ens, steps) -> np.ndarray:
    out = None
    for _ in range(steps):
        out = ens.run_step()
    return out["loss"].detach().cpu().double().numpy()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--batches", type=int, nargs="+", default=[64, 2048])
    p.add_argument("--precisions", nargs="+", default=["fp32", "tf32", "bf16"])
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--check-steps", type=int, default=300)
    p.add_argument("--small", action="store_true", help="hidden 64 (a CPU check of the script)")
    a = p.parse_args()
    from deep.precision import resolve_precision

    hidden = 64 if a.small else 1200
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("bench_gpu_step: no CUDA device here, nothing to measure (a check of the script: "
              "--device cpu --small --steps 3 --check-steps 5)")
        return
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peaks = next((v for k, v in PEAKS.items() if k in name), None)
    data = DSprites(n_scales=2, n_orientations=4, n_positions=16) if a.small else DSprites()
    params = macs_per_image(hidden)        # an MLP uses each weight once per image (biases aside)
    print(f"{name}: K = {a.members} members, MLP hidden {hidden}, {params / 1e6:.1f} M parameters each")
    for precision in a.precisions:
        try:
            resolve_precision(precision, device)
        except ValueError as err:
            print(f"  {precision}: skipped ({err})")
            continue
        for batch in a.batches:
            ens = _ensemble(a.members, hidden, batch, precision, device, data)
            t = step_seconds(ens, a.steps, device)
            line = f"  {precision:5s} batch {batch:5d}: {t * 1e3:8.2f} ms per step"
            if peaks is not None:
                flop = 6 * a.members * batch * macs_per_image(hidden)
                floor_c = flop / peaks[0][precision]
                floor_m = a.members * params * 4 * 7 / peaks[1]
                line += (f"; floors: compute {floor_c * 1e3:.2f} ms, memory {floor_m * 1e3:.2f} ms; "
                         f"{t / max(floor_c, floor_m):.1f}x the larger")
            if batch == 64:
                hours = HIGGINS_MODELS / a.members * HIGGINS_STEPS * t / 3600
                line += f"; Higgins Fig. 5 (left) at full length ≈ {hours:.1f} h"
            print(line, flush=True)
    # agreement of the precisions' trained members (same seeds, same batches)
    ref = None
    for precision in a.precisions:
        try:
            resolve_precision(precision, device)
        except ValueError:
            continue
        loss = final_losses(_ensemble(a.members, hidden, a.batches[0], precision, device, data),
                            a.check_steps)
        if ref is None:
            ref = loss
            print(f"  after {a.check_steps} steps at batch {a.batches[0]}: {precision} mean loss "
                  f"{loss.mean():.3f}, spread over seeds (sd) {loss.std(ddof=1):.3f}")
        else:
            gap = (loss.mean() - ref.mean()) / ref.std(ddof=1)
            print(f"  {precision}: mean loss {loss.mean():.3f}, {gap:+.2f} fp32 seed sd from fp32's")


if __name__ == "__main__":
    main()
