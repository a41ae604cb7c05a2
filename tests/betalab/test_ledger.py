"""The coverage ledger (betalab.ledger, format in betalab.coverage): its items at the papers'
grain, its four statuses counted apart, and its claim names resolved against the claims the
report takes.

Where a name is resolved:

* a study with a recorded run (``recorded/<study>/<scale>/``) is reported from that run, so its
  names must match the recorded claims: checked here, from the stored ``result.json`` (whose
  claims tests/betalab/test_recorded.py re-derives from the recorded numbers);
* every other study is reported from its quick run: its names are checked by the study tests
  (the ``check_claims`` fixture of tests/betalab/conftest.py) and the notebook tests.
"""

from collections import Counter

import pytest

from betalab import claims, coverage, registry, runner
from betalab.ledger import LEDGER

#: the phrases a missing item's reason is written in (betalab.ledger's docstring)
REASON_PHRASES = ("data not obtainable offline", "needs a GPU", "not yet built", "no claim")


def _claim(statement, verdict="holds", study="toy"):
    if verdict == "not run":
        c = claims.not_run(statement, "none", "x", why="w.", would_run="r.", cost="c.", kind="paper")
    else:
        c = claims.relation(statement, "none", "x > 0", 1.0, verdict == "holds", kind="paper")
    return c.with_study(study)


def test_items_are_validated():
    with pytest.raises(ValueError, match="reason"):
        coverage.Item("higgins", "Fig 5", "table", "not run", ("toy: a",))
    with pytest.raises(ValueError, match="claims"):
        coverage.Item("higgins", "Fig 5", "table", "not run", reason="r")
    with pytest.raises(ValueError, match="no claims"):
        coverage.Item("higgins", "Fig 5", "table", "missing", ("toy: a",), reason="r")
    with pytest.raises(ValueError, match="status"):
        coverage.Item("higgins", "Fig 5", "table", "not-run", ("toy: a",), reason="r")
    with pytest.raises(ValueError, match="statement start"):
        coverage.Item("higgins", "Fig 5", "table", "covered", ("toy",))
    assert coverage.STATUSES == ("covered", "partial", "not run", "missing")


def test_not_run_is_counted_apart_and_a_status_that_disagrees_is_reported():
    ledger = [coverage.Item("higgins", "eq 1", "a", "covered", ("toy: a holds",)),
              coverage.Item("higgins", "eq 2", "b", "not run", ("toy: b waits",), reason="r"),
              coverage.Item("higgins", "eq 3", "c", "partial", ("toy: a holds", "toy: b waits"),
                            reason="r"),
              coverage.Item("sikka", "eq 4", "d", "missing", reason="not yet built: x"),
              coverage.Item("sikka", "eq 5", "e", "not run", ("toy: a holds",), reason="r"),
              coverage.Item("sikka", "eq 6", "f", "covered", ("toy: b waits",))]
    ids = [("toy:1", _claim("a holds")), ("toy:2", _claim("b waits", "not run"))]
    s = coverage.summary(coverage.resolve(ledger, ids))
    assert s["counts"]["higgins"] == {"covered": 1, "partial": 1, "not run": 1, "missing": 0}
    assert s["counts"]["sikka"] == {"covered": 1, "partial": 0, "not run": 1, "missing": 1}
    assert s["totals"] == {"covered": 2, "partial": 1, "not run": 2, "missing": 1}
    # a not-run item whose claim was decided, a covered item whose claims were all not run
    assert [m.split(":")[0] for m in s["status_mismatches"]] == ["sikka eq 5", "sikka eq 6"]
    lines = coverage.report_lines(coverage.resolve(ledger, ids))
    assert lines[0] == "| paper | covered | partial | not run | missing | items |"
    row = next(ln for ln in lines if ln.startswith(f"| {coverage.PAPERS['higgins']} |"))
    assert row.endswith("| 1 | 1 | 1 | 0 | 3 |")
    assert "| **all papers** | **2** | **1** | **2** | **1** | **6** |" in lines
    assert any(ln.startswith("**Ledger statuses that disagree") and "sikka eq 6" in ln for ln in lines)
    # an item none of whose claims ran is not judged
    assert coverage.status_mismatches(coverage.resolve(ledger[:2], [])) == []


