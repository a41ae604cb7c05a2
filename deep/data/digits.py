r"""The synthetic digit data of Sikka (2020), Methods ("Data Processing and Generation") and
Results (Figs 4–5), with scikit-learn's bundled 8×8 digits in place of MNIST.

MNIST cannot be obtained offline; :func:`sklearn.datasets.load_digits` (1,797 images of 8×8
pixels, grey levels 0–16, bundled with scikit-learn) is the substitute. Every function here is
pure numpy: the generators take a ``numpy.random.Generator`` and return arrays.

Reading of the thesis
---------------------
Both schemes are the generative process of the analytical model, eq 26,
:math:`x = As + \eta` with :math:`s \sim \mathcal N(0, I_k)`, k = 2 sources (the networks have
"2 neurons parameterizing the mean and variance for k = 2 sources", Methods).

**Fig 4, mixed digits** (:func:`mixed_digits`). "The task involved the mixing of 10 different
handwritten digits"; "digits were mixed and localized on a blank canvas ... Resulting images
could be interpreted as interpolations of the two mixing digits used". Read as: the columns of
the N × k mixing matrix are k = 2 digit images (picked from the ten classes) centred on a blank
canvas of N = c × c pixels, optionally mixed by a k × k matrix M (the thesis prints none for
Fig 4; identity by default), and η ~ N(0, σ² I_N) is pixel noise (σ = 1 as in eq 26):

.. math:: x = D M s + \eta,\qquad D = [\mathrm{vec}(d_1), \mathrm{vec}(d_2)] \in \mathbb R^{N\times 2}.

So x is a noisy weighted sum of the two digit images and the process is linear-Gaussian in s:
the ground-truth posterior is eq 28 with A = DM and noise σ². The "10 digits" cannot be ten
sources of a two-latent model (the TIE would compare a 2-D q(z|x) with a 10-D posterior); we
read them as the classes the two mixed digits are drawn from.

**Fig 5, one placed digit** (:func:`placed_digit`). "A single MNIST digit localized at different
locations on a blank canvas. The cartesian coordinate of the digit ... is determined by the data
generative process, with :math:`A_{ij} = 2\delta_{ij} + 0.73`, s ~ N(0, I_k), η ~ N(0, I_N),
N = k = 2": the position p = A s + η ∈ R² (row, column) in units of ``pixels_per_unit``
pixels from the centre of the canvas, rounded to the pixel grid and clipped so the digit stays on
the canvas. The image identifies the pixel cell of p only, so the ground-truth posterior is
:math:`p(s|x) \propto \mathcal N(s; 0, I)\,P(As + \eta \in \text{cell})`, not Gaussian: it is
computed by quadrature (:mod:`deep.metrics.inference_error`). The cell of each image is
returned with it (:func:`cell_bounds` gives its bounds in units of p).

Both are standardised for training, "centers the data at mean 0 with standard deviation 1"
(one shift and scale for the whole image: see :func:`betalab.studies.sikka2020._deep.make_data`).
"""

from __future__ import annotations

import numbers

import numpy as np

from validation import as_float_array, check_real

__all__ = ["PLACEMENT_DIAG", "PLACEMENT_OFFSET", "digit_templates", "paste", "digit_mixing_matrix",
           "mixed_digits", "placement_mixing", "placed_digit", "cell_bounds", "digit_split"]

#: Sikka 2020, Fig 5 caption: A_ij = 2 δ_ij + 0.73
PLACEMENT_DIAG, PLACEMENT_OFFSET = 2.0, 0.73


def _int(value, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


def _rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) \
            or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    if not SCALE_RANGE[0] <= value <= SCALE_RANGE[1]:
        # noise_std multiplies unit draws, pixels_per_unit divides cell offsets: both stay in float64
        raise ValueError(f"{name} must lie in [{SCALE_RANGE[0]:g}, {SCALE_RANGE[1]:g}], got {value!r}")
    return float(value)


#: the accepted range of noise_std and pixels_per_unit
SCALE_RANGE = (1e-100, 1e100)
#: largest ``|entry|`` of a mixing matrix (products with unit draws stay in float64)
ENTRY_BOUND = 1e100


def _labels(value, name: str, ndim) -> np.ndarray:
    from deep.metrics.information import check_labels

    return check_labels(value, name, ndim)


