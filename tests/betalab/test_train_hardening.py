"""``betalab train`` on bad input and on failures: bad usage exits 2 with one line and leaves
every file as it was; ``--resume`` validates checkpoint and log before touching either; a
runtime failure exits 1 with one line naming the log; temporaries of killed runs are removed;
the trained model loads in one call."""

import json
import os
import subprocess
import sys

import pytest
import torch

from betalab import train as bt
from betalab.cli import main

TINY = ["--dataset", "dsprites-reduced", "--latent-dim", "3", "--hidden", "16", "--batch-size",
        "32", "--device", "cpu", "--no-progress", "--beta", "2"]


def _files(path):
    """Every file under ``path`` with its bytes (the oracle of 'nothing was touched')."""
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


def _one_line(err: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err, err


@pytest.fixture(name="run4")
def run4_fixture(tmp_path):
    """A finished run of 4 steps with a checkpoint at step 4."""
    out = tmp_path / "run"
    assert main(["train", *TINY, "--max-steps", "4", "--out", str(out)]) == 0
    return out


def _rewrite_checkpoint(out, **state_changes):
    ck = torch.load(out / "checkpoint.pt", weights_only=True)
    ck["state"].update(state_changes)
    torch.save(ck, out / "checkpoint.pt")


@pytest.mark.parametrize("step, needle", [(-3, "step must be an int >= 0"),
                                          (10 ** 9, "beyond the run's")])
def test_resume_refuses_an_impossible_step_and_touches_nothing(run4, capsys, step, needle):
    _rewrite_checkpoint(run4, step=step)
    before = _files(run4)
    capsys.readouterr()
    assert main(["train", *TINY, "--max-steps", "8", "--out", str(run4), "--resume"]) == 2
    err = capsys.readouterr().err
    _one_line(err)
    assert needle in err
    assert _files(run4) == before


def test_resume_refuses_a_checkpoint_whose_config_is_a_list(run4, capsys):
    ck = torch.load(run4 / "checkpoint.pt", weights_only=True)
    ck["config"] = list(ck["config"])
    torch.save(ck, run4 / "checkpoint.pt")
    before = _files(run4)
    capsys.readouterr()
    assert main(["train", *TINY, "--max-steps", "8", "--out", str(run4), "--resume"]) == 2
    err = capsys.readouterr().err
    _one_line(err)
    assert "config is a list" in err and _files(run4) == before


@pytest.mark.parametrize("edit, needle", [
    (lambda lines: lines[:1] + ["{not json"] + lines[2:], "metrics.jsonl:2: not a JSON line"),
    (lambda lines: lines[:2] + ['{"loss": 1.0}'] + lines[3:], 'metrics.jsonl:3: a metrics line needs a "step"'),
    (lambda lines: lines[:2], "holds 2 steps but the checkpoint is at step 4"),
])
def test_resume_refuses_a_damaged_log_and_touches_nothing(run4, capsys, edit, needle):
    log = run4 / "metrics.jsonl"
    log.write_text("\n".join(edit(log.read_text().splitlines())) + "\n")
    before = _files(run4)
    capsys.readouterr()
    assert main(["train", *TINY, "--max-steps", "8", "--out", str(run4), "--resume"]) == 2
    err = capsys.readouterr().err
    _one_line(err)
    assert needle in err and _files(run4) == before


def test_resume_drops_a_log_line_cut_short_by_a_kill(tmp_path, run4):
    """kill -9 during a write leaves a last line without its newline: resume drops it and
    continues exactly as an uninterrupted run (the reference)."""
    ref = tmp_path / "ref"
    assert main(["train", *TINY, "--max-steps", "6", "--out", str(ref)]) == 0
    with open(run4 / "metrics.jsonl", "a") as f:
        f.write('{"step": 4, "loss": 12')                  # the cut-short write
    assert main(["train", *TINY, "--max-steps", "6", "--out", str(run4), "--resume"]) == 0
    assert (run4 / "metrics.jsonl").read_text() == (ref / "metrics.jsonl").read_text()


@pytest.mark.parametrize("bad, needle", [
    (["--model", "beta-tcvae", "--batch-size", "1"], "--batch-size: beta-tcvae"),
    (["--checkpoint-every", "0"], "--checkpoint-every must be a positive int"),
    (["--latent-dim", "0"], "--latent-dim must be a positive int"),
    (["--lr", "nan"], "--lr must be a positive number"),
    (["--device", "meta"], "--device 'meta'"),
    (["--device", "bogus"], "--device 'bogus'"),
    (["--device", "cuda:99"], "--device cuda:99"),
    (["--max-steps", "0"], "--max-steps must be a positive int"),
])
def test_bad_usage_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, bad, needle):
    out = tmp_path / "run"
    assert main(["train", *TINY, *bad, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    _one_line(err)
    assert needle in err
    assert not out.exists()


def test_out_must_be_a_writable_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("x")
    for out, needle in [("", "empty path"), ("a-file", "not a directory"),
                        ("a-file/run", "is a file"), ("/proc/betalab-run", "not writable")]:
        assert main(["train", *TINY, "--out", out]) == 2
        err = capsys.readouterr().err
        _one_line(err)
        assert needle in err and "--out" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]     # nothing written


def test_tensorboard_is_optional(tmp_path, capsys):
    import importlib.util

    out = tmp_path / "run"
    code = main(["train", *TINY, "--max-steps", "2", "--tensorboard", "--out", str(out)])
    if importlib.util.find_spec("tensorboard") is None:
        assert code == 2 and "pip install tensorboard" in capsys.readouterr().err
        assert not out.exists()
    else:
        assert code == 0 and any((out / "tensorboard").iterdir())


def test_a_loss_that_is_never_finite_claims_no_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--beta", "1e308", "--max-steps", "3", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    _one_line(err)
    assert "non-finite loss at step 0" in err and "no checkpoint exists" in err
    assert "last good" not in err and not (out / "checkpoint.pt").exists()
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "non-finite" and status["last_checkpoint_step"] is None


@pytest.mark.parametrize("at", [0, 3])
def test_a_runtime_failure_exits_1_with_one_line(tmp_path, capsys, monkeypatch, at):
    from deep import train as dt

    orig = dt.Trainer.run_step

    def broken(self):
        if self.step == at:
            raise RuntimeError("device lost")
        return orig(self)

    monkeypatch.setattr(dt.Trainer, "run_step", broken)
    out = tmp_path / "run"
    assert main(["train", *TINY, "--max-steps", "6", "--checkpoint-every", "2",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    _one_line(err)
    assert "RuntimeError: device lost" in err
    if at == 0:       # the first step runs before anything is written
        assert "before writing anything" in err and not out.exists()
    else:
        assert str(out / "error.log") in err
        assert "Traceback" in (out / "error.log").read_text()
        assert json.loads((out / "status.json").read_text())["last_checkpoint_step"] == 2


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_temporaries_of_killed_runs_are_removed(run4):
    dead = _dead_pid()
    stale = [run4 / f".checkpoint.pt.{dead}.k3j2h1.pt", run4 / ".metrics.jsonl.x8f7_2a.jsonl"]
    live = run4 / f".status.json.{os.getppid()}.q1w2e3.json"      # a live writer: kept
    for p in stale + [live]:
        p.write_bytes(b"")
    assert main(["train", *TINY, "--max-steps", "6", "--out", str(run4), "--resume"]) == 0
    assert not any(p.exists() for p in stale) and live.exists()


def test_load_run_and_export(run4, capsys):
    from betalab import load_run
    from deep.models import build_vae

    ck = bt.load_checkpoint(run4 / "checkpoint.pt")
    ref = build_vae(bt.RunConfig(**ck["config"]).vae_config())         # the five lines of glue
    ref.load_state_dict(ck["state"]["model"])
    ref.eval()
    x = torch.rand(5, 1, 64, 64, generator=torch.Generator().manual_seed(0))

    model, config = load_run(run4)
    assert not model.training and config.latent_dim == 3 and config.beta == 2.0
    assert main(["export", str(run4)]) == 0
    assert capsys.readouterr().out.strip() == str(run4 / "model.pt")
    exported, _ = load_run(run4 / "model.pt")
    with torch.no_grad():
        for m in (model, exported):
            for a, b in zip(m.encoder(x), ref.encoder(x)):
                assert torch.equal(a, b)
    # no optimizer state: Adam keeps two moments per parameter, so the checkpoint is about 3x
    assert (run4 / "model.pt").stat().st_size < 0.5 * (run4 / "checkpoint.pt").stat().st_size
    with pytest.raises(ValueError, match="no checkpoint.pt or model.pt"):
        load_run(run4 / "nowhere")


def test_curves_figure_shows_the_logged_values(run4, capsys):
    records = bt.read_log(run4 / "metrics.jsonl")
    fig = bt.curves_figure(records, "t")
    ax = {a.get_title(): a for a in fig.get_axes()}["loss"]
    assert list(ax.get_lines()[0].get_ydata()) == [r["loss"] for r in records]
    assert main(["plot", str(run4)]) == 0
    assert (run4 / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_off_a_terminal_is_plain_lines(tmp_path, capsys):
    out = tmp_path / "run"
    args = [a for a in TINY if a != "--no-progress"]
    assert main(["train", *args, "--max-steps", "5", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\r" not in err
    assert "step 5/5" in err
