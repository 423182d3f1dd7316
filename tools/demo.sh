#!/usr/bin/env bash
# The README's demo command.  Installs missing Debian packages, configures
# and builds build/ if needed, then runs the whole imgrec chain on a
# synthetic traffic-sign feed made by our own GAN (nothing is downloaded):
#
#   imgrecgansrc -> imgrecclassify -> imgrecseq -> imgrecgan (discriminate)
#   -> imgrecjson -> imgrecoverlay -> MP4
#
# and prints a summary.  Output: demo-output/annotated.mp4 (open it in any
# video player) and demo-output/results.jsonl.  Then it classifies a few
# images with the engine alone (imgrec-run): drawn signs, and Debian
# darknet's real photos.
#
#   bash tools/demo.sh [OUTPUT_DIR]
#   bash tools/demo.sh --file VIDEO [OUTPUT_DIR]    the same chain on your video
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
build="${IMGREC_BUILD_DIR:-build}"
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" >/dev/null
fi
if ! log=$(meson compile -C "$build" 2>&1); then
  echo "$log" >&2
  exit 1
fi
export IMGREC_BUILD="$(cd "$build" && pwd)"
export IMGREC_RUN="$IMGREC_BUILD/engine/imgrec-run"

if [ "${1:-}" = "--file" ]; then
  bash pipelines/demo-full.sh --file "${2:?--file needs a video path}" "${3:-demo-output}"
  exit 0
fi
bash pipelines/demo-full.sh "${1:-demo-output}"

PY=/usr/bin/python3
echo
echo "== The engine alone (imgrec-run): traffic-signs on drawn signs"
$PY tools/classify_image.py models/traffic-signs/traffic-signs.onnx \
  synthetic:no-entry synthetic:priority-road synthetic:keep-right
photos=()
for f in dog horses eagle; do
  [ -f "/usr/share/darknet/data/$f.jpg" ] && photos+=("/usr/share/darknet/data/$f.jpg")
done
if [ ${#photos[@]} -gt 0 ] && $PY -c 'import PIL' 2>/dev/null; then
  echo
  echo "== objects-cifar10 on darknet's photos (each whole photo stretched to 32x32)"
  $PY tools/classify_image.py models/objects-cifar10/objects-cifar10.onnx "${photos[@]}"
fi
