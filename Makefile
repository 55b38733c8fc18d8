# Weaverse: `make run` starts the platform, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO      ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
WITH_PG    := scripts/with-postgres.sh
# Builds read the committed query data in .sqlx/: no database needed to compile.
export SQLX_OFFLINE := true

.PHONY: help run test assets system-deps lint unit-and-http browser-test sqlx-check prepare bench

help:
	@echo "make run    start Weaverse with the demo nano-degree on http://127.0.0.1:8000"
	@echo "make test   run every check and test (fmt, clippy, sqlx data, unit, HTTP, browser)"
	@echo "make bench  load-test the running pages (see bench/README.md)"

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund

assets: node_modules/.package-lock.json
	node scripts/copy-assets.mjs

run:
	scripts/system-deps.sh run
	$(MAKE) --no-print-directory assets
	$(WITH_PG) $(CARGO) run --bin weaverse -- serve --seed-demo

test:
	scripts/system-deps.sh test
	$(MAKE) --no-print-directory assets
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory sqlx-check
	$(MAKE) --no-print-directory unit-and-http
	$(MAKE) --no-print-directory browser-test

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

# The committed .sqlx/ must match the queries and the migrations.
sqlx-check:
	WEAVERSE_DB_NAME=weaverse_sqlx $(WITH_PG) bash -c \
	  'cargo sqlx database reset -y >/dev/null && SQLX_OFFLINE=false cargo sqlx prepare --check -- --all-targets'

# Regenerate .sqlx/ after changing a query or a migration; commit the result.
prepare:
	WEAVERSE_DB_NAME=weaverse_sqlx $(WITH_PG) bash -c \
	  'cargo sqlx database reset -y >/dev/null && SQLX_OFFLINE=false cargo sqlx prepare -- --all-targets'

# Each #[sqlx::test] makes its own database next to $DATABASE_URL's.
unit-and-http:
	WEAVERSE_DB_NAME=weaverse_test $(WITH_PG) bash -c \
	  'cargo sqlx database create && $(CARGO) nextest run --locked --no-fail-fast'

browser-test:
	$(CARGO) build --locked --bin weaverse
	WEAVERSE_BIN=$(TARGET_DIR)/debug/weaverse WEAVERSE_DB_NAME=weaverse_e2e $(WITH_PG) \
	  npm run --silent test:browser

bench:
	scripts/system-deps.sh bench
	$(MAKE) --no-print-directory assets
	$(WITH_PG) bench/shell.sh
	$(WITH_PG) bench/catalog.sh
	$(WITH_PG) bench/signed_in.sh
	$(WITH_PG) bench/media.sh
	$(WITH_PG) bench/events.sh
	bench/sandbox.sh
