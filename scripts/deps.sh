#!/usr/bin/env bash
# Installs the Debian packages a task needs, only those missing.
#   scripts/deps.sh build|run|test|bench|all ...
# apt-get update runs only when something is missing.
set -euo pipefail

build=(libfcgi-dev libsqlite3-dev libpq-dev libssl-dev libcurl4-openssl-dev pkg-config)
run=("${build[@]}" nginx openssl curl)
test=("${run[@]}" postgresql chromium chromium-driver python3-pip fonts-nanum)
bench=("${run[@]}" postgresql wrk gcc)

wanted=()
for group in "${@:-all}"; do
    case $group in
        build) wanted+=("${build[@]}") ;;
        run) wanted+=("${run[@]}") ;;
        test) wanted+=("${test[@]}") ;;
        bench) wanted+=("${bench[@]}") ;;
        all) wanted+=("${test[@]}" "${bench[@]}") ;;
        *) echo "deps.sh: unknown group $group (build, run, test, bench, all)" >&2; exit 2 ;;
    esac
done

missing=()
for package in $(printf '%s\n' "${wanted[@]}" | sort -u); do
    if ! dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed'; then
        missing+=("$package")
    fi
done
((${#missing[@]})) || exit 0

echo "installing: ${missing[*]}" >&2
as_root=()
[[ $(id -u) == 0 ]] || as_root=(sudo)
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
