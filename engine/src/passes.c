/* Graph passes run once at load, before weights are packed:
 *
 *   1. Identity / inference Dropout removal (consumers read the input).
 *   2. BatchNormalization folded into the preceding Conv's weights and bias.
 *   3. An Add of a Conv's output and another tensor (ResNet's and
 *      MobileNetV2's residual) folded into the Conv as a fourth input, the
 *      "sum" its epilogue adds before the activation and the one store.
 *   4. Activations fused into the epilogue of their producer (ops whose
 *      kernel sets fuses_activation: Conv, Gemm, Add, ...); after 3 this
 *      puts Conv -> Add -> Relu into one node; before them, Sigmoid and Mul
 *      of the same tensor (SiLU) into its producer as one activation.
 *
 * Each pass only rewires value ids and marks nodes removed; the node array
 * is compacted once at the end.  Passes read attributes of the nodes they
 * remove from the ONNX message, since those nodes' params are private to
 * their op family. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "onnx.pb-c.h"

typedef struct pass_ctx {
  imgrec_model *model;
  const Onnx__GraphProto *graph;
  bool *removed;        /* per node */
  int *use_count;       /* per value: number of node inputs reading it */
} pass_ctx;

static void
count_uses (pass_ctx *p)
{
  memset (p->use_count, 0, (size_t) p->model->n_values * sizeof *p->use_count);
  for (int i = 0; i < p->model->n_nodes; i++) {
    if (p->removed[i])
      continue;
    const ir_node *n = &p->model->nodes[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0)
        p->use_count[n->inputs[k]]++;
  }
}

static void
replace_uses (pass_ctx *p, int from, int to)
{
  for (int i = 0; i < p->model->n_nodes; i++) {
    if (p->removed[i])
      continue;
    ir_node *n = &p->model->nodes[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] == from)
        n->inputs[k] = to;
  }
}

/* The single live consumer of value v, or -1. */
static int
only_consumer (pass_ctx *p, int v)
{
  if (p->use_count[v] != 1 || p->model->values[v].graph_output)
    return -1;
  for (int i = 0; i < p->model->n_nodes; i++) {
    if (p->removed[i])
      continue;
    const ir_node *n = &p->model->nodes[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] == v)
        return i;
  }
  return -1;
}

static const Onnx__AttributeProto *
proto_attr (const pass_ctx *p, const ir_node *n, const char *name)
{
  const Onnx__NodeProto *np = p->graph->node[n->source_index];
  for (size_t i = 0; i < np->n_attribute; i++)
    if (np->attribute[i]->name && strcmp (np->attribute[i]->name, name) == 0)
      return np->attribute[i];
  return NULL;
}

static float
attr_float (const pass_ctx *p, const ir_node *n, const char *name, float def)
{
  const Onnx__AttributeProto *a = proto_attr (p, n, name);
  return a && a->has_f ? a->f : def;
}

static int64_t
attr_int (const pass_ctx *p, const ir_node *n, const char *name, int64_t def)
{
  const Onnx__AttributeProto *a = proto_attr (p, n, name);
  return a && a->has_i ? a->i : def;
}

/* Input k's value when it is an initializer or a Constant node's output
 * (whatever its consumers), else NULL. */
static const ir_tensor *
constant_input (const pass_ctx *p, const ir_node *n, int k)
{
  if (k >= n->n_inputs || n->inputs[k] < 0)
    return NULL;
  const ir_value *v = &p->model->values[n->inputs[k]];
  if (v->constant != NULL)
    return v->constant;
  if (v->producer >= 0 && v->producer < p->model->n_nodes && !p->removed[v->producer])
    return ir_constant_node_value (&p->model->nodes[v->producer]);
  return NULL;
}

static bool
is_op (const ir_node *n, const char *op)
{
  return (n->domain[0] == '\0' || strcmp (n->domain, "ai.onnx") == 0)
      && strcmp (n->op_type, op) == 0;
}

