r"""The linear β-VAE of Sikka (2020), eqs 29–33, in torch, trained on samples with Adam.

Same parametrisation as :class:`theory.linear_vae.LinearVAEParams`: encoder
μ_z = W^μ x + b^μ, log σ_z² = W^σ x + b^σ (eqs 29–30), decoder N(Dz + b^D, I_N) (eq 32). The
objective is the reparameterised Monte Carlo β-ELBO of eq 33 (App. 1, eq 56), not the closed
form eq 34; the tests check that training converges to
:func:`linear_models.linear_vae.optimum`.

Device-agnostic; randomness only through the ``torch.Generator`` arguments.
"""

from __future__ import annotations

__all__ = ["LOG2PI", "LinearVAE", "sample_data", "train", "mc_objective"]

import math

import numpy as np
import torch
from torch import nn

from validation import (as_float_array, check_device, check_int, check_real, check_tensor,
                        training_forward)

LOG2PI = math.log(2.0 * math.pi)
#: largest ``|entry|`` of A (samples and their squares stay in float64)
MAX_ENTRY = 1e100
#: the accepted β (β·KL and the spread of the per-point objective stay in float64)
BETA_RANGE = (1e-100, 1e100)
#: largest init_scale (the encoder's exp(W^σ x) leaves float64 for entries of a few tens)
INIT_SCALE_MAX = 10.0
#: largest Adam learning rate of train (Adam moves each parameter by about lr per step;
#: beyond 1 the log-variances overflow the exponential within a few steps)
LR_MAX = 1.0


def _check_A(A) -> np.ndarray:
    A = as_float_array(A, "A", 2, min_size=1, low=-MAX_ENTRY, high=MAX_ENTRY)
    if A.shape[1] > A.shape[0]:
        raise ValueError(f"A must have shape (N, k) with k <= N, got {A.shape}")
    return A


def _check_generator(generator):
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    return generator


