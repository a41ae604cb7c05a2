"""``StudyConfig.params``: a study's declared knobs, overridable and validated up front; and a
study call leaves no pyplot figure open (a notebook shows each figure once)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from betalab import registry
from betalab.registry import StudyConfig
from betalab.studies.stuhmer2020.app_b5_fa_beta import beta_study
from betalab.studies.stuhmer2020.app_b8_ica_beta_sweep import ica_beta_sweep


def test_params_must_be_a_mapping_with_str_keys():
    with pytest.raises(TypeError, match="params"):
        StudyConfig(params=[("betas", [1, 2])])
    with pytest.raises(TypeError, match="params keys"):
        StudyConfig(params={1: 2})


def test_unknown_parameter_names_the_key_and_the_valid_ones():
    with pytest.raises(ValueError, match=r"'beta'.*'fa-beta'.*valid: betas, n_theta"):
        beta_study(StudyConfig(params={"beta": [0.5, 1.0, 2.0]}))
    # a study without knobs says so
    study = registry.get("fa-rotation")
    with pytest.raises(ValueError, match="no overridable parameters"):
        study(StudyConfig(params={"n": 10}))


@pytest.mark.parametrize("params, exc, match", [
    ({"betas": [2.0, 1.0, 3.0]}, ValueError, "betas must be strictly increasing"),
    ({"betas": [0.0, 1.0, 3.0]}, ValueError, "betas must hold finite numbers > 0"),
    ({"betas": [1.0, np.nan, 3.0]}, ValueError, "betas must hold finite"),
    ({"betas": [1.0, 2.0]}, ValueError, "betas must be a 1-d sequence of at least 3"),
    ({"betas": "1,2,3"}, TypeError, "betas must be a sequence"),
    ({"n_theta": 2}, ValueError, "n_theta must be an int >= 5"),
    ({"n_theta": 91.0}, TypeError, "n_theta must be an int"),
    ({"n_theta": True}, TypeError, "n_theta must be an int"),
])
def test_invalid_values_raise_naming_the_parameter(params, exc, match):
    with pytest.raises(exc, match=match):
        beta_study(StudyConfig(params=params))


@pytest.mark.parametrize("params, exc, match", [
    ({"betas": [0.1, 1.0, 2.0]}, ValueError, r"betas must contain \[5.0\]"),
    ({"n": 0}, ValueError, "n must be an int"),
    ({"noise_variance": -0.1}, ValueError, "noise_variance must be finite and in"),
    ({"noise_variance": float("inf")}, ValueError, "noise_variance must be finite"),
])
def test_ica_sweep_parameters_are_checked_before_fitting(params, exc, match):
    with pytest.raises(exc, match=match):
        ica_beta_sweep(StudyConfig(params=params))


def test_an_overridden_grid_reaches_the_computation():
    """Each β's free-energy curve is computed on its own, so a run on a sub-grid must give
    exactly the amplitudes of the default run at the shared β values (oracle: the default run),
    and a new β value must appear in the numbers."""
    default = beta_study(StudyConfig())
    b = default.numbers["betas"]
    sub = beta_study(StudyConfig(params={"betas": [b[0], 1.0, b[-1]], "n_theta": 91}))
    np.testing.assert_array_equal(sub.numbers["betas"], [b[0], 1.0, b[-1]])
    # same float operations on the same θ grid: bit-identical
    assert sub.numbers["amplitude_eq16"][0] == default.numbers["amplitude_eq16"][0]
    assert sub.numbers["amplitude_eq16"][-1] == default.numbers["amplitude_eq16"][-1]
    assert len(sub.numbers["thetas"]) == 91
    finer = beta_study(StudyConfig(params={"n_theta": 181}))
    assert len(finer.numbers["thetas"]) == 181


def test_a_study_call_leaves_no_pyplot_figure_open(tmp_path):
    plt.close("all")
    result = beta_study(StudyConfig())
    assert plt.get_fignums() == []  # nothing left for a notebook to display automatically
    fig = result.figures["beta"]
    fig.savefig(tmp_path / "beta.png")  # the closed figure is still a usable object
    assert (tmp_path / "beta.png").stat().st_size > 10_000


def test_figures_opened_before_the_call_stay_open():
    plt.close("all")
    mine = plt.figure()
    beta_study(StudyConfig())
    assert plt.get_fignums() == [mine.number]
    plt.close(mine)


def test_every_declared_parameter_is_documented_and_checked():
    for name, s in registry.all_studies().items():
        for key, p in s.params.items():
            assert isinstance(p, registry.Param) and p.doc, (name, key)
            assert callable(p.check), (name, key)
