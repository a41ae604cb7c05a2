"""The configuration of a ``betalab train`` run: :class:`RunConfig` (one field per option of
the command, checked when it is made) and the training images of its dataset."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

__all__ = ["RunConfig", "DATASETS", "GAUSSIAN_DATASETS", "training_images"]

DATASETS = ("dsprites", "dsprites-reduced", "digits")
#: datasets with real-valued pixels, modelled with unit-variance Gaussian observations
GAUSSIAN_DATASETS = ("digits",)


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run (``betalab train`` flags)."""

    model: str = "beta-vae"
    dataset: str = "dsprites"
    beta: float = 4.0
    epochs: int = 1
    batch_size: int = 256
    lr: float = 1e-3
    seed: int = 0
    arch: str = "mlp"
    latent_dim: int | None = None
    hidden: int = 1200
    estimator: str = "mss"
    checkpoint_every: int = 500
    max_steps: int | None = None
    prior: str | None = None
    learn_exponents: bool = False
    prior_scale: float | None = None
    prior_lr: float | None = None
    mc_samples: int = 1
    posterior: str | None = None
    optimizer: str = "adam"

    def __post_init__(self):
        from deep.models import ISA_OBJECTIVES, OBJECTIVES
        from deep.priors import PAPER_ISA_LAYOUT, parse_prior, resolve_prior

        if self.model not in OBJECTIVES:
            raise ValueError(f"unknown model {self.model!r}; known: {', '.join(OBJECTIVES)}")
        isa_model = self.model in ISA_OBJECTIVES
        prior = self.prior
        if prior is None:                       # the model's default prior
            prior = "isa" if isa_model else "normal"
        prior = resolve_prior(prior, self.learn_exponents is True)
        tree = parse_prior(prior)
        if isa_model and tree is None:
            raise ValueError(f"prior: model {self.model!r} needs an ISA prior (e.g. 'isa' or "
                             f"{PAPER_ISA_LAYOUT!r}), got 'normal'")
        if not isa_model and tree is not None:
            raise ValueError(f"prior: model {self.model!r} uses the normal prior; for an ISA prior "
                             f"use --model {'isa-tcvae' if self.model == 'beta-tcvae' else 'isa-vae'}")
        if self.learn_exponents and tree is None:
            raise ValueError("learn_exponents: needs an ISA prior (--model isa-vae or isa-tcvae)")
        if isinstance(self.mc_samples, bool) or not isinstance(self.mc_samples, int) \
                or self.mc_samples < 1:
            raise ValueError(f"mc_samples: must be a positive int, got {self.mc_samples!r}")
        if self.model in ("beta-tcvae", "isa-tcvae") and isinstance(self.batch_size, int) \
                and self.batch_size < 2:
            raise ValueError(f"batch_size: {self.model} estimates the aggregate posterior from the "
                             f"other points of a batch, so it needs at least 2, got {self.batch_size}")
        if self.mc_samples > 1 and self.model not in ("beta-vae", "isa-vae"):
            raise ValueError(f"mc_samples > 1 applies to beta-vae and isa-vae, not {self.model!r}")
        object.__setattr__(self, "prior", prior)
        if self.latent_dim is None:
            from theory.lp_nested import n_leaves

            object.__setattr__(self, "latent_dim", 10 if tree is None else n_leaves(tree))
        self._check_data_and_steps()
        self.train_config()
        self.vae_config()

    def _check_data_and_steps(self) -> None:
        """The checks that follow the prior's: dataset, β, posterior (set to the model's
        default when None), checkpoint and step counts."""
        from deep.models import GRAE_OBJECTIVES, check_posterior

        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; known: {', '.join(DATASETS)}")
        if not isinstance(self.beta, (int, float)) or not math.isfinite(self.beta) or self.beta < 0:
            raise ValueError(f"beta must be a finite number >= 0, got {self.beta!r}")
        if self.model in GRAE_OBJECTIVES and self.beta <= 0:
            raise ValueError(f"beta: {self.model} divides by β (eq 13), it must be > 0, got {self.beta!r}")
        posterior = self.posterior
        if posterior is None:                   # the model's default posterior
            posterior = "full" if self.model == "grae" else "diagonal"
        check_posterior(self.model, posterior, self.latent_dim)
        object.__setattr__(self, "posterior", posterior)
        if self.model in GRAE_OBJECTIVES and self.dataset not in GAUSSIAN_DATASETS:
            raise ValueError(f"dataset: {self.model} needs Gaussian observations (eq 13), i.e. a "
                             f"real-valued dataset ({', '.join(GAUSSIAN_DATASETS)}), got {self.dataset!r}")
        if not isinstance(self.checkpoint_every, int) or self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be a positive int, got {self.checkpoint_every!r}")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or self.max_steps < 1):
            raise ValueError(f"max_steps must be a positive int, got {self.max_steps!r}")

    def train_config(self):
        from deep.train import TrainConfig

        return TrainConfig(self.epochs, self.batch_size, self.lr, seed=self.seed,
                           prior_lr=self.prior_lr, optimizer=self.optimizer)

    def vae_config(self):
        from deep.models import VAEConfig

        gaussian = self.dataset in GAUSSIAN_DATASETS
        return VAEConfig(self.arch, self.latent_dim, self.hidden, prior=self.prior,
                         learn_exponents=self.learn_exponents, prior_scale=self.prior_scale,
                         likelihood="gaussian" if gaussian else "bernoulli",
                         image_size=8 if self.dataset == "digits" else 64, posterior=self.posterior)

    def identity(self) -> dict:
        """The fields a resumed run must share with the checkpoint (all but the stopping ones)."""
        d = asdict(self)
        for k in ("epochs", "max_steps", "checkpoint_every"):
            d.pop(k)
        return d


def training_images(name: str, seed: int = 0):
    """The training images of ``name``; "digits": the training part of
    :func:`deep.data.digits.digit_split` (standardised 8×8 digits, split by ``seed``)."""
    import numpy as np

    from deep.data import ArrayImages, DSprites

    if name == "digits":
        from deep.data.digits import digit_split

        return ArrayImages(digit_split(np.random.default_rng(seed))[0], 8)
    return DSprites() if name == "dsprites" else DSprites.reduced()