static void
remove_identities (pass_ctx *p)
{
  for (int i = 0; i < p->model->n_nodes; i++) {
    ir_node *n = &p->model->nodes[i];
    bool dropout = is_op (n, "Dropout");
    if (!is_op (n, "Identity") && !dropout)
      continue;
    if (n->n_inputs < 1 || n->inputs[0] < 0 || n->outputs[0] < 0)
      continue;
    /* Dropout's mask output, or a training_mode input, keeps the node. */
    if (dropout && (n->n_outputs > 1 && n->outputs[1] >= 0))
      continue;
    if (dropout && n->n_inputs > 2 && n->inputs[2] >= 0)
      continue;
    int out = n->outputs[0];
    if (p->model->values[out].graph_output)
      continue;
    replace_uses (p, out, n->inputs[0]);
    p->removed[i] = true;
  }
}

static ir_tensor *
new_constant (pass_ctx *p, const char *base, const char *suffix, int rank,
    const int64_t *dims, int *value_id)
{
  char name[512];
  snprintf (name, sizeof name, "%s%s", base, suffix);
  int id = ir_model_add_value (p->model, name);
  if (id < 0)
    return NULL;
  ir_tensor *t = calloc (1, sizeof *t);
  if (t == NULL)
    return NULL;
  ir_set_shape (t, IMGREC_DTYPE_FLOAT, rank, dims);
  t->data = malloc (ir_nbytes (t) + 1);
  if (t->data == NULL) {
    free (t);
    return NULL;
  }
  t->owns_data = true;
  t->is_const = true;
  p->model->values[id].constant = t;
  *value_id = id;
  return t;
}

static int
fold_batchnorm_into_conv (pass_ctx *p, imgrec_error *err)
{
  for (int i = 0; i < p->model->n_nodes; i++) {
    ir_node *conv = &p->model->nodes[i];
    if (p->removed[i] || !is_op (conv, "Conv") || conv->n_outputs != 1 || conv->outputs[0] < 0)
      continue;
    const ir_tensor *w = constant_input (p, conv, 1);
    if (w == NULL || w->storage != IR_F32 || w->rank < 3)
      continue;
    const ir_tensor *b = constant_input (p, conv, 2);
    if (conv->n_inputs > 2 && conv->inputs[2] >= 0 && b == NULL)
      continue;
    count_uses (p);
    int bn_index = only_consumer (p, conv->outputs[0]);
    if (bn_index < 0)
      continue;
    ir_node *bn = &p->model->nodes[bn_index];
    if (!is_op (bn, "BatchNormalization") || bn->inputs[0] != conv->outputs[0]
        || bn->n_inputs < 5 || bn->outputs[0] < 0)
      continue;
    bool extra_outputs = false;
    for (int k = 1; k < bn->n_outputs; k++)
      extra_outputs |= bn->outputs[k] >= 0 && p->use_count[bn->outputs[k]] > 0;
    if (extra_outputs || attr_int (p, bn, "training_mode", 0) != 0
        || attr_int (p, bn, "spatial", 1) != 1)
      continue;
    int64_t m = w->dims[0];
    const ir_tensor *scale = constant_input (p, bn, 1), *bias = constant_input (p, bn, 2);
    const ir_tensor *mean = constant_input (p, bn, 3), *var = constant_input (p, bn, 4);
    if (!scale || !bias || !mean || !var)
      continue;
    if (ir_numel (scale) != m || ir_numel (bias) != m || ir_numel (mean) != m
        || ir_numel (var) != m || (b != NULL && ir_numel (b) != m))
      continue;
    if (scale->storage != IR_F32 || bias->storage != IR_F32 || mean->storage != IR_F32
        || var->storage != IR_F32)
      continue;
    float epsilon = attr_float (p, bn, "epsilon", 1e-5f);

    int w_id, b_id;
    ir_tensor *w2 = new_constant (p, conv->name, "/bn_folded_weight", w->rank, w->dims, &w_id);
    ir_tensor *b2 = w2 ? new_constant (p, conv->name, "/bn_folded_bias", 1, &m, &b_id) : NULL;
    if (w2 == NULL || b2 == NULL)
      return ir_fail (err, "out of memory while folding BatchNormalization");
    /* The values array may have moved: re-fetch the inputs. */
    w = constant_input (p, conv, 1);
    b = constant_input (p, conv, 2);
    scale = constant_input (p, bn, 1);
    bias = constant_input (p, bn, 2);
    mean = constant_input (p, bn, 3);
    var = constant_input (p, bn, 4);
    int64_t per_out = ir_numel (w) / m;
    for (int64_t o = 0; o < m; o++) {
      double s = ir_f32 (scale)[o] / sqrt ((double) ir_f32 (var)[o] + epsilon);
      for (int64_t k = 0; k < per_out; k++)
        ir_f32 (w2)[o * per_out + k] = (float) (ir_f32 (w)[o * per_out + k] * s);
      double b0 = b ? ir_f32 (b)[o] : 0.0;
      ir_f32 (b2)[o] = (float) ((b0 - ir_f32 (mean)[o]) * s + ir_f32 (bias)[o]);
    }
    if (conv->n_inputs < 3) {
      int *inputs = ir_model_alloc (p->model, 4 * sizeof (int));
      if (inputs == NULL)
        return ir_fail (err, "out of memory while folding BatchNormalization");
      inputs[0] = conv->inputs[0];
      conv->inputs = inputs;
      conv->n_inputs = 3;
    }
    conv->inputs[1] = w_id;
    conv->inputs[2] = b_id;
    int out = bn->outputs[0];
    conv->outputs[0] = out;
    p->model->values[out].producer = i;
    p->removed[bn_index] = true;
  }
  return 0;
}

