#!/usr/bin/env bash
# The demo: a slideshow of real photos (darknet's sample images, Debian
# package `darknet`; a test pattern when they are absent) is classified
# frame by frame, and the pipeline writes an annotated video and the results
# as JSON lines that you can open:
#
#   demo-output/annotated.mp4   the video with labels drawn by imgrecoverlay
#   demo-output/results.jsonl   one JSON object per frame (imgrecjson)
#
#   pipelines/demo.sh [MODEL.onnx] [OUTPUT_DIR]
set -euo pipefail
source "$(dirname "$0")/common.sh"

model=${1:-$DEFAULT_MODEL}
outdir=${2:-demo-output}
mkdir -p "$outdir"
caps="video/x-raw,format=I420,width=640,height=480,pixel-aspect-ratio=1/1"

src=""
n=0
for photo in "$DARKNET_IMAGES"/{dog,eagle,giraffe,horses,kite,person}.jpg; do
  [ -f "$photo" ] || continue
  src+=" filesrc location=$photo ! jpegdec ! videoconvert ! videoscale add-borders=true !"
  src+=" $caps ! imagefreeze num-buffers=50 ! video/x-raw,framerate=25/1 ! c."
  n=$((n + 1))
done
if [ $n -gt 0 ]; then
  src="$src concat name=c"
else
  echo "demo: darknet's photos are absent (apt-get install darknet); using a test pattern" >&2
  src="videotestsrc num-buffers=250 pattern=smpte ! $caps,framerate=25/1"
fi

# shellcheck disable=SC2086
gst-launch-1.0 -q $src ! \
  imgrecclassify model="$model" top-k=3 ! \
  imgrecjson location="$outdir/results.jsonl" ! \
  imgrecoverlay show=label+confidence+top-k ! videoconvert ! video/x-raw,format=I420 ! \
  $H264ENC ! h264parse ! mp4mux ! filesink location="$outdir/annotated.mp4"
echo "demo: wrote $outdir/annotated.mp4 and $outdir/results.jsonl" \
     "($(wc -l < "$outdir/results.jsonl") frames)"
