r"""The batched uniqueness experiment of Kumar & Poole 2020, sec. 3.2 and App. C (Figs 1, 5, 6).

Every trial has its own data x = ν(Wz) + ε (:func:`linear_models.uniqueness.sample_uniqueness_data`),
its own initialisation, its own fixed random rotations and its own training length; all
trials of one experiment are trained **as one batched tensor program**: parameters carry a
leading trial axis T and one full-batch gradient step updates every trial at once.

Model (App. C): decoder p(x|z) = N(ν(Az) + b, σ²I); prior N(0, I);

* amortised (VAE): q(z|x) = N(Cx + d, Σ), C = O₁C', Σ = O₂D'D'ᵀO₂ᵀ;
* unamortised VI: q_i(z) = N(μ_i, Σ_i), Σ_i = O D'_i D'_iᵀ Oᵀ;

with O₁, O₂, O random rotations fixed per trial (they remove the implicit bias of gradient
descent, App. C) and C', d, D', μ_i, D'_i, A, b trained. ``covariance="diagonal"`` is the
mean-field q: only the diagonal of Σ enters the ELBO (the off-diagonal entries are left free,
App. C); ``"full"`` uses all of Σ.

Training (App. C): full-batch gradient descent, learning rate 0.1 divided by 10 every n steps
down to 1e-5, i.e. 5n steps; trials get different n so they reach different ELBOs. Trials are
sorted by n, so at every step the trials still training are a contiguous suffix of the
batch: finished trials cost nothing.

Settings the paper does not state (recorded as assumptions of the study):

* the decoder variance σ² is fixed to the true noise variance 0.05²;
* the gradient is that of the per-sample mean negative ELBO times σ² (learning rates in units
  of σ²): without this factor, plain gradient descent at the paper's initial rate 0.1 diverges
  (curvature ∝ ‖A‖²/σ² ≈ 1600);
* the expectation E_q log p(x|z) is exact for ν = identity and a one-sample reparameterised
  estimate otherwise; the reported ELBO uses ``eval_samples`` samples per point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from linear_models.uniqueness import NONLINEARITIES, sample_uniqueness_data
from validation import (check_choice, check_device, check_int, check_real, check_tensor,
                        resolve_device, training_forward)

#: the accepted noise level σ (σ² and 1/σ² stay normal float64 numbers) and the accepted σ²
NOISE_RANGE = (1e-75, 1e75)
SIGMA2_RANGE = (1e-150, 1e150)
#: largest initial learning rate of train_uniqueness (the paper's is 0.1; full-batch gradient
#: descent on σ²·(−ELBO) with a rate beyond 1 overshoots and overflows)
LR0_MAX = 1.0

__all__ = ["resolve_device", "UniquenessData", "make_data", "lr_schedule", "train_uniqueness",
           "train_uniqueness_newton", "gauss_hermite_2d", "point_neg_elbo", "point_grad_hess",
           "TORCH_NONLINEARITIES"]

_BLOCK_NODES = 1 << 18  # quadrature-node evaluations per block of trials (see the Newton trainer)

TORCH_NONLINEARITIES = {
    "identity": lambda a: a,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "elu": torch.nn.functional.elu,
}


@dataclass
class UniquenessData:
    """Data of T trials: x, z of shape (T, N, 2), W of shape (T, 2, 2), n of shape (T,)."""

    x: np.ndarray
    z: np.ndarray
    W: np.ndarray
    n: np.ndarray
    nonlinearity: str


def make_data(n_per_trial, nonlinearity: str, n_samples: int, rng: np.random.Generator,
              noise_std: float = 0.05, column_norms=(2.0, 1.0)) -> UniquenessData:
    """Sample one data set per trial (App. C); ``n_per_trial`` (T,) the schedule lengths n;
    ``column_norms`` those of W (:func:`linear_models.uniqueness.sample_uniqueness_data`; (1, 1)
    is sec. 3.1's symmetric PPCA)."""
    from deep.metrics.information import check_labels

    n = check_labels(n_per_trial, "n_per_trial", 1)
    if n.ndim != 1 or n.size < 1 or np.any(n < 1):
        raise ValueError("n_per_trial must be a non-empty 1-D array of positive ints")
    xs, zs, Ws = zip(*(sample_uniqueness_data(n_samples, nonlinearity, rng, noise_std, column_norms)
                       for _ in range(n.size)))
    return UniquenessData(np.stack(xs), np.stack(zs), np.stack(Ws), n, nonlinearity)


def lr_schedule(step: int, n, lr0: float = 0.1, n_phases: int = 5) -> np.ndarray:
    """Step-wise schedule of App. C: lr0·10^{−⌊step/n⌋} for step < n_phases·n, else 0."""
    from deep.metrics.information import check_labels

    step = check_int(step, "step", low=0)
    n = check_labels(n, "n", (0, 1))
    if np.any(n < 1):
        raise ValueError("n must hold positive schedule lengths")
    lr0 = check_real(lr0, "lr0", low=0.0, closed="right")
    n_phases = check_int(n_phases, "n_phases", low=1)
    phase = step // n
    return np.where(phase < n_phases, lr0 * 10.0 ** (-phase.astype(float)), 0.0)


def _random_rotations(T: int, gen: torch.Generator, dtype, device) -> torch.Tensor:
    theta = 2 * math.pi * torch.rand(T, generator=gen, dtype=dtype, device="cpu").to(device)
    c, s = torch.cos(theta), torch.sin(theta)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


def _neg_elbo_terms(params, fixed, x, eps, nonlin, covariance, amortized, exact_identity,
                    sigma2):
    """Per-trial mean negative ELBO (nats per data point). x (T, N, 2), eps (K, T, N, 2)."""
    A, b = params["A"], params["b"]
    if amortized:
        C = fixed["O1"] @ params["Cp"]
        mu = x @ C.transpose(-1, -2) + params["d"][:, None, :]
        L = fixed["O2"] @ params["Dp"]  # (T, 2, 2): Σ = L Lᵀ
        L = L[:, None]  # broadcast over data points
    else:
        mu = params["mu"]
        L = fixed["O"][:, None] @ params["Dp"]  # (T, N, 2, 2)
    if covariance == "diagonal":
        var = (L**2).sum(-1)  # diag(LLᵀ); shape (T, 1 or N, 2)
        std = torch.sqrt(var)
        kl = 0.5 * ((mu**2).sum(-1) + var.sum(-1) - torch.log(var).sum(-1) - 2)
    else:
        std = None
        logdet = torch.log(torch.abs(torch.linalg.det(params["Dp"])))
        logdet = logdet[:, None] if amortized else logdet
        kl = 0.5 * ((mu**2).sum(-1) + (L**2).sum((-1, -2)) - 2 * logdet - 2)
    const = math.log(2 * math.pi * sigma2)  # D/2·log(2πσ²) with D = 2
    if exact_identity:
        # E‖x − Az − b‖² = ‖x − Aμ − b‖² + tr(AᵀAΣ) for ν = identity (Gaussian q)
        r = x - mu @ A.transpose(-1, -2) - b[:, None, :]
        AtA = A.transpose(-1, -2) @ A
        if covariance == "diagonal":
            tr = (torch.diagonal(AtA, dim1=-2, dim2=-1)[:, None, :] * var).sum(-1)
        else:
            S = L @ L.transpose(-1, -2)
            tr = (AtA[:, None] * S).sum((-1, -2))
        rec = ((r**2).sum(-1) + tr) / (2 * sigma2) + const
    else:
        if covariance == "diagonal":
            zs = mu + std * eps
        else:
            zs = mu + (L @ eps[..., None])[..., 0]
        pred = nonlin(zs @ A.transpose(-1, -2)) + b[:, None, :]
        rec = ((x - pred) ** 2).sum(-1).mean(0) / (2 * sigma2) + const
    return (rec + kl).mean(-1), mu


def _check_training(data, amortized, generator, noise_std):
    """Arguments shared by both trainers: the data, the flags and the noise level."""
    if not isinstance(data, UniquenessData):
        raise TypeError(f"data must be a UniquenessData (make_data), got {type(data).__name__}")
    if not isinstance(amortized, (bool, np.bool_)):
        raise TypeError(f"amortized must be a bool, got {type(amortized).__name__}")
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    check_real(noise_std, "noise_std", low=NOISE_RANGE[0], high=NOISE_RANGE[1])


@training_forward()
def train_uniqueness(data: UniquenessData, covariance: str, amortized: bool,
                     generator: torch.Generator, device: str | torch.device = "cpu",
                     dtype=torch.float32, noise_std: float = 0.05, lr0: float = 0.1,
                     eval_samples: int = 16, optimizer: str = "gd",
                     progress: bool = False) -> dict:
    r"""Train all trials of one experiment (one ν, one covariance type, amortised or not).

    Parameters
    ----------
    data : UniquenessData with x of shape (T, N, 2) and n of shape (T,)
    covariance : {"diagonal", "full"}
    amortized : bool, VAE encoder (True) or per-point variational parameters (False)
    generator : torch.Generator (CPU) seeding initialisations, rotations and noise
    device : torch device for the computation
    optimizer : {"gd", "adam"}
        "gd" is the paper's full-batch gradient descent (on σ²·(−ELBO), see the module
        docstring); "adam" applies the same schedule to per-trial Adam updates (Kingma & Ba
        2014; β₁ = 0.9, β₂ = 0.999), which moves along the weak rotation direction of the
        ELBO in hundreds instead of tens of thousands of steps (used by the quick study).

    Returns
    -------
    dict of numpy arrays: ``mu`` (T, N, 2) posterior means, ``elbo`` (T,) per-point ELBO
    (nats; ``eval_samples``-sample estimate, exact for ν = identity), ``n`` (T,), ``A`` (T, 2, 2).
    """
    if covariance not in ("diagonal", "full"):
        raise ValueError(f"covariance must be 'diagonal' or 'full', got {covariance!r}")
    _check_training(data, amortized, generator, noise_std)
    lr0 = check_real(lr0, "lr0", low=0.0, high=LR0_MAX, closed="right")
    eval_samples = check_int(eval_samples, "eval_samples", low=1)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    if optimizer not in ("gd", "adam"):
        raise ValueError(f"optimizer must be 'gd' or 'adam', got {optimizer!r}")
    if data.nonlinearity not in TORCH_NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {tuple(NONLINEARITIES)}")
    device = resolve_device(str(device)) if not isinstance(device, torch.device) else device
    order = np.argsort(data.n, kind="stable")
    n_sorted = data.n[order]
    T, N, _ = data.x.shape
    x = torch.as_tensor(data.x[order], dtype=dtype, device=device)
    sigma2 = noise_std**2
    nonlin = TORCH_NONLINEARITIES[data.nonlinearity]
    exact_identity = data.nonlinearity == "identity"

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=dtype).to(device)

    params = {"A": randn(T, 2, 2), "b": torch.zeros(T, 2, dtype=dtype, device=device)}
    fixed = {}
    if amortized:
        params.update(Cp=0.1 * randn(T, 2, 2), d=torch.zeros(T, 2, dtype=dtype, device=device),
                      Dp=0.3 * torch.eye(2, dtype=dtype, device=device).repeat(T, 1, 1))
        fixed.update(O1=_random_rotations(T, generator, dtype, device),
                     O2=_random_rotations(T, generator, dtype, device))
    else:
        params.update(mu=0.1 * randn(T, N, 2),
                      Dp=0.3 * torch.eye(2, dtype=dtype, device=device).repeat(T, N, 1, 1))
        fixed.update(O=_random_rotations(T, generator, dtype, device))

    def loss(p, f, xb, eps):
        nelbo, _ = _neg_elbo_terms(p, f, xb, eps, nonlin, covariance, amortized,
                                   exact_identity, sigma2)
        return sigma2 * nelbo.sum()  # sum over trials: each trial's gradient is its own

    keys = list(params)

    def grad_fn(p, f, xb, eps):
        leaves = [p[k].detach().requires_grad_(True) for k in keys]
        value = loss(dict(zip(keys, leaves)), f, xb, eps)
        return dict(zip(keys, torch.autograd.grad(value, leaves)))
    total = int(5 * n_sorted.max())
    # steps at which the set of active trials or their learning rates change
    lrs_host = None
    from deep.progress import bar as progress_bar

    bar = progress_bar(total=total, desc=f"{data.nonlinearity}/{covariance}/"
                       f"{'amortised' if amortized else 'unamortised'}", show=progress,
               mininterval=2.0)
    start = 0
    lr_dev = None
    moments = {k: (torch.zeros_like(v), torch.zeros_like(v)) for k, v in params.items()}
    for step in range(total):
        while start < T and step >= 5 * n_sorted[start]:
            start += 1
        lrs = lr_schedule(step, n_sorted[start:], lr0)
        if lrs_host is None or lrs.shape != lrs_host.shape or np.any(lrs != lrs_host):
            lrs_host = lrs
            lr_dev = torch.as_tensor(lrs, dtype=dtype, device=device)
        p = {k: v[start:] for k, v in params.items()}
        f = {k: v[start:] for k, v in fixed.items()}
        if exact_identity:
            eps = None
        else:
            eps = torch.randn(1, T - start, N, 2, generator=generator, dtype=dtype).to(device)
        g = grad_fn(p, f, x[start:], eps)
        with torch.no_grad():
            for k, v in p.items():
                lr = lr_dev.view(-1, *([1] * (v.ndim - 1)))
                if optimizer == "gd":
                    v.sub_(lr * g[k])
                else:  # Adam, bias-corrected, elementwise so trials stay independent
                    m, s2 = (mom[start:] for mom in moments[k])
                    m.mul_(0.9).add_(0.1 * g[k])
                    s2.mul_(0.999).add_(0.001 * g[k] ** 2)
                    m_hat = m / (1 - 0.9 ** (step + 1))
                    s_hat = s2 / (1 - 0.999 ** (step + 1))
                    v.sub_(lr * m_hat / (torch.sqrt(s_hat) + 1e-8))
        bar.update()
    bar.close()
    with torch.no_grad():
        eps = None if exact_identity else torch.randn(eval_samples, T, N, 2, generator=generator,
                                                      dtype=dtype).to(device)
        nelbo, mu = _neg_elbo_terms(params, fixed, x, eps, nonlin, covariance, amortized,
                                    exact_identity, sigma2)
        mu = mu.expand(T, N, 2)
    inv = np.argsort(order, kind="stable")
    return {"mu": mu.cpu().double().numpy()[inv], "elbo": -nelbo.cpu().double().numpy()[inv],
            "n": data.n.copy(), "A": params["A"].cpu().double().numpy()[inv]}


