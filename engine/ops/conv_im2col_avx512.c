/* im2col rows straight from the image with AVX-512 (conv_gemm.c): a
 * strip's columns are split into runs along output rows, and each run of
 * each B row is a few 16-float masked loads (W stride 1) or load pairs with
 * an even-lane permute (stride 2).  The masks keep every load inside the
 * image row and leave zeros where the kernel reads padding, so neither a
 * padded copy of the image (6 % of the sign detector's run) nor a scalar
 * gather per float (0.75 ms of ResNet-18's first layer) is needed.
 * Compiled with -mavx512f (engine/meson.build); called only when ir_cpu ()
 * says AVX-512. */
#include <immintrin.h>
#include <stdbool.h>

#include "conv_internal.h"

/* Lanes [a, b) of 16, both clamped to [0, 16]. */
static inline __mmask16
lanes16 (int64_t a, int64_t b)
{
  a = a < 0 ? 0 : a > 16 ? 16 : a;
  b = b < a ? a : b > 16 ? 16 : b;
  const uint32_t upto = b >= 16 ? 0xffffu : (1u << b) - 1;
  return (__mmask16) (upto & ~((1u << a) - 1));
}

/* The W taps of one (channel, kernel row) read the same input row: with
 * stride 1, tap kw at columns j + kw d; with stride 2 (dilation 1), at
 * columns 2 j + kw, i.e. the row's even (kw even) or odd (kw odd) columns
 * shifted by kw / 2.  So each run's columns are copied once per input row
 * into zero-bordered buffers (split into even and odd for stride 2), and
 * each tap's B row is a plain copy out of one: the border masks and, for
 * stride 2, the permutes are paid once per input row instead of once per
 * tap (ResNet-18's 7x7 stride-2 first layer: 0.78x the time; the 14x14 and
 * 7x7 3x3 layers, whose short runs mostly touch a border, went to a
 * masked slow path on 2 taps of 3). */
#define ROW_BUF 64
static bool
conv_im2col_rows_fit_buffer (const conv_im2col_pack *t)
{
  if (t->stride_w == 1)
    return IR_SGEMM_MAX_NR + (t->k_w - 1) * t->dil_w <= ROW_BUF;
  return t->stride_w == 2 && t->dil_w == 1 && IR_SGEMM_MAX_NR + (t->k_w - 1) / 2 + 1 <= ROW_BUF;
}

static void
conv_im2col_rows_buffered (const conv_im2col_pack *t, const conv_im2col_runs *r, int64_t k0,
    int64_t kc, int nr, float *dst)
{
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
      28, 30);
  const __m512i odd = _mm512_setr_epi32 (1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27,
      29, 31);
  float buf[IR_SGEMM_MAX_NR][2][ROW_BUF] __attribute__ ((aligned (64)));
  const int64_t ks = t->k_h * t->k_w, sw = t->stride_w;
  int64_t c = k0 / ks, rem = k0 % ks, kh = rem / t->k_w, kw = rem % t->k_w;
  bool built = false;
  for (int64_t kk = 0; kk < kc; kk++) {
    if (!built) {
      /* this (channel, kernel row)'s input row, per run */
      const float *xc = t->x + c * t->image_size;
      for (int q = 0; q < r->runs; q++) {
        const int64_t ih = r->oh[q] * t->stride_h + kh * t->dil_h - t->pad_h;
        const bool inside = ih >= 0 && ih < t->in_h;
        const int64_t base = r->ow[q] * sw - t->pad_w;   /* column of buf[0] */
        const float *src = xc + (inside ? ih : 0) * t->in_w + base;
        if (sw == 1) {
          const int64_t n = r->len[q] + (t->k_w - 1) * t->dil_w;
          for (int64_t i = 0; i < n; i += 16) {
            const int64_t a = -(base + i), b = inside ? t->in_w - (base + i) : a;
            _mm512_store_ps (buf[q][0] + i, _mm512_maskz_loadu_ps (lanes16 (a, b), src + i));
          }
        } else {
          const int64_t n = r->len[q] + (t->k_w - 1) / 2 + 1;
          for (int64_t i = 0; i < n; i += 16) {
            /* raw floats u in [2i, 2i + 32) are columns base + u */
            const int64_t a = -(base + 2 * i), b = inside ? t->in_w - (base + 2 * i) : a;
            const __m512 lo = _mm512_maskz_loadu_ps (lanes16 (a, b), src + 2 * i);
            const __m512 hi = _mm512_maskz_loadu_ps (lanes16 (a - 16, b - 16),
                src + 2 * i + 16);
            _mm512_store_ps (buf[q][0] + i, _mm512_permutex2var_ps (lo, even, hi));
            _mm512_store_ps (buf[q][1] + i, _mm512_permutex2var_ps (lo, odd, hi));
          }
        }
      }
      built = true;
    }
    float *row = dst + kk * nr;
    for (int q = 0; q < r->runs; q++) {
      const float *from = sw == 1 ? buf[q][0] + kw * t->dil_w : buf[q][kw & 1] + kw / 2;
      float *d = row + r->at[q];
      const int64_t len = r->len[q];
      for (int64_t i = 0; i < len; i += 16) {
        const __mmask16 m = lanes16 (0, len - i);
        _mm512_mask_storeu_ps (d + i, m, _mm512_maskz_loadu_ps (m, from + i));
      }
    }
    for (int j = r->width; j < nr; j++)
      row[j] = 0.0f;
    if (++kw == t->k_w) {
      kw = 0;
      built = false;
      if (++kh == t->k_h) {
        kh = 0;
        c++;
      }
    }
  }
}

