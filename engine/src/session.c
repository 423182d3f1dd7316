/* Sessions: planning and execution of a shared model for one stream.
 *
 * Planning happens on the first run and whenever an input shape changes:
 * every node's output shape is inferred in topological order; nodes whose
 * inputs are all constant (weights, Shape of a known input, ...) are run
 * right away and their outputs become constants (constant folding of
 * shape-computing subgraphs); the other nodes are scheduled, and their
 * outputs get offsets in one arena from the liveness planner.  A run then
 * executes only the scheduled nodes, without allocating.
 *
 * A model whose shapes depend on data computed at run time (a Reshape whose
 * shape comes from a non-constant tensor) cannot be planned ahead: the
 * session switches to dynamic mode, where every run infers and executes
 * node by node into per-tensor buffers that only grow.
 *
 * Threads: a session asked for a fixed number keeps it; any other takes,
 * at each run, its share of the process's thread budget (thread_budget.c)
 * as the width of a pool sized for the whole budget.  Such a budgeted
 * session also runs in an arena leased for the run from the budget's
 * shared ones, tensors and scratch together (a stream's largest memory
 * after the weights); its graph outputs, read after the run, get a buffer
 * of their own, and planning (which folds constants) uses a private
 * scratch that is freed once the plan is made. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph.h"
#include "onnx_tensor.h"
#include "plan.h"
#include "profile.h"
#include "thread_budget.h"

#define IR_IO_PADDING 16
#define MAX_NODE_IO (2 * 64 + IR_IO_PADDING)

struct imgrec_session {
  const imgrec_model *model;
  int threads;                /* the pool's size: what scratch is planned for */
  int last_run_threads;       /* the width of the last run */
  bool joined;                /* s->budget is in the budget's list */
  ir_thread_pool *pool;
  ir_budget_member budget;
  ir_tensor *values;          /* per value: shape, type and data pointer */
  void **value_buf;           /* per value: owned buffer (folded / dynamic) */
  size_t *value_cap;
  bool *scheduled;            /* per node */
  /* graph inputs as given by set_input */
  ir_tensor *inputs;
  size_t *input_cap;
  bool shapes_changed;
  bool planned;
  bool dynamic;
  uint8_t *arena;
  size_t arena_cap;
  /* budgeted sessions: the planned values that live in the leased arena */
  bool leases_arena;
  size_t lease_bytes;         /* tensors, then scratch */
  size_t lease_tensor_bytes;
  int n_leased;
  int *leased_value;
  size_t *leased_offset;
  uint8_t *outputs;           /* graph outputs of a leasing session */
  size_t outputs_cap;
  void *scratch;
  size_t scratch_cap;
  /* a leasing session's scratch: its size, and its place during a run */
  size_t scratch_need;
  void *run_scratch;
  size_t memory_limit;        /* bytes for inputs, tensors and scratch */
  size_t allocated;
  /* profiling (imgrec_session_set_profiling, IMGREC_PROFILE) */
  bool profiling;
  bool profile_to_stderr;     /* IMGREC_PROFILE: report when freed */
  double *node_ns;            /* per node: accumulated wall time */
  double *node_min_ns;        /* per node: fastest run (robust on a loaded machine) */
  long long profile_runs;
};

static void *
aligned_alloc_64 (size_t size)
{
  void *p = NULL;
  if (posix_memalign (&p, 64, size ? size : 64) != 0)
    return NULL;
  return p;
}

/* Grows an aligned session buffer to at least `size` bytes (contents not
 * kept), within the session's memory limit. */
static int
ensure_capacity (imgrec_session *s, void **buf, size_t *cap, size_t size, imgrec_error *err)
{
  if (*buf != NULL && *cap >= size)
    return 0;
  if (size > s->memory_limit || s->allocated - *cap > s->memory_limit - size)
    return ir_fail (err, "the model needs more than the session's memory limit of %zu MiB "
        "for its tensors (a request of %zu MiB); raise imgrec_session_options.max_memory_bytes "
        "if this is intended", s->memory_limit >> 20, size >> 20);
  free (*buf);
  s->allocated -= *cap;
  *buf = aligned_alloc_64 (size);
  *cap = *buf ? size : 0;
  s->allocated += *cap;
  if (*buf == NULL)
    return ir_fail (err, "out of memory allocating %zu bytes", size);
  return 0;
}

