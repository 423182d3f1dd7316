/* Op family: gemm — Gemm and MatMul.
 *
 * Float products run on our packed SGEMM (ops/sgemm.h), over the session's
 * pool: a constant B (the weights of a linear layer) is packed at load into
 * the kernel's strip order and its ONNX copy freed; A (the activations) is
 * packed at run time, times alpha.  Gemm's C enters the epilogue: as a bias
 * per row, or as a residual whose row stride is 0 when one row of C serves
 * every row of Y (the usual bias of a fully connected layer), scaled by beta
 * into scratch when beta is not 1; the fused activation runs in registers.
 * (OpenBLAS 0.3.21, which ran them before, picked its SSE3 kernels on CPUs it
 * did not know, where they took 3-4x ORT's time.)
 *
 * GEMVs of contiguous rows whose B is not packed (a batch-1 layer whose
 * weights are an input, with transB; a matrix times a column) run on our row
 * GEMV (ops/sgemm.h, per ISA), which streams the matrix once, rows split
 * over the pool.  Integer (int64 storage) products use a plain triple loop:
 * they only occur on small shape-like tensors.
 *
 * MatMul folds the batch into the rows of one product when B is a single
 * matrix; otherwise it runs one product per batch entry, the entries spread
 * over the threads (each on one thread) when there are enough of them. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "sgemm.h"

/* Below this many multiply-adds a product is not worth splitting: batches
 * of them are spread over the pool instead, one entry to a thread. */
#define SMALL_GEMM_WORK ((int64_t) 1 << 18)
/* Elements per thread below which an epilogue is not split. */
#define EPILOGUE_GRAIN 16384

/* ---------------------------------------------------------------------- */
/* Shared products                                                        */

/* y[r] += alpha * dot (x, rows[r]) for r < count (rows ld apart), split
 * over the pool: a GEMV whose matrix is an input streams it once. */
typedef struct rows_gemv_task {
  int64_t k, ld;
  float alpha;
  const float *x, *rows;
  float *y;
} rows_gemv_task;

static void
rows_gemv_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const rows_gemv_task *t = arg;
  (void) thread_index;
  ir_sgemv_rows_default () (end - begin, t->k, t->alpha, t->x, t->rows + begin * t->ld, t->ld,
      t->y + begin);
}

static void
rows_gemv (ir_thread_pool *pool, int64_t count, int64_t k, float alpha, const float *x,
    const float *rows, int64_t ld, float *y)
{
  if (count <= 0 || k <= 0)
    return;
  rows_gemv_task t = { k, ld, alpha, x, rows, y };
  ir_parallel_for (pool, count, 1 + EPILOGUE_GRAIN / k, rows_gemv_range, &t);
}

/* Integer product, C = op(A) * op(B) (+ C when accumulate).  Arithmetic
 * wraps modulo 2^64 like the int64 it models, without undefined overflow. */
static void
igemm_naive (bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
    const int64_t *a, int64_t lda, const int64_t *b, int64_t ldb,
    bool accumulate, int64_t *c, int64_t ldc)
{
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      uint64_t acc = accumulate ? (uint64_t) c[i * ldc + j] : 0;
      for (int64_t p = 0; p < k; p++) {
        uint64_t av = (uint64_t) (trans_a ? a[p * lda + i] : a[i * lda + p]);
        uint64_t bv = (uint64_t) (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
        acc += av * bv;
      }
      c[i * ldc + j] = (int64_t) acc;
    }
}

typedef struct activation_job {
  const ir_activation *act;
  float *data;
  int64_t row;          /* elements per item */
} activation_job;

static void
activation_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const activation_job *job = arg;
  ir_activation_apply (job->act, job->data + begin * job->row,
      (end - begin) * job->row);
}

/* Applies the fused activation to rows x cols floats, split over threads. */
static void
apply_fused (const ir_activation *act, ir_thread_pool *pool, float *data,
    int64_t rows, int64_t cols)
{
  if (act->kind == IR_ACT_NONE || rows == 0 || cols == 0)
    return;
  activation_job job = { act, data, cols };
  int64_t grain = EPILOGUE_GRAIN / cols + 1;
  ir_parallel_for (pool, rows, grain, activation_range, &job);
}

