/* Op family: norm — BatchNormalization (inference), InstanceNormalization, LRN.
 *
 * BatchNormalization and InstanceNormalization both end as one affine map
 * y = x * a + b per channel plane (a, b folded from the statistics in
 * double), followed by the fused activation while the plane is still in
 * cache; the work is split over threads by (n, c) planes.
 *
 * Versions: BatchNormalization 1/6/7 carry `spatial` (0 = one statistic per
 * C x D1 x ... element) and training-era extra outputs, which inference
 * passes through from the running mean/var; 9 drops `spatial`; 14 adds
 * `training_mode` (refused when 1); 15 only widens types.  One kernel covers
 * all of them, reading whichever attributes the node has.  InstanceNorm 1/6
 * and LRN 1/13 do not differ in semantics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "op.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NORM_X86 1
#define NORM_HOT __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NORM_X86 0
#define NORM_HOT
#endif

/* Elements per thread chunk below which we do not split the work. */
#define NORM_GRAIN_WORK 32768

static int64_t
grain_for (int64_t work_per_item)
{
  int64_t g = NORM_GRAIN_WORK / (work_per_item + 1);
  return g < 1 ? 1 : g;
}

/* ---------------------------------------------------------- inner loops */

/* The fused activation split into what the affine loops clamp inline (ReLU
 * and Clip: [lo, hi]) and what needs a separate pass (the rest). */
typedef struct norm_epilogue {
  float lo, hi;
  const ir_activation *other;   /* NULL when the clamp is all there is */
} norm_epilogue;

static norm_epilogue
epilogue_for (const ir_activation *act)
{
  norm_epilogue e = { -INFINITY, INFINITY, NULL };
  if (act->kind == IR_ACT_RELU)
    e.lo = 0.0f;
  else if (act->kind == IR_ACT_CLIP) {
    e.lo = act->alpha;
    e.hi = act->beta;
  } else if (act->kind != IR_ACT_NONE)
    e.other = act;
  return e;
}

/* y = clamp (x * a + b, lo, hi) with scalar a, b (one channel plane).  The
 * comparisons are written so that NaN passes through unclamped. */
NORM_HOT static void
affine_scalar (const float *restrict x, float *restrict y, int64_t n, float a,
    float b, float lo, float hi)
{
  for (int64_t i = 0; i < n; i++) {
    float v = x[i] * a + b;
    v = v < lo ? lo : v;
    y[i] = v > hi ? hi : v;
  }
}

/* The same with per-element a, b. */
NORM_HOT static void
affine_vector (const float *restrict x, float *restrict y, int64_t n,
    const float *restrict a, const float *restrict b, float lo, float hi)
{
  for (int64_t i = 0; i < n; i++) {
    float v = x[i] * a[i] + b[i];
    v = v < lo ? lo : v;
    y[i] = v > hi ? hi : v;
  }
}

/* Mean and population variance of n floats, two passes in double lanes. */
NORM_HOT static void
plane_moments (const float *restrict x, int64_t n, double *mean_out,
    double *var_out)
{
  enum { LANES = 8 };
  double acc[LANES] = { 0 };
  int64_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int j = 0; j < LANES; j++)
      acc[j] += x[i + j];
  for (; i < n; i++)
    acc[0] += x[i];
  double sum = 0.0;
  for (int j = 0; j < LANES; j++)
    sum += acc[j];
  double mean = n > 0 ? sum / (double) n : 0.0;

  double sq[LANES] = { 0 };
  i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int j = 0; j < LANES; j++) {
      double d = x[i + j] - mean;
      sq[j] += d * d;
    }
  for (; i < n; i++) {
    double d = x[i] - mean;
    sq[0] += d * d;
  }
  double ssq = 0.0;
  for (int j = 0; j < LANES; j++)
    ssq += sq[j];
  *mean_out = mean;
  *var_out = n > 0 ? ssq / (double) n : 0.0;
}

/* ------------------------------------------------------ BatchNormalization */

typedef struct batch_norm_params {
  float epsilon;
  bool per_element;     /* spatial = 0 (opset < 9) */
} batch_norm_params;

/* Folded a = scale / sqrt(var + eps), b = bias - mean * a, `count` each;
 * the layout of node->packed (a then b) and of the run's scratch. */
typedef struct batch_norm_packed {
  int64_t count;
  float *a, *b;
} batch_norm_packed;

