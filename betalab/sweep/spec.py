"""A sweep spec (TOML) → a flat list of run configs with stable ids, grouped into ensembles.

A spec has the sections below; every key is optional except ``grid.model``. Scalars in
``[data]``, ``[model]``, ``[train]`` and ``[eval]`` apply to every run; ``[grid]`` lists the
values to cross (a scalar there is a one-value list), and may also vary any key of
``[data]``, ``[model]`` or ``[train]``::

    [sweep]   name, ensemble (members per batched ensemble), device (auto|cpu|cuda),
              gpus_per_task (fraction of a GPU per ensemble), checkpoint_every (steps)
    [data]    dataset (dsprites|dsprites-reduced), holdout (fraction of images kept out of
              training for the held-out terms)
    [model]   arch, latent_dim, hidden, prior, learn_exponents, prior_scale, disc_hidden (the
              FactorVAE discriminator's width; default App. A.4's 1000, factor-vae only)
    [train]   epochs, batch_size, lr, prior_lr, max_steps, estimator, optimizer (adam|adagrad)
    [eval]    seed, n_train, n_test, batch_size, mig_samples, mig_bins, higgins (bool: also
              Higgins et al. 2017's metric as published, :func:`deep.metrics.summary.evaluate_vae`),
              higgins_n_train, higgins_n_test (its training / test points; default 5,000 each,
              the study higgins-fig5-table's protocol — smaller only for tests), standard
              (bool, default true: the MIGs, β-VAE and FactorVAE scores and active units;
              false leaves them out, e.g. for a sweep that needs only Higgins et al.'s metric),
              factor_response (bool, default false: also each latent's mutual information with
              each factor and its mean response to orientation per shape, Higgins Fig. 6),
              along (increasing fractions of the training steps in (0, 1), default none: each
              member is also evaluated there, as at the end; its metrics' ``along`` holds every
              scalar metric at those steps and the end, :func:`betalab.sweep.work.along_steps`)
    [grid]    model, beta, beta_norm, gamma, alpha, seed (+ any data/model/train key); beta is γ
              for factor-vae (as ``betalab train --beta``), gamma and alpha are the β-TCVAE's;
              beta_norm instead of beta: β = β_norm · N / M (Higgins et al. 2017, sec. 4.2 and
              App. A.5: β_norm = βM/N, M the latent size, N = 4096 the pixels of an image)

A run config is a flat dict of every setting that determines the run's result; its id is the
first 16 hex digits of the SHA-256 of its canonical JSON (disentanglement_lib's pattern: a run
is a pure function of its config). Runs that differ only in ``seed``, ``beta``, ``gamma``,
``alpha`` form a family; a family is cut, in grid order, into ensembles of ``sweep.ensemble``
members (:mod:`deep.ensemble`), so the grouping — and every result — is a function of the spec.

Keys added after the first specs (``train.optimizer``, ``model.disc_hidden``, the ``eval.higgins*``
keys, ``eval.standard``, ``eval.factor_response`` and ``eval.along``) enter a run's config
only when set away from their default, so the runs of an earlier spec keep their ids (and their
databases stay valid).

Anything unknown or mistyped raises ValueError naming the key, before anything runs; so does a
spec too large to run (:data:`MAX_RUNS` runs, unless the caller states the count with
``max_runs``: ``betalab sweep run --max-runs N``), a value out of its range (:data:`RANGES`: a
seed of 2**63 or more, a layer wider than 65,536 units) and an evaluation whose pair arrays
cannot fit in this machine's memory (:func:`eval_memory_bytes`) — each checked before the grid
is expanded.
"""

from __future__ import annotations

__all__ = ["DATASETS", "DEVICES", "MEMBER_KEYS", "INPUT_SIZE", "MAX_RUNS", "RANGES",
           "eval_memory_bytes", "memory_bytes", "digest", "Group", "Sweep", "parse_spec",
           "family_key", "load_spec"]

