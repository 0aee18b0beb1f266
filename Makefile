# Kino's two set-up commands: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: deps build run test unit-test integration-test asan-test client-test lint format fuzz bench clean

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/kino serve

test: build
	bash scripts/test.sh

lint:
	bash scripts/lint.sh

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

fuzz: deps
	bash scripts/fuzz.sh

bench: deps
	bash bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz build-bench