def digit_templates(classes=(0, 1), upsample: int = 1) -> np.ndarray:
    """The first image of each digit class in scikit-learn's bundled set, grey levels scaled to
    [0, 1], each pixel repeated ``upsample`` × ``upsample`` times (28 ≈ 8 × 3.5: ``upsample=3``
    gives 24 × 24 digits, near MNIST's 28 × 28). Returns shape (len(classes), 8u, 8u)."""
    from sklearn.datasets import load_digits

    upsample = _int(upsample, "upsample")
    cls = _labels(classes, "classes", 1)
    if cls.size == 0 or cls.min() < 0 or cls.max() > 9:
        raise ValueError(f"classes must be a non-empty sequence of digit classes 0..9, got {classes!r}")
    d = load_digits()
    imgs = np.stack([d.images[np.flatnonzero(d.target == c)[0]] for c in cls]) / 16.0
    return np.kron(imgs, np.ones((1, upsample, upsample)))


def _check_templates(templates, canvas, name: str = "templates") -> tuple[np.ndarray, int]:
    t = as_float_array(templates, name, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if name == "template":
        if t.ndim != 2:
            raise ValueError(f"template must be a square image of shape (h, h), got {t.shape}")
        t = t[None]
    if t.ndim != 3 or t.shape[0] < 1 or t.shape[1] != t.shape[2] or t.shape[1] < 1:
        raise ValueError(f"{name} must be finite square images of shape (k, h, h), got {t.shape}")
    canvas = _int(canvas, "canvas")
    if canvas < t.shape[1]:
        raise ValueError(f"canvas ({canvas} pixels) must be at least the digit size {t.shape[1]}")
    return t, canvas


def paste(template, canvas: int, offset) -> np.ndarray:
    """A blank ``canvas`` × ``canvas`` image with ``template`` (h, h) pasted with its top-left
    corner at ``offset`` = (row, column). Returns shape (canvas, canvas)."""
    t, canvas = _check_templates(template, canvas, "template")
    off = _labels(offset, "offset", 1)
    if off.shape != (2,):
        raise ValueError(f"offset must be a (row, column) pair, got shape {off.shape}")
    r, c = (int(v) for v in off)
    h = t.shape[1]
    if not (0 <= r <= canvas - h and 0 <= c <= canvas - h):
        raise ValueError(f"offset {tuple(offset)} puts the digit off the {canvas}×{canvas} canvas")
    img = np.zeros((canvas, canvas))
    img[r:r + h, c:c + h] = t[0]
    return img


def digit_mixing_matrix(templates, canvas: int, mixing=None) -> np.ndarray:
    """The N × k mixing matrix A = D M of :func:`mixed_digits`: column j of D is template j
    centred on the canvas (flattened, N = canvas²), M (k, k) the source mixing (identity if
    None)."""
    t, canvas = _check_templates(templates, canvas)
    k, h = t.shape[0], t.shape[1]
    o = (canvas - h) // 2
    D = np.stack([paste(t[j], canvas, (o, o)).ravel() for j in range(k)], axis=1)
    if mixing is None:
        return D
    M = as_float_array(mixing, "mixing", low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if M.shape != (k, k):
        raise ValueError(f"mixing must be a finite ({k}, {k}) matrix (one row and column per "
                         f"template), got shape {M.shape}")
    return D @ M


def mixed_digits(templates, n: int, rng: np.random.Generator, *, canvas: int, mixing=None,
                 noise_std: float = 1.0) -> dict:
    r"""Fig 4 data: :math:`x = As + \eta`, A = :func:`digit_mixing_matrix`, s ~ N(0, I_k),
    η ~ N(0, noise_std² I_N) (Sikka 2020, eq 26; reading in the module docstring).

    Returns dict with ``x`` (n, canvas²), ``s`` (n, k) and ``A`` (canvas², k).
    """
    A = digit_mixing_matrix(templates, canvas, mixing)
    n, rng = _int(n, "n"), _rng(rng)
    noise_std = _positive(noise_std, "noise_std")
    s = rng.standard_normal((n, A.shape[1]))
    x = s @ A.T + noise_std * rng.standard_normal((n, A.shape[0]))
    return {"x": x, "s": s, "A": A}


def placement_mixing(diag: float = PLACEMENT_DIAG, offset: float = PLACEMENT_OFFSET) -> np.ndarray:
    r""":math:`A_{ij} = \text{diag}\,\delta_{ij} + \text{offset}` for N = k = 2 (Sikka 2020, Fig 5:
    2 and 0.73). Returns shape (2, 2)."""
    diag = check_real(diag, "diag", low=-ENTRY_BOUND, high=ENTRY_BOUND)
    offset = check_real(offset, "offset", low=-ENTRY_BOUND, high=ENTRY_BOUND)
    return diag * np.eye(2) + offset


def _check_placement(template, canvas, A, pixels_per_unit):
    t, canvas = _check_templates(template, canvas, "template")
    A = as_float_array(A, "A", low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if A.shape != (2, 2):
        raise ValueError(f"A must be a finite (2, 2) mixing matrix (N = k = 2), got shape {A.shape}")
    return t[0], canvas, A, _positive(pixels_per_unit, "pixels_per_unit")


def placed_digit(template, n: int, rng: np.random.Generator, *, canvas: int, A=None,
                 pixels_per_unit: float = 1.0) -> dict:
    r"""Fig 5 data: one digit pasted on a blank canvas at the position p = A s + η
    (s ~ N(0, I_2), η ~ N(0, I_2), A = :func:`placement_mixing` if None).

    The top-left corner of the digit is at ``clip(round(c + pixels_per_unit · p), 0, canvas − h)``
    per axis (row, column), c = (canvas − h) / 2 the centred offset (rounded half to even).

    Returns dict with ``x`` (n, canvas²), ``s`` (n, 2), ``p`` (n, 2), ``cell`` (n, 2) int (the
    digit's offset) and ``A`` (2, 2).
    """
    A = placement_mixing() if A is None else A
    t, canvas, A, ppu = _check_placement(template, canvas, A, pixels_per_unit)
    n, rng = _int(n, "n"), _rng(rng)
    h = t.shape[0]
    s = rng.standard_normal((n, 2))
    p = s @ A.T + rng.standard_normal((n, 2))
    cell = np.clip(np.round((canvas - h) / 2 + ppu * p), 0, canvas - h).astype(np.int64)
    x = np.zeros((n, canvas, canvas))
    rows = cell[:, 0, None] + np.arange(h)                       # (n, h)
    cols = cell[:, 1, None] + np.arange(h)
    x[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]] = t
    return {"x": x.reshape(n, -1), "s": s, "p": p, "cell": cell, "A": A}


def cell_bounds(cell, *, canvas: int, digit: int, pixels_per_unit: float = 1.0):
    """Bounds (lo, hi) in units of p of the positions that :func:`placed_digit` puts at offset
    ``cell`` (n, 2): round(c + u p) = j  ⇔  p ∈ [(j − c − ½)/u, (j − c + ½)/u), open to ∓∞ at
    the clipped edges j = 0 and j = canvas − digit. Returns two arrays of shape (n, 2)."""
    canvas, digit = _int(canvas, "canvas"), _int(digit, "digit")
    if canvas < digit:
        raise ValueError(f"canvas ({canvas} pixels) must be at least the digit size {digit}")
    u = _positive(pixels_per_unit, "pixels_per_unit")
    j = _labels(cell, "cell", 2)
    if j.ndim != 2 or j.shape[1] != 2 or np.any(j < 0) or np.any(j > canvas - digit):
        raise ValueError(f"cell must be offsets of shape (n, 2) in [0, {canvas - digit}]")
    c = (canvas - digit) / 2
    lo = np.where(j == 0, -np.inf, (j - c - 0.5) / u)
    hi = np.where(j == canvas - digit, np.inf, (j - c + 0.5) / u)
    return lo, hi


def digit_split(rng: np.random.Generator, n_test: int = 497, *, labels: bool = False) -> tuple:
    """All 1,797 bundled 8×8 digits, standardised by one shift and scale for the whole set (mean
    0, variance 1 per pixel on average, as :func:`betalab.studies.sikka2020._deep.make_data`),
    split at random into (train, test) of shapes (1797 − n_test, 64) and (n_test, 64).

    The MNIST substitute of the Kumar & Poole 2020 studies (MNIST is not obtainable offline): at
    8×8 (not resampled: resampling adds pixels but no information, and the Jacobian J is D × d
    whatever D is), with unit-variance Gaussian observations the standardisation makes the
    reconstruction and KL terms of comparable size for β around 1.

    ``labels=True`` also returns the digit classes: (x_train, y_train, x_test, y_test), the
    same split.
    """
    from sklearn.datasets import load_digits

    rng = _rng(rng)
    n_test = _int(n_test, "n_test")
    if not isinstance(labels, bool):
        raise TypeError(f"labels must be a bool, got {labels!r}")
    data = load_digits()
    x = data.data.astype(np.float64)
    if n_test >= len(x):
        raise ValueError(f"n_test must be below {len(x)}, got {n_test}")
    x = (x - x.mean()) / x.std()
    perm = rng.permutation(len(x))
    if labels:
        y = data.target.astype(np.int64)
        return x[perm[n_test:]], y[perm[n_test:]], x[perm[:n_test]], y[perm[:n_test]]
    return x[perm[n_test:]], x[perm[:n_test]]
