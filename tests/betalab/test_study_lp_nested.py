"""The four Lp-nested studies run in quick mode, with no failing claim, and their numbers agree
with the closed forms they report (Stühmer et al. 2020, eqs 5–11, Figs 2–3, App. A.1)."""

import math

import matplotlib.pyplot as plt
import pytest

from betalab.registry import StudyConfig, get
from theory import lp_nested as L


@pytest.fixture(scope="module")
def results():
    out = {name: get(name)(StudyConfig(seed=1)) for name in
           ("lp-nested-fig2", "lp-nested-fig3", "isa-symmetry-breaking", "isa-prior-samples")}
    yield out
    plt.close("all")


def test_no_claim_fails_and_differs_have_corrections(results, check_claims):
    for name, res in results.items():
        check_claims(name, res.claims)
        assert res.figures, name


def test_eq10_subspaces_from_function_values():
    """The eq 10 oracle recovers a known partition, and eq 10 corrected matches it."""
    from betalab.studies.lp_nested import eq10_index_sets, subspace_partition

    tree = L.isa_tree(2.0, [(1.3, 2), (2.6, 3), (1.7, 1)])
    assert sorted(map(sorted, subspace_partition(tree))) == [[0, 1], [2, 3, 4], [5]]
    assert eq10_index_sets((2, 3, 1), corrected=True) == [{0, 1}, {2, 3, 4}, {5}]
    assert eq10_index_sets((2, 3, 1), corrected=False) == [{0, 1, 2}, {2, 3, 4, 5}, {5, 6}]


def test_fig2_volumes_against_eq8(results):
    vols = results["lp-nested-fig2"].numbers["volumes"]
    assert len(vols) == 9
    v = vols["p0=2,p1=2"]
    assert v["eq8_volume"] == pytest.approx(4 * math.pi / 3, rel=1e-13)      # the unit ball
    assert abs(v["mc_volume"] - v["eq8_volume"]) < 4 * v["mc_se"]


def test_fig3_argmax(results):
    am = results["lp-nested-fig3"].numbers["argmax_deg"]
    assert am["1"] == 45.0 and am["4"] == 0.0
    assert results["lp-nested-fig3"].numbers["excess_kurtosis_at_kappa1"] == pytest.approx(3.0)


def test_samples_entropy_is_exact_formula(results):
    n = results["isa-prior-samples"].numbers["dSprites"]
    assert n["entropy_exact"] == pytest.approx(-L.log_normalizer(L.isa_tree(2.1, [(2.2, 4)] * 5), 1.0) + 20 / 2.1)
