"""deep.ensemble: each member of a K-model batched ensemble is the single run of
deep.train.Trainer with its seed and weights (the oracle), with either optimizer (Adam, Adagrad:
both element-wise, so one optimizer over stacked tensors is K independent ones), a non-finite
member stops alone, and the ensemble's state dict resumes it exactly."""

import io

import numpy as np
import pytest
import torch

from deep.data import DeviceStore, DSprites
from deep.ensemble import Ensemble, build_members
from deep.models import VAEConfig, build_objective, build_vae
from deep.train import OPTIMIZERS, NonFiniteLossError, TrainConfig, Trainer

DATA = DSprites(n_scales=2, n_orientations=4, n_positions=8)      # 768 images
TC = TrainConfig(epochs=2, batch_size=64)                          # 12 steps per epoch
STEPS = 15                                                          # crosses an epoch boundary
# Batched products sum in another order than the single run's: float64 rounding, amplified by
# 15 Adam steps, stays ~1e-13 relative (measured 2e-14 .. 3e-13); 1e-10 leaves room for other
# BLAS builds while still catching any real difference (a wrong noise or batch is O(1)).
# Adagrad (Higgins et al. 2017, App. Table 1, at its 1e-2) is the same kind of element-wise update:
# measured <= 2e-13 relative in the parameters and 6e-15 in the losses, so the same tolerance.
RTOL = 1e-10
# mi, tc and dwkl are small differences of log-densities of a few nats (log q(z|x), log q(z)):
# their rounding error is absolute at that size, not relative to the (possibly ~1e-4) difference,
# so they are compared with RTOL * (1 + |kl|) (measured: <= 2e-14 absolute, up to 3e-11 relative to
# themselves)
DIFFERENCE_TERMS = ("mi", "tc", "dwkl")

CASES = {
    "beta-vae": (VAEConfig(latent_dim=4, hidden=16), "beta-vae",
                 [{"seed": 0, "beta": 1.0}, {"seed": 1, "beta": 4.0}, {"seed": 5, "beta": 2.5}]),
    "beta-tcvae": (VAEConfig(latent_dim=4, hidden=16), "beta-tcvae",
                   [{"seed": 0, "beta": 6.0}, {"seed": 3, "beta": 1.0, "gamma": 3.0, "alpha": 0.5}]),
    "factor-vae": (VAEConfig(latent_dim=4, hidden=16), "factor-vae",
                   [{"seed": 0, "beta": 10.0}, {"seed": 7, "beta": 2.0}]),      # beta is γ
    # Sikka 2020's three-layer tanh networks with a Gaussian likelihood
    "beta-vae-tanh3": (VAEConfig(arch="tanh3", latent_dim=2, widths=(12, 8, 8), likelihood="gaussian"),
                       "beta-vae", [{"seed": 0, "beta": 0.5}, {"seed": 3, "beta": 4.0}]),
    "isa-vae": (VAEConfig(latent_dim=4, hidden=16, prior="isa:2.1;2*2.2x2"), "isa-vae",
                [{"seed": 2, "beta": 1.0}, {"seed": 4, "beta": 3.0}]),
    "isa-vae-learned": (VAEConfig(latent_dim=4, hidden=16, prior="isa:2.1;2*2x2", learn_exponents=True),
                        "isa-vae", [{"seed": 2, "beta": 1.0}, {"seed": 4, "beta": 3.0}]),
}


def _config(optimizer="adam", seed=0):
    lr = 1e-2 if optimizer == "adagrad" else TC.lr       # Higgins et al. 2017's Adagrad rate
    return TrainConfig(epochs=TC.epochs, batch_size=TC.batch_size, lr=lr, seed=seed,
                       optimizer=optimizer)


def _members(case, nan_member=None):
    """The case's (models, objectives, seeds) in float64; ``nan_member``'s decoder poisoned."""
    cfg, name, members = CASES[case]
    models, objectives, seeds = build_members(cfg, name, members, dataset_size=len(DATA),
                                              disc_hidden=8, dtype=torch.float64)
    if nan_member is not None:
        with torch.no_grad():
            next(models[nan_member].decoder.parameters()).fill_(float("nan"))
    return models, objectives, seeds


def _ensemble(case, data=DATA, nan_member=None, optimizer="adam"):
    return Ensemble(*_members(case, nan_member), data, _config(optimizer))


def _single(case, k, optimizer="adam"):
    cfg, name, members = CASES[case]
    models, objectives, _ = build_members(cfg, name, [members[k]], dataset_size=len(DATA),
                                          disc_hidden=8, dtype=torch.float64)
    return Trainer(models[0], objectives[0], DATA, _config(optimizer, seed=members[k]["seed"]))


def _assert_member_is_single_run(ens_terms, k, single, single_terms):
    for t, (got, ref) in enumerate(zip(ens_terms, single_terms)):
        assert got.keys() == ref.keys()
        for name, v in ref.items():
            tol = RTOL * (1 + abs(ref["kl"])) if name in DIFFERENCE_TERMS else RTOL * abs(v)
            assert abs(float(got[name][k]) - v) <= tol, (t, name, float(got[name][k]), v)


