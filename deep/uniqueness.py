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

__all__ = ["resolve_device", "UniquenessData", "make_data", "lr_schedule", "train_uniqueness",
           "TORCH_NONLINEARITIES"]

TORCH_NONLINEARITIES = {
    "identity": lambda a: a,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "elu": torch.nn.functional.elu,
}


def resolve_device(device: str) -> torch.device:
    """``"auto"`` → cuda if available, else cpu; anything else is passed to torch.device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@dataclass
class UniquenessData:
    """Data of T trials: x, z of shape (T, N, 2), W of shape (T, 2, 2), n of shape (T,)."""

    x: np.ndarray
    z: np.ndarray
    W: np.ndarray
    n: np.ndarray
    nonlinearity: str


def make_data(n_per_trial, nonlinearity: str, n_samples: int, rng: np.random.Generator,
              noise_std: float = 0.05) -> UniquenessData:
    """Sample one data set per trial (App. C); ``n_per_trial`` (T,) the schedule lengths n."""
    n = np.asarray(n_per_trial, dtype=np.int64)
    if n.ndim != 1 or n.size < 1 or np.any(n < 1):
        raise ValueError("n_per_trial must be a non-empty 1-D array of positive ints")
    xs, zs, Ws = zip(*(sample_uniqueness_data(n_samples, nonlinearity, rng, noise_std)
                       for _ in range(n.size)))
    return UniquenessData(np.stack(xs), np.stack(zs), np.stack(Ws), n, nonlinearity)


def lr_schedule(step: int, n, lr0: float = 0.1, n_phases: int = 5) -> np.ndarray:
    """Step-wise schedule of App. C: lr0·10^{−⌊step/n⌋} for step < n_phases·n, else 0."""
    n = np.asarray(n)
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
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=f"{data.nonlinearity}/{covariance}/"
               f"{'amortised' if amortized else 'unamortised'}", disable=not progress,
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
