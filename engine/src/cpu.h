/* CPU features, read once: cpuid for what the core implements, xgetbv for
 * what the OS saves on context switches (AVX / AVX-512 register state).
 * Every kernel choice in the engine goes through ir_cpu ()->isa, which
 * IMGREC_ISA=ref|avx2|avx512 in the environment can cap (never raise) for
 * tests and A/B timing.  Kernels are chosen by feature, never by the build
 * host: per-ISA sources are compiled with their own flags. */
#ifndef IMGREC_CPU_H
#define IMGREC_CPU_H

#include <stdbool.h>

typedef enum ir_isa {
  IR_ISA_REF = 0,          /* plain C, any x86-64 (SSE2) or other CPU */
  IR_ISA_AVX2 = 1,         /* AVX2 + FMA (Haswell, Zen) */
  IR_ISA_AVX512 = 2,       /* AVX-512 F, DQ, BW, VL (Skylake-SP and later, Zen 4) */
} ir_isa;

typedef struct ir_cpu_info {
  ir_isa isa;              /* level used: the machine's, capped by IMGREC_ISA */
  ir_isa machine;          /* level the machine and OS support */
  bool avx2, fma, avx512f, avx512dq, avx512bw, avx512vl;
  bool os_avx, os_avx512;  /* XCR0 enables the YMM / ZMM state */
  bool cap_ignored;        /* IMGREC_ISA was set but not understood */
} ir_cpu_info;

/* Detected on the first call (thread-safe), constant afterwards. */
const ir_cpu_info *ir_cpu (void);

const char *ir_cpu_isa_name (ir_isa isa);

#endif