import hashlib
import itertools
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DATASETS = ("dsprites", "dsprites-reduced")
DEVICES = ("auto", "cpu", "cuda")
#: the weights and the seed that may differ inside one ensemble
MEMBER_KEYS = ("seed", "beta", "gamma", "alpha")
#: N of Higgins et al. 2017's β_norm = βM/N (App. A.5): the pixels of a 64 × 64 dSprites image
INPUT_SIZE = 64 * 64
#: the most runs one spec may expand to unless the caller states the count (``max_runs``); the
#: largest spec of this repository has 280, disentanglement_lib's study about 12,800
MAX_RUNS = 10_000
#: inclusive bounds of integer keys, wherever they are set ([model], [eval] or [grid]): seeds
#: are 63-bit (torch.Generator.manual_seed, numpy's SeedSequence take them), widths at most
#: 65,536 units (a 65,536-wide MLP layer on a 4,096-pixel image is already 1 GiB of weights)
RANGES = {"seed": (0, 2**63 - 1), "hidden": (1, 65_536), "latent_dim": (1, 65_536),
          "disc_hidden": (1, 65_536)}
#: bytes per pair index of the β-VAE metric's pair arrays (rows a, b, the uniforms that draw b
#: and their temporaries, :func:`deep.metrics.classifier_scores.beta_vae_pairs`): 33 measured
#: with tracemalloc (n_points 20,000 → 40,000 at L = 64 added 42 MB), rounded up
_BYTES_PER_PAIR = 40

# key -> (type, default); "num" = int or float, finite
_SCHEMA = {
    "sweep": {"name": (str, "sweep"), "ensemble": (int, 4), "device": (str, "cpu"),
              "gpus_per_task": ("num", 0.25), "checkpoint_every": (int, 200),
              "precision": (str, "auto")},
    "data": {"dataset": (str, "dsprites-reduced"), "holdout": ("num", 0.1)},
    "model": {"arch": (str, "mlp"), "latent_dim": (int, None), "hidden": (int, 1200),
              "prior": (str, None), "learn_exponents": (bool, False), "prior_scale": ("num", None),
              "disc_hidden": (int, 1000)},
    "train": {"epochs": (int, 1), "batch_size": (int, 64), "lr": ("num", 1e-3),
              "prior_lr": ("num", None), "max_steps": (int, None), "estimator": (str, "mss"),
              "optimizer": (str, "adam")},
    "eval": {"seed": (int, 0), "n_train": (int, 5000), "n_test": (int, 2500),
             "batch_size": (int, 64), "mig_samples": (int, 10000), "mig_bins": (int, 20),
             "higgins": (bool, False), "higgins_n_train": (int, 5000), "higgins_n_test": (int, 5000),
             "standard": (bool, True), "factor_response": (bool, False), "along": ("fractions", [])},
    "grid": {"model": (str, None), "beta": ("num", 1.0), "beta_norm": ("num", None),
             "gamma": ("num", None), "alpha": ("num", None), "seed": (int, 0)},
}
#: keys that enter a run's config only when set away from their default (see the docstring)
_LATER = {("train", "optimizer"): "adam", ("model", "disc_hidden"): 1000, ("eval", "higgins"): False,
          ("eval", "higgins_n_train"): 5000, ("eval", "higgins_n_test"): 5000,
          ("eval", "standard"): True, ("eval", "factor_response"): False, ("eval", "along"): []}
_RUN_SECTIONS = ("data", "model", "train")


def memory_bytes() -> int | None:
    """This machine's physical memory in bytes (None where the system does not say)."""
    import os

    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def eval_memory_bytes(n_points: int, pairs: int, latent_dim: int) -> int:
    """Estimated peak bytes of one classifier score's points (Higgins et al. 2017, eq. 5):
    ``n_points`` z_diff points of ``pairs`` pairs each — the pair arrays
    (:data:`_BYTES_PER_PAIR` per pair) and the (n_points, latent_dim) float64 z_diff."""
    return n_points * (pairs * _BYTES_PER_PAIR + 8 * latent_dim)


def _check_range(key: str, value):
    name = key.rsplit(".", 1)[-1]
    if name in RANGES and value is not None:
        low, high = RANGES[name]
        if not low <= value <= high:
            raise ValueError(f"spec key {key!r}: must be in [{low}, {high:,}], got {value!r}")
    return value


def _check_fractions(key: str, value) -> list:
    """``value`` as a list of floats, each in (0, 1), strictly increasing (training fractions)."""
    ok = isinstance(value, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1 for v in value)
    if not ok or any(b <= a for a, b in zip(value, value[1:])):
        raise ValueError(f"spec key {key!r}: must be a list of increasing fractions of the training "
                         f"steps in (0, 1), e.g. [0.25, 0.5, 0.75] (the end is always evaluated), "
                         f"got {value!r}")
    return [float(v) for v in value]


