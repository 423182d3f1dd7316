/* Op family: activation.
 *
 * Pointwise non-linearities: Relu, LeakyRelu, Sigmoid, Tanh, Clip,
 * HardSigmoid, HardSwish, Elu, Selu, Celu, Softplus, Softsign,
 * ThresholdedRelu, Shrink.  (PRelu broadcasts
 * its slope, so it lives with the broadcasting ops in elementwise.c.)
 *
 * This file also owns ir_activation_apply, the epilogue that conv, gemm and
 * the binary elementwise ops run on every output they produce.  It has three
 * implementations chosen at run time: AVX-512, AVX2+FMA and a scalar
 * reference (libm) that the SIMD paths are tested against.  The SIMD paths
 * compute exp with a Cephes-style polynomial (relative error about 2e-7 in
 * the normal range, correct overflow to inf, gradual underflow to 0), and
 * tanh with an odd polynomial near 0 where 1 - 2/(e^2x + 1) would cancel.
 *
 * ir_vector_exp_sum, the same vector exp with a shift and a running sum, is
 * exported for softmax.c and the Exp op in elementwise.c (declared there;
 * op.h has no room for it yet). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "op.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define ACT_X86 1
#include <immintrin.h>
#else
#define ACT_X86 0
#endif

#include "activation.h"

/* ---------------------------------------------------------------------- */
/* Scalar reference                                                        */
/* ---------------------------------------------------------------------- */

static inline float
act_one (const ir_activation *act, float v)
{
  switch (act->kind) {
  case IR_ACT_NONE:
    return v;
  case IR_ACT_RELU:
    return v < 0.0f ? 0.0f : v;        /* NaN stays NaN */
  case IR_ACT_CLIP:
    /* ONNX: min(max(x, lo), hi), so lo > hi gives hi everywhere. */
    v = v < act->alpha ? act->alpha : v;
    return v > act->beta ? act->beta : v;
  case IR_ACT_LEAKY_RELU:
    return v < 0.0f ? v * act->alpha : v;
  case IR_ACT_SIGMOID:
    return 1.0f / (1.0f + expf (-v));
  case IR_ACT_TANH:
    return tanhf (v);
  case IR_ACT_HARD_SIGMOID:
    {
      float h = act->alpha * v + act->beta;
      h = h < 0.0f ? 0.0f : h;
      return h > 1.0f ? 1.0f : h;
    }
  case IR_ACT_HARD_SWISH:
    {
      float h = v * (1.0f / 6.0f) + 0.5f;
      h = h < 0.0f ? 0.0f : h;
      return v * (h > 1.0f ? 1.0f : h);
    }
  case IR_ACT_ELU:
    return v < 0.0f ? act->alpha * expm1f (v) : v;
  case IR_ACT_SILU:
    return v * (1.0f / (1.0f + expf (-v)));
  }
  return v;
}

static void
apply_scalar (const ir_activation *act, const float *x, float *y, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = act_one (act, x[i]);
}

void
ir_activation_apply_scalar (const ir_activation *act, float *x, int64_t n)
{
  apply_scalar (act, x, x, n);
}

/* The fusion pass decides at load, before types are known, so an integer
 * Add -> Relu can arrive fused.  Relu and Clip are exact on integers; the
 * other kinds are only defined for floats and go through float. */
void
ir_activation_apply_i64 (const ir_activation *act, int64_t *x, int64_t n)
{
  switch (act->kind) {
  case IR_ACT_NONE:
    return;
  case IR_ACT_RELU:
    for (int64_t i = 0; i < n; i++)
      x[i] = x[i] < 0 ? 0 : x[i];
    return;
  case IR_ACT_CLIP:
    {
      /* Bounds are floats: round them inward to integers. */
      double lo = ceil (act->alpha), hi = floor (act->beta);
      for (int64_t i = 0; i < n; i++) {
        double v = (double) x[i];
        if (v < lo)
          x[i] = lo <= -9.2233720368547758e18 ? INT64_MIN : (int64_t) lo;
        if (v > hi)
          x[i] = hi >= 9.2233720368547758e18 ? INT64_MAX : (int64_t) hi;
      }
      return;
    }
  default:
    for (int64_t i = 0; i < n; i++) {
      float v = act_one (act, (float) x[i]);
      x[i] = v != v ? 0 : v >= 9.2233720368547758e18f ? INT64_MAX
          : v <= -9.2233720368547758e18f ? INT64_MIN : (int64_t) v;
    }
  }
}

