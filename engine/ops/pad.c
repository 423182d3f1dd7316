/* Op family: pad — Pad (opsets 1, 2, 11, 13, 18, 19).
 *
 * Opsets 1 and 2 take the pads (named `paddings` in opset 1) and the constant
 * value as attributes; from 11 they are inputs (pads, constant_value), 18 adds
 * an optional `axes` input and 19 the `wrap` mode.  Pads are
 * [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; negative pads crop.
 *
 * Cropping is applied first and the border modes then work on the cropped
 * ("kept") part of each axis, as ONNX Runtime does, so edge/reflect/wrap never
 * read elements that a negative pad removed. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

typedef enum pad_mode {
  PAD_CONSTANT,
  PAD_REFLECT,
  PAD_EDGE,
  PAD_WRAP,
} pad_mode;

typedef struct pad_params {
  pad_mode mode;
  bool pads_from_input;          /* opset >= 11 */
  int n_attr_pads;
  int64_t attr_pads[2 * IMGREC_MAX_RANK];
  float attr_value;              /* opset < 11 */
} pad_params;

/* Geometry of one axis: output = `before` border elements, the `kept` input
 * elements starting at input index `lo`, then the end border. */
typedef struct pad_axis {
  int64_t in, out;
  int64_t lo, kept, before;
} pad_axis;

/* Upper bound on any single output dimension: keeps every index computation
 * far from int64 overflow. */
#define PAD_MAX_DIM ((int64_t) 1 << 40)

static const char *
pad_mode_name (pad_mode mode)
{
  switch (mode) {
  case PAD_CONSTANT: return "constant";
  case PAD_REFLECT: return "reflect";
  case PAD_EDGE: return "edge";
  case PAD_WRAP: return "wrap";
  }
  return "?";
}

static int
pad_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  pad_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory for Pad parameters.");
  node->params = p;

  const char *mode = op_attr_string (ctx, "mode", "constant");
  if (strcmp (mode, "constant") == 0)
    p->mode = PAD_CONSTANT;
  else if (strcmp (mode, "reflect") == 0)
    p->mode = PAD_REFLECT;
  else if (strcmp (mode, "edge") == 0)
    p->mode = PAD_EDGE;
  else if (strcmp (mode, "wrap") == 0 && node->opset >= 19)
    p->mode = PAD_WRAP;
  else
    return ir_fail (err, "attribute mode is \"%s\"; expected constant, reflect, edge%s.",
        mode, node->opset >= 19 ? " or wrap" : "");

  p->pads_from_input = node->opset >= 11;
  if (p->pads_from_input) {
    if (node->n_inputs < 2 || node->inputs[1] < 0)
      return ir_fail (err, "input 'pads' is required from opset 11.");
    if (node->n_inputs > 3 && node->inputs[3] >= 0 && node->opset < 18)
      return ir_fail (err, "input 'axes' needs opset 18 (model imports opset %d).",
          node->opset);
    return 0;
  }

  const char *pads_name = node->opset < 2 ? "paddings" : "pads";
  const int64_t *pads;
  int n = op_attr_ints (ctx, pads_name, &pads);
  if (n < 0)
    return ir_fail (err, "attribute %s is required.", pads_name);
  if (n % 2 != 0 || n > 2 * IMGREC_MAX_RANK)
    return ir_fail (err, "attribute %s has %d values; expected 2 per axis, at most %d axes.",
        pads_name, n, IMGREC_MAX_RANK);
  p->n_attr_pads = n;
  memcpy (p->attr_pads, pads, (size_t) n * sizeof *pads);
  p->attr_value = op_attr_float (ctx, "value", 0.0f);
  return 0;
}

