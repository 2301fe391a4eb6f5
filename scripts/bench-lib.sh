# Shared by the page benchmarks (source it): a release build serving a
# fresh SQLite data directory on a free port, a quality user "qa" who has
# set their password, and a line of wrk figures per page.

# bench_fresh: builds, makes the data directory and the "qa" user; sets
# dir, base, attest, once (qa's one-time password) and exports the settings.
bench_fresh() {
  command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
  cargo build --release --quiet
  dir=$(mktemp -d); port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  export ATTEST_DATA_DIR="$dir" ATTEST_BIND="127.0.0.1:$port" ATTEST_ADMIN_PASSWORD="bench password one" ATTEST_LOG=warn
  attest=target/release/attest
  $attest init >/dev/null
  once=$($attest user add --username qa --name "QA Owner" --email qa@example.com --role quality | sed 's/.*: //')
}

# bench_serve: starts the server (stopped, and the directory removed, on exit).
bench_serve() {
  $attest >/dev/null 2>&1 &
  pid=$!; trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
  for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
}

# csrf PAGE: the CSRF token of PAGE, read with the cookie jar.
csrf() { curl -s -c "$jar" -b "$jar" "$base$1" | grep -o 'name="csrf_token" value="[^"]*"' | head -n 1 | sed 's/.*value="//;s/"$//'; }

# bench_sign_in: signs qa in and sets their password; sets jar and cookie.
bench_sign_in() {
  jar="$dir/jar"
  curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode username=qa --data-urlencode "password=$once" \
    --data-urlencode "csrf_token=$(csrf /login)" "$base/login"
  curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "current_password=$once" \
    --data-urlencode "new_password=bench password two" --data-urlencode "confirm_password=bench password two" \
    --data-urlencode "csrf_token=$(csrf /account/password)" "$base/account/password"
  cookie="attest_session=$(awk '$6 == "attest_session" {print $7}' "$jar")"
}

# bench_wrk PATH CONNS SECS WIDTH: one line of figures for PATH.
bench_wrk() {
  local out rps p50 p99 bad
  out=$(wrk -t1 -c"$2" -d"${3}s" --latency -H "Cookie: $cookie" "$base$1")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}'); p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  bad=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf "%-${4:-34}s c=%-3s %10s req/s  p50 %-9s p99 %-9s %s\n" "$1" "$2" "$rps" "$p50" "$p99" "${bad:+non-2xx: $bad}"
}