# --------------------------------------------------------------------------- second-order trainer
#
# Why a second-order optimiser. With the decoder noise fixed at σ = 0.05 the ELBO of this
# model is extremely ill-conditioned: the stiff directions have curvature ∝ ‖A‖²/σ² (≈ 1600
# nats per unit² for ‖A‖ = 2), whereas rotating the whole solution (A, C, Σ) by 45° costs only
# ≈ 0.2 nats under a diagonal Σ (ν = identity; 0 under a full Σ). Gradient descent and Adam
# (which only rescales coordinates, not this coupled direction) stay at random angles for
# thousands of steps. A damped Newton (Levenberg–Marquardt) step per trial is invariant to the
# conditioning and reaches the optimum, and hence the unique mean-field angle, in tens of steps.
# The paper's gradient-descent schedule is kept in :func:`train_uniqueness`.


def gauss_hermite_2d(order: int, dtype=torch.float64, device="cpu"):
    r"""Tensor-product Gauss–Hermite rule for E_{t ~ N(0, I₂)} f(t).

    Returns nodes (order², 2) and weights (order²,) summing to 1 (probabilists' Hermite
    polynomials, ``numpy.polynomial.hermite_e.hermegauss``); exact for polynomials of degree
    ≤ 2·order − 1 in each coordinate, hence exact for the quadratic reconstruction term of
    ν = identity whenever order ≥ 2.
    """
    if not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be a positive int, got {order!r}")
    t, w = np.polynomial.hermite_e.hermegauss(int(order))
    w = w / w.sum()
    T1, T2 = np.meshgrid(t, t, indexing="ij")
    nodes = np.stack([T1.ravel(), T2.ravel()], -1)
    weights = np.outer(w, w).ravel()
    return (torch.as_tensor(nodes, dtype=dtype, device=device),
            torch.as_tensor(weights, dtype=dtype, device=device))


