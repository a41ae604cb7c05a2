"""betalab.sweep.spec: a TOML spec expands into the grid's runs with stable ids, grouped into
ensembles by what they share; any unknown or mistyped key fails naming it."""

import itertools
import re
from pathlib import Path

import pytest

from betalab.sweep.spec import INPUT_SIZE, MEMBER_KEYS, digest, family_key, load_spec, parse_spec

BASE = """
[sweep]
ensemble = 3
[model]
latent_dim = 4
hidden = 8
[train]
max_steps = 5
[grid]
model = ["beta-vae", "beta-tcvae"]
beta = [1.0, 2.0]
seed = [0, 1]
"""


def test_grid_expands_to_every_combination():
    sw = parse_spec(BASE)
    got = [(r["model"], r["beta"], r["seed"]) for r in sw.runs]
    assert got == list(itertools.product(["beta-vae", "beta-tcvae"], [1.0, 2.0], [0, 1]))
    assert all(r["latent_dim"] == 4 and r["hidden"] == 8 and r["max_steps"] == 5 for r in sw.runs)
    assert all(("gamma" in r) == (r["model"] == "beta-tcvae") for r in sw.runs)   # tcvae default 1


def test_ids_are_hashes_of_the_full_config():
    a, b = parse_spec(BASE), parse_spec(BASE.replace("hidden = 8", "hidden = 8\narch = 'mlp'"))
    assert [r["run_id"] for r in a.runs] == [r["run_id"] for r in b.runs]   # a default spelled out
    for r in a.runs:                                   # oracle: the digest of the config minus its id
        assert r["run_id"] == digest({k: v for k, v in r.items() if k != "run_id"})
    c = parse_spec(BASE.replace("hidden = 8", "hidden = 9"))
    assert not {r["run_id"] for r in a.runs} & {r["run_id"] for r in c.runs}
    assert len({r["run_id"] for r in a.runs}) == 8 and a.fingerprint != c.fingerprint


def test_ensembles_group_runs_that_differ_only_in_member_keys():
    sw = parse_spec(BASE)
    assert [len(g.runs) for g in sw.groups] == [3, 1, 3, 1]          # 4 runs per model, 3 per ensemble
    assert [r["run_id"] for g in sw.groups for r in g.runs] == [r["run_id"] for r in sw.runs]
    for g in sw.groups:
        assert len({family_key(r) for r in g.runs}) == 1
        strip = [{k: v for k, v in r.items() if k not in MEMBER_KEYS + ("run_id",)} for r in g.runs]
        assert all(s == strip[0] for s in strip)
    assert len({g.group_id for g in sw.groups}) == 4


def test_grid_may_vary_a_train_key():
    sw = parse_spec(BASE.replace("seed = [0, 1]", "seed = 0\nlr = [1e-3, 1e-2]"))
    assert sorted({r["lr"] for r in sw.runs}) == [1e-3, 1e-2]
    assert len(sw.groups) == 4                                       # lr splits the families


def test_the_shipped_tiny_spec():
    sw = load_spec("sweeps/tiny.toml")
    assert len(sw.runs) == 8 and {r["model"] for r in sw.runs} == {"beta-vae", "beta-tcvae"}
    assert {r["dataset"] for r in sw.runs} == {"dsprites-reduced"}


