#!/usr/bin/env bash
# Runs the JavaScript client tests (official clients against a real Kino).
# Usage: tests/clients/run.sh path/to/kino
set -euo pipefail
cd "$(dirname "$0")"
export KINO_BINARY=$(realpath "${1:-../../build/kino}")
# npm ci only when the installed tree does not match the lockfile.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s <(jq -S .packages package-lock.json | jq 'del(."")') <(jq -S .packages node_modules/.package-lock.json); then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node --test --test-concurrency=1 --test-timeout=600000 ./*.test.js
