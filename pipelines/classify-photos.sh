#!/usr/bin/env bash
# Classifies real photos (darknet's sample images from Debian's `darknet`
# package, or the JPEG files given) with a model we ship, and prints one
# line per photo: the file, the label and the confidence.  The full results
# (top-5) are written as JSON lines to classify-photos.jsonl.
#
#   pipelines/classify-photos.sh [MODEL.onnx] [PHOTO.jpg ...]
set -euo pipefail
source "$(dirname "$0")/common.sh"

model=${1:-$DEFAULT_MODEL}
shift || true
photos=("$@")
if [ ${#photos[@]} -eq 0 ]; then
  photos=("$DARKNET_IMAGES"/*.jpg)
  [ -e "${photos[0]}" ] || {
    echo "classify-photos: no photos given and $DARKNET_IMAGES is empty" \
         "(apt-get install darknet)." >&2; exit 1; }
fi
out=${IMGREC_JSON:-classify-photos.jsonl}
: > "$out"
for photo in "${photos[@]}"; do
  line=$(gst-launch-1.0 -q filesrc location="$photo" ! decodebin ! imagefreeze num-buffers=1 ! \
    imgrecclassify model="$model" resize=center-crop ! imgrecjson location=- ! fakesink)
  echo "$line" >> "$out"
  /usr/bin/python3 - "$(basename "$photo")" "$line" <<'PY'
import json, sys
r = json.loads(sys.argv[2])["results"][0]
print("%s: %s (%.0f%%)" % (sys.argv[1], r["label"], 100 * r["confidence"]))
PY
done
echo "classify-photos: results in $out"
