"""What one sweep task does: train one ensemble of runs, evaluate each member, return rows.

:func:`train_group` is a plain function of the run configs (no Ray, no database): the driver
ships it to a Ray worker, the tests call it directly. It writes one file, the ensemble's
checkpoint (atomically, every ``checkpoint_every`` steps) in ``checkpoint_dir``, and resumes
from it when present, so a task killed mid-training continues where its last checkpoint was
(:meth:`deep.ensemble.Ensemble.load_state_dict` resumes exactly).
"""

from __future__ import annotations

__all__ = ["CHECKPOINT_FORMAT", "CURVE_POINTS", "versions", "dataset",
           "heldout_indices", "resolve_device", "build_ensemble", "train_group"]

import functools
import platform
import time
import traceback
from pathlib import Path

import numpy as np

CHECKPOINT_FORMAT = "betalab-sweep-ensemble-v1"
#: at most this many points of each training curve are stored (every step below that)
CURVE_POINTS = 200


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
    except Exception:                                    # recorded, the sweep goes on
        err = traceback.format_exc(limit=8)
        return [{"run_id": r["run_id"], "status": "failed", "error": err, "started_at": started,
                 "finished_at": time.time(), "device": device, "versions": versions()} for r in runs]


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


def _train_group(runs, checkpoint_dir, checkpoint_every, device, group_id, started, eval_workers=1):
    import torch

    from betalab import io
    from deep.metrics.classifier_scores import HIGGINS_N_TEST, HIGGINS_N_TRAIN
    from deep.metrics.summary import evaluate_vaes

    first = runs[0]
    dev = resolve_device(device)
    ens, store, held = build_ensemble(runs, dev)
    total = ens.total_steps if first["max_steps"] is None else min(first["max_steps"], ens.total_steps)
    curves = [{"step": []} for _ in runs]
    ckpt = None if checkpoint_dir is None else Path(checkpoint_dir) / f"{group_id}.pt"
    if ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, map_location=dev, weights_only=True)
        if state.get("format") != CHECKPOINT_FORMAT or state.get("group_id") != group_id:
            raise ValueError(f"foreign checkpoint {ckpt}")
        ens.load_state_dict(state["ensemble"])
        curves = state["curves"]
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
            with io.atomic_path(ckpt) as tmp:
                torch.save({"format": CHECKPOINT_FORMAT, "group_id": group_id,
                            "ensemble": ens.state_dict(), "curves": curves}, tmp)
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
            row.update(status="failed", error=f"non-finite loss at step {ens.stopped_at[k]}")
        else:
            metrics = metrics_of[k]
            metrics["steps"] = int(ens.step)
            metrics["final_loss"] = curves[k]["loss"][-1] if curves[k]["step"] else None
            row.update(status="done", metrics=metrics, eval_seconds=eval_seconds)
        row["finished_at"] = time.time()
        out.append(row)
    return out
