/* ONNX file -> imgrec_model.
 *
 * protobuf-c parses the file (it bounds-checks the wire format); this file
 * then validates the graph itself: every tensor's size, every node input
 * names an existing value, no value is produced twice, the graph is acyclic,
 * and every op is known at the model's opset with attributes its init
 * accepts.  The protobuf message is freed before returning: the model keeps
 * only its own copies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checked_file.h"
#include "graph.h"
#include "onnx_tensor.h"

#define MAX_MODEL_FILE_BYTES ((size_t) 2 << 30)

/* ---- name -> value id index (open addressing) ---- */

typedef struct name_index {
  int *slots;      /* value id + 1; 0 = empty */
  size_t mask;
  const imgrec_model *model;
} name_index;

static uint64_t
hash_name (const char *s)
{
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ull;
  return h;
}

static int
index_init (name_index *ix, const imgrec_model *model, size_t expected)
{
  size_t cap = 64;
  while (cap < expected * 2)
    cap *= 2;
  ix->slots = calloc (cap, sizeof *ix->slots);
  ix->mask = cap - 1;
  ix->model = model;
  return ix->slots ? 0 : -1;
}

static int
index_find (const name_index *ix, const char *name)
{
  for (size_t i = hash_name (name) & ix->mask;; i = (i + 1) & ix->mask) {
    int slot = ix->slots[i];
    if (slot == 0)
      return -1;
    if (strcmp (ix->model->values[slot - 1].name, name) == 0)
      return slot - 1;
  }
}

static void
index_put (name_index *ix, const char *name, int id)
{
  size_t i = hash_name (name) & ix->mask;
  while (ix->slots[i] != 0)
    i = (i + 1) & ix->mask;
  ix->slots[i] = id + 1;
}

/* ---- attribute access for op init ---- */

struct op_init_ctx {
  imgrec_model *model;
  const Onnx__NodeProto *proto;
  const ir_node *node;
  const bool *value_is_const;
  char type_error[200];
};

static const Onnx__AttributeProto *
find_attr (const op_init_ctx *ctx, const char *name, int type)
{
  for (size_t i = 0; i < ctx->proto->n_attribute; i++) {
    const Onnx__AttributeProto *a = ctx->proto->attribute[i];
    if (a->name == NULL || strcmp (a->name, name) != 0)
      continue;
    /* Old exporters omit the type field; trust the payload then. */
    if (a->has_type && (int) a->type != type) {
      op_init_ctx *mutable_ctx = (op_init_ctx *) ctx;
      snprintf (mutable_ctx->type_error, sizeof mutable_ctx->type_error,
          "attribute '%s' has the wrong type (%d, expected %d)", name, (int) a->type, type);
      return NULL;
    }
    return a;
  }
  return NULL;
}

bool
op_attr_has (const op_init_ctx *ctx, const char *name)
{
  for (size_t i = 0; i < ctx->proto->n_attribute; i++)
    if (ctx->proto->attribute[i]->name && strcmp (ctx->proto->attribute[i]->name, name) == 0)
      return true;
  return false;
}

