#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster:
#   scripts/with-postgres.sh CMD [ARG...]
# Starts a private cluster (trust auth, 127.0.0.1 on a free port, socket in the temp dir), creates a database,
# exports GUDOK_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/DB, runs CMD, then stops and deletes the
# cluster. Exits with CMD's status. When GUDOK_TEST_POSTGRES_URL is already set, runs CMD against that instead.
# As root, the server runs as user `postgres` (PostgreSQL refuses to run as root).
set -euo pipefail

if (($# == 0)); then
    echo "usage: scripts/with-postgres.sh CMD [ARG...]" >&2
    exit 2
fi

if [[ -n ${GUDOK_TEST_POSTGRES_URL:-} ]]; then
    exec "$@"
fi

bindir=
for candidate in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [[ -x $candidate/initdb && -x $candidate/pg_ctl ]]; then
        bindir=$candidate
        break
    fi
done
if [[ -z $bindir ]] && command -v pg_config >/dev/null && [[ -x $(pg_config --bindir)/initdb ]]; then
    bindir=$(pg_config --bindir)
fi
if [[ -z $bindir ]]; then
    echo "with-postgres.sh: initdb not found; install PostgreSQL (apt-get install postgresql, or make deps-test)" >&2
    exit 1
fi

as_postgres=()
if [[ $(id -u) == 0 ]]; then
    if ! id postgres >/dev/null 2>&1; then
        echo "with-postgres.sh: running as root but there is no 'postgres' user to run the server as" >&2
        exit 1
    fi
    as_postgres=(runuser -u postgres --)
fi

free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    else
        echo $((20000 + RANDOM % 40000))
    fi
}

workdir=$(mktemp -d "${TMPDIR:-/tmp}/gudok-pg.XXXXXX")
datadir=$workdir/data
logfile=$workdir/postgres.log
started=0

cleanup() {
    if ((started)); then
        "${as_postgres[@]}" "$bindir/pg_ctl" -D "$datadir" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

chmod 700 "$workdir"
[[ ${#as_postgres[@]} == 0 ]] || chown postgres: "$workdir"

"${as_postgres[@]}" "$bindir/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$workdir/initdb.log" 2>&1 \
    || "${as_postgres[@]}" "$bindir/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 --no-locale >"$workdir/initdb.log" 2>&1 \
    || { echo "with-postgres.sh: initdb failed:" >&2; cat "$workdir/initdb.log" >&2; exit 1; }

port=
for _ in 1 2 3 4 5; do
    port=$(free_port)
    if "${as_postgres[@]}" "$bindir/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $workdir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null 2>&1; then
        started=1
        break
    fi
done
if ((!started)); then
    echo "with-postgres.sh: PostgreSQL did not start:" >&2
    cat "$logfile" >&2 2>/dev/null || true
    exit 1
fi

database=gudok_test
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database"

export GUDOK_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/$database"
echo "with-postgres.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') at $GUDOK_TEST_POSTGRES_URL" >&2

status=0
"$@" || status=$?
exit "$status"
