#!/usr/bin/env bash
# CAPA pages with 10,000 CAPAs (issue 5): a release build on a fresh SQLite
# data directory, seeded with `attest seed capas`, loaded with wrk from the
# same machine. The pages are read as the QA manager who owns every seeded
# CAPA, so "What needs me" is as long as it gets. Figures go to
# docs/benchmarks.md.
# Usage: scripts/bench-capas.sh [CAPAs, default 10000] [seconds per run, default 10]
set -euo pipefail
count=${1:-10000}; secs=${2:-10}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet
dir=$(mktemp -d); port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export ATTEST_DATA_DIR="$dir" ATTEST_BIND="127.0.0.1:$port" ATTEST_ADMIN_PASSWORD="bench password one" ATTEST_LOG=warn
attest=target/release/attest
$attest init >/dev/null
once=$($attest user add --username qa --name "QA Owner" --email qa@example.com --role quality | sed 's/.*: //')
$attest seed capas --count "$count" --owner qa
$attest >/dev/null 2>&1 &
pid=$!; trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
jar="$dir/jar"
csrf() { curl -s -c "$jar" -b "$jar" "$base$1" | grep -o 'name="csrf_token" value="[^"]*"' | head -n 1 | sed 's/.*value="//;s/"$//'; }
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode username=qa --data-urlencode "password=$once" \
  --data-urlencode "csrf_token=$(csrf /login)" "$base/login"
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "current_password=$once" \
  --data-urlencode "new_password=bench password two" --data-urlencode "confirm_password=bench password two" \
  --data-urlencode "csrf_token=$(csrf /account/password)" "$base/account/password"
cookie="attest_session=$(awk '$6 == "attest_session" {print $7}' "$jar")"
curl -sf -o /dev/null -H "Cookie: $cookie" "$base/capas" || { echo "could not sign in as qa" >&2; exit 1; }
echo "cores: $(nproc); $count CAPAs; wrk and server on the same machine; signed in as the owner (quality)"
# The dashboard's figures are kept until the data changes: time it just
# after a change (a product added, which moves the data stamp), 20 times,
# to see the cold cost.
cold=()
for i in $(seq 20); do
  curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "name=Bench product $i" --data-urlencode "key_prefix=BP$i" \
    --data-urlencode safety_class=B --data-urlencode "csrf_token=$(csrf /products/new)" "$base/products"
  cold+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Cookie: $cookie" "$base/")")
done
made=$(curl -s -H "Cookie: $cookie" "$base/products" | grep -o 'Bench product [0-9]*' | sort -u | wc -l)
[ "$made" -eq 20 ] || { echo "added $made of 20 products: the cold figures would be warm" >&2; exit 1; }
printf '%s\n' "${cold[@]}" | sort -n | awk '{ t[NR] = $1 * 1000 } END { printf "/ after each change (figures taken again), 20 runs: median %.1f ms, max %.1f ms\n", t[int((NR + 1) / 2)], t[NR] }'

for path in / /capas "/capas?state=open&sort=due" "/capas?overdue=1&sort=priority" "/capas?page=100"; do
  for conns in 2 8 32; do
    out=$(wrk -t1 -c"$conns" -d"${secs}s" --latency -H "Cookie: $cookie" "$base$path")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}'); p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    printf '%-34s c=%-3s %10s req/s  p50 %-9s p99 %-9s %s\n' "$path" "$conns" "$rps" "$p50" "$p99" "${bad:+non-2xx: $bad}"
  done
done
