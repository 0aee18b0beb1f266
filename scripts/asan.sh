#!/usr/bin/env bash
# Builds the unit tests of the libraries that parse untrusted input (common, http, auth,
# storage, domain, jobs, and the MP4 box code of media) with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs them. The HTTP server and the encoder are exercised by
# the integration tests of the normal build; building them twice would double CI's time.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${ASAN_BUILD:-build-asan}
JOBS=${JOBS:-2}
targets=(common_test http_test auth_test storage_test domain_test jobs_test media_delivery_test)
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKINO_SANITIZE=ON >/dev/null
fi
cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
regex="^($(IFS='|'; echo "${targets[*]}"))\$"
ctest --test-dir "$BUILD" -R "$regex" --output-on-failure -j "$JOBS"
