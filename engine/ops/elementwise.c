/* Op family: elementwise.
 *
 * Binary arithmetic (Add, Sub, Mul, Div, Pow), comparisons and logic
 * (Equal, Less, Greater, LessOrEqual, GreaterOrEqual, And, Or, Xor), Mod,
 * BitShift, PRelu, Where, the variadic Sum/Max/Min/Mean, and the unary
 * maths ops (Sqrt, Exp, Log, Neg, Abs, Reciprocal, Floor, Ceil, Round, Sign,
 * Erf, Not, IsNaN, IsInf and the trigonometric and hyperbolic functions).
 *
 * One loop skeleton serves all of them.  The output shape and each input's
 * strides (0 along broadcast dimensions) are collapsed so that dimensions of
 * size 1 disappear and neighbouring dimensions that step through every input
 * contiguously merge.  What is left is a set of rows whose innermost
 * dimension has, for each input, stride 1 (contiguous) or 0 (one repeated
 * value): same-shape tensors become one long row, a [1,C,1,1] bias on NCHW
 * becomes N*C rows of H*W against a scalar, a trailing [C] becomes rows of C
 * against a vector.  Per-op row functions then only handle those four
 * stride patterns with plain loops, compiled for AVX-512, AVX2 and baseline
 * x86-64 (target_clones) so the compiler's vectoriser does the work.
 * Rows (or pieces of a long row) are spread over the session's threads.
 *
 * Storage: floats are float32, all integers int64 (results of Add/Sub/Mul
 * wrap to the declared integer width, e.g. uint8), bools uint8.  Integer Div
 * truncates toward zero as C does; division by zero gives 0 rather than a
 * trap.
 *
 * Opsets below 7 used explicit broadcasting (`broadcast`=1 with `axis`):
 * B's shape is laid against A's starting at `axis` (default: right-aligned),
 * which is turned here into an ordinary unidirectional broadcast. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"

#include "activation.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EW_CLONES __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EW_CLONES
#endif

#define EW_MAX_IN 3
/* When there are fewer rows than threads, rows are cut into pieces of at
 * least this many elements. */
#define EW_PIECE_MIN 4096
/* A thread is given at least this many elements. */
#define EW_GRAIN_ELEMS 16384

typedef enum ew_op {
  /* binary */
  EW_ADD, EW_SUB, EW_MUL, EW_DIV, EW_POW, EW_MAX, EW_MIN, EW_PRELU,
  EW_EQUAL, EW_LESS, EW_GREATER, EW_LESS_EQUAL, EW_GREATER_EQUAL,
  EW_AND, EW_OR, EW_XOR, EW_MOD, EW_BITSHIFT,
  /* variadic */
  EW_SUM, EW_VMAX, EW_VMIN, EW_MEAN,
  /* unary */
  EW_SQRT, EW_EXP, EW_LOG, EW_NEG, EW_ABS, EW_RECIPROCAL, EW_FLOOR, EW_CEIL,
  EW_ROUND, EW_SIGN, EW_ERF, EW_NOT, EW_IS_NAN, EW_IS_INF,
  EW_SIN, EW_COS, EW_TAN, EW_ASIN, EW_ACOS, EW_ATAN,
  EW_SINH, EW_COSH, EW_ASINH, EW_ACOSH, EW_ATANH,
  /* other */
  EW_WHERE,
  EW_COPY, EW_SCALE,  /* internal: variadic with one input, Mean's 1/n */
  /* internal: the attribute-selected forms of Mod and BitShift */
  EW_FMOD, EW_SHIFT_LEFT, EW_SHIFT_RIGHT,
} ew_op;

typedef enum ew_class { EW_BINARY, EW_VARIADIC, EW_UNARY, EW_TERNARY } ew_class;

static const struct {
  const char *name;
  ew_op op;
  ew_class cls;
} ew_ops[] = {
  { "Add", EW_ADD, EW_BINARY }, { "Sub", EW_SUB, EW_BINARY },
  { "Mul", EW_MUL, EW_BINARY }, { "Div", EW_DIV, EW_BINARY },
  { "Pow", EW_POW, EW_BINARY }, { "PRelu", EW_PRELU, EW_BINARY },
  { "Equal", EW_EQUAL, EW_BINARY }, { "Less", EW_LESS, EW_BINARY },
  { "Greater", EW_GREATER, EW_BINARY }, { "LessOrEqual", EW_LESS_EQUAL, EW_BINARY },
  { "GreaterOrEqual", EW_GREATER_EQUAL, EW_BINARY },
  { "And", EW_AND, EW_BINARY }, { "Or", EW_OR, EW_BINARY }, { "Xor", EW_XOR, EW_BINARY },
  { "Sum", EW_SUM, EW_VARIADIC }, { "Max", EW_VMAX, EW_VARIADIC },
  { "Min", EW_VMIN, EW_VARIADIC }, { "Mean", EW_MEAN, EW_VARIADIC },
  { "Sqrt", EW_SQRT, EW_UNARY }, { "Exp", EW_EXP, EW_UNARY }, { "Log", EW_LOG, EW_UNARY },
  { "Neg", EW_NEG, EW_UNARY }, { "Abs", EW_ABS, EW_UNARY },
  { "Reciprocal", EW_RECIPROCAL, EW_UNARY }, { "Floor", EW_FLOOR, EW_UNARY },
  { "Ceil", EW_CEIL, EW_UNARY }, { "Round", EW_ROUND, EW_UNARY },
  { "Sign", EW_SIGN, EW_UNARY }, { "Erf", EW_ERF, EW_UNARY }, { "Not", EW_NOT, EW_UNARY },
  { "Mod", EW_MOD, EW_BINARY }, { "BitShift", EW_BITSHIFT, EW_BINARY },
  { "IsNaN", EW_IS_NAN, EW_UNARY }, { "IsInf", EW_IS_INF, EW_UNARY },
  { "Sin", EW_SIN, EW_UNARY }, { "Cos", EW_COS, EW_UNARY }, { "Tan", EW_TAN, EW_UNARY },
  { "Asin", EW_ASIN, EW_UNARY }, { "Acos", EW_ACOS, EW_UNARY }, { "Atan", EW_ATAN, EW_UNARY },
  { "Sinh", EW_SINH, EW_UNARY }, { "Cosh", EW_COSH, EW_UNARY },
  { "Asinh", EW_ASINH, EW_UNARY }, { "Acosh", EW_ACOSH, EW_UNARY },
  { "Atanh", EW_ATANH, EW_UNARY },
  { "Where", EW_WHERE, EW_TERNARY },
};

typedef struct ew_params {
  ew_op op;
  ew_class cls;
  /* Opset < 7 forms. */
  bool legacy;               /* explicit-broadcast rules apply */
  bool legacy_broadcast;     /* attribute broadcast=1 */
  bool has_axis;
  int64_t axis;
  /* IsInf */
  bool detect_negative, detect_positive;
} ew_params;

/* ---------------------------------------------------------------------- */
/* Row functions: one contiguous run of n outputs                          */
/* ---------------------------------------------------------------------- */

/* in[k] points at the first element for input k; inc[k] is 1 when that
 * input advances along the row and 0 when it repeats one value.  The output
 * may alias input 0 (variadic ops accumulate in place), so no restrict. */
typedef void (*ew_row_fn) (void *out, const void *const *in, const int64_t *inc,
    int64_t n, const void *arg);

#define EW_BINARY_ROW(name, TI, TO, expr)                                   \
  static EW_CLONES void                                                     \
  name (void *out, const void *const *in, const int64_t *inc, int64_t n,    \
      const void *arg)                                                      \
  {                                                                         \
    const TI *pa = in[0], *pb = in[1];                                      \
    TO *o = out;                                                            \
    (void) arg;                                                             \
    if (inc[0] != 0 && inc[1] != 0) {                                       \
      for (int64_t i = 0; i < n; i++) {                                     \
        const TI x = pa[i], y = pb[i];                                      \
        o[i] = (expr);                                                      \
      }                                                                     \
    } else if (inc[0] != 0) {                                               \
      const TI y = pb[0];                                                   \
      for (int64_t i = 0; i < n; i++) {                                     \
        const TI x = pa[i];                                                 \
        o[i] = (expr);                                                      \
      }                                                                     \
    } else if (inc[1] != 0) {                                               \
      const TI x = pa[0];                                                   \
      for (int64_t i = 0; i < n; i++) {                                     \
        const TI y = pb[i];                                                 \
        o[i] = (expr);                                                      \
      }                                                                     \
    } else {                                                                \
      const TI x = pa[0], y = pb[0];                                        \
      const TO v = (expr);                                                  \
      for (int64_t i = 0; i < n; i++)                                       \
        o[i] = v;                                                           \
    }                                                                       \
  }

#define EW_UNARY_ROW(name, TI, TO, expr)                                    \
  static EW_CLONES void                                                     \
  name (void *out, const void *const *in, const int64_t *inc, int64_t n,    \
      const void *arg)                                                      \
  {                                                                         \
    const TI *pa = in[0];                                                   \
    TO *o = out;                                                            \
    (void) arg;                                                             \
    if (inc[0] != 0) {                                                      \
      for (int64_t i = 0; i < n; i++) {                                     \
        const TI x = pa[i];                                                 \
        o[i] = (expr);                                                      \
      }                                                                     \
    } else {                                                                \
      const TI x = pa[0];                                                   \
      const TO v = (expr);                                                  \
      for (int64_t i = 0; i < n; i++)                                       \
        o[i] = v;                                                           \
    }                                                                       \
  }

/* Integer arithmetic goes through uint64_t so that overflow wraps instead of
 * being undefined. */
#define WRAP_ADD(x, y) ((int64_t) ((uint64_t) (x) + (uint64_t) (y)))
#define WRAP_SUB(x, y) ((int64_t) ((uint64_t) (x) - (uint64_t) (y)))
#define WRAP_MUL(x, y) ((int64_t) ((uint64_t) (x) * (uint64_t) (y)))

static inline int64_t
int_div (int64_t x, int64_t y)
{
  if (y == 0)
    return 0;
  if (y == -1)
    return WRAP_SUB (0, x);   /* INT64_MIN / -1 would trap */
  return x / y;
}

static inline int64_t
int_pow (int64_t base, int64_t exp)
{
  if (exp < 0) {
    if (base == 1)
      return 1;
    if (base == -1)
      return (exp & 1) ? -1 : 1;
    return 0;
  }
  uint64_t result = 1, b = (uint64_t) base;
  while (exp > 0) {
    if (exp & 1)
      result *= b;
    b *= b;
    exp >>= 1;
  }
  return (int64_t) result;
}

/* float */
EW_BINARY_ROW (row_add_f32, float, float, x + y)
EW_BINARY_ROW (row_sub_f32, float, float, x - y)
EW_BINARY_ROW (row_mul_f32, float, float, x * y)
EW_BINARY_ROW (row_div_f32, float, float, x / y)
/* NaN in either input gives NaN, as numpy's maximum/minimum do. */
EW_BINARY_ROW (row_max_f32, float, float, x > y || x != x ? x : y)
EW_BINARY_ROW (row_min_f32, float, float, x < y || x != x ? x : y)
EW_BINARY_ROW (row_prelu_f32, float, float, x < 0.0f ? x * y : x)
EW_BINARY_ROW (row_powf_f32, float, float, powf (x, y))
EW_BINARY_ROW (row_eq_f32, float, uint8_t, x == y)
EW_BINARY_ROW (row_lt_f32, float, uint8_t, x < y)
EW_BINARY_ROW (row_gt_f32, float, uint8_t, x > y)
EW_BINARY_ROW (row_le_f32, float, uint8_t, x <= y)
EW_BINARY_ROW (row_ge_f32, float, uint8_t, x >= y)
/* int64 */
EW_BINARY_ROW (row_add_i64, int64_t, int64_t, WRAP_ADD (x, y))
EW_BINARY_ROW (row_sub_i64, int64_t, int64_t, WRAP_SUB (x, y))
EW_BINARY_ROW (row_mul_i64, int64_t, int64_t, WRAP_MUL (x, y))
EW_BINARY_ROW (row_div_i64, int64_t, int64_t, int_div (x, y))
EW_BINARY_ROW (row_pow_i64, int64_t, int64_t, int_pow (x, y))
EW_BINARY_ROW (row_max_i64, int64_t, int64_t, x > y ? x : y)
EW_BINARY_ROW (row_min_i64, int64_t, int64_t, x < y ? x : y)
EW_BINARY_ROW (row_prelu_i64, int64_t, int64_t, x < 0 ? WRAP_MUL (x, y) : x)
EW_BINARY_ROW (row_eq_i64, int64_t, uint8_t, x == y)
EW_BINARY_ROW (row_lt_i64, int64_t, uint8_t, x < y)
EW_BINARY_ROW (row_gt_i64, int64_t, uint8_t, x > y)
EW_BINARY_ROW (row_le_i64, int64_t, uint8_t, x <= y)
EW_BINARY_ROW (row_ge_i64, int64_t, uint8_t, x >= y)
/* bool */
EW_BINARY_ROW (row_eq_bool, uint8_t, uint8_t, x == y)
EW_BINARY_ROW (row_and_bool, uint8_t, uint8_t, x & y)
EW_BINARY_ROW (row_or_bool, uint8_t, uint8_t, x | y)
EW_BINARY_ROW (row_xor_bool, uint8_t, uint8_t, x ^ y)

/* Mod with fmod=0 takes the divisor's sign (Python's %), fmod=1 the
 * dividend's (C's fmod).  Division by zero gives 0 instead of a trap. */
static inline int64_t
int_mod (int64_t x, int64_t y)
{
  if (y == 0 || y == -1)
    return 0;                 /* INT64_MIN % -1 would trap */
  int64_t r = x % y;
  return r != 0 && ((r < 0) != (y < 0)) ? r + y : r;
}

static inline int64_t
int_fmod (int64_t x, int64_t y)
{
  return y == 0 || y == -1 ? 0 : x % y;
}

static inline float
float_mod (float x, float y)
{
  float r = fmodf (x, y);
  return r != 0.0f && ((r < 0.0f) != (y < 0.0f)) ? r + y : r;
}

/* BitShift is defined on unsigned types; shifting by 64 or more gives 0. */
static inline int64_t
shift_left (int64_t x, int64_t y)
{
  return (uint64_t) y >= 64 ? 0 : (int64_t) ((uint64_t) x << y);
}

static inline int64_t
shift_right (int64_t x, int64_t y)
{
  return (uint64_t) y >= 64 ? 0 : (int64_t) ((uint64_t) x >> y);
}

EW_BINARY_ROW (row_mod_i64, int64_t, int64_t, int_mod (x, y))
EW_BINARY_ROW (row_fmod_i64, int64_t, int64_t, int_fmod (x, y))
EW_BINARY_ROW (row_mod_f32, float, float, float_mod (x, y))
EW_BINARY_ROW (row_fmod_f32, float, float, fmodf (x, y))
EW_BINARY_ROW (row_shl_i64, int64_t, int64_t, shift_left (x, y))
EW_BINARY_ROW (row_shr_i64, int64_t, int64_t, shift_right (x, y))

