/* imgrecroi: attaches fixed or keyframe-interpolated regions of interest.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_ROI_H__
#define __GST_IMGREC_ROI_H__

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_ROI (gst_imgrec_roi_get_type ())
G_DECLARE_FINAL_TYPE (GstImgRecRoi, gst_imgrec_roi, GST, IMGREC_ROI,
    GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (imgrecroi);

typedef struct {
  GstClockTime time;            /* GST_CLOCK_TIME_NONE: a fixed region */
  gdouble x, y, w, h;
} GstImgRecRoiKey;

typedef struct {
  GQuark type;
  gint id;
  GArray *keys;                 /* GstImgRecRoiKey, by time */
} GstImgRecRoiRegion;

struct _GstImgRecRoi {
  GstBaseTransform parent;

  /* properties (object lock) */
  gchar *regions_text;
  gboolean relative;
  gint id_base;

  /* parsed regions (object lock) */
  GArray *regions;              /* GstImgRecRoiRegion */

  /* streaming thread */
  GstVideoInfo info;
  gboolean have_info;
};

G_END_DECLS

#endif
