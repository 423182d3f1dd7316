#include "graph.h"

#include <stdlib.h>
#include <string.h>

struct ir_pool_block {
  ir_pool_block *next;
  max_align_t data[];
};

void *
ir_model_alloc (imgrec_model *model, size_t size)
{
  ir_pool_block *block = calloc (1, sizeof *block + size);
  if (block == NULL)
    return NULL;
  block->next = model->allocations;
  model->allocations = block;
  return block->data;
}

char *
ir_model_strdup (imgrec_model *model, const char *s)
{
  size_t n = strlen (s);
  char *copy = ir_model_alloc (model, n + 1);
  if (copy != NULL)
    memcpy (copy, s, n + 1);
  return copy;
}

int
ir_model_add_value (imgrec_model *model, const char *name)
{
  if (model->n_values == model->cap_values) {
    int cap = model->cap_values ? model->cap_values * 2 : 64;
    ir_value *values = realloc (model->values, (size_t) cap * sizeof *values);
    if (values == NULL)
      return -1;
    model->values = values;
    model->cap_values = cap;
  }
  ir_value *v = &model->values[model->n_values];
  memset (v, 0, sizeof *v);
  v->name = ir_model_strdup (model, name);
  if (v->name == NULL)
    return -1;
  v->producer = -1;
  v->graph_input = -1;
  return model->n_values++;
}

void
ir_tensor_free (ir_tensor *t)
{
  if (t == NULL)
    return;
  if (t->owns_data)
    free (t->data);
  free (t);
}

/* Frees constant v's data when every node reading it packed it. */
static void
release_if_packed (imgrec_model *model, int v)
{
  ir_tensor *t = model->values[v].constant;
  if (t == NULL || t->data == NULL || !t->owns_data || model->values[v].graph_output)
    return;
  bool used = false, packed = false;
  for (int i = 0; i < model->n_nodes && !used; i++) {
    const ir_node *node = &model->nodes[i];
    for (int k = 0; k < node->n_inputs; k++) {
      if (node->inputs[k] != v)
        continue;
      if (k < 32 && (node->packed_inputs & (1u << k)))
        packed = true;
      else
        used = true;
    }
  }
  if (packed && !used) {
    free (t->data);
    t->data = NULL;
    t->owns_data = false;
  }
}

void
ir_model_release_packed_constants (imgrec_model *model)
{
  for (int v = 0; v < model->n_values; v++)
    release_if_packed (model, v);
}

void
ir_model_release_packed_inputs (imgrec_model *model, const ir_node *node)
{
  for (int k = 0; k < node->n_inputs && k < 32; k++)
    if ((node->packed_inputs & (1u << k)) && node->inputs[k] >= 0)
      release_if_packed (model, node->inputs[k]);
}

void
imgrec_model_free (imgrec_model *model)
{
  if (model == NULL)
    return;
  for (int i = 0; i < model->n_nodes; i++) {
    ir_node *node = &model->nodes[i];
    if (node->kernel != NULL && node->kernel->free_state != NULL) {
      node->kernel->free_state (node);
    } else {
      free (node->params);
      free (node->packed);
    }
  }
  for (int i = 0; i < model->n_values; i++)
    ir_tensor_free (model->values[i].constant);
  free (model->values);
  free (model->nodes);
  while (model->allocations != NULL) {
    ir_pool_block *next = model->allocations->next;
    free (model->allocations);
    model->allocations = next;
  }
  free (model);
}

int imgrec_model_n_inputs (const imgrec_model *m) { return m->n_inputs; }
int imgrec_model_n_outputs (const imgrec_model *m) { return m->n_outputs; }
int imgrec_model_n_metadata (const imgrec_model *m) { return m->n_meta; }
int64_t imgrec_model_ir_version (const imgrec_model *m) { return m->ir_version; }
int64_t imgrec_model_opset (const imgrec_model *m) { return m->opset; }
const char *imgrec_model_producer (const imgrec_model *m) { return m->producer; }

const imgrec_tensor_info *
imgrec_model_input (const imgrec_model *m, int index)
{
  return index >= 0 && index < m->n_inputs ? &m->input_info[index] : NULL;
}

const imgrec_tensor_info *
imgrec_model_output (const imgrec_model *m, int index)
{
  return index >= 0 && index < m->n_outputs ? &m->output_info[index] : NULL;
}

int
imgrec_model_input_index (const imgrec_model *m, const char *name)
{
  for (int i = 0; i < m->n_inputs; i++)
    if (strcmp (m->input_info[i].name, name) == 0)
      return i;
  return -1;
}

int
imgrec_model_output_index (const imgrec_model *m, const char *name)
{
  for (int i = 0; i < m->n_outputs; i++)
    if (strcmp (m->output_info[i].name, name) == 0)
      return i;
  return -1;
}

const char *
imgrec_model_metadata_key (const imgrec_model *m, int index)
{
  return index >= 0 && index < m->n_meta ? m->meta_keys[index] : NULL;
}

const char *
imgrec_model_metadata_value (const imgrec_model *m, int index)
{
  return index >= 0 && index < m->n_meta ? m->meta_values[index] : NULL;
}

const char *
imgrec_model_metadata_lookup (const imgrec_model *m, const char *key)
{
  for (int i = 0; i < m->n_meta; i++)
    if (strcmp (m->meta_keys[i], key) == 0)
      return m->meta_values[i];
  return NULL;
}