/* Float Pow: exponents that models use as constants (x^2 in norms, x^0.5)
 * get exact loops instead of powf per element. */
static void
row_pow_f32 (void *out, const void *const *in, const int64_t *inc, int64_t n,
    const void *arg)
{
  if (inc[0] != 0 && inc[1] == 0) {
    const float *x = in[0];
    const float y = *(const float *) in[1];
    float *o = out;
    if (y == 2.0f) {
      row_mul_f32 (out, (const void *const[]) { x, x }, (const int64_t[]) { 1, 1 }, n, arg);
      return;
    }
    if (y == 1.0f) {
      memmove (o, x, (size_t) n * sizeof (float));
      return;
    }
    if (y == 0.5f) {
      for (int64_t i = 0; i < n; i++)
        o[i] = sqrtf (x[i]);
      return;
    }
    if (y == 3.0f) {
      for (int64_t i = 0; i < n; i++)
        o[i] = x[i] * x[i] * x[i];
      return;
    }
  }
  row_powf_f32 (out, in, inc, n, arg);
}

/* Pow with mixed types (allowed from opset 12): the result has X's type. */
static void
row_pow_f32_i64 (void *out, const void *const *in, const int64_t *inc, int64_t n,
    const void *arg)
{
  const float *x = in[0];
  const int64_t *y = in[1];
  float *o = out;
  for (int64_t i = 0; i < n; i++)
    o[i] = (float) pow ((double) x[i * inc[0]], (double) y[i * inc[1]]);
}

static void
row_pow_i64_f32 (void *out, const void *const *in, const int64_t *inc, int64_t n,
    const void *arg)
{
  const int64_t *x = in[0];
  const float *y = in[1];
  int64_t *o = out;
  for (int64_t i = 0; i < n; i++) {
    double v = pow ((double) x[i * inc[0]], (double) y[i * inc[1]]);
    /* Out-of-range conversions are undefined in C: saturate instead. */
    o[i] = v != v ? 0 : v >= 9.2233720368547758e18 ? INT64_MAX
        : v <= -9.2233720368547758e18 ? INT64_MIN : (int64_t) v;
  }
}

/* unary */
EW_UNARY_ROW (row_sqrt_f32, float, float, sqrtf (x))
EW_UNARY_ROW (row_log_f32, float, float, logf (x))
EW_UNARY_ROW (row_neg_f32, float, float, -x)
EW_UNARY_ROW (row_abs_f32, float, float, fabsf (x))
EW_UNARY_ROW (row_reciprocal_f32, float, float, 1.0f / x)
EW_UNARY_ROW (row_floor_f32, float, float, floorf (x))
EW_UNARY_ROW (row_ceil_f32, float, float, ceilf (x))
EW_UNARY_ROW (row_round_f32, float, float, rintf (x))  /* half to even */
EW_UNARY_ROW (row_sign_f32, float, float, x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : x)
EW_UNARY_ROW (row_erf_f32, float, float, erff (x))
EW_UNARY_ROW (row_isnan_f32, float, uint8_t, x != x)
EW_UNARY_ROW (row_sin_f32, float, float, sinf (x))
EW_UNARY_ROW (row_cos_f32, float, float, cosf (x))
EW_UNARY_ROW (row_tan_f32, float, float, tanf (x))
EW_UNARY_ROW (row_asin_f32, float, float, asinf (x))
EW_UNARY_ROW (row_acos_f32, float, float, acosf (x))
EW_UNARY_ROW (row_atan_f32, float, float, atanf (x))
EW_UNARY_ROW (row_sinh_f32, float, float, sinhf (x))
EW_UNARY_ROW (row_cosh_f32, float, float, coshf (x))
EW_UNARY_ROW (row_asinh_f32, float, float, asinhf (x))
EW_UNARY_ROW (row_acosh_f32, float, float, acoshf (x))
EW_UNARY_ROW (row_atanh_f32, float, float, atanhf (x))
EW_UNARY_ROW (row_neg_i64, int64_t, int64_t, WRAP_SUB (0, x))
EW_UNARY_ROW (row_abs_i64, int64_t, int64_t, x < 0 ? WRAP_SUB (0, x) : x)
EW_UNARY_ROW (row_sign_i64, int64_t, int64_t, (x > 0) - (x < 0))
EW_UNARY_ROW (row_not_bool, uint8_t, uint8_t, !x)
EW_UNARY_ROW (row_copy_f32, float, float, x)
EW_UNARY_ROW (row_copy_i64, int64_t, int64_t, x)

static void
row_exp_f32 (void *out, const void *const *in, const int64_t *inc, int64_t n,
    const void *arg)
{
  if (inc[0] != 0) {
    ir_vector_exp_sum (in[0], out, n, 0.0f);
  } else {
    float v = expf (*(const float *) in[0]);
    for (int64_t i = 0; i < n; i++)
      ((float *) out)[i] = v;
  }
}

/* `arg` is the node's ew_params. */
static void
row_isinf_f32 (void *out, const void *const *in, const int64_t *inc, int64_t n,
    const void *arg)
{
  const ew_params *p = arg;
  const float *x = in[0];
  uint8_t *o = out;
  for (int64_t i = 0; i < n; i++) {
    float v = x[i * inc[0]];
    o[i] = (v == INFINITY && p->detect_positive) || (v == -INFINITY && p->detect_negative);
  }
}

static EW_CLONES void
row_scale_f32 (void *out, const void *const *in, const int64_t *inc, int64_t n,
    const void *arg)
{
  const float s = *(const float *) arg;
  const float *x = in[0];
  float *o = out;
  for (int64_t i = 0; i < n; i++)
    o[i] = x[i] * s;
}

static void
row_scale_i64 (void *out, const void *const *in, const int64_t *inc, int64_t n,
    const void *arg)
{
  /* Integer Mean (not in the spec, but harmless): truncating division. */
  const int64_t d = *(const int64_t *) arg;
  const int64_t *x = in[0];
  int64_t *o = out;
  for (int64_t i = 0; i < n; i++)
    o[i] = int_div (x[i], d);
}

#define EW_WHERE_ROW(name, T)                                               \
  static void                                                               \
  name (void *out, const void *const *in, const int64_t *inc, int64_t n,    \
      const void *arg)                                                      \
  {                                                                         \
    const uint8_t *c = in[0];                                               \
    const T *x = in[1], *y = in[2];                                         \
    T *o = out;                                                             \
    for (int64_t i = 0; i < n; i++)                                         \
      o[i] = c[i * inc[0]] ? x[i * inc[1]] : y[i * inc[2]];                 \
  }

EW_WHERE_ROW (row_where_f32, float)
EW_WHERE_ROW (row_where_i64, int64_t)
EW_WHERE_ROW (row_where_bool, uint8_t)

