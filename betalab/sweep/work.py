"""What one sweep task does: train one ensemble of runs, evaluate each member, return rows.

:func:`train_group` is a plain function of the run configs (no Ray, no database): the driver
ships it to a Ray worker, the tests call it directly. It writes one file, the ensemble's
checkpoint (atomically, every ``checkpoint_every`` steps) in ``checkpoint_dir``, and resumes
from it when present, so a task killed mid-training continues where its last checkpoint was
(:meth:`deep.ensemble.Ensemble.load_state_dict` resumes exactly).

A failed run says why in one line (``error``: the exception's type and message, the real cause:
a checkpoint is serialised in memory and written by Python, so a full disk reads "No space left
on device", not the serialiser's own complaint) and of which kind (``failure``, :func:`failure_kind`):
``transient`` (I/O, out of memory, a killed worker, a checkpoint that cannot be read), retried
by the next ``betalab sweep run``, or ``deterministic`` (a non-finite loss, a configuration
error), retried only when asked (``--retry failed``). A checkpoint that cannot be read is moved
aside into ``<checkpoint_dir>/corrupt/`` (never deleted), and the retry starts from scratch.
"""

from __future__ import annotations

__all__ = ["CHECKPOINT_FORMAT", "CURVE_POINTS", "TRANSIENT", "DETERMINISTIC", "CorruptCheckpoint",
           "failure_kind", "versions", "dataset", "heldout_indices", "resolve_device",
           "build_ensemble", "train_group"]

import functools
import os
import platform
import time
import traceback
from pathlib import Path

import numpy as np

CHECKPOINT_FORMAT = "betalab-sweep-ensemble-v1"
#: at most this many points of each training curve are stored (every step below that)
CURVE_POINTS = 200
#: the kinds of failure (the ``failure`` column): retried by default, or only when asked
TRANSIENT, DETERMINISTIC = "transient", "deterministic"


class CorruptCheckpoint(Exception):
    """An ensemble's checkpoint could not be read (truncated, garbage, foreign); it has been
    moved aside. Transient: the retry trains from scratch."""


def failure_kind(err: BaseException) -> str:
    """:data:`TRANSIENT` for a fault of the machine rather than of the run — ``OSError`` (a full
    or failing disk, a lost file system), ``MemoryError`` and a CUDA out-of-memory error, a
    :class:`CorruptCheckpoint` — else :data:`DETERMINISTIC` (a configuration error, a bug: the
    same run would fail again). A worker killed under the driver is transient too (the driver
    classifies it; :mod:`betalab.sweep.driver`)."""
    if isinstance(err, (OSError, MemoryError, CorruptCheckpoint)):
        return TRANSIENT
    import torch

    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(err, oom):
        return TRANSIENT
    return DETERMINISTIC


def _one_line(err: BaseException) -> str:
    from betalab.sweep.store import one_line

    return one_line(err)


def versions() -> dict:
    from importlib import metadata

    import torch

    try:
        betalab_version = metadata.version("betalab")
    except metadata.PackageNotFoundError:      # a checkout that is not installed
        betalab_version = "unknown"
    from deep.data.dsprites import CACHE_VERSION

    return {"betalab": betalab_version, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "dsprites renderer": CACHE_VERSION}


@functools.lru_cache(maxsize=2)
def dataset(name: str):
    """The materialised dataset, rendered once per worker process (Ray reuses workers)."""
    from deep.data import DSprites

    data = DSprites.reduced() if name == "dsprites-reduced" else DSprites()
    return data.materialize()


def heldout_indices(n: int, fraction: float, seed: int) -> np.ndarray:
    """The held-out images (sorted indices): the same for every run of an eval seed."""
    k = max(1, int(round(fraction * n)))
    return np.sort(np.random.default_rng([seed, 7]).choice(n, size=k, replace=False))


def resolve_device(name: str):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda requested but CUDA is not available")
    return torch.device(name)


def _thin(curve: dict) -> dict:
    n = len(curve["step"])
    keep = np.unique(np.linspace(0, n - 1, CURVE_POINTS).round().astype(int)) if n > CURVE_POINTS \
        else np.arange(n)
    return {k: [v[i] for i in keep] for k, v in curve.items()}


def train_group(runs, *, checkpoint_dir=None, checkpoint_every: int = 200, device: str = "cpu",
                group_id: str | None = None, eval_workers: int = 1) -> list[dict]:
    """Train the runs of one ensemble and evaluate every member; one result dict per run:
    ``run_id``, ``status`` (done/failed), ``metrics``, ``curve``, ``error``, timings, device,
    versions. A member whose loss becomes non-finite is ``failed`` (the others go on); an
    exception fails every run of the group with its traceback. ``eval_workers`` processes fit
    what the members' codes give on the host (:func:`deep.metrics.summary.evaluate_vaes`)."""
    started = time.time()
    try:
        return _train_group(list(runs), checkpoint_dir, checkpoint_every, device, group_id, started,
                            eval_workers)
    except Exception as err:                             # recorded, the sweep goes on
        traceback.print_exc(limit=8)                     # the worker's log (the driver's, inline)
        return [{"run_id": r["run_id"], "status": "failed", "error": _one_line(err),
                 "failure": failure_kind(err), "started_at": started, "finished_at": time.time(),
                 "device": device, "versions": versions()} for r in runs]


