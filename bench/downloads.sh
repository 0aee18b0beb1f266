#!/usr/bin/env bash
# Downloads benchmark: one run on one 10-minute 1080p video, each figure beside its baseline.
#
#   1. time from POST .../downloads to "ready" (Kino's remux + SHA-256 + store) against
#      `ffmpeg -c copy -movflags +faststart` of the same top rendition (and of top + audio);
#   2. download throughput (whole-file GETs) and 64 KiB Range GETs per second with wrk, against
#      Kino and against nginx (sendfile on) serving the same file, at 4 and 64 connections, two
#      runs of each server per figure (Kino, nginx, nginx, Kino);
#   3. Kino's resident memory with 256 and with 2048 concurrent slow downloads (nginx's beside
#      it).
#
# Usage: bench/downloads.sh [path/to/kino]     (default build/kino)
# Everything runs on 127.0.0.1; the work directory is removed at the end.
# Environment: BENCH_SECONDS (wrk duration per run, 10), BENCH_REPEAT (timing runs, 3).
set -euo pipefail

KINO=$(realpath "${1:-build/kino}")
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
REPEAT=${BENCH_REPEAT:-3}
ACCOUNT=0123456789abcdef0123456789abcdef
TOKEN=kino-bench-token-0123456789abcdef
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
WORK=$(mktemp -d /tmp/kino-bench-downloads-XXXXXX)
KINO_PID=
NGINX_PID=

cleanup() {
  [ -n "$KINO_PID" ] && kill "$KINO_PID" 2>/dev/null && wait "$KINO_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# Sum of VmRSS over a process and its children (nginx: master + workers).
tree_rss_kib() {
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(rss_kib "$pid")))
  done
  echo "$total"
}

# 2048 slow clients need as many descriptors in the client, and twice as many in Kino.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

say "# Kino downloads benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "machine: $(nproc) cores, $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
say "kino: $KINO"
say

# ---- the input: 10 s of 1080p made cheaply (ultrafast, low bitrate), looped to 10 minutes by
# stream copy, so no 10-minute encode is paid.
ffmpeg -nostdin -y -loglevel error \
  -f lavfi -i testsrc2=size=1920x1080:rate=25:duration=10 \
  -f lavfi -i sine=frequency=440:sample_rate=48000:duration=10 \
  -c:v libx264 -preset ultrafast -b:v 1500k -maxrate 1500k -bufsize 3000k -g 50 -pix_fmt yuv420p \
  -c:a aac -b:a 128k -shortest "$WORK/ten.mp4"
ffmpeg -nostdin -y -loglevel error -stream_loop 59 -i "$WORK/ten.mp4" -c copy "$WORK/input.mp4"
say "input: $(ffprobe -v error -show_entries format=duration -of csv=p=0 "$WORK/input.mp4") s, $(ffprobe -v error -select_streams v -show_entries stream=width,height -of csv=p=0 "$WORK/input.mp4"), $(stat -c %s "$WORK/input.mp4") bytes"

# ---- Kino: one rung (1080) so the top rendition is the stream-copied source and nothing else
# is encoded.
KINO_LISTEN=127.0.0.1:0 KINO_DATA_DIR="$WORK/data" KINO_ACCOUNT_ID=$ACCOUNT KINO_API_TOKEN=$TOKEN \
  KINO_LADDER=1080 KINO_X264_PRESET=ultrafast KINO_MAX_UPLOAD_BYTES=2000000000 \
  "$KINO" serve >"$WORK/kino.out" 2>"$WORK/kino.log" &
KINO_PID=$!
BASE=$(kino_address "$WORK/kino.out")
[ -n "$BASE" ] || { say "kino did not start"; cat "$WORK/kino.log"; exit 1; }
API="$BASE/client/v4/accounts/$ACCOUNT/stream"
AUTH="Authorization: Bearer $TOKEN"

UID_=$(curl -sf -H "$AUTH" -F "file=@$WORK/input.mp4;filename=bench.mp4" "$API" | jq -r .result.uid)
for _ in $(seq 1200); do
  STATE=$(curl -sf -H "$AUTH" "$API/$UID_" | jq -r .result.status.state)
  [ "$STATE" = ready ] || [ "$STATE" = error ] && break
  sleep 0.25
