"""deep.precision: the modes resolve and fail by name; on CUDA the TF32 switches are set for a
step and restored; ``bf16`` really runs the forward pass in bfloat16 (seen by a hook) while the
parameters and the update stay float32, and a short bf16 run ends where the fp32 run of the same
seed does, within the spread of fp32 runs over seeds (the GPU acceptance criterion, here on a
CPU's autocast)."""

import pytest
import torch

from deep.data import DSprites
from deep.ensemble import Ensemble, SequentialMembers, build_members
from deep.models import VAEConfig, build_objective, build_vae
from deep.precision import PRECISIONS, precision_scope, resolve_precision
from deep.train import TrainConfig, Trainer, seeded_init

DATA = DSprites(n_scales=2, n_orientations=4, n_positions=8)      # 768 images
CONFIG = VAEConfig(latent_dim=3, hidden=32)


def test_auto_is_tf32_on_cuda_and_fp32_elsewhere():
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("auto", torch.device("cuda")) == "tf32"   # a name: no CUDA needed
    assert [resolve_precision(p, "cuda") for p in PRECISIONS] == list(PRECISIONS)


@pytest.mark.parametrize("bad, error", [("fp16", ValueError), ("TF32", ValueError), (32, TypeError),
                                        (None, TypeError)])
def test_an_unknown_precision_is_named(bad, error):
    with pytest.raises(error, match="precision"):
        resolve_precision(bad, "cpu")


def test_tf32_off_cuda_is_named():
    with pytest.raises(ValueError, match="precision tf32 is a CUDA mode"):
        resolve_precision("tf32", "cpu")
    with pytest.raises(ValueError, match="precision"):
        Trainer(*_built(0), DATA, TrainConfig(batch_size=32), "cpu", precision="tf32")


@pytest.mark.parametrize("mode, on", [("tf32", True), ("fp32", False), ("bf16", False)])
def test_the_cuda_switches_hold_for_the_scope_and_are_restored(mode, on):
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    before = (matmul.allow_tf32, cudnn.allow_tf32)
    with pytest.raises(RuntimeError, match="inside"):
        with precision_scope(mode, "cuda"):
            assert (matmul.allow_tf32, cudnn.allow_tf32) == (on, on)
            raise RuntimeError("inside")                  # restored after an error too
    assert (matmul.allow_tf32, cudnn.allow_tf32) == before
    with precision_scope("tf32", "cpu"):                  # off CUDA: nothing changes
        assert (matmul.allow_tf32, cudnn.allow_tf32) == before


def _built(seed):
    return seeded_init(lambda: (build_vae(CONFIG), build_objective("beta-vae", 1.0, latent_dim=3)),
                       seed)


def _dtypes_seen(module):
    """The output dtypes of every Linear layer of ``module`` while hooked."""
    seen = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
             for m in module.modules() if isinstance(m, torch.nn.Linear)]
    return seen, hooks


def _final_loss(seed, precision, steps=60):
    trainer = Trainer(*_built(seed), DATA, TrainConfig(epochs=5, batch_size=32, seed=seed),
                      "cpu", precision=precision)
    losses = [trainer.run_step()["loss"] for _ in range(steps)]
    return sum(losses[-10:]) / 10, trainer


def test_bf16_runs_the_forward_pass_in_bfloat16_and_keeps_float32_parameters():
    model, obj = _built(0)
    trainer = Trainer(model, obj, DATA, TrainConfig(batch_size=32), "cpu", precision="bf16")
    seen, hooks = _dtypes_seen(model)
    trainer.run_step()
    for h in hooks:
        h.remove()
    assert seen and set(seen) == {torch.bfloat16}
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    fp32 = Trainer(*_built(0), DATA, TrainConfig(batch_size=32), "cpu", precision="fp32")
    seen, hooks = _dtypes_seen(fp32.model)
    fp32.run_step()
    assert set(seen) == {torch.float32}


def test_a_short_bf16_run_ends_within_the_seed_spread_of_fp32():
    fp32 = [_final_loss(s, "fp32")[0] for s in (0, 1, 2)]
    bf16 = _final_loss(0, "bf16")[0]
    spread = max(fp32) - min(fp32)
    assert spread > 0
    assert abs(bf16 - fp32[0]) < spread, (bf16, fp32)


def test_sequential_members_take_the_precision_and_the_batched_ensemble_refuses_bf16():
    members = [{"seed": 0, "beta": 1.0}, {"seed": 1, "beta": 2.0}]
    models, objectives, seeds = build_members(CONFIG, "beta-vae", members, dataset_size=len(DATA))
    ens = SequentialMembers(models, objectives, seeds, DATA, TrainConfig(batch_size=32), "cpu",
                            precision="bf16")
    assert [t.precision for t in ens.trainers] == ["bf16", "bf16"]
    seen, hooks = _dtypes_seen(ens.trainers[1].model)
    terms = ens.run_step()
    for h in hooks:
        h.remove()
    assert seen and set(seen) == {torch.bfloat16} and torch.isfinite(terms["loss"]).all()
    # under vmap autocast leaves a biased linear layer in float32: refused, not silently fp32
    with pytest.raises(ValueError, match="precision bf16"):
        Ensemble(models, objectives, seeds, DATA, TrainConfig(batch_size=32), "cpu", precision="bf16")
    batched = Ensemble(models, objectives, seeds, DATA, TrainConfig(batch_size=32), "cpu")
    assert batched.precision == "fp32"


def test_autocast_does_not_reach_a_biased_linear_layer_inside_vmap():
    """The reason the batched ensemble refuses bf16; if a torch release fixes it, this fails
    and the refusal can go."""
    from torch.func import vmap

    x, w, b = torch.randn(2, 5, 4), torch.randn(2, 3, 4), torch.randn(2, 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.nn.functional.linear(x[0], w[0], b[0]).dtype == torch.bfloat16
        assert vmap(torch.nn.functional.linear)(x, w, b).dtype == torch.float32
