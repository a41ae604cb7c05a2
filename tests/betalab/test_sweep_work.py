"""betalab.sweep.work.train_group, the task of one ensemble: a task resumed from its
checkpoint returns what an uninterrupted task returns; failures become rows, not exceptions;
a Higgins et al. 2017 spec (Adagrad, ``[eval] higgins``) stores its scores in the database;
``[eval] along`` evaluates along training without changing the training and survives a resume."""

import math

import numpy as np
import pytest
import torch

from betalab.sweep.spec import parse_spec
from betalab.sweep.work import along_steps, heldout_indices, train_group

SPEC = """
[sweep]
ensemble = 4
[model]
latent_dim = 3
hidden = 8
[train]
batch_size = 32
max_steps = {steps}
lr = {lr}
[eval]
n_train = 40
n_test = 20
batch_size = 8
mig_samples = 50
[grid]
model = ["beta-tcvae"]
beta = [1.0, 3.0]
seed = [0, 1]
"""


def _runs(steps=30, lr=1e-3):
    sw = parse_spec(SPEC.format(steps=steps, lr=lr))
    assert len(sw.groups) == 1
    return sw.groups[0].runs


def _comparable(rows):
    return [{k: r[k] for k in ("run_id", "status", "metrics", "curve", "error") if k in r} for r in rows]


def test_a_task_resumed_from_its_checkpoint_equals_an_uninterrupted_one(tmp_path):
    ref = train_group(_runs(30), group_id="g")
    assert [r["status"] for r in ref] == ["done"] * 4
    assert ref[0]["curve"]["step"] == list(range(30)) and ref[0]["metrics"]["steps"] == 30
    # a task stopped after its checkpoint at step 16 (the 20-step task leaves it behind: the
    # first 20 steps do not depend on the step budget), then the 30-step task picks it up
    train_group(_runs(20), group_id="g", checkpoint_dir=tmp_path, checkpoint_every=8)
    assert torch.load(tmp_path / "g.pt", weights_only=True)["ensemble"]["step"] == 16
    resumed = train_group(_runs(30), group_id="g", checkpoint_dir=tmp_path, checkpoint_every=8)
    assert _comparable(resumed) == _comparable(ref)          # bit-identical on CPU


def test_a_foreign_checkpoint_fails_the_task_not_the_sweep(tmp_path):
    """An unreadable checkpoint fails the task (transient: the retry trains from scratch), with
    one line naming it; the file is moved into ``corrupt/``, byte for byte, not deleted."""
    (tmp_path / "g.pt").write_bytes(b"garbage")
    rows = train_group(_runs(5), group_id="g", checkpoint_dir=tmp_path)
    assert [r["status"] for r in rows] == ["failed"] * 4
    assert {r["failure"] for r in rows} == {"transient"}
    err = rows[0]["error"]
    assert "\n" not in err and err.startswith("CorruptCheckpoint: checkpoint g.pt unreadable (")
    assert not (tmp_path / "g.pt").exists()
    [aside] = (tmp_path / "corrupt").iterdir()
    assert aside.read_bytes() == b"garbage" and str(aside) in err


def test_non_finite_members_are_failed_rows():
    rows = train_group(_runs(5, lr=1e30), group_id="g")     # one Adam step of size 1e30
    assert [r["status"] for r in rows] == ["failed"] * 4
    assert all(r["error"].startswith("non-finite loss at step") for r in rows)
    assert all(r.get("metrics") is None for r in rows)


def test_heldout_indices():
    a = heldout_indices(1000, 0.1, 0)
    assert a.size == 100 and (a == heldout_indices(1000, 0.1, 0)).all()
    assert len(set(a.tolist())) == 100 and (a[1:] > a[:-1]).all()
    assert not (a == heldout_indices(1000, 0.1, 1)).all()


ISA = """
[sweep]
ensemble = 2
[model]
latent_dim = 4
hidden = 8
prior = "isa:2.1;2*2x2"
learn_exponents = true
[train]
batch_size = 32
max_steps = 3
[eval]
n_train = 40
n_test = 20
batch_size = 8
mig_samples = 50
[grid]
model = ["isa-vae"]
beta = [1.0, 2.0]
"""


def test_an_isa_vae_ensemble_with_learned_exponents():
    (group,) = parse_spec(ISA).groups
    rows = train_group(group.runs, group_id="isa")
    assert [r["status"] for r in rows] == ["done", "done"]
    for r in rows:
        assert r["metrics"]["kl_per_dim"] is None            # the ISA prior does not factorise
        assert len(r["curve"]["p1"]) == 3 and r["curve"]["p1"][-1] != 2.0   # exponents learned


