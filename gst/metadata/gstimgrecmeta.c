/* imgrec result metadata — libgstimgrec-1.0.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:gstimgrecmeta
 * @title: GstImgRecClassificationMeta
 * @short_description: results of imgrec inference elements
 *
 * imgrec elements attach their results to the buffers they analyse.  Each
 * result meta starts with a #GstImgRecResultInfo: the model, the element,
 * the region (with the id of its #GstVideoRegionOfInterestMeta) and flags
 * saying whether the result is fresh or carried over from an earlier frame.
 *
 * The metas are registered with the tags "video", "orientation" and "size",
 * like #GstVideoRegionOfInterestMeta: elements that only change the colour
 * format (videoconvert) keep them, elements that scale (videoscale) call
 * their transform function, which scales the region.  Buffer copies (for
 * instance when a writable buffer is needed after a tee) copy them.
 *
 * From Python (GObject-introspection):
 * |[
 * from gi.repository import GstImgRec
 * for meta in GstImgRec.buffer_get_imgrec_classification_metas(buffer):
 *     print(meta.get_label(), meta.get_confidence())
 * ]|
 */
#include "gstimgrecmeta.h"
#include "gstimgrecmeta-private.h"
#include "gstimgrecganmeta.h"
#include "gstimgrecseqmeta.h"
#include "gstimgrecdetectmeta.h"

#include <string.h>

/* Every meta of the family has this layout up to and including info. */
typedef struct {
  GstMeta meta;
  GstImgRecResultInfo info;
} GstImgRecAnyMeta;

/* --- the family --- */

/* The result kinds: API type and the name imgrecjson writes as "kind".
 * A new kind is one row here (and one in the plugin's
 * gstimgrecresultkind.c for its JSON members and overlay text). */
static const struct {
  GType (*api) (void);
  const gchar *name;
} result_kinds[] = {
  {gst_imgrec_classification_meta_api_get_type, "classification"},
  {gst_imgrec_gan_meta_api_get_type, "gan"},
  {gst_imgrec_sequence_meta_api_get_type, "sequence"},
  {gst_imgrec_detection_meta_api_get_type, "detection"},
  {gst_imgrec_track_meta_api_get_type, "track"},
};

static const gchar *
result_kind_name (GstMeta * meta)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (result_kinds); i++)
    if (meta->info->api == result_kinds[i].api ())
      return result_kinds[i].name;
  return NULL;
}

/**
 * gst_imgrec_roi_param_new:
 * @name: the param's name (e.g. %GST_IMGREC_CLASSIFICATION_PARAM_NAME)
 * @model: (nullable): the model's name
 * @label: (nullable): the decided label
 * @class_id: the decided class index (-1: none)
 * @confidence: the decision's confidence
 *
 * A classification-like #GstVideoRegionOfInterestMeta param.  It carries the
 * decision twice: under imgrec's names (`label` string, `class-id` int,
 * `confidence` double, `model` string) and under the names DL Streamer's
 * GVA::Tensor reads from a gvaclassify result (`label`, `label_id` int,
 * `confidence`, `model_name` string), so tools written for either find it.
 *
 * Returns: (transfer full): the new param; add more fields with
 *   gst_structure_set().
 */
GstStructure *
gst_imgrec_roi_param_new (const gchar * name, const gchar * model,
    const gchar * label, gint class_id, gdouble confidence)
{
  return gst_structure_new (name,
      "label", G_TYPE_STRING, label,
      "class-id", G_TYPE_INT, class_id,
      "confidence", G_TYPE_DOUBLE, confidence,
      "model", G_TYPE_STRING, model,
      "label_id", G_TYPE_INT, class_id,
      "model_name", G_TYPE_STRING, model, NULL);
}

/**
 * gst_imgrec_meta_is_result:
 * @meta: a #GstMeta
 *
 * Returns: %TRUE when @meta is one of the imgrec result metas (it then
 *   starts with a #GstImgRecResultInfo).
 */
gboolean
gst_imgrec_meta_is_result (GstMeta * meta)
{
  g_return_val_if_fail (meta != NULL, FALSE);
  return result_kind_name (meta) != NULL;
}

/**
 * gst_imgrec_meta_get_result_info:
 * @meta: a #GstMeta
 *
 * Returns: (transfer none) (nullable): the common part of an imgrec result
 *   meta, or %NULL when @meta is not one.
 */
GstImgRecResultInfo *
gst_imgrec_meta_get_result_info (GstMeta * meta)
{
  if (meta == NULL || !gst_imgrec_meta_is_result (meta))
    return NULL;
  return &((GstImgRecAnyMeta *) meta)->info;
}

