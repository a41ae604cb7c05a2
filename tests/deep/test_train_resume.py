"""deep.train: steps are functions of (seed, step) and of the saved state, so a
restored trainer continues exactly; a non-finite loss stops before any update."""

import io

import numpy as np
import pytest
import torch

from deep.data import DSprites
from deep.models import VAEConfig, build_objective, build_vae
from deep.train import (OPTIMIZERS, NonFiniteLossError, TrainConfig, Trainer, build_optimizer,
                        seeded_init, step_generator)

DATA = DSprites(n_scales=2, n_orientations=4, n_positions=8)      # 768 images


def _trainer(name, seed=0, optimizer="adam"):
    model, obj = seeded_init(lambda: (build_vae(VAEConfig(latent_dim=3, hidden=16)),
                                      build_objective(name, 2.0, latent_dim=3,
                                                      dataset_size=len(DATA), disc_hidden=8)), seed)
    lr = 1e-2 if optimizer == "adagrad" else 1e-3          # Higgins et al. 2017's Adagrad rate
    return Trainer(model, obj, DATA, TrainConfig(epochs=2, batch_size=32, lr=lr, seed=seed,
                                                 optimizer=optimizer))


def _roundtrip(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("name", ["beta-vae", "beta-tcvae", "factor-vae"])
def test_resume_reproduces_the_uninterrupted_run(name, optimizer):
    ref = _trainer(name, optimizer=optimizer)
    ref_terms = [ref.run_step() for _ in range(6)]
    first = _trainer(name, optimizer=optimizer)
    terms = [first.run_step() for _ in range(3)]
    state = _roundtrip(first.state_dict())          # what a checkpoint file holds
    if optimizer == "adagrad":                      # the accumulated squared gradients are saved
        assert all(torch.count_nonzero(v["sum"]) for v in state["optimizer"]["state"].values())
    second = _trainer(name, seed=0, optimizer=optimizer)
    second.load_state_dict(state)
    terms += [second.run_step() for _ in range(3)]
    assert terms == ref_terms                        # bit-identical on CPU
    for a, b in zip(ref.model.parameters(), second.model.parameters()):
        assert torch.equal(a, b)


def test_the_epoch_permutation_is_drawn_once_per_epoch(monkeypatch):
    """A permutation of the whole data set per step cost ~25 ms at the full dSprites size (half
    a Table-1 step): the trainer draws it once per epoch, and its batches are still the slices
    of epoch_order (the oracle) across the epoch boundary and after a resume."""
    from deep import train as dt

    calls = []
    real = dt.epoch_order
    monkeypatch.setattr(dt, "epoch_order", lambda *a: calls.append(a) or real(*a))
    t = _trainer("beta-vae")
    n, bs = len(DATA), 32
    for step in range(t.steps_per_epoch + 3):
        e, pos = divmod(step, t.steps_per_epoch)
        want = DATA.images(real(0, e, n)[pos * bs:(pos + 1) * bs])
        assert np.array_equal(t.batch(step).numpy(), want)
    assert calls == [(0, 0, n), (0, 1, n)]
    assert np.array_equal(_trainer("beta-vae").batch(t.steps_per_epoch + 1).numpy(),
                          t.batch(t.steps_per_epoch + 1).numpy())   # a fresh trainer, mid-epoch


def test_epoch_boundary_and_seed_dependence():
    t = _trainer("beta-vae")
    assert t.steps_per_epoch == len(DATA) // 32 and t.total_steps == 2 * t.steps_per_epoch
    g1, g2 = step_generator(0, 5), step_generator(0, 5)
    assert torch.equal(torch.rand(3, generator=g1), torch.rand(3, generator=g2))
    assert not torch.equal(torch.rand(3, generator=step_generator(0, 6)),
                           torch.rand(3, generator=step_generator(1, 6)))
    # an epoch visits every image once (drop_last aside)
    seen = np.concatenate([np.asarray(t.batch(s).sum((1, 2, 3))) for s in range(t.steps_per_epoch)])
    assert seen.size == t.steps_per_epoch * 32


def test_non_finite_loss_stops_before_the_update():
    t = _trainer("beta-vae")
    before = [p.detach().clone() for p in t.model.parameters()]
    with torch.no_grad():
        next(t.model.decoder.parameters()).fill_(float("nan"))
    nan_state = [p.detach().clone() for p in t.model.parameters()]
    with pytest.raises(NonFiniteLossError, match="non-finite loss at step 0"):
        t.run_step()
    assert t.step == 0
    for a, b in zip(nan_state, t.model.parameters()):
        assert torch.equal(a.nan_to_num(), b.nan_to_num())
    assert len(before) == len(nan_state)


def test_the_optimizer_is_the_configured_one():
    """Adagrad with torch's defaults (Higgins et al. 2017, App. Table 1 names only "Adagrad,
    1e-2"): accumulator 0, eps 1e-10, no decay; the first step of each weight is then
    lr * g / (|g| + eps), i.e. lr in magnitude wherever its gradient is not tiny."""
    t = _trainer("beta-vae", optimizer="adagrad")
    opt = t.optimizer
    assert isinstance(opt, torch.optim.Adagrad)
    assert (opt.defaults["lr"], opt.defaults["initial_accumulator_value"], opt.defaults["eps"],
            opt.defaults["lr_decay"]) == (1e-2, 0, 1e-10, 0)
    before = [p.detach().clone() for p in t.model.parameters()]
    t.run_step()
    for b, p in zip(before, t.model.parameters()):
        step = (p.detach() - b).abs()
        moved = step[step > 0]
        # |g| >= 1e-6 gives a step within 1e-4 relative of lr (eps / |g|); float32 rounding of
        # p ± 1e-2 adds up to ~1e-7 / 1e-2 = 1e-5 relative: 1e-3 covers both with room
        assert moved.numel() > 0
        assert torch.quantile(moved, 0.5) == pytest.approx(1e-2, rel=1e-3)
    assert isinstance(_trainer("beta-vae").optimizer, torch.optim.Adam)


def test_bad_config():
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="sgd")
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer=None)
    with pytest.raises(TypeError, match="config"):
        build_optimizer([{"params": [torch.zeros(1, requires_grad=True)]}], {"lr": 1e-2})
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr=-1.0)
    model = build_vae(VAEConfig(latent_dim=2, hidden=8))
    with pytest.raises(ValueError, match="exceeds"):
        Trainer(model, build_objective("beta-vae", 1.0), DATA, TrainConfig(batch_size=10_000))