@pytest.mark.parametrize("edit,key", [
    (("[train]", "[train]\nlearning_rate = 1e-3"), "train.learning_rate"),
    (("[sweep]", "[sweeps]"), "sweeps"),
    (("seed = [0, 1]", "seed = [0, 1]\ndelta = [1.0]"), "grid.delta"),
    (('model = ["beta-vae", "beta-tcvae"]', 'model = ["beta-vae", "gan"]'), "grid.model"),
    (('model = ["beta-vae", "beta-tcvae"]', 'model = ["beta_vae"]'), "grid.model"),
    (("[sweep]", "[data]\ndataset = 'mnist'\n[sweep]"), "data.dataset"),
    (("beta = [1.0, 2.0]", "beta = [1.0, 'big']"), "grid.beta"),
    (("hidden = 8", "hidden = 8.5"), "model.hidden"),
    (("max_steps = 5", "max_steps = true"), "train.max_steps"),
    (("ensemble = 3", "ensemble = 0"), "sweep.ensemble"),
    (("beta = [1.0, 2.0]", "beta = [1.0, 1.0]"), "grid.beta"),
    (("beta = [1.0, 2.0]", "beta = [1.0, 2.0]\ngamma = [2.0]"), "grid.gamma"),
    (('model = ["beta-vae", "beta-tcvae"]\n', ""), "grid.model"),
    (("hidden = 8", "hidden = 8\nbeta = 2.0"), "model.beta"),
    (("ensemble = 3", "ensemble = 3\nname = 'a/b'"), "sweep.name"),
    (("[grid]", "[eval]\nmig_bins = 1\n[grid]"), "eval.mig_bins"),
    (("[grid]", "[eval]\nn_train = 0\n[grid]"), "eval.n_train"),
    (("seed = [0, 1]", "seed = [0, 1]\nhidden = [8, 16]"), "grid.hidden"),
    (("max_steps = 5", "max_steps = 5\noptimizer = 'sgd'"), "train.optimizer"),
    (("max_steps = 5", "max_steps = 5\noptimizer = 1"), "train.optimizer"),
    (("seed = [0, 1]", "seed = [0, 1]\noptimizer = ['adam', 'rmsprop']"), "grid.optimizer"),
    (("[grid]", "[eval]\nhiggins = 1\n[grid]"), "eval.higgins"),
    (("[grid]", "[eval]\nhiggins_n_test = 0\n[grid]"), "eval.higgins_n_test"),
    (("beta = [1.0, 2.0]", "beta_norm = [0.01, -0.01]"), "grid.beta_norm"),
    (("beta = [1.0, 2.0]", "beta = [1.0, 2.0]\nbeta_norm = [0.01]"), "grid.beta_norm"),
    (("latent_dim = 4\n", "", "beta = [1.0, 2.0]", "beta_norm = [0.01]"), "grid.beta_norm"),
    (("[grid]", "[eval]\nalong = 0.5\n[grid]"), "eval.along"),
    (("[grid]", "[eval]\nalong = [0.5, 0.25]\n[grid]"), "eval.along"),
    (("[grid]", "[eval]\nalong = [0.25, 0.25]\n[grid]"), "eval.along"),
    (("[grid]", "[eval]\nalong = [0.0, 0.5]\n[grid]"), "eval.along"),
    (("[grid]", "[eval]\nalong = [0.5, 1.0]\n[grid]"), "eval.along"),
    (("[grid]", "[eval]\nalong = [0.5, nan]\n[grid]"), "eval.along"),
    (("hidden = 8", "hidden = 8\ndisc_hidden = 256"), "model.disc_hidden"),   # not factor-vae
    (("hidden = 8", "hidden = 8\ndisc_hidden = 0"), "model.disc_hidden"),
    (("hidden = 8", "hidden = 8\ndisc_hidden = 2.5"), "model.disc_hidden"),
    (("[grid]", "[eval]\nalong = [true]\n[grid]"), "eval.along"),
    (("[grid]", "[eval]\nalong = ['half']\n[grid]"), "eval.along"),
    (("[grid]", "[eval]\nalong = 1000\n[grid]"), "eval.along"),
    (("ensemble = 3", "ensemble = 3\nprecision = 'fp16'"), "sweep.precision"),
    (("ensemble = 3", "ensemble = 3\nprecision = 'tf32'"), "sweep.precision"),   # device cpu
])
def test_bad_specs_fail_naming_the_key(edit, key):
    text = BASE
    for old, new in zip(edit[::2], edit[1::2]):
        text = text.replace(old, new)
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        parse_spec(text)


