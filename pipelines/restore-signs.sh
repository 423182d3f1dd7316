#!/usr/bin/env bash
# Restores degraded traffic-sign regions of a video (noise, blur, low light,
# JPEG artefacts) with the traffic-signs-restore GAN, then classifies the
# restored regions: imgrecroi attaches the regions, imgrecgan mode=generate
# replaces each region by the generator's 32x32 restoration scaled back into
# place (mixed with the original by BLEND), imgrecclassify labels it,
# imgrecoverlay draws the labels; writes an MP4 (H.264: x264enc, else openh264enc) and one
# JSON line per frame.
#
#   pipelines/restore-signs.sh INPUT.mp4 REGIONS [OUTPUT.mp4] [BLEND]
#
# REGIONS is imgrecroi's syntax: "sign=x,y,w,h" (fixed) or
# "sign=t0:x,y,w,h/t1:x,y,w,h" (keyframes at stream times in seconds),
# several separated by ';'.  OUTPUT defaults to INPUT's name with
# .restored.mp4; BLEND defaults to 1 (replace the region).
set -euo pipefail
source "$(dirname "$0")/common.sh"

if [ $# -lt 2 ]; then
  sed -n '2,15p' "$0" >&2
  exit 2
fi
input=$1
regions=$2
output=${3:-${input%.*}.restored.mp4}
blend=${4:-1}
json=${output%.*}.jsonl
restore="$IMGREC_ROOT/models/traffic-signs-restore/traffic-signs-restore.onnx"
classify="$IMGREC_ROOT/models/traffic-signs/traffic-signs.onnx"
[ -f "$input" ] || { echo "restore-signs: \"$input\" does not exist." >&2; exit 1; }

gst-launch-1.0 -q filesrc location="$input" ! decodebin ! videoconvert ! \
  imgrecroi regions="$regions" ! \
  imgrecgan mode=generate model="$restore" roi=roi-list blend="$blend" ! \
  imgrecclassify model="$classify" roi=roi-list ! imgrecjson location="$json" ! \
  imgrecoverlay ! videoconvert ! video/x-raw,format=I420 ! $H264ENC ! h264parse ! \
  mp4mux ! filesink location="$output"
echo "restore-signs: wrote $output and $json ($(wc -l < "$json") frames)"
