/* Op family: pool — MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool,
 * MaxUnpool.
 *
 * Windowed pools over 1, 2 or 3 spatial axes share one loop skeleton: every
 * shape is viewed as planes x D x H x W (missing leading spatial axes have
 * size 1) and the work is split over threads by output rows (plane, od, oh).
 * Per run, small tables in scratch say which D/H taps each output row sees
 * and which outputs of a row each W tap reaches, so rows need no divisions
 * and borders no special case.  A float row is computed separably: its
 * window rows combined column by column into one padded line per thread
 * (scratch), then each output's W taps taken from that line, both by the
 * ISA's line kernels (pool_lines_avx2.c, pool_lines_avx512.c: full vectors,
 * masked tails, even/odd permutes for stride 2).  Rows too long for a line
 * go tap-major with plain loops the compiler vectorises.  Rows that need the
 * Indices output, and integer inputs (MaxPool on uint8/int8 since opset 12),
 * take a scalar arg-max path.
 *
 * All ONNX versions of these ops share one kernel each: later versions only
 * add attributes (MaxPool-8 storage_order and Indices, MaxPool-10 dilations
 * and ceil_mode, AveragePool-7 count_include_pad, AveragePool-10 ceil_mode,
 * AveragePool-19 dilations) whose defaults give the older behaviour. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "block16.h"
#include "cpu.h"
#include "op.h"
#include "pool_internal.h"

/* Hot loops are compiled for AVX-512, AVX2+FMA and baseline x86-64; the
 * loader picks the best one for the running CPU. */
#if defined(__x86_64__) && defined(__GNUC__)
#define POOL_HOT __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define POOL_HOT
#endif

#define POOL_MAX_SPATIAL 3
/* Bound on attribute values so that index arithmetic stays far from overflow. */
#define POOL_ATTR_LIMIT ((int64_t) 1 << 30)
/* Work items (taps x outputs) per thread chunk below which we do not split. */
#define POOL_GRAIN_WORK 32768
/* Longest padded input row the separable rows buffer (floats per thread). */
#define POOL_LINE_MAX 65536

typedef enum pool_kind {
  POOL_MAX,
  POOL_AVERAGE,
} pool_kind;

typedef enum pool_auto_pad {
  AUTO_PAD_NOTSET,
  AUTO_PAD_SAME_UPPER,
  AUTO_PAD_SAME_LOWER,
  AUTO_PAD_VALID,
} pool_auto_pad;

typedef struct pool_params {
  pool_kind kind;
  bool global;
  int n_spatial;
  int64_t kernel[POOL_MAX_SPATIAL];
  int64_t strides[POOL_MAX_SPATIAL];
  int64_t dilations[POOL_MAX_SPATIAL];
  int64_t pads[2 * POOL_MAX_SPATIAL];  /* begins, then ends */
  pool_auto_pad auto_pad;
  bool ceil_mode;
  bool count_include_pad;
  bool column_major_indices;           /* storage_order = 1 */
} pool_params;

/* Resolved geometry for one input shape, always as 3 spatial axes (D, H, W):
 * an input with fewer spatial axes gets leading axes of size 1, kernel 1. */
typedef struct pool_geom {
  int64_t planes;                      /* N * C */
  int64_t in[3], out[3], k[3], s[3], d[3];
  int64_t pad_begin[3], pad_end[3];
} pool_geom;

/* Whether a float MaxPool without Indices takes the 16-plane block kernel
 * (block16.h): 2-D, square window of at most 7, dilation 1, stride 1,
 * outputs at most 16 wide, AVX-512; and its buffer's rows and columns.
 * GoogLeNet's 3x3 stride-1 pools on 14x14 and 7x7 maps had taken 2.6-2.9x
 * ORT's time one plane at a time; at stride 2 the per-plane kernels did
 * better (SqueezeNet's 27x27 -> 13x13: 0.051 ms against 0.082 in blocks;
 * 2x2 pools to 8x8: 0.019 against 0.029).  IMGREC_POOL_BLOCK=0 turns it
 * off (A/B runs). */
#define POOL_BLOCK_MAX_BUFFER_BYTES ((size_t) 64 << 10)
static bool
pool_block_fits (bool is_max, bool scalar, const pool_geom *g, int64_t *buf_h, int64_t *buf_w)
{
#ifdef IMGREC_HAVE_X86_KERNELS
  static int enabled = -1;
  if (enabled < 0) {
    const char *v = getenv ("IMGREC_POOL_BLOCK");
    enabled = v == NULL || strcmp (v, "0") != 0;
  }
  if (!enabled || !is_max || scalar || ir_cpu ()->isa < IR_ISA_AVX512 || g->k[0] != 1
      || g->out[0] != 1 || g->k[1] != g->k[2] || g->k[1] > 7 || g->d[1] != 1 || g->d[2] != 1
      || g->s[1] != 1 || g->s[2] != 1 || g->out[2] > 16 || g->out[2] < 1 || g->out[1] < 1
      || g->pad_begin[1] >= g->k[1] || g->pad_begin[2] >= g->k[2])
    return false;
  *buf_h = (g->out[1] - 1) * g->s[1] + g->k[1];
  *buf_w = (g->out[2] + 2) * g->s[2] + g->k[2];
  return (size_t) (*buf_h * *buf_w) * 16 * sizeof (float) <= POOL_BLOCK_MAX_BUFFER_BYTES;
#else
  (void) is_max;
  (void) scalar;
  (void) g;
  (void) buf_h;
  (void) buf_w;
  return false;
#endif
}

typedef struct pool_block_task {
  block16_args base;
  const float *x;
  float *y;
  float *bufs;
  size_t buf_floats;
  int64_t planes;
} pool_block_task;

/* Items: blocks of 16 consecutive planes (N * C flattened). */
static void
pool_block_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const pool_block_task *t = arg;
  const int64_t in_plane = t->base.in_h * t->base.in_w, out_plane = t->base.out_h * t->base.out_w;
  for (int64_t b = begin; b < end; b++) {
    block16_args a = t->base;
    a.nch = (int) (t->planes - 16 * b < 16 ? t->planes - 16 * b : 16);
    a.in = t->x + 16 * b * in_plane;
    a.out = t->y + 16 * b * out_plane;
    a.buf = t->bufs + (size_t) thread_index * t->buf_floats;
    block16_max_pool_avx512 (&a);
  }
}

