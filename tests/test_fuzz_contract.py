"""Property-based fuzzing of the public math API (issue 18): one bad argument at a time.

Contract, for every callable in :data:`CASES` and every argument listed for it: replacing that
argument by a value drawn from the strategies below (wrong shape, NaN/inf, complex, bool, wrong
type, out-of-range scalar) either

* raises ValueError or TypeError whose message contains the argument's name, or
* returns a result whose every number is finite (−inf allowed where the case is a log-density).

Anything else — NaN, another exception type, an error naming another argument — is a failure.
The oracle is the contract itself plus the unmodified call: each case's valid arguments must
give a finite result (checked first), so a failure is caused by the one argument changed.

Hypothesis runs derandomised (the "ci" profile of tests/conftest.py): the same examples on
every run, small ``max_examples`` so that the whole file stays within a few seconds per family.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import pkgutil
from typing import Callable

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import linear_models.factor_analysis as fa
import linear_models.ica as ica
import linear_models.linear_vae as lvae
import linear_models.uniqueness as lu
import theory.implicit_regularization as ir
import theory.linear_vae as tlv
from deep import priors as dp
from deep import regularizers as reg
from deep.data import ground_truth as gt
from deep.data import dsprites
from deep.metrics import classifier_scores as cs
from deep.metrics import (beta_vae_score, discrete_entropy, discrete_mutual_info, factor_vae_score,
                          mig, mig_histogram)
from deep.metrics.sampled_mig import log_mixture_density
from deep.models import distributions as dist
from deep.models import objectives as obj
from theory import lp_nested as lp

F64 = torch.float64


# ----------------------------------------------------------------------------- bad values

def _bad_arrays(valid):
    """Arrays wrong in one respect: shape, a NaN/inf entry, complex, bool, strings, None."""
    v = np.asarray(valid, dtype=float)
    out = [None, "abc", [[1.0], [1.0, 2.0]], np.zeros((0,) + v.shape[1:]),
           v.astype(complex) + 1j, np.ones(v.shape, bool), v[..., None], np.float64(1.0)]
    if v.ndim >= 1:
        out += [v.reshape(-1)[:-1] if v.size > 1 else np.zeros(3), v[0]]
    if v.size:
        for bad in (np.nan, np.inf, -np.inf, 1e308, -1e308):
            w = v.copy()
            w.flat[0] = bad
            out.append(w)
    return out


def _bad_tensors(valid):
    t = valid.detach()
    out = [t.numpy(), t.to(torch.complex128), t.to(torch.int64), t.to(torch.bool), t[..., None],
           t.reshape(-1), torch.zeros((0,) + tuple(t.shape[1:]), dtype=t.dtype), None, 1.0]
    if t.numel():
        for bad in (math.nan, math.inf, -math.inf):
            w = t.clone()
            w.view(-1)[0] = bad
            out.append(w)
    return out


BAD_SCALARS = [math.nan, math.inf, -math.inf, 0.0, -1.0, -1e-300, 1e308, 1e-320, 5e-324,
               1 + 1j, True, "1.0", None, [1.0], np.array([1.0, 2.0])]
BAD_INTS = [-1, 0, 2.5, True, "3", None, math.nan, np.int64(-7)]
BAD_CHOICES = ["bogus", "", None, 0, 1.5, ("a",)]
#: wrong objects where a structured argument (a model, a dataset, a sympy matrix, a dict) is expected
BAD_OBJECTS = [None, "bogus", 0, 1.5, ("a",), {}, object()]


def _bad_values(kind, valid):
    if kind == "array":
        return _bad_arrays(valid)
    if kind == "tensor":
        return _bad_tensors(valid)
    if kind == "scalar":
        return BAD_SCALARS
    if kind == "int":
        return BAD_INTS
    if kind == "choice":
        return BAD_CHOICES
    if kind == "rng":
        return [None, 3, "rng", np.random.RandomState(0), torch.Generator()]
    if kind == "generator":
        return [3, "gen", np.random.default_rng(0)]
    if kind == "object":
        return BAD_OBJECTS
    if kind == "tree":
        return [None, (2.0, []), (-1.0, [None]), (math.nan, [None, None]), (2.0, [None, (0.0, [None])]),
                [2.0, [None]], (2.0, None), "tree", (2.0 + 1j, [None, None])]
    raise AssertionError(kind)


# ----------------------------------------------------------------------------- the contract

def _numbers(x, seen=0):
    """Every float in a result (numbers, arrays, tensors, containers, dataclasses)."""
    if seen > 6:
        return
    if isinstance(x, torch.Tensor):
        if x.dtype.is_floating_point or x.dtype.is_complex:
            yield x.detach().cpu().double().numpy().ravel()
    elif isinstance(x, np.ndarray):
        if x.dtype.kind in "fc":
            yield x.ravel()
    elif isinstance(x, (float, np.floating)):
        yield np.array([x])
    elif isinstance(x, dict):
        for v in x.values():
            yield from _numbers(v, seen + 1)
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _numbers(v, seen + 1)
    elif dataclasses.is_dataclass(x):
        for f in dataclasses.fields(x):
            yield from _numbers(getattr(x, f.name), seen + 1)
    elif isinstance(x, torch.distributions.Distribution):
        return


#: arguments whose user-facing name differs from the Python one (the message uses the former)
ALIASES = {"spec": "prior"}


def assert_contract(fn, kwargs, name, log_density=False):
    try:
        out = fn(**kwargs)
    except (ValueError, TypeError) as err:
        shown = ALIASES.get(name, name)
        assert shown in str(err), f"{type(err).__name__} does not name {shown!r}: {err}"
        return
    for arr in _numbers(out):
        assert not np.any(np.isnan(arr)), f"NaN result with bad {name}"
        bad = ~np.isfinite(arr)
        if log_density:
            bad &= ~(np.isneginf(arr))
        assert not np.any(bad), f"non-finite result with bad {name}"


@dataclasses.dataclass
class Case:
    name: str
    fn: Callable
    valid: Callable[[], dict]          # fresh valid keyword arguments
    kinds: dict                        # argument name -> kind of bad values
    log_density: bool = False
    target: object = None              # the public callable exercised, when ``fn`` wraps it

    @property
    def exercised(self):
        return self.fn if self.target is None else self.target

    def __str__(self):
        return self.name


def _rng():
    return np.random.default_rng(0)


def _gen():
    return torch.Generator().manual_seed(0)


X2 = np.random.default_rng(1).normal(size=(6, 2))
W2 = np.array([[1.0, 0.3], [0.2, 0.8]])
W3 = np.array([[1.0, 0.5, 0.2], [0.1, 0.8, -0.4]])
PSI = np.array([0.5, 0.4])
ISA = lp.isa_tree(2.1, [(2.2, 2), (1.5, 3)])
Z5 = np.random.default_rng(2).normal(size=(4, 5))
J = np.random.default_rng(3).normal(size=(3, 4, 2))
GRID = gt.full_grid((2, 3, 4))
CODES = GRID.astype(float) + np.random.default_rng(4).normal(size=GRID.shape) * 0.1
SIGMA_X = tlv.data_covariance(np.array([[1.0, 0.0], [0.5, 1.0], [0.0, 0.3]]))


def _decoder():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3)).double()


def _vae():
    from deep.models import VAEConfig, build_vae

    torch.manual_seed(0)
    return build_vae(VAEConfig(latent_dim=2, hidden=8, image_size=8)).double()


def _tensor(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


CASES = [
    # ---------------------------------------------------------------- theory.lp_nested
    Case("lp.log_prob", lp.log_prob, lambda: dict(z=Z5, tree=ISA, scale=1.0),
         {"z": "array", "tree": "tree", "scale": "scalar"}, log_density=True),
    Case("lp.log_evaluate", lp.log_evaluate, lambda: dict(tree=ISA, z=Z5),
         {"z": "array", "tree": "tree"}, log_density=True),
    Case("lp.sample", lp.sample, lambda: dict(n=5, tree=ISA, scale=1.0, rng=_rng()),
         {"n": "int", "tree": "tree", "scale": "scalar", "rng": "rng"}),
    Case("lp.log_radial_density", lp.log_radial_density,
         lambda: dict(v=np.array([0.5, 1.0]), n=3, p0=2.0, scale=1.0),
         {"v": "array", "n": "int", "p0": "scalar", "scale": "scalar"}, log_density=True),
    Case("lp.coordinate_second_moments", lp.coordinate_second_moments,
         lambda: dict(tree=ISA, scale=1.0), {"tree": "tree", "scale": "scalar"}),
    Case("lp.isa_leaf_marginal_logpdf", lp.isa_leaf_marginal_logpdf,
         lambda: dict(x=np.array([0.3]), p0=2.0, p_i=1.5, n_i=2, scale=1.0),
         {"x": "array", "p0": "scalar", "p_i": "scalar", "n_i": "int", "scale": "scalar"},
         log_density=True),
    Case("lp.gennorm_excess_kurtosis", lp.gennorm_excess_kurtosis, lambda: dict(p=np.array([1.0, 2.0])),
         {"p": "array"}),
    Case("lp.expected_abs_power_rotated_square", lp.expected_abs_power_rotated_square,
         lambda: dict(theta=np.array([0.1, 1.0]), p=2.0), {"theta": "array", "p": "scalar"}),
    # ---------------------------------------------------------------- theory.implicit_regularization
    Case("ir.optimal_posterior_covariance", ir.optimal_posterior_covariance,
         lambda: dict(J=J, hess_diag=None, beta=1.0), {"J": "array", "beta": "scalar"}),
    Case("ir.grae_regularizer", ir.grae_regularizer, lambda: dict(J=J, hess_diag=-np.ones((3, 4)), beta=1.0),
         {"J": "array", "hess_diag": "array", "beta": "scalar"}),
    Case("ir.deterministic_objective", ir.deterministic_objective,
         lambda: dict(log_lik_at_mean=np.zeros(3), J=J, hess_diag=None, mu=np.ones((3, 2)), beta=1.0),
         {"log_lik_at_mean": "array", "J": "array", "mu": "array", "beta": "scalar"}),
    Case("ir.grae_loss", ir.grae_loss,
         lambda: dict(x=np.ones((3, 4)), recon=np.zeros((3, 4)), mu=np.ones((3, 2)), J=J, beta=1.0),
         {"x": "array", "recon": "array", "mu": "array", "J": "array", "beta": "scalar"}),
    Case("ir.hadamard_bound", ir.hadamard_bound, lambda: dict(J=J, hess_diag=None, beta=2.0),
         {"J": "array", "beta": "scalar"}),
    # ---------------------------------------------------------------- theory.linear_vae
    Case("tlv.data_covariance", tlv.data_covariance, lambda: dict(A=np.ones((3, 2))), {"A": "array"}),
    # ---------------------------------------------------------------- linear_models
    Case("fa.log_likelihood", fa.log_likelihood, lambda: dict(X=X2, W=W2, psi=PSI),
         {"X": "array", "W": "array", "psi": "array"}, log_density=True),
    Case("fa.free_energy", fa.free_energy, lambda: dict(X=X2, W=W2, psi=PSI, beta=1.0, normalisation="eq13"),
         {"X": "array", "W": "array", "psi": "array", "beta": "scalar", "normalisation": "choice"}),
    Case("fa.free_energy_closed_form", fa.free_energy_closed_form, lambda: dict(X=X2, W=W2, psi=PSI, beta=1.0),
         {"X": "array", "W": "array", "psi": "array", "beta": "scalar"}),
    Case("fa.meanfield_optimum", fa.meanfield_optimum, lambda: dict(X=X2, W=W2, psi=PSI, beta=1.0),
         {"X": "array", "W": "array", "psi": "array", "beta": "scalar"}),
    Case("fa.fit_ml", fa.fit_ml, lambda: dict(X=X2, K=1, n_iter=3, rng=0),
         {"X": "array", "K": "int", "n_iter": "int"}),
    Case("fa.ml_orthogonal_weights", fa.ml_orthogonal_weights,
         lambda: dict(S=np.array([[2.0, 0.3], [0.3, 1.0]]), noise_var=0.1, K=1),
         {"S": "array", "noise_var": "scalar", "K": "int"}),
    Case("fa.rotation_setting", fa.rotation_setting,
         lambda: dict(loglik=-30.0, free_energy_45=-31.0, n=20, noise_var=0.1),
         {"loglik": "scalar", "free_energy_45": "scalar", "n": "int", "noise_var": "scalar"}),
    Case("ica.student_t_logpdf", ica.student_t_logpdf, lambda: dict(z=np.array([0.0, 2.0]), nu=3.5, scale=1.0),
         {"z": "array", "nu": "scalar", "scale": "scalar"}, log_density=True),
    Case("ica.expected_log_prior", ica.expected_log_prior,
         lambda: dict(mu=np.zeros(3), s=np.ones(3), nu=3.5, scale=1.0, n_nodes=8),
         {"mu": "array", "s": "array", "nu": "scalar", "scale": "scalar", "n_nodes": "int"},
         log_density=True),
    Case("ica.free_energy", ica.free_energy,
         lambda: dict(X=X2, W=W3, psi=PSI, mu=np.zeros((6, 3)), s=np.ones((6, 3)), beta=1.0, n_nodes=8),
         {"X": "array", "W": "array", "psi": "array", "mu": "array", "s": "array", "beta": "scalar"}),
    Case("ica.sample", ica.sample, lambda: dict(n=4, W=W3, psi=PSI, nu=3.5, scale=1.0, rng=_rng()),
         {"n": "int", "W": "array", "psi": "array", "nu": "scalar", "scale": "scalar", "rng": "rng"}),
    Case("lvae.optimum", lvae.optimum, lambda: dict(sigma_x=SIGMA_X, k=2, beta=1.0),
         {"sigma_x": "array", "k": "int", "beta": "scalar"}),
    Case("lvae.collapse_thresholds", lvae.collapse_thresholds, lambda: dict(Sigma_x=SIGMA_X, k=2),
         {"Sigma_x": "array", "k": "int"}),
    Case("lu.rotation_angle", lu.rotation_angle, lambda: dict(Z=X2, M=X2[:, ::-1]),
         {"Z": "array", "M": "array"}),
    # ---------------------------------------------------------------- deep: priors, objectives
    Case("dp.LpNested.log_prob", lambda tree, scale, z: dp.LpNested(tree, scale, dtype=F64).log_prob(z),
         lambda: dict(tree=ISA, scale=1.0, z=torch.from_numpy(Z5)),
         {"tree": "tree", "scale": "scalar", "z": "tensor"}, log_density=True, target=dp.LpNested),
    Case("dp.LpNestedPrior.log_prob", lambda tree, z: dp.LpNestedPrior(tree).double().log_prob(z),
         lambda: dict(tree=ISA, z=torch.from_numpy(Z5)), {"tree": "tree", "z": "tensor"},
         log_density=True, target=dp.LpNestedPrior),
    Case("dp.parse_prior", dp.parse_prior, lambda: dict(spec="isa:2.1;2*2.2x2"), {"spec": "choice"}),
    Case("obj.aggregate_log_densities", obj.aggregate_log_densities,
         lambda: dict(z=_tensor(4, 2), mu=_tensor(4, 2, seed=1), logvar=_tensor(4, 2, seed=2) * 0.1,
                      dataset_size=10, estimator="mss"),
         {"z": "tensor", "mu": "tensor", "logvar": "tensor", "dataset_size": "int", "estimator": "choice"}),
    Case("obj.mss_log_weights", obj.mss_log_weights, lambda: dict(batch_size=4, dataset_size=10, dtype=F64),
         {"batch_size": "int", "dataset_size": "int", "dtype": "choice"}, log_density=True),
    Case("obj.BetaVAE", lambda beta, x: obj.BetaVAE(beta)(_vae(), x, _gen()).loss,
         lambda: dict(beta=1.0, x=torch.rand(3, 1, 8, 8, generator=_gen(), dtype=F64)),
         {"beta": "scalar", "x": "tensor"}, target=obj.BetaVAE),
    Case("obj.build_objective", obj.build_objective, lambda: dict(name="beta-vae", beta=1.0, n_samples=1),
         {"name": "choice", "beta": "scalar", "n_samples": "int"}),
    Case("dist.StandardNormalPrior", lambda latent_dim: dist.StandardNormalPrior(latent_dim).latent_dim,
         lambda: dict(latent_dim=2), {"latent_dim": "int"}, target=dist.StandardNormalPrior),
    # ---------------------------------------------------------------- deep: regularizers
    Case("reg.grae_regularizer", reg.grae_regularizer,
         lambda: dict(decoder=_decoder(), z=_tensor(3, 2), beta=1.0, mode="exact", n_columns=1),
         {"z": "tensor", "beta": "scalar", "mode": "choice", "n_columns": "int"}),
    Case("reg.grae_loss", lambda x, beta, mode: reg.grae_loss(lambda v: v[:, :2], _decoder(), x, beta, mode),
         lambda: dict(x=_tensor(3, 3), beta=1.0, mode="hadamard"),
         {"x": "tensor", "beta": "scalar", "mode": "choice"}, target=reg.grae_loss),
    # ---------------------------------------------------------------- deep: metrics
    Case("metrics.beta_vae_pairs", lambda factors, n_points, batch_size:
         cs.beta_vae_pairs(factors, n_points, batch_size, _rng()),
         lambda: dict(factors=GRID, n_points=5, batch_size=3),
         {"factors": "array", "n_points": "int", "batch_size": "int"}, target=cs.beta_vae_pairs),
    Case("metrics.higgins_protocol", cs.higgins_protocol,
         lambda: dict(scores=np.linspace(0.3, 0.9, 6)), {"scores": "array"}),
    Case("metrics.fit_softmax_adagrad", lambda x, lr, batch_size:
         cs.fit_softmax_adagrad(x, np.arange(6) % 2, 2, seeds=0, lr=lr, batch_size=batch_size,
                                max_epochs=5),
         lambda: dict(x=np.random.default_rng(5).normal(size=(6, 2)), lr=1e-2, batch_size=2),
         {"x": "array", "lr": "scalar", "batch_size": "int"}, target=cs.fit_softmax_adagrad),
    Case("metrics.mig_histogram", mig_histogram, lambda: dict(codes=CODES, factors=GRID, bins=5),
         {"codes": "array", "factors": "array", "bins": "int"}),
    Case("metrics.mig_sampled", lambda codes, logvar, factors, n_samples, exclude, chunk_samples:
         mig(codes, factors, "sampled", logvar=logvar, rng=_rng(), n_samples=n_samples, exclude=exclude,
             chunk_samples=chunk_samples),
         lambda: dict(codes=CODES, logvar=np.full(CODES.shape, -2.0), factors=GRID, n_samples=20,
                      exclude=(0,), chunk_samples=7),
         {"codes": "array", "logvar": "array", "factors": "array", "n_samples": "int",
          "exclude": "choice", "chunk_samples": "int"}, target=mig),
    Case("metrics.factor_vae_score", factor_vae_score,
         lambda: dict(codes=CODES, factors=GRID, rng=_rng(), n_train=10, n_test=10, batch_size=4,
                      prune_threshold=0.05),
         {"codes": "array", "factors": "array", "rng": "rng", "n_train": "int", "n_test": "int",
          "batch_size": "int", "prune_threshold": "scalar"}),
    Case("metrics.beta_vae_score", beta_vae_score,
         lambda: dict(codes=CODES, factors=GRID, rng=_rng(), n_train=10, n_test=10, batch_size=4),
         {"codes": "array", "factors": "array", "rng": "rng", "n_train": "int", "n_test": "int",
          "batch_size": "int"}),
    Case("metrics.discrete_entropy", discrete_entropy, lambda: dict(a=np.array([0, 1, 1])), {"a": "array"}),
    Case("metrics.discrete_mutual_info", discrete_mutual_info,
         lambda: dict(a=np.array([0, 1, 1]), b=np.array([1, 1, 0])), {"a": "array", "b": "array"}),
    Case("metrics.log_mixture_density", log_mixture_density,
         lambda: dict(z=_tensor(3, 2), mu=_tensor(5, 2), logvar=_tensor(5, 2) * 0.1, chunk_samples=2,
                      chunk_points=2),
         {"z": "tensor", "mu": "tensor", "logvar": "tensor", "chunk_samples": "int", "chunk_points": "int"},
         log_density=True),
    # ---------------------------------------------------------------- deep: data renderers
    Case("data.render_full", dsprites.render_full,
         lambda: dict(factors_full=np.zeros((2, 5), dtype=np.int64), binary=True),
         {"factors_full": "array", "binary": "choice"}),
    Case("data.index_of", gt.index_of, lambda: dict(factors=GRID[:3], factor_sizes=(2, 3, 4)),
         {"factors": "array"}),
    Case("data.factors_of", gt.factors_of, lambda: dict(index=np.array([0, 5]), factor_sizes=(2, 3, 4)),
         {"index": "array"}),
]


# ----------------------------------------------------------------------------- more cases
# (every public callable of theory, linear_models, deep and validation; see test_every_public_callable_has_a_case)

import sympy as sp  # noqa: E402

import theory.factor_analysis as tfa  # noqa: E402
import validation as V  # noqa: E402
from deep.data import digits, manifold, stores  # noqa: E402

LVP = lvae.optimum(SIGMA_X, 2, 1.0).params
LVP_KW = dict(LVP._asdict())
S22 = np.array([[2.0, 0.3], [0.3, 1.0]])
H22 = np.array([[-1.0, 0.2], [0.2, -0.5]])
ORTH = lu.rotation_matrix(0.3)
SYM11 = tlv.symbolic_setup(1, 1)
SP_X = sp.Matrix([sp.Symbol("x0")])
SP_W = sp.Matrix([[sp.Symbol("W00")]])
SP_PSI = sp.Matrix([sp.Symbol("psi0", positive=True)])
SP_Z = sp.Matrix([sp.Symbol("z0")])
SP_XV = sp.Matrix([sp.Symbol("xv")])
SP_S = sp.Matrix([[sp.Symbol("s", positive=True)]])


def _lvp(**kw):
    """A LinearVAEParams from its fields (a case wraps the NamedTuple so each field is fuzzed)."""
    return tlv.LinearVAEParams(**{k: kw[k] for k in tlv.LinearVAEParams._fields})


def _lvp_case(name, fn, extra_valid, extra_kinds, **kw):
    fields = {k: "array" for k in tlv.LinearVAEParams._fields}
    return Case(name, lambda **a: fn(_lvp(**a), **{k: a[k] for k in a if k not in fields}),
                lambda: dict(LVP_KW, **extra_valid()), dict(fields, **extra_kinds), target=fn, **kw)


def _student():
    from scipy import stats

    return stats.t(4.0)


CASES += [
    # ---------------------------------------------------------------- validation (the checks name
    # the caller's parameter: here "value")
    Case("V.Real", lambda value, closed: V.Real(low=0, closed=closed).check(value, "value"),
         lambda: dict(value=1.0, closed="right"), {"value": "scalar", "closed": "choice"}, target=V.Real),
    Case("V.Integral", lambda value: V.Integral(low=1).check(value, "value"), lambda: dict(value=2),
         {"value": "int"}, target=V.Integral),
    Case("V.Options", lambda value: V.Options("a", "b").check(value, "value"), lambda: dict(value="a"),
         {"value": "choice"}, target=V.Options),
    Case("V.Array", lambda value: V.Array(ndim=2).check(value, "value"), lambda: dict(value=X2),
         {"value": "array"}, target=V.Array),
    Case("V.Tensor", lambda value: V.Tensor(ndim=2, finite=True).check(value, "value"),
         lambda: dict(value=_tensor(3, 2)), {"value": "tensor"}, target=V.Tensor),
    Case("V.InstanceOf", lambda value: V.InstanceOf(str).check(value, "value"), lambda: dict(value="a"),
         {"value": "choice"}, target=V.InstanceOf),
    Case("V.Generator", lambda value: V.Generator().check(value, "value"), lambda: dict(value=_rng()),
         {"value": "rng"}, target=V.Generator),
    Case("V.Optional", lambda value: V.Optional(V.Real()).check(value, "value"), lambda: dict(value=1.0),
         {"value": "scalar"}, target=V.Optional),
    Case("V.validate_params", lambda constraints, value: V.validate_params(constraints)(lambda value: value)(value),
         lambda: dict(constraints={"value": V.Real()}, value=1.0),
         {"constraints": "object", "value": "scalar"}, target=V.validate_params),
    Case("V.as_float_array", lambda value: V.as_float_array(value, "value", 2), lambda: dict(value=X2),
         {"value": "array"}, target=V.as_float_array),
    Case("V.check_real", lambda value: V.check_real(value, "value"), lambda: dict(value=1.0),
         {"value": "scalar"}, target=V.check_real),
    Case("V.check_int", lambda value: V.check_int(value, "value", low=1), lambda: dict(value=1),
         {"value": "int"}, target=V.check_int),
    Case("V.check_choice", lambda value: V.check_choice(value, "value", ("a", 1)), lambda: dict(value="a"),
         {"value": "choice"}, target=V.check_choice),
    Case("V.check_tensor", lambda value: V.check_tensor(value, "value", ndim=2, finite=True),
         lambda: dict(value=_tensor(3, 2)), {"value": "tensor"}, target=V.check_tensor),
    Case("V.check_rng", lambda value: V.check_rng(value, "value"), lambda: dict(value=_rng()),
         {"value": "rng"}, target=V.check_rng),
    Case("V.positive_scalar", lambda value: V.positive_scalar(value, "value"), lambda: dict(value=1.0),
         {"value": "scalar"}, target=V.positive_scalar),
    Case("V.positive_vector", lambda value: V.positive_vector(value, "value"), lambda: dict(value=PSI),
         {"value": "array"}, target=V.positive_vector),
    # ---------------------------------------------------------------- theory.factor_analysis (sympy)
    Case("tfa.symbols", tfa.symbols, lambda: dict(L=1, K=1), {"L": "int", "K": "int"}),
    Case("tfa.log_lik_given_z", tfa.log_lik_given_z, lambda: dict(x=SP_X, W=SP_W, psi=SP_PSI, z=SP_Z),
         {"x": "object", "W": "object", "psi": "object", "z": "object"}),
    Case("tfa.log_prior", tfa.log_prior, lambda: dict(z=SP_Z), {"z": "object"}),
    Case("tfa.derive", tfa.derive, lambda: dict(L=1, K=1), {"L": "int", "K": "int"}),
    Case("tfa.lambdified", lambda L, K: tfa.lambdified(L, K)["kl"]([1.0], [[0.5]], [0.4], [0.1], [0.9], 1.0),
         lambda: dict(L=1, K=1), {"L": "int", "K": "int"}, target=tfa.lambdified),
    # ---------------------------------------------------------------- theory.implicit_regularization
    Case("ir.derive_hessian_chain_rule", ir.derive_hessian_chain_rule, lambda: dict(d=1, D=1),
         {"d": "int", "D": "int"}),
    Case("ir.derive_optimal_covariance", ir.derive_optimal_covariance, lambda: dict(d=1), {"d": "int"}),
    Case("ir.derive_taylor_grae_gap", ir.derive_taylor_grae_gap, lambda: dict(d=1), {"d": "int"}),
    Case("ir.derive_bernoulli_hessian", ir.derive_bernoulli_hessian, lambda: dict(), {}),
    Case("ir.gaussian_hess_diag", ir.gaussian_hess_diag, lambda: dict(D=3, sigma=0.5),
         {"D": "int", "sigma": "scalar"}),
    Case("ir.bernoulli_hess_diag", ir.bernoulli_hess_diag,
         lambda: dict(x=np.array([0.0, 1.0, 1.0]), probs=np.array([0.2, 0.5, 0.9])),
         {"x": "array", "probs": "array"}),
    Case("ir.jacobian_hessian", ir.jacobian_hessian, lambda: dict(J=J, hess_diag=-np.ones((3, 4))),
         {"J": "array", "hess_diag": "array"}),
    Case("ir.precision_matrix", ir.precision_matrix, lambda: dict(J=J, hess_diag=-np.ones((3, 4)), beta=1.0),
         {"J": "array", "hess_diag": "array", "beta": "scalar"}),
    Case("ir.optimal_covariance_from_hessian", ir.optimal_covariance_from_hessian,
         lambda: dict(H=H22, beta=1.0), {"H": "array", "beta": "scalar"}),
    Case("ir.gaussian_kl", ir.gaussian_kl, lambda: dict(mu=np.array([0.1, -0.2]), Sigma=S22),
         {"mu": "array", "Sigma": "array"}),
    Case("ir.taylor_objective", ir.taylor_objective,
         lambda: dict(log_lik_at_mean=np.array(-1.0), H=H22, mu=np.array([0.1, 0.2]), Sigma=S22 / 4, beta=1.0),
         {"log_lik_at_mean": "array", "H": "array", "mu": "array", "Sigma": "array", "beta": "scalar"}),
    Case("ir.frobenius_regularizer", ir.frobenius_regularizer,
         lambda: dict(J=J, hess_diag=-np.ones((3, 4)), beta=1.0),
         {"J": "array", "hess_diag": "array", "beta": "scalar"}),
    Case("ir.taylor_grae_gap", ir.taylor_grae_gap,
         lambda: dict(J=J[0], hess_diag=-np.ones(4), Sigma=S22 / 4, beta=1.0),
         {"J": "array", "hess_diag": "array", "Sigma": "array", "beta": "scalar"}),
    # ---------------------------------------------------------------- theory.linear_vae
    Case("tlv.check_beta", tlv.check_beta, lambda: dict(beta=0.5), {"beta": "scalar"}),
    Case("tlv.check_sigma_x", tlv.check_sigma_x, lambda: dict(Sigma_x=SIGMA_X), {"Sigma_x": "array"}),
    Case("tlv.check_mixing", tlv.check_mixing, lambda: dict(A=W3.T), {"A": "array"}),
    _lvp_case("tlv.check_params", tlv.check_params, lambda: dict(N=3), {"N": "int"}),
    Case("tlv.thesis_mixing", tlv.thesis_mixing, lambda: dict(N=4, k=2, offdiag=0.5),
         {"N": "int", "k": "int", "offdiag": "scalar"}),
    _lvp_case("tlv.encoder_moments", tlv.encoder_moments, lambda: dict(Sigma_x=SIGMA_X), {"Sigma_x": "array"}),
    _lvp_case("tlv.objective_terms", tlv.objective_terms, lambda: dict(Sigma_x=SIGMA_X), {"Sigma_x": "array"}),
    _lvp_case("tlv.objective", tlv.objective, lambda: dict(Sigma_x=SIGMA_X, beta=1.0),
              {"Sigma_x": "array", "beta": "scalar"}),
    _lvp_case("tlv.gradients", tlv.gradients, lambda: dict(Sigma_x=SIGMA_X, beta=1.0),
              {"Sigma_x": "array", "beta": "scalar"}),
    _lvp_case("tlv.optimality_residual", tlv.optimality_residual, lambda: dict(Sigma_x=SIGMA_X, beta=1.0),
              {"Sigma_x": "array", "beta": "scalar"}),
    Case("tlv.model_posterior", tlv.model_posterior, lambda: dict(D=W3.T), {"D": "array"}),
    Case("tlv.true_posterior", tlv.true_posterior, lambda: dict(A=W3.T), {"A": "array"}),
    Case("tlv.model_log_likelihood", tlv.model_log_likelihood,
         lambda: dict(D=W3.T, Sigma_x=SIGMA_X, b_D=np.zeros(3)),
         {"D": "array", "Sigma_x": "array", "b_D": "array"}),
    _lvp_case("tlv.inference_error", tlv.inference_error,
              lambda: dict(Sigma_x=SIGMA_X, F=W3 * 0.5, E=S22), {"Sigma_x": "array", "F": "array", "E": "array"}),
    Case("tlv.gaussian_kl", tlv.gaussian_kl,
         lambda: dict(mu_q=X2[:3], var_q=np.array([0.5, 0.7]), mu_p=X2[3:], cov_p=S22),
         {"mu_q": "array", "var_q": "array", "mu_p": "array", "cov_p": "array"}),
    Case("tlv.symbolic_setup", tlv.symbolic_setup, lambda: dict(N=2, k=1), {"N": "int", "k": "int"}),
    Case("tlv.lognormal_mgf", tlv.lognormal_mgf, lambda: dict(), {}),
    Case("tlv.gaussian_expectation", tlv.gaussian_expectation,
         lambda: dict(expr=SP_XV[0] ** 2 + sp.exp(SP_XV[0]), x=SP_XV, S=SP_S),
         {"expr": "object", "x": "object", "S": "object"}),
    Case("tlv.derive_per_point_objective", tlv.derive_per_point_objective, lambda: dict(N=1, k=1),
         {"N": "int", "k": "int"}),
    Case("tlv.derive_averaged_objective", tlv.derive_averaged_objective, lambda: dict(N=1, k=1),
         {"N": "int", "k": "int"}),
    Case("tlv.printed_eq34", tlv.printed_eq34, lambda: dict(sym=SYM11), {"sym": "object"}),
    Case("tlv.printed_gradient_conditions", tlv.printed_gradient_conditions,
         lambda: dict(sym=SYM11, eq40_as_printed=True), {"sym": "object", "eq40_as_printed": "choice"}),
    Case("tlv.derive_posterior", tlv.derive_posterior, lambda: dict(N=2, k=1), {"N": "int", "k": "int"}),
    Case("tlv.derive_inference_error", tlv.derive_inference_error, lambda: dict(N=1, k=1),
         {"N": "int", "k": "int"}),
    # ---------------------------------------------------------------- theory.lp_nested
    Case("lp.isa_tree", lp.isa_tree, lambda: dict(p0=2.1, subspaces=[(2.2, 2), (1.5, 3)]),
         {"p0": "scalar", "subspaces": "object"}),
    Case("lp.validate_tree", lp.validate_tree, lambda: dict(tree=ISA), {"tree": "tree"}),
    Case("lp.n_leaves", lp.n_leaves, lambda: dict(tree=ISA), {"tree": "tree"}),
    Case("lp.inner_nodes", lp.inner_nodes, lambda: dict(tree=ISA), {"tree": "tree"}),
    Case("lp.exponents", lp.exponents, lambda: dict(tree=ISA), {"tree": "tree"}),
    Case("lp.with_exponents", lp.with_exponents, lambda: dict(tree=ISA, ps=np.array([2.0, 1.5, 2.5])),
         {"tree": "tree", "ps": "array"}),
    Case("lp.evaluate", lp.evaluate, lambda: dict(tree=ISA, z=Z5), {"tree": "tree", "z": "array"}),
    Case("lp.log_surface_area", lp.log_surface_area, lambda: dict(tree=ISA), {"tree": "tree"}),
    Case("lp.log_normalizer", lp.log_normalizer, lambda: dict(tree=ISA, scale=1.0),
         {"tree": "tree", "scale": "scalar"}),
    Case("lp.sample_unit_sphere", lp.sample_unit_sphere, lambda: dict(n=3, tree=ISA, rng=_rng()),
         {"n": "int", "tree": "tree", "rng": "rng"}),
    Case("lp.kappa_from_p", lp.kappa_from_p, lambda: dict(p=np.array([1.0, 2.0])), {"p": "array"}),
    Case("lp.p_from_kappa", lp.p_from_kappa, lambda: dict(kappa=np.array([0.5, 2.0])), {"kappa": "array"}),
    Case("lp.isa_subspaces", lp.isa_subspaces, lambda: dict(tree=ISA), {"tree": "tree"}),
    Case("lp.unit_variance_scale", lp.unit_variance_scale, lambda: dict(tree=ISA), {"tree": "tree"}),
    # ---------------------------------------------------------------- linear_models.factor_analysis
    Case("fa.posterior_precision", fa.posterior_precision, lambda: dict(W=W2, psi=PSI, beta=1.0),
         {"W": "array", "psi": "array", "beta": "scalar"}),
    Case("fa.exact_posterior", fa.exact_posterior, lambda: dict(X=X2, W=W2, psi=PSI, beta=1.0),
         {"X": "array", "W": "array", "psi": "array", "beta": "scalar"}),
    Case("fa.elbo_terms", fa.elbo_terms,
         lambda: dict(X=X2, W=W2, psi=PSI, means=X2 * 0.5, cov=np.array([0.5, 0.6]), full=False),
         {"X": "array", "W": "array", "psi": "array", "means": "array", "cov": "array", "full": "choice"}),
    Case("fa.elbo", fa.elbo,
         lambda: dict(X=X2, W=W2, psi=PSI, means=X2 * 0.5, cov=S22 / 4, beta=1.0, normalisation="eq16",
                      full=True),
         {"X": "array", "W": "array", "psi": "array", "means": "array", "cov": "array", "beta": "scalar",
          "normalisation": "choice", "full": "choice"}),
    Case("fa.free_energy_grad", fa.free_energy_grad, lambda: dict(X=X2, W=W2, psi=PSI, beta=1.0),
         {"X": "array", "W": "array", "psi": "array", "beta": "scalar"}),
    Case("fa.meanfield_kl_per_point", fa.meanfield_kl_per_point, lambda: dict(W=W2, psi=PSI, beta=1.0),
         {"W": "array", "psi": "array", "beta": "scalar"}),
    Case("fa.tempered_log_evidence", fa.tempered_log_evidence, lambda: dict(X=X2, W=W2, psi=PSI, beta=0.5),
         {"X": "array", "W": "array", "psi": "array", "beta": "scalar"}),
    Case("fa.rotation", fa.rotation, lambda: dict(theta=0.3), {"theta": "scalar"}),
    Case("fa.data_with_second_moment", fa.data_with_second_moment, lambda: dict(S=S22, n=5, rng=_rng()),
         {"S": "array", "n": "int", "rng": "rng"}),
    Case("fa.rotation_gap_per_point", fa.rotation_gap_per_point, lambda: dict(eig_ratio=2.0, theta=0.3),
         {"eig_ratio": "scalar", "theta": "scalar"}),
    # ---------------------------------------------------------------- linear_models.ica
    Case("ica.gauss_hermite", ica.gauss_hermite, lambda: dict(n_nodes=8), {"n_nodes": "int"}),
    Case("ica.free_energy_terms", ica.free_energy_terms,
         lambda: dict(X=X2, W=W3, psi=PSI, mu=np.zeros((6, 3)), s=np.ones((6, 3)), nu=3.5, scale=1.0, n_nodes=8),
         {"X": "array", "W": "array", "psi": "array", "mu": "array", "s": "array", "nu": "scalar",
          "scale": "scalar", "n_nodes": "int"}),
    Case("ica.fit_meanfield", ica.fit_meanfield,
         lambda: dict(X=X2, W0=W3, psi=PSI, beta=1.0, nu=3.5, scale=1.0, max_iter=3, n_nodes=8, tol=1e-6),
         {"X": "array", "W0": "array", "psi": "array", "beta": "scalar", "nu": "scalar", "scale": "scalar",
          "max_iter": "int", "n_nodes": "int", "tol": "scalar"}),
    Case("ica.log_likelihood", ica.log_likelihood,
         lambda: dict(X=X2, W=W3, psi=PSI, nu=3.5, scale=1.0, n_samples=16, rng=_rng(), batch=8),
         {"X": "array", "W": "array", "psi": "array", "nu": "scalar", "scale": "scalar", "n_samples": "int",
          "rng": "rng", "batch": "int"}),
    Case("ica.column_norms", ica.column_norms, lambda: dict(W=W3), {"W": "array"}),
    Case("ica.pairwise_angles", ica.pairwise_angles, lambda: dict(W=W3, min_norm=0.1),
         {"W": "array", "min_norm": "scalar"}),
    Case("ica.directions", ica.directions, lambda: dict(W=W3), {"W": "array"}),
    # ---------------------------------------------------------------- linear_models.linear_vae
    Case("lvae.solve_optimality", lvae.solve_optimality,
         lambda: dict(Sigma_x=SIGMA_X, k=2, beta=1.0, rng=_rng(), n_starts=1, init_scale=0.1, maxiter=5),
         {"Sigma_x": "array", "k": "int", "beta": "scalar", "rng": "rng", "n_starts": "int",
          "init_scale": "scalar", "maxiter": "int"}),
    Case("lvae.optimum_terms", lvae.optimum_terms, lambda: dict(Sigma_x=SIGMA_X, k=2, betas=np.array([0.5, 2.0])),
         {"Sigma_x": "array", "k": "int", "betas": "array"}),
    Case("lvae.tie_over_group", lvae.tie_over_group, lambda: dict(A=W3.T, betas=np.array([0.5, 2.0])),
         {"A": "array", "betas": "array"}),
    Case("lvae.tie_aligned", lvae.tie_aligned, lambda: dict(A=W3.T, betas=np.array([0.5, 2.0])),
         {"A": "array", "betas": "array"}),
    Case("lvae.beta_sweep", lvae.beta_sweep, lambda: dict(A=W3.T, betas=np.array([0.5, 2.0])),
         {"A": "array", "betas": "array"}),
    Case("lvae.fixed_decoder_optimum", lvae.fixed_decoder_optimum, lambda: dict(D=W3.T, beta=1.0),
         {"D": "array", "beta": "scalar"}),
    # ---------------------------------------------------------------- linear_models.uniqueness
    Case("lu.rotation_matrix", lu.rotation_matrix, lambda: dict(theta=0.3), {"theta": "scalar"}),
    Case("lu.sample_uniqueness_data", lu.sample_uniqueness_data,
         lambda: dict(n_samples=5, nonlinearity="tanh", rng=_rng(), noise_std=0.05, column_norms=(2.0, 1.0),
                      orthogonal=False),
         {"n_samples": "int", "nonlinearity": "choice", "rng": "rng", "noise_std": "scalar",
          "column_norms": "array", "orthogonal": "choice"}),
    Case("lu.to_gaussian", lu.to_gaussian, lambda: dict(z=np.array([-1.0, 0.5]), dist=_student()),
         {"z": "array", "dist": "object"}),
    Case("lu.from_gaussian", lu.from_gaussian, lambda: dict(n=np.array([-1.0, 0.5]), dist=_student()),
         {"n": "array", "dist": "object"}),
    Case("lu.mixing_transform", lu.mixing_transform, lambda: dict(z=X2, U=ORTH, marginal=_student()),
         {"z": "array", "U": "array", "marginal": "object"}),
    Case("lu.mixing_jacobian_logdet", lu.mixing_jacobian_logdet, lambda: dict(z=X2, U=ORTH, marginal=_student()),
         {"z": "array", "U": "array", "marginal": "object"}),
    Case("lu.BivariateStudentT", lambda df, rho, z: lu.BivariateStudentT(df, rho).logpdf(z),
         lambda: dict(df=4.0, rho=0.3, z=X2), {"df": "scalar", "rho": "scalar", "z": "array"},
         log_density=True, target=lu.BivariateStudentT),
    Case("lu.darmois_mixing_transform", lu.darmois_mixing_transform,
         lambda: dict(z=X2, U=ORTH, prior=lu.BivariateStudentT(4.0, 0.3)),
         {"z": "array", "U": "array", "prior": "object"}),
    Case("lu.numerical_jacobian", lu.numerical_jacobian, lambda: dict(f=np.sin, z=X2, h=1e-6),
         {"f": "object", "z": "array", "h": "scalar"}),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_valid_arguments_give_a_finite_result(case):
    """The baseline of each case: its valid arguments satisfy the contract untouched."""
    out = case.fn(**case.valid())
    for arr in _numbers(out):
        ok = np.isfinite(arr) | (np.isneginf(arr) if case.log_density else False)
        assert np.all(ok)


ARGUMENTS = [(case, name) for case in CASES for name in sorted(case.kinds)]


@pytest.mark.parametrize("case, name", ARGUMENTS, ids=[f"{c}-{n}" for c, n in ARGUMENTS])
@settings(max_examples=16)
@given(data=st.data())
def test_one_bad_argument_is_rejected_by_name_or_harmless(case, name, data):
    """Each argument of each case in turn: the small lists of bad values are drawn exhaustively."""
    kwargs = case.valid()
    kwargs[name] = data.draw(st.sampled_from(_bad_values(case.kinds[name], kwargs[name])), label="value")
    assert_contract(case.fn, kwargs, name, case.log_density)


# ----------------------------------------------------------------------------- coverage

#: the packages whose public callables the suite must cover
PACKAGES = ("theory", "linear_models", "deep", "validation")

#: public callables deliberately without a case: {qualified name: reason}
EXEMPT = {
}


def _public_callables() -> dict:
    """{qualified name: object} for every function or class named in the ``__all__`` of a module
    of :data:`PACKAGES` and defined in that package (re-exports counted once, by identity)."""
    found, seen = {}, set()
    for pkg in PACKAGES:
        root = importlib.import_module(pkg)
        modules = [root] + [importlib.import_module(m.name)
                            for m in pkgutil.walk_packages(root.__path__, pkg + ".")]
        for module in modules:
            for attr in getattr(module, "__all__", ()):
                obj = inspect.unwrap(getattr(module, attr))        # lru_cache, functools.wraps
                if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                    continue                                       # constants, tuples, dicts
                home = obj.__module__ or ""
                if not (home == pkg or home.startswith(pkg + ".")) or id(obj) in seen:
                    continue                                       # foreign objects, re-exports
                seen.add(id(obj))
                found[f"{home}.{obj.__qualname__}"] = obj
    return found


def test_every_public_callable_has_a_case_or_an_exemption():
    public = _public_callables()
    exercised = {id(inspect.unwrap(case.exercised)) for case in CASES}
    missing = sorted(n for n, obj in public.items() if id(obj) not in exercised and n not in EXEMPT)
    assert not missing, f"public callables without a fuzz case or an exemption: {missing}"
    stale = sorted(n for n in EXEMPT if n not in public)
    assert not stale, f"exemptions naming no public callable: {stale}"
    both = sorted(n for n in EXEMPT if id(public[n]) in exercised)
    assert not both, f"exempt yet covered by a case: {both}"
    assert all(isinstance(r, str) and r for r in EXEMPT.values())
