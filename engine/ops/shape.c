/* Op family: shape — ops that move data without arithmetic.
 *
 * Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Split, Slice,
 * Gather, GatherElements, Shape, Size, Expand, Tile, DepthToSpace,
 * SpaceToDepth, Identity, Dropout (inference).
 *
 * Every op here works on any storage (F32, I64, BOOL): only the element size
 * matters.  Most of them are one loop skeleton, the strided view: the output
 * is dense and each output dimension reads the input with its own element
 * stride (0 to broadcast, negative to walk backwards).  Transpose, Slice,
 * Split, Expand, Tile, DepthToSpace and SpaceToDepth only differ in how they
 * build that view.  Ops that keep the element order (Reshape, Flatten,
 * Squeeze, Unsqueeze, Identity, Dropout) are one memcpy.
 *
 * Attributes are checked in init, everything that depends on shapes or on
 * shape-like input values in infer; run recomputes what it needs from the
 * same inputs (the model, and so node->params, is shared between sessions and
 * must not be written after load).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

/* Elements copied per parallel task: below this a copy stays on one thread. */
#define COPY_GRAIN_ELEMS 32768
/* Side of the square tiles of the blocked transpose. */
#define TRANSPOSE_TILE 16
/* A Tile view interleaves repeats and input dims, so views go up to 2x rank. */
#define VIEW_MAX_RANK (2 * IMGREC_MAX_RANK)

/* ---- small checked helpers ---- */

static void *
params_new (ir_node *node, size_t size, imgrec_error *err)
{
  node->params = calloc (1, size);
  if (node->params == NULL)
    ir_fail (err, "out of memory");
  return node->params;
}

/* Product of dims with overflow and sign checks.  The non-zero dims must
 * multiply within range too, so that any partial product of an empty
 * tensor's dims (Flatten, outer/inner loops) cannot overflow either. */
static int
checked_numel (int rank, const int64_t *dims, int64_t *numel, imgrec_error *err)
{
  /* Bytes of the largest storage (8) must also fit. */
  const int64_t limit = INT64_MAX / 8;
  int64_t nonzero = 1;
  bool empty = false;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0)
      return ir_fail (err, "dimension %d is negative (%lld)", i, (long long) dims[i]);
    if (dims[i] == 0) {
      empty = true;
      continue;
    }
    if (nonzero > limit / dims[i])
      return ir_fail (err, "the shape has too many elements (dimension %d overflows)", i);
    nonzero *= dims[i];
  }
  *numel = empty ? 0 : nonzero;
  return 0;
}

static void
dense_strides (int rank, const int64_t *dims, int64_t *strides)
{
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
}

static int
need_input (const ir_node *node, ir_tensor *const *in, int i, const char *what,
    imgrec_error *err)
{
  if (i >= node->n_inputs || in[i] == NULL)
    return ir_fail (err, "the required input %d (%s) is missing", i, what);
  return 0;
}

/* Output 0 is never optional; a model that leaves it out is rejected here. */
static int
need_output (const ir_node *node, ir_tensor *const *out, imgrec_error *err)
{
  if (node->n_outputs < 1 || out[0] == NULL)
    return ir_fail (err, "the required output 0 is missing");
  return 0;
}

/* Reads the integer values of a scalar or 1-D input (shape-like data) whose
 * values infer may read; at most `max` values. */
static int
read_int_input (const ir_tensor *t, const char *what, int max, int64_t *vals,
    int *count, imgrec_error *err)
{
  if (t->data == NULL)
    return ir_fail (err, "the values of the %s input are not known when the session "
        "is planned", what);
  if (t->storage != IR_I64)
    return ir_fail (err, "the %s input must be an integer tensor, not %s", what,
        imgrec_dtype_name (t->elem_type));
  if (t->rank > 1)
    return ir_fail (err, "the %s input must be 1-D, not of rank %d", what, t->rank);
  int64_t n = t->rank == 0 ? 1 : t->dims[0];
  if (n > max)
    return ir_fail (err, "the %s input has %lld values; at most %d are supported", what,
        (long long) n, max);
  for (int64_t i = 0; i < n; i++)
    vals[i] = ir_i64 (t)[i];
  *count = (int) n;
  return 0;
}

/* Reads an integer-list attribute into a fixed array of at most `max`. */
static int
read_ints_attr (const op_init_ctx *ctx, const char *name, int max, int64_t *vals,
    int *count, imgrec_error *err)
{
  const int64_t *v;
  int n = op_attr_ints (ctx, name, &v);
  if (n < 0) {
    *count = -1;
    return 0;
  }
  if (n > max)
    return ir_fail (err, "attribute '%s' has %d values; at most %d are supported", name,
        n, max);
  memcpy (vals, v, (size_t) n * sizeof *vals);
  *count = n;
  return 0;
}

/* ---- whole-tensor copy (ops that keep the element order) ---- */

typedef struct bytes_job {
  char *dst;
  const char *src;
} bytes_job;

static void
copy_bytes_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const bytes_job *job = arg;
  memcpy (job->dst + begin, job->src + begin, (size_t) (end - begin));
}

static void
copy_bytes (ir_thread_pool *pool, void *dst, const void *src, size_t n)
{
  if (n == 0 || dst == src)
    return;
  bytes_job job = { dst, src };
  ir_parallel_for (pool, (int64_t) n, (int64_t) COPY_GRAIN_ELEMS * 16, copy_bytes_range, &job);
}

static void
copy_tensor_data (const op_run_ctx *ctx, ir_tensor *out, const ir_tensor *in)
{
  copy_bytes (ctx->pool, out->data, in->data, ir_nbytes (in));
}

/* ---- the strided view: the loop skeleton of this family ---- */

typedef struct strided_view {
  int rank;
  int64_t dims[VIEW_MAX_RANK];      /* output dims; the output is dense */
  int64_t strides[VIEW_MAX_RANK];   /* input element stride per output dim */
  int64_t offset;                   /* input element read by output element 0 */
} strided_view;

/* Drops size-1 dims and merges neighbours that the input walks contiguously,
 * so that the inner loop runs as long as possible. */
static void
view_simplify (strided_view *v)
{
  int r = 0;
  for (int k = 0; k < v->rank; k++) {
    if (v->dims[k] == 1)
      continue;
    if (r > 0 && v->strides[r - 1] == v->strides[k] * v->dims[k]) {
      v->dims[r - 1] *= v->dims[k];
      v->strides[r - 1] = v->strides[k];
      continue;
    }
    v->dims[r] = v->dims[k];
    v->strides[r] = v->strides[k];
    r++;
  }
  v->rank = r;
}

/* One output row: n elements read with a stride.  Fixed element sizes let
 * the compiler turn the copies into single moves. */
#define DEFINE_COPY_ROW(type)                                                  \
  static inline void                                                          \
  copy_row_##type (type *restrict dst, const type *restrict src, int64_t n,   \
      int64_t stride)                                                         \
  {                                                                           \
    if (stride == 1) {                                                        \
      memcpy (dst, src, (size_t) n * sizeof *dst);                            \
    } else if (stride == 0) {                                                 \
      type value = *src;                                                      \
      for (int64_t i = 0; i < n; i++)                                         \
        dst[i] = value;                                                       \
    } else {                                                                  \
      for (int64_t i = 0; i < n; i++)                                         \
        dst[i] = src[i * stride];                                             \
    }                                                                         \
  }
DEFINE_COPY_ROW (uint8_t)
DEFINE_COPY_ROW (uint32_t)
DEFINE_COPY_ROW (uint64_t)

static inline void
copy_row (size_t esize, void *dst, const void *src, int64_t n, int64_t stride)
{
  switch (esize) {
    case 1: copy_row_uint8_t (dst, src, n, stride); break;
    case 4: copy_row_uint32_t (dst, src, n, stride); break;
    default: copy_row_uint64_t (dst, src, n, stride); break;
  }
}

/* A rows x cols block: dst[i * dst_pitch + j] = src[i + j * src_pitch].
 * Tiles keep both the reads and the writes within a few cache lines. */
#define DEFINE_TRANSPOSE_BLOCK(type)                                           \
  static void                                                                 \
  transpose_block_##type (type *restrict dst, int64_t dst_pitch,              \
      const type *restrict src, int64_t src_pitch, int64_t rows, int64_t cols)\
  {                                                                           \
    for (int64_t j0 = 0; j0 < cols; j0 += TRANSPOSE_TILE) {                   \
      int64_t j1 = j0 + TRANSPOSE_TILE < cols ? j0 + TRANSPOSE_TILE : cols;   \
      for (int64_t i = 0; i < rows; i++) {                                    \
        type *d = dst + i * dst_pitch;                                        \
        const type *s = src + i;                                              \
        for (int64_t j = j0; j < j1; j++)                                     \
          d[j] = s[j * src_pitch];                                            \
      }                                                                       \
    }                                                                         \
  }
