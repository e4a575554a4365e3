#!/usr/bin/env bash
# `make bench`: throughput and latency of gudok behind nginx, next to the
# ceilings it cannot beat (nginx serving the same bytes as a file, and a
# minimal C libfcgi responder behind the same FastCGI settings).
# Plain HTTP on loopback; wrk -t2 -c32 -d10s per target (BENCH_THREADS,
# BENCH_CONNECTIONS, BENCH_DURATION override). Sections print one table each.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
gudok=${GUDOK_BIN:-$root/.build/release/gudok}
wrk_args=(-t"${BENCH_THREADS:-2}" -c"${BENCH_CONNECTIONS:-32}" -d"${BENCH_DURATION:-10s}" --latency)
# Each upstream connection nginx holds open pins a responder thread (fastcgi_keep_conn): with 32 client connections
# nginx may hold up to 32, so fewer threads leave requests queued behind idle connections (p99 in the hundreds of ms).
responder_threads=${BENCH_RESPONDER_THREADS:-64}

[[ -x $gudok ]] || (cd "$root" && swift build -c release)
work=$(mktemp -d /tmp/gudok-bench-XXXXXX)
gudok_pid= ceiling_pid=
cleanup() {
    if [[ -f $work/nginx.pid ]]; then kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null || true; fi
    # libfcgi's own SIGTERM handler does not stop the ceiling's blocked accepts.
    if [[ -n $ceiling_pid ]]; then kill -KILL "$ceiling_pid" 2>/dev/null || true; fi
    if [[ -n $gudok_pid ]]; then kill -TERM "$gudok_pid" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_for_socket() {
    for _ in $(seq 100); do [[ -S $1 ]] && return 0; sleep 0.1; done
    echo "bench: $1 did not appear" >&2
    return 1
}

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------- setup

gudok_env=(env DATABASE_URL="sqlite://$work/gudok.sqlite3" GUDOK_ENV=test GUDOK_LOG_LEVEL=warning
           GUDOK_SECRET_KEY=bench-secret-key-0123456789abcdefghijklmnop)
(cd "$work" && "${gudok_env[@]}" "$gudok" migrate >/dev/null && "${gudok_env[@]}" "$gudok" seed >/dev/null)
(cd "$work" && exec "${gudok_env[@]}" "$gudok" serve --fastcgi "unix:$work/gudok.sock" \
    --threads $responder_threads 2>"$work/gudok.log") &
gudok_pid=$!

cc -O2 -pthread -o "$work/fcgi_ceiling" "$root/bench/fcgi_ceiling.c" -lfcgi

port=$(free_port)
mkdir -p "$work/nginx" "$work/static"
user="# not root"
[[ $(id -u) == 0 ]] && user="user root;"
sed -e "s|@VAR@|$work|g" -e "s|@PORT@|$port|g" -e "s|@USER@|$user|g" \
    "$root/bench/nginx.conf.template" >"$work/nginx.conf"
wait_for_socket "$work/gudok.sock"
nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log"
base=http://127.0.0.1:$port

# The same bytes for every target.
curl -sf "$base/api/subscriptions/plans" -o "$work/static/plans.json"
"$work/fcgi_ceiling" "$work/ceiling.sock" "$work/static/plans.json" $responder_threads &
ceiling_pid=$!
wait_for_socket "$work/ceiling.sock"
cmp -s "$work/static/plans.json" <(curl -sf "$base/ceiling") || { echo "bench: ceiling answers other bytes" >&2; exit 1; }

# ---------------------------------------------------------------- measuring

# measure LABEL URL [PID]: one wrk run; appends "label rps p50 p99 errors rss" to $work/rows.
measure() {
    local label=$1 url=$2 pid=${3:-} out rps p50 p99 errors rss=-
    curl -sf -o /dev/null "$url" || { echo "bench: $url does not answer 2xx" >&2; exit 1; }
    out=$(wrk "${wrk_args[@]}" "$url")
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    errors=$(awk '/^ *Non-2xx/ { n += $NF }
                  /^ *Socket errors/ { for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i }
                  END { print n + 0 }' <<<"$out")
    [[ -n $pid ]] && rss="$(($(rss_kib "$pid") / 1024))MiB"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$rps" "$p50" "$p99" "$errors" "$rss" >>"$work/rows"
}

# print_table TITLE CEILING_LABEL: the rows measured so far, with each one's ratio to the ceiling's req/s.
print_table() {
    local title=$1 ceiling=$2
    echo
    echo "## $title   (wrk ${wrk_args[*]}, $(nproc) cores)"
    awk -F'\t' -v ceiling="$ceiling" '
        { label[NR] = $1; rps[NR] = $2; p50[NR] = $3; p99[NR] = $4; err[NR] = $5; rss[NR] = $6
          if ($1 == ceiling) base = $2 }
        END {
            printf "%-34s %10s %9s %9s %8s %8s %9s\n", "target", "req/s", "p50", "p99", "vs C", "errors", "RSS"
            for (i = 1; i <= NR; i++)
                printf "%-34s %10s %9s %9s %7.2fx %8s %9s\n", label[i], rps[i], p50[i], p99[i],
                       base ? rps[i] / base : 0, err[i], rss[i]
        }' "$work/rows"
    rm -f "$work/rows"
}

# ---------------------------------------------------------------- HTTP

measure "nginx static file (same bytes)" "$base/static/plans.json"
measure "C libfcgi ceiling" "$base/ceiling" "$ceiling_pid"
measure "gudok GET /api/subscriptions/plans" "$base/api/subscriptions/plans" "$gudok_pid"
measure "gudok GET / (pricing page)" "$base/" "$gudok_pid"
print_table "HTTP through nginx (FastCGI over a unix socket)" "C libfcgi ceiling"

# ---------------------------------------------------------------- billing

# One `gudok bill` pass over many due subscriptions (SQLite and PostgreSQL,
# sandbox at 0 and 50 ms); prints its own table. BENCH_BILLING_COUNT sizes it.
if [[ -z ${BENCH_SKIP_BILLING:-} ]]; then
    echo
    echo "## Billing pass"
    python3 "$root/bench/billing.py"
fi

# Further sections go here: set up, call measure (or print their own rows),
# then print_table.
