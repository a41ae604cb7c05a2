"""Procedural dSprites: the 2D-shapes dataset of Higgins et al. 2017, sec. 4.2.

737,280 binary 64x64 images, the Cartesian product of

====== ======== ======================================================
index  factor   values
====== ======== ======================================================
0      shape    square, ellipse, heart (3)
1      scale    ``linspace(0.5, 1, 6)`` (6)
2      rotation ``2*pi*k/40``, k = 0..39, i.e. 40 values over [0, 2*pi)
3      pos_x    32 values
4      pos_y    32 values
====== ======== ======================================================

(Higgins et al. 2017, sec. 4.2; Matthey et al. 2017).  The original archive
cannot be downloaded here, so the images are *rendered*, deterministically:

* pixel ``(r, c)`` covers ``[c, c+1) x [r, r+1)`` (x to the right, y down);
* the sprite centre is ``8.75 + 1.5 * i`` pixels for position index ``i``
  (so the centre sweeps 8.75 .. 55.25 px, 1.5 px per step);
* a shape of scale ``s`` fits in a disc of radius ``8 * s`` pixels: the square
  has half-side ``0.7`` (corners at radius 0.99), the ellipse semi-axes
  ``(1, 0.5)``, the heart is the sextic ``(x^2+y^2-1)^3 - x^2 y^3 <= 0``
  centred at ``(0, 0.2)`` and divided by 1.3 (radius <= 0.985);
* a rotation by ``theta`` maps an image offset ``d`` to shape coordinates
  ``u = R(-theta) d / (8 s)``;
* anti-aliasing: coverage is the fraction of an ``8 x 8`` grid of sub-pixel
  centres inside the shape; the **binary** images (default, as in dSprites)
  threshold the coverage at 1/2, the **grey** ones keep it (``binary=False``).

Because a position step is 1.5 px, the sub-pixel phase of a centre is 3/4 for
even and 1/4 for odd position indices; every image is therefore an integer
translate of one of ``3 * 6 * 40 * 2 * 2 = 2880`` pre-rendered 18x18 patches.
That makes rendering a copy (the full dataset renders in seconds) while each
patch is still computed from the shape's implicit equation.
"""

from __future__ import annotations

__all__ = ["IMAGE_SIZE", "FULL_FACTOR_SIZES", "FACTOR_NAMES", "SHAPES", "SUPERSAMPLE",
           "CACHE_VERSION", "factor_values", "patch_table", "DSprites",
           "render_full_uint8", "render_full", "render_packed"]

import functools
import os
import tempfile
from pathlib import Path

import numpy as np

from deep.data import ground_truth as gt

IMAGE_SIZE = 64
FULL_FACTOR_SIZES = (3, 6, 40, 32, 32)
FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
SHAPES = ("square", "ellipse", "heart")
SUPERSAMPLE = 8
_PATCH = 18          # patch side (px): covers floor(c) - 9 .. floor(c) + 8
_PAD = 9             # canvas padding so every patch lands inside the canvas
_RADIUS_PX = 8.0     # radius (px) of the disc holding a scale-1 sprite
CACHE_VERSION = 1


def factor_values() -> dict[str, np.ndarray]:
    """Continuous value of every factor level of the *full* grid (Higgins sec. 4.2)."""
    pos = 8.75 + 1.5 * np.arange(32)
    return {"shape": np.arange(3, dtype=float),
            "scale": np.linspace(0.5, 1.0, 6),
            "orientation": 2 * np.pi * np.arange(40) / 40,
            "pos_x": pos, "pos_y": pos.copy()}


