# Two commands for a newcomer:  `make report` (set up, run the quick profile, build the report)
#                               `make test`   (set up, run the test suite)
# Set-up is idempotent: the venv is rebuilt only when requirements.txt or pyproject.toml change.

SHELL := bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?= quick
DATASET ?= mnist
ARGS ?=
# This machine's pip configuration lists package folders that may not exist; hide those warnings only.
QUIET_PIP := { grep -v "is ignored: it is neither a file nor a directory" || true; }

.PHONY: report verify test test-fast setup data chromium vnu lint bench clean help

help:
	@echo "make report   set everything up, run the '$(PROFILE)' profile, build report/build/report.{html,pdf}"
	@echo "make test     set everything up and run the tests"
	@echo "make verify   build the '$(PROFILE)' profile and compare every number with results/$(PROFILE).json"
	@echo "make test-fast   the tests not marked slow (under a minute), while changing code"
	@echo "make report PROFILE=full   the writeup's settings (200 VAE epochs, 300 GAN epochs)"
	@echo "make report ARGS='--only vae_z2 --set vae.epochs=30'   options of python -m helpers.report"
	@echo "make data DATASET=fashion-mnist   fetch Fashion-MNIST too"
	@echo "make bench    training steps vs their ceilings, IS-NLL per image, a build vs a run by hand (bench/results.json, docs/speed.md), explorer redraw times"
	@echo "make lint     ruff;   make clean   remove built reports and outputs"

report: setup
	$(PY) -m helpers.report --profile $(PROFILE) $(ARGS)

# Build the profile as `make report` does (reusing finished runs), then compare every number with the committed
# results/$(PROFILE).json: a table, report/build/$(PROFILE)/verify.json, exit status 1 when one is not reproduced.
verify: setup
	$(PY) -m helpers.report --verify results/$(PROFILE).json $(ARGS)

test: setup
	$(PY) -m pytest $(ARGS)

test-fast: $(VENV)/.installed data
	$(PY) -m pytest -m "not slow" $(ARGS)

setup: $(VENV)/.installed data chromium vnu

$(VENV)/.installed: requirements.txt pyproject.toml
	@echo "setting up $(VENV) (torch is large: the first time takes a few minutes)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install --quiet -r requirements.txt 2>&1 | $(QUIET_PIP)
	$(PY) -c "import torch, torchvision, papermill, nbconvert, ipywidgets"
	touch $@

data: $(VENV)/.installed
ifeq ($(DATASET),fashion-mnist)
	test -d /usr/share/datasets/fashion-mnist || bash .ci/apt-install dataset-fashion-mnist
endif
	$(PY) -m helpers.data --dataset $(DATASET)

chromium:
	@command -v chromium >/dev/null || bash .ci/apt-install chromium fonts-dejavu-core poppler-utils

# The W3C HTML validator for the report's test: java from Debian, vnu.jar from npm (kept outside the repository).
VNU_DIR ?= $(HOME)/.cache/vnu
vnu:
	@command -v java >/dev/null || bash .ci/apt-install default-jre-headless
	@test -f $(VNU_DIR)/node_modules/vnu-jar/build/dist/vnu.jar || { command -v npm >/dev/null \
	  && npm install --silent --no-audit --no-fund --prefix $(VNU_DIR) vnu-jar >/dev/null \
	  || echo "note: could not install vnu-jar with npm; the HTML validation test will be skipped" >&2; }

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check helpers tests bench notebooks

bench: setup
	$(PY) -m bench.speed
	$(PY) -m bench.widgets
	$(PY) -m bench.summary --write

clean:
	rm -rf report/build outputs .pytest_cache
