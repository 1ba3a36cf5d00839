# Thin wrapper over CMake/CTest. `make setup` prepares a Debian 12 host (root).
BUILD ?= build
JOBS ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all setup configure build build-testbed test test-unit bench clean

all: build

# The host, then only what `testbed run` needs (the binary); the tests build in `make test`.
setup:
	bash orchestrator/host/setup-host.sh
	$(MAKE) build-testbed

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

build-testbed: configure
	cmake --build $(BUILD) -j $(JOBS) --target testbed

# The whole suite: unit tests, then the real lab (labels images, lab, e2e, faults).
# It runs the host setup first, so it works on a fresh machine too. Every skipped test is
# listed with its reason afterwards; with CI=true one missing from tests/skip-allowlist.txt
# fails the run (tests/check_skips.py).
test:
	bash orchestrator/host/setup-host.sh
	$(MAKE) build
	cd $(BUILD) || exit 1; rc=0; ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS) \
	  --output-junit $$PWD/ctest-junit.xml || rc=$$?; \
	  python3 $(CURDIR)/tests/check_skips.py ctest-junit.xml $(CURDIR)/tests/skip-allowlist.txt || rc=1; \
	  exit $$rc

# Only the fast tests that need no lab (no root, no libvirtd).
test-unit: build
	cd $(BUILD) || exit 1; rc=0; ctest --output-on-failure -j $(JOBS) -L unit \
	  --output-junit $$PWD/ctest-junit.xml || rc=$$?; \
	  python3 $(CURDIR)/tests/check_skips.py ctest-junit.xml $(CURDIR)/tests/skip-allowlist.txt || rc=1; \
	  exit $$rc

bench: build
	cmake --build $(BUILD) --target bench

clean:
	rm -rf $(BUILD)