static float
exp_sum_scalar (const float *x, float *y, int64_t n, float shift)
{
  float sum = 0.0f;
  for (int64_t i = 0; i < n; i++) {
    y[i] = expf (x[i] - shift);
    sum += y[i];
  }
  return sum;
}

/* ---------------------------------------------------------------------- */
/* Shared constants of the vector exp                                      */
/* ---------------------------------------------------------------------- */

/* Clamping to [-104, 89] keeps n = round(x / ln2) in [-150, 128]; 2^n is then
 * applied as two factors 2^(n/2) that are always normal floats, so results
 * overflow to inf and underflow through the subnormals exactly like expf. */
#define EXP_LO -104.0f
#define EXP_HI 89.0f
#define EXP_LOG2E 1.44269504088896341f
#define EXP_LN2_HI 0.693359375f
#define EXP_LN2_LO -2.12194440e-4f
#define EXP_P0 1.9875691500e-4f
#define EXP_P1 1.3981999507e-3f
#define EXP_P2 8.3334519073e-3f
#define EXP_P3 4.1665795894e-2f
#define EXP_P4 1.6666665459e-1f
#define EXP_P5 5.0000001201e-1f

/* tanh(x) = x + x^3 P(x^2) for |x| < 0.625 (Cephes tanhf). */
#define TANH_SMALL 0.625f
#define TANH_P0 -5.70498872745e-3f
#define TANH_P1 2.06390887954e-2f
#define TANH_P2 -5.37397155531e-2f
#define TANH_P3 1.33314422036e-1f
#define TANH_P4 -3.33332819422e-1f

/* expm1(x) for |x| < 0.5 by its Taylor series to x^8 (error < 1e-8). */
#define EXPM1_SMALL 0.5f

#if ACT_X86

/* The kernels themselves are in activation_simd.inc, written once in the
 * vocabulary each block below defines and instantiated per vector width. */

/* ---------------------------------------------------------------------- */
/* AVX-512                                                                 */
/* ---------------------------------------------------------------------- */

#define AVX512 __attribute__ ((target ("avx512f")))

/* AVX-512F has no float and/or, hence the integer casts. */
static inline AVX512 __m512
or_sign512 (__m512 magnitude, __m512 x)
{
  return _mm512_castsi512_ps (_mm512_or_si512 (_mm512_castps_si512 (magnitude),
      _mm512_and_si512 (_mm512_castps_si512 (x), _mm512_set1_epi32 ((int) 0x80000000u))));
}

static inline AVX512 __m512
pow2_512 (__m512i n)
{
  return _mm512_castsi512_ps (_mm512_slli_epi32 (_mm512_add_epi32 (n,
              _mm512_set1_epi32 (127)), 23));
}

#define SIMD_TARGET AVX512
#define SIMD_NAME(f) f##512
#define SIMD_WIDTH 16
#define vec __m512
#define vint __m512i
#define vmask __mmask16
#define v_set1 _mm512_set1_ps
#define v_zero _mm512_setzero_ps
#define v_add _mm512_add_ps
#define v_sub _mm512_sub_ps
#define v_mul _mm512_mul_ps
#define v_div _mm512_div_ps
#define v_min _mm512_min_ps
#define v_max _mm512_max_ps
#define v_fmadd _mm512_fmadd_ps
#define v_fnmadd _mm512_fnmadd_ps
#define v_round(x) _mm512_roundscale_ps (x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define v_abs _mm512_abs_ps
#define v_or_sign or_sign512
#define v_lt(a, b) _mm512_cmp_ps_mask (a, b, _CMP_LT_OQ)
#define v_isnan(x) _mm512_cmp_ps_mask (x, x, _CMP_UNORD_Q)
#define v_select _mm512_mask_blend_ps
#define v_to_int _mm512_cvtps_epi32
#define vi_half(n) _mm512_srai_epi32 (n, 1)
#define vi_sub _mm512_sub_epi32
#define v_pow2 pow2_512
#define v_load _mm512_loadu_ps
#define v_store _mm512_storeu_ps
#define v_tail_mask(left) ((__mmask16) ((1u << (left)) - 1))   /* left < 16 */
#define v_load_masked(p, m) _mm512_maskz_loadu_ps (m, p)
#define v_store_masked _mm512_mask_storeu_ps
#define v_keep _mm512_maskz_mov_ps
#define v_reduce_add _mm512_reduce_add_ps
#include "activation_simd.inc"

