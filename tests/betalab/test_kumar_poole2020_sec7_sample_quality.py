"""kp-sample-quality (Kumar & Poole 2020, sec. 7, Fig. 4, Table 1): the quick run keeps the claims
contract; the cpu-scale verdicts follow from the numbers (equal cells hold, separated cells fail,
both against the normal quantile computed independently here); each paper claim is decided only
on its own deciding statistic levelled off along training, and recording it changes neither the
training nor the end point."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from betalab.registry import StudyConfig
from betalab.studies.kumar_poole2020 import sec7_sample_quality as K

FIG4 = "Fig. 4: GRAE≈ and β-VAE samples stay close in sample quality (FID) at every β ≥ 0.01"
TABLE1 = "Table 1: larger β gives blurrier samples, for both β-VAE and GRAE≈"


def test_quick_run_keeps_the_contract(check_claims, study_cache):
    r = K.sample_quality(StudyConfig(scale="quick"))
    check_claims("kp-sample-quality", r.claims)
    assert {c.verdict for c in r.claims if c.kind == "paper"} == {"not run"}
    assert len(r.numbers["runs"]) == 2 * 2 * 2
    assert set(r.figures) == {"fig4_sample_quality", "table1_samples", "fig4_along", "table1_along"}
    # the statistics along training: 4 points, the last the end point
    assert r.numbers["along_steps"] == [75, 150, 225, 300]
    for run in r.numbers["runs"]:
        assert len(run["kid_along"]) == 4 and run["kid_along"][-1] == run["kid"]
        assert run["sharpness_along"][-1] == run["sharpness"]
    conv = r.numbers["convergence"]
    assert set(conv) == {"Fig. 4", "Table 1"}
    assert set(conv["Fig. 4"]["values"]) == {"β = 0.1", "β = 1"}
    assert all(np.shape(v) == (4, 2) for t in conv.values() for v in t["values"].values())


def _trace(values_of_label, labels):
    """A trace on 4 points: ``values_of_label(label)`` gives (4, 5) values."""
    return {"statistic": "s", "steps": [1000, 2000, 3000, 4000],
            "values": {k: values_of_label(k) for k in labels}}


#: levelled off: no move over the last quarter, seed spread 0.1 (the claims are decided)
FLAT = np.tile(np.array([0.0, 0.1, -0.1, 0.2, -0.2]), (4, 1)) + np.array([[0.5], [0.1], [0.0], [0.0]])


def _numbers(kid, sharp, betas=(0.01, 1.0), seeds=5, moving=()):
    """kid / sharp: functions (model, beta, seed) -> value; ``moving``: the claim groups whose
    trace still moves (by 1, far beyond its seed standard error, over the last quarter)."""
    runs = [{"model": m, "beta": b, "seed": s, "kid": kid(m, b, s), "sharpness": sharp(m, b, s)}
            for m in K.MODELS for b in betas for s in range(seeds)]
    step = np.array([[0.0], [0.0], [0.0], [1.0]])
    conv = {"Fig. 4": _trace(lambda k: FLAT + ("Fig. 4" in moving) * step,
                             [f"β = {b:g}" for b in betas]),
            "Table 1": _trace(lambda k: FLAT + ("Table 1" in moving) * step, ["β-VAE", "GRAE≈"])}
    return {"scale": "cpu", "betas": list(betas), "seeds": seeds, "steps": 4000, "kid_real": 0.0,
            "sharpness_real": 1.0, "runs": runs, "convergence": conv}


NOISE = [0.1, -0.1, 0.2, -0.2, 0.0]       # per seed: mean 0, SE sqrt(0.1/4)/sqrt(5) = 0.0707


def _by(numbers):
    return {x.statement.split(" [")[0]: x for x in K.claims_from(numbers)}


def test_cpu_verdicts_follow_the_numbers():
    se = math.hypot(*(2 * [np.std(NOISE, ddof=1) / math.sqrt(5)]))
    z = norm.ppf(1 - 0.05 / 4)                                  # 2 β, two-sided 5%
    same = _numbers(lambda m, b, s: 1.0 + NOISE[s], lambda m, b, s: 0.5 / (1 + b) + 0.01 * NOISE[s])
    c = _by(same)
    assert c[FIG4].verdict == "holds" and c[TABLE1].verdict == "holds"
    assert "levelled off in every trace" in c[FIG4].note
    gap = 1.01 * z * se                                          # just beyond the critical value
    apart = _numbers(lambda m, b, s: 1.0 + NOISE[s] + (gap if m == "grae-approx" else 0.0),
                     lambda m, b, s: 0.5 + 0.01 * NOISE[s])      # no blur trend
    c = _by(apart)
    assert c[FIG4].verdict == "fails" and c[TABLE1].verdict == "fails"
    inside = _numbers(lambda m, b, s: 1.0 + NOISE[s] + (0.99 * z * se if m == "grae-approx" else 0.0),
                      lambda m, b, s: 0.5)
    assert _by(inside)[FIG4].verdict == "holds"


def test_each_claim_waits_for_its_own_statistic():
    """A moving trace sets its own claim to not run (saying so, with the verdict it would have
    read) and leaves the other claim's verdict; no record at all (a run recorded before the
    statistics were kept along training) sets both to not run."""
    kid, sharp = (lambda m, b, s: 1.0 + NOISE[s]), (lambda m, b, s: 0.5 / (1 + b) + 0.01 * NOISE[s])
    c = _by(_numbers(kid, sharp, moving=("Table 1",)))
    assert c[FIG4].verdict == "holds"
    assert c[TABLE1].verdict == "not run" and "not converged" in c[TABLE1].note
    assert "would have read 'holds'" in c[TABLE1].note and "β-VAE" in c[TABLE1].note
    c = _by(_numbers(kid, sharp, moving=("Fig. 4",)))
    assert c[FIG4].verdict == "not run" and c[TABLE1].verdict == "holds"
    bare = _numbers(kid, sharp)
    del bare["convergence"]
    c = _by(bare)
    assert c[FIG4].verdict == c[TABLE1].verdict == "not run"
    assert "no record of the deciding statistic along training" in c[FIG4].note
    check = [x for x in K.claims_from(bare) if x.kind == "check"]
    assert [x.verdict for x in check] == ["holds"]                 # a check is never gated


def test_convergence_traces_are_the_claims_differences():
    """The traces the rule reads: KID(GRAE≈) − KID(β-VAE) per β and seed index, and per model the
    sharpness at the smallest minus that at the largest β, at every point along training."""
    betas = (0.5, 1.0, 4.0)                          # exact binary fractions: exact differences

    def along(m, b, s):
        return [10 * s + b + (m == "grae-approx") * 100 + k for k in range(4)]
    runs = [{"model": m, "beta": b, "seed": s, "kid_along": along(m, b, s),
             "sharpness_along": [-x for x in along(m, b, s)]}
            for m in K.MODELS for b in betas for s in range(3)]
    t = K.convergence_traces({"runs": runs, "betas": list(betas), "seeds": 3,
                              "along_steps": [1, 2, 3, 4]})
    assert set(t["Fig. 4"]["values"]) == {"β = 0.5", "β = 1", "β = 4"}
    np.testing.assert_array_equal(t["Fig. 4"]["values"]["β = 4"], np.full((4, 3), 100.0))
    np.testing.assert_array_equal(t["Table 1"]["values"]["GRAE≈"], np.full((4, 3), 3.5))
    assert K.convergence_traces({"runs": [{"model": "beta-vae", "kid": 0.0}]}) == {}


_TINY = dict(d=2, steps=8, batch=16, widths=(16,), seed=3)


def _digits():
    return np.random.default_rng(0).standard_normal((64, 64))


def test_evaluation_along_training_leaves_training_bit_identical():
    """Decoding prior samples at 25/50/75/100 % of the steps gives the same final parameters,
    bit for bit, as training without it; the net is in training mode after each evaluation."""
    import torch

    seen = []

    def evaluate(net, step):
        K.decode_prior(net, 5, 0)
        seen.append((step, net.training))

    plain = K.train_model(_digits(), "grae-approx", 0.5, **_TINY)
    net = K.train_model(_digits(), "grae-approx", 0.5, **_TINY, evaluate=evaluate, at=[2, 4, 6, 8])
    assert seen == [(2, True), (4, True), (6, True), (8, True)]
    for (k, a), (_, b) in zip(plain.state_dict().items(), net.state_dict().items()):
        assert torch.equal(a, b), k
    with pytest.raises(ValueError, match="at must lie"):
        K.train_model(_digits(), "beta-vae", 0.5, **_TINY, evaluate=evaluate, at=[9])


@pytest.mark.parametrize("model", K.MODELS)
def test_the_end_point_is_the_last_point_along_training(model):
    """The samples a run decodes at its end are those of a run decoded only at its end, and the
    last of its samples along training."""
    end = K.train_and_sample(_digits(), model, 0.5, **_TINY, n_samples=6)
    full = K.train_and_sample(_digits(), model, 0.5, **_TINY, n_samples=6, along=K.ALONG)
    assert end["steps"].tolist() == [8] and end["samples"].shape == (1, 6, 64)
    assert full["steps"].tolist() == [2, 4, 6, 8] and full["samples"].shape == (4, 6, 64)
    np.testing.assert_array_equal(full["samples"][-1], end["samples"][0])
    assert not np.array_equal(full["samples"][0], full["samples"][-1])     # it did train


def test_the_sanity_check_fails_when_a_model_beats_the_data():
    n = _numbers(lambda m, b, s: -1.0, lambda m, b, s: 0.5)
    check = [c for c in K.claims_from(n) if c.kind == "check"][0]
    assert check.verdict == "fails"
    with pytest.raises(ValueError):
        K.train_and_sample(np.zeros((10, 64)), "beta-vae", -1.0, d=2, steps=1, batch=2,
                           widths=(4,), seed=0, n_samples=2)
