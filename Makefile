# The two commands of the README: `make run` (the whole thing) and `make test` (every check).
# Both create the virtual environment and install what they need on a fresh clone.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck unit kafka-up kafka-down clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Lint, types, then every test (unit and integration). The test session starts the
# project's own Kafka broker on 127.0.0.1:19092 and stops it at the end.
test: lint typecheck
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

run: install
	$(BIN)/unionhub kafka up
	$(BIN)/unionhub topics ensure
	@echo "broker up on $${UNIONHUB_KAFKA_BOOTSTRAP:-127.0.0.1:9092}, topics ensured; stop it with: $(BIN)/unionhub kafka down"

kafka-up: install
	$(BIN)/unionhub kafka up

kafka-down: install
	$(BIN)/unionhub kafka down

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache
