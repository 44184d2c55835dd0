#!/usr/bin/env bash
# Embedded (SQLite) vs fleet (PostgreSQL) job store, side by side in one run:
# starts a throw-away PostgreSQL (Debian's postgresql: initdb + pg_ctl on a
# temporary directory, Unix socket only, default durability settings: fsync
# on, like SQLite's synchronous=FULL), runs build/bin/bench_job_store on it,
# and stops it (also on failure). As root the database runs as `postgres`.
#   bench/service/job_store_bench.sh [BUILD_DIR] [bench_job_store args...]
set -euo pipefail
build="${1:-build}"
shift || true
bin="$(pg_config --bindir 2>/dev/null || true)"
[ -x "$bin/initdb" ] || bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
[ -x "$bin/initdb" ] || { echo "job_store_bench: PostgreSQL not installed (scripts/bootstrap)" >&2; exit 1; }
dir="$(mktemp -d /tmp/videogen_bench_pg_XXXXXX)"
as=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
  as=(runuser -u postgres --)
fi
cleanup() {
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${as[@]}" "$bin/initdb" -D "$dir/data" -U videogen --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-k $dir -c listen_addresses=''" start >/dev/null
"$build/bin/bench_job_store" --dsn "postgresql:///postgres?host=$dir&user=videogen" "$@"