/* The row function for an op and the storage of its (first) inputs. */
static ew_row_fn
ew_pick_row (ew_op op, ir_storage a, ir_storage b)
{
  if (a == IR_F32) {
    switch (op) {
    case EW_ADD: case EW_SUM: case EW_MEAN: return row_add_f32;
    case EW_SUB: return row_sub_f32;
    case EW_MUL: return row_mul_f32;
    case EW_DIV: return row_div_f32;
    case EW_POW: return b == IR_I64 ? row_pow_f32_i64 : row_pow_f32;
    case EW_MAX: case EW_VMAX: return row_max_f32;
    case EW_MIN: case EW_VMIN: return row_min_f32;
    case EW_PRELU: return row_prelu_f32;
    case EW_EQUAL: return row_eq_f32;
    case EW_LESS: return row_lt_f32;
    case EW_GREATER: return row_gt_f32;
    case EW_LESS_EQUAL: return row_le_f32;
    case EW_GREATER_EQUAL: return row_ge_f32;
    case EW_SQRT: return row_sqrt_f32;
    case EW_EXP: return row_exp_f32;
    case EW_LOG: return row_log_f32;
    case EW_NEG: return row_neg_f32;
    case EW_ABS: return row_abs_f32;
    case EW_RECIPROCAL: return row_reciprocal_f32;
    case EW_FLOOR: return row_floor_f32;
    case EW_CEIL: return row_ceil_f32;
    case EW_ROUND: return row_round_f32;
    case EW_SIGN: return row_sign_f32;
    case EW_ERF: return row_erf_f32;
    case EW_IS_NAN: return row_isnan_f32;
    case EW_IS_INF: return row_isinf_f32;
    case EW_SIN: return row_sin_f32;
    case EW_COS: return row_cos_f32;
    case EW_TAN: return row_tan_f32;
    case EW_ASIN: return row_asin_f32;
    case EW_ACOS: return row_acos_f32;
    case EW_ATAN: return row_atan_f32;
    case EW_SINH: return row_sinh_f32;
    case EW_COSH: return row_cosh_f32;
    case EW_ASINH: return row_asinh_f32;
    case EW_ACOSH: return row_acosh_f32;
    case EW_ATANH: return row_atanh_f32;
    case EW_MOD: return row_mod_f32;
    case EW_FMOD: return row_fmod_f32;
    case EW_COPY: return row_copy_f32;
    case EW_SCALE: return row_scale_f32;
    default: return NULL;
    }
  }
  if (a == IR_I64) {
    switch (op) {
    case EW_ADD: case EW_SUM: case EW_MEAN: return row_add_i64;
    case EW_SUB: return row_sub_i64;
    case EW_MUL: return row_mul_i64;
    case EW_DIV: return row_div_i64;
    case EW_POW: return b == IR_F32 ? row_pow_i64_f32 : row_pow_i64;
    case EW_MAX: case EW_VMAX: return row_max_i64;
    case EW_MIN: case EW_VMIN: return row_min_i64;
    case EW_PRELU: return row_prelu_i64;
    case EW_EQUAL: return row_eq_i64;
    case EW_LESS: return row_lt_i64;
    case EW_GREATER: return row_gt_i64;
    case EW_LESS_EQUAL: return row_le_i64;
    case EW_GREATER_EQUAL: return row_ge_i64;
    case EW_NEG: return row_neg_i64;
    case EW_ABS: return row_abs_i64;
    case EW_SIGN: return row_sign_i64;
    case EW_MOD: return row_mod_i64;
    case EW_FMOD: return row_fmod_i64;
    case EW_SHIFT_LEFT: return row_shl_i64;
    case EW_SHIFT_RIGHT: return row_shr_i64;
    case EW_COPY: return row_copy_i64;
    case EW_SCALE: return row_scale_i64;
    default: return NULL;
    }
  }
  if (a == IR_BOOL) {
    switch (op) {
    case EW_EQUAL: return row_eq_bool;
    case EW_AND: return row_and_bool;
    case EW_OR: return row_or_bool;
    case EW_XOR: return row_xor_bool;
    case EW_NOT: return row_not_bool;
    default: return NULL;
    }
  }
  return NULL;
}

static ew_row_fn
ew_pick_where_row (ir_storage s)
{
  switch (s) {
  case IR_F32: return row_where_f32;
  case IR_I64: return row_where_i64;
  case IR_BOOL: return row_where_bool;
  default: return NULL;
  }
}

/* Results of integer arithmetic are kept in int64; narrow declared types
 * wrap like the real type would (uint8 200 + 100 = 44). */
static void
ew_wrap_ints (int64_t *v, int64_t n, imgrec_dtype type)
{
  switch (type) {
  case IMGREC_DTYPE_INT8:
    for (int64_t i = 0; i < n; i++) v[i] = (int8_t) v[i];
    break;
  case IMGREC_DTYPE_UINT8:
    for (int64_t i = 0; i < n; i++) v[i] = (uint8_t) v[i];
    break;
  case IMGREC_DTYPE_INT16:
    for (int64_t i = 0; i < n; i++) v[i] = (int16_t) v[i];
    break;
  case IMGREC_DTYPE_UINT16:
    for (int64_t i = 0; i < n; i++) v[i] = (uint16_t) v[i];
    break;
  case IMGREC_DTYPE_INT32:
    for (int64_t i = 0; i < n; i++) v[i] = (int32_t) v[i];
    break;
  case IMGREC_DTYPE_UINT32:
    for (int64_t i = 0; i < n; i++) v[i] = (uint32_t) v[i];
    break;
  default:
    break;
  }
}

/* ---------------------------------------------------------------------- */
/* The loop skeleton                                                       */
/* ---------------------------------------------------------------------- */

/* Output dims and per-input element strides after collapsing. */
typedef struct ew_layout {
  int rank;
  int64_t dims[IMGREC_MAX_RANK];
  int64_t stride[EW_MAX_IN][IMGREC_MAX_RANK];
} ew_layout;

/* in_dims[k] are input k's dims aligned to the output rank (leading 1s
 * added); each must be 1 or equal to the output's dim. */
static void
ew_layout_build (ew_layout *lay, int rank, const int64_t *out_dims, int n_in,
    int64_t in_dims[][IMGREC_MAX_RANK])
{
  int64_t full[EW_MAX_IN][IMGREC_MAX_RANK];
  for (int k = 0; k < n_in; k++) {
    int64_t s = 1;
    for (int d = rank - 1; d >= 0; d--) {
      full[k][d] = in_dims[k][d] == 1 ? 0 : s;
      s *= in_dims[k][d];
    }
  }
  lay->rank = 0;
  for (int d = 0; d < rank; d++) {
    if (out_dims[d] == 1)
      continue;
    int r = lay->rank;
    bool merge = r > 0;
    for (int k = 0; k < n_in && merge; k++)
      merge = lay->stride[k][r - 1] == full[k][d] * out_dims[d];
    if (merge) {
      lay->dims[r - 1] *= out_dims[d];
      for (int k = 0; k < n_in; k++)
        lay->stride[k][r - 1] = full[k][d];
    } else {
      lay->dims[r] = out_dims[d];
      for (int k = 0; k < n_in; k++)
        lay->stride[k][r] = full[k][d];
      lay->rank++;
    }
  }
  if (lay->rank == 0) {
    lay->rank = 1;
    lay->dims[0] = 1;
    for (int k = 0; k < n_in; k++)
      lay->stride[k][0] = 0;
  }
}

typedef struct ew_job {
  ew_layout lay;
  int n_in;
  const char *in[EW_MAX_IN];
  size_t in_size[EW_MAX_IN];
  char *out;
  size_t out_size;
  ew_row_fn row;
  const void *arg;
  ir_activation fused;       /* applied to float and int64 outputs */
  imgrec_dtype wrap;         /* integer type results wrap to, or UNDEFINED */
  int64_t pieces, piece;     /* each row is cut into `pieces` of `piece` */
} ew_job;