def test_bad_values_inside_a_run_name_the_run():
    with pytest.raises(ValueError, match="beta"):
        parse_spec(BASE.replace("beta = [1.0, 2.0]", "beta = [-1.0]"))
    with pytest.raises(ValueError, match="prior"):
        parse_spec(BASE.replace("hidden = 8", "hidden = 8\nprior = 'isa'"))
    with pytest.raises(ValueError, match="TOML"):
        parse_spec("[grid\n")
    with pytest.raises(ValueError, match="no such file"):
        load_spec("sweeps/missing.toml")


def test_fig5b_specs_hold_table_1_of_the_paper():
    # Stühmer et al. 2020, App. Table 1, as printed: β grid, γ grid (FactorVAE), 20 epochs,
    # lr 0.001, batch 2048, 20 latents, Adam, Bernoulli
    betas = [1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6]
    gammas = list(range(1, 11))
    expected_models = {"normal": {"beta-vae", "beta-tcvae"}, "isa": {"isa-vae", "isa-tcvae"},
                       "factorvae": {"factor-vae"}}
    for kind, models in expected_models.items():
        sw = load_spec(f"sweeps/stuhmer-fig5b-{kind}.toml")
        runs = sw.runs
        assert {r["model"] for r in runs} == models
        grid = gammas if kind == "factorvae" else betas
        assert sorted({r["beta"] for r in runs}) == grid
        for r in runs:
            assert (r["dataset"], r["latent_dim"], r["hidden"], r["batch_size"], r["lr"],
                    r["epochs"]) == ("dsprites", 20, 1200, 2048, 1e-3, 20), r
        assert len(runs) == len(models) * len(grid) * 10


def test_later_keys_at_their_defaults_keep_the_run_ids():
    """train.optimizer and eval.higgins enter a run's config only away from their defaults, so
    the specs written before them keep their ids and databases."""
    a = parse_spec(BASE)
    b = parse_spec(BASE.replace("max_steps = 5", "max_steps = 5\noptimizer = 'adam'")
                   .replace("[grid]", "[eval]\nhiggins = false\n[grid]"))
    assert [r["run_id"] for r in a.runs] == [r["run_id"] for r in b.runs]
    assert all("optimizer" not in r and not {k for k in r["eval"] if k.startswith("higgins")}
               for r in a.runs)
    from deep.metrics.classifier_scores import HIGGINS_N_TEST, HIGGINS_N_TRAIN

    d = parse_spec(BASE.replace("[grid]", f"[eval]\nhiggins_n_train = {HIGGINS_N_TRAIN}\n"
                                          f"higgins_n_test = {HIGGINS_N_TEST}\n[grid]"))
    assert [r["run_id"] for r in a.runs] == [r["run_id"] for r in d.runs]   # the study's defaults
    e = parse_spec(BASE.replace("[grid]", "[eval]\nalong = []\n[grid]"))         # no point
    assert [r["run_id"] for r in a.runs] == [r["run_id"] for r in e.runs]
    f = parse_spec(BASE.replace("[grid]", "[eval]\nalong = [0.25, 0.5, 0.75]\n[grid]"))
    assert all(r["eval"]["along"] == [0.25, 0.5, 0.75] for r in f.runs)
    assert not {r["run_id"] for r in a.runs} & {r["run_id"] for r in f.runs}
    c = parse_spec(BASE.replace("max_steps = 5", "max_steps = 5\noptimizer = 'adagrad'")
                   .replace("[grid]", "[eval]\nhiggins = true\n[grid]"))
    assert all(r["optimizer"] == "adagrad" and r["eval"]["higgins"] is True for r in c.runs)
    assert not {r["run_id"] for r in a.runs} & {r["run_id"] for r in c.runs}


