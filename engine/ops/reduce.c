/* Op family: reduce — ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/
 * LogSumExp and ArgMax/ArgMin.
 *
 * Every reduction is one skeleton with the combining step as a parameter:
 *
 *   acc = identity;  for each x in the set: acc = combine (acc, map (x));
 *   out = finish (acc, count)
 *
 * where the ten ops are seven (map, combine) cores (sum, |x| sum, x² sum,
 * exp(x - max) sum, product, max, min) and a per-op finish (mean divides,
 * L2 takes the root, LogSum the log; LogSumExp adds back the max it
 * subtracted to stay finite).
 *
 * After dropping size-1 dimensions and merging neighbours, most reductions
 * are [O, R, I] (O outer kept, R reduced, I inner kept):
 *   I == 1   rows of R contiguous values: a multi-lane accumulator loop;
 *   I > 1    R rows of I values: blocks of I accumulated row by row;
 * anything else (reduced axes split by kept ones) gathers each output's set
 * into per-thread scratch and reduces that row.  Float loops are compiled
 * for AVX-512, AVX2 and baseline x86-64 and picked at run time; int64
 * reductions (shape arithmetic) use one scalar loop over contiguous rows,
 * gathering the set first when it is not contiguous. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "op.h"

/* ---------------------------------------------------------------------- */
/* The reduction kinds                                                    */

typedef enum reduce_kind {
  REDUCE_SUM,
  REDUCE_MEAN,
  REDUCE_MAX,
  REDUCE_MIN,
  REDUCE_PROD,
  REDUCE_L1,
  REDUCE_L2,
  REDUCE_SUM_SQUARE,
  REDUCE_LOG_SUM,
  REDUCE_LOG_SUM_EXP,
} reduce_kind;

/* (map, combine) pairs: what the hot loops are specialised on. */
typedef enum reduce_core {
  CORE_SUM,          /* x, + */
  CORE_ABS_SUM,      /* |x|, + */
  CORE_SQUARE_SUM,   /* x², + */
  CORE_EXP_SUM,      /* exp(x - shift), + ; shift = the set's max */
  CORE_PROD,         /* x, * */
  CORE_MAX,          /* x, max */
  CORE_MIN,          /* x, min */
} reduce_core;

static const struct {
  const char *op_type;
  reduce_kind kind;
  reduce_core core;
} reduce_ops[] = {
  { "ReduceSum", REDUCE_SUM, CORE_SUM },
  { "ReduceMean", REDUCE_MEAN, CORE_SUM },
  { "ReduceMax", REDUCE_MAX, CORE_MAX },
  { "ReduceMin", REDUCE_MIN, CORE_MIN },
  { "ReduceProd", REDUCE_PROD, CORE_PROD },
  { "ReduceL1", REDUCE_L1, CORE_ABS_SUM },
  { "ReduceL2", REDUCE_L2, CORE_SQUARE_SUM },
  { "ReduceSumSquare", REDUCE_SUM_SQUARE, CORE_SQUARE_SUM },
  { "ReduceLogSum", REDUCE_LOG_SUM, CORE_SUM },
  { "ReduceLogSumExp", REDUCE_LOG_SUM_EXP, CORE_EXP_SUM },
};

/* Float pieces.  Max/min ignore NaN operands (like maxps), which keeps the
 * loops vectorisable; every other core propagates NaN. */
static inline __attribute__ ((always_inline)) float
core_identity_f32 (reduce_core core)
{
  switch (core) {
  case CORE_PROD: return 1.0f;
  case CORE_MAX: return -INFINITY;
  case CORE_MIN: return INFINITY;
  default: return 0.0f;
  }
}

/* exp(t) for t <= 0 (t = x - max in LogSumExp) in float arithmetic and bit
 * moves only, so that it vectorises where expf would not: Cephes' range
 * reduction and polynomial, within 2 ulp.  Below -87 (where 2^n leaves
 * the normal range) it returns 0; NaN stays NaN. */
static inline __attribute__ ((always_inline)) float
exp_nonpositive (float t)
{
  const float magic = 12582912.0f;               /* 1.5 * 2^23 */
  float u = t < -87.0f ? -87.0f : t;
  float k = u * 1.44269504088896341f + magic;   /* round (u / ln 2) + magic */
  float n = k - magic;
  float r = u - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  uint32_t k_bits, scale_bits;
  memcpy (&k_bits, &k, 4);
  scale_bits = (k_bits - 0x4b400000u + 127u) << 23;   /* 2^n */
  float scale;
  memcpy (&scale, &scale_bits, 4);
  return t < -87.0f ? 0.0f : p * scale;
}

static inline __attribute__ ((always_inline)) float
core_step_f32 (reduce_core core, float acc, float x, float shift)
{
  switch (core) {
  case CORE_SUM: return acc + x;
  case CORE_ABS_SUM: return acc + fabsf (x);
  case CORE_SQUARE_SUM: return acc + x * x;
  case CORE_EXP_SUM: return acc + exp_nonpositive (x - shift);
  case CORE_PROD: return acc * x;
  case CORE_MAX: return x > acc ? x : acc;
  case CORE_MIN: return x < acc ? x : acc;
  }
  return acc;
}

/* Merges two partial accumulators of the same core. */
static inline __attribute__ ((always_inline)) float
core_merge_f32 (reduce_core core, float a, float b)
{
  switch (core) {
  case CORE_PROD: return a * b;
  case CORE_MAX: return b > a ? b : a;
  case CORE_MIN: return b < a ? b : a;
  default: return a + b;
  }
}

/* exp(x - max) needs a finite max: an all -inf set (or an empty one) sums
 * exp(x) to 0 and a +inf max to inf, both right with a shift of 0. */
static inline float
finite_shift (float max)
{
  return isfinite (max) ? max : 0.0f;
}