/* ---------------------------------------------------------------------- */
/* AVX2 + FMA                                                              */
/* ---------------------------------------------------------------------- */

#define AVX2 __attribute__ ((target ("avx2,fma")))

static inline AVX2 __m256
abs256 (__m256 x)
{
  return _mm256_and_ps (x, _mm256_castsi256_ps (_mm256_set1_epi32 (0x7fffffff)));
}

static inline AVX2 __m256
pow2_256 (__m256i n)
{
  return _mm256_castsi256_ps (_mm256_slli_epi32 (_mm256_add_epi32 (n,
              _mm256_set1_epi32 (127)), 23));
}

/* Lane mask for the last n < 8 elements (maskload/maskstore read the sign bit). */
static inline AVX2 __m256i
tail_mask256 (int64_t n)
{
  return _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) n),
      _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7));
}

static inline AVX2 float
reduce_add256 (__m256 acc)
{
  __m128 h = _mm_add_ps (_mm256_castps256_ps128 (acc), _mm256_extractf128_ps (acc, 1));
  h = _mm_add_ps (h, _mm_movehl_ps (h, h));
  h = _mm_add_ss (h, _mm_movehdup_ps (h));
  return _mm_cvtss_f32 (h);
}

#define SIMD_TARGET AVX2
#define SIMD_NAME(f) f##256
#define SIMD_WIDTH 8
#define vec __m256
#define vint __m256i
#define vmask __m256i
#define v_set1 _mm256_set1_ps
#define v_zero _mm256_setzero_ps
#define v_add _mm256_add_ps
#define v_sub _mm256_sub_ps
#define v_mul _mm256_mul_ps
#define v_div _mm256_div_ps
#define v_min _mm256_min_ps
#define v_max _mm256_max_ps
#define v_fmadd _mm256_fmadd_ps
#define v_fnmadd _mm256_fnmadd_ps
#define v_round(x) _mm256_round_ps (x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define v_abs abs256
#define v_or_sign(magnitude, x) _mm256_or_ps (magnitude, _mm256_and_ps (x, _mm256_set1_ps (-0.0f)))
#define v_lt(a, b) _mm256_cmp_ps (a, b, _CMP_LT_OQ)
#define v_isnan(x) _mm256_cmp_ps (x, x, _CMP_UNORD_Q)
#define v_select(m, a, b) _mm256_blendv_ps (a, b, m)
#define v_to_int _mm256_cvtps_epi32
#define vi_half(n) _mm256_srai_epi32 (n, 1)
#define vi_sub _mm256_sub_epi32
#define v_pow2 pow2_256
#define v_load _mm256_loadu_ps
#define v_store _mm256_storeu_ps
#define v_tail_mask tail_mask256
#define v_load_masked _mm256_maskload_ps
#define v_store_masked _mm256_maskstore_ps
#define v_keep(m, x) _mm256_and_ps (x, _mm256_castsi256_ps (m))
#define v_reduce_add reduce_add256
#include "activation_simd.inc"

#endif /* ACT_X86 */

/* ---------------------------------------------------------------------- */
/* Dispatch                                                                */
/* ---------------------------------------------------------------------- */

enum { ISA_SCALAR, ISA_AVX2, ISA_AVX512 };

/* src/cpu.c detected the CPU and the OS's register state once; IMGREC_ISA
 * may cap it. */
static int
best_isa (void)
{
#if ACT_X86
  if (ir_cpu ()->isa >= IR_ISA_AVX512)
    return ISA_AVX512;
  if (ir_cpu ()->isa >= IR_ISA_AVX2)
    return ISA_AVX2;
#endif
  return ISA_SCALAR;
}

