#!/usr/bin/env bash
# Checks the containment rules of docs/architecture.md and the format of every C++ file:
#   - libav* headers only under src/media
#   - sqlite3 and libpq/libpqxx only under src/storage
#   - Boost.Beast and Boost.Asio only under src/api (and the tests that drive HTTP)
#   - production code never runs the ffmpeg or ffprobe programs
#   - no exceptions thrown in src/
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

check() {
  local what=$1 pattern=$2 allowed=$3
  local hits
  hits=$(grep -rnE "$pattern" src --include='*.cc' --include='*.h' | grep -vE "^($allowed)" || true)
  if [ -n "$hits" ]; then
    echo "lint: $what outside its layer:"
    echo "$hits"
    status=1
  fi
}

check "libav* include" '#include <lib(avformat|avcodec|avutil|swscale|swresample|avfilter)/' 'src/media/'
check "sqlite3/libpq include" '#include <(sqlite3\.h|libpq-fe\.h|pqxx/)' 'src/storage/'
check "Boost.Beast/Asio include" '#include <boost/(beast|asio)' 'src/api/'
check "ffmpeg program" '(popen|system|execv?p?)\s*\(.*ffmpeg|"ffmpeg"|"ffprobe"' 'NONE'
check "throw" '^\s*throw\b' 'NONE'

if command -v clang-format >/dev/null 2>&1; then
  unformatted=$(git ls-files '*.cc' '*.h' | while read -r f; do
    [ -f "$f" ] && ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1 && echo "$f"
  done)
  if [ -n "$unformatted" ]; then
    echo "lint: not clang-formatted (run make format):"
    echo "$unformatted"
    status=1
  fi
fi
exit $status
