"""higgins-fig5-table: the architectures of Higgins et al. 2017, App. Table 1, against betalab's
builds (betalab.studies.higgins2017.app_table1)."""

from betalab.studies.higgins2017 import app_table1 as A


def test_table1_architectures_are_checked_against_the_printed_table():
    """The architecture checks hold for betalab's builds and fail for a build that differs
    from the printed table in one width, one activation or the latent size."""
    import copy

    arch = A.architecture_numbers()
    assert [c.verdict for c in A.architecture_claims(arch)] == ["holds", "holds"]
    for row, mutate in (("2D shapes (VAE)", lambda a: a["encoder"][1].__setitem__(1, 1000)),
                        ("2D shapes (VAE)", lambda a: a.__setitem__("activation", [["relu"], ["relu"]])),
                        ("chairs / 3D faces (VAE)", lambda a: a.__setitem__("head", 20))):
        bad = copy.deepcopy(arch)
        mutate(bad[row])
        verdicts = {c.statement: c.verdict for c in A.architecture_claims(bad)}
        assert verdicts[f"Table 1 (App.): the {row} architecture as printed"] == "fails"
