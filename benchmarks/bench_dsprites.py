"""Rendering dSprites (deep.data.dsprites.render_packed) per image, against a naive peer and
against the physical limit.

Peers and their configuration
-----------------------------
* naive: each image rendered directly, 8 × 8-supersampled over the whole 64 × 64 canvas
  (numpy, vectorised within the image, a Python loop over images), on images of the same data
  set; its result is checked bit for bit against betalab's. It is timed on ``--peer-images``
  images and reported per image (no extrapolation to the full set).
* limits: copying betalab's output (the bit-packed uint8 array, 512 bytes per image) with
  ``np.copyto`` — no renderer can write its output faster than memory can copy it; and copying
  the same images unpacked as a uint8 array (4096 bytes per image, one byte per pixel).

Default: the reduced grid 3 × 6 × 10 × 16 × 16 = 46,080 images (``--full``: all 737,280; target
≤ 60 s on 2 cores); the full-set time at the measured per-image rate is printed. The patch table
(built once per process) is timed separately. Rounds interleave the three, paired.

    .venv/bin/python benchmarks/bench_dsprites.py [--peer-images 40] [--repeats 3] [--full]
"""

import argparse
import time

import numpy as np

from _timing import interleaved, ratio, spread
from deep.data import DSprites
from deep.data import dsprites as ds


def direct_render(f):
    ss = ds.SUPERSAMPLE
    sub = (np.arange(64 * ss) + 0.5) / ss
    vals = ds.factor_values()
    th, r = vals["orientation"][f[2]], 8.0 * vals["scale"][f[1]]
    dx, dy = sub[None, :] - vals["pos_x"][f[3]], sub[:, None] - vals["pos_y"][f[4]]
    u1 = (np.cos(th) * dx + np.sin(th) * dy) / r
    u2 = (-np.sin(th) * dx + np.cos(th) * dy) / r
    return ds._inside(int(f[0]), u1, u2).reshape(64, ss, 64, ss).sum(axis=(1, 3)) * 2 >= ss * ss


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--peer-images", type=int, default=40)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--full", action="store_true", help="render all 737,280 images")
    args = p.parse_args()
    d = DSprites() if args.full else DSprites(n_orientations=10, n_positions=16)
    t0 = time.perf_counter()
    ds.patch_table()
    t_table = time.perf_counter() - t0
    packed = ds.render_packed(d)
    dst = np.empty_like(packed)
    img = np.unpackbits(packed, axis=1)                 # (n, 4096) uint8
    img_dst = np.empty_like(img)
    idx = np.random.default_rng(0).choice(len(d), args.peer_images, replace=False)
    f_full = d.factors_of(idx) * d._stride               # the same images in full-grid indices
    same = all(np.array_equal(np.unpackbits(packed[i]).reshape(64, 64), direct_render(f))
               for i, f in zip(idx, f_full))
    t = interleaved({"ours": lambda: ds.render_packed(d),
                     "copy": lambda: np.copyto(dst, packed),
                     "copy8": lambda: np.copyto(img_dst, img),
                     "peer": lambda: [direct_render(f) for f in f_full]}, repeats=args.repeats, warmup=0)
    per = {k: v / len(d) for k, v in t.items()}
    per["peer"] = t["peer"] / args.peer_images
    n_full = 3 * 6 * 40 * 32 * 32
    print(f"render {len(d):,} images ({'x'.join(map(str, d.factor_sizes))}), {args.repeats} paired rounds, "
          f"patch table {t_table:.2f} s once:")
    print(f"  betalab  {spread(per['ours'], 1e6)} us per image  (all {n_full:,}: "
          f"~{np.median(per['ours']) * n_full:.0f} s at this rate; target <= 60 s)")
    print(f"  naive    {spread(per['peer'], 1e6)} us per image  ({args.peer_images} images; "
          f"identical to betalab's: {same})")
    print(f"  memcpy   {spread(per['copy'], 1e6, fmt='{:.3f}')} us per image  ({packed.nbytes / 2**20:.0f} MiB)")
    print(f"  memcpy   {spread(per['copy8'], 1e6, fmt='{:.3f}')} us per image  unpacked uint8 "
          f"({img.nbytes / 2**20:.0f} MiB)")
    print(f"  naive / betalab {spread(ratio(per, 'peer', 'ours'), fmt='{:.0f}')}x; "
          f"betalab / memcpy limit {spread(ratio(per, 'ours', 'copy'), fmt='{:.0f}')}x (packed), "
          f"{spread(ratio(per, 'ours', 'copy8'), fmt='{:.1f}')}x (unpacked uint8)")


if __name__ == "__main__":
    main()
