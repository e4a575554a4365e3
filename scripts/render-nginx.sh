#!/usr/bin/env bash
# Renders nginx/dev.conf.template into a whole nginx.conf for a private instance.
#   scripts/render-nginx.sh [--var DIR] [--https-port N] [--http-port N]
#                           [--fastcgi ADDR] [--daemon on|off] [--out FILE]
# Defaults: var/ of the repo, 8443, 8080, unix:VAR/run/gudok.sock, daemon off,
# VAR/nginx.conf. Creates the directories nginx needs under VAR and a
# self-signed certificate in VAR/tls when there is none. Prints the output path.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
var=$root/var
https_port=8443
http_port=8080
fastcgi=
daemon=off
out=

while (($#)); do
    case $1 in
        --var) var=$2 ;;
        --https-port) https_port=$2 ;;
        --http-port) http_port=$2 ;;
        --fastcgi) fastcgi=$2 ;;
        --daemon) daemon=$2 ;;
        --out) out=$2 ;;
        *) echo "render-nginx.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
done

mkdir -p "$var"
var=$(cd "$var" && pwd)
fastcgi=${fastcgi:-unix:$var/run/gudok.sock}
out=${out:-$var/nginx.conf}

# A root master starts its workers as nobody, who cannot reach a socket or
# static files under a private home or temp directory: keep them root here.
# (Production runs workers as www-data with a group-readable socket directory.)
if [[ $(id -u) == 0 ]]; then
    user_directive="user root;"
else
    user_directive="# not root: workers run as $(id -un)"
fi

mkdir -p "$var"/{run,log,tls} "$var"/nginx/{client_body,proxy,fastcgi,uwsgi,scgi}
"$root/scripts/tls-cert.sh" "$var/tls"

sed -e "s|@ROOT@|$root|g" \
    -e "s|@VAR@|$var|g" \
    -e "s|@HTTPS_PORT@|$https_port|g" \
    -e "s|@HTTP_PORT@|$http_port|g" \
    -e "s|@FASTCGI@|$fastcgi|g" \
    -e "s|@DAEMON@|$daemon|g" \
    -e "s|@USER@|$user_directive|g" \
    "$root/nginx/dev.conf.template" >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