/* y = act(x); y may be x. */
static void
apply_to (const ir_activation *act, const float *x, float *y, int64_t n)
{
  if (n <= 0)
    return;
  if (act->kind == IR_ACT_NONE) {
    if (y != x)
      memcpy (y, x, (size_t) n * sizeof (float));
    return;
  }
  switch (best_isa ()) {
#if ACT_X86
  case ISA_AVX512:
    apply512 (act, x, y, n);
    return;
  case ISA_AVX2:
    apply256 (act, x, y, n);
    return;
#endif
  default:
    apply_scalar (act, x, y, n);
  }
}

void
ir_activation_apply (const ir_activation *act, float *x, int64_t n)
{
  if (act != NULL && act->kind != IR_ACT_NONE)
    apply_to (act, x, x, n);
}

/* y[i] = exp(x[i] - shift); returns the sum of y.  x and y may be the same. */
float
ir_vector_exp_sum (const float *x, float *y, int64_t n, float shift)
{
  if (n <= 0)
    return 0.0f;
  switch (best_isa ()) {
#if ACT_X86
  case ISA_AVX512:
    return exp_sum512 (x, y, n, shift);
  case ISA_AVX2:
    return exp_sum256 (x, y, n, shift);
#endif
  default:
    return exp_sum_scalar (x, y, n, shift);
  }
}

/* ---------------------------------------------------------------------- */
/* The activation ops                                                      */
/* ---------------------------------------------------------------------- */

/* Ops that ir_activation does not cover, computed with libm. */
typedef enum act_extra {
  EXTRA_NONE = 0,
  EXTRA_SELU,       /* gamma * elu_alpha(x): ELU then a scale */
  EXTRA_SOFTPLUS,
  EXTRA_SOFTSIGN,
  EXTRA_CELU,           /* alpha */
  EXTRA_THRESHOLDED,    /* alpha */
  EXTRA_SHRINK,         /* alpha = lambd, beta = bias */
} act_extra;

typedef struct act_params {
  ir_activation act;
  act_extra extra;
  float gamma;             /* Selu */
  bool clip_inputs;        /* Clip opset >= 11: bounds come from inputs 1, 2 */
} act_params;

/* Elements per parallel chunk: small enough for 2 threads to share a
 * feature map, large enough that dispatch costs nothing. */
#define ACT_GRAIN 8192

typedef struct act_task {
  const act_params *p;
  ir_activation act;        /* resolved (Clip bounds read from inputs) */
  const float *x;
  float *y;
  const int64_t *xi;        /* int64 path (Relu, Clip) */
  int64_t *yi;
  int64_t lo, hi;           /* int64 Clip bounds */
} act_task;

static void
act_extra_range (const act_task *t, int64_t begin, int64_t end)
{
  const float *x = t->x;
  float *y = t->y;
  switch (t->p->extra) {
  case EXTRA_SELU:
    {
      apply_to (&t->act, x + begin, y + begin, end - begin);
      const float gamma = t->p->gamma;
      for (int64_t i = begin; i < end; i++)
        y[i] *= gamma;
      break;
    }
  case EXTRA_SOFTPLUS:
    /* log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x. */
    for (int64_t i = begin; i < end; i++) {
      float v = x[i];
      y[i] = (v > 0.0f ? v : 0.0f) + log1pf (expf (-fabsf (v)));
    }
    break;
  case EXTRA_SOFTSIGN:
    for (int64_t i = begin; i < end; i++)
      y[i] = x[i] / (1.0f + fabsf (x[i]));
    break;
  case EXTRA_CELU:
    {
      /* max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) */
      const float alpha = t->p->act.alpha, inv = 1.0f / alpha;
      for (int64_t i = begin; i < end; i++) {
        float v = x[i];
        y[i] = v > 0.0f ? v : alpha * expm1f (v * inv);
      }
      break;
    }
  case EXTRA_THRESHOLDED:
    {
      const float alpha = t->p->act.alpha;
      for (int64_t i = begin; i < end; i++)
        y[i] = x[i] > alpha ? x[i] : 0.0f;
      break;
    }
  case EXTRA_SHRINK:
    {
      const float lambd = t->p->act.alpha, bias = t->p->act.beta;
      for (int64_t i = begin; i < end; i++) {
        float v = x[i];
        y[i] = v < -lambd ? v + bias : v > lambd ? v - bias : 0.0f;
      }
      break;
    }
  case EXTRA_NONE:
    break;
  }
}