/* Reads the pads (and axes) and fills one pad_axis per input axis. */
static int
pad_geometry (const ir_node *node, ir_tensor *const *in, pad_axis *axes,
    imgrec_error *err)
{
  const pad_params *p = node->params;
  const ir_tensor *x = in[0];
  int rank = x->rank;
  int64_t begin[IMGREC_MAX_RANK] = { 0 }, end[IMGREC_MAX_RANK] = { 0 };

  if (!p->pads_from_input) {
    if (p->n_attr_pads != 2 * rank)
      return ir_fail (err, "attribute pads has %d values but the input has rank %d; "
          "expected %d.", p->n_attr_pads, rank, 2 * rank);
    for (int d = 0; d < rank; d++) {
      begin[d] = p->attr_pads[d];
      end[d] = p->attr_pads[rank + d];
    }
  } else {
    const ir_tensor *pads = in[1];
    const ir_tensor *axes_t = node->n_inputs > 3 ? in[3] : NULL;
    if (pads == NULL || pads->data == NULL)
      return ir_fail (err, "the values of input 'pads' are not known when planning.");
    if (pads->storage != IR_I64 || pads->rank > 1)
      return ir_fail (err, "input 'pads' must be a 1-D int64 tensor.");

    int axis_of[IMGREC_MAX_RANK];
    int n_axes = rank;
    for (int d = 0; d < rank; d++)
      axis_of[d] = d;
    if (axes_t != NULL) {
      if (axes_t->data == NULL)
        return ir_fail (err, "the values of input 'axes' are not known when planning.");
      if (axes_t->storage != IR_I64 || axes_t->rank > 1)
        return ir_fail (err, "input 'axes' must be a 1-D integer tensor.");
      int64_t n = ir_numel (axes_t);
      if (n > rank)
        return ir_fail (err, "input 'axes' has %lld values; the input has only rank %d.",
            (long long) n, rank);
      bool seen[IMGREC_MAX_RANK] = { false };
      n_axes = (int) n;
      for (int i = 0; i < n_axes; i++) {
        if (ir_normalize_axis (ir_i64 (axes_t)[i], rank, &axis_of[i], err) < 0)
          return -1;
        if (seen[axis_of[i]])
          return ir_fail (err, "input 'axes' repeats axis %d.", axis_of[i]);
        seen[axis_of[i]] = true;
      }
    }
    if (ir_numel (pads) != 2 * (int64_t) n_axes)
      return ir_fail (err, "input 'pads' has %lld values; expected %d (2 per padded axis).",
          (long long) ir_numel (pads), 2 * n_axes);
    for (int i = 0; i < n_axes; i++) {
      begin[axis_of[i]] = ir_i64 (pads)[i];
      end[axis_of[i]] = ir_i64 (pads)[n_axes + i];
    }
  }

  int64_t total = 1;
  for (int d = 0; d < rank; d++) {
    pad_axis *a = &axes[d];
    a->in = x->dims[d];
    if (begin[d] < -a->in || end[d] < -a->in || begin[d] > PAD_MAX_DIM
        || end[d] > PAD_MAX_DIM)
      return ir_fail (err, "pads for axis %d are (%lld, %lld); with input size %lld they must "
          "lie in [%lld, 2^40].", d, (long long) begin[d], (long long) end[d],
          (long long) a->in, (long long) -a->in);
    a->lo = begin[d] < 0 ? -begin[d] : 0;
    int64_t crop_end = end[d] < 0 ? -end[d] : 0;
    a->kept = a->in - a->lo - crop_end;
    if (a->kept < 0)
      return ir_fail (err, "pads (%lld, %lld) crop more than the %lld elements of axis %d.",
          (long long) begin[d], (long long) end[d], (long long) a->in, d);
    a->before = begin[d] > 0 ? begin[d] : 0;
    a->out = a->kept + a->before + (end[d] > 0 ? end[d] : 0);
    if (a->out > PAD_MAX_DIM)
      return ir_fail (err, "padded size %lld of axis %d is too large.", (long long) a->out, d);
    if (p->mode != PAD_CONSTANT && a->kept == 0 && a->out > 0)
      return ir_fail (err, "cannot pad axis %d in %s mode: no input elements are left on it.",
          d, pad_mode_name (p->mode));
    if (a->out != 0 && total > INT64_MAX / a->out)
      return ir_fail (err, "the padded output has too many elements.");
    total *= a->out;
  }
  return 0;
}