/**
 * gst_imgrec_meta_get_kind:
 * @meta: a #GstMeta
 *
 * Returns: (nullable): "classification", "sequence", "gan", "detection" or
 *   "track", %NULL when @meta is not an imgrec result.
 */
const gchar *
gst_imgrec_meta_get_kind (GstMeta * meta)
{
  return meta ? result_kind_name (meta) : NULL;
}

/* --- classification --- */

GType
gst_imgrec_classification_meta_api_get_type (void)
{
  static GType type = 0;

  if (g_once_init_enter (&type)) {
    GType t = _gst_imgrec_meta_api_register ("GstImgRecClassificationMetaAPI");
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
classification_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  _gst_imgrec_meta_init_result (meta, sizeof (GstImgRecClassificationMeta));
  ((GstImgRecClassificationMeta *) meta)->class_id = -1;
  return TRUE;
}

/* The param put back on a copied ROI (GStreamer 1.22 drops ROI params when a
 * buffer is copied or scaled; metas are transformed in the order they were
 * added, and the ROI always precedes its classification). */
static GstStructure *
classification_roi_param (GstMeta * meta)
{
  GstImgRecClassificationMeta *m = (GstImgRecClassificationMeta *) meta;

  return gst_imgrec_roi_param_new (GST_IMGREC_CLASSIFICATION_PARAM_NAME,
      m->info.model, m->label, m->class_id, m->confidence);
}

static gboolean
classification_meta_transform (GstBuffer * dest, GstMeta * meta,
    GstBuffer * buffer, GQuark type, gpointer data)
{
  return _gst_imgrec_meta_transform (dest, meta, type, data,
      GST_IMGREC_CLASSIFICATION_META_INFO, GST_IMGREC_CLASSIFICATION_PARAM_NAME,
      classification_roi_param);
}

const GstMetaInfo *
gst_imgrec_classification_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi =
        gst_meta_register (GST_IMGREC_CLASSIFICATION_META_API_TYPE,
        "GstImgRecClassificationMeta", sizeof (GstImgRecClassificationMeta),
        classification_meta_init, NULL, classification_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * gst_buffer_add_imgrec_classification_meta:
 * @buffer: a writable #GstBuffer
 * @model: (nullable): model name
 * @element: (nullable): name of the producing element
 *
 * Adds an empty classification result (class -1, no ranked classes, no
 * region) to @buffer.
 *
 * Returns: (transfer none): the new meta
 */
GstImgRecClassificationMeta *
gst_buffer_add_imgrec_classification_meta (GstBuffer * buffer,
    const gchar * model, const gchar * element)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecClassificationMeta *) _gst_imgrec_meta_add (buffer,
      GST_IMGREC_CLASSIFICATION_META_INFO, model, element);
}

/**
 * gst_buffer_get_imgrec_classification_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the first classification meta of
 *   @buffer, or %NULL
 */
GstImgRecClassificationMeta *
gst_buffer_get_imgrec_classification_meta (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecClassificationMeta *) gst_buffer_get_meta (buffer,
      GST_IMGREC_CLASSIFICATION_META_API_TYPE);
}

/**
 * gst_buffer_get_imgrec_classification_meta_for_roi:
 * @buffer: a #GstBuffer
 * @roi_id: id of a #GstVideoRegionOfInterestMeta
 *
 * Returns: (transfer none) (nullable): the classification of region
 *   @roi_id, or %NULL
 */
GstImgRecClassificationMeta *
gst_buffer_get_imgrec_classification_meta_for_roi (GstBuffer * buffer,
    gint roi_id)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecClassificationMeta *) _gst_imgrec_meta_find_for_roi (buffer,
      GST_IMGREC_CLASSIFICATION_META_API_TYPE, roi_id);
}

/**
 * gst_buffer_get_imgrec_classification_metas:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer container) (element-type GstImgRecClassificationMeta):
 *   every classification meta of @buffer, in the order they were added
 */
GList *
gst_buffer_get_imgrec_classification_metas (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return _gst_imgrec_meta_list (buffer, GST_IMGREC_CLASSIFICATION_META_API_TYPE);
}

/**
 * gst_buffer_get_n_imgrec_classification_metas:
 * @buffer: a #GstBuffer
 *
 * Returns: how many classification metas @buffer carries
 */
guint
gst_buffer_get_n_imgrec_classification_metas (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), 0);
  return _gst_imgrec_meta_count (buffer, GST_IMGREC_CLASSIFICATION_META_API_TYPE);
}

