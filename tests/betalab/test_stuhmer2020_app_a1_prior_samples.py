"""isa-prior-samples (Stühmer et al. 2020, App. A.1, Algorithm 1, eqs 7–11) runs in quick mode with
no failing claim, and its numbers agree with the closed forms it reports."""

import matplotlib.pyplot as plt
import pytest

from betalab.registry import StudyConfig, get
from theory import lp_nested as L


@pytest.fixture(scope="module")
def result():
    yield get("isa-prior-samples")(StudyConfig(seed=1))
    plt.close("all")


def test_no_claim_fails_and_differs_have_corrections(result, check_claims):
    check_claims("isa-prior-samples", result.claims)
    assert result.figures


def test_eq10_subspaces_from_function_values():
    """The eq 10 oracle recovers a known partition, and eq 10 corrected matches it."""
    from betalab.studies.stuhmer2020.app_a1_prior_samples import eq10_index_sets, subspace_partition

    tree = L.isa_tree(2.0, [(1.3, 2), (2.6, 3), (1.7, 1)])
    assert sorted(map(sorted, subspace_partition(tree))) == [[0, 1], [2, 3, 4], [5]]
    assert eq10_index_sets((2, 3, 1), corrected=True) == [{0, 1}, {2, 3, 4}, {5}]
    assert eq10_index_sets((2, 3, 1), corrected=False) == [{0, 1, 2}, {2, 3, 4, 5}, {5, 6}]


def test_samples_entropy_is_exact_formula(result):
    n = result.numbers["dSprites"]
    assert n["entropy_exact"] == pytest.approx(-L.log_normalizer(L.isa_tree(2.1, [(2.2, 4)] * 5), 1.0) + 20 / 2.1)
