#!/usr/bin/python3
"""Reads imgrecpublish's MQTT messages (through mosquitto_sub) and prints one
line a frame: source, frame, labels; says when a camera's frames skip.
Usage: mqtt-consumer.py [HOST:PORT] [TOPIC] [COUNT]  (defaults 127.0.0.1:1883,
imgrec/#, for ever).  A fixed client id and -c keep a persistent session, so
a restarted consumer gets what was published while it was away."""
import json, subprocess, sys

address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:1883"
topic = sys.argv[2] if len(sys.argv) > 2 else "imgrec/#"
count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
host, _, port = address.rpartition(":")
sub = ["mosquitto_sub", "-h", host, "-p", port, "-t", topic, "-q", "1", "-c",
       "-i", "imgrec-consumer", "-N", "-F", "%p\n"] + (["-C", str(count)] if count else [])
last = {}
with subprocess.Popen(sub, stdout=subprocess.PIPE, text=True) as p:
    for line in p.stdout:
        m = json.loads(line)
        src = m.get("source", "?")
        if src in last and m["frame"] != last[src] + 1:
            print(f"{src}: frames {last[src] + 1}..{m['frame'] - 1} missing (or a restart)")
        last[src] = m["frame"]
        labels = ", ".join(f"{r.get('label')} {r.get('confidence', 0):.2f}" for r in m["results"])
        print(f"{src} frame {m['frame']} t={m['timestamp']}: {labels}", flush=True)
