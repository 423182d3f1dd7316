/* Packed SGEMM driver, packing, the plain-C microkernel and the reference
 * (see sgemm.h).  The ISA microkernels live in sgemm_avx2.c and
 * sgemm_avx512.c, each compiled with its own flags. */
#include "sgemm.h"

#include <string.h>

#include "activation.h"

/* Column chunk of one work unit: its packed B (KC x NC floats) stays in L2. */
#define SGEMM_NC 256
/* Row chunk: the A panels of a unit (MC x KC) stay in L2. */
#define SGEMM_MC_PANELS 48
/* Units of at most this many B strips run panel by panel (sgemm_unit). */
#define SGEMM_PANEL_OUTER_STRIPS 8
/* Smallest A (weights) for which B is packed whole and shared and the
 * threads split the rows (sgemm_shared_b_floats). */
#define SGEMM_SHARED_B_MIN_A_BYTES ((double) (512 << 10))
/* Largest B packed whole and shared by the threads (sgemm_shared_b_floats). */
#define SGEMM_SHARED_B_BUDGET ((size_t) 4 << 20)

/* ------------------------------------------------------------ kernel table */

static const ir_sgemm_kernel sgemm_kernels[] = {
  { IR_ISA_REF, "ref 4x8", 4, 8, ir_sgemm_tile_ref_4x8, .gemv_strip = ir_sgemv_strip_ref },
#if defined(IMGREC_HAVE_X86_KERNELS)
  { IR_ISA_AVX2, "avx2 6x16", 6, 16, ir_sgemm_tile_avx2_6x16,
    { 2, 4 }, { ir_sgemm_tile_avx2_2x16, ir_sgemm_tile_avx2_4x16 },
    8, { ir_sgemm_tile_avx2_2x8, ir_sgemm_tile_avx2_4x8, ir_sgemm_tile_avx2_6x8 },
    ir_sgemv_strip_avx2 },
  { IR_ISA_AVX512, "avx512 12x32", 12, 32, ir_sgemm_tile_avx512_12x32,
    { 4, 8 }, { ir_sgemm_tile_avx512_4x32, ir_sgemm_tile_avx512_8x32 },
    16, { ir_sgemm_tile_avx512_4x16, ir_sgemm_tile_avx512_8x16, ir_sgemm_tile_avx512_12x16 },
    ir_sgemv_strip_avx512 },
#endif
};

const ir_sgemm_kernel *
ir_sgemm_kernel_for (ir_isa isa)
{
  if (isa > ir_cpu ()->machine)
    return NULL;
  for (size_t i = 0; i < sizeof sgemm_kernels / sizeof sgemm_kernels[0]; i++)
    if (sgemm_kernels[i].isa == isa)
      return &sgemm_kernels[i];
  return NULL;
}

const ir_sgemm_kernel *
ir_sgemm_kernel_default (void)
{
  /* The best kernel at or below the ISA level in use. */
  for (int isa = ir_cpu ()->isa; isa >= IR_ISA_REF; isa--) {
    const ir_sgemm_kernel *k = ir_sgemm_kernel_for ((ir_isa) isa);
    if (k != NULL)
      return k;
  }
  return &sgemm_kernels[0];
}

/* -------------------------------------------------------------- row GEMV */

void
ir_sgemv_rows_ref (int64_t n, int64_t k, float alpha, const float *x, const float *b,
    int64_t ldb, float *y)
{
  for (int64_t j = 0; j < n; j++) {
    const float *row = b + j * ldb;
    float s = 0.0f;
    for (int64_t kk = 0; kk < k; kk++)
      s += x[kk] * row[kk];
    y[j] += alpha * s;
  }
}

ir_sgemv_rows_fn
ir_sgemv_rows_for (ir_isa isa)
{
  if (isa > ir_cpu ()->machine)
    return NULL;
#if defined(IMGREC_HAVE_X86_KERNELS)
  if (isa == IR_ISA_AVX512)
    return ir_sgemv_rows_avx512;
  if (isa == IR_ISA_AVX2)
    return ir_sgemv_rows_avx2;
#endif
  return isa == IR_ISA_REF ? ir_sgemv_rows_ref : NULL;
}

ir_sgemv_rows_fn
ir_sgemv_rows_default (void)
{
  for (int isa = ir_cpu ()->isa; isa >= IR_ISA_REF; isa--) {
    ir_sgemv_rows_fn f = ir_sgemv_rows_for ((ir_isa) isa);
    if (f != NULL)
      return f;
  }
  return ir_sgemv_rows_ref;
}

/* ----------------------------------------------------- plain-C microkernel */

static inline float
sgemm_epilogue_scalar (float v, const ir_sgemm_tile_epilogue *e)
{
  switch (e->act) {
    case IR_SGEMM_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case IR_SGEMM_ACT_CLIP: return v < e->lo ? e->lo : v > e->hi ? e->hi : v;
    case IR_SGEMM_ACT_LEAKY: return v >= 0.0f ? v : v * e->alpha;
    default: return v;
  }
}

void
ir_sgemm_tile_ref_4x8 (int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
    int rows, int cols, const ir_sgemm_tile_epilogue *e)
{
  float acc[4][8] = { { 0 } };
  for (int64_t k = 0; k < kc; k++, a += 4, b += 8)
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 8; j++)
        acc[i][j] += a[i] * b[j];
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++) {
      float v = acc[i][j];
      if (e->accumulate)
        v += c[i * ldc + j];
      if (e->last) {
        if (e->bias != NULL)
          v += e->bias[i];
        if (e->residual != NULL)
          v += e->residual[i * e->ldr + j];
        v = sgemm_epilogue_scalar (v, e);
      }
      c[i * ldc + j] = v;
    }
}

void
ir_sgemv_strip_ref (int64_t kc, const float *x, const float *b, float *y)
{
  for (int64_t k = 0; k < kc; k++)
    for (int j = 0; j < 8; j++)
      y[j] += x[k] * b[k * 8 + j];
}

bool
ir_sgemm_register_act (const ir_activation *act, int *code, float *lo, float *hi, float *alpha)
{
  *code = IR_SGEMM_ACT_NONE;
  *lo = *hi = *alpha = 0.0f;
  switch (act != NULL ? act->kind : IR_ACT_NONE) {
    case IR_ACT_NONE: return true;
    case IR_ACT_RELU: *code = IR_SGEMM_ACT_RELU; return true;
    case IR_ACT_CLIP:
      *code = IR_SGEMM_ACT_CLIP;
      *lo = act->alpha;
      *hi = act->beta;
      return true;
    case IR_ACT_LEAKY_RELU:
      *code = IR_SGEMM_ACT_LEAKY;
      *alpha = act->alpha;
      return true;
    default: return false;
  }
}

/* ------------------------------------------------------------------ packing */

static int64_t
sgemm_ceil (int64_t a, int64_t b)
{
  return (a + b - 1) / b;
}

size_t
ir_sgemm_packed_a_floats (const ir_sgemm_kernel *kern, int64_t m, int64_t k)
{
  return (size_t) (sgemm_ceil (m, kern->mr) * kern->mr) * (size_t) (k > 0 ? k : 1);
}

/* Panels [p0, p1) of K block [k0, k0 + kc) of A, scaled by alpha (1: a
 * copy); rows past m zero. */
static void
sgemm_pack_a_panels (int mr, const float *a, int64_t rs, int64_t cs, int64_t m, int64_t k0,
    int64_t kc, int64_t p0, int64_t p1, float alpha, float *block)
{
  for (int64_t p = p0; p < p1; p++) {
    float *restrict dst = block + p * mr * kc;
    const int rows = m - p * mr < mr ? (int) (m - p * mr) : mr;
    for (int i = 0; i < rows; i++) {
      const float *src = a + (p * mr + i) * rs + k0 * cs;
      if (cs == 1)
        for (int64_t kk = 0; kk < kc; kk++)
          dst[kk * mr + i] = alpha * src[kk];
      else
        for (int64_t kk = 0; kk < kc; kk++)
          dst[kk * mr + i] = alpha * src[kk * cs];
    }
    for (int i = rows; i < mr; i++)
      for (int64_t kk = 0; kk < kc; kk++)
        dst[kk * mr + i] = 0.0f;
  }
}

void
ir_sgemm_pack_a (const ir_sgemm_kernel *kern, const float *a, int64_t rs, int64_t cs,
    int64_t m, int64_t k, float *packed)
{
  const int mr = kern->mr;
  const int64_t panels = sgemm_ceil (m, mr), m_pad = panels * mr;
  for (int64_t k0 = 0; k0 < k; k0 += IR_SGEMM_KC) {
    const int64_t kc = k - k0 < IR_SGEMM_KC ? k - k0 : IR_SGEMM_KC;
    sgemm_pack_a_panels (mr, a, rs, cs, m, k0, kc, 0, panels, 1.0f, packed + k0 * m_pad);
  }
}

typedef struct sgemm_pack_a_task {
  int mr;
  const float *a;
  int64_t rs, cs, m, k, panels;
  float alpha;
  float *packed;
} sgemm_pack_a_task;

/* Items: (K block, panel) pairs, K block major. */
static void
sgemm_pack_a_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const sgemm_pack_a_task *t = arg;
  (void) thread_index;
  for (int64_t item = begin; item < end;) {
    const int64_t kb = item / t->panels, p0 = item % t->panels;
    const int64_t p1 = end - item < t->panels - p0 ? p0 + (end - item) : t->panels;
    const int64_t k0 = kb * IR_SGEMM_KC;
    const int64_t kc = t->k - k0 < IR_SGEMM_KC ? t->k - k0 : IR_SGEMM_KC;
    sgemm_pack_a_panels (t->mr, t->a, t->rs, t->cs, t->m, k0, kc, p0, p1, t->alpha,
        t->packed + k0 * t->panels * t->mr);
    item += p1 - p0;
  }
}

void
ir_sgemm_pack_a_run (const ir_sgemm_kernel *kern, const float *a, int64_t rs, int64_t cs,
    int64_t m, int64_t k, float alpha, float *packed, ir_thread_pool *pool)
{
  if (m <= 0 || k <= 0)
    return;
  sgemm_pack_a_task t = { kern->mr, a, rs, cs, m, k, sgemm_ceil (m, kern->mr), alpha, packed };
  /* a panel of a K block is at most 12 x 256 floats: a few microseconds */
  ir_parallel_for (pool, sgemm_ceil (k, IR_SGEMM_KC) * t.panels, 4, sgemm_pack_a_range, &t);
}

/* Rows of one full strip, nr a constant: with the stride in a local and
 * restrict pointers the compiler emits vector moves (reading g->b_rs
 * through the struct inside the loop kept it to one scalar move and a
 * multiply per float: a quarter of MobileNetV2's time went there). */
#define SGEMM_COPY_STRIP(NR)                                                  \
  for (int64_t kk = 0; kk < kc; kk++) {                                       \
    const float *restrict s = src + kk * rs;                                  \
    float *restrict d = dst + kk * (NR);                                      \
    for (int j = 0; j < (NR); j++)                                            \
      d[j] = s[j];                                                            \
  }

/* B rows [k0, k0 + kc), columns [n0, n1) into strips of nr columns ([k][nr]),
 * columns past n1 zero. */
static void
sgemm_pack_b_from (const float *b, int64_t rs, int64_t cs, int nr, int64_t k0, int64_t kc,
    int64_t n0, int64_t n1, float *dst)
{
  for (int64_t j0 = n0; j0 < n1; j0 += nr, dst += kc * nr) {
    const int64_t w = n1 - j0 < nr ? n1 - j0 : nr;
    const float *src = b + k0 * rs + j0 * cs;
    if (cs == 1 && w == nr) {
      if (nr == 32)
        SGEMM_COPY_STRIP (32)
      else if (nr == 16)
        SGEMM_COPY_STRIP (16)
      else if (nr == 8)
        SGEMM_COPY_STRIP (8)
      else
        SGEMM_COPY_STRIP (nr)
    } else if (cs == 1) {
      for (int64_t kk = 0; kk < kc; kk++) {
        const float *restrict s = src + kk * rs;
        float *restrict row = dst + kk * nr;
        for (int64_t j = 0; j < w; j++)
          row[j] = s[j];
        for (int64_t j = w; j < nr; j++)
          row[j] = 0.0f;
      }
    } else {
      for (int64_t kk = 0; kk < kc; kk++) {
        const float *s = src + kk * rs;
        float *restrict row = dst + kk * nr;
        for (int64_t j = 0; j < w; j++)
          row[j] = s[j * cs];
        for (int64_t j = w; j < nr; j++)
          row[j] = 0.0f;
      }
    }
  }
}
#undef SGEMM_COPY_STRIP

static void
sgemm_pack_b (const ir_sgemm_args *g, int nr, int64_t k0, int64_t kc, int64_t n0, int64_t n1,
    float *dst)
{
  sgemm_pack_b_from (g->b, g->b_rs, g->b_cs, nr, k0, kc, n0, n1, dst);
}

