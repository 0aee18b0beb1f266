#!/usr/bin/env bash
# Encoding benchmark: Kino's rendition ladder against the ffmpeg program doing the same work in
# one process, and the copy fast path's time to readyToStream for a long upload.
#
#   bench/encode.sh [path/to/kino]        (default build/kino; needs ffmpeg, curl, jq)
#
# 1. A 60 s 1080p30 H.264 source (testsrc2 with noise, so that it is not trivially compressible)
#    in Matroska: Kino stream-copies H.264 only out of MP4/MOV, so from MKV it encodes every
#    rung, and the two encoders do the same work.
# 2. Kino (the real server, ladder 1080,720,480,360,240, x264 veryfast): upload, then poll the
#    video until ready. Wall time from the upload's answer to state ready; CPU seconds of the
#    server process over that time (/proc/PID/stat); peak RSS of the process (VmHWM), which
#    serves nothing else meanwhile.
# 3. The ffmpeg program with the same ladder and settings: one decode, split, scale per rung
#    (bicubic, limited range, yuv420p), libx264 veryfast CRF 23 with the same VBV caps, GOP
#    2 s, AAC 128 kb/s stereo, fragmented MP4 outputs.
# 4. The copy fast path: a 10-minute 1080p H.264/AAC MP4 (cheaply made: 10 s at ultrafast, low
#    bitrate, concatenated 60 times without re-encoding) uploaded to a fresh server; the time
#    from the upload's answer to readyToStream (the copied top rendition published).
#
# The machine may be shared: the script prints the load average before and after each run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KINO=$(realpath "${1:-build/kino}")
WORK=$(mktemp -d /tmp/kino-bench-XXXXXX)
ACCOUNT=0123456789abcdef0123456789abcdef
TOKEN=kino-bench-token-0123456789abcdef
TICK=$(getconf CLK_TCK)
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
cpu_seconds() {  # utime + stime of a process, in seconds
  awk -v t="$TICK" '{ print ($14 + $15) / t }' "/proc/$1/stat"
}

# Starts `kino serve` on a free port with its own data directory; sets SERVER_PID and API.
start_kino() {
  local dir="$WORK/kino-$1"
  mkdir -p "$dir"
  KINO_LISTEN=127.0.0.1:0 KINO_DATA_DIR="$dir/data" KINO_ACCOUNT_ID=$ACCOUNT KINO_API_TOKEN=$TOKEN \
    "$KINO" serve >"$dir/stdout" 2>"$dir/kino.log" &
  SERVER_PID=$!
  URL=$(kino_address "$dir/stdout")
  API="$URL/client/v4/accounts/$ACCOUNT/stream"
}

stop_kino() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

upload() {  # prints the uid
  curl -sf -H "Authorization: Bearer $TOKEN" -F "file=@$1" "$API" | jq -r .result.uid
}

video() {
  curl -sf -H "Authorization: Bearer $TOKEN" "$API/$1" | jq -c .result
}

echo "== making the sources (load $(load))"
ffmpeg -nostdin -y -loglevel error \
  -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=60,noise=alls=12:allf=t" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=60" \
  -c:v libx264 -preset veryfast -crf 23 -maxrate 8M -bufsize 16M -pix_fmt yuv420p -g 60 \
  -c:a aac -b:a 160k -ac 2 \
  "$WORK/source.mkv"
ffmpeg -nostdin -y -loglevel error \
  -f lavfi -i "testsrc2=size=1920x1080:rate=30:duration=10" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=10" \
  -c:v libx264 -preset ultrafast -b:v 1500k -pix_fmt yuv420p -g 60 -c:a aac -b:a 96k -ac 2 \
  "$WORK/ten.mp4"
for _ in $(seq 60); do echo "file '$WORK/ten.mp4'"; done >"$WORK/list.txt"
ffmpeg -nostdin -y -loglevel error -f concat -safe 0 -i "$WORK/list.txt" -c copy "$WORK/long.mp4"
ls -l "$WORK/source.mkv" "$WORK/long.mp4" | awk '{ print $5, $9 }'