imgrec_session *
imgrec_session_new (const imgrec_model *model, const imgrec_session_options *options,
    imgrec_error *err)
{
  if (model == NULL) {
    ir_fail (err, "no model given");
    return NULL;
  }
  imgrec_session *s = calloc (1, sizeof *s);
  if (s == NULL) {
    ir_fail (err, "out of memory");
    return NULL;
  }
  s->model = model;
  int fixed = options && options->threads > 0 ? options->threads : 0;
  int threads = fixed > 0 ? fixed : ir_thread_budget ();
  if (threads > 256)
    threads = 256;
  s->threads = threads;
  s->last_run_threads = threads;
  s->memory_limit = options && options->max_memory_bytes > 0 ? options->max_memory_bytes
      : IMGREC_DEFAULT_MEMORY_LIMIT;
  s->pool = threads > 1 ? ir_pool_new (threads) : NULL;
  size_t nv = (size_t) model->n_values + 1;
  s->values = calloc (nv, sizeof *s->values);
  s->value_buf = calloc (nv, sizeof *s->value_buf);
  s->value_cap = calloc (nv, sizeof *s->value_cap);
  s->scheduled = calloc ((size_t) model->n_nodes + 1, sizeof *s->scheduled);
  s->inputs = calloc ((size_t) model->n_inputs + 1, sizeof *s->inputs);
  s->input_cap = calloc ((size_t) model->n_inputs + 1, sizeof *s->input_cap);
  s->node_ns = calloc ((size_t) model->n_nodes + 1, sizeof *s->node_ns);
  s->node_min_ns = calloc ((size_t) model->n_nodes + 1, sizeof *s->node_min_ns);
  if (!s->values || !s->value_buf || !s->value_cap || !s->scheduled || !s->inputs
      || !s->input_cap || !s->node_ns || !s->node_min_ns
      || (threads > 1 && s->pool == NULL)) {
    imgrec_session_free (s);
    ir_fail (err, "out of memory creating a session");
    return NULL;
  }
  if (ir_profile_env_enabled ()) {
    s->profiling = true;
    s->profile_to_stderr = true;
  }
  ir_budget_join (&s->budget, fixed > 0 ? threads : 0);
  s->leases_arena = fixed <= 0;
  s->joined = true;
  return s;
}

void
imgrec_session_free (imgrec_session *s)
{
  if (s == NULL)
    return;
  if (s->profile_to_stderr && s->profile_runs > 0)
    imgrec_session_profile_write (s, stderr, NULL);
  if (s->joined)
    ir_budget_leave (&s->budget);
  free (s->node_ns);
  free (s->node_min_ns);
  ir_pool_free (s->pool);
  if (s->value_buf != NULL)
    for (int v = 0; v < s->model->n_values; v++)
      free (s->value_buf[v]);
  if (s->inputs != NULL)
    for (int i = 0; i < s->model->n_inputs; i++)
      free (s->inputs[i].data);
  free (s->values);
  free (s->value_buf);
  free (s->value_cap);
  free (s->scheduled);
  free (s->inputs);
  free (s->input_cap);
  free (s->arena);
  free (s->scratch);
  free (s->outputs);
  free (s->leased_value);
  free (s->leased_offset);
  free (s);
}

/* ---- inputs ---- */

static double
read_element (imgrec_dtype dtype, const void *data, int64_t i)
{
  switch (dtype) {
    case IMGREC_DTYPE_FLOAT: return ((const float *) data)[i];
    case IMGREC_DTYPE_DOUBLE: return ((const double *) data)[i];
    case IMGREC_DTYPE_FLOAT16: return ir_half_to_float (((const uint16_t *) data)[i]);
    case IMGREC_DTYPE_INT64: return (double) ((const int64_t *) data)[i];
    case IMGREC_DTYPE_INT32: return ((const int32_t *) data)[i];
    case IMGREC_DTYPE_INT16: return ((const int16_t *) data)[i];
    case IMGREC_DTYPE_INT8: return ((const int8_t *) data)[i];
    case IMGREC_DTYPE_UINT8: case IMGREC_DTYPE_BOOL: return ((const uint8_t *) data)[i];
    case IMGREC_DTYPE_UINT16: return ((const uint16_t *) data)[i];
    case IMGREC_DTYPE_UINT32: return ((const uint32_t *) data)[i];
    default: return 0;
  }
}

