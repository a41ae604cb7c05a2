"""Training-step logic: pure, deterministic, resumable (no file I/O here).

Every random number of step ``t`` is a function of ``(seed, t)`` — the data
order of epoch ``e`` is ``default_rng([seed, 1, e]).permutation(N)`` and the
reparameterisation / permutation noise comes from a ``torch.Generator``
seeded with ``(seed, t)`` — so a run restored from the state of step ``t``
(model, objective and optimizer states) continues exactly as an uninterrupted
one.  Checkpoint files are written by :mod:`betalab.train`.
"""

from __future__ import annotations

__all__ = ["NonFiniteLossError", "OPTIMIZERS", "TrainConfig", "seeded_init", "epoch_order",
           "step_generator", "as_batch", "train_step", "parameter_groups", "build_optimizer",
           "Trainer"]

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from deep.names import OPTIMIZERS  # re-exported
from deep.precision import autocast, precision_scope, resolve_precision
from validation import check_device, check_int, check_tensor, training_forward


def _check_module(value, name: str):
    if not isinstance(value, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def _check_dataset(dataset):
    if not hasattr(dataset, "images") or not hasattr(dataset, "__len__"):
        raise TypeError(f"dataset: needs len() and images(index), got {type(dataset).__name__}")
    return dataset




class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite at ``step``; no parameter was updated."""

    def __init__(self, step: int, terms: dict):
        super().__init__(f"non-finite loss at step {step}: {terms}")
        self.step, self.terms = step, terms


@dataclass(frozen=True)
class TrainConfig:
    """epochs, batch_size, lr (the VAE optimizer's rate; Adam: Stühmer et al. 2020, Table 1:
    1e-3, batch 2048; Adagrad: Higgins et al. 2017, App. Table 1: 1e-2), optimizer (one of
    :data:`OPTIMIZERS`, see :func:`build_optimizer`),
    aux_lr (the FactorVAE discriminator's Adam, Kim & Mnih 2018: 1e-4, betas (0.5, 0.9)), seed,
    prior_lr: the learning rate of learned prior parameters (the ISA exponents, Stühmer et al.
    2020, App. A.2), their own Adam parameter group; None = ``lr``. The paper trains encoder,
    decoder and exponents "at the same time" with Adam at 1e-3 and states no separate rate, so
    the default is the same rate; the exponents are parameterised as p = exp(θ), so one Adam
    step moves p by about ``prior_lr`` relative."""

    epochs: int = 1
    batch_size: int = 256
    lr: float = 1e-3
    aux_lr: float = 1e-4
    seed: int = 0
    prior_lr: float | None = None
    optimizer: str = "adam"

    def __post_init__(self):
        if not isinstance(self.optimizer, str) or self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        for k in ("epochs", "batch_size"):
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{k} must be a positive int, got {v!r}")
        for k in ("lr", "aux_lr", "prior_lr"):
            v = getattr(self, k)
            if k == "prior_lr" and v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise ValueError(f"{k} must be a positive number, got {v!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def seeded_init(build, seed: int):
    """Call ``build()`` with torch's global RNG temporarily seeded (and then restored),
    so parameter initialisation is reproducible without global seeding."""
    if not callable(build):
        raise TypeError(f"build must be callable, got {type(build).__name__}")
    seed = check_int(seed, "seed", low=0, high=2 ** 64 - 1)     # torch.manual_seed's range
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """Data order of ``epoch``: a permutation of range(n) determined by (seed, epoch)."""
    seed, epoch = check_int(seed, "seed", low=0), check_int(epoch, "epoch", low=0)
    n = check_int(n, "n", low=0)
    return np.random.default_rng([seed, 1, epoch]).permutation(n)


def step_generator(seed: int, step: int, device="cpu") -> torch.Generator:
    """The torch generator of step ``step`` (seeded from (seed, step))."""
    seed, step = check_int(seed, "seed", low=0), check_int(step, "step", low=0)
    g = torch.Generator(device=check_device(device))
    g.manual_seed(int(np.random.SeedSequence([seed, 2, step]).generate_state(1, np.uint64)[0] >> 1))
    return g


def as_batch(images, device, dtype) -> torch.Tensor:
    """A batch as a tensor on ``device``: ``images`` is a numpy array (the CPU path, rendered or
    unpacked on the host) or already a tensor (a device-resident store,
    :class:`deep.data.DeviceStore`, gathered and unpacked where it lives)."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    device = check_device(device)
    if not torch.is_tensor(images) and not isinstance(images, np.ndarray):
        raise TypeError(f"images must be a numpy array or a torch.Tensor, got {type(images).__name__}")
    x = images if torch.is_tensor(images) else torch.from_numpy(images)
    check_tensor(x, "images", floating=False, finite=True)
    return x.to(device, dtype)


@training_forward()
def train_step(model, objective, optimizer, aux_optimizer, x: torch.Tensor,
               generator: torch.Generator | None, step: int = 0, precision: str = "fp32") -> dict:
    """One optimisation step; returns the objective's terms as floats. ``precision``
    (:mod:`deep.precision`, resolved): ``bf16`` runs the forward pass and the loss under
    autocast, the backward pass and the update outside it.

    Raises :class:`NonFiniteLossError` (before any update) when the loss is NaN/Inf.
    """
    # a non-tensor x is the objective's to name (its device is not looked at here)
    with autocast(precision, x.device if isinstance(x, torch.Tensor) else "cpu"):
        out = objective(model, x, generator)
    if not torch.isfinite(out.loss):
        raise NonFiniteLossError(step, {k: float(v) for k, v in out.terms.items()})
    optimizer.zero_grad(set_to_none=True)
    out.loss.backward()
    optimizer.step()
    if out.aux_loss is not None and aux_optimizer is not None:
        aux_optimizer.zero_grad(set_to_none=True)
        out.aux_loss.backward()
        aux_optimizer.step()
    return {k: float(v) for k, v in out.terms.items()}


def parameter_groups(model, config: TrainConfig) -> list[dict]:
    """The VAE optimizer's parameter groups: the networks at ``lr``; the prior's own parameters (learned ISA
    exponents), if any, in a second group at ``prior_lr`` (default ``lr``)."""
    _check_module(model, "model")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    prior = getattr(model, "prior", None)
    prior_ids = {id(p) for p in prior.parameters()} if prior is not None else set()
    rest = [p for p in model.parameters() if id(p) not in prior_ids]
    groups = [{"params": rest}]
    if prior_ids:
        groups.append({"params": list(prior.parameters()),
                       "lr": config.lr if config.prior_lr is None else config.prior_lr})
    return groups


def build_optimizer(groups: list[dict], config: TrainConfig) -> torch.optim.Optimizer:
    """The VAE's optimizer over ``groups`` (e.g. :func:`parameter_groups`) at ``config.lr``
    (a group's own ``lr`` wins), chosen by ``config.optimizer``:

    * ``"adam"``: ``torch.optim.Adam`` with torch's defaults (betas (0.9, 0.999), eps 1e-8);
    * ``"adagrad"``: ``torch.optim.Adagrad`` with torch's defaults (no learning-rate decay,
      initial accumulator 0, eps 1e-10) — Higgins et al. 2017, App. Table 1 names only
      "Adagrad, 1e-2" for the 2D-shapes VAE, so every other setting is torch's default.

    Both act element-wise (each entry of a parameter has its own moments / accumulated squared
    gradient), so one optimizer over K stacked members (:class:`deep.ensemble.Ensemble`) is K
    independent ones. :class:`Trainer` and the ensemble both build theirs here."""
    if not isinstance(config, TrainConfig):
        raise TypeError("config must be a TrainConfig")
    ok = isinstance(groups, (list, tuple)) and len(groups) > 0 and all(
        isinstance(g, dict) and isinstance(g.get("params"), (list, tuple)) and len(g["params"]) > 0
        and all(isinstance(t, torch.Tensor) and t.is_floating_point() for t in g["params"])
        for g in groups)
    if not ok:
        raise TypeError("groups must be a non-empty list of dicts whose 'params' is a non-empty list "
                        f"of floating-point tensors, got {type(groups).__name__}")
    if config.optimizer == "adagrad":
        return fastest(torch.optim.Adagrad, groups, lr=config.lr)
    return fastest(torch.optim.Adam, groups, lr=config.lr)


def fastest(cls, groups, **kwargs) -> torch.optim.Optimizer:
    """``cls(groups, **kwargs)`` in the fastest implementation torch has for these parameters:
    the fused kernel (one kernel over every tensor; on CPU 3-6x faster than the default
    per-tensor loop, which is over half of a training step at batch 64), else the multi-tensor
    ``foreach`` one, else the default. All three compute the same update; they differ by float
    rounding only (tests/deep/test_train.py bounds it over 50 steps)."""
    for impl in ({"fused": True}, {"foreach": True}):
        try:
            return cls(groups, **kwargs, **impl)
        except (RuntimeError, ValueError, TypeError):      # not for this device, dtype or class
            continue
    return cls(groups, **kwargs)


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict) -> None:
    """``optimizer.load_state_dict(state)``, keeping the optimizer's own implementation: a state
    saved by another one (a checkpoint of the per-tensor Adam, before :func:`fastest`) carries
    its ``fused``/``foreach`` flags in its groups, which torch would restore with the moments."""
    impl = [{k: g.get(k) for k in ("fused", "foreach")} for g in optimizer.param_groups]
    optimizer.load_state_dict(state)
    for g, keep in zip(optimizer.param_groups, impl):
        g.update(keep)


class Trainer:
    """The configured optimizer (:func:`build_optimizer`) on the model (and on the objective's own parameters, if any), step by step.

    ``dataset`` needs ``len()`` and ``images(indices) -> float32 (B, 1, 64, 64)`` (a numpy
    array, or a tensor from a device-resident store: :class:`deep.data.DeviceStore`).
    ``precision``: ``fp32``, ``tf32`` (CUDA), ``bf16`` or ``auto`` (tf32 on CUDA, fp32
    elsewhere; :mod:`deep.precision`), resolved into ``self.precision``.
    """

    def __init__(self, model, objective, dataset, config: TrainConfig, device="cpu",
                 precision: str = "auto"):
        if not isinstance(config, TrainConfig):
            raise TypeError("config must be a TrainConfig")
        _check_module(model, "model")
        _check_module(objective, "objective")
        _check_dataset(dataset)
        if config.batch_size > len(dataset):
            raise ValueError(f"batch_size {config.batch_size} exceeds the dataset size {len(dataset)}")
        self.model, self.objective, self.dataset, self.config = model, objective, dataset, config
        self.device = check_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.optimizer = build_optimizer(parameter_groups(model, config), config)
        aux = list(objective.parameters())
        self.aux_optimizer = fastest(torch.optim.Adam, aux, lr=config.aux_lr, betas=(0.5, 0.9)) if aux else None
        self.step = 0
        self._order = (None, None)                                 # (epoch, its permutation)
        self.steps_per_epoch = len(dataset) // config.batch_size   # the last partial batch is dropped
        self.total_steps = self.steps_per_epoch * config.epochs

    def batch(self, step: int) -> torch.Tensor:
        e, pos = divmod(step, self.steps_per_epoch)
        bs = self.config.batch_size
        if self._order[0] != e:        # one permutation per epoch (737,280 items: ~25 ms each)
            self._order = (e, epoch_order(self.config.seed, e, len(self.dataset)))
        idx = self._order[1][pos * bs:(pos + 1) * bs]
        dtype = next(self.model.parameters()).dtype
        return as_batch(self.dataset.images(idx), self.device, dtype)

    def run_step(self) -> dict:
        x = self.batch(self.step)
        g = step_generator(self.config.seed, self.step, self.device)
        with precision_scope(self.precision, self.device):
            terms = train_step(self.model, self.objective, self.optimizer, self.aux_optimizer, x, g,
                               self.step, self.precision)
        self.step += 1
        return terms

    def state_dict(self) -> dict:
        """Everything needed to resume: plain tensors, dicts and numbers only."""
        return {"step": self.step, "model": self.model.state_dict(),
                "objective": self.objective.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "aux_optimizer": None if self.aux_optimizer is None else self.aux_optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.objective.load_state_dict(state["objective"])
        load_optimizer_state(self.optimizer, state["optimizer"])
        if self.aux_optimizer is not None:
            load_optimizer_state(self.aux_optimizer, state["aux_optimizer"])
        self.step = int(state["step"])
