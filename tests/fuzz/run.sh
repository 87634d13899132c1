#!/usr/bin/env bash
# Runs every fuzzer built in BUILD_DIR for SECONDS seconds each.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS
#
# Each fuzzer NAME (from tests/fuzz/NAME.cc) starts from a scratch copy of
# its seeds: tests/fuzz/seeds/NAME/ plus workflows/*.yaml when present, and
# uses tests/fuzz/NAME.dict when present. The committed seeds are never
# modified. Exits non-zero when a fuzzer is missing or finds a crash, leak,
# sanitizer report or timeout; the failing input is kept under
# BUILD_DIR/fuzz-artifacts/NAME/ for reproduction (run the binary on it).
set -euo pipefail

if [[ $# -ne 2 || ! "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

shopt -s nullglob
sources=("$here"/*_fuzz.cc)
if [[ ${#sources[@]} -eq 0 ]]; then
  echo "no fuzzers in $here" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for source in "${sources[@]}"; do
  name=$(basename "$source" .cc)
  binary="$build/tests/fuzz/$name"
  if [[ ! -x "$binary" ]]; then
    echo "== $name: not built ($binary missing; build the 'fuzzers' target with -DSOPIR_FUZZ=ON)" >&2
    failed+=("$name")
    continue
  fi
  corpus="$work/$name/corpus"
  artifacts="$build/fuzz-artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  [[ -d "$here/seeds/$name" ]] && cp -r "$here/seeds/$name/." "$corpus/"
  for yaml in "$root"/workflows/*.yaml; do cp "$yaml" "$corpus/"; done
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [[ -f "$here/$name.dict" ]] && args+=(-dict="$here/$name.dict")
  echo "== $name: ${seconds}s"
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$binary" "${args[@]}" "$corpus" >"$work/$name.log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$work/$name.log" || true
  else
    tail -n 60 "$work/$name.log" >&2
    echo "== $name FAILED; failing input kept in $artifacts/" >&2
    failed+=("$name")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzers failed: ${failed[*]}" >&2
  exit 1
fi
echo "all fuzzers ran clean"
