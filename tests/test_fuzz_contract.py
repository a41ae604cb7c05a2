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
every run. One test per (case, argument): the few bad values of that argument's kind are drawn
from a ``sampled_from`` small enough for every one of them to be tried.

Coverage: :func:`test_every_public_callable_has_a_case_or_an_exemption` enumerates the functions
and classes in the ``__all__`` of every module of theory, linear_models, deep and validation and
requires each to be exercised by a case (``Case.fn``, or ``Case.target`` when ``fn`` wraps it) or
listed with a reason in :data:`EXEMPT`; a new public callable without either fails it.
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

import linear_models.estimators as est
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
from deep.metrics import latent_response as lr_
from deep.metrics import sample_quality as sq_
from deep.metrics import (beta_vae_score, discrete_entropy, discrete_mutual_info, factor_vae_score,
                          mig, mig_histogram)
from deep.metrics.sampled_mig import log_mixture_density
from deep import traversal as trav
from deep.models import distributions as dist
from deep.models import objectives as obj
from theory import distributions as tdist
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
    if not t.dtype.is_floating_point:
        t = t.double()                     # integer or boolean valid values: their float version
        out.append(t)
    if t.numel():
        for bad in (math.nan, math.inf, -math.inf):
            w = t.clone()
            w.view(-1)[0] = bad
            out.append(w)
        w = t.clone()                      # a NaN in a tensor that requires grad (a user's leaf)
        w.view(-1)[0] = math.nan
        out.append(w.requires_grad_(True))
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


def assert_contract(fn, kwargs, name, log_density=False, aliases=None):
    """``aliases``: arguments whose user-facing name differs from the Python one (the message
    uses the former, e.g. a prior ``spec`` is the ``prior`` option)."""
    try:
        out = fn(**kwargs)
    except (ValueError, TypeError) as err:
        shown = (aliases or {}).get(name, name)
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
    aliases: dict = None               # argument -> the name its error messages use

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


