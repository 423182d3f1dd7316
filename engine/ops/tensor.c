/* Op family: tensor — ops that create tensors or change their element type.
 *
 * Constant, ConstantOfShape, Cast, CastLike, Range.  All of them work on
 * every storage (F32, I64, BOOL); Cast is the only place where the declared
 * ONNX type matters beyond storage: narrowing integers wrap to their width
 * and float16 rounds to half precision, as the declared type would.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "op_checks.h"

/* Elements per parallel task for the element loops below. */
#define ELEM_GRAIN 32768

/* ---- Constant ---- */

typedef struct constant_params {
  ir_tensor value;                  /* owns its data */
} constant_params;

static void
constant_free (ir_node *node)
{
  constant_params *p = node->params;
  if (p != NULL && p->value.owns_data)
    free (p->value.data);
  free (node->params);
  free (node->packed);
  node->params = NULL;
  node->packed = NULL;
}

/* Fills p->value from value_float(s) / value_int(s) (opset 12). */
static int
constant_from_list (constant_params *p, imgrec_dtype type, int rank, const void *vals,
    int n, imgrec_error *err)
{
  int64_t dims[1] = { n };
  ir_set_shape (&p->value, type, rank, dims);
  size_t es = ir_storage_size (p->value.storage);
  p->value.data = malloc (n > 0 ? (size_t) n * es : 1);
  if (p->value.data == NULL)
    return ir_fail (err, "out of memory");
  p->value.owns_data = true;
  if (n > 0)
    memcpy (p->value.data, vals, (size_t) n * es);
  return 0;
}

static int
constant_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  constant_params *p = op_params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  if (op_attr_has (ctx, "sparse_value"))
    return ir_fail (err, "attribute sparse_value is not supported; use value");
  if (op_attr_has (ctx, "value_string") || op_attr_has (ctx, "value_strings"))
    return ir_fail (err, "string constants are not supported");
  static const char *const kinds[] = {
    "value", "value_float", "value_floats", "value_int", "value_ints",
  };
  int present = 0;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    present += op_attr_has (ctx, kinds[i]);
  if (present != 1)
    return ir_fail (err, "exactly one of value, value_float(s), value_int(s) must be given "
        "(found %d)", present);

  if (op_attr_has (ctx, "value")) {
    int r = op_attr_tensor (ctx, "value", &p->value, err);
    if (r < 0)
      return -1;
    if (r == 0)
      return ir_fail (err, "attribute value is not a tensor");
    return 0;
  }
  if (op_attr_has (ctx, "value_float")) {
    float f = op_attr_float (ctx, "value_float", 0);
    return constant_from_list (p, IMGREC_DTYPE_FLOAT, 0, &f, 1, err);
  }
  if (op_attr_has (ctx, "value_int")) {
    int64_t v = op_attr_int (ctx, "value_int", 0);
    return constant_from_list (p, IMGREC_DTYPE_INT64, 0, &v, 1, err);
  }
  if (op_attr_has (ctx, "value_floats")) {
    const float *vals;
    int n = op_attr_floats (ctx, "value_floats", &vals);
    if (n < 0)
      return ir_fail (err, "attribute value_floats is malformed");
    return constant_from_list (p, IMGREC_DTYPE_FLOAT, 1, vals, n, err);
  }
  const int64_t *vals;
  int n = op_attr_ints (ctx, "value_ints", &vals);
  if (n < 0)
    return ir_fail (err, "attribute value_ints is malformed");
  return constant_from_list (p, IMGREC_DTYPE_INT64, 1, vals, n, err);
}

static int
constant_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (op_need_output (node, out, ctx->err) < 0)
    return -1;
  const constant_params *p = node->params;
  ir_set_shape (out[0], p->value.elem_type, p->value.rank, p->value.dims);
  return 0;
}

static int
constant_run (const ir_node *node, const op_run_ctx *ctx)
{
  const constant_params *p = node->params;
  size_t n = ir_nbytes (&p->value);
  if (n > 0 && ctx->out[0]->data != p->value.data)
    memcpy (ctx->out[0]->data, p->value.data, n);
  return 0;
}