static int
check_operand_types (const ir_tensor *a, const ir_tensor *b, imgrec_error *err)
{
  if (a->storage != IR_F32 && a->storage != IR_I64)
    return ir_fail (err, "input A must be a floating or integer tensor.");
  if (b->storage != a->storage)
    return ir_fail (err, "inputs A and B must have the same element type.");
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Products on our SGEMM                                                  */

/* B packed at load (node->packed): a constant 2-D B, op(B) k x n. */
typedef struct packed_b {
  const ir_sgemm_kernel *kern;
  int64_t k, n;
  float *b;
} packed_b;

static size_t
align64 (size_t n)
{
  return (n + 63) & ~(size_t) 63;
}

/* Packs op(B) of a constant 2-D float B (transposed when trans_b) into
 * node->packed; the run never reads B's data after this. */
static int
pack_constant_b (ir_node *node, const ir_tensor *b, bool trans_b, imgrec_error *err)
{
  if (b == NULL || b->data == NULL || b->storage != IR_F32 || b->rank != 2
      || b->dims[0] < 1 || b->dims[1] < 1 || b->dims[0] > INT_MAX || b->dims[1] > INT_MAX)
    return 0;   /* bad shapes fail in infer */
  const ir_sgemm_kernel *kern = ir_sgemm_kernel_default ();
  const int64_t k = trans_b ? b->dims[1] : b->dims[0], n = trans_b ? b->dims[0] : b->dims[1];
  const size_t header = align64 (sizeof (packed_b));
  void *mem = NULL;
  if (posix_memalign (&mem, 64, header + ir_sgemm_packed_b_floats (kern, k, n) * sizeof (float))
      != 0)
    return ir_fail (err, "out of memory for the prepacked weights B");
  packed_b *pack = mem;
  pack->kern = kern;
  pack->k = k;
  pack->n = n;
  pack->b = (float *) ((uint8_t *) mem + header);
  /* op(B)[k][j] = B[j][k] when transposed */
  ir_sgemm_pack_b (kern, ir_f32 (b), trans_b ? 1 : n, trans_b ? k : 1, k, n, pack->b);
  node->packed = pack;
  node->packed_inputs |= 1u << 1;
  return 0;
}

static const packed_b *
packed_b_of (const ir_node *node)
{
  return node->packed;
}

static const ir_sgemm_kernel *
product_kernel (const ir_node *node)
{
  return packed_b_of (node) != NULL ? packed_b_of (node)->kern : ir_sgemm_kernel_default ();
}

/* Scratch of one product on `threads` threads: the driver's, then A packed. */
static size_t
product_sgemm_bytes (const ir_sgemm_kernel *kern, int threads, int64_t m, int64_t n, int64_t k)
{
  return align64 (ir_sgemm_scratch_bytes_for (kern, threads, m, n, k));
}

static size_t
product_scratch_bytes (const ir_sgemm_kernel *kern, int threads, int64_t m, int64_t n,
    int64_t k)
{
  return product_sgemm_bytes (kern, threads, m, n, k)
      + align64 (ir_sgemm_packed_a_floats (kern, m, k) * sizeof (float));
}

/* One float product C[m x n] (row stride n) = act (alpha op(A) op(B) + epilogue);
 * op(A)[i][k] = a[i * a_rs + k * a_cs], op(B)[k][j] = b[k * b_rs + j * b_cs]
 * or b_packed. */
typedef struct float_product {
  int64_t m, n, k;
  const float *a;
  int64_t a_rs, a_cs;
  float alpha;
  const float *b, *b_packed;
  int64_t b_rs, b_cs;
  float *c;
  const float *bias, *residual;
  int64_t ldr;
  const ir_activation *act;
} float_product;

/* Runs it with scratch laid out as product_scratch_bytes (kern, threads of
 * pool, m, n, k) says. */
static void
run_product (const ir_sgemm_kernel *kern, const float_product *p, ir_thread_pool *pool,
    void *scratch)
{
  if (p->m == 1 && p->b_packed != NULL && p->a_cs == 1) {
    /* One row (a batch-1 layer): B streams once, nothing to pack. */
    ir_sgemv_packed (kern, p->n, p->k, p->alpha, p->a, p->b_packed, p->c, p->bias,
        p->residual, p->act, pool);
    return;
  }
  const int threads = ir_pool_threads (pool);
  const size_t sgemm_bytes = product_sgemm_bytes (kern, threads, p->m, p->n, p->k);
  float *a_packed = (float *) ((uint8_t *) scratch + sgemm_bytes);
  ir_sgemm_pack_a_run (kern, p->a, p->a_rs, p->a_cs, p->m, p->k, p->alpha, a_packed, pool);
  const ir_sgemm_args args = {
    .m = p->m, .n = p->n, .k = p->k, .a_packed = a_packed,
    .b = p->b, .b_rs = p->b_rs, .b_cs = p->b_cs, .b_packed = p->b_packed,
    .c = p->c, .ldc = p->n, .bias = p->bias, .residual = p->residual, .ldr = p->ldr,
    .act = p->act != NULL && p->act->kind != IR_ACT_NONE ? p->act : NULL,
    .scratch_bytes = sgemm_bytes,
  };
  ir_sgemm (kern, &args, pool, scratch);
}

/* ---------------------------------------------------------------------- */
/* Gemm                                                                   */

typedef struct gemm_params {
  float alpha, beta;
  bool trans_a, trans_b;
} gemm_params;

/* The shapes a Gemm run works on, derived from its inputs. */
typedef struct gemm_shape {
  int64_t m, n, k;
  /* Element strides of C along Y's rows and columns (0 where broadcast);
   * has_c false when C is absent or beta is 0. */
  bool has_c;
  int64_t c_row_stride, c_col_stride;
} gemm_shape;

static int
gemm_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  if (node->n_inputs < 2 || node->inputs[0] < 0 || node->inputs[1] < 0)
    return ir_fail (err, "Gemm needs inputs A and B.");
  if (node->opset < 7) {
    /* Opset 1-6 gate C's broadcasting behind an attribute; C may be
     * broadcast either way here, which is all it can mean. */
    int64_t broadcast = op_attr_int (ctx, "broadcast", 0);
    if (broadcast != 0 && broadcast != 1)
      return ir_fail (err, "attribute broadcast is %lld; expected 0 or 1.",
          (long long) broadcast);
  }
  gemm_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory.");
  p->alpha = op_attr_float (ctx, "alpha", 1.0f);
  p->beta = op_attr_float (ctx, "beta", 1.0f);
  /* The spec transposes for any non-zero value. */
  p->trans_a = op_attr_int (ctx, "transA", 0) != 0;
  p->trans_b = op_attr_int (ctx, "transB", 0) != 0;
  node->params = p;
  return 0;
}