def test_beta_norm_is_beta_times_m_over_n():
    # Higgins et al. 2017, App. A.5: β_norm = βM/N, N = 64 × 64 pixels
    sw = parse_spec(BASE.replace("latent_dim = 4\n", "").replace(
        "beta = [1.0, 2.0]", "beta_norm = [0.001, 0.01]\nlatent_dim = [5, 10]"))
    assert INPUT_SIZE == 4096
    assert len(sw.runs) == 2 * 2 * 2 * 2
    for r in sw.runs:
        # one division and one product in float64: within a few ulps of the β_norm given
        assert r["beta"] * r["latent_dim"] / INPUT_SIZE in (pytest.approx(0.001, rel=1e-15),
                                                           pytest.approx(0.01, rel=1e-15))
    assert {(r["latent_dim"], r["beta"]) for r in sw.runs} >= {(10, 0.01 * 4096 / 10), (5, 0.001 * 4096 / 5)}


def _stated_runs(path):
    """The run count a spec's header states ("... = N runs")."""
    head = "".join(ln for ln in Path(path).read_text().splitlines(True) if ln.startswith("#"))
    return int(re.search(r"= ([\d,]+) runs", head).group(1).replace(",", ""))


def test_higgins_fig5_specs_hold_table_1_and_their_stated_run_counts():
    # Higgins et al. 2017, App. Table 1 "2D shapes (VAE)": Adagrad 1e-2, FC 1200 encoder and
    # decoder, Bernoulli; App. A.4: ten replicas per setting, the metric's protocol per model
    left, right = (load_spec(f"sweeps/higgins-fig5-{k}.toml") for k in ("left", "right"))
    for sw, path in ((left, "sweeps/higgins-fig5-left.toml"), (right, "sweeps/higgins-fig5-right.toml")):
        assert len(sw.runs) == _stated_runs(path)
        assert all(len(g.runs) == 10 for g in sw.groups)
        for r in sw.runs:
            assert (r["model"], r["dataset"], r["arch"], r["hidden"], r["optimizer"], r["lr"],
                    r["batch_size"], r["epochs"], r["eval"]["higgins"]) == (
                "beta-vae", "dsprites", "mlp", 1200, "adagrad", 1e-2, 64, 30, True), r
            assert "higgins_n_train" not in r["eval"] and "higgins_n_test" not in r["eval"]
    assert len(left.runs) == 20 and len(right.runs) == 280
    assert sorted({(r["latent_dim"], r["beta"]) for r in left.runs}) == [(10, 1.0), (10, 4.0)]
    assert sorted({r["seed"] for r in left.runs}) == list(range(10))
    assert sorted({r["latent_dim"] for r in right.runs}) == [5, 10, 20, 50]
    norms = sorted({round(r["beta"] * r["latent_dim"] / INPUT_SIZE, 12) for r in right.runs})
    assert norms == [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1]
    assert sorted({r["seed"] for r in right.runs}) == list(range(10))


# ---- size guards at parse time (issue 34) -----------------------------------------------------

def test_a_spec_of_too_many_runs_is_refused_before_it_is_expanded():
    """A grid of 10^6 β values × 2 seeds (2,000,000 runs) fails in one line stating the count,
    before a value is checked or a run is made (the check's oracle: the product of the list
    lengths); stating the count lets a spec past the cap."""
    import time

    from betalab.sweep.spec import MAX_RUNS

    text = BASE.replace("beta = [1.0, 2.0]", "beta = [" + ", ".join(
        str(1 + i / 1e6) for i in range(10**6)) + "]")
    t0 = time.perf_counter()
    with pytest.raises(ValueError) as err:
        parse_spec(text)
    assert time.perf_counter() - t0 < 60                   # (it expanded for minutes before)
    assert str(err.value) == ("spec key 'grid': model 2 × beta 1,000,000 × seed 2 = 4,000,000 runs, "
                              f"more than {MAX_RUNS:,} per spec; to run them, state the count: "
                              "--max-runs 4000000")
    with pytest.raises(ValueError, match=r"= 8 runs, more than 7 per spec.*--max-runs 8$"):
        parse_spec(BASE, max_runs=7)
    assert len(parse_spec(BASE, max_runs=8).runs) == 8
    for bad in (0, -1, 2.5, True, "8"):
        with pytest.raises(ValueError, match="max_runs"):
            parse_spec(BASE, max_runs=bad)


