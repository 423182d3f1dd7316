#!/usr/bin/env bash
# Recognises traffic signs over time in a video file: imgrecroi attaches the
# regions where signs are (fixed or keyframed boxes), imgrecseq runs the
# traffic-signs-seq CNN-LSTM with one memory per region (scope=roi),
# imgrecoverlay draws the labels; writes an MP4 (H.264: x264enc, else openh264enc) and one
# JSON line per frame, and prints each "sign recognised" event
# (imgrec-sequence-change message).
#
#   pipelines/track-signs-seq.sh INPUT.mp4 REGIONS [OUTPUT.mp4]
#
# REGIONS is imgrecroi's syntax: "sign=x,y,w,h" (fixed) or
# "sign=t0:x,y,w,h/t1:x,y,w,h" (keyframes at stream times in seconds),
# several separated by ';'.  Use "full" to recognise the whole frame
# (scope=stream).  OUTPUT defaults to INPUT's name with .seq.mp4; the JSON
# lines go next to it as .jsonl.
set -euo pipefail
source "$(dirname "$0")/common.sh"

if [ $# -lt 2 ]; then
  sed -n '2,15p' "$0" >&2
  exit 2
fi
input=$1
regions=$2
output=${3:-${input%.*}.seq.mp4}
json=${output%.*}.jsonl
model="$IMGREC_ROOT/models/traffic-signs-seq/traffic-signs-seq.onnx"
[ -f "$input" ] || { echo "track-signs-seq: \"$input\" does not exist." >&2; exit 1; }

if [ "$regions" = full ]; then
  analyse="imgrecseq model=\"$model\" scope=stream"
else
  analyse="imgrecroi regions=\"$regions\" ! imgrecseq model=\"$model\" scope=roi"
fi

eval gst-launch-1.0 -m filesrc location="\"$input\"" ! decodebin ! videoconvert ! \
  "$analyse" ! imgrecjson location="\"$json\"" ! \
  imgrecoverlay ! videoconvert ! video/x-raw,format=I420 ! $H264ENC ! h264parse ! \
  mp4mux ! filesink location="\"$output\"" |
  sed -n 's/.*imgrec-sequence-change, timestamp=(guint64)\([0-9]*\).* roi-id=(int)\([-0-9]*\).* label=(string)\("[^"]*"\|[^,]*\),.* confidence=(double)\([0-9.e-]*\).*/sign recognised: \3 (region \2, at \1 ns, confidence \4)/p'
echo "track-signs-seq: wrote $output and $json ($(wc -l < "$json") frames)"
