#include "tensor.h"

#include <math.h>
#include <string.h>

#include "op.h"

ir_storage
ir_storage_for (imgrec_dtype type)
{
  switch (type) {
    case IMGREC_DTYPE_FLOAT:
    case IMGREC_DTYPE_FLOAT16:
      return IR_F32;
    case IMGREC_DTYPE_UINT8:
    case IMGREC_DTYPE_INT8:
    case IMGREC_DTYPE_UINT16:
    case IMGREC_DTYPE_INT16:
    case IMGREC_DTYPE_INT32:
    case IMGREC_DTYPE_INT64:
    case IMGREC_DTYPE_UINT32:
    case IMGREC_DTYPE_UINT64:
      return IR_I64;
    case IMGREC_DTYPE_BOOL:
      return IR_BOOL;
    default:
      return IR_NONE;
  }
}

size_t
ir_storage_size (ir_storage storage)
{
  switch (storage) {
    case IR_F32: return 4;
    case IR_I64: return 8;
    case IR_BOOL: return 1;
    default: return 0;
  }
}

const char *
imgrec_dtype_name (imgrec_dtype dtype)
{
  static const char *const names[] = {
    "undefined", "float32", "uint8", "int8", "uint16", "int16", "int32",
    "int64", "string", "bool", "float16", "float64", "uint32", "uint64",
    "complex64", "complex128", "bfloat16",
  };
  if ((unsigned) dtype < sizeof names / sizeof names[0])
    return names[dtype];
  return "unknown";
}

int64_t
ir_dims_product (const int64_t *dims, int from, int to)
{
  int64_t p = 1;
  for (int i = from; i < to; i++)
    p *= dims[i];
  return p;
}

int64_t
ir_numel (const ir_tensor *t)
{
  return ir_dims_product (t->dims, 0, t->rank);
}

size_t
ir_nbytes (const ir_tensor *t)
{
  return (size_t) ir_numel (t) * ir_storage_size (t->storage);
}

bool
ir_same_shape (const ir_tensor *a, const ir_tensor *b)
{
  if (a->rank != b->rank)
    return false;
  for (int i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i])
      return false;
  return true;
}

void
ir_set_shape (ir_tensor *t, imgrec_dtype elem_type, int rank, const int64_t *dims)
{
  t->elem_type = elem_type;
  t->storage = ir_storage_for (elem_type);
  t->rank = rank;
  for (int i = 0; i < rank; i++)
    t->dims[i] = dims[i];
}

double
ir_get_f64 (const ir_tensor *t, int64_t i)
{
  switch (t->storage) {
    case IR_F32: return ir_f32 (t)[i];
    case IR_I64: return (double) ir_i64 (t)[i];
    case IR_BOOL: return ir_bool (t)[i];
    default: return 0;
  }
}

int64_t
ir_get_i64 (const ir_tensor *t, int64_t i)
{
  switch (t->storage) {
    case IR_F32: {
      float f = ir_f32 (t)[i];
      if (!(f == f))
        return 0;
      if (f >= 9.2e18f)
        return INT64_MAX;
      if (f <= -9.2e18f)
        return INT64_MIN;
      return (int64_t) f;
    }
    case IR_I64: return ir_i64 (t)[i];
    case IR_BOOL: return ir_bool (t)[i];
    default: return 0;
  }
}

float
ir_half_to_float (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {
      /* Subnormal half: normalise into a float. */
      int e = -1;
      do {
        e++;
        mantissa <<= 1;
      } while ((mantissa & 0x400) == 0);
      bits = sign | ((uint32_t) (127 - 15 - e) << 23) | ((mantissa & 0x3ff) << 13);
    }
  } else if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  memcpy (&f, &bits, sizeof f);
  return f;
}

uint16_t
ir_float_to_half (float f)
{
  uint32_t x;
  memcpy (&x, &f, sizeof x);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u)                       /* NaN */
    return (uint16_t) (sign | 0x7e00);
  if (abs >= 0x477ff000u)                      /* rounds to >= 65520: inf */
    return (uint16_t) (sign | 0x7c00);
  if (abs < 0x38800000u) {                     /* below the smallest normal half */
    if (abs < 0x33000000u)                     /* rounds to zero */
      return (uint16_t) sign;
    uint32_t e = abs >> 23;
    uint32_t m = (abs & 0x7fffff) | 0x800000;
    /* The half subnormal is mh * 2^-24 and the float m * 2^(e-150). */
    uint32_t shift = 126 - e;
    uint32_t half_m = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_m & 1)))
      half_m++;
    return (uint16_t) (sign | half_m);
  }
  uint32_t e = ((abs >> 23) - 127 + 15);
  uint32_t m = abs & 0x7fffff;
  uint32_t half = (e << 10) | (m >> 13);
  uint32_t rem = m & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
    half++;                                    /* may carry into the exponent: correct */
  return (uint16_t) (sign | half);
}

int
ir_normalize_axis (int64_t axis, int rank, int *out, imgrec_error *err)
{
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank || rank == 0)
    return ir_fail (err, "axis %lld is out of range for a tensor of rank %d",
        (long long) axis, rank);
  *out = (int) a;
  return 0;
}

int
ir_broadcast_shapes (int rank_a, const int64_t *dims_a, int rank_b,
    const int64_t *dims_b, int *rank_out, int64_t *dims_out, imgrec_error *err)
{
  int rank = rank_a > rank_b ? rank_a : rank_b;
  for (int i = 0; i < rank; i++) {
    int ia = i - (rank - rank_a), ib = i - (rank - rank_b);
    int64_t da = ia >= 0 ? dims_a[ia] : 1;
    int64_t db = ib >= 0 ? dims_b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return ir_fail (err, "shapes cannot be broadcast: dimension %d is %lld in one "
          "input and %lld in the other", i, (long long) da, (long long) db);
    dims_out[i] = da == 1 ? db : da;
  }
  *rank_out = rank;
  return 0;
}
