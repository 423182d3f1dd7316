/* The separable pool rows' line kernels in AVX-512 (see pool_internal.h):
 * 16 floats per vector, masked tails instead of scalar loops (the rows of
 * late layers are 7-27 floats long, where a scalar tail is most of the
 * row), even-lane permutes for stride 2.  Compiled with -mavx512f
 * (engine/meson.build); called only when ir_cpu () says AVX-512. */
#include <immintrin.h>
#include <math.h>

#include "pool_internal.h"

/* The first n lanes (none when n <= 0). */
static inline __mmask16
lanes16 (int64_t n)
{
  return n >= 16 ? (__mmask16) 0xffff : n <= 0 ? 0 : (__mmask16) ((1u << n) - 1);
}

static inline __m512
combine (bool is_max, __m512 a, __m512 b)
{
  /* max (a, b) is a > b ? a : b, as in pool.c's plain-C rows */
  return is_max ? _mm512_max_ps (a, b) : _mm512_add_ps (a, b);
}

void
pool_combine_avx512 (bool is_max, const float *const *rows, int n_rows, int64_t n,
    bool accumulate, float *dst)
{
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = lanes16 (n - i);
    __m512 acc = accumulate ? _mm512_maskz_loadu_ps (m, dst + i)
        : _mm512_maskz_loadu_ps (m, rows[0] + i);
    for (int r = accumulate ? 0 : 1; r < n_rows; r++)
      acc = combine (is_max, acc, _mm512_maskz_loadu_ps (m, rows[r] + i));
    _mm512_mask_storeu_ps (dst + i, m, acc);
  }
}

/* Lane l of the result: element 2l of the 32 floats at p (masked to the
 * elements below `avail`). */
static inline __m512
even_lanes (const float *p, int64_t avail)
{
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
      20, 22, 24, 26, 28, 30);
  __m512 lo = _mm512_maskz_loadu_ps (lanes16 (avail), p);
  __m512 hi = _mm512_maskz_loadu_ps (lanes16 (avail - 16), p + 16);
  return _mm512_permutex2var_ps (lo, even, hi);
}

void
pool_taps_avx512 (bool is_max, const float *line, int64_t out, int64_t stride,
    int64_t taps, int64_t dil, float *y)
{
  for (int64_t i = 0; i < out; i += 16) {
    int64_t lanes = out - i < 16 ? out - i : 16;
    __mmask16 m = lanes16 (lanes);
    /* the elements tap k of these lanes reads: [base + k dil,
     * base + k dil + (lanes - 1) stride], all inside the line */
    const float *base = line + i * stride;
    int64_t span = (lanes - 1) * stride + 1;
    __m512 acc;
    if (stride == 1) {
      acc = _mm512_maskz_loadu_ps (m, base);
      for (int64_t k = 1; k < taps; k++)
        acc = combine (is_max, acc, _mm512_maskz_loadu_ps (m, base + k * dil));
    } else if (taps == 3 && dil == 1) {
      /* window 3, stride 2: taps 0 and 2 are the even lanes at base and
       * base + 2, tap 1 the odd ones, from the same loads */
      const __m512i odd = _mm512_setr_epi32 (1, 3, 5, 7, 9, 11, 13, 15, 17, 19,
          21, 23, 25, 27, 29, 31);
      const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16,
          18, 20, 22, 24, 26, 28, 30);
      /* tap 1 of the last lane is element span */
      __m512 lo = _mm512_maskz_loadu_ps (lanes16 (span + 1), base);
      __m512 hi = _mm512_maskz_loadu_ps (lanes16 (span + 1 - 16), base + 16);
      acc = combine (is_max, _mm512_permutex2var_ps (lo, even, hi),
          _mm512_permutex2var_ps (lo, odd, hi));
      acc = combine (is_max, acc, even_lanes (base + 2, span));
    } else {
      acc = even_lanes (base, span);
      for (int64_t k = 1; k < taps; k++)
        acc = combine (is_max, acc, even_lanes (base + k * dil, span));
    }
    _mm512_mask_storeu_ps (y + i, m, acc);
  }
}