/* ---------------------------------------------------------------- init */

static int
read_axis_ints (const op_init_ctx *ctx, const char *name, int expected_len,
    int64_t min_value, int64_t default_value, int64_t *dest, imgrec_error *err)
{
  const int64_t *vals;
  int n = op_attr_ints (ctx, name, &vals);
  if (n < 0) {
    for (int i = 0; i < expected_len; i++)
      dest[i] = default_value;
    return 0;
  }
  if (n != expected_len)
    return ir_fail (err, "attribute '%s' has %d values but %d were expected "
        "(from the rank of kernel_shape)", name, n, expected_len);
  for (int i = 0; i < n; i++) {
    if (vals[i] < min_value || vals[i] > POOL_ATTR_LIMIT)
      return ir_fail (err, "attribute '%s' value %lld at position %d is out of "
          "range [%lld, %lld]", name, (long long) vals[i], i,
          (long long) min_value, (long long) POOL_ATTR_LIMIT);
    dest[i] = vals[i];
  }
  return 0;
}

static int
read_flag (const op_init_ctx *ctx, const char *name, bool *dest, imgrec_error *err)
{
  int64_t v = op_attr_int (ctx, name, 0);
  if (v != 0 && v != 1)
    return ir_fail (err, "attribute '%s' is %lld but must be 0 or 1", name,
        (long long) v);
  *dest = v == 1;
  return 0;
}

static int
pool_init_common (ir_node *node, const op_init_ctx *ctx, pool_kind kind,
    imgrec_error *err)
{
  pool_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory");
  node->params = p;
  p->kind = kind;

  const int64_t *kernel;
  int n = op_attr_ints (ctx, "kernel_shape", &kernel);
  if (n < 0)
    return ir_fail (err, "required attribute 'kernel_shape' is missing");
  if (n < 1 || n > POOL_MAX_SPATIAL)
    return ir_fail (err, "attribute 'kernel_shape' has %d values; 1 to %d "
        "spatial axes are supported", n, POOL_MAX_SPATIAL);
  p->n_spatial = n;
  if (read_axis_ints (ctx, "kernel_shape", n, 1, 1, p->kernel, err) < 0
      || read_axis_ints (ctx, "strides", n, 1, 1, p->strides, err) < 0
      || read_axis_ints (ctx, "dilations", n, 1, 1, p->dilations, err) < 0
      || read_axis_ints (ctx, "pads", 2 * n, 0, 0, p->pads, err) < 0)
    return -1;

  const char *auto_pad = op_attr_string (ctx, "auto_pad", "NOTSET");
  if (strcmp (auto_pad, "NOTSET") == 0 || auto_pad[0] == '\0')
    p->auto_pad = AUTO_PAD_NOTSET;
  else if (strcmp (auto_pad, "SAME_UPPER") == 0)
    p->auto_pad = AUTO_PAD_SAME_UPPER;
  else if (strcmp (auto_pad, "SAME_LOWER") == 0)
    p->auto_pad = AUTO_PAD_SAME_LOWER;
  else if (strcmp (auto_pad, "VALID") == 0)
    p->auto_pad = AUTO_PAD_VALID;
  else
    return ir_fail (err, "attribute 'auto_pad' is '%s' but must be NOTSET, "
        "SAME_UPPER, SAME_LOWER or VALID", auto_pad);

  if (read_flag (ctx, "ceil_mode", &p->ceil_mode, err) < 0
      || read_flag (ctx, "count_include_pad", &p->count_include_pad, err) < 0
      || read_flag (ctx, "storage_order", &p->column_major_indices, err) < 0)
    return -1;
  return 0;
}

static int
max_pool_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  if (node->n_outputs > 2)
    return ir_fail (err, "MaxPool has at most 2 outputs (Y, Indices) but the "
        "node lists %d", node->n_outputs);
  return pool_init_common (node, ctx, POOL_MAX, err);
}

static int
average_pool_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return pool_init_common (node, ctx, POOL_AVERAGE, err);
}

static int
global_pool_init (ir_node *node, pool_kind kind, imgrec_error *err)
{
  pool_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory");
  node->params = p;
  p->kind = kind;
  p->global = true;
  return 0;
}

static int
global_max_pool_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return global_pool_init (node, POOL_MAX, err);
}

static int
global_average_pool_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return global_pool_init (node, POOL_AVERAGE, err);
}

/* -------------------------------------------------------------- geometry */