/**
 * gst_buffer_get_nth_imgrec_classification_meta:
 * @buffer: a #GstBuffer
 * @index: which one, from 0
 *
 * Returns: (transfer none) (nullable): the @index-th classification meta of
 *   @buffer, or %NULL
 */
GstImgRecClassificationMeta *
gst_buffer_get_nth_imgrec_classification_meta (GstBuffer * buffer, guint index)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecClassificationMeta *) _gst_imgrec_meta_nth (buffer,
      GST_IMGREC_CLASSIFICATION_META_API_TYPE, index);
}

/**
 * gst_imgrec_classification_meta_add_class:
 * @meta: a #GstImgRecClassificationMeta
 * @class_id: class index
 * @label: (nullable): class label
 * @confidence: class probability
 *
 * Appends a ranked class; callers add them by decreasing confidence.
 *
 * Returns: %FALSE when the meta already holds #GST_IMGREC_MAX_TOP_K classes
 */
gboolean
gst_imgrec_classification_meta_add_class (GstImgRecClassificationMeta * meta,
    gint class_id, const gchar * label, gfloat confidence)
{
  g_return_val_if_fail (meta != NULL, FALSE);
  if (meta->n_top >= GST_IMGREC_MAX_TOP_K)
    return FALSE;
  meta->top[meta->n_top].class_id = class_id;
  meta->top[meta->n_top].label = g_intern_string (label);
  meta->top[meta->n_top].confidence = confidence;
  meta->n_top++;
  return TRUE;
}

/**
 * gst_imgrec_classification_meta_set_decision:
 * @meta: a #GstImgRecClassificationMeta
 * @class_id: the decided class, -1 for none
 * @label: (nullable): its label
 * @confidence: its confidence
 *
 * Sets the decided class of the region.
 */
void
gst_imgrec_classification_meta_set_decision (GstImgRecClassificationMeta *
    meta, gint class_id, const gchar * label, gfloat confidence)
{
  g_return_if_fail (meta != NULL);
  meta->class_id = class_id;
  meta->label = g_intern_string (label);
  meta->confidence = confidence;
}

/**
 * gst_imgrec_classification_meta_set_region:
 * @meta: a #GstImgRecClassificationMeta
 * @roi_id: id of the region's #GstVideoRegionOfInterestMeta, or -1
 * @x: left edge
 * @y: top edge
 * @width: width
 * @height: height
 *
 * Sets the classified region, in frame pixels.
 */
void
gst_imgrec_classification_meta_set_region (GstImgRecClassificationMeta * meta,
    gint roi_id, gint x, gint y, guint width, guint height)
{
  g_return_if_fail (meta != NULL);
  meta->info.roi_id = roi_id;
  meta->info.x = x;
  meta->info.y = y;
  meta->info.width = width;
  meta->info.height = height;
}

/**
 * gst_imgrec_classification_meta_get_label:
 * @meta: a #GstImgRecClassificationMeta
 *
 * Returns: (nullable): label of the decided class
 */
const gchar *
gst_imgrec_classification_meta_get_label (GstImgRecClassificationMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->label;
}

/**
 * gst_imgrec_classification_meta_get_class_id:
 * @meta: a #GstImgRecClassificationMeta
 *
 * Returns: the decided class, or -1 below the threshold
 */
gint
gst_imgrec_classification_meta_get_class_id (GstImgRecClassificationMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->class_id;
}

/**
 * gst_imgrec_classification_meta_get_confidence:
 * @meta: a #GstImgRecClassificationMeta
 *
 * Returns: confidence of the best class
 */
gfloat
gst_imgrec_classification_meta_get_confidence (GstImgRecClassificationMeta *
    meta)
{
  g_return_val_if_fail (meta != NULL, 0.0f);
  return meta->confidence;
}

/**
 * gst_imgrec_classification_meta_get_n_top:
 * @meta: a #GstImgRecClassificationMeta
 *
 * Returns: number of ranked classes
 */
guint
gst_imgrec_classification_meta_get_n_top (GstImgRecClassificationMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->n_top;
}

/**
 * gst_imgrec_classification_meta_get_top:
 * @meta: a #GstImgRecClassificationMeta
 * @index: rank, from 0 (best)
 * @class_id: (out) (optional): class index
 * @label: (out) (optional) (transfer none) (nullable): class label
 * @confidence: (out) (optional): class probability
 *
 * Returns: %FALSE when @index is not below the number of ranked classes
 */
