#!/usr/bin/env bash
# Runs every test suite: unit tests (CTest), the lint, integration tests against the real
# binary, the PostgreSQL runs, the JavaScript client tests, and the unit tests again under
# ASan+UBSan.
# Prints one closing line "N passed, N failed" over all suites.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
JOBS=${JOBS:-2}

passed=0
failed=0
failures=()

suite() {
  local name=$1
  shift
  echo "=== suite: $name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "=== suite $name passed in $((SECONDS - start)) s"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== suite $name FAILED in $((SECONDS - start)) s"
  fi
}

# The storage, domain and jobs unit tests again on PostgreSQL, and the two-node integration test,
# against a private server (scripts/postgres.sh) that is stopped however the suite ends.
postgres_suite() (
  eval "$(bash scripts/postgres.sh start)" || exit 1
  export KINO_TEST_POSTGRES_URL
  trap 'bash scripts/postgres.sh stop "$KINO_PG_DIR"' EXIT
  ctest --test-dir "$BUILD" -L postgres --output-on-failure -j "$JOBS"
)

suite lint bash scripts/lint.sh
suite unit ctest --test-dir "$BUILD" -L unit --output-on-failure -j "$JOBS"
suite integration ctest --test-dir "$BUILD" -L integration --output-on-failure -j "$JOBS"
suite postgres postgres_suite
if [ -f tests/clients/package.json ]; then
  suite clients bash tests/clients/run.sh "$BUILD/kino"
fi
if [ "${KINO_SKIP_ASAN:-0}" != 1 ]; then
  suite asan bash scripts/asan.sh
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
  echo "failed suites: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
