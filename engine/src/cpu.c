/* CPU feature detection: see cpu.h. */
#include "cpu.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t
read_xcr0 (void)
{
  uint32_t lo, hi;
  __asm__ volatile ("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
  return ((uint64_t) hi << 32) | lo;
}
#endif

static ir_cpu_info cpu_info;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void
cpu_detect (void)
{
  ir_cpu_info *c = &cpu_info;
  memset (c, 0, sizeof *c);
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, cx, d;
  if (__get_cpuid (1, &a, &b, &cx, &d)) {
    const bool osxsave = (cx >> 27) & 1, avx = (cx >> 28) & 1;
    c->fma = (cx >> 12) & 1;
    if (osxsave && avx) {
      const uint64_t xcr0 = read_xcr0 ();
      c->os_avx = (xcr0 & 0x6) == 0x6;              /* SSE + YMM state */
      c->os_avx512 = c->os_avx && (xcr0 & 0xe0) == 0xe0;   /* opmask, ZMM0-15 hi, ZMM16-31 */
    }
  }
  if (__get_cpuid_max (0, NULL) >= 7) {
    __cpuid_count (7, 0, a, b, cx, d);
    c->avx2 = (b >> 5) & 1;
    c->avx512f = (b >> 16) & 1;
    c->avx512dq = (b >> 17) & 1;
    c->avx512bw = (b >> 30) & 1;
    c->avx512vl = (b >> 31) & 1;
  }
  c->machine = IR_ISA_REF;
  if (c->os_avx && c->avx2 && c->fma) {
    c->machine = IR_ISA_AVX2;
    if (c->os_avx512 && c->avx512f && c->avx512dq && c->avx512bw && c->avx512vl)
      c->machine = IR_ISA_AVX512;
  }
#else
  c->machine = IR_ISA_REF;
#endif
  c->isa = c->machine;
  const char *cap = getenv ("IMGREC_ISA");
  if (cap != NULL && cap[0] != '\0') {
    ir_isa want;
    if (strcmp (cap, "ref") == 0)
      want = IR_ISA_REF;
    else if (strcmp (cap, "avx2") == 0)
      want = IR_ISA_AVX2;
    else if (strcmp (cap, "avx512") == 0)
      want = IR_ISA_AVX512;
    else {
      c->cap_ignored = true;
      return;
    }
    if (want < c->isa)
      c->isa = want;
  }
}

const ir_cpu_info *
ir_cpu (void)
{
  pthread_once (&cpu_once, cpu_detect);
  return &cpu_info;
}

const char *
ir_cpu_isa_name (ir_isa isa)
{
  switch (isa) {
    case IR_ISA_AVX512: return "avx512";
    case IR_ISA_AVX2: return "avx2";
    default: return "ref";
  }
}