DEFINE_TRANSPOSE_BLOCK (uint8_t)
DEFINE_TRANSPOSE_BLOCK (uint64_t)

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86_TRANSPOSE 1

/* 8x8 block of 32-bit elements in AVX registers: src rows are the input's
 * contiguous runs (pitch src_pitch between them), dst rows likewise. */
__attribute__ ((target ("avx2")))
static inline void
transpose_8x8_avx2 (uint32_t *dst, int64_t dst_pitch, const uint32_t *src,
    int64_t src_pitch)
{
  __m256 r0 = _mm256_loadu_ps ((const float *) (src + 0 * src_pitch));
  __m256 r1 = _mm256_loadu_ps ((const float *) (src + 1 * src_pitch));
  __m256 r2 = _mm256_loadu_ps ((const float *) (src + 2 * src_pitch));
  __m256 r3 = _mm256_loadu_ps ((const float *) (src + 3 * src_pitch));
  __m256 r4 = _mm256_loadu_ps ((const float *) (src + 4 * src_pitch));
  __m256 r5 = _mm256_loadu_ps ((const float *) (src + 5 * src_pitch));
  __m256 r6 = _mm256_loadu_ps ((const float *) (src + 6 * src_pitch));
  __m256 r7 = _mm256_loadu_ps ((const float *) (src + 7 * src_pitch));
  __m256 t0 = _mm256_unpacklo_ps (r0, r1), t1 = _mm256_unpackhi_ps (r0, r1);
  __m256 t2 = _mm256_unpacklo_ps (r2, r3), t3 = _mm256_unpackhi_ps (r2, r3);
  __m256 t4 = _mm256_unpacklo_ps (r4, r5), t5 = _mm256_unpackhi_ps (r4, r5);
  __m256 t6 = _mm256_unpacklo_ps (r6, r7), t7 = _mm256_unpackhi_ps (r6, r7);
  __m256 u0 = _mm256_shuffle_ps (t0, t2, 0x44), u1 = _mm256_shuffle_ps (t0, t2, 0xee);
  __m256 u2 = _mm256_shuffle_ps (t1, t3, 0x44), u3 = _mm256_shuffle_ps (t1, t3, 0xee);
  __m256 u4 = _mm256_shuffle_ps (t4, t6, 0x44), u5 = _mm256_shuffle_ps (t4, t6, 0xee);
  __m256 u6 = _mm256_shuffle_ps (t5, t7, 0x44), u7 = _mm256_shuffle_ps (t5, t7, 0xee);
  _mm256_storeu_ps ((float *) (dst + 0 * dst_pitch), _mm256_permute2f128_ps (u0, u4, 0x20));
  _mm256_storeu_ps ((float *) (dst + 1 * dst_pitch), _mm256_permute2f128_ps (u1, u5, 0x20));
  _mm256_storeu_ps ((float *) (dst + 2 * dst_pitch), _mm256_permute2f128_ps (u2, u6, 0x20));
  _mm256_storeu_ps ((float *) (dst + 3 * dst_pitch), _mm256_permute2f128_ps (u3, u7, 0x20));
  _mm256_storeu_ps ((float *) (dst + 4 * dst_pitch), _mm256_permute2f128_ps (u0, u4, 0x31));
  _mm256_storeu_ps ((float *) (dst + 5 * dst_pitch), _mm256_permute2f128_ps (u1, u5, 0x31));
  _mm256_storeu_ps ((float *) (dst + 6 * dst_pitch), _mm256_permute2f128_ps (u2, u6, 0x31));
  _mm256_storeu_ps ((float *) (dst + 7 * dst_pitch), _mm256_permute2f128_ps (u3, u7, 0x31));
}

/* The 32-bit block transpose with 8x8 register tiles; edges go scalar. */
__attribute__ ((target ("avx2")))
static void
transpose_block_uint32_t_avx2 (uint32_t *restrict dst, int64_t dst_pitch,
    const uint32_t *restrict src, int64_t src_pitch, int64_t rows, int64_t cols)
{
  int64_t rows8 = rows & ~(int64_t) 7, cols8 = cols & ~(int64_t) 7;
  for (int64_t j0 = 0; j0 < cols; j0 += TRANSPOSE_TILE) {
    int64_t j1 = j0 + TRANSPOSE_TILE < cols8 ? j0 + TRANSPOSE_TILE : cols8;
    for (int64_t i = 0; i < rows8; i += 8)
      for (int64_t j = j0; j < j1; j += 8)
        transpose_8x8_avx2 (dst + i * dst_pitch + j, dst_pitch, src + i + j * src_pitch,
            src_pitch);
  }
  /* Right edge (columns past cols8) for all rows, bottom edge for the rest. */
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = cols8; j < cols; j++)
      dst[i * dst_pitch + j] = src[i + j * src_pitch];
  for (int64_t i = rows8; i < rows; i++)
    for (int64_t j = 0; j < cols8; j++)
      dst[i * dst_pitch + j] = src[i + j * src_pitch];
}
#endif

/* Scalar reference for 32-bit elements (also the fallback without AVX2). */
DEFINE_TRANSPOSE_BLOCK (uint32_t)

static void
transpose_block (size_t esize, void *dst, int64_t dst_pitch, const void *src,
    int64_t src_pitch, int64_t rows, int64_t cols)
{
  switch (esize) {
    case 1:
      transpose_block_uint8_t (dst, dst_pitch, src, src_pitch, rows, cols);
      break;
    case 4:
#ifdef HAVE_X86_TRANSPOSE
      if (rows >= 8 && cols >= 8 && __builtin_cpu_supports ("avx2")) {
        transpose_block_uint32_t_avx2 (dst, dst_pitch, src, src_pitch, rows, cols);
        break;
      }
#endif
      transpose_block_uint32_t (dst, dst_pitch, src, src_pitch, rows, cols);
      break;
    default:
      transpose_block_uint64_t (dst, dst_pitch, src, src_pitch, rows, cols);
      break;
  }
}

typedef struct view_job {
  strided_view v;
  const char *src;
  char *dst;
  size_t esize;
  /* Blocked-transpose path: dim p is read with stride 1, the last dim q is
   * not; work items are (outer index, block of TRANSPOSE_TILE along p). */
  int p;
  int64_t p_blocks;
  int64_t dst_strides[VIEW_MAX_RANK];
} view_job;

/* Row path: items are output rows (all dims but the last). */
static void
view_copy_rows (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const view_job *job = arg;
  const strided_view *v = &job->v;
  int outer = v->rank - 1;
  int64_t inner = v->dims[outer], inner_stride = v->strides[outer];
  size_t es = job->esize;
  int64_t idx[VIEW_MAX_RANK];
  int64_t src_off = v->offset, rem = begin;
  for (int k = outer - 1; k >= 0; k--) {
    idx[k] = rem % v->dims[k];
    rem /= v->dims[k];
    src_off += idx[k] * v->strides[k];
  }
  for (int64_t row = begin; row < end; row++) {
    copy_row (es, job->dst + (size_t) (row * inner) * es, job->src + src_off * (int64_t) es,
        inner, inner_stride);
    for (int k = outer - 1; k >= 0; k--) {
      src_off += v->strides[k];
      if (++idx[k] < v->dims[k])
        break;
      src_off -= v->strides[k] * v->dims[k];
      idx[k] = 0;
    }
  }
}

static void
view_copy_tiles (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const view_job *job = arg;
  const strided_view *v = &job->v;
  int q = v->rank - 1, p = job->p;
  int64_t es = (int64_t) job->esize;
  for (int64_t item = begin; item < end; item++) {
    int64_t block = item % job->p_blocks, o = item / job->p_blocks;
    int64_t src_off = v->offset, dst_off = 0;
    for (int k = q - 1; k >= 0; k--) {
      if (k == p)
        continue;
      int64_t i = o % v->dims[k];
      o /= v->dims[k];
      src_off += i * v->strides[k];
      dst_off += i * job->dst_strides[k];
    }
    int64_t i0 = block * TRANSPOSE_TILE;
    int64_t rows = v->dims[p] - i0 < TRANSPOSE_TILE ? v->dims[p] - i0 : TRANSPOSE_TILE;
    transpose_block (job->esize, job->dst + (dst_off + i0 * job->dst_strides[p]) * es,
        job->dst_strides[p], job->src + (src_off + i0) * es, v->strides[q], rows,
        v->dims[q]);
  }
}

