# Atende: `make dev` runs the whole local stack, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TASKS_VENV := .venv-tasks
BIN := $(VENV)/bin

.PHONY: dev-ai infra-check dev test lint format typecheck unit package clean prerequisites bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(TASKS_VENV)/.installed:
	$(PYTHON) -m venv $(TASKS_VENV)
	$(TASKS_VENV)/bin/pip install --quiet 'gcloud-tasks-emulator==0.6.2' 'protobuf<5'
	touch $@

.env: .env.example
	@test -f .env || cp .env.example .env

prerequisites:
	@bash .ci/prerequisites

dev: prerequisites $(BIN)/.installed $(TASKS_VENV)/.installed .env
	$(BIN)/atende dev

# The same stack, plus a local OpenAI-compatible AI the functions use (see docs/conversation.md).
dev-ai: prerequisites $(BIN)/.installed $(TASKS_VENV)/.installed .env
	$(BIN)/atende dev --ai-sandbox

lint: $(BIN)/.installed
	$(BIN)/ruff check shared functions tests bench
	$(BIN)/ruff format --check shared functions tests bench

typecheck: $(BIN)/.installed
	$(BIN)/mypy

test: prerequisites $(BIN)/.installed $(TASKS_VENV)/.installed lint typecheck infra-check
	$(BIN)/pytest --cov --cov-report=term

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

# The five figures of docs/performance.md, side by side in one run (about 10 minutes);
# installs wrk (Debian package) and the profilers first. Results also in .bench/.
bench: prerequisites $(BIN)/.bench-installed $(TASKS_VENV)/.installed
	@bash .ci/bench-prerequisites
	$(BIN)/python -m bench

# Terraform formatting, checkov and (where providers can be downloaded) validate.
infra-check:
	PYTHON=$(PYTHON) bash .ci/infra-check

unit: $(BIN)/.installed
	$(BIN)/pytest tests/unit -q

package: $(BIN)/.installed
	$(BIN)/atende package --out build

format: $(BIN)/.installed
	$(BIN)/ruff check --fix shared functions tests bench
	$(BIN)/ruff format shared functions tests bench

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* .atende .bench
