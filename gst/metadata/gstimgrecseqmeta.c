/* imgrec sequence results (imgrecseq) — libgstimgrec-1.0.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:gstimgrecseqmeta
 * @title: GstImgRecSequenceMeta
 * @short_description: results of imgrecseq (recurrent / windowed recognition)
 *
 * imgrecseq attaches one #GstImgRecSequenceMeta per recognised region (or
 * one for the whole frame).  Like every imgrec result meta it starts with a
 * #GstImgRecResultInfo; after it come the decision, the ranked classes, how
 * many frames the state has seen since its last reset, how often the
 * element reset, the key of the state (scope id) and, for window models,
 * the time span of the window.  It survives copies, videoconvert and
 * videoscale like the classification meta.
 *
 * From Python (GObject-introspection):
 * |[
 * from gi.repository import GstImgRec
 * for meta in GstImgRec.buffer_get_imgrec_sequence_metas(buffer):
 *     print(meta.get_label(), meta.get_confidence(), meta.get_steps())
 * ]|
 */
#include "gstimgrecseqmeta.h"
#include "gstimgrecmeta-private.h"

GType
gst_imgrec_sequence_meta_api_get_type (void)
{
  static GType type = 0;

  if (g_once_init_enter (&type)) {
    GType t = _gst_imgrec_meta_api_register ("GstImgRecSequenceMetaAPI");
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
sequence_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstImgRecSequenceMeta *smeta = (GstImgRecSequenceMeta *) meta;

  _gst_imgrec_meta_init_result (meta, sizeof (*smeta));
  smeta->class_id = -1;
  smeta->scope_id = -1;
  smeta->window_start = GST_CLOCK_TIME_NONE;
  smeta->window_end = GST_CLOCK_TIME_NONE;
  return TRUE;
}

/* The param put back on a copied ROI (GStreamer 1.22 drops ROI params on copy). */
static GstStructure *
sequence_roi_param (GstMeta * meta)
{
  GstImgRecSequenceMeta *m = (GstImgRecSequenceMeta *) meta;

  GstStructure *s = gst_imgrec_roi_param_new (GST_IMGREC_SEQUENCE_PARAM_NAME,
      m->info.model, m->label, m->class_id, m->confidence);

  gst_structure_set (s, "steps", G_TYPE_UINT64, m->steps, NULL);
  return s;
}

static gboolean
sequence_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer,
    GQuark type, gpointer data)
{
  return _gst_imgrec_meta_transform (dest, meta, type, data,
      GST_IMGREC_SEQUENCE_META_INFO, GST_IMGREC_SEQUENCE_PARAM_NAME,
      sequence_roi_param);
}

const GstMetaInfo *
gst_imgrec_sequence_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi =
        gst_meta_register (GST_IMGREC_SEQUENCE_META_API_TYPE,
        "GstImgRecSequenceMeta", sizeof (GstImgRecSequenceMeta),
        sequence_meta_init, NULL, sequence_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * gst_buffer_add_imgrec_sequence_meta:
 * @buffer: a writable #GstBuffer
 * @model: (nullable): model name
 * @element: (nullable): name of the producing element
 *
 * Adds an empty sequence result (class -1, scope -1, no window) to @buffer.
 *
 * Returns: (transfer none): the new meta
 */
GstImgRecSequenceMeta *
gst_buffer_add_imgrec_sequence_meta (GstBuffer * buffer, const gchar * model,
    const gchar * element)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecSequenceMeta *) _gst_imgrec_meta_add (buffer,
      GST_IMGREC_SEQUENCE_META_INFO, model, element);
}

/**
 * gst_buffer_get_imgrec_sequence_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the first sequence meta of @buffer
 */
GstImgRecSequenceMeta *
gst_buffer_get_imgrec_sequence_meta (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecSequenceMeta *) gst_buffer_get_meta (buffer,
      GST_IMGREC_SEQUENCE_META_API_TYPE);
}

/**
 * gst_buffer_get_imgrec_sequence_meta_for_roi:
 * @buffer: a #GstBuffer
 * @roi_id: id of a #GstVideoRegionOfInterestMeta
 *
 * Returns: (transfer none) (nullable): the sequence result of region
 *   @roi_id, or %NULL
 */
GstImgRecSequenceMeta *
gst_buffer_get_imgrec_sequence_meta_for_roi (GstBuffer * buffer, gint roi_id)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecSequenceMeta *) _gst_imgrec_meta_find_for_roi (buffer,
      GST_IMGREC_SEQUENCE_META_API_TYPE, roi_id);
}

/**
 * gst_buffer_get_imgrec_sequence_metas:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer container) (element-type GstImgRecSequenceMeta): every
 *   sequence meta of @buffer, in the order they were added
 */
GList *
gst_buffer_get_imgrec_sequence_metas (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return _gst_imgrec_meta_list (buffer, GST_IMGREC_SEQUENCE_META_API_TYPE);
}

/**
 * gst_buffer_get_n_imgrec_sequence_metas:
 * @buffer: a #GstBuffer
 *
 * Returns: how many sequence metas @buffer carries
 */
guint
gst_buffer_get_n_imgrec_sequence_metas (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), 0);
  return _gst_imgrec_meta_count (buffer, GST_IMGREC_SEQUENCE_META_API_TYPE);
}

/**
 * gst_imgrec_sequence_meta_get_label:
 * @meta: a #GstImgRecSequenceMeta
 *
 * Returns: (nullable): label of the recognised class
 */
const gchar *
gst_imgrec_sequence_meta_get_label (GstImgRecSequenceMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->label;
}

