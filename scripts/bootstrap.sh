#!/usr/bin/env bash
# Idempotent setup: Debian packages the project needs, then .venv with boxcrawl installed editable.
# Usage: scripts/bootstrap.sh [extra Debian packages...]
set -euo pipefail
cd "$(dirname "$0")/.."

want=(chromium fonts-dejavu-core redis-server iproute2 "$@")
missing=()
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if ! command -v apt-get >/dev/null; then
        echo "bootstrap: please install: ${missing[*]} (no apt-get here)" >&2
        exit 1
    fi
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "bootstrap: apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp=.venv/.installed
if [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "bootstrap: installing boxcrawl into .venv (log: .venv/pip.log)"
    python3 -m venv .venv
    if ! .venv/bin/pip install -e '.[test]' > .venv/pip.log 2>&1; then
        tail -30 .venv/pip.log >&2
        exit 1
    fi
    touch "$stamp"
fi
