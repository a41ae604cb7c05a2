"""sikka-fig4 / sikka-fig5: the verdicts the numbers decide (on synthetic curves with a known
answer), each paper claim decided only on its own curve levelled off along training, the
evaluation along training leaving the training unchanged, the resumable per-β pieces, and one
quick run of the whole study."""

import numpy as np
import pytest

from betalab.studies import sikka_deep as S
from betalab.studies.common import ALONG


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


def test_each_claim_waits_for_its_own_curve():
    """A curve whose record still moves sets its own claim to not run (naming the steps that
    move, with the verdict it would have read); the others keep theirs. Without a record (a run
    recorded before it was kept) every paper claim at cpu scale reads not run."""
    for curve, start in (("elbo", "ELBO"), ("rec", "The reconstruction"), ("kl", "The conditional"),
                         ("tie", "TIE"), ("corr_p", "At large β")):
        claims = S.claims_from_numbers(_numbers(moving=(curve,)))
        paper = {c.statement: c for c in claims if c.kind == "paper" and c.scale == "cpu"}
        late = [c for st, c in paper.items() if st.startswith(start)]
        assert len(late) == 1 and late[0].verdict == "not run", curve
        assert "not converged" in late[0].note and "would have read 'holds'" in late[0].note
        assert all(c.verdict == "holds" for st, c in paper.items() if not st.startswith(start))
    bare = _numbers()
    del bare["convergence"]
    claims = S.claims_from_numbers(bare)
    assert {c.verdict for c in claims if c.kind == "paper" and c.scale == "cpu"
            and not c.statement.startswith("Runs per β")} == {"not run"}
    assert all("no record of the deciding statistic" in c.note for c in claims
               if c.verdict == "not run" and c.scale == "cpu")
    # the implementation checks are never gated
    assert [c.verdict for c in claims if c.kind == "check"] == ["holds"]


def test_convergence_traces_are_paired_neighbouring_differences():
    """Per curve, q(β_i+1) − q(β_i) of each initialisation along training, the initialisations
    non-finite at any point left out of that difference; Fig 5E: the smaller |corr| at β = 4."""
    betas = [0.5, 1.0, 2.0, 4.0]
    q = np.arange(len(betas) * 4 * 3, dtype=float).reshape(len(betas), 4, 3) ** 2
    q[2, 1, 0] = np.nan                                 # member 0 non-finite at β = 2, step 2
    corr = np.stack([np.full((len(betas), 4, 3), 0.9), np.full((len(betas), 4, 3), 0.7)], -1)
    n = {"fig": "fig5", "betas": betas, "along_steps": [1, 2, 3, 4], **{f"{k}_along": q for k in CURVES},
         "corr_p_along": corr}
    t = S.convergence_traces(n)
    assert set(t) == set(CURVES) | {"corr_p"}
    v = t["tie"]["values"]
    assert list(v) == ["β 0.5→1", "β 1→2", "β 2→4"]
    np.testing.assert_array_equal(v["β 0.5→1"], q[1] - q[0])
    np.testing.assert_array_equal(v["β 1→2"], (q[2] - q[1])[:, 1:])       # member 0 left out
    np.testing.assert_array_equal(t["corr_p"]["values"], np.full((4, 3), 0.7))
    assert S.convergence_traces({"fig": "fig4", "betas": betas}) == {}


def _tiny_data():
    """Fig 4's process with 40 evaluation draws, for tiny trainings."""
    data = S.make_data("fig4", "quick", np.random.default_rng(1))
    return {**data, "eval": data["eval"][:40], "s": data["s"][:40]}


_TINY = dict(members=2, betas=(1.0,), steps=8, batch=100, n_train=1000, n_eval=40, n_z=2,
             widths=(8, 4, 4))


def test_evaluation_along_training_leaves_training_bit_identical():
    """Evaluating every member at 25/50/75/100 % of the steps (encode_members + piece_numbers)
    gives the same parameters, bit for bit, as training without it."""
    import torch

    data, seen = _tiny_data(), []

    def evaluate(ens, step):
        seen.append((step, S.piece_numbers("fig4", data, S.encode_members(ens, data["eval"], 2, 0))))

    kw = dict(widths=(8, 4, 4), steps=8, batch=100)
    plain = S.train_ensemble(data["train"], 8, 1.5, [0, 1], **kw)
    ens = S.train_ensemble(data["train"], 8, 1.5, [0, 1], **kw, evaluate=evaluate, at=[2, 4, 6, 8])
    assert [s for s, _ in seen] == [2, 4, 6, 8]
    for k, p in plain.params.items():
        assert torch.equal(p, ens.params[k]), k
    np.testing.assert_array_equal(plain.last_loss, ens.last_loss)
    with pytest.raises(ValueError, match="at must lie"):
        S.train_ensemble(data["train"], 8, 1.5, [0], **kw, evaluate=evaluate, at=[0])


def test_the_end_point_is_the_last_point_along_training():
    """A piece evaluated along training ends on the numbers of a piece evaluated only at its end
    (same estimator and draws), and its last point along training is that end point."""
    from betalab.registry import StudyConfig

    data = _tiny_data()
    full = S.run_betas(StudyConfig(), "fig4", data, {**_TINY, "along": ALONG})[1.0]
    end = S.run_betas(StudyConfig(), "fig4", data, {**_TINY, "along": ()})[1.0]
    assert "along_steps" not in end and full["along_steps"].tolist() == [2, 4, 6, 8]
    for k in CURVES:
        assert full[f"along_{k}"].shape == (4, 2), k
        np.testing.assert_array_equal(full[f"along_{k}"][-1], full[k])
        np.testing.assert_array_equal(full[k], end[k])
    assert "along_corr_p" not in full                        # Fig 4 has no positions
    assert not np.array_equal(full["along_elbo"][0], full["along_elbo"][-1])   # it did train


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
    # the curves along training: 4 points, the last the end point, and their figure
    assert n["along_steps"] == [75, 150, 225, 300] and np.shape(n["tie_along"]) == (4, 4, 4)
    np.testing.assert_array_equal(np.asarray(n["elbo_along"])[:, -1], n["elbo"])
    assert set(n["convergence"]) == set(CURVES) and "fig4_along" in result.figures
