# Every target sets itself up: a fresh clone needs only `make run` or `make test`.
# The functions run on Lambda's python3.13; the suite and the build use the same version. pyenv's shims answer
# `command -v python3.13` even where another version is selected, so the interpreter is found by trying it.
PYTHON ?= $(firstword $(foreach p,python3.13 $(wildcard /root/.pyenv/versions/3.13*/bin/python3.13),$(shell $(p) -c 'import sys' 2>/dev/null && command -v $(p))))
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
PYTEST_ARGS ?=

.PHONY: help run test unit integration e2e parity lint format typecheck validate build bench invoke openapi deploy clean

help:
	@echo "make run        start the local stack (moto + gateway + Kinesis poller) with demo data on http://127.0.0.1:3000"
	@echo "make test       ruff, mypy, sam validate --lint, sam build, and the whole test suite"
	@echo "make parity     the Cube parity test alone: the product's Cube API against real Cube 1.7 (tools/cube-oracle)"
	@echo "make openapi    write the OpenAPI document anew from the handlers (a test fails when it is stale)"
	@echo "make bench      print the performance figures"
	@echo "make invoke FN=TrackEventFunction EVENT=events/track_event.json   run one function like 'sam local invoke'"
	@echo "make deploy     make build, then sam deploy --guided"

$(VENV)/.installed: requirements-dev.txt constraints-dev.txt layers/shared/requirements.txt functions/write_events/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints-dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt constraints-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements-sam.txt -c constraints-sam.txt
	touch $@

# The Cube oracle (tools/cube-oracle: Cube 1.7.43's own npm packages over DuckDB) that tests/cube_parity compares
# the product with. Installed in a git-ignored copy (npm writes node_modules there), again when its packages or its
# code change; needs Node.js >= 20 and the npm registry.
ORACLE := .local-data/cube-oracle

$(ORACLE)/.installed: tools/cube-oracle/package.json tools/cube-oracle/package-lock.json tools/cube-oracle/oracle.js $(wildcard tools/cube-oracle/lib/*.js) tools/cube-oracle/setup.sh
	mkdir -p $(ORACLE)
	chmod -R u+w $(ORACLE)
	cp -R tools/cube-oracle/. $(ORACLE)/
	chmod -R u+w $(ORACLE)
	$(ORACLE)/setup.sh
	touch $@

run: $(VENV)/.installed
	$(PY) -m local run

test: lint typecheck validate build $(ORACLE)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

integration: $(VENV)/.installed
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(VENV)/.installed
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

parity: $(VENV)/.installed $(ORACLE)/.installed
	$(PY) -m pytest tests/cube_parity $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint

# No --use-container: the python3.13 builder runs on this machine and fetches arm64 wheels.
# sam build ships no bytecode, and Lambda cannot write any to /var/task or /opt, so every cold start compiled
# Powertools, pydantic and our package from source: more than twice the import time (bench_cold_start prints both).
# Unchecked-hash .pyc files are used without looking at their source: a deployment package never changes, and
# the check (reading and hashing every imported source) costs ~3% of a cold start's instructions; packaging also
# need not keep the source times that timestamp .pyc files are checked against. Rebuild, never edit, the build.
# sam's python3.13 builder looks for python3.13 on PATH, where pyenv's shim may refuse to run it.
build: $(SAM_VENV)/.installed $(VENV)/.installed
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM) build
	$(SAM_VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13) and "bytecode must match the python3.13 runtime")'
	$(SAM_VENV)/bin/python -m compileall -q -f -j 0 --invalidation-mode unchecked-hash .aws-sam/build
	# The data model as packaged (the shipped cubes and a team's own in model/team/) must load and compile.
	PYTHONPATH=layers/shared $(PY) -m serverless_analytics.cube.validate .aws-sam/build/SharedLayer/python/serverless_analytics/cube/model

bench: $(VENV)/.installed $(ORACLE)/.installed
	for script in bench/bench_*.py; do PYTHONPATH=. $(PY) $$script || exit 1; done

# The OpenAPI document served at /openapi.json, generated from the handlers (a test fails when it is stale).
openapi: $(VENV)/.installed
	$(PY) -m local openapi

invoke: $(VENV)/.installed
	$(PY) -m local invoke $(FN) --event $(EVENT)

deploy: build
	$(SAM) deploy --guided

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam
