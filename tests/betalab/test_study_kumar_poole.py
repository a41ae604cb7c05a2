"""The Kumar & Poole studies run in quick mode, return figures and no failing claims."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from betalab.registry import StudyConfig, get


def _check(name, check_claims, seed=1):
    result = get(name)(StudyConfig(seed=seed))
    assert result.figures and result.claims
    check_claims(name, result.claims)
    plt.close("all")
    return result


def test_posterior_jacobian_study(check_claims):
    r = _check("kp-posterior-jacobian", check_claims)
    assert r.numbers["eq11_argmax_max_abs_err"] < 1e-5
    # the corrected gap is the difference of the two objectives (independently computed)
    assert abs(r.numbers["gap_corrected"] - r.numbers["gap_direct"]) < 1e-10
    # sec. 7: β on the KL term is a decoder covariance βI, not (1/β)I
    eq = r.numbers["decoder_covariance_equivalence"]
    assert eq["err_beta"] < 1e-6 < 1e-2 < eq["err_printed_1_over_beta"]


def test_linear_gaussian_oracles_against_monte_carlo():
    """The study's exact objective and posterior (the oracles of its claims) against Monte Carlo
    and against Bayes' rule on a grid (independent of both closed forms)."""
    import numpy as np
    from scipy import stats

    from betalab.studies.kumar_poole import linear_gaussian_objective, linear_gaussian_posterior

    rng = np.random.default_rng(2)
    A, b, x = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=3)
    mu, S = rng.normal(size=2), np.array([[0.5, 0.1], [0.1, 0.3]])
    n = 400_000
    z = rng.multivariate_normal(mu, S, size=n)
    lp = stats.multivariate_normal(np.zeros(3), 0.7 * np.eye(3)).logpdf(x - z @ A.T - b)
    kl = stats.multivariate_normal(mu, S).entropy() * -1 - stats.multivariate_normal(
        np.zeros(2), np.eye(2)).logpdf(z).mean()
    se = lp.std() / np.sqrt(n)
    mc = lp.mean() - 2.0 * kl
    exact = linear_gaussian_objective(x, A, b, mu, S, 2.0, noise_var=0.7)
    assert abs(mc - exact) < 4 * se + 4 * 2.0 * 0.01  # MC KL cross-entropy term has se < 0.01
    # posterior by normalising prior × likelihood on a grid
    m, C = linear_gaussian_posterior(x, A, b, 0.7)
    g = np.linspace(-6, 6, 401)
    Z = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    w = np.exp(stats.multivariate_normal(np.zeros(2), np.eye(2)).logpdf(Z)
               + stats.multivariate_normal(np.zeros(3), 0.7 * np.eye(3)).logpdf(x - Z @ A.T - b))
    w /= w.sum()
    mean = w @ Z
    np.testing.assert_allclose(mean, m, atol=1e-4)
    np.testing.assert_allclose((Z - mean).T @ (w[:, None] * (Z - mean)), C, atol=1e-4)


def test_nonuniqueness_study(check_claims):
    r = _check("kp-nonuniqueness", check_claims)
    assert r.numbers["max_abs_logdet"] > 1e-3  # the paper's |det J_r| = 1 does not hold
    assert r.numbers["max_err_prior_ratio"] < 1e-5


@pytest.mark.parametrize("nl", ["identity", "tanh", "sigmoid", "elu"])
def test_uniqueness_study(nl, check_claims, study_cache):
    """One ν per test (its four experiments and seeds do not depend on the other ν), so the
    quick study's 16 experiments spread over the test workers; together the four tests check
    every claim of ``kp-uniqueness``. Seed 0 in the session's study cache: the notebook runs
    ν = identity and tanh with the same seeds, and trains them once with these tests."""
    r = get("kp-uniqueness")(StudyConfig(seed=0, params={"nonlinearities": [nl]}))
    assert r.figures
    heads = {c.statement.split(",")[0] for c in r.claims}
    # every subset also carries sec. 3.1's closed-form PPCA claim (ν = identity adds the
    # negative-control experiment, under its own "nu=identity" heading)
    sec31 = {h for h in heads if h.startswith("Sec. 3.1")}
    assert heads - sec31 == {f"nu={nl}"} and len(sec31) == 1
    assert len(r.claims) >= 4  # amortised or not x (alignment, diagonal < full), with their pairs
    # the ledger's names of this ν (and of sec. 3.1); tests/betalab/test_ledger.py checks that
    # every kp-uniqueness name is one of these parts, so the four tests resolve them all
    check_claims("kp-uniqueness", r.claims, ledger_scope=(f"nu={nl},", "Sec. 3.1"))
    plt.close("all")
    if nl == "identity":
        key = "identity/diagonal/amortised"
        # converged diagonal-Σ trials recover the true latents up to a few degrees
        assert r.numbers[key + "/median_abs_angle_final"] < 5.0
        assert len(r.numbers[key]["angle"]) == r.numbers["n_trials_per_experiment"]
        # sec. 3.1: equal column norms leave the unamortised fit's angle set by its initialisation
        assert r.numbers["ppca-equal-norms/unamortised/median_pair_angle_difference"] > 5.0
        assert max(r.numbers["ppca_rotation_meanfield_gap"]["equal_norms"]) < 1e-8
    for am in ("amortised", "unamortised"):
        # two initialisations on the same data: one optimum with diagonal Σ, not with full Σ
        assert r.numbers[f"{nl}/diagonal/{am}/median_pair_angle_difference"] < 1.0
        assert r.numbers[f"{nl}/full/{am}/median_pair_angle_difference"] > 5.0