def _broadcast(**batch_shapes):
    """The leading (batch) shapes of the arguments must broadcast together; the error names them."""
    try:
        return torch.broadcast_shapes(*batch_shapes.values())
    except RuntimeError:
        text = ", ".join(f"{k} {tuple(v)}" for k, v in batch_shapes.items())
        raise ValueError(f"{' and '.join(batch_shapes)} must have batch shapes that broadcast "
                         f"together, got {text}") from None


def point_neg_elbo(A, b, mu, L, x, nonlin, covariance: str, nodes, weights, sigma2: float):
    r"""Per-point negative ELBO (nats) of the App. C model, deterministic (quadrature).

    .. math::
        -\mathrm{ELBO}_i = \mathbb{E}_{q_i}\Big[\tfrac{\|x_i - \nu(Az) - b\|^2}{2\sigma^2}\Big]
        + \log(2\pi\sigma^2) + \mathrm{KL}(q_i \,\|\, \mathcal{N}(0, I_2)),

    q_i = N(μ_i, Σ_i), Σ_i = L_i L_iᵀ; for ``covariance="diagonal"`` only diag(Σ_i) enters
    (mean-field q, Kumar & Poole 2020, App. C) and q_i = N(μ_i, diag(Σ_i)).

    All arguments broadcast over leading batch dimensions (…).

    Parameters
    ----------
    A : (…, 2, 2), b : (…, 2) decoder; mu : (…, 2); L : (…, 2, 2); x : (…, 2)
    nodes : (K, 2), weights : (K,) from :func:`gauss_hermite_2d`

    Returns
    -------
    (…) tensor, e.g. (N,) for A (2, 2), b (2,), mu (N, 2), L (1, 2, 2), x (N, 2).
    """
    check_choice(covariance, "covariance", ("diagonal", "full"))
    for name, t in (("A", A), ("b", b), ("mu", mu), ("L", L), ("x", x), ("nodes", nodes),
                    ("weights", weights)):
        check_tensor(t, name, finite=True, grad_exempt=True, min_size=1)
    _broadcast(A=A.shape[:-2], b=b.shape[:-1], mu=mu.shape[:-1], L=L.shape[:-2], x=x.shape[:-1])
    if A.shape[-2:] != (2, 2) or L.shape[-2:] != (2, 2) or b.shape[-1:] != (2,) \
            or mu.shape[-1:] != (2,) or x.shape[-1:] != (2,):
        raise ValueError("A and L must end in (2, 2); b, mu and x in (2,) (the App. C model)")
    if nodes.ndim != 2 or nodes.shape[1] != 2 or weights.shape != nodes.shape[:1]:
        raise ValueError(f"nodes must have shape (K, 2) and weights (K,), got "
                         f"{tuple(nodes.shape)} and {tuple(weights.shape)}")
    if not callable(nonlin):
        raise TypeError(f"nonlin must be callable, got {type(nonlin).__name__}")
    sigma2 = check_real(sigma2, "sigma2", low=SIGMA2_RANGE[0], high=SIGMA2_RANGE[1])
    if covariance == "diagonal":
        var = (L**2).sum(-1)  # diag(L Lᵀ), (…, 2)
        z = mu[..., None, :] + torch.sqrt(var)[..., None, :] * nodes  # (…, K, 2)
        kl = 0.5 * ((mu**2).sum(-1) + var.sum(-1) - torch.log(var).sum(-1) - 2)
    else:
        z = mu[..., None, :] + nodes @ L.transpose(-1, -2)  # L t for every node
        det = L[..., 0, 0] * L[..., 1, 1] - L[..., 0, 1] * L[..., 1, 0]
        kl = 0.5 * ((mu**2).sum(-1) + (L**2).sum((-1, -2)) - torch.log(det**2) - 2)
    pred = nonlin(z @ A.transpose(-1, -2)) + b[..., None, :]
    sq = ((x[..., None, :] - pred) ** 2).sum(-1)  # (…, K)
    rec = (sq * weights).sum(-1) / (2 * sigma2) + math.log(2 * math.pi * sigma2)
    return rec + kl


