"""sikka-fig4 (betalab.studies.sikka2020.fig4_mixed_digits): the linear check against its
oracle, and one quick run of the whole study."""

import numpy as np

from betalab.studies.sikka2020 import _deep as S
from betalab.studies.sikka2020.fig4_mixed_digits import linear_tie_check

CURVES = ("elbo", "rec", "kl", "tie")


def test_linear_check_agrees_with_its_oracle():
    from deep.data.digits import digit_mixing_matrix, digit_templates

    A = digit_mixing_matrix(digit_templates(S.FIG4_CLASSES), 8)
    lin = linear_tie_check(A, 2.0, 5000, np.random.default_rng(0))
    assert abs(lin["mc"] - lin["closed_form"]) < 4 * lin["se"]          # 4 Monte Carlo SE


def test_quick_fig4_runs_and_its_claims_keep_the_contract(check_claims, study_cache):
    from betalab.registry import StudyConfig, get

    result = get("sikka-fig4")(StudyConfig(scale="quick"))
    check_claims("sikka-fig4", result.claims)
    n = result.numbers
    assert np.asarray(n["tie"]).shape == (4, 4) and np.all(np.isfinite(n["tie"]))
    # ELBO = reconstruction − KL per model, the identity of eq 8
    np.testing.assert_allclose(n["elbo"], np.asarray(n["rec"]) - np.asarray(n["kl"]), rtol=1e-12)
    # the matched TIE is the minimum over the 8 matchings, the identity among them
    assert np.all(np.asarray(n["tie"]) <= np.asarray(n["tie_identity"]) + 1e-12)
    # the curves along training: 4 points, the last the end point, and their figure
    assert n["along_steps"] == [75, 150, 225, 300] and np.shape(n["tie_along"]) == (4, 4, 4)
    np.testing.assert_array_equal(np.asarray(n["elbo_along"])[:, -1], n["elbo"])
    assert set(n["convergence"]) == set(CURVES) and "fig4_along" in result.figures
