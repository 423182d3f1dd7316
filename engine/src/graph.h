/* The loaded model: values (every named tensor of the graph), nodes in
 * topological order, graph inputs/outputs and metadata.  Immutable after
 * imgrec_model_load returns. */
#ifndef IMGREC_GRAPH_H
#define IMGREC_GRAPH_H

#include "op.h"

typedef struct ir_value {
  char *name;
  ir_tensor *constant;     /* initializer (owned), or NULL */
  int producer;            /* node index, or -1 */
  int graph_input;         /* index into model inputs, or -1 */
  bool graph_output;
} ir_value;

/* Allocations that live as long as the model (names, attribute copies). */
typedef struct ir_pool_block ir_pool_block;

struct imgrec_model {
  int n_values, cap_values;
  ir_value *values;
  int n_nodes;
  ir_node *nodes;
  int n_inputs;
  int *input_values;
  imgrec_tensor_info *input_info;
  int n_outputs;
  int *output_values;
  imgrec_tensor_info *output_info;
  int n_meta;
  char **meta_keys;
  char **meta_values;
  int64_t ir_version;
  int64_t opset;
  char *producer;
  ir_pool_block *allocations;
};

/* Model-lifetime allocation (zeroed); NULL when out of memory. */
void *ir_model_alloc (imgrec_model *model, size_t size);
char *ir_model_strdup (imgrec_model *model, const char *s);

/* Appends a value; returns its id or -1 when out of memory. */
int ir_model_add_value (imgrec_model *model, const char *name);

void ir_tensor_free (ir_tensor *t);

/* After prepare: frees the data of constants that every consumer packed
 * (ir_node.packed_inputs) and that are no graph output; shapes stay.  The
 * _inputs form looks only at one node's packed inputs: called right after
 * each node's prepare, so a model never holds all its weights twice (a
 * constant a later node still has to pack is not released: its bit is
 * not set yet). */
void ir_model_release_packed_constants (imgrec_model *model);
void ir_model_release_packed_inputs (imgrec_model *model, const ir_node *node);

/* Graph passes (passes.c), run once at load before weights are packed. */
int ir_run_passes (imgrec_model *model, const void *graph_proto, imgrec_error *err);

#endif
