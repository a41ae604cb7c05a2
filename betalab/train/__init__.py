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

The modules, one concern each (their public names are importable from here too):

:mod:`betalab.train.config`    :class:`~betalab.train.config.RunConfig`, a run's options and their checks
:mod:`betalab.train.rundir`    the run directory: checkpoints, metrics log, status, resume, ``load_run``
:mod:`betalab.train.driver`    ``train_run``: the training loop, Ctrl-C and SIGTERM
:mod:`betalab.train.progress`  the progress output, the duration note, TensorBoard scalars
:mod:`betalab.train.plots`     ``curves.png`` and ``traversals.png`` (``betalab plot``)
:mod:`betalab.train.cli`       the ``betalab train`` command line

A trained model is one call away::

    from betalab import load_run
    model, config = load_run("runs/NAME")      # the VAE in eval mode, and its RunConfig
"""

from __future__ import annotations

from betalab.train.cli import TRAIN_EXAMPLES, add_parser, as_flags, main
from betalab.train.config import DATASETS, GAUSSIAN_DATASETS, RunConfig
from betalab.train.driver import TrainingFailed, train_run
from betalab.train.plots import curves_figure, plot_run, plot_traversals
from betalab.train.progress import Progress
from betalab.train.rundir import (CHECKPOINT_FORMAT, RUN_FILES, WEIGHTS_FORMAT, export_weights,
                                  load_checkpoint, load_run, read_log, save_checkpoint)

_Progress = Progress        # its name before the split (tests/betalab/test_plain_logs.py)

__all__ = ["RunConfig", "train_run", "load_run", "load_checkpoint", "save_checkpoint",
           "export_weights", "plot_run", "curves_figure", "read_log", "TrainingFailed", "DATASETS"]