static void
act_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const act_task *t = arg;
  (void) thread_index;
  if (t->xi != NULL) {
    /* Integer Relu / Clip (opset 14 / 12 allow integer types). */
    for (int64_t i = begin; i < end; i++) {
      int64_t v = t->xi[i];
      v = v < t->lo ? t->lo : v;
      t->yi[i] = v > t->hi ? t->hi : v;
    }
    return;
  }
  if (t->p->extra != EXTRA_NONE) {
    act_extra_range (t, begin, end);
    return;
  }
  apply_to (&t->act, t->x + begin, t->y + begin, end - begin);
}

static int
act_init_common (ir_node *node, imgrec_error *err, int max_inputs, act_params **out)
{
  if (node->n_inputs < 1 || node->n_inputs > max_inputs || node->inputs[0] < 0)
    return ir_fail (err, "expected %s input X%s, got %d inputs.",
        max_inputs == 1 ? "exactly one" : "an", max_inputs == 1 ? "" : " and optional bounds",
        node->n_inputs);
  if (node->n_outputs < 1)
    return ir_fail (err, "expected one output, got none.");
  act_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory for the node's parameters.");
  node->params = p;
  *out = p;
  return 0;
}

static int
act_init_kind (ir_node *node, imgrec_error *err, ir_activation_kind kind,
    float alpha, float beta)
{
  act_params *p = NULL;
  if (act_init_common (node, err, 1, &p) < 0)
    return -1;
  p->act.kind = kind;
  p->act.alpha = alpha;
  p->act.beta = beta;
  return 0;
}

/* The ops without attributes: the kind is all there is to record. */
#define ACT_INIT_NO_ATTRIBUTES(fn, kind)                                \
  static int                                                            \
  fn (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)         \
  {                                                                     \
    return act_init_kind (node, err, kind, 0.0f, 0.0f);                 \
  }

ACT_INIT_NO_ATTRIBUTES (relu_init, IR_ACT_RELU)
ACT_INIT_NO_ATTRIBUTES (sigmoid_init, IR_ACT_SIGMOID)
ACT_INIT_NO_ATTRIBUTES (tanh_init, IR_ACT_TANH)
ACT_INIT_NO_ATTRIBUTES (hardswish_init, IR_ACT_HARD_SWISH)

static int
check_finite (const char *attr, float v, imgrec_error *err)
{
  if (!isfinite (v))
    return ir_fail (err, "attribute '%s' is %g; expected a finite number.", attr, v);
  return 0;
}

/* The kinds whose one attribute is a finite alpha. */
static int
act_init_alpha (ir_node *node, const op_init_ctx *ctx, imgrec_error *err,
    ir_activation_kind kind, float default_alpha)
{
  float alpha = op_attr_float (ctx, "alpha", default_alpha);
  if (check_finite ("alpha", alpha, err) < 0)
    return -1;
  return act_init_kind (node, err, kind, alpha, 0.0f);
}

static int
leakyrelu_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return act_init_alpha (node, ctx, err, IR_ACT_LEAKY_RELU, 0.01f);
}

static int
hardsigmoid_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  float alpha = op_attr_float (ctx, "alpha", 0.2f);
  float beta = op_attr_float (ctx, "beta", 0.5f);
  if (check_finite ("alpha", alpha, err) < 0 || check_finite ("beta", beta, err) < 0)
    return -1;
  return act_init_kind (node, err, IR_ACT_HARD_SIGMOID, alpha, beta);
}

static int
elu_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return act_init_alpha (node, ctx, err, IR_ACT_ELU, 1.0f);
}