done
[ "$STATE" = ready ] || { say "video did not become ready: $STATE"; exit 1; }
PKG="$WORK/data/blobs/videos/$UID_/package"
TOP_DIR=$(jq -r '[.renditions[] | select(.kind == "video")][0].name' "$PKG/renditions.json" 2>/dev/null || echo v1080)
[ -d "$PKG/$TOP_DIR" ] || TOP_DIR=$(ls -d "$PKG"/v* | head -1 | xargs basename)
say "video $UID_ ready; top rendition $TOP_DIR ($(ls "$PKG/$TOP_DIR" | grep -c m4s) segments)"

# TOP: the top rendition as one fragmented MP4 (init segment + media segments, as a player
# reads them); AUDIO likewise.
cat "$PKG/$TOP_DIR/init.mp4" $(ls "$PKG/$TOP_DIR"/seg_*.m4s | sort) >"$WORK/top.mp4"
cat "$PKG/audio/init.mp4" $(ls "$PKG/audio"/seg_*.m4s | sort) >"$WORK/audio.mp4"

# ---- 1. time to a ready download
download_ready_seconds() {
  python3 "$HERE/ready_time.py" "$API" "$TOKEN" "$UID_"
}
ffmpeg_seconds() {
  rm -f "$WORK/ff.mp4"
  sync
  local t0
  t0=$(now)
  ffmpeg -nostdin -y -loglevel error "$@" -c copy -movflags +faststart "$WORK/ff.mp4"
  elapsed "$t0"
}

: >"$WORK/t_kino"
: >"$WORK/t_ff_top"
: >"$WORK/t_ff_both"
for _ in $(seq "$REPEAT"); do
  download_ready_seconds >>"$WORK/t_kino"
  ffmpeg_seconds -i "$WORK/top.mp4" >>"$WORK/t_ff_top"
  ffmpeg_seconds -i "$WORK/top.mp4" -i "$WORK/audio.mp4" -map 0:v -map 1:a >>"$WORK/t_ff_both"
done
K=$(median <"$WORK/t_kino")
FT=$(median <"$WORK/t_ff_top")
FB=$(median <"$WORK/t_ff_both")
FILE="$WORK/data/blobs/videos/$UID_/downloads/default.mp4"
SIZE=$(stat -c %s "$FILE")
say
say "## 1. POST .../downloads to ready (median of $REPEAT)"
say "kino (remux video+audio, SHA-256, fsync; API polled every 2 ms):     $(printf %.3f "$K") s  [runs: $(tr '\n' ' ' <"$WORK/t_kino")]"
say "ffmpeg -i TOP -c copy -movflags +faststart:                          $(printf %.3f "$FT") s  ratio kino/ffmpeg $(printf %.2f "$(echo "$K / $FT" | bc -l)")"
say "ffmpeg -i TOP -i AUDIO -c copy -movflags +faststart:                 $(printf %.3f "$FB") s  ratio kino/ffmpeg $(printf %.2f "$(echo "$K / $FB" | bc -l)")"
say "download size: $SIZE bytes"

# ---- nginx with sendfile serving the same bytes
mkdir -p "$WORK/www" "$WORK/nginx"
cp "$FILE" "$WORK/www/default.mp4"
chmod -R a+rX "$WORK"
NGINX_PORT=$(free_port)
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 2;
worker_rlimit_nofile 16384;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  types { video/mp4 mp4; }
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/www;
    location / { add_header Access-Control-Allow-Origin *; }
  }
}
EOF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
NGINX_PID=$!
sleep 0.5
cmp <(curl -sf "http://127.0.0.1:$NGINX_PORT/default.mp4") <(curl -sf "$BASE/$UID_/downloads/default.mp4") ||
  { say "nginx and kino serve different bytes"; exit 1; }

# ---- 2. wrk: whole files and 64 KiB ranges
cat >"$WORK/range.lua" <<EOF
-- 64 KiB Range GETs at random 64 KiB-aligned offsets within the file.
local size = $SIZE
local span = 65536
math.randomseed(42)
request = function()
  local first = math.random(0, math.floor((size - span) / span)) * span
  return wrk.format("GET", nil, { Range = "bytes=" .. first .. "-" .. (first + span - 1) })
