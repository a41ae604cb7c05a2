"""``betalab train``: JSONL log, atomic checkpoints, exact --resume, clear errors that
leave no run directory behind, a clean stop on a non-finite loss."""

import json
import os
import signal

import pytest
import torch

from betalab import train as bt
from betalab.cli import main

TINY = ["--dataset", "dsprites-reduced", "--latent-dim", "3", "--hidden", "16", "--batch-size",
        "32", "--device", "cpu", "--no-progress", "--beta", "2"]


def _log(path):
    return [json.loads(ln) for ln in (path / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("model", ["beta-vae", "factor-vae"])
def test_ctrl_c_saves_a_checkpoint_and_resume_gives_the_same_loss_curve(tmp_path, model,
                                                                         monkeypatch, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    # --checkpoint-every beyond the run's length: the last step and Ctrl-C still save one
    args = TINY + ["--model", model, "--checkpoint-every", "100", "--max-steps", "7"]
    assert main(["train", *args, "--out", str(a)]) == 0
    ref = _log(a)
    assert [r["step"] for r in ref] == list(range(7)) and {"loss", "recon", "kl"} <= set(ref[0])
    assert bt.load_checkpoint(a / "checkpoint.pt")["state"]["step"] == 7
    assert (a / "curves.png").stat().st_size > 0

    # Ctrl-C during step 4: the step finishes, a checkpoint of step 5 is saved, one line printed
    from deep import train as dt

    orig = dt.Trainer.run_step

    def interrupted(self):
        if self.step == 4:
            os.kill(os.getpid(), signal.SIGINT)
        return orig(self)

    monkeypatch.setattr(dt.Trainer, "run_step", interrupted)
    capsys.readouterr()
    before = signal.getsignal(signal.SIGINT)     # SIG_IGN in a background job, else Python's
    assert main(["train", *args, "--out", str(b)]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "--resume" in err, err
    status = json.loads((b / "status.json").read_text())
    assert status == {"status": "interrupted", "step": 5, "last_checkpoint_step": 5,
                      "device": "cpu", "precision": "fp32"}
    assert bt.load_checkpoint(b / "checkpoint.pt")["state"]["step"] == 5
    assert signal.getsignal(signal.SIGINT) is before                       # handler restored
    monkeypatch.setattr(dt.Trainer, "run_step", orig)
    assert main(["train", *args, "--out", str(b), "--resume"]) == 0
    assert _log(b) == ref
    assert not [p for p in b.iterdir() if p.name.startswith(".")]     # no temp files left


def test_sigterm_writes_status_and_checkpoint(tmp_path, monkeypatch, capsys):
    from deep import train as dt

    orig = dt.Trainer.run_step

    def terminated(self):
        if self.step == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return orig(self)

    monkeypatch.setattr(dt.Trainer, "run_step", terminated)
    out = tmp_path / "run"
    assert main(["train", *TINY, "--max-steps", "6", "--out", str(out)]) == 143
    assert json.loads((out / "status.json").read_text())["status"] == "terminated"
    assert bt.load_checkpoint(out / "checkpoint.pt")["state"]["step"] == 3
    assert [r["step"] for r in _log(out)] == [0, 1, 2]


def test_checkpoint_is_weights_only_loadable(tmp_path):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--max-steps", "2", "--out", str(out)]) == 0
    ck = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ck["format"] == bt.CHECKPOINT_FORMAT and ck["state"]["step"] == 2
    # a finished dSprites run draws its traversals: one row per latent, sorted by KL
    assert (out / "traversals.png").stat().st_size > 0
    import matplotlib.pyplot as plt

    img = plt.imread(out / "traversals.png")
    assert img.shape[0] > 200 and img.shape[1] > 600          # 3 rows of 9 decoded images


def test_optimizer_flag_trains_with_adagrad_and_resume_keeps_it(tmp_path, capsys):
    assert main(["train", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--optimizer {adam,adagrad}" in help_text
    assert "adagrad (Higgins et al. 2017, App. Table 1; torch's defaults) (default: adam)" in help_text
    a, b = tmp_path / "a", tmp_path / "b"
    args = [*TINY, "--optimizer", "adagrad", "--lr", "1e-2", "--checkpoint-every", "3"]
    assert main(["train", *args, "--max-steps", "6", "--out", str(a)]) == 0
    ck = bt.load_checkpoint(a / "checkpoint.pt")
    assert ck["config"]["optimizer"] == "adagrad"
    assert all("sum" in v for v in ck["state"]["optimizer"]["state"].values())   # Adagrad's state
    assert main(["train", *args, "--max-steps", "3", "--out", str(b)]) == 0
    assert main(["train", *args, "--max-steps", "6", "--out", str(b), "--resume"]) == 0
    assert _log(b) == _log(a)                                   # the restored accumulators
    capsys.readouterr()
    assert main(["train", *TINY, "--lr", "1e-2", "--max-steps", "6", "--out", str(b),
                 "--resume"]) == 2                              # Adam on an Adagrad run
    err = capsys.readouterr().err
    assert "differs" in err and "'optimizer': ('adagrad', 'adam')" in err


@pytest.mark.parametrize("bad, message", [
    (["--optimizer", "sgd"], "invalid choice"),
    (["--model", "beta-gan"], "invalid choice"),
    (["--dataset", "mnist"], "invalid choice"),
    (["--beta", "-1"], "beta"),
    (["--epochs", "0"], "epochs"),
    (["--precision", "tf32"], "precision tf32 is a CUDA mode"),        # TINY's --device cpu
    (["--precision", "fp16"], "invalid choice"),
])
def test_bad_input_leaves_no_run_directory(tmp_path, capsys, bad, message):
    out = tmp_path / "run"
    assert main(["train", *TINY, *bad, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_bf16_run_trains_and_says_so(tmp_path):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--precision", "bf16", "--max-steps", "3", "--out", str(out)]) == 0
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "done" and status["precision"] == "bf16" and status["device"] == "cpu"
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in _log(out))


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


def test_a_checkpoint_with_an_unknown_setting_is_refused(tmp_path, capsys):
    """A setting this betalab does not have would be ignored and another model trained: the
    checkpoint is refused by name, for --resume and for load_run alike."""
    run = tmp_path / "run"
    assert main(["train", *TINY, "--max-steps", "2", "--out", str(run)]) == 0
    ck = bt.load_checkpoint(run / "checkpoint.pt")
    ck["config"]["warmup_schedule"] = "cosine"
    torch.save(ck, run / "checkpoint.pt")
    capsys.readouterr()
    assert main(["train", *TINY, "--max-steps", "4", "--out", str(run), "--resume"]) == 2
    assert "unknown configuration keys ['warmup_schedule']" in capsys.readouterr().err
    with pytest.raises(ValueError, match="warmup_schedule"):
        bt.load_run(run)


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


def test_the_help_examples_are_commands_that_parse():
    """Each example of ``betalab train --help`` (continued lines joined as a shell joins them)
    parses with the real parser, and none carries a run of spaces inside the command."""
    import shlex

    from betalab.cli import _parser
    from betalab.train import TRAIN_EXAMPLES

    text = TRAIN_EXAMPLES.split("examples:", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
    commands = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("betalab train --")]
    assert len(commands) >= 4
    for line in commands:
        command = " ".join(line.split())           # what the shell passes
        argv = shlex.split(command)[1:]
        args = _parser().parse_args(argv)
        assert args.command == "train" and args.out.startswith("runs/"), line
    assert "\\\n" in TRAIN_EXAMPLES               # long examples shown as continued shell lines
    assert not [ln for ln in TRAIN_EXAMPLES.splitlines() if "  --" in ln.strip()]


def test_plot_traversal_redraws_the_traversals_of_a_run(tmp_path, capsys):
    """``betalab plot RUN --traversal``: the traversal figure of a dSprites run's checkpoint (a
    grid of one row per latent, one image per value), and one line refusing a digits run."""
    from PIL import Image

    run = tmp_path / "run"
    assert main(["train", *TINY, "--max-steps", "3", "--out", str(run)]) == 0
    (run / "traversals.png").unlink()
    capsys.readouterr()
    assert main(["plot", str(run), "--traversal"]) == 0
    assert capsys.readouterr().out.strip() == str(run / "traversals.png")
    w, h = Image.open(run / "traversals.png").size
    assert w > 500 and h > 200             # 3 rows (latents) x 9 values of 64x64 images
    digits = tmp_path / "digits"
    assert main(["train", "--dataset", "digits", "--arch", "elu-mlp", "--latent-dim", "2",
                 "--hidden", "8", "--batch-size", "16", "--max-steps", "2", "--no-progress",
                 "--out", str(digits)]) == 0
    capsys.readouterr()
    assert main(["plot", str(digits), "--traversal"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dSprites" in err