def _estimator_outputs(estimator, X):
    """Everything a fitted estimator of linear_models.estimators computes on ``X``."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", est.ConvergenceWarning)       # short fits, on purpose
        estimator.fit(X)
    out = {"components": estimator.components_, "transform": estimator.transform(X),
           "score": estimator.score(X), "score_samples": estimator.score_samples(X),
           "free_energy": estimator.free_energy(X)}
    if hasattr(estimator, "inverse_transform"):
        out["inverse"] = estimator.inverse_transform(out["transform"])
    return out


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
    Case("lvae.optimum", lvae.optimum, lambda: dict(cov=SIGMA_X, k=2, beta=1.0),
         {"cov": "array", "k": "int", "beta": "scalar"}),
    Case("lvae.collapse_thresholds", lvae.collapse_thresholds, lambda: dict(cov=SIGMA_X, k=2),
         {"cov": "array", "k": "int"}),
    Case("lu.rotation_angle", lu.rotation_angle, lambda: dict(Z=X2, M=X2[:, ::-1]),
         {"Z": "array", "M": "array"}),
    # ---------------------------------------------------------------- estimators, distributions
    Case("est.fit_beta_vi_fa", est.fit_beta_vi_fa,
         lambda: dict(X=X2, K=1, beta=2.0, fix_psi=PSI, n_iter=20, tol=1e-12, rng=0),
         {"X": "array", "K": "int", "beta": "scalar", "fix_psi": "array", "n_iter": "int",
          "tol": "scalar", "rng": "rng"}),
    Case("est.BetaVIFactorAnalysis",
         lambda X, n_components, beta, noise_variance, max_iter, tol, random_state: _estimator_outputs(
             est.BetaVIFactorAnalysis(n_components, beta=beta, noise_variance=noise_variance,
                                      max_iter=max_iter, tol=tol, random_state=random_state), X),
         lambda: dict(X=X2, n_components=1, beta=1.0, noise_variance=None, max_iter=30, tol=1e-12,
                      random_state=0),
         {"X": "array", "n_components": "int", "beta": "scalar", "noise_variance": "scalar",
          "max_iter": "int", "tol": "scalar", "random_state": "rng"}, target=est.BetaVIFactorAnalysis),
    Case("est.BetaVIOvercompleteICA",
         lambda X, n_components, beta, noise_variance, nu, scale, W_init, max_iter, tol, n_mc_samples,
         random_state: _estimator_outputs(est.BetaVIOvercompleteICA(
             n_components, beta=beta, noise_variance=noise_variance, nu=nu, scale=scale, W_init=W_init,
             max_iter=max_iter, tol=tol, n_mc_samples=n_mc_samples, random_state=random_state), X),
         lambda: dict(X=X2, n_components=3, beta=1.0, noise_variance=0.1, nu=3.5, scale=1.0, W_init=W3,
                      max_iter=10, tol=1e-12, n_mc_samples=16, random_state=0),
         {"X": "array", "n_components": "int", "beta": "scalar", "noise_variance": "scalar",
          "nu": "scalar", "scale": "scalar", "W_init": "array", "max_iter": "int", "tol": "scalar",
          "n_mc_samples": "int", "random_state": "rng"}, target=est.BetaVIOvercompleteICA),
    Case("est.LinearBetaVAE",
         lambda X, n_latents, beta: _estimator_outputs(est.LinearBetaVAE(n_latents, beta=beta), X),
         lambda: dict(X=X2, n_latents=2, beta=0.5), {"X": "array", "n_latents": "int", "beta": "scalar"},
         target=est.LinearBetaVAE),
    Case("tdist.LpNestedDistribution",
         lambda tree, scale, x, size, random_state: (lambda d: (
             d.logpdf(x), d.pdf(x), d.rvs(size, random_state), d.var()))(tdist.LpNestedDistribution(tree, scale)),
         lambda: dict(tree=ISA, scale=1.0, x=Z5, size=3, random_state=0),
         {"tree": "tree", "scale": "scalar", "x": "array", "size": "int", "random_state": "rng"},
         log_density=True, target=tdist.LpNestedDistribution),
    # ---------------------------------------------------------------- deep: priors, objectives
    Case("dp.LpNested.log_prob", lambda tree, scale, z: dp.LpNested(tree, scale, dtype=F64).log_prob(z),
         lambda: dict(tree=ISA, scale=1.0, z=torch.from_numpy(Z5)),
         {"tree": "tree", "scale": "scalar", "z": "tensor"}, log_density=True, target=dp.LpNested),
    Case("dp.LpNestedPrior.log_prob", lambda tree, z: dp.LpNestedPrior(tree).double().log_prob(z),
         lambda: dict(tree=ISA, z=torch.from_numpy(Z5)), {"tree": "tree", "z": "tensor"},
         log_density=True, target=dp.LpNestedPrior),
    Case("dp.parse_prior", dp.parse_prior, lambda: dict(spec="isa:2.1;2*2.2x2"), {"spec": "choice"},
         aliases={"spec": "prior"}),
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
    Case("metrics.higgins_replica_scores", lambda codes, factors, rng, n_train, n_test, L, n_seeds:
         cs.higgins_replica_scores(codes, factors, rng, n_train=n_train, n_test=n_test, L=L,
                                   n_seeds=n_seeds, factor_indices=(0, 1, 2)),
         lambda: dict(codes=CODES, factors=GRID, rng=_rng(), n_train=12, n_test=8, L=3, n_seeds=2),
         {"codes": "array", "factors": "array", "rng": "rng", "n_train": "int", "n_test": "int",
          "L": "int", "n_seeds": "int"}, target=cs.higgins_replica_scores),
    Case("metrics.mean_response", lr_.mean_response,
         lambda: dict(codes=CODES, factors=GRID, factor=1, by=0),
         {"codes": "array", "factors": "array", "factor": "int", "by": "int"}),
    Case("metrics.dominant_frequency", lr_.dominant_frequency,
         lambda: dict(response=np.cos(2 * np.pi * np.arange(8) / 8)), {"response": "array"}),
    Case("metrics.rotation_harmonics", lr_.rotation_harmonics,
         lambda: dict(codes=CODES, factors=GRID, latent=1, shape_factor=0, rotation_factor=2),
         {"codes": "array", "factors": "array", "latent": "int", "shape_factor": "int",
          "rotation_factor": "int"}),
    Case("metrics.kernel_distance", sq_.kernel_distance,
         lambda: dict(a=CODES[:5], b=CODES[5:10], degree=3, coef0=1.0),
         {"a": "array", "b": "array", "degree": "int", "coef0": "scalar"}),
    Case("metrics.sharpness", sq_.sharpness,
         lambda: dict(images=np.arange(18.0).reshape(2, 3, 3)), {"images": "array"}),
    Case("metrics.train_feature_classifier", sq_.train_feature_classifier,
         lambda: dict(x=CODES[:8], y=np.arange(8) % 3, hidden=4, steps=3, lr=1e-2, batch_size=4, seed=0),
         {"x": "array", "y": "array", "hidden": "int", "steps": "int", "lr": "scalar",
          "batch_size": "int", "seed": "int"}),
    Case("metrics.classifier_features", sq_.classifier_features,
         lambda: dict(net=sq_.train_feature_classifier(CODES[:8], np.arange(8) % 3, hidden=4, steps=2),
                      x=CODES[:4]),
         {"net": "object", "x": "array"}),
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
    Case("V.check_device", lambda value: str(V.check_device(value, "value")), lambda: dict(value="cpu"),
         {"value": "choice"}, target=V.check_device),
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
    Case("ica.fit_meanfield stop_at", lambda stop_at: ica.fit_meanfield(
        X2, W3, PSI, 1.0, 3.5, 1.0, max_iter=3, n_nodes=8, tol=1e-6, stop_at=stop_at),
         lambda: dict(stop_at=-50.0), {"stop_at": "scalar"}, target=ica.fit_meanfield),
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


# ---------------------------------------------------------------- deep: fixtures of the cases below
import deep.ensemble as ens  # noqa: E402
import deep.linear_vae as dlv  # noqa: E402
import deep.models.networks as nets  # noqa: E402
import deep.models.posteriors as post  # noqa: E402
import deep.models.vae as dvae  # noqa: E402
import deep.representations as rep  # noqa: E402
import deep.precision as dprecision  # noqa: E402
import deep.train as dtrain  # noqa: E402
import deep.uniqueness as du  # noqa: E402
from deep.metrics import inference_error as ie  # noqa: E402
from deep.metrics import information as info  # noqa: E402
from deep.metrics import posterior_jacobian as pj  # noqa: E402
from deep.metrics import sampled_mig as smig  # noqa: E402
from deep.metrics import summary as msum  # noqa: E402
from deep.metrics import wrappers as mw  # noqa: E402

TINY = dsprites.DSprites(n_scales=1, n_orientations=1, n_positions=2)      # 12 images of 64 × 64
SMALL = dsprites.DSprites(n_scales=2, n_orientations=2, n_positions=2)     # 48: every factor varies
VAE_CFG = dvae.VAEConfig(latent_dim=2, hidden=8, image_size=8)
GAUSS_CFG = dvae.VAEConfig(arch="tanh3", latent_dim=2, widths=(6, 5, 4), image_size=8, likelihood="gaussian",
                           posterior="full")
TRAIN_CFG = dtrain.TrainConfig(epochs=1, batch_size=4)


def _entered(context) -> None:
    """Enter and leave a context manager (what a ``with`` block does with it)."""
    with context:
        pass
IMG8 = np.random.default_rng(6).random((12, 64))
TEMPLATES = digits.digit_templates((0, 1))
MANIFOLD = manifold.random_decoder(2, 3, np.random.default_rng(7), hidden=4)
UDATA = du.make_data(np.array([1, 2]), "tanh", 8, np.random.default_rng(8))
CHOL = post.block_cholesky(_tensor(3, 3, seed=4) * 0.3, 2)                    # (3, 1, 2, 2)


def _images8():
    return stores.ArrayImages(IMG8, 8)


def _gauss_vae():
    torch.manual_seed(0)
    return dvae.build_vae(GAUSS_CFG).double()


def _x8(n=3, seed=0):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed), dtype=F64)


def _fwd(model, x):
    return model(x, _gen())


def _module_out(cls, x, **kw):
    """Build an nn.Module from user parameters and run its forward on ``x`` (float64)."""
    torch.manual_seed(0)
    return cls(**kw).double()(x)


CASES += [
    # ---------------------------------------------------------------- deep.traversal
    Case("trav.latent_traversal", trav.latent_traversal,
         lambda: dict(decode=_decoder(), z_ref=np.array([0.3, -0.2]), dims=[0, 1],
                      values=np.linspace(-1.0, 1.0, 3)),
         {"decode": "object", "z_ref": "array", "values": "array"}),
    Case("trav.kl_per_latent", trav.kl_per_latent,
         lambda: dict(mu=X2.copy(), logvar=0.1 * X2.copy()), {"mu": "array", "logvar": "array"}),
    # ---------------------------------------------------------------- deep.data
    Case("data.DSprites", lambda n_scales, n_orientations, n_positions, binary, index:
         dsprites.DSprites(n_scales, n_orientations, n_positions, binary=binary).images(index),
         lambda: dict(n_scales=1, n_orientations=1, n_positions=2, binary=True, index=np.array([0, 5])),
         {"n_scales": "int", "n_orientations": "int", "n_positions": "int", "binary": "choice",
          "index": "array"}, target=dsprites.DSprites),
    Case("data.factor_values", dsprites.factor_values, lambda: dict(), {}),
    Case("data.patch_table", dsprites.patch_table, lambda: dict(), {}),
    Case("data.calibration_stats", dsprites.calibration_stats, lambda: dict(), {}),
    Case("data.render_full_uint8", dsprites.render_full_uint8,
         lambda: dict(factors_full=np.zeros((2, 5), dtype=np.int64)), {"factors_full": "array"}),
    Case("data.render_packed", dsprites.render_packed, lambda: dict(dataset=TINY, chunk=5, progress=False),
         {"dataset": "object", "chunk": "int"}),
    Case("data.DeviceStore", lambda dataset, device, index: stores.DeviceStore(dataset, device).images(index),
         lambda: dict(dataset=TINY, device="cpu", index=np.array([0, 3])),
         {"dataset": "object", "device": "choice", "index": "array"}, target=stores.DeviceStore),
    Case("data.Subset", lambda dataset, indices, index: stores.Subset(dataset, indices).images(index),
         lambda: dict(dataset=_images8(), indices=np.array([1, 4, 7]), index=np.array([0, 2])),
         {"dataset": "object", "indices": "array", "index": "array"}, target=stores.Subset),
    Case("data.ArrayImages", lambda x, side, index: stores.ArrayImages(x, side).images(index),
         lambda: dict(x=IMG8, side=8, index=np.array([0, 2])), {"x": "array", "side": "int", "index": "array"},
         target=stores.ArrayImages),
    Case("data.unpack_bits", stores.unpack_bits,
         lambda: dict(packed=torch.full((2, 8), 7, dtype=torch.uint8), image_size=8, method="torch"),
         {"packed": "tensor", "image_size": "int", "method": "choice"}),
    Case("data.full_grid", gt.full_grid, lambda: dict(factor_sizes=(2, 3)), {"factor_sizes": "array"}),
    Case("data.check_factor_sizes", gt.check_factor_sizes, lambda: dict(factor_sizes=(2, 3)),
         {"factor_sizes": "array"}),
    Case("data.check_factors", gt.check_factors, lambda: dict(factors=GRID[:3], factor_sizes=(2, 3, 4)),
         {"factors": "array", "factor_sizes": "array"}),
    Case("data.sample_uniform_factors", gt.sample_uniform_factors,
         lambda: dict(n=4, factor_sizes=(2, 3, 4), rng=_rng()), {"n": "int", "factor_sizes": "array", "rng": "rng"}),
    Case("digits.digit_templates", digits.digit_templates, lambda: dict(classes=(0, 1), upsample=1),
         {"classes": "array", "upsample": "int"}),
    Case("digits.paste", digits.paste, lambda: dict(template=TEMPLATES[0], canvas=10, offset=(1, 2)),
         {"template": "array", "canvas": "int", "offset": "array"}),
    Case("digits.digit_mixing_matrix", digits.digit_mixing_matrix,
         lambda: dict(templates=TEMPLATES, canvas=10, mixing=W2), {"templates": "array", "canvas": "int",
                                                                   "mixing": "array"}),
    Case("digits.mixed_digits", digits.mixed_digits,
         lambda: dict(templates=TEMPLATES, n=3, rng=_rng(), canvas=10, mixing=W2, noise_std=0.5),
         {"templates": "array", "n": "int", "rng": "rng", "canvas": "int", "mixing": "array",
          "noise_std": "scalar"}),
    Case("digits.placement_mixing", digits.placement_mixing, lambda: dict(diag=2.0, offset=0.73),
         {"diag": "scalar", "offset": "scalar"}),
    Case("digits.placed_digit", digits.placed_digit,
         lambda: dict(template=TEMPLATES[0], n=3, rng=_rng(), canvas=12, A=W2, pixels_per_unit=1.0),
         {"template": "array", "n": "int", "rng": "rng", "canvas": "int", "A": "array",
          "pixels_per_unit": "scalar"}),
    Case("digits.cell_bounds", digits.cell_bounds,
         lambda: dict(cell=np.array([[1, 2], [2, 1]]), canvas=12, digit=8, pixels_per_unit=1.0),
         {"cell": "array", "canvas": "int", "digit": "int", "pixels_per_unit": "scalar"}),
    Case("digits.digit_split", digits.digit_split, lambda: dict(rng=_rng(), n_test=5),
         {"rng": "rng", "n_test": "int"}),
    Case("manifold.random_decoder", manifold.random_decoder, lambda: dict(k=2, D=3, rng=_rng(), hidden=4),
         {"k": "int", "D": "int", "rng": "rng", "hidden": "int"}),
    Case("manifold.manifold_data", manifold.manifold_data,
         lambda: dict(n=4, weights=MANIFOLD, rng=_rng(), noise=0.1),
         {"n": "int", "weights": "object", "rng": "rng", "noise": "scalar"}),
    Case("manifold.manifold_latents", manifold.manifold_latents,
         lambda: dict(n=4, weights=MANIFOLD, rng=_rng(), noise=0.1),
         {"n": "int", "weights": "object", "rng": "rng", "noise": "scalar"}),
    Case("manifold.decode", manifold.decode, lambda: dict(weights=MANIFOLD, s=X2),
         {"weights": "object", "s": "array"}),
    Case("manifold.decoder_jacobian", manifold.decoder_jacobian, lambda: dict(weights=MANIFOLD, s=X2),
         {"weights": "object", "s": "array"}),
    # ---------------------------------------------------------------- deep.metrics
    Case("metrics.encode_dataset", mw.encode_dataset,
         lambda: dict(model=_vae_tiny64(), dataset=TINY, indices=np.array([0, 3, 5]), batch_size=2),
         {"model": "object", "dataset": "object", "indices": "array", "batch_size": "int"}),
    Case("metrics.mig_sampled_direct", smig.mig_sampled,
         lambda: dict(mu=CODES, logvar=np.full(CODES.shape, -2.0), factors=GRID, n_samples=20, rng=_rng(),
                      chunk_samples=7, chunk_points=9),
         {"mu": "array", "logvar": "array", "factors": "array", "n_samples": "int", "rng": "rng",
          "chunk_samples": "int", "chunk_points": "int"}),
    Case("metrics.zdiff_from_pairs", cs.zdiff_from_pairs,
         lambda: dict(codes=CODES, a=np.array([[0, 1], [2, 3]]), b=np.array([[4, 5], [6, 7]]), chunk=1),
         {"codes": "array", "a": "array", "b": "array", "chunk": "int"}),
    Case("metrics.beta_vae_zdiff", lambda codes, factors, n_points, batch_size:
         cs.beta_vae_zdiff(codes, factors, n_points, batch_size, _rng()),
         lambda: dict(codes=CODES, factors=GRID, n_points=4, batch_size=3),
         {"codes": "array", "factors": "array", "n_points": "int", "batch_size": "int"}, target=cs.beta_vae_zdiff),
    Case("metrics.fit_softmax_classifier", cs.fit_softmax_classifier,
         lambda: dict(x=X2, y=np.arange(6) % 2, n_classes=2, l2=1e-3, maxiter=5),
         {"x": "array", "y": "array", "n_classes": "int", "l2": "scalar", "maxiter": "int"}),
    Case("metrics.predict_softmax", lambda x: cs.predict_softmax(
         cs.fit_softmax_classifier(X2, np.arange(6) % 2, 2, maxiter=5), x),
         lambda: dict(x=X2), {"x": "array"}, target=cs.predict_softmax),
    Case("metrics.beta_vae_accuracy", cs.beta_vae_accuracy,
         lambda: dict(train=(X2, np.arange(6) % 2), test=(X2[:4], np.arange(4) % 2), n_classes=2,
                      classifier="lbfgs", rng=_rng()),
         {"train": "object", "test": "object", "n_classes": "int", "classifier": "choice"}),
    Case("metrics.factor_vae_votes", lambda codes, factors, n_votes, batch_size:
         cs.factor_vae_votes(codes, factors, n_votes, batch_size, _rng()).astype(float),
         lambda: dict(codes=CODES, factors=GRID, n_votes=5, batch_size=3),
         {"codes": "array", "factors": "array", "n_votes": "int", "batch_size": "int"}, target=cs.factor_vae_votes),
    Case("metrics.check_codes_factors", info.check_codes_factors, lambda: dict(codes=CODES, factors=GRID),
         {"codes": "array", "factors": "array"}),
    Case("metrics.histogram_discretize", info.histogram_discretize, lambda: dict(codes=CODES, bins=4),
         {"codes": "array", "bins": "int"}),
    Case("metrics.mutual_info_matrix", info.mutual_info_matrix,
         lambda: dict(discrete_codes=GRID[:, :2], factors=GRID), {"discrete_codes": "array", "factors": "array"}),
    Case("metrics.mig_from_mi", info.mig_from_mi,
         lambda: dict(mi=np.array([[0.5, 0.1], [0.2, 0.4]]), entropies=np.array([0.7, 0.9])),
         {"mi": "array", "entropies": "array"}),
    Case("ie.signed_permutations", ie.signed_permutations, lambda: dict(k=2), {"k": "int"}),
    Case("ie.apply_signed_permutation", ie.apply_signed_permutation,
         lambda: dict(Q=np.array([[0.0, -1.0], [1.0, 0.0]]), mu=X2, var=np.abs(X2) + 0.1),
         {"Q": "array", "mu": "array", "var": "array"}),
    Case("ie.gaussian_posterior", ie.gaussian_posterior, lambda: dict(x=X2[:, :1].repeat(3, 1), A=W3.T,
                                                                       noise_std=0.5),
         {"x": "array", "A": "array", "noise_std": "scalar"}),
    Case("ie.gaussian_kl_per_point", ie.gaussian_kl_per_point,
         lambda: dict(mu=X2, var=np.abs(X2) + 0.1, post_mean=X2 * 0.5, post_cov=S22),
         {"mu": "array", "var": "array", "post_mean": "array", "post_cov": "array"}),
    Case("ie.log_ndtr_diff", ie.log_ndtr_diff, lambda: dict(a=np.array([-1.0, 0.5]), b=np.array([0.0, 2.0])),
         {"a": "array", "b": "array"}, log_density=True),
    Case("ie.placement_log_evidence", ie.placement_log_evidence,
         lambda: dict(lo=np.array([[-1.0, -0.5]]), hi=np.array([[0.0, 0.5]]), A=W2),
         {"lo": "array", "hi": "array", "A": "array"}, log_density=True),
    Case("ie.placement_kl", ie.placement_kl,
         lambda: dict(mu=X2[:1], var=np.array([[0.5, 0.4]]), lo=np.array([[-1.0, -0.5]]),
                      hi=np.array([[0.0, 0.5]]), A=W2),
         {"mu": "array", "var": "array", "lo": "array", "hi": "array", "A": "array"}),
    Case("ie.aligned_tie", ie.aligned_tie,
         lambda: dict(kl_fn=lambda m, v: ie.gaussian_kl_per_point(m, v, X2 * 0.5, S22), mu=X2,
                      var=np.abs(X2) + 0.1),
         {"kl_fn": "object", "mu": "array", "var": "array"}),
    Case("ie.aligned_abs_correlation", ie.aligned_abs_correlation, lambda: dict(codes=X2, targets=X2[:, ::-1]),
         {"codes": "array", "targets": "array"}),
    Case("pj.block_mask", lambda d, block: pj.block_mask(d, block).double(), lambda: dict(d=4, block=2),
         {"d": "int", "block": "int"}, target=pj.block_mask),
    Case("pj.eq11_relative_error", pj.eq11_relative_error,
         lambda: dict(precision=torch.eye(2, dtype=F64).expand(3, 2, 2) * 2, M=torch.eye(2, dtype=F64).expand(3, 2, 2) * 3,
                      mask=torch.ones(2, 2, dtype=torch.bool)),
         {"precision": "tensor", "M": "tensor", "mask": "tensor"}),
    Case("pj.off_block_energy", pj.off_block_energy,
         lambda: dict(G=_tensor(3, 2, 2) + 2, mask=torch.eye(2, dtype=torch.bool)), {"G": "tensor", "mask": "tensor"}),
    Case("pj.column_coherence", pj.column_coherence,
         lambda: dict(G=torch.eye(2, dtype=F64).expand(3, 2, 2) * 2 + 0.1), {"G": "tensor"}),
    Case("pj.largest_principal_angle", pj.largest_principal_angle,
         lambda: dict(A=_tensor(3, 4, 2), B=_tensor(3, 4, 2) + 1), {"A": "tensor", "B": "tensor"}),
    Case("pj.spectrum_log_ratio", pj.spectrum_log_ratio,
         lambda: dict(P=torch.eye(2, dtype=F64).expand(3, 2, 2) * 2, Q=torch.eye(2, dtype=F64).expand(3, 2, 2) * 3),
         {"P": "tensor", "Q": "tensor"}),
    Case("pj.metric_curve_lengths", pj.metric_curve_lengths,
         lambda: dict(decode=lambda z: z * 2.0, precision=lambda x: torch.eye(2, dtype=F64).expand(len(x), 2, 2) * 5,
                      z_a=_tensor(3, 2), z_b=_tensor(3, 2, seed=1), beta=1.0, n_points=3),
         {"decode": "object", "precision": "object", "z_a": "tensor", "z_b": "tensor", "beta": "scalar",
          "n_points": "int"}),
    Case("pj.model_geometry", pj.model_geometry, lambda: dict(model=_gauss_vae(), x=_x8(), beta=1.0),
         {"model": "object", "x": "tensor", "beta": "scalar"}),
    Case("pj.objective_values", pj.objective_values,
         lambda: dict(model=_gauss_vae(), x=_x8(), beta=1.0, n_samples=2, generator=_gen()),
         {"model": "object", "x": "tensor", "beta": "scalar", "n_samples": "int", "generator": "generator"}),
    Case("summary.active_units", msum.active_units, lambda: dict(mu=X2, threshold=0.01),
         {"mu": "array", "threshold": "scalar"}),
    Case("summary.heldout_terms", msum.heldout_terms, lambda: dict(model=_vae(), x=_x8(), generator=_gen()),
         {"model": "object", "x": "tensor", "generator": "generator"}),
    Case("summary.evaluate_vae", lambda model, dataset, heldout, n_train, mig_bins: msum.evaluate_vae(
         model, dataset, heldout, n_train=n_train, n_test=4, batch_size=2, mig_samples=10, mig_bins=mig_bins),
         lambda: dict(model=_vae_tiny64(), dataset=SMALL, heldout=np.array([0, 5]), n_train=4, mig_bins=3),
         {"model": "object", "dataset": "object", "heldout": "array", "n_train": "int", "mig_bins": "int"},
         target=msum.evaluate_vae),
    Case("summary.evaluate_vaes", lambda models, dataset, heldout, replicas, workers: msum.evaluate_vaes(
         models, dataset, heldout, replicas=replicas, n_train=4, n_test=4, batch_size=2, mig_samples=10,
         mig_bins=3, workers=workers),
         lambda: dict(models=[_vae_tiny64()], dataset=SMALL, heldout=np.array([0, 5]), replicas=[0], workers=1),
         {"models": "object", "dataset": "object", "heldout": "array", "replicas": "object",
          "workers": "int"}, target=msum.evaluate_vaes),
    Case("summary.factor_response_of", msum.factor_response_of,
         lambda: dict(mu=CODES, factors=GRID, bins=3, shape_factor=0, orientation_factor=2),
         {"mu": "array", "factors": "array", "bins": "int", "shape_factor": "int",
          "orientation_factor": "int"}),
    # ---------------------------------------------------------------- deep.models
    Case("dist.gaussian_log_density", dist.gaussian_log_density,
         lambda: dict(z=_tensor(3, 2), mu=_tensor(3, 2, seed=1), logvar=_tensor(3, 2, seed=2) * 0.1),
         {"z": "tensor", "mu": "tensor", "logvar": "tensor"}, log_density=True),
    Case("dist.kl_diag_gaussian_std_normal", dist.kl_diag_gaussian_std_normal,
         lambda: dict(mu=_tensor(3, 2), logvar=_tensor(3, 2, seed=2) * 0.1), {"mu": "tensor", "logvar": "tensor"}),
    Case("dist.sample_diag_gaussian", dist.sample_diag_gaussian,
         lambda: dict(mu=_tensor(3, 2), logvar=_tensor(3, 2, seed=2) * 0.1, generator=_gen()),
         {"mu": "tensor", "logvar": "tensor", "generator": "generator"}),
    Case("dist.bernoulli_log_likelihood", dist.bernoulli_log_likelihood,
         lambda: dict(logits=_tensor(3, 4), x=torch.rand(3, 4, generator=_gen(), dtype=F64)),
         {"logits": "tensor", "x": "tensor"}, log_density=True),
    Case("dist.gaussian_log_likelihood", dist.gaussian_log_likelihood,
         lambda: dict(mean=_tensor(3, 4), x=_tensor(3, 4, seed=1), sigma=0.5),
         {"mean": "tensor", "x": "tensor", "sigma": "scalar"}, log_density=True),
    Case("post.parse_posterior", post.parse_posterior, lambda: dict(spec="block:2", latent_dim=4),
         {"spec": "choice", "latent_dim": "int"}, aliases={"spec": "posterior"}),
    Case("post.n_cov_params", post.n_cov_params, lambda: dict(latent_dim=4, block=2),
         {"latent_dim": "int", "block": "int"}),
    Case("post.block_cholesky", post.block_cholesky, lambda: dict(raw=_tensor(3, 6) * 0.3, block=2),
         {"raw": "tensor", "block": "int"}),
    Case("post.block_dense", post.block_dense, lambda: dict(blocks=CHOL), {"blocks": "tensor"}),
    Case("post.sample_block_gaussian", post.sample_block_gaussian,
         lambda: dict(mu=_tensor(3, 2), chol=CHOL, generator=_gen()),
         {"mu": "tensor", "chol": "tensor", "generator": "generator"}),
    Case("post.block_log_density", post.block_log_density,
         lambda: dict(z=_tensor(3, 2, seed=5), mu=_tensor(3, 2), chol=CHOL),
         {"z": "tensor", "mu": "tensor", "chol": "tensor"}, log_density=True),
    Case("post.kl_block_std_normal", post.kl_block_std_normal, lambda: dict(mu=_tensor(3, 2), chol=CHOL),
         {"mu": "tensor", "chol": "tensor"}),
    Case("obj.prior_terms", obj.prior_terms, lambda: dict(model=_vae()), {"model": "object"}),
    Case("obj.kl_term", obj.kl_term, lambda: dict(model=_vae(), fwd=_fwd(_vae(), _x8())),
         {"model": "object", "fwd": "object"}),
    Case("obj.log_qz_matrix", obj.log_qz_matrix,
         lambda: dict(z=_tensor(3, 2), mu=_tensor(3, 2, seed=1), logvar=_tensor(3, 2, seed=2) * 0.1),
         {"z": "tensor", "mu": "tensor", "logvar": "tensor"}, log_density=True),
    Case("obj.kl_decomposition", obj.kl_decomposition,
         lambda: dict(z=_tensor(4, 2), mu=_tensor(4, 2, seed=1), logvar=_tensor(4, 2, seed=2) * 0.1,
                      log_pz=_tensor(4, 2, seed=3) - 2, dataset_size=10, estimator="mss"),
         {"z": "tensor", "mu": "tensor", "logvar": "tensor", "log_pz": "tensor", "dataset_size": "int",
          "estimator": "choice"}),
    Case("obj.density_ratio_tc", obj.density_ratio_tc, lambda: dict(logits=_tensor(4, 2)), {"logits": "tensor"}),
    Case("obj.permute_dims", obj.permute_dims, lambda: dict(z=_tensor(4, 2), generator=_gen()),
         {"z": "tensor", "generator": "generator"}),
    Case("obj.check_posterior", obj.check_posterior, lambda: dict(model="grae", posterior="full", latent_dim=2),
         {"model": "choice", "posterior": "choice", "latent_dim": "int"}),
    Case("obj.GRAE", lambda beta, mode, n_columns, x: obj.GRAE(beta, mode, n_columns)(_gauss_vae(), x, _gen()).loss,
         lambda: dict(beta=1.0, mode="stochastic", n_columns=1, x=_x8()),
         {"beta": "scalar", "mode": "choice", "n_columns": "int", "x": "tensor"}, target=obj.GRAE),
    Case("obj.BetaTCVAE", lambda beta, dataset_size, alpha, gamma, estimator, x:
         obj.BetaTCVAE(beta, dataset_size, alpha=alpha, gamma=gamma, estimator=estimator)(_vae(), x, _gen()).loss,
         lambda: dict(beta=2.0, dataset_size=10, alpha=1.0, gamma=1.0, estimator="mss", x=_x8()),
         {"beta": "scalar", "dataset_size": "int", "alpha": "scalar", "gamma": "scalar", "estimator": "choice",
          "x": "tensor"}, target=obj.BetaTCVAE),
    Case("obj.FactorVAE", lambda gamma, hidden, layers, x:
         _factor_vae(gamma, hidden, layers, x),
         lambda: dict(gamma=5.0, hidden=4, layers=2, x=_x8(4)),
         {"gamma": "scalar", "hidden": "int", "layers": "int", "x": "tensor"}, target=obj.FactorVAE),
    Case("dvae.VAE", lambda likelihood, obs_sigma, block, x: _vae_from_parts(likelihood, obs_sigma, block, x),
         lambda: dict(likelihood="gaussian", obs_sigma=0.5, block=1, x=_x8()),
         {"likelihood": "choice", "obs_sigma": "scalar", "block": "int", "x": "tensor"}, target=dvae.VAE),
    Case("dvae.VAEConfig", lambda arch, latent_dim, hidden, likelihood, obs_sigma, image_size, prior,
         prior_scale, widths, posterior: dvae.VAEConfig(arch, latent_dim, hidden, likelihood, obs_sigma, image_size,
                                                        prior, False, prior_scale, widths, posterior).to_dict(),
         lambda: dict(arch="elu-mlp", latent_dim=4, hidden=8, likelihood="gaussian", obs_sigma=1.0, image_size=8,
                      prior="isa:2.1;2*2.2x2", prior_scale=1.0, widths=(4, 3), posterior="diagonal"),
         {"arch": "choice", "latent_dim": "int", "hidden": "int", "likelihood": "choice", "obs_sigma": "scalar",
          "image_size": "int", "prior": "choice", "prior_scale": "scalar", "widths": "array",
          "posterior": "choice"}, target=dvae.VAEConfig),
    Case("dvae.build_vae", lambda config, x: dvae.build_vae(config).double()(x, _gen()),
         lambda: dict(config=VAE_CFG, x=_x8()), {"config": "object", "x": "tensor"}, target=dvae.build_vae),
    Case("nets.layer_summary", lambda modules: nets.layer_summary(modules),
         lambda: dict(modules=torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LeakyReLU(0.2))),
         {"modules": "object"}, target=nets.layer_summary),
    Case("nets.MLPEncoder", lambda latent_dim, hidden, image_size, x:
         _module_out(nets.MLPEncoder, x, latent_dim=latent_dim, hidden=hidden, image_size=image_size),
         lambda: dict(latent_dim=2, hidden=4, image_size=8, x=_x8()),
         {"latent_dim": "int", "hidden": "int", "image_size": "int", "x": "tensor"}, target=nets.MLPEncoder),
    Case("nets.MLPDecoder", lambda latent_dim, hidden, image_size, z:
         _module_out(nets.MLPDecoder, z, latent_dim=latent_dim, hidden=hidden, image_size=image_size),
         lambda: dict(latent_dim=2, hidden=4, image_size=8, z=_tensor(3, 2)),
         {"latent_dim": "int", "hidden": "int", "image_size": "int", "z": "tensor"}, target=nets.MLPDecoder),
    Case("nets.FCEncoder", lambda latent_dim, widths, image_size, activation, head, x:
         _module_out(nets.FCEncoder, x, latent_dim=latent_dim, widths=widths, image_size=image_size,
                     activation=activation, head=head),
         lambda: dict(latent_dim=2, widths=(4, 3), image_size=8, activation="elu", head=3, x=_x8()),
         {"latent_dim": "int", "widths": "array", "image_size": "int", "activation": "choice", "head": "int",
          "x": "tensor"}, target=nets.FCEncoder),
    Case("nets.FCDecoder", lambda latent_dim, widths, image_size, activation, z:
         _module_out(nets.FCDecoder, z, latent_dim=latent_dim, widths=widths, image_size=image_size,
                     activation=activation),
         lambda: dict(latent_dim=2, widths=(4, 3), image_size=8, activation="tanh", z=_tensor(3, 2)),
         {"latent_dim": "int", "widths": "array", "image_size": "int", "activation": "choice", "z": "tensor"},
         target=nets.FCDecoder),
    Case("nets.TanhMLPEncoder", lambda latent_dim, widths, image_size, x:
         _module_out(nets.TanhMLPEncoder, x, latent_dim=latent_dim, widths=widths, image_size=image_size),
         lambda: dict(latent_dim=2, widths=(4, 3, 3), image_size=8, x=_x8()),
         {"latent_dim": "int", "widths": "array", "image_size": "int", "x": "tensor"}, target=nets.TanhMLPEncoder),
    Case("nets.TanhMLPDecoder", lambda latent_dim, widths, image_size, z:
         _module_out(nets.TanhMLPDecoder, z, latent_dim=latent_dim, widths=widths, image_size=image_size),
         lambda: dict(latent_dim=2, widths=(4, 3, 3), image_size=8, z=_tensor(3, 2)),
         {"latent_dim": "int", "widths": "array", "image_size": "int", "z": "tensor"}, target=nets.TanhMLPDecoder),
    Case("nets.EluConvEncoder", lambda latent_dim, image_size, head, x:
         _module_out(nets.EluConvEncoder, x, latent_dim=latent_dim, image_size=image_size, head=head),
         lambda: dict(latent_dim=2, image_size=8, head=3, x=_x8()),
         {"latent_dim": "int", "image_size": "int", "head": "int", "x": "tensor"}, target=nets.EluConvEncoder),
    Case("nets.EluConvDecoder", lambda latent_dim, image_size, z:
         _module_out(nets.EluConvDecoder, z, latent_dim=latent_dim, image_size=image_size),
         lambda: dict(latent_dim=2, image_size=8, z=_tensor(3, 2)),
         {"latent_dim": "int", "image_size": "int", "z": "tensor"}, target=nets.EluConvDecoder),
    Case("nets.ConvEncoder", lambda latent_dim, hidden, image_size, x:
         _module_out(nets.ConvEncoder, x, latent_dim=latent_dim, hidden=hidden, image_size=image_size),
         lambda: dict(latent_dim=2, hidden=4, image_size=64, x=torch.rand(2, 1, 64, 64, dtype=F64,
                                                                          generator=_gen())),
         {"latent_dim": "int", "hidden": "int", "image_size": "int", "x": "tensor"}, target=nets.ConvEncoder),
    Case("nets.ConvDecoder", lambda latent_dim, hidden, image_size, z:
         _module_out(nets.ConvDecoder, z, latent_dim=latent_dim, hidden=hidden, image_size=image_size),
         lambda: dict(latent_dim=2, hidden=4, image_size=64, z=_tensor(2, 2)),
         {"latent_dim": "int", "hidden": "int", "image_size": "int", "z": "tensor"}, target=nets.ConvDecoder),
    Case("nets.Discriminator", lambda latent_dim, hidden, layers, z:
         _module_out(nets.Discriminator, z, latent_dim=latent_dim, hidden=hidden, layers=layers),
         lambda: dict(latent_dim=2, hidden=4, layers=2, z=_tensor(3, 2)),
         {"latent_dim": "int", "hidden": "int", "layers": "int", "z": "tensor"}, target=nets.Discriminator),
    # ---------------------------------------------------------------- deep.priors, regularizers
    Case("dp.LearnableLpNested", lambda tree, scale, learn_root, z:
         dp.LearnableLpNested(tree, scale, learn_root).double().log_prob(z),
         lambda: dict(tree=ISA, scale=1.0, learn_root=True, z=torch.from_numpy(Z5)),
         {"tree": "tree", "scale": "scalar", "learn_root": "choice", "z": "tensor"}, log_density=True,
         target=dp.LearnableLpNested),
    Case("dp.format_prior", dp.format_prior, lambda: dict(tree=ISA), {"tree": "tree"}),
    Case("dp.resolve_prior", dp.resolve_prior, lambda: dict(spec="isa", learn_exponents=True),
         {"spec": "choice", "learn_exponents": "choice"}, aliases={"spec": "prior"}),
    Case("reg.decoder_jacobian", reg.decoder_jacobian, lambda: dict(decoder=_decoder(), z=_tensor(3, 2)),
         {"decoder": "object", "z": "tensor"}),
    Case("reg.jacobian_columns", reg.jacobian_columns,
         lambda: dict(decoder=_decoder(), z=_tensor(3, 2), directions=_tensor(1, 3, 2, seed=1)),
         {"decoder": "object", "z": "tensor", "directions": "tensor"}),
    Case("reg.orthogonality_penalty", reg.orthogonality_penalty,
         lambda: dict(decoder=_decoder(), z=_tensor(3, 2), mode="stochastic", n_pairs=1, generator=_gen(),
                      hess_diag=-torch.ones(3, 3, dtype=F64), eps=1e-12),
         {"decoder": "object", "z": "tensor", "mode": "choice", "n_pairs": "int", "generator": "generator",
          "hess_diag": "tensor", "eps": "scalar"}),
    Case("reg.bernoulli_hess_diag", reg.bernoulli_hess_diag,
         lambda: dict(x=torch.tensor([[0.0, 1.0]], dtype=F64), probs=torch.tensor([[0.2, 0.7]], dtype=F64)),
         {"x": "tensor", "probs": "tensor"}),
    Case("reg.grae_approx_loss", lambda x, beta, n_columns, observation:
         reg.grae_approx_loss(lambda v: v[:, :2], _decoder(), x, beta, n_columns, _gen(), observation),
         lambda: dict(x=torch.rand(3, 3, generator=_gen(), dtype=F64), beta=1.0, n_columns=1,
                      observation="bernoulli"),
         {"x": "tensor", "beta": "scalar", "n_columns": "int", "observation": "choice"}, target=reg.grae_approx_loss),
    # ---------------------------------------------------------------- deep.representations
    Case("rep.fit_pca", rep.fit_pca, lambda: dict(dataset=_images8(), rows=np.arange(10), n_components=2,
                                                   chunk=4, max_iter=3, seed=0),
         {"dataset": "object", "rows": "array", "n_components": "int", "chunk": "int", "max_iter": "int",
          "seed": "int"}),
    Case("rep.fit_fastica", rep.fit_fastica,
         lambda: dict(dataset=_images8(), rows=np.arange(10), n_components=2, seed=0, max_iter=5, tol=1e-2),
         {"dataset": "object", "rows": "array", "n_components": "int", "seed": "int", "max_iter": "int",
          "tol": "scalar"}),
    Case("rep.linear_codes", lambda dataset, chunk: rep.linear_codes(dataset, _pca_fit(), chunk)(np.arange(7)),
         lambda: dict(dataset=_images8(), chunk=5), {"dataset": "object", "chunk": "int"}, target=rep.linear_codes),
    Case("rep.pixel_codes", lambda dataset, chunk: rep.pixel_codes(dataset, chunk)(np.arange(7)),
         lambda: dict(dataset=_images8(), chunk=5), {"dataset": "object", "chunk": "int"}, target=rep.pixel_codes),
    Case("rep.vae_mean_codes", rep.vae_mean_codes,
         lambda: dict(encoder=_vae_float(), dataset=_images8(), rows=np.arange(5), batch_size=2),
         {"encoder": "object", "dataset": "object", "rows": "array", "batch_size": "int"}),
    # ---------------------------------------------------------------- deep.train, ensemble
    Case("train.TrainConfig", lambda epochs, batch_size, lr, aux_lr, seed, prior_lr:
         dtrain.TrainConfig(epochs, batch_size, lr, aux_lr, seed, prior_lr).to_dict(),
         lambda: dict(epochs=1, batch_size=4, lr=1e-3, aux_lr=1e-4, seed=0, prior_lr=1e-3),
         {"epochs": "int", "batch_size": "int", "lr": "scalar", "aux_lr": "scalar", "seed": "int",
          "prior_lr": "scalar"}, target=dtrain.TrainConfig),
    Case("train.seeded_init", lambda build, seed: dtrain.seeded_init(build, seed),
         lambda: dict(build=lambda: torch.randn(2, dtype=F64), seed=3), {"build": "object", "seed": "int"},
         target=dtrain.seeded_init),
    Case("train.epoch_order", lambda seed, epoch, n: dtrain.epoch_order(seed, epoch, n).astype(float),
         lambda: dict(seed=0, epoch=1, n=5), {"seed": "int", "epoch": "int", "n": "int"}, target=dtrain.epoch_order),
    Case("train.step_generator", lambda seed, step, device: torch.rand(2, generator=dtrain.step_generator(
         seed, step, device), dtype=F64), lambda: dict(seed=0, step=3, device="cpu"),
         {"seed": "int", "step": "int", "device": "choice"}, target=dtrain.step_generator),
    Case("train.as_batch", dtrain.as_batch, lambda: dict(images=IMG8[:2].reshape(2, 1, 8, 8), device="cpu",
                                                         dtype=F64),
         {"images": "array", "device": "choice", "dtype": "choice"}),
    Case("train.train_step", lambda x, step: _train_step(x, step), lambda: dict(x=_x8(), step=0),
         {"x": "tensor", "step": "int"}, target=dtrain.train_step),
    Case("precision.resolve_precision", dprecision.resolve_precision,
         lambda: dict(precision="bf16", device="cpu"), {"precision": "choice", "device": "choice"}),
    Case("precision.precision_scope", lambda precision, device: _entered(
        dprecision.precision_scope(precision, device)), lambda: dict(precision="tf32", device="cuda"),
         {"precision": "choice", "device": "choice"}, target=dprecision.precision_scope),
    Case("precision.autocast", lambda precision, device: _entered(dprecision.autocast(precision, device)),
         lambda: dict(precision="bf16", device="cpu"), {"precision": "choice", "device": "choice"},
         target=dprecision.autocast),
    Case("train.parameter_groups", lambda model, config: len(dtrain.parameter_groups(model, config)),
         lambda: dict(model=_vae(), config=TRAIN_CFG), {"model": "object", "config": "object"},
         target=dtrain.parameter_groups),
    Case("train.build_optimizer", lambda groups, config: type(dtrain.build_optimizer(groups, config)).__name__,
         lambda: dict(groups=dtrain.parameter_groups(_vae(), TRAIN_CFG), config=TRAIN_CFG),
         {"groups": "object", "config": "object"}, target=dtrain.build_optimizer),
    Case("train.Trainer", lambda model, objective, dataset, config, device:
         dtrain.Trainer(model, objective, dataset, config, device).run_step(),
         lambda: dict(model=_vae(), objective=obj.BetaVAE(1.0), dataset=_images8(), config=TRAIN_CFG, device="cpu"),
         {"model": "object", "objective": "object", "dataset": "object", "config": "object", "device": "choice"},
         target=dtrain.Trainer),
    Case("ens.build_members", lambda vae_config, objective, members, dataset_size, disc_hidden:
         len(ens.build_members(vae_config, objective, members, dataset_size=dataset_size, disc_hidden=disc_hidden,
                               dtype=F64)[0]),
         lambda: dict(vae_config=VAE_CFG, objective="beta-tcvae", members=[{"seed": 0, "beta": 2.0, "gamma": 1.5}],
                      dataset_size=12, disc_hidden=4),
         {"vae_config": "object", "objective": "choice", "members": "object", "dataset_size": "int",
          "disc_hidden": "int"}, target=ens.build_members),
    Case("ens.Ensemble", lambda models, objectives, seeds, dataset, config, device:
         ens.Ensemble(models, objectives, seeds, dataset, config, device).run_step(),
         lambda: dict(**_members(), dataset=_images8(), config=TRAIN_CFG, device="cpu"),
         {"models": "object", "objectives": "object", "seeds": "object", "dataset": "object", "config": "object",
          "device": "choice"}, target=ens.Ensemble),
    Case("ens.SequentialMembers", lambda models, objectives, seeds, dataset, config, device:
         ens.SequentialMembers(models, objectives, seeds, dataset, config, device).run_step(),
         lambda: dict(**_members(), dataset=_images8(), config=TRAIN_CFG, device="cpu"),
         {"models": "object", "objectives": "object", "seeds": "object", "dataset": "object", "config": "object",
          "device": "choice"}, target=ens.SequentialMembers),
    # ---------------------------------------------------------------- deep.linear_vae
    Case("dlv.LinearVAE", lambda N, k, generator, init_scale, x: dlv.LinearVAE(
         N, k, generator=generator, init_scale=init_scale).terms(x, _gen()),
         lambda: dict(N=3, k=2, generator=_gen(), init_scale=0.1, x=_tensor(4, 3)),
         {"N": "int", "k": "int", "generator": "generator", "init_scale": "scalar", "x": "tensor"},
         target=dlv.LinearVAE),
    Case("dlv.sample_data", dlv.sample_data, lambda: dict(A=W3.T, n=4, generator=_gen()),
         {"A": "array", "n": "int", "generator": "generator"}),
    Case("dlv.train", lambda A, beta, generator, steps, batch, lr, lr_final:
         dlv.train(A, beta, generator=generator, steps=steps, batch=batch, lr=lr, lr_final=lr_final)[1],
         lambda: dict(A=W3.T, beta=1.0, generator=_gen(), steps=3, batch=4, lr=0.02, lr_final=1e-3),
         {"A": "array", "beta": "scalar", "generator": "generator", "steps": "int", "batch": "int", "lr": "scalar",
          "lr_final": "scalar"}, target=dlv.train),
    Case("dlv.mc_objective", lambda model, A, beta, generator, n: dlv.mc_objective(
         model, A, beta, generator=generator, n=n), lambda: dict(model=dlv.LinearVAE(3, 2, generator=_gen()), A=W3.T,
                                                               beta=1.0, generator=_gen(), n=10),
         {"model": "object", "A": "array", "beta": "scalar", "generator": "generator", "n": "int"},
         target=dlv.mc_objective),
    # ---------------------------------------------------------------- deep.uniqueness
    Case("du.resolve_device", lambda device: str(du.resolve_device(device)), lambda: dict(device="cpu"),
         {"device": "choice"}, target=du.resolve_device),
    Case("du.make_data", du.make_data,
         lambda: dict(n_per_trial=np.array([1, 2]), nonlinearity="tanh", n_samples=6, rng=_rng(), noise_std=0.05),
         {"n_per_trial": "array", "nonlinearity": "choice", "n_samples": "int", "rng": "rng", "noise_std": "scalar"}),
    Case("du.lr_schedule", du.lr_schedule, lambda: dict(step=3, n=np.array([2, 4]), lr0=0.1, n_phases=5),
         {"step": "int", "n": "array", "lr0": "scalar", "n_phases": "int"}),
    Case("du.train_uniqueness", du.train_uniqueness,
         lambda: dict(data=UDATA, covariance="diagonal", amortized=False, generator=_gen(), dtype=F64,
                      noise_std=0.05, lr0=0.1, eval_samples=2, optimizer="gd"),
         {"data": "object", "covariance": "choice", "amortized": "choice", "generator": "generator",
          "noise_std": "scalar", "lr0": "scalar", "eval_samples": "int", "optimizer": "choice"}),
    Case("du.train_uniqueness_newton", du.train_uniqueness_newton,
         lambda: dict(data=UDATA, covariance="diagonal", amortized=False, generator=_gen(), noise_std=0.05,
                      quad_order=2, warmup=2, hess_points=4, tol=1e-6),
         {"data": "object", "covariance": "choice", "amortized": "choice", "generator": "generator",
          "noise_std": "scalar", "quad_order": "int", "warmup": "int", "hess_points": "int", "tol": "scalar"}),
    Case("du.gauss_hermite_2d", du.gauss_hermite_2d, lambda: dict(order=2, dtype=F64),
         {"order": "int", "dtype": "choice"}),
    Case("du.point_neg_elbo", du.point_neg_elbo,
         lambda: dict(A=torch.eye(2, dtype=F64), b=torch.zeros(2, dtype=F64), mu=_tensor(3, 2),
                      L=torch.eye(2, dtype=F64)[None] * 0.5, x=_tensor(3, 2, seed=1), nonlin=torch.tanh,
                      covariance="full", nodes=du.gauss_hermite_2d(2)[0], weights=du.gauss_hermite_2d(2)[1],
                      sigma2=0.01),
         {"A": "tensor", "b": "tensor", "mu": "tensor", "L": "tensor", "x": "tensor", "nonlin": "object",
          "covariance": "choice", "nodes": "tensor", "weights": "tensor", "sigma2": "scalar"}),
    Case("du.point_grad_hess", du.point_grad_hess,
         lambda: dict(u=_tensor(3, 10) * 0.3, x=_tensor(3, 2, seed=1), o=None, nonlinearity="tanh",
                      covariance="diagonal", nodes=du.gauss_hermite_2d(2)[0], weights=du.gauss_hermite_2d(2)[1],
                      sigma2=0.01, hessian=True),
         {"u": "tensor", "x": "tensor", "nonlinearity": "choice", "covariance": "choice", "nodes": "tensor",
          "weights": "tensor", "sigma2": "scalar", "hessian": "choice"}),
]


def _vae_tiny64():
    torch.manual_seed(0)
    return dvae.build_vae(dvae.VAEConfig(latent_dim=2, hidden=4, image_size=64))


def _vae_float():
    torch.manual_seed(0)
    return dvae.build_vae(VAE_CFG)


def _pca_fit():
    return rep.fit_pca(_images8(), np.arange(10), 2, chunk=4, max_iter=3)


def _factor_vae(gamma, hidden, layers, x):
    torch.manual_seed(0)
    objective = obj.FactorVAE(gamma, 2, hidden, layers).double()
    return objective(_vae(), x, _gen(), perm_keys=None).loss


def _vae_from_parts(likelihood, obs_sigma, block, x):
    torch.manual_seed(0)
    enc = nets.MLPEncoder(2, 4, 8).double()
    dec = nets.MLPDecoder(2, 4, 8).double()
    return dvae.VAE(enc, dec, dist.StandardNormalPrior(2), likelihood, obs_sigma, block)(x, _gen())


def _train_step(x, step):
    model = _vae()
    objective = obj.BetaVAE(1.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return dtrain.train_step(model, objective, opt, None, x, _gen(), step)


def _members():
    models, objectives, seeds = ens.build_members(VAE_CFG, "beta-vae", [{"seed": 0, "beta": 1.0},
                                                                        {"seed": 1, "beta": 2.0}],
                                                  dataset_size=12, dtype=torch.float32)
    return dict(models=models, objectives=objectives, seeds=seeds)


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
    assert_contract(case.fn, kwargs, name, case.log_density, case.aliases)


_BAD_ARGUMENT_SETTINGS = test_one_bad_argument_is_rejected_by_name_or_harmless._hypothesis_internal_use_settings


@pytest.fixture(autouse=True)
def _one_settings_level_per_case():
    """Hypothesis's pytest plugin (6.170) gives a parametrized @given test new settings at every
    invocation, whose parent is the settings of the invocation before, so the chain grows by one
    per case and reading a setting recurses through all of it: past ~1,000 cases of
    test_one_bad_argument_is_rejected_by_name_or_harmless it raised RecursionError. Each case
    starts again from the test's own settings."""
    yield
    test_one_bad_argument_is_rejected_by_name_or_harmless._hypothesis_internal_use_settings = \
        _BAD_ARGUMENT_SETTINGS


