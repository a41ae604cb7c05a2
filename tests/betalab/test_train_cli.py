"""``betalab train``: JSONL log, atomic checkpoints, exact --resume, clear errors that
leave no run directory behind, a clean stop on a non-finite loss."""

import json

import pytest
import torch

from betalab import train as bt
from betalab.cli import main

TINY = ["--dataset", "dsprites-reduced", "--latent-dim", "3", "--hidden", "16", "--batch-size",
        "32", "--device", "cpu", "--no-progress", "--beta", "2"]


def _log(path):
    return [json.loads(ln) for ln in (path / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("model", ["beta-vae", "factor-vae"])
def test_resume_gives_the_same_loss_curve(tmp_path, model, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    args = TINY + ["--model", model, "--checkpoint-every", "3", "--max-steps", "7"]
    assert main(["train", *args, "--out", str(a)]) == 0
    ref = _log(a)
    assert [r["step"] for r in ref] == list(range(7)) and {"loss", "recon", "kl"} <= set(ref[0])

    # interrupt after 5 steps: the checkpoint holds step 3, the log 5 lines
    from deep import train as dt

    orig = dt.Trainer.run_step

    def flaky(self):
        if self.step == 5:
            raise KeyboardInterrupt
        return orig(self)

    monkeypatch.setattr(dt.Trainer, "run_step", flaky)
    with pytest.raises(KeyboardInterrupt):
        main(["train", *args, "--out", str(b)])
    assert json.loads((b / "status.json").read_text())["last_checkpoint_step"] == 3
    monkeypatch.setattr(dt.Trainer, "run_step", orig)
    assert main(["train", *args, "--out", str(b), "--resume"]) == 0
    assert _log(b) == ref
    assert not [p for p in b.iterdir() if p.name.startswith(".")]     # no temp files left


def test_checkpoint_is_weights_only_loadable(tmp_path):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--max-steps", "2", "--out", str(out)]) == 0
    ck = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ck["format"] == bt.CHECKPOINT_FORMAT and ck["state"]["step"] == 2


@pytest.mark.parametrize("bad, message", [
    (["--model", "beta-gan"], "unknown model"),
    (["--dataset", "mnist"], "unknown dataset"),
    (["--beta", "-1"], "beta"),
    (["--epochs", "0"], "epochs"),
])
def test_bad_input_leaves_no_run_directory(tmp_path, capsys, bad, message):
    out = tmp_path / "run"
    assert main(["train", *TINY, *bad, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_corrupted_and_foreign_checkpoints_are_refused(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"\x00garbage")
    assert main(["train", *TINY, "--max-steps", "2", "--out", str(out), "--resume"]) == 2
    assert "corrupted or foreign checkpoint" in capsys.readouterr().err
    torch.save({"model": {"w": torch.zeros(2)}}, out / "checkpoint.pt")
    assert main(["train", *TINY, "--max-steps", "2", "--out", str(out), "--resume"]) == 2
    assert "foreign checkpoint" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt"]    # nothing else written


def test_resume_with_another_configuration_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--max-steps", "2", "--out", str(out)]) == 0
    assert main(["train", *TINY, "--max-steps", "4", "--out", str(out), "--resume",
                 "--seed", "5"]) == 2
    assert "differs" in capsys.readouterr().err
    assert main(["train", *TINY, "--max-steps", "4", "--out", str(out)]) == 2   # no --resume


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    from deep import train as dt

    orig = dt.Trainer.run_step

    def poisoned(self):
        if self.step == 4:
            with torch.no_grad():
                next(self.model.decoder.parameters()).fill_(float("nan"))
        return orig(self)

    monkeypatch.setattr(dt.Trainer, "run_step", poisoned)
    out = tmp_path / "run"
    assert main(["train", *TINY, "--max-steps", "8", "--checkpoint-every", "2",
                 "--out", str(out)]) == 1
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "non-finite" and status["step"] == 4
    assert status["last_checkpoint_step"] == 4
    ck = bt.load_checkpoint(out / "checkpoint.pt")
    assert ck["state"]["step"] == 4
    assert all(torch.isfinite(v).all() for v in ck["state"]["model"].values())
    assert "last good checkpoint" in capsys.readouterr().err
