/* Window kernels on 16 channels at a time, AVX-512 (block16.h): depthwise convolution
 * (conv_depthwise.c) and MaxPool (pool.c) on small maps.
 *
 * One plane per pass, as the per-plane kernels (conv_dw3x3_avx512.c, pool_lines_avx512.c)
 * work, fills 49 of 64 lanes on a 7x7 map and needs border masks per tap: MnasNet's and
 * MobileNetV3's 5x5 and 3x3 depthwise layers on 14x14 and 7x7 maps took 1.7-2.3x ONNX
 * Runtime's time, GoogLeNet's 3x3 stride-1 pools 2.6-2.9x.  Here 16 planes are transposed in
 * registers (16x16 blocks) into a [row][column][16 channels] buffer with a border of zeros
 * (or -inf) once, every output position is then K x K vector FMAs (or maxima) with no masks,
 * four positions per weight load, and each output row goes back through one transpose to
 * the 16 NCHW planes.
 *
 * Compiled with -mavx512f (engine/meson.build); called only when ir_cpu () says AVX-512. */
#include <immintrin.h>
#include <stdbool.h>

#include <math.h>

#include "block16.h"
#include "sgemm.h"
#include "sgemm_act_avx512.h"
#include "transpose16_avx512.h"

static inline __mmask16
first_lanes (int64_t n)
{
  return n >= 16 ? (__mmask16) 0xffff : n <= 0 ? (__mmask16) 0 : (__mmask16) ((1u << n) - 1);
}

/* IS_MAX a constant in each caller. */
static inline __attribute__ ((always_inline)) void
block16 (const block16_args *a, const bool is_max)
{
  const int64_t k = a->k, s = a->stride, kk = k * k;
  const int64_t in_plane = a->in_h * a->in_w, out_plane = a->out_h * a->out_w;
  const int64_t hp = a->buf_h, wp = a->buf_w;   /* the buffer's rows and columns */
  __m512 *buf = (__m512 *) a->buf;
  const __m512 zero = _mm512_setzero_ps ();
  const __m512 fill = is_max ? _mm512_set1_ps (-INFINITY) : zero;
  for (int64_t i = 0; i < hp * wp; i++)
    buf[i] = fill;
  /* rows of the image into the buffer at (ih + pad_h, iw + pad_w) */
  for (int64_t ih = 0; ih < a->in_h; ih++) {
    const int64_t r = ih + a->pad_h;
    if (r >= hp)
      break;
    for (int64_t w0 = 0; w0 < a->in_w; w0 += 16) {
      const __mmask16 m = first_lanes (a->in_w - w0);
      __m512 v[16];
#pragma GCC unroll 16
      for (int c = 0; c < 16; c++)
        v[c] = c < a->nch ? _mm512_maskz_loadu_ps (m, a->in + c * in_plane + ih * a->in_w + w0)
            : zero;   /* the lanes past in_w are not stored */
      ir_transpose16_avx512 (v);
      for (int64_t i = 0; i < 16 && w0 + i < a->in_w; i++) {
        const int64_t col = w0 + i + a->pad_w;
        if (col < wp)
          buf[r * wp + col] = v[i];
      }
    }
  }
  /* the weights per tap, 16 channels each */
  __m512 wt[49];
  for (int64_t t = 0; t < kk && !is_max; t++) {
    float lane[16] = { 0 };
    for (int c = 0; c < a->nch; c++)
      lane[c] = a->w[c * kk + t];
    wt[t] = _mm512_loadu_ps (lane);
  }
  float blane[16] = { 0 };
  for (int c = 0; c < a->nch && a->bias != NULL && !is_max; c++)
    blane[c] = a->bias[c];
  const __m512 bias = is_max ? fill : _mm512_loadu_ps (blane);
  const __m512 lo = _mm512_set1_ps (a->lo), hi = _mm512_set1_ps (a->hi);
  const __m512 alpha = _mm512_set1_ps (a->alpha);
  const __mmask16 row_mask = first_lanes (a->out_w);
  for (int64_t oh = 0; oh < a->out_h; oh++) {
    __m512 row[16];
    for (int64_t ow = 0; ow < a->out_w; ow += 4) {
      __m512 acc0 = bias, acc1 = bias, acc2 = bias, acc3 = bias;
      for (int64_t kh = 0; kh < k; kh++) {
        const __m512 *src = buf + (oh * s + kh) * wp + ow * s;
        const __m512 *wk = wt + kh * k;
        for (int64_t kw = 0; kw < k; kw++) {
          if (is_max) {
            acc0 = _mm512_max_ps (acc0, src[kw]);
            acc1 = _mm512_max_ps (acc1, src[kw + s]);
            acc2 = _mm512_max_ps (acc2, src[kw + 2 * s]);
            acc3 = _mm512_max_ps (acc3, src[kw + 3 * s]);
            continue;
          }
          const __m512 w = wk[kw];
          acc0 = _mm512_fmadd_ps (w, src[kw], acc0);
          acc1 = _mm512_fmadd_ps (w, src[kw + s], acc1);
          acc2 = _mm512_fmadd_ps (w, src[kw + 2 * s], acc2);
          acc3 = _mm512_fmadd_ps (w, src[kw + 3 * s], acc3);
        }
      }
      row[ow] = ir_sgemm_act512 (acc0, a->act, lo, hi, alpha);
      if (ow + 1 < 16)
        row[ow + 1] = ir_sgemm_act512 (acc1, a->act, lo, hi, alpha);
      if (ow + 2 < 16)
        row[ow + 2] = ir_sgemm_act512 (acc2, a->act, lo, hi, alpha);
      if (ow + 3 < 16)
        row[ow + 3] = ir_sgemm_act512 (acc3, a->act, lo, hi, alpha);
    }
    for (int64_t ow = a->out_w; ow < 16; ow++)
      row[ow] = zero;
    ir_transpose16_avx512 (row);
    for (int c = 0; c < a->nch; c++)
      _mm512_mask_storeu_ps (a->out + c * out_plane + oh * a->out_w, row_mask, row[c]);
  }
}

void
block16_depthwise_avx512 (const block16_args *a)
{
  block16 (a, false);
}

void
block16_max_pool_avx512 (const block16_args *a)
{
  block16 (a, true);
}
