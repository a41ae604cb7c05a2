"""``betalab train`` with the ISA-VAE (Stühmer et al. 2020, eq. 12, App. A.2): learned exponents
are logged per step, saved in checkpoints, and ``--resume`` continues exactly; bad prior options
are refused by name before anything is written."""

import json

import pytest
import torch

from betalab.cli import main
from betalab.train import RunConfig, load_checkpoint, train_run

SMALL = dict(dataset="dsprites-reduced", hidden=16, batch_size=64, checkpoint_every=4, beta=1.0)


def _log(path):
    return [json.loads(ln) for ln in (path / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("model", ["isa-vae", "isa-tcvae"])
def test_learned_exponents_resume_exactly(tmp_path, model):
    cfg = RunConfig(model=model, learn_exponents=True, max_steps=10, prior_lr=1e-2, **SMALL)
    assert cfg.prior == "isa:2.1;5*2x4" and cfg.latent_dim == 20          # App. A.2 start
    train_run(cfg, tmp_path / "ref", device="cpu", progress=False)
    ref = _log(tmp_path / "ref")
    part = RunConfig(model=model, learn_exponents=True, max_steps=6, prior_lr=1e-2, **SMALL)
    train_run(part, tmp_path / "cut", device="cpu", progress=False)
    ck = load_checkpoint(tmp_path / "cut" / "checkpoint.pt")
    assert ck["state"]["step"] == 6
    assert "prior.log_exponents" in ck["state"]["model"]
    train_run(cfg, tmp_path / "cut", device="cpu", resume=True, progress=False)
    assert _log(tmp_path / "cut") == ref                                   # bit-identical on CPU
    assert [r["step"] for r in ref] == list(range(10))
    p = [[r[f"p{i}"] for i in range(6)] for r in ref]
    assert all(row[0] == pytest.approx(2.1, abs=1e-6) for row in p)         # p0 fixed
    assert p[0][1:] == [2.0] * 5 and p[-1][1:] != p[0][1:]                  # learned from 2.0
    final = torch.exp(load_checkpoint(tmp_path / "cut" / "checkpoint.pt")["state"]["model"]
                      ["prior.log_exponents"])
    assert final.shape == (5,) and not torch.equal(final, torch.full((5,), 2.0))


@pytest.mark.parametrize("argv,needle", [
    (["--model", "isa-vae", "--prior", "isa:2.1;5*2.2"], "prior"),
    (["--model", "isa-vae", "--prior", "normal"], "prior"),
    (["--model", "isa-vae", "--prior", "isa:2.1;0x4"], "prior"),
    (["--model", "isa-vae", "--prior", "isa:2.1;-2x4"], "prior"),
    (["--model", "isa-vae", "--latent-dim", "10"], "--latent-dim"),
    (["--model", "beta-vae", "--learn-exponents"], "--learn-exponents"),
    (["--model", "beta-vae", "--prior", "isa"], "prior"),
    (["--model", "beta-tcvae", "--prior", "isa"], "isa-tcvae"),
    (["--model", "isa-vae", "--prior-scale", "0"], "--prior-scale"),
    (["--model", "isa-vae", "--prior-lr", "-1"], "--prior-lr"),
    (["--model", "isa-vae", "--mc-samples", "0"], "--mc-samples"),
    (["--model", "isa-tcvae", "--mc-samples", "2"], "--mc-samples"),
])
def test_bad_prior_options_write_nothing(tmp_path, capsys, argv, needle):
    out = tmp_path / "run"
    assert main(["train", *argv, "--dataset", "dsprites-reduced", "--out", str(out)]) == 2
    assert needle in capsys.readouterr().err
    assert not out.exists()
