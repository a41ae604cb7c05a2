"""sikka-fig4 / sikka-fig5 (betalab.studies.sikka2020._deep_claims): the verdicts the numbers
decide (on synthetic curves with a known answer), each paper claim decided only on its own curve
levelled off along training."""

import numpy as np

from betalab.studies.sikka2020 import _deep as S
from betalab.studies.sikka2020._deep_claims import claims_from_numbers


def _flat(labels, moving=False):
    """A convergence record on 4 points: levelled off (no move over the last quarter, seed spread
    0.1), or still moving (by 1 over the last quarter, far beyond its standard error)."""
    v = np.tile([0.0, 0.1, -0.1, 0.2, -0.2], (4, 1)) + np.array([[0.5], [0.0], [0.0], [float(moving)]])
    return {"statistic": "s", "steps": [750, 1500, 2250, 3000],
            "values": {k: v for k in labels} if labels else v}


CURVES = ("elbo", "rec", "kl", "tie")


def _numbers(fig="fig5", scale="cpu", tie_shape="valley", corr=0.95, K=100, seed=0, moving=()):
    """Synthetic per-β values for K initialisations: ELBO peaked at β = 1, reconstruction and KL
    decreasing, TIE a valley (or monotone), correlations at the traversal β; every curve's
    record along training levelled off except those named in ``moving``."""
    rng = np.random.default_rng(seed)
    betas = np.asarray(S.SCALES[scale]["betas"], float)
    lb = np.log(betas)[:, None]
    noise = lambda: 0.01 * rng.standard_normal((len(betas), K))
    kl = 3.0 * np.exp(-0.5 * betas)[:, None] + noise()
    rec = -100.0 - 2.0 * np.log1p(betas)[:, None] + noise()
    elbo = -100.0 - 0.5 * lb ** 2 + noise()
    tie = (1.0 + (lb - np.log(2.0)) ** 2 if tie_shape == "valley" else 1.0 - 0.1 * lb) + noise()
    corr_p = np.full((len(betas), K, 2), corr)
    return {"fig": fig, "scale": scale, "settings": {**S.SCALES[scale], "members": K},
            "data": S.FIG5_DATA[scale], "betas": betas.tolist(), "elbo": elbo, "rec": rec, "kl": kl,
            "tie": tie, "corr_p": corr_p, "corr_s": corr_p,
            "checks": {"quadrature": {"max_abs_diff": 1e-7, "width": 1e-3}},
            "convergence": {**{k: _flat(["β 0.25→0.5", "β 0.5→0.75"], k in moving) for k in CURVES},
                            "corr_p": _flat(None, "corr_p" in moving)}}


def _by(claims):
    return {c.statement.split(" (")[0].split(" [")[0]: c for c in claims}


def test_a_valley_and_a_peak_at_one_hold(check_claims):
    claims = claims_from_numbers(_numbers())
    paper = [c for c in claims if c.kind == "paper" and c.scale == "cpu"]
    assert len(paper) == 5 and all(c.verdict == "holds" for c in paper)
    tie = next(c for c in paper if c.statement.startswith("TIE"))
    assert tie.measured["argmin_beta"] == 2.0                 # the valley's bottom
    assert [c.verdict for c in claims if c.scale == "full"] == ["not run"]
    check_claims("sikka-fig5", claims)


def test_a_monotone_tie_and_uncorrelated_latents_fail():
    claims = claims_from_numbers(_numbers(tie_shape="monotone", corr=0.5))
    verdict = {c.statement[:20]: c.verdict for c in claims if c.kind == "paper"}
    assert verdict["TIE (latents matched"] == "fails"
    assert verdict["At large β (β = 4) t"] == "fails"


def test_an_elbo_peak_away_from_one_fails():
    n = _numbers()
    n["elbo"] = n["elbo"] - 0.5 * (np.log(np.asarray(n["betas"]))[:, None] - np.log(3.0)) ** 2 \
        + 0.5 * np.log(np.asarray(n["betas"]))[:, None] ** 2      # peak moved to β = 3
    c = next(c for c in claims_from_numbers(n) if c.statement.startswith("ELBO"))
    assert c.verdict == "fails" and c.measured["argmax_beta"] == 3.0


def test_quick_scale_decides_no_paper_claim():
    claims = claims_from_numbers(_numbers(scale="quick", K=4))
    assert {c.verdict for c in claims if c.kind == "paper"} == {"not run"}


def test_realisations_claim_evaluates_what_is_printed(check_claims):
    n = _numbers(fig="fig4")
    n["checks"] = {"linear": {"mc": 1.0, "se": 0.01, "closed_form": 1.0, "beta": 2.0, "n": 10}}
    claims = claims_from_numbers(n)
    printed = next(c for c in claims if c.statement.startswith("Runs per β"))
    assert printed.verdict == "differs" and printed.measured == {"methods": 300, "fig4_caption": 100}
    check_claims("sikka-fig4", claims)


def test_each_claim_waits_for_its_own_curve():
    """A curve whose record still moves sets its own claim to not run (naming the steps that
    move, with the verdict it would have read); the others keep theirs. Without a record (a run
    recorded before it was kept) every paper claim at cpu scale reads not run."""
    for curve, start in (("elbo", "ELBO"), ("rec", "The reconstruction"), ("kl", "The conditional"),
                         ("tie", "TIE"), ("corr_p", "At large β")):
        claims = claims_from_numbers(_numbers(moving=(curve,)))
        paper = {c.statement: c for c in claims if c.kind == "paper" and c.scale == "cpu"}
        late = [c for st, c in paper.items() if st.startswith(start)]
        assert len(late) == 1 and late[0].verdict == "not run", curve
        assert "not converged" in late[0].note and "would have read 'holds'" in late[0].note
        assert all(c.verdict == "holds" for st, c in paper.items() if not st.startswith(start))
    bare = _numbers()
    del bare["convergence"]
    claims = claims_from_numbers(bare)
    assert {c.verdict for c in claims if c.kind == "paper" and c.scale == "cpu"
            and not c.statement.startswith("Runs per β")} == {"not run"}
    assert all("no record of the deciding statistic" in c.note for c in claims
               if c.verdict == "not run" and c.scale == "cpu")
    # the implementation checks are never gated
    assert [c.verdict for c in claims if c.kind == "check"] == ["holds"]
