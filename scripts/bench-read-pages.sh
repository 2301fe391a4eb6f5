#!/usr/bin/env bash
# Read-page throughput of a release build: starts Attest on a fresh SQLite
# data directory, signs in as the administrator, and loads pages with wrk
# (Debian package `wrk`) from the same machine. Figures go to docs/benchmarks.md.
# Usage: scripts/bench-read-pages.sh [seconds per run, default 10]
#   CAPAS=N   CAPAs seeded first (default 500); PATHS="..." the pages to load
#   BIN=path  the attest binary to measure (default: build and use
#             target/release/attest), to compare two builds one after the other
set -euo pipefail
secs=${1:-10}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then cargo build --release --quiet; fi
bin=${BIN:-target/release/attest}
dir=$(mktemp -d); port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export ATTEST_DATA_DIR="$dir" ATTEST_BIND="127.0.0.1:$port" ATTEST_ADMIN_PASSWORD="bench password one" ATTEST_LOG=warn
# A few hundred CAPAs, so the lists and a record page read real rows.
"$bin" init >/dev/null
"$bin" user add --username qa --name "Q A" --email qa@example.com --role quality >/dev/null
"$bin" seed capas --owner qa --count "${CAPAS:-500}" >/dev/null
"$bin" >/dev/null 2>&1 &
pid=$!; trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
jar="$dir/jar"
token=$(curl -s -c "$jar" -b "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | sed 's/.*value="//;s/"$//')
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode username=admin --data-urlencode "password=bench password one" \
  --data-urlencode "csrf_token=$token" "$base/login"
cookie="attest_session=$(awk '$6 == "attest_session" {print $7}' "$jar")"
echo "cores: $(nproc); attest $("$bin" --version | cut -d' ' -f2); wrk and server on the same machine"
# /healthz and /login are loaded signed out; the rest as the administrator.
for path in ${PATHS:-/healthz /login / /account /admin/users /nonconformances /capas /capas/7}; do
  case $path in /healthz|/login) header="X-Bench: anonymous" ;; *) header="Cookie: $cookie" ;; esac
  for conns in 32 8; do
    out=$(wrk -t1 -c"$conns" -d"${secs}s" --latency -H "$header" "$base$path")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}'); p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    printf '%-14s c=%-3s %10s req/s  p50 %-9s p99 %-9s %s\n' "$path" "$conns" "$rps" "$p50" "$p99" "${bad:+non-2xx: $bad}"
  done
done
