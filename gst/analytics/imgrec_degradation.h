/* How degraded a small image looks: the measures imgrecgan mode=generate
 * gates its restorer on, taken on a region as the generator sees it (scaled
 * to the model's input, e.g. a 32x32 sign crop).  Plain C, no GStreamer.
 *
 * On the luma L (8-bit grey levels):
 *
 *   brightness = mean (L)
 *   contrast   = standard deviation of L
 *   sharpness  = mean squared difference of neighbouring pixels in the
 *                blurrier of the two directions / (2 contrast^2): about 0
 *                for a smooth image, 1 for pixels independent of their
 *                neighbours; blind to brightness and contrast, and lowered
 *                by a motion blur, which smears one direction (the opposite
 *                of imgrec_sharpness, the lens check, which must ignore it)
 *   noise      = Immerkaer's estimate of the standard deviation of white
 *                noise (the mean absolute response to the difference of two
 *                Laplacians, which cancels smooth gradients), grey levels
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef IMGREC_DEGRADATION_H
#define IMGREC_DEGRADATION_H

#include "imgrec_sharpness.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double brightness;            /* grey levels, 0-255 */
  double contrast;              /* grey levels */
  double sharpness;             /* -1 when not measured (flat) */
  double noise;                 /* grey levels; -1 when under 3x3 pixels */
} imgrec_degradation;

/* Measures *view (at least 3x3 pixels for every measure, 2x2 for the
 * sharpness; a flat image has no sharpness).  Returns 1 when every measure was taken, else 0 (those not
 * taken are -1; brightness and contrast are always set). */
int imgrec_degradation_measure (const imgrec_luma_view *view,
    imgrec_degradation *out);

#ifdef __cplusplus
}
#endif
#endif
