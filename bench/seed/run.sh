#!/usr/bin/env bash
# The seed case (issue #10): Wan2.1-I2V-14B-480P -- its real geometry in the
# official layout and file formats, data as file holes (videogen-make-sparse
# --model i2v-14b: ~74 GB apparent, ~4 MB on disk) -- served by
# `videogen-server --model-dir DIR --devices cpu` with default memory settings
# on this machine, then one small i2v request through the 14B-sized DiT, the
# XXL T5, CLIP and the VAE.
# Prints: the plan and admitted limits (ListModels), load time to SERVING,
# peak RSS (VmHWM) after loading and after the request against the planned
# host peak, request time, and ffprobe of the returned video. Fails (exit 1)
# when the server does not reach SERVING, the request fails, the video does
# not decode, or VmHWM exceeds the planned host peak + 1 GiB.
# Run it with no compile running (memory): e.g.
#   flock /tmp/videogen-build.lock flock /tmp/videogen-build2.lock bench/seed/run.sh
# Usage: bench/seed/run.sh [BUILD_DIR] [MODEL_DIR] [STEPS]
#   MODEL_DIR (default /tmp/videogen-seed-i2v-14b) is written when absent and kept.
set -euo pipefail
build=${1:-build}
model=${2:-/tmp/videogen-seed-i2v-14b}
steps=${3:-1}
tmp=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill -9 "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT  # a timeout must not leave a 20 GiB server behind
if [ ! -f "$model/config.json" ]; then
  "$build/bin/videogen-make-sparse" "$model" --model i2v-14b
fi
echo "model: $model ($(du -sh --apparent-size "$model" | cut -f1) apparent, $(du -sh "$model" | cut -f1) on disk)"
grep -E "MemTotal|MemAvailable" /proc/meminfo
date -u +"start %H:%M:%S UTC"

t0=$(date +%s.%N)
"$build/bin/videogen-server" --model-dir "$model" --devices cpu --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
  --state-dir none >"$tmp/server.log" 2>&1 &
server=$!
addr=""
while kill -0 "$server" 2>/dev/null; do  # the server prints its bound address once serving
  addr=$(sed -n 's/^videogen-server: listening on \(.*\)$/\1/p' "$tmp/server.log" | head -1)
  [ -n "$addr" ] && break
  sleep 0.5
done
[ -n "$addr" ] || { echo "server did not start:" >&2; cat "$tmp/server.log" >&2; exit 1; }
"$build/bin/videogen" --server "$addr" --timeout 1800 health --wait >/dev/null
t1=$(date +%s.%N)
hwm_load=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
t_listen=$(sed -n 's/^ts=\([^ ]*\) event=worker_warmup_started.*/\1/p' "$tmp/server.log" | head -1)
echo "listening (loaded, warm-up started) at $t_listen; SERVING (after the warm-up: 1 frame, 1 step, default size)" \
  "after $(echo "$t1 - $t0" | bc) s from start; VmHWM after load + warm-up $((hwm_load / 1024)) MiB"
"$build/bin/videogen" --server "$addr" models | tee "$tmp/models.txt"
"$build/bin/videogen" --server "$addr" --json models >"$tmp/models.json"
# The plan's host peak and the admitted limits, from ListModels.
read -r peak_host max_frames max_area < <(python3 - "$tmp/models.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    for m in j.get("models", [j]):
        plan = m.get("plan", {})
        peaks = plan.get("predicted_peak_bytes") or plan.get("predicted_peak") or {}
        host = peaks.get("cpu", 0) if isinstance(peaks, dict) else 0
        adm = m.get("admitted", {})
        print(int(host), adm.get("max_frames", 0), adm.get("max_area", 0))
        sys.exit(0)
PY
)
echo "planned host peak $((peak_host / 1048576)) MiB; admitted: $max_frames frames at the default size, max_area $max_area"

# The smallest admitted request: 1 frame at 1/8 of 832x480 per side, 1-2 steps.
ffmpeg -loglevel error -f lavfi -i testsrc=size=832x480 -frames:v 1 "$tmp/image.png"
t2=$(date +%s.%N)
"$build/bin/videogen" --server "$addr" -q generate --image "$tmp/image.png" --prompt "a lighthouse at dusk" \
  --max-area $((112 * 64)) --frames 1 --steps "$steps" --seed 1 -o "$tmp/out.mp4" | tee "$tmp/generate.txt"
t3=$(date +%s.%N)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
echo "request: $(echo "$t3 - $t2" | bc) s; VmHWM after the request $((hwm / 1024)) MiB"
ffprobe -v error -show_entries stream=codec_name,width,height,nb_frames -of compact "$tmp/out.mp4"
limit=$((peak_host / 1024 + 1048576))
if [ "$peak_host" -gt 0 ] && [ "$hwm" -gt "$limit" ]; then
  echo "FAIL: VmHWM $((hwm / 1024)) MiB > planned host peak + 1 GiB ($((limit / 1024)) MiB)" >&2
  exit 1
fi
echo "OK: VmHWM within the planned host peak + 1 GiB"