def test_a_factor_vae_ensemble():
    spec = ISA.replace('prior = "isa:2.1;2*2x2"\nlearn_exponents = true\n', "").replace(
        'model = ["isa-vae"]\nbeta = [1.0, 2.0]', 'model = ["factor-vae"]\nbeta = [10.0, 20.0]   # γ')
    (group,) = parse_spec(spec).groups
    rows = train_group(group.runs, group_id="fvae")
    assert [r["status"] for r in rows] == ["done", "done"]
    assert all(len(r["curve"]["disc_loss"]) == 3 for r in rows)       # discriminators trained
    assert rows[0]["curve"]["tc"] != rows[1]["curve"]["tc"]


HIGGINS = """
[sweep]
name = "higgins-tiny"
ensemble = 2
[data]
dataset = "dsprites-reduced"
[model]
latent_dim = 3
hidden = 8
[train]
optimizer = "adagrad"
lr = 1e-2
batch_size = 32
max_steps = 4
[eval]
higgins = true
higgins_n_train = 300      # the protocol's 5,000 each would take ~10 s of classifier training
higgins_n_test = 200
n_train = 40
n_test = 20
batch_size = 8
mig_samples = 50
[grid]
model = ["beta-vae"]
beta = 4.0
seed = [0, 1]
"""


def test_a_higgins_spec_end_to_end_stores_finite_scores(tmp_path, monkeypatch, sweep_in_process):
    """The sweep's path without Ray (the driver's own calls: the store, then train_group per
    ensemble, then record): the optimizer reaches the ensemble, and each run's three
    classifier-seed scores of Higgins et al. 2017's metric land in the SQLite database."""
    import deep.ensemble
    import deep.train
    from betalab.results import open_results
    from betalab.sweep import views

    built = []
    real = deep.train.build_optimizer
    for module in (deep.ensemble, deep.train):          # the batched engine's and the Trainers'
        monkeypatch.setattr(module, "build_optimizer",
                            lambda groups, config: built.append(config.optimizer) or real(groups, config))
    sweep_in_process(parse_spec(HIGGINS), tmp_path / "h.sqlite")
    # one group of two members on the CPU: a Trainer each (the sequential engine), Adagrad
    assert built == ["adagrad", "adagrad"]
    with open_results(tmp_path / "h.sqlite") as res:
        assert res.counts() == {"done": 2}
        table = res.table(lists=True)
        assert "higgins_scores" not in res.table()[0]            # scalar table: the mean only
    for row in table:
        assert len(row["higgins_scores"]) == 3 and all(math.isfinite(v) for v in row["higgins_scores"])
        assert 0.0 <= min(row["higgins_scores"]) and max(row["higgins_scores"]) <= 1.0
        assert row["higgins_score"] == float(np.mean(row["higgins_scores"]))
        assert row["steps"] == 4 and row["optimizer"] == "adagrad"
    cell = views.higgins_cell(table)                            # 2 replicas × 3 seeds → top 3
    assert cell["n"] == 6 and len(cell["kept"]) == 3 and cell["beta_norm"] == 4.0 * 3 / 4096


def test_eval_workers_change_nothing_and_factor_response_is_stored():
    """A group evaluated with two worker processes records what one process records (the
    oracle: the same call with ``eval_workers=1``); ``[eval] factor_response`` adds each run's
    latent-factor mutual information (latents × factors) and orientation response (shapes ×
    orientations × latents); a spec that leaves it at its default keeps its run ids."""
    spec = HIGGINS.replace("higgins = true\n", "higgins = true\nfactor_response = true\n")
    (group,) = parse_spec(spec).groups
    one = train_group(group.runs, group_id="fr")
    two = train_group(group.runs, group_id="fr", eval_workers=2)
    strip = ("started_at", "finished_at", "train_seconds", "eval_seconds")
    assert [{k: v for k, v in r.items() if k not in strip} for r in one] == \
        [{k: v for k, v in r.items() if k not in strip} for r in two]
    for r in one:
        m = r["metrics"]
        assert np.shape(m["factor_mi"]) == (3, 5) and np.shape(m["factor_entropy"]) == (5,)
        assert np.shape(m["orientation_response"]) == (3, 10, 3)      # reduced grid: 10 angles
    (plain,) = parse_spec(HIGGINS).groups
    (off,) = parse_spec(HIGGINS.replace("higgins = true\n", "higgins = true\nfactor_response = false\n")).groups
    assert [r["run_id"] for r in plain.runs] == [r["run_id"] for r in off.runs] != \
        [r["run_id"] for r in group.runs]


# ---- evaluation along training ([eval] along) ---------------------------------------------------