/* Conv -> Add: the Add's other operand S becomes the Conv's input 3, added
 * in the epilogue (conv_gemm.c; a broadcasting S takes a slower path in
 * conv.c, so shapes unknown at load are fine).  Only when the Conv's output
 * feeds nothing else, the Conv has no fused activation yet (Add after
 * Relu is not Relu after Add), and S exists before the Conv runs: a
 * constant, a graph input, or the output of an earlier node (nodes are in
 * topological order). */
static int
fuse_residual_add (pass_ctx *p, imgrec_error *err)
{
  count_uses (p);
  for (int i = 0; i < p->model->n_nodes; i++) {
    ir_node *conv = &p->model->nodes[i];
    if (p->removed[i] || !is_op (conv, "Conv") || conv->n_inputs < 2 || conv->n_inputs > 3
        || conv->n_outputs != 1 || conv->outputs[0] < 0 || conv->fused.kind != IR_ACT_NONE)
      continue;
    const int y = conv->outputs[0];
    int a = only_consumer (p, y);
    if (a < 0)
      continue;
    ir_node *add = &p->model->nodes[a];
    /* Add-1 and Add-6 broadcast with attributes (axis, broadcast): skip them. */
    if (!is_op (add, "Add") || add->opset < 7 || add->n_inputs != 2 || add->n_outputs != 1
        || add->outputs[0] < 0 || add->fused.kind != IR_ACT_NONE)
      continue;
    const int other = add->inputs[0] == y ? add->inputs[1] : add->inputs[0];
    if (other < 0 || other == y || (add->inputs[0] != y && add->inputs[1] != y))
      continue;
    const ir_value *s = &p->model->values[other];
    if (s->producer >= i || (s->producer < 0 && s->constant == NULL && s->graph_input < 0))
      continue;
    int *inputs = ir_model_alloc (p->model, 4 * sizeof (int));
    if (inputs == NULL)
      return ir_fail (err, "out of memory while fusing a residual Add");
    inputs[0] = conv->inputs[0];
    inputs[1] = conv->inputs[1];
    inputs[2] = conv->n_inputs > 2 ? conv->inputs[2] : -1;
    inputs[3] = other;
    conv->inputs = inputs;
    conv->n_inputs = 4;
    const int out = add->outputs[0];
    conv->outputs[0] = out;
    p->model->values[out].producer = i;
    p->removed[a] = true;
    p->use_count[y]--;
  }
  return 0;
}

