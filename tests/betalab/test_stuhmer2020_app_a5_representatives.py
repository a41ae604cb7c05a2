"""Stühmer et al. 2020, App. A.5: the representative-model rule by hand, and the representatives
of a recorded sweep retrained (betalab.studies.stuhmer2020.app_a5_representatives)."""

import numpy as np
import pytest

from betalab.studies.stuhmer2020 import _dsprites_runs as R, app_a5_representatives as R5


def test_representative_index_by_hand():
    # upper half of MIG: runs 2, 3, 4 (median 0.3); their mean (0.4, 10) and variances
    # (0.02/3·…): run 3 sits at the mean of both coordinates
    mig = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    recon = np.array([50.0, 40.0, 12.0, 10.0, 8.0])
    assert R.representative_index(mig, recon) == 3
    # by hand: upper half (0.3, 10), (0.4, 30), (0.5, 10.5); mean (0.4, 16.83), variances
    # (0.00667, 86.72); squared distances 1.5 + 0.538 = 2.04, 0 + 2.0 = 2.0, 1.5 + 0.462 = 1.96
    recon = np.array([50.0, 40.0, 10.0, 30.0, 10.5])
    assert R.representative_index(mig, recon) == 4
    with pytest.raises(ValueError, match="mig and recon"):
        R.representative_index([0.1], [1.0, 2.0])


def test_fig5b_representatives_are_the_app_a5_picks_retrained(tmp_path, sweep_in_process):
    """On a tiny recorded sweep: one representative per model, the run App. A.5's rule picks
    (betalab.sweep.views.representative_runs on the sampled MIG), its recorded metrics carried
    over, and its latent-vs-factor and traversal figures."""
    from pathlib import Path

    import matplotlib.pyplot as plt

    from betalab.results import open_results
    from betalab.sweep.spec import load_spec
    from betalab.sweep.views import representative_runs

    sweep_in_process(load_spec(Path(__file__).resolve().parents[2] / "sweeps" / "tiny.toml"),
                     tmp_path / "normal.sqlite")
    with open_results(tmp_path / "normal.sqlite") as res:
        picks = representative_runs(res.table(), "mig_sampled")
    figs, nums = R5.fig5b_cpu_representatives(tmp_path, max_steps=3)
    assert set(nums) == set(picks) == {"beta-vae", "beta-tcvae"}
    for model, row in picks.items():
        assert nums[model]["run_id"] == row["run_id"] and nums[model]["mig_sampled"] == row["mig_sampled"]
        assert 0.0 <= nums[model]["retrained_mig_histogram"] <= 1.0
        assert {f"fig5b_representative_{model}_latents", f"fig5b_representative_{model}_traversals"} <= set(figs)
    plt.close("all")
