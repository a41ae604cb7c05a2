"""fa-pruning (Stühmer et al. 2020, App. B.4, eq 17): every claim holds, is an explained
difference or a labelled construction; determinism per seed."""

import numpy as np

from betalab.registry import StudyConfig, get


def test_fa_pruning_claims(check_claims):
    res = get("fa-pruning")(StudyConfig(seed=0))
    check_claims("fa-pruning", res.claims)
    verdicts = {c.verdict for c in res.claims}
    assert verdicts <= {"holds", "differs", "constructed"}
    assert sum(c.verdict == "holds" for c in res.claims) >= 3


def test_same_seed_same_numbers():
    a = get("fa-pruning")(StudyConfig(seed=3)).numbers
    b = get("fa-pruning")(StudyConfig(seed=3)).numbers
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