void
conv_im2col_rows_avx512 (const conv_im2col_pack *t, const conv_im2col_runs *r, int64_t k0,
    int64_t kc, int nr, float *dst)
{
  if (t->k_w > 1 && conv_im2col_rows_fit_buffer (t)) {
    conv_im2col_rows_buffered (t, r, k0, kc, nr, dst);
    return;
  }
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
      28, 30);
  const __m512 zero = _mm512_setzero_ps ();
  const int64_t ks = t->k_h * t->k_w, sw = t->stride_w;
  int64_t c = k0 / ks, rem = k0 % ks, kh = rem / t->k_w, kw = rem % t->k_w;
  for (int64_t kk = 0; kk < kc; kk++) {
    const float *xc = t->x + c * t->image_size;
    float *row = dst + kk * nr;
    for (int q = 0; q < r->runs; q++) {
      float *d = row + r->at[q];
      const int64_t len = r->len[q];
      const int64_t ih = r->oh[q] * t->stride_h + kh * t->dil_h - t->pad_h;
      if (ih < 0 || ih >= t->in_h) {
        for (int64_t i = 0; i < len; i += 16)
          _mm512_mask_storeu_ps (d + i, lanes16 (0, len - i), zero);
        continue;
      }
      /* input column of the run's lane j: iw0 + sw j */
      const int64_t iw0 = r->ow[q] * sw + kw * t->dil_w - t->pad_w;
      const float *src = xc + ih * t->in_w + iw0;
      if (iw0 >= 0 && iw0 + sw * (len - 1) < t->in_w) {
        /* inside the row: only the run's end is masked */
        for (int64_t i = 0; i < len; i += 16) {
          const __mmask16 m = len - i >= 16 ? (__mmask16) 0xffff
              : (__mmask16) ((1u << (len - i)) - 1);
          __m512 v;
          if (sw == 1) {
            v = _mm512_maskz_loadu_ps (m, src + i);
          } else {
            const int64_t last = 2 * (len - i) - 1;
            const __mmask16 mlo = last >= 16 ? (__mmask16) 0xffff
                : (__mmask16) ((1u << last) - 1);
            const __mmask16 mhi = last >= 32 ? (__mmask16) 0xffff
                : last <= 16 ? (__mmask16) 0 : (__mmask16) ((1u << (last - 16)) - 1);
            v = _mm512_permutex2var_ps (_mm512_maskz_loadu_ps (mlo, src + 2 * i), even,
                _mm512_maskz_loadu_ps (mhi, src + 2 * i + 16));
          }
          _mm512_mask_storeu_ps (d + i, m, v);
        }
        continue;
      }
      for (int64_t i = 0; i < len; i += 16) {
        const __mmask16 m = lanes16 (0, len - i);
        __m512 v;
        if (sw == 1) {
          /* lane j reads column iw0 + i + j */
          v = _mm512_maskz_loadu_ps (lanes16 (-iw0 - i, t->in_w - iw0 - i) & m, src + i);
        } else {
          /* raw float u of src + 2i is column iw0 + 2i + u; lane j is u = 2j */
          const int64_t base = iw0 + 2 * i, last = 2 * (len - i) - 1;
          const int64_t a = -base, b = t->in_w - base < last ? t->in_w - base : last;
          const __m512 lo = _mm512_maskz_loadu_ps (lanes16 (a, b), src + 2 * i);
          const __m512 hi = _mm512_maskz_loadu_ps (lanes16 (a - 16, b - 16), src + 2 * i + 16);
          v = _mm512_permutex2var_ps (lo, even, hi);
        }
        _mm512_mask_storeu_ps (d + i, m, v);
      }
    }
    for (int j = r->width; j < nr; j++)
      row[j] = 0.0f;
    if (++kw == t->k_w) {
      kw = 0;
      if (++kh == t->k_h) {
        kh = 0;
        c++;
      }
    }
  }
}