size_t
ir_sgemm_packed_b_floats (const ir_sgemm_kernel *kern, int64_t k, int64_t n)
{
  return (size_t) (sgemm_ceil (n, kern->nr) * kern->nr) * (size_t) (k > 0 ? k : 1);
}

void
ir_sgemm_pack_b (const ir_sgemm_kernel *kern, const float *b, int64_t rs, int64_t cs,
    int64_t k, int64_t n, float *packed)
{
  const int64_t n_pad = sgemm_ceil (n, kern->nr) * kern->nr;
  for (int64_t k0 = 0; k0 < k; k0 += IR_SGEMM_KC) {
    const int64_t kc = k - k0 < IR_SGEMM_KC ? k - k0 : IR_SGEMM_KC;
    sgemm_pack_b_from (b, rs, cs, kern->nr, k0, kc, 0, n, packed + k0 * n_pad);
  }
}

/* ------------------------------------------------------------------- driver */

size_t
ir_sgemm_scratch_bytes (const ir_sgemm_kernel *kern, int threads)
{
  const size_t per_thread = (size_t) IR_SGEMM_KC * SGEMM_NC * sizeof (float)
      + (size_t) IR_SGEMM_MAX_MR * IR_SGEMM_MAX_NR * sizeof (float) + 64;
  (void) kern;
  return (size_t) (threads > 0 ? threads : 1) * per_thread;
}

/* Floats of the whole B packed once and shared by the threads, or 0 when
 * the product splits over columns instead.
 *
 * Deep layers on small maps (ResNet's 14x14 and 7x7: N = 196 or 49, M = 256
 * or 512, K = 2304 or 4608) have too few column strips to give each thread
 * its own: split over columns, every thread streamed all of A (the weights,
 * 2.4-9.4 MB, more than its L2) once per column chunk it held, and two
 * threads ran at 70 % of one thread's speed each (l4: 2.4 ms per half
 * against 3.3 ms for the whole on one thread).  Split over rows instead,
 * each thread reads only its rows of A; but each would then build all of B
 * (im2col), ~1 ns a float: so B is packed once, in parallel, into a shared
 * buffer first. */
static size_t
sgemm_shared_b_floats (const ir_sgemm_kernel *kern, int threads, int64_t m, int64_t n,
    int64_t k)
{
  if (threads < 1 || m <= 0 || n <= 0 || k <= 0)
    return 0;
  if (threads == 1) {
    /* One thread: more panels than one row chunk holds, over columns that
     * run panel by panel (ResNet's 7x7 maps, M = 512, N = 49), built B
     * (im2col) once per row chunk: once in all instead.  Panel by panel, an
     * A panel goes through every strip at once, so A need not stay in L2
     * and the single unit can hold every row. */
    const int64_t strips = sgemm_ceil (n, kern->nr), panels = sgemm_ceil (m, kern->mr);
    if (panels <= SGEMM_MC_PANELS || strips > SGEMM_PANEL_OUTER_STRIPS)
      return 0;
    const size_t floats = (size_t) strips * (size_t) kern->nr * (size_t) k;
    return floats * sizeof (float) <= SGEMM_SHARED_B_BUDGET ? floats : 0;
  }
  /* Weights that stay in cache are cheap for every thread to read: there
   * the column split wins (SqueezeNet's 13x13 squeeze convs, 74-131 KB of
   * weights: 0.31 -> 0.26 ms at 2 threads; MobileNetV2's 7x7 and 14x14
   * pointwise convs 1.85 -> 1.70 ms). */
  if ((double) m * (double) k * sizeof (float) < SGEMM_SHARED_B_MIN_A_BYTES)
    return 0;
  const int64_t strips = sgemm_ceil (n, kern->nr), panels = sgemm_ceil (m, kern->mr);
  /* Columns enough for every thread (as in ir_sgemm's unit split) keep the
   * column split; so do rows too few to share. */
  if (strips >= 2 * (int64_t) threads * (SGEMM_NC / kern->nr) || panels < 2 * (int64_t) threads)
    return 0;
  const size_t floats = (size_t) strips * (size_t) kern->nr * (size_t) k;
  return floats * sizeof (float) <= SGEMM_SHARED_B_BUDGET ? floats : 0;
}