static int
gemm_shape_of (const gemm_params *p, ir_tensor *const *in, gemm_shape *s,
    imgrec_error *err)
{
  const ir_tensor *a = in[0], *b = in[1], *c = in[2];
  if (a->rank != 2 || b->rank != 2)
    return ir_fail (err, "inputs A and B must be 2-D; got ranks %d and %d.",
        a->rank, b->rank);
  s->m = p->trans_a ? a->dims[1] : a->dims[0];
  s->k = p->trans_a ? a->dims[0] : a->dims[1];
  int64_t kb = p->trans_b ? b->dims[1] : b->dims[0];
  s->n = p->trans_b ? b->dims[0] : b->dims[1];
  if (kb != s->k)
    return ir_fail (err, "inner dimensions differ: op(A) is %lld x %lld but "
        "op(B) is %lld x %lld.", (long long) s->m, (long long) s->k,
        (long long) kb, (long long) s->n);

  s->has_c = false;
  s->c_row_stride = s->c_col_stride = 0;
  if (c == NULL)
    return 0;
  if (c->storage != a->storage)
    return ir_fail (err, "input C must have the same element type as A.");
  /* Unidirectional broadcasting of C to [M, N], aligned to the right. */
  if (c->rank > 2)
    return ir_fail (err, "input C has rank %d; it must broadcast to [%lld, %lld].",
        c->rank, (long long) s->m, (long long) s->n);
  int64_t c_rows = c->rank == 2 ? c->dims[0] : 1;
  int64_t c_cols = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
  if ((c_rows != 1 && c_rows != s->m) || (c_cols != 1 && c_cols != s->n))
    return ir_fail (err, "input C of shape [%lld, %lld] does not broadcast to "
        "[%lld, %lld].", (long long) c_rows, (long long) c_cols,
        (long long) s->m, (long long) s->n);
  s->has_c = p->beta != 0.0f;
  s->c_col_stride = c_cols == 1 ? 0 : 1;
  s->c_row_stride = c_rows == 1 ? 0 : c_cols;
  return 0;
}

static int
gemm_prepare (ir_node *node, ir_tensor *const *in, imgrec_error *err)
{
  const gemm_params *p = node->params;
  return pack_constant_b (node, node->n_inputs > 1 ? in[1] : NULL, p->trans_b, err);
}

/* Our SGEMM takes every float Gemm but a GEMV of contiguous rows whose B
 * is not packed: one row of A times B^T's rows (transB), or A's rows times
 * a column (no transA); the row GEMV streams the matrix once. */
static bool
gemm_on_sgemm (const ir_node *node, const gemm_shape *s)
{
  const gemm_params *p = node->params;
  return packed_b_of (node) != NULL
      || !((s->m == 1 && p->trans_b) || (s->n == 1 && !p->trans_a));
}

