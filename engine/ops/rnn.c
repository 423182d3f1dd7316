/* Op family: rnn — LSTM, GRU and RNN (ONNX opsets 1, 3 (GRU), 7, 14).
 *
 * One loop skeleton serves the three cells (run_direction):
 *
 *   1. the input projection X·W^T of every timestep in one GEMM (scratch),
 *   2. per timestep one GEMM (a GEMV for batch 1) of the hidden state with
 *      R^T for the whole batch,
 *   3. the cell's gate math per batch row, in short vectorised passes.
 *
 * The cells differ only in step 3 (lstm_step, gru_step, rnn_step) and in
 * GRU's linear_before_reset=0 form, which needs a second GEMM in the middle
 * of the step (the reset gate multiplies the state before R_h).
 *
 * Gate order is ONNX's: LSTM i, o, f, c; GRU z, r, h.  Biases Wb + Rb are
 * folded into one vector at load when B is constant.  Directions of a
 * bidirectional op are independent and run on two threads when worth it.
 *
 * sequence_lens: a batch entry past its length leaves its state as of its
 * last valid step and gets zeros in Y; in the reverse direction it starts at
 * its own last valid step (len - 1).
 *
 * Sigmoid and tanh use the activation family's vector kernels
 * (ir_activation_apply, chosen once per ISA through ir_cpu ()). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "op.h"
#include "sgemm.h"

enum { IN_X, IN_W, IN_R, IN_B, IN_SEQUENCE_LENS, IN_INITIAL_H, IN_INITIAL_C, IN_P };
enum { OUT_Y, OUT_Y_H, OUT_Y_C };

/* Largest hidden/input size accepted. */
#define RNN_MAX_DIM ((int64_t) INT_MAX)

typedef enum rnn_cell { CELL_RNN, CELL_GRU, CELL_LSTM } rnn_cell;

typedef enum rnn_direction { DIR_FORWARD, DIR_REVERSE, DIR_BIDIRECTIONAL } rnn_direction;

/* ---- activation functions ---- */

typedef enum rnn_act_kind {
  ACT_SIGMOID,
  ACT_TANH,
  ACT_RELU,
  ACT_AFFINE,
  ACT_LEAKY_RELU,
  ACT_THRESHOLDED_RELU,
  ACT_SCALED_TANH,
  ACT_HARD_SIGMOID,
  ACT_ELU,
  ACT_SOFTSIGN,
  ACT_SOFTPLUS,
} rnn_act_kind;

typedef struct rnn_act {
  rnn_act_kind kind;
  float alpha, beta;
} rnn_act;

/* Names as ONNX spells them; alpha/beta defaults are those of the ONNX ops
 * of the same name (ScaledTanh and Affine have none there: 1 and 1 / 1 and
 * 0 make them identities of Tanh and x). */
static const struct {
  const char *name;
  rnn_act_kind kind;
  bool uses_alpha, uses_beta;
  float alpha, beta;
} act_table[] = {
  { "Sigmoid", ACT_SIGMOID, false, false, 0.0f, 0.0f },
  { "Tanh", ACT_TANH, false, false, 0.0f, 0.0f },
  { "Relu", ACT_RELU, false, false, 0.0f, 0.0f },
  { "Affine", ACT_AFFINE, true, true, 1.0f, 0.0f },
  { "LeakyRelu", ACT_LEAKY_RELU, true, false, 0.01f, 0.0f },
  { "ThresholdedRelu", ACT_THRESHOLDED_RELU, true, false, 1.0f, 0.0f },
  { "ScaledTanh", ACT_SCALED_TANH, true, true, 1.0f, 1.0f },
  { "HardSigmoid", ACT_HARD_SIGMOID, true, true, 0.2f, 0.5f },
  { "Elu", ACT_ELU, true, false, 1.0f, 0.0f },
  { "Softsign", ACT_SOFTSIGN, false, false, 0.0f, 0.0f },
  { "Softplus", ACT_SOFTPLUS, false, false, 0.0f, 0.0f },
};

/* Sigmoid and tanh are the activation family's vector kernels
 * (ir_activation_apply, one implementation per ISA in activation_simd.inc). */
static void
rnn_apply_shared (ir_activation_kind kind, float *x, int64_t n)
{
  const ir_activation act = { kind, 0.0f, 0.0f };
  ir_activation_apply (&act, x, n);
}

