#!/usr/bin/env bash
# Live view of a webcam with the classification drawn on it, and one JSON
# line per frame on standard output.  Needs a camera and a display, so it is
# documented but not run in CI.
#
#   pipelines/webcam.sh [MODEL.onnx] [/dev/videoN]
set -euo pipefail
source "$(dirname "$0")/common.sh"

model=${1:-$DEFAULT_MODEL}
device=${2:-/dev/video0}
[ -e "$device" ] || { echo "webcam: no camera at $device." >&2; exit 1; }

# inference-interval=2 keeps the view fluid on two cores; qos (on by default)
# skips inference, never frames, when the display falls behind.
exec gst-launch-1.0 v4l2src device="$device" ! videoconvert ! \
  imgrecclassify model="$model" inference-interval=2 ! \
  imgrecjson location=- ! imgrecoverlay ! videoconvert ! autovideosink sync=false