def test_unresolved_names_within_a_scope():
    ledger = [coverage.Item("higgins", "Fig 1", "a", "covered", ("toy: nu=tanh, x", "toy: nu=elu, x"))]
    run = [_claim("nu=tanh, x holds")]
    assert coverage.unresolved_names(ledger, "toy", run) == ["toy: nu=elu, x"]
    assert coverage.unresolved_names(ledger, "toy", run, scope=("nu=tanh,",)) == []
    assert coverage.unresolved_names(ledger, "toy", [], scope=("nu=tanh,",)) == ["toy: nu=tanh, x"]


def test_the_ledger_lists_the_papers_items_one_by_one():
    assert all(isinstance(i, coverage.Item) for i in LEDGER)
    keys = [(i.paper, i.ref, i.what) for i in LEDGER]
    assert len(keys) == len(set(keys)), "duplicate ledger items"
    per_paper = Counter(i.paper for i in LEDGER)
    assert set(per_paper) == set(coverage.PAPERS)
    assert len(LEDGER) >= 150 and min(per_paper.values()) >= 30, per_paper
    assert {i.status for i in LEDGER} == set(coverage.STATUSES)
    for i in LEDGER:
        if i.status == "missing":
            assert any(p in i.reason for p in REASON_PHRASES), (i.ref, i.reason)
    # the report counts the four statuses: every item is counted once
    s = coverage.summary(coverage.resolve(LEDGER, []))
    assert sum(s["totals"].values()) == len(LEDGER)
    assert s["totals"]["not run"] == sum(i.status == "not run" for i in LEDGER)


def test_every_name_points_at_a_registered_study():
    studies = set(registry.all_studies())
    for i in LEDGER:
        for name in i.claims:
            assert name.partition(": ")[0] in studies, name


RECORDED = runner.recorded_records()


@pytest.mark.parametrize("study", sorted(RECORDED))
def test_names_resolve_against_the_recorded_run(study):
    """A study with a recorded run is reported from it: every ledger name that points at the
    study matches a claim of that run (e.g. Kumar & Poole's Fig. 3 names the d = 12 claims the
    recorded run has, not the quick run's d = 8)."""
    recorded = [claims.Claim.from_dict(c) for c in RECORDED[study]["claims"]]
    assert recorded, study
    assert coverage.unresolved_names(LEDGER, study, recorded) == []


def test_statuses_agree_with_the_recorded_runs():
    """An item every name of which points at a study with a recorded run is judged by that run's
    claims, re-derived as the report re-derives them: ``not run`` exactly when every claim it
    names is not run (a re-recording that turns verdicts into not-run claims, or back, must move
    the item's status with it)."""
    records = [runner.rederive(r) for r in RECORDED.values() if not r.get("error")]
    ids = runner.claim_ids(records)
    only_recorded = tuple(i for i in LEDGER
                          if i.claims and all(n.partition(": ")[0] in RECORDED for n in i.claims))
    assert len(only_recorded) >= 20
    resolved = coverage.resolve(only_recorded, ids, studies_run={r["study"] for r in records})
    assert coverage.status_mismatches(resolved) == []


def test_every_kp_uniqueness_name_is_in_the_part_of_one_study_test():
    """tests/betalab/test_kumar_poole2020_sec3_uniqueness.py runs kp-uniqueness one ν at a time and
    resolves the names of that ν and of sec. 3.1: together the four tests resolve every name only
    if every name belongs to one of those parts."""
    from betalab.studies.kumar_poole2020.sec3_uniqueness import NONLINEARITIES

    parts = tuple(f"nu={nl}," for nl in NONLINEARITIES) + ("Sec. 3.1",)
    names = [n for i in LEDGER for n in i.claims if n.startswith("kp-uniqueness: ")]
    assert names and all(n.partition(": ")[2].startswith(parts) for n in names), names