static int
batch_norm_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  if (node->n_inputs != 5)
    return ir_fail (err, "BatchNormalization needs 5 inputs (X, scale, B, mean, "
        "var) but the node has %d", node->n_inputs);
  for (int i = 0; i < 5; i++)
    if (node->inputs[i] < 0)
      return ir_fail (err, "input %d of BatchNormalization is required", i);
  if (node->n_outputs < 1 || node->n_outputs > 5)
    return ir_fail (err, "BatchNormalization has 1 to 5 outputs but the node "
        "lists %d", node->n_outputs);
  int64_t training = op_attr_int (ctx, "training_mode", 0);
  if (training != 0)
    return ir_fail (err, "attribute 'training_mode' is %lld; only inference "
        "(training_mode = 0) is supported", (long long) training);
  int64_t spatial = op_attr_int (ctx, "spatial", 1);
  if (spatial != 0 && spatial != 1)
    return ir_fail (err, "attribute 'spatial' is %lld but must be 0 or 1",
        (long long) spatial);
  float epsilon = op_attr_float (ctx, "epsilon", 1e-5f);
  if (!(epsilon >= 0.0f) || isinf (epsilon))
    return ir_fail (err, "attribute 'epsilon' is %g but must be a finite value "
        ">= 0", (double) epsilon);

  batch_norm_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory");
  p->epsilon = epsilon;
  p->per_element = spatial == 0 && node->opset < 9;
  node->params = p;
  return 0;
}

/* Folds the statistics into a, b (count values each). */
static void
batch_norm_fold (const batch_norm_params *p, ir_tensor *const *in, int64_t count,
    float *a, float *b)
{
  const float *scale = ir_f32 (in[1]), *bias = ir_f32 (in[2]);
  const float *mean = ir_f32 (in[3]), *var = ir_f32 (in[4]);
  for (int64_t i = 0; i < count; i++) {
    double inv_std = 1.0 / sqrt ((double) var[i] + (double) p->epsilon);
    double ai = (double) scale[i] * inv_std;
    a[i] = (float) ai;
    b[i] = (float) ((double) bias[i] - (double) mean[i] * ai);
  }
}

/* Checks that scale, B, mean and var are float vectors of one length. */
static int
batch_norm_check_params (ir_tensor *const *in, int64_t *count, imgrec_error *err)
{
  static const char *const names[] = { "X", "scale", "B", "mean", "var" };
  for (int i = 1; i < 5; i++) {
    if (in[i] == NULL)
      return ir_fail (err, "input '%s' is missing", names[i]);
    if (in[i]->storage != IR_F32)
      return ir_fail (err, "input '%s' has element type %s but a floating type "
          "is required", names[i], imgrec_dtype_name (in[i]->elem_type));
    if (ir_numel (in[i]) != ir_numel (in[1]))
      return ir_fail (err, "input '%s' has %lld elements but scale has %lld",
          names[i], (long long) ir_numel (in[i]), (long long) ir_numel (in[1]));
  }
  *count = ir_numel (in[1]);
  return 0;
}

static int
batch_norm_prepare (ir_node *node, ir_tensor *const *in, imgrec_error *err)
{
  for (int i = 1; i < 5; i++)
    if (in[i] == NULL)
      return 0;   /* statistics computed at run time: fold in run */
  int64_t count;
  if (batch_norm_check_params (in, &count, err) < 0)
    return -1;
  batch_norm_packed *pk = malloc (sizeof *pk + 2 * (size_t) count * sizeof (float));
  if (pk == NULL)
    return ir_fail (err, "out of memory");
  pk->count = count;
  pk->a = (float *) (pk + 1);
  pk->b = pk->a + count;
  batch_norm_fold (node->params, in, count, pk->a, pk->b);
  node->packed = pk;
  return 0;
}