static float
finish_f32 (reduce_kind kind, float acc, int64_t count, float shift)
{
  switch (kind) {
  case REDUCE_MEAN: return acc / (float) count;   /* empty set: NaN */
  case REDUCE_L2: return sqrtf (acc);
  case REDUCE_LOG_SUM: return logf (acc);
  /* shift is the set's max: an infinite one wins outright. */
  case REDUCE_LOG_SUM_EXP: return shift == INFINITY ? INFINITY : logf (acc) + finite_shift (shift);
  default: return acc;
  }
}

static bool
kind_has_finish (reduce_kind kind)
{
  return kind == REDUCE_MEAN || kind == REDUCE_L2 || kind == REDUCE_LOG_SUM
      || kind == REDUCE_LOG_SUM_EXP;
}

/* ---------------------------------------------------------------------- */
/* Float loops, written once and compiled per instruction set            */

enum { ROW_LANES = 32, COLUMN_BLOCK = 64, COLUMN_CHUNK = 16 };

/* Combines n contiguous floats, in ROW_LANES independent accumulators so
 * that the compiler keeps them in vector registers.  The tail goes into the
 * lanes too and the lanes are merged pairwise: with short rows (a 7x7
 * feature map) a serial tail or merge would cost more than the main loop. */
static inline __attribute__ ((always_inline)) float
row_reduce_body (reduce_core core, const float *restrict x, int64_t n, float shift)
{
  float acc[ROW_LANES];
  for (int j = 0; j < ROW_LANES; j++)
    acc[j] = core_identity_f32 (core);
  int64_t i = 0;
  for (; i + ROW_LANES <= n; i += ROW_LANES)
    for (int j = 0; j < ROW_LANES; j++)
      acc[j] = core_step_f32 (core, acc[j], x[i + j], shift);
  for (int j = 0; j < n - i; j++)
    acc[j] = core_step_f32 (core, acc[j], x[i + j], shift);
  for (int width = ROW_LANES / 2; width > 0; width /= 2)
    for (int j = 0; j < width; j++)
      acc[j] = core_merge_f32 (core, acc[j], acc[j + width]);
  return acc[0];
}

/* out[o] = reduce (x[o*n .. o*n+n)) for o in [0, rows); for CORE_EXP_SUM
 * shifts[o] receives the row's max, which was subtracted if finite. */
static inline __attribute__ ((always_inline)) void
rows_body (reduce_core core, const float *x, int64_t rows, int64_t n,
    float *out, float *shifts)
{
  for (int64_t o = 0; o < rows; o++) {
    const float *row = x + o * n;
    float shift = 0.0f;
    if (core == CORE_EXP_SUM) {
      shifts[o] = row_reduce_body (CORE_MAX, row, n, 0.0f);
      shift = finite_shift (shifts[o]);
    }
    out[o] = row_reduce_body (core, row, n, shift);
  }
}

/* acc[0..width) = reduction of the columns of the [r, width] slab at x,
 * whose rows are `stride` floats apart.  Called with a constant width, so
 * that the accumulators live in registers. */
static inline __attribute__ ((always_inline)) void
columns_fixed (reduce_core core, const float *x, int64_t r, int64_t stride,
    int width, float *acc, const float *shift)
{
  float a[COLUMN_BLOCK];
  for (int j = 0; j < width; j++)
    a[j] = core_identity_f32 (core);
  for (int64_t i = 0; i < r; i++) {
    const float *restrict row = x + i * stride;
    for (int j = 0; j < width; j++)
      a[j] = core_step_f32 (core, a[j], row[j], shift[j]);
  }
  for (int j = 0; j < width; j++)
    acc[j] = a[j];
}

/* acc[0..cols) = reduction of the columns of the [r, cols] slab at x;
 * cols <= COLUMN_BLOCK. */
static inline __attribute__ ((always_inline)) void
columns_accumulate (reduce_core core, const float *x, int64_t r, int64_t stride,
    int64_t cols, float *acc, const float *shift)
{
  if (cols == COLUMN_BLOCK) {
    columns_fixed (core, x, r, stride, COLUMN_BLOCK, acc, shift);
  } else if (cols >= COLUMN_CHUNK) {
    /* Chunks of COLUMN_CHUNK, the last one overlapping the one before: the
     * columns computed twice get the same value both times. */
    for (int64_t j = 0; j < cols; j += COLUMN_CHUNK) {
      if (j + COLUMN_CHUNK > cols)
        j = cols - COLUMN_CHUNK;
      columns_fixed (core, x + j, r, stride, COLUMN_CHUNK, acc + j, shift + j);
    }
  } else {
    /* A narrow inner dimension: accumulators in memory. */
    for (int64_t j = 0; j < cols; j++)
      acc[j] = core_identity_f32 (core);
    for (int64_t i = 0; i < r; i++)
      for (int64_t j = 0; j < cols; j++)
        acc[j] = core_step_f32 (core, acc[j], x[i * stride + j], shift[j]);
  }
}

/* out[0..cols) = reduction of the columns; for CORE_EXP_SUM shifts[0..cols)
 * receives each column's max, which was subtracted if finite. */
static inline __attribute__ ((always_inline)) void
columns_body (reduce_core core, const float *x, int64_t r, int64_t stride,
    int64_t cols, float *out, float *shifts)
{
  float acc[COLUMN_BLOCK], shift[COLUMN_BLOCK];
  for (int64_t j = 0; j < cols; j++)
    shift[j] = 0.0f;
  if (core == CORE_EXP_SUM) {
    columns_accumulate (CORE_MAX, x, r, stride, cols, acc, shift);
    for (int64_t j = 0; j < cols; j++) {
      shifts[j] = acc[j];
      shift[j] = finite_shift (acc[j]);
    }
  }
  columns_accumulate (core, x, r, stride, cols, acc, shift);
  for (int64_t j = 0; j < cols; j++)
    out[j] = acc[j];
}

/* One dispatch function per instruction set, each switching over the cores
 * so that every (core, ISA) pair is its own specialised loop. */
