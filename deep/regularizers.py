r"""Decoder-Jacobian regularizers implicit in the β-VAE — Kumar & Poole 2020, secs. 5.1–5.3.

The torch counterparts of the closed forms in :mod:`theory.implicit_regularization`:

=================  ==============================================  ==========================
``mode``           per-example value                               paper
=================  ==============================================  ==========================
``"exact"``        log|I + J̃ᵀJ̃/β|                                  eq 13 (eq 12 for general H_p)
``"hadamard"``     Σ_i log(1 + ‖J̃_{:,i}‖²/β)   (≥ exact)           eq 14
``"stochastic"``   (d/k) Σ_{c∈C} log(1 + ‖J̃_{:,c}‖²/β), C ~ U^k    below eq 14 (GRAE≈)
``"frobenius"``    ‖J̃‖_F²/β                   (≥ exact)            end of sec. 5.3
=================  ==============================================  ==========================

with J = J_g(z) the decoder Jacobian (D × d) at the encoding z = h(x) and
J̃ = (−H_p)^{1/2} J; for standard Gaussian observations H_p = −I and J̃ = J. For Bernoulli
pixels H_p = diag(−1/(1 − x − g)²) (sec. 5.1; :func:`bernoulli_hess_diag`).

Jacobians are computed in **forward mode**: one Jacobian-vector product per latent direction;
the stochastic estimator only pushes the k sampled basis vectors, so it costs k tangent
passes instead of d. Two implementations give the same numbers:

* decoders that are ``nn.Sequential`` stacks of ``nn.Linear`` layers and elementwise
  activations (:data:`ELEMENTWISE`) take a hand-written forward-mode pass that returns the
  output g(z) and the tangents together, so a GRAE≈ step runs the decoder once. The tangent
  of the first linear layer along a basis vector e_c is the weight column W[:, c], a gather;
* any other decoder goes through ``torch.func.jvp`` vectorised with ``torch.func.vmap``.

The decoder is called on the whole batch, so it must act on each example independently (no
batch-norm in training mode) and map ``(batch, d)`` to ``(batch, D)``. Gradients flow to the
decoder's parameters through the tangents.

Randomness (the sampled columns / column pairs) comes from an explicit ``torch.Generator``.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.func import jvp, vmap

from validation import check_module_input, check_real, check_tensor, positive_scalar

__all__ = ["decoder_jacobian", "jacobian_columns", "grae_regularizer", "orthogonality_penalty",
           "bernoulli_hess_diag", "grae_loss", "grae_approx_loss", "MODES", "ELEMENTWISE"]

MODES = ("exact", "hadamard", "stochastic", "frobenius")


# --------------------------------------------------------------------------- validation


#: the accepted range of β (as theory.implicit_regularization): β/2 R(h) and the eq 14 bound
#: stay finite in float32 and float64 inside it
BETA_RANGE = (1e-50, 1e50)


def _check_beta(beta) -> float:
    if isinstance(beta, torch.Tensor) and beta.numel() == 1:
        beta = beta.item()
    beta = positive_scalar(beta, "beta")
    if not BETA_RANGE[0] <= beta <= BETA_RANGE[1]:
        raise ValueError(f"beta must lie in [{BETA_RANGE[0]:g}, {BETA_RANGE[1]:g}], got {beta:g}")
    return beta


def _check_z(z, decoder=None) -> torch.Tensor:
    if isinstance(z, torch.Tensor) and (z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 1):
        raise ValueError(f"z must have shape (batch, d) with batch, d >= 1, got {tuple(z.shape)}")
    z = check_tensor(z, "z", ndim=2, finite=True)    # real floating dtype (complex: TypeError)
    # a module (or a bound method of one, e.g. vae.decode): z in its dtype and on its device
    owner = decoder if isinstance(decoder, torch.nn.Module) else getattr(decoder, "__self__", None)
    if isinstance(owner, torch.nn.Module):
        check_module_input(owner, z, "z")
    return z


def _check_decoder(decoder):
    if not callable(decoder):
        raise TypeError(f"decoder must be callable, (batch, d) -> (batch, D), got {type(decoder).__name__}")
    return decoder


def _check_output(out, z) -> torch.Tensor:
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != z.shape[0]:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError("decoder must map z of shape (batch, d) to a flat vector per example, "
                         f"shape (batch, D) = ({z.shape[0]}, D); got {shape}")
    return out


def _check_hess_diag(hess_diag, batch: int, D: int):
    if hess_diag is None:
        return None
    if not isinstance(hess_diag, torch.Tensor):
        raise TypeError("hess_diag must be a torch.Tensor or None")
    check_tensor(hess_diag, "hess_diag")                  # real floating dtype
    if tuple(hess_diag.shape) != (batch, D):
        raise ValueError(f"hess_diag must have shape (batch, D) = ({batch}, {D}), "
                         f"got {tuple(hess_diag.shape)}")
    if not torch.isfinite(hess_diag).all():
        raise ValueError("hess_diag must be finite")
    if (hess_diag > 0).any():
        raise ValueError("hess_diag must be <= 0 (diagonal of the observation Hessian H_p)")
    return hess_diag


def _check_int(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {value}")
    return value


# --------------------------------------------------------------------------- Jacobians


# value and derivative of each supported elementwise activation, from its pre-activation a
def _elu(m, a):
    h = torch.nn.functional.elu(a, m.alpha)
    return h, torch.where(a > 0, 1.0, h + m.alpha)  # d/da α(eᵃ − 1) = h + α for a ≤ 0


def _leaky_relu(m, a):
    slope = torch.full_like(a, m.negative_slope)  # a tensor, so it keeps a's dtype
    return torch.nn.functional.leaky_relu(a, m.negative_slope), torch.where(a > 0, 1.0, slope)


def _softplus(m, a):
    h = torch.nn.functional.softplus(a, m.beta, m.threshold)
    return h, torch.where(a * m.beta > m.threshold, 1.0, torch.sigmoid(m.beta * a))


def _silu(m, a):
    s = torch.sigmoid(a)
    return a * s, s * (1 + a * (1 - s))


def _tanh(m, a):
    h = torch.tanh(a)
    return h, 1 - h * h


def _sigmoid(m, a):
    h = torch.sigmoid(a)
    return h, h * (1 - h)


def _relu(m, a):
    return torch.relu(a), (a > 0).to(a.dtype)


ELEMENTWISE = {torch.nn.ELU: _elu, torch.nn.LeakyReLU: _leaky_relu, torch.nn.Softplus: _softplus,
               torch.nn.SiLU: _silu, torch.nn.Tanh: _tanh, torch.nn.Sigmoid: _sigmoid,
               torch.nn.ReLU: _relu}
"""Activations the hand-written forward-mode pass supports: module type → (m, a) ↦ (h, h')."""


def _sequential_layers(decoder):
    """The flat list of layers of an ``nn.Sequential`` of Linear / elementwise / Identity
    modules (nested Sequentials allowed), or None if the fast path does not apply."""
    if not isinstance(decoder, torch.nn.Sequential):
        return None
    layers = []
    for m in decoder:
        if isinstance(m, torch.nn.Sequential):
            inner = _sequential_layers(m)
            if inner is None:
                return None
            layers += inner
        elif type(m) is torch.nn.Linear or type(m) in ELEMENTWISE:
            layers.append(m)
        elif type(m) is not torch.nn.Identity:
            return None
    return layers


def _dense(directions, cols, z):
    """The directions as a (k, batch, d) tensor: basis vectors e_c for indices ``cols``."""
    if cols is None:
        return directions
    return torch.nn.functional.one_hot(cols, z.shape[1]).to(z.dtype)


def _sequential_jvp(layers, z, directions, cols):
    """Forward-mode pass through Linear/elementwise layers: g(z) and J_g(z)·v for k directions.

    ``cols`` (k, batch) are basis-vector indices (directions e_c) or None; ``directions``
    (k, batch, d) are used otherwise. Returns out (batch, D) and Jv (k, batch, D).
    """
    h, t = z, None
    for m in layers:
        if isinstance(m, torch.nn.Linear):
            if t is None:  # first tangent: W v, a column gather for v = e_c
                t = m.weight.T[cols] if cols is not None else directions @ m.weight.T
            else:
                t = t @ m.weight.T  # the bias has no tangent
            h = torch.nn.functional.linear(h, m.weight, m.bias)
        else:
            h, dh = ELEMENTWISE[type(m)](m, h)
            t = (_dense(directions, cols, z) if t is None else t) * dh
    return h, (_dense(directions, cols, z) if t is None else t)  # t None: identity decoder


def _forward_with_tangents(decoder, z, directions=None, cols=None):
    """g(z) and the tangents J_g(z)·v, (batch, D) and (k, batch, D); z already checked."""
    layers = _sequential_layers(decoder)
    if layers is not None:
        out, Jv = _sequential_jvp(layers, z, directions, cols)
        return _check_output(out, z), Jv
    directions = _dense(directions, cols, z)
    if directions.shape[0] == 1:
        # one direction (GRAE≈'s k = 1): the jvp's primal output is g(z), no second forward pass
        out, Jv = jvp(decoder, (z,), (directions[0],))
        return _check_output(out, z), Jv[None]
    out = _check_output(decoder(z), z)
    Jv = vmap(lambda v: jvp(decoder, (z,), (v,))[1])(directions)
    return out, Jv


def jacobian_columns(decoder: Callable, z: torch.Tensor, directions: torch.Tensor):
    r"""Jacobian-vector products J_g(z_b) v_{b,k}, in forward mode.

    Parameters
    ----------
    decoder : callable, (batch, d) -> (batch, D)
    z : tensor of shape (batch, d)
    directions : tensor of shape (k, batch, d)

    Returns
    -------
    out : tensor of shape (batch, D), the decoder output g(z)
    Jv : tensor of shape (k, batch, D)
    """
    _check_decoder(decoder)
    z = _check_z(z, decoder)
    check_tensor(directions, "directions", finite=True)
    if (not isinstance(directions, torch.Tensor) or directions.ndim != 3
            or tuple(directions.shape[1:]) != tuple(z.shape)):
        shape = tuple(directions.shape) if isinstance(directions, torch.Tensor) else directions
        raise ValueError(f"directions must have shape (k, batch, d) = (k, {z.shape[0]}, "
                         f"{z.shape[1]}), got {shape}")
    return _forward_with_tangents(decoder, z, directions=directions)


def decoder_jacobian(decoder: Callable, z: torch.Tensor) -> torch.Tensor:
    r"""The full decoder Jacobian J_g(z) of each example, forward mode.

    z : (batch, d) → J : (batch, D, d).
    """
    _check_decoder(decoder)
    z = _check_z(z, decoder)
    d = z.shape[1]
    eye = torch.eye(d, dtype=z.dtype, device=z.device)[:, None, :].expand(d, z.shape[0], d)
    _, Jv = jacobian_columns(decoder, z, eye)
    return Jv.permute(1, 2, 0)


def _weighted(J_cols: torch.Tensor, hess_diag) -> torch.Tensor:
    # J_cols (..., batch, D) ; J̃ = (−H_p)^{1/2} J acts on the rows (sec. 5.3)
    if hess_diag is None:
        return J_cols
    return J_cols * torch.sqrt(-hess_diag)


def grae_regularizer(decoder: Callable, z: torch.Tensor, beta: float, mode: str = "exact",
                     n_columns: int = 1, generator: torch.Generator | None = None,
                     hess_diag: torch.Tensor | None = None) -> torch.Tensor:
    r"""The decoder regularizer of GRAE (Kumar & Poole 2020, eq 13) and its bounds, per example.

    .. math::
        \text{exact}: \log\Big|I + \tfrac1\beta \tilde J^\top \tilde J\Big|
        \;\le\; \text{hadamard}: \sum_{i=1}^d \log\Big(1 + \tfrac1\beta\|\tilde J_{:,i}\|^2\Big)
        \quad(\text{eq 14}),

    ``stochastic``: :math:`\frac{d}{k}\sum_{j=1}^k \log(1 + \|\tilde J_{:,c_j}\|^2/\beta)`
    with c_j i.i.d. uniform on {1..d} (the GRAE≈ estimator below eq 14 with p_c uniform; it
    is unbiased for the Hadamard bound); ``frobenius``: :math:`\|\tilde J\|_F^2/\beta`, the
    first-order Taylor term of the exact regularizer (end of sec. 5.3).

    Here :math:`\tilde J = (-H_p)^{1/2} J_g(z)`; ``hess_diag=None`` means standard Gaussian
    observations (H_p = −I, eq 13), otherwise the general regularizer of eq 12.

    Parameters
    ----------
    decoder : callable mapping (batch, d) to (batch, D)
    z : tensor of shape (batch, d), the encodings h(x)
    beta : float > 0
    mode : {"exact", "hadamard", "stochastic", "frobenius"}
    n_columns : int in [1, d], the k of the stochastic estimator
    generator : torch.Generator or None, the source of the sampled columns
    hess_diag : tensor of shape (batch, D) with entries <= 0, or None

    Returns
    -------
    tensor of shape (batch,)
    """
    beta = _check_beta(beta)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    _check_decoder(decoder)
    z = _check_z(z, decoder)
    n_columns = _check_int(n_columns, "n_columns", 1, z.shape[1])
    return _regularizer(decoder, z, beta, mode, n_columns, generator, hess_diag)[1]


def _regularizer(decoder, z, beta, mode, n_columns, generator, hess_diag,
                 hess_diag_fn=None):
    """(g(z), R(z)) from one forward-mode pass; arguments already checked.

    ``hess_diag_fn(out)`` computes H_p's diagonal from the decoder output (used by the
    Bernoulli loss, whose H_p depends on g(z)); otherwise ``hess_diag`` is used as given.
    """
    batch, d = z.shape
    if mode == "stochastic":
        cols = torch.randint(0, d, (n_columns, batch), generator=generator, device=z.device)
    else:  # every column of every J
        cols = torch.arange(d, device=z.device)[:, None].expand(d, batch)
    out, Jv = _forward_with_tangents(decoder, z, cols=cols)  # Jv (k, batch, D)
    if hess_diag_fn is not None:
        hess_diag = hess_diag_fn(out)
    _check_hess_diag(hess_diag, batch, out.shape[1])
    Jt = _weighted(Jv, hess_diag)
    if mode == "stochastic":
        sq = Jt.pow(2).sum(-1)  # (k, batch)
        return out, d / n_columns * torch.log1p(sq / beta).sum(0)
    if mode == "hadamard":
        return out, torch.log1p(Jt.pow(2).sum(-1) / beta).sum(0)
    if mode == "frobenius":
        return out, Jt.pow(2).sum((0, 2)) / beta
    Jt = Jt.permute(1, 2, 0)  # (batch, D, d)
    M = torch.eye(d, dtype=z.dtype, device=z.device) + Jt.transpose(1, 2) @ Jt / beta
    L = torch.linalg.cholesky(M)  # M ⪰ I, so the Cholesky log-det is stable
    return out, 2 * torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1)


