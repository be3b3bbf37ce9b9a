#!/usr/bin/env bash
# Make sure Debian's chromium is installed for the pages' browser tests (Playwright drives
# it; Playwright's own browser download is not used). Prints the browser's path.
# Installs with apt-get when missing and this runs as root; otherwise exits 1 with a reason.
set -euo pipefail

browser="${SUBLEDGER_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
    echo "$browser"
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium is missing at $browser and cannot be installed here (needs root and apt-get)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
echo "$browser"
