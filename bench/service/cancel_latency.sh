#!/usr/bin/env bash
# CancelJob latency per stage through the real videogen-server with the tiny
# i2v model (--model tiny) at issue #15's shape: a 256x256 image, 33 frames.
# For each stage, a job is submitted with `videogen --json generate`; when
# its first progress event of that stage arrives, `videogen cancel` is run
# and the time from just before that CancelJob to the end of the generate
# stream (the CLI's exit) is printed, with the message the job ended with
# (it names the block the cancel stopped in). Not a test: figures only.
#
# usage: bench/service/cancel_latency.sh [BUILD_DIR]   (RUNS=3 STEPS=8 by default)
set -euo pipefail
build=${1:-build}
runs=${RUNS:-3}
steps=${STEPS:-8}
tmp=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
now() { date +%s.%N; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); nproc $(nproc); git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
ffmpeg -v error -f lavfi -i testsrc2=s=256x256 -frames:v 1 -y "$tmp/image.png" </dev/null
"$build/bin/videogen-server" --model tiny --devices cpu --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
  --state-dir none >"$tmp/server.log" 2>&1 &
server=$!
addr=""
while kill -0 "$server" 2>/dev/null; do
  if grep -q "event=worker_ready" "$tmp/server.log"; then
    addr=$(sed -n 's/^videogen-server: listening on \(.*\)$/\1/p' "$tmp/server.log" | head -1)
    [ -n "$addr" ] && break
  fi
  sleep 0.2  # poll the log
done
[ -n "$addr" ] || { echo "server did not become ready" >&2; tail -20 "$tmp/server.log" >&2; exit 1; }
cli() { "$build/bin/videogen" --server "$addr" "$@"; }

for stage in image_encoding text_encoding denoising vae_decoding; do
  for run in $(seq 1 "$runs"); do
    out="$tmp/$stage-$run.jsonl"
    cli --json generate -p "a red fox running through fresh snow, cinematic" -i "$tmp/image.png" --size 256x256 \
      --frames 33 --steps "$steps" -o "$tmp/out.mp4" >"$out" 2>"$tmp/cli.err" &
    gen=$!
    job=""
    while kill -0 "$gen" 2>/dev/null; do
      if grep -q "\"stage\":\"$stage\"" "$out"; then
        job=$(sed -n 's/.*"job_id":"\([^"]*\)".*/\1/p' "$out" | head -1)
        break
      fi
      sleep 0.005  # poll the CLI's output
    done
    if [ -z "$job" ]; then
      wait "$gen" || true
      echo "$stage run $run: the job ended before a $stage event"
      continue
    fi
    t0=$(now)
    cli cancel "$job" >/dev/null
    t_cancel=$(now)
    code=0
    wait "$gen" || code=$?
    t1=$(now)
    message=$(grep -o '"message":"[^"]*"' "$out" | tail -1 || true)
    printf '%s run %s: CancelJob -> end of stream %.3f s (CancelJob answered %.3f s), exit %s, %s\n' \
      "$stage" "$run" "$(echo "$t1 - $t0" | bc)" "$(echo "$t_cancel - $t0" | bc)" "$code" "${message:-no message}"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
