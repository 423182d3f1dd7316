/* The direct convolution tile for few output channels (conv_direct.c), AVX-512: output
 * channels in the vector lanes, output positions broadcast from the image.
 *
 * With 16-64 output channels an im2col GEMM packs every column of B (the image gathered,
 * with permutes for stride 2) to use it against only 1-3 panels of A: the sign detector's
 * 3x3 stride-2 convs spent as long packing as multiplying (stem.1, 16 -> 32 channels at
 * 96x160: 1.8 ms against ORT's 0.88).  Here the weights of 16 or 32 channels are one or two
 * vectors per tap, and each of 24 or 12 output positions takes its input value as a
 * broadcast straight from the image row (stride 1 or 2 between positions): no packing, 24
 * accumulators, one broadcast per two FMAs for 32 channels as in the SGEMM tile.  The
 * accumulators hold positions x channels, so the tile is transposed in registers (16 x 16
 * blocks) before the masked stores into the NCHW planes.
 *
 * Compiled with -mavx512f (engine/meson.build); called only when ir_cpu () says AVX-512. */
#include <immintrin.h>

#include "conv_internal.h"
#include "sgemm_act_avx512.h"
#include "transpose16_avx512.h"

/* V vectors of 16 channels (1-4), P = 24 / V positions, S the positions'
 * input stride; all compile-time constants in each caller. */
static inline __attribute__ ((always_inline)) void
direct_tile (const int V, const int S, const conv_direct_tile *t)
{
  enum { MAX_ACC = 24 };
  const int P = MAX_ACC / V;
  __m512 acc[MAX_ACC];
#pragma GCC unroll 24
  for (int i = 0; i < MAX_ACC; i++)
    acc[i] = _mm512_setzero_ps ();
  const int64_t rows = t->kh1 - t->kh0;
  for (int64_t c = 0; c < t->channels; c++)
    for (int64_t r = 0; r < rows; r++) {
      const float *row = t->x + c * t->cs + r * t->rs;
      const float *wk = t->w + ((c * t->kh_n + t->kh0 + r) * t->kw_n) * t->w_ld;
      for (int64_t kw = 0; kw < t->kw_n; kw++, wk += t->w_ld) {
        __m512 wv[4];
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
          wv[v] = _mm512_loadu_ps (wk + 16 * v);
        const float *xp = row + kw;
#pragma GCC unroll 24
        for (int p = 0; p < P; p++) {
          const __m512 xb = _mm512_set1_ps (xp[p * S]);
#pragma GCC unroll 4
          for (int v = 0; v < V; v++)
            acc[p * V + v] = _mm512_fmadd_ps (xb, wv[v], acc[p * V + v]);
        }
      }
    }
  const __m512 lo = _mm512_set1_ps (t->lo), hi = _mm512_set1_ps (t->hi);
  const __m512 alpha = _mm512_set1_ps (t->alpha);
#pragma GCC unroll 4
  for (int v = 0; v < V; v++) {
    const int ch0 = 16 * v;
    if (ch0 >= t->nch)
      break;
    const __mmask16 chm = t->nch - ch0 >= 16 ? (__mmask16) 0xffff
        : (__mmask16) ((1u << (t->nch - ch0)) - 1);
    const __m512 bias = t->bias != NULL ? _mm512_maskz_loadu_ps (chm, t->bias + ch0)
        : _mm512_setzero_ps ();
    for (int p0 = 0; p0 < P && p0 < t->npos; p0 += 16) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; i++)
        r[i] = p0 + i < P ? ir_sgemm_act512 (_mm512_add_ps (acc[(p0 + i) * V + v], bias), t->act,
            lo, hi, alpha) : _mm512_setzero_ps ();
      ir_transpose16_avx512 (r);
      const int n = t->npos - p0 < 16 ? t->npos - p0 : 16;
      const __mmask16 pm = n >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << n) - 1);
      float *y = t->y + (int64_t) ch0 * t->y_cs + p0;
#pragma GCC unroll 16
      for (int j = 0; j < 16; j++)
        if (ch0 + j < t->nch)
          _mm512_mask_storeu_ps (y + j * t->y_cs, pm, r[j]);
    }
  }
}

#define DIRECT_TILE_FN(V)                                                     \
  static void direct_tile_##V (const conv_direct_tile *t)                     \
  {                                                                           \
    if (t->stride == 1)                                                       \
      direct_tile (V, 1, t);                                                  \
    else                                                                      \
      direct_tile (V, 2, t);                                                  \
  }
DIRECT_TILE_FN (1)
DIRECT_TILE_FN (2)
DIRECT_TILE_FN (3)
DIRECT_TILE_FN (4)
#undef DIRECT_TILE_FN

void
conv_direct_tile_avx512 (const conv_direct_tile *t)
{
  switch (t->lanes) {
    case 16: direct_tile_1 (t); break;
    case 32: direct_tile_2 (t); break;
    case 48: direct_tile_3 (t); break;
    default: direct_tile_4 (t); break;
  }
}

/* dst[j] = src[iw0 + j] for j < span, 0 outside [0, in_w): a window row with
 * its zero border, by masked loads. */
void
conv_direct_window_row_avx512 (const float *src, int64_t iw0, int64_t in_w, int64_t span,
    float *dst)
{
  for (int64_t j = 0; j < span; j += 16) {
    const int64_t a = -(iw0 + j), b = in_w - (iw0 + j);   /* valid lanes [a, b) */
    const int64_t lo = a < 0 ? 0 : a > 16 ? 16 : a, hi = b < lo ? lo : b > 16 ? 16 : b;
    const uint32_t upto = hi >= 16 ? 0xffffu : (1u << hi) - 1;
    const __mmask16 m = (__mmask16) (upto & ~((1u << lo) - 1));
    const __mmask16 store = span - j >= 16 ? (__mmask16) 0xffff
        : (__mmask16) ((1u << (span - j)) - 1);
    _mm512_mask_storeu_ps (dst + j, store, _mm512_maskz_loadu_ps (m, src + iw0 + j));
  }
}
