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

(Higgins et al. 2017, sec. 4.2; Matthey et al. 2017).  The archive
``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` cannot be downloaded here, so the images are
*rendered*, deterministically, with a geometry measured on public archive images: "GIF" below
is ``dsprites.gif`` of github.com/google-deepmind/dsprites-dataset (320 binary 64x64 archive
frames: a heart, an ellipse and a square at posX = posY = 0 swept over scale and over rotation,
and the heart swept over both positions), "NB" that repository's
``dsprites_reloading_example.ipynb`` with its stored outputs, "#n" its GitHub issue n.
One line per choice, with its source:

* grids: NB prints the archive's ``metadata['latents_possible_values']``: scale
  ``linspace(0.5, 1, 6)``, posX = posY = ``linspace(0, 1, 32)``, orientation
  ``linspace(0, 2*pi, 40)``, whose first and last angles draw one image (#7).  Kept here: 40
  distinct angles ``2*pi*k/40`` (one turn sampled uniformly, as
  :mod:`deep.metrics.latent_response` assumes); level k is ``k * 0.23`` degrees short of the
  archive's, 9 degrees at k = 39.
* pixels: pixel ``(r, c)`` covers ``[c, c+1) x [r, r+1)`` (x to the right, y down).
* position: the archive's sprite centre is ``16 + 32 * posX`` px, and y alike (GIF: the
  heart's columns are 6..25 at posX = 0 and 38..57 at posX = 1; the rotated sprites at
  posX = posY = 0 are symmetric about (16, 16)).  Rendered at the nearest half pixel,
  ``16 + round(64 i / 31) / 2`` for position index ``i`` (16 .. 48 px, off by <= 1/4 px).
* border: no sprite reaches it (NB, density cell: "no pixel ever goes out of the boundary";
  GIF: at posX = posY = 0 the largest sprites ink from pixel 3, i.e. 3 .. 60 over the
  centres 16 .. 48); :func:`calibration_stats` finds inked pixels 3 .. 60 here.
* rotation: counter-clockwise on the displayed image as the angle grows (NB, images at
  0.81 rad: the ellipse's major axis rises to the right, the heart's tip points down-right;
  GIF: 6.6 px per heart frame mismatched this way, 111 px the other way).
* rasterisation: the archive samples each pixel at its centre (Love2D vector drawing, #2;
  "rastering artefacts", #3: the GIF's 46 square frames are matched to 0.17 px per frame by
  centre sampling).  Kept here: the coverage of an ``8 x 8`` sub-pixel grid, thresholded at 1/2
  for the **binary** images (default, as in dSprites) or kept (``binary=False``); it matches
  the same frames to 1.5 px per frame.
* square: half-side ``9.6 s`` px (side 0.3 of the image at scale 1): least pixel mismatch
  with the GIF's 46 square frames (6 scales at 0 rad, 40 angles at scale 1).
* ellipse: semi-axes ``(12.75 s, 7.25 s)`` px, major axis along x at 0 rad (aspect 1.76): the
  same fit to the GIF's 46 ellipse frames (1.0 px per frame left: Love2D draws a polygon).
* heart: no formula is published (#2: a custom Love2D mesh).  Modelled as two disc lobes of
  radius ``5.1 s`` px centred at ``(+-4.5 s, -4.1 s)`` joined to a 45-degree V
  ``{y >= -1 s, |x| <= 8.4 s - y}``, lobes up at 0 rad (px about the sprite centre, which is
  the rotation pivot; y down): the five numbers fitted to the GIF's 110 heart frames (6.7 of
  about 220 px per frame mismatched).
* mean pixel: the archive's global mean over its 737,280 images is 0.042494 (loaders state
  ``mu_dsprites = 0.042494423521889584, std_dsprites = 0.20171427190806362``,
  github.com/ebagdasa/differential-privacy-vs-fairness, ``dpdi/datasets/dsprites.py``; the std
  is ``sqrt(m (1 - m))``, as for binary images).  Nothing is calibrated to it: with the
  geometry above, fixed by the GIF alone, the rendered grid's mean is 0.042676 (+0.43 %,
  :func:`calibration_stats`; the GIF's own frame areas extrapolate to 0.04268).

Because a rendered centre is a whole or a half pixel, every image is an integer translate of
one of ``3 * 6 * 40 * 2 * 2 = 2880`` pre-rendered 30x30 patches.  That makes rendering a copy
(the full dataset renders in seconds) while each patch is still computed from the shape's
implicit equation.
"""

from __future__ import annotations

__all__ = ["IMAGE_SIZE", "FULL_FACTOR_SIZES", "FACTOR_NAMES", "SHAPES", "SUPERSAMPLE",
           "CACHE_VERSION", "factor_values", "patch_table", "calibration_stats", "DSprites",
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
_PATCH = 30          # patch side (px): covers floor(c) - 15 .. floor(c) + 14
_PAD = 15            # canvas padding so every patch lands inside the canvas
# archive geometry in px at scale 1, coordinates about the sprite centre, y down (module docstring)
_POS_FIRST_PX, _POS_SPAN_PX = 16, 32                    # centre = 16 + 32 * posX
_SQUARE_HALF_SIDE = 9.6
_ELLIPSE_SEMI_AXES = (12.75, 7.25)
_HEART_LOBES = (4.5, -4.1, 5.1)                         # centre x (mirrored), centre y, radius
_HEART_TIP, _HEART_V_TOP = 8.4, -1.0                    # 45-degree V: -1 <= y, |x| <= 8.4 - y
CACHE_VERSION = 2


def _centres_half_px() -> np.ndarray:
    """Rendered sprite centres of the 32 position levels, in half pixels (int64):
    ``2 * 16 + round(2 * 32 * i / 31)``, the archive's ``16 + 32 i / 31`` px at the nearest half
    pixel (no ties: ``64 i / 31`` is a half-integer for no ``i``)."""
    i = np.arange(FULL_FACTOR_SIZES[3])
    return 2 * _POS_FIRST_PX + np.rint(2 * _POS_SPAN_PX * i / (len(i) - 1)).astype(np.int64)


def factor_values() -> dict[str, np.ndarray]:
    """Continuous value of every factor level of the *full* grid (Higgins sec. 4.2); positions
    are the rendered sprite centres in pixels (16 .. 48)."""
    pos = _centres_half_px() / 2.0
    return {"shape": np.arange(3, dtype=float),
            "scale": np.linspace(0.5, 1.0, 6),
            "orientation": 2 * np.pi * np.arange(40) / 40,
            "pos_x": pos, "pos_y": pos.copy()}


def _inside(shape: int, u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Indicator of the scale-1 shape at ``(u1, u2)`` px about its centre (u2 points down the
    image), with the sizes fitted to the archive's frames (module docstring)."""
    if shape == 0:  # square
        return np.maximum(np.abs(u1), np.abs(u2)) <= _SQUARE_HALF_SIDE
    if shape == 1:  # ellipse, major axis along x
        a, b = _ELLIPSE_SEMI_AXES
        return (u1 / a) ** 2 + (u2 / b) ** 2 <= 1.0
    # heart: two disc lobes above the centre, and a 45-degree V down to the tip
    lx, ly, lr = _HEART_LOBES
    lobes = (np.abs(u1) - lx) ** 2 + (u2 - ly) ** 2 <= lr * lr
    vee = (u2 >= _HEART_V_TOP) & (np.abs(u1) <= _HEART_TIP - u2)
    return lobes | vee


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
        (CACHE_VERSION, SUPERSAMPLE, _PATCH, _PAD, _SQUARE_HALF_SIDE, _ELLIPSE_SEMI_AXES,
         _HEART_LOBES, _HEART_TIP, _HEART_V_TOP, factor_values()["scale"].tolist(),
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
        if not isinstance(table, np.ndarray):       # an .npz archive under the .npy name
            table.close()
            raise ValueError("not an array")
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

    A pixel offset ``d`` from the sprite centre is in the sprite at scale ``s`` and angle
    ``theta`` when ``u = R(theta) d / s`` is in the scale-1 shape (:func:`_inside`), with
    ``R(theta) = [[cos, -sin], [sin, cos]]`` acting on y-down coordinates: the sprite turns
    counter-clockwise on the displayed image as ``theta`` grows, as in the archive.

    Returns
    -------
    table : ndarray of uint8, shape (3, 6, 40, 2, 2, 30, 30)
        Number of the ``SUPERSAMPLE**2 = 64`` sub-pixel centres of each pixel inside the
        sprite; phase 0 is a centre on a pixel boundary, phase 1 a centre half a pixel past it.
        Patch pixel ``j`` covers ``[floor(c) - 15 + j, floor(c) - 14 + j)``.
    """
    ss = SUPERSAMPLE
    sub = (np.arange(_PATCH * ss) + 0.5) / ss          # sub-pixel centres in patch coords
    scales = factor_values()["scale"]
    thetas = factor_values()["orientation"]
    table = np.zeros((3, 6, 40, 2, 2, _PATCH, _PATCH), dtype=np.uint8)
    cos, sin = np.cos(thetas)[:, None, None], np.sin(thetas)[:, None, None]
    for px, fx in enumerate((0.0, 0.5)):
        dx = (sub - (_PAD + fx))[None, None, :]
        for py, fy in enumerate((0.0, 0.5)):
            dy = (sub - (_PAD + fy))[None, :, None]
            for si, s in enumerate(scales):
                u1 = (cos * dx - sin * dy) / s              # R(theta) d / s
                u2 = (sin * dx + cos * dy) / s
                for shape in range(3):
                    ins = _inside(shape, u1, u2)             # (40, 240, 240)
                    cnt = ins.reshape(40, _PATCH, ss, _PATCH, ss).sum(axis=(2, 4))
                    table[shape, si, :, px, py] = cnt
    return table


def _binary_patches() -> np.ndarray:
    """The binary patches, bool (3, 6, 40, 2, 2, 30, 30): coverage thresholded at 1/2, exactly
    as :func:`render_full` thresholds a translated patch."""
    return patch_table().astype(np.int64) * 2 >= SUPERSAMPLE ** 2


def _position_hits() -> np.ndarray:
    """``hits[p, j]``: how many of the 32 position levels have centre phase ``p`` (0: whole
    pixel, 1: half) and put patch pixel ``j`` inside the image, int64 (2, 30)."""
    c2 = _centres_half_px()
    fl, phase = c2 // 2, c2 % 2                                       # floor(c), its phase
    pix = fl[:, None] - _PAD + np.arange(_PATCH)[None, :]             # image pixel of patch j
    inside = (pix >= 0) & (pix < IMAGE_SIZE)
    return np.stack([(inside & (phase[:, None] == p)).sum(0) for p in (0, 1)])


def _ink_per_sprite() -> np.ndarray:
    """Inked pixels of each (shape, scale, orientation), summed over its 32 x 32 positions of
    the full binary grid, int64 (3, 6, 40).

    Every image is a binary patch translated by whole pixels, so the sum over positions is
    ``sum_{px, py, r, k} patch[px, py, r, k] * hits[py, r] * hits[px, k]``
    (:func:`_position_hits`): exact, and nothing is rendered."""
    hits = _position_hits()
    return np.einsum("abcxyrk,yr,xk->abc", _binary_patches().astype(np.int64), hits, hits)


def calibration_stats() -> dict:
    """Statistics of the full binary grid (737,280 images), exact, from the patch table.

    The numbers to compare with the archive (module docstring): its global mean pixel
    0.042494, its binary pixels, its sprite centres spanning 16 .. 48 px and its sprites never
    reaching the border.  Cheap: sums over the 2880 patches (:func:`_ink_per_sprite`), no
    image is rendered.

    Returns
    -------
    stats : dict
        ``mean_pixel`` (float: mean over all images and pixels), ``mean_pixel_by_shape``
        (tuple of 3 floats, square / ellipse / heart), ``binary`` (bool: every pixel of every
        image is 0 or 1), ``centre_px_x`` / ``centre_px_y`` (float pairs: least and greatest
        sprite centre, px, pixel ``c`` covering ``[c, c+1)``), ``ink_px_x`` / ``ink_px_y``
        (int pairs: first and last pixel index inked in some image), ``touches_border`` (bool:
        some image inks row or column 0 or 63), ``n_images`` (int).
    """
    ink = _binary_patches()
    ss2 = SUPERSAMPLE ** 2
    # pixel values render_full can give: the thresholded patches and the background 0
    values = np.unique(np.r_[(patch_table().ravel() * 2 >= ss2).astype(np.float32), 0.0])
    per = _ink_per_sprite()
    n_images = int(np.prod(FULL_FACTOR_SIZES))
    npix = IMAGE_SIZE * IMAGE_SIZE
    c2 = _centres_half_px()
    fl, phase = c2 // 2, c2 % 2

    def extent(inked):                      # inked: (phase, patch pixel) inked by some patch
        lo, hi = IMAGE_SIZE, -1
        for p in (0, 1):
            j, f = np.flatnonzero(inked[p]), fl[phase == p]
            if j.size and f.size:
                lo = min(lo, int(f.min() - _PAD + j.min()))
                hi = max(hi, int(f.max() - _PAD + j.max()))
        return max(lo, 0), min(hi, IMAGE_SIZE - 1)

    ink_x = extent(ink.any(axis=(0, 1, 2, 4, 5)))                   # (phase_x, column)
    ink_y = extent(ink.any(axis=(0, 1, 2, 3, 6)))                   # (phase_y, row)
    centres = (float(c2.min() / 2), float(c2.max() / 2))
    return {"mean_pixel": float(per.sum() / (n_images * npix)),
            "mean_pixel_by_shape": tuple(float(x) for x in per.sum((1, 2)) / (n_images // 3 * npix)),
            "binary": bool(np.isin(values, (0.0, 1.0)).all()),
            "centre_px_x": centres, "centre_px_y": centres,
            "ink_px_x": ink_x, "ink_px_y": ink_y,
            "touches_border": bool(min(ink_x[0], ink_y[0]) == 0
                                   or max(ink_x[1], ink_y[1]) == IMAGE_SIZE - 1),
            "n_images": n_images}


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

    Notes
    -----
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
        if not isinstance(arr, np.ndarray):          # an .npz archive under the .npy name
            arr.close()
            raise ValueError(f"corrupted dSprites cache {self.cache_path}: an .npz archive, "
                             "not the .npy array build_cache writes")
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
    archive's posX, posY in ``linspace(0, 1, 32)``, centres 16 .. 48 px); anything else is a
    ValueError naming ``factors``."""
    f = gt.check_factors(factors_full, FULL_FACTOR_SIZES, name="factors_full")
    n = f.shape[0]
    table = patch_table()
    c2 = _centres_half_px()[f[:, 3:5]]           # centres in half pixels, (n, 2) as (x, y)
    top_left = c2 // 2                           # floor(c) - 15 + PAD
    phase = c2 % 2                               # whole pixel -> phase 0, half -> phase 1
    patches = table[f[:, 0], f[:, 1], f[:, 2], phase[:, 0], phase[:, 1]]   # (n, 30, 30)
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
        from deep.progress import bar

        starts = bar(starts, desc="render dSprites", unit="chunk")
    for s in starts:
        idx = np.arange(s, min(s + chunk, n))
        cnt = render_full_uint8(dataset.factors_of(idx) * dataset._stride)
        out[s:s + len(idx)] = np.packbits((cnt >= half).reshape(len(idx), -1), axis=1)
    return out
