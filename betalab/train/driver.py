"""The training loop behind ``betalab train``: :func:`train_run` validates a run, computes its
first step before anything is written, then steps with checkpoints, the JSONL log and the
progress output until the run is done, stopped (Ctrl-C, SIGTERM) or meets a non-finite loss.

The files it writes are written by :mod:`betalab.train.rundir`, the figures drawn at the end
by :mod:`betalab.train.plots`. Because every random number of step t is a function of
(seed, t) (:mod:`deep.train`), ``--resume`` continues with exactly the loss curve of an
uninterrupted run (on CPU).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from betalab.train.config import RunConfig, training_images
from betalab.train.plots import plot_run, plot_traversals
from betalab.train.progress import Progress, cost_note, log_scalars, tensorboard_writer
from betalab.train.rundir import (checkpoint_to_resume, restore, save_checkpoint, start_run,
                                  write_error, write_status)

__all__ = ["train_run", "TrainingFailed"]


class TrainingFailed(RuntimeError):
    """A run failed after its directory was written; ``log`` is the file with the traceback."""

    def __init__(self, message: str, log: Path):
        super().__init__(message)
        self.log = log


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
    from betalab.checks import check_device, check_output_dir

    if not isinstance(config, RunConfig):
        raise TypeError("config must be a RunConfig")
    out = check_output_dir(out)
    dev = check_device(device)
    writer_cls = tensorboard_writer() if tensorboard else None
    ck = checkpoint_to_resume(out, config, resume)
    trainer = _trainer(config, dev, precision)
    total = trainer.total_steps if config.max_steps is None else min(config.max_steps,
                                                                      trainer.total_steps)
    kept = restore(trainer, ck, config, total, out) if ck is not None else []

    run = _Run(config, out, trainer, total, dev, last_good=trainer.step if ck is not None else None)
    status = run.first_step()
    # inputs are valid: from here on the run directory is written (atomically, file by file)
    start_run(out, config, kept + run.pending)
    status = run.steps(status, writer_cls, progress)
    status = {**status, "device": str(dev), "precision": trainer.precision}
    write_status(out, status)
    if trainer.step > 0:
        plot_run(out)
        if status["status"] == "done" and config.dataset in ("dsprites", "dsprites-reduced"):
            plot_traversals(out)
    return status


def _trainer(config: RunConfig, dev, precision: str):
    """The :class:`deep.train.Trainer` of ``config`` on ``dev``: its model and objective
    initialised from the run's seed, its training images."""
    from deep.models import build_objective, build_vae
    from deep.train import Trainer, seeded_init

    data = training_images(config.dataset, config.seed)
    model, objective = seeded_init(lambda: (
        build_vae(config.vae_config()),
        build_objective(config.model, config.beta, latent_dim=config.latent_dim,
                        dataset_size=len(data), estimator=config.estimator,
                        n_samples=config.mc_samples)), config.seed)
    model, objective = model.to(dev), objective.to(dev)
    return Trainer(model, objective, data, config.train_config(), dev, precision)