echo "== Kino: 60 s 1080p ladder (load $(load))"
start_kino ladder
uid=$(upload "$WORK/source.mkv")
cpu0=$(cpu_seconds "$SERVER_PID")
t0=$(now)
while :; do
  state=$(video "$uid" | jq -r .status.state)
  [ "$state" = ready ] || [ "$state" = error ] && break
  sleep 0.2
done
t1=$(now)
cpu1=$(cpu_seconds "$SERVER_PID")
rss=$(awk '/VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")
[ "$state" = ready ] || { echo "kino: video ended in $state"; exit 1; }
kino_wall=$(echo "$t1 - $t0" | bc -l)
kino_cpu=$(echo "$cpu1 - $cpu0" | bc -l)
curl -sf "$URL/$uid/manifest/video.m3u8" | grep RESOLUTION | sed 's/^/  /'
stop_kino
echo "   (load after: $(load))"

echo "== ffmpeg: the same ladder in one process (load $(load))"
rung() {  # height width maxrate_kbit
  echo "[s$1]scale=w=$2:h=$1:flags=bicubic:out_range=tv,format=yuv420p,setsar=1[o$1]"
}
graph="[0:v]split=5[s1080][s720][s480][s360][s240];$(rung 1080 1920);$(rung 720 1280);$(rung 480 854);$(rung 360 640);$(rung 240 426)"
outputs=()
for spec in 1080:6000 720:3500 480:1800 360:1000 240:500; do
  h=${spec%%:*}; rate=${spec##*:}
  outputs+=(-map "[o$h]" -c:v libx264 -preset veryfast -crf 23 -profile:v high -g 60
    -forced-idr 1 -maxrate "${rate}k" -bufsize "$((2 * rate))k" -an
    -movflags frag_keyframe+empty_moov+default_base_moof -f mp4 "$WORK/ff_$h.mp4")
done
outputs+=(-map 0:a -c:a aac -b:a 128k -ac 2 -vn -movflags frag_keyframe+empty_moov -f mp4 "$WORK/ff_audio.mp4")
/usr/bin/time -f "%e %U %S %M" -o "$WORK/ff_time" \
  ffmpeg -nostdin -y -loglevel error -i "$WORK/source.mkv" -filter_complex "$graph" "${outputs[@]}"
read -r ff_wall ff_user ff_sys ff_rss <"$WORK/ff_time"
ff_cpu=$(echo "$ff_user + $ff_sys" | bc -l)
echo "   (load after: $(load))"

echo "== Kino: copy fast path, 10-minute 1080p upload (load $(load))"
start_kino copy
t0=$(now)
uid=$(upload "$WORK/long.mp4")
t_uploaded=$(now)
while :; do
  ready=$(video "$uid" | jq -r .readyToStream)
  [ "$ready" = true ] && break
  sleep 0.05
done
t_ready=$(now)
upload_s=$(echo "$t_uploaded - $t0" | bc -l)
copy_s=$(echo "$t_ready - $t_uploaded" | bc -l)
stop_kino  # the lower rungs of a 10-minute video are not part of this measurement
echo "   (load after: $(load))"

printf '\n| measure | Kino | ffmpeg program |\n|---|---|---|\n'
printf '| ladder wall time (60 s source) | %.1f s | %.1f s |\n' "$kino_wall" "$ff_wall"
printf '| ladder CPU seconds per video second | %.2f | %.2f |\n' \
  "$(echo "$kino_cpu / 60" | bc -l)" "$(echo "$ff_cpu / 60" | bc -l)"
printf '| ladder wall seconds per video second | %.2f | %.2f |\n' \
  "$(echo "$kino_wall / 60" | bc -l)" "$(echo "$ff_wall / 60" | bc -l)"
printf '| peak RSS during the ladder | %d MB | %d MB |\n' "$((rss / 1024))" "$((ff_rss / 1024))"
printf '| copy path: 10-min 1080p upload (%.1f s to send) to readyToStream | %.2f s | - |\n' \
  "$upload_s" "$copy_s"