def _nonlinearity_derivatives(name: str, a):
    """ν(a), ν'(a), ν''(a) elementwise for the App. C nonlinearities (elu with α = 1)."""
    if name == "identity":
        return a, torch.ones_like(a), torch.zeros_like(a)
    if name == "tanh":
        t = torch.tanh(a)
        d1 = 1 - t * t
        return t, d1, -2 * t * d1
    if name == "sigmoid":
        s = torch.sigmoid(a)
        d1 = s * (1 - s)
        return s, d1, d1 * (1 - 2 * s)
    if name == "elu":
        e = torch.exp(torch.clamp(a, max=0.0))
        pos = a > 0
        return (torch.where(pos, a, e - 1), torch.where(pos, torch.ones_like(a), e),
                torch.where(pos, torch.zeros_like(a), e))
    raise ValueError(f"nonlinearity must be one of {tuple(TORCH_NONLINEARITIES)}, got {name!r}")


def point_grad_hess(u, x, o, nonlinearity: str, covariance: str, nodes, weights,
                    sigma2: float, hessian: bool = True):
    r"""Analytic gradient and Hessian of :func:`point_neg_elbo` per point (unamortised VI).

    ``u`` (…, P) stacks (A₁₁, A₁₂, A₂₁, A₂₂, b₁, b₂, μ₁, μ₂, s), with s the unconstrained
    scale parameters of :func:`_scale_factor` (diagonal: log std, P = 10; full: log L₁₁, L₂₁,
    log L₂₂ of the Cholesky factor rotated by ``o`` (…, 2, 2), P = 11).

    With z_k = μ + L(s) t_k (quadrature node t_k, weight w_k), a = A z_k, p = ν(a) + b and
    e = p − x, the reconstruction term is Σ_k w_k ‖e‖²/(2σ²) (Kumar & Poole 2020, App. C;
    the same second-order structure as their eqs 4–5: J_pᵀ H_p J_p plus the ∇_p term times
    ∇²p, with H_p = I/σ²):

    .. math::
        \nabla^2 = \sum_k \frac{w_k}{\sigma^2} \sum_i \Big[(\nu_i'^2 + e_i \nu_i'')
        \nabla a_i \nabla a_i^\top + \nu_i'(\nabla a_i \epsilon_{b_i}^\top
        + \epsilon_{b_i} \nabla a_i^\top) + \epsilon_{b_i}\epsilon_{b_i}^\top
        + e_i \nu_i' \nabla^2 a_i\Big] + \nabla^2 \mathrm{KL},

    with ∂a_i/∂A_ij = z_j, ∂a_i/∂μ = A_i·, ∂a_i/∂s = A_i·∂z/∂s, ∂²a_i/∂A_ij∂μ_j = 1,
    ∂²a_i/∂A_ij∂s_l = ∂z_j/∂s_l, ∂²a_i/∂s_l² = A_i·∂²z/∂s_l² (the s-cross terms vanish for
    both parameterisations). KL(N(μ, LLᵀ) ‖ N(0, I)) is a sum of ‖μ‖²/2 and one-variable
    terms in s.

    Returns
    -------
    grad (…, P) and, if ``hessian``, hess (…, P, P); the tests check both against autograd.
    """
    n_expected = {"diagonal": 10, "full": 11}.get(covariance) if isinstance(covariance, str) else None
    if n_expected is None:
        raise ValueError(f"covariance must be 'diagonal' or 'full', got {covariance!r}")
    for name, t in (("u", u), ("x", x), ("nodes", nodes), ("weights", weights)):
        check_tensor(t, name, finite=True, grad_exempt=True, min_size=1)
    if o is not None:
        check_tensor(o, "o", finite=True, grad_exempt=True)
    if nodes.ndim != 2 or nodes.shape[1] != 2 or weights.shape != nodes.shape[:1]:
        raise ValueError(f"nodes must have shape (K, 2) and weights (K,), got "
                         f"{tuple(nodes.shape)} and {tuple(weights.shape)}")
    sigma2 = check_real(sigma2, "sigma2", low=SIGMA2_RANGE[0], high=SIGMA2_RANGE[1])
    if u.shape[-1] != n_expected:
        raise ValueError(f"u must have {n_expected} entries per point for covariance="
                         f"{covariance!r}, got shape {tuple(u.shape)}")
    if x.shape[-1] != 2:
        raise ValueError(f"x must have 2 entries per point, got shape {tuple(x.shape)}")
    if covariance == "full" and (o is None or o.shape[-2:] != (2, 2)):
        raise ValueError("o must be the (…, 2, 2) fixed rotations for covariance='full'")
    A = u[..., 0:4].unflatten(-1, (2, 2))
    b, mu, s = u[..., 4:6], u[..., 6:8], u[..., 8:]
    n_s = s.shape[-1]
    P = 8 + n_s
    t0, t1 = nodes[:, 0], nodes[:, 1]  # (K,)
    es = torch.exp(s)
    one = torch.ones_like(mu[..., 0:1])
    # Per node, ∂z_j/∂s_l = R_jl B_l(t) with scalar basis functions B_l and a per-point matrix
    # R; ∂²z/∂s_l² = m_l ∂z/∂s_l (m_l ∈ {0, 1}) and the cross second derivatives vanish.
    if covariance == "diagonal":  # z = μ + exp(s) ⊙ t
        B = es[..., None, :] * nodes  # (…, K, 2)
        z = mu[..., None, :] + B
        R = torch.eye(2, dtype=u.dtype, device=u.device).expand(*u.shape[:-1], 2, 2)
        m2 = torch.ones(2, dtype=u.dtype, device=u.device)
        kl_g = torch.cat([mu, es * es - 1], -1)
        kl_h = torch.cat([one, one, 2 * es * es], -1)
    else:  # full: z = μ + O (exp(s0) t0, s1 t0 + exp(s2) t1)
        c0, c2 = es[..., 0:1] * t0, es[..., 2:3] * t1  # (…, K)
        B = torch.stack([c0, t0.expand_as(c0), c2], -1)  # (…, K, 3)
        R = o[..., :, [0, 1, 1]]  # (…, 2, 3)
        l1 = s[..., 1:2] * t0 + c2
        z = (mu[..., None, :] + c0[..., None] * o[..., None, :, 0]
             + l1[..., None] * o[..., None, :, 1])
        m2 = torch.tensor([1.0, 0.0, 1.0], dtype=u.dtype, device=u.device)
        kl_g = torch.cat([mu, es[..., 0:1] ** 2 - 1, s[..., 1:2], es[..., 2:3] ** 2 - 1], -1)
        kl_h = torch.cat([one, one, 2 * es[..., 0:1] ** 2, one, 2 * es[..., 2:3] ** 2], -1)
    a = z[..., 0:1] * A[..., None, :, 0] + z[..., 1:2] * A[..., None, :, 1]  # (…, K, 2): A z
    nu, d1, d2 = _nonlinearity_derivatives(nonlinearity, a)
    e = nu + b[..., None, :] - x[..., None, :]  # (…, K, 2)
    w = (weights / sigma2)[:, None]  # (K, 1)
    we1 = w * e * d1  # (…, K, 2): ∂rec/∂a_i per node
    # ∇a_i on (A_i·, μ, s) is f_i with entries sc_i ⊙ y[pick] of the per-node y = (1, z, B):
    # A_i· ↦ z, μ ↦ A_i· · 1, s_l ↦ C_il B_l with C = A R, so every sum over nodes is a
    # moment of y, scaled per point.
    y = torch.cat([torch.ones_like(z[..., 0:1]), z, B], -1)  # (…, K, 3 + n_s)
    C = A @ R  # (…, 2, n_s)
    pick = torch.tensor([1, 2, 0, 0] + list(range(3, 3 + n_s)), device=u.device)
    sc = torch.cat([torch.ones_like(A), A, C], -1)  # (…, 2, 4 + n_s)
    first = torch.einsum("...ki,...kf->...if", torch.cat([we1, w * d1], -1), y)  # (…, 4, 3+n_s)
    m_e = first[..., 0:2, :]  # Σ_k w e_i ν'_i y
    g_i = m_e[..., pick] * sc  # (…, 2, 4 + n_s)
    grad = torch.cat([g_i[..., 0, 0:2], g_i[..., 1, 0:2], (w * e).sum(-2),
                      g_i[..., 0, 2:] + g_i[..., 1, 2:] + kl_g], -1)
    if not hessian:
        return grad, None
    alpha = w * (d1 * d1 + e * d2)  # (…, K, 2)
    ay = (alpha[..., :, None] * y[..., None, :]).flatten(-2)  # (…, K, 2(3 + n_s))
    M = (ay.transpose(-1, -2) @ y).unflatten(-2, (2, 3 + n_s))  # Σ_k α_i y yᵀ, (…, 2, F, F)
    Q = M[..., pick, :][..., pick] * sc[..., :, None] * sc[..., None, :]  # Σ_k α_i f_i f_iᵀ
    vb = first[..., 2:4, pick] * sc  # (…, 2, 4 + n_s): Σ_k w ν'_i f_i
    H = torch.zeros(u.shape[:-1] + (P, P), dtype=u.dtype, device=u.device)
    beta = m_e[..., 0]  # (…, 2): Σ_k w e_i ν'_i
    # e_i ν'_i ∇²a_i: (A_ij, μ_j) = 1, (A_ij, s_l) = ∂z_j/∂s_l, (s_l, s_l) = A_i·∂²z/∂s_l²
    bz = R[..., None, :, :] * m_e[..., :, None, 3:]  # (…, 2, 2, n_s): R_jl Σ_k w e_i ν'_i B_l
    eye2 = torch.eye(2, dtype=u.dtype, device=u.device)
    for i in range(2):
        r = slice(2 * i, 2 * i + 2)
        H[..., r, r] = Q[..., i, 0:2, 0:2]
        H[..., r, 6:] = Q[..., i, 0:2, 2:]
        H[..., r, 6:8] += beta[..., i, None, None] * eye2
        H[..., r, 8:] += bz[..., i, :, :]
        H[..., 6:, r] = H[..., r, 6:].transpose(-1, -2)
        H[..., r, 4 + i] = H[..., 4 + i, r] = vb[..., i, 0:2]
        H[..., 6:, 4 + i] = H[..., 4 + i, 6:] = vb[..., i, 2:]
        H[..., 4 + i, 4 + i] = weights.sum() / sigma2
    H[..., 6:, 6:] = Q[..., 0, 2:, 2:] + Q[..., 1, 2:, 2:]
    ss = m2 * (C * m_e[..., 3:]).sum(-2)  # Σ_i C_il Σ_k w e_i ν'_i B_l
    idx = torch.arange(6, P, device=u.device)
    H[..., idx, idx] += torch.cat([torch.zeros_like(mu), ss], -1) + kl_h
    return grad, H