int
imgrec_session_set_input (imgrec_session *s, int index, imgrec_dtype dtype,
    const int64_t *dims, int rank, const void *data, imgrec_error *err)
{
  const imgrec_model *m = s->model;
  if (index < 0 || index >= m->n_inputs)
    return ir_fail (err, "input index %d is out of range (the model has %d inputs)", index,
        m->n_inputs);
  const imgrec_tensor_info *info = &m->input_info[index];
  if (rank < 0 || rank > IMGREC_MAX_RANK)
    return ir_fail (err, "input '%s': rank %d is not supported", info->name, rank);
  if (info->rank >= 0 && rank != info->rank)
    return ir_fail (err, "input '%s' has rank %d in the model but a tensor of rank %d was given",
        info->name, info->rank, rank);
  for (int d = 0; d < rank && info->rank >= 0; d++)
    if (info->dims[d] >= 0 && dims[d] != info->dims[d])
      return ir_fail (err, "input '%s': dimension %d is %lld in the model but %lld was given",
          info->name, d, (long long) info->dims[d], (long long) dims[d]);
  int64_t numel;
  if (ir_checked_numel (rank, dims, &numel, err) < 0)
    return ir_fail_prefix (err, "input '%s': ", info->name);
  ir_storage target = ir_storage_for (info->dtype);
  bool source_ok = dtype == IMGREC_DTYPE_FLOAT || dtype == IMGREC_DTYPE_FLOAT16
      || dtype == IMGREC_DTYPE_DOUBLE || ir_storage_for (dtype) == IR_I64
      || dtype == IMGREC_DTYPE_BOOL;
  if (!source_ok || (dtype == IMGREC_DTYPE_UINT64))
    return ir_fail (err, "input '%s': element type %s cannot be converted to %s", info->name,
        imgrec_dtype_name (dtype), imgrec_dtype_name (info->dtype));
  if (numel > 0 && data == NULL)
    return ir_fail (err, "input '%s': no data given", info->name);

  ir_tensor *t = &s->inputs[index];
  ir_tensor old = *t;
  ir_set_shape (t, info->dtype, rank, dims);
  size_t bytes = (size_t) numel * ir_storage_size (target);
  if (ensure_capacity (s, &t->data, &s->input_cap[index], bytes, err) < 0)
    return ir_fail_prefix (err, "input '%s': ", info->name);
  if (!s->planned || !ir_same_shape (&old, t) || old.storage != t->storage)
    s->shapes_changed = true;
  if (target == IR_F32 && dtype == IMGREC_DTYPE_FLOAT) {
    memcpy (t->data, data, bytes);
  } else if (target == IR_I64 && dtype == IMGREC_DTYPE_INT64) {
    memcpy (t->data, data, bytes);
  } else {
    for (int64_t i = 0; i < numel; i++) {
      double v = read_element (dtype, data, i);
      if (dtype == IMGREC_DTYPE_INT64 && target == IR_F32)
        v = (double) ((const int64_t *) data)[i];
      switch (target) {
        case IR_F32:
          ir_f32 (t)[i] = info->dtype == IMGREC_DTYPE_FLOAT16
              ? ir_half_to_float (ir_float_to_half ((float) v)) : (float) v;
          break;
        case IR_I64:
          ir_i64 (t)[i] = dtype == IMGREC_DTYPE_INT64 ? ((const int64_t *) data)[i] : (int64_t) v;
          break;
        case IR_BOOL: ir_bool (t)[i] = v != 0; break;
        default: break;
      }
    }
  }
  t->is_const = false;
  t->owns_data = false;
  return 0;
}

/* ---- planning ---- */

static int
gather_io (imgrec_session *s, const ir_node *node, ir_tensor **in, ir_tensor **out,
    imgrec_error *err)
{
  for (int k = 0; k < node->n_inputs; k++) {
    int v = node->inputs[k];
    in[k] = v >= 0 ? &s->values[v] : NULL;
    if (in[k] != NULL && in[k]->storage == IR_NONE)
      return ir_fail (err, "node '%s' (%s): input '%s' was not computed", node->name,
          node->op_type, s->model->values[v].name);
  }
  for (int k = 0; k < node->n_outputs; k++)
    out[k] = node->outputs[k] >= 0 ? &s->values[node->outputs[k]] : NULL;
  /* A malformed node may have fewer inputs/outputs than its op expects:
   * kernels then read NULL (absent) rather than stale pointers. */
  for (int k = node->n_inputs; k < node->n_inputs + IR_IO_PADDING; k++)
    in[k] = NULL;
  for (int k = node->n_outputs; k < node->n_outputs + IR_IO_PADDING; k++)
    out[k] = NULL;
  return 0;
}

