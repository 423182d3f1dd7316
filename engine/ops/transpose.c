/* Op family: transpose — ops that permute the elements.
 *
 * Transpose, DepthToSpace, SpaceToDepth.  Each builds a strided view of its
 * input (strided_view.h) in the output's order; the view copy does the rest,
 * on any storage (F32, I64, BOOL).
 */
#include <limits.h>
#include <string.h>

#include "op_checks.h"
#include "strided_view.h"

/* ---- Transpose ---- */

typedef struct transpose_params {
  int n_perm;                        /* -1: reverse the dims */
  int64_t perm[IMGREC_MAX_RANK];
} transpose_params;

static int
transpose_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  transpose_params *p = op_params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  if (op_read_ints_attr (ctx, "perm", IMGREC_MAX_RANK, p->perm, &p->n_perm, err) < 0)
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
  const transpose_params *p = node->params;
  if (op_need_input_and_output (node, in, out, "data", ctx->err) < 0)
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

/* ---- DepthToSpace, SpaceToDepth ---- */

typedef struct block_params {
  int64_t blocksize;
  bool crd;                          /* DepthToSpace mode CRD (else DCR) */
} block_params;

static int
block_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  block_params *p = op_params_new (node, sizeof *p, err);
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

/* The start of DepthToSpace and SpaceToDepth infer: the 4-D input, or NULL
 * with err. */
static const ir_tensor *
block_input (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    imgrec_error *err)
{
  if (op_need_input_and_output (node, in, out, "input", err) < 0)
    return NULL;
  if (in[0]->rank != 4) {
    ir_fail (err, "the input must be 4-D (N, C, H, W), not of rank %d", in[0]->rank);
    return NULL;
  }
  return in[0];
}

static int
depth_to_space_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const block_params *p = node->params;
  imgrec_error *err = ctx->err;
  const ir_tensor *x = block_input (node, in, out, err);
  if (x == NULL)
    return -1;
  int64_t bs = p->blocksize;
  if (x->dims[1] % (bs * bs) != 0)
    return ir_fail (err, "%lld channels are not a multiple of blocksize^2 (%lld)",
        (long long) x->dims[1], (long long) (bs * bs));
  if (x->dims[2] > INT64_MAX / bs || x->dims[3] > INT64_MAX / bs)
    return ir_fail (err, "the output dimensions overflow");
  int64_t dims[4] = { x->dims[0], x->dims[1] / (bs * bs), x->dims[2] * bs, x->dims[3] * bs };
  return op_set_checked_shape (out[0], x->elem_type, 4, dims, err);
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
  const block_params *p = node->params;
  imgrec_error *err = ctx->err;
  const ir_tensor *x = block_input (node, in, out, err);
  if (x == NULL)
    return -1;
  int64_t bs = p->blocksize;
  if (x->dims[2] % bs != 0 || x->dims[3] % bs != 0)
    return ir_fail (err, "height %lld and width %lld must be multiples of blocksize %lld",
        (long long) x->dims[2], (long long) x->dims[3], (long long) bs);
  if (x->dims[1] > INT64_MAX / (bs * bs))
    return ir_fail (err, "the output channel count overflows");
  int64_t dims[4] = { x->dims[0], x->dims[1] * bs * bs, x->dims[2] / bs, x->dims[3] / bs };
  return op_set_checked_shape (out[0], x->elem_type, 4, dims, err);
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

const op_kernel *const ir_ops_transpose[] = {
  &transpose_v1,
  &depth_to_space_v1,
  &space_to_depth_v1,
  NULL,
};
