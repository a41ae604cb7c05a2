"""The ``betalab train`` command line: its options (:func:`add_parser`, called by
:mod:`betalab.cli`), the :class:`~betalab.train.config.RunConfig` they make, and :func:`main`,
which runs :func:`~betalab.train.driver.train_run` and turns its outcome into one line and an
exit status."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from betalab.train.config import DATASETS, RunConfig
from betalab.train.driver import TrainingFailed, train_run

__all__ = ["TRAIN_EXAMPLES", "add_parser", "main", "run_config", "as_flags"]

TRAIN_EXAMPLES = r"""examples:
  betalab train --dataset dsprites-reduced --hidden 128 --latent-dim 6 --batch-size 64 --beta 1 --max-steps 1500 --epochs 9 --out runs/demo
  betalab train --model beta-tcvae --beta 4 --epochs 20 --batch-size 2048 --out runs/tcvae-b4
  betalab train --model beta-vae --beta 4 --optimizer adagrad --lr 1e-2 --batch-size 64 \
      --epochs 30 --out runs/higgins-b4
  betalab train --model beta-vae --posterior block:2 --dataset digits --arch elu-mlp \
      --latent-dim 8 --beta 0.3 --batch-size 64 --epochs 20 --out runs/kp-block2
  betalab train --model grae-approx --dataset digits --arch elu-mlp --latent-dim 8 --beta 0.3 \
      --batch-size 64 --epochs 20 --out runs/kp-grae
  betalab train ... --out runs/tcvae-b4 --resume        continue after Ctrl-C or a crash
  betalab plot runs/demo                                redraw runs/demo/curves.png
  betalab plot runs/demo --traversal                    its latent traversals: runs/demo/traversals.png
  betalab export runs/demo                              weights only: runs/demo/model.pt