/* `timed`: a node of the run proper (not one folded while planning), whose
 * time goes into the profile when profiling. */
static int
run_node (imgrec_session *s, const ir_node *node, ir_tensor **in, ir_tensor **out,
    bool timed, imgrec_error *err)
{
  op_run_ctx ctx = {
    .in = in, .out = out,
    .scratch = s->run_scratch ? s->run_scratch : s->scratch,
    .scratch_bytes = s->run_scratch ? s->scratch_need : s->scratch_cap,
    .pool = s->pool, .err = err,
  };
  const bool profile = timed && s->profiling;
  const double start = profile ? ir_profile_now_ns () : 0;
  if (node->kernel->run (node, &ctx) < 0)
    return ir_fail_prefix (err, "node '%s' (%s): ", node->name, node->op_type);
  if (profile) {
    const ptrdiff_t i = node - s->model->nodes;
    const double ns = ir_profile_now_ns () - start;
    s->node_ns[i] += ns;
    /* 0 = no run yet (a node never takes 0 ns on a monotonic clock that moved). */
    if (s->node_min_ns[i] == 0 || ns < s->node_min_ns[i])
      s->node_min_ns[i] = ns;
  }
  return 0;
}

/* Infers, and in dynamic mode (or for constant inputs) executes, every node.
 * Returns 1 when the plan must restart in dynamic mode. */
static int
plan_and_fold (imgrec_session *s, imgrec_error *err)
{
  const imgrec_model *m = s->model;
  for (int v = 0; v < m->n_values; v++) {
    memset (&s->values[v], 0, sizeof s->values[v]);
    if (m->values[v].constant != NULL) {
      s->values[v] = *m->values[v].constant;
      s->values[v].owns_data = false;
      s->values[v].is_const = true;
    }
  }
  for (int i = 0; i < m->n_inputs; i++) {
    if (s->inputs[i].storage == IR_NONE)
      return ir_fail (err, "input '%s' was not set", m->input_info[i].name);
    s->values[m->input_values[i]] = s->inputs[i];
  }
  ir_tensor *in[MAX_NODE_IO], *out[MAX_NODE_IO];
  for (int i = 0; i < m->n_nodes; i++) {
    const ir_node *node = &m->nodes[i];
    s->scheduled[i] = false;
    if (gather_io (s, node, in, out, err) < 0)
      return -1;
    bool all_const = true;
    for (int k = 0; k < node->n_inputs; k++)
      if (in[k] != NULL && !in[k]->is_const)
        all_const = false;
    /* Shapes are all known while planning: Shape/Size fold even on inputs
     * whose data is computed at run time. */
    if (node->kernel->reads_only_shapes)
      all_const = true;
    for (int k = 0; k < node->n_inputs && k < 32; k++)
      if ((node->kernel->needs_input_data & (1u << k)) && in[k] != NULL && !in[k]->is_const
          && !s->dynamic)
        return 1;
    imgrec_error local;
    local.message[0] = '\0';
    op_infer_ctx ictx = { .threads = s->threads, .scratch_bytes = 0, .err = &local };
    if (node->kernel->infer (node, in, out, &ictx) < 0)
      return ir_fail (err, "node '%s' (%s): %s", node->name, node->op_type, local.message);
    for (int k = 0; k < node->n_outputs; k++) {
      if (out[k] == NULL)
        continue;
      int64_t numel;
      if (out[k]->storage == IR_NONE)
        return ir_fail (err, "node '%s' (%s): output %d has no type", node->name,
            node->op_type, k);
      if (ir_checked_numel (out[k]->rank, out[k]->dims, &numel, err) < 0)
        return ir_fail_prefix (err, "node '%s' (%s) output %d: ", node->name, node->op_type, k);
      out[k]->is_const = false;
      out[k]->data = NULL;
    }
    if (ensure_capacity (s, &s->scratch, &s->scratch_cap, ictx.scratch_bytes, err) < 0)
      return ir_fail_prefix (err, "node '%s' (%s) scratch: ", node->name, node->op_type);
    if (all_const || s->dynamic) {
      for (int k = 0; k < node->n_outputs; k++) {
        if (out[k] == NULL)
          continue;
        int v = node->outputs[k];
        if (ensure_capacity (s, &s->value_buf[v], &s->value_cap[v], ir_nbytes (out[k]), err) < 0)
          return ir_fail_prefix (err, "tensor '%s': ", m->values[v].name);
        out[k]->data = s->value_buf[v];
      }
      if (run_node (s, node, in, out, !all_const, err) < 0)
        return -1;
      for (int k = 0; k < node->n_outputs; k++)
        if (out[k] != NULL)
          out[k]->is_const = all_const;
    } else {
      s->scheduled[i] = true;
    }
  }
  return 0;
}

