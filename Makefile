# gudok — see README.md. Every target works as root on a fresh Debian 12 clone.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
SWIFT ?= swift
# The build stays free of warnings: any new one fails it.
SWIFT_FLAGS ?= -Xswiftc -warnings-as-errors
PY_DEPS = $(PYTHON) -c 'import pytest, pytest_timeout, requests, selenium, cryptography, prometheus_client, openapi_spec_validator, schemathesis' 2>/dev/null || \
	$(PYTHON) -m pip install -q -r tests/requirements.txt

.PHONY: deps deps-build deps-run deps-test deps-bench build release run test test-swift test-integration bench clean

deps:
	scripts/deps.sh all
	$(PY_DEPS)

deps-build:
	scripts/deps.sh build

deps-run:
	scripts/deps.sh run

deps-test:
	scripts/deps.sh test
	$(PY_DEPS)

deps-bench:
	scripts/deps.sh bench
	$(PY_DEPS)

build: deps-build
	$(SWIFT) build $(SWIFT_FLAGS)

release: deps-build
	$(SWIFT) build -c release $(SWIFT_FLAGS)

run: deps-run release
	scripts/run.sh

# Unit tests, then the integration tests through real nginx; both run, and
# the target fails if either did.
test: deps-test build
	status=0; \
	$(MAKE) --no-print-directory test-swift || status=1; \
	$(MAKE) --no-print-directory test-integration || status=1; \
	exit $$status

# The storage tests also run against a throwaway PostgreSQL cluster that with-postgres.sh starts and removes.
test-swift:
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	scripts/with-postgres.sh $(SWIFT) test --skip-build

test-integration:
	rm -rf test-artifacts
	$(PYTHON) -m pytest tests/ -q

bench: deps-bench release
	bench/run.sh

clean:
	rm -rf .build test-artifacts
