# memvigil — the two commands: `make run` (set up, build, run the demo) and
# `make test` (set up, build, run every test). Everything else is a helper.
BUILD ?= build
JOBS  ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMV_WERROR=ON
DEMO_SECONDS ?= 60
# Keep cmake's inner make quiet about directories.
MAKEFLAGS += --no-print-directory

.PHONY: all deps build run test clean bench

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The demo: watch examples/leaky (a slow anonymous leak plus a bounded cache)
# for about a minute, print what memvigil sees, leave demo-recording.jsonl.
run: build
	$(BUILD)/memvigil run --interval 1s --record demo-recording.jsonl \
	    --listen 127.0.0.1:0 -- $(BUILD)/examples/leaky --seconds $(DEMO_SECONDS)
	@echo "recording: demo-recording.jsonl"

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	@./bench/run-all.sh $(BUILD)

clean:
	rm -rf $(BUILD)
