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