/* Fills the dense `dst` from `src` through the view (which it simplifies). */
static void
view_copy (ir_thread_pool *pool, strided_view *v, const void *src, void *dst, size_t esize)
{
  for (int k = 0; k < v->rank; k++)
    if (v->dims[k] == 0)
      return;
  view_simplify (v);
  if (v->rank == 0) {
    memcpy (dst, (const char *) src + v->offset * (int64_t) esize, esize);
    return;
  }
  view_job job;
  job.v = *v;
  job.src = src;
  job.dst = dst;
  job.esize = esize;
  job.p = -1;
  int q = v->rank - 1;
  if (v->strides[q] != 1 && v->strides[q] != 0) {
    for (int k = 0; k < q; k++)
      if (v->strides[k] == 1)
        job.p = k;
  }
  if (job.p >= 0) {
    dense_strides (v->rank, v->dims, job.dst_strides);
    job.p_blocks = (v->dims[job.p] + TRANSPOSE_TILE - 1) / TRANSPOSE_TILE;
    int64_t items = ir_dims_product (v->dims, 0, q) / v->dims[job.p] * job.p_blocks;
    int64_t per_item = TRANSPOSE_TILE * v->dims[q];
    int64_t grain = per_item >= COPY_GRAIN_ELEMS ? 1 : COPY_GRAIN_ELEMS / per_item;
    ir_parallel_for (pool, items, grain, view_copy_tiles, &job);
  } else {
    int64_t rows = ir_dims_product (v->dims, 0, q);
    int64_t inner = v->dims[q];
    int64_t grain = inner >= COPY_GRAIN_ELEMS ? 1 : COPY_GRAIN_ELEMS / inner;
    ir_parallel_for (pool, rows, grain, view_copy_rows, &job);
  }
}

/* A view of the whole input in its own order, to be permuted or cut. */
static void
view_of_input (strided_view *v, const ir_tensor *in)
{
  v->rank = in->rank;
  v->offset = 0;
  for (int k = 0; k < in->rank; k++)
    v->dims[k] = in->dims[k];
  dense_strides (in->rank, in->dims, v->strides);
}

/* ---- Identity, Dropout ---- */

static int
identity_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  if (need_input (node, in, 0, "input", ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], in[0]->elem_type, in[0]->rank, in[0]->dims);
  return 0;
}

static int
identity_run (const ir_node *node, const op_run_ctx *ctx)
{
  copy_tensor_data (ctx, ctx->out[0], ctx->in[0]);
  return 0;
}

static const op_kernel identity_v1 = {
  .op_type = "Identity", .domain = "", .since_version = 1,
  .infer = identity_infer, .run = identity_run,
};

/* Dropout is inference-only here: the output is the input, the mask all
 * true (bool from opset 10, the input's type before). */
static int
dropout_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  if (need_input (node, in, 0, "data", ctx->err) < 0)
    return -1;
  if (node->opset >= 12 && node->n_inputs > 2 && in[2] != NULL) {
    const ir_tensor *mode = in[2];
    if (mode->data == NULL)
      return ir_fail (ctx->err, "the training_mode input is not known when the session is "
          "planned; only inference (training_mode false) is supported");
    if (ir_numel (mode) != 1)
      return ir_fail (ctx->err, "the training_mode input must be a scalar");
    if (ir_get_f64 (mode, 0) != 0)
      return ir_fail (ctx->err, "training_mode is true; only inference Dropout is supported");
  }
  ir_set_shape (out[0], in[0]->elem_type, in[0]->rank, in[0]->dims);
  if (node->n_outputs > 1 && out[1] != NULL) {
    imgrec_dtype mask_type = node->opset >= 10 ? IMGREC_DTYPE_BOOL : in[0]->elem_type;
    ir_set_shape (out[1], mask_type, in[0]->rank, in[0]->dims);
  }
  return 0;
}

static int
dropout_run (const ir_node *node, const op_run_ctx *ctx)
{
  copy_tensor_data (ctx, ctx->out[0], ctx->in[0]);
  ir_tensor *mask = node->n_outputs > 1 ? ctx->out[1] : NULL;
  if (mask != NULL) {
    int64_t n = ir_numel (mask);
    switch (mask->storage) {
      case IR_F32:
        for (int64_t i = 0; i < n; i++)
          ir_f32 (mask)[i] = 1.0f;
        break;
      case IR_I64:
        for (int64_t i = 0; i < n; i++)
          ir_i64 (mask)[i] = 1;
        break;
      default:
        memset (mask->data, 1, (size_t) n);
        break;
    }
  }
  return 0;
}

static const op_kernel dropout_v1 = {
  .op_type = "Dropout", .domain = "", .since_version = 1,
  .infer = dropout_infer, .run = dropout_run,
};

/* Opset 12 turned ratio and training_mode into inputs. */
static const op_kernel dropout_v12 = {
  .op_type = "Dropout", .domain = "", .since_version = 12,
  .needs_input_data = 1u << 2,
  .infer = dropout_infer, .run = dropout_run,
};

/* ---- Reshape ---- */

typedef struct reshape_params {
  int n_shape;                       /* opset < 5: the shape attribute */
  int64_t shape[IMGREC_MAX_RANK];
  bool allowzero;
} reshape_params;

static int
reshape_init_common (ir_node *node, const op_init_ctx *ctx, imgrec_error *err,
    bool shape_attr)
{
  reshape_params *p = params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  int64_t allowzero = op_attr_int (ctx, "allowzero", 0);
  if (allowzero != 0 && allowzero != 1)
    return ir_fail (err, "attribute allowzero is %lld; expected 0 or 1", (long long) allowzero);
  p->allowzero = allowzero == 1;
  if (shape_attr) {
    if (read_ints_attr (ctx, "shape", IMGREC_MAX_RANK, p->shape, &p->n_shape, err) < 0)
      return -1;
    if (p->n_shape < 0)
      return ir_fail (err, "attribute shape is missing");
  }
  return 0;
}

static int
reshape_init_v1 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return reshape_init_common (node, ctx, err, true);
}

static int
reshape_init_v5 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return reshape_init_common (node, ctx, err, false);
}

static int
reshape_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  const reshape_params *p = node->params;
  imgrec_error *err = ctx->err;
  if (need_input (node, in, 0, "data", err) < 0)
    return -1;
  int64_t shape[IMGREC_MAX_RANK];
  int n;
  if (node->kernel->since_version < 5) {
    n = p->n_shape;
    memcpy (shape, p->shape, sizeof shape);
  } else {
    if (need_input (node, in, 1, "shape", err) < 0
        || read_int_input (in[1], "shape", IMGREC_MAX_RANK, shape, &n, err) < 0)
      return -1;
    if (in[1]->rank != 1)
      return ir_fail (err, "the shape input must be 1-D, not of rank %d", in[1]->rank);
  }
  int64_t in_numel = 0;
  if (checked_numel (in[0]->rank, in[0]->dims, &in_numel, err) < 0)
    return -1;
  int infer_at = -1;
  bool has_zero = false;
  int64_t known = 1;
  for (int i = 0; i < n; i++) {
    if (shape[i] == -1) {
      if (infer_at >= 0)
        return ir_fail (err, "the new shape has more than one -1 dimension");
      infer_at = i;
      continue;
    }
    if (shape[i] < -1)
      return ir_fail (err, "dimension %d of the new shape is %lld; expected -1 or more", i,
          (long long) shape[i]);
    if (shape[i] == 0) {
      has_zero = true;
      if (!p->allowzero) {
        if (i >= in[0]->rank)
          return ir_fail (err, "dimension %d of the new shape is 0 (copy the input's) but the "
              "input has rank %d", i, in[0]->rank);
        shape[i] = in[0]->dims[i];
      }
    }
    if (shape[i] != 0 && known > INT64_MAX / shape[i])
      return ir_fail (err, "the new shape has too many elements");
    known *= shape[i];
  }
  if (p->allowzero && has_zero && infer_at >= 0)
    return ir_fail (err, "with allowzero=1 the new shape cannot hold both 0 and -1");
  if (infer_at >= 0) {
    if (known == 0 || in_numel % known != 0)
      return ir_fail (err, "cannot infer the -1 dimension: %lld elements do not divide into "
          "blocks of %lld", (long long) in_numel, (long long) known);
    shape[infer_at] = in_numel / known;
    known = in_numel;
  }
  if (known != in_numel)
    return ir_fail (err, "the new shape has %lld elements but the input has %lld",
        (long long) known, (long long) in_numel);
  if (checked_numel (n, shape, &known, err) < 0)
    return -1;
  ir_set_shape (out[0], in[0]->elem_type, n, shape);
  return 0;
}

static const op_kernel reshape_v1 = {
  .op_type = "Reshape", .domain = "", .since_version = 1,
  .init = reshape_init_v1, .infer = reshape_infer, .run = identity_run,
};

static const op_kernel reshape_v5 = {
  .op_type = "Reshape", .domain = "", .since_version = 5,
  .needs_input_data = 1u << 1,
  .init = reshape_init_v5, .infer = reshape_infer, .run = identity_run,
};

/* ---- Flatten ---- */

typedef struct axis_params {
  int64_t axis;
} axis_params;

static int
flatten_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  axis_params *p = params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  p->axis = op_attr_int (ctx, "axis", 1);
  return 0;
}

