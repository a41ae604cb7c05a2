"""K models of one architecture trained as one batched computation (pure torch, no I/O).

An ensemble holds the parameters of K VAEs stacked along a new leading axis
(:func:`torch.func.stack_module_state`) and evaluates the K objectives with
:func:`torch.func.vmap` over :func:`torch.func.functional_call`: one forward and one
backward pass for all members, batched matrix products instead of K small ones.

Member ``k`` is the single run of :class:`deep.train.Trainer` with seed ``seeds[k]`` and its
own loss weights (β, and α, γ of the β-TCVAE), step for step:

* its data order is :func:`deep.train.epoch_order` ``(seeds[k], epoch, N)`` and its
  reparameterisation noise of step ``t`` is drawn from :func:`deep.train.step_generator`
  ``(seeds[k], t)`` — the same numbers the single run draws, drawn outside the batched
  computation and handed in;
* the objective is the member's own objective module, called on the member's slice of the
  parameters (its weights substituted per member), so no formula is copied here;
* Adam and Adagrad (``TrainConfig.optimizer``, :func:`deep.train.build_optimizer`) act
  element-wise, so one optimizer over the stacked tensors is K independent ones (the step count
  is shared: every running member is updated at every step); the same for the FactorVAE
  discriminators' Adam.

So a member reproduces its single run up to the summation order of batched products
(tested in float64: relative differences ~1e-13 after tens of steps).

A member whose loss is NaN or infinite stops there (as :class:`deep.train.NonFiniteLossError`
stops a single run before any update): its parameters keep their last finite values, the
others go on. :meth:`Ensemble.state_dict` / :meth:`Ensemble.load_state_dict` cover the whole
ensemble, so a restored ensemble continues exactly.

Supported objectives (:data:`SUPPORTED`): ``beta-vae``, ``beta-tcvae``, ``isa-vae``,
``isa-tcvae`` (learned ISA exponents included) and ``factor-vae`` (the discriminators are
stacked too and trained by their own Adam, as in the single run; the permutation's random keys
are drawn outside, after the noise, as the single run draws them), one draw of z per image.
Not supported: ``n_samples > 1``.

:class:`SequentialMembers` has the same interface and trains the members one after another,
each by its own :class:`deep.train.Trainer` — the single runs exactly. On a CPU it is the
faster of the two (batched products cost more than the same FLOPs unbatched there, and the
stacked element-wise work falls out of cache); on a GPU the batched ensemble is.
"""

from __future__ import annotations

__all__ = ["SUPPORTED", "Ensemble", "SequentialMembers", "build_members"]

import copy

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from deep.models.objectives import BetaTCVAE, BetaVAE, FactorVAE
from deep.train import (TrainConfig, as_batch, build_optimizer, epoch_order, fastest,
                        load_optimizer_state, step_generator)
from deep.precision import precision_scope, resolve_precision
from validation import check_device, check_int, training_forward

#: objectives an ensemble trains, and the weights that may differ between members
SUPPORTED = ("beta-vae", "beta-tcvae", "isa-vae", "isa-tcvae", "factor-vae")
_WEIGHTS = {BetaVAE: ("beta",), BetaTCVAE: ("alpha", "beta", "gamma"), FactorVAE: ("gamma",)}
_PRIOR_PREFIX = "model.vae.prior."
_OBJECTIVE_PREFIX = "objective."


