#!/usr/bin/env bash
# Test set-up: installs the npm packages pinned by tests/deploy/package-lock.json
# (schemas, YAML parser, TypeScript, Dockerfile linter) into DEST/node_modules,
# with the npm cache in DEST/.npm-cache. Skips the install when DEST already
# holds exactly this lock file's packages. Needs node and npm (Debian: nodejs).
#   setup_node_tools.sh DEST
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:?usage: setup_node_tools.sh DEST}"
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "setup_node_tools: '$tool' not found (install nodejs)" >&2; exit 1; }
done
mkdir -p "$dest"
if [ -d "$dest/node_modules" ] && cmp -s "$here/package-lock.json" "$dest/installed.lock.json"; then
  echo "setup_node_tools: $dest is up to date"
  exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$dest/"
rm -f "$dest/installed.lock.json"
(cd "$dest" && npm ci --no-audit --no-fund --loglevel=error --cache "$dest/.npm-cache")
cp "$here/package-lock.json" "$dest/installed.lock.json"
echo "setup_node_tools: installed into $dest/node_modules"