ALONG = """
[sweep]
ensemble = 2
[model]
latent_dim = 3
hidden = 8
[train]
batch_size = 32
max_steps = {steps}
[eval]
n_train = 40
n_test = 20
batch_size = 8
mig_samples = 50
{along}
[grid]
model = ["beta-tcvae"]
beta = [1.0, 3.0]
"""


def _along_runs(steps=8, along="along = [0.25, 0.5, 0.75]"):
    (group,) = parse_spec(ALONG.format(steps=steps, along=along)).groups
    return group.runs


@pytest.fixture(scope="module")
def along_ref():
    """The uninterrupted 8-step task evaluated along training at steps 2, 4, 6 and the end."""
    return train_group(_along_runs(), group_id="g")


def test_along_steps():
    assert along_steps([0.25, 0.5, 0.75], 2000) == [500, 1000, 1500]
    assert along_steps([0.25, 0.5, 0.75], 8) == [2, 4, 6]
    # ⌊f·total + ½⌋, once, in [1, total): 0.75 · 3 → 2 (= 0.5 · 3 → 2), 0.01 · 10 → 0, 0.99 · 10 → 10
    assert along_steps([0.25, 0.5, 0.75], 3) == [1, 2]
    assert along_steps([0.01, 0.99], 10) == []


def test_evaluation_along_training_changes_no_training_and_is_the_shorter_runs_end(along_ref):
    """With ``[eval] along`` the curves and the end's metrics are those of the task without it
    (bit for bit: evaluation draws nothing from training and leaves no member in eval mode);
    ``along`` holds every scalar metric at steps 2, 4, 6 and 8, the last the end's, and its
    entry at step 4 is the end of the same task trained 4 steps (the oracle: the first 4 steps
    do not depend on the step budget, and the metrics draw from the eval seed only)."""
    plain = train_group(_along_runs(along=""), group_id="g")
    short = train_group(_along_runs(steps=4, along=""), group_id="g")
    assert [r["status"] for r in along_ref] == ["done", "done"]
    for r, p, s in zip(along_ref, plain, short):
        along = r["metrics"].pop("along")
        assert r["curve"] == p["curve"] and r["metrics"] == p["metrics"]
        assert "along" not in p["metrics"]
        assert along["steps"] == [2, 4, 6, 8]
        scalars = {k for k, v in p["metrics"].items() if isinstance(v, (int, float))
                   and not isinstance(v, bool)} - {"steps", "final_loss"}
        assert set(along) - {"steps"} == scalars >= {"mig_sampled", "mig_histogram",
                                                     "heldout_log_px_z", "beta_vae_score"}
        for name in scalars:
            assert len(along[name]) == 4 and along[name][-1] == p["metrics"][name], name
            assert along[name][1] == s["metrics"][name], name
        r["metrics"]["along"] = along
    assert along_ref[0]["metrics"]["along"]["kl"] != along_ref[0]["metrics"]["along"]["kl"][::-1]


def test_evaluations_along_training_survive_an_interruption(tmp_path, monkeypatch, along_ref):
    """A task whose second checkpoint write fails (step 6 of 8) keeps the step-3 checkpoint with
    the evaluation of step 2; the retry resumes from it, evaluates only at steps 4 and 6 and the
    end, and returns what the uninterrupted task returns, ``along`` included."""
    from betalab.sweep import work

    real_save, real_along, saves, evaluated = work._save_checkpoint, work._evaluate_along, [], []

    def failing_save(path, state):
        saves.append(state["ensemble"]["step"])
        if len(saves) == 2:
            raise OSError(28, "No space left on device")
        real_save(path, state)

    monkeypatch.setattr(work, "_save_checkpoint", failing_save)
    rows = train_group(_along_runs(), group_id="g", checkpoint_dir=tmp_path, checkpoint_every=3)
    assert [r["failure"] for r in rows] == ["transient"] * 2 and saves == [3, 6]
    state = torch.load(tmp_path / "g.pt", weights_only=True)
    assert state["ensemble"]["step"] == 3 and [a["steps"] for a in state["along"]] == [[2], [2]]
    monkeypatch.setattr(work, "_save_checkpoint", real_save)
    monkeypatch.setattr(work, "_evaluate_along",
                        lambda ens, *a: evaluated.append(ens.step) or real_along(ens, *a))
    resumed = train_group(_along_runs(), group_id="g", checkpoint_dir=tmp_path, checkpoint_every=3)
    assert evaluated == [4, 6]
    assert _comparable(resumed) == _comparable(along_ref)          # bit-identical on CPU