static int
flatten_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  const axis_params *p = node->params;
  if (need_input (node, in, 0, "input", ctx->err) < 0)
    return -1;
  int rank = in[0]->rank;
  int64_t axis = p->axis < 0 ? p->axis + rank : p->axis;
  if (axis < 0 || axis > rank)
    return ir_fail (ctx->err, "attribute axis is %lld; expected a value in [%d, %d]",
        (long long) p->axis, -rank, rank);
  int64_t numel;
  if (checked_numel (rank, in[0]->dims, &numel, ctx->err) < 0)
    return -1;
  int64_t dims[2] = {
    ir_dims_product (in[0]->dims, 0, (int) axis),
    ir_dims_product (in[0]->dims, (int) axis, rank),
  };
  ir_set_shape (out[0], in[0]->elem_type, 2, dims);
  return 0;
}

static const op_kernel flatten_v1 = {
  .op_type = "Flatten", .domain = "", .since_version = 1,
  .init = flatten_init, .infer = flatten_infer, .run = identity_run,
};

/* ---- Squeeze, Unsqueeze ---- */

typedef struct axes_params {
  int n_axes;                        /* -1: no axes attribute */
  int64_t axes[IMGREC_MAX_RANK];
} axes_params;

static int
axes_attr_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  axes_params *p = params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  return read_ints_attr (ctx, "axes", IMGREC_MAX_RANK, p->axes, &p->n_axes, err);
}

/* The axes from the attribute (opset < 13) or the optional input 1; n = -1
 * when there are none. */
static int
get_axes (const ir_node *node, ir_tensor *const *in, int64_t *axes, int *n,
    imgrec_error *err)
{
  if (node->kernel->since_version < 13) {
    const axes_params *p = node->params;
    *n = p->n_axes;
    if (p->n_axes > 0)
      memcpy (axes, p->axes, (size_t) p->n_axes * sizeof *axes);
    return 0;
  }
  if (node->n_inputs < 2 || in[1] == NULL) {
    *n = -1;
    return 0;
  }
  return read_int_input (in[1], "axes", IMGREC_MAX_RANK, axes, n, err);
}

/* Normalizes axes into [0, rank) and marks them; duplicates are an error. */
static int
mark_axes (const int64_t *axes, int n, int rank, bool *marked, imgrec_error *err)
{
  for (int i = 0; i < rank; i++)
    marked[i] = false;
  for (int i = 0; i < n; i++) {
    int a;
    if (ir_normalize_axis (axes[i], rank, &a, err) < 0)
      return -1;
    if (marked[a])
      return ir_fail (err, "axis %lld is listed twice", (long long) axes[i]);
    marked[a] = true;
  }
  return 0;
}

static int
squeeze_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  imgrec_error *err = ctx->err;
  if (need_input (node, in, 0, "data", err) < 0)
    return -1;
  int64_t axes[IMGREC_MAX_RANK];
  int n;
  if (get_axes (node, in, axes, &n, err) < 0)
    return -1;
  const ir_tensor *x = in[0];
  bool marked[IMGREC_MAX_RANK];
  if (n < 0) {
    for (int i = 0; i < x->rank; i++)
      marked[i] = x->dims[i] == 1;
  } else {
    if (mark_axes (axes, n, x->rank, marked, err) < 0)
      return -1;
    for (int i = 0; i < x->rank; i++)
      if (marked[i] && x->dims[i] != 1)
        return ir_fail (err, "cannot squeeze axis %d: its dimension is %lld, not 1", i,
            (long long) x->dims[i]);
  }
  int64_t dims[IMGREC_MAX_RANK];
  int rank = 0;
  for (int i = 0; i < x->rank; i++)
    if (!marked[i])
      dims[rank++] = x->dims[i];
  ir_set_shape (out[0], x->elem_type, rank, dims);
  return 0;
}

static int
unsqueeze_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  imgrec_error *err = ctx->err;
  if (need_input (node, in, 0, "data", err) < 0)
    return -1;
  int64_t axes[IMGREC_MAX_RANK];
  int n;
  if (get_axes (node, in, axes, &n, err) < 0)
    return -1;
  if (n < 0)
    return ir_fail (err, "the axes are missing (the axes attribute before opset 13, the "
        "axes input from opset 13)");
  const ir_tensor *x = in[0];
  int rank = x->rank + n;
  if (rank > IMGREC_MAX_RANK)
    return ir_fail (err, "the output would have rank %d; at most %d is supported", rank,
        IMGREC_MAX_RANK);
  bool marked[IMGREC_MAX_RANK];
  if (mark_axes (axes, n, rank, marked, err) < 0)
    return -1;
  int64_t dims[IMGREC_MAX_RANK];
  for (int i = 0, j = 0; i < rank; i++)
    dims[i] = marked[i] ? 1 : x->dims[j++];
  ir_set_shape (out[0], x->elem_type, rank, dims);
  return 0;
}

static const op_kernel squeeze_v1 = {
  .op_type = "Squeeze", .domain = "", .since_version = 1,
  .init = axes_attr_init, .infer = squeeze_infer, .run = identity_run,
};

static const op_kernel squeeze_v13 = {
  .op_type = "Squeeze", .domain = "", .since_version = 13,
  .needs_input_data = 1u << 1,
  .infer = squeeze_infer, .run = identity_run,
};

static const op_kernel unsqueeze_v1 = {
  .op_type = "Unsqueeze", .domain = "", .since_version = 1,
  .init = axes_attr_init, .infer = unsqueeze_infer, .run = identity_run,
};

static const op_kernel unsqueeze_v13 = {
  .op_type = "Unsqueeze", .domain = "", .since_version = 13,
  .needs_input_data = 1u << 1,
  .infer = unsqueeze_infer, .run = identity_run,
};

/* ---- Transpose ---- */

typedef struct transpose_params {
  int n_perm;                        /* -1: reverse the dims */
  int64_t perm[IMGREC_MAX_RANK];
} transpose_params;

static int
transpose_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  transpose_params *p = params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  if (read_ints_attr (ctx, "perm", IMGREC_MAX_RANK, p->perm, &p->n_perm, err) < 0)
    return -1;
  bool seen[IMGREC_MAX_RANK] = { false };
  for (int i = 0; i < p->n_perm; i++) {
    if (p->perm[i] < 0 || p->perm[i] >= p->n_perm || seen[p->perm[i]])
      return ir_fail (err, "attribute perm is not a permutation of 0..%d", p->n_perm - 1);
    seen[p->perm[i]] = true;
  }
  return 0;
}

static void
transpose_perm (const transpose_params *p, int rank, int64_t *perm)
{
  for (int i = 0; i < rank; i++)
    perm[i] = p->n_perm < 0 ? rank - 1 - i : p->perm[i];
}

static int
transpose_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  const transpose_params *p = node->params;
  if (need_input (node, in, 0, "data", ctx->err) < 0)
    return -1;
  const ir_tensor *x = in[0];
  if (p->n_perm >= 0 && p->n_perm != x->rank)
    return ir_fail (ctx->err, "attribute perm has %d values but the input has rank %d",
        p->n_perm, x->rank);
  int64_t perm[IMGREC_MAX_RANK], dims[IMGREC_MAX_RANK];
  transpose_perm (p, x->rank, perm);
  for (int i = 0; i < x->rank; i++)
    dims[i] = x->dims[perm[i]];
  ir_set_shape (out[0], x->elem_type, x->rank, dims);
  return 0;
}

static int
transpose_run (const ir_node *node, const op_run_ctx *ctx)
{
  const ir_tensor *x = ctx->in[0];
  ir_tensor *y = ctx->out[0];
  int64_t perm[IMGREC_MAX_RANK], strides[IMGREC_MAX_RANK];
  transpose_perm (node->params, x->rank, perm);
  dense_strides (x->rank, x->dims, strides);
  strided_view v = { .rank = x->rank, .offset = 0 };
  for (int i = 0; i < x->rank; i++) {
    v.dims[i] = x->dims[perm[i]];
    v.strides[i] = strides[perm[i]];
  }
  view_copy (ctx->pool, &v, x->data, y->data, ir_storage_size (x->storage));
  return 0;
}

static const op_kernel transpose_v1 = {
  .op_type = "Transpose", .domain = "", .since_version = 1,
  .init = transpose_init, .infer = transpose_infer, .run = transpose_run,
};

/* ---- Concat ---- */

static int
concat_init_v1 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  axis_params *p = params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  p->axis = op_attr_int (ctx, "axis", 1);   /* opset 1 defaults to 1 */
  return 0;
}

static int
concat_init_v4 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  if (!op_attr_has (ctx, "axis"))
    return ir_fail (err, "attribute axis is missing");
  return concat_init_v1 (node, ctx, err);
}

