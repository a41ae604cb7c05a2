"""kp-nonuniqueness (Kumar & Poole 2020, App. A) runs in quick mode, returns its figure and no
failing claims; the paper's |det J_r| = 1 does not hold, its corrected form does."""


def test_nonuniqueness_study(run_checked):
    r = run_checked("kp-nonuniqueness")
    assert r.numbers["max_abs_logdet"] > 1e-3  # the paper's |det J_r| = 1 does not hold
    assert r.numbers["max_err_prior_ratio"] < 1e-5
