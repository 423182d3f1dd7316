#!/usr/bin/env python3
"""Reads the GAN metas from Python through GObject-introspection.

Runs imgrecgansrc -> imgrecgan (discriminate) -> appsink and checks that the
provenance of each synthetic frame (role, model, seed, latent index, class)
and the realism score are readable through GstImgRec-1.0.  Exit status 77
(skip) when python3-gi or the typelib is missing.
"""
import math
import os
import sys

try:
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstVideo", "1.0")
    gi.require_version("GstImgRec", "1.0")
    from gi.repository import Gst, GstImgRec, GstVideo  # noqa: F401
except (ImportError, ValueError) as e:
    print(f"SKIP: {e}")
    sys.exit(77)


def main():
    Gst.init(None)
    data = os.environ["IMGREC_GST_TEST_DATA"]
    desc = (f"imgrecgansrc model=\"{data}/tiny-generator.onnx\" seed=42 class=1 "
            f"latent-walk=false num-buffers=4 ! video/x-raw,width=32,height=32 ! "
            f"imgrecgan model=\"{data}/tiny-discriminator.onnx\" ! "
            f"appsink name=sink sync=false")
    pipeline = Gst.parse_launch(desc)
    sink = pipeline.get_by_name("sink")
    assert pipeline.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE
    failures = []
    n = 0
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        buf = sample.get_buffer()
        metas = GstImgRec.buffer_get_imgrec_gan_metas(buf)
        if len(metas) != 2:
            failures.append(f"frame {n}: {len(metas)} GAN metas")
            break
        gen, disc = metas
        got = (gen.get_role(), gen.get_model(), gen.get_seed(), gen.get_latent_index(),
               gen.get_class_id(), gen.get_label())
        want = (GstImgRec.GanRole.GENERATED, "tiny-generator", 42, n, 1, "triangle")
        if got != want:
            failures.append(f"frame {n}: provenance {got}, expected {want}")
        if disc.get_role() != GstImgRec.GanRole.DISCRIMINATED:
            failures.append(f"frame {n}: role {disc.get_role()}")
        score, logit = disc.get_score(), disc.get_logit()
        if abs(score - 1 / (1 + math.exp(-logit))) > 1e-5:
            failures.append(f"frame {n}: score {score} is not sigmoid({logit})")
        if disc.is_anomaly():
            failures.append(f"frame {n}: flagged as an anomaly")
        # the defocus check is off: no reason, nothing measured
        if disc.get_anomaly_reasons() != 0 or disc.get_sharpness() >= 0 \
                or disc.get_sharpness_baseline() != 0:
            failures.append(f"frame {n}: reasons {disc.get_anomaly_reasons()}, sharpness "
                            f"{disc.get_sharpness()} of {disc.get_sharpness_baseline()}")
        if GstImgRec.gan_anomaly_reasons_to_string(GstImgRec.GanAnomalyReason.DEFOCUS) != "defocus":
            failures.append("gan_anomaly_reasons_to_string(DEFOCUS) is not \"defocus\"")
        n += 1
    pipeline.set_state(Gst.State.NULL)
    if n != 4:
        failures.append(f"{n} frames, expected 4")
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("ok: GAN provenance and realism scores read through GI")
    return 0


if __name__ == "__main__":
    sys.exit(main())