static int
pad_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const ir_tensor *x = in[0];
  if (x->storage == IR_NONE)
    return ir_fail (ctx->err, "input 'data' has an unsupported element type.");
  pad_axis axes[IMGREC_MAX_RANK];
  if (pad_geometry (node, in, axes, ctx->err) < 0)
    return -1;
  int64_t dims[IMGREC_MAX_RANK];
  for (int d = 0; d < x->rank; d++)
    dims[d] = axes[d].out;
  ir_set_shape (out[0], x->elem_type, x->rank, dims);
  ctx->scratch_bytes = 0;
  return 0;
}

/* Maps a position on the kept part of an axis (possibly outside [0, kept))
 * to an index inside it; never called for constant mode.  kept > 0. */
static inline int64_t
pad_map (pad_mode mode, int64_t pos, int64_t kept)
{
  if (pos >= 0 && pos < kept)
    return pos;
  switch (mode) {
  case PAD_EDGE:
    return pos < 0 ? 0 : kept - 1;
  case PAD_REFLECT: {
    if (kept == 1)
      return 0;
    /* Reflection without repeating the edge is periodic with period
     * 2 (kept - 1), as numpy's repeated reflection is. */
    int64_t period = 2 * (kept - 1);
    int64_t m = pos % period;
    if (m < 0)
      m += period;
    return m < kept ? m : period - m;
  }
  case PAD_WRAP: {
    int64_t m = pos % kept;
    return m < 0 ? m + kept : m;
  }
  case PAD_CONSTANT:
    break;
  }
  return 0;
}

/* The constant, in the tensor's storage. */
typedef union pad_value {
  float f;
  int64_t i;
  uint8_t b;
} pad_value;

typedef struct pad_job {
  pad_mode mode;
  int rank;                      /* >= 1 */
  size_t esize;
  pad_axis axes[IMGREC_MAX_RANK];
  int64_t in_stride[IMGREC_MAX_RANK];
  const uint8_t *src;
  uint8_t *dst;
  pad_value value;
} pad_job;

static void
pad_fill (uint8_t *dst, int64_t n, size_t esize, const pad_value *v)
{
  switch (esize) {
  case 4: {
    float *d = (float *) dst;
    float f = v->f;
    for (int64_t i = 0; i < n; i++)
      d[i] = f;
    break;
  }
  case 8: {
    int64_t *d = (int64_t *) dst;
    int64_t x = v->i;
    for (int64_t i = 0; i < n; i++)
      d[i] = x;
    break;
  }
  default:
    memset (dst, v->b, (size_t) n);
    break;
  }
}

/* Fills output positions [from, to) of the last axis of one row from the
 * kept source row by the border mode. */
static void
pad_border (const pad_job *job, uint8_t *dst_row, const uint8_t *src_kept,
    int64_t from, int64_t to)
{
  const pad_axis *a = &job->axes[job->rank - 1];
  if (from >= to)
    return;
  if (job->mode == PAD_CONSTANT) {
    pad_fill (dst_row + from * job->esize, to - from, job->esize, &job->value);
    return;
  }
  for (int64_t o = from; o < to; o++) {
    int64_t s = pad_map (job->mode, o - a->before, a->kept);
    memcpy (dst_row + o * job->esize, src_kept + s * job->esize, job->esize);
  }
}

