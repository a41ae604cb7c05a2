r"""A synthetic image manifold with a known decoder (Kumar & Poole 2020 studies).

x = g*(s) + σ ε, s ~ N(0, I_k), ε ~ N(0, I_D), with g* a fixed random two-layer ELU network
R^k → R^D drawn from ``rng``: the data lie near a k-dimensional manifold whose decoder, and so
whose Jacobian J_{g*}(s) (exact, by automatic differentiation), is known. A control for the digits
substitute: eq 11 is a statement about the trained model, and here the trained decoder can also
be compared with the true one. Pure numpy; shapes (n, D).
"""

from __future__ import annotations

__all__ = ["random_decoder", "manifold_data", "decode", "decoder_jacobian", "manifold_latents"]

import numpy as np

from validation import as_float_array, check_real, check_rng


def random_decoder(k: int, D: int, rng: np.random.Generator, hidden: int = 32):
    """Weights (W1 (hidden, k), b1 (hidden,), W2 (D, hidden)) of g*(s) = W2 elu(W1 s + b1), with
    W1 entries N(0, 1/k) and W2 entries N(0, 1/hidden) (unit-scale outputs)."""
    for name, v in (("k", k), ("D", D), ("hidden", hidden)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    W1 = rng.normal(size=(hidden, k)) / np.sqrt(k)
    b1 = rng.normal(size=hidden) * 0.5
    W2 = rng.normal(size=(D, hidden)) / np.sqrt(hidden)
    return W1, b1, W2


#: the largest noise scale and ``|weight|`` accepted (the samples stay in float64)
NOISE_MAX = 1e100


def _check_weights(weights):
    """(W1 (hidden, k), b1 (hidden,), W2 (D, hidden)) as returned by :func:`random_decoder`."""
    if not isinstance(weights, (tuple, list)) or len(weights) != 3:
        raise TypeError(f"weights must be the triple (W1, b1, W2) of random_decoder, got "
                        f"{type(weights).__name__}")
    W1, b1, W2 = (as_float_array(w, f"weights[{i}]", ndim, low=-NOISE_MAX, high=NOISE_MAX)
                  for i, (w, ndim) in enumerate(zip(weights, (2, 1, 2))))
    if b1.shape != W1.shape[:1] or W2.shape[1] != W1.shape[0]:
        raise ValueError(f"weights: W1 {W1.shape}, b1 {b1.shape} and W2 {W2.shape} do not fit "
                         "(hidden, k), (hidden,), (D, hidden)")
    return W1, b1, W2


def _check_latents(s, weights) -> np.ndarray:
    s = as_float_array(s, "s", 2, low=-NOISE_MAX, high=NOISE_MAX)
    if s.shape[1] != weights[0].shape[1]:
        raise ValueError(f"s must have k = {weights[0].shape[1]} columns, got shape {s.shape}")
    return s


def decode(weights, s) -> np.ndarray:
    """g*(s) = W2 elu(W1 s + b1) for s of shape (n, k) → (n, D)."""
    W1, b1, W2 = weights = _check_weights(weights)
    a = _check_latents(s, weights) @ W1.T + b1
    return np.where(a > 0, a, np.expm1(np.minimum(a, 0))) @ W2.T


def decoder_jacobian(weights, s) -> np.ndarray:
    """The exact Jacobian J_{g*}(s) = W2 diag(elu'(W1 s + b1)) W1, shape (n, D, k), with
    elu'(a) = 1 for a > 0 and e^a otherwise — the known decoder's J of Kumar & Poole 2020, eq 11,
    by the chain rule in closed form (no automatic differentiation)."""
    W1, b1, W2 = weights = _check_weights(weights)
    a = _check_latents(s, weights) @ W1.T + b1
    slope = np.where(a > 0, 1.0, np.exp(np.minimum(a, 0)))                # (n, hidden)
    return np.einsum("dh,nh,hk->ndk", W2, slope, W1)


def manifold_data(n: int, weights, rng: np.random.Generator, noise: float = 0.1) -> np.ndarray:
    """n samples x = g*(s) + noise·ε, shape (n, D); :func:`manifold_latents` with the same
    arguments returns the s behind them."""
    return _sample(n, weights, rng, noise)[1]


def manifold_latents(n: int, weights, rng: np.random.Generator, noise: float = 0.1) -> tuple:
    """(s, x): the latents s ~ N(0, I_k) (n, k) and the samples x = g*(s) + noise·ε (n, D)."""
    return _sample(n, weights, rng, noise)


def _sample(n, weights, rng, noise) -> tuple:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    noise = check_real(noise, "noise", low=0.0, high=NOISE_MAX)
    rng = check_rng(rng, "rng")
    weights = _check_weights(weights)
    s = rng.normal(size=(n, weights[0].shape[1]))
    x = decode(weights, s)
    return s, x + noise * rng.normal(size=x.shape)