class _GivenNoise(nn.Module):
    """A VAE whose reparameterisation noise ``eps`` is handed in instead of drawn:
    ``z = mu + exp(logvar / 2) * eps``, the expression of
    :func:`deep.models.distributions.sample_diag_gaussian`."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae
        self.eps = None

    @property
    def prior(self):
        return self.vae.prior

    @property
    def latent_dim(self):
        return self.vae.latent_dim

    def encode(self, x):
        return self.vae.encode(x)

    def decode(self, z):
        return self.vae.decode(z)

    def log_likelihood(self, x, out):
        return self.vae.log_likelihood(x, out)

    def forward(self, x, generator=None):
        mu, logvar = self.vae.encode(x)
        z = mu + torch.exp(0.5 * logvar) * self.eps
        return {"mu": mu, "logvar": logvar, "z": z, "out": self.vae.decode(z)}


class _MemberStep(nn.Module):
    """One member's objective as a function of (parameters, batch, noise, weights)."""

    def __init__(self, vae, objective):
        super().__init__()
        self.model, self.objective = _GivenNoise(vae), objective

    def forward(self, x, eps, weights: dict, perm_keys=None):
        saved = {k: getattr(self.objective, k) for k in weights}
        self.model.eps = eps
        try:
            for k, w in weights.items():
                setattr(self.objective, k, w)
            extra = {"perm_keys": perm_keys} if isinstance(self.objective, FactorVAE) else {}
            out = self.objective(self.model, x, None, **extra)
        finally:
            for k, v in saved.items():
                setattr(self.objective, k, v)
            self.model.eps = None
        if out.aux_loss is None:
            return out.loss, out.terms
        return out.loss, out.terms, out.aux_loss


def _as_list(value, name: str) -> list:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a sequence, got {type(value).__name__}")
    return list(value)


def _check_members(models, objectives, seeds):
    for name, items in (("models", models), ("objectives", objectives)):
        for v in items:
            if not isinstance(v, nn.Module):
                raise TypeError(f"{name}: each member must be a torch.nn.Module, got {type(v).__name__}")
    k = len(models)
    if k < 1 or len(objectives) != k or len(seeds) != k:
        raise ValueError(f"models, objectives and seeds must have the same length >= 1, got "
                         f"{len(models)}, {len(objectives)}, {len(seeds)}")
    for s in seeds:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0:
            raise ValueError(f"seeds: each seed must be a non-negative int, got {s!r}")
    cls = type(objectives[0])
    if cls not in _WEIGHTS:
        raise ValueError(f"objectives: an ensemble trains {', '.join(SUPPORTED)}; got "
                         f"{getattr(objectives[0], 'name', cls.__name__)!r}")
    for o in objectives:
        if type(o) is not cls:
            raise ValueError("objectives: every member needs the same objective class")
        if getattr(o, "n_samples", 1) != 1:
            raise ValueError("objectives: an ensemble draws one z per image (n_samples = 1)")
        if list(o.parameters()) and cls is not FactorVAE:
            raise ValueError("objectives: objectives with parameters of their own are not supported")
        if cls is BetaTCVAE and (o.estimator, o.dataset_size) != (objectives[0].estimator,
                                                                  objectives[0].dataset_size):
            raise ValueError("objectives: members must share estimator and dataset_size")
    if cls is FactorVAE and any({n: p.shape for n, p in o.named_parameters()}
                                != {n: p.shape for n, p in objectives[0].named_parameters()}
                                for o in objectives):
        raise ValueError("objectives: every member needs the same discriminator")
    ref = {n: (p.shape, p.dtype) for n, p in models[0].named_parameters()}
    ref_buf = dict(models[0].named_buffers())
    for m in models[1:]:
        if {n: (p.shape, p.dtype) for n, p in m.named_parameters()} != ref:
            raise ValueError("models: every member needs the same architecture and dtype")
        buf = dict(m.named_buffers())
        if buf.keys() != ref_buf.keys() or any(not torch.equal(buf[n], ref_buf[n]) for n in buf):
            raise ValueError("models: members must share their buffers (e.g. fixed prior exponents)")
    return cls