class _Run:
    """The steps of a validated run: the first one before anything is written
    (:meth:`first_step`), then the rest (:meth:`steps`)."""

    def __init__(self, config: RunConfig, out: Path, trainer, total: int, dev, last_good):
        self.config, self.out, self.trainer, self.total, self.dev = config, out, trainer, total, dev
        self.last_good = last_good          # the step of the last checkpoint (None: none saved)
        self.pending = []                   # the first step's record, not yet logged
        self.first_seconds = 0.0
        self.stop = None
        self.writer = self.bar = None

    def _non_finite(self, err) -> dict:
        return {"status": "non-finite", "step": err.step, "terms": str(err.terms),
                "last_checkpoint_step": self.last_good}

    def first_step(self) -> dict | None:
        """The first step, before anything is written: an option that only the computation
        rejects leaves no run directory behind. From here on Ctrl-C / SIGTERM stop after the
        step. Returns the status when the step's loss was not finite, else None."""
        from deep.train import NonFiniteLossError

        status = None
        self.stop = _Stop().__enter__()
        t0 = time.perf_counter()
        try:
            if self.trainer.step < self.total:
                self.pending.append({"step": self.trainer.step, **self.trainer.run_step()})
        except NonFiniteLossError as err:
            status = self._non_finite(err)
        except BaseException:
            self.stop.__exit__()
            raise
        self.first_seconds = time.perf_counter() - t0
        return status

    def steps(self, status: dict | None, writer_cls, progress: bool) -> dict:
        """The rest of the run (none when ``status`` is already set); returns its status. A
        second Ctrl-C is an interruption; any other error writes ``error.log`` and
        ``status.json`` and raises :class:`TrainingFailed`."""
        trainer, start = self.trainer, self.trainer.step - len(self.pending)
        self.writer = writer_cls(log_dir=str(self.out / "tensorboard"), purge_step=start) \
            if writer_cls is not None else None
        self.bar = Progress(self.total, start, f"{self.config.model} β={self.config.beta:g}",
                            progress)
        try:
            with open(self.out / "metrics.jsonl", "a", encoding="utf-8") as log:
                status = self._loop(status, log, progress)
        except KeyboardInterrupt:   # a second Ctrl-C, or an interrupt from inside a step
            status = {"status": "interrupted", "step": trainer.step,
                      "last_checkpoint_step": self.last_good}
        except Exception as err:
            import traceback

            log_path = write_error(self.out, traceback.format_exc(),
                                   {"status": "error", "step": trainer.step,
                                    "last_checkpoint_step": self.last_good,
                                    "device": str(self.dev), "precision": trainer.precision})
            raise TrainingFailed(f"{type(err).__name__}: {err}", log_path) from err
        finally:
            self.stop.__exit__()
            self.bar.close()
            if self.writer is not None:
                self.writer.close()
        return status

    def _loop(self, status: dict | None, log, progress: bool) -> dict:
        """Log the first step, then step until a status is reached, appending each step's
        record to ``log``."""
        from deep.train import NonFiniteLossError

        trainer = self.trainer
        for rec in self.pending:
            log_scalars(self.writer, rec)
            self.bar.update(rec["step"] + 1, {k: v for k, v in rec.items() if k != "step"})
        note_shown = False
        while status is None:
            self._checkpoint_if_due()
            status = self._stopped()
            if status is not None:
                break
            step = trainer.step
            t1 = time.perf_counter()
            try:
                terms = trainer.run_step()
            except NonFiniteLossError as err:
                status = self._non_finite(err)
                break
            if not note_shown and progress:
                self._note_cost(time.perf_counter() - t1)
                note_shown = True
            rec = {"step": step, **terms}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            log_scalars(self.writer, rec)
            self.bar.update(trainer.step, terms)
        return status

    def _checkpoint_if_due(self) -> None:
        """A checkpoint every ``checkpoint_every`` steps, at the last step and when stopped
        (never twice at one step)."""
        step = self.trainer.step
        if step % self.config.checkpoint_every == 0 or step == self.total \
                or self.stop.signal is not None:
            if step != self.last_good:
                save_checkpoint(self.out / "checkpoint.pt", self.config, self.trainer.state_dict())
                self.last_good = step

    def _stopped(self) -> dict | None:
        """The status of a run stopped by a signal or at its last step, else None."""
        if self.stop.signal is not None:
            import signal

            name = "interrupted" if self.stop.signal == signal.SIGINT else "terminated"
            return {"status": name, "step": self.trainer.step, "last_checkpoint_step": self.last_good}
        if self.trainer.step >= self.total:
            return {"status": "done", "step": self.trainer.step}
        return None

    def _note_cost(self, seconds: float) -> None:
        """The run's estimated duration, when long, from the second step's time (or the
        first's, when shorter) — once, above the progress bar."""
        note = cost_note(min(self.first_seconds, seconds) if self.pending else seconds,
                         self.total - self.trainer.step, self.dev)
        if note:
            self.bar.write(note)
