# Two commands: `make run` (the demo pipeline, offline) and `make test` (lint + the test suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SNAKEMAKE := $(BIN)/snakemake
CORES ?= 2

.PHONY: run test lint dryrun report lock clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(SNAKEMAKE) --profile profiles/local --cores $(CORES)

dryrun: $(STAMP)
	$(SNAKEMAKE) --profile profiles/local --dry-run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/mypy src/brainrnn
	$(SNAKEMAKE) --lint

test: lint
	$(BIN)/python -m pytest

report: $(STAMP)
	$(SNAKEMAKE) --profile profiles/local --report results/report.html

lock:
	rm -rf /tmp/brainrnn-lock && $(PYTHON) -m venv /tmp/brainrnn-lock
	/tmp/brainrnn-lock/bin/pip install --quiet ".[test]"
	/tmp/brainrnn-lock/bin/pip freeze --exclude brainrnn | sed 's/+cpu$$//' > requirements.lock

clean:
	rm -rf results logs benchmarks/*/ .snakemake