gboolean
gst_imgrec_classification_meta_get_top (GstImgRecClassificationMeta * meta,
    guint index, gint * class_id, const gchar ** label, gfloat * confidence)
{
  g_return_val_if_fail (meta != NULL, FALSE);
  return _gst_imgrec_class_scores_get (meta->top, meta->n_top, index,
      class_id, label, confidence);
}

/**
 * gst_imgrec_classification_meta_get_model:
 * @meta: a #GstImgRecClassificationMeta
 *
 * Returns: (nullable): the model name
 */
const gchar *
gst_imgrec_classification_meta_get_model (GstImgRecClassificationMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->info.model;
}

/**
 * gst_imgrec_classification_meta_get_element:
 * @meta: a #GstImgRecClassificationMeta
 *
 * Returns: (nullable): name of the element that produced the result
 */
const gchar *
gst_imgrec_classification_meta_get_element (GstImgRecClassificationMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->info.element;
}

/**
 * gst_imgrec_classification_meta_get_roi_id:
 * @meta: a #GstImgRecClassificationMeta
 *
 * Returns: id of the classified region's #GstVideoRegionOfInterestMeta, or -1
 */
gint
gst_imgrec_classification_meta_get_roi_id (GstImgRecClassificationMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->info.roi_id;
}

/**
 * gst_imgrec_classification_meta_get_region:
 * @meta: a #GstImgRecClassificationMeta
 * @x: (out) (optional): left edge
 * @y: (out) (optional): top edge
 * @width: (out) (optional): width
 * @height: (out) (optional): height
 *
 * Gets the classified region, in frame pixels.
 */
void
gst_imgrec_classification_meta_get_region (GstImgRecClassificationMeta * meta,
    gint * x, gint * y, guint * width, guint * height)
{
  g_return_if_fail (meta != NULL);
  _gst_imgrec_result_info_get_region (&meta->info, x, y, width, height);
}

/**
 * gst_imgrec_classification_meta_get_flags:
 * @meta: a #GstImgRecClassificationMeta
 *
 * Returns: the result's #GstImgRecResultFlags
 */
GstImgRecResultFlags
gst_imgrec_classification_meta_get_flags (GstImgRecClassificationMeta * meta)
{
  g_return_val_if_fail (meta != NULL, GST_IMGREC_RESULT_FLAG_NONE);
  return meta->info.flags;
}

/**
 * gst_imgrec_classification_meta_is_carried:
 * @meta: a #GstImgRecClassificationMeta
 *
 * Returns: %TRUE when the result was computed on an earlier frame
 */
gboolean
gst_imgrec_classification_meta_is_carried (GstImgRecClassificationMeta * meta)
{
  g_return_val_if_fail (meta != NULL, FALSE);
  return (meta->info.flags & GST_IMGREC_RESULT_FLAG_CARRIED) != 0;
}

/* ---- registration, init and adding shared by every result meta type ---- */

static const gchar *result_meta_tags[] = {
  GST_META_TAG_VIDEO_STR, GST_META_TAG_VIDEO_ORIENTATION_STR,
  GST_META_TAG_VIDEO_SIZE_STR, NULL
};

GType
_gst_imgrec_meta_api_register (const gchar * name)
{
  return gst_meta_api_type_register (name, result_meta_tags);
}

void
_gst_imgrec_meta_init_result (GstMeta * meta, gsize meta_size)
{
  GstImgRecResultInfo *info = &((GstImgRecAnyMeta *) meta)->info;

  memset ((guint8 *) meta + sizeof (GstMeta), 0, meta_size - sizeof (GstMeta));
  info->roi_id = -1;
  info->inference_pts = GST_CLOCK_TIME_NONE;
}

GstMeta *
_gst_imgrec_meta_add (GstBuffer * buffer, const GstMetaInfo * info,
    const gchar * model, const gchar * element)
{
  GstMeta *meta = gst_buffer_add_meta (buffer, info, NULL);
  GstImgRecResultInfo *result;

  if (meta == NULL)
    return NULL;
  result = &((GstImgRecAnyMeta *) meta)->info;
  result->model = g_intern_string (model);
  result->element = g_intern_string (element);
  result->inference_pts = GST_BUFFER_PTS (buffer);
  return meta;
}

/* ---- getters shared by every result meta type ---- */

void
_gst_imgrec_result_info_get_region (const GstImgRecResultInfo * info,
    gint * x, gint * y, guint * width, guint * height)
{
  if (x)
    *x = info->x;
  if (y)
    *y = info->y;
  if (width)
    *width = info->width;
  if (height)
    *height = info->height;
}

