#!/usr/bin/env bash
# Few-step sampling against the default schedule, side by side in one run, on
# the embedded tiny model through the real server and CLI:
#   A: --steps 40 with classifier-free guidance (2 DiT forwards per step)
#   B: --timesteps 1000,750,500,250 --guidance 1 (step-distill, 1 forward per step)
# Prints the DiT forwards of each job and the medians of its denoising and whole
# job time over ROUNDS interleaved rounds (default 3), and the ratios.
# Usage: bench/pipeline/few_step.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
build=${1:-build}
rounds=${2:-3}
tmp=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$build/bin/videogen-server" --model tiny-t2v --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
  >"$tmp/server.log" 2>&1 &
server=$!
addr=""
while kill -0 "$server" 2>/dev/null; do  # the server prints its bound address
  addr=$(sed -n 's/^videogen-server: listening on \(.*\)$/\1/p' "$tmp/server.log" | head -1)
  [ -n "$addr" ] && break
  sleep 0.2
done
[ -n "$addr" ] || { echo "server did not start:" >&2; cat "$tmp/server.log" >&2; exit 1; }
"$build/bin/videogen" --server "$addr" --timeout 300 health --wait >/dev/null

run() {  # $1: label, rest: generate flags; appends "label denoise_s total_s steps" to $tmp/results
  local label=$1; shift
  "$build/bin/videogen" --server "$addr" --json generate --model tiny-t2v --prompt "waves at dusk" --size 64x64 \
    --frames 5 --seed 1 -o "$tmp/$label.mp4" "$@" >"$tmp/$label.json"
  python3 - "$label" "$tmp/$label.json" >>"$tmp/results" <<'PY'
import json, sys
steps = 0
for line in open(sys.argv[2]):
    e = json.loads(line)
    if e.get("type") == "progress" and e.get("stage") == "denoising":
        steps = e["total_steps"]
    if e.get("type") == "completed":
        t = e["timings_s"]
        print(sys.argv[1], t.get("denoising", 0), sum(t.values()), steps)
PY
}
for _ in $(seq "$rounds"); do
  run cfg40 --steps 40 --guidance 5
  run distill4 --timesteps 1000,750,500,250 --guidance 1 --shift 5
done
python3 - "$tmp/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def med(label, col):
    return statistics.median(float(r[col]) for r in rows if r[0] == label)
steps = {r[0]: int(r[3]) for r in rows}
fwd = {"cfg40": 2 * steps["cfg40"], "distill4": steps["distill4"]}
for label in ("cfg40", "distill4"):
    print(f"{label:9s} steps {steps[label]:3d}  DiT forwards {fwd[label]:3d}  denoise {med(label, 1):.3f} s  job {med(label, 2):.3f} s")
print(f"forwards ratio {fwd['cfg40'] / fwd['distill4']:.1f}x, denoise time ratio {med('cfg40', 1) / med('distill4', 1):.1f}x, "
      f"job time ratio {med('cfg40', 2) / med('distill4', 2):.2f}x")
PY