const ir_tensor *
ir_constant_node_value (const ir_node *node)
{
  if (node == NULL || node->kernel == NULL || strcmp (node->kernel->op_type, "Constant") != 0
      || node->params == NULL)
    return NULL;
  const constant_params *p = node->params;
  return &p->value;
}

static const op_kernel constant_v1 = {
  .op_type = "Constant", .domain = "", .since_version = 1,
  .init = constant_init, .infer = constant_infer, .run = constant_run,
  .free_state = constant_free,
};

/* ---- ConstantOfShape ---- */

typedef struct fill_params {
  imgrec_dtype type;
  union {
    float f;
    int64_t i;
    uint8_t b;
  } value;
} fill_params;

static int
constant_of_shape_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  fill_params *p = op_params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  p->type = IMGREC_DTYPE_FLOAT;     /* default: float 0 */
  ir_tensor value;
  memset (&value, 0, sizeof value);
  int r = op_attr_tensor (ctx, "value", &value, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return 0;
  int64_t n = ir_numel (&value);
  int result = 0;
  if (n != 1) {
    result = ir_fail (err, "attribute value must hold exactly one element, not %lld",
        (long long) n);
  } else {
    p->type = value.elem_type;
    switch (value.storage) {
      case IR_F32: p->value.f = ir_f32 (&value)[0]; break;
      case IR_I64: p->value.i = ir_i64 (&value)[0]; break;
      default: p->value.b = ir_bool (&value)[0]; break;
    }
  }
  if (value.owns_data)
    free (value.data);
  return result;
}

static int
constant_of_shape_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (op_need_output (node, out, ctx->err) < 0)
    return -1;
  const fill_params *p = node->params;
  imgrec_error *err = ctx->err;
  if (op_need_input (node, in, 0, "input", err) < 0)
    return -1;
  const ir_tensor *shape = in[0];
  if (shape->data == NULL)
    return ir_fail (err, "the values of the shape input are not known when the session "
        "is planned");
  if (shape->storage != IR_I64 || shape->rank != 1)
    return ir_fail (err, "the shape input must be a 1-D integer tensor");
  if (shape->dims[0] > IMGREC_MAX_RANK)
    return ir_fail (err, "the shape input has %lld values; at most %d are supported",
        (long long) shape->dims[0], IMGREC_MAX_RANK);
  int rank = (int) shape->dims[0];
  /* The non-zero dims must multiply within range even when another is 0, so
   * that consumers can take partial products of an empty tensor's dims. */
  int64_t dims[IMGREC_MAX_RANK], nonzero = 1;
  for (int i = 0; i < rank; i++) {
    dims[i] = ir_i64 (shape)[i];
    if (dims[i] < 0)
      return ir_fail (err, "dimension %d of the shape input is negative (%lld)", i,
          (long long) dims[i]);
    if (dims[i] == 0)
      continue;
    if (nonzero > INT64_MAX / 8 / dims[i])
      return ir_fail (err, "the output shape has too many elements");
    nonzero *= dims[i];
  }
  ir_set_shape (out[0], p->type, rank, dims);
  return 0;
}

typedef struct fill_job {
  const fill_params *p;
  ir_tensor *out;
} fill_job;

static void
fill_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const fill_job *job = arg;
  switch (job->out->storage) {
    case IR_F32:
      for (int64_t i = begin; i < end; i++)
        ir_f32 (job->out)[i] = job->p->value.f;
      break;
    case IR_I64:
      for (int64_t i = begin; i < end; i++)
        ir_i64 (job->out)[i] = job->p->value.i;
      break;
    default:
      memset (ir_bool (job->out) + begin, job->p->value.b, (size_t) (end - begin));
      break;
  }
}

static int
constant_of_shape_run (const ir_node *node, const op_run_ctx *ctx)
{
  fill_job job = { node->params, ctx->out[0] };
  ir_parallel_for (ctx->pool, ir_numel (ctx->out[0]), ELEM_GRAIN, fill_range, &job);
  return 0;
}

static const op_kernel constant_of_shape_v9 = {
  .op_type = "ConstantOfShape", .domain = "", .since_version = 9,
  .needs_input_data = 1u << 0,
  .init = constant_of_shape_init, .infer = constant_of_shape_infer,
  .run = constant_of_shape_run,
};

/* ---- Cast ---- */

typedef struct cast_params {
  imgrec_dtype to;
} cast_params;

static int
cast_check_target (cast_params *p, imgrec_error *err)
{
  if (p->to == IMGREC_DTYPE_DOUBLE)
    return ir_fail (err, "Cast to double is not supported: the engine computes floating "
        "types in float32");
  if (p->to == IMGREC_DTYPE_STRING)
    return ir_fail (err, "Cast to string is not supported");
  if (ir_storage_for (p->to) == IR_NONE)
    return ir_fail (err, "Cast to type %s (%d) is not supported",
        imgrec_dtype_name (p->to), (int) p->to);
  return 0;
}

static int
cast_init_v6 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  cast_params *p = op_params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  if (!op_attr_has (ctx, "to"))
    return ir_fail (err, "attribute to is missing");
  int64_t to = op_attr_int (ctx, "to", 0);
  if (to < 0 || to > 1000)
    return ir_fail (err, "attribute to is %lld, which is not an ONNX data type",
        (long long) to);
  p->to = (imgrec_dtype) to;
  return cast_check_target (p, err);
}

/* Opset 1 names the type as a string ("FLOAT", "INT64", ...). */
static int
cast_init_v1 (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  static const struct { const char *name; imgrec_dtype type; } names[] = {
    { "FLOAT", IMGREC_DTYPE_FLOAT }, { "UINT8", IMGREC_DTYPE_UINT8 },
    { "INT8", IMGREC_DTYPE_INT8 }, { "UINT16", IMGREC_DTYPE_UINT16 },
    { "INT16", IMGREC_DTYPE_INT16 }, { "INT32", IMGREC_DTYPE_INT32 },
    { "INT64", IMGREC_DTYPE_INT64 }, { "STRING", IMGREC_DTYPE_STRING },
    { "BOOL", IMGREC_DTYPE_BOOL }, { "FLOAT16", IMGREC_DTYPE_FLOAT16 },
    { "DOUBLE", IMGREC_DTYPE_DOUBLE }, { "UINT32", IMGREC_DTYPE_UINT32 },
    { "UINT64", IMGREC_DTYPE_UINT64 },
  };
  cast_params *p = op_params_new (node, sizeof *p, err);
  if (p == NULL)
    return -1;
  const char *to = op_attr_string (ctx, "to", NULL);
  if (to == NULL)
    return ir_fail (err, "attribute to is missing");
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp (to, names[i].name) == 0) {
      p->to = names[i].type;
      return cast_check_target (p, err);
    }
  }
  return ir_fail (err, "attribute to is '%s', which is not an ONNX data type name", to);
}

static int
cast_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (op_need_output (node, out, ctx->err) < 0)
    return -1;
  const cast_params *p = node->params;
  if (op_need_input (node, in, 0, "input", ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], p->to, in[0]->rank, in[0]->dims);
  return 0;
}

/* An integer narrowed to the width of its declared type (two's complement
 * wrap, as C and numpy casts do). */
static inline int64_t
wrap_to_type (int64_t v, imgrec_dtype type)
{
  switch (type) {
    case IMGREC_DTYPE_INT8: return (int8_t) v;
    case IMGREC_DTYPE_UINT8: return (uint8_t) v;
    case IMGREC_DTYPE_INT16: return (int16_t) v;
    case IMGREC_DTYPE_UINT16: return (uint16_t) v;
    case IMGREC_DTYPE_INT32: return (int32_t) v;
    case IMGREC_DTYPE_UINT32: return (uint32_t) v;
    default: return v;
  }
}

/* Float to integer truncates toward zero; NaN and values out of the int64
 * range give INT64_MIN (what x86 does) instead of undefined behaviour. */
static inline int64_t
float_to_int64 (float f, imgrec_dtype type)
{
  if (f > -9.2233720e18f && f < 9.2233720e18f)
    return (int64_t) f;
  if (type == IMGREC_DTYPE_UINT64 && f >= 9.2233720e18f && f < 1.8446744e19f)
    return (int64_t) (uint64_t) f;
  return INT64_MIN;
}

static inline float
round_to_half (float f)
{
  return ir_half_to_float (ir_float_to_half (f));
}