gboolean
_gst_imgrec_class_scores_get (const GstImgRecClassScore * top, guint n_top,
    guint index, gint * class_id, const gchar ** label, gfloat * confidence)
{
  if (index >= n_top)
    return FALSE;
  if (class_id)
    *class_id = top[index].class_id;
  if (label)
    *label = top[index].label;
  if (confidence)
    *confidence = top[index].confidence;
  return TRUE;
}

/* ---- lookups shared by every result meta type ---- */

GstMeta *
_gst_imgrec_meta_find_for_roi (GstBuffer * buffer, GType api, gint roi_id)
{
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state, api))) {
    GstImgRecResultInfo *info = gst_imgrec_meta_get_result_info (meta);
    if (info != NULL && info->roi_id == roi_id)
      return meta;
  }
  return NULL;
}

GList *
_gst_imgrec_meta_list (GstBuffer * buffer, GType api)
{
  GList *list = NULL;
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state, api)))
    list = g_list_prepend (list, meta);
  return g_list_reverse (list);
}

guint
_gst_imgrec_meta_count (GstBuffer * buffer, GType api)
{
  gpointer state = NULL;
  guint n = 0;

  while (gst_buffer_iterate_meta_filtered (buffer, &state, api))
    n++;
  return n;
}

GstMeta *
_gst_imgrec_meta_nth (GstBuffer * buffer, GType api, guint index)
{
  gpointer state = NULL;
  GstMeta *meta;
  guint n = 0;

  while ((meta = gst_buffer_iterate_meta_filtered (buffer, &state, api)))
    if (n++ == index)
      return meta;
  return NULL;
}

/* ---- the transform shared by every result meta type ---- */

/* Scales a result's region the way videoscale scales the frame. */
static void
result_info_scale (GstImgRecResultInfo * info, const GstVideoMetaTransform * t)
{
  gint iw = GST_VIDEO_INFO_WIDTH (t->in_info);
  gint ih = GST_VIDEO_INFO_HEIGHT (t->in_info);
  gint ow = GST_VIDEO_INFO_WIDTH (t->out_info);
  gint oh = GST_VIDEO_INFO_HEIGHT (t->out_info);

  if (iw <= 0 || ih <= 0)
    return;
  info->x = (gint) gst_util_uint64_scale_int_round (MAX (info->x, 0), ow, iw);
  info->y = (gint) gst_util_uint64_scale_int_round (MAX (info->y, 0), oh, ih);
  info->width = (guint) gst_util_uint64_scale_int_round (info->width, ow, iw);
  info->height = (guint) gst_util_uint64_scale_int_round (info->height, oh, ih);
}

static void
restore_roi_param (GstBuffer * dest, GstMeta * meta, const gchar * param_name,
    GstImgRecRoiParamFunc make_param)
{
  GstImgRecResultInfo *info = gst_imgrec_meta_get_result_info (meta);
  GstVideoRegionOfInterestMeta *roi;
  GstStructure *param;
  GList *l;

  if (info == NULL || info->roi_id < 0)
    return;
  roi = gst_buffer_get_video_region_of_interest_meta_id (dest, info->roi_id);
  if (roi == NULL)
    return;
  for (l = roi->params; l; l = l->next) {
    GstStructure *s = l->data;
    if (gst_structure_has_name (s, param_name)
        && g_strcmp0 (gst_structure_get_string (s, "model"), info->model) == 0)
      return;
  }
  param = make_param (meta);
  if (param != NULL)
    gst_video_region_of_interest_meta_add_param (roi, param);
}

gboolean
_gst_imgrec_meta_transform (GstBuffer * dest, GstMeta * meta, GQuark type,
    gpointer data, const GstMetaInfo * info, const gchar * param_name,
    GstImgRecRoiParamFunc make_param)
{
  GstMeta *dst;

  if (GST_META_TRANSFORM_IS_COPY (type)) {
    GstMetaTransformCopy *copy = data;
    if (copy->region)           /* a partial copy loses the frame geometry */
      return TRUE;
  } else if (!GST_VIDEO_META_TRANSFORM_IS_SCALE (type)) {
    return FALSE;               /* unknown transformation: do not copy */
  }

  dst = gst_buffer_add_meta (dest, info, NULL);
  if (dst == NULL)
    return FALSE;
  /* Every field is plain data or an interned string: copy by value. */
  memcpy ((guint8 *) dst + sizeof (GstMeta), (guint8 *) meta + sizeof (GstMeta),
      info->size - sizeof (GstMeta));
  if (GST_VIDEO_META_TRANSFORM_IS_SCALE (type))
    result_info_scale (gst_imgrec_meta_get_result_info (dst), data);
  restore_roi_param (dest, dst, param_name, make_param);
  return TRUE;
}
