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
import math
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
         {"tree": "tree", "scale": "scalar", "z": "tensor"}, log_density=True),
    Case("dp.LpNestedPrior.log_prob", lambda tree, z: dp.LpNestedPrior(tree).double().log_prob(z),
         lambda: dict(tree=ISA, z=torch.from_numpy(Z5)), {"tree": "tree", "z": "tensor"},
         log_density=True),
    Case("dp.parse_prior", dp.parse_prior, lambda: dict(spec="isa:2.1;2*2.2x2"), {"spec": "choice"}),
    Case("obj.aggregate_log_densities", obj.aggregate_log_densities,
         lambda: dict(z=_tensor(4, 2), mu=_tensor(4, 2, seed=1), logvar=_tensor(4, 2, seed=2) * 0.1,
                      dataset_size=10, estimator="mss"),
         {"z": "tensor", "mu": "tensor", "logvar": "tensor", "dataset_size": "int", "estimator": "choice"}),
    Case("obj.mss_log_weights", obj.mss_log_weights, lambda: dict(batch_size=4, dataset_size=10, dtype=F64),
         {"batch_size": "int", "dataset_size": "int", "dtype": "choice"}, log_density=True),
    Case("obj.BetaVAE", lambda beta, x: obj.BetaVAE(beta)(_vae(), x, _gen()).loss,
         lambda: dict(beta=1.0, x=torch.rand(3, 1, 8, 8, generator=_gen(), dtype=F64)),
         {"beta": "scalar", "x": "tensor"}),
    Case("obj.build_objective", obj.build_objective, lambda: dict(name="beta-vae", beta=1.0, n_samples=1),
         {"name": "choice", "beta": "scalar", "n_samples": "int"}),
    Case("dist.StandardNormalPrior", lambda latent_dim: dist.StandardNormalPrior(latent_dim).latent_dim,
         lambda: dict(latent_dim=2), {"latent_dim": "int"}),
    # ---------------------------------------------------------------- deep: regularizers
    Case("reg.grae_regularizer", reg.grae_regularizer,
         lambda: dict(decoder=_decoder(), z=_tensor(3, 2), beta=1.0, mode="exact", n_columns=1),
         {"z": "tensor", "beta": "scalar", "mode": "choice", "n_columns": "int"}),
    Case("reg.grae_loss", lambda x, beta, mode: reg.grae_loss(lambda v: v[:, :2], _decoder(), x, beta, mode),
         lambda: dict(x=_tensor(3, 3), beta=1.0, mode="hadamard"),
         {"x": "tensor", "beta": "scalar", "mode": "choice"}),
    # ---------------------------------------------------------------- deep: metrics
    Case("metrics.beta_vae_pairs", lambda factors, n_points, batch_size:
         cs.beta_vae_pairs(factors, n_points, batch_size, _rng()),
         lambda: dict(factors=GRID, n_points=5, batch_size=3),
         {"factors": "array", "n_points": "int", "batch_size": "int"}),
    Case("metrics.higgins_replica_scores", lambda codes, factors, rng, n_train, n_test, L, n_seeds:
         cs.higgins_replica_scores(codes, factors, rng, n_train=n_train, n_test=n_test, L=L,
                                   n_seeds=n_seeds, factor_indices=(0, 1, 2)),
         lambda: dict(codes=CODES, factors=GRID, rng=_rng(), n_train=12, n_test=8, L=3, n_seeds=2),
         {"codes": "array", "factors": "array", "rng": "rng", "n_train": "int", "n_test": "int",
          "L": "int", "n_seeds": "int"}),
    Case("metrics.higgins_protocol", cs.higgins_protocol,
         lambda: dict(scores=np.linspace(0.3, 0.9, 6)), {"scores": "array"}),
    Case("metrics.fit_softmax_adagrad", lambda x, lr, batch_size:
         cs.fit_softmax_adagrad(x, np.arange(6) % 2, 2, seeds=0, lr=lr, batch_size=batch_size,
                                max_epochs=5),
         lambda: dict(x=np.random.default_rng(5).normal(size=(6, 2)), lr=1e-2, batch_size=2),
         {"x": "array", "lr": "scalar", "batch_size": "int"}),
    Case("metrics.mig_histogram", mig_histogram, lambda: dict(codes=CODES, factors=GRID, bins=5),
         {"codes": "array", "factors": "array", "bins": "int"}),
    Case("metrics.mig_sampled", lambda codes, logvar, factors, n_samples, exclude, chunk_samples:
         mig(codes, factors, "sampled", logvar=logvar, rng=_rng(), n_samples=n_samples, exclude=exclude,
             chunk_samples=chunk_samples),
         lambda: dict(codes=CODES, logvar=np.full(CODES.shape, -2.0), factors=GRID, n_samples=20,
                      exclude=(0,), chunk_samples=7),
         {"codes": "array", "logvar": "array", "factors": "array", "n_samples": "int",
          "exclude": "choice", "chunk_samples": "int"}),
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


@pytest.mark.parametrize("case", CASES, ids=str)
def test_valid_arguments_give_a_finite_result(case):
    """The baseline of each case: its valid arguments satisfy the contract untouched."""
    out = case.fn(**case.valid())
    for arr in _numbers(out):
        ok = np.isfinite(arr) | (np.isneginf(arr) if case.log_density else False)
        assert np.all(ok)


@pytest.mark.parametrize("case", CASES, ids=str)
@settings(max_examples=12)
@given(data=st.data())
def test_one_bad_argument_is_rejected_by_name_or_harmless(case, data):
    kwargs = case.valid()
    name = data.draw(st.sampled_from(sorted(case.kinds)), label="argument")
    kwargs[name] = data.draw(st.sampled_from(_bad_values(case.kinds[name], kwargs[name])), label="value")
    assert_contract(case.fn, kwargs, name, case.log_density)