end
EOF
# Prints "requests/s MiB/s" of one wrk run.
run_wrk() {
  local conns=$1 url=$2
  shift 2
  wrk -t 2 -c "$conns" -d "${SECONDS_PER_RUN}s" --latency "$@" "$url" >"$WORK/wrk.txt" 2>&1
  local rps bytes
  rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  bytes=$(awk '/^Transfer\/sec/ {v=$2; u=substr(v, length(v)-1); n=substr(v, 1, length(v)-2);
    m = (u=="GB") ? 1024 : (u=="MB") ? 1 : (u=="KB") ? 1/1024 : 1/1048576; print n*m}' "$WORK/wrk.txt")
  if grep -q 'Non-2xx' "$WORK/wrk.txt"; then
    echo "wrk saw errors: $(grep Non-2xx "$WORK/wrk.txt")" >&2
  fi
  echo "$rps $bytes"
}
say
say "## 2. wrk -t 2, ${SECONDS_PER_RUN} s per run, mean of 2 runs each in the order kino, nginx, nginx, kino (kino --http-threads 2, nginx worker_processes 2)"
say "| test | conns | kino req/s | kino MiB/s | nginx req/s | nginx MiB/s | kino/nginx |"
say "|---|---|---|---|---|---|---|"
for test in full range; do
  for conns in 4 64; do
    extra=()
    [ "$test" = range ] && extra=(-s "$WORK/range.lua")
    # Two runs each, in the order Kino, nginx, nginx, Kino, so that neither server always
    # runs first or last; each figure is the mean of its two runs.
    read -r k1rps k1mb < <(run_wrk "$conns" "$BASE/$UID_/downloads/default.mp4" "${extra[@]}")
    read -r n1rps n1mb < <(run_wrk "$conns" "http://127.0.0.1:$NGINX_PORT/default.mp4" "${extra[@]}")
    read -r n2rps n2mb < <(run_wrk "$conns" "http://127.0.0.1:$NGINX_PORT/default.mp4" "${extra[@]}")
    read -r k2rps k2mb < <(run_wrk "$conns" "$BASE/$UID_/downloads/default.mp4" "${extra[@]}")
    krps=$(echo "($k1rps + $k2rps) / 2" | bc -l | xargs printf %.0f)
    nrps=$(echo "($n1rps + $n2rps) / 2" | bc -l | xargs printf %.0f)
    kmb=$(echo "($k1mb + $k2mb) / 2" | bc -l)
    nmb=$(echo "($n1mb + $n2mb) / 2" | bc -l)
    if [ "$test" = full ]; then
      ratio=$(echo "$kmb / $nmb" | bc -l)
    else
      ratio=$(echo "$krps / $nrps" | bc -l)
    fi
    say "| $test | $conns | $krps | $(printf %.0f "$kmb") | $nrps | $(printf %.0f "$nmb") | $(printf %.2f "$ratio") |"
  done
done

# ---- 3. memory with 256 and 2048 slow downloads
slow_rss() {
  local url=$1 pid=$2 clients=$3
  python3 "$HERE/slow_clients.py" "$url" "$clients" 8 &
  local client=$!
  sleep 6
  local during
  during=$(tree_rss_kib "$pid")
  wait "$client"
  echo "$during"
}
say
say "## 3. resident memory, concurrent slow downloads (each reads 16 KiB every 100 ms)"
KIDLE=$(rss_kib "$KINO_PID")
NIDLE=$(tree_rss_kib "$NGINX_PID")
for clients in 256 2048; do
  KSLOW=$(slow_rss "$BASE/$UID_/downloads/default.mp4" "$KINO_PID" "$clients")
  NSLOW=$(slow_rss "http://127.0.0.1:$NGINX_PORT/default.mp4" "$NGINX_PID" "$clients")
  say "$clients clients: kino idle $((KIDLE / 1024)) MiB, with them $((KSLOW / 1024)) MiB ($(((KSLOW - KIDLE) / clients)) KiB per connection); nginx idle $((NIDLE / 1024)) MiB, with them $((NSLOW / 1024)) MiB (master + workers)"
done
say
say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
