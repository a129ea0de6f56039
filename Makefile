# The two commands of the README: `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BUILD_DIR      ?= build
TEST_BUILD_DIR ?= build-test
BENCH_BUILD_DIR ?= build-bench
JOBS           ?= $(shell nproc)
CMAKE_GENERATOR ?= Ninja
CTEST_ARGS     ?=

.PHONY: help deps control-plane build test test-unit bench run down cluster-up cluster-down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

deps: ## install the Debian packages (idempotent)
	@hack/deps.sh

control-plane: deps ## build the pinned Kubernetes binaries into the cache (once per machine)
	@hack/build-control-plane.sh >/dev/null

build: deps ## build the operator and the API server (RelWithDebInfo) into build/
	@cmake -S . -B $(BUILD_DIR) -G $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test runs in an AddressSanitizer + UBSan build: unit tests, and the integration tests against
# the local control plane, PostgreSQL and Redis that ctest starts once (fixtures) and stops at the end.
test: deps control-plane ## build with ASan+UBSan and run every test
	@cmake -S . -B $(TEST_BUILD_DIR) -G $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DFINANCIALAPI_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD_DIR) -j $(JOBS)
	@cd $(TEST_BUILD_DIR) && ctest --output-on-failure --timeout 900 -j 2 $(CTEST_ARGS)

test-unit: deps ## only the unit tests (no servers)
	@cmake -S . -B $(TEST_BUILD_DIR) -G $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DFINANCIALAPI_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD_DIR) -j $(JOBS)
	@cd $(TEST_BUILD_DIR) && ctest --output-on-failure -L unit

# Starts a local control plane of its own in $(BENCH_BUILD_DIR)/bench-state, measures, stops it; results in
# bench/results/kube-<date>.{md,jsonl} (see docs/benchmarks.md). -O2, the level `make build` ships.
bench: deps control-plane ## benchmark the Kubernetes client and watcher against a local cluster
	@cmake -S . -B $(BENCH_BUILD_DIR) -G $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DFINANCIALAPI_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(BENCH_BUILD_DIR) -j $(JOBS) --target kube-bench
	@KUBE_BENCH=$(CURDIR)/$(BENCH_BUILD_DIR)/bench/kube-bench BENCH_STATE_DIR=$(CURDIR)/$(BENCH_BUILD_DIR)/bench-state bench/run-kube-bench.sh

run: build control-plane ## bring up the local platform and show what came up
	@hack/run.sh

down: ## stop everything `make run` started
	@hack/run.sh down

clean: ## remove build folders (the control-plane cache stays)
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR) $(BENCH_BUILD_DIR) build-sanitize