static int64_t
ceil_div (int64_t a, int64_t b)
{
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/* Output size and padding of one spatial axis, following the ONNX formulas
 * (explicit pads with floor/ceil, VALID, SAME_UPPER/SAME_LOWER). */
static int
axis_geometry (const pool_params *p, int axis, int64_t in, int64_t *out,
    int64_t *pad_begin, int64_t *pad_end, imgrec_error *err)
{
  int64_t k = p->kernel[axis], s = p->strides[axis];
  int64_t effective = (k - 1) * p->dilations[axis] + 1;
  int64_t pb = 0, pe = 0, o;

  switch (p->auto_pad) {
  case AUTO_PAD_SAME_UPPER:
  case AUTO_PAD_SAME_LOWER: {
    o = ceil_div (in, s);
    int64_t total = (o - 1) * s + effective - in;
    if (total < 0)
      total = 0;
    /* SAME_UPPER puts the odd extra pad at the end, SAME_LOWER at the start. */
    pb = p->auto_pad == AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
    pe = total - pb;
    break;
  }
  case AUTO_PAD_VALID:
    if (in < effective)
      return ir_fail (err, "spatial axis %d has size %lld, smaller than the "
          "dilated kernel size %lld (auto_pad VALID)", axis, (long long) in,
          (long long) effective);
    o = (in - effective) / s + 1;
    break;
  default: {
    pb = p->pads[axis];
    pe = p->pads[axis + p->n_spatial];
    int64_t span = in + pb + pe - effective;
    if (span < 0)
      return ir_fail (err, "spatial axis %d has padded size %lld, smaller than "
          "the dilated kernel size %lld", axis, (long long) (in + pb + pe),
          (long long) effective);
    if (p->ceil_mode) {
      o = ceil_div (span, s) + 1;
      /* A last window that would start inside the end padding is dropped
       * (ONNX, PyTorch and ONNX Runtime agree on this). */
      if ((o - 1) * s >= in + pb)
        o--;
    } else {
      o = span / s + 1;
    }
    break;
  }
  }
  if (in > 0 && o < 1)
    return ir_fail (err, "spatial axis %d of size %lld gives an empty output",
        axis, (long long) in);
  *out = in > 0 ? o : 0;
  *pad_begin = pb;
  *pad_end = pe;
  return 0;
}

/* Checks X against the attributes and fills the geometry. */
static int
pool_geometry (const pool_params *p, const ir_tensor *x, pool_geom *g,
    imgrec_error *err)
{
  int n = p->n_spatial;
  if (x->rank != n + 2)
    return ir_fail (err, "input X has rank %d but kernel_shape has %d spatial "
        "axes, so rank %d was expected", x->rank, n, n + 2);
  if (__builtin_mul_overflow (x->dims[0], x->dims[1], &g->planes))
    return ir_fail (err, "input X batch x channels overflows");
  for (int a = 0; a < 3; a++) {
    g->in[a] = g->out[a] = g->k[a] = g->s[a] = g->d[a] = 1;
    g->pad_begin[a] = g->pad_end[a] = 0;
  }
  for (int i = 0; i < n; i++) {
    int a = 3 - n + i;
    g->in[a] = x->dims[2 + i];
    g->k[a] = p->kernel[i];
    g->s[a] = p->strides[i];
    g->d[a] = p->dilations[i];
    if (axis_geometry (p, i, g->in[a], &g->out[a], &g->pad_begin[a],
            &g->pad_end[a], err) < 0)
      return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- infer */

static size_t pool_tables_bytes (const pool_geom *g);
static int64_t pool_line_floats (const pool_geom *g);
static size_t align64 (size_t n);

static int
pool_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const pool_params *p = node->params;
  const ir_tensor *x = in[0];
  if (x == NULL)
    return ir_fail (ctx->err, "input X is missing");
  if (x->storage != IR_F32 && !(p->kind == POOL_MAX && x->storage == IR_I64 && !p->global))
    return ir_fail (ctx->err, "input X has element type %s, which this op does "
        "not support", imgrec_dtype_name (x->elem_type));

  int64_t dims[IMGREC_MAX_RANK];
  int rank = x->rank;
  size_t scratch = 0;
  if (p->global) {
    if (rank < 2)
      return ir_fail (ctx->err, "input X has rank %d but at least 2 (N, C, ...) "
          "is required", rank);
    for (int i = 0; i < rank; i++)
      dims[i] = i < 2 ? x->dims[i] : 1;
  } else {
    pool_geom g;
    if (pool_geometry (p, x, &g, ctx->err) < 0)
      return -1;
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int i = 0; i < p->n_spatial; i++)
      dims[2 + i] = g.out[3 - p->n_spatial + i];
    int64_t numel = 1;
    for (int i = 0; i < rank; i++)
      if (__builtin_mul_overflow (numel, dims[i], &numel))
        return ir_fail (ctx->err, "output size overflows");
    scratch = pool_tables_bytes (&g);
    if (x->storage == IR_F32 && node->n_outputs < 2)
      scratch = align64 (scratch) + (size_t) (ctx->threads > 0 ? ctx->threads : 1)
          * (size_t) pool_line_floats (&g) * sizeof (float);
    int64_t bh, bw;
    if (pool_block_fits (p->kind == POOL_MAX, x->storage != IR_F32 || node->n_outputs > 1, &g,
            &bh, &bw)) {
      const size_t block = (size_t) (ctx->threads > 0 ? ctx->threads : 1) * (size_t) (bh * bw)
          * 16 * sizeof (float);
      scratch = scratch > block ? scratch : block;
    }
  }
  ir_set_shape (out[0], x->elem_type, rank, dims);
  if (node->n_outputs > 1 && out[1] != NULL) {
    if (p->global || p->kind != POOL_MAX)
      return ir_fail (ctx->err, "this op has a single output");
    ir_set_shape (out[1], IMGREC_DTYPE_INT64, rank, dims);
  }
  ctx->scratch_bytes = scratch;
  return 0;
}

/* ------------------------------------------------------- windowed pools */

/* Taps k in [0, K) whose position start + k * dil lies in [lo, hi). */
static void
tap_range (int64_t start, int64_t dil, int64_t K, int64_t lo, int64_t hi,
    int64_t *k_begin, int64_t *k_end)
{
  int64_t b = 0, e = K;
  if (start < lo)
    b = ceil_div (lo - start, dil);
  if (start + (K - 1) * dil >= hi)
    e = hi - start <= 0 ? 0 : ceil_div (hi - start, dil);
  if (e > K)
    e = K;
  if (b > e)
    b = e;
  *k_begin = b;
  *k_end = e;
}

/* Per output index along D or H: the taps inside the input, and how many
 * taps count for AveragePool's divisor. */
typedef struct axis_taps {
  int64_t begin, end, count;
} axis_taps;

/* Per W tap: the outputs [begin, end) for which that tap is inside the input. */
typedef struct tap_outputs {
  int64_t begin, end;
} tap_outputs;

/* Tables built once per run (in scratch) so that rows need no divisions.
 * Only the W taps [w_first, w_first + w_count) can reach the input for some
 * output; the tables cover just those, so their size is bounded by the
 * input and output even for absurd kernels. */
typedef struct pool_tables {
  axis_taps *d, *h;         /* out[0], out[1] entries */
  int64_t w_first, w_count;
  tap_outputs *w_taps;      /* w_count entries, for kw = w_first + j */
  float *w_inv_count;       /* out[2] entries: 1 / divisor share of W */
} pool_tables;

/* The W taps that lie inside the input for at least one output lie in
 * [first, first + count): kw * dil - pad + ow * s in [0, in) for some ow. */
static void
useful_w_taps (const pool_geom *g, int64_t *first, int64_t *count)
{
  int64_t s = g->s[2], dil = g->d[2], pad = g->pad_begin[2], in = g->in[2];
  int64_t lo = ceil_div (pad - (g->out[2] - 1) * s, dil);
  int64_t hi = in - 1 + pad < 0 ? 0 : (in - 1 + pad) / dil + 1;
  lo = lo < 0 ? 0 : lo;
  hi = hi > g->k[2] ? g->k[2] : hi;
  *first = lo;
  *count = g->out[2] > 0 && hi > lo ? hi - lo : 0;
}

static size_t
align64 (size_t n)
{
  return (n + 63) & ~(size_t) 63;
}

/* Floats between the threads' lines for pool_row_separable, 0 when a line
 * would be too long.  Whole 4 KB pages: with the lines of two threads 448
 * bytes apart (SqueezeNet's first pool) or even 128 bytes apart beyond their
 * ends, 2 threads took longer than 1 (the prefetchers pulled the other
 * thread's line out from under it). */
static int64_t
pool_line_floats (const pool_geom *g)
{
  int64_t L = (g->out[2] - 1) * g->s[2] + (g->k[2] - 1) * g->d[2] + 1;
  return g->out[2] > 0 && L <= POOL_LINE_MAX ? (L + 1023) & ~(int64_t) 1023 : 0;
}

static size_t
pool_tables_bytes (const pool_geom *g)
{
  int64_t first, count;
  useful_w_taps (g, &first, &count);
  return align64 ((size_t) (g->out[0] + g->out[1]) * sizeof (axis_taps))
      + align64 ((size_t) count * sizeof (tap_outputs))
      + align64 ((size_t) g->out[2] * sizeof (float));
}

static void
fill_axis_taps (const pool_geom *g, int a, bool count_include_pad, axis_taps *t)
{
  for (int64_t o = 0; o < g->out[a]; o++) {
    int64_t start = o * g->s[a] - g->pad_begin[a], b, e;
    tap_range (start, g->d[a], g->k[a], 0, g->in[a], &t[o].begin, &t[o].end);
    t[o].count = t[o].end - t[o].begin;
    if (count_include_pad) {
      tap_range (start, g->d[a], g->k[a], -g->pad_begin[a],
          g->in[a] + g->pad_end[a], &b, &e);
      t[o].count = e - b;
    }
  }
}

static void
pool_tables_fill (const pool_params *p, const pool_geom *g, void *scratch,
    pool_tables *t)
{
  char *at = scratch;
  t->d = (axis_taps *) at;
  t->h = t->d + g->out[0];
  at += align64 ((size_t) (g->out[0] + g->out[1]) * sizeof (axis_taps));
  useful_w_taps (g, &t->w_first, &t->w_count);
  t->w_taps = (tap_outputs *) at;
  at += align64 ((size_t) t->w_count * sizeof (tap_outputs));
  t->w_inv_count = (float *) at;
  at += align64 ((size_t) g->out[2] * sizeof (float));

  fill_axis_taps (g, 0, p->count_include_pad, t->d);
  fill_axis_taps (g, 1, p->count_include_pad, t->h);

  /* Tap kw is inside for ow with 0 <= ow * s - pad + kw * dil < in. */
  int64_t s = g->s[2], pad = g->pad_begin[2], in = g->in[2];
  for (int64_t j = 0; j < t->w_count; j++) {
    int64_t offset = (t->w_first + j) * g->d[2] - pad;
    int64_t begin = offset >= 0 ? 0 : ceil_div (-offset, s);
    int64_t last = in - 1 - offset;
    int64_t end = last < 0 ? 0 : last / s + 1;
    if (end > g->out[2])
      end = g->out[2];
    if (begin > end)
      begin = end;
    t->w_taps[j].begin = begin;
    t->w_taps[j].end = end;
  }
  for (int64_t ow = 0; ow < g->out[2]; ow++) {
    int64_t start = ow * s - pad, b, e;
    if (p->count_include_pad)
      tap_range (start, g->d[2], g->k[2], -pad, in + g->pad_end[2], &b, &e);
    else
      tap_range (start, g->d[2], g->k[2], 0, in, &b, &e);
    t->w_inv_count[ow] = e > b ? 1.0f / (float) (e - b) : 0.0f;
  }
}

/* One pass of a row: dst[i] = max(dst[i], src[i * s]) or dst[i] += src[i * s]
 * for i < n.  Separate loops per case so each is a simple vectorisable form. */
POOL_HOT static void
pass_generic (pool_kind kind, int64_t s, float *restrict dst,
    const float *restrict src, int64_t n)
{
  if (kind == POOL_MAX && s == 1)
    for (int64_t i = 0; i < n; i++)
      dst[i] = dst[i] > src[i] ? dst[i] : src[i];
  else if (kind == POOL_MAX && s == 2)
    for (int64_t i = 0; i < n; i++)
      dst[i] = dst[i] > src[2 * i] ? dst[i] : src[2 * i];
  else if (kind == POOL_MAX)
    for (int64_t i = 0; i < n; i++)
      dst[i] = dst[i] > src[i * s] ? dst[i] : src[i * s];
  else if (s == 1)
    for (int64_t i = 0; i < n; i++)
      dst[i] += src[i];
  else if (s == 2)
    for (int64_t i = 0; i < n; i++)
      dst[i] += src[2 * i];
  else
    for (int64_t i = 0; i < n; i++)
      dst[i] += src[i * s];
}

/* One output row (fixed plane, od, oh) of a float pool.  Tap-major: for each
 * tap the outputs that see it form a contiguous run, so each tap is one
 * vectorised pass over part of the row, borders included. */
static void
pool_row_generic (pool_kind kind, const pool_geom *g, const pool_tables *t,
    const axis_taps *td, int64_t d_start, const axis_taps *th, int64_t h_start,
    const float *plane, float *y)
{
  int64_t OW = g->out[2], s = g->s[2];
  float init = kind == POOL_MAX ? -INFINITY : 0.0f;
  for (int64_t i = 0; i < OW; i++)
    y[i] = init;
  for (int64_t kd = td->begin; kd < td->end; kd++) {
    int64_t id = d_start + kd * g->d[0];
    for (int64_t kh = th->begin; kh < th->end; kh++) {
      const float *row = plane + (id * g->in[1] + h_start + kh * g->d[1]) * g->in[2];
      for (int64_t j = 0; j < t->w_count; j++) {
        int64_t b = t->w_taps[j].begin, n = t->w_taps[j].end - b;
        int64_t kw = t->w_first + j;
        if (n > 0)
          pass_generic (kind, s, y + b, row + b * s + kw * g->d[2] - g->pad_begin[2], n);
      }
    }
  }
  if (kind == POOL_AVERAGE) {
    int64_t dh = td->count * th->count;
    float dh_inv = dh > 0 ? 1.0f / (float) dh : 0.0f;
    for (int64_t i = 0; i < OW; i++)
      y[i] *= dh_inv * t->w_inv_count[i];
  }
}

/* Plain-C line kernels (IMGREC_ISA=ref, other CPUs, and strides above 2). */
POOL_HOT static void
pool_combine_c (bool is_max, const float *const *rows, int n_rows, int64_t n,
    bool accumulate, float *restrict dst)
{
  int r = 0;
  if (!accumulate) {
    memcpy (dst, rows[0], (size_t) n * sizeof (float));
    r = 1;
  }
  for (; r < n_rows; r++) {
    const float *restrict row = rows[r];
    if (is_max)
      for (int64_t i = 0; i < n; i++)
        dst[i] = dst[i] > row[i] ? dst[i] : row[i];
    else
      for (int64_t i = 0; i < n; i++)
        dst[i] += row[i];
  }
}

static void
pool_taps_c (bool is_max, const float *line, int64_t out, int64_t stride,
    int64_t taps, int64_t dil, float *y)
{
  for (int64_t i = 0; i < out; i++)
    y[i] = line[i * stride];
  for (int64_t k = 1; k < taps; k++)
    pass_generic (is_max ? POOL_MAX : POOL_AVERAGE, stride, y, line + k * dil, out);
}

typedef struct pool_line_kernels {
  pool_combine_fn combine;
  pool_taps_fn taps;            /* W strides 1 and 2 */
} pool_line_kernels;

static pool_line_kernels
choose_line_kernels (void)
{
  pool_line_kernels k = { pool_combine_c, pool_taps_c };
#ifdef IMGREC_HAVE_X86_KERNELS
  if (ir_cpu ()->isa >= IR_ISA_AVX512) {
    k.combine = pool_combine_avx512;
    k.taps = pool_taps_avx512;
  } else if (ir_cpu ()->isa >= IR_ISA_AVX2) {
    k.combine = pool_combine_avx2;
    k.taps = pool_taps_avx2;
  }
#endif
  return k;
}

/* The ISA's small MaxPool row (pool_internal.h) when it fits this pool:
 * 2-D (or fewer axes), kernel 3x3 or 2x2, dilation 1, W stride 1 or 2,
 * float values without Indices; else NULL. */
static pool_max_small_rows_fn
choose_max_small (const pool_params *p, const pool_geom *g, bool scalar)
{
  if (scalar || p->kind != POOL_MAX || g->k[0] != 1 || g->out[0] != 1 || g->k[1] != g->k[2]
      || (g->k[1] != 2 && g->k[1] != 3) || g->d[1] != 1 || g->d[2] != 1 || g->s[2] > 2)
    return NULL;
  /* every window must hold a row of the image (ceil mode drops the others) */
  if (g->pad_begin[1] > g->k[1] - 1 || g->in[1] < 1 || g->in[2] < 1)
    return NULL;
#ifdef IMGREC_HAVE_X86_KERNELS
  if (ir_cpu ()->isa >= IR_ISA_AVX512)
    return pool_max_small_rows_avx512;
  if (ir_cpu ()->isa >= IR_ISA_AVX2)
    return pool_max_small_rows_avx2;
#endif
  return NULL;
}

/* Row pointers handed to the combine kernel at a time. */
#define POOL_ROWS_PER_COMBINE 16

/* One output row (fixed plane, od, oh) of a float pool, separably: the
 * window's rows are combined column by column (max or sum) into `line`,
 * which holds the padded input row (line[j] is input column j - pad_begin,
 * the fill value outside the input), and each output then takes its W taps
 * from that line.  Every pass is a contiguous full-vector one without border
 * cases, where tap-by-tap rows need masks or permutes per tap and output. */
static void
pool_row_separable (pool_kind kind, const pool_geom *g, const pool_tables *t,
    const axis_taps *td, int64_t d_start, const axis_taps *th, int64_t h_start,
    const float *plane, float *y, float *line, const pool_line_kernels *lk)
{
  int64_t IW = g->in[2], pad = g->pad_begin[2], OW = g->out[2], s = g->s[2];
  int64_t L = (OW - 1) * s + (g->k[2] - 1) * g->d[2] + 1;
  int64_t lo = pad < L ? pad : L, hi = pad + IW < L ? pad + IW : L;
  bool is_max = kind == POOL_MAX;
  float fill = is_max ? -INFINITY : 0.0f;
  for (int64_t j = 0; j < lo; j++)
    line[j] = fill;
  for (int64_t j = hi > lo ? hi : lo; j < L; j++)
    line[j] = fill;

  const float *rows[POOL_ROWS_PER_COMBINE];
  int n_rows = 0;
  bool accumulate = false;
  int64_t col = lo - pad, n = hi - lo;
  for (int64_t kd = td->begin; n > 0 && kd < td->end; kd++) {
    int64_t id = d_start + kd * g->d[0];
    for (int64_t kh = th->begin; kh < th->end; kh++) {
      rows[n_rows++] = plane + (id * g->in[1] + h_start + kh * g->d[1]) * IW + col;
      if (n_rows == POOL_ROWS_PER_COMBINE) {
        lk->combine (is_max, rows, n_rows, n, accumulate, line + lo);
        n_rows = 0;
        accumulate = true;
      }
    }
  }
  if (n_rows > 0)
    lk->combine (is_max, rows, n_rows, n, accumulate, line + lo);
  else if (!accumulate)
    for (int64_t j = lo; j < hi; j++)
      line[j] = fill;

  (s <= 2 ? lk->taps : pool_taps_c) (is_max, line, OW, s, g->k[2], g->d[2], y);
  if (kind == POOL_AVERAGE) {
    int64_t dh = td->count * th->count;
    float dh_inv = dh > 0 ? 1.0f / (float) dh : 0.0f;
    for (int64_t i = 0; i < OW; i++)
      y[i] *= dh_inv * t->w_inv_count[i];
  }
}

/* Row-major offset in the plane of the maximum of window (od, oh, ow); -1
 * when no tap lies inside the input.  The first maximum wins, as in ONNX
 * Runtime.  Used for the Indices output and integer inputs. */
static int64_t
window_argmax (const pool_geom *g, const axis_taps *td, int64_t d_start,
    const axis_taps *th, int64_t h_start, const void *plane, ir_storage storage,
    int64_t ow)
{
  int64_t w_start = ow * g->s[2] - g->pad_begin[2], kw_begin, kw_end;
  tap_range (w_start, g->d[2], g->k[2], 0, g->in[2], &kw_begin, &kw_end);
  const float *xf = plane;
  const int64_t *xi = plane;
  int64_t best = -1;
  for (int64_t kd = td->begin; kd < td->end; kd++) {
    int64_t id = d_start + kd * g->d[0];
    for (int64_t kh = th->begin; kh < th->end; kh++) {
      int64_t row = (id * g->in[1] + h_start + kh * g->d[1]) * g->in[2];
      for (int64_t kw = kw_begin; kw < kw_end; kw++) {
        int64_t at = row + w_start + kw * g->d[2];
        if (best < 0
            || (storage == IR_F32 ? xf[at] > xf[best] : xi[at] > xi[best]))
          best = at;
      }
    }
  }
  return best;
}

typedef struct pool_job {
  const pool_params *p;
  const pool_geom *g;
  const pool_tables *t;
  pool_max_small_rows_fn max_small;     /* MaxPool 3x3 / 2x2 rows straight from X, or NULL */
  pool_max_small_args max_small_args;  /* .plane set per row */
  float *lines;                        /* per thread: line_floats, or NULL */
  int64_t line_floats;
  pool_line_kernels line_kernels;
  const ir_tensor *x;
  ir_tensor *y;
  ir_tensor *indices;                  /* NULL unless requested */
} pool_job;

/* Flat ONNX index of plane offset `at` (row-major within the plane). */
static int64_t
flat_index (const pool_job *job, int64_t plane, int64_t at)
{
  const pool_geom *g = job->g;
  int64_t plane_size = g->in[0] * g->in[1] * g->in[2];
  if (job->p->column_major_indices) {
    /* First spatial axis fastest: d + D * (h + H * w); the size-1 leading
     * axes of 1-D and 2-D inputs make this right for every spatial rank. */
    int64_t w = at % g->in[2], t = at / g->in[2];
    int64_t h = t % g->in[1], d = t / g->in[1];
    at = (w * g->in[1] + h) * g->in[0] + d;
  }
  return plane * plane_size + at;
}

static void
pool_rows (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const pool_job *job = arg;
  const pool_geom *g = job->g;
  int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
  int64_t plane_size = g->in[0] * g->in[1] * g->in[2];
  ir_storage st = job->x->storage;
  bool scalar = job->indices != NULL || st != IR_F32;

  /* Row index = (plane * OD + od) * OH + oh, stepped without divisions. */
  int64_t oh = begin % OH, od = begin / OH % OD, plane = begin / OH / OD;
  for (int64_t rowi = begin; rowi < end; rowi++) {
    const axis_taps *td = &job->t->d[od], *th = &job->t->h[oh];
    int64_t d_start = od * g->s[0] - g->pad_begin[0];
    int64_t h_start = oh * g->s[1] - g->pad_begin[1];
    int64_t y_at = rowi * OW;

    if (!scalar && job->max_small != NULL) {
      /* the rest of this plane's rows in the range, in one call (2-D: od is 0) */
      const int64_t run = OH - oh < end - rowi ? OH - oh : end - rowi;
      pool_max_small_args a = job->max_small_args;
      a.plane = ir_f32 (job->x) + plane * plane_size;
      job->max_small (&a, oh, oh + run, ir_f32 (job->y) + y_at);
      rowi += run - 1;
      oh += run - 1;
    } else if (!scalar && job->lines != NULL) {
      pool_row_separable (job->p->kind, g, job->t, td, d_start, th, h_start,
          ir_f32 (job->x) + plane * plane_size, ir_f32 (job->y) + y_at,
          job->lines + (size_t) thread_index * (size_t) job->line_floats,
          &job->line_kernels);
    } else if (!scalar) {
      pool_row_generic (job->p->kind, g, job->t, td, d_start, th, h_start,
          ir_f32 (job->x) + plane * plane_size, ir_f32 (job->y) + y_at);
    } else {
      const void *xp = st == IR_F32
          ? (const void *) (ir_f32 (job->x) + plane * plane_size)
          : (const void *) (ir_i64 (job->x) + plane * plane_size);
      for (int64_t ow = 0; ow < OW; ow++) {
        int64_t at = window_argmax (g, td, d_start, th, h_start, xp, st, ow);
        if (st == IR_F32)
          ir_f32 (job->y)[y_at + ow] = at < 0 ? -INFINITY : ((const float *) xp)[at];
        else
          ir_i64 (job->y)[y_at + ow] = at < 0 ? INT64_MIN : ((const int64_t *) xp)[at];
        if (job->indices != NULL)
          ir_i64 (job->indices)[y_at + ow] = at < 0 ? -1 : flat_index (job, plane, at);
      }
    }

    if (++oh == OH) {
      oh = 0;
      if (++od == OD) {
        od = 0;
        plane++;
      }
    }
  }
}

static int
pool_run (const ir_node *node, const op_run_ctx *ctx)
{
  const pool_params *p = node->params;
  pool_geom g;
  if (pool_geometry (p, ctx->in[0], &g, ctx->err) < 0)
    return -1;
  int64_t bh, bw;
  if (pool_block_fits (p->kind == POOL_MAX,
          ctx->in[0]->storage != IR_F32 || node->n_outputs > 1, &g, &bh, &bw)
      && ctx->scratch_bytes >= (size_t) ir_pool_threads (ctx->pool) * (size_t) (bh * bw) * 16
          * sizeof (float)) {
    pool_block_task t = {
      .base = { .k = g.k[1], .in_h = g.in[1], .in_w = g.in[2], .out_h = g.out[1],
                .out_w = g.out[2], .stride = g.s[1], .pad_h = g.pad_begin[1],
                .pad_w = g.pad_begin[2], .buf_h = bh, .buf_w = bw },
      .x = ir_f32 (ctx->in[0]), .y = ir_f32 (ctx->out[0]), .bufs = ctx->scratch,
      .buf_floats = (size_t) (bh * bw) * 16, .planes = g.planes,
    };
    ir_parallel_for (ctx->pool, (g.planes + 15) / 16, 1, pool_block_range, &t);
    return 0;
  }
  if (ctx->scratch_bytes < pool_tables_bytes (&g))
    return ir_fail (ctx->err, "scratch space is smaller than infer asked for");
  pool_tables tables;
  pool_tables_fill (p, &g, ctx->scratch, &tables);
  pool_job job = {
    .p = p, .g = &g, .t = &tables,
    .x = ctx->in[0], .y = ctx->out[0],
    .indices = node->n_outputs > 1 ? ctx->out[1] : NULL,
  };
  /* Per-thread lines after the tables, when infer made room for them. */
  size_t tables_bytes = align64 (pool_tables_bytes (&g));
  job.line_floats = pool_line_floats (&g);
  if (job.line_floats > 0 && ctx->scratch_bytes >= tables_bytes
      + (size_t) ir_pool_threads (ctx->pool) * (size_t) job.line_floats * sizeof (float))
    job.lines = (float *) ((char *) ctx->scratch + tables_bytes);
  job.line_kernels = choose_line_kernels ();
  job.max_small = choose_max_small (p, &g, job.indices != NULL || ctx->in[0]->storage != IR_F32);
  job.max_small_args = (pool_max_small_args) {
    .k = g.k[1],
    .in_h = g.in[1], .in_w = g.in[2], .out_w = g.out[2], .stride_h = g.s[1],
    .stride_w = g.s[2], .pad_h = g.pad_begin[1], .pad_w = g.pad_begin[2],
  };
  int64_t rows = g.planes * g.out[0] * g.out[1];
  /* Grain from the work of one row (outputs x taps), saturating. */
  int64_t row_work = g.out[2] + 1, grain = 1;
  if (!__builtin_mul_overflow (row_work, g.k[0] * g.k[1], &row_work)
      && !__builtin_mul_overflow (row_work, g.k[2], &row_work))
    grain = POOL_GRAIN_WORK / row_work;
  if (g.out[2] > 0)
    ir_parallel_for (ctx->pool, rows, grain < 1 ? 1 : grain, pool_rows, &job);
  return 0;
}

/* --------------------------------------------------------- global pools */

typedef struct global_job {
  pool_kind kind;
  const float *x;
  float *y;
  int64_t plane_size;
} global_job;

/* Reduces one plane; 16 independent lanes let the compiler vectorise without
 * reassociating a single accumulator. */
POOL_HOT static float
reduce_plane (pool_kind kind, const float *restrict x, int64_t n)
{
  enum { LANES = 16 };
  float acc[LANES];
  float init = kind == POOL_MAX ? -INFINITY : 0.0f;
  for (int j = 0; j < LANES; j++)
    acc[j] = init;
  int64_t i = 0;
  if (kind == POOL_MAX) {
    for (; i + LANES <= n; i += LANES)
      for (int j = 0; j < LANES; j++)
        acc[j] = acc[j] > x[i + j] ? acc[j] : x[i + j];
    for (; i < n; i++)
      acc[0] = acc[0] > x[i] ? acc[0] : x[i];
    float m = acc[0];
    for (int j = 1; j < LANES; j++)
      m = m > acc[j] ? m : acc[j];
    return m;
  }
  for (; i + LANES <= n; i += LANES)
    for (int j = 0; j < LANES; j++)
      acc[j] += x[i + j];
  for (; i < n; i++)
    acc[0] += x[i];
  double sum = 0.0;
  for (int j = 0; j < LANES; j++)
    sum += acc[j];
  return n > 0 ? (float) (sum / (double) n) : 0.0f;
}

static void
global_planes (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const global_job *job = arg;
  for (int64_t plane = begin; plane < end; plane++)
    job->y[plane] = reduce_plane (job->kind, job->x + plane * job->plane_size,
        job->plane_size);
}

static int
global_pool_run (const ir_node *node, const op_run_ctx *ctx)
{
  const pool_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  int64_t planes = x->dims[0] * x->dims[1];
  global_job job = {
    .kind = p->kind, .x = ir_f32 (x), .y = ir_f32 (ctx->out[0]),
    .plane_size = ir_dims_product (x->dims, 2, x->rank),
  };
  int64_t grain = POOL_GRAIN_WORK / (job.plane_size + 1);
  ir_parallel_for (ctx->pool, planes, grain < 1 ? 1 : grain, global_planes, &job);
  return 0;
}

/* ------------------------------------------------------------ MaxUnpool */

/* MaxUnpool (opsets 9 and 11 differ only in wording): zeros, then every X
 * value scattered to its Indices position.  Indices are flat positions in
 * the inverse of MaxPool's shape, (in - 1) * stride + kernel - pad_begin -
 * pad_end per axis; a larger `output_shape` input pads that result at the
 * end of each spatial axis (as the ONNX tests and ONNX Runtime do). */
static int
max_unpool_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  if (node->n_inputs < 2 || node->n_inputs > 3 || node->inputs[0] < 0
      || node->inputs[1] < 0)
    return ir_fail (err, "MaxUnpool needs inputs X and I (and optionally "
        "output_shape)");
  pool_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory");
  node->params = p;
  p->kind = POOL_MAX;
  const int64_t *kernel;
  int n = op_attr_ints (ctx, "kernel_shape", &kernel);
  if (n < 0)
    return ir_fail (err, "required attribute 'kernel_shape' is missing");
  if (n < 1 || n > POOL_MAX_SPATIAL)
    return ir_fail (err, "attribute 'kernel_shape' has %d values; 1 to %d "
        "spatial axes are supported", n, POOL_MAX_SPATIAL);
  p->n_spatial = n;
  if (read_axis_ints (ctx, "kernel_shape", n, 1, 1, p->kernel, err) < 0
      || read_axis_ints (ctx, "strides", n, 1, 1, p->strides, err) < 0
      || read_axis_ints (ctx, "pads", 2 * n, 0, 0, p->pads, err) < 0)
    return -1;
  return 0;
}