/* Floats of beta * C that the epilogue needs in scratch: none when C
 * itself is the per-row bias or the residual (beta 1). */
static size_t
gemm_c_scratch_floats (const gemm_params *p, const gemm_shape *s)
{
  if (!s->has_c)
    return 0;
  if (s->c_col_stride == 0)   /* one value per row of Y, or one for all */
    return p->beta == 1.0f && s->c_row_stride == 1 ? 0 : (size_t) s->m;
  if (p->beta == 1.0f)
    return 0;
  return s->c_row_stride == 0 ? (size_t) s->n : (size_t) s->m * (size_t) s->n;
}

/* Y = act (alpha op(A) op(B) + beta C) on our SGEMM. */
static int
gemm_run_sgemm (const ir_node *node, const gemm_params *p, const gemm_shape *s,
    ir_tensor *const *in, const op_run_ctx *ctx)
{
  const ir_sgemm_kernel *kern = product_kernel (node);
  const size_t product = product_scratch_bytes (kern, ir_pool_threads (ctx->pool), s->m, s->n,
      s->k);
  const size_t c_floats = gemm_c_scratch_floats (p, s);
  if (ctx->scratch_bytes < product + align64 (c_floats * sizeof (float)))
    return ir_fail (ctx->err, "scratch space is smaller than infer asked for");
  const int64_t lda = in[0]->dims[1], ldb = in[1]->dims[1];
  const packed_b *pb = packed_b_of (node);
  float_product fp = {
    .m = s->m, .n = s->n, .k = s->k,
    .a = ir_f32 (in[0]), .a_rs = p->trans_a ? 1 : lda, .a_cs = p->trans_a ? lda : 1,
    .alpha = p->alpha,
    .b = pb != NULL ? NULL : ir_f32 (in[1]), .b_packed = pb != NULL ? pb->b : NULL,
    .b_rs = p->trans_b ? 1 : ldb, .b_cs = p->trans_b ? ldb : 1,
    .c = ir_f32 (ctx->out[0]), .act = &node->fused,
  };
  if (s->has_c) {
    const float *c = ir_f32 (in[2]);
    float *scaled = (float *) ((uint8_t *) ctx->scratch + product);
    if (s->c_col_stride == 0) {
      if (c_floats == 0)
        fp.bias = c;
      else {
        for (int64_t i = 0; i < s->m; i++)
          scaled[i] = p->beta * c[i * s->c_row_stride];
        fp.bias = scaled;
      }
    } else {
      fp.residual = c;
      fp.ldr = s->c_row_stride;   /* 0: C's one row for every row of Y */
      if (c_floats > 0) {
        const int64_t rows = s->c_row_stride == 0 ? 1 : s->m;
        for (int64_t i = 0; i < rows; i++)
          for (int64_t j = 0; j < s->n; j++)
            scaled[i * s->n + j] = p->beta * c[i * s->c_row_stride + j];
        fp.residual = scaled;
        fp.ldr = s->c_row_stride == 0 ? 0 : s->n;
      }
    }
  }
  run_product (kern, &fp, ctx->pool, ctx->scratch);
  return 0;
}

static int
gemm_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const gemm_params *p = node->params;
  ir_tensor *const inputs[3] = { in[0], in[1], node->n_inputs > 2 ? in[2] : NULL };
  if (check_operand_types (in[0], in[1], ctx->err) < 0)
    return -1;
  gemm_shape s = { 0 };
  if (gemm_shape_of (p, inputs, &s, ctx->err) < 0)
    return -1;
  if (in[0]->storage == IR_I64 && node->fused.kind != IR_ACT_NONE)
    return ir_fail (ctx->err, "a fused activation needs float inputs.");
  int64_t dims[2] = { s.m, s.n };
  ir_set_shape (out[0], in[0]->elem_type, 2, dims);
  ctx->scratch_bytes = in[0]->storage == IR_F32 && gemm_on_sgemm (node, &s)
      ? product_scratch_bytes (product_kernel (node), ctx->threads, s.m, s.n, s.k)
          + align64 (gemm_c_scratch_floats (p, &s) * sizeof (float))
      : 0;
  return 0;
}

/* Integer Gemm: alpha and beta are applied in double and truncated, as a
 * float attribute times an integer tensor can only mean. */
static void
gemm_run_i64 (const gemm_params *p, const gemm_shape *s, ir_tensor *const *in,
    int64_t *y)
{
  const int64_t *a = ir_i64 (in[0]), *b = ir_i64 (in[1]);
  igemm_naive (p->trans_a, p->trans_b, s->m, s->n, s->k, a, in[0]->dims[1],
      b, in[1]->dims[1], false, y, s->n);
  const int64_t *c = s->has_c ? ir_i64 (in[2]) : NULL;
  if (p->alpha == 1.0f && (c == NULL || p->beta == 1.0f)) {
    if (c != NULL)
      for (int64_t i = 0; i < s->m; i++)
        for (int64_t j = 0; j < s->n; j++)
          y[i * s->n + j] = (int64_t) ((uint64_t) y[i * s->n + j]
              + (uint64_t) c[i * s->c_row_stride + j * s->c_col_stride]);
    return;
  }
  for (int64_t i = 0; i < s->m; i++)
    for (int64_t j = 0; j < s->n; j++) {
      double v = (double) p->alpha * (double) y[i * s->n + j];
      if (c != NULL)
        v += (double) p->beta * (double) c[i * s->c_row_stride + j * s->c_col_stride];
      y[i * s->n + j] = (int64_t) v;
    }
}

static int
gemm_run (const ir_node *node, const op_run_ctx *ctx)
{
  const gemm_params *p = node->params;
  ir_tensor *const inputs[3] = { ctx->in[0], ctx->in[1],
      node->n_inputs > 2 ? ctx->in[2] : NULL };
  gemm_shape s = { 0 };
  if (gemm_shape_of (p, inputs, &s, ctx->err) < 0)
    return -1;
  if (inputs[0]->storage == IR_I64) {
    gemm_run_i64 (p, &s, inputs, ir_i64 (ctx->out[0]));
    return 0;
  }

  if (gemm_on_sgemm (node, &s))
    return gemm_run_sgemm (node, p, &s, inputs, ctx);

  /* A GEMV with B an input: Y = beta * C (or 0), then the row GEMV adds
   * alpha * op(A) op(B). */
  float *y = ir_f32 (ctx->out[0]);
  const float *c = s.has_c ? ir_f32 (inputs[2]) : NULL;
  for (int64_t i = 0; i < s.m; i++) {
    float *y_row = y + i * s.n;
    for (int64_t j = 0; j < s.n; j++)
      y_row[j] = c == NULL ? 0.0f : p->beta * c[i * s.c_row_stride + j * s.c_col_stride];
  }
  const float *a = ir_f32 (inputs[0]), *b = ir_f32 (inputs[1]);
  if (s.m == 1 && p->trans_b)
    /* the row of A (contiguous, transposed or not) times B's n rows */
    rows_gemv (ctx->pool, s.n, s.k, p->alpha, a, b, inputs[1]->dims[1], y);
  else
    /* A's m rows times the column of B (contiguous either way) */
    rows_gemv (ctx->pool, s.m, s.k, p->alpha, b, a, inputs[0]->dims[1], y);
  apply_fused (&node->fused, ctx->pool, y, s.m, s.n);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* MatMul                                                                 */

/* numpy matmul: A [..., M, K] x B [..., K, N] with the batch dimensions
 * broadcast; a 1-D A is a row [1, K] and a 1-D B a column [K, 1], the added
 * dimension being dropped from the result. */
typedef struct matmul_shape {
  int64_t m, n, k;
  int batch_rank;
  int64_t batch_dims[IMGREC_MAX_RANK];
  int64_t batch;                           /* product of batch_dims */
  /* Element strides of A and B along each batch dimension (0 = broadcast). */
  int64_t a_stride[IMGREC_MAX_RANK], b_stride[IMGREC_MAX_RANK];
  int64_t a_batch, b_batch;                /* matrices in A and in B */
  int out_rank;
  int64_t out_dims[IMGREC_MAX_RANK];
} matmul_shape;

static int
matmul_shape_of (const ir_tensor *a, const ir_tensor *b, matmul_shape *s,
    imgrec_error *err)
{
  if (a->rank < 1 || b->rank < 1)
    return ir_fail (err, "MatMul inputs must have rank 1 or more; got ranks "
        "%d and %d.", a->rank, b->rank);
  s->m = a->rank == 1 ? 1 : a->dims[a->rank - 2];
  s->k = a->dims[a->rank - 1];
  int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
  s->n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
  if (kb != s->k)
    return ir_fail (err, "inner dimensions differ: A has %lld columns but B "
        "has %lld rows.", (long long) s->k, (long long) kb);

  int a_batch_rank = a->rank > 2 ? a->rank - 2 : 0;
  int b_batch_rank = b->rank > 2 ? b->rank - 2 : 0;
  if (ir_broadcast_shapes (a_batch_rank, a->dims, b_batch_rank, b->dims,
        &s->batch_rank, s->batch_dims, err) < 0)
    return -1;

  /* Strides of each operand's batch dimensions, aligned to the right. */
  int64_t a_step = s->m * s->k, b_step = s->k * s->n;
  s->a_batch = s->b_batch = 1;
  for (int d = s->batch_rank - 1; d >= 0; d--) {
    int da = d - (s->batch_rank - a_batch_rank);
    int db = d - (s->batch_rank - b_batch_rank);
    int64_t dim_a = da >= 0 ? a->dims[da] : 1;
    int64_t dim_b = db >= 0 ? b->dims[db] : 1;
    s->a_stride[d] = dim_a == 1 ? 0 : a_step;
    s->b_stride[d] = dim_b == 1 ? 0 : b_step;
    a_step *= dim_a;
    b_step *= dim_b;
    s->a_batch *= dim_a;
    s->b_batch *= dim_b;
  }
  s->batch = ir_dims_product (s->batch_dims, 0, s->batch_rank);

  s->out_rank = 0;
  for (int d = 0; d < s->batch_rank; d++)
    s->out_dims[s->out_rank++] = s->batch_dims[d];
  if (a->rank > 1)
    s->out_dims[s->out_rank++] = s->m;
  if (b->rank > 1)
    s->out_dims[s->out_rank++] = s->n;
  return 0;
}

/* Whether the batch folds into the rows of one GEMM: B is a single matrix,
 * A's batch is laid out in full, and the rows stay within the BLAS's int. */
static bool
matmul_folds (const matmul_shape *s)
{
  return s->b_batch == 1 && s->a_batch == s->batch
      && (s->m == 0 || s->batch <= INT_MAX / s->m);
}

/* Our SGEMM takes every float MatMul but matrix-vector entries (N = 1)
 * whose B is not packed: A's rows times the column, on the row GEMV. */
static bool
matmul_on_sgemm (const ir_node *node, const matmul_shape *s)
{
  return packed_b_of (node) != NULL || s->n > 1;
}

/* Entries of a batched product handed one to a thread (each on one
 * thread, no synchronisation inside): many entries, or small ones. */
static bool
matmul_spreads (const matmul_shape *s, int threads)
{
  return s->batch > 1 && (s->batch >= 2 * (int64_t) threads
      || s->m * s->n * (s->k > 0 ? s->k : 1) < SMALL_GEMM_WORK);
}

static size_t
matmul_scratch_bytes (const ir_node *node, const matmul_shape *s, int threads)
{
  const ir_sgemm_kernel *kern = product_kernel (node);
  if (matmul_folds (s))
    return product_scratch_bytes (kern, threads, s->batch * s->m, s->n, s->k);
  if (matmul_spreads (s, threads))
    return (size_t) threads * product_scratch_bytes (kern, 1, s->m, s->n, s->k);
  return product_scratch_bytes (kern, threads, s->m, s->n, s->k);
}

static int
matmul_prepare (ir_node *node, ir_tensor *const *in, imgrec_error *err)
{
  return pack_constant_b (node, node->n_inputs > 1 ? in[1] : NULL, false, err);
}

typedef struct matmul_sgemm_job {
  const ir_sgemm_kernel *kern;
  const matmul_shape *s;
  const float *a, *b, *b_packed;
  float *y;
  const ir_activation *act;
  uint8_t *scratch;
  size_t slot_bytes;            /* scratch of one thread when spread */
  ir_thread_pool *pool;         /* NULL when the entries are spread */
} matmul_sgemm_job;

/* Entries [begin, end), each one product; its operands from the broadcast
 * batch index. */
static void
matmul_sgemm_entries (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const matmul_sgemm_job *job = arg;
  const matmul_shape *s = job->s;
  void *scratch = job->scratch + (size_t) thread_index * job->slot_bytes;
  for (int64_t e = begin; e < end; e++) {
    int64_t rest = e, a_off = 0, b_off = 0;
    for (int d = s->batch_rank - 1; d >= 0; d--) {
      const int64_t i = rest % s->batch_dims[d];
      rest /= s->batch_dims[d];
      a_off += i * s->a_stride[d];
      b_off += i * s->b_stride[d];
    }
    const float_product fp = {
      .m = s->m, .n = s->n, .k = s->k, .a = job->a + a_off, .a_rs = s->k, .a_cs = 1,
      .alpha = 1.0f, .b = job->b_packed != NULL ? NULL : job->b + b_off,
      .b_packed = job->b_packed, .b_rs = s->n, .b_cs = 1,
      .c = job->y + e * s->m * s->n, .act = job->act,
    };
    run_product (job->kern, &fp, job->pool, scratch);
  }
}

static int
matmul_run_sgemm (const ir_node *node, const matmul_shape *s, const op_run_ctx *ctx)
{
  const int threads = ir_pool_threads (ctx->pool);
  if (ctx->scratch_bytes < matmul_scratch_bytes (node, s, threads))
    return ir_fail (ctx->err, "scratch space is smaller than infer asked for");
  const packed_b *pb = packed_b_of (node);
  matmul_sgemm_job job = {
    .kern = product_kernel (node), .s = s, .a = ir_f32 (ctx->in[0]),
    .b = pb != NULL ? NULL : ir_f32 (ctx->in[1]), .b_packed = pb != NULL ? pb->b : NULL,
    .y = ir_f32 (ctx->out[0]), .act = &node->fused, .scratch = ctx->scratch,
    .pool = ctx->pool,
  };
  if (matmul_folds (s)) {
    /* One tall product: the batch in its rows. */
    const float_product fp = {
      .m = s->batch * s->m, .n = s->n, .k = s->k, .a = job.a, .a_rs = s->k, .a_cs = 1,
      .alpha = 1.0f, .b = job.b, .b_packed = job.b_packed, .b_rs = s->n, .b_cs = 1,
      .c = job.y, .act = job.act,
    };
    run_product (job.kern, &fp, ctx->pool, ctx->scratch);
  } else if (matmul_spreads (s, threads)) {
    job.pool = NULL;
    job.slot_bytes = product_scratch_bytes (job.kern, 1, s->m, s->n, s->k);
    ir_parallel_for (ctx->pool, s->batch, 1, matmul_sgemm_entries, &job);
  } else
    matmul_sgemm_entries (&job, 0, s->batch, 0);
  return 0;
}

static int
matmul_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  if (node->n_inputs < 2 || node->inputs[0] < 0 || node->inputs[1] < 0)
    return ir_fail (err, "MatMul needs inputs A and B.");
  node->params = NULL;
  return 0;
}

static int
matmul_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (check_operand_types (in[0], in[1], ctx->err) < 0)
    return -1;
  if (in[0]->storage == IR_I64 && node->fused.kind != IR_ACT_NONE)
    return ir_fail (ctx->err, "a fused activation needs float inputs.");
  matmul_shape s = { 0 };
  if (matmul_shape_of (in[0], in[1], &s, ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], in[0]->elem_type, s.out_rank, s.out_dims);
  ctx->scratch_bytes = in[0]->storage == IR_F32 && s.batch > 0 && s.m > 0 && s.n > 0
      && matmul_on_sgemm (node, &s) ? matmul_scratch_bytes (node, &s, ctx->threads) : 0;
  return 0;
}

typedef struct matmul_job {
  const matmul_shape *s;
  const void *a, *b;
  void *y;
  bool is_float;
} matmul_job;

/* Computes batch entries [begin, end), finding each entry's operands by
 * walking the broadcast batch index like an odometer. */
static void
matmul_batches (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const matmul_job *job = arg;
  const matmul_shape *s = job->s;
  int64_t index[IMGREC_MAX_RANK];
  int64_t rest = begin, a_off = 0, b_off = 0;
  for (int d = s->batch_rank - 1; d >= 0; d--) {
    index[d] = rest % s->batch_dims[d];
    rest /= s->batch_dims[d];
    a_off += index[d] * s->a_stride[d];
    b_off += index[d] * s->b_stride[d];
  }
  int64_t mn = s->m * s->n;
  for (int64_t e = begin; e < end; e++) {
    if (job->is_float) {
      /* N = 1: A's rows times the column (matmul_on_sgemm) */
      float *y = (float *) job->y + e * mn;
      memset (y, 0, (size_t) s->m * sizeof (float));
      rows_gemv (NULL, s->m, s->k, 1.0f, (const float *) job->b + b_off,
          (const float *) job->a + a_off, s->k, y);
    } else
      igemm_naive (false, false, s->m, s->n, s->k,
          (const int64_t *) job->a + a_off, s->k,
          (const int64_t *) job->b + b_off, s->n, false,
          (int64_t *) job->y + e * mn, s->n);
    for (int d = s->batch_rank - 1; d >= 0; d--) {
      a_off += s->a_stride[d];
      b_off += s->b_stride[d];
      if (++index[d] < s->batch_dims[d])
        break;
      index[d] = 0;
      a_off -= s->a_stride[d] * s->batch_dims[d];
      b_off -= s->b_stride[d] * s->batch_dims[d];
    }
  }
}

static int
matmul_run (const ir_node *node, const op_run_ctx *ctx)
{
  const ir_tensor *a = ctx->in[0], *b = ctx->in[1];
  matmul_shape s = { 0 };
  if (matmul_shape_of (a, b, &s, ctx->err) < 0)
    return -1;
  bool is_float = a->storage == IR_F32;
  if (s.batch == 0 || s.m == 0 || s.n == 0)
    return 0;
  if (is_float && matmul_on_sgemm (node, &s))
    return matmul_run_sgemm (node, &s, ctx);

  if (matmul_folds (&s)) {
    /* One tall product. */
    int64_t rows = s.batch * s.m;
    if (is_float) {
      /* N = 1 (matmul_on_sgemm): every row of A times the column */
      memset (ir_f32 (ctx->out[0]), 0, (size_t) rows * sizeof (float));
      rows_gemv (ctx->pool, rows, s.k, 1.0f, ir_f32 (b), ir_f32 (a), s.k, ir_f32 (ctx->out[0]));
      apply_fused (&node->fused, ctx->pool, ir_f32 (ctx->out[0]), rows, s.n);
    } else
      igemm_naive (false, false, rows, s.n, s.k, ir_i64 (a), s.k, ir_i64 (b),
          s.n, false, ir_i64 (ctx->out[0]), s.n);
    return 0;
  }

  matmul_job job = { &s, a->data, b->data, ctx->out[0]->data, is_float };
  /* Multiply-adds per entry, saturated (m * n fits: it is the output's). */
  int64_t mn = s.m * s.n, k = s.k > 0 ? s.k : 1;
  int64_t work = mn > SMALL_GEMM_WORK / k ? SMALL_GEMM_WORK : mn * k;
  if (is_float)
    /* matrix-vector entries, each on one thread */
    ir_parallel_for (ctx->pool, s.batch, SMALL_GEMM_WORK / work + 1,
        matmul_batches, &job);
  else
    matmul_batches (&job, 0, s.batch, 0);
  if (is_float)
    apply_fused (&node->fused, ctx->pool, ir_f32 (ctx->out[0]), s.batch * s.m, s.n);
  return 0;
}

/* ---------------------------------------------------------------------- */

/* For the profiler: where the product runs. */
static void
describe_product (const ir_node *node, bool on_sgemm, bool is_float, char *buf, size_t size)
{
  if (!is_float)
    snprintf (buf, size, "int64 loops");
  else if (!on_sgemm)
    snprintf (buf, size, "gemv");
  else
    snprintf (buf, size, "sgemm %s%s", product_kernel (node)->name,
        packed_b_of (node) != NULL ? " packed B" : "");
}

static void
gemm_describe (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out, char *buf,
    size_t size)
{
  ir_tensor *const inputs[3] = { in[0], in[1], node->n_inputs > 2 ? in[2] : NULL };
  gemm_shape s = { 0 };
  imgrec_error err;
  (void) out;
  if (gemm_shape_of (node->params, inputs, &s, &err) < 0) {
    snprintf (buf, size, "?");
    return;
  }
  describe_product (node, gemm_on_sgemm (node, &s), in[0]->storage == IR_F32, buf, size);
}

static void
matmul_describe (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out, char *buf,
    size_t size)
{
  matmul_shape s = { 0 };
  imgrec_error err;
  (void) out;
  if (matmul_shape_of (in[0], in[1], &s, &err) < 0) {
    snprintf (buf, size, "?");
    return;
  }
  describe_product (node, matmul_on_sgemm (node, &s), in[0]->storage == IR_F32, buf, size);
}

/* Gemm 1/6 (broadcast attribute), 7 (unidirectional C), 9, 11 (optional C)
 * and 13 (more types) compute alike here; two entries keep the attribute
 * check tied to the opsets that have it. */
static const op_kernel gemm_1 = {
  .op_type = "Gemm", .domain = "", .since_version = 1,
  .fuses_activation = true,
  .init = gemm_init, .prepare = gemm_prepare, .infer = gemm_infer, .run = gemm_run,
  .describe = gemm_describe,
};
static const op_kernel gemm_7 = {
  .op_type = "Gemm", .domain = "", .since_version = 7,
  .fuses_activation = true,
  .init = gemm_init, .prepare = gemm_prepare, .infer = gemm_infer, .run = gemm_run,
  .describe = gemm_describe,
};
/* MatMul 1, 9 and 13 differ only in the types they admit. */
static const op_kernel matmul_1 = {
  .op_type = "MatMul", .domain = "", .since_version = 1,
  .fuses_activation = true,
  .init = matmul_init, .prepare = matmul_prepare, .infer = matmul_infer, .run = matmul_run,
  .describe = matmul_describe,
};

const op_kernel *const ir_ops_gemm[] = { &gemm_1, &gemm_7, &matmul_1, NULL };
