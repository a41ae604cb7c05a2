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

Along training (``[eval] along``, fractions of the steps): at each of :func:`along_steps`
every member still running is evaluated by the same :func:`deep.metrics.summary.evaluate_vaes`
call as at the end, on copies of its parameters and with the global random states restored
afterwards, so training is the same operation for operation with or without it. Its metrics
then hold ``along`` = ``{"steps": [s_1, …, s_K], <metric>: [v_1, …, v_K]}`` for every scalar
metric, the end (``steps``) the last entry. The evaluations done before a checkpoint are saved
with it (beside the curves), so a resumed task returns the ``along`` of an uninterrupted one.
"""

from __future__ import annotations

__all__ = ["CHECKPOINT_FORMAT", "CURVE_POINTS", "TRANSIENT", "DETERMINISTIC", "CorruptCheckpoint",
           "failure_kind", "versions", "dataset", "heldout_indices", "resolve_device",
           "along_steps", "build_ensemble", "train_group"]

import functools
import os
import platform
import time
import traceback
from pathlib import Path

import numpy as np

from validation import resolve_device  # the device a sweep's ``device`` setting names

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


def along_steps(fractions, total: int) -> list[int]:
    """The steps at which a run of ``total`` training steps is evaluated along training for
    ``[eval] along = fractions``: fraction f at step ⌊f·total + ½⌋ (the optimizer steps done by
    then), kept once and only in [1, total) — the end, step ``total``, is evaluated anyway. For
    [0.25, 0.5, 0.75] of 2,000 steps: [500, 1000, 1500]."""
    import math

    return sorted({s for s in (math.floor(f * total + 0.5) for f in fractions) if 1 <= s < total})


def _scalars(metrics: dict) -> dict:
    """The scalar metrics of one evaluation (numbers; not the lists, tables or flags)."""
    return {k: v for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _thin(curve: dict) -> dict:
    n = len(curve["step"])
    keep = np.unique(np.linspace(0, n - 1, CURVE_POINTS).round().astype(int)) if n > CURVE_POINTS \
        else np.arange(n)
    return {k: [v[i] for i in keep] for k, v in curve.items()}


def train_group(runs, *, checkpoint_dir=None, checkpoint_every: int = 200, device: str = "cpu",
                group_id: str | None = None, eval_workers: int = 1,
                precision: str = "auto") -> list[dict]:
    """Train the runs of one ensemble and evaluate every member; one result dict per run:
    ``run_id``, ``status`` (done/failed), ``metrics``, ``curve``, ``error``, timings, device,
    versions. A member whose loss becomes non-finite is ``failed`` (the others go on); an
    exception fails every run of the group with its traceback. ``eval_workers`` processes fit
    what the members' codes give on the host (:func:`deep.metrics.summary.evaluate_vaes`).
    ``train_seconds`` is the training alone; ``eval_seconds``, per model, every evaluation of
    this call (along training, ``[eval] along``, and at the end). ``precision``: the steps'
    arithmetic (:mod:`deep.precision`), recorded in each run's ``versions``."""
    started = time.time()
    try:
        return _train_group(list(runs), checkpoint_dir, checkpoint_every, device, group_id, started,
                            eval_workers, precision)
    except Exception as err:                             # recorded, the sweep goes on
        traceback.print_exc(limit=8)                     # the worker's log (the driver's, inline)
        return [{"run_id": r["run_id"], "status": "failed", "error": _one_line(err),
                 "failure": failure_kind(err), "started_at": started, "finished_at": time.time(),
                 "device": device, "versions": versions()} for r in runs]


#: how a group's members are trained: "batched" (deep.ensemble.Ensemble, one vmapped
#: computation) or "sequential" (deep.ensemble.SequentialMembers, one Trainer after another);
#: "auto" is sequential on a CPU and batched elsewhere. Measured on a shared 2-core CPU, one
#: thread, 2 members, batch 64, interleaved rounds: sequential 1.97x faster at the Table-1 MLP
#: (hidden 1200), 1.32x at hidden 256, 0.95x at the tiny spec's hidden 32 (batched products and
#: stacked element-wise work run slower than the same work unbatched there); on a GPU the
#: batched ensemble is 6x faster (H200, 10 members, batch 64).
ENGINES = ("auto", "batched", "sequential")


