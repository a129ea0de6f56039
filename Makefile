# The two commands of the README: `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BUILD_DIR      ?= build
TEST_BUILD_DIR ?= build-test
BENCH_BUILD_DIR ?= build-bench
JOBS           ?= $(shell nproc)
CMAKE_GENERATOR ?= Ninja
CTEST_ARGS     ?=

.PHONY: help deps control-plane build test test-unit fuzz bench bench-kube bench-operator bench-api bench-http-layer run down cluster-up cluster-down clean

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

# libFuzzer targets (clang, ASan+UBSan) in build-fuzz/, each for FUZZ_SECONDS (default 60); new corpus
# entries are merged into fuzz/corpus/<target>. FUZZ_TARGETS picks targets. See docs/fuzzing.md.
fuzz: deps ## build the fuzz targets with clang and run each for FUZZ_SECONDS (default 60)
	@hack/fuzz.sh

# Each benchmark starts local control planes of its own in $(BENCH_BUILD_DIR)/bench-state, measures, stops
# them; results in bench/results/{kube,operator}-<date>.{md,jsonl} (see docs/benchmarks.md). -O2, the
# level `make build` ships. `make bench` runs all of them, one after the other. bench-api starts its own
# PostgreSQL and Redis, the C++ API server, a FastAPI peer (venv in $(BENCH_BUILD_DIR)/fastapi-venv) and
# nginx, and measures them with wrk: bench/results/api-<date>.{md,jsonl}.
BENCH_CONFIGURE = cmake -S . -B $(BENCH_BUILD_DIR) -G $(CMAKE_GENERATOR) -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DFINANCIALAPI_BUILD_TESTS=OFF >/dev/null
RUN_KUBE_BENCH = KUBE_BENCH=$(CURDIR)/$(BENCH_BUILD_DIR)/bench/kube-bench BENCH_STATE_DIR=$(CURDIR)/$(BENCH_BUILD_DIR)/bench-state bench/run-kube-bench.sh
RUN_OPERATOR_BENCH = OPERATOR_BENCH=$(CURDIR)/$(BENCH_BUILD_DIR)/bench/operator-bench OPERATOR_BINARY=$(CURDIR)/$(BENCH_BUILD_DIR)/operator/financialapi-operator BENCH_STATE_DIR=$(CURDIR)/$(BENCH_BUILD_DIR)/bench-state bench/run-operator-bench.sh
RUN_HTTP_LAYER_BENCH = HTTP_BENCH_CPPREST=$(CURDIR)/$(BENCH_BUILD_DIR)/bench/http-bench-cpprest HTTP_BENCH_BEAST=$(CURDIR)/$(BENCH_BUILD_DIR)/bench/http-bench-beast bench/run-http-layer-bench.sh
RUN_API_BENCH = API_SERVER=$(CURDIR)/$(BENCH_BUILD_DIR)/api-server/financial-api-server BENCH_BUILD_DIR=$(CURDIR)/$(BENCH_BUILD_DIR) bench/api/run-api-bench.sh

bench: deps control-plane ## benchmark the Kubernetes client and watcher, the operator, then the API server
	@$(BENCH_CONFIGURE)
	@cmake --build $(BENCH_BUILD_DIR) -j $(JOBS) --target kube-bench operator-bench financialapi-operator financial-api-server http-bench-cpprest http-bench-beast
	@$(RUN_KUBE_BENCH)
	@$(RUN_OPERATOR_BENCH)
	@$(RUN_API_BENCH)
	@$(RUN_HTTP_LAYER_BENCH)

bench-kube: deps control-plane ## only the Kubernetes client and watcher benchmark
	@$(BENCH_CONFIGURE)
	@cmake --build $(BENCH_BUILD_DIR) -j $(JOBS) --target kube-bench
	@$(RUN_KUBE_BENCH)

bench-operator: deps control-plane ## only the operator benchmark (apply → children → Ready, scale, raw client)
	@$(BENCH_CONFIGURE)
	@cmake --build $(BENCH_BUILD_DIR) -j $(JOBS) --target operator-bench financialapi-operator
	@$(RUN_OPERATOR_BENCH)

bench-api: deps ## only the API server benchmark: C++ vs FastAPI vs nginx under wrk (bench/api)
	@$(BENCH_CONFIGURE)
	@cmake --build $(BENCH_BUILD_DIR) -j $(JOBS) --target financial-api-server
	@$(RUN_API_BENCH)

bench-http-layer: deps ## only the HTTP layer benchmark: cpprestsdk vs Boost.Beast vs nginx under wrk
	@$(BENCH_CONFIGURE)
	@cmake --build $(BENCH_BUILD_DIR) -j $(JOBS) --target http-bench-cpprest http-bench-beast
	@$(RUN_HTTP_LAYER_BENCH)

run: deps control-plane ## bring the platform up locally on a real node and show its API answering
	@hack/run.sh

down: ## stop everything `make run` started
	@hack/run.sh down

clean: ## remove build folders (the control-plane cache stays)
	rm -rf $(BUILD_DIR) $(TEST_BUILD_DIR) $(BENCH_BUILD_DIR) build-sanitize build-fuzz