int64_t
op_attr_int (const op_init_ctx *ctx, const char *name, int64_t def)
{
  const Onnx__AttributeProto *a = find_attr (ctx, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  return a ? a->i : def;
}

float
op_attr_float (const op_init_ctx *ctx, const char *name, float def)
{
  const Onnx__AttributeProto *a = find_attr (ctx, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  return a ? a->f : def;
}

const char *
op_attr_string (const op_init_ctx *ctx, const char *name, const char *def)
{
  const Onnx__AttributeProto *a = find_attr (ctx, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  if (a == NULL || !a->has_s)
    return def;
  char *copy = ir_model_alloc (ctx->model, a->s.len + 1);
  if (copy == NULL)
    return def;
  memcpy (copy, a->s.data, a->s.len);
  copy[a->s.len] = '\0';
  return copy;
}

int
op_attr_ints (const op_init_ctx *ctx, const char *name, const int64_t **vals)
{
  const Onnx__AttributeProto *a = find_attr (ctx, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  if (a == NULL)
    return -1;
  if (a->n_ints > (1u << 20))
    return -1;
  int64_t *copy = ir_model_alloc (ctx->model, (a->n_ints + 1) * sizeof *copy);
  if (copy == NULL)
    return -1;
  if (a->n_ints > 0)
    memcpy (copy, a->ints, a->n_ints * sizeof *copy);
  *vals = copy;
  return (int) a->n_ints;
}

int
op_attr_floats (const op_init_ctx *ctx, const char *name, const float **vals)
{
  const Onnx__AttributeProto *a = find_attr (ctx, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
  if (a == NULL)
    return -1;
  if (a->n_floats > (1u << 20))
    return -1;
  float *copy = ir_model_alloc (ctx->model, (a->n_floats + 1) * sizeof *copy);
  if (copy == NULL)
    return -1;
  if (a->n_floats > 0)
    memcpy (copy, a->floats, a->n_floats * sizeof *copy);
  *vals = copy;
  return (int) a->n_floats;
}

int
op_attr_strings (const op_init_ctx *ctx, const char *name, const char *const **vals)
{
  const Onnx__AttributeProto *a = find_attr (ctx, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
  if (a == NULL || a->n_strings > (1u << 16))
    return -1;
  char **copy = ir_model_alloc (ctx->model, (a->n_strings + 1) * sizeof *copy);
  if (copy == NULL)
    return -1;
  for (size_t i = 0; i < a->n_strings; i++) {
    copy[i] = ir_model_alloc (ctx->model, a->strings[i].len + 1);
    if (copy[i] == NULL)
      return -1;
    memcpy (copy[i], a->strings[i].data, a->strings[i].len);
    copy[i][a->strings[i].len] = '\0';
  }
  *vals = (const char *const *) copy;
  return (int) a->n_strings;
}

int
op_attr_tensor (const op_init_ctx *ctx, const char *name, ir_tensor *out, imgrec_error *err)
{
  const Onnx__AttributeProto *a = find_attr (ctx, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  if (a == NULL)
    return 0;
  if (a->t == NULL)
    return ir_fail (err, "attribute '%s' holds no tensor", name);
  if (ir_tensor_from_proto (a->t, NULL, out, err) < 0)
    return -1;
  return 1;
}

bool
op_input_is_const (const op_init_ctx *ctx, int i)
{
  if (i < 0 || i >= ctx->node->n_inputs || ctx->node->inputs[i] < 0)
    return false;
  return ctx->value_is_const[ctx->node->inputs[i]];
}

/* ---- graph construction ---- */

static int
fill_info (imgrec_model *model, const Onnx__ValueInfoProto *vi, imgrec_tensor_info *info,
    imgrec_error *err)
{
  memset (info, 0, sizeof *info);
  info->name = ir_model_strdup (model, vi->name ? vi->name : "");
  if (info->name == NULL)
    return ir_fail (err, "out of memory");
  const Onnx__TypeProto *type = vi->type;
  if (type == NULL) {
    /* Some exporters leave types off; the shape is then learnt at run time. */
    info->dtype = IMGREC_DTYPE_FLOAT;
    info->rank = -1;
    return 0;
  }
  if (type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || type->tensor_type == NULL)
    return ir_fail (err, "graph input/output '%s' is not a tensor (sequences, maps and "
        "optionals are not supported)", info->name);
  const Onnx__TypeProto__Tensor *tt = type->tensor_type;
  info->dtype = tt->has_elem_type ? (imgrec_dtype) tt->elem_type : IMGREC_DTYPE_FLOAT;
  if (ir_storage_for (info->dtype) == IR_NONE)
    return ir_fail (err, "graph input/output '%s' has type %s, which the engine does not "
        "support", info->name, imgrec_dtype_name (info->dtype));
  if (tt->shape == NULL) {
    info->rank = -1;     /* unknown rank */
    return 0;
  }
  if (tt->shape->n_dim > IMGREC_MAX_RANK)
    return ir_fail (err, "graph input/output '%s' has rank %zu; at most %d is supported",
        info->name, tt->shape->n_dim, IMGREC_MAX_RANK);
  info->rank = (int) tt->shape->n_dim;
  for (int d = 0; d < info->rank; d++) {
    const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
    info->dims[d] = -1;
    if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
        && dim->dim_value >= 0)
      info->dims[d] = dim->dim_value;
    else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
        && dim->dim_param != NULL)
      info->dim_names[d] = ir_model_strdup (model, dim->dim_param);
  }
  return 0;
}

static const char *
node_display_name (imgrec_model *model, const Onnx__NodeProto *proto, int index)
{
  if (proto->name != NULL && proto->name[0] != '\0')
    return ir_model_strdup (model, proto->name);
  char buf[128];
  snprintf (buf, sizeof buf, "%s#%d", proto->op_type ? proto->op_type : "?", index);
  return ir_model_strdup (model, buf);
}

/* Orders model->nodes so every node comes after the producers of its inputs;
 * fails on a cycle. */
static int
topological_sort (imgrec_model *model, imgrec_error *err)
{
  int n = model->n_nodes;
  int *pending = calloc ((size_t) n + 1, sizeof *pending);
  int *order = malloc (((size_t) n + 1) * sizeof *order);
  /* consumers: CSR lists of node -> nodes that consume its outputs */
  int *count = calloc ((size_t) n + 1, sizeof *count);
  size_t total = 0;
  for (int i = 0; i < n; i++)
    total += (size_t) model->nodes[i].n_inputs;
  int *edges = malloc ((total + 1) * sizeof *edges);
  int *start = calloc ((size_t) n + 2, sizeof *start);
  ir_node *sorted = malloc (((size_t) n + 1) * sizeof *sorted);
  int result = -1;
  if (!pending || !order || !count || !edges || !start || !sorted) {
    ir_fail (err, "out of memory");
    goto out;
  }
  for (int i = 0; i < n; i++)
    for (int k = 0; k < model->nodes[i].n_inputs; k++) {
      int v = model->nodes[i].inputs[k];
      if (v >= 0 && model->values[v].producer >= 0) {
        count[model->values[v].producer]++;
        pending[i]++;
      }
    }
  for (int i = 0; i < n; i++)
    start[i + 1] = start[i] + count[i];
  memset (count, 0, (size_t) n * sizeof *count);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < model->nodes[i].n_inputs; k++) {
      int v = model->nodes[i].inputs[k];
      if (v >= 0 && model->values[v].producer >= 0) {
        int p = model->values[v].producer;
        edges[start[p] + count[p]++] = i;
      }
    }
  int head = 0, tail = 0;
  for (int i = 0; i < n; i++)
    if (pending[i] == 0)
      order[tail++] = i;
  while (head < tail) {
    int i = order[head++];
    for (int e = start[i]; e < start[i + 1]; e++)
      if (--pending[edges[e]] == 0)
        order[tail++] = edges[e];
  }
  if (tail != n) {
    for (int i = 0; i < n; i++)
      if (pending[i] > 0) {
        ir_fail (err, "the graph has a cycle through node '%s'", model->nodes[i].name);
        break;
      }
    goto out;
  }
  int *new_index = count;   /* reuse */
  for (int i = 0; i < n; i++) {
    sorted[i] = model->nodes[order[i]];
    new_index[order[i]] = i;
  }
  memcpy (model->nodes, sorted, (size_t) n * sizeof *sorted);
  for (int v = 0; v < model->n_values; v++)
    if (model->values[v].producer >= 0)
      model->values[v].producer = new_index[model->values[v].producer];
  result = 0;
out:
  free (pending);
  free (order);
  free (count);
  free (edges);
  free (start);
  free (sorted);
  return result;
}

static int
add_graph_values (imgrec_model *model, const Onnx__GraphProto *graph, name_index *ix,
    const char *base_dir, imgrec_error *err)
{
  for (size_t i = 0; i < graph->n_initializer; i++) {
    const Onnx__TensorProto *tp = graph->initializer[i];
    if (tp->name == NULL || tp->name[0] == '\0')
      return ir_fail (err, "initializer %zu has no name", i);
    if (index_find (ix, tp->name) >= 0)
      return ir_fail (err, "initializer '%s' is defined twice", tp->name);
    int id = ir_model_add_value (model, tp->name);
    if (id < 0)
      return ir_fail (err, "out of memory");
    ir_tensor *t = calloc (1, sizeof *t);
    if (t == NULL)
      return ir_fail (err, "out of memory");
    if (ir_tensor_from_proto (tp, base_dir, t, err) < 0) {
      free (t);
      return -1;
    }
    t->is_const = true;
    model->values[id].constant = t;
    index_put (ix, tp->name, id);
  }

  /* Graph inputs that have an initializer are optional to feed: they are not
   * exposed as inputs (IR < 4 exporters list every weight as an input). */
  model->input_values = ir_model_alloc (model, (graph->n_input + 1) * sizeof (int));
  model->input_info = ir_model_alloc (model, (graph->n_input + 1) * sizeof (imgrec_tensor_info));
  if (!model->input_values || !model->input_info)
    return ir_fail (err, "out of memory");
  for (size_t i = 0; i < graph->n_input; i++) {
    const Onnx__ValueInfoProto *vi = graph->input[i];
    if (vi->name == NULL || vi->name[0] == '\0')
      return ir_fail (err, "graph input %zu has no name", i);
    int existing = index_find (ix, vi->name);
    if (existing >= 0) {
      if (model->values[existing].constant != NULL)
        continue;
      return ir_fail (err, "graph input '%s' is listed twice", vi->name);
    }
    int id = ir_model_add_value (model, vi->name);
    if (id < 0)
      return ir_fail (err, "out of memory");
    index_put (ix, vi->name, id);
    int k = model->n_inputs++;
    if (fill_info (model, vi, &model->input_info[k], err) < 0)
      return -1;
    model->input_values[k] = id;
    model->values[id].graph_input = k;
  }
  return 0;
}

static int
compare_attribute_names (const void *a, const void *b)
{
  const Onnx__AttributeProto *x = *(const Onnx__AttributeProto *const *) a;
  const Onnx__AttributeProto *y = *(const Onnx__AttributeProto *const *) b;
  return strcmp (x->name ? x->name : "", y->name ? y->name : "");
}

/* ONNX Runtime and the ONNX checker refuse a node that sets an attribute
 * twice; taking the first one silently would run another model than the one
 * the file describes.  Sorted copy: O(n log n) even for hostile counts. */
static int
check_attribute_names (const ir_node *node, const Onnx__NodeProto *np, imgrec_error *err)
{
  if (np->n_attribute < 2)
    return 0;
  const Onnx__AttributeProto **sorted = malloc (np->n_attribute * sizeof *sorted);
  if (sorted == NULL)
    return ir_fail (err, "out of memory");
  memcpy (sorted, np->attribute, np->n_attribute * sizeof *sorted);
  qsort (sorted, np->n_attribute, sizeof *sorted, compare_attribute_names);
  int result = 0;
  for (size_t a = 1; a < np->n_attribute && result == 0; a++)
    if (compare_attribute_names (&sorted[a - 1], &sorted[a]) == 0)
      result = ir_fail (err, "node '%s' (%s) sets attribute '%s' more than once",
          node->name, node->op_type, sorted[a]->name ? sorted[a]->name : "");
  free (sorted);
  return result;
}

static int
add_nodes (imgrec_model *model, const Onnx__GraphProto *graph, name_index *ix,
    const Onnx__ModelProto *mp, imgrec_error *err)
{
  model->nodes = calloc (graph->n_node + 1, sizeof *model->nodes);
  if (model->nodes == NULL)
    return ir_fail (err, "out of memory");
  /* First pass: create all produced values so inputs may refer to nodes
   * listed later (the graph is sorted afterwards). */
  for (size_t i = 0; i < graph->n_node; i++) {
    const Onnx__NodeProto *np = graph->node[i];
    ir_node *node = &model->nodes[i];
    model->n_nodes = (int) i + 1;
    if (np->op_type == NULL || np->op_type[0] == '\0')
      return ir_fail (err, "node %zu has no op_type", i);
    node->source_index = (int) i;
    node->name = node_display_name (model, np, (int) i);
    node->op_type = ir_model_strdup (model, np->op_type);
    node->domain = ir_model_strdup (model, np->domain ? np->domain : "");
    if (!node->name || !node->op_type || !node->domain)
      return ir_fail (err, "out of memory");
    if (check_attribute_names (node, np, err) < 0)
      return -1;
    if (np->n_input > 64 || np->n_output > 64)
      return ir_fail (err, "node '%s' has too many inputs or outputs", node->name);
    /* RNNs may leave Y unnamed, but a node must produce something. */
    bool any_output = false;
    for (size_t k = 0; k < np->n_output; k++)
      any_output |= np->output[k] != NULL && np->output[k][0] != '\0';
    if (!any_output)
      return ir_fail (err, "node '%s' (%s) has no outputs", node->name, node->op_type);
    node->n_inputs = (int) np->n_input;
    node->n_outputs = (int) np->n_output;
    node->inputs = ir_model_alloc (model, (np->n_input + 1) * sizeof (int));
    node->outputs = ir_model_alloc (model, (np->n_output + 1) * sizeof (int));
    if (!node->inputs || !node->outputs)
      return ir_fail (err, "out of memory");
    for (size_t k = 0; k < np->n_output; k++) {
      const char *out = np->output[k];
      if (out == NULL || out[0] == '\0') {
        node->outputs[k] = -1;
        continue;
      }
      int existing = index_find (ix, out);
      if (existing >= 0)
        return ir_fail (err, "value '%s' is produced twice (again by node '%s')", out,
            node->name);
      int id = ir_model_add_value (model, out);
      if (id < 0)
        return ir_fail (err, "out of memory");
      index_put (ix, out, id);
      model->values[id].producer = (int) i;
      node->outputs[k] = id;
    }
  }
  for (size_t i = 0; i < graph->n_node; i++) {
    const Onnx__NodeProto *np = graph->node[i];
    ir_node *node = &model->nodes[i];
    for (size_t k = 0; k < np->n_input; k++) {
      const char *in = np->input[k];
      if (in == NULL || in[0] == '\0') {
        node->inputs[k] = -1;
        continue;
      }
      int id = index_find (ix, in);
      if (id < 0)
        return ir_fail (err, "node '%s' (%s) reads '%s', which no node, initializer or "
            "graph input provides", node->name, node->op_type, in);
      node->inputs[k] = id;
    }
    /* Opset of the node's domain. */
    int opset = -1;
    for (size_t o = 0; o < mp->n_opset_import; o++) {
      const char *d = mp->opset_import[o]->domain ? mp->opset_import[o]->domain : "";
      const char *nd = node->domain;
      bool same = strcmp (d, nd) == 0
          || ((d[0] == '\0' || strcmp (d, "ai.onnx") == 0)
              && (nd[0] == '\0' || strcmp (nd, "ai.onnx") == 0));
      if (same)
        opset = (int) mp->opset_import[o]->version;
    }
    if (opset < 0) {
      if (node->domain[0] != '\0' && strcmp (node->domain, "ai.onnx") != 0)
        return ir_fail (err, "node '%s' uses domain '%s', which the model does not import",
            node->name, node->domain);
      opset = 1;   /* IR 1-2 models have no opset_import: opset 1 */
    }
    node->opset = opset;
    node->kernel = ir_find_kernel (node->domain, node->op_type, opset);
    if (node->kernel == NULL)
      return ir_fail (err, "unsupported operator %s%s%s (node '%s', opset %d)",
          node->domain[0] ? node->domain : "", node->domain[0] ? "." : "",
          node->op_type, node->name, opset);
    /* Every supported op but Constant reads a first input; checking it here
     * spares each kernel the NULL test. */
    if (strcmp (node->op_type, "Constant") != 0
        && (node->n_inputs < 1 || node->inputs[0] < 0))
      return ir_fail (err, "node '%s' (%s) has no first input", node->name, node->op_type);
  }
  return 0;
}

static int
init_nodes (imgrec_model *model, const Onnx__GraphProto *graph, imgrec_error *err)
{
  bool *is_const = calloc ((size_t) model->n_values + 1, sizeof *is_const);
  if (is_const == NULL)
    return ir_fail (err, "out of memory");
  for (int v = 0; v < model->n_values; v++)
    is_const[v] = model->values[v].constant != NULL;
  int result = 0;
  for (int i = 0; i < model->n_nodes && result == 0; i++) {
    ir_node *node = &model->nodes[i];
    if (node->kernel->init == NULL)
      continue;
    const Onnx__NodeProto *np = graph->node[node->source_index];
    op_init_ctx ctx = { .model = model, .proto = np, .node = node, .value_is_const = is_const };
    imgrec_error local;
    local.message[0] = '\0';
    if (node->kernel->init (node, &ctx, &local) < 0) {
      result = ir_fail (err, "node '%s' (%s): %s", node->name, node->op_type, local.message);
    } else if (ctx.type_error[0] != '\0') {
      result = ir_fail (err, "node '%s' (%s): %s", node->name, node->op_type, ctx.type_error);
    }
  }
  free (is_const);
  return result;
}

static int
prepare_nodes (imgrec_model *model, imgrec_error *err)
{
  ir_tensor *in[64 + 16];
  for (int i = 0; i < model->n_nodes; i++) {
    ir_node *node = &model->nodes[i];
    if (node->kernel->prepare == NULL)
      continue;
    memset (in, 0, sizeof in);
    for (int k = 0; k < node->n_inputs; k++)
      in[k] = node->inputs[k] >= 0 ? model->values[node->inputs[k]].constant : NULL;
    imgrec_error local;
    local.message[0] = '\0';
    if (node->kernel->prepare (node, in, &local) < 0)
      return ir_fail (err, "node '%s' (%s): %s", node->name, node->op_type, local.message);
    ir_model_release_packed_inputs (model, node);
  }
  ir_model_release_packed_constants (model);
  return 0;
}

static int
add_outputs_and_metadata (imgrec_model *model, const Onnx__ModelProto *mp,
    name_index *ix, imgrec_error *err)
{
  const Onnx__GraphProto *graph = mp->graph;
  model->output_values = ir_model_alloc (model, (graph->n_output + 1) * sizeof (int));
  model->output_info = ir_model_alloc (model, (graph->n_output + 1) * sizeof (imgrec_tensor_info));
  if (!model->output_values || !model->output_info)
    return ir_fail (err, "out of memory");
  for (size_t i = 0; i < graph->n_output; i++) {
    const Onnx__ValueInfoProto *vi = graph->output[i];
    int id = vi->name ? index_find (ix, vi->name) : -1;
    if (id < 0)
      return ir_fail (err, "graph output '%s' is not produced by any node",
          vi->name ? vi->name : "");
    if (fill_info (model, vi, &model->output_info[i], err) < 0)
      return -1;
    model->output_values[i] = id;
    model->values[id].graph_output = true;
    model->n_outputs++;
  }
  if (model->n_outputs == 0)
    return ir_fail (err, "the model has no outputs");
  model->meta_keys = ir_model_alloc (model, (mp->n_metadata_props + 1) * sizeof (char *));
  model->meta_values = ir_model_alloc (model, (mp->n_metadata_props + 1) * sizeof (char *));
  if (!model->meta_keys || !model->meta_values)
    return ir_fail (err, "out of memory");
  for (size_t i = 0; i < mp->n_metadata_props; i++) {
    const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
    model->meta_keys[i] = ir_model_strdup (model, e->key ? e->key : "");
    model->meta_values[i] = ir_model_strdup (model, e->value ? e->value : "");
    if (!model->meta_keys[i] || !model->meta_values[i])
      return ir_fail (err, "out of memory");
    model->n_meta++;
  }
  return 0;
}

static imgrec_model *
load_message (const Onnx__ModelProto *mp, const char *base_dir, imgrec_error *err)
{
  if (mp->graph == NULL) {
    ir_fail (err, "the file has no graph: it is not an ONNX model");
    return NULL;
  }
  if (mp->has_ir_version && mp->ir_version > 10) {
    ir_fail (err, "ONNX IR version %lld is newer than this engine understands",
        (long long) mp->ir_version);
    return NULL;
  }
  imgrec_model *model = calloc (1, sizeof *model);
  if (model == NULL) {
    ir_fail (err, "out of memory");
    return NULL;
  }
  model->ir_version = mp->has_ir_version ? mp->ir_version : 0;
  model->producer = ir_model_strdup (model, mp->producer_name ? mp->producer_name : "");
  model->opset = 1;
  for (size_t o = 0; o < mp->n_opset_import; o++) {
    const char *d = mp->opset_import[o]->domain ? mp->opset_import[o]->domain : "";
    if (d[0] == '\0' || strcmp (d, "ai.onnx") == 0)
      model->opset = mp->opset_import[o]->version;
  }
  if (model->opset > 21) {
    ir_fail (err, "opset %lld is newer than this engine supports (up to 21)",
        (long long) model->opset);
    imgrec_model_free (model);
    return NULL;
  }
  const Onnx__GraphProto *graph = mp->graph;
  name_index ix;
  size_t expected = graph->n_initializer + graph->n_input + graph->n_node * 2 + 16;
  for (size_t i = 0; i < graph->n_node; i++)
    expected += graph->node[i]->n_output;
  if (index_init (&ix, model, expected) < 0) {
    ir_fail (err, "out of memory");
    imgrec_model_free (model);
    return NULL;
  }
  int rc = add_graph_values (model, graph, &ix, base_dir, err);
  if (rc == 0)
    rc = add_nodes (model, graph, &ix, mp, err);
  if (rc == 0)
    rc = add_outputs_and_metadata (model, mp, &ix, err);
  free (ix.slots);
  if (rc == 0)
    rc = topological_sort (model, err);
  if (rc == 0)
    rc = init_nodes (model, graph, err);
  if (rc == 0)
    rc = ir_run_passes (model, graph, err);
  if (rc < 0) {
    imgrec_model_free (model);
    return NULL;
  }
  return model;
}

/* Prepacks the weights once the protobuf message is freed: the message held
 * a copy of every initializer, so packing beside it had set the peak (a
 * 5 MB fully connected layer packed while MobileNetV2's 14 MB message was
 * alive: 44.7 -> 49.8 MB). */
static imgrec_model *
prepare_loaded (imgrec_model *model, imgrec_error *err)
{
  if (model != NULL && prepare_nodes (model, err) < 0) {
    imgrec_model_free (model);
    return NULL;
  }
  return model;
}

imgrec_model *
imgrec_model_load_from_memory (const void *data, size_t size, imgrec_error *err)
{
  if (data == NULL || size == 0) {
    ir_fail (err, "the model data is empty");
    return NULL;
  }
  Onnx__ModelProto *mp = onnx__model_proto__unpack (NULL, size, data);
  if (mp == NULL) {
    ir_fail (err, "the data is not a valid ONNX model (protobuf parsing failed: "
        "truncated or corrupt)");
    return NULL;
  }
  imgrec_model *model = load_message (mp, NULL, err);
  onnx__model_proto__free_unpacked (mp, NULL);
  return prepare_loaded (model, err);
}

imgrec_model *
imgrec_model_load (const char *path, imgrec_error *err)
{
  if (path == NULL) {
    ir_fail (err, "no model path given");
    return NULL;
  }
  size_t size = 0;
  uint8_t *data = ir_checked_read (path, "model file", MAX_MODEL_FILE_BYTES, &size, err);
  if (data == NULL)
    return NULL;
  Onnx__ModelProto *mp = onnx__model_proto__unpack (NULL, size, data);
  free (data);
  if (mp == NULL) {
    ir_fail (err, "'%s' is not a valid ONNX model (protobuf parsing failed: truncated or "
        "corrupt file)", path);
    return NULL;
  }
  char base_dir[4096];
  snprintf (base_dir, sizeof base_dir, "%s", path);
  char *slash = strrchr (base_dir, '/');
  if (slash != NULL)
    *slash = '\0';
  else
    snprintf (base_dir, sizeof base_dir, ".");
  imgrec_model *model = load_message (mp, base_dir, err);
  onnx__model_proto__free_unpacked (mp, NULL);
  model = prepare_loaded (model, err);
  if (model == NULL && err != NULL) {
    imgrec_error copy = *err;
    /* bounded parts (a long path is cut, the reason kept) so the sentence fits */
    snprintf (err->message, sizeof err->message, "cannot load '%.200s': %.290s", path,
        copy.message);
  }
  return model;
}
