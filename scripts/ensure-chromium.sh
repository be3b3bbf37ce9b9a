#!/usr/bin/env bash
# Make sure a Chromium the browser tests can drive is installed; print its path.
# The tests drive Debian's `chromium` with Playwright (`playwright install`, its own browser
# download, does not work here). As root, a missing chromium is installed with apt-get; as
# anyone else, or when apt-get fails, exit 1 with the reason on stderr (the browser tests
# then skip, saying why).
set -euo pipefail

for candidate in "${SUBLEDGER_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
        echo "$candidate"
        exit 0
    fi
done
if [ "$(id -u)" != "0" ]; then
    echo "ensure-chromium: chromium is not installed and installing it needs root (apt-get install chromium)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; }; then
    echo "ensure-chromium: apt-get could not install chromium" >&2
    exit 1
fi
echo /usr/bin/chromium
