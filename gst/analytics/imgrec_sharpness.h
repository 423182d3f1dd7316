/* Lens sharpness of a region of a frame: a focus measure on the luma at
 * the frame's own resolution, for imgrecgan's defocus check.  Plain C, no
 * GStreamer.
 *
 * The region is cut into 4x4-pixel blocks (every pixel is read; a 4x4 mean
 * cancels sensor noise to a quarter of its deviation while keeping every
 * detail coarser than 4 px).  With m the block means,
 *
 *   sharpness = max (Ex, Ey) / V
 *
 * where Ex and Ey are the mean squared differences between horizontally and
 * vertically adjacent blocks and V the variance of the block means.  Dividing
 * by V makes it blind to brightness and contrast (night, haze, exposure), and
 * taking the sharper direction keeps a motion blur, which smears one
 * direction, from looking like a defocused lens, which smears all of them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef IMGREC_SHARPNESS_H
#define IMGREC_SHARPNESS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Block side in pixels. */
#define IMGREC_SHARPNESS_BLOCK 4

/* Regions whose block means vary by less than this (standard deviation, grey
 * levels) have no detail to judge (a covered lens, a blank wall): their
 * sharpness is not measured. */
#define IMGREC_SHARPNESS_MIN_CONTRAST 4.0

/* 8-bit pixels of a region: luma alone (g and b NULL), or R, G and B
 * (luma = (77 R + 150 G + 29 B) / 256).  pixel_stride: bytes from one
 * pixel to the next in a row; row_stride: bytes from one row to the next. */
typedef struct {
  const unsigned char *r, *g, *b;
  int pixel_stride, row_stride;
  int width, height;
} imgrec_luma_view;

typedef struct {
  double sharpness;             /* max (Ex, Ey) / V; -1: not measured */
  double contrast;              /* standard deviation of the block means */
} imgrec_sharpness_result;

/* Floats of scratch imgrec_sharpness_measure needs for a region width. */
size_t imgrec_sharpness_scratch_floats (int width);

/* Measures *view into *out.  Returns 1 when measured, 0 when the region is
 * smaller than 2 x 2 blocks or flatter than IMGREC_SHARPNESS_MIN_CONTRAST
 * (out->sharpness is then -1; out->contrast is set when the region is large
 * enough, else 0). */
int imgrec_sharpness_measure (const imgrec_luma_view *view, float *scratch,
    imgrec_sharpness_result *out);

#ifdef __cplusplus
}
#endif
#endif
