# Thin wrapper over CMake/CTest. `make setup` prepares a Debian 12 host (root).
BUILD ?= build
JOBS ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all setup configure build test test-unit bench clean

all: build

setup:
	bash orchestrator/host/setup-host.sh
	$(MAKE) build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The whole suite: unit tests, then the real lab (labels images, lab, e2e, faults).
# It runs the host setup first, so it works on a fresh machine too.
test:
	bash orchestrator/host/setup-host.sh
	$(MAKE) build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# Only the fast tests that need no lab (no root, no libvirtd).
test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

bench: build
	cmake --build $(BUILD) --target bench

clean:
	rm -rf $(BUILD)
