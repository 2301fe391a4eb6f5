#!/usr/bin/env bash
# CAPA pages with 10,000 CAPAs (issue 5): a release build on a fresh SQLite
# data directory, seeded with `attest seed capas`, loaded with wrk from the
# same machine. The pages are read as the QA manager who owns every seeded
# CAPA, so "What needs me" is as long as it gets. Figures go to
# docs/benchmarks.md.
# Usage: scripts/bench-capas.sh [CAPAs, default 10000] [seconds per run, default 10]
set -euo pipefail
count=${1:-10000}; secs=${2:-10}
. "$(dirname "$0")/bench-lib.sh"
bench_fresh
$attest seed capas --count "$count" --owner qa
bench_serve
bench_sign_in
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
    bench_wrk "$path" "$conns" "$secs"
  done
done