#define DEFINE_FLOAT_LOOPS(suffix, attrs)                                      \
  static attrs void                                                            \
  rows_##suffix (reduce_core core, const float *x, int64_t rows, int64_t n,    \
      float *out, float *shifts)                                               \
  {                                                                            \
    switch (core) {                                                            \
    case CORE_SUM: rows_body (CORE_SUM, x, rows, n, out, shifts); break;       \
    case CORE_ABS_SUM: rows_body (CORE_ABS_SUM, x, rows, n, out, shifts); break; \
    case CORE_SQUARE_SUM: rows_body (CORE_SQUARE_SUM, x, rows, n, out, shifts); break; \
    case CORE_EXP_SUM: rows_body (CORE_EXP_SUM, x, rows, n, out, shifts); break; \
    case CORE_PROD: rows_body (CORE_PROD, x, rows, n, out, shifts); break;     \
    case CORE_MAX: rows_body (CORE_MAX, x, rows, n, out, shifts); break;       \
    case CORE_MIN: rows_body (CORE_MIN, x, rows, n, out, shifts); break;       \
    }                                                                          \
  }                                                                            \
  static attrs void                                                            \
  columns_##suffix (reduce_core core, const float *x, int64_t r,               \
      int64_t stride, int64_t cols, float *out, float *shifts)                 \
  {                                                                            \
    switch (core) {                                                            \
    case CORE_SUM: columns_body (CORE_SUM, x, r, stride, cols, out, shifts); break; \
    case CORE_ABS_SUM: columns_body (CORE_ABS_SUM, x, r, stride, cols, out, shifts); break; \
    case CORE_SQUARE_SUM: columns_body (CORE_SQUARE_SUM, x, r, stride, cols, out, shifts); break; \
    case CORE_EXP_SUM: columns_body (CORE_EXP_SUM, x, r, stride, cols, out, shifts); break; \
    case CORE_PROD: columns_body (CORE_PROD, x, r, stride, cols, out, shifts); break; \
    case CORE_MAX: columns_body (CORE_MAX, x, r, stride, cols, out, shifts); break; \
    case CORE_MIN: columns_body (CORE_MIN, x, r, stride, cols, out, shifts); break; \
    }                                                                          \
  }

DEFINE_FLOAT_LOOPS (generic, )
#if defined(__x86_64__)
DEFINE_FLOAT_LOOPS (avx2, __attribute__ ((target ("avx2,fma"))))
DEFINE_FLOAT_LOOPS (avx512, __attribute__ ((target ("avx512f"))))
#endif

#if defined(__x86_64__)
/* AVX-512 rows with intrinsics: short rows (ReduceMean over a 7x7 map, as
 * exported for x.mean((2, 3))) are dominated by the tail and the final
 * merge, which masked loads and in-register reductions make cheap.
 * CORE_EXP_SUM keeps the portable loop above. */
#include <immintrin.h>

static inline __attribute__ ((always_inline, target ("avx512f"))) __m512
step_avx512 (reduce_core core, __m512 acc, __m512 x)
{
  switch (core) {
  case CORE_SUM: return _mm512_add_ps (acc, x);
  case CORE_ABS_SUM: return _mm512_add_ps (acc, _mm512_abs_ps (x));
  case CORE_SQUARE_SUM: return _mm512_add_ps (acc, _mm512_mul_ps (x, x));
  case CORE_PROD: return _mm512_mul_ps (acc, x);
  /* (x, acc) order: a NaN x leaves acc, as in core_step_f32. */
  case CORE_MAX: return _mm512_max_ps (x, acc);
  case CORE_MIN: return _mm512_min_ps (x, acc);
  default: return acc;
  }
}

static inline __attribute__ ((always_inline, target ("avx512f"))) __m512
merge_avx512 (reduce_core core, __m512 a, __m512 b)
{
  switch (core) {
  case CORE_PROD: return _mm512_mul_ps (a, b);
  case CORE_MAX: return _mm512_max_ps (a, b);
  case CORE_MIN: return _mm512_min_ps (a, b);
  default: return _mm512_add_ps (a, b);
  }
}

static inline __attribute__ ((always_inline, target ("avx512f"))) float
row_avx512 (reduce_core core, const float *x, int64_t n)
{
  const __m512 identity = _mm512_set1_ps (core_identity_f32 (core));
  __m512 a0 = identity, a1 = identity, a2 = identity, a3 = identity;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    a0 = step_avx512 (core, a0, _mm512_loadu_ps (x + i));
    a1 = step_avx512 (core, a1, _mm512_loadu_ps (x + i + 16));
    a2 = step_avx512 (core, a2, _mm512_loadu_ps (x + i + 32));
    a3 = step_avx512 (core, a3, _mm512_loadu_ps (x + i + 48));
  }
  for (; i + 16 <= n; i += 16)
    a0 = step_avx512 (core, a0, _mm512_loadu_ps (x + i));
  if (i < n) {
    /* The identity in the masked-off lanes is neutral for every core here. */
    __mmask16 mask = (__mmask16) ((1u << (n - i)) - 1);
    a1 = step_avx512 (core, a1, _mm512_mask_loadu_ps (identity, mask, x + i));
  }
  __m512 a = merge_avx512 (core, merge_avx512 (core, a0, a1),
      merge_avx512 (core, a2, a3));
  switch (core) {
  case CORE_PROD: return _mm512_reduce_mul_ps (a);
  case CORE_MAX: return _mm512_reduce_max_ps (a);
  case CORE_MIN: return _mm512_reduce_min_ps (a);
  default: return _mm512_reduce_add_ps (a);
  }
}

static __attribute__ ((target ("avx512f"))) void
rows_avx512_masked (reduce_core core, const float *x, int64_t rows, int64_t n,
    float *out, float *shifts)
{
#define ROWS_AVX512(c)                                                         \
  case c:                                                                      \
    for (int64_t o = 0; o < rows; o++)                                         \
      out[o] = row_avx512 (c, x + o * n, n);                                   \
    break;
  switch (core) {
  ROWS_AVX512 (CORE_SUM)
  ROWS_AVX512 (CORE_ABS_SUM)
  ROWS_AVX512 (CORE_SQUARE_SUM)
  ROWS_AVX512 (CORE_PROD)
  ROWS_AVX512 (CORE_MAX)
  ROWS_AVX512 (CORE_MIN)
  case CORE_EXP_SUM:
    rows_avx512 (core, x, rows, n, out, shifts);
    break;
  }
#undef ROWS_AVX512
}
#endif

