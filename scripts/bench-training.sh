#!/usr/bin/env bash
# The training matrix for 500 people x 300 documents (issue 16, item 7): a
# release build on a fresh SQLite data directory, seeded through the
# services with `attest seed training` (documents with v3 in force, people
# in a mix of roles, curricula assigning them, 50 signers signing about
# 70 % of theirs), then the matrix computed afresh (`attest bench
# training`) and the pages loaded with wrk from the same machine, signed in
# as quality. Figures go to docs/benchmarks.md.
# Usage: scripts/bench-training.sh [people, default 500] [documents, default 300] [seconds per run, default 10]
set -euo pipefail
people=${1:-500}; documents=${2:-300}; secs=${3:-10}
. "$(dirname "$0")/bench-lib.sh"
bench_fresh
$attest seed training --people "$people" --documents "$documents" --author qa
$attest bench training --runs 50
bench_serve
bench_sign_in
shown=$(curl -s -H "Cookie: $cookie" "$base/training" | grep -o 'People [0-9]*–[0-9]* of [0-9]*' | head -n 1)
[ -n "$shown" ] || { echo "could not read the matrix as qa" >&2; exit 1; }
echo "cores: $(nproc); $people people, $documents documents; wrk and server on the same machine; $shown"
for path in /training "/training?role=engineer" "/training?state=due" "/training?page=5" /training/mine; do
  bench_wrk "$path" 8 "$secs" 30
done
