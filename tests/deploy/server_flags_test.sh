#!/usr/bin/env bash
# The deployment's flags against the real videogen-server:
#  1. every flag deploy/docker/entrypoint.sh can emit is one the server lists
#     in --help (flags the server has not wired yet are listed as PENDING and
#     reported; a pending flag that appears must leave the list);
#  2. the entrypoint starts the server with the cpu-demo overlay's rendered
#     ConfigMap (the embedded tiny model; only the listen addresses moved to
#     loopback), the server comes up, and exits 0 after SIGTERM (drain);
#  3. with CLI_BIN: the image's healthcheck (deploy/docker/healthcheck.sh, the
#     CLI's health command) exits 0 once the server is SERVING and non-zero
#     when nothing listens.
# Usage (from the repository root): server_flags_test.sh SERVER_BIN [CLI_BIN]
set -euo pipefail
server="${1:?usage: server_flags_test.sh SERVER_BIN [CLI_BIN]}"
cli="${2:-}"
PENDING=()   # flags the entrypoint maps before the server has them (none now)
tmp="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0

help="$("$server" --help)"
flags=$(grep -o '"--[a-z-]*:' deploy/docker/entrypoint.sh | tr -d '":')
for f in $flags; do
  listed=0
  grep -qE -- "(^|[ ,])$f([ =]|$)" <<<"$help" && listed=1
  pending=0
  for p in "${PENDING[@]}"; do [ "$p" = "$f" ] && pending=1; done
  if [ $pending = 1 ] && [ $listed = 1 ]; then
    echo "FAIL: $f is now a server flag: remove it from PENDING"; fails=$((fails + 1))
  elif [ $pending = 1 ]; then
    echo "pending: $f (the entrypoint maps it; the server does not list it yet)"
  elif [ $listed = 0 ]; then
    echo "FAIL: the entrypoint emits $f, which videogen-server --help does not list"; fails=$((fails + 1))
  fi
done

# Start through the entrypoint with the cpu-demo overlay's ConfigMap.
kubectl kustomize deploy/k8s/overlays/cpu-demo >"$tmp/cpu-demo.yaml"
node -e '
  const YAML = require("yaml");
  const docs = YAML.parseAllDocuments(require("fs").readFileSync(process.argv[1], "utf8")).map((d) => d.toJS());
  const cm = docs.find((d) => d.kind === "ConfigMap" && d.metadata.name.startsWith("videogen-config"));
  for (const [k, v] of Object.entries(cm.data)) console.log(`${k}=${v}`);
' "$tmp/cpu-demo.yaml" >"$tmp/cpu-demo.env"
env_args=()
while IFS= read -r line; do env_args+=("$line"); done <"$tmp/cpu-demo.env"
echo "cpu-demo config: ${env_args[*]}"
# The log exists before the server starts: the background job opens its
# redirect only once forked, and tail below could otherwise run first, find no
# file and give up (seen once in 2026-12-05's runs).
: >"$tmp/log"
env -i PATH=/usr/bin:/bin "${env_args[@]}" VIDEOGEN_SERVER_BIN="$server" \
  VIDEOGEN_LISTEN=127.0.0.1:0 VIDEOGEN_METRICS_LISTEN=127.0.0.1:0 \
  sh deploy/docker/entrypoint.sh >>"$tmp/log" 2>&1 &
pid=$!
# Blocks on the log until the server says it listens (or exits, or 60 s pass).
if ! timeout 60 grep -q -m1 'listening on' <(tail -n +1 --pid="$pid" -f "$tmp/log"); then
  echo "FAIL: the server did not start through the entrypoint:"; cat "$tmp/log"; fails=$((fails + 1))
else
  port=$(sed -n 's/^videogen-server: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/log")
  if [ -n "$cli" ]; then
    # Wait for SERVING through grpc.health.v1 Watch (server-pushed), then probe.
    /usr/bin/python3 - "127.0.0.1:$port" <<'PY' || { echo "FAIL: server never SERVING"; fails=$((fails + 1)); }
import sys, grpc
watch = grpc.insecure_channel(sys.argv[1]).unary_stream(
    "/grpc.health.v1.Health/Watch", request_serializer=lambda b: b, response_deserializer=lambda b: b)
sys.exit(0 if any(r == b"\x08\x01" for r in watch(b"", timeout=60)) else 1)
PY
    if ! VIDEOGEN_CLI_BIN="$cli" VIDEOGEN_LISTEN="0.0.0.0:$port" sh deploy/docker/healthcheck.sh; then
      echo "FAIL: healthcheck.sh did not exit 0 against a SERVING server"; fails=$((fails + 1))
    fi
  fi
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  pid=""
  if [ $status != 0 ]; then echo "FAIL: exit status $status after SIGTERM:"; cat "$tmp/log"; fails=$((fails + 1)); fi
fi
if [ -n "$cli" ] && [ -n "${port:-}" ]; then
  # The server has exited: nothing listens on its port any more.
  if VIDEOGEN_CLI_BIN="$cli" VIDEOGEN_LISTEN="0.0.0.0:$port" sh deploy/docker/healthcheck.sh 2>/dev/null; then
    echo "FAIL: healthcheck.sh exited 0 with no server"; fails=$((fails + 1))
  fi
fi
echo "server_flags: $((fails == 0 ? 1 : 0)) passed, $((fails == 0 ? 0 : 1)) failed"
[ $fails = 0 ]