def orthogonality_penalty(decoder: Callable, z: torch.Tensor, mode: str = "exact",
                          n_pairs: int = 1, generator: torch.Generator | None = None,
                          hess_diag: torch.Tensor | None = None,
                          eps: float = 1e-12) -> torch.Tensor:
    r"""Mean squared normalised dot product of pairs of J̃ columns (end of sec. 5.3).

    .. math::
        \frac{1}{\binom d2}\sum_{i<j} \frac{(\tilde J_{:,i}^\top \tilde J_{:,j})^2}
        {\|\tilde J_{:,i}\|^2\,\|\tilde J_{:,j}\|^2}

    for ``mode="exact"``; ``mode="stochastic"`` averages ``n_pairs`` pairs (i ≠ j) drawn
    uniformly, an unbiased estimate of the same mean that needs only 2·n_pairs jvps. Zero iff
    the columns are orthogonal, the structure a mean-field posterior favours (eq 11).

    z : (batch, d) with d ≥ 2 → tensor of shape (batch,).
    """
    if mode not in ("exact", "stochastic"):
        raise ValueError(f"mode must be 'exact' or 'stochastic', got {mode!r}")
    _check_decoder(decoder)
    z = _check_z(z, decoder)
    eps = check_real(eps, "eps", low=0.0, closed="right")
    batch, d = z.shape
    if d < 2:
        raise ValueError(f"z must have d >= 2 latent dimensions for column pairs, got d={d}")
    if mode == "exact":
        J = decoder_jacobian(decoder, z)  # (batch, D, d)
        _check_hess_diag(hess_diag, batch, J.shape[1])
        if hess_diag is not None:
            J = J * torch.sqrt(-hess_diag)[:, :, None]
        G = J.transpose(1, 2) @ J
        n = torch.diagonal(G, dim1=-2, dim2=-1)
        C2 = G.pow(2) / (n[:, :, None] * n[:, None, :] + eps)
        iu = torch.triu_indices(d, d, 1, device=z.device)
        return C2[:, iu[0], iu[1]].mean(-1)
    n_pairs = _check_int(n_pairs, "n_pairs", 1, 10**6)
    i = torch.randint(0, d, (n_pairs, batch), generator=generator, device=z.device)
    j = (i + torch.randint(1, d, (n_pairs, batch), generator=generator, device=z.device)) % d
    out, Jv = _forward_with_tangents(decoder, z, cols=torch.cat([i, j]))
    _check_hess_diag(hess_diag, batch, out.shape[1])
    Jv = _weighted(Jv, hess_diag)
    a, b = Jv[:n_pairs], Jv[n_pairs:]
    dot = (a * b).sum(-1)
    return (dot.pow(2) / (a.pow(2).sum(-1) * b.pow(2).sum(-1) + eps)).mean(0)