/* Removes the requests r with drop[r] == -1 (drop has *n entries, r
 * elsewhere), compacting reqs and renumbering req_of_value (-1 for the
 * dropped ones). */
static void
drop_requests (ir_buffer_request *reqs, int *n, int *req_of_value, int n_values, int *drop)
{
  int kept = 0;
  for (int r = 0; r < *n; r++)
    if (drop[r] >= 0) {
      reqs[kept] = reqs[r];
      drop[r] = kept++;
    }
  for (int v = 0; v < n_values; v++)
    if (req_of_value[v] >= 0)
      req_of_value[v] = drop[req_of_value[v]];
  *n = kept;
}

/* A leasing session's graph outputs: each gets a place in the session's own
 * outputs buffer (they are read after the run, when the arena is another
 * stream's) and leaves the arena's requests, which are compacted. */
static int
lease_plan (imgrec_session *s, ir_buffer_request *reqs, int *req_of_value, int *n,
    imgrec_error *err)
{
  const imgrec_model *m = s->model;
  size_t out_bytes = 0;
  for (int v = 0; v < m->n_values; v++)
    if (req_of_value[v] >= 0 && m->values[v].graph_output)
      out_bytes += (reqs[req_of_value[v]].size + 63) / 64 * 64;
  if (ensure_capacity (s, (void **) &s->outputs, &s->outputs_cap, out_bytes, err) < 0)
    return ir_fail_prefix (err, "graph outputs: ");
  free (s->leased_value);
  free (s->leased_offset);
  s->leased_value = malloc (((size_t) m->n_values + 1) * sizeof *s->leased_value);
  s->leased_offset = malloc (((size_t) m->n_values + 1) * sizeof *s->leased_offset);
  if (s->leased_value == NULL || s->leased_offset == NULL)
    return ir_fail (err, "out of memory while planning");
  /* -1 for an output's request */
  size_t at = 0;
  int *renumber = malloc (((size_t) *n + 1) * sizeof *renumber);
  if (renumber == NULL)
    return ir_fail (err, "out of memory while planning");
  for (int r = 0; r < *n; r++)
    renumber[r] = r;
  for (int v = 0; v < m->n_values; v++) {
    int r = req_of_value[v];
    if (r >= 0 && m->values[v].graph_output) {
      s->values[v].data = s->outputs + at;
      at += (reqs[r].size + 63) / 64 * 64;
      renumber[r] = -1;
    }
  }
  drop_requests (reqs, n, req_of_value, m->n_values, renumber);
  free (renumber);
  return 0;
}

/* Values whose producer may write them straight into a slice of a
 * consumer's output (op_kernel.inputs_in_output: Concat): parent[v] is that
 * output's value and offset[v] the byte offset, parent[v] = -1 otherwise.
 * Only values computed in the arena by this plan, read as a whole by that
 * one consumer, not graph outputs, not holding such slices themselves
 * (no nesting), each once among the consumer's inputs. */
static void
find_aliases (const imgrec_session *s, int *parent, size_t *offset)
{
  const imgrec_model *m = s->model;
  for (int v = 0; v < m->n_values; v++)
    parent[v] = -1;
  /* 1: a scheduled node's output; 2: also holds slices */
  uint8_t *kind = calloc ((size_t) m->n_values + 1, 1);
  if (kind == NULL)
    return;
  for (int i = 0; i < m->n_nodes; i++) {
    const ir_node *node = &m->nodes[i];
    if (!s->scheduled[i])
      continue;
    if (node->kernel->inputs_in_output != NULL && node->n_outputs >= 1
        && node->outputs[0] >= 0 && node->n_inputs <= MAX_NODE_IO
        && !m->values[node->outputs[0]].graph_output) {
      const int c = node->outputs[0];
      ir_tensor *in[MAX_NODE_IO];
      size_t offs[MAX_NODE_IO];
      bool ok = true;
      for (int k = 0; k < node->n_inputs && ok; k++) {
        const int v = node->inputs[k];
        ok = v >= 0 && v != c && kind[v] == 1 && parent[v] < 0 && !m->values[v].graph_output
            && !s->values[v].is_const;
        for (int j = 0; j < k && ok; j++)
          ok = node->inputs[j] != v;
        in[k] = ok ? (ir_tensor *) &s->values[v] : NULL;
      }
      if (ok && node->kernel->inputs_in_output (node, in, &s->values[c], offs)) {
        for (int k = 0; k < node->n_inputs; k++) {
          parent[node->inputs[k]] = c;
          offset[node->inputs[k]] = offs[k];
        }
        kind[c] = 2;
      }
    }
    for (int k = 0; k < node->n_outputs; k++)
      if (node->outputs[k] >= 0 && kind[node->outputs[k]] == 0)
        kind[node->outputs[k]] = 1;
  }
  free (kind);
}