def group_engine(device, engine: str = "auto", precision: str = "auto") -> str:
    """The engine a group on ``device`` trains with (:data:`ENGINES`); ``bf16`` is always
    sequential (autocast does not reach inside the batched ensemble's vmap)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine != "auto":
        return engine
    if precision == "bf16":
        return "sequential"
    return "sequential" if resolve_device(str(device)).type == "cpu" else "batched"


def build_ensemble(runs, device, engine: str = "auto", precision: str = "auto"):
    """The ensemble of ``runs`` (one group's run configs) on ``device``, untrained, as
    :func:`train_group` trains it (:func:`group_engine`); returns ``(ensemble, store,
    heldout)``: the dataset on the device (training and evaluation read it) and the held-out
    indices."""
    from deep.data import DeviceStore, Subset
    from deep.ensemble import Ensemble, SequentialMembers, build_members
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
                                              dataset_size=len(train_set), estimator=first["estimator"],
                                              disc_hidden=first.get("disc_hidden", 1000))
    tc = TrainConfig(first["epochs"], first["batch_size"], first["lr"], prior_lr=first["prior_lr"],
                     optimizer=first.get("optimizer", "adam"))
    cls = SequentialMembers if group_engine(dev, engine, precision) == "sequential" else Ensemble
    return cls(models, objectives, seeds, train_set, tc, dev, precision), store, held


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


def _resume(ens, ckpt: Path, group_id: str, device, planned=()) -> tuple[list, list]:
    """Load the checkpoint ``ckpt`` into ``ens``; its training curves and the members'
    evaluations along training. A checkpoint that cannot be read, is not this ensemble's, or
    lacks an evaluation of ``planned`` (the along steps) it has passed, is moved into
    ``corrupt/`` beside it and :class:`CorruptCheckpoint` is raised (the retry starts from
    scratch)."""
    import torch

    try:
        state = torch.load(ckpt, map_location=device, weights_only=True)
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT \
                or state.get("group_id") != group_id:
            raise ValueError("not a checkpoint of this ensemble")
        ens.load_state_dict(state["ensemble"])
        along = state.get("along") or [{} for _ in state["curves"]]
        done = [s for s in planned if s <= ens.step]
        for k, rec in enumerate(along):
            if ens.stopped_at[k] is None and rec.get("steps", []) != done:
                raise ValueError(f"member {k} has evaluations along training at steps "
                                 f"{rec.get('steps', [])}, not {done}")
        return state["curves"], along
    except Exception as err:                         # noqa: BLE001 - any unreadable file
        aside = ckpt.parent / "corrupt" / f"{ckpt.stem}.{time.strftime('%Y%m%dT%H%M%S')}.{os.getpid()}.pt"
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.replace(ckpt, aside)
        raise CorruptCheckpoint(f"checkpoint {ckpt.name} unreadable ({_one_line(err)}); moved to "
                                f"{aside}; the retry trains from scratch") from None


def _evaluate(ens, runs, members, store, held, eval_workers) -> list[dict]:
    """The metrics of ``members`` (indices into ``runs``) in their present state: one
    :func:`deep.metrics.summary.evaluate_vaes` call with the runs' ``[eval]`` settings (one
    family, the same settings), on copies of the members' parameters."""
    from deep.metrics.classifier_scores import HIGGINS_N_TEST, HIGGINS_N_TRAIN
    from deep.metrics.summary import evaluate_vaes

    if not members:
        return []
    e = runs[0]["eval"]
    return evaluate_vaes(
        [ens.member_model(k) for k in members], store, held,
        replicas=[runs[k]["seed"] for k in members],
        seed=e["seed"], n_train=e["n_train"], n_test=e["n_test"], batch_size=e["batch_size"],
        mig_samples=e["mig_samples"], mig_bins=e["mig_bins"], higgins=e.get("higgins", False),
        higgins_n_train=e.get("higgins_n_train", HIGGINS_N_TRAIN),
        higgins_n_test=e.get("higgins_n_test", HIGGINS_N_TEST), standard=e.get("standard", True),
        factor_response=e.get("factor_response", False), workers=eval_workers)