static int
concat_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  const axis_params *p = node->params;
  imgrec_error *err = ctx->err;
  if (node->n_inputs < 1)
    return ir_fail (err, "Concat needs at least one input");
  for (int i = 0; i < node->n_inputs; i++)
    if (in[i] == NULL)
      return ir_fail (err, "input %d is missing", i);
  const ir_tensor *first = in[0];
  int axis;
  if (ir_normalize_axis (p->axis, first->rank, &axis, err) < 0)
    return -1;
  int64_t dims[IMGREC_MAX_RANK];
  memcpy (dims, first->dims, sizeof dims);
  dims[axis] = 0;
  for (int i = 0; i < node->n_inputs; i++) {
    const ir_tensor *t = in[i];
    if (t->rank != first->rank || t->storage != first->storage)
      return ir_fail (err, "input %d has rank %d and type %s but input 0 has rank %d and "
          "type %s", i, t->rank, imgrec_dtype_name (t->elem_type), first->rank,
          imgrec_dtype_name (first->elem_type));
    for (int k = 0; k < t->rank; k++)
      if (k != axis && t->dims[k] != first->dims[k])
        return ir_fail (err, "input %d has dimension %lld on axis %d but input 0 has %lld",
            i, (long long) t->dims[k], k, (long long) first->dims[k]);
    if (t->dims[axis] > INT64_MAX - dims[axis])
      return ir_fail (err, "the concatenated axis is too long");
    dims[axis] += t->dims[axis];
  }
  int64_t numel;
  if (checked_numel (first->rank, dims, &numel, err) < 0)
    return -1;
  ir_set_shape (out[0], first->elem_type, first->rank, dims);
  return 0;
}

typedef struct concat_job {
  const op_run_ctx *ctx;
  int n_inputs;
  int axis;
  int64_t inner;        /* elements after the axis */
  int64_t out_row;      /* output elements per outer index */
  size_t esize;
} concat_job;

/* Outer rows [begin, end): each row is the inputs' blocks side by side. */
static void
concat_rows (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const concat_job *job = arg;
  int64_t es = (int64_t) job->esize;
  char *dst = (char *) job->ctx->out[0]->data + begin * job->out_row * es;
  for (int64_t o = begin; o < end; o++) {
    for (int i = 0; i < job->n_inputs; i++) {
      const ir_tensor *t = job->ctx->in[i];
      int64_t block = t->dims[job->axis] * job->inner * es;
      memcpy (dst, (const char *) t->data + o * block, (size_t) block);
      dst += block;
    }
  }
}

static int
concat_run (const ir_node *node, const op_run_ctx *ctx)
{
  const axis_params *p = node->params;
  ir_tensor *y = ctx->out[0];
  concat_job job = {
    .ctx = ctx, .n_inputs = node->n_inputs,
    .axis = (int) (p->axis < 0 ? p->axis + y->rank : p->axis),
    .esize = ir_storage_size (y->storage),
  };
  int64_t outer = ir_dims_product (y->dims, 0, job.axis);
  job.inner = ir_dims_product (y->dims, job.axis + 1, y->rank);
  job.out_row = y->dims[job.axis] * job.inner;
  if (outer == 0 || job.out_row == 0)
    return 0;
  if (outer == 1) {
    /* One block per input (axis 0, or only ones before it): big memcpys. */
    char *dst = y->data;
    for (int i = 0; i < node->n_inputs; i++) {
      size_t bytes = ir_nbytes (ctx->in[i]);
      copy_bytes (ctx->pool, dst, ctx->in[i]->data, bytes);
      dst += bytes;
    }
    return 0;
  }
  int64_t grain = job.out_row >= COPY_GRAIN_ELEMS ? 1 : COPY_GRAIN_ELEMS / job.out_row;
  ir_parallel_for (ctx->pool, outer, grain, concat_rows, &job);
  return 0;
}

static const op_kernel concat_v1 = {
  .op_type = "Concat", .domain = "", .since_version = 1,
  .init = concat_init_v1, .infer = concat_infer, .run = concat_run,
};

static const op_kernel concat_v4 = {
  .op_type = "Concat", .domain = "", .since_version = 4,
  .init = concat_init_v4, .infer = concat_infer, .run = concat_run,
};

/* ---- Split ---- */

typedef struct split_params {
  int64_t axis;
  int n_split;                       /* -1: no split attribute */
  const int64_t *split;              /* owned by the model */
} split_params;

static int
split_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  split_params *p = params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  p->axis = op_attr_int (ctx, "axis", 0);
  p->n_split = node->kernel->since_version < 13 ? op_attr_ints (ctx, "split", &p->split) : -1;
  if (node->n_outputs < 1)
    return ir_fail (err, "Split needs at least one output");
  return 0;
}

/* Where the part sizes come from: the attribute (opset < 13), the optional
 * input (opset 1 and 13+), or nowhere (equal parts).  NULL for equal parts. */
static const int64_t *
split_sizes (const ir_node *node, ir_tensor *const *in, int64_t *n_sizes)
{
  const split_params *p = node->params;
  if (p->n_split >= 0) {
    *n_sizes = p->n_split;
    return p->split;
  }
  if (node->kernel->since_version != 2 && node->n_inputs > 1 && in[1] != NULL) {
    *n_sizes = ir_numel (in[1]);
    return ir_i64 (in[1]);
  }
  *n_sizes = -1;
  return NULL;
}

static int
split_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const split_params *p = node->params;
  imgrec_error *err = ctx->err;
  if (need_input (node, in, 0, "input", err) < 0)
    return -1;
  const ir_tensor *x = in[0];
  int axis;
  if (ir_normalize_axis (p->axis, x->rank, &axis, err) < 0)
    return -1;
  if (p->n_split < 0 && node->kernel->since_version != 2 && node->n_inputs > 1
      && in[1] != NULL) {
    if (in[1]->data == NULL)
      return ir_fail (err, "the values of the split input are not known when the session "
          "is planned");
    if (in[1]->storage != IR_I64 || in[1]->rank != 1)
      return ir_fail (err, "the split input must be a 1-D integer tensor");
  }
  int64_t n_sizes, dim = x->dims[axis];
  const int64_t *sizes = split_sizes (node, in, &n_sizes);
  if (sizes != NULL) {
    if (n_sizes != node->n_outputs)
      return ir_fail (err, "split lists %lld sizes but the node has %d outputs",
          (long long) n_sizes, node->n_outputs);
    int64_t sum = 0;
    for (int64_t k = 0; k < n_sizes; k++) {
      if (sizes[k] < 0 || sizes[k] > dim - sum)
        return ir_fail (err, "split sizes must be non-negative and add up to the "
            "dimension of axis %d (%lld)", axis, (long long) dim);
      sum += sizes[k];
    }
    if (sum != dim)
      return ir_fail (err, "split sizes add up to %lld but axis %d has dimension %lld",
          (long long) sum, axis, (long long) dim);
  } else if (dim % node->n_outputs != 0) {
    return ir_fail (err, "axis %d of dimension %lld cannot be split into %d equal parts",
        axis, (long long) dim, node->n_outputs);
  }
  for (int k = 0; k < node->n_outputs; k++) {
    if (out[k] == NULL)
      continue;
    int64_t dims[IMGREC_MAX_RANK];
    memcpy (dims, x->dims, sizeof dims);
    dims[axis] = sizes != NULL ? sizes[k] : dim / node->n_outputs;
    ir_set_shape (out[k], x->elem_type, x->rank, dims);
  }
  return 0;
}

static int
split_run (const ir_node *node, const op_run_ctx *ctx)
{
  const split_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  int axis = (int) (p->axis < 0 ? p->axis + x->rank : p->axis);
  int64_t n_sizes, start = 0;
  const int64_t *sizes = split_sizes (node, ctx->in, &n_sizes);
  size_t es = ir_storage_size (x->storage);
  for (int k = 0; k < node->n_outputs; k++) {
    int64_t size = sizes != NULL ? sizes[k] : x->dims[axis] / node->n_outputs;
    ir_tensor *y = ctx->out[k];
    if (y != NULL) {
      strided_view v;
      view_of_input (&v, x);
      v.dims[axis] = size;
      v.offset = start * v.strides[axis];
      view_copy (ctx->pool, &v, x->data, y->data, es);
    }
    start += size;
  }
  return 0;
}

static const op_kernel split_v1 = {
  .op_type = "Split", .domain = "", .since_version = 1,
  .needs_input_data = 1u << 1,
  .init = split_init, .infer = split_infer, .run = split_run,
};

static const op_kernel split_v2 = {
  .op_type = "Split", .domain = "", .since_version = 2,
  .init = split_init, .infer = split_infer, .run = split_run,
};

static const op_kernel split_v13 = {
  .op_type = "Split", .domain = "", .since_version = 13,
  .needs_input_data = 1u << 1,
  .init = split_init, .infer = split_infer, .run = split_run,
};

/* ---- Slice ---- */

typedef struct slice_params {          /* opset < 10: attributes */
  int n_starts, n_ends, n_axes;
  int64_t starts[IMGREC_MAX_RANK], ends[IMGREC_MAX_RANK], axes[IMGREC_MAX_RANK];
} slice_params;