static int
assign_arena (imgrec_session *s, imgrec_error *err)
{
  const imgrec_model *m = s->model;
  int n = 0;
  ir_buffer_request *reqs = calloc ((size_t) m->n_values + 1, sizeof *reqs);
  int *req_of_value = malloc (((size_t) m->n_values + 1) * sizeof *req_of_value);
  if (reqs == NULL || req_of_value == NULL) {
    free (reqs);
    free (req_of_value);
    return ir_fail (err, "out of memory while planning");
  }
  int *alias = malloc (((size_t) m->n_values + 1) * sizeof *alias);
  size_t *alias_offset = malloc (((size_t) m->n_values + 1) * sizeof *alias_offset);
  if (alias == NULL || alias_offset == NULL) {
    free (reqs);
    free (req_of_value);
    free (alias);
    free (alias_offset);
    return ir_fail (err, "out of memory while planning");
  }
  find_aliases (s, alias, alias_offset);
  for (int v = 0; v < m->n_values; v++)
    req_of_value[v] = -1;
  for (int i = 0; i < m->n_nodes; i++) {
    if (!s->scheduled[i])
      continue;
    const ir_node *node = &m->nodes[i];
    for (int k = 0; k < node->n_outputs; k++) {
      int v = node->outputs[k];
      if (v < 0)
        continue;
      reqs[n].size = ir_nbytes (&s->values[v]);
      reqs[n].first = i;
      reqs[n].last = m->values[v].graph_output ? m->n_nodes : i;
      req_of_value[v] = n++;
    }
    for (int k = 0; k < node->n_inputs; k++) {
      int v = node->inputs[k];
      if (v >= 0 && req_of_value[v] >= 0 && reqs[req_of_value[v]].last < i)
        reqs[req_of_value[v]].last = i;
    }
  }
  /* A value inside its parent's slice: the parent's buffer lives from the
   * first slice written to the last read of any, and the value has none of
   * its own (its request stays, empty, and is dropped by the planner's
   * compaction below). */
  for (int v = 0; v < m->n_values; v++) {
    if (alias[v] < 0 || req_of_value[v] < 0 || req_of_value[alias[v]] < 0)
      continue;
    ir_buffer_request *rv = &reqs[req_of_value[v]], *rc = &reqs[req_of_value[alias[v]]];
    if (rv->first < rc->first)
      rc->first = rv->first;
    if (rv->last > rc->last)
      rc->last = rv->last;
  }
  {
    int *renumber = malloc (((size_t) n + 1) * sizeof *renumber);
    if (renumber == NULL) {
      free (reqs);
      free (req_of_value);
      free (alias);
      free (alias_offset);
      return ir_fail (err, "out of memory while planning");
    }
    for (int r = 0; r < n; r++)
      renumber[r] = r;
    for (int v = 0; v < m->n_values; v++)
      if (alias[v] >= 0 && req_of_value[v] >= 0 && req_of_value[alias[v]] >= 0)
        renumber[req_of_value[v]] = -1;
    drop_requests (reqs, &n, req_of_value, m->n_values, renumber);
    free (renumber);
  }
  size_t total = 0;
  int rc = s->leases_arena ? lease_plan (s, reqs, req_of_value, &n, err) : 0;
  if (rc == 0 && ir_plan_offsets (reqs, n, &total) < 0)
    rc = ir_fail (err, "out of memory while planning");
  if (rc == 0 && s->leases_arena) {
    /* the scratch moves into the lease, after the tensors */
    s->scratch_need = s->scratch_cap;
    total = (total + 63) / 64 * 64;
    free (s->scratch);
    s->allocated -= s->scratch_cap;
    s->scratch = NULL;
    s->scratch_cap = 0;
    s->lease_tensor_bytes = total;
    total += s->scratch_need;
    if (total > s->memory_limit || s->allocated > s->memory_limit - total)
      rc = ir_fail (err, "the model needs more than the session's memory limit of %zu MiB "
          "for its tensors (an arena of %zu MiB); raise imgrec_session_options.max_memory_bytes "
          "if this is intended", s->memory_limit >> 20, total >> 20);
    s->lease_bytes = total;
    s->n_leased = 0;
    for (int v = 0; rc == 0 && v < m->n_values; v++) {
      const int home = alias[v] >= 0 ? alias[v] : v;
      if (req_of_value[home] >= 0 && (alias[v] >= 0 || req_of_value[v] >= 0)) {
        s->leased_value[s->n_leased] = v;
        s->leased_offset[s->n_leased++] = reqs[req_of_value[home]].offset
            + (alias[v] >= 0 ? alias_offset[v] : 0);
      }
    }
  } else if (rc == 0) {
    if (ensure_capacity (s, (void **) &s->arena, &s->arena_cap, total, err) < 0)
      rc = ir_fail_prefix (err, "tensor arena: ");
    for (int v = 0; rc == 0 && v < m->n_values; v++) {
      const int home = alias[v] >= 0 ? alias[v] : v;
      if (req_of_value[home] >= 0 && (alias[v] >= 0 || req_of_value[v] >= 0))
        s->values[v].data = s->arena + reqs[req_of_value[home]].offset
            + (alias[v] >= 0 ? alias_offset[v] : 0);
    }
  }
  free (reqs);
  free (req_of_value);
  free (alias);
  free (alias_offset);
  return rc;
}