typedef void (*rows_fn) (reduce_core, const float *, int64_t, int64_t, float *, float *);
typedef void (*columns_fn) (reduce_core, const float *, int64_t, int64_t, int64_t,
    float *, float *);

static void
pick_float_loops (rows_fn *rows, columns_fn *columns)
{
#if defined(__x86_64__)
  if (ir_cpu ()->isa >= IR_ISA_AVX512) {
    *rows = rows_avx512_masked;
    *columns = columns_avx512;
    return;
  }
  if (ir_cpu ()->isa >= IR_ISA_AVX2) {
    *rows = rows_avx2;
    *columns = columns_avx2;
    return;
  }
#endif
  *rows = rows_generic;
  *columns = columns_generic;
}

/* ---------------------------------------------------------------------- */
/* Int64 pieces (scalar; sums and products wrap like int64 arithmetic)   */

static int64_t
saturate_to_i64 (double v)
{
  if (isnan (v))
    return 0;
  if (v >= 9223372036854775807.0)
    return INT64_MAX;
  if (v <= -9223372036854775808.0)
    return INT64_MIN;
  return (int64_t) v;
}

static int64_t
reduce_row_i64 (reduce_kind kind, const int64_t *x, int64_t n)
{
  uint64_t acc;
  switch (kind) {
  case REDUCE_MAX:
    acc = (uint64_t) INT64_MIN;
    for (int64_t i = 0; i < n; i++)
      if (x[i] > (int64_t) acc)
        acc = (uint64_t) x[i];
    return (int64_t) acc;
  case REDUCE_MIN:
    acc = (uint64_t) INT64_MAX;
    for (int64_t i = 0; i < n; i++)
      if (x[i] < (int64_t) acc)
        acc = (uint64_t) x[i];
    return (int64_t) acc;
  case REDUCE_PROD:
    acc = 1;
    for (int64_t i = 0; i < n; i++)
      acc *= (uint64_t) x[i];
    return (int64_t) acc;
  case REDUCE_L1:
    acc = 0;
    for (int64_t i = 0; i < n; i++)
      acc += x[i] < 0 ? -(uint64_t) x[i] : (uint64_t) x[i];
    return (int64_t) acc;
  case REDUCE_L2:
  case REDUCE_SUM_SQUARE:
    acc = 0;
    for (int64_t i = 0; i < n; i++)
      acc += (uint64_t) x[i] * (uint64_t) x[i];
    if (kind == REDUCE_L2)
      return saturate_to_i64 (sqrt ((double) (int64_t) acc));
    return (int64_t) acc;
  case REDUCE_SUM:
  case REDUCE_MEAN:
  case REDUCE_LOG_SUM:
  case REDUCE_LOG_SUM_EXP:   /* refused at infer */
    acc = 0;
    for (int64_t i = 0; i < n; i++)
      acc += (uint64_t) x[i];
    if (kind == REDUCE_MEAN)   /* numpy's int mean truncated; empty set: 0 */
      return n == 0 ? 0 : saturate_to_i64 ((double) (int64_t) acc / (double) n);
    if (kind == REDUCE_LOG_SUM)
      return saturate_to_i64 (log ((double) (int64_t) acc));
    return (int64_t) acc;
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Axes and layout                                                        */

typedef struct reduce_params {
  reduce_kind kind;
  reduce_core core;
  bool keepdims;
  bool noop_with_empty_axes;
  bool axes_from_input;        /* ReduceSum 13+, the others 18+ */
  int n_axes;                  /* attribute axes; -1 when absent */
  int64_t axes[IMGREC_MAX_RANK];
} reduce_params;

/* How a run walks the input, derived from its shape and the axes. */
typedef enum reduce_path {
  PATH_ROWS,       /* [O, R] */
  PATH_COLUMNS,    /* [O, R, I], I > 1 */
  PATH_GATHER,     /* reduced axes interleaved with kept ones */
} reduce_path;

typedef struct reduce_layout {
  int out_rank;
  int64_t out_dims[IMGREC_MAX_RANK];
  int64_t out_count;           /* outputs */
  int64_t count;               /* elements combined into each output */
  reduce_path path;
  int64_t outer, inner;        /* O and I of the first two paths */
  /* The gather path: merged groups, kept and reduced, with input strides. */
  int n_kept, n_reduced;
  int64_t kept_dims[IMGREC_MAX_RANK], kept_strides[IMGREC_MAX_RANK];
  int64_t red_dims[IMGREC_MAX_RANK], red_strides[IMGREC_MAX_RANK];
} reduce_layout;

static int
reduce_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  size_t which = 0;
  while (which < sizeof reduce_ops / sizeof reduce_ops[0]
      && strcmp (reduce_ops[which].op_type, node->op_type) != 0)
    which++;
  if (which == sizeof reduce_ops / sizeof reduce_ops[0])
    return ir_fail (err, "%s is not a reduction this kernel knows.", node->op_type);
  if (node->n_inputs < 1 || node->inputs[0] < 0)
    return ir_fail (err, "the data input is missing.");

  reduce_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory.");
  node->params = p;
  p->kind = reduce_ops[which].kind;
  p->core = reduce_ops[which].core;
  p->axes_from_input = node->opset >= (p->kind == REDUCE_SUM ? 13 : 18);

  int64_t keepdims = op_attr_int (ctx, "keepdims", 1);
  if (keepdims != 0 && keepdims != 1)
    return ir_fail (err, "attribute keepdims is %lld; expected 0 or 1.",
        (long long) keepdims);
  p->keepdims = keepdims == 1;

  if (p->axes_from_input) {
    int64_t noop = op_attr_int (ctx, "noop_with_empty_axes", 0);
    if (noop != 0 && noop != 1)
      return ir_fail (err, "attribute noop_with_empty_axes is %lld; expected 0 or 1.",
          (long long) noop);
    p->noop_with_empty_axes = noop == 1;
  }
  /* From the opsets that take axes as an input an axes attribute is not
   * valid ONNX, but some exporters still write one: like ONNX Runtime, use
   * it when the input is absent. */
  const int64_t *axes;
  int n = op_attr_ints (ctx, "axes", &axes);
  if (n > IMGREC_MAX_RANK)
    return ir_fail (err, "attribute axes lists %d axes; at most %d are possible.",
        n, IMGREC_MAX_RANK);
  p->n_axes = n;
  for (int i = 0; i < n; i++)
    p->axes[i] = axes[i];
  return 0;
}

/* Works out which axes of x are reduced (from the attribute, or from the
 * axes tensor when the op takes them as an input) and how to walk x. */
static int
reduce_layout_of (const reduce_params *p, const ir_tensor *x,
    const ir_tensor *axes_in, reduce_layout *l, imgrec_error *err)
{
  int rank = x->rank;
  bool reduced[IMGREC_MAX_RANK] = { false };
  const int64_t *axes = p->axes;
  int64_t n_axes = p->n_axes;
  if (p->axes_from_input && axes_in != NULL) {
    if (axes_in->storage != IR_I64)
      return ir_fail (err, "the axes input must be an int64 tensor.");
    if (axes_in->rank > 1)
      return ir_fail (err, "the axes input must be 1-D; it has rank %d.",
          axes_in->rank);
    n_axes = ir_numel (axes_in);
    if (n_axes > 0 && axes_in->data == NULL)
      return ir_fail (err, "the axes input must be known when the session is planned.");
    axes = ir_i64 (axes_in);
  }

  if (n_axes <= 0) {
    /* No axes: all of them, or none when noop_with_empty_axes says so. */
    for (int d = 0; d < rank; d++)
      reduced[d] = !p->noop_with_empty_axes;
  } else {
    if (n_axes > rank)
      return ir_fail (err, "%lld axes given for a tensor of rank %d.",
          (long long) n_axes, rank);
    for (int64_t i = 0; i < n_axes; i++) {
      int axis;
      if (ir_normalize_axis (axes[i], rank, &axis, err) < 0)
        return -1;
      if (reduced[axis])
        return ir_fail (err, "axis %lld is listed twice.", (long long) axes[i]);
      reduced[axis] = true;
    }
  }

  l->out_rank = 0;
  l->out_count = 1;
  l->count = 1;
  for (int d = 0; d < rank; d++) {
    if (reduced[d])
      l->count *= x->dims[d];
    else
      l->out_count *= x->dims[d];
    if (!reduced[d])
      l->out_dims[l->out_rank++] = x->dims[d];
    else if (p->keepdims)
      l->out_dims[l->out_rank++] = 1;
  }

  /* Merge dimensions into alternating kept/reduced groups, skipping size-1
   * ones which do not change the memory order. */
  int n_groups = 0;
  int64_t group_dims[IMGREC_MAX_RANK];
  bool group_reduced[IMGREC_MAX_RANK];
  for (int d = 0; d < rank; d++) {
    if (x->dims[d] == 1)
      continue;
    if (n_groups > 0 && group_reduced[n_groups - 1] == reduced[d])
      group_dims[n_groups - 1] *= x->dims[d];
    else {
      group_dims[n_groups] = x->dims[d];
      group_reduced[n_groups] = reduced[d];
      n_groups++;
    }
  }
  int first_red = -1, n_red_groups = 0;
  for (int g = 0; g < n_groups; g++)
    if (group_reduced[g]) {
      n_red_groups++;
      if (first_red < 0)
        first_red = g;
    }
  if (n_red_groups <= 1) {
    /* [O, R, I] with any of them possibly 1. */
    l->outer = 1;
    l->inner = 1;
    for (int g = 0; g < n_groups; g++) {
      if (first_red < 0 || g < first_red)
        l->outer *= group_dims[g];
      else if (g > first_red)
        l->inner *= group_dims[g];
    }
    l->path = l->inner == 1 ? PATH_ROWS : PATH_COLUMNS;
    return 0;
  }
  /* Kept and reduced groups, each listed innermost first. */
  l->path = PATH_GATHER;
  l->n_kept = l->n_reduced = 0;
  int64_t stride = 1;
  for (int g = n_groups - 1; g >= 0; g--) {
    if (group_reduced[g]) {
      l->red_dims[l->n_reduced] = group_dims[g];
      l->red_strides[l->n_reduced++] = stride;
    } else {
      l->kept_dims[l->n_kept] = group_dims[g];
      l->kept_strides[l->n_kept++] = stride;
    }
    stride *= group_dims[g];
  }
  return 0;
}

static int
reduce_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const reduce_params *p = node->params;
  const ir_tensor *x = in[0];
  if (x->storage != IR_F32 && x->storage != IR_I64)
    return ir_fail (ctx->err, "the data input must be a floating or integer tensor.");
  if (x->storage == IR_I64 && p->kind == REDUCE_LOG_SUM_EXP)
    return ir_fail (ctx->err, "ReduceLogSumExp of an integer tensor is not supported.");
  reduce_layout l;
  if (reduce_layout_of (p, x, node->n_inputs > 1 ? in[1] : NULL, &l, ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], x->elem_type, l.out_rank, l.out_dims);

  /* A per-thread row for gathering each output's set: the float gather path
   * and int64 column reductions need it. */
  ctx->scratch_bytes = 0;
  if ((l.path == PATH_GATHER || x->storage == IR_I64) && l.out_count > 0) {
    int threads = ctx->threads > 0 ? ctx->threads : 1;
    if (l.count > (int64_t) (SIZE_MAX / 8 / (size_t) threads) - 64)
      return ir_fail (ctx->err, "the reduction is too large.");
    ctx->scratch_bytes = (size_t) threads * (((size_t) l.count * 8 + 63) & ~(size_t) 63);
  }
  return 0;
}

typedef struct reduce_job {
  const reduce_params *p;
  const reduce_layout *l;
  const void *x;
  void *y;
  char *scratch;
  size_t scratch_per_thread;
  rows_fn rows;
  columns_fn columns;
} reduce_job;

/* Applies the op's finish to out[0..n); shifts holds each set's max
 * (read for LogSumExp only). */
static void
finish_outputs (const reduce_job *job, float *out, const float *shifts, int64_t n)
{
  reduce_kind kind = job->p->kind;
  if (!kind_has_finish (kind))
    return;
  for (int64_t i = 0; i < n; i++)
    out[i] = finish_f32 (kind, out[i], job->l->count,
        kind == REDUCE_LOG_SUM_EXP ? shifts[i] : 0.0f);
}

static void
reduce_rows_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const reduce_job *job = arg;
  const reduce_layout *l = job->l;
  float *out = (float *) job->y + begin;
  /* Shifts go in small stack chunks so that no scratch is needed. */
  enum { CHUNK = 256 };
  float shifts[CHUNK];
  for (int64_t o = begin; o < end; o += CHUNK) {
    int64_t n = end - o < CHUNK ? end - o : CHUNK;
    job->rows (job->p->core, (const float *) job->x + o * l->count, n, l->count,
        out + (o - begin), shifts);
    finish_outputs (job, out + (o - begin), shifts, n);
  }
}

