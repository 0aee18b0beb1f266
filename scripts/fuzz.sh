#!/usr/bin/env bash
# Builds a libFuzzer target with clang-14 and runs it on one core.
#
#   scripts/fuzz.sh [TARGET] [SECONDS]        defaults: jwt_fuzz, 600
#
# Every library is compiled with -fsanitize=fuzzer-no-link,address,undefined so that coverage
# guides the fuzzer through Kino's own code, not just the entry point. The seed corpus
# (tests/fuzz/corpus/<name>) is read but not written: new inputs land in $FUZZ_BUILD/new-<name>,
# and crashes in $FUZZ_BUILD/crash-* (libFuzzer's artifact prefix). Copy a few interesting new
# inputs into the seed corpus by hand; CTest replays it in the normal build.
#
# Environment: FUZZ_BUILD (build-fuzz), JOBS (2, for the build only), CC/CXX (clang-14).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:-jwt_fuzz}
SECONDS_TO_RUN=${2:-600}
BUILD=${FUZZ_BUILD:-build-fuzz}
JOBS=${JOBS:-2}
NAME=${TARGET%_fuzz}
SEEDS=tests/fuzz/corpus/$NAME

if [ ! -f "$BUILD/build.ninja" ]; then
  flags="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -gline-tables-only"
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="${CC:-clang-14}" -DCMAKE_CXX_COMPILER="${CXX:-clang++-14}" \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DKINO_FUZZ=ON -DKINO_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD" -j "$JOBS" --target "$TARGET"

mkdir -p "$BUILD/new-$NAME"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
exec nice -n 10 "$BUILD/tests/fuzz/$TARGET" "$BUILD/new-$NAME" "$SEEDS" \
  -max_total_time="$SECONDS_TO_RUN" -artifact_prefix="$BUILD/" -print_final_stats=1
