"""sikka-fig4 / sikka-fig5: the verdicts the numbers decide (on synthetic curves with a known
answer), the resumable per-β pieces, and one quick run of the whole study."""

import numpy as np
import pytest

from betalab.studies import sikka_deep as S


def _numbers(fig="fig5", scale="cpu", tie_shape="valley", corr=0.95, K=100, seed=0):
    """Synthetic per-β values for K initialisations: ELBO peaked at β = 1, reconstruction and KL
    decreasing, TIE a valley (or monotone), correlations at the traversal β."""
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
            # levelled off along training (no move over the last quarter): the claims are decided
            "convergence": {"statistic": "s", "steps": [1, 2, 3, 4],
                            "values": [[0.5, 0.6], [0.7, 0.8], [0.9, 1.0], [0.9, 1.0]]}}


def _by(claims):
    return {c.statement.split(" (")[0].split(" [")[0]: c for c in claims}


def test_a_valley_and_a_peak_at_one_hold(check_claims):
    claims = S.claims_from_numbers(_numbers())
    paper = [c for c in claims if c.kind == "paper" and c.scale == "cpu"]
    assert len(paper) == 5 and all(c.verdict == "holds" for c in paper)
    tie = next(c for c in paper if c.statement.startswith("TIE"))
    assert tie.measured["argmin_beta"] == 2.0                 # the valley's bottom
    assert [c.verdict for c in claims if c.scale == "full"] == ["not run"]
    check_claims("sikka-fig5", claims)


def test_a_monotone_tie_and_uncorrelated_latents_fail():
    claims = S.claims_from_numbers(_numbers(tie_shape="monotone", corr=0.5))
    verdict = {c.statement[:20]: c.verdict for c in claims if c.kind == "paper"}
    assert verdict["TIE (latents matched"] == "fails"
    assert verdict["At large β (β = 4) t"] == "fails"


def test_an_elbo_peak_away_from_one_fails():
    n = _numbers()
    n["elbo"] = n["elbo"] - 0.5 * (np.log(np.asarray(n["betas"]))[:, None] - np.log(3.0)) ** 2 \
        + 0.5 * np.log(np.asarray(n["betas"]))[:, None] ** 2      # peak moved to β = 3
    c = next(c for c in S.claims_from_numbers(n) if c.statement.startswith("ELBO"))
    assert c.verdict == "fails" and c.measured["argmax_beta"] == 3.0


def test_quick_scale_decides_no_paper_claim():
    claims = S.claims_from_numbers(_numbers(scale="quick", K=4))
    assert {c.verdict for c in claims if c.kind == "paper"} == {"not run"}


def test_realisations_claim_evaluates_what_is_printed(check_claims):
    n = _numbers(fig="fig4")
    n["checks"] = {"linear": {"mc": 1.0, "se": 0.01, "closed_form": 1.0, "beta": 2.0, "n": 10}}
    claims = S.claims_from_numbers(n)
    printed = next(c for c in claims if c.statement.startswith("Runs per β"))
    assert printed.verdict == "differs" and printed.measured == {"methods": 300, "fig4_caption": 100}
    check_claims("sikka-fig4", claims)


def test_pieces_are_kept_and_reused(monkeypatch, tmp_path):
    from betalab.io import PartialResults
    from betalab.registry import StudyConfig

    calls = []

    class Fake:
        last_loss = np.zeros(2)

        def member_state_dict(self, k):
            return {}

    def fake_train(x, side, beta, seeds, **kw):
        calls.append(beta)
        return Fake()

    monkeypatch.setattr(S, "train_ensemble", fake_train)
    monkeypatch.setattr(S, "encode_members", lambda ens, x, n_z, seed: None)
    monkeypatch.setattr(S, "piece_numbers", lambda fig, data, enc: {"tie": np.array([calls[-1]])})
    cfg = StudyConfig(partial=PartialResults(tmp_path))
    data = {"train": None, "eval": None, "side": 8}
    first = S.run_betas(cfg, "fig4", data, S.SCALES["quick"])
    (tmp_path / "sikka-fig4-b2.npz").unlink()          # as if interrupted while β = 2 ran
    second = S.run_betas(cfg, "fig4", data, S.SCALES["quick"])
    assert calls == [0.5, 1.0, 2.0, 4.0, 2.0]
    assert {b: float(v["tie"][0]) for b, v in first.items()} == \
        {b: float(v["tie"][0]) for b, v in second.items()}


def test_linear_check_and_quadrature_check_agree_with_their_oracles():
    from deep.data.digits import digit_mixing_matrix, digit_templates, placement_mixing

    A = digit_mixing_matrix(digit_templates(S.FIG4_CLASSES), 8)
    lin = S.linear_tie_check(A, 2.0, 5000, np.random.default_rng(0))
    assert abs(lin["mc"] - lin["closed_form"]) < 4 * lin["se"]          # 4 Monte Carlo SE
    assert S.quadrature_check(placement_mixing())["max_abs_diff"] < 1e-5  # O(width²) = 1e-6


def test_bad_beta_names_the_parameter():
    with pytest.raises(ValueError, match="beta"):
        S.train_ensemble(np.zeros((10, 64)), 8, 0.0, [0], widths=(4, 4, 4), steps=1, batch=5)


def test_quick_fig4_runs_and_its_claims_keep_the_contract(check_claims, study_cache):
    from betalab.registry import StudyConfig, get

    result = get("sikka-fig4")(StudyConfig(scale="quick"))
    check_claims("sikka-fig4", result.claims)
    n = result.numbers
    assert np.asarray(n["tie"]).shape == (4, 4) and np.all(np.isfinite(n["tie"]))
    # ELBO = reconstruction − KL per model, the identity of eq 8
    np.testing.assert_allclose(n["elbo"], np.asarray(n["rec"]) - np.asarray(n["kl"]), rtol=1e-12)
    # the matched TIE is the minimum over the 8 matchings, the identity among them
    assert np.all(np.asarray(n["tie"]) <= np.asarray(n["tie_identity"]) + 1e-12)