typedef struct cast_job {
  const ir_tensor *in;
  ir_tensor *out;
} cast_job;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_F16C 1

/* float32 -> float16 -> float32 with the F16C instructions (round to
 * nearest even, like ir_float_to_half). */
__attribute__ ((target ("avx,f16c")))
static void
round_to_half_f16c (float *dst, const float *src, int64_t n)
{
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm256_cvtps_ph (_mm256_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_storeu_ps (dst + i, _mm256_cvtph_ps (h));
  }
  for (; i < n; i++)
    dst[i] = round_to_half (src[i]);
}
#endif

static void
cast_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const cast_job *job = arg;
  const ir_tensor *x = job->in;
  ir_tensor *y = job->out;
  imgrec_dtype to = y->elem_type;
  bool to_half = to == IMGREC_DTYPE_FLOAT16;
  bool from_unsigned64 = x->elem_type == IMGREC_DTYPE_UINT64;
  switch (x->storage) {
    case IR_F32: {
      const float *s = ir_f32 (x);
      if (y->storage == IR_F32 && to_half && x->elem_type != IMGREC_DTYPE_FLOAT16) {
#ifdef HAVE_F16C
        /* Every AVX2 CPU has F16C; clang's builtin does not know "f16c". */
        if (ir_cpu ()->isa >= IR_ISA_AVX2) {
          round_to_half_f16c (ir_f32 (y) + begin, s + begin, end - begin);
          break;
        }
#endif
        for (int64_t i = begin; i < end; i++)
          ir_f32 (y)[i] = round_to_half (s[i]);
      } else if (y->storage == IR_F32) {
        memcpy (ir_f32 (y) + begin, s + begin, (size_t) (end - begin) * sizeof *s);
      } else if (y->storage == IR_I64) {
        for (int64_t i = begin; i < end; i++)
          ir_i64 (y)[i] = wrap_to_type (float_to_int64 (s[i], to), to);
      } else {
        for (int64_t i = begin; i < end; i++)
          ir_bool (y)[i] = s[i] != 0;    /* NaN is true, as in numpy */
      }
      break;
    }
    case IR_I64: {
      const int64_t *s = ir_i64 (x);
      if (y->storage == IR_F32) {
        for (int64_t i = begin; i < end; i++) {
          float f = from_unsigned64 ? (float) (uint64_t) s[i] : (float) s[i];
          ir_f32 (y)[i] = to_half ? round_to_half (f) : f;
        }
      } else if (y->storage == IR_I64) {
        for (int64_t i = begin; i < end; i++)
          ir_i64 (y)[i] = wrap_to_type (s[i], to);
      } else {
        for (int64_t i = begin; i < end; i++)
          ir_bool (y)[i] = s[i] != 0;
      }
      break;
    }
    default: {
      const uint8_t *s = ir_bool (x);
      if (y->storage == IR_F32) {
        for (int64_t i = begin; i < end; i++)
          ir_f32 (y)[i] = s[i] ? 1.0f : 0.0f;
      } else if (y->storage == IR_I64) {
        for (int64_t i = begin; i < end; i++)
          ir_i64 (y)[i] = s[i] != 0;
      } else {
        for (int64_t i = begin; i < end; i++)
          ir_bool (y)[i] = s[i] != 0;
      }
      break;
    }
  }
}

static int
cast_run (const ir_node *node, const op_run_ctx *ctx)
{
  cast_job job = { ctx->in[0], ctx->out[0] };
  if (job.in->storage == IR_NONE)
    return ir_fail (ctx->err, "the input type %s is not supported",
        imgrec_dtype_name (job.in->elem_type));
  ir_parallel_for (ctx->pool, ir_numel (job.in), ELEM_GRAIN, cast_range, &job);
  return 0;
}

static const op_kernel cast_v1 = {
  .op_type = "Cast", .domain = "", .since_version = 1,
  .init = cast_init_v1, .infer = cast_infer, .run = cast_run,
};

static const op_kernel cast_v6 = {
  .op_type = "Cast", .domain = "", .since_version = 6,
  .init = cast_init_v6, .infer = cast_infer, .run = cast_run,
};