size_t
ir_sgemm_scratch_bytes_for (const ir_sgemm_kernel *kern, int threads, int64_t m, int64_t n,
    int64_t k)
{
  const size_t shared = sgemm_shared_b_floats (kern, threads, m, n, k) * sizeof (float);
  return ir_sgemm_scratch_bytes (kern, threads) + ((shared + 63) & ~(size_t) 63);
}

typedef struct sgemm_task {
  const ir_sgemm_kernel *kern;
  const ir_sgemm_args *g;
  uint8_t *scratch;
  size_t scratch_per_thread;
  int64_t n_chunk, m_chunk;     /* columns / rows of a unit (multiples of nr / mr) */
  int64_t n_units_n;            /* units along N */
  const float *b_shared;        /* B packed whole ([k block][strip][kc][nr]), or NULL */
  int64_t strips;
  ir_sgemm_tile_epilogue base;  /* activation fields */
  bool act_after;               /* activation not in registers: applied after the store */
} sgemm_task;

/* The smallest tile that covers h rows of a panel and w columns of a strip. */
static inline ir_sgemm_tile_fn
sgemm_tile_for (const ir_sgemm_kernel *kern, int64_t h, int64_t w)
{
  const bool half = kern->half_nr > 0 && w <= kern->half_nr;
  for (int i = 0; i < 2; i++)
    if (kern->short_mr[i] > 0 && h <= kern->short_mr[i])
      return half ? kern->half_tile[i] : kern->short_tile[i];
  return half ? kern->half_tile[2] : kern->tile;
}

static void
sgemm_unit (const sgemm_task *t, int64_t unit, float *bpack)
{
  const ir_sgemm_args *g = t->g;
  const int mr = t->kern->mr, nr = t->kern->nr;
  const int64_t m_pad = sgemm_ceil (g->m, mr) * mr;
  const int64_t n0 = (unit % t->n_units_n) * t->n_chunk;
  const int64_t n1 = n0 + t->n_chunk < g->n ? n0 + t->n_chunk : g->n;
  const int64_t m0 = (unit / t->n_units_n) * t->m_chunk;
  const int64_t m1 = m0 + t->m_chunk < g->m ? m0 + t->m_chunk : g->m;
  for (int64_t k0 = 0; k0 < g->k; k0 += IR_SGEMM_KC) {
    const int64_t kc = g->k - k0 < IR_SGEMM_KC ? g->k - k0 : IR_SGEMM_KC;
    const bool last = k0 + kc >= g->k;
    const float *bblock = bpack;
    if (t->b_shared != NULL)
      bblock = t->b_shared + (size_t) k0 * (size_t) (t->strips * nr) + (size_t) (n0 / nr) * kc * nr;
    else if (g->pack_b != NULL)
      g->pack_b (g->pack_b_ctx, nr, k0, kc, n0, n1, bpack);
    else
      sgemm_pack_b (g, nr, k0, kc, n0, n1, bpack);
    const float *ablock = g->a_packed + k0 * m_pad;
    /* Few strips (deep layers on small maps, where A, the weights, is far
     * larger than B): each A panel goes through every strip while it is in
     * L1, so it streams from memory once per K block instead of once per
     * strip.  Otherwise each B strip goes through every panel. */
    const int64_t strips = sgemm_ceil (n1 - n0, nr), panels = sgemm_ceil (m1 - m0, mr);
    const bool panel_outer = strips <= SGEMM_PANEL_OUTER_STRIPS;
    const int64_t outer = panel_outer ? panels : strips, inner = panel_outer ? strips : panels;
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t q = 0; q < inner; q++) {
        const int64_t s = panel_outer ? q : o, p = panel_outer ? o : q;
        const int64_t j0 = n0 + s * nr, i0 = m0 + p * mr;
        const float *bstrip = bblock + s * kc * nr;
        const int64_t w = n1 - j0 < nr ? n1 - j0 : nr;
        const int64_t h = m1 - i0 < mr ? m1 - i0 : mr;
        const float *apanel = ablock + (i0 / mr) * mr * kc;
        float *c = g->c + i0 * g->ldc + j0;
        ir_sgemm_tile_epilogue e = t->base;
        e.accumulate = k0 > 0;
        e.last = last;
        e.bias = g->bias != NULL ? g->bias + i0 : NULL;
        e.residual = g->residual != NULL ? g->residual + i0 * g->ldr + j0 : NULL;
        e.ldr = g->ldr;
        sgemm_tile_for (t->kern, h, w) (kc, apanel, bstrip, c, g->ldc, (int) h, (int) w, &e);
        if (last && t->act_after)
          for (int64_t i = 0; i < h; i++)
            ir_activation_apply (g->act, c + i * g->ldc, w);
      }
    }
  }
}

