#!/usr/bin/env bash
# The master list with 10,000 documents of three versions each (issue 15):
# a release build on a fresh SQLite data directory, seeded through the
# services with `attest seed documents`, loaded with wrk from the same
# machine, signed in as the author who owns every document. Then the
# redline of two 100 KiB versions (`attest bench redline`). Figures go to
# docs/benchmarks.md.
# Usage: scripts/bench-documents.sh [documents, default 10000] [seconds per run, default 10]
set -euo pipefail
count=${1:-10000}; secs=${2:-10}
. "$(dirname "$0")/bench-lib.sh"
bench_fresh
$attest seed documents --count "$count" --author qa
bench_serve
bench_sign_in
shown=$(curl -s -H "Cookie: $cookie" "$base/documents" | grep -o 'Showing [^.]*' | head -n 1)
[ -n "$shown" ] || { echo "could not sign in as qa" >&2; exit 1; }
echo "cores: $(nproc); $count documents, 3 versions each; wrk and server on the same machine; $shown"
for path in /documents "/documents?type=sop" "/documents?q=calliper" "/documents?review=due&sort=review" "/documents?sort=title&page=100" /documents/5000 "/documents/5000/redline?from=2&to=3"; do
  bench_wrk "$path" 8 "$secs" 42
done
$attest bench redline --kib 100 --runs 20