static void
act_apply (const rnn_act *act, float *x, int64_t n)
{
  const float a = act->alpha, b = act->beta;
  switch (act->kind) {
  case ACT_SIGMOID:
    rnn_apply_shared (IR_ACT_SIGMOID, x, n);
    break;
  case ACT_TANH:
    rnn_apply_shared (IR_ACT_TANH, x, n);
    break;
  case ACT_SCALED_TANH:   /* alpha * tanh (beta * x) */
    for (int64_t i = 0; i < n; i++)
      x[i] *= b;
    rnn_apply_shared (IR_ACT_TANH, x, n);
    for (int64_t i = 0; i < n; i++)
      x[i] *= a;
    break;
  case ACT_RELU:
    for (int64_t i = 0; i < n; i++)
      x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    break;
  case ACT_AFFINE:
    for (int64_t i = 0; i < n; i++)
      x[i] = a * x[i] + b;
    break;
  case ACT_LEAKY_RELU:
    for (int64_t i = 0; i < n; i++)
      x[i] = x[i] >= 0.0f ? x[i] : a * x[i];
    break;
  case ACT_THRESHOLDED_RELU:
    for (int64_t i = 0; i < n; i++)
      x[i] = x[i] > a ? x[i] : 0.0f;
    break;
  case ACT_HARD_SIGMOID:
    for (int64_t i = 0; i < n; i++)
      x[i] = fminf (fmaxf (a * x[i] + b, 0.0f), 1.0f);
    break;
  case ACT_ELU:
    for (int64_t i = 0; i < n; i++)
      x[i] = x[i] >= 0.0f ? x[i] : a * expm1f (x[i]);
    break;
  case ACT_SOFTSIGN:
    for (int64_t i = 0; i < n; i++)
      x[i] = x[i] / (1.0f + fabsf (x[i]));
    break;
  case ACT_SOFTPLUS:
    /* log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow. */
    for (int64_t i = 0; i < n; i++)
      x[i] = fmaxf (x[i], 0.0f) + log1pf (expf (-fabsf (x[i])));
    break;
  }
}

/* ---- attributes ---- */

#define RNN_MAX_ACTS 3   /* per direction: LSTM f, g, h */

typedef struct rnn_params {
  rnn_cell cell;
  int gates;                  /* 1, 3 or 4 */
  int acts_per_dir;           /* 1, 2 or 3 */
  int64_t hidden;             /* 0 when the attribute is absent: from R */
  rnn_direction direction;
  int num_dir;
  int layout;                 /* 0: [seq, batch, ...]; 1: [batch, seq, ...] */
  bool has_clip;
  float clip;
  bool input_forget;          /* LSTM */
  bool linear_before_reset;   /* GRU */
  rnn_act acts[2][RNN_MAX_ACTS];
} rnn_params;

/* STRINGS attributes: op.h has no reader for them yet.  When the loader
 * provides one with this signature (count, or -1 when absent; strings owned
 * by the model) it is used; until then only the default activations are
 * possible. */
extern int op_attr_strings (const op_init_ctx *ctx, const char *name,
    const char *const **vals) __attribute__ ((weak));

static int
parse_activations (rnn_params *p, const op_init_ctx *ctx, imgrec_error *err)
{
  static const rnn_act_kind defaults[3][RNN_MAX_ACTS] = {
    [CELL_RNN] = { ACT_TANH },
    [CELL_GRU] = { ACT_SIGMOID, ACT_TANH },
    [CELL_LSTM] = { ACT_SIGMOID, ACT_TANH, ACT_TANH },
  };
  for (int d = 0; d < 2; d++)
    for (int k = 0; k < p->acts_per_dir; k++)
      p->acts[d][k] = (rnn_act) { defaults[p->cell][k], 0.0f, 0.0f };
  if (!op_attr_has (ctx, "activations"))
    return 0;

  if (op_attr_strings == NULL)
    return ir_fail (err, "attribute 'activations' cannot be read yet (the loader has no "
        "reader for STRINGS attributes)");
  const char *const *names = NULL;
  int n_names = op_attr_strings (ctx, "activations", &names);
  if (n_names < 0)
    return ir_fail (err, "attribute 'activations' is not a list of strings");
  /* A bidirectional op may list one direction's functions for both. */
  int per_dir = p->acts_per_dir;
  if (n_names != per_dir * p->num_dir && !(p->num_dir == 2 && n_names == per_dir))
    return ir_fail (err, "attribute 'activations' has %d functions, expected %d", n_names,
        per_dir * p->num_dir);

  const float *alphas = NULL, *betas = NULL;
  int n_alphas = op_attr_floats (ctx, "activation_alpha", &alphas);
  int n_betas = op_attr_floats (ctx, "activation_beta", &betas);
  if (n_alphas < 0)
    n_alphas = 0;
  if (n_betas < 0)
    n_betas = 0;
  /* "Consumed in the order of the activation functions": each function that
   * takes alpha (beta) takes the next value of the list, as ONNX Runtime
   * reads it; once the list runs out, the ONNX op's default applies. */
  int next_alpha = 0, next_beta = 0;
  for (int i = 0; i < n_names; i++) {
    size_t k;
    for (k = 0; k < sizeof act_table / sizeof act_table[0]; k++)
      if (strcasecmp (names[i], act_table[k].name) == 0)
        break;
    if (k == sizeof act_table / sizeof act_table[0])
      return ir_fail (err, "activation function '%s' is not supported (expected Sigmoid, Tanh, "
          "Relu, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign "
          "or Softplus)", names[i]);
    rnn_act act = { act_table[k].kind, act_table[k].alpha, act_table[k].beta };
    if (act_table[k].uses_alpha && next_alpha < n_alphas)
      act.alpha = alphas[next_alpha++];
    if (act_table[k].uses_beta && next_beta < n_betas)
      act.beta = betas[next_beta++];
    if (!isfinite (act.alpha) || !isfinite (act.beta))
      return ir_fail (err, "activation '%s' has a non-finite alpha or beta", names[i]);
    p->acts[i / per_dir][i % per_dir] = act;
  }
  if (n_names == per_dir && p->num_dir == 2)
    memcpy (p->acts[1], p->acts[0], sizeof p->acts[0]);
  return 0;
}

