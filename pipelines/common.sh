# Shared setup for the pipeline scripts: find gst-launch-1.0 and the imgrec
# plugin (the build tree's when there is one, else the installed one).
# Sourced, not run.
IMGREC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMGREC_BUILD="${IMGREC_BUILD:-$IMGREC_ROOT/build}"
if [ -f "$IMGREC_BUILD/gst/libgstimgrec.so" ]; then
  export GST_PLUGIN_PATH="$IMGREC_BUILD/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi
if ! gst-inspect-1.0 imgrecclassify >/dev/null 2>&1; then
  echo "imgrec: the imgrec GStreamer plugin was not found; build it first" \
       "(meson setup build && meson compile -C build) or set IMGREC_BUILD." >&2
  exit 1
fi
# H.264 encoder for the scripts' MP4 files (fed I420): x264enc
# (gstreamer1.0-plugins-ugly) when installed, else openh264enc.  openh264enc
# works too, but GStreamer 1.22 drains it at EOS with a call that OpenH264
# answers by printing "Error: ... EncodeFrame(), cmInitParaError" on every
# run, whatever the settings: a clean run should not print an error.
# tune=zerolatency: no B-frames and no look-ahead, so the MP4's timestamps
# are exactly the pipeline's (with B-frames, mp4mux's edit list shifted the
# demo's first frame to 2 s and re-encoding that file lost frames).
# IMGREC_H264ENC overrides the choice (an element with its properties).
if [ -n "${IMGREC_H264ENC:-}" ]; then
  H264ENC=$IMGREC_H264ENC
elif gst-inspect-1.0 x264enc >/dev/null 2>&1; then
  H264ENC="x264enc speed-preset=veryfast tune=zerolatency"
else
  H264ENC="openh264enc"
fi
DEFAULT_MODEL="$IMGREC_ROOT/models/objects-cifar10/objects-cifar10.onnx"
DARKNET_IMAGES=/usr/share/darknet/data
