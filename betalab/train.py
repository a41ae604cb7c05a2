"""The training driver behind ``betalab train``: checkpoints, JSONL metrics, exact resume.

Run directory layout::

    runs/NAME/
      config.json        the run's configuration
      checkpoint.pt      last good state (model, objective, optimizers, step), atomic
      metrics.jsonl      one JSON line per step: {"step": t, "loss": ..., "recon": ..., ...}
      status.json        {"status": "done" | "non-finite" | "interrupted", "step": ...}

Every input is validated before the directory is created, so a bad command
leaves nothing behind.  Checkpoints are written through :func:`betalab.io.atomic_path`
and read with ``torch.load(..., weights_only=True)``; a corrupted or foreign
file is refused with a clear error.  Because every random number of step t is a
function of (seed, t) (:mod:`deep.train`), ``--resume`` continues with exactly
the loss curve of an uninterrupted run (on CPU).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from betalab import io

CHECKPOINT_FORMAT = "betalab-train-v1"
DATASETS = ("dsprites", "dsprites-reduced")


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
        if self.mc_samples > 1 and self.model not in ("beta-vae", "isa-vae"):
            raise ValueError(f"mc_samples > 1 applies to beta-vae and isa-vae, not {self.model!r}")
        object.__setattr__(self, "prior", prior)
        if self.latent_dim is None:
            from theory.lp_nested import n_leaves

            object.__setattr__(self, "latent_dim", 10 if tree is None else n_leaves(tree))
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; known: {', '.join(DATASETS)}")
        if not isinstance(self.beta, (int, float)) or not math.isfinite(self.beta) or self.beta < 0:
            raise ValueError(f"beta must be a finite number >= 0, got {self.beta!r}")
        if not isinstance(self.checkpoint_every, int) or self.checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be a positive int, got {self.checkpoint_every!r}")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or self.max_steps < 1):
            raise ValueError(f"max_steps must be a positive int, got {self.max_steps!r}")
        self.train_config()
        self.vae_config()

    def train_config(self):
        from deep.train import TrainConfig

        return TrainConfig(self.epochs, self.batch_size, self.lr, seed=self.seed,
                           prior_lr=self.prior_lr)

    def vae_config(self):
        from deep.models import VAEConfig

        return VAEConfig(self.arch, self.latent_dim, self.hidden, prior=self.prior,
                         learn_exponents=self.learn_exponents, prior_scale=self.prior_scale)

    def identity(self) -> dict:
        """The fields a resumed run must share with the checkpoint (all but the stopping ones)."""
        d = asdict(self)
        for k in ("epochs", "max_steps", "checkpoint_every"):
            d.pop(k)
        return d


def _dataset(name: str):
    from deep.data import DSprites

    return DSprites() if name == "dsprites" else DSprites.reduced()


def load_checkpoint(path) -> dict:
    """Read a checkpoint with ``weights_only=True``; ValueError if corrupted or foreign."""
    import torch

    path = Path(path)
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # unpickling errors come in many types
        raise ValueError(f"corrupted or foreign checkpoint {path}: {type(err).__name__}: {err}") from None
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT \
            or not {"config", "state"} <= set(ck):
        raise ValueError(f"foreign checkpoint {path}: not a {CHECKPOINT_FORMAT} file")
    return ck


def save_checkpoint(path, config: RunConfig, state: dict) -> None:
    import torch

    with io.atomic_path(path) as tmp:
        torch.save({"format": CHECKPOINT_FORMAT, "config": asdict(config), "state": state}, tmp)


def _read_log(path: Path, upto: int) -> list[str]:
    if not path.exists():
        return []
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    return [ln for ln in lines if json.loads(ln)["step"] < upto]


def train_run(config: RunConfig, out, *, device: str = "auto", resume: bool = False,
              progress: bool = True) -> dict:
    """Train (or resume) the run of ``config`` in directory ``out``; returns the status dict.

    Raises ValueError for bad input before anything is written.
    """
    import torch

    from betalab.studies.dsprites import resolve_device
    from deep.models import build_objective, build_vae
    from deep.train import NonFiniteLossError, Trainer, seeded_init

    if not isinstance(config, RunConfig):
        raise TypeError("config must be a RunConfig")
    out = Path(out)
    ckpt_path, log_path = out / "checkpoint.pt", out / "metrics.jsonl"
    dev = resolve_device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but CUDA is not available")
    ck = None
    if resume:
        if not ckpt_path.exists():
            raise ValueError(f"--resume: no checkpoint in {out}")
        ck = load_checkpoint(ckpt_path)
        stored = {f.name: ck["config"][f.name] for f in fields(RunConfig) if f.name in ck["config"]}
        try:
            stored_identity = RunConfig(**stored).identity()
        except (TypeError, ValueError) as err:
            raise ValueError(f"foreign checkpoint {ckpt_path}: {err}") from None
        if stored_identity != config.identity():
            diff = {k: (v, config.identity()[k]) for k, v in stored_identity.items()
                    if config.identity()[k] != v}
            raise ValueError(f"--resume: configuration differs from the checkpoint's: {diff}")
    elif ckpt_path.exists():
        raise ValueError(f"{out} already holds a run; pass --resume to continue it")

    data = _dataset(config.dataset)
    model, objective = seeded_init(lambda: (
        build_vae(config.vae_config()),
        build_objective(config.model, config.beta, latent_dim=config.latent_dim,
                        dataset_size=len(data), estimator=config.estimator,
                        n_samples=config.mc_samples)), config.seed)
    model, objective = model.to(dev), objective.to(dev)
    trainer = Trainer(model, objective, data, config.train_config(), dev)
    if ck is not None:
        try:
            trainer.load_state_dict(ck["state"])
        except (KeyError, RuntimeError, ValueError, TypeError) as err:
            raise ValueError(f"foreign checkpoint {ckpt_path}: {err}") from None
    total = trainer.total_steps if config.max_steps is None else min(config.max_steps,
                                                                      trainer.total_steps)
    # inputs are valid: from here on the run directory is written (atomically, file by file)
    io.write_json(out / "config.json", asdict(config))
    kept = _read_log(log_path, trainer.step)
    io.write_text(log_path, "".join(ln + "\n" for ln in kept))
    last_good = trainer.step if ck is not None else None
    status = {"status": "done", "step": trainer.step}
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=trainer.step, desc=f"{config.model} β={config.beta:g}",
               disable=not progress, mininterval=1)
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            while trainer.step < total:
                step = trainer.step
                try:
                    terms = trainer.run_step()
                except NonFiniteLossError as err:
                    status = {"status": "non-finite", "step": err.step, "terms": str(err.terms),
                              "last_checkpoint_step": last_good}
                    break
                log.write(json.dumps({"step": step, **terms}) + "\n")
                log.flush()
                bar.update()
                bar.set_postfix({k: f"{v:.3g}" for k, v in terms.items() if k != "neg_elbo"})
                if trainer.step % config.checkpoint_every == 0 or trainer.step == total:
                    save_checkpoint(ckpt_path, config, trainer.state_dict())
                    last_good = trainer.step
            else:
                status = {"status": "done", "step": trainer.step}
    except KeyboardInterrupt:
        status = {"status": "interrupted", "step": trainer.step, "last_checkpoint_step": last_good}
        io.write_json(out / "status.json", status)
        raise
    finally:
        bar.close()
    io.write_json(out / "status.json", status)
    return status


def main(args) -> int:
    """``betalab train`` (called by :mod:`betalab.cli`); exit 0 done, 1 stopped, 2 bad input."""
    import sys

    try:
        cfg = RunConfig(model=args.model, dataset=args.dataset, beta=args.beta, epochs=args.epochs,
                        batch_size=args.batch_size, lr=args.lr, seed=args.seed, arch=args.arch,
                        latent_dim=args.latent_dim, hidden=args.hidden,
                        checkpoint_every=args.checkpoint_every, max_steps=args.max_steps,
                        prior=args.prior, learn_exponents=args.learn_exponents,
                        prior_scale=args.prior_scale, prior_lr=args.prior_lr,
                        mc_samples=args.mc_samples)
        status = train_run(cfg, args.out, device=args.device, resume=args.resume,
                           progress=not args.no_progress)
    except (ValueError, TypeError) as err:
        print(f"betalab train: error: {err}", file=sys.stderr)
        return 2
    if status["status"] != "done":
        print(f"betalab train: stopped: {status}; last good checkpoint kept in {args.out}",
              file=sys.stderr)
        return 1
    print(f"betalab train: done at step {status['step']}: {args.out}")
    return 0


def add_parser(sub) -> None:
    """The ``train`` subcommand's arguments."""
    t = sub.add_parser("train", help="train a VAE on dSprites (checkpoints, JSONL log, --resume)")
    t.add_argument("--model", default="beta-vae",
                   help="beta-vae | beta-tcvae | factor-vae | isa-vae | isa-tcvae (default beta-vae)")
    t.add_argument("--dataset", default="dsprites", help="dsprites | dsprites-reduced")
    t.add_argument("--beta", type=float, default=4.0, help="β (γ for factor-vae)")
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--batch-size", type=int, default=256)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--device", default="auto", help="auto | cpu | cuda")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True, help="run directory, e.g. runs/NAME")
    t.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    t.add_argument("--checkpoint-every", type=int, default=500, help="steps between checkpoints")
    t.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    t.add_argument("--arch", default="mlp", help="mlp | conv")
    t.add_argument("--latent-dim", type=int, default=None,
                   help="latents (default: 10, or the ISA prior's number of latents)")
    t.add_argument("--prior", default=None,
                   help="normal | isa | isa:P0;SUB,... with SUB = PxN or K*PxN, e.g. "
                        "'isa:2.1;5*2.2x4' (default: normal; isa-* models: the paper's 'isa')")
    t.add_argument("--learn-exponents", action="store_true",
                   help="learn the ISA subspace exponents, p0 fixed (Stühmer App. A.2); "
                        "with --prior isa they start at 2.0")
    t.add_argument("--prior-scale", type=float, default=None,
                   help="radial scale s of the ISA prior (default: unit variance per latent)")
    t.add_argument("--prior-lr", type=float, default=None,
                   help="Adam learning rate of the learned exponents (default: --lr)")
    t.add_argument("--mc-samples", type=int, default=1,
                   help="draws of z per image for the ELBO (beta-vae, isa-vae; default 1)")
    t.add_argument("--hidden", type=int, default=1200)
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