def _evaluate_along(ens, runs, store, held, eval_workers, along: list) -> None:
    """Evaluate the running members now (step ``ens.step``) and append each one's scalar
    metrics to its record in ``along``. The global random states (torch's, on the CPU and the
    ensemble's GPU, and numpy's) are restored afterwards: training draws its noise from its own
    generators (:func:`deep.train.step_generator`), and this keeps it so whatever the metrics
    draw."""
    import torch

    dev = ens.device
    members = [k for k in range(len(runs)) if ens.stopped_at[k] is None]
    np_state = np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
            evaluated = _evaluate(ens, runs, members, store, held, eval_workers)
    finally:
        np.random.set_state(np_state)
    for k, metrics in zip(members, evaluated):
        rec, values = along[k], _scalars(metrics)
        if rec.get("steps") and set(rec) - {"steps"} != set(values):
            raise RuntimeError(f"along training: member {k}'s metrics changed between evaluations "
                               f"({sorted(set(rec) - {'steps'})} then {sorted(values)})")
        rec.setdefault("steps", []).append(int(ens.step))
        for name, v in values.items():
            rec.setdefault(name, []).append(v)


def _train_group(runs, checkpoint_dir, checkpoint_every, device, group_id, started, eval_workers=1,
                 precision="auto"):
    first = runs[0]
    dev = resolve_device(device)
    ens, store, held = build_ensemble(runs, dev, precision=precision)
    total = ens.total_steps if first["max_steps"] is None else min(first["max_steps"], ens.total_steps)
    e = first["eval"]                   # one family: the same evaluation settings
    planned = along_steps(e.get("along", []), total)
    curves, along = [{"step": []} for _ in runs], [{} for _ in runs]
    ckpt = None if checkpoint_dir is None else Path(checkpoint_dir) / f"{group_id}.pt"
    if ckpt is not None and ckpt.exists():
        curves, along = _resume(ens, ckpt, group_id, dev, planned)
    t0, along_seconds = time.perf_counter(), 0.0
    while ens.step < total:
        step = ens.step
        terms = ens.run_step()
        values = {k: v.tolist() for k, v in terms.items()}
        for k, c in enumerate(curves):
            if ens.stopped_at[k] is None:
                c["step"].append(step)
                for name, v in values.items():
                    c.setdefault(name, []).append(v[k])
        if ens.step in planned:        # before the checkpoint of the same step, saved with it
            t = time.perf_counter()
            _evaluate_along(ens, runs, store, held, eval_workers, along)
            along_seconds += time.perf_counter() - t
        if ckpt is not None and ens.step % checkpoint_every == 0 and ens.step < total:
            _save_checkpoint(ckpt, {"format": CHECKPOINT_FORMAT, "group_id": group_id,
                                    "ensemble": ens.state_dict(), "curves": curves,
                                    "along": along})
    train_seconds = time.perf_counter() - t0 - along_seconds
    out, ver = [], {**versions(), "group engine": group_engine(dev, precision=ens.precision),
                    "precision": ens.precision}
    ok = [k for k in range(len(runs)) if ens.stopped_at[k] is None]
    t1 = time.perf_counter()
    evaluated = _evaluate(ens, runs, ok, store, held, eval_workers)
    # per model, shared; every evaluation of this process (along training and at the end)
    eval_seconds = (time.perf_counter() - t1 + along_seconds) / max(len(ok), 1)
    metrics_of = dict(zip(ok, evaluated))
    end_of = {k: _scalars(m) for k, m in metrics_of.items()}       # before steps, final_loss
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
            if "along" in e:             # the evaluations along training, then the end
                before = along[k].get("steps", [])
                metrics["along"] = {"steps": before + [int(ens.step)]}
                metrics["along"].update({name: along[k].get(name, []) + [v]
                                         for name, v in end_of[k].items()})
                if before and set(along[k]) - {"steps"} != set(end_of[k]):
                    raise RuntimeError("along training: the end's metrics differ from those "
                                       f"along training for run {r['run_id']}")
            row.update(status="done", metrics=metrics, eval_seconds=eval_seconds)
        row["finished_at"] = time.time()
        out.append(row)
    return out