static void
sgemm_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const sgemm_task *t = arg;
  uint8_t *base = t->scratch + (size_t) thread_index * t->scratch_per_thread;
  float *bpack = (float *) base;
  for (int64_t u = begin; u < end; u++)
    sgemm_unit (t, u, bpack);
}

/* Items of the shared B: (k block, strip) pairs, k block major. */
static void
sgemm_pack_shared_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const sgemm_task *t = arg;
  const ir_sgemm_args *g = t->g;
  const int nr = t->kern->nr;
  (void) thread_index;
  for (int64_t item = begin; item < end;) {
    const int64_t kb = item / t->strips, s0 = item % t->strips;
    int64_t s1 = t->strips;   /* this k block's strips in the range, packed in one call */
    if (end - item < s1 - s0)
      s1 = s0 + (end - item);
    const int64_t k0 = kb * IR_SGEMM_KC;
    const int64_t kc = g->k - k0 < IR_SGEMM_KC ? g->k - k0 : IR_SGEMM_KC;
    const int64_t n0 = s0 * nr, n1 = s1 * nr < g->n ? s1 * nr : g->n;
    float *dst = (float *) t->b_shared + (size_t) k0 * (size_t) (t->strips * nr)
        + (size_t) s0 * kc * nr;
    if (g->pack_b != NULL)
      g->pack_b (g->pack_b_ctx, nr, k0, kc, n0, n1, dst);
    else
      sgemm_pack_b (g, nr, k0, kc, n0, n1, dst);
    item += s1 - s0;
  }
}

/* Work of a unit of h rows and w columns, in lane-FMAs of the tiles that
 * run it (sgemm_tile_for: short row tiles, half-width last strips) plus the
 * packing of its B columns, SGEMM_PACK_WEIGHT lane-FMAs a float. */
#define SGEMM_PACK_WEIGHT 2.0
static double
sgemm_unit_cost (const ir_sgemm_kernel *kern, int64_t h, int64_t w, int64_t k)
{
  const int mr = kern->mr, nr = kern->nr;
  int64_t rows = (h / mr) * mr, cols = (w / nr) * nr;
  const int64_t h_left = h % mr, w_left = w % nr;
  if (h_left > 0) {
    int64_t tile = mr;
    for (int i = 1; i >= 0; i--)
      if (kern->short_mr[i] > 0 && h_left <= kern->short_mr[i])
        tile = kern->short_mr[i];
    rows += tile;
  }
  if (w_left > 0)
    cols += kern->half_nr > 0 && w_left <= kern->half_nr ? kern->half_nr : nr;
  return (double) k * ((double) rows * (double) cols + SGEMM_PACK_WEIGHT * (double) w);
}

/* Longest thread's work when units of spu strips x ppu panels are handed
 * out as ir_parallel_for does (contiguous runs of units, N-major). */
static double
sgemm_split_cost (const ir_sgemm_kernel *kern, const ir_sgemm_args *g, int threads,
    int64_t spu, int64_t ppu)
{
  const int64_t n_chunk = spu * kern->nr, m_chunk = ppu * kern->mr;
  const int64_t units_n = sgemm_ceil (g->n, n_chunk);
  const int64_t units = units_n * sgemm_ceil (g->m, m_chunk);
  const int64_t parts = units < threads ? units : threads;
  double worst = 0;
  for (int64_t p = 0; p < parts; p++) {
    double sum = 0;
    for (int64_t u = units * p / parts; u < units * (p + 1) / parts; u++) {
      const int64_t n0 = (u % units_n) * n_chunk, m0 = (u / units_n) * m_chunk;
      const int64_t w = g->n - n0 < n_chunk ? g->n - n0 : n_chunk;
      const int64_t h = g->m - m0 < m_chunk ? g->m - m0 : m_chunk;
      sum += sgemm_unit_cost (kern, h, w, g->k);
    }
    worst = sum > worst ? sum : worst;
  }
  return worst;
}