static void
ew_job_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const ew_job *job = arg;
  const ew_layout *lay = &job->lay;
  const int outer = lay->rank - 1;
  const int64_t inner = lay->dims[outer];
  int64_t idx[IMGREC_MAX_RANK] = { 0 };
  int64_t off[EW_MAX_IN] = { 0 };
  int64_t row = begin / job->pieces, p = begin % job->pieces;
  int64_t out_off = row * inner;
  (void) thread_index;

  for (int d = outer - 1; d >= 0; d--) {
    idx[d] = row % lay->dims[d];
    row /= lay->dims[d];
    for (int k = 0; k < job->n_in; k++)
      off[k] += idx[d] * lay->stride[k][d];
  }

  int64_t inc[EW_MAX_IN];
  for (int k = 0; k < job->n_in; k++)
    inc[k] = lay->stride[k][outer] != 0;

  for (int64_t item = begin; item < end; item++) {
    int64_t start = p * job->piece;
    int64_t len = inner - start < job->piece ? inner - start : job->piece;
    const void *in[EW_MAX_IN];
    for (int k = 0; k < job->n_in; k++)
      in[k] = job->in[k] + (size_t) (off[k] + start * inc[k]) * job->in_size[k];
    char *o = job->out + (size_t) (out_off + start) * job->out_size;
    job->row (o, in, inc, len, job->arg);
    if (job->wrap != IMGREC_DTYPE_UNDEFINED)
      ew_wrap_ints ((int64_t *) o, len, job->wrap);
    if (job->fused.kind != IR_ACT_NONE) {
      if (job->out_size == sizeof (float))
        ir_activation_apply (&job->fused, (float *) o, len);
      else
        ir_activation_apply_i64 (&job->fused, (int64_t *) o, len);
    }

    if (++p == job->pieces) {
      p = 0;
      out_off += inner;
      for (int d = outer - 1; d >= 0; d--) {
        for (int k = 0; k < job->n_in; k++)
          off[k] += lay->stride[k][d];
        if (++idx[d] < lay->dims[d])
          break;
        for (int k = 0; k < job->n_in; k++)
          off[k] -= lay->stride[k][d] * lay->dims[d];
        idx[d] = 0;
      }
    }
  }
}

/* Runs `row` over the output shape (rank, dims) with the n_in inputs, each
 * given with its dims aligned to that rank. */
static void
ew_execute (const op_run_ctx *ctx, int rank, const int64_t *dims, int n_in,
    int64_t in_dims[][IMGREC_MAX_RANK], const ir_tensor *const *in, ir_tensor *out,
    ew_row_fn row, const void *arg, const ir_activation *fused)
{
  for (int d = 0; d < rank; d++)
    if (dims[d] == 0)
      return;

  ew_job job = { .n_in = n_in, .row = row, .arg = arg };
  ew_layout_build (&job.lay, rank, dims, n_in, in_dims);
  for (int k = 0; k < n_in; k++) {
    job.in[k] = in[k]->data;
    job.in_size[k] = ir_storage_size (in[k]->storage);
  }
  job.out = out->data;
  job.out_size = ir_storage_size (out->storage);
  if (fused != NULL && (out->storage == IR_F32 || out->storage == IR_I64))
    job.fused = *fused;
  if (out->storage == IR_I64 && out->elem_type != IMGREC_DTYPE_INT64
      && out->elem_type != IMGREC_DTYPE_UINT64)
    job.wrap = out->elem_type;

  const int64_t inner = job.lay.dims[job.lay.rank - 1];
  int64_t rows = 1;
  for (int d = 0; d < job.lay.rank - 1; d++)
    rows *= job.lay.dims[d];
  const int threads = ir_pool_threads (ctx->pool);
  int64_t pieces = 1;
  if (threads > 1 && rows < 4 * (int64_t) threads && inner >= 2 * EW_PIECE_MIN) {
    int64_t want = (4 * (int64_t) threads + rows - 1) / rows;
    int64_t most = inner / EW_PIECE_MIN;
    pieces = want < most ? want : most;
  }
  /* Pieces a multiple of 16 elements long keep vector stores aligned. */
  int64_t piece = (inner + pieces - 1) / pieces;
  if (pieces > 1)
    piece = (piece + 15) & ~(int64_t) 15;
  job.piece = piece;
  job.pieces = (inner + piece - 1) / piece;

  int64_t grain = EW_GRAIN_ELEMS / piece;
  ir_parallel_for (ctx->pool, rows * job.pieces, grain < 1 ? 1 : grain, ew_job_range, &job);
}

/* ---------------------------------------------------------------------- */
/* Shapes                                                                  */
/* ---------------------------------------------------------------------- */

/* Pads `t`'s dims with leading 1s to `rank`. */
static void
ew_align (const ir_tensor *t, int rank, int64_t *aligned)
{
  int lead = rank - t->rank;
  for (int d = 0; d < rank; d++)
    aligned[d] = d < lead ? 1 : t->dims[d - lead];
}

/* Output shape of a binary op and both inputs' dims aligned to it. */
static int
ew_binary_shapes (const ew_params *p, const ir_tensor *a, const ir_tensor *b,
    int *rank, int64_t *dims, int64_t aligned[2][IMGREC_MAX_RANK], imgrec_error *err)
{
  int64_t numel_b = ir_numel (b);

  if (p->legacy && p->legacy_broadcast && numel_b == 1) {
    /* A one-element B is a scalar whatever its rank. */
    *rank = a->rank;
    memcpy (dims, a->dims, sizeof (int64_t) * a->rank);
    ew_align (a, a->rank, aligned[0]);
    for (int d = 0; d < a->rank; d++)
      aligned[1][d] = 1;
    return 0;
  }
  if (p->legacy && p->legacy_broadcast) {
    /* B's dims lie against A's starting at axis; each equal or 1. */
    int64_t axis = p->has_axis ? p->axis : a->rank - b->rank;
    if (axis < 0 && p->has_axis)
      axis += a->rank;
    if (b->rank > a->rank || axis < 0 || axis + b->rank > a->rank)
      return ir_fail (err, "attribute 'axis' is %lld: B of rank %d does not fit in A of rank %d from there.",
          (long long) (p->has_axis ? p->axis : axis), b->rank, a->rank);
    *rank = a->rank;
    memcpy (dims, a->dims, sizeof (int64_t) * a->rank);
    ew_align (a, a->rank, aligned[0]);
    for (int d = 0; d < a->rank; d++) {
      int j = d - (int) axis;
      aligned[1][d] = j >= 0 && j < b->rank ? b->dims[j] : 1;
      if (aligned[1][d] != 1 && aligned[1][d] != a->dims[d])
        return ir_fail (err, "B's dimension %d is %lld but A's dimension %d is %lld (broadcast from axis %lld); expected equal or 1.",
            j, (long long) aligned[1][d], d, (long long) a->dims[d], (long long) axis);
    }
    return 0;
  }
  /* Opset >= 7, or the legacy form without broadcast=1 (which requires
   * equal shapes; numpy rules accept those and are the lenient superset). */
  if (ir_broadcast_shapes (a->rank, a->dims, b->rank, b->dims, rank, dims, err) < 0)
    return -1;
  ew_align (a, *rank, aligned[0]);
  ew_align (b, *rank, aligned[1]);
  return 0;
}

/* PRelu: the slope broadcasts to X (unidirectionally); before opset 7 a
 * 1-D slope of X's channel count applies per channel (axis 1), which is
 * what PyTorch's PReLU(num_parameters=C) exported. */
