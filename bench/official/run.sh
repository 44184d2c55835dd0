#!/usr/bin/env bash
# Ours and the official Wan2.1 modules side by side, one part at a time, in one
# session (the machine's speed drifts between sessions): bench_t5 next to
# wan21.py's t5, bench_vae next to its decode / encode, same shapes, threads and
# BLAS kernel set (videogen-blas-check --select's choice, exported for both).
# Usage: bench/official/run.sh WAN_REPO [--build DIR] [--size WxH] [--layers N] [--conv-dtype bf16] PART...
#   WAN_REPO: a checkout of github.com/Wan-Video/Wan2.1 (wan/modules/ is enough)
#   PART: t5 | decode | encode (default: t5 decode); each runs ours, then the official
#   --size (VAE, default 832x480), --layers (T5 encoder layers, default 24),
#   --conv-dtype (ours: bench_vae's, default fp32; the official VAE is float32)
# Needs Debian's python3-torch (apt-get install python3-torch; not in scripts/bootstrap).
# Run it with nothing else running. BLIS threads: ours sets BLIS_NUM_THREADS to its
# thread count; the official's BLIS runs one thread unless BLIS_NUM_THREADS is
# exported, as PyTorch never sets it (export BLIS_NUM_THREADS=N to give both N).
set -euo pipefail
case "${1:-}" in
  "") sed -n '2,14p' "$0"; exit 2 ;;
  -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
esac
repo=$1
shift
build=build size=832x480 layers=24 conv=fp32 parts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --layers) layers=$2; shift 2 ;;
    --conv-dtype) conv=$2; shift 2 ;;
    t5 | decode | encode) parts+=("$1"); shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#parts[@]} -gt 0 ] || parts=(t5 decode)
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${BLIS_ARCH_TYPE:-}" ]; then
  arch=$("$build/bin/videogen-blas-check" --select --print-value)
  if [ -n "$arch" ]; then export BLIS_ARCH_TYPE=$arch; fi
fi
echo "BLIS_ARCH_TYPE=${BLIS_ARCH_TYPE:-(unset)}; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for part in "${parts[@]}"; do
  case "$part" in
    t5)
      "$build/bin/bench_t5" --layers "$layers"
      /usr/bin/python3 "$here/wan21.py" --wan-repo "$repo" --parts t5 --layers "$layers"
      ;;
    decode | encode)
      "$build/bin/bench_vae" --parts "$part" --size "$size" --repeats 0 --conv-dtype "$conv"
      /usr/bin/python3 "$here/wan21.py" --wan-repo "$repo" --parts "$part" --size "$size"
      ;;
  esac
done