/* Lanes l with 0 <= at + l < n. */
static inline __mmask16
inside16 (int64_t at, int64_t n)
{
  int64_t a = -at, b = n - at;
  a = a < 0 ? 0 : a > 16 ? 16 : a;
  b = b < 0 ? 0 : b > 16 ? 16 : b;
  return b <= a ? 0 : (__mmask16) (((1u << b) - 1) & ~((1u << a) - 1));
}

/* K (2 or 3) a constant in each caller, so the 2x2 rows carry no third tap. */
static inline __attribute__ ((always_inline)) void
max_small_row (const int K, const pool_max_small_args *a, int64_t oh, float *y)
{
  const __m512 ninf = _mm512_set1_ps (-INFINITY);
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
      28, 30);
  const __m512i odd = _mm512_add_epi32 (even, _mm512_set1_epi32 (1));
  const float *rows[3];
  int n_rows = 0;
  const bool k3 = K == 3;
  for (int kh = 0; kh < K; kh++) {
    const int64_t ih = oh * a->stride_h - a->pad_h + kh;
    if (ih >= 0 && ih < a->in_h)
      rows[n_rows++] = a->plane + ih * a->in_w;
  }
  const int64_t w = a->in_w;
  for (int64_t ow0 = 0; ow0 < a->out_w; ow0 += 16) {
    const __mmask16 store = lanes16 (a->out_w - ow0);
    __m512 out;
    if (a->stride_w == 2) {
      /* elements u of [0, 34) are columns base + u: taps 0 and 1 of lane l
       * are 2 l and 2 l + 1 (from u = 0), tap 2 is 2 l + 2 (from u = 2) */
      const int64_t base = 2 * ow0 - a->pad_w;
      const __mmask16 m0 = inside16 (base, w), m1 = inside16 (base + 16, w);
      const __mmask16 m2 = inside16 (base + 2, w), m3 = inside16 (base + 18, w);
      __m512 v0 = ninf, v1 = ninf, v2 = ninf, v3 = ninf;
      for (int r = 0; r < n_rows; r++) {
        const float *p = rows[r] + base;   /* may lie before the row: masked */
        v0 = _mm512_max_ps (v0, _mm512_mask_loadu_ps (ninf, m0, p));
        v1 = _mm512_max_ps (v1, _mm512_mask_loadu_ps (ninf, m1, p + 16));
        if (k3) {
          v2 = _mm512_max_ps (v2, _mm512_mask_loadu_ps (ninf, m2, p + 2));
          v3 = _mm512_max_ps (v3, _mm512_mask_loadu_ps (ninf, m3, p + 18));
        }
      }
      out = _mm512_max_ps (_mm512_permutex2var_ps (v0, even, v1),
          _mm512_permutex2var_ps (v0, odd, v1));
      if (k3)
        out = _mm512_max_ps (out, _mm512_permutex2var_ps (v2, even, v3));
    } else {
      const int64_t base = ow0 - a->pad_w;
      const __mmask16 m0 = inside16 (base, w), m1 = inside16 (base + 1, w);
      const __mmask16 m2 = inside16 (base + 2, w);
      __m512 v0 = ninf, v1 = ninf, v2 = ninf;
      for (int r = 0; r < n_rows; r++) {
        const float *p = rows[r] + base;
        v0 = _mm512_max_ps (v0, _mm512_mask_loadu_ps (ninf, m0, p));
        v1 = _mm512_max_ps (v1, _mm512_mask_loadu_ps (ninf, m1, p + 1));
        if (k3)
          v2 = _mm512_max_ps (v2, _mm512_mask_loadu_ps (ninf, m2, p + 2));
      }
      out = k3 ? _mm512_max_ps (_mm512_max_ps (v0, v1), v2) : _mm512_max_ps (v0, v1);
    }
    _mm512_mask_storeu_ps (y + ow0, store, out);
  }
}

void
pool_max_small_rows_avx512 (const pool_max_small_args *a, int64_t oh0, int64_t oh1, float *y)
{
  if (a->k == 3)
    for (int64_t oh = oh0; oh < oh1; oh++, y += a->out_w)
      max_small_row (3, a, oh, y);
  else
    for (int64_t oh = oh0; oh < oh1; oh++, y += a->out_w)
      max_small_row (2, a, oh, y);
}
