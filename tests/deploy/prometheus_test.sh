#!/usr/bin/env bash
# Offline checks of deploy/prometheus and deploy/grafana:
#   promtool check config / check rules / test rules; the dashboard's structure
#   and the metric and label names of every expression (observability.js);
#   every dashboard query parsed by promtool (emitted as recording rules).
# Run from the repository root with NODE_PATH set (see CMakeLists.txt).
set -euo pipefail
command -v promtool >/dev/null || { echo "promtool not found (Debian package: prometheus)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rules=(deploy/prometheus/rules/*.yml)

promtool check config deploy/prometheus/prometheus.yml
promtool check rules "${rules[@]}"
for t in deploy/prometheus/tests/*.test.yml; do
  promtool test rules "$t"
done
node tests/deploy/observability.js check --dashboard deploy/grafana/dashboards/videogen.json \
  --rules "${rules[@]}" --emit-rules "$tmp/dashboard-queries.yml"
promtool check rules "$tmp/dashboard-queries.yml"
echo "prometheus_test: ok"