static int
selu_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  float alpha = op_attr_float (ctx, "alpha", 1.67326319217681884765625f);
  float gamma = op_attr_float (ctx, "gamma", 1.05070102214813232421875f);
  if (check_finite ("alpha", alpha, err) < 0 || check_finite ("gamma", gamma, err) < 0)
    return -1;
  if (act_init_kind (node, err, IR_ACT_ELU, alpha, 0.0f) < 0)
    return -1;
  act_params *p = node->params;
  p->extra = EXTRA_SELU;
  p->gamma = gamma;
  return 0;
}

static int
extra_init (ir_node *node, imgrec_error *err, act_extra extra, float alpha, float beta)
{
  if (act_init_kind (node, err, IR_ACT_NONE, 0.0f, 0.0f) < 0)
    return -1;
  act_params *p = node->params;
  p->extra = extra;
  p->act.alpha = alpha;
  p->act.beta = beta;
  return 0;
}

static int
softplus_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return extra_init (node, err, EXTRA_SOFTPLUS, 0.0f, 0.0f);
}

static int
softsign_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return extra_init (node, err, EXTRA_SOFTSIGN, 0.0f, 0.0f);
}

static int
celu_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  float alpha = op_attr_float (ctx, "alpha", 1.0f);
  if (check_finite ("alpha", alpha, err) < 0)
    return -1;
  if (alpha == 0.0f)
    return ir_fail (err, "attribute 'alpha' is 0; expected a non-zero value (Celu divides by it).");
  return extra_init (node, err, EXTRA_CELU, alpha, 0.0f);
}

static int
thresholded_relu_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  float alpha = op_attr_float (ctx, "alpha", 1.0f);
  if (isnan (alpha))
    return ir_fail (err, "attribute 'alpha' is NaN; expected a number.");
  return extra_init (node, err, EXTRA_THRESHOLDED, alpha, 0.0f);
}

static int
shrink_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  float lambd = op_attr_float (ctx, "lambd", 0.5f);
  float bias = op_attr_float (ctx, "bias", 0.0f);
  if (check_finite ("lambd", lambd, err) < 0 || check_finite ("bias", bias, err) < 0)
    return -1;
  return extra_init (node, err, EXTRA_SHRINK, lambd, bias);
}

/* Clip up to opset 6: bounds are attributes (defaults: no bound). */
static int
clip1_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  float lo = op_attr_float (ctx, "min", -INFINITY);
  float hi = op_attr_float (ctx, "max", INFINITY);
  if (isnan (lo) || isnan (hi))
    return ir_fail (err, "attribute 'min' or 'max' is NaN; expected a number.");
  return act_init_kind (node, err, IR_ACT_CLIP, lo, hi);
}

/* Clip from opset 11: bounds are optional scalar inputs 1 and 2. */
static int
clip11_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  act_params *p = NULL;
  if (act_init_common (node, err, 3, &p) < 0)
    return -1;
  p->act.kind = IR_ACT_CLIP;
  p->act.alpha = -INFINITY;
  p->act.beta = INFINITY;
  p->clip_inputs = true;
  return 0;
}

static int
act_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const act_params *p = node->params;
  const ir_tensor *x = in[0];
  if (x == NULL)
    return ir_fail (ctx->err, "input X is missing.");
  bool int_ok = p->extra == EXTRA_NONE
      && (p->act.kind == IR_ACT_RELU || p->act.kind == IR_ACT_CLIP);
  if (x->storage != IR_F32 && !(int_ok && x->storage == IR_I64))
    return ir_fail (ctx->err, "input X has type %s; expected a floating type%s.",
        imgrec_dtype_name (x->elem_type), int_ok ? " or an integer type" : "");
  if (p->clip_inputs) {
    for (int i = 1; i < 3 && i < node->n_inputs; i++) {
      const ir_tensor *b = in[i];
      if (b == NULL)
        continue;
      if (ir_numel (b) != 1)
        return ir_fail (ctx->err, "input '%s' has %lld elements; expected a scalar.",
            i == 1 ? "min" : "max", (long long) ir_numel (b));
      if (b->storage != x->storage)
        return ir_fail (ctx->err, "input '%s' has type %s but X has type %s; expected the same type.",
            i == 1 ? "min" : "max", imgrec_dtype_name (b->elem_type),
            imgrec_dtype_name (x->elem_type));
    }
  }
  ir_set_shape (out[0], x->elem_type, x->rank, x->dims);
  return 0;
}