class Ensemble:
    """K VAEs of one architecture trained as one batched computation.

    Parameters
    ----------
    models, objectives : K built members (e.g. from :func:`build_members`); each member's
        initial parameters are taken from its model, its loss weights from its objective.
    seeds : K seeds: member ``k``'s data order and noise are those of the single run with
        ``TrainConfig(seed=seeds[k])``.
    dataset : ``len`` and ``images(index)`` (a dataset or a :class:`deep.data.DeviceStore`).
    config : TrainConfig shared by the members (its ``seed`` is not used).
    device : where the parameters live (the models are moved there).
    precision : ``fp32``, ``tf32`` (CUDA) or ``auto`` (:mod:`deep.precision`); ``bf16`` is a
        ValueError here (autocast does not reach inside ``vmap``): :class:`SequentialMembers`
        trains members in bf16.

    Attributes: ``step``; ``active`` (K,) bool; ``stopped_at`` list of the step at which each
    member's loss became non-finite (None while it runs).
    """

    def __init__(self, models, objectives, seeds, dataset, config: TrainConfig, device="cpu",
                 precision: str = "auto"):
        if not isinstance(config, TrainConfig):
            raise TypeError("config must be a TrainConfig")
        models, objectives = _as_list(models, "models"), _as_list(objectives, "objectives")
        seeds = _as_list(seeds, "seeds")
        cls = _check_members(models, objectives, seeds)
        seeds = [int(s) for s in seeds]
        if not hasattr(dataset, "images") or not hasattr(dataset, "__len__"):
            raise TypeError(f"dataset: needs len() and images(index), got {type(dataset).__name__}")
        if config.batch_size > len(dataset):
            raise ValueError(f"batch_size {config.batch_size} exceeds the dataset size {len(dataset)}")
        self.device = check_device(device)
        self.precision = resolve_precision(precision, self.device)
        if self.precision == "bf16":
            # measured with torch 2.13: under torch.func.vmap, autocast leaves F.linear with a
            # bias (and addmm) in float32, so a bf16 ensemble would silently run fp32
            raise ValueError("precision bf16: autocast does not reach inside torch.func.vmap "
                             "(linear layers stay float32); train the members with "
                             "SequentialMembers, or use fp32/tf32")
        self.k, self.seeds, self.dataset, self.config = len(models), seeds, dataset, config
        steps = [_MemberStep(m, o).to(self.device) for m, o in zip(models, objectives)]
        self.template = copy.deepcopy(steps[0])
        params, _ = stack_module_state(steps)
        self.params = {n: nn.Parameter(p.detach().clone()) for n, p in params.items()}
        self.buffers = {n: b.detach().clone() for n, b in steps[0].named_buffers()}
        self.dtype = next(iter(self.params.values())).dtype
        self.weights = {w: torch.tensor([float(getattr(o, w)) for o in objectives], dtype=self.dtype,
                                        device=self.device) for w in _WEIGHTS[cls]}
        # as deep.train.Trainer: the configured optimizer on the networks, the prior's own parameters in a second
        # group, and the objective's own parameters (the FactorVAE discriminator) in their own Adam
        prior = [p for n, p in self.params.items() if n.startswith(_PRIOR_PREFIX)]
        aux = [p for n, p in self.params.items() if n.startswith(_OBJECTIVE_PREFIX)]
        groups = [{"params": [p for n, p in self.params.items()
                              if not n.startswith((_PRIOR_PREFIX, _OBJECTIVE_PREFIX))]}]
        if prior:
            groups.append({"params": prior,
                           "lr": config.lr if config.prior_lr is None else config.prior_lr})
        self.optimizer = build_optimizer(groups, config)
        self.aux_optimizer = fastest(torch.optim.Adam, aux, lr=config.aux_lr, betas=(0.5, 0.9)) if aux else None
        self._permutes = cls is FactorVAE
        self.active = torch.ones(self.k, dtype=torch.bool)
        self.stopped_at: list[int | None] = [None] * self.k
        self.step = 0
        self.steps_per_epoch = len(dataset) // config.batch_size
        self.total_steps = self.steps_per_epoch * config.epochs
        self._orders = (None, None)
        self._batched = vmap(self._member_loss, in_dims=(0, None, 0, 0, 0, 0))

    # ------------------------------------------------------------------ the step
    def _member_loss(self, params, buffers, x, eps, weights, perm_keys):
        return functional_call(self.template, (params, buffers), (x, eps, weights, perm_keys))

    def batch(self, step: int) -> torch.Tensor:
        """The K members' batches of ``step``: (K, B, 1, H, W); row k is the single run's."""
        e, pos = divmod(step, self.steps_per_epoch)
        if self._orders[0] != e:
            self._orders = (e, [epoch_order(s, e, len(self.dataset)) for s in self.seeds])
        bs = self.config.batch_size
        idx = np.concatenate([o[pos * bs:(pos + 1) * bs] for o in self._orders[1]])
        x = as_batch(self.dataset.images(idx), self.device, self.dtype)
        return x.view(self.k, bs, *x.shape[1:])

    def noise(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The random numbers of ``step``, row k from the single run's generator
        ``step_generator(seeds[k], step)`` in the single run's order: the reparameterisation
        noise (K, B, d), then (FactorVAE) the permutation's uniform keys (K, B, d)
        (:func:`deep.models.permute_dims`; zeros, unused, for the other objectives)."""
        shape = (self.config.batch_size, self.template.model.latent_dim)
        eps, keys = [], []
        for s in self.seeds:
            g = step_generator(s, step, self.device)
            eps.append(torch.randn(shape, generator=g, device=self.device, dtype=self.dtype))
            keys.append(torch.rand(shape, generator=g, device=self.device) if self._permutes
                        else torch.zeros(shape, device=self.device))
        return torch.stack(eps), torch.stack(keys)

    def run_step(self) -> dict:
        """One optimizer step of every running member; returns the terms as (K,) tensors (a
        stopped member's terms are those of its last forward pass, possibly non-finite)."""
        with precision_scope(self.precision, self.device):
            return self._run_step()

    @training_forward()
    def _run_step(self) -> dict:
        eps, keys = self.noise(self.step)
        out = self._batched(self.params, self.buffers, self.batch(self.step), eps, self.weights, keys)
        loss, terms = out[0], out[1]
        finite = torch.isfinite(loss.detach()).cpu()
        for k in torch.nonzero(self.active & ~finite).flatten().tolist():
            self.stopped_at[k] = self.step
        self.active &= finite
        if bool(self.active.any()):
            active = self.active.to(self.device)
            stopped = torch.nonzero(~active).flatten()
            kept = {n: p.detach()[stopped].clone() for n, p in self.params.items()} \
                if stopped.numel() else None
            self.optimizer.zero_grad(set_to_none=True)
            torch.where(active, loss, torch.zeros_like(loss)).sum().backward()
            self.optimizer.step()
            if self.aux_optimizer is not None:      # after the VAE's step, as deep.train.train_step
                self.aux_optimizer.zero_grad(set_to_none=True)
                torch.where(active, out[2], torch.zeros_like(out[2])).sum().backward()
                self.aux_optimizer.step()
            if kept is not None:                       # a stopped member keeps its parameters
                with torch.no_grad():
                    for n, p in self.params.items():
                        p[stopped] = kept[n]
        self.step += 1
        return {k: v.detach() for k, v in terms.items()}

    # --------------------------------------------------------------- the members
    def member_state_dict(self, k: int) -> dict:
        """Member ``k``'s VAE state dict (the keys of the model passed in)."""
        if not 0 <= k < self.k:
            raise ValueError(f"k: must be in [0, {self.k}), got {k!r}")
        pre = "model.vae."
        out = {n[len(pre):]: p.detach()[k].clone() for n, p in self.params.items() if n.startswith(pre)}
        out.update({n[len(pre):]: b.clone() for n, b in self.buffers.items() if n.startswith(pre)})
        return out

    def member_model(self, k: int) -> nn.Module:
        """A standalone copy of member ``k``'s VAE (for evaluation)."""
        m = copy.deepcopy(self.template.model.vae)
        m.load_state_dict(self.member_state_dict(k))
        return m

    # ------------------------------------------------------------- checkpointing
    def state_dict(self) -> dict:
        """Everything needed to resume: plain tensors, dicts and numbers only."""
        return {"step": self.step, "seeds": list(self.seeds),
                "params": {n: p.detach().clone() for n, p in self.params.items()},
                "weights": {n: w.clone() for n, w in self.weights.items()},
                "optimizer": self.optimizer.state_dict(),
                "aux_optimizer": None if self.aux_optimizer is None else self.aux_optimizer.state_dict(),
                "active": self.active.clone(),
                "stopped_at": [-1 if s is None else s for s in self.stopped_at]}

    def load_state_dict(self, state: dict) -> None:
        if list(state["seeds"]) != self.seeds:
            raise ValueError(f"state: seeds {list(state['seeds'])} differ from the ensemble's {self.seeds}")
        if state["params"].keys() != self.params.keys() or any(
                state["params"][n].shape != p.shape for n, p in self.params.items()):
            raise ValueError("state: parameters of another architecture or ensemble size")
        for n, w in self.weights.items():
            if not torch.equal(state["weights"][n].to(w), w):
                raise ValueError(f"state: weight {n!r} differs from the ensemble's")
        with torch.no_grad():
            for n, p in self.params.items():
                p.copy_(state["params"][n])
        load_optimizer_state(self.optimizer, state["optimizer"])
        if self.aux_optimizer is not None:
            load_optimizer_state(self.aux_optimizer, state["aux_optimizer"])
        self.active = state["active"].clone().to(torch.bool)
        self.stopped_at = [None if s < 0 else int(s) for s in state["stopped_at"]]
        self.step = int(state["step"])


class SequentialMembers:
    """The members of an :class:`Ensemble` trained one after another: member ``k`` is a
    :class:`deep.train.Trainer` with ``TrainConfig(seed=seeds[k])``, so it *is* the single run
    (the batched ensemble equals it within float rounding). Same interface as
    :class:`Ensemble` (``run_step`` returning (K,) tensors of the terms, ``stopped_at``,
    ``active``, ``state_dict``/``load_state_dict``, ``member_model``), so a sweep group runs on
    either; a member whose loss becomes non-finite stops there, before its update (the
    Trainer's :class:`deep.train.NonFiniteLossError`), and the others go on."""

    def __init__(self, models, objectives, seeds, dataset, config: TrainConfig, device="cpu",
                 precision: str = "auto"):
        import dataclasses

        from deep.train import Trainer

        if not isinstance(config, TrainConfig):
            raise TypeError("config must be a TrainConfig")
        models, objectives = _as_list(models, "models"), _as_list(objectives, "objectives")
        seeds = _as_list(seeds, "seeds")
        _check_members(models, objectives, seeds)
        if not hasattr(dataset, "images") or not hasattr(dataset, "__len__"):
            raise TypeError(f"dataset: needs len() and images(index), got {type(dataset).__name__}")
        self.device = check_device(device)
        self.k, self.seeds, self.config = len(models), [int(s) for s in seeds], config
        self.precision = resolve_precision(precision, self.device)
        self.trainers = [Trainer(m, o, dataset, dataclasses.replace(config, seed=s), self.device,
                                 self.precision) for m, o, s in zip(models, objectives, self.seeds)]
        self.stopped_at: list[int | None] = [None] * self.k
        self.step = 0
        self.steps_per_epoch = self.trainers[0].steps_per_epoch
        self.total_steps = self.trainers[0].total_steps

    @property
    def active(self) -> torch.Tensor:
        return torch.tensor([s is None for s in self.stopped_at], dtype=torch.bool)

    def run_step(self) -> dict:
        """One optimizer step of every running member, in turn; the terms as (K,) float64
        tensors (NaN for a stopped member's, as the batched ensemble's may be non-finite)."""
        from deep.train import NonFiniteLossError

        rows = []
        for k, trainer in enumerate(self.trainers):
            if self.stopped_at[k] is not None:
                rows.append({})
                continue
            try:
                rows.append(trainer.run_step())
            except NonFiniteLossError as err:
                self.stopped_at[k] = self.step
                rows.append(dict(err.terms))
        names = list(dict.fromkeys(n for r in rows for n in r))
        self.step += 1
        return {n: torch.tensor([float(r.get(n, float("nan"))) for r in rows], dtype=torch.float64)
                for n in names}

    def member_model(self, k: int) -> nn.Module:
        """A standalone copy of member ``k``'s VAE (for evaluation)."""
        if not 0 <= k < self.k:
            raise ValueError(f"k: must be in [0, {self.k}), got {k!r}")
        return copy.deepcopy(self.trainers[k].model)

    def state_dict(self) -> dict:
        return {"engine": "sequential", "step": self.step, "seeds": list(self.seeds),
                "stopped_at": [-1 if s is None else s for s in self.stopped_at],
                "trainers": [t.state_dict() for t in self.trainers]}

    def load_state_dict(self, state: dict) -> None:
        if not isinstance(state, dict) or state.get("engine") != "sequential" \
                or state.get("seeds") != self.seeds or len(state.get("trainers", ())) != self.k:
            raise ValueError("state: not a state of these sequential members (another engine, "
                             "seeds or ensemble size)")
        for t, st in zip(self.trainers, state["trainers"]):
            t.load_state_dict(st)
        self.stopped_at = [None if s < 0 else int(s) for s in state["stopped_at"]]
        self.step = int(state["step"])


def build_members(vae_config, objective: str, members, *, dataset_size: int,
                  estimator: str = "mss", disc_hidden: int = 1000, dtype=torch.float32):
    """Build K (model, objective) pairs as single runs build them
    (:func:`deep.train.seeded_init` with the member's seed around ``build_vae`` and
    ``build_objective``, as :func:`betalab.train.train_run` does).

    members
        sequence of dicts ``{"seed": int, "beta": float}`` with optional ``"gamma"`` and
        ``"alpha"`` (β-TCVAE weights; default 1); for ``factor-vae`` ``"beta"`` is γ, as in
        :func:`deep.models.build_objective`.
    disc_hidden
        width of the FactorVAE discriminator (Stühmer et al. 2020, App. A.4: 1000).

    Returns (models, objectives, seeds).
    """
    from deep.models import build_objective, build_vae
    from deep.train import seeded_init

    from deep.models import VAEConfig

    if not isinstance(vae_config, VAEConfig):
        raise TypeError(f"vae_config must be a VAEConfig, got {type(vae_config).__name__}")
    if objective not in SUPPORTED:
        raise ValueError(f"objective: an ensemble trains {', '.join(SUPPORTED)}; got {objective!r}")
    disc_hidden = check_int(disc_hidden, "disc_hidden", low=1)
    members = _as_list(members, "members")
    if not members or any(not isinstance(m, dict) or "seed" not in m for m in members):
        raise TypeError("members must be a non-empty sequence of dicts {'seed': int, 'beta': float, ...}")
    models, objectives, seeds = [], [], []
    for m in members:
        unknown = set(m) - {"seed", "beta", "gamma", "alpha"}
        if unknown:
            raise ValueError(f"members: unknown key(s) {sorted(unknown)}")
        if objective not in ("beta-tcvae", "isa-tcvae") and ({"gamma", "alpha"} & set(m)):
            raise ValueError(f"members: gamma/alpha apply to beta-tcvae and isa-tcvae, not {objective!r}")
        model, obj = seeded_init(lambda: (
            build_vae(vae_config),
            build_objective(objective, m.get("beta", 1.0), latent_dim=vae_config.latent_dim,
                            dataset_size=dataset_size, estimator=estimator,
                            disc_hidden=disc_hidden)), m["seed"])
        for w in ("gamma", "alpha"):
            if w in m:
                setattr(obj, w, _weight(w, m[w]))
        models.append(model.to(dtype))
        objectives.append(obj.to(dtype))
        seeds.append(m["seed"])
    return models, objectives, seeds


def _weight(name, v):
    from deep.models.objectives import _check_weight

    return _check_weight(name, v)
