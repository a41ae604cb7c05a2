"""Stühmer et al. 2020, App. A.3 (Table 1) and App. A.4: the full-scale Fig. 5b specs against the
printed hyper-parameters and layers (betalab.studies.stuhmer2020.app_a3_table1)."""

from betalab.studies.stuhmer2020 import app_a3_table1 as T


def test_table1_check_reads_the_specs_and_flips_with_a_changed_value():
    """The full-scale specs match Table 1 and App. A.4 as printed (transcribed in the study);
    a spec with one β missing, a capped run, or a decoder with another activation fails."""
    import copy

    numbers = T.table1_numbers()
    assert set(numbers) == {"stuhmer-fig5b-normal", "stuhmer-fig5b-isa", "stuhmer-fig5b-factorvae"}
    assert numbers["stuhmer-fig5b-factorvae"]["discriminator_act"] == ["leakyrelu(0.2)"]
    assert {c.verdict for c in T.table1_claims(numbers)} == {"holds"}
    for change in (lambda n: n["stuhmer-fig5b-isa"]["grid"].remove(3.5),
                   lambda n: n["stuhmer-fig5b-normal"].update(max_steps=2000),
                   lambda n: n["stuhmer-fig5b-normal"].update(decoder_act=["relu"]),
                   lambda n: n["stuhmer-fig5b-factorvae"]["discriminator"].pop()):
        bad = copy.deepcopy(numbers)
        change(bad)
        assert [c.verdict for c in T.table1_claims(bad)].count("fails") == 1