def _check_type(key: str, value, kind):
    if kind == "fractions":
        return _check_fractions(key, value)
    if kind == "num":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        what = "a finite number"
    elif kind is int:
        ok, what = isinstance(value, int) and not isinstance(value, bool), "an integer"
    else:
        ok, what = isinstance(value, kind), kind.__name__
    if not ok:
        raise ValueError(f"spec key {key!r}: must be {what}, got {value!r}")
    return float(value) if kind == "num" else _check_range(key, value)


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def digest(obj) -> str:
    """First 16 hex digits of the SHA-256 of ``obj``'s canonical JSON."""
    return hashlib.sha256(_canonical(obj).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Group:
    """Runs trained together as one ensemble."""

    group_id: str
    runs: tuple          # run configs (dicts with "run_id")


@dataclass
class Sweep:
    """A validated spec: settings, the run configs in grid order, and their ensembles."""

    name: str
    settings: dict                 # the [sweep] section
    runs: list = field(default_factory=list)
    groups: list = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        """Identity of the set of runs (what a results database belongs to)."""
        return digest(sorted(r["run_id"] for r in self.runs))


def parse_spec(text: str, max_runs: int = MAX_RUNS) -> Sweep:
    """Validate a TOML spec and expand it into runs and ensembles; a spec of more than
    ``max_runs`` runs (default :data:`MAX_RUNS`) is refused before it is expanded."""
    if not isinstance(max_runs, int) or isinstance(max_runs, bool) or max_runs < 1:
        raise ValueError(f"max_runs must be a positive int, got {max_runs!r}")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"spec: not valid TOML: {err}") from None
    for section in raw:
        if section not in _SCHEMA:
            raise ValueError(f"spec key {section!r}: unknown section; known: {', '.join(_SCHEMA)}")
        if not isinstance(raw[section], dict):
            raise ValueError(f"spec key {section!r}: must be a table [{section}]")
    fixed = {}
    for section, schema in _SCHEMA.items():
        if section == "grid":
            continue
        given = raw.get(section, {})
        vals = {}
        for key, (kind, default) in schema.items():
            vals[key] = _check_type(f"{section}.{key}", given[key], kind) if key in given else default
        for key in given:
            if key not in schema:
                raise ValueError(f"spec key '{section}.{key}': unknown; known: {', '.join(schema)}")
        fixed[section] = vals
    st = fixed["sweep"]
    if st["ensemble"] < 1:
        raise ValueError(f"spec key 'sweep.ensemble': must be >= 1, got {st['ensemble']}")
    if st["device"] not in DEVICES:
        raise ValueError(f"spec key 'sweep.device': must be one of {DEVICES}, got {st['device']!r}")
    from deep.precision import PRECISIONS

    if st["precision"] not in PRECISIONS + ("auto",):
        raise ValueError(f"spec key 'sweep.precision': must be one of {PRECISIONS + ('auto',)}, "
                         f"got {st['precision']!r}")
    if st["precision"] == "tf32" and st["device"] == "cpu":
        raise ValueError("spec key 'sweep.precision': tf32 is a CUDA mode; sweep.device is cpu")
    if not 0 < st["gpus_per_task"] <= 1:
        raise ValueError(f"spec key 'sweep.gpus_per_task': must be in (0, 1], got {st['gpus_per_task']}")
    if st["checkpoint_every"] < 1:
        raise ValueError("spec key 'sweep.checkpoint_every': must be >= 1")
    if fixed["data"]["dataset"] not in DATASETS:
        raise ValueError(f"spec key 'data.dataset': unknown dataset {fixed['data']['dataset']!r}; "
                         f"known: {', '.join(DATASETS)}")
    if not 0 < fixed["data"]["holdout"] < 1:
        raise ValueError(f"spec key 'data.holdout': must be in (0, 1), got {fixed['data']['holdout']}")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", st["name"]):
        raise ValueError(f"spec key 'sweep.name': letters, digits, '.', '_', '-' only (it names "
                         f"the default database), got {st['name']!r}")
    # at least 2: a histogram needs two bins, a FactorVAE vote a variance
    least = {"seed": 0, "mig_bins": 2, "batch_size": 2}
    for key, v in fixed["eval"].items():
        if key not in ("higgins", "standard", "factor_response", "along") and v < least.get(key, 1):
            raise ValueError(f"spec key 'eval.{key}': must be >= {least.get(key, 1)}, got {v}")

    # the grid: its own keys and any data/model/train key
    grid_schema = dict(_SCHEMA["grid"])
    for section in _RUN_SECTIONS:
        grid_schema.update({k: (kind, None) for k, (kind, _) in _SCHEMA[section].items()})
    grid = raw.get("grid", {})
    for key, value in grid.items():
        if key not in grid_schema:
            raise ValueError(f"spec key 'grid.{key}': unknown; known: {', '.join(grid_schema)}")
        if value == []:
            raise ValueError(f"spec key 'grid.{key}': empty list")
    sizes = {k: len(v) if isinstance(v, list) else 1 for k, v in grid.items()}
    n_runs = math.prod(sizes.values())              # before a value is checked or a run made
    if n_runs > max_runs:
        crossed = " × ".join(f"{k} {n:,}" for k, n in sizes.items() if n > 1)
        raise ValueError(f"spec key 'grid': {crossed} = {n_runs:,} runs, more than "
                         f"{max_runs:,} per spec; to run them, state the count: --max-runs {n_runs}")
    axes = {}
    for key, value in grid.items():
        values = value if isinstance(value, list) else [value]
        axes[key] = [_check_type(f"grid.{key}", v, grid_schema[key][0]) for v in values]
        if len(set(map(_canonical, axes[key]))) != len(axes[key]):
            raise ValueError(f"spec key 'grid.{key}': repeated value")
    if "model" not in axes:
        raise ValueError("spec key 'grid.model': required (e.g. model = [\"beta-vae\"])")
    from deep.train import OPTIMIZERS

    for where, values in (("train.optimizer", [fixed["train"]["optimizer"]]),
                          ("grid.optimizer", axes.get("optimizer", []))):
        for v in values:
            if v not in OPTIMIZERS:
                raise ValueError(f"spec key {where!r}: must be one of {OPTIMIZERS}, got {v!r}")
    if "beta_norm" in axes:
        if "beta" in axes:
            raise ValueError("spec key 'grid.beta_norm': also grid.beta; give β or β_norm")
        if any(v <= 0 for v in axes["beta_norm"]):
            raise ValueError(f"spec key 'grid.beta_norm': must be > 0, got {axes['beta_norm']}")
        if fixed["model"]["latent_dim"] is None and "latent_dim" not in axes:
            raise ValueError("spec key 'grid.beta_norm': needs the latent size M (model.latent_dim "
                             "or grid.latent_dim) for β = β_norm · N / M")
    for key in axes:
        for section in _RUN_SECTIONS:
            if key in raw.get(section, {}):
                raise ValueError(f"spec key 'grid.{key}': also set in [{section}]; set it in one place")

    _check_eval_memory(fixed, axes)
    runs = []
    for combo in itertools.product(*axes.values()):
        runs.append(_run_config(dict(zip(axes, combo)), fixed))
    ids = [r["run_id"] for r in runs]
    if len(set(ids)) != len(ids):
        raise ValueError("spec: two grid points give the same run (a grid key without effect)")
    return Sweep(st["name"], st, runs, _groups(runs, st["ensemble"]))