static int
slice_init_v1 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  slice_params *p = params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  if (read_ints_attr (ctx, "starts", IMGREC_MAX_RANK, p->starts, &p->n_starts, err) < 0
      || read_ints_attr (ctx, "ends", IMGREC_MAX_RANK, p->ends, &p->n_ends, err) < 0
      || read_ints_attr (ctx, "axes", IMGREC_MAX_RANK, p->axes, &p->n_axes, err) < 0)
    return -1;
  if (p->n_starts < 0 || p->n_ends < 0)
    return ir_fail (err, "attributes starts and ends are required");
  return 0;
}

/* Turns starts/ends/axes/steps into a view of the input (numpy rules:
 * negative values count from the end, everything is clamped). */
static int
slice_view (const ir_node *node, ir_tensor *const *in, strided_view *v, imgrec_error *err)
{
  int64_t starts[IMGREC_MAX_RANK], ends[IMGREC_MAX_RANK], axes[IMGREC_MAX_RANK];
  int64_t steps[IMGREC_MAX_RANK];
  int n, n_ends, n_axes = -1, n_steps = -1;
  if (need_input (node, in, 0, "data", err) < 0)
    return -1;
  if (node->kernel->since_version < 10) {
    const slice_params *p = node->params;
    n = p->n_starts;
    n_ends = p->n_ends;
    n_axes = p->n_axes;
    memcpy (starts, p->starts, sizeof starts);
    memcpy (ends, p->ends, sizeof ends);
    memcpy (axes, p->axes, sizeof axes);
  } else {
    if (need_input (node, in, 1, "starts", err) < 0
        || need_input (node, in, 2, "ends", err) < 0
        || read_int_input (in[1], "starts", IMGREC_MAX_RANK, starts, &n, err) < 0
        || read_int_input (in[2], "ends", IMGREC_MAX_RANK, ends, &n_ends, err) < 0)
      return -1;
    if (node->n_inputs > 3 && in[3] != NULL
        && read_int_input (in[3], "axes", IMGREC_MAX_RANK, axes, &n_axes, err) < 0)
      return -1;
    if (node->n_inputs > 4 && in[4] != NULL
        && read_int_input (in[4], "steps", IMGREC_MAX_RANK, steps, &n_steps, err) < 0)
      return -1;
  }
  if (n_ends != n || (n_axes >= 0 && n_axes != n) || (n_steps >= 0 && n_steps != n))
    return ir_fail (err, "starts, ends, axes and steps must have the same length "
        "(%d, %d, %d, %d)", n, n_ends, n_axes, n_steps);
  const ir_tensor *x = in[0];
  view_of_input (v, x);
  bool seen[IMGREC_MAX_RANK] = { false };
  for (int i = 0; i < n; i++) {
    int a;
    if (ir_normalize_axis (n_axes >= 0 ? axes[i] : i, x->rank, &a, err) < 0)
      return -1;
    if (seen[a])
      return ir_fail (err, "axis %d is sliced twice", a);
    seen[a] = true;
    int64_t step = n_steps >= 0 ? steps[i] : 1;
    if (step == 0)
      return ir_fail (err, "steps[%d] is 0; a slice step cannot be 0", i);
    int64_t dim = x->dims[a], start = starts[i], end = ends[i], count;
    if (start < 0)
      start += dim;
    if (end < 0)
      end += dim;
    if (dim == 0) {
      count = 0;
    } else if (step > 0) {
      start = start < 0 ? 0 : start > dim ? dim : start;
      end = end < 0 ? 0 : end > dim ? dim : end;
      count = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
      int64_t magnitude = step == INT64_MIN ? INT64_MAX : -step;
      start = start < 0 ? 0 : start > dim - 1 ? dim - 1 : start;
      end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
      count = start > end ? (start - end - 1) / magnitude + 1 : 0;
    }
    v->dims[a] = count;
    if (count > 0)
      v->offset += start * v->strides[a];
    /* With two or more elements |step| < dim, so the product cannot overflow. */
    v->strides[a] = count > 1 ? v->strides[a] * step : 0;
  }
  return 0;
}

static int
slice_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  strided_view v;
  if (slice_view (node, in, &v, ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], in[0]->elem_type, v.rank, v.dims);
  return 0;
}

static int
slice_run (const ir_node *node, const op_run_ctx *ctx)
{
  strided_view v;
  if (slice_view (node, ctx->in, &v, ctx->err) < 0)
    return -1;
  view_copy (ctx->pool, &v, ctx->in[0]->data, ctx->out[0]->data,
      ir_storage_size (ctx->in[0]->storage));
  return 0;
}

static const op_kernel slice_v1 = {
  .op_type = "Slice", .domain = "", .since_version = 1,
  .init = slice_init_v1, .infer = slice_infer, .run = slice_run,
};

static const op_kernel slice_v10 = {
  .op_type = "Slice", .domain = "", .since_version = 10,
  .needs_input_data = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4),
  .infer = slice_infer, .run = slice_run,
};

/* ---- Gather ---- */

static int
gather_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  axis_params *p = params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  p->axis = op_attr_int (ctx, "axis", 0);
  return 0;
}

static int
gather_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  const axis_params *p = node->params;
  imgrec_error *err = ctx->err;
  if (need_input (node, in, 0, "data", err) < 0 || need_input (node, in, 1, "indices", err) < 0)
    return -1;
  const ir_tensor *x = in[0], *indices = in[1];
  int axis;
  if (ir_normalize_axis (p->axis, x->rank, &axis, err) < 0)
    return -1;
  if (indices->storage != IR_I64)
    return ir_fail (err, "indices must be integers, not %s",
        imgrec_dtype_name (indices->elem_type));
  int rank = x->rank - 1 + indices->rank;
  if (rank > IMGREC_MAX_RANK)
    return ir_fail (err, "the output would have rank %d; at most %d is supported", rank,
        IMGREC_MAX_RANK);
  int64_t dims[IMGREC_MAX_RANK];
  int r = 0;
  for (int k = 0; k < axis; k++)
    dims[r++] = x->dims[k];
  for (int k = 0; k < indices->rank; k++)
    dims[r++] = indices->dims[k];
  for (int k = axis + 1; k < x->rank; k++)
    dims[r++] = x->dims[k];
  int64_t numel;
  if (checked_numel (rank, dims, &numel, err) < 0)
    return -1;
  ir_set_shape (out[0], x->elem_type, rank, dims);
  return 0;
}

typedef struct gather_job {
  const char *src;
  char *dst;
  const int64_t *indices;
  int64_t n_indices, axis_dim;
  size_t block;                     /* bytes after the axis */
} gather_job;

static void
gather_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const gather_job *job = arg;
  for (int64_t item = begin; item < end; item++) {
    int64_t o = item / job->n_indices;
    int64_t k = job->indices[item % job->n_indices];
    if (k < 0)
      k += job->axis_dim;
    memcpy (job->dst + (size_t) item * job->block,
        job->src + (size_t) (o * job->axis_dim + k) * job->block, job->block);
  }
}

static int
gather_run (const ir_node *node, const op_run_ctx *ctx)
{
  const axis_params *p = node->params;
  const ir_tensor *x = ctx->in[0], *indices = ctx->in[1];
  int axis = (int) (p->axis < 0 ? p->axis + x->rank : p->axis);
  gather_job job = {
    .src = x->data, .dst = ctx->out[0]->data, .indices = ir_i64 (indices),
    .n_indices = ir_numel (indices), .axis_dim = x->dims[axis],
    .block = (size_t) ir_dims_product (x->dims, axis + 1, x->rank)
        * ir_storage_size (x->storage),
  };
  /* Check every index before any thread reads through one. */
  for (int64_t i = 0; i < job.n_indices; i++)
    if (job.indices[i] < -job.axis_dim || job.indices[i] >= job.axis_dim)
      return ir_fail (ctx->err, "index %lld is out of range for axis %d of dimension %lld",
          (long long) job.indices[i], axis, (long long) job.axis_dim);
  int64_t outer = ir_dims_product (x->dims, 0, axis);
  int64_t items = outer * job.n_indices;
  if (items == 0 || job.block == 0)
    return 0;
  int64_t grain = job.block >= COPY_GRAIN_ELEMS * 4 ? 1 : COPY_GRAIN_ELEMS * 4 / job.block;
  ir_parallel_for (ctx->pool, items, grain, gather_range, &job);
  return 0;
}

static const op_kernel gather_v1 = {
  .op_type = "Gather", .domain = "", .since_version = 1,
  .init = gather_init, .infer = gather_infer, .run = gather_run,
};

/* ---- GatherElements ---- */

