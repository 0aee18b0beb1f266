#!/usr/bin/env bash
# `make bench`: every benchmark script of bench/, each with the baseline it is held to, one
# after the other (they must not share the machine's two cores). Figures go to bench/out/ and
# are copied by hand into docs/benchmarks.md with the date and the machine's load.
#
# Usage: bench/run.sh [script names without .sh ...]   (default: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
make build >/dev/null
scripts=("$@")
if [ ${#scripts[@]} -eq 0 ]; then
  scripts=(encode downloads ingest signed_urls)
fi
for name in "${scripts[@]}"; do
  if [ ! -f "bench/$name.sh" ]; then
    echo "bench: no bench/$name.sh" >&2
    exit 2
  fi
  echo "=== bench $name (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  bash "bench/$name.sh" build/kino 2>&1 | tee "bench/out/$name.txt"
done