cost: a step of the paper's MLP at batch 2048 takes seconds on a CPU (see docs/guide/deep-studies.md);
a long run on a CPU prints its estimated duration after the first steps."""


def run_config(args) -> RunConfig:
    """The :class:`RunConfig` of parsed ``betalab train`` arguments (checked as it is made)."""
    return RunConfig(model=args.model, dataset=args.dataset, beta=args.beta, epochs=args.epochs,
                     batch_size=args.batch_size, lr=args.lr, seed=args.seed, arch=args.arch,
                     latent_dim=args.latent_dim, hidden=args.hidden,
                     checkpoint_every=args.checkpoint_every, max_steps=args.max_steps,
                     prior=args.prior, learn_exponents=args.learn_exponents,
                     prior_scale=args.prior_scale, prior_lr=args.prior_lr,
                     mc_samples=args.mc_samples, posterior=args.posterior,
                     optimizer=args.optimizer)


def _exit(args, status: dict) -> int:
    import sys

    out, s = Path(args.out), status["status"]
    ckpt = out / "checkpoint.pt"
    if s == "done":
        print(f"betalab train: done at step {status['step']}: {out} (curves: {out / 'curves.png'})")
        return 0
    last = status.get("last_checkpoint_step")
    kept = (f"last good checkpoint: step {last} in {ckpt} (continue with --resume)"
            if last is not None else "no checkpoint exists (none was saved before this step)")
    if s == "non-finite":
        print(f"betalab train: stopped: non-finite loss at step {status['step']} (its terms are "
              f"in {out / 'status.json'}); {kept}", file=sys.stderr)
        return 1
    print(f"betalab train: {s} at step {status['step']}: {kept}", file=sys.stderr)
    return 130 if s == "interrupted" else 143


def as_flags(message: str) -> str:
    """``message`` with the :class:`RunConfig` field names it mentions written as the command
    line spells them (``batch_size`` → ``--batch-size``): the parameter the user typed."""
    import re

    flag = lambda m: "--" + m.group(1).replace("_", "-")       # noqa: E731
    all_names = [f.name for f in fields(RunConfig)]
    first = "|".join(sorted(all_names, key=len, reverse=True))
    message = re.sub(rf"^({first})(?=[ :])", flag, message)         # the subject of the message
    snake = "|".join(sorted((n for n in all_names if "_" in n), key=len, reverse=True))
    return re.sub(rf"(?<![\w/.-])({snake})(?![\w/.-])", flag, message)


def main(args) -> int:
    """``betalab train`` (called by :mod:`betalab.cli`): exit 0 done, 1 stopped by a non-finite
    loss or failed (one line naming the log), 2 bad input (nothing written), 130 / 143 stopped
    by Ctrl-C / SIGTERM (a checkpoint saved)."""
    import sys

    try:
        cfg = run_config(args)
        status = train_run(cfg, args.out, device=args.device, resume=args.resume,
                           progress=not args.no_progress, tensorboard=args.tensorboard,
                           precision=args.precision)
    except TrainingFailed as err:
        print(f"betalab train: failed: {err} (traceback in {err.log})", file=sys.stderr)
        return 1
    except (ValueError, TypeError) as err:
        print(f"betalab train: error: {as_flags(str(err))}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - failed before writing anything: one line
        print(f"betalab train: failed before writing anything: {type(err).__name__}: {err}",
              file=sys.stderr)
        return 1
    return _exit(args, status)


def add_parser(sub) -> None:
    """The ``train`` subcommand's arguments (choices and defaults shown by ``--help``)."""
    import argparse

    t = sub.add_parser("train", help="train a VAE on dSprites (checkpoints, JSONL log, --resume)",
                       description="Train one VAE on procedural dSprites: a JSONL log, atomic "
                                   "checkpoints, exact --resume, a curves figure.",
                       epilog=TRAIN_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    d = RunConfig.__dataclass_fields__
    _add_training_options(t, d)
    _add_model_options(t, d)
    t.add_argument("--tensorboard", action="store_true",
                   help="also write TensorBoard event files to RUN/tensorboard (needs the "
                        "tensorboard package: pip install -e '.[tensorboard]')")
    t.add_argument("--no-progress", action="store_true", help="no progress output")


def _add_training_options(t, d) -> None:
    """The objective, data, optimizer, device and run-directory options, in ``--help`` order."""
    from betalab.checks import DEVICE_CHOICES
    from deep.names import OBJECTIVES, OPTIMIZERS

    t.add_argument("--model", default=d["model"].default, choices=OBJECTIVES,
                   help="objective (default: %(default)s)")
    t.add_argument("--dataset", default=d["dataset"].default, choices=DATASETS,
                   help="737,280 images, or the 11,520-image grid (default: %(default)s)")
    t.add_argument("--beta", type=float, default=d["beta"].default,
                   help="β (γ for factor-vae) (default: %(default)s)")
    t.add_argument("--epochs", type=int, default=d["epochs"].default, help="(default: %(default)s)")
    t.add_argument("--batch-size", type=int, default=d["batch_size"].default,
                   help="(default: %(default)s; the paper: 2048)")
    t.add_argument("--lr", type=float, default=d["lr"].default,
                   help="the optimizer's learning rate (default: %(default)s; Higgins et al. "
                        "2017's Adagrad: 1e-2)")
    t.add_argument("--optimizer", default=d["optimizer"].default, choices=OPTIMIZERS,
                   help="of the VAE's parameters: adam (Stühmer et al. 2020) or adagrad (Higgins "
                        "et al. 2017, App. Table 1; torch's defaults) (default: %(default)s)")
    t.add_argument("--device", default="auto", metavar="{" + ",".join(DEVICE_CHOICES) + "}",
                   help="auto = the GPU if CUDA is available, else the CPU (default: %(default)s)")
    t.add_argument("--precision", default="auto", choices=("auto", "fp32", "tf32", "bf16"),
                   help="the steps' arithmetic: auto = tf32 on CUDA (tensor-core float32 "
                        "products), fp32 elsewhere; bf16 = bfloat16 autocast of the forward pass "
                        "(default: %(default)s)")
    t.add_argument("--seed", type=int, default=d["seed"].default, help="(default: %(default)s)")
    t.add_argument("--out", required=True, help="run directory, e.g. runs/NAME (required)")
    t.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    t.add_argument("--checkpoint-every", type=int, default=d["checkpoint_every"].default,
                   help="steps between checkpoints; the last step and Ctrl-C always save one "
                        "(default: %(default)s)")
    t.add_argument("--max-steps", type=int, default=None,
                   help="stop after this many steps (default: all the epochs)")


def _add_model_options(t, d) -> None:
    """The network, prior and posterior options (Stühmer et al. 2020; Kumar & Poole 2020)."""
    t.add_argument("--arch", default=d["arch"].default, choices=("mlp", "conv", "elu-mlp", "elu-cnn"),
                   help="(default: %(default)s)")
    t.add_argument("--latent-dim", type=int, default=None,
                   help="latents (default: 10, or the ISA prior's number of latents)")
    t.add_argument("--hidden", type=int, default=d["hidden"].default,
                   help="hidden units of the MLP (default: %(default)s)")
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
    t.add_argument("--mc-samples", type=int, default=d["mc_samples"].default,
                   help="draws of z per image for the ELBO (beta-vae, isa-vae; default: %(default)s)")
    t.add_argument("--posterior", default=None,
                   help="q(z|x) covariance: diagonal | block:b (b divides --latent-dim) | full "
                        "(Kumar & Poole 2020, App. D; default: full for grae, else diagonal; "
                        "grae-approx, beta-tcvae, factor-vae: diagonal only)")