static int
ew_prelu_shapes (const ew_params *p, const ir_tensor *x, const ir_tensor *slope,
    int *rank, int64_t *dims, int64_t aligned[2][IMGREC_MAX_RANK], imgrec_error *err)
{
  *rank = x->rank;
  memcpy (dims, x->dims, sizeof (int64_t) * x->rank);
  ew_align (x, x->rank, aligned[0]);
  if (p->legacy && slope->rank == 1 && x->rank >= 2 && slope->dims[0] == x->dims[1]
      && slope->dims[0] != 1) {
    for (int d = 0; d < x->rank; d++)
      aligned[1][d] = d == 1 ? slope->dims[0] : 1;
    return 0;
  }
  if (slope->rank > x->rank)
    return ir_fail (err, "slope has rank %d, more than X's rank %d; expected it to broadcast to X.",
        slope->rank, x->rank);
  ew_align (slope, x->rank, aligned[1]);
  for (int d = 0; d < x->rank; d++)
    if (aligned[1][d] != 1 && aligned[1][d] != x->dims[d])
      return ir_fail (err, "slope's shape does not broadcast to X's: dimension %d is %lld against %lld.",
          d - (x->rank - slope->rank), (long long) aligned[1][d], (long long) x->dims[d]);
  return 0;
}

static int
ew_pair_shapes (const ew_params *p, const ir_tensor *a, const ir_tensor *b,
    int *rank, int64_t *dims, int64_t aligned[2][IMGREC_MAX_RANK], imgrec_error *err)
{
  if (p->op == EW_PRELU)
    return ew_prelu_shapes (p, a, b, rank, dims, aligned, err);
  return ew_binary_shapes (p, a, b, rank, dims, aligned, err);
}

/* ---------------------------------------------------------------------- */
/* init                                                                    */
/* ---------------------------------------------------------------------- */

static int
ew_init_common (ir_node *node, const op_init_ctx *ctx, imgrec_error *err, bool legacy)
{
  const char *type = node->op_type;
  size_t i;
  for (i = 0; i < sizeof ew_ops / sizeof ew_ops[0]; i++)
    if (strcmp (ew_ops[i].name, type) == 0)
      break;
  if (i == sizeof ew_ops / sizeof ew_ops[0])
    return ir_fail (err, "op type '%s' is not an elementwise op.", type);

  int want_min, want_max;
  switch (ew_ops[i].cls) {
  case EW_BINARY: want_min = want_max = 2; break;
  case EW_UNARY: want_min = want_max = 1; break;
  case EW_TERNARY: want_min = want_max = 3; break;
  default: want_min = 1; want_max = 1 << 20; break;
  }
  if (node->n_inputs < want_min || node->n_inputs > want_max) {
    if (want_min == want_max)
      return ir_fail (err, "expected %d inputs, got %d.", want_min, node->n_inputs);
    return ir_fail (err, "expected at least one input, got none.");
  }
  for (int k = 0; k < node->n_inputs; k++)
    if (node->inputs[k] < 0)
      return ir_fail (err, "input %d is missing; every input of this op is required.", k);
  if (node->n_outputs < 1 || node->outputs[0] < 0)
    return ir_fail (err, "expected one output.");

  ew_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory for the node's parameters.");
  p->op = ew_ops[i].op;
  p->cls = ew_ops[i].cls;
  p->legacy = legacy;
  node->params = p;

  if (p->op == EW_MOD) {
    int64_t fmod = op_attr_int (ctx, "fmod", 0);
    if (fmod != 0 && fmod != 1)
      return ir_fail (err, "attribute 'fmod' is %lld; expected 0 or 1.", (long long) fmod);
    if (fmod == 1)
      p->op = EW_FMOD;
  } else if (p->op == EW_BITSHIFT) {
    const char *dir = op_attr_string (ctx, "direction", "");
    if (strcmp (dir, "LEFT") == 0)
      p->op = EW_SHIFT_LEFT;
    else if (strcmp (dir, "RIGHT") == 0)
      p->op = EW_SHIFT_RIGHT;
    else
      return ir_fail (err, "attribute 'direction' is '%s'; expected LEFT or RIGHT.", dir);
  } else if (p->op == EW_IS_INF) {
    p->detect_negative = op_attr_int (ctx, "detect_negative", 1) != 0;
    p->detect_positive = op_attr_int (ctx, "detect_positive", 1) != 0;
  }
  return 0;
}

static int
ew_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  return ew_init_common (node, ctx, err, false);
}

/* Opset 1..6 binary ops: `broadcast` and `axis` attributes. */
static int
ew_init_legacy (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  if (ew_init_common (node, ctx, err, true) < 0)
    return -1;
  ew_params *p = node->params;
  int64_t broadcast = op_attr_int (ctx, "broadcast", 0);
  if (broadcast != 0 && broadcast != 1)
    return ir_fail (err, "attribute 'broadcast' is %lld; expected 0 or 1.", (long long) broadcast);
  p->legacy_broadcast = broadcast == 1;
  p->has_axis = op_attr_has (ctx, "axis");
  p->axis = op_attr_int (ctx, "axis", 0);
  if (p->has_axis && (p->axis < -IMGREC_MAX_RANK || p->axis >= IMGREC_MAX_RANK))
    return ir_fail (err, "attribute 'axis' is %lld; expected a value in [%d, %d).",
        (long long) p->axis, -IMGREC_MAX_RANK, IMGREC_MAX_RANK);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* infer                                                                   */
/* ---------------------------------------------------------------------- */

static bool
ew_is_compare (ew_op op)
{
  return op == EW_EQUAL || op == EW_LESS || op == EW_GREATER
      || op == EW_LESS_EQUAL || op == EW_GREATER_EQUAL;
}

static bool
ew_is_logic (ew_op op)
{
  return op == EW_AND || op == EW_OR || op == EW_XOR || op == EW_NOT;
}

static int
ew_check_types (const ew_params *p, const ir_tensor *a, const ir_tensor *b,
    imgrec_error *err)
{
  ir_storage sa = a->storage, sb = b != NULL ? b->storage : sa;
  const char *na = imgrec_dtype_name (a->elem_type);
  const char *nb = b != NULL ? imgrec_dtype_name (b->elem_type) : na;

  if (ew_is_logic (p->op)) {
    if (sa != IR_BOOL || sb != IR_BOOL)
      return ir_fail (err, "inputs have types %s and %s; expected bool.", na, nb);
    return 0;
  }
  if (p->op == EW_POW) {
    if ((sa != IR_F32 && sa != IR_I64) || (sb != IR_F32 && sb != IR_I64))
      return ir_fail (err, "inputs have types %s and %s; expected numeric types.", na, nb);
    return 0;
  }
  if (sa != sb)
    return ir_fail (err, "inputs have types %s and %s; expected the same type.", na, nb);
  if (p->op == EW_EQUAL && sa == IR_BOOL)
    return 0;
  if (ew_pick_row (p->op, sa, sb) == NULL)
    return ir_fail (err, "input type %s is not supported by this op.", na);
  return 0;
}

static int
ew_binary_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const ew_params *p = node->params;
  if (in[0] == NULL || in[1] == NULL)
    return ir_fail (ctx->err, "an input is missing.");
  if (ew_check_types (p, in[0], in[1], ctx->err) < 0)
    return -1;
  int rank;
  int64_t dims[IMGREC_MAX_RANK], aligned[2][IMGREC_MAX_RANK];
  if (ew_pair_shapes (p, in[0], in[1], &rank, dims, aligned, ctx->err) < 0)
    return -1;
  imgrec_dtype type = ew_is_compare (p->op) || ew_is_logic (p->op)
      ? IMGREC_DTYPE_BOOL : in[0]->elem_type;
  ir_set_shape (out[0], type, rank, dims);
  return 0;
}

