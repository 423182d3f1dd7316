#!/usr/bin/env bash
# The README demo's chain on a driving feed, needing nothing from outside
# the repository:
#
#   imgrecdrivesrc (procedural road, signs drawn by traffic-signs-gan,
#   segments day/night/rain/noise/motion-blur/covered/defocus, ground truth)
#   -> imgrecdetect (traffic-sign-detector) -> imgrectrack -> tee
#      -> imgrecgan mode=generate roi=roi-list (traffic-signs-restore, on the
#         signs whose crop looks noisy or blurred: the degradation gate)
#         -> imgrecclassify roi=roi-list (traffic-signs)
#         -> imgrecseq scope=roi (traffic-signs-seq, one state per track)
#         -> imgrecgan mode=discriminate (traffic-signs-gan discriminator:
#            the camera anomaly alarm) -> imgrecjson -> imgrecoverlay -> MP4
#      -> imgrecclassify -> imgrecseq -> imgrecjson   (the same without the
#         restorer: the ablation, on the same detections and tracks)
#
# then scores both against the ground truth (tools/score_drive_demo.py):
# detection recall/precision, id switches, per-track final-label accuracy of
# the per-frame classifier and of the CNN-RNN with and without the restorer,
# the alarm's hits on the lens faults, frames per second.  Written files:
#
#   OUTPUT_DIR/annotated.mp4            the video with every result drawn
#   OUTPUT_DIR/results.jsonl            one JSON object per frame (imgrecjson)
#   OUTPUT_DIR/results-no-restore.jsonl the branch without the restorer
#   OUTPUT_DIR/ground-truth.jsonl       imgrecdrivesrc's truth per frame
#   OUTPUT_DIR/score.json               the printed figures
#
#   pipelines/drive-demo.sh [OUTPUT_DIR]                 synthetic feed
#   pipelines/drive-demo.sh --file VIDEO [OUTPUT_DIR]    the same chain on a video
#                                                        (no ground truth, no score)
#
# Environment: IMGREC_DETECTOR (detector ONNX, default
# models/traffic-sign-detector/traffic-sign-detector.onnx),
# IMGREC_DETECT_THRESHOLD (its operating point, default 0.6),
# IMGREC_DETECT_OPTS / IMGREC_TRACK_OPTS (more imgrecdetect / imgrectrack
# properties), IMGREC_SEED (scene seed, default 1), IMGREC_SEGMENTS
# (imgrecdrivesrc segments, default a 19 s loop with every kind),
# IMGREC_FRAMES (default one loop at 30 fps; with --file: all), IMGREC_SIZE (WIDTHxHEIGHT,
# default 1280x720), IMGREC_SIGN_SPACING (metres, default 20),
# IMGREC_ANOMALY_THRESHOLD / IMGREC_ANOMALY_FRAMES (realism below which that
# many frames in a row raise the alarm; defaults 0.185 and 15),
# IMGREC_DEFOCUS_THRESHOLD (the fraction of the frame's own sharpness
# baseline below which as many frames raise it, reason "defocus"; default
# 0.2, 0 = off), IMGREC_GATE_MAX_NOISE / IMGREC_GATE_MIN_SHARPNESS (the
# restorer's degradation gate, defaults 7 and 0.02; both 0 restores every
# sign), IMGREC_RESTORE_OPTS (more properties of the restoring imgrecgan).
# Exit status 3, after one line saying so, when the detector is missing.
set -euo pipefail
source "$(dirname "$0")/common.sh"