def _per_tensor(trainer):
    """The same trainer with torch's default per-tensor optimizers (neither fused nor foreach),
    as betalab built them before :func:`deep.train.fastest`."""
    for attr in ("optimizer", "aux_optimizer"):
        opt = getattr(trainer, attr)
        if opt is not None:
            groups = [{k: v for k, v in g.items() if k not in ("fused", "foreach")}
                      for g in opt.param_groups]
            setattr(trainer, attr, type(opt)(groups, **{k: v for k, v in opt.defaults.items()
                                                        if k not in ("fused", "foreach")}))
    return trainer


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("name", ["beta-vae", "factor-vae"])
def test_the_fused_optimizer_follows_the_per_tensor_trajectory(name, optimizer):
    """50 steps with the fused optimizer (CPU) against torch's per-tensor loop: the same update,
    different float32 rounding. Bound: every parameter within 1e-5 absolute of the per-tensor
    run. A float32 ulp at |p| ~ 1 is 1.2e-7 and the measured largest difference after 50 steps is
    0.6-2.8e-7 (a few ulps); 1e-5 leaves 30x for another CPU's vector kernels. A wrong update
    (lr, Adam's betas, bias correction) moves parameters by ~lr = 1e-3 per step and fails it;
    the run itself moves every parameter tensor by more than 1e-3."""
    fused = _trainer(name, optimizer=optimizer)
    assert fused.optimizer.param_groups[0]["fused"] is True
    plain = _per_tensor(_trainer(name, optimizer=optimizer))
    assert not plain.optimizer.param_groups[0].get("fused")
    for _ in range(50):
        fused.run_step()
        plain.run_step()
    diffs = [float((a - b).detach().abs().max()) for a, b in zip(fused.model.parameters(), plain.model.parameters())]
    moved = [float((a - b).detach().abs().max()) for a, b in zip(fused.model.parameters(),
                                                          _trainer(name, optimizer=optimizer).model.parameters())]
    assert max(diffs) < 1e-5 and min(moved) > 1e-3, (max(diffs), min(moved))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_checkpoint_of_the_per_tensor_optimizer_resumes_fused(optimizer):
    """A checkpoint written before the fused optimizer (its state dict says fused None) resumes
    into the fused one, stays fused, and continues the run within the bound above."""
    old = _per_tensor(_trainer("beta-vae", optimizer=optimizer))
    for _ in range(3):
        old.run_step()
    state = _roundtrip(old.state_dict())
    assert state["optimizer"]["param_groups"][0].get("fused") in (None, False)
    resumed = _trainer("beta-vae", optimizer=optimizer)
    resumed.load_state_dict(state)
    assert resumed.optimizer.param_groups[0]["fused"] is True and resumed.step == 3
    for _ in range(10):
        old.run_step()
        resumed.run_step()
    for a, b in zip(old.model.parameters(), resumed.model.parameters()):
        assert float((a - b).detach().abs().max()) < 1e-5
