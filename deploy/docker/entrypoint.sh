#!/bin/sh
# Container entrypoint: turns VIDEOGEN_* environment variables into
# videogen-server flags, then execs the server (PID 1 gets SIGTERM and drains).
# Arguments given to the container are appended after the flags.
#
#   VIDEOGEN_LISTEN          --listen           (default 0.0.0.0:50051)
#   VIDEOGEN_METRICS_LISTEN  --metrics-listen   (default 0.0.0.0:9090)
#   VIDEOGEN_MODEL           --model            (e.g. tiny)
#   VIDEOGEN_MODEL_DIR       --model-dir        (e.g. /models/Wan2.1-I2V-14B-480P)
#   VIDEOGEN_DEVICES         --devices          (cpu | cuda:0,cuda:1,...)
#   VIDEOGEN_PLACEMENT       --placement        (dit=cuda:0:fp8,t5=cpu:bf16,...)
#   VIDEOGEN_MAX_QUEUE       --max-queue
#   VIDEOGEN_DRAIN_TIMEOUT   --drain-timeout
#   VIDEOGEN_AUTH_TOKEN_FILE --auth-token-file
#   VIDEOGEN_TLS_CERT        --tls-cert
#   VIDEOGEN_TLS_KEY         --tls-key
#   VIDEOGEN_TLS_CLIENT_CA   --tls-client-ca
# Unset or empty variables add no flag (the server's default applies).
# VIDEOGEN_STATE_DIR (the images: /var/lib/videogen, a volume) is read by the
# server itself as the default of --state-dir (durable jobs).
# VIDEOGEN_MODEL and VIDEOGEN_MODEL_DIR are exclusive; with neither, the
# server's default model is used. VIDEOGEN_SERVER_BIN overrides the binary (tests).
set -eu

server="${VIDEOGEN_SERVER_BIN:-/opt/videogen/bin/videogen-server}"

if [ -n "${VIDEOGEN_MODEL:-}" ] && [ -n "${VIDEOGEN_MODEL_DIR:-}" ]; then
  echo "entrypoint: set VIDEOGEN_MODEL or VIDEOGEN_MODEL_DIR, not both" >&2
  exit 64
fi
if [ -n "${VIDEOGEN_TLS_CERT:-}${VIDEOGEN_TLS_KEY:-}" ] &&
   { [ -z "${VIDEOGEN_TLS_CERT:-}" ] || [ -z "${VIDEOGEN_TLS_KEY:-}" ]; }; then
  echo "entrypoint: VIDEOGEN_TLS_CERT and VIDEOGEN_TLS_KEY go together" >&2
  exit 64
fi

# Flags are prepended in reverse so that "$@" (the container's arguments)
# stays last and keeps its quoting.
add() { # add FLAG VALUE: prepend FLAG=VALUE when VALUE is not empty
  if [ -n "$2" ]; then
    set_args="$1=$2"
    return 0
  fi
  set_args=""
}

for pair in \
  "--tls-client-ca:${VIDEOGEN_TLS_CLIENT_CA:-}" \
  "--tls-key:${VIDEOGEN_TLS_KEY:-}" \
  "--tls-cert:${VIDEOGEN_TLS_CERT:-}" \
  "--auth-token-file:${VIDEOGEN_AUTH_TOKEN_FILE:-}" \
  "--drain-timeout:${VIDEOGEN_DRAIN_TIMEOUT:-}" \
  "--max-queue:${VIDEOGEN_MAX_QUEUE:-}" \
  "--placement:${VIDEOGEN_PLACEMENT:-}" \
  "--devices:${VIDEOGEN_DEVICES:-}" \
  "--model-dir:${VIDEOGEN_MODEL_DIR:-}" \
  "--model:${VIDEOGEN_MODEL:-}" \
  "--metrics-listen:${VIDEOGEN_METRICS_LISTEN:-0.0.0.0:9090}" \
  "--listen:${VIDEOGEN_LISTEN:-0.0.0.0:50051}"; do
  add "${pair%%:*}" "${pair#*:}"
  if [ -n "$set_args" ]; then
    set -- "$set_args" "$@"
  fi
done

# BLIS kernel set: measured here, at container start, on the machine that runs
# the server (an image is built once and runs on other CPUs), in a few tens of
# seconds; cached in $VIDEOGEN_CACHE_DIR (mount a volume there to measure once
# per node). The server applies the cached choice and logs it. An explicit
# BLIS_ARCH_TYPE wins; VIDEOGEN_BLAS_SELECT=0 skips the measurement.
blas_check="${VIDEOGEN_BLAS_CHECK_BIN:-/opt/videogen/bin/videogen-blas-check}"
if [ -z "${BLIS_ARCH_TYPE:-}" ] && [ "${VIDEOGEN_BLAS_SELECT:-1}" != 0 ] && [ -x "$blas_check" ]; then
  "$blas_check" --select >&2 || echo "entrypoint: BLAS kernel selection failed; BLIS picks its own" >&2
fi

exec "$server" "$@"