static int
rnn_init_common (ir_node *node, const op_init_ctx *ctx, imgrec_error *err, rnn_cell cell)
{
  static const int gates_of[] = { [CELL_RNN] = 1, [CELL_GRU] = 3, [CELL_LSTM] = 4 };
  static const int acts_of[] = { [CELL_RNN] = 1, [CELL_GRU] = 2, [CELL_LSTM] = 3 };
  int version = node->kernel ? node->kernel->since_version : node->opset;

  rnn_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory");
  node->params = p;
  p->cell = cell;
  p->gates = gates_of[cell];
  p->acts_per_dir = acts_of[cell];

  if (op_attr_has (ctx, "hidden_size")) {
    int64_t hidden = op_attr_int (ctx, "hidden_size", 0);
    if (hidden <= 0 || hidden > RNN_MAX_DIM / p->gates / 2)
      return ir_fail (err, "attribute 'hidden_size' is %lld, expected a positive size",
          (long long) hidden);
    p->hidden = hidden;
  }

  const char *direction = op_attr_string (ctx, "direction", "forward");
  if (strcmp (direction, "forward") == 0)
    p->direction = DIR_FORWARD;
  else if (strcmp (direction, "reverse") == 0)
    p->direction = DIR_REVERSE;
  else if (strcmp (direction, "bidirectional") == 0)
    p->direction = DIR_BIDIRECTIONAL;
  else
    return ir_fail (err, "attribute 'direction' is '%s', expected forward, reverse or "
        "bidirectional", direction);
  p->num_dir = p->direction == DIR_BIDIRECTIONAL ? 2 : 1;

  if (version >= 14) {
    int64_t layout = op_attr_int (ctx, "layout", 0);
    if (layout != 0 && layout != 1)
      return ir_fail (err, "attribute 'layout' is %lld, expected 0 or 1", (long long) layout);
    p->layout = (int) layout;
  }

  if (op_attr_has (ctx, "clip")) {
    p->clip = op_attr_float (ctx, "clip", 0.0f);
    if (!(p->clip > 0.0f))
      return ir_fail (err, "attribute 'clip' is %g, expected a positive threshold",
          (double) p->clip);
    p->has_clip = isfinite (p->clip);
  }

  if (cell == CELL_LSTM) {
    int64_t input_forget = op_attr_int (ctx, "input_forget", 0);
    if (input_forget != 0 && input_forget != 1)
      return ir_fail (err, "attribute 'input_forget' is %lld, expected 0 or 1",
          (long long) input_forget);
    p->input_forget = input_forget == 1;
  }
  if (cell == CELL_GRU && version >= 3)
    p->linear_before_reset = op_attr_int (ctx, "linear_before_reset", 0) != 0;

  return parse_activations (p, ctx, err);
}

static int lstm_init (ir_node *n, const op_init_ctx *c, imgrec_error *e)
{ return rnn_init_common (n, c, e, CELL_LSTM); }
static int gru_init (ir_node *n, const op_init_ctx *c, imgrec_error *e)
{ return rnn_init_common (n, c, e, CELL_GRU); }
static int rnn_init (ir_node *n, const op_init_ctx *c, imgrec_error *e)
{ return rnn_init_common (n, c, e, CELL_RNN); }

/* ---- biases ---- */

/* Per direction: gates*hidden values added to the pre-activations (Wb + Rb,
 * except GRU's h gate with linear_before_reset, which gets only Wb_h), then
 * hidden values of Rb_h for that GRU case (zero otherwise). */
static int64_t
bias_stride (const rnn_params *p, int64_t hidden)
{
  return (p->gates + 1) * hidden;
}

static void
fold_bias (const rnn_params *p, int64_t hidden, const float *b, float *out)
{
  int64_t gh = p->gates * hidden, stride = bias_stride (p, hidden);
  for (int d = 0; d < p->num_dir; d++) {
    const float *wb = b + d * 2 * gh, *rb = wb + gh;
    float *dst = out + d * stride;
    for (int64_t i = 0; i < gh; i++)
      dst[i] = wb[i] + rb[i];
    memset (dst + gh, 0, hidden * sizeof *dst);
    if (p->cell == CELL_GRU && p->linear_before_reset) {
      for (int64_t i = 0; i < hidden; i++) {
        dst[2 * hidden + i] = wb[2 * hidden + i];
        dst[gh + i] = rb[2 * hidden + i];
      }
    }
  }
}

static int
check_bias_shape (const rnn_params *p, const ir_tensor *b, int64_t hidden, imgrec_error *err)
{
  if (b->storage != IR_F32)
    return ir_fail (err, "input B must be a floating-point tensor");
  if (b->rank != 2 || b->dims[0] != p->num_dir || b->dims[1] != 2 * p->gates * hidden)
    return ir_fail (err, "input B must have shape [%d, %lld]", p->num_dir,
        (long long) (2 * p->gates * hidden));
  return 0;
}

typedef struct rnn_packed {
  int64_t hidden;
  float bias[];               /* num_dir * bias_stride */
} rnn_packed;

