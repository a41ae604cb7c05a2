# betalab: the two set-up commands are `make reproduce` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2
# One BLAS thread per process: the parallelism is across processes (--jobs, pytest -n).
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: install reproduce reproduce-full test test-slow notebooks bench clean

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
	touch $(STAMP)

install: $(STAMP)

reproduce: $(STAMP)
	MPLBACKEND=Agg $(BIN)/betalab reproduce --jobs $(JOBS)

reproduce-full: $(STAMP)
	MPLBACKEND=Agg $(BIN)/betalab reproduce --full --jobs $(JOBS)

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS)

test-slow: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --runslow

notebooks: $(STAMP)
	$(BIN)/python -m pip install -e ".[test,notebooks]"
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf results .pytest_cache