static int
plan (imgrec_session *s, imgrec_error *err)
{
  s->planned = false;
  int rc = plan_and_fold (s, err);
  if (rc == 1) {
    s->dynamic = true;
    rc = plan_and_fold (s, err);
  }
  if (rc < 0)
    return -1;
  if (!s->dynamic && assign_arena (s, err) < 0)
    return -1;
  s->planned = true;
  s->shapes_changed = false;
  return 0;
}

static int session_run (imgrec_session *s, imgrec_error *err);

int
imgrec_session_run (imgrec_session *s, imgrec_error *err)
{
  if (s == NULL)
    return ir_fail (err, "no session");
  int width = ir_budget_begin_run (&s->budget);
  ir_pool_set_width (s->pool, width);
  s->last_run_threads = ir_pool_threads (s->pool);
  int rc = session_run (s, err);
  ir_budget_end_run (&s->budget);
  return rc;
}

int
imgrec_session_threads (const imgrec_session *s)
{
  return s == NULL ? 0 : s->last_run_threads;
}

size_t
imgrec_session_memory (const imgrec_session *s, size_t *arena, size_t *scratch)
{
  if (arena)
    *arena = s == NULL ? 0 : s->leases_arena ? s->lease_tensor_bytes : s->arena_cap;
  if (scratch)
    *scratch = s == NULL ? 0 : s->leases_arena ? s->scratch_need : s->scratch_cap;
  return s ? s->allocated : 0;
}

static int
session_run (imgrec_session *s, imgrec_error *err)
{
  if (s->dynamic) {
    /* plan_and_fold executes every node in dynamic mode. */
    for (int i = 0; i < s->model->n_inputs; i++)
      s->values[s->model->input_values[i]] = s->inputs[i];
    s->shapes_changed = false;
    if (plan_and_fold (s, err) < 0) {
      s->planned = false;
      return -1;
    }
    s->planned = true;
    s->profile_runs += s->profiling;
    return 0;
  }
  if (!s->planned || s->shapes_changed) {
    if (plan (s, err) < 0)
      return -1;
    if (s->dynamic)
      return 0;   /* the plan already executed the graph */
  }
  const imgrec_model *m = s->model;
  /* Input buffers may have been reallocated by set_input with the same shape. */
  for (int i = 0; i < m->n_inputs; i++)
    s->values[m->input_values[i]].data = s->inputs[i].data;
  int slot = -1;
  if (s->leases_arena) {
    void *arena = NULL;
    slot = ir_budget_lease_arena (s->lease_bytes, &arena);
    if (slot < 0)
      return ir_fail (err, "out of memory for a tensor arena of %zu bytes", s->lease_bytes);
    for (int k = 0; k < s->n_leased; k++)
      s->values[s->leased_value[k]].data = (uint8_t *) arena + s->leased_offset[k];
    s->run_scratch = (uint8_t *) arena + s->lease_tensor_bytes;
  }
  int rc = 0;
  ir_tensor *in[MAX_NODE_IO], *out[MAX_NODE_IO];
  for (int i = 0; i < m->n_nodes && rc == 0; i++) {
    if (!s->scheduled[i])
      continue;
    const ir_node *node = &m->nodes[i];
    if (gather_io (s, node, in, out, err) < 0
        || run_node (s, node, in, out, true, err) < 0)
      rc = -1;
  }
  ir_budget_return_arena (slot);
  s->run_scratch = NULL;
  if (rc == 0)
    s->profile_runs += s->profiling;
  return rc;
}

