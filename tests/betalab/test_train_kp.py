"""``betalab train`` with Kumar & Poole 2020 models: --model grae|grae-approx|beta-vae,
--posterior diagonal|block:b|full, the digits substitute; clear errors naming the option."""

import json

import pytest
import torch

from betalab import train as bt
from betalab.cli import main

KP = ["--dataset", "digits", "--arch", "elu-mlp", "--latent-dim", "6", "--batch-size", "32",
      "--device", "cpu", "--no-progress", "--beta", "0.5", "--max-steps", "3"]


@pytest.mark.parametrize("model, posterior, expect_block", [
    ("beta-vae", "block:3", 3), ("beta-vae", "full", 6), ("grae", None, 6), ("grae-approx", None, 1)])
def test_kp_models_train_and_reload(tmp_path, model, posterior, expect_block):
    extra = [] if posterior is None else ["--posterior", posterior]
    out = tmp_path / "run"
    assert main(["train", *KP, "--model", model, *extra, "--out", str(out)]) == 0
    log = [json.loads(ln) for ln in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(log) == 3
    vae, cfg = bt.load_run(out)
    assert vae.block == expect_block and vae.likelihood == "gaussian"
    x = torch.zeros(2, 1, 8, 8)
    mu, Sigma = vae.posterior_covariance(x)
    # oracle: the block pattern of the posterior spec, exactly zero off the blocks
    mask = torch.block_diag(*[torch.ones(expect_block, expect_block)] * (6 // expect_block)).bool()
    assert (Sigma[:, ~mask] == 0).all()
    assert (torch.linalg.eigvalsh(Sigma) > 0).all()
    if model.startswith("grae"):
        assert {"enc_reg", "dec_reg"} <= set(log[0])


@pytest.mark.parametrize("bad, message", [
    (["--model", "grae", "--posterior", "diagonal"], "--posterior: model 'grae' supports 'full'"),
    (["--model", "beta-vae", "--posterior", "block:4"], "--posterior: block size 4 does not divide --latent-dim 6"),
    (["--model", "grae-approx", "--posterior", "block:2"], "--posterior: model 'grae-approx' supports 'diagonal'"),
    (["--model", "grae-approx", "--beta", "0"], "--beta: grae-approx divides by β"),
    (["--model", "factor-vae", "--posterior", "full"], "--posterior: model 'factor-vae' supports 'diagonal'"),
    (["--model", "beta-vae", "--posterior", "tridiagonal"], "posterior must be one of"),
])
def test_bad_kp_options_exit_2_naming_the_option(tmp_path, capsys, bad, message):
    out = tmp_path / "run"
    args = [a for a in KP if a not in ("--beta", "0.5")] + (["--beta", "0.5"] if "--beta" not in bad else [])
    assert main(["train", *args, *bad, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_grae_needs_a_real_valued_dataset(tmp_path, capsys):
    assert main(["train", "--model", "grae", "--dataset", "dsprites-reduced", "--out",
                 str(tmp_path / "r")]) == 2
    assert "--dataset: grae needs Gaussian observations" in capsys.readouterr().err