def bernoulli_hess_diag(x: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    r"""diag H_p = −x/g² − (1−x)/(1−g)² for Bernoulli pixels (sec. 5.1).

    For binary x this is −1/(1 − x − g)², the paper's form; torch twin of
    :func:`theory.implicit_regularization.bernoulli_hess_diag`. Shapes (batch, D).
    """
    check_tensor(x, "x", finite=True, grad_exempt=True)
    check_tensor(probs, "probs", finite=True, grad_exempt=True)
    if x.shape != probs.shape:
        raise ValueError(f"x and probs must have the same shape, got {tuple(x.shape)} "
                         f"and {tuple(probs.shape)}")
    if ((probs <= 0) | (probs >= 1)).any():
        raise ValueError("probs must lie strictly in (0, 1)")
    return -x / probs**2 - (1 - x) / (1 - probs) ** 2


def grae_loss(encoder: Callable, decoder: Callable, x: torch.Tensor, beta: float,
              mode: str = "exact", n_columns: int = 1, generator: torch.Generator | None = None,
              observation: str = "gaussian", prob_clamp: float = 1e-6) -> torch.Tensor:
    r"""The GRAE loss (Kumar & Poole 2020, eq 13), per example; minimise it.

    .. math::
        \underbrace{-\log p(x|g(h(x)))}_{\text{reconstruction}}
        + \tfrac\beta2\|h(x)\|^2 + \tfrac\beta2\,R(h(x)),

    with R the regularizer of :func:`grae_regularizer` in the given ``mode``.
    ``observation="gaussian"``: −log p = ½‖x − g‖² (constant dropped; eq 13 exactly).
    ``observation="bernoulli"``: the decoder outputs probabilities, −log p is the binary
    cross-entropy and R uses H_p of :func:`bernoulli_hess_diag` (eq 12).

    encoder : (batch, D) → (batch, d) (the posterior mean h); decoder : (batch, d) → (batch, D).
    x : tensor of shape (batch, D). Returns a tensor of shape (batch,).
    """
    beta = _check_beta(beta)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if observation not in ("gaussian", "bernoulli"):
        raise ValueError(f"observation must be 'gaussian' or 'bernoulli', got {observation!r}")
    check_tensor(x, "x", ndim=2, finite=True, min_size=1)
    mu = encoder(x)
    if not isinstance(mu, torch.Tensor) or mu.ndim != 2 or mu.shape[0] != x.shape[0]:
        raise ValueError("encoder must map x of shape (batch, D) to (batch, d)")
    n_columns = _check_int(n_columns, "n_columns", 1, mu.shape[1])
    if observation == "gaussian":
        hess_fn = None
    else:
        def hess_fn(out):
            if out.shape != x.shape:
                raise ValueError(f"decoder output shape {tuple(out.shape)} must equal x shape "
                                 f"{tuple(x.shape)}")
            return bernoulli_hess_diag(x, out.clamp(prob_clamp, 1 - prob_clamp))
    # one forward-mode pass gives the reconstruction g(h(x)) and the Jacobian columns
    recon, reg = _regularizer(decoder, mu, beta, mode, n_columns, generator, None, hess_fn)
    if recon.shape != x.shape:
        raise ValueError(f"decoder output shape {tuple(recon.shape)} must equal x shape "
                         f"{tuple(x.shape)}")
    if observation == "gaussian":
        rec = 0.5 * (x - recon).pow(2).sum(-1)
    else:
        p = recon.clamp(prob_clamp, 1 - prob_clamp)
        rec = -(x * torch.log(p) + (1 - x) * torch.log1p(-p)).sum(-1)
    return rec + beta / 2 * mu.pow(2).sum(-1) + beta / 2 * reg


def grae_approx_loss(encoder: Callable, decoder: Callable, x: torch.Tensor, beta: float,
                     n_columns: int = 1, generator: torch.Generator | None = None,
                     observation: str = "gaussian") -> torch.Tensor:
    r"""GRAE≈ (sec. 5.3): eq 13 with the k-column stochastic Hadamard bound (eq 14), k = 1
    by default as in the paper's experiments. Per example, shape (batch,)."""
    return grae_loss(encoder, decoder, x, beta, mode="stochastic", n_columns=n_columns,
                     generator=generator, observation=observation)