/* Describes node n as a fusable activation; false if it is not one. */
static bool
activation_of (const pass_ctx *p, const ir_node *n, ir_activation *act)
{
  memset (act, 0, sizeof *act);
  if (n->n_inputs < 1 || n->n_outputs < 1 || n->outputs[0] < 0)
    return false;
  if (is_op (n, "Relu")) {
    act->kind = IR_ACT_RELU;
  } else if (is_op (n, "LeakyRelu")) {
    act->kind = IR_ACT_LEAKY_RELU;
    act->alpha = attr_float (p, n, "alpha", 0.01f);
  } else if (is_op (n, "Sigmoid")) {
    act->kind = IR_ACT_SIGMOID;
  } else if (is_op (n, "Tanh")) {
    act->kind = IR_ACT_TANH;
  } else if (is_op (n, "HardSigmoid")) {
    act->kind = IR_ACT_HARD_SIGMOID;
    act->alpha = attr_float (p, n, "alpha", 0.2f);
    act->beta = attr_float (p, n, "beta", 0.5f);
  } else if (is_op (n, "HardSwish")) {
    act->kind = IR_ACT_HARD_SWISH;
  } else if (is_op (n, "Elu")) {
    act->kind = IR_ACT_ELU;
    act->alpha = attr_float (p, n, "alpha", 1.0f);
  } else if (is_op (n, "Clip")) {
    act->kind = IR_ACT_CLIP;
    if (n->opset < 11) {
      act->alpha = attr_float (p, n, "min", -INFINITY);
      act->beta = attr_float (p, n, "max", INFINITY);
    } else {
      act->alpha = -INFINITY;
      act->beta = INFINITY;
      for (int k = 1; k <= 2; k++) {
        if (k >= n->n_inputs || n->inputs[k] < 0)
          continue;
        const ir_tensor *c = constant_input (p, n, k);
        if (c == NULL || c->storage != IR_F32 || ir_numel (c) != 1)
          return false;
        if (k == 1)
          act->alpha = ir_f32 (c)[0];
        else
          act->beta = ir_f32 (c)[0];
      }
    }
  } else {
    return false;
  }
  return true;
}

/* Sigmoid (y) then Mul (y, that) — PyTorch's SiLU (EfficientNet, YOLOv5-8) —
 * into y's producer as IR_ACT_SILU, when y feeds only those two, the
 * sigmoid only the Mul, and the producer fuses activations and has none:
 * one pass over the tensor instead of three (it was a third of
 * EfficientNet-B0's run). */
static void
fuse_silu (pass_ctx *p)
{
  count_uses (p);
  imgrec_model *m = p->model;
  for (int s = 0; s < m->n_nodes; s++) {
    ir_node *sig = &m->nodes[s];
    if (p->removed[s] || !is_op (sig, "Sigmoid") || sig->n_inputs != 1 || sig->inputs[0] < 0
        || sig->n_outputs != 1 || sig->outputs[0] < 0)
      continue;
    const int y = sig->inputs[0], sy = sig->outputs[0];
    if (p->use_count[y] != 2 || m->values[y].graph_output)
      continue;
    const int mi = only_consumer (p, sy);
    if (mi < 0)
      continue;
    ir_node *mul = &m->nodes[mi];
    if (!is_op (mul, "Mul") || mul->n_inputs != 2 || mul->n_outputs != 1
        || mul->outputs[0] < 0 || mul->fused.kind != IR_ACT_NONE
        || !((mul->inputs[0] == y && mul->inputs[1] == sy)
            || (mul->inputs[0] == sy && mul->inputs[1] == y)))
      continue;
    const int pi = m->values[y].producer;
    if (pi < 0 || p->removed[pi])
      continue;
    ir_node *prod = &m->nodes[pi];
    if (!prod->kernel->fuses_activation || prod->fused.kind != IR_ACT_NONE
        || prod->n_outputs != 1 || prod->outputs[0] != y)
      continue;
    prod->fused.kind = IR_ACT_SILU;
    const int out = mul->outputs[0];
    prod->outputs[0] = out;
    m->values[out].producer = pi;
    p->removed[s] = p->removed[mi] = true;
    p->use_count[y] = 0;
    p->use_count[sy] = 0;
  }
}

