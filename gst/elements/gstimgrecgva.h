/* DL Streamer's gvametaconvert JSON layout for one frame (imgrecjson and
 * imgrecpublish format=gva).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_GVA_H__
#define __GST_IMGREC_GVA_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  GST_IMGREC_JSON_FORMAT_IMGREC,
  GST_IMGREC_JSON_FORMAT_GVA,
} GstImgRecJsonFormat;

#define GST_TYPE_IMGREC_JSON_FORMAT (gst_imgrec_json_format_get_type ())
GType gst_imgrec_json_format_get_type (void);

/* Adds `objects`, `tensors`, `resolution` and `timestamp` (stream time)
 * for @buf to the object @b has begun (@info NULL: no resolution). */
void gst_imgrec_gva_add_frame_members (JsonBuilder * b, GstBuffer * buf,
    const GstSegment * segment, const GstVideoInfo * info);

G_END_DECLS

#endif