/* Items are (outer index, column block) pairs. */
static void
reduce_columns_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const reduce_job *job = arg;
  const reduce_layout *l = job->l;
  int64_t blocks = (l->inner + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
  float shifts[COLUMN_BLOCK];
  for (int64_t item = begin; item < end; item++) {
    int64_t o = item / blocks, col = (item % blocks) * COLUMN_BLOCK;
    int64_t cols = l->inner - col < COLUMN_BLOCK ? l->inner - col : COLUMN_BLOCK;
    const float *x = (const float *) job->x + o * l->count * l->inner + col;
    float *out = (float *) job->y + o * l->inner + col;
    job->columns (job->p->core, x, l->count, l->inner, cols, out, shifts);
    finish_outputs (job, out, shifts, cols);
  }
}

/* Copies the set of output o into row (elements of elem_size bytes). */
static void
gather_set (const reduce_layout *l, const void *x, size_t elem_size, int64_t o,
    void *row)
{
  int64_t base = 0;
  for (int g = 0; g < l->n_kept; g++) {
    base += (o % l->kept_dims[g]) * l->kept_strides[g];
    o /= l->kept_dims[g];
  }
  int64_t index[IMGREC_MAX_RANK] = { 0 };
  int64_t off = base;
  for (int64_t e = 0; e < l->count; e++) {
    if (elem_size == 8)
      ((int64_t *) row)[e] = ((const int64_t *) x)[off];
    else
      ((float *) row)[e] = ((const float *) x)[off];
    for (int g = 0; g < l->n_reduced; g++) {
      off += l->red_strides[g];
      if (++index[g] < l->red_dims[g])
        break;
      index[g] = 0;
      off -= l->red_strides[g] * l->red_dims[g];
    }
  }
}

static void
reduce_gather_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const reduce_job *job = arg;
  const reduce_layout *l = job->l;
  void *row = job->scratch + (size_t) thread_index * job->scratch_per_thread;
  for (int64_t o = begin; o < end; o++) {
    gather_set (l, job->x, 4, o, row);
    float shift = 0.0f;
    job->rows (job->p->core, row, 1, l->count, (float *) job->y + o, &shift);
    finish_outputs (job, (float *) job->y + o, &shift, 1);
  }
}

/* Int64: the contiguous rows directly, everything else through a gather. */
static void
reduce_i64_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const reduce_job *job = arg;
  const reduce_layout *l = job->l;
  int64_t *row = (int64_t *) (job->scratch + (size_t) thread_index * job->scratch_per_thread);
  const int64_t *x = job->x;
  int64_t *y = job->y;
  for (int64_t o = begin; o < end; o++) {
    if (l->path == PATH_ROWS)
      y[o] = reduce_row_i64 (job->p->kind, x + o * l->count, l->count);
    else if (l->path == PATH_COLUMNS) {
      int64_t outer = o / l->inner, col = o % l->inner;
      for (int64_t r = 0; r < l->count; r++)
        row[r] = x[(outer * l->count + r) * l->inner + col];
      y[o] = reduce_row_i64 (job->p->kind, row, l->count);
    } else {
      gather_set (l, x, 8, o, row);
      y[o] = reduce_row_i64 (job->p->kind, row, l->count);
    }
  }
}

/* Elements a thread should at least get before a reduction is split. */
#define REDUCE_GRAIN_ELEMENTS 32768

static int64_t
grain_for (int64_t elements_per_item)
{
  return REDUCE_GRAIN_ELEMENTS / (elements_per_item > 0 ? elements_per_item : 1) + 1;
}