static int
batch_norm_infer (const ir_node *node, ir_tensor *const *in,
    ir_tensor *const *out, op_infer_ctx *ctx)
{
  const batch_norm_params *p = node->params;
  const ir_tensor *x = in[0];
  if (x == NULL)
    return ir_fail (ctx->err, "input X is missing");
  if (x->storage != IR_F32)
    return ir_fail (ctx->err, "input X has element type %s but a floating type "
        "is required", imgrec_dtype_name (x->elem_type));
  if (x->rank < 2)
    return ir_fail (ctx->err, "input X has rank %d but at least 2 (N x C x ...) "
        "is required", x->rank);
  int64_t count;
  if (batch_norm_check_params (in, &count, ctx->err) < 0)
    return -1;
  /* One value per channel; with spatial = 0 also one per C x D1 x ... */
  int64_t channels = x->dims[1];
  int64_t per_element = ir_dims_product (x->dims, 1, x->rank);
  if (count != channels && !(p->per_element && count == per_element))
    return ir_fail (ctx->err, "scale has %lld elements but %lld were expected "
        "(%s of X)", (long long) count,
        (long long) (p->per_element ? per_element : channels),
        p->per_element ? "C x D1 x ... (spatial = 0)" : "the channel count");

  ir_set_shape (out[0], x->elem_type, x->rank, x->dims);
  /* Training-era outputs of old opsets: running mean/var pass through. */
  for (int i = 1; i < node->n_outputs && i < 5; i++)
    if (out[i] != NULL) {
      const ir_tensor *src = in[i % 2 == 1 ? 3 : 4];
      ir_set_shape (out[i], src->elem_type, src->rank, src->dims);
    }
  ctx->scratch_bytes = node->packed != NULL ? 0 : 2 * (size_t) count * sizeof (float);
  return 0;
}

typedef struct affine_job {
  const float *x;
  float *y;
  const float *a, *b;
  int64_t channels;       /* period of a/b over items (per-channel mode) */
  int64_t item_size;      /* elements per item */
  bool per_element;       /* a/b indexed by element within an item */
  norm_epilogue epilogue;
} affine_job;

/* Items are (n, c) planes, or whole samples when parameters are per element. */
static void
affine_items (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const affine_job *job = arg;
  for (int64_t item = begin; item < end; item++) {
    const float *x = job->x + item * job->item_size;
    float *y = job->y + item * job->item_size;
    if (job->per_element) {
      affine_vector (x, y, job->item_size, job->a, job->b, job->epilogue.lo,
          job->epilogue.hi);
    } else {
      int64_t c = item % job->channels;
      affine_scalar (x, y, job->item_size, job->a[c], job->b[c],
          job->epilogue.lo, job->epilogue.hi);
    }
    if (job->epilogue.other != NULL)
      ir_activation_apply (job->epilogue.other, y, job->item_size);
  }
}

static int
batch_norm_run (const ir_node *node, const op_run_ctx *ctx)
{
  const batch_norm_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  const batch_norm_packed *pk = node->packed;
  /* infer checked count: C, or C x D1 x ... (spatial = 0). */
  const float *a, *b;
  int64_t count = ir_numel (ctx->in[1]);
  if (pk != NULL) {
    a = pk->a;
    b = pk->b;
  } else {
    float *scratch = ctx->scratch;
    batch_norm_fold (p, ctx->in, count, scratch, scratch + count);
    a = scratch;
    b = scratch + count;
  }

  int64_t batch = x->dims[0], channels = x->dims[1];
  int64_t spatial = ir_dims_product (x->dims, 2, x->rank);
  affine_job job = {
    .x = ir_f32 (x), .y = ir_f32 (ctx->out[0]), .a = a, .b = b,
    .channels = channels, .epilogue = epilogue_for (&node->fused),
  };
  if (count != channels || spatial == 1) {
    /* Per-element statistics, or one value per channel: whole samples. */
    job.per_element = true;
    job.item_size = channels * spatial;
    ir_parallel_for (ctx->pool, batch, grain_for (job.item_size), affine_items, &job);
  } else {
    job.item_size = spatial;
    ir_parallel_for (ctx->pool, batch * channels, grain_for (spatial),
        affine_items, &job);
  }

  for (int i = 1; i < node->n_outputs && i < 5; i++)
    if (ctx->out[i] != NULL) {
      const ir_tensor *src = ctx->in[i % 2 == 1 ? 3 : 4];
      memcpy (ctx->out[i]->data, src->data, ir_nbytes (src));
    }
  return 0;
}

/* --------------------------------------------------- InstanceNormalization */

typedef struct instance_norm_params {
  float epsilon;
} instance_norm_params;

static int
instance_norm_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  if (node->n_inputs != 3)
    return ir_fail (err, "InstanceNormalization needs 3 inputs (input, scale, "
        "B) but the node has %d", node->n_inputs);
  for (int i = 0; i < 3; i++)
    if (node->inputs[i] < 0)
      return ir_fail (err, "input %d of InstanceNormalization is required", i);
  float epsilon = op_attr_float (ctx, "epsilon", 1e-5f);
  if (!(epsilon >= 0.0f) || isinf (epsilon))
    return ir_fail (err, "attribute 'epsilon' is %g but must be a finite value "
        ">= 0", (double) epsilon);
  instance_norm_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory");
  p->epsilon = epsilon;
  node->params = p;
  return 0;
}