def test_uniqueness_nonlinearities_are_checked():
    study = get("kp-uniqueness")
    with pytest.raises(ValueError, match="nonlinearities must be distinct values"):
        study(StudyConfig(params={"nonlinearities": ["relu"]}))
    with pytest.raises(ValueError, match="nonlinearities"):
        study(StudyConfig(params={"nonlinearities": []}))
    with pytest.raises(TypeError, match="nonlinearities must be a list"):
        study(StudyConfig(params={"nonlinearities": "tanh"}))


def test_angle_difference_wraps_modulo_90_degrees():
    from betalab.studies.kumar_poole import _angle_difference

    # (−45, 45] angles are defined modulo 90°: 44° and −44° are 2° apart
    assert abs(_angle_difference(44.0, -44.0) + 2.0) < 1e-12
    assert abs(_angle_difference(-44.0, 44.0) - 2.0) < 1e-12
    assert abs(_angle_difference(10.0, 3.0) - 7.0) < 1e-12
    assert _angle_difference(45.0, -45.0) == 0.0


def test_uniqueness_chunks_are_kept_and_resumed(tmp_path, monkeypatch):
    """An interrupted experiment resumes from its finished chunks and gives the same result
    as an uninterrupted run (each chunk has its own seed)."""
    import numpy as np

    from betalab.io import PartialResults
    from betalab.studies import kumar_poole as kp
    from deep import uniqueness as DU

    args = ("identity", "diagonal", True, np.array([1, 3, 2, 4]), 60, 8, [1, 6, 0, 1, 0], "cpu",
            2)
    partial = PartialResults(tmp_path / "partial")
    first = kp._run_uniqueness_experiment(*args, quad_order=2, partial=partial)
    assert len(list((tmp_path / "partial").glob("*.npz"))) == 2
    fresh = kp._run_uniqueness_experiment(*args, quad_order=2)  # no partial results at all
    for k in first:
        np.testing.assert_array_equal(first[k], fresh[k])

    # lose the second chunk: the first is loaded, only the second is trained again
    (tmp_path / "partial" / "identity-diagonal-amortised-chunk1.npz").unlink()
    calls = []
    train = DU.train_uniqueness_newton
    monkeypatch.setattr(DU, "train_uniqueness_newton",
                        lambda data, *a, **kw: calls.append(data.n.tolist()) or train(data, *a,
                                                                                     **kw))
    resumed = kp._run_uniqueness_experiment(*args, quad_order=2, partial=partial)
    assert calls == [[2, 2, 4, 4]]
    for k in first:
        np.testing.assert_array_equal(first[k], resumed[k])

    # other settings do not reuse the kept chunks
    calls.clear()
    kp._run_uniqueness_experiment(*args[:5], 9, *args[6:], quad_order=2, partial=partial)
    assert len(calls) == 2


def test_trained_jacobian_study(check_claims, study_cache):
    """Figs 2, 3, 7 at the quick scale: the digits substitute named in every decided claim, the
    measured Taylor − GRAE gap equal to the corrected formula, the paper-size claims not run.
    Seed 0 in the session's study cache: the notebook's run, whichever trains first."""
    r = _check("kp-trained-jacobian", check_claims, seed=0)
    decided = [c for c in r.claims if c.verdict in ("holds", "fails")]
    assert decided and all("digits" in c.note or "known decoder" in c.note for c in decided)
    # the known-decoder control: decided tangent-space and sec. 5.2 claims; the spectrum claim
    # waits for the cpu scale
    known = [c.verdict for c in r.claims if c.statement.startswith("Known decoder")]
    kinds = [("tangent" if "tangent space" in c.statement else "metric" if "sec. 5.2" in c.statement
              else "spectrum") for c in r.claims if c.statement.startswith("Known decoder")]
    assert dict(zip(kinds, known)) == {"tangent": "holds", "metric": "holds", "spectrum": "not run"}
    assert len(kinds) == 3
    assert {c.verdict for c in r.claims if "MNIST" in c.statement} == {"not run"}
    for key, v in r.numbers["runs"].items():
        # the objectives are minimised quantities above the Gaussian normaliser D/2 log 2π
        assert min(v["beta_vae"]) > 32 * np.log(2 * np.pi), key
    # every statistic along training (25/50/75/100 % of the steps), and its figure
    assert r.numbers["along_steps"] == [100, 200, 300, 400] and "along_training" in r.figures
    assert {"d=8 eq 11", "d=8 block:2 off-block", "manifold full tangent"} <= set(r.numbers["convergence"])


def test_trained_jacobian_pieces_resume(tmp_path, monkeypatch):
    """A finished piece is loaded, not trained again, and gives the same numbers."""
    from betalab.io import PartialResults
    from betalab.studies import kp_trained as kt

    small = {"quick": {**kt.SCALES["quick"], "betas": (0.5,), "steps": 20, "along": kt.ALONG,
                       "posteriors": {8: ("diagonal", "block:2", "full")}, "n_eval": 16, "mc": 4}}
    monkeypatch.setattr(kt, "SCALES", small)
    monkeypatch.setitem(kt.MANIFOLD, "quick", {"posteriors": ("full",), "steps": 20})
    partial = PartialResults(tmp_path / "p")
    first = get("kp-trained-jacobian")(StudyConfig(partial=partial)).numbers
    monkeypatch.setattr(kt, "train_and_evaluate", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    monkeypatch.setattr(kt, "manifold_control", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    again = get("kp-trained-jacobian")(StudyConfig(partial=partial)).numbers
    assert first == again
    plt.close("all")