/* CastLike (opset 15): the target type is the second input's. */
static int
cast_like_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (op_need_output (node, out, ctx->err) < 0)
    return -1;
  if (op_need_input (node, in, 0, "input", ctx->err) < 0
      || op_need_input (node, in, 1, "target_type", ctx->err) < 0)
    return -1;
  cast_params target = { in[1]->elem_type };
  if (cast_check_target (&target, ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], target.to, in[0]->rank, in[0]->dims);
  return 0;
}

static const op_kernel cast_like_v15 = {
  .op_type = "CastLike", .domain = "", .since_version = 15,
  .infer = cast_like_infer, .run = cast_run,
};

/* ---- Range ---- */

/* Checks the three scalar inputs and computes the element count
 * max(ceil((limit - start) / delta), 0). */
static int
range_count (const ir_node *node, ir_tensor *const *in, int64_t *count, imgrec_error *err)
{
  static const char *const names[3] = { "start", "limit", "delta" };
  for (int i = 0; i < 3; i++) {
    if (op_need_input (node, in, i, names[i], err) < 0)
      return -1;
    if (in[i]->data == NULL)
      return ir_fail (err, "the value of the %s input is not known when the session is "
          "planned", names[i]);
    if (ir_numel (in[i]) != 1)
      return ir_fail (err, "the %s input must be a scalar", names[i]);
    if (in[i]->storage != in[0]->storage || in[i]->storage == IR_BOOL)
      return ir_fail (err, "start, limit and delta must be numbers of one type");
  }
  if (in[0]->storage == IR_F32) {
    double start = ir_f32 (in[0])[0], limit = ir_f32 (in[1])[0], delta = ir_f32 (in[2])[0];
    if (delta == 0 || !isfinite (delta) || !isfinite (start) || !isfinite (limit))
      return ir_fail (err, "start, limit and delta must be finite and delta non-zero");
    double n = ceil ((limit - start) / delta);
    if (n > (double) (INT64_MAX / 8))
      return ir_fail (err, "the range has too many elements (%g)", n);
    *count = n > 0 ? (int64_t) n : 0;
    return 0;
  }
  int64_t start = ir_i64 (in[0])[0], limit = ir_i64 (in[1])[0], delta = ir_i64 (in[2])[0];
  if (delta == 0)
    return ir_fail (err, "delta is 0");
  __int128 span = (__int128) limit - start;
  __int128 n = 0;
  if ((span > 0 && delta > 0) || (span < 0 && delta < 0)) {
    __int128 mag_span = span < 0 ? -span : span, mag_delta = delta < 0 ? -(__int128) delta : delta;
    n = (mag_span + mag_delta - 1) / mag_delta;
  }
  if (n > INT64_MAX / 8)
    return ir_fail (err, "the range has too many elements");
  *count = (int64_t) n;
  return 0;
}

static int
range_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (op_need_output (node, out, ctx->err) < 0)
    return -1;
  int64_t count;
  if (range_count (node, in, &count, ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], in[0]->elem_type, 1, &count);
  return 0;
}

static int
range_run (const ir_node *node, const op_run_ctx *ctx)
{
  ir_tensor *const *in = ctx->in;
  ir_tensor *y = ctx->out[0];
  int64_t n = ir_numel (y);
  if (y->storage == IR_F32) {
    /* start + i * delta in double: no drift from repeated float adds. */
    double start = ir_f32 (in[0])[0], delta = ir_f32 (in[2])[0];
    for (int64_t i = 0; i < n; i++)
      ir_f32 (y)[i] = (float) (start + (double) i * delta);
  } else {
    int64_t start = ir_i64 (in[0])[0], delta = ir_i64 (in[2])[0];
    for (int64_t i = 0; i < n; i++)
      ir_i64 (y)[i] = start + i * delta;
  }
  return 0;
}

static const op_kernel range_v11 = {
  .op_type = "Range", .domain = "", .since_version = 11,
  .needs_input_data = (1u << 0) | (1u << 1) | (1u << 2),
  .infer = range_infer, .run = range_run,
};

const op_kernel *const ir_ops_tensor[] = {
  &constant_v1,
  &constant_of_shape_v9,
  &cast_v1, &cast_v6,
  &cast_like_v15,
  &range_v11,
  NULL,
};
