#!/usr/bin/env bash
# Ingest benchmark: a large basic (multipart) upload and a large tus upload to a real Kino over
# loopback, each on a fresh server, reporting the server's peak RSS (VmHWM from
# /proc/PID/status) and the ingest speed; and, in the same run and on the same disk, the disk's
# sequential write speed (dd with conv=fdatasync) as the baseline the tus speed is held to.
#
# Usage: bench/ingest.sh [path/to/kino] [size in MiB, default 1024]
# Env:   BENCH_DIR   where the data directories and the test file go (default: a new dir
#                    under /tmp); it should sit on the disk Kino would use.
# Needs: curl, ffmpeg, dd. Goals: RSS < 100 MB for both; tus >= 0.5x the disk.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KINO=$(realpath "${1:-build/kino}")
MIB=${2:-1024}
DIR=${BENCH_DIR:-$(mktemp -d /tmp/kino-bench-ingest.XXXXXX)}
mkdir -p "$DIR"
ACCOUNT=0123456789abcdef0123456789abcdef
TOKEN=kino-bench-token-0123456789abcdef
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

# A real video of about MIB MiB: lossless ultrafast H.264 of a noisy 320x240 pattern (noise
# keeps it from compressing; about 3.4 MB per second of video).
make_video() {
  local seconds=$(( MIB * 1048576 / 3300000 + 2 ))
  ffmpeg -nostdin -y -loglevel error \
    -f lavfi -i "testsrc2=size=320x240:rate=25:duration=$seconds" \
    -vf noise=alls=80:allf=t+u -c:v libx264 -preset ultrafast -qp 0 -pix_fmt yuv420p \
    -fs $(( MIB * 1048576 )) "$DIR/source.mp4"
}

# Starts a fresh Kino (no encode workers: only ingest is measured); sets PID and API.
start_kino() {
  local data=$1
  KINO_LISTEN=127.0.0.1:0 KINO_DATA_DIR="$data" KINO_ACCOUNT_ID=$ACCOUNT KINO_API_TOKEN=$TOKEN \
    KINO_WORKERS=0 KINO_MAX_UPLOAD_BYTES=$(( MIB * 1048576 * 2 )) \
    "$KINO" serve > "$data.out" 2> "$data.log" &
  PID=$!
  local url
  url=$(kino_address "$data.out")
  [ -n "$url" ] || { echo "kino did not start" >&2; cat "$data.log" >&2; exit 1; }
  API="$url/client/v4/accounts/$ACCOUNT/stream"
}

stop_kino() {
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
}

hwm_mb() {
  awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status"
}

mbps() {  # bytes seconds
  awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1e6 }'
}

echo "# making a ${MIB} MiB test video in $DIR" >&2
make_video
SIZE=$(stat -c %s "$DIR/source.mp4")
sync  # the test file's dirty pages must not be flushed during the measurements

# Baseline: the disk's sequential write speed, same size, flushed to stable storage.
echo "# dd baseline" >&2
DD=$(dd if=/dev/zero of="$DIR/dd.out" bs=1M count="$MIB" conv=fdatasync 2>&1 | tail -1)
rm -f "$DIR/dd.out"
DD_SECONDS=$(echo "$DD" | awk -F', ' '{ print $(NF-1) }' | awk '{ print $1 }')
DD_RATE=$(mbps $(( MIB * 1048576 )) "$DD_SECONDS")

# Basic upload: one multipart POST, curl streaming the file from disk.
echo "# basic upload" >&2
sync
start_kino "$DIR/basic"
IDLE=$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status")
BASIC_T=$(curl -sS -o "$DIR/basic.json" -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
  -F "file=@$DIR/source.mp4" "$API")
grep -q '"success":true' "$DIR/basic.json" || { echo "basic upload failed:" >&2; cat "$DIR/basic.json" >&2; exit 1; }
BASIC_HWM=$(hwm_mb)
stop_kino
rm -rf "$DIR/basic"

# tus: creation, then the whole file in one PATCH streamed from disk (curl -T).
echo "# tus upload" >&2
sync
start_kino "$DIR/tus"
LOCATION=$(curl -sS -D - -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" \
  -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $SIZE" "$API" |
  tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
[ -n "$LOCATION" ] || { echo "tus creation failed" >&2; exit 1; }
TUS_T=$(curl -sS -o /dev/null -w '%{time_total}' -X PATCH -T "$DIR/source.mp4" \
  -H "Authorization: Bearer $TOKEN" -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' \
  -H 'Content-Type: application/offset+octet-stream' "$LOCATION")
OFFSET=$(curl -sS -I -H "Authorization: Bearer $TOKEN" -H 'Tus-Resumable: 1.0.0' "$LOCATION" |
  tr -d '\r' | sed -n 's/^[Uu]pload-[Oo]ffset: //p')
[ "$OFFSET" = "$SIZE" ] || { echo "tus upload incomplete: $OFFSET of $SIZE" >&2; exit 1; }
TUS_HWM=$(hwm_mb)
stop_kino

BASIC_RATE=$(mbps "$SIZE" "$BASIC_T")
TUS_RATE=$(mbps "$SIZE" "$TUS_T")
RATIO=$(awk -v a="$TUS_RATE" -v b="$DD_RATE" 'BEGIN { printf "%.2f", a / b }')

cat <<EOF
ingest benchmark: $SIZE bytes over loopback ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ))
| what                                   | time (s) | MB/s   | server peak RSS (MB) |
|----------------------------------------|----------|--------|----------------------|
| disk: dd bs=1M conv=fdatasync (baseline)| $DD_SECONDS | $DD_RATE | - |
| basic upload (multipart POST)          | $BASIC_T | $BASIC_RATE | $BASIC_HWM |
| tus upload (one PATCH)                 | $TUS_T | $TUS_RATE | $TUS_HWM |
server RSS at start: $IDLE MB
tus / disk = $RATIO (goal >= 0.5); RSS goal < 100 MB
EOF
