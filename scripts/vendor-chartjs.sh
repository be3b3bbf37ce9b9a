#!/usr/bin/env bash
# Refresh the vendored charting library from the npm registry: `make vendor`.
# Usage: scripts/vendor-chartjs.sh VERSION SHA256 DEST
# Fetches chart.js@VERSION with npm, checks the sha256 of its dist/chart.umd.min.js against the
# pinned SHA256, and copies it with its licence into DEST. The app serves the committed copy
# (`make run` needs no Node); this script is only for moving the pin on purpose.
set -euo pipefail

version="$1" expected="$2" dest="$3"
command -v npm >/dev/null || { echo "vendor: npm is needed (Node.js 20)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "chart.js@${version}" >/dev/null)
tar -xzf "$work/chart.js-${version}.tgz" -C "$work" package/dist/chart.umd.min.js package/LICENSE.md
actual="$(sha256sum "$work/package/dist/chart.umd.min.js" | cut -d' ' -f1)"
if [ "$actual" != "$expected" ]; then
    echo "vendor: chart.js@${version} dist/chart.umd.min.js has sha256 ${actual}, pinned ${expected}" >&2
    exit 1
fi
mkdir -p "$dest"
cp "$work/package/dist/chart.umd.min.js" "$dest/chart.umd.min.js"
cp "$work/package/LICENSE.md" "$dest/chart.js-LICENSE.md"
echo "vendor: chart.js@${version} (sha256 ${actual}) in ${dest}"