def _scale_factor(s, o, covariance: str):
    """Σ factor L (Σ = L Lᵀ) from unconstrained s: diagonal, s = log std (2 numbers);
    full, s = (log L₁₁, L₂₁, log L₂₂) of a Cholesky factor rotated by the fixed o."""
    if covariance == "diagonal":
        return torch.diag_embed(torch.exp(s))
    zero = torch.zeros_like(s[..., 0])
    chol = torch.stack([torch.stack([torch.exp(s[..., 0]), zero], -1),
                        torch.stack([s[..., 1], torch.exp(s[..., 2])], -1)], -2)
    return o @ chol


def _unpack_amortised(theta):
    return (theta[0:4].reshape(2, 2), theta[4:6], theta[6:10].reshape(2, 2), theta[10:12],
            theta[12:])


@training_forward()
def train_uniqueness_newton(data: UniquenessData, covariance: str, amortized: bool,
                            generator: torch.Generator, device: str | torch.device = "cpu",
                            noise_std: float = 0.05, quad_order: int = 2,
                            n_final: int | None = None, warmup: int = 200,
                            hess_points: int | None = 512, tol: float = 1e-10,
                            progress: bool = False) -> dict:
    r"""Train all trials of one App. C experiment by batched damped Newton (Levenberg–Marquardt).

    Same model, parameterisation (C = O₁C', Σ = O₂D'D'ᵀO₂ᵀ, Σ_i = O D'_i D'_iᵀ Oᵀ with fixed
    random rotations) and initialisation as :func:`train_uniqueness`; the expectation of the
    reconstruction term uses a tensor Gauss–Hermite rule (exact for ν = identity), so the
    objective is deterministic. Trial t is recorded after ``data.n[t]`` Newton iterations and
    then keeps iterating to ``n_final`` (default max n + 40), or until it has converged, to
    give the reference optimum of its own data set: the *ELBO gap* of a trial is
    ELBO(optimum) − ELBO(after n_t steps).

    Amortised: one 16×16 Hessian per trial (A, b, C', d, D'), computed on a fixed random
    subset of ``hess_points`` points (subsampled Newton, Byrd et al. 2011) up to iteration
    max(n) and on every point afterwards; the gradient and the accept test always use every
    point, so the iteration converges to the optimum of the full objective. Unamortised:
    per-point gradients and Hessians come in closed form (:func:`point_grad_hess`); the
    Hessian of (A, b; μ_i, D'_i) is block-arrow shaped, and the Newton step eliminates the
    per-point blocks by the Schur complement, so its cost is
    linear in the number of points. Damping λ per trial: ×1/3 after an accepted step, ×4
    after a rejected one. A trial past its record point stops (and costs nothing more) once
    an accepted step lowers its loss by less than ``tol`` nats or λ reaches 1e9.

    Parameters
    ----------
    data : UniquenessData, x of shape (T, N, 2); ``data.n`` (T,) are Newton-iteration counts
        (0 allowed: the initialisation).
    covariance : {"diagonal", "full"}
    amortized : bool
    generator : torch.Generator (CPU) for initialisations, rotations and subsets
    quad_order : Gauss–Hermite order per latent dimension (2: exact for ν = identity; the
        error for the smooth ν is checked against higher orders in the tests)
    warmup : Adam steps before Newton (on a subset of ≤ 1024 points per trial when amortised;
        with a 2 × 2 Gauss–Hermite rule)
    hess_points : subset size for the amortised Hessian, None for all points

    Returns
    -------
    dict of numpy arrays: ``mu`` (T, N, 2) and ``elbo`` (T,) after n_t iterations,
    ``mu_final`` (T, N, 2), ``elbo_final`` (T,) at the end, ``iterations`` (T,) Newton
    iterations run, ``n`` (T,).
    """
    from torch.func import vmap

    if covariance not in ("diagonal", "full"):
        raise ValueError(f"covariance must be 'diagonal' or 'full', got {covariance!r}")
    _check_training(data, amortized, generator, noise_std)
    if data.nonlinearity not in TORCH_NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {tuple(NONLINEARITIES)}")
    quad_order = check_int(quad_order, "quad_order", low=1)
    warmup = check_int(warmup, "warmup", low=0)
    n = np.asarray(data.n, dtype=np.int64)
    if np.any(n < 0):
        raise ValueError("data.n must be non-negative iteration counts")
    n_final = int(n.max()) + 40 if n_final is None else check_int(n_final, "n_final", low=0)
    if n_final < n.max():
        raise ValueError(f"n_final must be >= max(data.n) = {n.max()}, got {n_final}")
    if hess_points is not None and (not isinstance(hess_points, (int, np.integer))
                                    or isinstance(hess_points, (bool, np.bool_)) or hess_points < 1):
        raise ValueError(f"hess_points must be a positive int or None, got {hess_points!r}")
    if not (isinstance(tol, (int, float)) and tol >= 0):
        raise ValueError(f"tol must be a non-negative number, got {tol!r}")
    tol = check_real(tol, "tol", low=0.0)
    device = resolve_device(str(device)) if not isinstance(device, torch.device) else device
    dt = torch.float64
    T, N, _ = data.x.shape
    x = torch.as_tensor(data.x, dtype=dt, device=device)
    sigma2 = noise_std**2
    nonlin = TORCH_NONLINEARITIES[data.nonlinearity]
    nodes, weights = gauss_hermite_2d(quad_order, dt, device)
    warm_rule = gauss_hermite_2d(min(quad_order, 2), dt, device)  # the warm start's rule
    # Trials are independent: the heavy per-point work of a Newton step runs over blocks of
    # trials with about 2¹⁸ quadrature-node evaluations each, which keeps the temporaries small
    # enough to be recycled by the allocator (one block of 60 trials × 4000 points is ~2×
    # slower on CPU, from page faults on fresh memory).
    block = max(1, _BLOCK_NODES // (N * nodes.shape[0]))

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=dt).to(device)

    def subset(m):  # a fixed random subset of m points per trial, (T, m, 2)
        if m >= N:
            return x
        idx = torch.argsort(torch.rand(T, N, generator=generator), 1)[:, :m].to(device)
        return torch.gather(x, 1, idx[..., None].expand(T, m, 2))

    # Σ starts at 0.3² I: log std log 0.3 (diagonal) or Cholesky (log 0.3, 0, log 0.3) (full)
    ls = math.log(0.3)
    s0 = torch.tensor([ls, ls] if covariance == "diagonal" else [ls, 0.0, ls], dtype=dt,
                      device=device)[None]
    n_s = s0.shape[1]
    A0 = randn(T, 2, 2)
    if amortized:
        theta = torch.cat([A0.reshape(T, 4), torch.zeros(T, 2, dtype=dt, device=device),
                           0.1 * randn(T, 2, 2).reshape(T, 4),
                           torch.zeros(T, 2, dtype=dt, device=device), s0.repeat(T, 1)], 1)
        O1 = _random_rotations(T, generator, dt, device)
        O2 = _random_rotations(T, generator, dt, device)

        def trial_loss(th, xt, o1, o2, rule_nodes, rule_weights):
            A, b, Cp, d, Dp = _unpack_amortised(th)
            mu = xt @ (o1 @ Cp).T + d
            return point_neg_elbo(A, b, mu, _scale_factor(Dp, o2, covariance)[None], xt, nonlin,
                                  covariance, rule_nodes, rule_weights, sigma2).mean()

        def loss_fn(th, xb, o1, o2, rule=(nodes, weights)):
            return vmap(trial_loss, in_dims=(0, 0, 0, 0, None, None))(th, xb, o1, o2, *rule)

        def grad_fn(th, xb, o1, o2):
            leaf = th.detach().requires_grad_(True)
            return torch.autograd.grad(loss_fn(leaf, xb, o1, o2).sum(), leaf)[0]

        def hess_fn(th, xb, o1, o2):
            """Per-trial Hessians (T', P, P): trials are independent, so row k of every
            Hessian is one reverse-over-reverse pass through the batched loss."""
            leaf = th.detach().requires_grad_(True)
            g, = torch.autograd.grad(loss_fn(leaf, xb, o1, o2).sum(), leaf, create_graph=True)
            P = th.shape[-1]
            return torch.stack([torch.autograd.grad(g[:, k].sum(), leaf, retain_graph=k < P - 1)[0]
                                for k in range(P)], -2)
        x_hess = x if hess_points is None else subset(int(hess_points))

        def mus(th, idx):
            A, b, Cp, d, Dp = vmap(_unpack_amortised)(th)
            return x[idx] @ (O1[idx] @ Cp).transpose(-1, -2) + d[:, None, :]
    else:
        phi = torch.cat([0.1 * randn(T, N, 2), s0[None].repeat(T, N, 1)], -1)  # (T, N, 2+n_s)
        theta = torch.cat([A0.reshape(T, 4), torch.zeros(T, 2, dtype=dt, device=device)], 1)
        O = _random_rotations(T, generator, dt, device)

        def per_point(u, xb, ob):  # u (T', N, 8 + n_s) = (A, b, μ_i, s_i) per point
            return point_neg_elbo(u[..., 0:4].unflatten(-1, (2, 2)), u[..., 4:6], u[..., 6:8],
                                  _scale_factor(u[..., 8:], ob[:, None], covariance), xb,
                                  nonlin, covariance, nodes, weights, sigma2)  # (T', N)

        def per_point_grad_hess(u, xb, ob, hessian=True, rule=(nodes, weights)):
            """Per-point gradients (T', N, P) and Hessians (T', N, P, P) of per_point, in
            closed form (:func:`point_grad_hess`, checked against autograd in the tests)."""
            return point_grad_hess(u, xb, ob[:, None], data.nonlinearity, covariance, *rule,
                                   sigma2, hessian)

        def full_u(th, ph):
            return torch.cat([th[:, None, :].expand(-1, ph.shape[1], -1), ph], -1)

        def losses_u(th, ph, idx):
            return per_point(full_u(th, ph), x[idx], O[idx]).mean(-1)

    # first-order warm start (Adam, lr 0.05 → 0.005 step-wise, per-trial moments): from the
    # random initialisation pure Newton steps get caught at saddles (a collapsed latent).
    # Amortised: on a subset of ≤ 1024 points per trial (the Newton phase uses all points).
    # The warm start uses a 2 × 2 Gauss–Hermite rule (exact for ν = identity); Newton then
    # optimises the objective of ``quad_order``.
    if warmup > 0:
        if amortized:
            x_warm = subset(1024)
            params = [theta]

            def grads_fn(ps):
                leaves = [p.detach().requires_grad_(True) for p in ps]
                return torch.autograd.grad(loss_fn(leaves[0], x_warm, O1, O2, warm_rule).sum(),
                                           leaves)
        else:
            params = [theta, phi]

            def grads_fn(ps):  # of the per-trial mean loss, summed over trials
                gp = torch.cat([per_point_grad_hess(full_u(ps[0][i], ps[1][i]), x[i], O[i],
                                                    False, warm_rule)[0]
                                for i in torch.arange(T, device=device).split(4 * block)])
                return gp[..., :6].mean(1), gp[..., 6:] / N
        m = [torch.zeros_like(p) for p in params]
        v = [torch.zeros_like(p) for p in params]
        for k in range(warmup):
            lr = 0.05 if k < warmup // 2 else 0.005
            gs = grads_fn(params)
            with torch.no_grad():
                for i, gk in enumerate(gs):
                    gk = torch.nan_to_num(gk)
                    m[i] = 0.9 * m[i] + 0.1 * gk
                    v[i] = 0.999 * v[i] + 0.001 * gk**2
                    params[i] = params[i] - lr * (m[i] / (1 - 0.9 ** (k + 1))) / (
                        torch.sqrt(v[i] / (1 - 0.999 ** (k + 1))) + 1e-8)
        if amortized:
            theta, = params
        else:
            theta, phi = params
        theta = theta.detach()
        if not amortized:
            phi = phi.detach()

    def current_mu(idx):
        return mus(theta[idx], idx) if amortized else phi[idx, :, 0:2]

    def loss_of(th, ph, idx):
        return loss_fn(th, x[idx], O1[idx], O2[idx]) if amortized else losses_u(th, ph, idx)

    def newton_step(idx, recording):
        """Newton/LM steps (d_θ, d_φ or None) and the new losses of the trials ``idx``."""
        th = theta[idx]
        if amortized:
            g = grad_fn(th, x[idx], O1[idx], O2[idx])
            # subset Hessian while trials are being recorded, the full one afterwards: the
            # subset's error slows convergence along the flat rotation direction
            H = hess_fn(th, (x_hess if recording else x)[idx], O1[idx], O2[idx])
            # saddle-free Newton (Dauphin et al. 2014): |H| = V|Λ|Vᵀ, plus the LM damping,
            # so negative-curvature directions (|angle| > 22.5° under diagonal Σ) are descended
            ev, V = torch.linalg.eigh(0.5 * (H + H.transpose(-1, -2)))
            coef = (V.transpose(-1, -2) @ g[..., None])[..., 0] / (ev.abs() + lam[idx, None])
            d_th = -(V @ coef[..., None])[..., 0]
            with torch.no_grad():
                return d_th, None, loss_of(th + d_th, None, idx)
        ph = phi[idx]
        la = lam[idx]
        gp, hp = per_point_grad_hess(full_u(th, ph), x[idx], O[idx])  # per-point losses
        gp, hp = gp / N, hp / N  # of the mean loss
        g_th = gp[..., :6].sum(1)
        g_ph = gp[..., 6:]
        H_tt = hp[..., :6, :6].sum(1) + la[:, None, None] * torch.eye(6, dtype=dt, device=device)
        B = hp[..., :6, 6:]  # (T', N, 6, 2+n_s)
        H_pp = hp[..., 6:, 6:] + (la[:, None, None, None] / N) * torch.eye(
            2 + n_s, dtype=dt, device=device)
        # Schur complement of the block-diagonal per-point part
        Hinv_Bt = torch.linalg.solve(H_pp, B.transpose(-1, -2))  # (T', N, 2+n_s, 6)
        Hinv_g = torch.linalg.solve(H_pp, g_ph[..., None])[..., 0]  # (T', N, 2+n_s)
        S = H_tt - (B @ Hinv_Bt).sum(1)
        rhs = -g_th + (B @ Hinv_g[..., None])[..., 0].sum(1)
        d_th = torch.linalg.solve(S, rhs[..., None])[..., 0]
        d_ph = -Hinv_g - (Hinv_Bt @ d_th[:, None, :, None])[..., 0]
        with torch.no_grad():
            return d_th, d_ph, loss_of(th + d_th, ph + d_ph, idx)

    lam = torch.ones(T, dtype=dt, device=device)
    rec_mu = np.zeros((T, N, 2))
    rec_elbo = np.zeros(T)
    iterations = np.zeros(T, dtype=np.int64)
    active = np.ones(T, dtype=bool)
    from deep.progress import bar as progress_bar

    bar = progress_bar(total=n_final, show=progress, mininterval=2.0,
               desc=f"{data.nonlinearity}/{covariance}/{'amortised' if amortized else 'unamortised'}")
    every = torch.arange(T, device=device)
    with torch.no_grad():
        loss = torch.cat([loss_of(theta[i], None if amortized else phi[i], i)
                          for i in every.split(block)])
    for it in range(n_final + 1):
        hit = np.flatnonzero(n == it)
        if hit.size:
            idx_hit = torch.as_tensor(hit, device=device)
            with torch.no_grad():
                rec_mu[hit] = current_mu(idx_hit).cpu().numpy()
                rec_elbo[hit] = -loss[idx_hit].cpu().numpy()
        if it == n_final or not active.any():
            break
        idx = torch.as_tensor(np.flatnonzero(active), device=device)
        steps = [newton_step(idx[i:i + block], it < n.max()) for i in range(0, len(idx), block)]
        th = theta[idx]
        d_th = torch.cat([st[0] for st in steps])
        new = torch.cat([st[2] for st in steps])
        if not amortized:
            ph = phi[idx]
            d_ph = torch.cat([st[1] for st in steps])
        old = loss[idx]
        accept = torch.isfinite(new) & (new < old)
        with torch.no_grad():
            theta[idx] = torch.where(accept[:, None], th + d_th, th)
            if not amortized:
                phi[idx] = torch.where(accept[:, None, None], ph + d_ph, ph)
            loss[idx] = torch.where(accept, new, old)
            lam[idx] = torch.where(accept, lam[idx] / 3, lam[idx] * 4).clamp(1e-9, 1e9)
            done = ((accept & (old - new < tol)) | (lam[idx] >= 1e9)).cpu().numpy()
        ids = idx.cpu().numpy()
        iterations[ids] += 1
        active[ids[done & (n[ids] <= it + 1)]] = False
        bar.update()
    bar.close()
    with torch.no_grad():
        mu_final = current_mu(every).cpu().numpy()
    return {"mu": rec_mu, "elbo": rec_elbo, "mu_final": mu_final,
            "elbo_final": -loss.cpu().numpy(), "iterations": iterations, "n": n.copy()}
