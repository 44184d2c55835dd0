#!/usr/bin/env bash
# The Dockerfile lints clean with dockerfile-utils (errors AND warnings fail),
# meets the image contract (check_dockerfile.js), and the scripts it installs
# parse; .dockerignore keeps the build context small.
# Run from the repository root with NODE_PATH set (see CMakeLists.txt).
set -euo pipefail
lint="$NODE_PATH/.bin/dockerfile-utils"
[ -x "$lint" ] || { echo "dockerfile-utils not installed under $NODE_PATH" >&2; exit 1; }
out="$("$lint" lint Dockerfile 2>&1)" || true
if [ -n "$out" ]; then
  echo "FAIL: dockerfile-utils lint Dockerfile:" >&2
  echo "$out" >&2
  exit 1
fi
node tests/deploy/check_dockerfile.js Dockerfile
for s in deploy/docker/*.sh; do
  sh -n "$s" || { echo "FAIL: $s does not parse" >&2; exit 1; }
done
for pattern in '.git' 'build*' 'node_modules'; do
  grep -qxF -- "$pattern" .dockerignore || { echo "FAIL: .dockerignore lacks '$pattern'" >&2; exit 1; }
done
echo "dockerfile_test: ok"
