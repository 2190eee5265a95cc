# memvigil — the two commands: `make run` (set up, build, run the demo) and
# `make test` (set up, build, run every test). Everything else is a helper.
BUILD ?= build
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMV_WERROR=ON
# The sanitizer builds `make test` runs after the plain one: ASan+UBSan with
# the fuzz targets (clang), and ThreadSanitizer for the threaded unit tests.
SAN_BUILD  ?= build-asan
TSAN_BUILD ?= build-tsan
SAN_CMAKE_FLAGS = -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMV_WERROR=ON -DMV_BUILD_BENCH=OFF
# Seconds each fuzz target runs: a smoke run in `make test`, longer with
# `make fuzz` (or `make fuzz FUZZ_SECONDS=3600`).
FUZZ_SECONDS ?= 30
FUZZ_LONG_SECONDS ?= 600
# Every finding fails the test; LeakSanitizer is on (ASan's default here).
SAN_ENV = ASAN_OPTIONS=abort_on_error=0:detect_stack_use_after_return=1:strict_string_checks=1 \
          UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
TSAN_ENV = TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# Keep cmake's inner make quiet about directories.
MAKEFLAGS += --no-print-directory

.PHONY: all deps build run test test-sanitizers test-asan test-tsan fuzz clean bench

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The demo (scripts/demo.sh): examples/leaky leaks against a small limit
# (a real memory cgroup when possible) under `memvigil run --heap`; about a
# minute and a half. Leaves demo/: the recording, heap snapshots and the
# HTML report.
run: build
	@./scripts/demo.sh $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600
	@$(MAKE) test-sanitizers

test-sanitizers: test-asan test-tsan

# Unit tests, the bad-input integration tests and a fuzz smoke run, under
# AddressSanitizer + UndefinedBehaviorSanitizer (float-cast-overflow too).
test-asan: deps
	@CC=clang cmake -S . -B $(SAN_BUILD) $(SAN_CMAKE_FLAGS) -DMV_SANITIZE=ON \
	    -DMV_FUZZ=ON -DMV_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	@cd $(SAN_BUILD) && $(SAN_ENV) ctest --output-on-failure -j $(JOBS) \
	    --timeout 600 -L 'unit|bad_input|fuzz'

# The unit tests of modules that run threads, under ThreadSanitizer.
TSAN_TESTS = test_monitor test_http test_events test_livepage test_record test_node
test-tsan: deps
	@CC=clang cmake -S . -B $(TSAN_BUILD) $(SAN_CMAKE_FLAGS) -DMV_TSAN=ON >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) $(addprefix --target ,$(TSAN_TESTS))
	@cd $(TSAN_BUILD) && $(TSAN_ENV) ctest --output-on-failure -j $(JOBS) \
	    --timeout 600 -L threads

# The fuzz targets alone, for longer (findings land in $(SAN_BUILD)/tests/fuzz).
fuzz: deps
	@CC=clang cmake -S . -B $(SAN_BUILD) $(SAN_CMAKE_FLAGS) -DMV_SANITIZE=ON \
	    -DMV_FUZZ=ON -DMV_FUZZ_SECONDS=$(FUZZ_LONG_SECONDS) >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS) --target fuzz_ingest fuzz_report fuzz_pprof
	@cd $(SAN_BUILD) && $(SAN_ENV) ctest --output-on-failure -j $(JOBS) -L fuzz

bench: build
	@./bench/run-all.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(TSAN_BUILD)