static int
ew_binary_run (const ir_node *node, const op_run_ctx *ctx)
{
  const ew_params *p = node->params;
  const ir_tensor *a = ctx->in[0], *b = ctx->in[1];
  int rank;
  int64_t dims[IMGREC_MAX_RANK], aligned[2][IMGREC_MAX_RANK];
  if (ew_pair_shapes (p, a, b, &rank, dims, aligned, ctx->err) < 0)
    return -1;
  ew_row_fn row = ew_pick_row (p->op, a->storage, b->storage);
  if (row == NULL)
    return ir_fail (ctx->err, "input types %s and %s are not supported.",
        imgrec_dtype_name (a->elem_type), imgrec_dtype_name (b->elem_type));
  const ir_tensor *ins[2] = { a, b };
  ew_execute (ctx, rank, dims, 2, aligned, ins, ctx->out[0], row, NULL, &node->fused);
  return 0;
}

static int
ew_unary_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const ew_params *p = node->params;
  const ir_tensor *x = in[0];
  if (x == NULL)
    return ir_fail (ctx->err, "input X is missing.");
  if (ew_pick_row (p->op, x->storage, x->storage) == NULL)
    return ir_fail (ctx->err, "input X has type %s, which this op does not support.",
        imgrec_dtype_name (x->elem_type));
  bool to_bool = p->op == EW_IS_NAN || p->op == EW_IS_INF;
  ir_set_shape (out[0], to_bool ? IMGREC_DTYPE_BOOL : x->elem_type, x->rank, x->dims);
  return 0;
}

static int
ew_unary_run (const ir_node *node, const op_run_ctx *ctx)
{
  const ew_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  ew_row_fn row = ew_pick_row (p->op, x->storage, x->storage);
  if (row == NULL)
    return ir_fail (ctx->err, "input X has an unsupported type.");
  int64_t n = ir_numel (x);
  int64_t aligned[1][IMGREC_MAX_RANK] = { { n } };
  ew_execute (ctx, 1, &n, 1, aligned, &x, ctx->out[0], row, p, &node->fused);
  return 0;
}

/* Sum/Max/Min/Mean: all inputs broadcast together. */
static int
ew_variadic_shape (const ir_node *node, ir_tensor *const *in, int *rank,
    int64_t *dims, imgrec_error *err)
{
  const ew_params *p = node->params;
  if (in[0] == NULL)
    return ir_fail (err, "input 0 is missing.");
  *rank = in[0]->rank;
  memcpy (dims, in[0]->dims, sizeof (int64_t) * in[0]->rank);
  for (int k = 1; k < node->n_inputs; k++) {
    if (in[k] == NULL)
      return ir_fail (err, "input %d is missing.", k);
    if (ew_check_types (p, in[0], in[k], err) < 0)
      return -1;
    int64_t next[IMGREC_MAX_RANK];
    if (ir_broadcast_shapes (*rank, dims, in[k]->rank, in[k]->dims, rank, next, err) < 0)
      return -1;
    memcpy (dims, next, sizeof (int64_t) * *rank);
  }
  return 0;
}

static int
ew_variadic_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const ew_params *p = node->params;
  int rank;
  int64_t dims[IMGREC_MAX_RANK];
  if (ew_variadic_shape (node, in, &rank, dims, ctx->err) < 0)
    return -1;
  if (ew_pick_row (p->op, in[0]->storage, in[0]->storage) == NULL)
    return ir_fail (ctx->err, "input type %s is not supported by this op.",
        imgrec_dtype_name (in[0]->elem_type));
  ir_set_shape (out[0], in[0]->elem_type, rank, dims);
  return 0;
}

static int
ew_variadic_run (const ir_node *node, const op_run_ctx *ctx)
{
  const ew_params *p = node->params;
  ir_tensor *out = ctx->out[0];
  const int n_in = node->n_inputs;
  const int rank = out->rank;
  const bool mean = p->op == EW_MEAN && n_in > 1;
  int64_t aligned[2][IMGREC_MAX_RANK];

  if (n_in == 1) {
    const ir_tensor *only = ctx->in[0];
    ew_align (only, rank, aligned[0]);
    ew_execute (ctx, rank, out->dims, 1, aligned, &only, out,
        ew_pick_row (EW_COPY, out->storage, out->storage), NULL, &node->fused);
    return 0;
  }
  ew_row_fn row = ew_pick_row (p->op, out->storage, out->storage);
  /* out = in0 op in1, then out = out op in_k: the output is its own first
   * input from the second step on. */
  for (int k = 1; k < n_in; k++) {
    const ir_tensor *ins[2] = { k == 1 ? ctx->in[0] : out, ctx->in[k] };
    ew_align (ins[0], rank, aligned[0]);
    ew_align (ins[1], rank, aligned[1]);
    bool last = k == n_in - 1 && !mean;
    ew_execute (ctx, rank, out->dims, 2, aligned, ins, out, row, NULL,
        last ? &node->fused : NULL);
  }
  if (mean) {
    float scale_f = 1.0f / (float) n_in;
    int64_t scale_i = n_in;
    const void *arg = out->storage == IR_F32 ? (const void *) &scale_f : (const void *) &scale_i;
    int64_t n = ir_numel (out);
    int64_t flat[1][IMGREC_MAX_RANK] = { { n } };
    const ir_tensor *self = out;
    ew_execute (ctx, 1, &n, 1, flat, &self, out,
        ew_pick_row (EW_SCALE, out->storage, out->storage), arg, &node->fused);
  }
  return 0;
}

/* Where(condition, X, Y): three-way broadcast. */
static int
ew_where_shapes (ir_tensor *const *in, int *rank, int64_t *dims,
    int64_t aligned[3][IMGREC_MAX_RANK], imgrec_error *err)
{
  int64_t tmp[IMGREC_MAX_RANK];
  int r;
  if (ir_broadcast_shapes (in[0]->rank, in[0]->dims, in[1]->rank, in[1]->dims, &r, tmp, err) < 0)
    return -1;
  if (ir_broadcast_shapes (r, tmp, in[2]->rank, in[2]->dims, rank, dims, err) < 0)
    return -1;
  for (int k = 0; k < 3; k++)
    ew_align (in[k], *rank, aligned[k]);
  return 0;
}

static int
ew_where_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  if (in[0] == NULL || in[1] == NULL || in[2] == NULL)
    return ir_fail (ctx->err, "an input is missing.");
  if (in[0]->storage != IR_BOOL)
    return ir_fail (ctx->err, "condition has type %s; expected bool.",
        imgrec_dtype_name (in[0]->elem_type));
  if (in[1]->storage != in[2]->storage || ew_pick_where_row (in[1]->storage) == NULL)
    return ir_fail (ctx->err, "X and Y have types %s and %s; expected the same type.",
        imgrec_dtype_name (in[1]->elem_type), imgrec_dtype_name (in[2]->elem_type));
  int rank;
  int64_t dims[IMGREC_MAX_RANK], aligned[3][IMGREC_MAX_RANK];
  if (ew_where_shapes (in, &rank, dims, aligned, ctx->err) < 0)
    return -1;
  ir_set_shape (out[0], in[1]->elem_type, rank, dims);
  return 0;
}