/* Units: column chunks of up to SGEMM_NC, row chunks of up to
 * SGEMM_MC_PANELS panels.  Where those leave fewer than two units a thread,
 * the split is chosen among smaller chunks by the longest thread's work:
 * halving the chunks until every thread had two units gave MobileNetV2's
 * 96 x 196 pointwise convs (7 strips) units of 2, 2, 2, 1 strips, 4 strips
 * on one thread and 2 1/8 on the other (1.6x from the second thread). */
static void
sgemm_plan_units (const ir_sgemm_kernel *kern, const ir_sgemm_args *g, int threads,
    int64_t *strips_per_unit, int64_t *panels_per_unit)
{
  const int64_t strips = sgemm_ceil (g->n, kern->nr), panels = sgemm_ceil (g->m, kern->mr);
  int64_t spu = SGEMM_NC / kern->nr, ppu = panels < SGEMM_MC_PANELS ? panels : SGEMM_MC_PANELS;
  *strips_per_unit = spu;
  *panels_per_unit = ppu;
  if (threads <= 1 || sgemm_ceil (strips, spu) * sgemm_ceil (panels, ppu) >= 2 * threads)
    return;
  double best = sgemm_split_cost (kern, g, threads, spu, ppu);
  /* Rows are split only where the columns cannot go round: the op before
   * mostly split the same columns, so each thread's B is in its own cache
   * (SqueezeNet's 13x13 pointwise convs, 6 strips, took 1.25-1.5x the time
   * with every row split the model called 8 % better). */
  const int64_t max_div = strips >= threads ? 1 : 8;
  for (int64_t s = spu; s >= 1; s--)
    for (int64_t div = 1; div <= max_div && div <= ppu; div++) {
      const int64_t p = sgemm_ceil (ppu, div);
      if (sgemm_ceil (strips, s) * sgemm_ceil (panels, p) > 16 * (int64_t) threads)
        continue;
      const double c = sgemm_split_cost (kern, g, threads, s, p);
      /* a clear gain only: more units pack B more often and run shorter loops */
      if (c < best * 0.98) {
        best = c;
        *strips_per_unit = s;
        *panels_per_unit = p;
      }
    }
}

void
ir_sgemm (const ir_sgemm_kernel *kern, const ir_sgemm_args *g, ir_thread_pool *pool,
    void *scratch)
{
  if (g->m <= 0 || g->n <= 0)
    return;
  if (g->k <= 0) {
    /* Empty sum: C = epilogue (0). */
    for (int64_t i = 0; i < g->m; i++) {
      float *row = g->c + i * g->ldc;
      for (int64_t j = 0; j < g->n; j++)
        row[j] = (g->bias ? g->bias[i] : 0.0f)
            + (g->residual ? g->residual[i * g->ldr + j] : 0.0f);
      if (g->act != NULL && g->act->kind != IR_ACT_NONE)
        ir_activation_apply (g->act, row, g->n);
    }
    return;
  }
  const int mr = kern->mr, nr = kern->nr;
  const int threads = ir_pool_threads (pool);
  sgemm_task t = { .kern = kern, .g = g, .scratch = scratch };
  t.scratch_per_thread = ir_sgemm_scratch_bytes (kern, 1);
  t.act_after = !ir_sgemm_register_act (g->act, &t.base.act, &t.base.lo, &t.base.hi,
      &t.base.alpha);
  const int64_t strips = sgemm_ceil (g->n, nr), panels = sgemm_ceil (g->m, mr);
  if (g->b_packed != NULL) {
    /* B packed beforehand in the shared layout: units read their strips. */
    t.b_shared = g->b_packed;
    t.strips = strips;
  }
  const size_t shared = g->b_packed != NULL ? 0
      : sgemm_shared_b_floats (kern, threads, g->m, g->n, g->k);
  if (shared > 0
      && g->scratch_bytes >= ir_sgemm_scratch_bytes_for (kern, threads, g->m, g->n, g->k)) {
    /* B once, in parallel; then one row chunk per thread, every column. */
    t.b_shared = (const float *) ((uint8_t *) scratch + ir_sgemm_scratch_bytes (kern, threads));
    t.strips = strips;
    ir_parallel_for (pool, sgemm_ceil (g->k, IR_SGEMM_KC) * strips, 1,
        sgemm_pack_shared_range, &t);
    t.n_chunk = strips * nr;
    t.n_units_n = 1;
    t.m_chunk = sgemm_ceil (panels, threads) * mr;
    ir_parallel_for (pool, sgemm_ceil (g->m, t.m_chunk), 1, sgemm_range, &t);
    return;
  }
  int64_t strips_per_unit, panels_per_unit;
  sgemm_plan_units (kern, g, threads, &strips_per_unit, &panels_per_unit);
  t.n_chunk = strips_per_unit * nr;
  t.m_chunk = panels_per_unit * mr;
  t.n_units_n = sgemm_ceil (g->n, t.n_chunk);
  const int64_t units = t.n_units_n * sgemm_ceil (g->m, t.m_chunk);
  ir_parallel_for (pool, units, 1, sgemm_range, &t);
}

