#!/usr/bin/env bash
# Memory while a large attachment arrives (issue 14, item 4): starts a
# release build on a fresh SQLite data directory, reports a nonconformance
# as a quality user, and uploads a file of SIZE_MB (default 50) to it with
# curl, which streams it from disk; meanwhile the server's resident memory
# (VmRSS) is sampled every 10 ms. curl sends at RATE (default 20M bytes a
# second), so the arrival lasts seconds and the samples see it whole.
# Prints the server's memory before the upload, the most it reached while
# the file arrived, and the difference.
# Usage: scripts/bench-upload.sh            STORE=database for the database store
set -euo pipefail
size_mb=${SIZE_MB:-50}
cargo build --release --quiet
dir=$(mktemp -d); port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export ATTEST_DATA_DIR="$dir" ATTEST_BIND="127.0.0.1:$port" ATTEST_ADMIN_PASSWORD="bench password one" ATTEST_LOG=warn
export ATTEST_MAX_UPLOAD_BYTES=$(( (size_mb + 1) * 1024 * 1024 ))
[ -n "${STORE:-}" ] && export ATTEST_FILE_STORE="$STORE"
target/release/attest init >/dev/null
otp=$(target/release/attest user add --username qa --name "Q A" --email qa@example.com --role quality | grep -o '[A-Za-z0-9-]\{16,\}' | tail -n 1)
target/release/attest >/dev/null 2>&1 &
pid=$!; trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
jar="$dir/jar"
token_of() { curl -s -c "$jar" -b "$jar" "$base$1" | grep -o 'name="csrf_token" value="[^"]*"' | head -n 1 | sed 's/.*value="//;s/"$//'; }
post() { local path=$1; shift; curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" -H "Origin: $base" "$@" "$base$path"; }
[ "$(post /login --data-urlencode username=qa --data-urlencode "password=$otp" --data-urlencode "csrf_token=$(token_of /login)")" = 303 ] || { echo "sign-in failed" >&2; exit 1; }
pw="bench passphrase for the reviewer"
[ "$(post /account/password --data-urlencode "current_password=$otp" --data-urlencode "new_password=$pw" \
  --data-urlencode "confirm_password=$pw" --data-urlencode "csrf_token=$(token_of /account/password)")" = 303 ] || { echo "password change failed" >&2; exit 1; }
[ "$(post /nonconformances --data-urlencode title=Bench --data-urlencode source=production \
  --data-urlencode description=x --data-urlencode "csrf_token=$(token_of /nonconformances/new)")" = 303 ] || { echo "report failed" >&2; exit 1; }
head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$dir/big.bin"
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
before=$(rss)
( peak=0; while kill -0 "$pid" 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" > "$dir/peak"; sleep 0.01; done ) &
sampler=$!
token=$(token_of /nonconformances/1)
start=$(date +%s.%N)
code=$(post /attachments/nonconformance/nc-1 --limit-rate "${RATE:-20M}" -F "csrf_token=$token" -F part= -F "file=@$dir/big.bin")
end=$(date +%s.%N)
sleep 0.2; kill "$sampler" 2>/dev/null || true
peak=$(cat "$dir/peak")
echo "cores: $(nproc); store: ${STORE:-directory (the SQLite default)}; upload of ${size_mb} MB answered $code in $(python3 -c "print(round($end-$start, 2))") s"
echo "server memory before: $((before / 1024)) MB; most while it arrived: $((peak / 1024)) MB; grew by $(( (peak - before) / 1024 )) MB"
