"""The run directory of ``betalab train`` (its layout: :mod:`betalab.train`): checkpoints,
the JSONL metrics log, ``status.json``, what ``--resume`` checks and restores, the exported
weights, and :func:`load_run`.

Checkpoints are written through :func:`betalab.io.atomic_path` and read with
``torch.load(..., weights_only=True)``; a corrupted or foreign file is refused with a clear
error. Every other file is written through :mod:`betalab.io` too (atomically, file by file).
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

from betalab import io
from betalab.train.config import RunConfig

__all__ = ["CHECKPOINT_FORMAT", "WEIGHTS_FORMAT", "RUN_FILES", "load_checkpoint", "save_checkpoint",
           "read_log", "checkpoint_to_resume", "restore", "start_run", "write_status", "write_error",
           "export_weights", "load_run"]

CHECKPOINT_FORMAT = "betalab-train-v1"
WEIGHTS_FORMAT = "betalab-weights-v1"

#: the files a run directory holds (their stale temporaries are removed by the next run)
RUN_FILES = ("checkpoint.pt", "config.json", "metrics.jsonl", "status.json", "curves.png",
             "traversals.png",
             "model.pt", "error.log")


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


def checkpoint_to_resume(out: Path, config: RunConfig, resume: bool) -> dict | None:
    """With ``resume``, the checkpoint of the run in ``out``, checked to be a run of ``config``
    (all but its stopping fields, :meth:`RunConfig.identity`); without, None once ``out`` is
    known to hold no run. Nothing is written."""
    ckpt_path = out / "checkpoint.pt"
    if resume:
        if not ckpt_path.is_file():
            raise ValueError(f"--resume: no checkpoint in {out}")
        ck = load_checkpoint(ckpt_path)
        stored_identity = _stored_config(ck, ckpt_path).identity()
        if stored_identity != config.identity():
            diff = {k: (v, config.identity()[k]) for k, v in stored_identity.items()
                    if config.identity()[k] != v}
            raise ValueError(f"--resume: configuration differs from the checkpoint's: {diff}")
        return ck
    if ckpt_path.exists():
        raise ValueError(f"{out} already holds a run; pass --resume to continue it")
    return None


def restore(trainer, ck: dict, config: RunConfig, total: int, out: Path) -> list[dict]:
    """Put the state of the checkpoint ``ck`` of the run in ``out`` into ``trainer`` (a
    :class:`deep.train.Trainer` of ``total`` steps); returns the log records of the steps
    before the checkpoint's (:func:`read_log`). Nothing is written."""
    ckpt_path = out / "checkpoint.pt"
    step = ck["state"]["step"]
    if step > trainer.total_steps:
        raise ValueError(f"corrupted checkpoint {ckpt_path}: step {step} is beyond the run's "
                         f"{trainer.total_steps} steps ({config.epochs} epochs)")
    if step > total:
        raise ValueError(f"--max-steps {config.max_steps}: the checkpoint is already at step {step}")
    kept = read_log(out / "metrics.jsonl", upto=step)
    try:
        trainer.load_state_dict(ck["state"])
    except (KeyError, RuntimeError, ValueError, TypeError) as err:
        raise ValueError(f"foreign checkpoint {ckpt_path}: {err}") from None
    return kept


def start_run(out: Path, config: RunConfig, records: list[dict]) -> None:
    """The first writes of a run whose inputs are valid: stale temporaries of a killed run
    removed, ``config.json``, and ``metrics.jsonl`` with ``records`` (the steps so far)."""
    io.remove_stale_temporaries(out, RUN_FILES)
    io.write_json(out / "config.json", asdict(config))
    io.write_text(out / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in records))


def write_status(out: Path, status: dict) -> None:
    io.write_json(out / "status.json", status)


def write_error(out: Path, trace: str, status: dict) -> Path:
    """A failed run: the traceback ``trace`` in ``error.log``, then ``status`` in
    ``status.json``; returns the path of ``error.log``."""
    io.write_text(out / "error.log", trace)
    write_status(out, status)
    return out / "error.log"


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
