#!/usr/bin/env bash
# Renders deploy/k8s/base, every overlay and deploy/grafana (the dashboard
# ConfigMap) with `kubectl kustomize` (offline)
# and validates the result (validate_k8s.js: Kubernetes and CRD schemas,
# unknown fields, the deployment contract). Also checks that the
# PrometheusRule carries exactly the groups of deploy/prometheus/rules.
# Run from the repository root with NODE_PATH set (see CMakeLists.txt).
set -euo pipefail
command -v kubectl >/dev/null || { echo "kubectl not found (needed for 'kubectl kustomize')" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
for overlay in base cpu-demo gpu fleet; do
  dir=deploy/k8s/overlays/$overlay
  [ "$overlay" = base ] && dir=deploy/k8s/base
  if ! kubectl kustomize "$dir" >"$tmp/$overlay.yaml"; then
    echo "FAIL: kubectl kustomize $dir" >&2
    status=1
    continue
  fi
  node tests/deploy/validate_k8s.js "$tmp/$overlay.yaml" "$overlay" || status=1
  node tests/deploy/observability.js sync-k8s --rules deploy/prometheus/rules/videogen-alerts.yml \
    --rendered "$tmp/$overlay.yaml" || status=1
done
# The dashboard ConfigMap for Grafana's sidecar.
if kubectl kustomize deploy/grafana >"$tmp/grafana.yaml"; then
  node tests/deploy/validate_k8s.js "$tmp/grafana.yaml" grafana || status=1
else
  echo "FAIL: kubectl kustomize deploy/grafana" >&2
  status=1
fi
[ $status = 0 ] && echo "k8s_test: ok"
exit $status
