/* The operator interface: what one ONNX op implementation provides.
 *
 * An op family lives in one file under engine/ops/ and exports a
 * NULL-terminated array of `const op_kernel *` (see ops/registry.c).  The
 * engine calls, per node:
 *
 *   init     at load: parse and check attributes into node->params.
 *   prepare  at load, after graph passes: prepack constant weights into
 *            node->packed (optional).
 *   infer    when a session is planned (input shapes known): set each output's
 *            type and shape, and the scratch bytes the run needs.  It may read
 *            the data of input i only if bit i of `needs_input_data` is set;
 *            that input then holds data (constant, or computed earlier in a
 *            dynamic session).
 *   run      compute.  Outputs are preallocated with the inferred shapes.
 *
 * Absent optional inputs/outputs are NULL in the in[]/out[] arrays.
 * All functions return 0 on success, -1 with a sentence in the error.
 * Messages need not name the node: the engine prefixes "node NAME (OP): ".
 */
#ifndef IMGREC_OP_H
#define IMGREC_OP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "tensor.h"
#include "threadpool.h"

typedef struct op_kernel op_kernel;

/* An activation fused into a producer's epilogue (conv, gemm, ...). */
typedef enum ir_activation_kind {
  IR_ACT_NONE = 0,
  IR_ACT_RELU,
  IR_ACT_CLIP,          /* alpha = min, beta = max */
  IR_ACT_LEAKY_RELU,    /* alpha */
  IR_ACT_SIGMOID,
  IR_ACT_TANH,
  IR_ACT_HARD_SIGMOID,  /* alpha, beta */
  IR_ACT_HARD_SWISH,
  IR_ACT_ELU,           /* alpha */
  IR_ACT_SILU,          /* x * sigmoid (x): PyTorch's SiLU, exported as Sigmoid and Mul */
} ir_activation_kind;

typedef struct ir_activation {
  ir_activation_kind kind;
  float alpha, beta;
} ir_activation;

/* Applies the activation in place to n floats (vectorised where it matters). */
void ir_activation_apply (const ir_activation *act, float *x, int64_t n);

typedef struct ir_node {
  const char *name;          /* node name, or "OpType#index" when unnamed */
  const char *op_type;
  const char *domain;        /* "" for the default ONNX domain */
  int opset;                 /* opset version the model imports for the domain */
  const op_kernel *kernel;
  int n_inputs, n_outputs;
  int *inputs;               /* value ids; -1 for an absent optional input */
  int *outputs;              /* value ids; -1 for an absent optional output */
  void *params;              /* op-specific attributes, set by init */
  void *packed;              /* op-specific prepacked weights, set by prepare */
  uint32_t packed_inputs;    /* bit i: prepare packed constant input i and run never
                                reads its data; the loader frees that data when no
                                other node or graph output needs it (shape kept) */
  ir_activation fused;       /* applied by run to every output element */
  int source_index;          /* position in the ONNX file's node list */
} ir_node;

/* Attribute access during init (implemented by the loader). */
typedef struct op_init_ctx op_init_ctx;
bool op_attr_has (const op_init_ctx *ctx, const char *name);
int64_t op_attr_int (const op_init_ctx *ctx, const char *name, int64_t def);
float op_attr_float (const op_init_ctx *ctx, const char *name, float def);
/* NUL-terminated copy owned by the model; `def` when absent. */
const char *op_attr_string (const op_init_ctx *ctx, const char *name, const char *def);
/* Number of values (pointer in *vals, owned by the model), or -1 if absent. */
int op_attr_ints (const op_init_ctx *ctx, const char *name, const int64_t **vals);
int op_attr_floats (const op_init_ctx *ctx, const char *name, const float **vals);
/* Number of strings (NUL-terminated copies owned by the model), or -1 if absent. */
int op_attr_strings (const op_init_ctx *ctx, const char *name, const char *const **vals);
/* Tensor attribute: 1 and *out filled (out owns its data) if present,
 * 0 if absent, -1 with err if malformed. */
int op_attr_tensor (const op_init_ctx *ctx, const char *name, ir_tensor *out,
    imgrec_error *err);
/* Whether input i is present and a constant (initializer) at load. */
bool op_input_is_const (const op_init_ctx *ctx, int i);

typedef struct op_infer_ctx {
  int threads;               /* threads of the session's pool */
  size_t scratch_bytes;      /* out: scratch the run needs (all threads) */
  imgrec_error *err;
} op_infer_ctx;

typedef struct op_run_ctx {
  ir_tensor *const *in;
  ir_tensor *const *out;
  void *scratch;             /* 64-byte aligned, scratch_bytes from infer */
  size_t scratch_bytes;
  ir_thread_pool *pool;
  imgrec_error *err;
} op_run_ctx;

struct op_kernel {
  const char *op_type;
  const char *domain;        /* "" = ai.onnx */
  int since_version;         /* chosen: highest since_version <= model opset */
  uint32_t needs_input_data; /* bit i: infer reads input i's values */
  bool fuses_activation;     /* run applies node->fused */
  bool reads_only_shapes;    /* run reads input shapes, never input data
                                (Shape, Size): folded whenever shapes are known */
  int (*init) (ir_node *node, const op_init_ctx *ctx, imgrec_error *err);
  /* `in` holds only the constant inputs (others NULL). */
  int (*prepare) (ir_node *node, ir_tensor *const *in, imgrec_error *err);
  int (*infer) (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
      op_infer_ctx *ctx);
  int (*run) (const ir_node *node, const op_run_ctx *ctx);
  /* Optional, for the profiler: the algorithm and kernel run would choose
   * for these inputs (e.g. "im2col+sgemm avx512 12x32, packed"). */
  void (*describe) (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
      char *buf, size_t size);
  /* Frees params/packed; when NULL the engine calls free() on both. */
  void (*free_state) (ir_node *node);
  /* Optional (Concat): true when each input k, placed at byte offset
   * offsets[k] of output 0, is already that output's data, so that the
   * planner may let the producers write there and the run copies nothing
   * (the run must skip an input whose data is already in place). */
  bool (*inputs_in_output) (const ir_node *node, ir_tensor *const *in, const ir_tensor *out,
      size_t *offsets);
};

/* Normalizes a possibly negative axis into [0, rank); -1 with err if out of range. */
int ir_normalize_axis (int64_t axis, int rank, int *out, imgrec_error *err);

/* Numpy (multidirectional) broadcasting of two shapes; -1 with err if incompatible. */
int ir_broadcast_shapes (int rank_a, const int64_t *dims_a, int rank_b,
    const int64_t *dims_b, int *rank_out, int64_t *dims_out, imgrec_error *err);

/* The value a Constant node (ops/tensor.c) produces, NULL for any other
 * node: lets the graph passes read Constant-node operands (PyTorch exports
 * Clip's bounds as Constant nodes, not initializers). */
const ir_tensor *ir_constant_node_value (const ir_node *node);

/* Finds the kernel for an op; NULL when not supported. */
const op_kernel *ir_find_kernel (const char *domain, const char *op_type, int opset);

#endif