static void
fuse_activations (pass_ctx *p)
{
  count_uses (p);
  for (int i = 0; i < p->model->n_nodes; i++) {
    ir_node *producer = &p->model->nodes[i];
    if (p->removed[i] || !producer->kernel->fuses_activation
        || producer->fused.kind != IR_ACT_NONE || producer->n_outputs < 1
        || producer->outputs[0] < 0)
      continue;
    bool other_outputs = false;
    for (int k = 1; k < producer->n_outputs; k++)
      other_outputs |= producer->outputs[k] >= 0;
    if (other_outputs)
      continue;
    int a = only_consumer (p, producer->outputs[0]);
    if (a < 0)
      continue;
    ir_node *act_node = &p->model->nodes[a];
    ir_activation act;
    if (act_node->inputs[0] != producer->outputs[0] || !activation_of (p, act_node, &act))
      continue;
    producer->fused = act;
    int out = act_node->outputs[0];
    producer->outputs[0] = out;
    p->model->values[out].producer = i;
    p->removed[a] = true;
  }
}

static int
compact (pass_ctx *p, imgrec_error *err)
{
  imgrec_model *m = p->model;
  int kept = 0;
  for (int i = 0; i < m->n_nodes; i++) {
    if (p->removed[i]) {
      ir_node *n = &m->nodes[i];
      if (n->kernel->free_state != NULL) {
        n->kernel->free_state (n);
      } else {
        free (n->params);
        free (n->packed);
      }
      continue;
    }
    m->nodes[kept++] = m->nodes[i];
  }
  m->n_nodes = kept;
  for (int v = 0; v < m->n_values; v++)
    m->values[v].producer = -1;
  for (int i = 0; i < m->n_nodes; i++)
    for (int k = 0; k < m->nodes[i].n_outputs; k++)
      if (m->nodes[i].outputs[k] >= 0)
        m->values[m->nodes[i].outputs[k]].producer = i;
  /* Drop constants nothing reads any more (weights replaced by folding). */
  p->removed = realloc (p->removed, (size_t) m->n_nodes + 1);
  memset (p->removed, 0, (size_t) m->n_nodes + 1);
  int *uses = calloc ((size_t) m->n_values + 1, sizeof *uses);
  if (uses == NULL)
    return ir_fail (err, "out of memory");
  free (p->use_count);
  p->use_count = uses;
  count_uses (p);
  for (int v = 0; v < m->n_values; v++)
    if (m->values[v].constant && p->use_count[v] == 0 && !m->values[v].graph_output) {
      ir_tensor_free (m->values[v].constant);
      m->values[v].constant = NULL;
    }
  return 0;
}

int
ir_run_passes (imgrec_model *model, const void *graph_proto, imgrec_error *err)
{
  pass_ctx p = { .model = model, .graph = graph_proto };
  p.removed = calloc ((size_t) model->n_nodes + 1, sizeof *p.removed);
  p.use_count = calloc ((size_t) model->n_values + 1, sizeof *p.use_count);
  int rc = -1;
  if (p.removed == NULL || p.use_count == NULL) {
    ir_fail (err, "out of memory");
    goto out;
  }
  remove_identities (&p);
  /* fold_batchnorm adds values: grow use_count as needed. */
  free (p.use_count);
  p.use_count = calloc ((size_t) model->n_values + 2 * model->n_nodes + 1, sizeof *p.use_count);
  if (p.use_count == NULL) {
    ir_fail (err, "out of memory");
    goto out;
  }
  if (fold_batchnorm_into_conv (&p, err) < 0 || fuse_residual_add (&p, err) < 0)
    goto out;
  fuse_silu (&p);
  fuse_activations (&p);
  rc = compact (&p, err);
out:
  free (p.removed);
  free (p.use_count);
  return rc;
}