class LinearVAE(nn.Module):
    """Linear encoder (mean and log-variance) and linear decoder (Sikka 2020, eqs 29–32).

    N : data dimension, k : latents. Parameters are initialised N(0, init_scale²) from
    ``generator``.
    """

    def __init__(self, N: int, k: int, *, generator: torch.Generator, init_scale: float = 0.1,
                 dtype=torch.float64, device="cpu"):
        super().__init__()
        N, k = check_int(N, "N", low=1), check_int(k, "k", low=1)
        if not k <= N:
            raise ValueError(f"k must satisfy 1 <= k <= N, got N={N!r}, k={k!r}")
        _check_generator(generator)
        init_scale = check_real(init_scale, "init_scale", low=0.0, high=INIT_SCALE_MAX)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        device = check_device(device)

        def p(*shape):
            return nn.Parameter(init_scale * torch.randn(*shape, generator=generator, dtype=dtype).to(device))

        self.W_mu, self.b_mu = p(k, N), p(k)
        self.W_sigma, self.b_sigma = p(k, N), p(k)
        self.D, self.b_D = p(N, k), p(N)

    def encode(self, x):
        """x : (n, N) → μ, log σ² : (n, k) (eqs 29–30)."""
        return x @ self.W_mu.T + self.b_mu, x @ self.W_sigma.T + self.b_sigma

    def terms(self, x, generator: torch.Generator, n_samples: int = 1):
        r"""Per-point Monte Carlo reconstruction and analytic KL, shape (n,) each.

        rec = mean over ``n_samples`` draws z = μ + σ ε of log N(x; Dz + b^D, I) (App. 1, eq 56);
        KL(q‖N(0, I)) = ½ Σ (σ² + μ² − 1 − log σ²) (App. 1, eq 66).
        """
        check_tensor(x, "x", ndim=2, finite=True, grad_exempt=True)
        if x.shape[1] != self.D.shape[0]:
            raise ValueError(f"x must have N = {self.D.shape[0]} columns, got shape {tuple(x.shape)}")
        _check_generator(generator)
        n_samples = check_int(n_samples, "n_samples", low=1)
        mu, logvar = self.encode(x)
        eps = torch.randn((n_samples,) + mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps
        r = x - z @ self.D.T - self.b_D
        rec = (-0.5 * x.shape[1] * LOG2PI - 0.5 * (r**2).sum(-1)).mean(0)
        kl = 0.5 * (logvar.exp() + mu**2 - 1.0 - logvar).sum(-1)
        return rec, kl

    def params_numpy(self):
        """The parameters as a :class:`theory.linear_vae.LinearVAEParams` of float64 arrays."""
        from theory.linear_vae import LinearVAEParams

        return LinearVAEParams(*[getattr(self, n).detach().cpu().double().numpy().copy()
                                 for n in LinearVAEParams._fields])


def sample_data(A, n: int, generator: torch.Generator, dtype=torch.float64, device="cpu"):
    """n draws of x = A s + η (Sikka 2020, eq 26). A : (N, k) array → (n, N) tensor."""
    A = torch.as_tensor(_check_A(A), dtype=dtype)
    n = check_int(n, "n", low=1)
    _check_generator(generator)
    N, k = A.shape
    s = torch.randn(n, k, generator=generator, dtype=dtype)
    eta = torch.randn(n, N, generator=generator, dtype=dtype)
    return (s @ A.T + eta).to(device)


@training_forward()
def train(A, beta: float, *, generator: torch.Generator, steps: int = 3000, batch: int = 512,
          lr: float = 0.02, lr_final: float = 1e-4, dtype=torch.float64, device="cpu",
          progress: bool = False) -> tuple[LinearVAE, np.ndarray]:
    r"""Train a :class:`LinearVAE` with Adam on fresh samples of eq 26, maximising the MC β-ELBO.

    The learning rate decays geometrically from ``lr`` to ``lr_final`` so that the Adam
    iterates settle at the optimum despite the Monte Carlo noise.

    Returns the model and the per-step objective estimates (shape (steps,)).
    """
    beta = check_real(beta, "beta", low=BETA_RANGE[0], high=BETA_RANGE[1])
    steps = check_int(steps, "steps", low=1)
    batch = check_int(batch, "batch", low=1)
    lr = check_real(lr, "lr", low=0.0, high=LR_MAX, closed="right")
    lr_final = check_real(lr_final, "lr_final", low=0.0, high=lr, closed="right")
    A = _check_A(A)
    _check_generator(generator)
    N, k = A.shape
    model = LinearVAE(N, k, generator=generator, dtype=dtype, device=device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gamma = (lr_final / lr) ** (1.0 / max(steps - 1, 1))
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma)
    hist = np.empty(steps)
    it = range(steps)
    if progress:
        from deep.progress import bar

        it = bar(it, desc=f"linear β-VAE, β={beta:g}")
    for t in it:
        x = sample_data(A, batch, generator, dtype, device)
        rec, kl = model.terms(x, generator)
        obj = (rec - beta * kl).mean()
        opt.zero_grad()
        (-obj).backward()
        opt.step()
        sched.step()
        hist[t] = float(obj.detach())
    return model, hist


@torch.no_grad()
def mc_objective(model: LinearVAE, A, beta: float, *, generator: torch.Generator, n: int = 200_000):
    """Monte Carlo β-objective per point and its standard error on fresh data (eq 33)."""
    beta = check_real(beta, "beta", low=BETA_RANGE[0], high=BETA_RANGE[1])
    n = check_int(n, "n", low=2)
    if not isinstance(model, LinearVAE):
        raise TypeError(f"model must be a LinearVAE, got {type(model).__name__}")
    x = sample_data(A, n, generator, model.D.dtype, model.D.device)
    rec, kl = model.terms(x, generator)
    v = (rec - beta * kl).double().cpu().numpy()
    return float(v.mean()), float(v.std() / math.sqrt(n))
