"""What sikka-fig4 and sikka-fig5 share (betalab.studies.sikka2020._deep): the convergence
record along training, the evaluation along training leaving the training unchanged, and the
resumable per-β pieces."""

import numpy as np
import pytest

from betalab.studies.common import ALONG
from betalab.studies.sikka2020 import _deep as S

CURVES = ("elbo", "rec", "kl", "tie")


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


def test_bad_beta_names_the_parameter():
    with pytest.raises(ValueError, match="beta"):
        S.train_ensemble(np.zeros((10, 64)), 8, 0.0, [0], widths=(4, 4, 4), steps=1, batch=5)
