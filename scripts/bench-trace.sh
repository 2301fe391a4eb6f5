#!/usr/bin/env bash
# Traceability at size (issue 6): a release build on a fresh SQLite data
# directory, seeded with `attest seed trace` (10,000 requirements, 50,000
# commits, 20,000 tests with results), then measured over HTTP from the same
# machine: the matrix page (wrk), a full CSV and XLSX export, pushes of 100
# commits, and 5,000-test JUnit uploads (curl's time_total). Figures go to
# docs/benchmarks.md.
# Usage: scripts/bench-trace.sh [requirements] [commits] [tests] [seconds per wrk run]
set -euo pipefail
nreq=${1:-10000}; ncommits=${2:-50000}; ntests=${3:-20000}; secs=${4:-5}
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet
dir=$(mktemp -d); port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export ATTEST_DATA_DIR="$dir" ATTEST_BIND="127.0.0.1:$port" ATTEST_ADMIN_PASSWORD="bench password one" ATTEST_LOG=warn
attest=target/release/attest
$attest init >/dev/null
once=$($attest user add --username qa --name "QA Engineer" --email qa@example.com --role quality --role engineer | sed 's/.*: //')
$attest seed trace --requirements "$nreq" --commits "$ncommits" --tests "$ntests" --uploader qa
$attest >/dev/null 2>&1 &
pid=$!; trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

jar="$dir/jar"; ajar="$dir/admin-jar"
csrf() { curl -s -c "$1" -b "$1" "$base$2" | grep -o 'name="csrf_token" value="[^"]*"' | head -n 1 | sed 's/.*value="//;s/"$//'; }
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode username=qa --data-urlencode "password=$once" \
  --data-urlencode "csrf_token=$(csrf "$jar" /login)" "$base/login"
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "current_password=$once" \
  --data-urlencode "new_password=bench password two" --data-urlencode "confirm_password=bench password two" \
  --data-urlencode "csrf_token=$(csrf "$jar" /account/password)" "$base/account/password"
cookie="attest_session=$(awk '$6 == "attest_session" {print $7}' "$jar")"
token=$(curl -s -c "$jar" -b "$jar" --data-urlencode name=bench --data-urlencode scope=test-runs:write \
  --data-urlencode "csrf_token=$(csrf "$jar" /account/tokens)" "$base/account/tokens" \
  | grep -o '<code class="long-secret">[^<]*' | sed 's/.*>//')
curl -s -o /dev/null -c "$ajar" -b "$ajar" --data-urlencode username=admin --data-urlencode "password=bench password one" \
  --data-urlencode "csrf_token=$(csrf "$ajar" /login)" "$base/login"
secret=$(curl -s -c "$ajar" -b "$ajar" --data-urlencode provider=github --data-urlencode name=bench/pushes \
  --data-urlencode product_id=1 --data-urlencode "csrf_token=$(csrf "$ajar" /admin/repositories)" "$base/admin/repositories" \
  | grep -o '<code class="long-secret">[^<]*' | sed 's/.*>//')
[ -n "$token" ] && [ -n "$secret" ] || { echo "could not make the token or the repository" >&2; exit 1; }

median() { sort -n | awk '{ t[NR] = $1 * 1000 } END { printf "median %.0f ms, max %.0f ms (%d runs)", t[int((NR + 1) / 2)], t[NR], NR }'; }

echo "cores: $(nproc); $nreq requirements, $ncommits commits, $ntests tests; load and server on the same machine"
first=$(curl -s -o /dev/null -w '%{time_total}' -H "Cookie: $cookie" "$base/traceability?product=1")
echo "matrix page, first view (matrix computed): $(echo "$first" | awk '{printf "%.0f ms", $1 * 1000}')"
for path in "/traceability?product=1" "/traceability?product=1&coverage=failing" "/traceability?product=1&page=50"; do
  for conns in 2 8; do
    out=$(wrk -t1 -c"$conns" -d"${secs}s" --latency -H "Cookie: $cookie" "$base$path")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}'); p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    printf '%-36s c=%-3s %10s req/s  p50 %-9s p99 %s\n' "$path" "$conns" "$rps" "$p50" "$p99"
  done
done

for format in csv xlsx; do
  for _ in 1 2 3 4 5; do
    curl -s -o /dev/null -w '%{time_total}\n' -c "$jar" -b "$jar" --data-urlencode product_id=1 \
      --data-urlencode format=$format --data-urlencode "csrf_token=$(csrf "$jar" /traceability/exports?product=1)" \
      -o /dev/null --fail "$base/traceability/exports" || { echo "an export was refused" >&2; exit 1; }
  done | median | sed "s/^/full $format export (POST to the export page), /"; echo
done

for n in $(seq 10); do
  python3 - "$n" > "$dir/push.json" <<'EOF'
import json, sys
n = int(sys.argv[1])
commits = [{"id": f"{n:08x}{i:032x}", "message": f"Change {i}\n\nImplements: SRS-{(n * 100 + i) % 9000 + 1001:05d}",
            "timestamp": "2026-11-30T10:00:00Z", "url": "", "author": {"name": "E", "email": "e@example.com"}} for i in range(100)]
print(json.dumps({"ref": "refs/heads/main", "after": commits[-1]["id"], "repository": {"full_name": "bench/pushes"}, "commits": commits}))
EOF
  sig="sha256=$(openssl dgst -sha256 -hmac "$secret" -hex < "$dir/push.json" | sed 's/.*= //')"
  curl -s -o /dev/null -w '%{time_total}\n' -H "X-GitHub-Event: push" -H "X-GitHub-Delivery: bench-$n" \
    -H "X-Hub-Signature-256: $sig" -H "Content-Type: application/json" --data-binary @"$dir/push.json" \
    "$base/hooks/github?repository=2" --fail || { echo "a push was refused" >&2; exit 1; }
done | median | sed 's/^/push of 100 commits (webhook), /'; echo

python3 - > "$dir/junit.xml" <<'EOF'
cases = []
for i in range(5000):
    prop = f'<properties><property name="requirement" value="SRS-{i % 9000 + 1001:05d}"/></properties>' if i % 2 == 0 else ""
    fail = '<failure message="boom">assert failed</failure>' if i % 50 == 0 else ""
    cases.append(f'<testcase classname="bench.upload" name="test_{i:05d}" time="0.01">{prop}{fail}</testcase>')
print('<?xml version="1.0" encoding="UTF-8"?><testsuites><testsuite name="bench" tests="5000">' + "".join(cases) + '</testsuite></testsuites>')
EOF
for _ in 1 2 3; do
  curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" -H "Content-Type: application/xml" \
    --data-binary @"$dir/junit.xml" --fail "$base/api/v1/test-runs?product=BENCH&commit=0123456789abcdef0123456789abcdef01234567" \
    || { echo "an upload was refused" >&2; exit 1; }
done | median | sed 's/^/5,000-test JUnit upload, /'; echo
