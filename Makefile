# posture-coach: one command to run the coach, one to run the tests. Both set themselves up.
#   make run    — create .venv, install, fetch the models, analyse the demo clip
#   make test   — create .venv, install with dev tools, run every check (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= sample_videos/demo_standing.mp4
# Development and CI use the shared model copies when they sit beside the repository;
# users get the models from the store (official URL, then registry packages).
SHARED_MODELS := $(wildcard ../shared/models/pose_landmarker_full.task)
ifneq ($(SHARED_MODELS),)
  ifeq ($(POSTURE_COACH_MODEL_DIR),)
    export POSTURE_COACH_MODEL_DIR := $(abspath ../shared/models)
  endif
endif

.PHONY: run test setup lint typecheck importlint unit bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "posture-coach needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/posture-coach models fetch
	$(BIN)/posture-coach analyze $(DEMO) --format json

lint: setup
	$(BIN)/ruff check src tests bench

typecheck: setup
	$(BIN)/mypy src/posture_coach

importlint: setup
	$(BIN)/lint-imports

unit: setup
	POSTURE_COACH_TEST_NETWORK=$${POSTURE_COACH_TEST_NETWORK:-1} $(BIN)/python -m pytest -q

test: lint typecheck importlint unit

bench: setup
	$(BIN)/python bench/speed.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
