/* One row per kind of imgrec result meta (classification, sequence, gan,
 * detection, track): how imgrecjson writes its own members, what text
 * imgrecoverlay draws for it and where in a label block, and its
 * confidence.  The writers hold no
 * per-kind branches; a new kind is one row in gstimgrecresultkind.c (and
 * one in libgstimgrec's kind table, which names it).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_RESULT_KIND_H__
#define __GST_IMGREC_RESULT_KIND_H__

#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The parts of a result's overlay text that a viewer asked for (mapped
 * from imgrecoverlay's show flags). */
typedef enum {
  GST_IMGREC_TEXT_LABEL = (1 << 0),
  GST_IMGREC_TEXT_CONFIDENCE = (1 << 1),
  GST_IMGREC_TEXT_TOP_K = (1 << 2),
} GstImgRecTextParts;

typedef struct {
  GType (*api) (void);
  /* the kind's own members, after the common ones imgrecjson writes
   * (docs/metadata.md) */
  void (*add_json_members) (JsonBuilder * b, GstMeta * meta);
  /* appends the overlay text of the result (without the model prefix) */
  void (*append_text) (GString * s, GstMeta * meta, GstImgRecTextParts parts);
  /* NULL: the kind has no confidence (it always passes min-confidence) */
  gfloat (*confidence) (GstMeta * meta);
  /* the place of the result's line in imgrecoverlay's label block of its
   * box (smaller first): who it is, what was found, what it is, how it was
   * processed */
  guint line_order;
} GstImgRecResultKind;

/* The row of @meta's API type, or NULL when imgrec does not know it. */
const GstImgRecResultKind *gst_imgrec_result_kind_lookup (GstMeta * meta);

/* @meta's confidence, 1.0 when its kind has none or is unknown. */
gfloat gst_imgrec_result_kind_confidence (GstMeta * meta);

G_END_DECLS

#endif
