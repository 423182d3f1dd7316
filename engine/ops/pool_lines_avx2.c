/* The separable pool rows' line kernels in AVX2 (see pool_internal.h and
 * pool_lines_avx512.c): 8 floats per vector, masked loads for the tails and
 * plain partial stores (avx2_partial.h: AMD's masked store is microcoded),
 * stride 2 through an even/odd split of each 16-float pair.
 * Compiled with -mavx2 (engine/meson.build); called only when ir_cpu () says
 * AVX2. */
#include <immintrin.h>
#include <math.h>

#include "avx2_partial.h"
#include "pool_internal.h"

/* The first n lanes of 8 (none when n <= 0). */
static inline __m256i
lanes8 (int64_t n)
{
  const __m256i idx = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
  n = n < 0 ? 0 : n > 8 ? 8 : n;
  return _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) n), idx);
}

static inline __m256
combine (bool is_max, __m256 a, __m256 b)
{
  /* max (a, b) is a > b ? a : b, as in pool.c's plain-C rows */
  return is_max ? _mm256_max_ps (a, b) : _mm256_add_ps (a, b);
}

void
pool_combine_avx2 (bool is_max, const float *const *rows, int n_rows, int64_t n,
    bool accumulate, float *dst)
{
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 acc = _mm256_loadu_ps (accumulate ? dst + i : rows[0] + i);
    for (int r = accumulate ? 0 : 1; r < n_rows; r++)
      acc = combine (is_max, acc, _mm256_loadu_ps (rows[r] + i));
    _mm256_storeu_ps (dst + i, acc);
  }
  if (i < n) {
    __m256i m = lanes8 (n - i);
    __m256 acc = _mm256_maskload_ps (accumulate ? dst + i : rows[0] + i, m);
    for (int r = accumulate ? 0 : 1; r < n_rows; r++)
      acc = combine (is_max, acc, _mm256_maskload_ps (rows[r] + i, m));
    ir_avx2_store_first (dst + i, acc, n - i);
  }
}

/* The even (*even) and odd (*odd) elements of the 16 floats at p, masked to
 * the elements below `avail`. */
static inline void
split16 (const float *p, int64_t avail, __m256 *even, __m256 *odd)
{
  const __m256i perm = _mm256_setr_epi32 (0, 2, 4, 6, 1, 3, 5, 7);
  __m256 lo = _mm256_permutevar8x32_ps (_mm256_maskload_ps (p, lanes8 (avail)), perm);
  __m256 hi = _mm256_permutevar8x32_ps (_mm256_maskload_ps (p + 8, lanes8 (avail - 8)), perm);
  *even = _mm256_permute2f128_ps (lo, hi, 0x20);
  if (odd != NULL)
    *odd = _mm256_permute2f128_ps (lo, hi, 0x31);
}

void
pool_taps_avx2 (bool is_max, const float *line, int64_t out, int64_t stride,
    int64_t taps, int64_t dil, float *y)
{
  for (int64_t i = 0; i < out; i += 8) {
    int64_t lanes = out - i < 8 ? out - i : 8;
    __m256i m = lanes8 (lanes);
    /* tap k of these lanes reads [base + k dil, base + k dil + span) */
    const float *base = line + i * stride;
    int64_t span = (lanes - 1) * stride + 1;
    __m256 acc, v, odd;
    if (stride == 1) {
      acc = _mm256_maskload_ps (base, m);
      for (int64_t k = 1; k < taps; k++)
        acc = combine (is_max, acc, _mm256_maskload_ps (base + k * dil, m));
    } else if (taps == 3 && dil == 1) {
      /* window 3, stride 2: taps 0 and 1 from one split (tap 1 of the last
       * lane is element span), tap 2 from the split at base + 2 */
      split16 (base, span + 1, &acc, &odd);
      acc = combine (is_max, acc, odd);
      split16 (base + 2, span, &v, NULL);
      acc = combine (is_max, acc, v);
    } else {
      split16 (base, span, &acc, NULL);
      for (int64_t k = 1; k < taps; k++) {
        split16 (base + k * dil, span, &v, NULL);
        acc = combine (is_max, acc, v);
      }
    }
    ir_avx2_store_first (y + i, acc, lanes);
  }
}

/* dst lanes from p where mask, -inf elsewhere (masked-off lanes never read). */
static inline __m256
load_or_ninf (const float *p, __m256i mask)
{
  return _mm256_blendv_ps (_mm256_set1_ps (-INFINITY), _mm256_maskload_ps (p, mask),
      _mm256_castsi256_ps (mask));
}

/* Lanes l with 0 <= at + l < n. */
static inline __m256i
inside8 (int64_t at, int64_t n)
{
  const __m256i idx = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
  int64_t a = -at, b = n - at;
  a = a < 0 ? 0 : a > 8 ? 8 : a;
  b = b < 0 ? 0 : b > 8 ? 8 : b;
  return _mm256_andnot_si256 (_mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) a), idx),
      _mm256_cmpgt_epi32 (_mm256_set1_epi32 ((int) b), idx));
}

