/* Lens sharpness of a region: block-mean gradient energy over the block
 * means' variance (imgrec_sharpness.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "imgrec_sharpness.h"

#include <math.h>

size_t
imgrec_sharpness_scratch_floats (int width)
{
  size_t blocks = width > 0 ? (size_t) (width / IMGREC_SHARPNESS_BLOCK) : 0;

  return 3 * blocks;
}

/* Adds one row's pixels into the sums of its blocks. */
static void
add_row (const imgrec_luma_view *v, int y, int blocks, float *sums)
{
  size_t ps = (size_t) v->pixel_stride;
  size_t off = (size_t) y * v->row_stride;
  int bx;

  if (v->g == NULL) {
    const unsigned char *p = v->r + off;
    if (ps == 1) {
      for (bx = 0; bx < blocks; bx++, p += 4)
        sums[bx] += (float) (p[0] + p[1] + p[2] + p[3]);
    } else {
      for (bx = 0; bx < blocks; bx++, p += 4 * ps)
        sums[bx] += (float) (p[0] + p[ps] + p[2 * ps] + p[3 * ps]);
    }
  } else {
    const unsigned char *r = v->r + off, *g = v->g + off, *b = v->b + off;
    for (bx = 0; bx < blocks; bx++) {
      unsigned acc = 0;
      int k;
      for (k = 0; k < 4; k++, r += ps, g += ps, b += ps)
        acc += 77u * r[0] + 150u * g[0] + 29u * b[0];
      sums[bx] += (float) acc * (1.0f / 256.0f);
    }
  }
}

int
imgrec_sharpness_measure (const imgrec_luma_view *view, float *scratch,
    imgrec_sharpness_result *out)
{
  const int n = IMGREC_SHARPNESS_BLOCK;
  int bw = view->width / n, bh = view->height / n, bx, by, k;
  float *sums = scratch, *cur = scratch + bw, *prev = scratch + 2 * bw, *t;
  double sum = 0.0, sum_sq = 0.0, ex = 0.0, ey = 0.0, var, energy;

  out->sharpness = -1.0;
  out->contrast = 0.0;
  if (bw < 2 || bh < 2)
    return 0;
  for (by = 0; by < bh; by++) {
    for (bx = 0; bx < bw; bx++)
      sums[bx] = 0.0f;
    for (k = 0; k < n; k++)
      add_row (view, by * n + k, bw, sums);
    for (bx = 0; bx < bw; bx++) {
      float m = sums[bx] * (1.0f / (n * n));
      cur[bx] = m;
      sum += m;
      sum_sq += (double) m * m;
    }
    for (bx = 0; bx + 1 < bw; bx++) {
      float d = cur[bx + 1] - cur[bx];
      ex += (double) d * d;
    }
    if (by > 0)
      for (bx = 0; bx < bw; bx++) {
        float d = cur[bx] - prev[bx];
        ey += (double) d * d;
      }
    t = prev;
    prev = cur;
    cur = t;
  }
  sum /= (double) bw * bh;
  var = sum_sq / ((double) bw * bh) - sum * sum;
  out->contrast = var > 0.0 ? sqrt (var) : 0.0;
  if (out->contrast < IMGREC_SHARPNESS_MIN_CONTRAST)
    return 0;
  ex /= (double) (bw - 1) * bh;
  ey /= (double) bw * (bh - 1);
  energy = ex > ey ? ex : ey;
  out->sharpness = energy / var;
  return 1;
}