static int
rnn_prepare (ir_node *node, ir_tensor *const *in, imgrec_error *err)
{
  const rnn_params *p = node->params;
  if (node->n_inputs <= IN_B || in[IN_B] == NULL)
    return 0;
  const ir_tensor *b = in[IN_B];
  int64_t hidden = p->hidden;
  if (hidden == 0 && b->rank == 2 && b->dims[1] % (2 * p->gates) == 0)
    hidden = b->dims[1] / (2 * p->gates);
  if (hidden <= 0 || hidden > RNN_MAX_DIM / p->gates / 2)
    return ir_fail (err, "the shape of input B gives no valid hidden size");
  if (check_bias_shape (p, b, hidden, err) < 0)
    return -1;
  rnn_packed *packed = malloc (sizeof *packed
      + (size_t) (p->num_dir * bias_stride (p, hidden)) * sizeof (float));
  if (packed == NULL)
    return ir_fail (err, "out of memory");
  packed->hidden = hidden;
  fold_bias (p, hidden, ir_f32 (b), packed->bias);
  node->packed = packed;
  return 0;
}

/* ---- shapes and scratch ---- */

/* Scratch of one direction, in floats, each part 64-byte aligned. */
typedef struct rnn_scratch_layout {
  int64_t xw, gates, h, c, reset_h, bias, total;
} rnn_scratch_layout;

static int64_t
align16 (int64_t n)
{
  return (n + 15) & ~(int64_t) 15;
}

static void
scratch_layout (const rnn_params *p, int64_t seq, int64_t batch, int64_t hidden,
    bool fold_bias_at_run, rnn_scratch_layout *l)
{
  int64_t gh = p->gates * hidden, at = 0;
  l->xw = at;
  at += align16 (seq * batch * gh);
  l->gates = at;
  at += align16 (batch * gh);
  l->h = at;
  at += align16 (batch * hidden);
  l->c = at;
  if (p->cell == CELL_LSTM)
    at += align16 (batch * hidden);
  l->reset_h = at;
  if (p->cell == CELL_GRU && !p->linear_before_reset)
    at += align16 (batch * hidden);
  l->bias = at;
  if (fold_bias_at_run)
    at += align16 (p->num_dir * bias_stride (p, hidden));
  l->total = at;
}

static bool
input_present (const ir_node *node, ir_tensor *const *in, int i)
{
  return i < node->n_inputs && in[i] != NULL;
}

static int
check_f32 (const ir_tensor *t, const char *name, imgrec_error *err)
{
  if (t->storage != IR_F32)
    return ir_fail (err, "input %s must be a floating-point tensor", name);
  return 0;
}

/* State tensors (initial_h/c, Y_h, Y_c): [num_dir, batch, hidden], or
 * [batch, num_dir, hidden] with layout 1. */
static void
state_dims (const rnn_params *p, int64_t batch, int64_t hidden, int64_t dims[3])
{
  dims[0] = p->layout ? batch : p->num_dir;
  dims[1] = p->layout ? p->num_dir : batch;
  dims[2] = hidden;
}

static int
check_state (const rnn_params *p, const ir_tensor *t, const char *name, int64_t batch,
    int64_t hidden, imgrec_error *err)
{
  int64_t dims[3];
  state_dims (p, batch, hidden, dims);
  if (check_f32 (t, name, err) < 0)
    return -1;
  if (t->rank != 3 || t->dims[0] != dims[0] || t->dims[1] != dims[1] || t->dims[2] != dims[2])
    return ir_fail (err, "input %s must have shape [%lld, %lld, %lld]", name,
        (long long) dims[0], (long long) dims[1], (long long) dims[2]);
  return 0;
}

