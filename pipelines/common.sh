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
DEFAULT_MODEL="$IMGREC_ROOT/models/objects-cifar10/objects-cifar10.onnx"
DARKNET_IMAGES=/usr/share/darknet/data
