#!/usr/bin/env bash
# Finds objects in a video with an ONNX detector (imgrecdetect: YOLOv5/v8/
# v11, SSD or NMS-done exports), follows them (imgrectrack: stable ids,
# predicted boxes between inferences), optionally classifies each tracked
# object, and writes an annotated MP4 (boxes, labels, confidences, ids) and
# one JSON line per frame.
#
#   pipelines/detect-track.sh VIDEO DETECTOR.onnx [OUTPUT.mp4] [CLASSIFIER.onnx]
#
# OUTPUT defaults to VIDEO's name with .tracked.mp4; the JSON lines go next to
# it as .jsonl.  IMGREC_DETECT_OPTS adds imgrecdetect properties (e.g.
# "threshold=0.4 inference-interval=2 classes=car,person"), IMGREC_TRACK_OPTS
# imgrectrack ones.
set -euo pipefail
source "$(dirname "$0")/common.sh"

if [ $# -lt 2 ]; then
  sed -n '2,13p' "$0" >&2
  exit 2
fi
input=$1
detector=$2
output=${3:-${input%.*}.tracked.mp4}
classifier=${4:-}
json=${output%.*}.jsonl
[ -f "$input" ] || { echo "detect-track: \"$input\" does not exist." >&2; exit 1; }
[ -f "$detector" ] || { echo "detect-track: detector \"$detector\" does not exist." >&2; exit 1; }

classify=""
if [ -n "$classifier" ]; then
  [ -f "$classifier" ] || { echo "detect-track: classifier \"$classifier\" does not exist." >&2; exit 1; }
  classify="imgrecclassify model=$classifier roi=roi-list !"
fi

# shellcheck disable=SC2086  # the option strings are lists of properties
gst-launch-1.0 -q filesrc location="$input" ! decodebin ! videoconvert ! \
  imgrecdetect model="$detector" ${IMGREC_DETECT_OPTS:-} ! \
  imgrectrack ${IMGREC_TRACK_OPTS:-} ! $classify \
  imgrecjson location="$json" ! \
  imgrecoverlay ! videoconvert ! video/x-raw,format=I420 ! $H264ENC ! h264parse ! \
  mp4mux ! filesink location="$output"
frames=$(wc -l < "$json")
tracks=$(python3 -c '
import json, sys
ids = set()
for line in open(sys.argv[1]):
    for r in json.loads(line)["results"]:
        if r["kind"] == "track":
            ids.add(r["track-id"])
print(len(ids))' "$json")
echo "detect-track: wrote $output and $json ($frames frames, $tracks tracks)"
