/* How degraded a small image looks (imgrec_degradation.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "imgrec_degradation.h"

#include <math.h>

static double
luma_at (const imgrec_luma_view *v, int x, int y)
{
  size_t off = (size_t) y * v->row_stride + (size_t) x * v->pixel_stride;

  if (v->g == NULL)
    return v->r[off];
  return (77.0 * v->r[off] + 150.0 * v->g[off] + 29.0 * v->b[off]) / 256.0;
}

int
imgrec_degradation_measure (const imgrec_luma_view *v, imgrec_degradation *out)
{
  int w = v->width, h = v->height, x, y;
  double sum = 0.0, sum_sq = 0.0, gx = 0.0, gy = 0.0, lap = 0.0, n, var;

  out->brightness = out->contrast = 0.0;
  out->sharpness = out->noise = -1.0;
  if (w < 1 || h < 1)
    return 0;
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      double p = luma_at (v, x, y);
      sum += p;
      sum_sq += p * p;
      if (x + 1 < w) {
        double d = luma_at (v, x + 1, y) - p;
        gx += d * d;
      }
      if (y + 1 < h) {
        double d = luma_at (v, x, y + 1) - p;
        gy += d * d;
      }
    }
  n = (double) w * h;
  out->brightness = sum / n;
  var = sum_sq / n - out->brightness * out->brightness;
  out->contrast = var > 0.0 ? sqrt (var) : 0.0;
  /* the blurrier direction: a motion blur smears one direction only */
  if (w > 1 && h > 1 && var > 1e-6) {
    gx /= (double) (w - 1) * h;
    gy /= (double) w * (h - 1);
    out->sharpness = (gx < gy ? gx : gy) / (2.0 * var);
  }
  if (w < 3 || h < 3)
    return 0;
  /* Immerkaer (1996): kernel [1 -2 1; -2 4 -2; 1 -2 1], sigma =
   * sqrt (pi / 2) / (6 (W - 2) (H - 2)) * sum |response| */
  for (y = 1; y + 1 < h; y++)
    for (x = 1; x + 1 < w; x++) {
      double r = luma_at (v, x - 1, y - 1) - 2.0 * luma_at (v, x, y - 1) +
          luma_at (v, x + 1, y - 1) - 2.0 * luma_at (v, x - 1, y) +
          4.0 * luma_at (v, x, y) - 2.0 * luma_at (v, x + 1, y) +
          luma_at (v, x - 1, y + 1) - 2.0 * luma_at (v, x, y + 1) +
          luma_at (v, x + 1, y + 1);
      lap += fabs (r);
    }
  out->noise = 1.2533141373155003 * lap / (6.0 * (w - 2) * (h - 2));
  return out->sharpness >= 0.0;
}
