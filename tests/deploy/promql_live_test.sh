#!/usr/bin/env bash
# Live acceptance for deploy/grafana and deploy/prometheus: a real
# videogen-server and a real Prometheus (Debian package) on loopback.
#   1. start SERVER_BIN on free loopback ports (extra arguments are passed on,
#      e.g. --model tiny), run one job through gRPC (live_job.py);
#   2. start prometheus with deploy/prometheus/prometheus.yml rendered to scrape
#      only that server every second (observability.js render-config);
#   3. poll until Prometheus has scraped the server twice after the job;
#   4. evaluate every expression of the dashboard and the rule files through
#      the HTTP API: each must parse and evaluate; panels must return data.
# Usage (from the repository root, NODE_PATH set; see CMakeLists.txt):
#   promql_live_test.sh [--make-tiny MAKE_TINY_BIN] SERVER_BIN [SERVER_ARGS...]
# --make-tiny writes a tiny real-weights model with videogen-make-tiny into a
# temporary directory and passes --model-dir DIR to the server.
# Or against a server you started yourself:
#   promql_live_test.sh --metrics HOST:PORT [--grpc HOST:PORT]
set -euo pipefail
for tool in prometheus node protoc /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "promql_live_test: '$tool' not found" >&2; exit 1; }
done
here="tests/deploy"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

grpc_addr="" metrics_addr="" server_pid=0
if [ "${1:-}" = "--metrics" ]; then
  metrics_addr="${2:?--metrics HOST:PORT}"
  [ "${3:-}" = "--grpc" ] && grpc_addr="${4:?--grpc HOST:PORT}"
else
  make_tiny=""
  if [ "${1:-}" = "--make-tiny" ]; then make_tiny="${2:?--make-tiny MAKE_TINY_BIN}"; shift 2; fi
  server="${1:?usage: promql_live_test.sh [--make-tiny MAKE_TINY_BIN] SERVER_BIN [SERVER_ARGS...]}"
  shift
  if [ -n "$make_tiny" ]; then
    "$make_tiny" "$tmp/model" --type t2v
    set -- --model-dir "$tmp/model" "$@"
  fi
  grpc_addr="127.0.0.1:$(free_port)"
  metrics_addr="127.0.0.1:$(free_port)"
  "$server" --listen "$grpc_addr" --metrics-listen "$metrics_addr" "$@" >"$tmp/server.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  echo "promql_live_test: server pid $server_pid grpc $grpc_addr metrics $metrics_addr"
fi

prom_addr="127.0.0.1:$(free_port)"
node "$here/observability.js" render-config --config deploy/prometheus/prometheus.yml \
  --target "$metrics_addr" --scrape-interval 1s --out "$tmp/prom"
prometheus --config.file="$tmp/prom/prometheus.yml" --storage.tsdb.path="$tmp/prom/data" \
  --web.listen-address="$prom_addr" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
pids+=("$!")
prom="http://$prom_addr"
node "$here/promql_live.js" wait-ready --prom "$prom" --timeout 60 || { cat "$tmp/prometheus.log" >&2; exit 1; }
# The first scrape: the server's metrics endpoint is up and scraped.
node "$here/promql_live.js" wait-scrapes --prom "$prom" --after 0 --count 1 --timeout 120 --pid "$server_pid" || {
  echo "--- server log" >&2; cat "$tmp/server.log" >&2 2>/dev/null || true; exit 1; }

if [ -n "$grpc_addr" ]; then
  /usr/bin/python3 "$here/live_job.py" --server "$grpc_addr" --gen-dir "$tmp" \
    --image scripts/assets/example.png --timeout 300 || {
    echo "--- server log" >&2; tail -n 50 "$tmp/server.log" >&2 2>/dev/null || true; exit 1; }
fi
job_done_ms=$(($(date +%s%N) / 1000000))
# Two scrapes after the job, so that rate()/increase() see its counters move.
node "$here/promql_live.js" wait-scrapes --prom "$prom" --after "$job_done_ms" --count 2 --timeout 60 --pid "$server_pid"

node "$here/promql_live.js" query-all --prom "$prom" --rate-interval 1m \
  --dashboard deploy/grafana/dashboards/videogen.json --rules deploy/prometheus/rules/*.yml
