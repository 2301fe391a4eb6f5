#!/usr/bin/env bash
# The mail figures of docs/benchmarks.md: queuing a mail against a change's
# time, and 10,000 queued mails delivered to a local SMTP server (aiosmtpd,
# from PyPI, in a throw-away virtual environment, listening on loopback and
# discarding what it takes).
#
#   scripts/bench-mail.sh [count]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-10000}"
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet aiosmtpd
port=2525
"$venv/bin/python" -m aiosmtpd -n -c aiosmtpd.handlers.Sink -l "127.0.0.1:$port" &
sink=$!
trap 'kill $sink 2>/dev/null || true; rm -rf "$(dirname "$venv")"' EXIT
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
cargo build --release --quiet
target/release/attest bench mail --count "$count" --smtp-url "smtp://127.0.0.1:$port?tls=none" --dir "${TMPDIR:-/tmp}"
