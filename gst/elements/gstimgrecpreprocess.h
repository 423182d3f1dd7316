/* Pre-processing for imgrec inference elements: a region of a raw video
 * frame (any format GstVideoConverter reads, any stride) → the model's
 * input tensor.  One GstVideoConverter crops and scales (stretch, letterbox
 * or centre crop) within the input's own format — GstVideoConverter's
 * per-plane fast path, several times cheaper than scaling while converting
 * a 1080p frame — and a second converts the model-size image's colours to
 * RGB/BGR/GRAY8; one more pass turns it into floats through per-channel
 * lookup tables that apply (pixel * scale - mean) / std, in NCHW or NHWC
 * order.
 *
 * Everything a frame needs is allocated up front: the model-size image, the
 * tensor and the whole-frame converter.  Regions of other sizes (ROI mode)
 * get converters from a small cache keyed by region size.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_PREPROCESS_H__
#define __GST_IMGREC_PREPROCESS_H__

#include <gst/video/video.h>
#include "gstimgrecmodel.h"
#include "imgrec_fit.h"

G_BEGIN_DECLS

#define GST_IMGREC_CONVERTER_CACHE_SIZE 8

typedef enum {
  GST_IMGREC_SCALING_BILINEAR,
  GST_IMGREC_SCALING_ANTIALIAS,
} GstImgRecScaling;

GType gst_imgrec_scaling_get_type (void);
#define GST_TYPE_IMGREC_SCALING (gst_imgrec_scaling_get_type ())

typedef struct {
  gint width, height;           /* source region size, 0 = unused slot */
  GstVideoConverter *convert;
  guint64 last_use;
} GstImgRecConverterSlot;

typedef struct {
  gint width, height, channels;
  GstImgRecLayout layout;
  GstImgRecResize resize;
  GstImgRecScaling scaling;
  guint threads;
  gfloat lut[GST_IMGREC_MAX_CHANNELS][256];

  GstVideoInfo in_info;
  gboolean have_in_info;
  gint x_align, y_align;        /* region origin alignment (chroma subsampling) */

  GstVideoInfo mid_info;        /* the input's format at the model's size */
  GstBuffer *mid_buffer;
  GstVideoFrame mid_frame;
  gboolean mid_frame_mapped;
  GstVideoConverter *to_model;  /* mid_info -> model_info, no scaling */

  GstVideoInfo model_info;      /* RGB, BGR or GRAY8 at the model's size */
  GstBuffer *model_buffer;
  GstVideoFrame model_frame;
  gboolean model_frame_mapped;

  gfloat *tensor;
  gint64 dims[4];

  GstImgRecConverterSlot slots[GST_IMGREC_CONVERTER_CACHE_SIZE];
  guint64 tick;

  /* a region's pixels copied to 32-byte aligned planes and rows before
   * scaling (see gst_imgrec_preprocess_run); grown, never shrunk */
  GstBuffer *region_buffer;

  /* colour of the letterbox padding (ARGB, default opaque black); set it
   * before gst_imgrec_preprocess_set_input */
  guint32 border_argb;
} GstImgRecPreprocess;

gboolean gst_imgrec_preprocess_init (GstImgRecPreprocess * pp,
    const GstImgRecModelConfig * cfg, GstImgRecScaling scaling,
    guint threads, GError ** error);
gboolean gst_imgrec_preprocess_set_input (GstImgRecPreprocess * pp,
    const GstVideoInfo * in_info, GError ** error);
gboolean gst_imgrec_preprocess_clip_region (const GstImgRecPreprocess * pp,
    const GstVideoRectangle * region, GstVideoRectangle * clipped);
gboolean gst_imgrec_preprocess_run (GstImgRecPreprocess * pp,
    const GstVideoFrame * frame, const GstVideoRectangle * region);
/* Where gst_imgrec_preprocess_run puts `region` (clipped; NULL = the whole
 * frame) in the model image: the mapping of model-image coordinates back
 * to frame coordinates (imgrec_fit_to_frame). */
void gst_imgrec_preprocess_fit (const GstImgRecPreprocess * pp,
    const GstVideoRectangle * region, imgrec_fit * fit);
void gst_imgrec_preprocess_clear (GstImgRecPreprocess * pp);

/* The GstVideoConverter configuration every imgrec element scales with: no
 * dithering, @threads converter threads (0: GStreamer's default), @method
 * — except on sources of fewer than 3 lines, where GStreamer 1.22's
 * vertical linear/cubic scaler keeps its first output for every later
 * frame; nearest, exact for such sources, is used there.  Callers add their
 * own fields (crop, placement, taps). */
GstStructure *gst_imgrec_scaler_config (gint src_height,
    GstVideoResamplerMethod method, guint threads);

G_END_DECLS

#endif
