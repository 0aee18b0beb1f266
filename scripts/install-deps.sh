#!/usr/bin/env bash
# Installs every Debian 12 package Kino needs to build, test and benchmark, and nothing that is
# already there. Idempotent: a second run with everything present does no apt work at all.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config make git clang-14 clang-format-14 clang-tidy-14
  libclang-rt-14-dev
  # libraries
  libboost-dev libboost-program-options-dev nlohmann-json3-dev libsqlite3-dev libpqxx-dev
  libssl-dev libcurl4-openssl-dev libmaxminddb-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # test and benchmark tools: media made at test time, servers the tests start, clients
  ffmpeg postgresql nginx-light wrk curl jq chromium
  libmaxmind-db-writer-perl mmdb-bin procps psmisc sqlite3 openssl python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js may come from Debian (nodejs + npm) or from a vendor package that bundles npm.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# nginx-light's package starts a system nginx on port 80; Kino's benchmarks run their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  "${sudo_cmd[@]}" systemctl stop nginx || true
fi