# ----------------------------------------------------------------------------- coverage

#: the packages whose public callables the suite must cover
PACKAGES = ("theory", "linear_models", "deep", "validation")

#: public callables deliberately without a case: {qualified name: reason}
EXEMPT = {
    "deep.progress.bar": "a progress display (output on a terminal only); tests/deep/test_progress.py",
    "deep.progress.shown": "whether a progress bar is drawn (a bool of the environment); "
                           "tests/deep/test_progress.py",
    "validation.check_module_input": "a validator: its errors are the contract of the model calls "
                                     "that use it (tests/test_bad_input_families.py)",
    "validation.Constraint": "abstract base of the constraints (its check raises NotImplementedError); "
                             "every concrete constraint has a case",
    "validation.training_forward": "a context manager without arguments; its effect on "
                                   "check_tensor is tested in tests/test_validation.py",
    "validation.to_numpy": "a conversion without checks by design (the checks that call it validate "
                           "its output); exercised by every as_float_array case",
    "deep.data.ground_truth.GroundTruthData": "a typing.Protocol: an interface with no behaviour",
    "deep.train.NonFiniteLossError": "an exception class, raised by train_step (case train.train_step)",
    "deep.models.objectives.ObjectiveOutput": "the dataclass the objectives return; built by them "
                                              "(cases obj.BetaVAE, obj.BetaTCVAE, obj.FactorVAE, obj.GRAE)",
    "deep.uniqueness.UniquenessData": "dataclass built by make_data (case du.make_data) and "
                                      "type-checked by the trainers that take it",
    "theory.linear_vae.LinearVAEParams": "NamedTuple without checks of its own: check_params validates "
                                         "it, and every case taking params fuzzes its six fields",
    "linear_models.factor_analysis.FAFit": "result dataclass of fit_ml (case fa.fit_ml)",
    "linear_models.ica.ICAFit": "result dataclass of fit_meanfield (case ica.fit_meanfield)",
    "linear_models.linear_vae.LinearVAEOptimum": "result dataclass of optimum (case lvae.optimum)",
    "linear_models.linear_vae.NumericalSolution": "result dataclass of solve_optimality "
                                                  "(case lvae.solve_optimality)",
    "linear_models.estimators.BetaVIFAFit": "result dataclass of fit_beta_vi_fa (case est.fit_beta_vi_fa)",
    "linear_models.estimators.ConvergenceWarning": "a warning class, emitted by the estimators' fit "
                                                   "(tests/linear_models/test_estimators.py)",
    "linear_models.estimators.NotFittedError": "an exception class, raised by the estimators' methods "
                                               "before fit (tests/linear_models/test_estimators.py)",
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
