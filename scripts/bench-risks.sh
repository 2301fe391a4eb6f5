#!/usr/bin/env bash
# A risk file of 2,000 risks with three controls each (issue 17, item 8): a
# release build on a fresh SQLite data directory, seeded through the
# services with `attest seed risks` (a product RISKB, its plan approved,
# 24 hazards, 1,000 risk-control requirements, the risks estimated over the
# matrix, analyzed, controlled and partly given a residual estimate), then
# the risk file's reads computed afresh (`attest bench risks`) and the pages
# loaded with wrk from the same machine, signed in as quality. Figures go
# to docs/benchmarks.md.
# Usage: scripts/bench-risks.sh [risks, default 2000] [seconds per run, default 10]
set -euo pipefail
count=${1:-2000}; secs=${2:-10}
. "$(dirname "$0")/bench-lib.sh"
bench_fresh
$attest seed risks --count "$count" --author qa
$attest bench risks --runs 50
bench_serve
bench_sign_in
product=$(curl -s -H "Cookie: $cookie" "$base/products" | grep -o 'href="/products/[0-9]*">Risk bench device' | grep -o '[0-9]*' | head -n 1)
[ -n "$product" ] || { echo "could not find the product RISKB as qa" >&2; exit 1; }
echo "cores: $(nproc); $count risks with 3 controls each; wrk and server on the same machine"
for path in "/products/$product/risks" "/products/$product/risks?page=20" "/products/$product/risks?state=controlled" "/products/$product/risks?verdict=unacceptable" "/products/$product/risks?cell=initial-3-3" /risks/1000; do
  bench_wrk "$path" 8 "$secs" 40
done