static void
pad_rows (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const pad_job *job = arg;
  int outer = job->rank - 1;
  const pad_axis *last = &job->axes[outer];
  size_t esize = job->esize;
  size_t row_bytes = (size_t) last->out * esize;

  /* Multi-index of row `begin` over the outer axes. */
  int64_t idx[IMGREC_MAX_RANK] = { 0 };
  int64_t r = begin;
  for (int d = outer - 1; d >= 0; d--) {
    idx[d] = r % job->axes[d].out;
    r /= job->axes[d].out;
  }

  for (int64_t row = begin; row < end; row++) {
    uint8_t *dst = job->dst + (size_t) row * row_bytes;
    bool inside = true;
    int64_t src_off = 0;
    for (int d = 0; d < outer; d++) {
      const pad_axis *a = &job->axes[d];
      int64_t pos = idx[d] - a->before;
      if (pos < 0 || pos >= a->kept) {
        if (job->mode == PAD_CONSTANT) {
          inside = false;
          break;
        }
        pos = pad_map (job->mode, pos, a->kept);
      }
      src_off += (a->lo + pos) * job->in_stride[d];
    }

    if (!inside) {
      pad_fill (dst, last->out, esize, &job->value);
    } else {
      const uint8_t *src_kept = job->src + (size_t) (src_off + last->lo) * esize;
      pad_border (job, dst, src_kept, 0, last->before);
      memcpy (dst + (size_t) last->before * esize, src_kept, (size_t) last->kept * esize);
      pad_border (job, dst, src_kept, last->before + last->kept, last->out);
    }

    for (int d = outer - 1; d >= 0; d--) {
      if (++idx[d] < job->axes[d].out)
        break;
      idx[d] = 0;
    }
  }
}

static int
pad_run (const ir_node *node, const op_run_ctx *ctx)
{
  const pad_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  ir_tensor *y = ctx->out[0];
  pad_job job;
  memset (&job, 0, sizeof job);

  if (pad_geometry (node, ctx->in, job.axes, ctx->err) < 0)
    return -1;
  job.mode = p->mode;
  job.esize = ir_storage_size (x->storage);
  job.src = x->data;
  job.dst = y->data;
  job.rank = x->rank;
  if (job.rank == 0) {
    /* A scalar has nothing to pad: view it as one element of a 1-D axis. */
    job.rank = 1;
    job.axes[0] = (pad_axis) { .in = 1, .out = 1, .lo = 0, .kept = 1, .before = 0 };
  }
  int64_t stride = 1;
  for (int d = job.rank - 1; d >= 0; d--) {
    job.in_stride[d] = stride;
    stride *= job.axes[d].in;
  }

  double v = p->attr_value;
  const ir_tensor *cv = p->pads_from_input && node->n_inputs > 2 ? ctx->in[2] : NULL;
  if (cv != NULL && ir_numel (cv) > 0) {
    switch (x->storage) {
    case IR_F32: job.value.f = (float) ir_get_f64 (cv, 0); break;
    case IR_I64: job.value.i = ir_get_i64 (cv, 0); break;
    default: job.value.b = ir_get_i64 (cv, 0) != 0; break;
    }
  } else {
    switch (x->storage) {
    case IR_F32: job.value.f = (float) v; break;
    case IR_I64: job.value.i = v > -9.2e18 && v < 9.2e18 ? (int64_t) v : 0; break;
    default: job.value.b = v != 0.0; break;
    }
  }

  int64_t row_len = job.axes[job.rank - 1].out;
  int64_t rows = ir_dims_product (y->dims, 0, y->rank - 1);
  if (y->rank == 0)
    rows = 1;
  if (rows == 0 || row_len == 0)
    return 0;
  int64_t grain = 16384 / row_len + 1;
  ir_parallel_for (ctx->pool, rows, grain, pad_rows, &job);
  return 0;
}

static const op_kernel pad_v1 = {
  .op_type = "Pad", .domain = "", .since_version = 1,
  .init = pad_init, .infer = pad_infer, .run = pad_run,
};

static const op_kernel pad_v2 = {
  .op_type = "Pad", .domain = "", .since_version = 2,
  .init = pad_init, .infer = pad_infer, .run = pad_run,
};

/* From 11 the pads (input 1) and, from 18, the axes (input 3) decide the
 * output shape. */
static const op_kernel pad_v11 = {
  .op_type = "Pad", .domain = "", .since_version = 11,
  .needs_input_data = (1u << 1) | (1u << 3),
  .init = pad_init, .infer = pad_infer, .run = pad_run,
};

const op_kernel *const ir_ops_pad[] = { &pad_v1, &pad_v2, &pad_v11, NULL };