static int
rnn_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const rnn_params *p = node->params;
  const rnn_packed *packed = node->packed;
  imgrec_error *err = ctx->err;
  if (node->n_inputs < 3 || in[IN_X] == NULL || in[IN_W] == NULL || in[IN_R] == NULL)
    return ir_fail (err, "inputs X, W and R are required");
  const ir_tensor *x = in[IN_X], *w = in[IN_W], *r = in[IN_R];
  if (check_f32 (x, "X", err) < 0 || check_f32 (w, "W", err) < 0 || check_f32 (r, "R", err) < 0)
    return -1;
  if (x->rank != 3)
    return ir_fail (err, "input X must have rank 3, not %d", x->rank);
  int64_t seq = p->layout ? x->dims[1] : x->dims[0];
  int64_t batch = p->layout ? x->dims[0] : x->dims[1];
  int64_t input = x->dims[2];

  if (r->rank != 3 || r->dims[0] != p->num_dir)
    return ir_fail (err, "input R must have shape [%d, %d*hidden_size, hidden_size]",
        p->num_dir, p->gates);
  int64_t hidden = p->hidden ? p->hidden : r->dims[2];
  if (hidden <= 0 || hidden > RNN_MAX_DIM / p->gates / 2)
    return ir_fail (err, "hidden size %lld (from R) is not a valid size", (long long) hidden);
  int64_t gh = p->gates * hidden;
  if (r->dims[1] != gh || r->dims[2] != hidden)
    return ir_fail (err, "input R must have shape [%d, %lld, %lld]", p->num_dir,
        (long long) gh, (long long) hidden);
  if (w->rank != 3 || w->dims[0] != p->num_dir || w->dims[1] != gh || w->dims[2] != input)
    return ir_fail (err, "input W must have shape [%d, %lld, %lld]", p->num_dir,
        (long long) gh, (long long) input);
  if (packed != NULL && packed->hidden != hidden)
    return ir_fail (err, "input B implies hidden size %lld but R has %lld",
        (long long) packed->hidden, (long long) hidden);
  if (input_present (node, in, IN_B) && check_bias_shape (p, in[IN_B], hidden, err) < 0)
    return -1;
  if (input_present (node, in, IN_SEQUENCE_LENS)) {
    const ir_tensor *lens = in[IN_SEQUENCE_LENS];
    if (lens->storage != IR_I64 || lens->rank != 1 || lens->dims[0] != batch)
      return ir_fail (err, "input sequence_lens must be an integer tensor of shape [%lld]",
          (long long) batch);
  }
  if (input_present (node, in, IN_INITIAL_H)
      && check_state (p, in[IN_INITIAL_H], "initial_h", batch, hidden, err) < 0)
    return -1;
  if (p->cell == CELL_LSTM && input_present (node, in, IN_INITIAL_C)
      && check_state (p, in[IN_INITIAL_C], "initial_c", batch, hidden, err) < 0)
    return -1;
  if (p->cell == CELL_LSTM && input_present (node, in, IN_P)) {
    const ir_tensor *peep = in[IN_P];
    if (check_f32 (peep, "P", err) < 0)
      return -1;
    if (peep->rank != 2 || peep->dims[0] != p->num_dir || peep->dims[1] != 3 * hidden)
      return ir_fail (err, "input P must have shape [%d, %lld]", p->num_dir,
          (long long) (3 * hidden));
  }

  /* the projection GEMM has seq * batch rows */
  int64_t rows;
  if (input > RNN_MAX_DIM || __builtin_mul_overflow (seq, batch, &rows) || rows > RNN_MAX_DIM)
    return ir_fail (err, "input X of shape [%lld, %lld, %lld] is too large",
        (long long) x->dims[0], (long long) x->dims[1], (long long) x->dims[2]);
  int64_t xw_floats, y_elems;
  if (__builtin_mul_overflow (rows, gh, &xw_floats) || xw_floats > (INT64_MAX >> 4)
      || __builtin_mul_overflow (rows * p->num_dir, hidden, &y_elems))
    return ir_fail (err, "the sequence is too long for hidden size %lld", (long long) hidden);

  rnn_scratch_layout layout;
  bool fold_at_run = packed == NULL && input_present (node, in, IN_B);
  scratch_layout (p, seq, batch, hidden, fold_at_run, &layout);
  if ((uint64_t) layout.total > SIZE_MAX / sizeof (float) / (size_t) p->num_dir)
    return ir_fail (err, "the scratch memory needed is too large");
  ctx->scratch_bytes = (size_t) layout.total * (size_t) p->num_dir * sizeof (float);

  imgrec_dtype type = x->elem_type;
  if (node->n_outputs > OUT_Y && out[OUT_Y] != NULL) {
    int64_t dims[4] = { seq, p->num_dir, batch, hidden };
    if (p->layout) {
      dims[0] = batch;
      dims[1] = seq;
      dims[2] = p->num_dir;
    }
    ir_set_shape (out[OUT_Y], type, 4, dims);
  }
  int64_t sdims[3];
  state_dims (p, batch, hidden, sdims);
  if (node->n_outputs > OUT_Y_H && out[OUT_Y_H] != NULL)
    ir_set_shape (out[OUT_Y_H], type, 3, sdims);
  if (node->n_outputs > OUT_Y_C && out[OUT_Y_C] != NULL) {
    if (p->cell != CELL_LSTM)
      return ir_fail (err, "only LSTM has a third output (Y_c)");
    ir_set_shape (out[OUT_Y_C], type, 3, sdims);
  }
  return 0;
}

/* ---- run ---- */

/* C[m, n] = A[m, k] · B[n, k]^T (row-major, leading dimensions given): each
 * row of A against B's rows on our row GEMV (ops/sgemm.h, per ISA), on the
 * calling thread (the directions run in parallel).  The gate weights are
 * small (4 H x I floats: 256 KB for H = I = 128), so B stays in cache for
 * the rows of a sequence. */
static void
gemm_abt (int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
    int64_t ldb, float *c, int64_t ldc)
{
  const ir_sgemv_rows_fn gemv = ir_sgemv_rows_default ();
  for (int64_t i = 0; i < m; i++) {
    /* scratch may hold NaN bit patterns: clear, then accumulate */
    memset (c + i * ldc, 0, (size_t) n * sizeof *c);
    if (k > 0)
      gemv (n, k, 1.0f, a + i * lda, b, ldb, c + i * ldc);
  }
}

/* Everything one direction needs, shared by the threads. */
typedef struct rnn_run_args {
  const rnn_params *p;
  int64_t seq, batch, input, hidden;
  const float *x, *w, *r;
  const float *bias;          /* folded biases, num_dir * bias_stride; NULL: none */
  const float *peep;          /* P or NULL */
  const int64_t *lens;        /* validated sequence_lens or NULL */
  const float *init_h, *init_c;
  float *y, *y_h, *y_c;
  float *scratch;
  rnn_scratch_layout layout;
} rnn_run_args;

