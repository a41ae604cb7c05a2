"""kp-sample-quality: the quick run keeps the claims contract; the cpu-scale verdicts follow
from the numbers (equal cells hold, separated cells fail, both against the normal quantile
computed independently here)."""

import math

import numpy as np
import pytest
from scipy.stats import norm

from betalab.registry import StudyConfig
from betalab.studies import kp_samples as K


def test_quick_run_keeps_the_contract(check_claims, study_cache):
    r = K.sample_quality(StudyConfig(scale="quick"))
    check_claims("kp-sample-quality", r.claims)
    assert {c.verdict for c in r.claims if c.kind == "paper"} == {"not run"}
    assert len(r.numbers["runs"]) == 2 * 2 * 2
    assert set(r.figures) == {"fig4_sample_quality", "table1_samples"}


def _numbers(kid, sharp, betas=(0.01, 1.0), seeds=5):
    """kid / sharp: functions (model, beta, seed) -> value."""
    runs = [{"model": m, "beta": b, "seed": s, "kid": kid(m, b, s), "sharpness": sharp(m, b, s)}
            for m in K.MODELS for b in betas for s in range(seeds)]
    return {"scale": "cpu", "betas": list(betas), "seeds": seeds, "steps": 4000, "kid_real": 0.0,
            "sharpness_real": 1.0, "runs": runs,
            # levelled off along training (no move over the last quarter): the claims are decided
            "convergence": {"statistic": "s", "steps": [1, 2, 3, 4],
                            "values": [[0.5, 0.6], [0.7, 0.8], [0.9, 1.0], [0.9, 1.0]]}}


NOISE = [0.1, -0.1, 0.2, -0.2, 0.0]       # per seed: mean 0, SE sqrt(0.1/4)/sqrt(5) = 0.0707


def test_cpu_verdicts_follow_the_numbers():
    se = math.hypot(*(2 * [np.std(NOISE, ddof=1) / math.sqrt(5)]))
    z = norm.ppf(1 - 0.05 / 4)                                  # 2 β, two-sided 5%
    same = _numbers(lambda m, b, s: 1.0 + NOISE[s], lambda m, b, s: 0.5 / (1 + b) + 0.01 * NOISE[s])
    c = {x.statement.split(" [")[0]: x for x in K.claims_from(same)}
    assert c["Fig. 4: GRAE≈ and β-VAE samples stay close in sample quality (FID) at every β ≥ 0.01"].verdict == "holds"
    assert c["Table 1: larger β gives blurrier samples, for both β-VAE and GRAE≈"].verdict == "holds"
    gap = 1.01 * z * se                                          # just beyond the critical value
    apart = _numbers(lambda m, b, s: 1.0 + NOISE[s] + (gap if m == "grae-approx" else 0.0),
                     lambda m, b, s: 0.5 + 0.01 * NOISE[s])      # no blur trend
    c = {x.statement.split(" [")[0]: x for x in K.claims_from(apart)}
    assert c["Fig. 4: GRAE≈ and β-VAE samples stay close in sample quality (FID) at every β ≥ 0.01"].verdict == "fails"
    assert c["Table 1: larger β gives blurrier samples, for both β-VAE and GRAE≈"].verdict == "fails"
    inside = _numbers(lambda m, b, s: 1.0 + NOISE[s] + (0.99 * z * se if m == "grae-approx" else 0.0),
                      lambda m, b, s: 0.5)
    c = {x.statement.split(" [")[0]: x for x in K.claims_from(inside)}
    assert c["Fig. 4: GRAE≈ and β-VAE samples stay close in sample quality (FID) at every β ≥ 0.01"].verdict == "holds"


def test_the_sanity_check_fails_when_a_model_beats_the_data():
    n = _numbers(lambda m, b, s: -1.0, lambda m, b, s: 0.5)
    check = [c for c in K.claims_from(n) if c.kind == "check"][0]
    assert check.verdict == "fails"
    with pytest.raises(ValueError):
        K.train_and_sample(np.zeros((10, 64)), "beta-vae", -1.0, d=2, steps=1, batch=2,
                           widths=(4,), seed=0, n_samples=2)