def _assert_member_params(ens, k, single):
    member = ens.member_state_dict(k)
    ref = single.model.state_dict()
    disc = {n[len("objective."):]: p.detach()[k] for n, p in ens.params.items()
            if n.startswith("objective.")}                 # the FactorVAE discriminator, if any
    assert disc.keys() == single.objective.state_dict().keys()
    for name, p in single.objective.state_dict().items():
        np.testing.assert_allclose(disc[name].numpy(), p.numpy(), rtol=0,
                                   atol=RTOL * float(p.abs().max()), err_msg=name)
    assert member.keys() == ref.keys()
    for name, p in ref.items():
        np.testing.assert_allclose(member[name].numpy(), p.numpy(), rtol=0,
                                   atol=RTOL * float(p.abs().max()), err_msg=name)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("case", list(CASES))
def test_each_member_reproduces_its_single_run(case, optimizer):
    ens = _ensemble(case, optimizer=optimizer)
    assert type(ens.optimizer).__name__.lower() == optimizer
    ens_terms = [ens.run_step() for _ in range(STEPS)]
    for k in range(ens.k):
        single = _single(case, k, optimizer)
        assert type(single.optimizer).__name__.lower() == optimizer
        single_terms = [single.run_step() for _ in range(STEPS)]
        _assert_member_is_single_run(ens_terms, k, single, single_terms)
        _assert_member_params(ens, k, single)
    assert bool(ens.active.all()) and ens.stopped_at == [None] * ens.k


def test_learned_exponents_move_per_member():
    ens = _ensemble("isa-vae-learned")
    for _ in range(3):
        terms = ens.run_step()
    assert not torch.equal(terms["p1"][0], terms["p1"][1])        # different β, seeds: own exponents
    assert not torch.allclose(terms["p1"], torch.full_like(terms["p1"], 2.0))


def test_a_non_finite_member_stops_alone():
    ens = _ensemble("beta-vae", nan_member=1)
    before = ens.member_state_dict(1)
    ens_terms = [ens.run_step() for _ in range(STEPS)]
    assert ens.active.tolist() == [True, False, True] and ens.stopped_at == [None, 0, None]
    after = ens.member_state_dict(1)
    for name, p in before.items():                          # untouched, NaNs included
        assert torch.equal(p.nan_to_num(), after[name].nan_to_num()), name
    # the single run of the same member stops at the same step, before any update
    single = _single("beta-vae", 1)
    with torch.no_grad():
        next(single.model.decoder.parameters()).fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match="at step 0"):
        single.run_step()
    for k in (0, 2):                                        # the others are their single runs
        ref = _single("beta-vae", k)
        _assert_member_is_single_run(ens_terms, k, ref, [ref.run_step() for _ in range(STEPS)])
        _assert_member_params(ens, k, ref)


def _roundtrip(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)              # what a checkpoint file holds


@pytest.mark.parametrize("case,optimizer", [("beta-tcvae", "adam"), ("isa-vae-learned", "adam"),
                                            ("factor-vae", "adam"), ("beta-vae", "adagrad"),
                                            ("isa-vae-learned", "adagrad")])
def test_state_dict_resumes_exactly(case, optimizer):
    ref = _ensemble(case, optimizer=optimizer)
    ref_terms = [ref.run_step() for _ in range(8)]
    first = _ensemble(case, optimizer=optimizer)
    terms = [first.run_step() for _ in range(4)]
    if optimizer == "adagrad":                             # the accumulators travel in the state
        assert all("sum" in v for v in first.state_dict()["optimizer"]["state"].values())
    second = _ensemble(case, optimizer=optimizer)
    second.load_state_dict(_roundtrip(first.state_dict()))
    terms += [second.run_step() for _ in range(4)]
    for a, b in zip(terms, ref_terms):                     # bit-identical on CPU
        assert all(torch.equal(a[n], b[n]) for n in b)
    for n, p in ref.params.items():
        assert torch.equal(p, second.params[n])


def test_stopped_members_survive_a_resume():
    first = _ensemble("beta-vae", nan_member=0)
    first.run_step()
    second = _ensemble("beta-vae")
    second.load_state_dict(_roundtrip(first.state_dict()))
    assert second.active.tolist() == [False, True, True] and second.stopped_at == [0, None, None]


def test_device_store_feeds_the_same_batches():
    a, b = _ensemble("beta-vae"), _ensemble("beta-vae", data=DeviceStore(DATA))
    for step in (0, 11, 12):
        assert torch.equal(a.batch(step), b.batch(step))
    ta, tb = a.run_step(), b.run_step()
    assert all(torch.equal(ta[n], v) for n, v in tb.items())


