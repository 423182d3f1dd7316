/* Window kernels on 16 channels at a time, for small maps (block16_avx512.c):
 * 16 planes transposed in registers into a bordered [row][column][16 channels]
 * buffer, each output position computed with no masks, each output row
 * transposed back.  Depthwise convolution (conv_depthwise.c) and MaxPool
 * (pool.c) share them.
 *
 * A 7x7 or 14x14 plane is 49 or 196 floats: one plane per pass fills 49 of
 * 64 lanes and needs border masks per tap; ORT's NCHWc layout puts 16
 * channels in a vector. */
#ifndef IMGREC_BLOCK16_H
#define IMGREC_BLOCK16_H

#include <stdint.h>

/* Planes of the block: in_h x in_w in, out_h x out_w out, consecutive.  The
 * window is k x k with dilation 1 and the same stride (1 or 2) both ways,
 * out_w <= 16.  buf holds [buf_h][buf_w][16] floats (64-byte aligned) with
 * buf_h >= (out_h - 1) * stride + k and buf_w >= (out_w + 2) * stride + k
 * (positions are computed four at a time). */
typedef struct block16_args {
  const float *in;            /* the block's first plane */
  const float *w;             /* depthwise: k x k per channel */
  const float *bias;          /* depthwise: the block's channel 0, or NULL */
  float *out;
  int nch;                    /* planes in the block, 1-16 */
  int64_t k, in_h, in_w, out_h, out_w, stride, pad_h, pad_w;
  float *buf;
  int64_t buf_h, buf_w;
  int act;                    /* depthwise: IR_SGEMM_ACT_* in registers */
  float lo, hi, alpha;
} block16_args;

/* Depthwise convolution (one output channel per input channel): bias plus
 * the K x K taps, zeros outside the image. */
void block16_depthwise_avx512 (const block16_args *a);
/* MaxPool: the maximum of the window, -inf outside the image. */
void block16_max_pool_avx512 (const block16_args *a);

#endif