static int
reduce_run (const ir_node *node, const op_run_ctx *ctx)
{
  const reduce_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  reduce_layout l;
  if (reduce_layout_of (p, x, node->n_inputs > 1 ? ctx->in[1] : NULL, &l, ctx->err) < 0)
    return -1;
  if (l.out_count == 0)
    return 0;

  reduce_job job = { p, &l, x->data, ctx->out[0]->data, ctx->scratch, 0, NULL, NULL };
  if (l.path == PATH_GATHER || x->storage == IR_I64) {
    int threads = ir_pool_threads (ctx->pool);
    job.scratch_per_thread = ((size_t) l.count * 8 + 63) & ~(size_t) 63;
    size_t needed = job.scratch_per_thread * (size_t) threads;
    if (needed > 0 && (ctx->scratch == NULL || ctx->scratch_bytes < needed))
      return ir_fail (ctx->err, "the reduction was given too little scratch memory.");
  }
  if (x->storage == IR_I64) {
    ir_parallel_for (ctx->pool, l.out_count, grain_for (l.count), reduce_i64_range, &job);
    return 0;
  }

  pick_float_loops (&job.rows, &job.columns);
  switch (l.path) {
  case PATH_ROWS:
    ir_parallel_for (ctx->pool, l.outer, grain_for (l.count), reduce_rows_range, &job);
    break;
  case PATH_COLUMNS: {
    int64_t blocks = (l.inner + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
    ir_parallel_for (ctx->pool, l.outer * blocks, grain_for (l.count * COLUMN_BLOCK),
        reduce_columns_range, &job);
    break;
  }
  case PATH_GATHER:
    ir_parallel_for (ctx->pool, l.out_count, grain_for (l.count), reduce_gather_range, &job);
    break;
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* ArgMax / ArgMin                                                        */

typedef struct arg_params {
  bool is_max;
  bool keepdims;
  bool select_last_index;
  int64_t axis;
} arg_params;

static int
arg_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  if (node->n_inputs < 1 || node->inputs[0] < 0)
    return ir_fail (err, "the data input is missing.");
  arg_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory.");
  node->params = p;
  p->is_max = strcmp (node->op_type, "ArgMax") == 0;
  p->axis = op_attr_int (ctx, "axis", 0);
  int64_t keepdims = op_attr_int (ctx, "keepdims", 1);
  if (keepdims != 0 && keepdims != 1)
    return ir_fail (err, "attribute keepdims is %lld; expected 0 or 1.",
        (long long) keepdims);
  p->keepdims = keepdims == 1;
  int64_t last = op_attr_int (ctx, "select_last_index", 0);
  if (last != 0 && last != 1)
    return ir_fail (err, "attribute select_last_index is %lld; expected 0 or 1.",
        (long long) last);
  p->select_last_index = last == 1;
  return 0;
}

/* [outer, r, inner] around the axis. */
typedef struct arg_layout {
  int64_t outer, r, inner;
  int out_rank;
  int64_t out_dims[IMGREC_MAX_RANK];
} arg_layout;

static int
arg_layout_of (const arg_params *p, const ir_tensor *x, arg_layout *l,
    imgrec_error *err)
{
  int axis;
  if (ir_normalize_axis (p->axis, x->rank, &axis, err) < 0)
    return -1;
  if (x->dims[axis] == 0)
    return ir_fail (err, "axis %lld has no elements to choose from.", (long long) p->axis);
  if (x->dims[axis] > INT32_MAX)   /* float indices are tracked as int32 */
    return ir_fail (err, "axis %lld has more than %d elements.", (long long) p->axis,
        INT32_MAX);
  l->outer = ir_dims_product (x->dims, 0, axis);
  l->r = x->dims[axis];
  l->inner = ir_dims_product (x->dims, axis + 1, x->rank);
  l->out_rank = 0;
  for (int d = 0; d < x->rank; d++)
    if (d != axis)
      l->out_dims[l->out_rank++] = x->dims[d];
    else if (p->keepdims)
      l->out_dims[l->out_rank++] = 1;
  return 0;
}

static int
arg_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const arg_params *p = node->params;
  if (in[0]->storage != IR_F32 && in[0]->storage != IR_I64)
    return ir_fail (ctx->err, "the data input must be a floating or integer tensor.");
  arg_layout l;
  if (arg_layout_of (p, in[0], &l, ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], IMGREC_DTYPE_INT64, l.out_rank, l.out_dims);
  ctx->scratch_bytes = 0;
  return 0;
}

/* Best index of each of `cols` columns of an [r, cols] slab. */
typedef void (*arg_block_fn) (bool is_max, bool last, const void *x, int64_t r,
    int64_t stride, int64_t cols, int64_t *out);

typedef struct arg_job {
  const arg_params *p;
  const arg_layout *l;
  const void *x;
  int64_t *y;
  size_t elem_size;
  arg_block_fn block;
} arg_job;

/* Finds the best of each column of the [r, cols] slab at x (rows `stride`
 * apart), cols <= COLUMN_BLOCK, reading the input in order.  The update is
 * branch-free so that it vectorises into compares and blends; the index
 * type IDX matches the element width for the same reason.  `better` is
 * strict for the first index of a tie, inclusive for the last. */
#define DEFINE_ARG_BLOCK(T, IDX, suffix)                                       \
  static inline __attribute__ ((always_inline)) void                           \
  arg_block_##suffix (bool is_max, bool last, const T *x, int64_t r,           \
      int64_t stride, int64_t cols, int64_t *out)                              \
  {                                                                            \
    T best[COLUMN_BLOCK];                                                      \
    IDX where[COLUMN_BLOCK];                                                   \
    for (int64_t j = 0; j < cols; j++) {                                       \
      best[j] = x[j];                                                          \
      where[j] = 0;                                                            \
    }                                                                          \
    for (int64_t i = 1; i < r; i++) {                                          \
      const T *restrict row = x + i * stride;                                  \
      IDX index = (IDX) i;                                                     \
      for (int64_t j = 0; j < cols; j++) {                                     \
        T v = row[j], b = best[j];                                             \
        bool better = is_max ? (last ? v >= b : v > b)                         \
                             : (last ? v <= b : v < b);                        \
        /* A mask rather than ?: on the index, which GCC will not vectorise. */ \
        IDX mask = -(IDX) better;                                              \
        best[j] = better ? v : b;                                              \
        where[j] = (index & mask) | (where[j] & ~mask);                        \
      }                                                                        \
    }                                                                          \
    for (int64_t j = 0; j < cols; j++)                                         \
      out[j] = where[j];                                                       \
  }


/* Per instruction set: constant flags and, for full blocks, a constant
 * width, so that each combination is its own vector loop. */