static int
ew_where_run (const ir_node *node, const op_run_ctx *ctx)
{
  int rank;
  int64_t dims[IMGREC_MAX_RANK], aligned[3][IMGREC_MAX_RANK];
  if (ew_where_shapes (ctx->in, &rank, dims, aligned, ctx->err) < 0)
    return -1;
  const ir_tensor *ins[3] = { ctx->in[0], ctx->in[1], ctx->in[2] };
  ew_execute (ctx, rank, dims, 3, aligned, ins, ctx->out[0],
      ew_pick_where_row (ctx->in[1]->storage), NULL, NULL);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Registry                                                                */
/* ---------------------------------------------------------------------- */

#define EW_KERNEL(var, op, since, initfn, kind, fuses)          \
  static const op_kernel var = {                                \
    .op_type = op, .domain = "", .since_version = since,        \
    .fuses_activation = fuses, .init = initfn,                  \
    .infer = ew_##kind##_infer, .run = ew_##kind##_run,         \
  }

EW_KERNEL (add1_kernel, "Add", 1, ew_init_legacy, binary, true);
EW_KERNEL (add7_kernel, "Add", 7, ew_init, binary, true);
EW_KERNEL (sub1_kernel, "Sub", 1, ew_init_legacy, binary, true);
EW_KERNEL (sub7_kernel, "Sub", 7, ew_init, binary, true);
EW_KERNEL (mul1_kernel, "Mul", 1, ew_init_legacy, binary, true);
EW_KERNEL (mul7_kernel, "Mul", 7, ew_init, binary, true);
EW_KERNEL (div1_kernel, "Div", 1, ew_init_legacy, binary, true);
EW_KERNEL (div7_kernel, "Div", 7, ew_init, binary, true);
EW_KERNEL (pow1_kernel, "Pow", 1, ew_init_legacy, binary, true);
EW_KERNEL (pow7_kernel, "Pow", 7, ew_init, binary, true);
EW_KERNEL (prelu1_kernel, "PRelu", 1, ew_init_legacy, binary, true);
EW_KERNEL (prelu7_kernel, "PRelu", 7, ew_init, binary, true);
EW_KERNEL (equal1_kernel, "Equal", 1, ew_init_legacy, binary, false);
EW_KERNEL (equal7_kernel, "Equal", 7, ew_init, binary, false);
EW_KERNEL (less1_kernel, "Less", 1, ew_init_legacy, binary, false);
EW_KERNEL (less7_kernel, "Less", 7, ew_init, binary, false);
EW_KERNEL (greater1_kernel, "Greater", 1, ew_init_legacy, binary, false);
EW_KERNEL (greater7_kernel, "Greater", 7, ew_init, binary, false);
EW_KERNEL (less_equal_kernel, "LessOrEqual", 12, ew_init, binary, false);
EW_KERNEL (greater_equal_kernel, "GreaterOrEqual", 12, ew_init, binary, false);
EW_KERNEL (and1_kernel, "And", 1, ew_init_legacy, binary, false);
EW_KERNEL (and7_kernel, "And", 7, ew_init, binary, false);
EW_KERNEL (or1_kernel, "Or", 1, ew_init_legacy, binary, false);
EW_KERNEL (or7_kernel, "Or", 7, ew_init, binary, false);
EW_KERNEL (xor1_kernel, "Xor", 1, ew_init_legacy, binary, false);
EW_KERNEL (xor7_kernel, "Xor", 7, ew_init, binary, false);
EW_KERNEL (not_kernel, "Not", 1, ew_init, unary, false);
/* Sum/Max/Min/Mean required equal shapes before opset 8; numpy
 * broadcasting accepts those too, so one kernel covers all opsets. */
EW_KERNEL (sum_kernel, "Sum", 1, ew_init, variadic, true);
EW_KERNEL (max_kernel, "Max", 1, ew_init, variadic, true);
EW_KERNEL (min_kernel, "Min", 1, ew_init, variadic, true);
EW_KERNEL (mean_kernel, "Mean", 1, ew_init, variadic, true);
EW_KERNEL (sqrt_kernel, "Sqrt", 1, ew_init, unary, false);
EW_KERNEL (exp_kernel, "Exp", 1, ew_init, unary, false);
EW_KERNEL (log_kernel, "Log", 1, ew_init, unary, false);
EW_KERNEL (neg_kernel, "Neg", 1, ew_init, unary, false);
EW_KERNEL (abs_kernel, "Abs", 1, ew_init, unary, false);
EW_KERNEL (reciprocal_kernel, "Reciprocal", 1, ew_init, unary, false);
EW_KERNEL (floor_kernel, "Floor", 1, ew_init, unary, false);
EW_KERNEL (ceil_kernel, "Ceil", 1, ew_init, unary, false);
EW_KERNEL (round_kernel, "Round", 11, ew_init, unary, false);
EW_KERNEL (sign_kernel, "Sign", 9, ew_init, unary, false);
EW_KERNEL (erf_kernel, "Erf", 9, ew_init, unary, false);
EW_KERNEL (where_kernel, "Where", 9, ew_init, where, false);
EW_KERNEL (mod_kernel, "Mod", 10, ew_init, binary, false);
EW_KERNEL (bitshift_kernel, "BitShift", 11, ew_init, binary, false);
EW_KERNEL (isnan_kernel, "IsNaN", 9, ew_init, unary, false);
EW_KERNEL (isinf_kernel, "IsInf", 10, ew_init, unary, false);
EW_KERNEL (sin_kernel, "Sin", 7, ew_init, unary, false);
EW_KERNEL (cos_kernel, "Cos", 7, ew_init, unary, false);
EW_KERNEL (tan_kernel, "Tan", 7, ew_init, unary, false);
EW_KERNEL (asin_kernel, "Asin", 7, ew_init, unary, false);
EW_KERNEL (acos_kernel, "Acos", 7, ew_init, unary, false);
EW_KERNEL (atan_kernel, "Atan", 7, ew_init, unary, false);
EW_KERNEL (sinh_kernel, "Sinh", 9, ew_init, unary, false);
EW_KERNEL (cosh_kernel, "Cosh", 9, ew_init, unary, false);
EW_KERNEL (asinh_kernel, "Asinh", 9, ew_init, unary, false);
EW_KERNEL (acosh_kernel, "Acosh", 9, ew_init, unary, false);
EW_KERNEL (atanh_kernel, "Atanh", 9, ew_init, unary, false);

const op_kernel *const ir_ops_elementwise[] = {
  &add1_kernel, &add7_kernel, &sub1_kernel, &sub7_kernel,
  &mul1_kernel, &mul7_kernel, &div1_kernel, &div7_kernel,
  &pow1_kernel, &pow7_kernel, &prelu1_kernel, &prelu7_kernel,
  &equal1_kernel, &equal7_kernel, &less1_kernel, &less7_kernel,
  &greater1_kernel, &greater7_kernel, &less_equal_kernel, &greater_equal_kernel,
  &and1_kernel, &and7_kernel, &or1_kernel, &or7_kernel, &xor1_kernel, &xor7_kernel,
  &not_kernel,
  &sum_kernel, &max_kernel, &min_kernel, &mean_kernel,
  &sqrt_kernel, &exp_kernel, &log_kernel, &neg_kernel, &abs_kernel,
  &reciprocal_kernel, &floor_kernel, &ceil_kernel, &round_kernel, &sign_kernel,
  &erf_kernel, &where_kernel, &mod_kernel, &bitshift_kernel,
  &isnan_kernel, &isinf_kernel,
  &sin_kernel, &cos_kernel, &tan_kernel, &asin_kernel, &acos_kernel, &atan_kernel,
  &sinh_kernel, &cosh_kernel, &asinh_kernel, &acosh_kernel, &atanh_kernel,
  NULL
};