/* One direction's view of the current step, for the cell functions. */
typedef struct rnn_step {
  const rnn_params *p;
  const rnn_act *acts;        /* this direction's activation functions */
  int64_t hidden;
  const float *bias;          /* gates*hidden + hidden, or NULL */
  const float *peep;          /* 3*hidden (i, o, f), or NULL */
} rnn_step;

/* x[i] += a[i] (+ b[i]); then clip. */
static inline void
add_pre_activation (const rnn_step *s, float *x, const float *a, const float *b, int64_t n)
{
  if (b != NULL)
    for (int64_t i = 0; i < n; i++)
      x[i] += a[i] + b[i];
  else
    for (int64_t i = 0; i < n; i++)
      x[i] += a[i];
}

static inline void
clip (const rnn_step *s, float *x, int64_t n)
{
  if (!s->p->has_clip)
    return;
  const float hi = s->p->clip, lo = -s->p->clip;
  for (int64_t i = 0; i < n; i++)
    x[i] = fminf (fmaxf (x[i], lo), hi);
}

/* Ht = f(Xt·W^T + Ht-1·R^T + Wb + Rb).  g holds Ht-1·R^T on entry. */
static void
rnn_step_row (const rnn_step *s, float *g, const float *xw, float *h, float *c)
{
  int64_t n = s->hidden;
  add_pre_activation (s, g, xw, s->bias, n);
  clip (s, g, n);
  act_apply (&s->acts[0], g, n);
  memcpy (h, g, n * sizeof *h);
}

/* LSTM, gates i, o, f, c.  g holds Ht-1·R^T on entry. */
static void
lstm_step_row (const rnn_step *s, float *g, const float *xw, float *h, float *c)
{
  int64_t n = s->hidden;
  float *gi = g, *go = g + n, *gf = g + 2 * n, *gc = g + 3 * n;
  const float *pi = NULL, *po = NULL, *pf = NULL;
  if (s->peep != NULL) {
    pi = s->peep;
    po = s->peep + n;
    pf = s->peep + 2 * n;
  }
  add_pre_activation (s, g, xw, s->bias, 4 * n);

  if (pi != NULL)
    for (int64_t j = 0; j < n; j++)
      gi[j] += pi[j] * c[j];
  clip (s, gi, n);
  act_apply (&s->acts[0], gi, n);

  if (s->p->input_forget) {
    for (int64_t j = 0; j < n; j++)
      gf[j] = 1.0f - gi[j];
  } else {
    if (pf != NULL)
      for (int64_t j = 0; j < n; j++)
        gf[j] += pf[j] * c[j];
    clip (s, gf, n);
    act_apply (&s->acts[0], gf, n);
  }

  clip (s, gc, n);
  act_apply (&s->acts[1], gc, n);
  for (int64_t j = 0; j < n; j++)
    c[j] = gf[j] * c[j] + gi[j] * gc[j];

  /* The output gate peeks at the new cell state. */
  if (po != NULL)
    for (int64_t j = 0; j < n; j++)
      go[j] += po[j] * c[j];
  clip (s, go, n);
  act_apply (&s->acts[0], go, n);

  memcpy (gc, c, n * sizeof *gc);
  act_apply (&s->acts[2], gc, n);
  for (int64_t j = 0; j < n; j++)
    h[j] = go[j] * gc[j];
}

/* GRU, first part: update and reset gates (z, r); with linear_before_reset
 * also the rest of the step (g's h part then holds Ht-1·Rh^T). */
static void
gru_step_row (const rnn_step *s, float *g, const float *xw, float *h, float *c)
{
  int64_t n = s->hidden;
  add_pre_activation (s, g, xw, s->bias, 2 * n);
  clip (s, g, 2 * n);
  act_apply (&s->acts[0], g, 2 * n);
  if (!s->p->linear_before_reset)
    return;   /* gru_finish_row runs after the (r . Ht-1)·Rh^T GEMM */
  float *gr = g + n, *gh = g + 2 * n;
  const float *xh = xw + 2 * n;
  if (s->bias != NULL) {
    const float *bx = s->bias + 2 * n, *brh = s->bias + 3 * n;
    for (int64_t j = 0; j < n; j++)
      gh[j] = xh[j] + bx[j] + gr[j] * (gh[j] + brh[j]);
  } else {
    for (int64_t j = 0; j < n; j++)
      gh[j] = xh[j] + gr[j] * gh[j];
  }
}

/* GRU, last part: candidate state and Ht = (1 - z) . h~ + z . Ht-1.
 * g's h part holds (r . Ht-1)·Rh^T, or the finished pre-activation with
 * linear_before_reset. */
static void
gru_finish_row (const rnn_step *s, float *g, const float *xw, float *h)
{
  int64_t n = s->hidden;
  float *gz = g, *gh = g + 2 * n;
  if (!s->p->linear_before_reset)
    add_pre_activation (s, gh, xw + 2 * n, s->bias ? s->bias + 2 * n : NULL, n);
  clip (s, gh, n);
  act_apply (&s->acts[1], gh, n);
  for (int64_t j = 0; j < n; j++)
    h[j] = gh[j] + gz[j] * (h[j] - gh[j]);
}

