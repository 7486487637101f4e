# Makefile fragment for `make bench`, included from the top-level Makefile (`-include bench/bench.mk`).
# `make bench` builds emberd in release mode (the top-level `build-release` target), installs the
# benchmark anchors (nginx-light, fio, wrk; Azurite from npm into .deps/azurite) and runs
# bench/run.sh, which prints the results table and writes docs/benchmarks.md. Knobs are environment variables documented at the top of bench/run.sh;
# make exports command-line variables, so `make bench BENCH_DURATION=5` works too.

EMBER_BENCH_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)

.PHONY: bench
bench: build-release
	$(EMBER_BENCH_ROOT)/scripts/install-deps --bench
	EMBERD="$${EMBERD:-$(abspath $(or $(BUILD_DIR),build))/src/app/emberd/emberd}" $(EMBER_BENCH_ROOT)/bench/run.sh
