"""Shared test conventions: float64, explicit seeds, slow checks opt-in.

A test marked ``slow`` is a full-size variant of a check whose quick variant
always runs; ``pytest --runslow`` (``make test-slow``) runs them too.
"""

import os

# Two cores are shared by the xdist workers: one BLAS/torch thread each. Set before numpy
# is imported (the Makefile exports it too), or BLAS has already sized its thread pool.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg", force=True)


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow full-size checks")


def _notebook_costs() -> dict:
    """Notebook file -> the recorded quick run time (:data:`betalab.runtimes.RUNTIMES`) of the
    studies it runs."""
    from betalab.registry import all_studies
    from betalab.runtimes import RUNTIMES

    costs = {}
    for name, s in all_studies().items():
        if s.notebook:
            costs[s.notebook] = costs.get(s.notebook, 0) + RUNTIMES.get(name, {}).get("quick", 0)
    return costs


def pytest_collection_modifyitems(config, items):
    # The notebooks run in their kernels after every other test, the longest first: the study
    # tests that share a study's quick run with its notebook (the session's study cache,
    # ``study_cache_dir``) have then trained the models the notebook loads, and the longest
    # runs start while the other worker still has short tests to take.
    prefix = "tests/test_notebooks.py::test_notebook_runs"
    kernel = [it for it in items if it.nodeid.startswith(prefix)]
    if kernel:
        costs = _notebook_costs()
        kernel.sort(key=lambda it: costs.get(it.nodeid.rpartition("[")[2].rstrip("]") + ".py", 0),
                    reverse=True)
        items[:] = [it for it in items if not it.nodeid.startswith(prefix)] + kernel
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="full-size variant; its quick variant runs by default (use --runslow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng(request):
    """A generator seeded from the test's name: explicit, reproducible, distinct per test."""
    import zlib

    import numpy as np

    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture(autouse=True)
def _no_leaked_torch_default_dtype():
    """A test that changes torch's global default dtype must restore it (else later tests in
    the same worker silently run in another precision)."""
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    before = torch.get_default_dtype()
    yield
    after = torch.get_default_dtype()
    torch.set_default_dtype(before)
    assert after == before, f"test changed torch's default dtype to {after} without restoring it"


# Property-based tests (tests/test_fuzz_contract.py): derandomised, so CI sees the same examples
# on every run; no deadline (two shared cores make timings meaningless).
try:
    from hypothesis import HealthCheck, settings as _hyp_settings

    _hyp_settings.register_profile("ci", derandomize=True, deadline=None, database=None,
                                   suppress_health_check=[HealthCheck.too_slow,
                                                          HealthCheck.differing_executors])
    _hyp_settings.load_profile("ci")
except ImportError:  # pragma: no cover - hypothesis is in the "test" extra
    pass


@pytest.fixture(scope="session")
def study_cache_dir(tmp_path_factory, worker_id):
    """One directory per test session, shared by its xdist workers (and by the notebook kernels
    they start), where a study's quick run keeps its pieces (``BETALAB_CACHE``): a study test and
    the notebook that runs the same study with the same settings train its models once, and the
    second loads what the first computed. Never shared between sessions."""
    base = tmp_path_factory.getbasetemp()
    return (base if worker_id == "master" else base.parent) / "study-cache"


@pytest.fixture
def study_cache(study_cache_dir, monkeypatch):
    """Set ``BETALAB_CACHE`` to the session's study cache for one test."""
    from betalab.registry import CACHE_ENV

    monkeypatch.setenv(CACHE_ENV, str(study_cache_dir))
    return study_cache_dir