static int
act_run (const ir_node *node, const op_run_ctx *ctx)
{
  const act_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  ir_tensor *y = ctx->out[0];
  int64_t n = ir_numel (x);
  act_task t = { .p = p, .act = p->act };
  const ir_tensor *lo_t = p->clip_inputs && node->n_inputs > 1 ? ctx->in[1] : NULL;
  const ir_tensor *hi_t = p->clip_inputs && node->n_inputs > 2 ? ctx->in[2] : NULL;

  if (x->storage == IR_I64) {
    t.xi = ir_i64 (x);
    t.yi = ir_i64 (y);
    t.lo = p->act.kind == IR_ACT_RELU ? 0 : INT64_MIN;
    t.hi = INT64_MAX;
    if (lo_t != NULL)
      t.lo = ir_i64 (lo_t)[0];
    if (hi_t != NULL)
      t.hi = ir_i64 (hi_t)[0];
    if (t.lo > t.hi)
      t.lo = t.hi;            /* min(max(x, lo), hi) == hi everywhere */
  } else {
    t.x = ir_f32 (x);
    t.y = ir_f32 (y);
    if (lo_t != NULL)
      t.act.alpha = ir_f32 (lo_t)[0];
    if (hi_t != NULL)
      t.act.beta = ir_f32 (hi_t)[0];
  }
  ir_parallel_for (ctx->pool, n, ACT_GRAIN, act_range, &t);
  /* An activation fused into this one (Tanh -> Relu, ...) comes last. */
  if (node->fused.kind != IR_ACT_NONE && y->storage == IR_F32)
    ir_activation_apply (&node->fused, ir_f32 (y), n);
  else if (node->fused.kind != IR_ACT_NONE && y->storage == IR_I64)
    ir_activation_apply_i64 (&node->fused, ir_i64 (y), n);
  return 0;
}

#define ACT_KERNEL(var, op, since, initfn)                      \
  static const op_kernel var = {                                \
    .op_type = op, .domain = "", .since_version = since,        \
    .fuses_activation = true,                                   \
    .init = initfn, .infer = act_infer, .run = act_run,         \
  }

ACT_KERNEL (relu_kernel, "Relu", 1, relu_init);
ACT_KERNEL (leakyrelu_kernel, "LeakyRelu", 1, leakyrelu_init);
ACT_KERNEL (sigmoid_kernel, "Sigmoid", 1, sigmoid_init);
ACT_KERNEL (tanh_kernel, "Tanh", 1, tanh_init);
ACT_KERNEL (clip1_kernel, "Clip", 1, clip1_init);
ACT_KERNEL (clip11_kernel, "Clip", 11, clip11_init);
ACT_KERNEL (hardsigmoid_kernel, "HardSigmoid", 1, hardsigmoid_init);
ACT_KERNEL (hardswish_kernel, "HardSwish", 14, hardswish_init);
ACT_KERNEL (elu_kernel, "Elu", 1, elu_init);
ACT_KERNEL (selu_kernel, "Selu", 1, selu_init);
ACT_KERNEL (softplus_kernel, "Softplus", 1, softplus_init);
ACT_KERNEL (softsign_kernel, "Softsign", 1, softsign_init);
ACT_KERNEL (celu_kernel, "Celu", 12, celu_init);
ACT_KERNEL (thresholded_relu_kernel, "ThresholdedRelu", 10, thresholded_relu_init);
ACT_KERNEL (shrink_kernel, "Shrink", 9, shrink_init);

const op_kernel *const ir_ops_activation[] = {
  &relu_kernel,
  &leakyrelu_kernel,
  &sigmoid_kernel,
  &tanh_kernel,
  &clip1_kernel,
  &clip11_kernel,
  &hardsigmoid_kernel,
  &hardswish_kernel,
  &elu_kernel,
  &selu_kernel,
  &softplus_kernel,
  &softsign_kernel,
  &celu_kernel,
  &thresholded_relu_kernel,
  &shrink_kernel,
  NULL
};
