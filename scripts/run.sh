#!/usr/bin/env bash
# `make run`: the whole system on this machine, from the repo root, until Ctrl-C.
# Expects a release build (make release). Everything it makes lives in var/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bin=$root/.build/release
https_port=${HTTPS_PORT:-8443}
http_port=${HTTP_PORT:-8080}
sandbox_listen=${TOSS_SANDBOX_LISTEN:-127.0.0.1:9090}
var=$root/var
log=$var/log

mkdir -p "$var/run" "$log"
export GUDOK_PUBLIC_URL=${GUDOK_PUBLIC_URL:-https://localhost:$https_port}

# Children run in their own sessions: Ctrl-C reaches only this script, which stops them in order.
pids=()
stop() {
    trap - INT TERM EXIT
    if ((${#pids[@]})); then
        echo "stopping..."
        kill -TERM "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
}
trap stop EXIT
trap 'exit 130' INT TERM

"$bin/gudok" migrate
"$bin/gudok" seed --demo-history

# The demo staff user, once: its password is shown only when it is made.
if [[ ! -e $var/admin-created ]]; then
    password=$(openssl rand -base64 18 | tr -d '/+=')
    if printf '%s\n' "$password" | "$bin/gudok" user create admin --staff --password-stdin >/dev/null; then
        touch "$var/admin-created"
        admin_note="staff user: admin / $password   (shown once)"
    else
        admin_note="staff user 'admin' was not created (see above); create one with: gudok user create NAME --staff --password-stdin"
    fi
else
    admin_note="staff user: admin (password was printed when it was created)"
fi

# No Toss keys (environment or .env): use the offline sandbox. gudok's own
# defaults for TOSS_CLIENT_KEY/TOSS_SECRET_KEY are the sandbox's keys.
if [[ -z ${TOSS_SECRET_KEY:-} ]] && ! grep -qE '^[[:space:]]*(export[[:space:]]+)?TOSS_SECRET_KEY=.' .env 2>/dev/null; then
    setsid "$bin/toss-sandbox" --listen "$sandbox_listen" >"$log/toss-sandbox.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do
        grep -q 'listening on' "$log/toss-sandbox.log" && break
        kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log/toss-sandbox.log" >&2; exit 1; }
        sleep 0.1
    done
    export TOSS_BASE_URL=http://$sandbox_listen/v1
    export TOSS_JS_SDK_URL=http://$sandbox_listen/v2/standard
    toss_note="Toss: offline sandbox at http://$sandbox_listen (no real charges)"
else
    toss_note="Toss: ${TOSS_BASE_URL:-https://api.tosspayments.com/v1}"
fi

# Threads >= 2 x nginx workers (1) x upstream keepalive (4).
setsid "$bin/gudok" serve --fastcgi "unix:$var/run/gudok.sock" --threads 16 2>>"$log/gudok.log" &
pids+=($!)
setsid "$bin/gudok" worker 2>>"$log/worker.log" &
pids+=($!)

conf=$(scripts/render-nginx.sh --var "$var" --https-port "$https_port" --http-port "$http_port" --daemon off)
setsid nginx -p "$var" -c "$conf" -e "$log/nginx-error.log" &
pids+=($!)

for _ in $(seq 100); do
    curl -ksf -o /dev/null "https://localhost:$https_port/healthz" && break
    sleep 0.2
done
curl -ksf -o /dev/null "https://localhost:$https_port/healthz" ||
    echo "warning: /healthz does not answer yet; see $log/" >&2

cat <<MSG

  gudok is running: https://localhost:$https_port
  $admin_note
  $toss_note
  logs: $log/   (Ctrl-C stops everything)

MSG

# Stop everything as soon as any one part stops.
status=0
wait -n "${pids[@]}" || status=$?
echo "a process exited (status $status); see $log/" >&2
exit "$status"
