#!/usr/bin/env bash
# The seed case (issue #10): Wan2.1-I2V-14B-480P -- its real geometry in the
# official layout and file formats, data as file holes (videogen-make-sparse
# --model i2v-14b: ~74 GB apparent, ~4 MB on disk) -- served by
# `videogen-server --model-dir DIR --devices cpu` with default memory settings
# on this machine, then one small i2v request through the 14B-sized DiT, the
# XXL T5, CLIP and the VAE.
# Prints: the plan and admitted limits (ListModels), load time (start to the
# warm-up), warm-up time, time to SERVING, peak RSS (VmHWM) after loading,
# after the warm-up and after the request against the planned host peak, the
# request's time and stage timings, and ffprobe of the returned video. Fails
# (exit 1) when the server does not reach SERVING, the request fails, the
# video does not decode, or VmHWM exceeds the planned host peak + 1 GiB.
# The binaries are copied to a private directory first (rebuilds during the
# run do not change them). Run it with no compile running (memory), with a
# time limit; the server is killed on any exit:
#   flock /tmp/videogen-build.lock flock /tmp/videogen-build2.lock timeout 45m bench/seed/run.sh
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
mkdir "$tmp/bin"
for b in videogen-server videogen videogen-make-sparse; do cp "$build/bin/$b" "$tmp/bin/"; done
bin=$tmp/bin
if [ ! -f "$model/config.json" ]; then
  "$bin/videogen-make-sparse" "$model" --model i2v-14b
fi
echo "model: $model ($(du -sh --apparent-size "$model" | cut -f1) apparent, $(du -sh "$model" | cut -f1) on disk)"
grep -E "MemTotal|MemAvailable" /proc/meminfo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
date -u +"start %H:%M:%S UTC"

hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$server/status"; }
now() { date +%s.%N; }
t0=$(now)
: >"$tmp/server.log"
"$bin/videogen-server" --model-dir "$model" --devices cpu --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
  --state-dir none >>"$tmp/server.log" 2>&1 &
server=$!
# Loading ends when the warm-up starts; the warm-up ends with worker_ready.
t_load="" t_ready="" hwm_load=0 addr=""
while kill -0 "$server" 2>/dev/null; do
  if [ -z "$t_load" ] && grep -q "event=worker_warmup_started" "$tmp/server.log"; then
    t_load=$(now); hwm_load=$(hwm_kib)
    echo "loaded after $(echo "$t_load - $t0" | bc) s; VmHWM $((hwm_load / 1024)) MiB; warm-up started"
  fi
  if grep -q "event=worker_warmup_failed" "$tmp/server.log"; then break; fi
  if grep -q "event=worker_ready" "$tmp/server.log"; then
    [ -n "$t_ready" ] || t_ready=$(now)
    addr=$(sed -n 's/^videogen-server: listening on \(.*\)$/\1/p' "$tmp/server.log" | head -1)
    [ -n "$addr" ] && break
  fi
  sleep 1
done
if [ -z "$t_ready" ] || [ -z "$addr" ]; then
  echo "server did not become ready:" >&2; tail -20 "$tmp/server.log" >&2; exit 1
fi
"$bin/videogen" --server "$addr" --timeout 1800 health --wait >/dev/null
t1=$(now)
hwm_warm=$(hwm_kib)
echo "warm-up (1 frame, 1 step, 64x64): $(echo "$t_ready - ${t_load:-$t0}" | bc) s; SERVING $(echo "$t1 - $t0" | bc) s" \
  "after start; VmHWM after load + warm-up $((hwm_warm / 1024)) MiB"
"$bin/videogen" --server "$addr" models | tee "$tmp/models.txt"
"$bin/videogen" --server "$addr" --json models >"$tmp/models.json"
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
t2=$(now)
"$bin/videogen" --server "$addr" --json generate --image "$tmp/image.png" --prompt "a lighthouse at dusk" \
  --max-area $((112 * 64)) --frames 1 --steps "$steps" --seed 1 -o "$tmp/out.mp4" >"$tmp/generate.jsonl"
t3=$(now)
hwm=$(hwm_kib)
echo "request (max_area 7168, 1 frame, $steps step(s), CFG): $(echo "$t3 - $t2" | bc) s;" \
  "VmHWM after the request $((hwm / 1024)) MiB"
python3 - "$tmp/generate.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        j = json.loads(line)
    except ValueError:
        continue
    t = j.get("timings_s")
    if t:
        print("stage timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()))
        break
PY
ffprobe -v error -count_frames -show_entries stream=codec_name,width,height,nb_read_frames -of compact "$tmp/out.mp4"
grep -E "event=job_(started|finished)" "$tmp/server.log" || true
limit=$((peak_host / 1024 + 1048576))
if [ "$peak_host" -gt 0 ] && [ "$hwm" -gt "$limit" ]; then
  echo "FAIL: VmHWM $((hwm / 1024)) MiB > planned host peak + 1 GiB ($((limit / 1024)) MiB)" >&2
  exit 1
fi
echo "OK: SERVING, the request's video decodes, VmHWM within the planned host peak + 1 GiB"
