/* imgrecoverlay: draws imgrec results on the video.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_OVERLAY_H__
#define __GST_IMGREC_OVERLAY_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>
#include <pango/pangocairo.h>

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_OVERLAY (gst_imgrec_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstImgRecOverlay, gst_imgrec_overlay, GST,
    IMGREC_OVERLAY, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (imgrecoverlay);

typedef enum {
  GST_IMGREC_OVERLAY_SHOW_LABEL = (1 << 0),
  GST_IMGREC_OVERLAY_SHOW_CONFIDENCE = (1 << 1),
  GST_IMGREC_OVERLAY_SHOW_BOX = (1 << 2),
  GST_IMGREC_OVERLAY_SHOW_TOP_K = (1 << 3),
  GST_IMGREC_OVERLAY_SHOW_MODEL = (1 << 4),
} GstImgRecOverlayShow;

typedef enum {
  GST_IMGREC_OVERLAY_POSITION_TOP_LEFT,
  GST_IMGREC_OVERLAY_POSITION_TOP_RIGHT,
  GST_IMGREC_OVERLAY_POSITION_BOTTOM_LEFT,
  GST_IMGREC_OVERLAY_POSITION_BOTTOM_RIGHT,
} GstImgRecOverlayPosition;

struct _GstImgRecOverlay {
  GstVideoFilter parent;

  /* properties (object lock) */
  guint font_size;
  GstImgRecOverlayShow show;
  GstImgRecOverlayPosition position;
  gboolean show_carried;
  gdouble min_confidence;

  /* streaming thread */
  PangoLayout *layout;
  cairo_surface_t *measure_surface;
  cairo_t *measure_cr;
  guint layout_font_px;
};

G_END_DECLS

#endif
