#!/usr/bin/env bash
# Makes a self-signed certificate for localhost in DIR (cert.pem, key.pem) unless one is there.
set -euo pipefail

dir=${1:?usage: tls-cert.sh DIR}
mkdir -p "$dir"
if [[ -s $dir/cert.pem && -s $dir/key.pem ]]; then
    exit 0
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 825 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -keyout "$dir/key.pem.tmp" -out "$dir/cert.pem.tmp" 2>/dev/null
chmod 600 "$dir/key.pem.tmp"
mv "$dir/key.pem.tmp" "$dir/key.pem"
mv "$dir/cert.pem.tmp" "$dir/cert.pem"