input=""
if [ "${1:-}" = "--file" ]; then
  [ $# -ge 2 ] || { sed -n '2,47p' "$0" >&2; exit 2; }
  input=$2
  shift 2
  [ -f "$input" ] || { echo "drive-demo: \"$input\" does not exist." >&2; exit 1; }
fi
outdir=${1:-drive-demo-output}

models="$IMGREC_ROOT/models"
detector=${IMGREC_DETECTOR:-$models/traffic-sign-detector/traffic-sign-detector.onnx}
if [ ! -f "$detector" ]; then
  echo "drive-demo: the traffic-sign detector $detector is not there" \
       "(it is trained by tools/train/traffic_sign_detector.py); skipping the driving demo."
  exit 3
fi
seed=${IMGREC_SEED:-1}
# Every segment kind once, the lens faults long enough for the alarm's
# IMGREC_ANOMALY_FRAMES to enter and leave it.
segments=${IMGREC_SEGMENTS:-day:4,night:3,rain:2,noise:2,motion-blur:2,covered:2,day:2,defocus:2}
fps=30
loop_s=$(echo "$segments" | tr ',' '\n' | awk -F: '{s += $2} END {print s}')
frames=${IMGREC_FRAMES:-$(awk -v s="$loop_s" -v f=$fps 'BEGIN {print int(s * f)}')}
size=${IMGREC_SIZE:-1280x720}
width=${size%x*}
height=${size#*x}
# The shipped discriminator (32x32 sign realism) scores the whole road frame,
# scaled with scaling=antialias, 0.19-0.24 at night, 0.23-0.41 in the other
# conditions and 0.17 with the lens covered (seed 1; a defocused lens scores
# like a sharp one: it does not see that blur at 32x32; see the README).
threshold=${IMGREC_ANOMALY_THRESHOLD:-0.185}
anomaly_frames=${IMGREC_ANOMALY_FRAMES:-15}
# The lens-sharpness check beside it (defocus-threshold: sharpness below this
# fraction of the frame's own running baseline), chosen on seeds 11 and 12 of
# this feed, default segments: the ratio to the baseline is 0.07-0.21
# (median 0.09) with the lens defocused, at least 0.34 in motion blur, 0.59
# in rain, 0.86 at night; the covered lens has no detail and is not measured.
# 0.15, 0.2, 0.25 and 0.3 all hit the defocus on both seeds, 0.1 late on
# seed 11 (1.2 s), 0.05 not at all; none raised a false alarm; 0.2 leaves
# the widest margin on both sides (1.7x below motion blur, 2.2x above the
# median defocused frame).
defocus=${IMGREC_DEFOCUS_THRESHOLD:-0.2}
# The detector's operating point, chosen for the shipped model (b57989e) on
# seeds 11 and 12 of this feed (neither the README's seed 1 nor the test's
# seed 3), default segments, by detection F1 (IoU 0.5, signs >= 20 px):
# 0.4 0.433, 0.5 0.473, 0.55 0.491, 0.6 0.496, 0.65 0.493, 0.7 0.489,
# 0.75 0.463 (precision 0.35 at 0.4, 0.54 at 0.6); the model card's best-F1
# point on held-out real scenes is 0.58.  Full runs at 0.6 against 0.2: the
# CNN-RNN's final label 100 % of followed signs either way, 26 of 35 signs
# followed against 27, 2-3 id switches per seed against 1 (0 on both seeds
# since the tracker matches active tracks first and widens lost tracks'
# gates by their uncertainty); the tracker keeps its defaults (not tuned).
det_threshold=${IMGREC_DETECT_THRESHOLD:-0.6}
# The restorer's degradation gate: a sign is restored only when its 32x32
# crop (what the restorer sees) looks noisy (noise above gate-max-noise grey
# levels) or blurred (sharpness, in its blurrier direction, below
# gate-min-sharpness); the other signs pass untouched.  Chosen on seeds 11
# and 12 by the classifier's probability of the true class on every matched
# frame, restored against not: restoring every sign loses 9.0 in sum over
# 734 frames (day -4.5, rain -6.8, night -0.8; noise +2.9), so only noise
# is worth restoring.  gate-max-noise 5, 5.5, 6, 6.5, 7, 8 alone: +4.1,
# +4.5, +3.8, +3.8, +3.3, +3.7, restoring 26, 14, 5, 1, 0, 0 of the 266 day
# crops (the noisiest measures 6.65); 7 is the lowest that leaves every
# clean sign untouched, and takes 111 of the 142 noise-segment crops.
# gate-min-sharpness 0.02 adds the motion-blurred and defocused signs (11
# crops, 0.008-0.018; the least sharp day crop measures 0.028; 0.03 would
# take 2 day crops): +3.5 in all.  IMGREC_GATE_MAX_NOISE=0 and
# IMGREC_GATE_MIN_SHARPNESS=0 restore every sign, as before.
gate_noise=${IMGREC_GATE_MAX_NOISE:-7}
gate_sharpness=${IMGREC_GATE_MIN_SHARPNESS:-0.02}
restore_opts="gate-max-noise=$gate_noise gate-min-sharpness=$gate_sharpness ${IMGREC_RESTORE_OPTS:-}"
mkdir -p "$outdir"
rm -f "$outdir/ground-truth.jsonl"

if [ -n "$input" ]; then
  src="filesrc location=\"$input\" ! decodebin ! videoconvert ! video/x-raw,format=I420"
  # IMGREC_FRAMES, when set, stops a long video early
  [ -z "${IMGREC_FRAMES:-}" ] || src+=" ! identity eos-after=$IMGREC_FRAMES"
else
  src="imgrecdrivesrc model=\"$models/traffic-signs-gan/generator.onnx\" seed=$seed"
  src+=" segments=\"$segments\" sign-spacing=${IMGREC_SIGN_SPACING:-20} num-buffers=$frames"
  src+=" ground-truth-location=\"$outdir/ground-truth.jsonl\""
  src+=" ! video/x-raw,format=I420,width=$width,height=$height,framerate=$fps/1"
fi

classify="imgrecclassify roi=roi-list object-class=traffic-sign top-k=3"
classify+=" model=\"$models/traffic-signs/traffic-signs.onnx\""
seq="imgrecseq scope=roi object-class=traffic-sign"
seq+=" model=\"$models/traffic-signs-seq/traffic-signs-seq.onnx\""

start_ns=$(date +%s%N)
# Two queues after the tee: the branch without the restorer runs on the
# other core.  Only the restored branch is drawn and encoded.
eval gst-launch-1.0 -q "$src" ! \
  imgrecdetect model=\""$detector"\" threshold="$det_threshold" ${IMGREC_DETECT_OPTS:-} ! \
  imgrectrack ${IMGREC_TRACK_OPTS:-} ! tee name=t \
  t. ! queue max-size-buffers=4 ! \
    imgrecgan mode=generate roi=roi-list object-class=traffic-sign \
      model=\""$models/traffic-signs-restore/traffic-signs-restore.onnx"\" $restore_opts ! \
    "$classify" ! "$seq" ! \
    imgrecgan mode=discriminate model=\""$models/traffic-signs-gan/discriminator.onnx"\" \
      scaling=antialias anomaly-threshold="$threshold" anomaly-frames="$anomaly_frames" \
      defocus-threshold="$defocus" ! \
    imgrecjson location=\""$outdir/results.jsonl"\" ! \
    imgrecoverlay font-size=16 ! videoconvert ! video/x-raw,format=I420 ! \
    $H264ENC ! h264parse ! mp4mux ! filesink location=\""$outdir/annotated.mp4"\" \
  t. ! queue max-size-buffers=4 ! "$classify" ! "$seq" ! \
    imgrecjson location=\""$outdir/results-no-restore.jsonl"\" ! fakesink
elapsed_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
seconds="$((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000)))"

truth=""
[ -n "$input" ] || truth=" $outdir/ground-truth.jsonl"
echo "drive-demo: wrote $outdir/annotated.mp4 (the annotated video), $outdir/results.jsonl," \
     "$outdir/results-no-restore.jsonl,$truth and $outdir/score.json"
score=(/usr/bin/python3 "$IMGREC_ROOT/tools/score_drive_demo.py"
       --results "$outdir/results.jsonl" --no-restore "$outdir/results-no-restore.jsonl"
       --seconds "$seconds" --json "$outdir/score.json")
if [ -z "$input" ]; then
  score+=(--truth "$outdir/ground-truth.jsonl")
fi
"${score[@]}"
