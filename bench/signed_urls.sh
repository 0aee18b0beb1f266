#!/usr/bin/env bash
# Signed URLs: what token verification costs against serving a 64 KiB range.
#
#   bench/signed_urls.sh            (RESULTS=bench/out/signed_urls.json by default)
#
# Builds kino and signed_url_bench (build-bench, -DKINO_BENCH=ON), starts Kino on 127.0.0.1 with
# one HTTP thread pinned to CPU 1, makes a 6-second 320x240 video and its MP4 download, mints a
# downloadable token, then on CPU 0:
#   1. signed_url_bench: verification micro-benchmarks and 64 KiB range requests through the bare
#      uid and through the token (one keep-alive connection, one request at a time);
#   2. wrk (1 thread, 1 connection, 5 s; three alternating rounds, medians) on the same two URLs
#      and on nginx serving the same file (the baseline: a static file server with no checks).
# Prints a summary with the ratio "verification / serving a 64 KiB range".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
BUILD=${BENCH_BUILD:-build-bench}
JOBS=${JOBS:-2}
RESULTS=${RESULTS:-bench/out/signed_urls.json}
mkdir -p "$(dirname "$RESULTS")"

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKINO_BENCH=ON \
    -DKINO_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD" -j "$JOBS" --target kino signed_url_bench

WORK=$(mktemp -d)
KINO_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$KINO_PID" ] && kill "$KINO_PID" 2>/dev/null && wait "$KINO_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- Kino with one video, its download and a token ---
ACCOUNT=0123456789abcdef0123456789abcdef
API_TOKEN=kino-bench-token-0123456789abcdef
KINO_LISTEN=127.0.0.1:0 KINO_DATA_DIR="$WORK/data" KINO_ACCOUNT_ID=$ACCOUNT \
  KINO_API_TOKEN=$API_TOKEN KINO_LADDER=240 KINO_X264_PRESET=ultrafast KINO_HTTP_THREADS=1 \
  KINO_LOG_LEVEL=warn taskset -c 1 "$BUILD/kino" serve >"$WORK/kino.out" 2>"$WORK/kino.log" &
KINO_PID=$!
URL=$(kino_address "$WORK/kino.out")
API="$URL/client/v4/accounts/$ACCOUNT/stream"
AUTH="Authorization: Bearer $API_TOKEN"

ffmpeg -nostdin -y -loglevel error -f lavfi -i testsrc2=size=320x240:rate=25:duration=6 \
  -f lavfi -i sine=duration=6 -c:v libx264 -preset ultrafast -c:a aac -shortest "$WORK/v.mp4"
UID_=$(curl -sf -H "$AUTH" -F file=@"$WORK/v.mp4" "$API" | jq -r .result.uid)
wait_for() {  # wait_for JQ_EXPR VALUE PATH
  for _ in $(seq 600); do
    [ "$(curl -sf -H "$AUTH" "$API$3" | jq -r "$1")" = "$2" ] && return 0
    sleep 0.2
  done
  echo "timed out waiting for $1 = $2" >&2
  exit 1
}
wait_for .result.status.state ready "/$UID_"
curl -sf -X POST -H "$AUTH" "$API/$UID_/downloads" >/dev/null
wait_for .result.default.status ready "/$UID_/downloads"
TOKEN=$(curl -sf -X POST -H "$AUTH" -d '{"downloadable":true}' "$API/$UID_/token" | jq -r .result.token)
MP4=$(find "$WORK/data" -name 'default.mp4' | head -1)
SIZE=$(stat -c %s "$MP4")
[ "$SIZE" -gt 65536 ] || { echo "download is only $SIZE bytes" >&2; exit 1; }

# --- 1. the benchmark binary ---
KINO_BENCH_URL=$URL KINO_BENCH_UID=$UID_ KINO_BENCH_TOKEN=$TOKEN taskset -c 0 \
  "$BUILD/bench/signed_url_bench" --benchmark_min_time=1 --benchmark_repetitions=5 \
  --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
  --benchmark_format=console --benchmark_out="$RESULTS" --benchmark_out_format=json

# --- 2. wrk against Kino and against nginx serving the same file ---
mkdir -p "$WORK/nginx/www"
cp "$MP4" "$WORK/nginx/www/default.mp4"
NGINX_PORT=$(free_port)
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx;
  uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/nginx/www; }
}
CONF
taskset -c 1 nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>/dev/null &
NGINX_PID=$!
sleep 0.5

rate() {  # rate URL -> requests per second
  taskset -c 0 wrk -t1 -c1 -d5s -H "Range: bytes=0-65535" "$1" | awk '/Requests\/sec/ {print $2}'
}
# Three alternating rounds, median of each: the machine is shared and its load comes in bursts.
median() { sort -n | sed -n 2p; }
for round in 1 2 3; do
  rate "http://127.0.0.1:$NGINX_PORT/default.mp4" >>"$WORK/nginx.rates"
  rate "$URL/$UID_/downloads/default.mp4" >>"$WORK/uid.rates"
  rate "$URL/$TOKEN/downloads/default.mp4" >>"$WORK/token.rates"
done
R_NGINX=$(median <"$WORK/nginx.rates")
R_UID=$(median <"$WORK/uid.rates")
R_TOKEN=$(median <"$WORK/token.rates")

# --- summary ---
python3 - "$RESULTS" "$R_NGINX" "$R_UID" "$R_TOKEN" <<'PY'
import json, sys
results, r_nginx, r_uid, r_token = sys.argv[1], *map(float, sys.argv[2:])
# Medians of five interleaved repetitions (the machine is shared; the median resists bursts).
runs = {b["run_name"]: b for b in json.load(open(results))["benchmarks"]
        if b.get("aggregate_name") == "median" and "error_occurred" not in b}
def ns(name):
    b = runs[name]
    scale = {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]
    return b["real_time"] * scale
# CPU time for the in-process verification (what one core spends), wall time for serving.
def cpu(name):
    b = runs[name]
    return b["cpu_time"] * {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]
verify = cpu("BM_VerifyToken/rules:0")
verify5 = cpu("BM_VerifyToken/rules:5")
serve_uid = ns("BM_Serve64KiBRange/uid/real_time")
serve_token = ns("BM_Serve64KiBRange/token/real_time")
print()
print(f"token verification, one core:          {1e9 / verify:9.0f} /s  ({verify / 1e3:.1f} us)")
print(f"  with five access rules:              {1e9 / verify5:9.0f} /s  ({verify5 / 1e3:.1f} us)")
print(f"  RS256 signature alone:               {1e9 / cpu('BM_Rs256Verify'):9.0f} /s")
print(f"64 KiB range via uid   (one request):  {serve_uid / 1e3:9.1f} us")
print(f"64 KiB range via token (one request):  {serve_token / 1e3:9.1f} us")
print(f"verification / serving a 64 KiB range: {100 * verify / serve_uid:9.1f} %  (goal < 5 %)")
print(f"token request overhead, end to end:    {100 * (serve_token - serve_uid) / serve_uid:9.1f} %")
print(f"load average during the run: {open('/proc/loadavg').read().split()[0]}")
print(f"wrk 1x1, 64 KiB range: nginx {r_nginx:.0f}/s, Kino uid {r_uid:.0f}/s, Kino token {r_token:.0f}/s")
print(f"  token request overhead under wrk:   {100 * (r_uid / r_token - 1):9.1f} %")
print(f"  verification / Kino's wrk request time: {100 * verify / (1e9 / r_uid):.1f} %")
PY
