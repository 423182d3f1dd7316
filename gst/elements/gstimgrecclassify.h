/* imgrecclassify: CNN classification of video frames and regions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_CLASSIFY_H__
#define __GST_IMGREC_CLASSIFY_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "gstimgrecmeta.h"
#include "gstimgrecinfer.h"
#include "gstimgrecclasses.h"

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_CLASSIFY (gst_imgrec_classify_get_type ())
G_DECLARE_FINAL_TYPE (GstImgRecClassify, gst_imgrec_classify, GST,
    IMGREC_CLASSIFY, GstImgRecInfer)

GST_ELEMENT_REGISTER_DECLARE (imgrecclassify);

typedef enum {
  GST_IMGREC_ROI_FULL_FRAME,
  GST_IMGREC_ROI_LIST,
} GstImgRecRoiMode;

/* One classification, as kept between frames. */
typedef struct {
  gint roi_id;
  gint64 key;                   /* what carries it: tracking id, else ROI id */
  gboolean tracked;             /* key is a tracking id */
  gint class_id;
  const gchar *label;
  gfloat confidence;
  GstImgRecResultFlags flags;
  GstClockTime inference_pts;
  guint n_top;
  GstImgRecClassScore top[GST_IMGREC_MAX_TOP_K];
} GstImgRecClassifyResult;

struct _GstImgRecClassify {
  GstImgRecInfer infer;         /* model, labels, pre-processing, top-k,
                                 * roi, object-class, threads, post-messages;
                                 * session, pre-processing */
  GstImgRecClasses classes;     /* start() to stop() */

  /* properties (object lock) */
  gdouble threshold;
  GstImgRecSoftmax softmax;
  guint inference_interval;
  gboolean qos;

  /* from start() to stop(), streaming thread only */
  GstClockTime processing_latency;
  guint64 frame_count;
  GstImgRecClassifyResult last;         /* full-frame mode */
  gboolean have_last;
  GArray *last_rois;            /* GstImgRecClassifyResult, roi-list mode */
  GArray *next_rois;

  /* QoS (object lock) */
  GstClockTime earliest_time;

  /* statistics (object lock) */
  guint64 stat_frames, stat_inferences, stat_qos_skipped;
  guint64 stat_engine_ns, stat_outside_ns, stat_total_ns;
};

G_END_DECLS

#endif
