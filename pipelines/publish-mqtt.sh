#!/usr/bin/env bash
# Classifies a video and publishes every frame's results to an MQTT broker
# with imgrecpublish (one JSON message a frame, see docs/publish.md).
#
#   pipelines/publish-mqtt.sh [INPUT.mp4 | --test FRAMES] [MODEL.onnx]
#
# --test FRAMES: a synthetic test pattern instead of a file.  Environment:
# IMGREC_MQTT_ADDRESS (default 127.0.0.1:1883), IMGREC_SOURCE (camera name,
# default cam0), IMGREC_MQTT_TOPIC (default imgrec/$IMGREC_SOURCE),
# IMGREC_TAGS (a JSON object copied into every message, default none),
# IMGREC_MQTT_CONFIG (credentials/TLS file, default none).  Read the
# messages with pipelines/mqtt-consumer.py or mosquitto_sub.
set -euo pipefail
source "$(dirname "$0")/common.sh"

if [ $# -lt 1 ]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
if [ "$1" = "--test" ]; then
  frames=${2:?--test needs a frame count}
  [[ "$frames" =~ ^[0-9]+$ ]] || { echo "publish-mqtt: --test needs a frame count, got \"$frames\"." >&2; exit 2; }
  model=${3:-$DEFAULT_MODEL}
  input=(videotestsrc num-buffers="$frames" pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1)
else
  [ -f "$1" ] || { echo "publish-mqtt: \"$1\" does not exist." >&2; exit 1; }
  model=${2:-$DEFAULT_MODEL}
  input=(filesrc location="$1" ! decodebin)
fi
address=${IMGREC_MQTT_ADDRESS:-127.0.0.1:1883}
source_name=${IMGREC_SOURCE:-cam0}
topic=${IMGREC_MQTT_TOPIC:-imgrec/$source_name}
extra=()
[ -n "${IMGREC_TAGS:-}" ] && extra+=(tags="$IMGREC_TAGS")
[ -n "${IMGREC_MQTT_CONFIG:-}" ] && extra+=(mqtt-config="$IMGREC_MQTT_CONFIG")

# max-connect-attempts=5: the broker may still be starting; once connected,
# an outage only queues (max-queue) and reconnects.
gst-launch-1.0 -q "${input[@]}" ! videoconvert ! \
  imgrecclassify model="$model" ! \
  imgrecpublish method=mqtt address="$address" topic="$topic" \
    source="$source_name" max-connect-attempts=5 "${extra[@]}" ! \
  fakesink
echo "publish-mqtt: published to $topic at $address (source $source_name)"
