# Two commands on a fresh machine: `make run` and `make test`. Each builds .venv from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: run test fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/loyalty-gateway serve --host $(HOST) --port $(PORT)

# Brevo's Node SDK for tests/test_brevo_sdk.py, where the machine has npm (the test skips without it)
$(VENV)/.installed-node: | $(BIN)/python
	@if command -v npm >/dev/null; then \
	  npm install --prefix $(VENV)/node --no-audit --no-fund --silent @getbrevo/brevo@6.0.3 \
	  || echo "npm could not install @getbrevo/brevo: its SDK test will skip"; \
	else echo "no npm: the Brevo Node SDK test will skip"; fi
	touch $@

test: $(VENV)/.installed-test $(VENV)/.installed-node
	NODE_PATH=$(CURDIR)/$(VENV)/node/node_modules $(BIN)/python -m pytest -q -n 2 --dist loadgroup -p no:cacheprovider

# the suite's schemathesis run (tests/test_fuzz.py), longer: FUZZ_EXAMPLES per operation, FUZZ_SEED to vary it
FUZZ_EXAMPLES ?= 200
FUZZ_SEED     ?= 20261201
fuzz: $(VENV)/.installed-test
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$(FUZZ_SEED) $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