/**
 * gst_imgrec_sequence_meta_get_class_id:
 * @meta: a #GstImgRecSequenceMeta
 *
 * Returns: the recognised class
 */
gint
gst_imgrec_sequence_meta_get_class_id (GstImgRecSequenceMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->class_id;
}

/**
 * gst_imgrec_sequence_meta_get_confidence:
 * @meta: a #GstImgRecSequenceMeta
 *
 * Returns: probability of the recognised class
 */
gfloat
gst_imgrec_sequence_meta_get_confidence (GstImgRecSequenceMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0.0f);
  return meta->confidence;
}

/**
 * gst_imgrec_sequence_meta_get_n_top:
 * @meta: a #GstImgRecSequenceMeta
 *
 * Returns: number of ranked classes
 */
guint
gst_imgrec_sequence_meta_get_n_top (GstImgRecSequenceMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->n_top;
}

/**
 * gst_imgrec_sequence_meta_get_top:
 * @meta: a #GstImgRecSequenceMeta
 * @index: rank, from 0 (best)
 * @class_id: (out) (optional): class index
 * @label: (out) (optional) (transfer none) (nullable): class label
 * @confidence: (out) (optional): class probability
 *
 * Returns: %FALSE when @index is not below the number of ranked classes
 */
gboolean
gst_imgrec_sequence_meta_get_top (GstImgRecSequenceMeta * meta, guint index,
    gint * class_id, const gchar ** label, gfloat * confidence)
{
  g_return_val_if_fail (meta != NULL, FALSE);
  return _gst_imgrec_class_scores_get (meta->top, meta->n_top, index,
      class_id, label, confidence);
}

/**
 * gst_imgrec_sequence_meta_get_steps:
 * @meta: a #GstImgRecSequenceMeta
 *
 * Returns: frames the state has seen since its last reset
 */
guint64
gst_imgrec_sequence_meta_get_steps (GstImgRecSequenceMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->steps;
}

/**
 * gst_imgrec_sequence_meta_get_reset_count:
 * @meta: a #GstImgRecSequenceMeta
 *
 * Returns: resets of the producing element since it started
 */
guint
gst_imgrec_sequence_meta_get_reset_count (GstImgRecSequenceMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->reset_count;
}

/**
 * gst_imgrec_sequence_meta_get_scope_id:
 * @meta: a #GstImgRecSequenceMeta
 *
 * Returns: the key of the state: -1 for the whole stream, else the region's
 *   tracking id or, for a region without one, its ROI id (see
 *   gst_imgrec_sequence_meta_get_scope_tracked())
 */
gint64
gst_imgrec_sequence_meta_get_scope_id (GstImgRecSequenceMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->scope_id;
}

/**
 * gst_imgrec_sequence_meta_get_scope_tracked:
 * @meta: a #GstImgRecSequenceMeta
 *
 * Returns: %TRUE when the scope id is a tracking id, %FALSE when it is an
 *   ROI id or -1 (the whole stream)
 */
gboolean
gst_imgrec_sequence_meta_get_scope_tracked (GstImgRecSequenceMeta * meta)
{
  g_return_val_if_fail (meta != NULL, FALSE);
  return meta->scope_tracked;
}

/**
 * gst_imgrec_sequence_meta_get_window:
 * @meta: a #GstImgRecSequenceMeta
 * @start: (out) (optional): PTS of the window's oldest frame
 * @end: (out) (optional): PTS of the window's newest frame
 *
 * Gets the time span of a window model's input (%GST_CLOCK_TIME_NONE for
 * step models).
 */
void
gst_imgrec_sequence_meta_get_window (GstImgRecSequenceMeta * meta,
    GstClockTime * start, GstClockTime * end)
{
  g_return_if_fail (meta != NULL);
  if (start)
    *start = meta->window_start;
  if (end)
    *end = meta->window_end;
}

/**
 * gst_imgrec_sequence_meta_get_model:
 * @meta: a #GstImgRecSequenceMeta
 *
 * Returns: (nullable): the model name
 */
const gchar *
gst_imgrec_sequence_meta_get_model (GstImgRecSequenceMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->info.model;
}

/**
 * gst_imgrec_sequence_meta_get_roi_id:
 * @meta: a #GstImgRecSequenceMeta
 *
 * Returns: id of the region's #GstVideoRegionOfInterestMeta, or -1
 */
gint
gst_imgrec_sequence_meta_get_roi_id (GstImgRecSequenceMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->info.roi_id;
}

/**
 * gst_imgrec_sequence_meta_get_region:
 * @meta: a #GstImgRecSequenceMeta
 * @x: (out) (optional): left edge
 * @y: (out) (optional): top edge
 * @width: (out) (optional): width
 * @height: (out) (optional): height
 *
 * Gets the recognised region, in frame pixels.
 */
void
gst_imgrec_sequence_meta_get_region (GstImgRecSequenceMeta * meta, gint * x,
    gint * y, guint * width, guint * height)
{
  g_return_if_fail (meta != NULL);
  _gst_imgrec_result_info_get_region (&meta->info, x, y, width, height);
}

/**
 * gst_imgrec_sequence_meta_get_flags:
 * @meta: a #GstImgRecSequenceMeta
 *
 * Returns: the result's #GstImgRecResultFlags
 */
GstImgRecResultFlags
gst_imgrec_sequence_meta_get_flags (GstImgRecSequenceMeta * meta)
{
  g_return_val_if_fail (meta != NULL, GST_IMGREC_RESULT_FLAG_NONE);
  return meta->info.flags;
}
