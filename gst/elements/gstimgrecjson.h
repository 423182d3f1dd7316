/* imgrecjson: writes the imgrec results of each frame as one JSON line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_JSON_H__
#define __GST_IMGREC_JSON_H__

#include <stdio.h>
#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_JSON (gst_imgrec_json_get_type ())
G_DECLARE_FINAL_TYPE (GstImgRecJson, gst_imgrec_json, GST, IMGREC_JSON,
    GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (imgrecjson);

/* The "schema-version" member of every line of imgrec's own layout
 * (docs/metadata.md): raised when a member is removed or changes meaning,
 * not when one is added. */
#define GST_IMGREC_JSON_SCHEMA_VERSION 1

/* The JSON writer imgrecjson and imgrecpublish share: the members of one
 * frame's object (@info NULL: no width/height/format), and the compact text
 * of a finished builder (unrefs it). */
void gst_imgrec_json_add_frame_members (JsonBuilder * b, GstBuffer * buf,
    guint64 frame, const GstSegment * segment, const GstVideoInfo * info);
gchar *gst_imgrec_json_builder_finish (JsonBuilder * b);
/* @name: the time @t in ns, or null when it is not valid */
void gst_imgrec_json_add_time (JsonBuilder * b, const gchar * name,
    GstClockTime t);

struct _GstImgRecJson {
  GstBaseTransform parent;

  /* properties (object lock) */
  gchar *location;
  gint format;                  /* GstImgRecJsonFormat */

  /* streaming */
  FILE *file;
  gboolean is_stdout;
  GstVideoInfo info;
  gboolean have_info;
  guint64 frames;
};

G_END_DECLS

#endif
