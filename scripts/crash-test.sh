#!/usr/bin/env bash
# The long crash test (SECURITY.md 21): the real binary, four writers making
# nonconformances and review steps through the HTTP forms, SIGKILLed at
# random moments and started again, CYCLES times; then every acknowledged
# write is checked to be there with its audit entry, a graceful stop signs a
# last checkpoint, and `attest verify --database` must pass.
#
#   scripts/crash-test.sh [CYCLES]            SQLite (default 300 cycles)
#   ATTEST_TEST_DATABASE_URL=postgres://... scripts/crash-test.sh [CYCLES]
#
# The suite runs the same test with 20 cycles. Prints one line of figures.
set -euo pipefail
cycles=${1:-300}
cd "$(dirname "$0")/.."
log=$(mktemp)
status=0
ATTEST_CRASH_CYCLES="$cycles" cargo test --release --test api \
  crash::nothing_acknowledged_is_lost_over_sigkill_cycles_and_the_log_verifies_security_21 \
  -- --exact --nocapture >"$log" 2>&1 || status=$?
grep -E '^crash test:|panicked|acknowledged but lost|test result' "$log" || tail -n 40 "$log"
rm -f "$log"
exit "$status"
