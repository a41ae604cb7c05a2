"""fa-rotation (Stühmer et al. 2020, App. B.3): every claim holds, is an explained difference or a
labelled construction; the constructed setting reproduces the quoted numbers for any seed."""

import numpy as np

from betalab.registry import StudyConfig, get
from linear_models import factor_analysis as fa


def test_fa_rotation_claims(check_claims):
    res = get("fa-rotation")(StudyConfig(seed=0))
    check_claims("fa-rotation", res.claims)
    verdicts = {c.verdict for c in res.claims}
    assert verdicts <= {"holds", "differs", "constructed"}
    assert sum(c.verdict == "holds" for c in res.claims) >= 3


def test_the_quoted_numbers_are_labelled_constructions_not_reproductions():
    """−17.82 and −57.16 are solved for: a claim whose expected value comes from the construction
    under test must be labelled, never counted as holding."""
    res = get("fa-rotation")(StudyConfig(seed=0))
    quoted = [c for c in res.claims if "17.82" in c.statement or "57.16" in c.statement]
    assert [c.verdict for c in quoted] == ["constructed", "constructed"]
    assert all("σ² drops out" in c.note for c in quoted)


def test_rotation_setting_reproduces_the_quoted_numbers_for_any_seed():
    from betalab.studies.stuhmer2020._fa import ROT_N, rotation_problem

    for seed in (0, 7):
        X, W, psi, _ = rotation_problem(seed)
        assert X.shape == (ROT_N, 2)
        np.testing.assert_allclose(fa.log_likelihood(X, W, psi), -17.82, atol=1e-9)
        W45 = W @ fa.rotation(np.pi / 4).T
        np.testing.assert_allclose(fa.free_energy(X, W45, psi), -57.16, atol=1e-9)