def test_a_checkpoint_without_the_evaluations_it_passed_is_not_resumed(tmp_path, monkeypatch):
    """A checkpoint at step 3 without the evaluation of step 2 (written by a task without
    ``along`` under the same group id) cannot give a complete ``along``: it is moved aside and
    the task fails as transient, so the retry trains from scratch."""
    from betalab.sweep import work

    real_save = work._save_checkpoint

    def failing_save(path, state):
        if state["ensemble"]["step"] > 3:
            raise OSError(28, "No space left on device")
        real_save(path, state)

    monkeypatch.setattr(work, "_save_checkpoint", failing_save)
    train_group(_along_runs(along=""), group_id="g", checkpoint_dir=tmp_path, checkpoint_every=3)
    monkeypatch.setattr(work, "_save_checkpoint", real_save)
    rows = train_group(_along_runs(), group_id="g", checkpoint_dir=tmp_path)
    assert [r["failure"] for r in rows] == ["transient"] * 2
    assert "evaluations along training at steps [], not [2]" in rows[0]["error"]
    assert not (tmp_path / "g.pt").exists() and len(list((tmp_path / "corrupt").iterdir())) == 1


def test_along_reaches_the_database_and_reads_back_as_a_trace(tmp_path, along_ref):
    """The rows of the task recorded as the driver records them (SQLite, JSON) and read back
    with Results.runs: betalab.sweep.views.trace_by_beta gives each β's values along training
    as stored (steps × seeds; one seed per β here)."""
    from betalab.results import open_results
    from betalab.sweep.store import ResultsStore
    from betalab.sweep.views import trace_by_beta

    sweep = parse_spec(ALONG.format(steps=8, along="along = [0.25, 0.5, 0.75]"))
    store = ResultsStore(tmp_path / "a.sqlite", sweep)
    store.mark_running([r["run_id"] for r in sweep.runs])
    store.record(*along_ref)
    store.close()
    with open_results(tmp_path / "a.sqlite") as res:
        runs = res.runs("done")
        assert "along" not in res.table(lists=True)[0]
    trace = trace_by_beta(runs, "mig_sampled")
    assert trace["steps"] == [2, 4, 6, 8]
    for row, label in zip(along_ref, ("beta-tcvae, β = 1", "beta-tcvae, β = 3")):
        assert trace["values"][label] == [[v] for v in row["metrics"]["along"]["mig_sampled"]]


def test_a_cpu_group_trains_its_members_in_turn_and_matches_the_batched_engine():
    """On a CPU a group's members are trained one after another (deep.ensemble.SequentialMembers,
    the faster engine there), recorded with the runs; the batched engine gives the same members
    within float32 rounding: after 30 steps every parameter within 1e-4 of its scale (float32
    ulps ~1e-7, amplified by 30 Adam steps; measured ~1e-6), while a different noise, batch or β
    moves them by O(lr * steps) = 3e-2."""
    from deep.ensemble import Ensemble, SequentialMembers
    from betalab.sweep.work import build_ensemble, group_engine

    assert group_engine("cpu") == "sequential" and group_engine("cpu", "batched") == "batched"
    with pytest.raises(ValueError, match="engine"):
        group_engine("cpu", "threads")
    runs = _runs(30)
    seq, _, _ = build_ensemble(runs, "cpu")
    bat, _, _ = build_ensemble(runs, "cpu", engine="batched")
    assert isinstance(seq, SequentialMembers) and isinstance(bat, Ensemble)
    for _ in range(30):
        seq.run_step()
        bat.run_step()
    for k in range(len(runs)):
        a, b = seq.member_model(k).state_dict(), bat.member_model(k).state_dict()
        for name in a:
            scale = float(a[name].abs().max()) + 1e-12
            assert float((a[name] - b[name]).abs().max()) <= 1e-4 * scale, (k, name)
    rows = train_group(runs, group_id="g")
    assert all(r["versions"]["group engine"] == "sequential" for r in rows)
    assert all(r["versions"]["precision"] == "fp32" for r in rows)        # auto on a CPU


def test_a_bf16_group_trains_in_turn_and_records_its_precision():
    """bf16 (autocast) needs the sequential engine on any device (it does not reach inside the
    batched ensemble's vmap: tests/deep/test_precision.py); the precision is recorded."""
    from deep.ensemble import SequentialMembers
    from betalab.sweep.work import build_ensemble, group_engine

    assert group_engine("cpu", precision="bf16") == "sequential"
    ens, _, _ = build_ensemble(_runs(5), "cpu", precision="bf16")
    assert isinstance(ens, SequentialMembers) and ens.precision == "bf16"
    rows = train_group(_runs(5), group_id="g", precision="bf16")
    assert [r["status"] for r in rows] == ["done"] * 4, [r.get("error") for r in rows]
    assert all(r["versions"]["precision"] == "bf16" for r in rows)
