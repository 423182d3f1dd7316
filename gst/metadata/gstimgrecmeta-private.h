/* Lookups shared by every imgrec result meta type (not installed).
 * The typed public accessors (gst_buffer_get_imgrec_*_meta_for_roi, ...)
 * stay for type safety and GObject-introspection; they are one-line calls
 * into these. */
#ifndef __GST_IMGREC_META_PRIVATE_H__
#define __GST_IMGREC_META_PRIVATE_H__

#include "gstimgrecmeta.h"

G_BEGIN_DECLS

/* First meta of API type @api whose GstImgRecResultInfo.roi_id is @roi_id. */
G_GNUC_INTERNAL GstMeta *_gst_imgrec_meta_find_for_roi (GstBuffer * buffer, GType api,
    gint roi_id);
/* Every meta of API type @api, in the order they were added. */
G_GNUC_INTERNAL GList *_gst_imgrec_meta_list (GstBuffer * buffer, GType api);
G_GNUC_INTERNAL guint _gst_imgrec_meta_count (GstBuffer * buffer, GType api);
G_GNUC_INTERNAL GstMeta *_gst_imgrec_meta_nth (GstBuffer * buffer, GType api, guint index);

/* Builds the ROI param that describes @meta (a result meta of the caller's
 * type), or returns NULL when the result has none. */
typedef GstStructure *(*GstImgRecRoiParamFunc) (GstMeta * meta);

/* The transform every result meta uses: copies of whole buffers and
 * videoscale keep the meta (fields copied by value: plain data and interned
 * strings; the region scaled like the frame), partial copies and unknown
 * transforms drop it; the ROI param that GStreamer 1.22 loses on copy is put
 * back (@param_name, matched by model). */
G_GNUC_INTERNAL gboolean _gst_imgrec_meta_transform (GstBuffer * dest, GstMeta * meta,
    GQuark type, gpointer data, const GstMetaInfo * info, const gchar * param_name,
    GstImgRecRoiParamFunc make_param);

G_END_DECLS

#endif