static int
gather_elements_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  const axis_params *p = node->params;
  imgrec_error *err = ctx->err;
  if (need_input (node, in, 0, "data", err) < 0 || need_input (node, in, 1, "indices", err) < 0)
    return -1;
  const ir_tensor *x = in[0], *indices = in[1];
  int axis;
  if (ir_normalize_axis (p->axis, x->rank, &axis, err) < 0)
    return -1;
  if (indices->storage != IR_I64)
    return ir_fail (err, "indices must be integers, not %s",
        imgrec_dtype_name (indices->elem_type));
  if (indices->rank != x->rank)
    return ir_fail (err, "indices have rank %d but data has rank %d", indices->rank, x->rank);
  /* Off the axis, an index position is also the data position: it must exist. */
  for (int k = 0; k < x->rank; k++)
    if (k != axis && indices->dims[k] > x->dims[k])
      return ir_fail (err, "indices dimension %d (%lld) exceeds the data's (%lld)", k,
          (long long) indices->dims[k], (long long) x->dims[k]);
  ir_set_shape (out[0], x->elem_type, indices->rank, indices->dims);
  return 0;
}

typedef struct gather_elements_job {
  const ir_tensor *x, *indices;
  ir_tensor *y;
  int axis;
  int64_t strides[IMGREC_MAX_RANK];   /* of the data */
} gather_elements_job;

/* Rows of the indices (all dims but the last). */
static void
gather_elements_rows (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const gather_elements_job *job = arg;
  const ir_tensor *ind = job->indices;
  int last = ind->rank - 1, axis = job->axis;
  int64_t inner = ind->dims[last], axis_dim = job->x->dims[axis];
  int64_t step = axis == last ? 0 : job->strides[last];
  size_t es = ir_storage_size (job->x->storage);
  for (int64_t row = begin; row < end; row++) {
    int64_t base = 0, rem = row;
    for (int k = last - 1; k >= 0; k--) {
      int64_t i = rem % ind->dims[k];
      rem /= ind->dims[k];
      if (k != axis)
        base += i * job->strides[k];
    }
    const int64_t *idx = ir_i64 (ind) + row * inner;
    int64_t o = row * inner;
    for (int64_t j = 0; j < inner; j++) {
      int64_t k = idx[j] < 0 ? idx[j] + axis_dim : idx[j];
      int64_t src = base + j * step + k * job->strides[axis];
      switch (es) {
        case 4: ir_f32 (job->y)[o + j] = ir_f32 (job->x)[src]; break;
        case 8: ir_i64 (job->y)[o + j] = ir_i64 (job->x)[src]; break;
        default: ir_bool (job->y)[o + j] = ir_bool (job->x)[src]; break;
      }
    }
  }
}

static int
gather_elements_run (const ir_node *node, const op_run_ctx *ctx)
{
  const axis_params *p = node->params;
  const ir_tensor *x = ctx->in[0], *indices = ctx->in[1];
  gather_elements_job job = { .x = x, .indices = indices, .y = ctx->out[0] };
  job.axis = (int) (p->axis < 0 ? p->axis + x->rank : p->axis);
  dense_strides (x->rank, x->dims, job.strides);
  int64_t n = ir_numel (indices), axis_dim = x->dims[job.axis];
  const int64_t *idx = ir_i64 (indices);
  for (int64_t i = 0; i < n; i++)
    if (idx[i] < -axis_dim || idx[i] >= axis_dim)
      return ir_fail (ctx->err, "index %lld is out of range for axis %d of dimension %lld",
          (long long) idx[i], job.axis, (long long) axis_dim);
  if (n == 0)
    return 0;
  int64_t inner = indices->dims[indices->rank - 1];
  int64_t grain = inner >= COPY_GRAIN_ELEMS ? 1 : COPY_GRAIN_ELEMS / inner;
  ir_parallel_for (ctx->pool, n / inner, grain, gather_elements_rows, &job);
  return 0;
}

static const op_kernel gather_elements_v11 = {
  .op_type = "GatherElements", .domain = "", .since_version = 11,
  .init = gather_init, .infer = gather_elements_infer, .run = gather_elements_run,
};

/* ---- Shape, Size ---- */

typedef struct shape_params {
  int64_t start, end;
  bool has_end;
} shape_params;

static int
shape_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  shape_params *p = params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  p->start = op_attr_int (ctx, "start", 0);
  p->has_end = op_attr_has (ctx, "end");
  p->end = op_attr_int (ctx, "end", 0);
  return 0;
}

/* The [start, end) range of dims to report (opset 15; clamped to [0, rank]). */
static void
shape_range (const shape_params *p, int rank, int64_t *start, int64_t *end)
{
  int64_t s = p->start < 0 ? p->start + rank : p->start;
  int64_t e = !p->has_end ? rank : p->end < 0 ? p->end + rank : p->end;
  *start = s < 0 ? 0 : s > rank ? rank : s;
  *end = e < 0 ? 0 : e > rank ? rank : e;
  if (*end < *start)
    *end = *start;
}

static int
shape_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  if (need_input (node, in, 0, "data", ctx->err) < 0)
    return -1;
  int64_t start, end;
  shape_range (node->params, in[0]->rank, &start, &end);
  int64_t dims[1] = { end - start };
  ir_set_shape (out[0], IMGREC_DTYPE_INT64, 1, dims);
  return 0;
}

static int
shape_run (const ir_node *node, const op_run_ctx *ctx)
{
  int64_t start, end;
  shape_range (node->params, ctx->in[0]->rank, &start, &end);
  for (int64_t i = start; i < end; i++)
    ir_i64 (ctx->out[0])[i - start] = ctx->in[0]->dims[i];
  return 0;
}

static const op_kernel shape_v1 = {
  .op_type = "Shape", .domain = "", .since_version = 1, .reads_only_shapes = true,
  .init = shape_init, .infer = shape_infer, .run = shape_run,
};

static int
size_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  int64_t numel;
  if (need_input (node, in, 0, "data", ctx->err) < 0
      || checked_numel (in[0]->rank, in[0]->dims, &numel, ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], IMGREC_DTYPE_INT64, 0, NULL);
  return 0;
}

static int
size_run (const ir_node *node, const op_run_ctx *ctx)
{
  ir_i64 (ctx->out[0])[0] = ir_numel (ctx->in[0]);
  return 0;
}

static const op_kernel size_v1 = {
  .op_type = "Size", .domain = "", .since_version = 1, .reads_only_shapes = true,
  .infer = size_infer, .run = size_run,
};

/* ---- Expand ---- */

static int
expand_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  imgrec_error *err = ctx->err;
  int64_t shape[IMGREC_MAX_RANK], dims[IMGREC_MAX_RANK], numel;
  int n, rank;
  if (need_input (node, in, 0, "input", err) < 0 || need_input (node, in, 1, "shape", err) < 0
      || read_int_input (in[1], "shape", IMGREC_MAX_RANK, shape, &n, err) < 0)
    return -1;
  for (int i = 0; i < n; i++)
    if (shape[i] < 0)
      return ir_fail (err, "dimension %d of the shape input is negative (%lld)", i,
          (long long) shape[i]);
  if (ir_broadcast_shapes (in[0]->rank, in[0]->dims, n, shape, &rank, dims, err) < 0
      || checked_numel (rank, dims, &numel, err) < 0)
    return -1;
  ir_set_shape (out[0], in[0]->elem_type, rank, dims);
  return 0;
}

static int
expand_run (const ir_node *node, const op_run_ctx *ctx)
{
  const ir_tensor *x = ctx->in[0];
  ir_tensor *y = ctx->out[0];
  int64_t in_strides[IMGREC_MAX_RANK];
  dense_strides (x->rank, x->dims, in_strides);
  strided_view v = { .rank = y->rank, .offset = 0 };
  int lead = y->rank - x->rank;
  for (int k = 0; k < y->rank; k++) {
    v.dims[k] = y->dims[k];
    v.strides[k] = k < lead || x->dims[k - lead] == 1 ? 0 : in_strides[k - lead];
  }
  view_copy (ctx->pool, &v, x->data, y->data, ir_storage_size (x->storage));
  return 0;
}

static const op_kernel expand_v8 = {
  .op_type = "Expand", .domain = "", .since_version = 8,
  .needs_input_data = 1u << 1,
  .infer = expand_infer, .run = expand_run,
};

/* ---- Tile ---- */

/* Repeats per input dim: opset 6+ one `repeats` input; opset 1 a `tiles`
 * count and an `axis`, both scalar inputs. */
