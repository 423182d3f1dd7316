"""The IMGREC_ISA levels this machine can run (ref, then avx2 with FMA, then avx512 with F, DQ,
BW and VL, as src/cpu.c requires), for the tests that run every kernel path."""


def machine_isas():
    flags = open("/proc/cpuinfo").read()
    isas = ["ref"]
    if " avx2" in flags and " fma" in flags:
        isas.append("avx2")
        if all(f" {f}" in flags for f in ("avx512f", "avx512dq", "avx512bw", "avx512vl")):
            isas.append("avx512")
    return isas


def check_under_isas(run, model, args, out_dir, out_name, want, mag, label, isas):
    """Runs imgrec-run on MODEL (ARGS: its --input options) under each ISA on 1 and 2 threads and
    compares output OUT_NAME with WANT (float64) within 1e-5 x MAG + 1e-6; prints a FAIL line per
    bad run, named by LABEL.  Returns (passed, failed)."""
    import os
    import subprocess

    import numpy as np

    passed = failed = 0
    for isa in isas:
        for threads in ("1", "2"):
            odir = f"{out_dir}_{isa}_{threads}"
            p = subprocess.run([run, model, *args, "--output-dir", odir, "--threads", threads],
                               capture_output=True, text=True, timeout=120,
                               env=dict(os.environ, IMGREC_ISA=isa))
            name = f"{label} {isa} T{threads}"
            if p.returncode != 0:
                failed += 1
                print(f"FAIL {name}: {p.stderr.strip()}")
                continue
            got = np.load(os.path.join(odir, out_name + ".npy")).astype(np.float64)
            err = np.abs(got - want) if got.shape == want.shape else None
            if err is not None and np.all(err <= 1e-5 * mag + 1e-6):
                passed += 1
            else:
                failed += 1
                print(f"FAIL {name}: " + (f"max error {err.max()}" if err is not None
                                          else f"shape {got.shape}, want {want.shape}"))
    return passed, failed
