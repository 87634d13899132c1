#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the normal build,
# its Debian packages installed and removed again, then an AddressSanitizer
# + UndefinedBehaviorSanitizer build, then a short bounded fuzzing run of
# each fuzzer, then the benchmarks in quick mode.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
start=$SECONDS
phase() { echo "== $* (at $((SECONDS - start)) s)"; }

bash scripts/deps.sh --test

phase "build (RelWithDebInfo)"
# Prefix /usr: the same build makes the Debian packages below.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build build -j "$jobs"
# A real PostgreSQL server for the PostgreSQL store's tests, stopped and
# removed however the script ends.
phase "PostgreSQL test server"
eval "$(bash scripts/pg-server.sh start)"
trap 'bash scripts/pg-server.sh stop "$SOPIR_TEST_PG_DIR"' EXIT
phase "tests"
ctest --test-dir build --output-on-failure -j "$jobs"
phase "Debian packages: build, install, use, purge"
bash scripts/package-test.sh build

phase "build (ASan + UBSan)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSOPIR_SANITIZE=ON -DSOPIR_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
phase "tests under sanitizers"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

if [[ -f tests/fuzz/CMakeLists.txt ]]; then
  phase "fuzz (short, bounded)"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DSOPIR_FUZZ=ON -DSOPIR_BENCH=OFF >/dev/null
  cmake --build build-fuzz -j "$jobs" --target fuzzers
  bash tests/fuzz/run.sh build-fuzz 30
fi

phase "benchmarks (quick mode: figures only, targets are for full runs)"
for b in build/tests/bench/*_bench; do
  [[ -x "$b" ]] && "$b" --quick
done
phase "all tests passed"
