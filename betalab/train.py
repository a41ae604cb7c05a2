"""The training driver behind ``betalab train``: checkpoints, JSONL metrics, exact resume,
a curves figure, and loading a trained model.

Run directory layout::

    runs/NAME/
      config.json        the run's configuration
      checkpoint.pt      last good state (model, objective, optimizers, step), atomic
      metrics.jsonl      one JSON line per step: {"step": t, "loss": ..., "recon": ..., ...}
      status.json        {"status": "done" | "non-finite" | "interrupted" | "terminated" | "error",
                          "step": ..., "last_checkpoint_step": ..., "device": ..., "precision": ...}
      curves.png         every logged term against the step (``betalab plot RUN`` redraws it)
      model.pt           the weights alone, with the configuration (``betalab export RUN``)
      tensorboard/       event files, with ``--tensorboard`` (needs the tensorboard package)
      error.log          the traceback, when a run failed

Every input — options, device, output directory, and for ``--resume`` the checkpoint and the
log — is validated and the first step computed before anything is written, so a bad command
leaves the directory as it was. Checkpoints are written through :func:`betalab.io.atomic_path`
and read with ``torch.load(..., weights_only=True)``; a corrupted or foreign file is refused
with a clear error. Ctrl-C or SIGTERM stops at the end of the current step with a checkpoint
and a status file; every run ends with a checkpoint. Because every random number of step t is
a function of (seed, t) (:mod:`deep.train`), ``--resume`` continues with exactly the loss curve
of an uninterrupted run (on CPU).

A trained model is one call away::

    from betalab import load_run
    model, config = load_run("runs/NAME")      # the VAE in eval mode, and its RunConfig
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from betalab import io

__all__ = ["RunConfig", "train_run", "load_run", "load_checkpoint", "save_checkpoint",
           "export_weights", "plot_run", "curves_figure", "read_log", "TrainingFailed", "DATASETS"]

CHECKPOINT_FORMAT = "betalab-train-v1"
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
        from deep.models import GRAE_OBJECTIVES, ISA_OBJECTIVES, OBJECTIVES, check_posterior
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
        self.train_config()
        self.vae_config()

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


def _dataset(name: str, seed: int = 0):
    """The training images of ``name``; "digits": the training part of
    :func:`deep.data.digits.digit_split` (standardised 8×8 digits, split by ``seed``)."""
    import numpy as np

    from deep.data import ArrayImages, DSprites

    if name == "digits":
        from deep.data.digits import digit_split

        return ArrayImages(digit_split(np.random.default_rng(seed))[0], 8)
    return DSprites() if name == "dsprites" else DSprites.reduced()


def load_checkpoint(path) -> dict:
    """Read a checkpoint with ``weights_only=True``; ValueError if corrupted or foreign (not a
    dict of this format, a configuration that is not a table, a state without an int step)."""
    import torch

    path = Path(path)
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # unpickling errors come in many types
        raise ValueError(f"corrupted or foreign checkpoint {path}: {type(err).__name__}: {err}") from None
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT \
            or not {"config", "state"} <= set(ck):
        raise ValueError(f"foreign checkpoint {path}: not a {CHECKPOINT_FORMAT} file")
    if not isinstance(ck["config"], dict):
        raise ValueError(f"foreign checkpoint {path}: its config is a {type(ck['config']).__name__}, "
                         f"not a table")
    state = ck["state"]
    if not isinstance(state, dict) or not {"step", "model"} <= set(state):
        raise ValueError(f"foreign checkpoint {path}: its state has no step or model")
    step = state["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"corrupted checkpoint {path}: step must be an int >= 0, got {step!r}")
    return ck


def _stored_config(ck: dict, path) -> RunConfig:
    """The run's configuration from its checkpoint; a key :class:`RunConfig` does not have (a
    checkpoint of another program, or of a newer betalab whose setting this one would ignore
    and so train another model) is refused, naming the keys."""
    known = {f.name for f in fields(RunConfig)}
    unknown = sorted(str(k) for k in ck["config"] if k not in known)
    if unknown:
        raise ValueError(f"foreign checkpoint {path}: unknown configuration keys {unknown} "
                         "(written by another program or a newer betalab)")
    stored = {f.name: ck["config"][f.name] for f in fields(RunConfig) if f.name in ck["config"]}
    try:
        return RunConfig(**stored)
    except (TypeError, ValueError) as err:
        raise ValueError(f"foreign checkpoint {path}: {err}") from None


def save_checkpoint(path, config: RunConfig, state: dict) -> None:
    import torch

    with io.atomic_path(path) as tmp:
        torch.save({"format": CHECKPOINT_FORMAT, "config": asdict(config), "state": state}, tmp)


def read_log(path, upto: int | None = None) -> list[dict]:
    """The records of a run's ``metrics.jsonl``, checked: every line a JSON object with an int
    ``"step"``, steps 0, 1, 2, ... in order. A last line without its newline (a write cut short by
    ``kill -9``) is dropped. With ``upto``, the records of steps ``< upto`` — which must all be
    there (a resumed run continues from a checkpoint at step ``upto``). ValueError names the file
    and line of the first problem."""
    path = Path(path)
    if not path.is_file():
        if upto:
            raise ValueError(f"--resume: no {path.name} in {path.parent} (the checkpoint is at step "
                             f"{upto})")
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        lines.pop()                                   # unterminated: the write was cut short
    records = []
    for no, ln in enumerate(lines, start=1):
        try:
            rec = json.loads(ln)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{no}: not a JSON line ({err.msg})") from None
        if not isinstance(rec, dict) or "step" not in rec:
            raise ValueError(f"{path}:{no}: a metrics line needs a \"step\" key, got {ln[:60]!r}")
        step = rec["step"]
        if isinstance(step, bool) or not isinstance(step, int) or step != len(records):
            raise ValueError(f"{path}:{no}: step {step!r} where step {len(records)} was expected")
        records.append(rec)
        if upto is not None and len(records) == upto:
            break
    if upto is not None and len(records) < upto:
        raise ValueError(f"--resume: {path} holds {len(records)} steps but the checkpoint is at "
                         f"step {upto}")
    return records


#: the files a run directory holds (their stale temporaries are removed by the next run)
RUN_FILES = ("checkpoint.pt", "config.json", "metrics.jsonl", "status.json", "curves.png",
             "traversals.png",
             "model.pt", "error.log")


class _Stop:
    """SIGINT / SIGTERM while training: remember the signal; the loop stops at the end of the
    step (model and optimizer states are never saved half-updated). A second Ctrl-C quits at once."""

    def __init__(self):
        self.signal = None
        self._old = {}

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        import signal

        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signum

    def __exit__(self, *exc):
        import signal

        for sig, old in self._old.items():
            signal.signal(sig, old)
        return False


class _Progress:
    """A tqdm bar on a terminal; elsewhere (a log file, a pipe) a plain line every tenth of the
    run, without escape codes."""

    def __init__(self, total: int, initial: int, desc: str, enabled: bool):
        from deep.progress import shown

        self.total, self.desc, self.enabled = total, desc, enabled
        self.tty = shown(enabled)
        self.next = initial
        self.bar = None
        if self.tty:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, mininterval=1)

    def update(self, step: int, terms: dict) -> None:
        shown = {k: f"{v:.3g}" for k, v in terms.items() if k != "neg_elbo"}
        if self.bar is not None:
            self.bar.update()
            self.bar.set_postfix(shown)
        elif self.enabled and (step >= self.next or step == self.total):
            import sys

            self.next = step + max(1, self.total // 10)
            print(f"{self.desc}: step {step}/{self.total} "
                  + " ".join(f"{k}={v}" for k, v in shown.items()), file=sys.stderr, flush=True)

    def write(self, line: str) -> None:
        """A message of its own line: above the bar on a terminal (``tqdm.write``), plain elsewhere."""
        import sys

        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _tensorboard_writer(out: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ValueError("--tensorboard: the tensorboard package is not installed "
                         "(pip install tensorboard, or pip install -e '.[tensorboard]')") from None
    return SummaryWriter


def _cost_note(seconds_per_step: float, remaining: int, device) -> str | None:
    """One line when the rest of the run will take long (over 10 minutes), else None."""
    left = seconds_per_step * remaining
    if left < 600:
        return None
    hours = left / 3600
    when = f"{hours:.1f} h" if hours >= 1 else f"{left / 60:.0f} min"
    return (f"betalab train: {seconds_per_step:.2g} s/step on {device}: {remaining} steps left "
            f"≈ {when} (Ctrl-C stops with a checkpoint; --resume continues)")


def train_run(config: RunConfig, out, *, device: str = "auto", resume: bool = False,
              progress: bool = True, tensorboard: bool = False, precision: str = "auto") -> dict:
    """Train (or resume) the run of ``config`` in directory ``out``; returns the status dict
    (``status``: ``done``, ``non-finite``, ``interrupted``, ``terminated``).

    Everything is validated — the options, the device, the output directory, and with
    ``resume`` the checkpoint and the log — and the first step is computed before anything is
    written, so a ValueError/TypeError leaves ``out`` as it was. Ctrl-C or SIGTERM stops at the
    end of the current step, saves a checkpoint and writes ``status.json``; every run ends with
    a checkpoint and ``curves.png``. ``precision``: the steps' arithmetic
    (:mod:`deep.precision`; ``auto``: tf32 on CUDA, fp32 elsewhere), written with the device
    into ``status.json``.
    """
    import sys
    import time

    from betalab.checks import check_device, check_output_dir
    from deep.models import build_objective, build_vae
    from deep.train import NonFiniteLossError, Trainer, seeded_init

    if not isinstance(config, RunConfig):
        raise TypeError("config must be a RunConfig")
    out = check_output_dir(out)
    ckpt_path, log_path = out / "checkpoint.pt", out / "metrics.jsonl"
    dev = check_device(device)
    writer_cls = _tensorboard_writer(out) if tensorboard else None
    ck = None
    if resume:
        if not ckpt_path.is_file():
            raise ValueError(f"--resume: no checkpoint in {out}")
        ck = load_checkpoint(ckpt_path)
        stored_identity = _stored_config(ck, ckpt_path).identity()
        if stored_identity != config.identity():
            diff = {k: (v, config.identity()[k]) for k, v in stored_identity.items()
                    if config.identity()[k] != v}
            raise ValueError(f"--resume: configuration differs from the checkpoint's: {diff}")
    elif ckpt_path.exists():
        raise ValueError(f"{out} already holds a run; pass --resume to continue it")

    data = _dataset(config.dataset, config.seed)
    model, objective = seeded_init(lambda: (
        build_vae(config.vae_config()),
        build_objective(config.model, config.beta, latent_dim=config.latent_dim,
                        dataset_size=len(data), estimator=config.estimator,
                        n_samples=config.mc_samples)), config.seed)
    model, objective = model.to(dev), objective.to(dev)
    trainer = Trainer(model, objective, data, config.train_config(), dev, precision)
    total = trainer.total_steps if config.max_steps is None else min(config.max_steps,
                                                                      trainer.total_steps)
    kept = []
    if ck is not None:
        step = ck["state"]["step"]
        if step > trainer.total_steps:
            raise ValueError(f"corrupted checkpoint {ckpt_path}: step {step} is beyond the run's "
                             f"{trainer.total_steps} steps ({config.epochs} epochs)")
        if step > total:
            raise ValueError(f"--max-steps {config.max_steps}: the checkpoint is already at step {step}")
        kept = read_log(log_path, upto=step)
        try:
            trainer.load_state_dict(ck["state"])
        except (KeyError, RuntimeError, ValueError, TypeError) as err:
            raise ValueError(f"foreign checkpoint {ckpt_path}: {err}") from None

    # the first step, before anything is written: an option that only the computation
    # rejects leaves no run directory behind
    last_good = trainer.step if ck is not None else None
    status = None
    pending = []
    stop = _Stop().__enter__()          # Ctrl-C / SIGTERM from here on: stop after the step
    t0 = time.perf_counter()
    try:
        if trainer.step < total:
            pending.append({"step": trainer.step, **trainer.run_step()})
    except NonFiniteLossError as err:
        status = {"status": "non-finite", "step": err.step, "terms": str(err.terms),
                  "last_checkpoint_step": last_good}
    except BaseException:
        stop.__exit__()
        raise
    first_seconds = time.perf_counter() - t0

    # inputs are valid: from here on the run directory is written (atomically, file by file)
    io.remove_stale_temporaries(out, RUN_FILES)
    io.write_json(out / "config.json", asdict(config))
    io.write_text(log_path, "".join(json.dumps(r) + "\n" for r in kept + pending))
    writer = writer_cls(log_dir=str(out / "tensorboard"), purge_step=trainer.step - len(pending)) \
        if writer_cls is not None else None
    bar = _Progress(total, trainer.step - len(pending), f"{config.model} β={config.beta:g}",
                    progress)
    note_shown = False
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            for rec in pending:
                _log_step(writer, rec)
                bar.update(rec["step"] + 1, {k: v for k, v in rec.items() if k != "step"})
            while status is None:
                if trainer.step % config.checkpoint_every == 0 or trainer.step == total \
                        or stop.signal is not None:
                    if trainer.step != last_good:
                        save_checkpoint(ckpt_path, config, trainer.state_dict())
                        last_good = trainer.step
                if stop.signal is not None:
                    import signal

                    name = "interrupted" if stop.signal == signal.SIGINT else "terminated"
                    status = {"status": name, "step": trainer.step, "last_checkpoint_step": last_good}
                    break
                if trainer.step >= total:
                    status = {"status": "done", "step": trainer.step}
                    break
                step = trainer.step
                t1 = time.perf_counter()
                try:
                    terms = trainer.run_step()
                except NonFiniteLossError as err:
                    status = {"status": "non-finite", "step": err.step, "terms": str(err.terms),
                              "last_checkpoint_step": last_good}
                    break
                if not note_shown and progress:
                    note = _cost_note(min(first_seconds, time.perf_counter() - t1) if pending
                                      else time.perf_counter() - t1, total - trainer.step, dev)
                    if note:
                        bar.write(note)
                    note_shown = True
                rec = {"step": step, **terms}
                log.write(json.dumps(rec) + "\n")
                log.flush()
                _log_step(writer, rec)
                bar.update(trainer.step, terms)
    except KeyboardInterrupt:   # a second Ctrl-C, or an interrupt from inside a step
        status = {"status": "interrupted", "step": trainer.step, "last_checkpoint_step": last_good}
    except Exception as err:
        import traceback

        io.write_text(out / "error.log", traceback.format_exc())
        io.write_json(out / "status.json", {"status": "error", "step": trainer.step,
                                            "last_checkpoint_step": last_good,
                                            "device": str(dev), "precision": trainer.precision})
        raise TrainingFailed(f"{type(err).__name__}: {err}", out / "error.log") from err
    finally:
        stop.__exit__()
        bar.close()
        if writer is not None:
            writer.close()
    status = {**status, "device": str(dev), "precision": trainer.precision}
    io.write_json(out / "status.json", status)
    if trainer.step > 0:
        plot_run(out)
        if status["status"] == "done" and config.dataset in ("dsprites", "dsprites-reduced"):
            plot_traversals(out)
    return status


class TrainingFailed(RuntimeError):
    """A run failed after its directory was written; ``log`` is the file with the traceback."""

    def __init__(self, message: str, log: Path):
        super().__init__(message)
        self.log = log


def _log_step(writer, rec: dict) -> None:
    if writer is None:
        return
    for k, v in rec.items():
        if k != "step" and isinstance(v, (int, float)):
            writer.add_scalar(k, v, rec["step"])


def curves_figure(records: list[dict], title: str):
    """Every logged term of ``records`` (``metrics.jsonl`` lines) against the step, one panel
    per term; over 100 steps a running mean over 1% of the run is drawn on the raw values."""
    import matplotlib.pyplot as plt
    import numpy as np

    keys = [k for k in records[0] if k != "step" and isinstance(records[0][k], (int, float))]
    steps = np.array([r["step"] for r in records])
    ncol = min(3, len(keys))
    nrow = -(-len(keys) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.8 * nrow), squeeze=False)
    width = max(1, len(records) // 100)
    for ax, k in zip(axes.flat, keys):
        y = np.array([r.get(k, np.nan) for r in records], dtype=float)
        ax.plot(steps, y, lw=0.6, color="0.7" if width > 1 else "C0")
        if width > 1:
            ax.plot(steps[width - 1:], np.convolve(y, np.ones(width) / width, mode="valid"),
                    lw=1.2, color="C0")
        ax.set_title(k)
        ax.set_xlabel("step")
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    fig.suptitle(f"{title} ({len(records)} steps)")
    fig.tight_layout()
    return fig


def plot_run(run) -> Path:
    """Write ``curves.png`` (:func:`curves_figure`) into the run directory ``run``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    run = Path(run)
    records = read_log(run / "metrics.jsonl")
    if not records:
        raise ValueError(f"{run}: no logged step to plot (metrics.jsonl is empty or missing)")
    title = run.name
    try:
        cfg = json.loads((run / "config.json").read_text())
        title = f"{run.name}: {cfg['model']}, β = {cfg['beta']:g}, {cfg['dataset']}"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    fig = curves_figure(records, title)
    io.save_figure(fig, run / "curves", formats=("png",))
    plt.close(fig)
    return run / "curves.png"


