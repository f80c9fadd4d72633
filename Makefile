# posture-coach: one command to run the coach, one to run the tests. Both set themselves up.
#   make run    — create .venv, install, fetch the models, analyse the demo clip
#   make test   — create .venv, install with dev tools, run every check (what CI runs)
#   make serve  — the live practice page on http://127.0.0.1:8000
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= sample_videos/neutral_vs_arms_crossed.mp4
# Development and CI use the shared model copies when they sit beside the repository;
# users get the models from the store (official URL, then registry packages).
SHARED_MODELS := $(wildcard ../shared/models/pose_landmarker_full.task)
ifneq ($(SHARED_MODELS),)
  ifeq ($(POSTURE_COACH_MODEL_DIR),)
    export POSTURE_COACH_MODEL_DIR := $(abspath ../shared/models)
  endif
endif

.PHONY: run serve test setup sysdeps lint typecheck importlint unit bench clean

# System packages the tests use: Debian's Chromium (browser tests), CJK fonts (Chinese
# screenshots), strace (the no-outbound-connection test), PostgreSQL (the storage tests
# start a throwaway cluster). Installed when missing and
# apt-get is usable (root); otherwise those tests skip and say why.
SYSDEPS := chromium fonts-noto-cjk strace postgresql

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

sysdeps:
	@missing=""; for p in $(SYSDEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note: missing$$missing (browser/privacy tests will skip); install them with apt"; fi; \
	fi

serve: setup
	$(BIN)/posture-coach models fetch
	$(BIN)/posture-coach serve

lint: setup
	$(BIN)/ruff check src tests bench

typecheck: setup
	$(BIN)/mypy src/posture_coach

importlint: setup
	$(BIN)/lint-imports

unit: setup sysdeps
	POSTURE_COACH_TEST_NETWORK=$${POSTURE_COACH_TEST_NETWORK:-1} $(BIN)/python -m pytest -q

test: lint typecheck importlint unit

bench: setup
	$(BIN)/python bench/speed.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
