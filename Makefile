# Flightdeck. `make help` lists the targets; CI runs `.ci/run`, which runs `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
export CARGO_TERM_COLOR ?= always
# The SPA only builds for wasm32 (Trunk); native test and lint runs leave it out.
RUST_PACKAGES := --workspace --exclude flightdeck-frontend

.PHONY: help run spa tools test test-deps test-rust test-e2e bench openapi lint fmt clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: spa ## Build the SPA and run the server on SQLite (data/flightdeck.db) at http://127.0.0.1:8080
	$(CARGO) run --release -p flightdeck-server --bin flightdeck -- serve

spa: tools ## Build the SPA into frontend/dist (release; wasm-opt when available) and print its size
	frontend/build.sh
	frontend/size.sh

tools: ## Install the SPA build tools that are missing (wasm32 target, trunk, wasm-bindgen-cli)
	scripts/ensure-tools.sh

test: test-deps test-rust spa test-e2e ## Run every test: unit, store (SQLite + PostgreSQL), API, live feed, browser

test-deps: ## Install and start what the tests need (Chromium, npm packages, PostgreSQL, Redis)
	scripts/ensure-test-deps.sh

test-rust: ## Unit, store and API tests on SQLite and PostgreSQL
	scripts/drop-test-databases.sh
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run $(RUST_PACKAGES) --no-fail-fast; \
	else \
		$(CARGO) test $(RUST_PACKAGES) --no-fail-fast --lib --bins --tests; \
	fi
	$(CARGO) test $(RUST_PACKAGES) --doc

test-e2e: ## End-to-end tests in Chromium against the built SPA (needs `make spa`)
	$(CARGO) build -p flightdeck-server --bin flightdeck
	cd tests/e2e && FLIGHTDECK_BIN="$(CURDIR)/target/debug/flightdeck" npm test

bench: test-deps ## Benchmarks: webhook ingest vs raw insert, rollback and live latency (PostgreSQL, release build)
	$(CARGO) bench -p flightdeck-server --bench bench

openapi: ## Write openapi/openapi.json from the code
	$(CARGO) run -q -p flightdeck-server --bin flightdeck -- openapi > openapi/openapi.json

lint: ## rustfmt, and clippy with warnings as errors (server crates and the wasm SPA)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(RUST_PACKAGES) --all-targets -- -D warnings
	$(CARGO) clippy -p flightdeck-frontend --target wasm32-unknown-unknown -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

clean: ## Remove build output (keeps data/)
	$(CARGO) clean
	rm -rf frontend/dist
