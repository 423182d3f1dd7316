/* What every imgrec result meta type shares (not installed): registration,
 * init, adding, lookups, the region and ranked-class getters, the transform.
 * The typed public functions (gst_buffer_get_imgrec_*_meta_for_roi, ...)
 * stay for type safety and GObject-introspection; they are one-line calls
 * into these. */
#ifndef __GST_IMGREC_META_PRIVATE_H__
#define __GST_IMGREC_META_PRIVATE_H__

#include "gstimgrecmeta.h"

G_BEGIN_DECLS

/* Registers the meta API @name with the tags every result meta has ("video",
 * "orientation", "size"), so that all of them survive the same elements. */
G_GNUC_INTERNAL GType _gst_imgrec_meta_api_register (const gchar * name);

/* The common part of every init: zeroes the meta's own @meta_size bytes
 * after the GstMeta header and marks the result as having no region and no
 * inference time yet; the caller sets its type's own non-zero defaults. */
G_GNUC_INTERNAL void _gst_imgrec_meta_init_result (GstMeta * meta,
    gsize meta_size);

/* Adds a meta of @info to @buffer, naming its @model and @element and
 * stamping it with the buffer's PTS, or returns NULL. */
G_GNUC_INTERNAL GstMeta *_gst_imgrec_meta_add (GstBuffer * buffer,
    const GstMetaInfo * info, const gchar * model, const gchar * element);

/* First meta of API type @api whose GstImgRecResultInfo.roi_id is @roi_id. */
G_GNUC_INTERNAL GstMeta *_gst_imgrec_meta_find_for_roi (GstBuffer * buffer, GType api,
    gint roi_id);
/* Every meta of API type @api, in the order they were added. */
G_GNUC_INTERNAL GList *_gst_imgrec_meta_list (GstBuffer * buffer, GType api);
G_GNUC_INTERNAL guint _gst_imgrec_meta_count (GstBuffer * buffer, GType api);
G_GNUC_INTERNAL GstMeta *_gst_imgrec_meta_nth (GstBuffer * buffer, GType api, guint index);

/* The region of @info into the optional outputs. */
G_GNUC_INTERNAL void _gst_imgrec_result_info_get_region (
    const GstImgRecResultInfo * info, gint * x, gint * y, guint * width,
    guint * height);
/* Entry @index of the @n_top ranked classes @top into the optional outputs;
 * %FALSE when @index is not below @n_top. */
G_GNUC_INTERNAL gboolean _gst_imgrec_class_scores_get (
    const GstImgRecClassScore * top, guint n_top, guint index,
    gint * class_id, const gchar ** label, gfloat * confidence);

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