/* The shape the indices refer to (N, C, then the inverse MaxPool sizes). */
static int
unpool_index_shape (const pool_params *p, const ir_tensor *x, int64_t *dims,
    imgrec_error *err)
{
  dims[0] = x->dims[0];
  dims[1] = x->dims[1];
  for (int i = 0; i < p->n_spatial; i++) {
    dims[2 + i] = (x->dims[2 + i] - 1) * p->strides[i] + p->kernel[i]
        - p->pads[i] - p->pads[i + p->n_spatial];
    if (dims[2 + i] < 0)
      return ir_fail (err, "spatial axis %d gives a negative output size; pads "
          "are too large", i);
  }
  return 0;
}

static int
max_unpool_infer (const ir_node *node, ir_tensor *const *in,
    ir_tensor *const *out, op_infer_ctx *ctx)
{
  const pool_params *p = node->params;
  const ir_tensor *x = in[0], *indices = in[1];
  const ir_tensor *shape = node->n_inputs > 2 ? in[2] : NULL;
  if (x == NULL || indices == NULL)
    return ir_fail (ctx->err, "inputs X and I are required");
  if (x->storage != IR_F32)
    return ir_fail (ctx->err, "input X has element type %s but a floating type "
        "is required", imgrec_dtype_name (x->elem_type));
  if (indices->storage != IR_I64 || !ir_same_shape (x, indices))
    return ir_fail (ctx->err, "input I must be an integer tensor of X's shape");
  if (x->rank != p->n_spatial + 2)
    return ir_fail (ctx->err, "input X has rank %d but kernel_shape has %d "
        "spatial axes, so rank %d was expected", x->rank, p->n_spatial,
        p->n_spatial + 2);

  int64_t dims[IMGREC_MAX_RANK], numel = 1;
  if (unpool_index_shape (p, x, dims, ctx->err) < 0)
    return -1;
  if (shape != NULL) {
    if (shape->data == NULL || ir_numel (shape) != x->rank)
      return ir_fail (ctx->err, "input output_shape must hold %d values",
          x->rank);
    for (int i = 0; i < x->rank; i++) {
      int64_t v = ir_get_i64 (shape, i);
      if (i < 2 ? v != dims[i] : v < dims[i])
        return ir_fail (ctx->err, "output_shape value %lld at position %d is "
            "not usable: expected %s %lld", (long long) v, i,
            i < 2 ? "exactly" : "at least", (long long) dims[i]);
      dims[i] = v;
    }
  }
  for (int i = 0; i < x->rank; i++)
    if (__builtin_mul_overflow (numel, dims[i], &numel))
      return ir_fail (ctx->err, "output size overflows");
  ir_set_shape (out[0], x->elem_type, x->rank, dims);
  ctx->scratch_bytes = 0;
  return 0;
}