def plot_traversals(run, n_images: int = 2048) -> Path:
    """Write ``traversals.png`` into the dSprites run directory ``run``: its trained model's
    latents sorted by KL (against N(0, I), from the posterior means and variances of
    ``n_images`` images spread over the grid), each varied over [−3, 3] around one image's code
    (Higgins et al. 2017, Fig. 6A; :func:`betalab.plot.traversal_figure`), with the
    number of active latents (KL > 0.1 nats) in the title."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np

    from betalab.plot import traversal_figure
    from deep.metrics import encode_dataset
    from deep.traversal import kl_per_latent

    run = Path(run)
    model, config = load_run(run)
    if config.dataset not in ("dsprites", "dsprites-reduced"):
        raise ValueError(f"run: traversals are drawn for dSprites runs, got {config.dataset!r}")
    data = _dataset(config.dataset, config.seed)
    rows = np.linspace(0, len(data) - 1, min(n_images, len(data))).round().astype(int)
    mu, lv, _ = encode_dataset(model, data, indices=rows)
    kl = kl_per_latent(mu, lv)
    active = int((kl > 0.1).sum())
    fig = traversal_figure(model, data, mu, kl, f"{run.name}: {config.model}, β = {config.beta:g}, "
                           f"{active} of {kl.size} latents active (KL > 0.1 nats)")
    io.save_figure(fig, run / "traversals", formats=("png",))
    plt.close(fig)
    return run / "traversals.png"


WEIGHTS_FORMAT = "betalab-weights-v1"


def export_weights(run, dest=None) -> Path:
    """Write the model's weights alone (no optimizer state, no discriminator) with the run's
    configuration to ``dest`` (default ``<run>/model.pt``); :func:`load_run` reads it."""
    run = Path(run)
    ck = load_checkpoint(run / "checkpoint.pt" if run.is_dir() else run)
    dest = (run if run.is_dir() else run.parent) / "model.pt" if dest is None else Path(dest)
    import torch

    with io.atomic_path(dest) as tmp:
        torch.save({"format": WEIGHTS_FORMAT, "config": ck["config"], "step": ck["state"]["step"],
                    "model": ck["state"]["model"]}, tmp)
    return dest


def load_run(path, device: str = "cpu"):
    """The trained model of a run and its configuration: ``model, config = load_run(path)``.

    ``path`` is a run directory (its ``checkpoint.pt``, else its exported ``model.pt``), a
    checkpoint or an exported weights file. The model is on ``device``, in eval mode; ``config``
    is the :class:`RunConfig`. Files are read with ``weights_only=True``.
    """
    import torch

    from betalab.checks import check_device
    from deep.models import build_vae

    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt" if (path / "checkpoint.pt").is_file() else path / "model.pt"
    if not path.is_file():
        raise ValueError(f"path: no checkpoint.pt or model.pt at {path.parent}")
    dev = check_device(device, "device")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # unpickling errors come in many types
        raise ValueError(f"corrupted or foreign file {path}: {type(err).__name__}: {err}") from None
    if isinstance(blob, dict) and blob.get("format") == WEIGHTS_FORMAT:
        if not isinstance(blob.get("config"), dict):
            raise ValueError(f"foreign weights file {path}: no configuration table")
        config, weights = _stored_config(blob, path), blob.get("model")
    else:
        ck = load_checkpoint(path)
        config, weights = _stored_config(ck, path), ck["state"]["model"]
    model = build_vae(config.vae_config())
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, AttributeError) as err:
        raise ValueError(f"foreign weights in {path}: {err}") from None
    return model.to(dev).eval(), config


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
        cfg = RunConfig(model=args.model, dataset=args.dataset, beta=args.beta, epochs=args.epochs,
                        batch_size=args.batch_size, lr=args.lr, seed=args.seed, arch=args.arch,
                        latent_dim=args.latent_dim, hidden=args.hidden,
                        checkpoint_every=args.checkpoint_every, max_steps=args.max_steps,
                        prior=args.prior, learn_exponents=args.learn_exponents,
                        prior_scale=args.prior_scale, prior_lr=args.prior_lr,
                        mc_samples=args.mc_samples, posterior=args.posterior,
                        optimizer=args.optimizer)
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


def add_parser(sub) -> None:
    """The ``train`` subcommand's arguments (choices and defaults shown by ``--help``)."""
    import argparse

    from betalab.checks import DEVICE_CHOICES
    from deep.names import OBJECTIVES, OPTIMIZERS

    t = sub.add_parser("train", help="train a VAE on dSprites (checkpoints, JSONL log, --resume)",
                       description="Train one VAE on procedural dSprites: a JSONL log, atomic "
                                   "checkpoints, exact --resume, a curves figure.",
                       epilog=TRAIN_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    d = RunConfig.__dataclass_fields__
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
    t.add_argument("--tensorboard", action="store_true",
                   help="also write TensorBoard event files to RUN/tensorboard (needs the "
                        "tensorboard package: pip install -e '.[tensorboard]')")
    t.add_argument("--no-progress", action="store_true", help="no progress output")