/* --------------------------------------------------------- one row, packed B */

typedef struct sgemv_packed_task {
  const ir_sgemm_kernel *kern;
  int64_t n, k, n_pad;
  float alpha;
  const float *x, *b, *bias, *residual;
  const ir_activation *act;
  float *c;
} sgemv_packed_task;

/* Strips a gemv range accumulates at once (SGEMV_GROUP x NR floats on the
 * stack, in L1). */
#define SGEMV_GROUP 64

static void
sgemv_packed_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const sgemv_packed_task *t = arg;
  const int nr = t->kern->nr;
  (void) thread_index;
  float acc[SGEMV_GROUP * IR_SGEMM_MAX_NR];
  for (int64_t s0 = begin; s0 < end; s0 += SGEMV_GROUP) {
    const int64_t s1 = end - s0 < SGEMV_GROUP ? end : s0 + SGEMV_GROUP;
    memset (acc, 0, (size_t) (s1 - s0) * (size_t) nr * sizeof (float));
    /* K blocks outside, strips inside: B ([k block][strip][kc][nr]) is read
     * in memory order, one run per K block, where strip by strip it jumped
     * to another K block every KC rows (MobileNetV2's 1280 x 1000 Gemm read
     * its 5 MB of weights at 15 GB/s, ONNX Runtime at 24) */
    for (int64_t k0 = 0; k0 < t->k; k0 += IR_SGEMM_KC) {
      const int64_t kc = t->k - k0 < IR_SGEMM_KC ? t->k - k0 : IR_SGEMM_KC;
      const float *b = t->b + k0 * t->n_pad;
      for (int64_t s = s0; s < s1; s++)
        t->kern->gemv_strip (kc, t->x + k0, b + s * kc * nr, acc + (s - s0) * nr);
    }
    for (int64_t s = s0; s < s1; s++) {
      const int64_t j0 = s * nr, w = t->n - j0 < nr ? t->n - j0 : nr;
      const float *a = acc + (s - s0) * nr;
      float *c = t->c + j0;
      for (int64_t j = 0; j < w; j++)
        c[j] = t->alpha * a[j] + (t->bias != NULL ? t->bias[0] : 0.0f)
            + (t->residual != NULL ? t->residual[j0 + j] : 0.0f);
      if (t->act != NULL && t->act->kind != IR_ACT_NONE)
        ir_activation_apply (t->act, c, w);
    }
  }
}

void
ir_sgemv_packed (const ir_sgemm_kernel *kern, int64_t n, int64_t k, float alpha,
    const float *x, const float *b_packed, float *c, const float *bias, const float *residual,
    const ir_activation *act, ir_thread_pool *pool)
{
  if (n <= 0)
    return;
  const int64_t strips = sgemm_ceil (n, kern->nr);
  sgemv_packed_task t = { kern, n, k > 0 ? k : 0, strips * kern->nr, alpha, x, b_packed,
    bias, residual, act, c };
  /* a strip of K = 512 is 64 KB of B: worth a thread from a few strips on */
  ir_parallel_for (pool, strips, 4, sgemv_packed_range, &t);
}

/* ---------------------------------------------------------------- reference */

void
ir_sgemm_reference (int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
    const float *b, int64_t ldb, float *c, int64_t ldc, const float *bias,
    const float *residual, int64_t ldr, const ir_activation *act)
{
  for (int64_t i = 0; i < m; i++) {
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t kk = 0; kk < k; kk++)
        s += (double) a[i * lda + kk] * (double) b[kk * ldb + j];
      float v = (float) s;
      if (bias != NULL)
        v += bias[i];
      if (residual != NULL)
        v += residual[i * ldr + j];
      c[i * ldc + j] = v;
    }
    if (act != NULL && act->kind != IR_ACT_NONE)
      ir_activation_apply_scalar (act, c + i * ldc, n);
  }
}
