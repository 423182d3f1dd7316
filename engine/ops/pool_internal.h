/* The line kernels of MaxPool / AveragePool's separable rows (pool.c): each
 * output row's window rows are first combined column by column into one
 * padded line, then every output takes its W taps from that line.  One
 * implementation per ISA (pool_lines_avx2.c, pool_lines_avx512.c, compiled
 * with their own flags), chosen by pool.c from ir_cpu (). */
#ifndef IMGREC_POOL_INTERNAL_H
#define IMGREC_POOL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* dst[i] = max or sum over r of rows[r][i], i < n (n_rows >= 1).  With
 * `accumulate`, dst's own values take part as one more row. */
typedef void (*pool_combine_fn) (bool is_max, const float *const *rows, int n_rows,
    int64_t n, bool accumulate, float *dst);

/* y[i] = max or sum over k < taps of line[i * stride + k * dil], i < out;
 * stride 1 or 2; every index read is below the line's length. */
typedef void (*pool_taps_fn) (bool is_max, const float *line, int64_t out,
    int64_t stride, int64_t taps, int64_t dil, float *y);

/* MaxPool 3x3 or 2x2 with dilation 1 and W stride 1 or 2 (ResNet's,
 * SqueezeNet's, GoogLeNet's 3x3 pools; VGG's and most small CNNs' 2x2):
 * output row oh of one plane straight from the image, the window's rows and
 * columns combined in registers (no line, no tables: on 13x13 outputs the
 * separable rows' calls and fills were most of the time, and 2x2 pools on
 * 8x8 to 16x16 maps took 2.4-3.1x ORT's time).  Columns outside the image
 * read as -inf; the rows are those of [oh * stride_h - pad_h, + k) inside
 * the image (at least one). */
typedef struct pool_max_small_args {
  const float *plane;
  int64_t k;   /* 2 or 3, both axes */
  int64_t in_h, in_w, out_w, stride_h, stride_w, pad_h, pad_w;
} pool_max_small_args;
/* Output rows [oh0, oh1) of the plane, one after the other from y (a
 * plane's rows in one call: on 8x8 maps the calls were a third of it). */
typedef void (*pool_max_small_rows_fn) (const pool_max_small_args *a, int64_t oh0, int64_t oh1,
    float *y);

void pool_max_small_rows_avx2 (const pool_max_small_args *a, int64_t oh0, int64_t oh1, float *y);
void pool_max_small_rows_avx512 (const pool_max_small_args *a, int64_t oh0, int64_t oh1,
    float *y);

void pool_combine_avx2 (bool is_max, const float *const *rows, int n_rows, int64_t n,
    bool accumulate, float *dst);
void pool_taps_avx2 (bool is_max, const float *line, int64_t out, int64_t stride,
    int64_t taps, int64_t dil, float *y);
void pool_combine_avx512 (bool is_max, const float *const *rows, int n_rows, int64_t n,
    bool accumulate, float *dst);
void pool_taps_avx512 (bool is_max, const float *line, int64_t out, int64_t stride,
    int64_t taps, int64_t dil, float *y);

#endif
