/* imgrectrack: multi-object tracking of regions of interest.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_TRACK_H__
#define __GST_IMGREC_TRACK_H__

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>

#include "imgrec_tracker.h"

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_TRACK (gst_imgrec_track_get_type ())
G_DECLARE_FINAL_TYPE (GstImgRecTrack, gst_imgrec_track, GST, IMGREC_TRACK,
    GstBaseTransform)

#define GST_IMGREC_TRACK_PTS_RING 64

struct _GstImgRecTrack {
  GstBaseTransform parent;

  /* properties (object lock) */
  imgrec_tracker_params params;
  guint64 max_age_time;
  gchar *object_class;
  gboolean show_predicted;
  gboolean post_messages;

  /* streaming thread */
  imgrec_tracker *tracker;
  GstVideoInfo info;
  gboolean have_info;
  GQuark *object_classes;       /* 0-terminated or NULL = every ROI */
  GArray *class_quarks;         /* class id -> ROI type */
  GHashTable *first_seen;       /* track id -> PTS (guint64 keys) */
  GstClockTime pts_ring[GST_IMGREC_TRACK_PTS_RING];
  gboolean seen_buffer;
  guint64 reset_count;
  /* per frame, kept to avoid allocating */
  GPtrArray *rois;
  GArray *dets;                 /* imgrec_track_input */
  GArray *det_track;            /* gint */
};

GST_ELEMENT_REGISTER_DECLARE (imgrectrack);

G_END_DECLS

#endif