/* K (2 or 3) a constant in each caller, so the 2x2 rows carry no third tap. */
static inline __attribute__ ((always_inline)) void
max_small_row (const int K, const pool_max_small_args *a, int64_t oh, float *y)
{
  const __m256 ninf = _mm256_set1_ps (-INFINITY);
  const float *rows[3];
  int n_rows = 0;
  const bool k3 = K == 3;
  for (int kh = 0; kh < K; kh++) {
    const int64_t ih = oh * a->stride_h - a->pad_h + kh;
    if (ih >= 0 && ih < a->in_h)
      rows[n_rows++] = a->plane + ih * a->in_w;
  }
  const int64_t w = a->in_w;
  for (int64_t ow0 = 0; ow0 < a->out_w; ow0 += 8) {
    __m256 out;
    if (a->stride_w == 2) {
      const int64_t base = 2 * ow0 - a->pad_w;
      __m256 v0 = ninf, v1 = ninf, v2 = ninf, v3 = ninf;
      if (base >= 0 && base + (k3 ? 18 : 16) <= w) {
        /* inside the row: plain loads */
        for (int r = 0; r < n_rows; r++) {
          const float *p = rows[r] + base;
          v0 = _mm256_max_ps (v0, _mm256_loadu_ps (p));
          v1 = _mm256_max_ps (v1, _mm256_loadu_ps (p + 8));
          if (k3) {
            v2 = _mm256_max_ps (v2, _mm256_loadu_ps (p + 2));
            v3 = _mm256_max_ps (v3, _mm256_loadu_ps (p + 10));
          }
        }
      } else {
        const __m256i m0 = inside8 (base, w), m1 = inside8 (base + 8, w);
        const __m256i m2 = inside8 (base + 2, w), m3 = inside8 (base + 10, w);
        for (int r = 0; r < n_rows; r++) {
          const float *p = rows[r] + base;
          v0 = _mm256_max_ps (v0, load_or_ninf (p, m0));
          v1 = _mm256_max_ps (v1, load_or_ninf (p + 8, m1));
          if (k3) {
            v2 = _mm256_max_ps (v2, load_or_ninf (p + 2, m2));
            v3 = _mm256_max_ps (v3, load_or_ninf (p + 10, m3));
          }
        }
      }
      /* even and odd elements of v0:v1 and the even ones of v2:v3, each in
       * an in-lane shuffle's order (outputs 0 1 4 5 2 3 6 7); one cross-lane
       * permute then puts their maximum in order */
      out = _mm256_max_ps (_mm256_shuffle_ps (v0, v1, _MM_SHUFFLE (2, 0, 2, 0)),
          _mm256_shuffle_ps (v0, v1, _MM_SHUFFLE (3, 1, 3, 1)));
      if (k3)
        out = _mm256_max_ps (out, _mm256_shuffle_ps (v2, v3, _MM_SHUFFLE (2, 0, 2, 0)));
      out = _mm256_castpd_ps (_mm256_permute4x64_pd (_mm256_castps_pd (out),
              _MM_SHUFFLE (3, 1, 2, 0)));
    } else {
      const int64_t base = ow0 - a->pad_w;
      __m256 v0 = ninf, v1 = ninf, v2 = ninf;
      if (base >= 0 && base + (k3 ? 10 : 9) <= w) {
        for (int r = 0; r < n_rows; r++) {
          const float *p = rows[r] + base;
          v0 = _mm256_max_ps (v0, _mm256_loadu_ps (p));
          v1 = _mm256_max_ps (v1, _mm256_loadu_ps (p + 1));
          if (k3)
            v2 = _mm256_max_ps (v2, _mm256_loadu_ps (p + 2));
        }
      } else {
        const __m256i m0 = inside8 (base, w), m1 = inside8 (base + 1, w);
        const __m256i m2 = inside8 (base + 2, w);
        for (int r = 0; r < n_rows; r++) {
          const float *p = rows[r] + base;
          v0 = _mm256_max_ps (v0, load_or_ninf (p, m0));
          v1 = _mm256_max_ps (v1, load_or_ninf (p + 1, m1));
          if (k3)
            v2 = _mm256_max_ps (v2, load_or_ninf (p + 2, m2));
        }
      }
      out = k3 ? _mm256_max_ps (_mm256_max_ps (v0, v1), v2) : _mm256_max_ps (v0, v1);
    }
    ir_avx2_store_first (y + ow0, out, a->out_w - ow0);
  }
}

void
pool_max_small_rows_avx2 (const pool_max_small_args *a, int64_t oh0, int64_t oh1, float *y)
{
  if (a->k == 3)
    for (int64_t oh = oh0; oh < oh1; oh++, y += a->out_w)
      max_small_row (3, a, oh, y);
  else
    for (int64_t oh = oh0; oh < oh1; oh++, y += a->out_w)
      max_small_row (2, a, oh, y);
}