static int
instance_norm_infer (const ir_node *node, ir_tensor *const *in,
    ir_tensor *const *out, op_infer_ctx *ctx)
{
  const ir_tensor *x = in[0];
  static const char *const names[] = { "input", "scale", "B" };
  for (int i = 0; i < 3; i++) {
    if (in[i] == NULL)
      return ir_fail (ctx->err, "input '%s' is missing", names[i]);
    if (in[i]->storage != IR_F32)
      return ir_fail (ctx->err, "input '%s' has element type %s but a floating "
          "type is required", names[i], imgrec_dtype_name (in[i]->elem_type));
  }
  if (x->rank < 2)
    return ir_fail (ctx->err, "input has rank %d but at least 2 (N x C x ...) is "
        "required", x->rank);
  for (int i = 1; i < 3; i++)
    if (ir_numel (in[i]) != x->dims[1])
      return ir_fail (ctx->err, "input '%s' has %lld elements but the input has "
          "%lld channels", names[i], (long long) ir_numel (in[i]),
          (long long) x->dims[1]);
  ir_set_shape (out[0], x->elem_type, x->rank, x->dims);
  ctx->scratch_bytes = 0;
  return 0;
}

typedef struct instance_norm_job {
  const float *x, *scale, *bias;
  float *y;
  int64_t channels, plane_size;
  double epsilon;
  norm_epilogue epilogue;
} instance_norm_job;

static void
instance_norm_planes (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const instance_norm_job *job = arg;
  for (int64_t plane = begin; plane < end; plane++) {
    const float *x = job->x + plane * job->plane_size;
    float *y = job->y + plane * job->plane_size;
    int64_t c = plane % job->channels;
    double mean, var;
    plane_moments (x, job->plane_size, &mean, &var);
    double a = job->scale[c] / sqrt (var + job->epsilon);
    affine_scalar (x, y, job->plane_size, (float) a,
        (float) (job->bias[c] - mean * a), job->epilogue.lo, job->epilogue.hi);
    if (job->epilogue.other != NULL)
      ir_activation_apply (job->epilogue.other, y, job->plane_size);
  }
}

static int
instance_norm_run (const ir_node *node, const op_run_ctx *ctx)
{
  const instance_norm_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  instance_norm_job job = {
    .x = ir_f32 (x), .scale = ir_f32 (ctx->in[1]), .bias = ir_f32 (ctx->in[2]),
    .y = ir_f32 (ctx->out[0]), .channels = x->dims[1],
    .plane_size = ir_dims_product (x->dims, 2, x->rank),
    .epsilon = p->epsilon, .epilogue = epilogue_for (&node->fused),
  };
  ir_parallel_for (ctx->pool, x->dims[0] * x->dims[1],
      grain_for (3 * job.plane_size), instance_norm_planes, &job);
  return 0;
}

/* -------------------------------------------------------------------- LRN */

typedef struct lrn_params {
  int64_t size;
  float alpha, beta, bias;
} lrn_params;

static int
lrn_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  if (!op_attr_has (ctx, "size"))
    return ir_fail (err, "required attribute 'size' is missing");
  int64_t size = op_attr_int (ctx, "size", 0);
  if (size < 1 || size > (1 << 20))
    return ir_fail (err, "attribute 'size' is %lld but must be in [1, %d]",
        (long long) size, 1 << 20);
  lrn_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory");
  p->size = size;
  p->alpha = op_attr_float (ctx, "alpha", 1e-4f);
  p->beta = op_attr_float (ctx, "beta", 0.75f);
  p->bias = op_attr_float (ctx, "bias", 1.0f);
  node->params = p;
  if (!isfinite (p->alpha) || !isfinite (p->beta) || !isfinite (p->bias))
    return ir_fail (err, "attributes alpha, beta and bias must be finite");
  return 0;
}

static int
lrn_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const ir_tensor *x = in[0];
  if (x == NULL)
    return ir_fail (ctx->err, "input X is missing");
  if (x->storage != IR_F32)
    return ir_fail (ctx->err, "input X has element type %s but a floating type "
        "is required", imgrec_dtype_name (x->elem_type));
  if (x->rank < 2)
    return ir_fail (ctx->err, "input X has rank %d but at least 2 (N x C x ...) "
        "is required", x->rank);
  ir_set_shape (out[0], x->elem_type, x->rank, x->dims);
  ctx->scratch_bytes = 0;
  return 0;
}

