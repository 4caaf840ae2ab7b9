# The two commands: `make demo` and `make test`. Everything else is CMake.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
DEMO_DIR   ?= demo
# Integration test files run in parallel (pytest-xdist); each file keeps its own instances on one worker.
TEST_WORKERS ?= 3

.PHONY: deps build demo test test-unit test-integration asan-test bench bench-imap bench-relay bench-atna clean

deps:
	bash packaging/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	bash packaging/demo.sh $(BUILD) $(DEMO_DIR)

test: build
	$(MAKE) --no-print-directory test-unit test-integration BUILD=$(BUILD)

test-unit:
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The independent IMAP client (ImapFlow) the integration tests run, pinned by package-lock.json.
NODE_DIR = tests/integration/node
$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package-lock.json
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund

test-integration: $(NODE_DIR)/node_modules/.package-lock.json
	PLEXUS_BUILD_DIR=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q -n $(TEST_WORKERS) --dist loadfile tests/integration

# The same suites on an AddressSanitizer/UBSan build (CI runs it after `make test`).
asan-test: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DPLEXUS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	LSAN_OPTIONS=suppressions=$(abspath tests/sanitizer/lsan.supp):print_suppressions=0 \
	  $(MAKE) --no-print-directory test-unit test-integration BUILD=$(ASAN_BUILD)

bench: build
	PLEXUS_BUILD_DIR=$(abspath $(BUILD)) /usr/bin/python3 tests/bench/smtp_submission.py

bench-imap: build
	PLEXUS_BUILD_DIR=$(abspath $(BUILD)) /usr/bin/python3 tests/bench/imap_mixed.py

bench-relay: build
	PLEXUS_BUILD_DIR=$(abspath $(BUILD)) /usr/bin/python3 tests/bench/smtp_relay.py

bench-atna: build
	PLEXUS_BUILD_DIR=$(abspath $(BUILD)) /usr/bin/python3 tests/bench/atna_audit.py

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
