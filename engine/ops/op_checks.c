/* Checked helpers that op kernels share (see op_checks.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "op_checks.h"

void *
op_params_new (ir_node *node, size_t size, imgrec_error *err)
{
  node->params = calloc (1, size);
  if (node->params == NULL)
    ir_fail (err, "out of memory");
  return node->params;
}

int
op_need_input (const ir_node *node, ir_tensor *const *in, int i, const char *what,
    imgrec_error *err)
{
  if (i >= node->n_inputs || in[i] == NULL)
    return ir_fail (err, "the required input %d (%s) is missing", i, what);
  return 0;
}

int
op_need_output (const ir_node *node, ir_tensor *const *out, imgrec_error *err)
{
  if (node->n_outputs < 1 || out[0] == NULL)
    return ir_fail (err, "the required output 0 is missing");
  return 0;
}

int
op_need_input_and_output (const ir_node *node, ir_tensor *const *in,
    ir_tensor *const *out, const char *what, imgrec_error *err)
{
  if (op_need_output (node, out, err) < 0 || op_need_input (node, in, 0, what, err) < 0)
    return -1;
  return 0;
}

int
op_read_int_input (const ir_tensor *t, const char *what, int max, int64_t *vals,
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

int
op_read_ints_attr (const op_init_ctx *ctx, const char *name, int max, int64_t *vals,
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

/* The non-zero dims must multiply within range too, so that any partial
 * product of an empty tensor's dims (Flatten, outer/inner loops) cannot
 * overflow either. */
int
op_checked_numel (int rank, const int64_t *dims, int64_t *numel, imgrec_error *err)
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

int
op_set_checked_shape (ir_tensor *out, imgrec_dtype type, int rank, const int64_t *dims,
    imgrec_error *err)
{
  int64_t numel;
  if (op_checked_numel (rank, dims, &numel, err) < 0)
    return -1;
  ir_set_shape (out, type, rank, dims);
  return 0;
}

int
op_axis_params_init (ir_node *node, const op_init_ctx *ctx, int64_t default_axis,
    imgrec_error *err)
{
  axis_params *p = op_params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  p->axis = op_attr_int (ctx, "axis", default_axis);
  return 0;
}
