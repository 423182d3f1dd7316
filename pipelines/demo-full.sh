#!/usr/bin/env bash
# The whole imgrec chain, needing nothing from outside the repository:
#
#   imgrecgansrc (traffic-signs-gan generator: a synthetic traffic-sign feed,
#   classes cycling every 2 s, latent walk) -> imgrecclassify (traffic-signs)
#   -> imgrecseq (traffic-signs-seq, when the element is built) ->
#   imgrecgan mode=discriminate (traffic-signs-gan discriminator) ->
#   imgrecjson -> imgrecoverlay -> H.264 MP4
#
# and a summary at the end: frames, labels per class, accuracy of the
# recognisers against the class the generator was conditioned on, realism,
# frames per second.  Written files:
#
#   OUTPUT_DIR/annotated.mp4   the video with every result drawn
#   OUTPUT_DIR/results.jsonl   one JSON object per frame (provenance included)
#
#   pipelines/demo-full.sh [OUTPUT_DIR]                 synthetic feed
#   pipelines/demo-full.sh --file VIDEO [OUTPUT_DIR]    the same chain on a video file
#
# Environment: IMGREC_FRAMES (synthetic frames, default 300 = 12 s at 25 fps),
# IMGREC_SEED (generator seed, default 1), IMGREC_ANOMALY_THRESHOLD (realism
# below which a run of 25 frames is an anomaly, default 0.2: the shipped
# discriminator scores sharp signs 0.25-0.7 and a covered or defocused lens
# under 0.15).
set -euo pipefail
source "$(dirname "$0")/common.sh"

input=""
if [ "${1:-}" = "--file" ]; then
  [ $# -ge 2 ] || { sed -n '2,24p' "$0" >&2; exit 2; }
  input=$2
  shift 2
  [ -f "$input" ] || { echo "demo-full: \"$input\" does not exist." >&2; exit 1; }
fi
outdir=${1:-demo-full-output}
mkdir -p "$outdir"

models="$IMGREC_ROOT/models"
frames=${IMGREC_FRAMES:-300}
seed=${IMGREC_SEED:-1}
threshold=${IMGREC_ANOMALY_THRESHOLD:-0.2}
caps="video/x-raw,format=I420,width=256,height=256,framerate=25/1"

if [ -n "$input" ]; then
  src="filesrc location=\"$input\" ! decodebin ! videoconvert ! videoscale ! video/x-raw,format=I420"
else
  src="imgrecgansrc model=\"$models/traffic-signs-gan/generator.onnx\" seed=$seed"
  src+=" class-duration=2000000000 latent-walk=true walk-frames=25 num-buffers=$frames ! $caps"
fi

seq=""
if gst-inspect-1.0 imgrecseq >/dev/null 2>&1; then
  seq="imgrecseq model=\"$models/traffic-signs-seq/traffic-signs-seq.onnx\" !"
else
  echo "demo-full: imgrecseq is not built; running the chain without it" >&2
fi

start_ns=$(date +%s%N)
eval gst-launch-1.0 -q "$src" ! \
  imgrecclassify model=\""$models/traffic-signs/traffic-signs.onnx"\" top-k=3 ! \
  "$seq" \
  imgrecgan mode=discriminate model=\""$models/traffic-signs-gan/discriminator.onnx"\" \
    anomaly-threshold="$threshold" anomaly-frames=25 ! \
  imgrecjson location=\""$outdir/results.jsonl"\" ! \
  imgrecoverlay ! videoconvert ! video/x-raw,format=I420 ! \
  $H264ENC ! h264parse ! mp4mux ! filesink location=\""$outdir/annotated.mp4"\"
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))

echo "demo-full: wrote $outdir/annotated.mp4 and $outdir/results.jsonl"
/usr/bin/python3 "$(dirname "$0")/gan-summary.py" "$outdir/results.jsonl" "$((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))"
