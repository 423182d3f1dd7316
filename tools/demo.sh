#!/usr/bin/env bash
# The README's demo command (until the GStreamer elements are in place): installs missing Debian
# packages, configures and builds build/ if needed, then classifies images with the models we ship
# (models/*/*.onnx) through imgrec's engine (build/engine/imgrec-run), printing label and confidence.
#   - objects-cifar10 on real photos from Debian's darknet package (/usr/share/darknet/data/*.jpg),
#     when that package and python3-pil are installed (apt-get install darknet python3-pil);
#   - traffic-signs on signs drawn by tools/classify_image.py (no download needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
build="${IMGREC_BUILD_DIR:-build}"   # build directory (default build/)
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build"
fi
if ! log=$(meson compile -C "$build" imgrec-run 2>&1); then
  echo "$log" >&2
  exit 1
fi
export IMGREC_RUN="$(cd "$build" && pwd)/engine/imgrec-run"
PY=/usr/bin/python3

echo "== traffic-signs (GTSRB, 43 classes) on drawn signs"
$PY tools/classify_image.py models/traffic-signs/traffic-signs.onnx \
  synthetic:no-entry synthetic:priority-road synthetic:keep-right

echo
photos=()
for f in dog horses eagle; do
  [ -f "/usr/share/darknet/data/$f.jpg" ] && photos+=("/usr/share/darknet/data/$f.jpg")
done
if [ ${#photos[@]} -gt 0 ] && $PY -c 'import PIL' 2>/dev/null; then
  echo "== objects-cifar10 (10 classes: airplane automobile bird cat deer dog frog horse ship truck)"
  echo "   on darknet's photos, each whole photo stretched to 32x32"
  $PY tools/classify_image.py models/objects-cifar10/objects-cifar10.onnx "${photos[@]}"
  echo
  echo "== seed-cnn-cifar10 (the founding description's CNN, the baseline) on the same photos"
  $PY tools/classify_image.py models/seed-cnn-cifar10/seed-cnn-cifar10.onnx "${photos[@]}"
else
  echo "(real photos skipped: apt-get install darknet python3-pil to classify darknet's dog/horses/eagle photos)"
fi