def test_the_run_cap_flag(tmp_path, capsys):
    from betalab.cli import main

    spec = tmp_path / "s.toml"
    spec.write_text(BASE)
    db = tmp_path / "r.sqlite"
    assert main(["sweep", "run", str(spec), "--db", str(db), "--inline", "--max-runs", "7"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("state the count: --max-runs 8") and not db.exists()


_NO_WIDTHS = BASE.replace("latent_dim = 4\nhidden = 8\n", "")
RANGE_CASES = [  # (spec, bad value, value at the bound, key)
    (BASE, "seed = [0, 1]", "seed = [0, {}]", 2**63, 2**63 - 1, "grid.seed"),
    (BASE, "seed = [0, 1]", "seed = {}", 2**70, 2**63 - 1, "grid.seed"),
    (BASE, "[grid]", "[eval]\nseed = {}\n[grid]", 2**63, 2**63 - 1, "eval.seed"),
    (BASE, "hidden = 8", "hidden = {}", 10**9, 65_536, "model.hidden"),
    (BASE, "hidden = 8", "hidden = {}", 65_537, 65_536, "model.hidden"),
    (_NO_WIDTHS, "seed = [0, 1]", "seed = [0]\nlatent_dim = 4\nhidden = [8, {}]", 65_537, 65_536,
     "grid.hidden"),
    (BASE, "latent_dim = 4", "latent_dim = {}", 10**5, 65_536, "model.latent_dim"),
    (_NO_WIDTHS, "seed = [0, 1]", "seed = [0]\nhidden = 8\nlatent_dim = [4, {}]", 10**6, 65_536,
     "grid.latent_dim"),
]


@pytest.mark.parametrize("base,old,new,bad,edge,key", RANGE_CASES,
                         ids=[f"{c[-1]}={c[3]}" for c in RANGE_CASES])
def test_seeds_and_widths_are_range_checked(monkeypatch, base, old, new, bad, edge, key):
    """Seeds below 2**63, widths up to 65,536: a value past the bound names its key; the bound
    itself is accepted (memory left unchecked: a 65,536-wide latent's z_diff is large)."""
    from betalab.sweep import spec as S

    monkeypatch.setattr(S, "memory_bytes", lambda: None)
    with pytest.raises(ValueError, match=re.escape(f"spec key {key!r}: must be in [")):
        parse_spec(base.replace(old, new.format(bad)))
    parse_spec(base.replace(old, new.format(edge)))


def test_an_evaluation_that_cannot_fit_in_memory_is_refused(monkeypatch):
    """The estimate (pair arrays of eval.n_train + eval.n_test points × eval.batch_size pairs)
    against this machine's memory: ``eval.n_train = 10**9`` is refused naming the key; with the
    memory set just above or below a spec's estimate, it passes or fails at that boundary."""
    from betalab.sweep import spec as S

    with pytest.raises(ValueError, match=r"^spec key 'eval.n_train': 1,000,000,000 \+ 2,500 points "
                                         r"of 64 pairs \(eval.batch_size\) need about"):
        parse_spec(BASE.replace("[grid]", "[eval]\nn_train = 1000000000\n[grid]"))
    need = S.eval_memory_bytes(5000 + 2500, 64, 4)
    assert need == 7500 * (64 * 40 + 8 * 4)
    monkeypatch.setattr(S, "memory_bytes", lambda: need)
    parse_spec(BASE)
    monkeypatch.setattr(S, "memory_bytes", lambda: need - 1)
    with pytest.raises(ValueError, match="spec key 'eval.n_train'"):
        parse_spec(BASE)
    with pytest.raises(ValueError, match="spec key 'eval.n_test'"):
        parse_spec(BASE.replace("[grid]", "[eval]\nn_train = 10\nn_test = 7490\n[grid]"))
    parse_spec(BASE.replace("[grid]", "[eval]\nstandard = false\n[grid]"))   # no β-VAE score
    higgins = BASE.replace("[grid]", "[eval]\nstandard = false\nhiggins = true\n"
                                     "higgins_n_train = 7000\nhiggins_n_test = 500\n[grid]")
    with pytest.raises(ValueError, match=r"spec key 'eval.higgins_n_train': 7,000 \+ 500 points "
                                         r"of 64 pairs \(L\)"):
        parse_spec(higgins)
    monkeypatch.setattr(S, "memory_bytes", lambda: None)                     # not known: no check
    parse_spec(BASE.replace("[grid]", "[eval]\nn_train = 1000000000\n[grid]"))


@pytest.mark.parametrize("path", ["sweeps/stuhmer-fig5b-cpu-normal.toml", "sweeps/stuhmer-fig5b-cpu-isa.toml",
                                  "sweeps/stuhmer-fig5b-cpu-factorvae.toml", "sweeps/stuhmer-fig5b-normal.toml",
                                  "sweeps/stuhmer-fig5b-isa.toml", "sweeps/stuhmer-fig5b-factorvae.toml",
                                  "sweeps/higgins-fig5-left.toml", "sweeps/higgins-fig5-right.toml"])
def test_the_specs_that_decide_claims_evaluate_along_training(path):
    """Their claims are decided only where the deciding statistic levelled off
    (betalab.claims.convergence: at least 4 points, the last at the end): each spec evaluates at
    25/50/75 % of its steps, three distinct steps before the end for its step count."""
    from betalab.claims import MIN_TRACE_POINTS
    from betalab.sweep.work import along_steps, heldout_indices

    sw = load_spec(path)
    assert {tuple(r["eval"]["along"]) for r in sw.runs} == {(0.25, 0.5, 0.75)}
    r = sw.runs[0]
    n = 11_520 if r["dataset"] == "dsprites-reduced" else 737_280      # dSprites' grids
    total = (n - heldout_indices(n, r["holdout"], r["eval"]["seed"]).size) // r["batch_size"] * r["epochs"]
    total = total if r["max_steps"] is None else min(total, r["max_steps"])
    assert len(along_steps(r["eval"]["along"], total)) + 1 >= MIN_TRACE_POINTS


def test_disc_hidden_enters_factor_vae_runs_only_away_from_app_a4():
    """model.disc_hidden: App. A.4's 1000 spelled out keeps the ids; another width enters the
    config of factor-vae runs and changes their ids; a sweep builds the discriminator that wide."""
    fv = BASE.replace('model = ["beta-vae", "beta-tcvae"]', 'model = ["factor-vae"]')
    a = parse_spec(fv)
    b = parse_spec(fv.replace("hidden = 8", "hidden = 8\ndisc_hidden = 1000"))
    assert [r["run_id"] for r in a.runs] == [r["run_id"] for r in b.runs]
    assert all("disc_hidden" not in r for r in a.runs)
    c = parse_spec(fv.replace("hidden = 8", "hidden = 8\ndisc_hidden = 16"))
    assert all(r["disc_hidden"] == 16 for r in c.runs)
    assert not {r["run_id"] for r in a.runs} & {r["run_id"] for r in c.runs}
    from betalab.sweep.work import build_ensemble

    ens, _, _ = build_ensemble(c.groups[0].runs[:1], "cpu")
    widths = [m.out_features for m in ens.trainers[0].objective.discriminator.modules()
              if hasattr(m, "out_features")]
    assert widths[:-1] == [16] * (len(widths) - 1) and widths[-1] == 2
