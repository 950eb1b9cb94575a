# Lightning DB — the two commands of the README:
#   make run    build (release) and run the example and the short benchmark
#   make test   build (ASan+UBSan, then TSan) and run the whole test suite
# Both first install any missing Debian package (apt-get update; apt-get install -y).

SHELL := /bin/bash
JOBS ?= $(shell nproc)

# Build tools, test frameworks, compression/crypto libraries, and the peers
# that lightning-bench compares against.
DEB_PACKAGES := cmake ninja-build g++ clang libclang-rt-14-dev pkg-config \
  libgtest-dev libgmock-dev libbenchmark-dev \
  liblz4-dev libsnappy-dev libzstd-dev libssl-dev \
  librocksdb-dev libleveldb-dev liblmdb-dev libcli11-dev nlohmann-json3-dev

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps run test build release asan tsan bench install clean format

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing missing Debian packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

release: deps
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

build: release

run: release
	./build/release/basic_usage
	./build/release/tools/bench/lightning-bench --quick

asan: deps
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)

tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan -j $(JOBS) --target concurrency_tests

test: asan tsan
	ctest --preset asan
	ctest --preset tsan

# The full side-by-side run of docs/benchmarks.md (tens of minutes); BENCH_DIR
# must be on the disk to measure.
BENCH_DIR ?= benchdir
bench: release
	mkdir -p $(BENCH_DIR)
	./build/release/tools/bench/lightning-bench --num 2000000 --ops 1000000 --sync-ops 5000 \
	  --dir $(BENCH_DIR) --json $(BENCH_DIR)/full.json --plot $(BENCH_DIR)/full.svg --markdown $(BENCH_DIR)/full.md
	./build/release/bench/lightning_commit_bench --dir $(BENCH_DIR)

PREFIX ?= /usr/local
install: release
	cmake --install build/release --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf build
