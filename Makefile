# betalab: the two set-up commands are `make reproduce` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NB_STAMP     := $(VENV)/.notebooks
LAB_OVERRIDE := jupyter/lab/settings/overrides.d/betalab-notebooks.json
SERVER_CONFIG := jupyter/server/jupyter_server_config.json
BROWSER_STAMP := $(VENV)/.browser
DOCS_STAMP    := $(VENV)/.docs
JOBS   ?= 2
# Test oracles installed without their dependencies: disentanglement_lib's metric modules need
# gin's decorators and absl's logging, not its TensorFlow stack (tests/deep/test_higgins_metric.py).
ORACLES := "disentanglement-lib==1.5" "gin-config==0.4.0" "absl-py>=1" "six>=1.16"
# One BLAS thread per process: the parallelism is across processes (--jobs, pytest -n).
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: docs docs-install project-path install reproduce reproduce-full test test-fast test-slow notebooks notebooks-install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# torch first and pinned, in the build that fits the machine (betalab/torch_build.py):
#   the CPU build where nvidia-smi finds no GPU, the CUDA build TORCH_CUDA where it finds one;
#   make install TORCH_VARIANT=cpu|cu128|...   force a build
#   make install TORCH_INDEX=URL               torch from this package index (wins)
# To switch builds later: rm -rf .venv, then make install with the new setting.
TORCH_VERSION := 2.13.0
TORCH_CUDA    ?= cu128
TORCH_VARIANT ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo $(TORCH_CUDA) || echo cpu)
TORCH_INDEX   ?=

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python betalab/torch_build.py --version $(TORCH_VERSION) --variant $(TORCH_VARIANT) \
	    --index "$(TORCH_INDEX)"
	$(BIN)/python -m pip install -e ".[test]"
	$(BIN)/python -m pip install --no-deps $(ORACLES)
	$(MAKE) --no-print-directory project-path
	touch $(STAMP)

# The project's root as a path entry of the environment (site-packages/betalab-project.pth), so
# its packages are found by the ordinary path search, before any folder of the same name beside
# a user's script: `git clone ... betalab` and a script run from the clone's parent would
# otherwise import the clone's folder as an empty namespace package ("cannot import name
# 'load_run' from 'betalab' (unknown location)"): the editable install's own finder is asked last.
project-path: | $(BIN)/python
	$(BIN)/python -c "import pathlib, sysconfig; \
	pathlib.Path(sysconfig.get_paths()['purelib'], 'betalab-project.pth').write_text('$(CURDIR)\n')"

install: $(STAMP)

reproduce: $(STAMP)
	MPLBACKEND=Agg $(BIN)/betalab reproduce --jobs $(JOBS)

reproduce-full: $(STAMP)
	MPLBACKEND=Agg $(BIN)/betalab reproduce --full --jobs $(JOBS)

# The whole suite, then the whole documentation site (its notebooks executed), which the suite's
# browser test (tests/test_docs_site.py) checks in a build of its own, a few pages executed.
test: $(STAMP) $(NB_STAMP) $(BROWSER_STAMP) $(DOCS_STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --dist worksteal
	$(MAKE) --no-print-directory docs

# The derivation check: theory, linear models and the unit tests of deep (no studies, notebooks,
# sweeps or Ray): a quick loop while editing a formula. `make test` stays the whole suite.
FAST_TESTS := tests/theory tests/linear_models tests/deep

test-fast: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --dist worksteal -q $(FAST_TESTS)

test-slow: $(STAMP) $(NB_STAMP) $(BROWSER_STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --dist worksteal --runslow

# Notebooks: JupyterLab, jupytext and a kernel. Installed into the environment: the project's Lab
# settings (jupyter/lab/settings), which make a notebooks/*.py file open as a notebook by default,
# and its server configuration (jupyter/server/jupyter_server_config.json: the contents manager of
# betalab/notebook_server.py, so a notebook opens without unsaved changes).
$(NB_STAMP): pyproject.toml $(LAB_OVERRIDE) $(SERVER_CONFIG) | $(STAMP)
	$(BIN)/python -m pip install -e ".[test,notebooks]"
	$(BIN)/python -c "import os, shutil, sys; from jupyterlab.commands import get_app_dir; \
	d = os.path.join(get_app_dir(), 'settings', 'overrides.d'); os.makedirs(d, exist_ok=True); \
	shutil.copy('$(LAB_OVERRIDE)', d); print('JupyterLab settings installed in', d); \
	d = os.path.join(sys.prefix, 'etc', 'jupyter'); os.makedirs(d, exist_ok=True); \
	shutil.copy('$(SERVER_CONFIG)', d); print('Jupyter server configuration installed in', d)"
	touch $(NB_STAMP)

notebooks-install: $(NB_STAMP)

# JupyterLab refuses to start as root unless told; root is the usual user in a container.
notebooks: $(NB_STAMP)
	$(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/

# The browser tests (tests/test_jupyterlab_browser.py) open JupyterLab in headless Chromium:
# Debian's chromium and chromium-driver, installed here when missing (apt needs root). Only the
# tests need them; `make notebooks` does not.
$(BROWSER_STAMP): | $(STAMP)
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  echo "installing chromium and chromium-driver (Debian packages, for the browser tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi
	touch $(BROWSER_STAMP)

# The documentation site (docs/, Sphinx + MyST-NB + PyData theme): every notebook executed at
# quick scale (cached by content in docs/_build/.jupyter_cache: a rebuild without changes executes
# nothing), the API reference with its equations typeset offline, a page per paper, the claims
# report of the latest `make reproduce`. Opens as docs/_build/html/index.html; any warning fails
# the build (docs/conf.py lists the ones suppressed, each with its reason).
$(DOCS_STAMP): pyproject.toml | $(NB_STAMP)
	$(BIN)/python -m pip install -e ".[test,notebooks,docs]"
	touch $(DOCS_STAMP)

docs-install: $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(BIN)/python -m sphinx -b html -W --keep-going -j $(JOBS) docs docs/_build/html
	@echo "documentation site: docs/_build/html/index.html"

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf results .pytest_cache
