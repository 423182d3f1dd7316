/* Checked helpers that op kernels share: allocating params, requiring
 * inputs and outputs, reading integer lists from inputs and attributes, and
 * bounding element counts.  Every failure returns -1 with a sentence in the
 * error, worded the same for every op that uses it. */
#ifndef IMGREC_OP_CHECKS_H
#define IMGREC_OP_CHECKS_H

#include "op.h"

/* Zeroed node->params of `size` bytes; NULL with err when out of memory. */
void *op_params_new (ir_node *node, size_t size, imgrec_error *err);

/* Input i must be present; `what` names it in the error. */
int op_need_input (const ir_node *node, ir_tensor *const *in, int i, const char *what,
    imgrec_error *err);

/* Output 0 is never optional; a model that leaves it out is rejected here. */
int op_need_output (const ir_node *node, ir_tensor *const *out, imgrec_error *err);

/* The usual start of infer: output 0, then input 0 (named `what`), must be
 * present. */
int op_need_input_and_output (const ir_node *node, ir_tensor *const *in,
    ir_tensor *const *out, const char *what, imgrec_error *err);

/* Reads the integer values of a scalar or 1-D input (shape-like data) whose
 * values infer may read; at most `max` values. */
int op_read_int_input (const ir_tensor *t, const char *what, int max, int64_t *vals,
    int *count, imgrec_error *err);

/* Reads an integer-list attribute into a fixed array of at most `max`;
 * *count = -1 when the attribute is absent. */
int op_read_ints_attr (const op_init_ctx *ctx, const char *name, int max, int64_t *vals,
    int *count, imgrec_error *err);

/* Product of dims with overflow and sign checks; the bytes of the largest
 * storage and every partial product of the non-zero dims stay in range. */
int op_checked_numel (int rank, const int64_t *dims, int64_t *numel, imgrec_error *err);

/* Sets output `out`'s type and shape once its element count is known to be
 * in range: the last step of most infer functions. */
int op_set_checked_shape (ir_tensor *out, imgrec_dtype type, int rank, const int64_t *dims,
    imgrec_error *err);

/* Params of the ops whose only attribute is one axis. */
typedef struct axis_params {
  int64_t axis;
} axis_params;

/* Allocates axis_params with the `axis` attribute, `default_axis` when absent. */
int op_axis_params_init (ir_node *node, const op_init_ctx *ctx, int64_t default_axis,
    imgrec_error *err);

/* An axis that infer has already checked against the rank, in [0, rank). */
static inline int
op_axis_in_rank (int64_t axis, int rank)
{
  return (int) (axis < 0 ? axis + rank : axis);
}

#endif
