#!/bin/sh
# Docker HEALTHCHECK: exits 0 only when the local server's grpc.health.v1
# reports SERVING (weights loaded and warm, not draining), through the CLI's
# `health` command, on the port of VIDEOGEN_LISTEN.
set -eu
listen="${VIDEOGEN_LISTEN:-0.0.0.0:50051}"
exec "${VIDEOGEN_CLI_BIN:-/opt/videogen/bin/videogen}" --server "127.0.0.1:${listen##*:}" health