static void
run_direction (const rnn_run_args *a, int d)
{
  const rnn_params *p = a->p;
  const int64_t seq = a->seq, batch = a->batch, hidden = a->hidden, input = a->input;
  const int64_t gh = p->gates * hidden, nd = p->num_dir;
  const bool reverse = p->direction == DIR_REVERSE || (p->direction == DIR_BIDIRECTIONAL && d == 1);
  const bool gru_two_gemms = p->cell == CELL_GRU && !p->linear_before_reset;
  /* Columns of R·h computed before the gate math: GRU without
   * linear_before_reset needs r first for its h columns. */
  const int64_t rec_cols = gru_two_gemms ? 2 * hidden : gh;

  float *scratch = a->scratch + d * a->layout.total;
  float *xw = scratch + a->layout.xw;
  float *gates = scratch + a->layout.gates;
  float *h = scratch + a->layout.h;
  float *c = scratch + a->layout.c;
  float *reset_h = scratch + a->layout.reset_h;
  const float *w = a->w + d * gh * input;
  const float *r = a->r + d * gh * hidden;

  rnn_step step = { p, p->acts[d], hidden, NULL, a->peep ? a->peep + d * 3 * hidden : NULL };
  if (a->bias != NULL)
    step.bias = a->bias + d * bias_stride (p, hidden);

  /* Input projection of every timestep: rows in X's own order. */
  gemm_abt (seq * batch, gh, input, a->x, input, w, input, xw, gh);

  /* State index: [d, b] or [b, d] with layout 1. */
#define STATE_ROW(b) (p->layout ? ((b) * nd + d) * hidden : (d * batch + (b)) * hidden)
  for (int64_t b = 0; b < batch; b++) {
    if (a->init_h != NULL)
      memcpy (h + b * hidden, a->init_h + STATE_ROW (b), hidden * sizeof *h);
    else
      memset (h + b * hidden, 0, hidden * sizeof *h);
    if (p->cell == CELL_LSTM) {
      if (a->init_c != NULL)
        memcpy (c + b * hidden, a->init_c + STATE_ROW (b), hidden * sizeof *c);
      else
        memset (c + b * hidden, 0, hidden * sizeof *c);
    }
  }
  bool h_is_zero = a->init_h == NULL;

  for (int64_t s = 0; s < seq; s++) {
    if (h_is_zero)
      for (int64_t b = 0; b < batch; b++)
        memset (gates + b * gh, 0, gh * sizeof *gates);
    else
      gemm_abt (batch, rec_cols, hidden, h, hidden, r, hidden, gates, gh);

    for (int64_t b = 0; b < batch; b++) {
      int64_t len = a->lens ? a->lens[b] : seq;
      if (s >= len)
        continue;
      int64_t t = reverse ? len - 1 - s : s;
      const float *xw_row = xw + (p->layout ? b * seq + t : t * batch + b) * gh;
      float *g = gates + b * gh;
      switch (p->cell) {
      case CELL_RNN:
        rnn_step_row (&step, g, xw_row, h + b * hidden, NULL);
        break;
      case CELL_LSTM:
        lstm_step_row (&step, g, xw_row, h + b * hidden, c + b * hidden);
        break;
      case CELL_GRU:
        gru_step_row (&step, g, xw_row, h + b * hidden, NULL);
        if (!gru_two_gemms)
          gru_finish_row (&step, g, xw_row, h + b * hidden);
        break;
      }
    }

    if (gru_two_gemms) {
      /* (r . Ht-1)·Rh^T for the whole batch, then the candidate state. */
      for (int64_t b = 0; b < batch; b++) {
        int64_t len = a->lens ? a->lens[b] : seq;
        float *rh = reset_h + b * hidden;
        const float *gr = gates + b * gh + hidden, *hb = h + b * hidden;
        if (s >= len)
          memset (rh, 0, hidden * sizeof *rh);
        else
          for (int64_t j = 0; j < hidden; j++)
            rh[j] = gr[j] * hb[j];
      }
      if (h_is_zero)
        for (int64_t b = 0; b < batch; b++)
          memset (gates + b * gh + 2 * hidden, 0, hidden * sizeof *gates);
      else
        gemm_abt (batch, hidden, hidden, reset_h, hidden, r + 2 * hidden * hidden, hidden,
            gates + 2 * hidden, gh);
      for (int64_t b = 0; b < batch; b++) {
        int64_t len = a->lens ? a->lens[b] : seq;
        if (s >= len)
          continue;
        int64_t t = reverse ? len - 1 - s : s;
        const float *xw_row = xw + (p->layout ? b * seq + t : t * batch + b) * gh;
        gru_finish_row (&step, gates + b * gh, xw_row, h + b * hidden);
      }
    }

    if (a->y != NULL) {
      for (int64_t b = 0; b < batch; b++) {
        int64_t len = a->lens ? a->lens[b] : seq;
        /* Steps past the length: the s-th of them zeroes Y at t = s, so the
         * seq - len inactive steps cover t = len .. seq-1 exactly. */
        int64_t t = s >= len ? s : reverse ? len - 1 - s : s;
        float *y_row = a->y + (p->layout ? (b * seq + t) * nd + d : (t * nd + d) * batch + b)
            * hidden;
        if (s >= len)
          memset (y_row, 0, hidden * sizeof *y_row);
        else
          memcpy (y_row, h + b * hidden, hidden * sizeof *y_row);
      }
    }
    h_is_zero = false;
  }

  for (int64_t b = 0; b < batch; b++) {
    if (a->y_h != NULL)
      memcpy (a->y_h + STATE_ROW (b), h + b * hidden, hidden * sizeof *h);
    if (a->y_c != NULL)
      memcpy (a->y_c + STATE_ROW (b), c + b * hidden, hidden * sizeof *c);
  }
#undef STATE_ROW
}

