"""The contract every study's claims keep: the ``check_claims`` fixture of the study tests.

* no claim fails, except the failures to reproduce a test names (``expected_failures``: the
  start of each statement); each of those must fail, so a test notices when one starts to hold;
* every claim has a kind, and a ``differs`` is paired with its corrected claim, which the study
  also returns and which holds, and rests on a basis that can show a paper wrong (never a
  measurement below the paper's scale);
* every coverage-ledger name that points at the study matches one of its claims (for a test that
  runs part of a study, ``ledger_scope`` names the statement starts of that part). A study with
  a recorded run is reported from that run, so its names are checked against the recorded claims
  instead (tests/betalab/test_ledger.py), not against a quick run's.
"""

import pytest

from betalab import coverage, runner
from betalab.claims import BASES, KINDS


def check_claims(study: str, claims, expected_failures=(), ledger_scope=()) -> None:
    assert claims, study
    failing = [c.statement for c in claims if c.verdict == "fails"]
    unexpected = [f for f in failing if not any(f.startswith(e) for e in expected_failures)]
    assert not unexpected, unexpected
    for e in expected_failures:
        assert any(f.startswith(e) for f in failing), f"expected to fail: {e}"
    by_statement = {c.statement: c for c in claims}
    for c in claims:
        assert c.kind in KINDS, c.statement
        if c.verdict == "differs":
            assert c.note and c.pair in by_statement, c.statement
            assert c.basis in BASES, c.statement
            assert c.basis != "paper-scale measurement" or c.scale == "full", c.statement
            corrected = by_statement[c.pair]
            assert corrected.verdict == "holds" and corrected.pair == c.statement, c.statement
    if study not in runner.recorded_records():
        assert coverage.unresolved_names(coverage.LEDGER, study, claims, ledger_scope) == []


@pytest.fixture(name="check_claims")
def check_claims_fixture():
    return check_claims


def run_checked(name: str, seed: int = 1):
    """Run study ``name`` at its quick scale, check its claims (:func:`check_claims`) and
    return its result."""
    import matplotlib.pyplot as plt

    from betalab.registry import StudyConfig, get

    result = get(name)(StudyConfig(seed=seed))
    assert result.figures and result.claims
    check_claims(name, result.claims)
    plt.close("all")
    return result


@pytest.fixture(name="run_checked")
def run_checked_fixture():
    return run_checked


def done_rows(sweep_dir):
    """(config, metrics) of the finished runs of a recorded sweep, read with sqlite3 and json
    directly (the oracle for betalab.results' reader)."""
    import json
    import sqlite3

    con = sqlite3.connect(sweep_dir / "results.sqlite")
    try:
        rows = con.execute("SELECT config, metrics FROM runs WHERE status = 'done'").fetchall()
    finally:
        con.close()
    return [(json.loads(c), json.loads(m)) for c, m in rows]


@pytest.fixture(name="done_rows")
def done_rows_fixture():
    return done_rows


def sweep_in_process(sweep, db) -> None:
    """Every ensemble of ``sweep`` trained here, in turn, and recorded in ``db`` — the driver's
    own calls (the store, train_group per ensemble, record) without Ray or checkpoints; one
    thread, as a sweep worker runs (OMP_NUM_THREADS=1), so the arithmetic is the same
    operation for operation."""
    import torch

    from betalab.sweep.store import ResultsStore
    from betalab.sweep.work import train_group

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    store = ResultsStore(db, sweep)
    try:
        for g in sweep.groups:
            store.mark_running([r["run_id"] for r in g.runs])
            store.record(*train_group(g.runs, group_id=g.group_id))
    finally:
        store.close()
        torch.set_num_threads(threads)


@pytest.fixture(name="sweep_in_process")
def sweep_in_process_fixture():
    return sweep_in_process
