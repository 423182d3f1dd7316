#!/usr/bin/env bash
# The README's test command: installs missing Debian packages, configures
# and builds build/ if needed, and runs every test (meson test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build
fi
meson compile -C build
meson test -C build --print-errorlogs "$@"
