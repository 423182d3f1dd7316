/* How a source region is fitted into a model's input image (stretch,
 * letterbox, centre crop), and the exact mapping of points between the two.
 * Plain C, no GStreamer: the pre-processing places the picture with
 * imgrec_fit_compute and the detector maps boxes back with the same numbers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef IMGREC_FIT_H
#define IMGREC_FIT_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  IMGREC_FIT_STRETCH = 0,
  IMGREC_FIT_LETTERBOX,
  IMGREC_FIT_CENTER_CROP,
} imgrec_fit_mode;

/* A source region (frame pixels) and where its picture lands in the model
 * image.  The part [crop_x, crop_x + crop_w) x [crop_y, crop_y + crop_h) of
 * the region (relative to its origin) is scaled onto the rectangle
 * [dst_x, dst_x + dst_w) x [dst_y, dst_y + dst_h) of the model_w x model_h
 * image; the rest of the model image is padding (letterbox). */
typedef struct {
  int region_x, region_y, region_w, region_h;
  int crop_x, crop_y, crop_w, crop_h;
  int dst_x, dst_y, dst_w, dst_h;
  int model_w, model_h;
} imgrec_fit;

/* Fills *fit for a region_w x region_h region at (region_x, region_y) of
 * the frame; sizes must be positive.  Letterbox: scale by
 * min(model_w / region_w, model_h / region_h), round the scaled size to the
 * nearest pixel, centre it (the odd pixel of padding goes right/bottom).
 * Centre crop: the same with max, cropping the source instead. */
void imgrec_fit_compute (imgrec_fit *fit, imgrec_fit_mode mode,
    int region_x, int region_y, int region_w, int region_h,
    int model_w, int model_h);

/* Model-image pixel coordinates (continuous: 0 = left edge of pixel 0,
 * model_w = right edge of the last) to frame coordinates, and back. */
void imgrec_fit_to_frame (const imgrec_fit *fit, double mx, double my,
    double *fx, double *fy);
void imgrec_fit_to_model (const imgrec_fit *fit, double fx, double fy,
    double *mx, double *my);

#ifdef __cplusplus
}
#endif
#endif
