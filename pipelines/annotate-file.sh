#!/usr/bin/env bash
# Classifies every frame of a video file and writes an annotated MP4 (labels
# drawn by imgrecoverlay, H.264 by x264enc or openh264enc) and one JSON line per frame.
#
#   pipelines/annotate-file.sh INPUT.mp4 [OUTPUT.mp4] [MODEL.onnx]
#
# OUTPUT defaults to INPUT's name with .annotated.mp4; the JSON lines go next
# to it as .jsonl.  MODEL defaults to models/objects-cifar10.
set -euo pipefail
source "$(dirname "$0")/common.sh"

if [ $# -lt 1 ]; then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
input=$1
output=${2:-${input%.*}.annotated.mp4}
model=${3:-$DEFAULT_MODEL}
json=${output%.*}.jsonl
[ -f "$input" ] || { echo "annotate-file: \"$input\" does not exist." >&2; exit 1; }

gst-launch-1.0 -q filesrc location="$input" ! decodebin ! videoconvert ! \
  imgrecclassify model="$model" ! imgrecjson location="$json" ! \
  imgrecoverlay ! videoconvert ! video/x-raw,format=I420 ! $H264ENC ! h264parse ! \
  mp4mux ! filesink location="$output"
echo "annotate-file: wrote $output and $json ($(wc -l < "$json") frames)"