def _check_eval_memory(fixed: dict, axes: dict) -> None:
    """ValueError naming the [eval] key whose classifier points cannot fit in this machine's
    memory (:func:`eval_memory_bytes`, the largest latent size of the grid)."""
    from deep.metrics.classifier_scores import HIGGINS_L

    available = memory_bytes()
    if available is None:
        return
    e = fixed["eval"]
    latent = max([v for v in axes.get("latent_dim", [fixed["model"]["latent_dim"]]) if v] or [10])
    scores = []
    if e["standard"]:            # the β-VAE score's training and test points (L = eval.batch_size)
        scores.append(("n_train", "n_test", e["batch_size"], "eval.batch_size"))
    if e["higgins"]:             # Higgins et al.'s own protocol (L = 64)
        scores.append(("higgins_n_train", "higgins_n_test", HIGGINS_L, "L"))
    for train, test, pairs, what in scores:
        need = eval_memory_bytes(e[train] + e[test], pairs, latent)
        if need > available:
            key = train if e[train] >= e[test] else test
            raise ValueError(
                f"spec key 'eval.{key}': {e[train]:,} + {e[test]:,} points of {pairs} pairs "
                f"({what}) need about {need / 2**30:,.1f} GiB, more than this machine's "
                f"{available / 2**30:,.1f} GiB of memory")


