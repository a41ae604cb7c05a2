"""The contract every study's claims keep: the ``check_claims`` fixture of the study tests.

* no claim fails;
* every claim has a kind, and a ``differs`` is paired with its corrected claim, which the study
  also returns and which holds;
* every coverage-ledger name that points at the study matches one of its claims.
"""

import pytest

from betalab import coverage
from betalab.claims import KINDS


def check_claims(study: str, claims) -> None:
    assert claims, study
    failing = [c.statement for c in claims if c.verdict == "fails"]
    assert not failing, failing
    by_statement = {c.statement: c for c in claims}
    for c in claims:
        assert c.kind in KINDS, c.statement
        if c.verdict == "differs":
            assert c.note and c.pair in by_statement, c.statement
            corrected = by_statement[c.pair]
            assert corrected.verdict == "holds" and corrected.pair == c.statement, c.statement
    assert coverage.unresolved_names(coverage.LEDGER, study, claims) == []


@pytest.fixture(name="check_claims")
def check_claims_fixture():
    return check_claims
