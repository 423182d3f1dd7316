/* The separable pool rows' line kernels in AVX2 (see pool_internal.h and
 * pool_lines_avx512.c): 8 floats per vector, masked loads and stores for the
 * tails, stride 2 through an even/odd split of each 16-float pair.
 * Compiled with -mavx2 (engine/meson.build); called only when ir_cpu () says
 * AVX2. */
#include <immintrin.h>

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
    _mm256_maskstore_ps (dst + i, m, acc);
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
    _mm256_maskstore_ps (y + i, m, acc);
  }
}