void
imgrec_session_set_profiling (imgrec_session *s, int enabled)
{
  if (s == NULL)
    return;
  s->profiling = enabled != 0;
  s->profile_runs = 0;
  memset (s->node_ns, 0, (size_t) s->model->n_nodes * sizeof *s->node_ns);
  memset (s->node_min_ns, 0, (size_t) s->model->n_nodes * sizeof *s->node_min_ns);
}

int
imgrec_session_profile_write (const imgrec_session *s, FILE *f, imgrec_error *err)
{
  if (s == NULL || s->profile_runs == 0 || !s->planned)
    return ir_fail (err, "no profiled run (enable profiling, then run the session)");
  const imgrec_model *m = s->model;
  ir_profile_row *rows = calloc ((size_t) m->n_nodes + 1, sizeof *rows);
  if (rows == NULL)
    return ir_fail (err, "out of memory for the profile");
  ir_tensor *in[MAX_NODE_IO], *out[MAX_NODE_IO];
  int n = 0;
  imgrec_error local;
  for (int i = 0; i < m->n_nodes; i++) {
    if (!s->scheduled[i] && !(s->dynamic && s->node_ns[i] > 0))
      continue;
    const ir_node *node = &m->nodes[i];
    ir_profile_row *r = &rows[n++];
    r->node = node;
    r->total_ns = s->node_ns[i];
    r->min_ns = s->node_min_ns[i];
    if (gather_io ((imgrec_session *) s, node, in, out, &local) < 0)
      continue;
    r->flops = ir_profile_node_flops (node, in, out);
    if (node->kernel->describe != NULL)
      node->kernel->describe (node, in, out, r->algo, sizeof r->algo);
    if (out[0] != NULL) {
      size_t len = 0;
      for (int d = 0; d < out[0]->rank && len + 8 < sizeof r->shape; d++)
        len += (size_t) snprintf (r->shape + len, sizeof r->shape - len, "%s%lld",
            d ? "x" : "", (long long) out[0]->dims[d]);
    }
  }
  ir_profile_write (f, rows, n, s->profile_runs, s->last_run_threads);
  free (rows);
  return 0;
}

const void *
imgrec_session_output (const imgrec_session *s, int index, imgrec_tensor_info *info)
{
  if (s == NULL || index < 0 || index >= s->model->n_outputs || !s->planned)
    return NULL;
  const ir_tensor *t = &s->values[s->model->output_values[index]];
  if (info != NULL) {
    memset (info, 0, sizeof *info);
    info->name = s->model->output_info[index].name;
    info->dtype = t->storage == IR_F32 ? IMGREC_DTYPE_FLOAT
        : t->storage == IR_I64 ? IMGREC_DTYPE_INT64 : IMGREC_DTYPE_BOOL;
    info->rank = t->rank;
    for (int d = 0; d < t->rank; d++)
      info->dims[d] = t->dims[d];
  }
  return t->data;
}

int64_t
imgrec_session_output_float (const imgrec_session *s, int index, float *dest,
    int64_t capacity, imgrec_error *err)
{
  imgrec_tensor_info info;
  const void *data = imgrec_session_output (s, index, &info);
  if (data == NULL && (s == NULL || !s->planned))
    return ir_fail (err, "output %d is not available (run the session first)", index);
  if (data == NULL)
    return ir_fail (err, "output index %d is out of range", index);
  const ir_tensor *t = &s->values[s->model->output_values[index]];
  int64_t n = ir_numel (t);
  if (n > capacity)
    return ir_fail (err, "output '%s' has %lld elements but the buffer holds %lld", info.name,
        (long long) n, (long long) capacity);
  for (int64_t i = 0; i < n; i++)
    dest[i] = (float) ir_get_f64 (t, i);
  return n;
}
