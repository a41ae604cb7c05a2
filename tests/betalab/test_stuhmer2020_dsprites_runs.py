"""The dSprites runs shared by the Stühmer et al. 2020 deep studies
(betalab.studies.stuhmer2020._dsprites_runs): the resumable runs of a study, and the deciding
statistics measured along training without changing it."""

import numpy as np
import pytest

from betalab.studies.common import ALONG, along_steps
from betalab.studies.stuhmer2020 import _dsprites_runs as R, fig5a as A


def test_runs_are_kept_and_reused(monkeypatch, tmp_path):
    from betalab.io import PartialResults
    from betalab.registry import StudyConfig

    calls = []

    def fake(**kw):
        calls.append(kw["seed"])
        return {"mig": 0.1 * kw["seed"], "exponents": np.zeros(0)}

    monkeypatch.setattr(R, "train_and_score", fake)
    cfg = StudyConfig(partial=PartialResults(tmp_path))
    grid = [(f"m-s{i}", dict(model="beta-vae", prior="normal", beta=1.0, seed=i)) for i in range(3)]
    first = R._runs(cfg, "t", grid, A.FIG5A_SCALES["quick"], "")
    (tmp_path / "t-m-s1.npz").unlink()                  # as if interrupted before run 1 ended
    second = R._runs(cfg, "t", grid, A.FIG5A_SCALES["quick"], "")
    assert calls == [0, 1, 2, 1]
    assert {k: float(v["mig"]) for k, v in first.items()} == \
        {k: float(v["mig"]) for k, v in second.items()}


_TINY = dict(steps=8, hidden=16, batch=32, reduced=True)


def test_along_steps():
    assert along_steps(2000) == [500, 1000, 1500, 2000]
    assert along_steps(8000, [i / 8 for i in range(1, 9)]) == list(range(1000, 8001, 1000))
    assert along_steps(3, ALONG) == [1, 2, 3]                      # rounded, no repeats
    with pytest.raises(ValueError, match="fractions"):
        along_steps(10, (0.0, 1.0))


def test_evaluation_along_training_leaves_training_bit_identical():
    """Training with the sampled MIG measured at 25/50/75 % of the steps gives the same losses
    and the same final parameters, bit for bit, as training without; the net is handed back in
    training mode after each evaluation."""
    import torch

    from deep.metrics import encode_dataset

    seen = []

    def evaluate(net, data, step):
        mu, lv, f = encode_dataset(net, data)
        seen.append((step, net.training, R.sampled_mig(mu, lv, f, 3, 20, "cpu")))

    kw = dict(model="isa-vae", prior="isa:2.1;5*2.2x4", beta=1.0, seed=3, **_TINY)
    plain, _, losses = R.train_model(**kw)
    net, _, losses_eval = R.train_model(**kw, evaluate=evaluate, at=along_steps(8))
    assert [s for s, _, _ in seen] == [2, 4, 6, 8] and all(t for _, t, _ in seen)
    assert losses_eval == losses
    for (k, a), (_, b) in zip(plain.state_dict().items(), net.state_dict().items()):
        assert torch.equal(a, b), k
    with pytest.raises(ValueError, match="at must lie"):
        R.train_model(**kw, evaluate=evaluate, at=[9])


@pytest.mark.parametrize("model,prior,learn", [("beta-vae", "normal", False),
                                               ("isa-vae", "isa:2.1;2x4,2x3,2x3", True)])
def test_the_end_point_is_the_last_point_along_training(model, prior, learn):
    """The scores of a run with the along-training record equal those of a run scored only at
    the end, and the record's last point is the end point (the sampled MIG; the exponents)."""
    kw = dict(model=model, prior=prior, beta=1.0, seed=5, n_mig=20, learn_exponents=learn, **_TINY)
    end = R.train_and_score(**kw)
    full = R.train_and_score(**kw, along=ALONG)
    assert "along_steps" not in end
    for key in ("mig", "mig_histogram", "recon", "loss_first", "loss_last"):
        assert full[key] == end[key], key
    np.testing.assert_array_equal(full["exponents"], end["exponents"])
    assert full["along_steps"].tolist() == [2, 4, 6, 8]
    assert full["along_mig"].shape == (4,) and full["along_mig"][-1] == full["mig"]
    if learn:
        assert full["along_exponents"].shape == (4, 4)
        np.testing.assert_array_equal(full["along_exponents"][-1], full["exponents"])
        assert np.all(full["along_exponents"][:, 0] == full["exponents"][0])     # p0 fixed
    else:
        assert "along_exponents" not in full