def _inside(shape: int, u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Indicator of the unit-size shape in shape coordinates (u2 points down the image)."""
    if shape == 0:  # square, half-side 0.7
        return np.maximum(np.abs(u1), np.abs(u2)) <= 0.7
    if shape == 1:  # ellipse, semi-axes 1 and 0.5
        return u1 ** 2 + (u2 / 0.5) ** 2 <= 1.0
    # heart: (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0 with y pointing up, centred at (0, 0.2), /1.3
    x = 1.3 * u1
    y = 1.3 * (-u2) + 0.2
    return (x ** 2 + y ** 2 - 1.0) ** 3 - x ** 2 * y ** 3 <= 0.0


def _atomic_save(path: Path, arr: np.ndarray) -> None:
    """``np.save`` to a temporary file beside ``path``, then an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npy")
    os.close(fd)
    try:
        np.save(tmp, arr)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _table_cache_dir() -> Path:
    """Where :func:`patch_table` keeps its table between processes: ``$BETALAB_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/betalab``, else ``~/.cache/betalab``."""
    if os.environ.get("BETALAB_CACHE_DIR"):
        return Path(os.environ["BETALAB_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "betalab"


def _table_digest() -> str:
    """Digest of everything the table depends on: the source of the rendering functions and
    their constants, so a changed renderer never reads an old table."""
    import hashlib
    import inspect

    text = inspect.getsource(_compute_patch_table) + inspect.getsource(_inside) + repr(
        (SUPERSAMPLE, _PATCH, _PAD, _RADIUS_PX, factor_values()["scale"].tolist(),
         factor_values()["orientation"].tolist()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def patch_table() -> np.ndarray:
    """The table of :func:`_compute_patch_table`, computed once per machine: it takes seconds
    and every process that renders needs it (test workers, notebook kernels, sweep workers), so
    it is kept in :func:`_table_cache_dir` under a digest of the renderer's source, written
    atomically; an unreadable or malformed file is recomputed, an unwritable directory only
    skips the write."""
    shape = (3, 6, 40, 2, 2, _PATCH, _PATCH)
    path = _table_cache_dir() / f"dsprites_patch_{_table_digest()}.npy"
    try:
        table = np.load(path, allow_pickle=False)
        if table.dtype != np.uint8 or table.shape != shape:
            raise ValueError("malformed")
    except (OSError, ValueError, EOFError):
        table = _compute_patch_table()
        try:
            _atomic_save(path, table)
        except OSError:
            pass
    table.setflags(write=False)
    return table


def _compute_patch_table() -> np.ndarray:
    """Coverage counts of every (shape, scale, orientation, phase_x, phase_y) patch.

    Returns
    -------
    table : ndarray of uint8, shape (3, 6, 40, 2, 2, 18, 18)
        Number of the ``SUPERSAMPLE**2 = 64`` sub-pixel centres of each pixel
        inside the sprite; phase 0 is a centre fraction of 3/4 px, phase 1 of 1/4.
        Patch pixel ``j`` covers ``[floor(c) - 9 + j, floor(c) - 8 + j)``.
    """
    ss = SUPERSAMPLE
    sub = (np.arange(_PATCH * ss) + 0.5) / ss          # sub-pixel centres in patch coords
    scales = factor_values()["scale"]
    thetas = factor_values()["orientation"]
    table = np.zeros((3, 6, 40, 2, 2, _PATCH, _PATCH), dtype=np.uint8)
    cos, sin = np.cos(thetas)[:, None, None], np.sin(thetas)[:, None, None]
    for px, fx in enumerate((0.75, 0.25)):
        dx = (sub - (_PAD + fx))[None, None, :]
        for py, fy in enumerate((0.75, 0.25)):
            dy = (sub - (_PAD + fy))[None, :, None]
            for si, s in enumerate(scales):
                r = _RADIUS_PX * s
                u1 = (cos * dx + sin * dy) / r              # R(-theta) d / r
                u2 = (-sin * dx + cos * dy) / r
                for shape in range(3):
                    ins = _inside(shape, u1, u2)             # (40, 144, 144)
                    cnt = ins.reshape(40, _PATCH, ss, _PATCH, ss).sum(axis=(2, 4))
                    table[shape, si, :, px, py] = cnt
    return table


def _check_positive_divisor(name: str, value, full: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1 \
            or full % value:
        raise ValueError(f"{name} must be a positive divisor of {full}, got {value!r}")
    return int(value)


class DSprites:
    """Procedural dSprites (Higgins et al. 2017, sec. 4.2), lazily rendered.

    Parameters
    ----------
    n_scales, n_orientations, n_positions : int
        Sizes of a reduced grid: every ``6 // n_scales``-th scale (etc.) of the
        full grid, so a reduced dataset's images are images of the full one.
        Defaults give the full ``(3, 6, 40, 32, 32)`` grid of 737,280 images.
    binary : bool
        Threshold the anti-aliased coverage at 1/2 (dSprites is binary) or keep
        the grey coverage in [0, 1].
    cache_dir : str or Path, optional
        Where :meth:`build_cache` writes, and from where the dataset then reads,
        a bit-packed copy of every image (binary only).

    ``dataset[i]`` returns ``(image, factors)``: a float32 tensor of shape
    (1, 64, 64) and an int64 tensor of shape (5,).
    """

    factor_names = FACTOR_NAMES

    def __init__(self, n_scales: int = 6, n_orientations: int = 40, n_positions: int = 32,
                 *, binary: bool = True, cache_dir=None):
        n_scales = _check_positive_divisor("n_scales", n_scales, 6)
        n_orientations = _check_positive_divisor("n_orientations", n_orientations, 40)
        n_positions = _check_positive_divisor("n_positions", n_positions, 32)
        if not isinstance(binary, bool):
            raise TypeError("binary must be a bool")
        self.binary = binary
        self.factor_sizes = (3, n_scales, n_orientations, n_positions, n_positions)
        self._stride = np.array([f // s for f, s in zip(FULL_FACTOR_SIZES, self.factor_sizes)],
                                dtype=np.int64)
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self._packed = None
        if self.cache_dir is not None and self.cache_path.exists():
            self._packed = self._load_cache()

    @classmethod
    def reduced(cls, **kwargs) -> "DSprites":
        """The quick-test grid (3, 6, 10, 8, 8): 11,520 images."""
        return cls(n_scales=6, n_orientations=10, n_positions=8, **kwargs)

    # ----------------------------------------------------------------- protocol
    def __len__(self) -> int:
        return int(np.prod(self.factor_sizes))

    @property
    def num_factors(self) -> int:
        return len(self.factor_sizes)

    def index_of(self, factors) -> np.ndarray:
        """Grid index of factor vectors (n, 5) -> (n,) int64 (row-major, as dSprites)."""
        return gt.index_of(factors, self.factor_sizes)

    def factors_of(self, index) -> np.ndarray:
        """Factor vectors (n, 5) of grid indices (n,)."""
        return gt.factors_of(index, self.factor_sizes)

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n factor vectors drawn uniformly from the grid, (n, 5) int64."""
        return gt.sample_uniform_factors(n, self.factor_sizes, rng)

    def factor_values(self) -> dict[str, np.ndarray]:
        """Continuous values of this grid's factor levels."""
        full = factor_values()
        return {k: full[k][:: int(st)] for k, st in zip(FACTOR_NAMES, self._stride)}

    def render(self, factors) -> np.ndarray:
        """Images of factor vectors: (n, 5) -> float32 (n, 1, 64, 64) in [0, 1]."""
        f = gt.check_factors(factors, self.factor_sizes)
        if self._packed is not None:
            return self._from_cache(self.index_of(f))
        return render_full(f * self._stride, binary=self.binary)

    def images(self, index) -> np.ndarray:
        """Images of grid indices: (n,) -> float32 (n, 1, 64, 64)."""
        f = self.factors_of(index)  # validates index by name
        if self._packed is not None:
            return self._from_cache(self.index_of(f))
        return self.render(f)

    def __getitem__(self, i):
        import torch

        if not isinstance(i, (int, np.integer)) or isinstance(i, bool):
            raise TypeError(f"index must be an int, got {type(i).__name__}")
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} out of range for a dataset of {len(self)} images")
        f = self.factors_of(np.array([i]))
        return torch.from_numpy(self.render(f)[0]), torch.from_numpy(f[0])

    def materialize(self, progress: bool = False) -> "DSprites":
        """Render every image once and keep it bit-packed in memory (512 bytes per image:
        5.9 MB for the reduced grid, 377 MB for the full one); later batches are unpacked from
        memory instead of rendered. Same images as the lazy path (tested). Binary only.
        Returns ``self``."""
        if not self.binary:
            raise ValueError("materialize: only binary images are kept packed (binary=True)")
        if self._packed is None:
            self._packed = render_packed(self, progress=progress)
        return self

    def packed_images(self) -> np.ndarray:
        """Every image bit-packed, uint8 (len, 512) in index order (``np.packbits`` bit order,
        most significant bit first); materialises the dataset if needed. Binary only."""
        self.materialize()
        return np.asarray(self._packed)

    # -------------------------------------------------------------------- cache
    @property
    def cache_path(self) -> Path:
        if self.cache_dir is None:
            raise ValueError("this dataset has no cache_dir")
        sizes = "x".join(map(str, self.factor_sizes))
        return self.cache_dir / f"dsprites_v{CACHE_VERSION}_{sizes}.npy"

    def build_cache(self, chunk: int = 16384, progress: bool = False) -> Path:
        """Render every image once and store it bit-packed (512 bytes/image), atomically."""
        if not self.binary:
            raise ValueError("only binary images can be cached (bit-packed)")
        path = self.cache_path
        _atomic_save(path, render_packed(self, chunk=chunk, progress=progress))
        self._packed = self._load_cache()
        return path

    def _load_cache(self) -> np.ndarray:
        try:
            arr = np.load(self.cache_path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as err:
            raise ValueError(f"corrupted dSprites cache {self.cache_path}: {err}") from None
        if arr.dtype != np.uint8 or arr.shape != (len(self), IMAGE_SIZE * IMAGE_SIZE // 8):
            raise ValueError(f"corrupted dSprites cache {self.cache_path}: shape {arr.shape}")
        return arr

    def _from_cache(self, idx: np.ndarray) -> np.ndarray:
        bits = np.unpackbits(np.asarray(self._packed[np.sort(idx)]), axis=1)
        order = np.argsort(np.argsort(idx, kind="stable"), kind="stable")
        return bits[order].reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE).astype(np.float32)


def render_full_uint8(factors_full: np.ndarray) -> np.ndarray:
    """Coverage counts (0..64) of full-grid factor vectors; (n, 5) -> uint8 (n, 64, 64).

    Every factor must index the full grid :data:`FULL_FACTOR_SIZES` (positions 0..31 are the
    32 pixel positions in [0, 1)); anything else is a ValueError naming ``factors``."""
    f = gt.check_factors(factors_full, FULL_FACTOR_SIZES, name="factors_full")
    n = f.shape[0]
    table = patch_table()
    c4 = 35 + 6 * f[:, 3:5]                      # centres in quarter pixels: 4 * (8.75 + 1.5 i)
    top_left = c4 // 4                           # floor(c) - 9 + PAD
    phase = (c4 % 4 == 1).astype(np.int64)       # 3/4 -> phase 0, 1/4 -> phase 1
    patches = table[f[:, 0], f[:, 1], f[:, 2], phase[:, 0], phase[:, 1]]   # (n, 18, 18)
    canvas = np.zeros((n, IMAGE_SIZE + 2 * _PAD, IMAGE_SIZE + 2 * _PAD), dtype=np.uint8)
    ar = np.arange(_PATCH)
    rows = top_left[:, 1, None, None] + ar[None, :, None]
    cols = top_left[:, 0, None, None] + ar[None, None, :]
    canvas[np.arange(n)[:, None, None], rows, cols] = patches
    return canvas[:, _PAD:_PAD + IMAGE_SIZE, _PAD:_PAD + IMAGE_SIZE]


def render_full(factors_full: np.ndarray, binary: bool = True) -> np.ndarray:
    """Images of full-grid factor vectors, float32 (n, 1, 64, 64)."""
    if not isinstance(binary, (bool, np.bool_)):
        raise TypeError(f"binary must be a bool, got {type(binary).__name__}")
    cnt = render_full_uint8(factors_full)
    ss2 = SUPERSAMPLE ** 2
    img = (cnt * 2 >= ss2) if binary else cnt / np.float32(ss2)
    return img.astype(np.float32)[:, None]


def render_packed(dataset: DSprites, chunk: int = 16384, progress: bool = False) -> np.ndarray:
    """Every binary image of ``dataset``, bit-packed: uint8 (len, 512)."""
    if not isinstance(dataset, DSprites):
        raise TypeError(f"dataset must be a DSprites, got {type(dataset).__name__}")
    if not isinstance(chunk, (int, np.integer)) or isinstance(chunk, (bool, np.bool_)) or chunk < 1:
        raise ValueError(f"chunk must be a positive int, got {chunk!r}")
    n = len(dataset)
    out = np.empty((n, IMAGE_SIZE * IMAGE_SIZE // 8), dtype=np.uint8)
    half = SUPERSAMPLE ** 2 // 2
    starts = range(0, n, chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="render dSprites", unit="chunk")
    for s in starts:
        idx = np.arange(s, min(s + chunk, n))
        cnt = render_full_uint8(dataset.factors_of(idx) * dataset._stride)
        out[s:s + len(idx)] = np.packbits((cnt >= half).reshape(len(idx), -1), axis=1)
    return out
