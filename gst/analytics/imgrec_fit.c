/* Fitting a region into the model image and mapping points between them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "imgrec_fit.h"

#include <math.h>

static int
clamp_int (long v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : (int) v;
}

void
imgrec_fit_compute (imgrec_fit *fit, imgrec_fit_mode mode, int region_x,
    int region_y, int region_w, int region_h, int model_w, int model_h)
{
  fit->region_x = region_x;
  fit->region_y = region_y;
  fit->region_w = region_w;
  fit->region_h = region_h;
  fit->model_w = model_w;
  fit->model_h = model_h;
  fit->crop_x = fit->crop_y = 0;
  fit->crop_w = region_w;
  fit->crop_h = region_h;
  fit->dst_x = fit->dst_y = 0;
  fit->dst_w = model_w;
  fit->dst_h = model_h;

  if (mode == IMGREC_FIT_LETTERBOX) {
    double sx = (double) model_w / region_w, sy = (double) model_h / region_h;
    double s = sx < sy ? sx : sy;
    fit->dst_w = clamp_int (lround (region_w * s), 1, model_w);
    fit->dst_h = clamp_int (lround (region_h * s), 1, model_h);
    fit->dst_x = (model_w - fit->dst_w) / 2;
    fit->dst_y = (model_h - fit->dst_h) / 2;
  } else if (mode == IMGREC_FIT_CENTER_CROP) {
    double sx = (double) model_w / region_w, sy = (double) model_h / region_h;
    double s = sx > sy ? sx : sy;
    fit->crop_w = clamp_int (lround (model_w / s), 1, region_w);
    fit->crop_h = clamp_int (lround (model_h / s), 1, region_h);
    fit->crop_x = (region_w - fit->crop_w) / 2;
    fit->crop_y = (region_h - fit->crop_h) / 2;
  }
}

void
imgrec_fit_to_frame (const imgrec_fit *fit, double mx, double my, double *fx,
    double *fy)
{
  *fx = fit->region_x + fit->crop_x +
      (mx - fit->dst_x) * fit->crop_w / fit->dst_w;
  *fy = fit->region_y + fit->crop_y +
      (my - fit->dst_y) * fit->crop_h / fit->dst_h;
}

void
imgrec_fit_to_model (const imgrec_fit *fit, double fx, double fy, double *mx,
    double *my)
{
  *mx = fit->dst_x +
      (fx - fit->region_x - fit->crop_x) * fit->dst_w / fit->crop_w;
  *my = fit->dst_y +
      (fy - fit->region_y - fit->crop_y) * fit->dst_h / fit->crop_h;
}
