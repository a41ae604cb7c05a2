"""sweeps/fit_budget.py: the spec it writes reads back (tomllib, the oracle) as the spec it
read with only the fitted keys changed, and its max_steps is the measured step's fit."""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("fit_budget", ROOT / "sweeps" / "fit_budget.py")
fit_budget = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fit_budget)


def test_dump_spec_round_trips_through_tomllib():
    raw = tomllib.loads((ROOT / "sweeps" / "higgins-fig5-left.toml").read_text())
    raw["eval"]["standard"] = False
    raw["sweep"]["name"] = 'a "quoted" name'
    assert tomllib.loads(fit_budget.dump_spec(raw, "# header")) == raw
    with pytest.raises(TypeError, match="dict"):
        fit_budget.dump_spec({"x": {"y": {}}})


def test_the_fitted_spec_is_the_original_with_max_steps_from_the_measured_step(tmp_path, capsys):
    out = tmp_path / "fitted.toml"
    code = fit_budget.main([str(ROOT / "sweeps" / "tiny.toml"), "--train-seconds", "400",
                            "--out", str(out), "--db", str(tmp_path / "db.sqlite"),
                            "--ensemble", "4", "--no-standard", "--probe-steps", "3"])
    assert code == 0
    ms = float(re.search(r"fit_budget: ([0-9.]+) ms/step", capsys.readouterr().out).group(1))
    got, want = tomllib.loads(out.read_text()), tomllib.loads((ROOT / "sweeps" / "tiny.toml").read_text())
    steps = got["train"].pop("max_steps")
    want["train"].pop("max_steps")
    want["sweep"].update(name="tiny-budget", ensemble=4)
    want["eval"]["standard"] = False
    assert got == want
    # 2 ensembles of 4 share the 400 s; the printed step is rounded to 0.01 ms
    assert steps % 1000 == 0 and steps >= 1000
    assert steps <= 200 / (ms * 1e-3) * (1 + 1e-3) + 1000 and steps + 1000 > 200 / ((ms + 0.01) * 1e-3)
    assert not (tmp_path / "db.sqlite").exists()                 # nothing run without --run


def test_bad_budgets_fail_by_name(tmp_path, capsys):
    args = [str(ROOT / "sweeps" / "tiny.toml"), "--out", str(tmp_path / "f.toml"), "--db", "x"]
    assert fit_budget.main(args + ["--train-seconds", "-1"]) == 2
    assert "--train-seconds" in capsys.readouterr().err
    assert fit_budget.main(args + ["--train-seconds", "1e-6"]) == 2   # fewer than 1,000 steps
    assert "fewer than 1,000 steps" in capsys.readouterr().err
    assert not (tmp_path / "f.toml").exists()


def test_set_cuts_the_grid_and_sets_flags_as_toml_values(tmp_path):
    out = tmp_path / "fitted.toml"
    code = fit_budget.main([str(ROOT / "sweeps" / "tiny.toml"), "--train-seconds", "400",
                            "--out", str(out), "--db", str(tmp_path / "db.sqlite"), "--probe-steps", "2",
                            "--set", "grid.seed=[0]", "--set", "eval.factor_response = true",
                            "--set", "model.hidden=16"])
    assert code == 0
    got = tomllib.loads(out.read_text())
    assert got["grid"]["seed"] == [0] and got["eval"]["factor_response"] is True
    assert got["model"]["hidden"] == 16
    assert fit_budget.parse_setting("grid.beta_norm=[0.001, 0.1]") == ("grid", "beta_norm", [0.001, 0.1])


@pytest.mark.parametrize("item, message", [("gridseed=[0]", "SECTION.KEY=VALUE"),
                                           ("grid.seed", "SECTION.KEY=VALUE"),
                                           ("grid.seed=[0,", "not a TOML value")])
def test_bad_settings_fail_by_name(item, message, tmp_path, capsys):
    code = fit_budget.main([str(ROOT / "sweeps" / "tiny.toml"), "--train-seconds", "400",
                            "--out", str(tmp_path / "f.toml"), "--db", "x", "--set", item])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "f.toml").exists()


def test_an_unknown_key_set_is_the_spec_parsers_error(tmp_path, capsys):
    code = fit_budget.main([str(ROOT / "sweeps" / "tiny.toml"), "--train-seconds", "400",
                            "--out", str(tmp_path / "f.toml"), "--db", "x", "--set", "eval.colour=1"])
    assert code == 2 and "eval.colour" in capsys.readouterr().err
