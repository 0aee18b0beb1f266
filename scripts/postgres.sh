#!/usr/bin/env bash
# A private, throw-away PostgreSQL server for tests, from Debian's postgresql package.
#
#   eval "$(bash scripts/postgres.sh start)"   # prints KINO_PG_DIR=... KINO_TEST_POSTGRES_URL=...
#   bash scripts/postgres.sh stop              # stops the server in $KINO_PG_DIR and removes it
#
# The cluster lives in a new temporary directory, listens on 127.0.0.1 on a free port, trusts
# local connections (superuser "kino", database "kino") and trades durability for speed
# (fsync off). PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
# user in a directory it owns; as anyone else it runs as that user.
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

# Runs a PostgreSQL program as the user the server runs as.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A TCP port on 127.0.0.1 that nothing listens on (the server start confirms it).
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "postgres.sh: no free port found" >&2
  return 1
}

start() {
  if [ ! -x "$PG_BIN/initdb" ]; then
    echo "postgres.sh: PostgreSQL server programs not found (apt-get install postgresql)" >&2
    exit 1
  fi
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/kino-pg-XXXXXX")
  chmod 700 "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
  fi
  as_owner "$PG_BIN/initdb" -D "$dir/data" -U kino --auth=trust --no-locale -E UTF8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }

  local port started=0
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
          -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      >/dev/null 2>&1; then
      started=1
      break
    fi
  done
  if [ "$started" != 1 ]; then
    echo "postgres.sh: the server did not start; its log:" >&2
    cat "$dir/server.log" >&2 || true
    exit 1
  fi
  as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U kino kino
  echo "KINO_PG_DIR=$dir"
  echo "KINO_TEST_POSTGRES_URL=postgres://kino@127.0.0.1:$port/kino"
}

stop() {
  local dir=${1:-${KINO_PG_DIR:-}}
  if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
    echo "postgres.sh: no cluster to stop (set KINO_PG_DIR or pass its directory)" >&2
    exit 1
  fi
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: scripts/postgres.sh start|stop [DIR]" >&2
    exit 2
    ;;
esac