def test_bad_input():
    cfg = VAEConfig(latent_dim=4, hidden=16)
    with pytest.raises(ValueError, match="objective"):
        build_members(cfg, "grae", [{"seed": 0}], dataset_size=len(DATA))
    with pytest.raises(ValueError, match="members.*'delta'"):
        build_members(cfg, "beta-vae", [{"seed": 0, "delta": 1.0}], dataset_size=len(DATA))
    with pytest.raises(ValueError, match="members.*gamma"):
        build_members(cfg, "beta-vae", [{"seed": 0, "gamma": 1.0}], dataset_size=len(DATA))
    with pytest.raises(ValueError, match="gamma"):
        build_members(cfg, "beta-tcvae", [{"seed": 0, "gamma": -1.0}], dataset_size=len(DATA))
    m1, o1 = build_vae(cfg), build_objective("beta-vae", 1.0)
    m2, o2 = build_vae(VAEConfig(latent_dim=4, hidden=8)), build_objective("beta-vae", 1.0)
    with pytest.raises(ValueError, match="models"):
        Ensemble([m1, m2], [o1, o2], [0, 1], DATA, TC)
    with pytest.raises(ValueError, match="same length"):
        Ensemble([m1], [o1, o2], [0], DATA, TC)
    with pytest.raises(ValueError, match="seeds"):
        Ensemble([m1], [o1], [-1], DATA, TC)
    with pytest.raises(ValueError, match="objectives"):
        Ensemble([m1, m1], [o1, build_objective("beta-tcvae", 1.0, dataset_size=768)], [0, 1], DATA, TC)
    with pytest.raises(ValueError, match="objectives"):
        Ensemble([m1], [build_objective("beta-vae", 1.0, n_samples=2)], [0], DATA, TC)
    with pytest.raises(ValueError, match="discriminator"):
        Ensemble([m1, m1], [build_objective("factor-vae", 1.0, latent_dim=4, disc_hidden=8),
                            build_objective("factor-vae", 1.0, latent_dim=4, disc_hidden=4)], [0, 1],
                 DATA, TC)
    with pytest.raises(TypeError, match="config"):
        Ensemble([m1], [o1], [0], DATA, {"epochs": 1})
    ens = _ensemble("beta-vae")
    state = ens.state_dict()
    state["seeds"] = [9, 9, 9]
    with pytest.raises(ValueError, match="seeds"):
        ens.load_state_dict(state)
    with pytest.raises(ValueError, match="k"):
        ens.member_state_dict(3)


# ---- SequentialMembers: the same members, one Trainer after another (the CPU engine of sweeps)

def _sequential(case, nan_member=None, optimizer="adam"):
    from deep.ensemble import SequentialMembers

    return SequentialMembers(*_members(case, nan_member), DATA, _config(optimizer))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("case", ["beta-vae", "factor-vae", "isa-vae-learned"])
def test_sequential_members_are_the_single_runs_and_the_batched_members(case, optimizer):
    """Member k of the sequential engine is its single run bit for bit (the oracle), and the
    batched ensemble's member within RTOL (its batched products' rounding): the two engines of a
    sweep group give the same runs."""
    seq = _sequential(case, optimizer=optimizer)
    ens = _ensemble(case, optimizer=optimizer)
    seq_terms = [seq.run_step() for _ in range(STEPS)]
    ens_terms = [ens.run_step() for _ in range(STEPS)]
    assert seq.step == ens.step == STEPS and seq.total_steps == ens.total_steps
    for k in range(seq.k):
        single = _single(case, k, optimizer)
        single_terms = [single.run_step() for _ in range(STEPS)]
        for got, ref in zip(seq_terms, single_terms):
            assert {n: float(got[n][k]) for n in ref} == ref            # bit for bit
        for a, b in zip(seq.member_model(k).state_dict().values(), single.model.state_dict().values()):
            assert torch.equal(a, b)
        _assert_member_is_single_run(ens_terms, k, single, single_terms)
        _assert_member_params(ens, k, single)


def test_a_non_finite_sequential_member_stops_alone_and_the_state_resumes_exactly():
    seq = _sequential("beta-vae", nan_member=1)
    for _ in range(3):
        seq.run_step()
    assert seq.stopped_at == [None, 0, None] and seq.active.tolist() == [True, False, True]
    buf = io.BytesIO()
    torch.save(seq.state_dict(), buf)
    ref_terms = [seq.run_step() for _ in range(4)]
    again = _sequential("beta-vae", nan_member=1)
    buf.seek(0)
    again.load_state_dict(torch.load(buf, weights_only=True))
    assert again.step == 3 and again.stopped_at == [None, 0, None]
    for got, ref in zip([again.run_step() for _ in range(4)], ref_terms):
        assert got.keys() == ref.keys()
        for n in ref:
            assert torch.equal(got[n].nan_to_num(), ref[n].nan_to_num())
    with pytest.raises(ValueError, match="state"):
        again.load_state_dict(_ensemble("beta-vae").state_dict())      # the other engine's