def build_ensemble(runs, device):
    """The ensemble of ``runs`` (one group's run configs) on ``device``, untrained, as
    :func:`train_group` trains it; returns ``(ensemble, store, heldout)``: the dataset on the
    device (training and evaluation read it) and the held-out indices."""
    from deep.data import DeviceStore, Subset
    from deep.ensemble import Ensemble, build_members
    from deep.models import VAEConfig
    from deep.train import TrainConfig

    first = runs[0]
    dev = resolve_device(str(device))
    data = dataset(first["dataset"])
    held = heldout_indices(len(data), first["holdout"], first["eval"]["seed"])
    train_idx = np.setdiff1d(np.arange(len(data)), held)
    store = DeviceStore(data, dev)          # every image on the device: training and evaluation
    train_set = Subset(store, train_idx)
    vae_cfg = VAEConfig(first["arch"], first["latent_dim"], first["hidden"], prior=first["prior"],
                        learn_exponents=first["learn_exponents"], prior_scale=first["prior_scale"])
    members = [{k: r[k] for k in ("seed", "beta", "gamma", "alpha") if k in r} for r in runs]
    models, objectives, seeds = build_members(vae_cfg, first["model"], members,
                                              dataset_size=len(train_set), estimator=first["estimator"])
    tc = TrainConfig(first["epochs"], first["batch_size"], first["lr"], prior_lr=first["prior_lr"],
                     optimizer=first.get("optimizer", "adam"))
    return Ensemble(models, objectives, seeds, train_set, tc, dev), store, held


def _save_checkpoint(path: Path, state: dict) -> None:
    """``state`` serialised in memory, then written atomically by Python (:func:`betalab.io.atomic_path`),
    so a write that fails raises the system's own error (ENOSPC: "No space left on device")."""
    import io as _io

    import torch

    from betalab import io

    buf = _io.BytesIO()
    torch.save(state, buf)
    with io.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(buf.getbuffer())
            f.flush()
            os.fsync(f.fileno())


def _resume(ens, ckpt: Path, group_id: str, device) -> list:
    """Load the checkpoint ``ckpt`` into ``ens``; its training curves. A checkpoint that cannot
    be read or is not this ensemble's is moved into ``corrupt/`` beside it and
    :class:`CorruptCheckpoint` is raised (the retry starts from scratch)."""
    import torch

    try:
        state = torch.load(ckpt, map_location=device, weights_only=True)
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT \
                or state.get("group_id") != group_id:
            raise ValueError("not a checkpoint of this ensemble")
        ens.load_state_dict(state["ensemble"])
        return state["curves"]
    except Exception as err:                         # noqa: BLE001 - any unreadable file
        aside = ckpt.parent / "corrupt" / f"{ckpt.stem}.{time.strftime('%Y%m%dT%H%M%S')}.{os.getpid()}.pt"
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.replace(ckpt, aside)
        raise CorruptCheckpoint(f"checkpoint {ckpt.name} unreadable ({_one_line(err)}); moved to "
                                f"{aside}; the retry trains from scratch") from None


def _train_group(runs, checkpoint_dir, checkpoint_every, device, group_id, started, eval_workers=1):
    from deep.metrics.classifier_scores import HIGGINS_N_TEST, HIGGINS_N_TRAIN
    from deep.metrics.summary import evaluate_vaes

    first = runs[0]
    dev = resolve_device(device)
    ens, store, held = build_ensemble(runs, dev)
    total = ens.total_steps if first["max_steps"] is None else min(first["max_steps"], ens.total_steps)
    curves = [{"step": []} for _ in runs]
    ckpt = None if checkpoint_dir is None else Path(checkpoint_dir) / f"{group_id}.pt"
    if ckpt is not None and ckpt.exists():
        curves = _resume(ens, ckpt, group_id, dev)
    t0 = time.perf_counter()
    while ens.step < total:
        step = ens.step
        terms = ens.run_step()
        values = {k: v.tolist() for k, v in terms.items()}
        for k, c in enumerate(curves):
            if ens.stopped_at[k] is None:
                c["step"].append(step)
                for name, v in values.items():
                    c.setdefault(name, []).append(v[k])
        if ckpt is not None and ens.step % checkpoint_every == 0 and ens.step < total:
            _save_checkpoint(ckpt, {"format": CHECKPOINT_FORMAT, "group_id": group_id,
                                    "ensemble": ens.state_dict(), "curves": curves})
    train_seconds = time.perf_counter() - t0
    out, ver = [], versions()
    ok = [k for k in range(len(runs)) if ens.stopped_at[k] is None]
    e = first["eval"]                   # one family: the same evaluation settings
    t1 = time.perf_counter()
    evaluated = evaluate_vaes(
        [ens.member_model(k) for k in ok], store, held, replicas=[runs[k]["seed"] for k in ok],
        seed=e["seed"], n_train=e["n_train"], n_test=e["n_test"], batch_size=e["batch_size"],
        mig_samples=e["mig_samples"], mig_bins=e["mig_bins"], higgins=e.get("higgins", False),
        higgins_n_train=e.get("higgins_n_train", HIGGINS_N_TRAIN),
        higgins_n_test=e.get("higgins_n_test", HIGGINS_N_TEST), standard=e.get("standard", True),
        factor_response=e.get("factor_response", False), workers=eval_workers) if ok else []
    eval_seconds = (time.perf_counter() - t1) / max(len(ok), 1)      # per model, shared
    metrics_of = dict(zip(ok, evaluated))
    for k, r in enumerate(runs):
        row = {"run_id": r["run_id"], "started_at": started, "device": str(dev), "versions": ver,
               "train_seconds": train_seconds, "curve": _thin(curves[k])}
        if ens.stopped_at[k] is not None:
            row.update(status="failed", error=f"non-finite loss at step {ens.stopped_at[k]}",
                       failure=DETERMINISTIC)
        else:
            metrics = metrics_of[k]
            metrics["steps"] = int(ens.step)
            metrics["final_loss"] = curves[k]["loss"][-1] if curves[k]["step"] else None
            row.update(status="done", metrics=metrics, eval_seconds=eval_seconds)
        row["finished_at"] = time.time()
        out.append(row)
    return out