def _run_config(point: dict, fixed: dict) -> dict:
    from betalab.train import RunConfig
    from deep.ensemble import SUPPORTED

    s = {k: v for section in _RUN_SECTIONS for k, v in fixed[section].items()}
    s.update({"beta": 1.0, "seed": 0, "gamma": None, "alpha": None})
    s.update(point)
    if "beta_norm" in s:               # Higgins et al. 2017, App. A.5: β_norm = βM/N
        s["beta"] = s.pop("beta_norm") * INPUT_SIZE / s["latent_dim"]
    model = s["model"]
    if model not in SUPPORTED:
        from deep.models import OBJECTIVES

        known = "unknown" if model not in OBJECTIVES else "not trained by sweeps (ensembles)"
        raise ValueError(f"spec key 'grid.model': {model!r} is {known}; sweeps train "
                         f"{', '.join(SUPPORTED)}")
    for w in ("gamma", "alpha"):
        if s.get(w) is not None and model not in ("beta-tcvae", "isa-tcvae"):
            raise ValueError(f"spec key 'grid.{w}': applies to beta-tcvae and isa-tcvae, not {model!r}")
        if s.get(w) is None and model in ("beta-tcvae", "isa-tcvae"):
            s[w] = 1.0
    try:
        rc = RunConfig(model=model, dataset=s["dataset"], beta=s["beta"], epochs=s["epochs"],
                       batch_size=s["batch_size"], lr=s["lr"], seed=s["seed"], arch=s["arch"],
                       latent_dim=s["latent_dim"], hidden=s["hidden"], estimator=s["estimator"],
                       max_steps=s["max_steps"], prior=s["prior"],
                       learn_exponents=s["learn_exponents"], prior_scale=s["prior_scale"],
                       prior_lr=s["prior_lr"], optimizer=s["optimizer"])
        from deep.models.objectives import _check_weight

        for w in ("gamma", "alpha"):
            if s[w] is not None:
                _check_weight(w, s[w])
    except (TypeError, ValueError) as err:
        raise ValueError(f"spec: run {point}: {err}") from None
    cfg = {"model": model, "dataset": rc.dataset, "holdout": s["holdout"], "arch": rc.arch,
           "latent_dim": rc.latent_dim, "hidden": rc.hidden, "prior": rc.prior,
           "learn_exponents": rc.learn_exponents, "prior_scale": rc.prior_scale,
           "epochs": rc.epochs, "batch_size": rc.batch_size, "lr": float(rc.lr),
           "prior_lr": rc.prior_lr, "max_steps": rc.max_steps, "estimator": rc.estimator,
           "beta": float(rc.beta), "seed": rc.seed,
           "eval": {k: list(v) if isinstance(v, list) else v for k, v in fixed["eval"].items()}}
    if rc.optimizer != _LATER[("train", "optimizer")]:
        cfg["optimizer"] = rc.optimizer
    if s["disc_hidden"] != _LATER[("model", "disc_hidden")]:
        if model != "factor-vae":
            raise ValueError(f"spec key 'model.disc_hidden': the FactorVAE discriminator's width "
                             f"applies to factor-vae, not {model!r}")
        cfg["disc_hidden"] = s["disc_hidden"]
    for (section, key), default in _LATER.items():
        v = cfg["eval"].get(key) if section == "eval" else None
        if section == "eval" and type(v) is type(default) and v == default:
            del cfg["eval"][key]
    for w in ("gamma", "alpha"):
        if s[w] is not None:
            cfg[w] = float(s[w])
    cfg["run_id"] = digest(cfg)
    return cfg


def family_key(run: dict) -> str:
    """What the runs of one ensemble share: everything but the member keys and the id."""
    return digest({k: v for k, v in run.items() if k not in MEMBER_KEYS + ("run_id",)})


def _groups(runs: list, size: int) -> list:
    families: dict[str, list] = {}
    for r in runs:
        families.setdefault(family_key(r), []).append(r)
    groups = []
    for members in families.values():
        for i in range(0, len(members), size):
            chunk = tuple(members[i:i + size])
            groups.append(Group(digest([r["run_id"] for r in chunk]), chunk))
    return groups


def load_spec(path, max_runs: int = MAX_RUNS) -> Sweep:
    """Read and validate the spec file at ``path`` (``max_runs`` as :func:`parse_spec`)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"spec: no such file {path}")
    return parse_spec(path.read_text(encoding="utf-8"), max_runs=max_runs)