typedef struct lrn_job {
  const lrn_params *p;
  const float *x;
  float *y;
  int64_t channels, plane_size;
} lrn_job;

NORM_HOT static void
add_squares (float *restrict acc, const float *restrict x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    acc[i] += x[i] * x[i];
}

/* y = x * (bias + k * sq) ^ -beta in place over sq (which is y). */
static void
lrn_scale_generic (const float *restrict x, float *restrict y, int64_t n,
    float bias, float k, float beta)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = x[i] * powf (bias + k * y[i], -beta);
}

#if NORM_X86
/* The usual exponents 0.75 (AlexNet, GoogLeNet) and 0.5 have a sqrt form
 * that vectorises; the compiler will not vectorise sqrtf itself because of
 * errno, so this is written with intrinsics. */
__attribute__ ((target ("avx512f"))) static void
lrn_scale_avx512 (const float *restrict x, float *restrict y, int64_t n,
    float bias, float k, float beta)
{
  const __m512 vbias = _mm512_set1_ps (bias), vk = _mm512_set1_ps (k);
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = (__mmask16) (n - i >= 16 ? 0xffff : (1u << (n - i)) - 1);
    __m512 t = _mm512_fmadd_ps (vk, _mm512_maskz_loadu_ps (m, y + i), vbias);
    __m512 r = _mm512_sqrt_ps (t);
    __m512 den = beta == 0.75f ? _mm512_mul_ps (r, _mm512_sqrt_ps (r)) : r;
    _mm512_mask_storeu_ps (y + i, m,
        _mm512_div_ps (_mm512_maskz_loadu_ps (m, x + i), den));
  }
}
#endif

static void
lrn_scale (const float *x, float *y, int64_t n, float bias, float k, float beta)
{
#if NORM_X86
  if ((beta == 0.75f || beta == 0.5f) && ir_cpu ()->isa >= IR_ISA_AVX512) {
    lrn_scale_avx512 (x, y, n, bias, k, beta);
    return;
  }
#endif
  lrn_scale_generic (x, y, n, bias, k, beta);
}

static void
lrn_planes (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const lrn_job *job = arg;
  const lrn_params *p = job->p;
  int64_t n = job->plane_size;
  /* Window c - floor((size - 1) / 2) .. c + ceil((size - 1) / 2). */
  int64_t before = (p->size - 1) / 2, after = p->size - 1 - before;
  for (int64_t plane = begin; plane < end; plane++) {
    int64_t c = plane % job->channels, sample_first = plane - c;
    int64_t c_lo = c - before < 0 ? 0 : c - before;
    int64_t c_hi = c + after >= job->channels ? job->channels - 1 : c + after;
    float *y = job->y + plane * n;
    memset (y, 0, (size_t) n * sizeof (float));
    for (int64_t cc = c_lo; cc <= c_hi; cc++)
      add_squares (y, job->x + (sample_first + cc) * n, n);
    lrn_scale (job->x + plane * n, y, n, p->bias, p->alpha / (float) p->size,
        p->beta);
  }
}

static int
lrn_run (const ir_node *node, const op_run_ctx *ctx)
{
  const lrn_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  lrn_job job = {
    .p = p, .x = ir_f32 (x), .y = ir_f32 (ctx->out[0]), .channels = x->dims[1],
    .plane_size = ir_dims_product (x->dims, 2, x->rank),
  };
  if (x->data == ctx->out[0]->data)
    return ir_fail (ctx->err, "LRN cannot run in place");
  ir_parallel_for (ctx->pool, x->dims[0] * x->dims[1],
      grain_for ((p->size + 2) * job.plane_size), lrn_planes, &job);
  return 0;
}

/* ---------------------------------------------------------------- table */

static const op_kernel batch_norm = {
  .op_type = "BatchNormalization", .domain = "", .since_version = 1,
  .fuses_activation = true,
  .init = batch_norm_init, .prepare = batch_norm_prepare,
  .infer = batch_norm_infer, .run = batch_norm_run,
};

static const op_kernel instance_norm = {
  .op_type = "InstanceNormalization", .domain = "", .since_version = 1,
  .fuses_activation = true,
  .init = instance_norm_init, .infer = instance_norm_infer,
  .run = instance_norm_run,
};

static const op_kernel lrn = {
  .op_type = "LRN", .domain = "", .since_version = 1,
  .init = lrn_init, .infer = lrn_infer, .run = lrn_run,
};

const op_kernel *const ir_ops_norm[] = {
  &batch_norm,
  &instance_norm,
  &lrn,
  NULL,
};
