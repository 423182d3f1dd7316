"""The skip checks of the pipeline tests (test_pipelines, test_gan_pipelines, test_seq_pipeline,
test_detect_pipeline, test_drive_demo): they encode H.264 and most run shipped models, so each
skips (exit status 77, meson's "skipped", after one SKIP line) where those are not there.

    reason = skip_reason(root, ["traffic-signs/traffic-signs.onnx"], env)
    if reason:
        return skip(reason)

The tests import it from their own directory (Python puts a script's directory first on
sys.path; meson runs them from the source tree).
"""
import os
import subprocess

SKIP = 77
NO_ENCODER = "no H.264 encoder (x264enc or openh264enc) is installed"


def h264_encoders(env=None):
    """The installed H.264 encoders, the preferred first, as gst-launch element descriptions."""
    return [enc for enc in ("x264enc tune=zerolatency", "openh264enc")
            if subprocess.run(["gst-inspect-1.0", enc.split()[0]], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0]


def skip_reason(root, models=(), env=None):
    """Why a pipeline test cannot run here: no H.264 encoder, or the first of @models (paths
    under ROOT/models) that is missing; None when it can run."""
    if not h264_encoders(env):
        return NO_ENCODER
    for m in models:
        if not os.path.exists(os.path.join(root, "models", m)):
            return f"models/{m} is not there"
    return None


def skip(reason):
    """Prints the SKIP line and returns the exit status that says so."""
    print(f"SKIP: {reason}")
    return SKIP
