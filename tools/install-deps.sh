#!/usr/bin/env bash
# Installs the Debian 12 packages imgrec needs to build, test and run its
# demo.  Idempotent: installs only what is missing; does nothing when all is
# present.  Needs root (or sudo) only when something must be installed.
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config gcc
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev
  # GStreamer plugin
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly libcairo2-dev libpango1.0-dev libjson-glib-dev
  gobject-introspection libgirepository1.0-dev
  # imgrecpublish: MQTT (libmosquitto) and Kafka (librdkafka); the broker and
  # its clients for the tests and pipelines/publish-mqtt.sh; openssl makes the
  # TLS test's certificates
  libmosquitto-dev librdkafka-dev mosquitto mosquitto-clients openssl
  # GStreamer tests: Python GI metadata test, leak checks
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 valgrind
  # tests: ONNX conformance data, Python reference tools
  libonnx-testdata python3-numpy python3-onnx
  # tests: real photos (Debian packages) for the classifier checks
  darknet python3-skimage python3-pil
)

missing=()
for p in "${packages[@]}"; do
  [[ "$p" == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