static int
max_unpool_run (const ir_node *node, const op_run_ctx *ctx)
{
  const pool_params *p = node->params;
  const ir_tensor *x = ctx->in[0], *indices = ctx->in[1];
  ir_tensor *y = ctx->out[0];
  int64_t index_dims[IMGREC_MAX_RANK];
  if (unpool_index_shape (p, x, index_dims, ctx->err) < 0)
    return -1;
  int rank = x->rank;
  int64_t n = ir_numel (x), limit = ir_dims_product (index_dims, 0, rank);
  bool padded = memcmp (index_dims, y->dims, (size_t) rank * sizeof (int64_t)) != 0;
  const float *xv = ir_f32 (x);
  const int64_t *iv = ir_i64 (indices);
  float *yv = ir_f32 (y);
  memset (yv, 0, ir_nbytes (y));
  for (int64_t i = 0; i < n; i++) {
    int64_t at = iv[i];
    if (at < 0 || at >= limit)
      return ir_fail (ctx->err, "index %lld in I is outside the %lld elements "
          "of the unpooled shape", (long long) at, (long long) limit);
    if (padded) {
      /* Re-address from the index shape into the larger output shape. */
      int64_t out_at = 0, stride = 1;
      for (int a = rank - 1; a >= 0; a--) {
        out_at += at % index_dims[a] * stride;
        at /= index_dims[a];
        stride *= y->dims[a];
      }
      at = out_at;
    }
    yv[at] = xv[i];
  }
  return 0;
}

/* ---------------------------------------------------------------- table */

static const op_kernel max_pool = {
  .op_type = "MaxPool", .domain = "", .since_version = 1,
  .init = max_pool_init, .infer = pool_infer, .run = pool_run,
};

static const op_kernel average_pool = {
  .op_type = "AveragePool", .domain = "", .since_version = 1,
  .init = average_pool_init, .infer = pool_infer, .run = pool_run,
};

static const op_kernel global_max_pool = {
  .op_type = "GlobalMaxPool", .domain = "", .since_version = 1,
  .init = global_max_pool_init, .infer = pool_infer, .run = global_pool_run,
};

static const op_kernel global_average_pool = {
  .op_type = "GlobalAveragePool", .domain = "", .since_version = 1,
  .init = global_average_pool_init, .infer = pool_infer, .run = global_pool_run,
};

static const op_kernel max_unpool = {
  .op_type = "MaxUnpool", .domain = "", .since_version = 9,
  .needs_input_data = 1u << 2,
  .init = max_unpool_init, .infer = max_unpool_infer, .run = max_unpool_run,
};

const op_kernel *const ir_ops_pool[] = {
  &max_pool,
  &average_pool,
  &global_max_pool,
  &global_average_pool,
  &max_unpool,
  NULL,
};
