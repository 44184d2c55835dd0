#!/usr/bin/env bash
# deploy/docker/entrypoint.sh: VIDEOGEN_* variables become server flags, the
# container's arguments come last with their quoting, bad combinations are
# refused. A stand-in server prints its argv, one [arg] per line.
set -uo pipefail
entry="$(pwd)/deploy/docker/entrypoint.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/server" <<'SH'
#!/bin/sh
for a in "$@"; do printf '[%s]\n' "$a"; done
SH
chmod +x "$tmp/server"
fails=0
passes=0

# expect NAME WANT_STATUS WANT_OUTPUT -- env assignments... -- args...
run_case() {
  local name="$1" want_status="$2" want="$3"; shift 3
  local envs=() args=()
  [ "$1" = "--" ] && shift
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  args=("$@")
  local got status
  got="$(env -i PATH=/usr/bin:/bin VIDEOGEN_SERVER_BIN="$tmp/server" "${envs[@]}" sh "$entry" "${args[@]}" 2>&1)"
  status=$?
  if [ "$status" != "$want_status" ] || [ "$got" != "$want" ]; then
    echo "FAIL $name: status $status (want $want_status)"
    echo "  got:  $(echo "$got" | tr '\n' ' ')"
    echo "  want: $(echo "$want" | tr '\n' ' ')"
    fails=$((fails + 1))
  else
    passes=$((passes + 1))
  fi
}

run_case defaults 0 "[--listen=0.0.0.0:50051]
[--metrics-listen=0.0.0.0:9090]" --

run_case all_flags 0 "[--listen=127.0.0.1:6000]
[--metrics-listen=127.0.0.1:6001]
[--model-dir=/models/Wan2.1-I2V-14B-480P]
[--devices=cuda:0,cuda:1]
[--placement=dit=cuda:0:fp8,t5=cpu:bf16]
[--max-queue=16]
[--drain-timeout=120]
[--auth-token-file=/etc/videogen/auth/token]
[--tls-cert=/tls/tls.crt]
[--tls-key=/tls/tls.key]
[--tls-client-ca=/tls/ca.crt]" -- \
  VIDEOGEN_LISTEN=127.0.0.1:6000 VIDEOGEN_METRICS_LISTEN=127.0.0.1:6001 \
  VIDEOGEN_MODEL_DIR=/models/Wan2.1-I2V-14B-480P VIDEOGEN_DEVICES=cuda:0,cuda:1 \
  VIDEOGEN_PLACEMENT=dit=cuda:0:fp8,t5=cpu:bf16 VIDEOGEN_MAX_QUEUE=16 VIDEOGEN_DRAIN_TIMEOUT=120 \
  VIDEOGEN_AUTH_TOKEN_FILE=/etc/videogen/auth/token VIDEOGEN_TLS_CERT=/tls/tls.crt \
  VIDEOGEN_TLS_KEY=/tls/tls.key VIDEOGEN_TLS_CLIENT_CA=/tls/ca.crt

run_case empty_means_unset_and_args_last 0 "[--listen=0.0.0.0:50051]
[--metrics-listen=0.0.0.0:9090]
[--model=tiny]
[--max-queue=4]
[two words]
[--x=\$HOME]" -- VIDEOGEN_MODEL=tiny VIDEOGEN_AUTH_TOKEN_FILE= -- --max-queue=4 "two words" '--x=$HOME'

run_case model_and_model_dir 64 "entrypoint: set VIDEOGEN_MODEL or VIDEOGEN_MODEL_DIR, not both" -- \
  VIDEOGEN_MODEL=tiny VIDEOGEN_MODEL_DIR=/models/x
run_case cert_without_key 64 "entrypoint: VIDEOGEN_TLS_CERT and VIDEOGEN_TLS_KEY go together" -- VIDEOGEN_TLS_CERT=/c
run_case key_without_cert 64 "entrypoint: VIDEOGEN_TLS_CERT and VIDEOGEN_TLS_KEY go together" -- VIDEOGEN_TLS_KEY=/k

# healthcheck.sh: the CLI's health command on the port of VIDEOGEN_LISTEN.
for case in "0.0.0.0:7000|[--server]
[127.0.0.1:7000]
[health]" "|[--server]
[127.0.0.1:50051]
[health]"; do
  listen="${case%%|*}" want="${case#*|}"
  got="$(env -i PATH=/usr/bin:/bin VIDEOGEN_CLI_BIN="$tmp/server" ${listen:+VIDEOGEN_LISTEN=$listen} sh deploy/docker/healthcheck.sh 2>&1)"
  if [ "$got" = "$want" ]; then passes=$((passes + 1)); else
    echo "FAIL healthcheck (VIDEOGEN_LISTEN=$listen): got $(echo "$got" | tr '\n' ' ')"; fails=$((fails + 1)); fi
done

echo "entrypoint: $passes passed, $fails failed"
[ "$fails" = 0 ]
