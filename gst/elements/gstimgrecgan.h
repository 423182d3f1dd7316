/* imgrecgan: GAN discriminator scores and generator restoration of frames
 * and regions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_GAN_H__
#define __GST_IMGREC_GAN_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "gstimgrecganmeta.h"
#include "gstimgrecinfer.h"

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_GAN (gst_imgrec_gan_get_type ())
G_DECLARE_FINAL_TYPE (GstImgRecGan, gst_imgrec_gan, GST, IMGREC_GAN,
    GstImgRecInfer)

GST_ELEMENT_REGISTER_DECLARE (imgrecgan);

typedef enum {
  GST_IMGREC_GAN_MODE_DISCRIMINATE,
  GST_IMGREC_GAN_MODE_GENERATE,
} GstImgRecGanMode;

typedef enum {
  GST_IMGREC_GAN_ROI_FULL_FRAME,
  GST_IMGREC_GAN_ROI_LIST,
} GstImgRecGanRoiMode;

/* One anomaly cause's hysteresis. */
typedef struct {
  gboolean anomaly;
  guint run;                    /* consecutive frames pointing to a change */
  GstClockTime run_start;       /* PTS of the first of them */
} GstImgRecGanHysteresis;

/* Realism anomaly state of one region: key is the ROI's id, or the full
 * frame's own key (as for the defocus state below; key first in both, for
 * find_keyed_state). */
typedef struct {
  gint key;
  GstImgRecGanHysteresis h;
} GstImgRecGanAnomalyState;

/* Defocus state of one region: its sharpness baseline and hysteresis.  The
 * full frame has its own key (its ROI's id follows the number of upstream
 * ROIs, and a baseline must outlive that). */
typedef struct {
  gint key;
  GstImgRecGanHysteresis h;
  gdouble log_baseline;         /* running mean of log(sharpness) */
  guint baseline_frames;        /* sharp frames in it so far */
} GstImgRecGanFocusState;

/* Converters and images for writing a generated region of one size back. */
typedef struct {
  gint width, height;           /* 0 = unused slot */
  guint64 last_use;
  GstVideoInfo rgb_info;        /* RGB at the region's size */
  GstBuffer *generated;         /* RGB, the generator's image scaled */
  GstBuffer *original;          /* RGB, the region before (blend < 1) */
  GstVideoConverter *gen_to_rgb;        /* model image -> RGB region */
  GstVideoConverter *frame_to_rgb;      /* frame region -> RGB (lazily) */
  GstVideoConverter *rgb_to_frame;      /* RGB region -> frame region */
} GstImgRecGanWriteSlot;

#define GST_IMGREC_GAN_WRITE_SLOTS 8

struct _GstImgRecGan {
  GstImgRecInfer infer;         /* model, roi, object-class, scaling,
                                 * threads; session and pre-processing */

  /* properties (object lock) */
  GstImgRecGanMode mode;
  gdouble anomaly_threshold;
  guint anomaly_frames;
  gdouble anomaly_hysteresis;
  gdouble defocus_threshold;
  guint defocus_baseline_frames;
  gdouble blend;
  gdouble gate_min_brightness, gate_min_contrast, gate_min_sharpness;
  gdouble gate_max_noise;

  /* from start() to stop(), streaming thread only */
  GstImgRecGanMode run_mode;
  gint score_output;            /* discriminate: output index */
  gint gen_width, gen_height, gen_channels;     /* generate: output image */
  gfloat range_lo, range_hi;
  GstVideoInfo gen_info;        /* RGB or GRAY8 at the output's size */
  GstBuffer *gen_buffer;
  GstImgRecGanWriteSlot slots[GST_IMGREC_GAN_WRITE_SLOTS];
  guint64 tick;
  GArray *states, *next_states; /* GstImgRecGanAnomalyState */
  GArray *focus_states, *next_focus_states;     /* GstImgRecGanFocusState */
  guint baseline_frames;        /* defocus-baseline-frames at start */
  gfloat *sharpness_scratch;
  gsize sharpness_scratch_len;

  /* statistics (object lock) */
  guint64 stat_frames, stat_inferences, stat_anomalies;
  guint64 stat_restored, stat_kept;
};

G_END_DECLS

#endif
