"""sikka-fig5 (betalab.studies.sikka2020.fig5_placed_digit): the quadrature check against its
oracle."""

from betalab.studies.sikka2020.fig5_placed_digit import quadrature_check


def test_quadrature_check_agrees_with_its_oracle():
    from deep.data.digits import placement_mixing

    assert quadrature_check(placement_mixing())["max_abs_diff"] < 1e-5  # O(width²) = 1e-6
