# Ember: the two commands are `make run` and `make test` (see README.md).
# Everything else here is a helper they use.

BUILD_DIR      ?= build
DEV_DIR        ?= build-dev
SAN_DIR        ?= build-asan
JOBS           ?= $(shell nproc)
CMAKE_COMMON   := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_CXX_COMPILER=clang++
CONFIG         ?= etc/emberd.toml
CTEST_ARGS     ?=

.PHONY: run test deps build-release build-dev build-asan test-asan unit fuzz bench clean format

deps:
	@scripts/install-deps

# Release build of everything (emberd, tests); reconfigures only when needed.
build-release: deps
	@[ -f $(BUILD_DIR)/build.ninja ] || cmake -S . -B $(BUILD_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release
	@cmake --build $(BUILD_DIR) -j $(JOBS)

build-dev: deps
	@[ -f $(DEV_DIR)/build.ninja ] || cmake -S . -B $(DEV_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug
	@cmake --build $(DEV_DIR) -j $(JOBS)

build-asan: deps
	@[ -f $(SAN_DIR)/build.ninja ] || cmake -S . -B $(SAN_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_SANITIZE=ON
	@cmake --build $(SAN_DIR) -j $(JOBS)

# Starts emberd in the foreground on the embedded default: data in ./ember-data, S3 on
# 127.0.0.1:9000, metrics on 127.0.0.1:9001. Ctrl-C stops it gracefully.
run:
	@scripts/install-deps --run
	@[ -f $(BUILD_DIR)/build.ninja ] || cmake -S . -B $(BUILD_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target emberd
	exec $(BUILD_DIR)/src/app/emberd/emberd --config $(CONFIG)

# Unit + integration + crash tests against the release build.
test: build-release
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 $(CTEST_ARGS)

unit: build-release
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit $(CTEST_ARGS)

# The same suites under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: build-asan
	cd $(SAN_DIR) && ctest --output-on-failure --timeout 1800 $(CTEST_ARGS)

fuzz: deps
	@[ -f build-fuzz/build.ninja ] || cmake -S . -B build-fuzz $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_FUZZ=ON
	@cmake --build build-fuzz -j $(JOBS)
	tests/fuzz/run.sh build-fuzz

clean:
	rm -rf $(BUILD_DIR) $(DEV_DIR) $(SAN_DIR) build-fuzz

-include bench/bench.mk