static void
run_directions (void *arg, int64_t begin, int64_t end, int thread_index)
{
  for (int64_t d = begin; d < end; d++)
    run_direction (arg, (int) d);
}

static int
rnn_run (const ir_node *node, const op_run_ctx *ctx)
{
  const rnn_params *p = node->params;
  const rnn_packed *packed = node->packed;
  ir_tensor *const *in = ctx->in;
  ir_tensor *const *out = ctx->out;
  const ir_tensor *x = in[IN_X];

  rnn_run_args a = { .p = p };
  a.seq = p->layout ? x->dims[1] : x->dims[0];
  a.batch = p->layout ? x->dims[0] : x->dims[1];
  a.input = x->dims[2];
  a.hidden = in[IN_R]->dims[2];
  a.x = ir_f32 (x);
  a.w = ir_f32 (in[IN_W]);
  a.r = ir_f32 (in[IN_R]);
  if (packed != NULL)
    a.bias = packed->bias;
  if (p->cell == CELL_LSTM && input_present (node, in, IN_P))
    a.peep = ir_f32 (in[IN_P]);
  if (input_present (node, in, IN_SEQUENCE_LENS)) {
    a.lens = ir_i64 (in[IN_SEQUENCE_LENS]);
    for (int64_t b = 0; b < a.batch; b++)
      if (a.lens[b] < 0 || a.lens[b] > a.seq)
        return ir_fail (ctx->err, "sequence_lens[%lld] is %lld, expected 0 to %lld",
            (long long) b, (long long) a.lens[b], (long long) a.seq);
  }
  if (input_present (node, in, IN_INITIAL_H))
    a.init_h = ir_f32 (in[IN_INITIAL_H]);
  if (p->cell == CELL_LSTM && input_present (node, in, IN_INITIAL_C))
    a.init_c = ir_f32 (in[IN_INITIAL_C]);
  if (node->n_outputs > OUT_Y && out[OUT_Y] != NULL)
    a.y = ir_f32 (out[OUT_Y]);
  if (node->n_outputs > OUT_Y_H && out[OUT_Y_H] != NULL)
    a.y_h = ir_f32 (out[OUT_Y_H]);
  if (node->n_outputs > OUT_Y_C && out[OUT_Y_C] != NULL)
    a.y_c = ir_f32 (out[OUT_Y_C]);

  bool fold_at_run = packed == NULL && input_present (node, in, IN_B);
  scratch_layout (p, a.seq, a.batch, a.hidden, fold_at_run, &a.layout);
  if ((size_t) a.layout.total * (size_t) p->num_dir * sizeof (float) > ctx->scratch_bytes)
    return ir_fail (ctx->err, "scratch memory is smaller than planned");
  a.scratch = ctx->scratch;
  if (fold_at_run) {
    /* B is computed in the graph: fold both directions' biases before the
     * directions may split over threads (they live in direction 0's slice). */
    fold_bias (p, a.hidden, ir_f32 (in[IN_B]), a.scratch + a.layout.bias);
    a.bias = a.scratch + a.layout.bias;
  }

  /* Two directions on two threads only when each has real work. */
  double flops = (double) a.seq * a.batch * p->gates * a.hidden * (a.input + a.hidden);
  int64_t grain = p->num_dir == 2 && flops >= 2e5 ? 1 : p->num_dir;
  ir_parallel_for (ctx->pool, p->num_dir, grain, run_directions, &a);
  return 0;
}

/* ---- registration ---- */

#define RNN_KERNEL(var, op, version, init_fn) \
  static const op_kernel var = { \
    .op_type = op, .domain = "", .since_version = version, \
    .init = init_fn, .prepare = rnn_prepare, .infer = rnn_infer, .run = rnn_run, \
  }

/* Opset 1 and 7 differ in output_sequence (ignored: the outputs present say
 * what to write); GRU 3 adds linear_before_reset; 14 adds layout. */
RNN_KERNEL (lstm_1, "LSTM", 1, lstm_init);
RNN_KERNEL (lstm_7, "LSTM", 7, lstm_init);
RNN_KERNEL (lstm_14, "LSTM", 14, lstm_init);
RNN_KERNEL (gru_1, "GRU", 1, gru_init);
RNN_KERNEL (gru_3, "GRU", 3, gru_init);
RNN_KERNEL (gru_7, "GRU", 7, gru_init);
RNN_KERNEL (gru_14, "GRU", 14, gru_init);
RNN_KERNEL (rnn_1, "RNN", 1, rnn_init);
RNN_KERNEL (rnn_7, "RNN", 7, rnn_init);
RNN_KERNEL (rnn_14, "RNN", 14, rnn_init);

const op_kernel *const ir_ops_rnn[] = {
  &lstm_1, &lstm_7, &lstm_14,
  &gru_1, &gru_3, &gru_7, &gru_14,
  &rnn_1, &rnn_7, &rnn_14,
  NULL,
};
