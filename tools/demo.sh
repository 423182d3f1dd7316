#!/usr/bin/env bash
# The README's demo command.  Installs missing Debian packages, configures
# and builds build/ if needed, then runs the imgrec chain on a driving feed
# made at run time from what the repository ships (nothing is downloaded,
# nothing is read from outside it): pipelines/drive-demo.sh,
#
#   imgrecdrivesrc (road scene, GAN-drawn signs, night/rain/noise/blur and
#   lens faults, ground truth) -> imgrecdetect (traffic-sign-detector) ->
#   imgrectrack -> imgrecgan mode=generate (restorer) -> imgrecclassify ->
#   imgrecseq (CNN-RNN per track) -> imgrecgan mode=discriminate (camera
#   alarm) -> imgrecjson -> imgrecoverlay -> MP4
#
# and prints its score against the ground truth (detection recall and
# precision, id switches, label accuracy of the classifier and the CNN-RNN
# with and without the restorer, the alarm, fps).  Outputs in OUTPUT_DIR
# (default demo-output/): annotated.mp4 (open it in any video player),
# results.jsonl, results-no-restore.jsonl, ground-truth.jsonl, score.json.
# Then it classifies a few images with the engine alone (imgrec-run): drawn
# signs, and Debian darknet's real photos.  Without
# models/traffic-sign-detector/traffic-sign-detector.onnx the driving part is
# skipped with a message.
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

# drive-demo.sh exits 3 when the detector is not there (it said so).
drove=0
drive() {
  local rc=0
  bash pipelines/drive-demo.sh "$@" || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || exit $rc
  [ $rc -ne 0 ] || drove=1
}
if [ "${1:-}" = "--file" ]; then
  drive --file "${2:?--file needs a video path}" "${3:-demo-output}"
  exit 0
fi
out="${1:-demo-output}"
echo "== The driving demo (pipelines/drive-demo.sh)"
drive "$out"

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
if [ $drove -eq 1 ]; then
  echo
  echo "== Outputs of the driving demo: $out/annotated.mp4 (the annotated video: open it in any" \
       "player), $out/results.jsonl (every result per frame), $out/score.json (the figures above)"
fi
