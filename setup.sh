#!/usr/bin/env bash
# One-command set-up on a fresh Debian/Ubuntu machine: system packages, Python venv, npm assets.
# Re-running it is safe. Windows office PCs: see README "Windows".
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Debian packages: a TrueType CJK font for PDFs (Noto CJK is CFF and cannot be embedded),
# poppler for PDF checks, Chromium for browser tests, Node for front-end assets.
PKGS="fonts-wqy-microhei fonts-wqy-zenhei poppler-utils chromium python3-venv nodejs npm"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node/npm may come from elsewhere (e.g. nodesource); only install them when absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=$(echo "$missing" | tr ' ' '\n' | grep -vxE 'nodejs|npm' | tr '\n' ' ' || true)
fi
if [ -n "${missing// /}" ]; then
  echo "Installing Debian packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,postgres]"

# htmx and other front-end packages from the npm registry, at the versions of package-lock.json.
npm ci --no-audit --no-fund --loglevel=error

mkdir -p instance
echo "Set-up done. Run: .venv/bin/flask --app wsgi serve"