#define DEFINE_ARG_DISPATCH(T, suffix, isa, attrs)                             \
  static attrs void                                                            \
  arg_block_##suffix##_##isa (bool is_max, bool last, const void *xv,          \
      int64_t r, int64_t stride, int64_t cols, int64_t *out)                   \
  {                                                                            \
    const T *x = xv;                                                           \
    if (cols == COLUMN_BLOCK) {                                                \
      if (is_max && last)                                                      \
        arg_block_##suffix (true, true, x, r, stride, COLUMN_BLOCK, out);      \
      else if (is_max)                                                         \
        arg_block_##suffix (true, false, x, r, stride, COLUMN_BLOCK, out);     \
      else if (last)                                                           \
        arg_block_##suffix (false, true, x, r, stride, COLUMN_BLOCK, out);     \
      else                                                                     \
        arg_block_##suffix (false, false, x, r, stride, COLUMN_BLOCK, out);    \
    } else {                                                                   \
      if (is_max && last)                                                      \
        arg_block_##suffix (true, true, x, r, stride, cols, out);              \
      else if (is_max)                                                         \
        arg_block_##suffix (true, false, x, r, stride, cols, out);             \
      else if (last)                                                           \
        arg_block_##suffix (false, true, x, r, stride, cols, out);             \
      else                                                                     \
        arg_block_##suffix (false, false, x, r, stride, cols, out);            \
    }                                                                          \
  }

DEFINE_ARG_BLOCK (float, int32_t, f32)
DEFINE_ARG_BLOCK (int64_t, int64_t, i64)
DEFINE_ARG_DISPATCH (float, f32, generic, )
DEFINE_ARG_DISPATCH (int64_t, i64, generic, )
#if defined(__x86_64__)
DEFINE_ARG_DISPATCH (float, f32, avx2, __attribute__ ((target ("avx2"))))
DEFINE_ARG_DISPATCH (float, f32, avx512, __attribute__ ((target ("avx512f"))))
#endif

/* Items are (outer index, column block) pairs. */
static void
arg_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const arg_job *job = arg;
  const arg_layout *l = job->l;
  int64_t blocks = (l->inner + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
  for (int64_t item = begin; item < end; item++) {
    int64_t o = item / blocks, col = (item % blocks) * COLUMN_BLOCK;
    int64_t cols = l->inner - col < COLUMN_BLOCK ? l->inner - col : COLUMN_BLOCK;
    job->block (job->p->is_max, job->p->select_last_index,
        (const char *) job->x + (size_t) (o * l->r * l->inner + col) * job->elem_size,
        l->r, l->inner, cols, job->y + o * l->inner + col);
  }
}

static arg_block_fn
pick_arg_block (ir_storage storage)
{
  if (storage == IR_I64)
    return arg_block_i64_generic;
#if defined(__x86_64__)
  if (ir_cpu ()->isa >= IR_ISA_AVX512)
    return arg_block_f32_avx512;
  if (ir_cpu ()->isa >= IR_ISA_AVX2)
    return arg_block_f32_avx2;
#endif
  return arg_block_f32_generic;
}

static int
arg_run (const ir_node *node, const op_run_ctx *ctx)
{
  const arg_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  arg_layout l;
  if (arg_layout_of (p, x, &l, ctx->err) < 0)
    return -1;
  if (l.outer == 0 || l.inner == 0)
    return 0;
  arg_job job = { p, &l, x->data, ir_i64 (ctx->out[0]),
      ir_storage_size (x->storage), pick_arg_block (x->storage) };
  int64_t blocks = (l.inner + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
  int64_t per_item = l.r * (l.inner < COLUMN_BLOCK ? l.inner : COLUMN_BLOCK);
  ir_parallel_for (ctx->pool, l.outer * blocks, grain_for (per_item),
      arg_range, &job);
  return 0;
}

/* ---------------------------------------------------------------------- */

/* Opsets 1, 11 (negative axes) and 13 (types) read the axes attribute;
 * ReduceSum 13 and the others from 18 take axes as an optional input, which
 * infer must read, and add noop_with_empty_axes. */
#define REDUCE_KERNELS(name, op, input_since)                                  \
  static const op_kernel name##_attr = {                                       \
    .op_type = op, .domain = "", .since_version = 1,                           \
    .init = reduce_init, .infer = reduce_infer, .run = reduce_run,             \
  };                                                                           \
  static const op_kernel name##_input = {                                      \
    .op_type = op, .domain = "", .since_version = input_since,                 \
    .needs_input_data = 1u << 1,                                               \
    .init = reduce_init, .infer = reduce_infer, .run = reduce_run,             \
  };

REDUCE_KERNELS (reduce_sum, "ReduceSum", 13)
REDUCE_KERNELS (reduce_mean, "ReduceMean", 18)
REDUCE_KERNELS (reduce_max, "ReduceMax", 18)
REDUCE_KERNELS (reduce_min, "ReduceMin", 18)
REDUCE_KERNELS (reduce_prod, "ReduceProd", 18)
REDUCE_KERNELS (reduce_l1, "ReduceL1", 18)
REDUCE_KERNELS (reduce_l2, "ReduceL2", 18)
REDUCE_KERNELS (reduce_sum_square, "ReduceSumSquare", 18)
REDUCE_KERNELS (reduce_log_sum, "ReduceLogSum", 18)
REDUCE_KERNELS (reduce_log_sum_exp, "ReduceLogSumExp", 18)

/* ArgMax/ArgMin 1, 11 (negative axis), 12 (select_last_index, absent and so
 * 0 before) and 13 behave alike. */
static const op_kernel arg_max = {
  .op_type = "ArgMax", .domain = "", .since_version = 1,
  .init = arg_init, .infer = arg_infer, .run = arg_run,
};
static const op_kernel arg_min = {
  .op_type = "ArgMin", .domain = "", .since_version = 1,
  .init = arg_init, .infer = arg_infer, .run = arg_run,
};

const op_kernel *const ir_ops_reduce[] = {
  &reduce_sum_attr, &reduce_sum_input,
  &reduce_mean_attr, &reduce_mean_input,
  &reduce_max_attr, &reduce_max_input,
  &reduce_min_attr, &reduce_min_input,
  &reduce_prod_attr, &reduce_prod_input,
  &reduce_l1_attr, &reduce_l1_input,
  &reduce_l2_attr, &reduce_l2_input,
  &reduce_sum_square_attr, &reduce_sum_square_input,
  &reduce_log_sum_attr, &reduce_log_sum_input,
  &reduce_log_sum_exp_attr, &reduce_log_sum_exp_input,
  &arg_max, &arg_min,
  NULL,
};
