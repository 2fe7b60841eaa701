# The two commands of the README: `make run` (the whole thing) and `make test` (every check).
# Both create the virtual environment and install what they need on a fresh clone.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck unit kafka-up kafka-down clean bench chaos

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Lint: ruff, and the import contracts of docs/architecture.md (layers; the product never
# imports tooling).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# Lint, types, then every test (unit and integration). The test session starts the
# project's own Kafka broker on 127.0.0.1:19092 and stops it at the end.
test: lint typecheck
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

# The demo: broker, simulators, their connector configs, the daemon (deploy/demo.sh).
run: install
	PY=$(BIN)/python deploy/demo.sh

kafka-up: install
	$(BIN)/unionhub kafka up

kafka-down: install
	$(BIN)/unionhub kafka down

# Benchmarks (BENCHMARKS.md): starts its own broker on 127.0.0.1:39092 (state in
# .cache/bench-state), runs every part in one go, prints the table, rewrites BENCHMARKS.md.
# Pass options with BENCH_ARGS, e.g. make bench BENCH_ARGS="--records 20000 --runs 1".
bench: install
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# The chaos run (README "Chaos run"): the daemon SIGKILLed 10 times, the broker restarted,
# upstream storms, then the checker and the leak scan; exits non-zero on any loss,
# duplicate or leak. Its own broker on 127.0.0.1:29092 (state in .cache/chaos-state),
# logs in .cache/chaos-run. CHAOS_ARGS="--short" is the CI version; see --help.
# BROKERS=3 (or CHAOS_ARGS="--brokers 3"): a three-node cluster whose busiest leader is
# SIGKILLed twice and restarted, on top of the daemon kills.
BROKERS ?=
chaos: install
	$(BIN)/python -m chaos.run $(if $(BROKERS),--brokers $(BROKERS)) $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache
