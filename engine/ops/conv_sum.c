/* Conv's fused residual (graph pass fuse_residual_add, src/passes.c): input 3
 * ("sum") S of a Conv that was Conv -> Add.  When S has the conv output's
 * shape, the SGEMM paths add it in registers before the one store
 * (conv_gemm.c); the direct paths (depthwise, Winograd) add it here right
 * after, and an S that broadcasts (the Add's numpy rules, either side
 * growing) takes the general path here: the conv into scratch, then
 * Y = act (conv + S) through broadcast strides. */
#include <string.h>

#include "conv_internal.h"

const ir_tensor *
conv_sum_input (const ir_node *node, ir_tensor *const *in)
{
  return node->n_inputs > 3 ? in[3] : NULL;
}

int
conv_sum_output_shape (const conv_geometry *g, int conv_rank, const ir_tensor *sum,
    int *rank, int64_t *dims, imgrec_error *err)
{
  if (sum == NULL) {
    *rank = conv_rank;
    memcpy (dims, g->out_dims, (size_t) conv_rank * sizeof *dims);
    return 0;
  }
  if (sum->storage != IR_F32)
    return ir_fail (err, "the residual added to the output (a fused Add) must be a "
        "floating-point tensor");
  if (ir_broadcast_shapes (conv_rank, g->out_dims, sum->rank, sum->dims, rank, dims, err) < 0)
    return ir_fail_prefix (err, "the fused residual Add: ");
  return 0;
}

bool
conv_sum_same_shape (const conv_geometry *g, int conv_rank, const ir_tensor *sum)
{
  if (sum == NULL || sum->rank != conv_rank)
    return false;
  for (int i = 0; i < conv_rank; i++)
    if (sum->dims[i] != g->out_dims[i])
      return false;
  return true;
}

/* Element strides of a tensor of `rank` dims read as `out_rank` broadcast
 * dims (right-aligned; 0 along the axes it is broadcast on). */
static void
conv_sum_strides (int rank, const int64_t *dims, int out_rank, const int64_t *out_dims,
    int64_t *strides)
{
  int64_t s = 1;
  for (int i = out_rank - 1; i >= 0; i--) {
    const int k = i - (out_rank - rank);
    if (k < 0) {
      strides[i] = 0;
      continue;
    }
    strides[i] = dims[k] == out_dims[i] ? s : 0;
    s *= dims[k];
  }
}

typedef struct conv_sum_task {
  const ir_activation *act;
  const float *c, *s;
  float *y;
  int rank;
  const int64_t *dims;
  int64_t c_strides[IMGREC_MAX_RANK], s_strides[IMGREC_MAX_RANK];
} conv_sum_task;

/* Output rows (last axis) [begin, end). */
static void
conv_sum_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const conv_sum_task *t = arg;
  const int last = t->rank - 1;
  const int64_t len = t->dims[last];
  const int64_t cs = t->c_strides[last], ss = t->s_strides[last];
  (void) thread_index;
  for (int64_t r = begin; r < end; r++) {
    int64_t rest = r, co = 0, so = 0;
    for (int i = last - 1; i >= 0; i--) {
      const int64_t at = rest % t->dims[i];
      rest /= t->dims[i];
      co += at * t->c_strides[i];
      so += at * t->s_strides[i];
    }
    float *y = t->y + r * len;   /* may be c itself (the direct paths) */
    const float *c = t->c + co, *s = t->s + so;
    if (cs == 1 && ss == 1) {
      for (int64_t j = 0; j < len; j++)
        y[j] = c[j] + s[j];
    } else {
      for (int64_t j = 0; j < len; j++)
        y[j] = c[j * cs] + s[j * ss];
    }
    if (t->act->kind != IR_ACT_NONE)
      ir_activation_apply (t->act, y, len);
  }
}

void
conv_sum_apply (ir_thread_pool *pool, const ir_activation *act, const float *c,
    int c_rank, const int64_t *c_dims, const ir_tensor *sum, float *y, int rank,
    const int64_t *dims)
{
  if (rank == 0 || ir_dims_product (dims, 0, rank) == 0)
    return;
  conv_sum_task t = { .act = act, .c = c, .s = ir_f32 (sum), .y = y, .rank = rank,
    .dims = dims };
  conv_sum_strides (c_rank, c_dims, rank, dims, t.c_strides);
  conv_sum_strides (sum->rank, sum->dims, rank, dims, t.s_strides);
  const int64_t rows = ir_dims_product (dims, 0, rank - 1);
  ir_parallel_for (pool, rows, conv_grain (dims[rank - 1]), conv_sum_range, &t);
}
