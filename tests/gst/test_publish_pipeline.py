#!/usr/bin/python3
"""pipelines/publish-mqtt.sh --test N against a mosquitto broker started on a
free 127.0.0.1 port, read back by pipelines/mqtt-consumer.py: one line per
frame, in order, with the source and a label.

Usage: test_publish_pipeline.py SOURCE_ROOT BUILD_ROOT WORK_DIR
Exit status 77 (skip) without the mosquitto broker or mosquitto_sub; meson
runs it only when the plugin was built with libmosquitto.  (It used to find
that out with a gst-launch-1.0 pipeline against a closed port, which hung
1 run in 8: gst-launch-1.0 1.22 quits its main loop from the bus sync handler,
and an ERROR posted by another thread before g_main_loop_run() starts is lost.)
"""
import os
import shutil
import socket
import subprocess
import sys
import time

src, build, work = sys.argv[1:4]
broker = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
if not os.access(broker, os.X_OK) or not shutil.which("mosquitto_sub"):
    print("SKIP: mosquitto / mosquitto-clients not installed")
    sys.exit(77)
env = dict(os.environ, IMGREC_BUILD=build, GST_PLUGIN_PATH=os.path.join(build, "gst"))

os.makedirs(work, exist_ok=True)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
conf = os.path.join(work, "mosquitto.conf")
with open(conf, "w") as f:
    f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
frames = 30
b = subprocess.Popen([broker, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
consumer = None
try:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    # Register the consumer's persistent session (its client id, -c, QoS 1)
    # before anything is published: the broker then keeps every frame for it
    # however late the consumer subscribes on a loaded machine (a fixed sleep
    # lost the first frames there, and the consumer then waited for ever).
    subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", "imgrec/#",
                    "-q", "1", "-c", "-i", "imgrec-consumer", "-E"], check=True, timeout=60)
    consumer = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(src, "pipelines", "mqtt-consumer.py"),
         f"127.0.0.1:{port}", "imgrec/#", str(frames)],
        stdout=subprocess.PIPE, text=True)
    run = subprocess.run(
        ["bash", os.path.join(src, "pipelines", "publish-mqtt.sh"), "--test", str(frames)],
        env=dict(env, IMGREC_MQTT_ADDRESS=f"127.0.0.1:{port}", IMGREC_SOURCE="gate-3",
                 IMGREC_TAGS='{"site":"depot"}'),
        capture_output=True, text=True, timeout=300)
    print(run.stdout, run.stderr)
    assert run.returncode == 0, f"publish-mqtt.sh exited with {run.returncode}"
    out, _ = consumer.communicate(timeout=60)
    print(out)
    lines = out.splitlines()
    assert len(lines) == frames, f"{len(lines)} lines, expected {frames}"
    for i, line in enumerate(lines):
        assert line.startswith(f"gate-3 frame {i} "), line
        assert "missing" not in line and ": " in line and line.split(": ", 1)[1], line
finally:
    # a consumer still waiting would keep the test's output pipe open
    if consumer is not None and consumer.poll() is None:
        consumer.kill()
        consumer.wait()
    b.kill()
    b.wait()
print(f"{frames} passed, 0 failed")