static int
tile_repeats (const ir_node *node, ir_tensor *const *in, int64_t *repeats, imgrec_error *err)
{
  const ir_tensor *x = in[0];
  int n;
  if (node->kernel->since_version >= 6) {
    if (need_input (node, in, 1, "repeats", err) < 0
        || read_int_input (in[1], "repeats", IMGREC_MAX_RANK, repeats, &n, err) < 0)
      return -1;
    if (n != x->rank)
      return ir_fail (err, "repeats has %d values but the input has rank %d", n, x->rank);
  } else {
    int64_t tiles, axis_value;
    int a;
    if (need_input (node, in, 1, "tiles", err) < 0 || need_input (node, in, 2, "axis", err) < 0
        || read_int_input (in[1], "tiles", 1, &tiles, &n, err) < 0
        || read_int_input (in[2], "axis", 1, &axis_value, &n, err) < 0
        || ir_normalize_axis (axis_value, x->rank, &a, err) < 0)
      return -1;
    for (int k = 0; k < x->rank; k++)
      repeats[k] = k == a ? tiles : 1;
  }
  for (int k = 0; k < x->rank; k++)
    if (repeats[k] < 0)
      return ir_fail (err, "repeat count %lld for axis %d is negative",
          (long long) repeats[k], k);
  return 0;
}

static int
tile_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  imgrec_error *err = ctx->err;
  int64_t repeats[IMGREC_MAX_RANK], dims[IMGREC_MAX_RANK], numel;
  if (need_input (node, in, 0, "input", err) < 0 || tile_repeats (node, in, repeats, err) < 0)
    return -1;
  const ir_tensor *x = in[0];
  for (int k = 0; k < x->rank; k++) {
    if (repeats[k] != 0 && x->dims[k] > INT64_MAX / repeats[k])
      return ir_fail (err, "tiling axis %d overflows", k);
    dims[k] = x->dims[k] * repeats[k];
  }
  if (checked_numel (x->rank, dims, &numel, err) < 0)
    return -1;
  ir_set_shape (out[0], x->elem_type, x->rank, dims);
  return 0;
}

static int
tile_run (const ir_node *node, const op_run_ctx *ctx)
{
  const ir_tensor *x = ctx->in[0];
  int64_t repeats[IMGREC_MAX_RANK], in_strides[IMGREC_MAX_RANK];
  if (tile_repeats (node, ctx->in, repeats, ctx->err) < 0)
    return -1;
  dense_strides (x->rank, x->dims, in_strides);
  /* Output index (r, i) per axis: r walks the copies (stride 0), i the input. */
  strided_view v = { .rank = 2 * x->rank, .offset = 0 };
  for (int k = 0; k < x->rank; k++) {
    v.dims[2 * k] = repeats[k];
    v.strides[2 * k] = 0;
    v.dims[2 * k + 1] = x->dims[k];
    v.strides[2 * k + 1] = in_strides[k];
  }
  view_copy (ctx->pool, &v, x->data, ctx->out[0]->data, ir_storage_size (x->storage));
  return 0;
}

static const op_kernel tile_v1 = {
  .op_type = "Tile", .domain = "", .since_version = 1,
  .needs_input_data = (1u << 1) | (1u << 2),
  .infer = tile_infer, .run = tile_run,
};

static const op_kernel tile_v6 = {
  .op_type = "Tile", .domain = "", .since_version = 6,
  .needs_input_data = 1u << 1,
  .infer = tile_infer, .run = tile_run,
};

/* ---- DepthToSpace, SpaceToDepth ---- */

typedef struct block_params {
  int64_t blocksize;
  bool crd;                          /* DepthToSpace mode CRD (else DCR) */
} block_params;

static int
block_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  block_params *p = params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  if (!op_attr_has (ctx, "blocksize"))
    return ir_fail (err, "attribute blocksize is missing");
  p->blocksize = op_attr_int (ctx, "blocksize", 0);
  if (p->blocksize < 1 || p->blocksize > INT32_MAX)
    return ir_fail (err, "attribute blocksize is %lld; expected a value in [1, %d]",
        (long long) p->blocksize, INT32_MAX);
  if (strcmp (node->op_type, "DepthToSpace") == 0) {
    const char *mode = op_attr_string (ctx, "mode", "DCR");
    if (strcmp (mode, "DCR") != 0 && strcmp (mode, "CRD") != 0)
      return ir_fail (err, "attribute mode is '%s'; expected DCR or CRD", mode);
    p->crd = strcmp (mode, "CRD") == 0;
  }
  return 0;
}

static int
depth_to_space_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  const block_params *p = node->params;
  imgrec_error *err = ctx->err;
  if (need_input (node, in, 0, "input", err) < 0)
    return -1;
  const ir_tensor *x = in[0];
  int64_t bs = p->blocksize, numel;
  if (x->rank != 4)
    return ir_fail (err, "the input must be 4-D (N, C, H, W), not of rank %d", x->rank);
  if (x->dims[1] % (bs * bs) != 0)
    return ir_fail (err, "%lld channels are not a multiple of blocksize^2 (%lld)",
        (long long) x->dims[1], (long long) (bs * bs));
  if (x->dims[2] > INT64_MAX / bs || x->dims[3] > INT64_MAX / bs)
    return ir_fail (err, "the output dimensions overflow");
  int64_t dims[4] = { x->dims[0], x->dims[1] / (bs * bs), x->dims[2] * bs, x->dims[3] * bs };
  if (checked_numel (4, dims, &numel, err) < 0)
    return -1;
  ir_set_shape (out[0], x->elem_type, 4, dims);
  return 0;
}

static int
depth_to_space_run (const ir_node *node, const op_run_ctx *ctx)
{
  const block_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  int64_t bs = p->blocksize, c = x->dims[1] / (bs * bs), h = x->dims[2], w = x->dims[3];
  int64_t hw = h * w;
  /* Output (n, c, h, i, w, j) = y[n][c][h*bs + i][w*bs + j].  DCR reads
   * input channel (i*bs + j)*c + ch, CRD reads ch*bs*bs + i*bs + j. */
  strided_view v = {
    .rank = 6,
    .dims = { x->dims[0], c, h, bs, w, bs },
    .strides = { x->dims[1] * hw, p->crd ? bs * bs * hw : hw, w,
                 p->crd ? bs * hw : bs * c * hw, 1, p->crd ? hw : c * hw },
  };
  view_copy (ctx->pool, &v, x->data, ctx->out[0]->data, ir_storage_size (x->storage));
  return 0;
}

static int
space_to_depth_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (need_output (node, out, ctx->err) < 0)
    return -1;
  const block_params *p = node->params;
  imgrec_error *err = ctx->err;
  if (need_input (node, in, 0, "input", err) < 0)
    return -1;
  const ir_tensor *x = in[0];
  int64_t bs = p->blocksize, numel;
  if (x->rank != 4)
    return ir_fail (err, "the input must be 4-D (N, C, H, W), not of rank %d", x->rank);
  if (x->dims[2] % bs != 0 || x->dims[3] % bs != 0)
    return ir_fail (err, "height %lld and width %lld must be multiples of blocksize %lld",
        (long long) x->dims[2], (long long) x->dims[3], (long long) bs);
  if (x->dims[1] > INT64_MAX / (bs * bs))
    return ir_fail (err, "the output channel count overflows");
  int64_t dims[4] = { x->dims[0], x->dims[1] * bs * bs, x->dims[2] / bs, x->dims[3] / bs };
  if (checked_numel (4, dims, &numel, err) < 0)
    return -1;
  ir_set_shape (out[0], x->elem_type, 4, dims);
  return 0;
}

static int
space_to_depth_run (const ir_node *node, const op_run_ctx *ctx)
{
  const block_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  int64_t bs = p->blocksize, c = x->dims[1], h = x->dims[2], w = x->dims[3];
  /* Output channel (i*bs + j)*c + ch at (h', w') reads x[ch][h'*bs + i][w'*bs + j]. */
  strided_view v = {
    .rank = 6,
    .dims = { x->dims[0], bs, bs, c, h / bs, w / bs },
    .strides = { c * h * w, w, 1, h * w, bs * w, bs },
  };
  view_copy (ctx->pool, &v, x->data, ctx->out[0]->data, ir_storage_size (x->storage));
  return 0;
}

static const op_kernel depth_to_space_v1 = {
  .op_type = "DepthToSpace", .domain = "", .since_version = 1,
  .init = block_init, .infer = depth_to_space_infer, .run = depth_to_space_run,
};

static const op_kernel space_to_depth_v1 = {
  .op_type = "SpaceToDepth", .domain = "", .since_version = 1,
  .init = block_init, .infer = space_to_depth_infer, .run = space_to_depth_run,
};

const op_kernel *const ir_ops_shape[] = {
  &reshape_v1, &reshape_v5,
  &flatten_v1,
  &squeeze_v1, &squeeze_v13,
  &unsqueeze_v1, &unsqueeze_v13,
  &transpose_v1,
  &concat_v1, &concat_v4,
  &split_v1, &split_v2, &split_v13,
  &slice_v1, &slice_v10,
  &gather_v1,
  &gather_elements_v11,
  &shape_v1,
  &size_v1,
  &expand_v8,
  &tile_v1, &tile_v6,
  &depth_to_space_v1,
  &space_to_depth_v1,
  &identity_v1,
  &dropout_v1, &dropout_v12,
  NULL,
};
