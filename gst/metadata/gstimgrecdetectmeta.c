/* imgrec object detections and tracks — libgstimgrec-1.0.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:gstimgrecdetectmeta
 * @title: GstImgRecDetectionMeta, GstImgRecTrackMeta
 * @short_description: objects found by imgrecdetect, tracks of imgrectrack
 *
 * imgrecdetect adds one #GstVideoRegionOfInterestMeta per object (roi_type
 * = the label) and one #GstImgRecDetectionMeta naming that ROI: class,
 * label, confidence, the sub-pixel box in frame pixels and the region it
 * was searched in.  imgrectrack adds a #GstImgRecTrackMeta per confirmed
 * track: its id, whether the box was measured or predicted, age, hits,
 * frames since the last detection, the PTS it was first seen at.  Both
 * start with a #GstImgRecResultInfo like every imgrec result meta, survive
 * copies, videoconvert and videoscale (boxes scaled with the frame), and
 * put back the ROI params GStreamer 1.22 drops when it copies an ROI.
 *
 * From Python (GObject-introspection):
 * |[
 * from gi.repository import GstImgRec
 * for m in GstImgRec.buffer_get_imgrec_detection_metas(buffer):
 *     print(m.get_label(), m.get_confidence(), m.get_box())
 * for t in GstImgRec.buffer_get_imgrec_track_metas(buffer):
 *     print(t.get_track_id(), t.get_state(), t.get_hits())
 * ]|
 */
#include "gstimgrecdetectmeta.h"
#include "gstimgrecmeta-private.h"

/* ---- detection ---- */

GType
gst_imgrec_detection_meta_api_get_type (void)
{
  static GType type = 0;

  if (g_once_init_enter (&type)) {
    GType t = _gst_imgrec_meta_api_register ("GstImgRecDetectionMetaAPI");
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
detection_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstImgRecDetectionMeta *d = (GstImgRecDetectionMeta *) meta;

  _gst_imgrec_meta_init_result (meta, sizeof (*d));
  d->class_id = -1;
  d->parent_id = -1;
  return TRUE;
}

static GstStructure *
detection_roi_param (GstMeta * meta)
{
  GstImgRecDetectionMeta *d = (GstImgRecDetectionMeta *) meta;

  return gst_structure_new (GST_IMGREC_DETECTION_PARAM_NAME,
      "label", G_TYPE_STRING, d->label,
      "class-id", G_TYPE_INT, d->class_id,
      "confidence", G_TYPE_DOUBLE, (gdouble) d->confidence,
      "model", G_TYPE_STRING, d->info.model,
      "parent-id", G_TYPE_INT, d->parent_id, NULL);
}

static gboolean
roi_has_param (GstVideoRegionOfInterestMeta * roi, const gchar * name)
{
  return gst_video_region_of_interest_meta_get_param (roi, name) != NULL;
}

static gboolean
detection_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer,
    GQuark type, gpointer data)
{
  GstImgRecDetectionMeta *src = (GstImgRecDetectionMeta *) meta, *dst;
  GstVideoRegionOfInterestMeta *roi;
  guint before = _gst_imgrec_meta_count (dest,
      GST_IMGREC_DETECTION_META_API_TYPE);

  if (!_gst_imgrec_meta_transform (dest, meta, type, data,
          GST_IMGREC_DETECTION_META_INFO, GST_IMGREC_DETECTION_PARAM_NAME,
          detection_roi_param))
    return FALSE;
  dst = (GstImgRecDetectionMeta *) _gst_imgrec_meta_nth (dest,
      GST_IMGREC_DETECTION_META_API_TYPE, before);
  if (dst == NULL)
    return TRUE;                /* dropped (partial copy) */
  if (GST_VIDEO_META_TRANSFORM_IS_SCALE (type)) {
    GstVideoMetaTransform *t = data;
    gint iw = GST_VIDEO_INFO_WIDTH (t->in_info);
    gint ih = GST_VIDEO_INFO_HEIGHT (t->in_info);
    if (iw > 0 && ih > 0) {
      gfloat sx = (gfloat) GST_VIDEO_INFO_WIDTH (t->out_info) / iw;
      gfloat sy = (gfloat) GST_VIDEO_INFO_HEIGHT (t->out_info) / ih;
      dst->x_min = src->x_min * sx;
      dst->x_max = src->x_max * sx;
      dst->y_min = src->y_min * sy;
      dst->y_max = src->y_max * sy;
    }
  }
  /* DL Streamer's structure is normalised: it stays true when scaled */
  roi = dst->info.roi_id >= 0 ?
      gst_buffer_get_video_region_of_interest_meta_id (dest, dst->info.roi_id)
      : NULL;
  if (roi && !roi_has_param (roi, GST_IMGREC_DLS_DETECTION_PARAM_NAME)) {
    GstStructure *s = NULL;
    GstVideoRegionOfInterestMeta *sroi = buffer ?
        gst_buffer_get_video_region_of_interest_meta_id (buffer,
        src->info.roi_id) : NULL;
    if (sroi)
      s = gst_video_region_of_interest_meta_get_param (sroi,
          GST_IMGREC_DLS_DETECTION_PARAM_NAME);
    if (s)
      gst_video_region_of_interest_meta_add_param (roi, gst_structure_copy (s));
  }
  return TRUE;
}

const GstMetaInfo *
gst_imgrec_detection_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi =
        gst_meta_register (GST_IMGREC_DETECTION_META_API_TYPE,
        "GstImgRecDetectionMeta", sizeof (GstImgRecDetectionMeta),
        detection_meta_init, NULL, detection_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * gst_buffer_add_imgrec_detection_meta:
 * @buffer: a writable #GstBuffer
 * @model: (nullable): model name
 * @element: (nullable): name of the producing element
 *
 * Adds an empty detection (class -1, no ROI, no parent) to @buffer.
 *
 * Returns: (transfer none): the new meta
 */
GstImgRecDetectionMeta *
gst_buffer_add_imgrec_detection_meta (GstBuffer * buffer, const gchar * model,
    const gchar * element)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecDetectionMeta *) _gst_imgrec_meta_add (buffer,
      GST_IMGREC_DETECTION_META_INFO, model, element);
}

/**
 * gst_buffer_get_imgrec_detection_meta_for_roi:
 * @buffer: a #GstBuffer
 * @roi_id: id of a #GstVideoRegionOfInterestMeta
 *
 * Returns: (transfer none) (nullable): the detection of ROI @roi_id
 */
GstImgRecDetectionMeta *
gst_buffer_get_imgrec_detection_meta_for_roi (GstBuffer * buffer, gint roi_id)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecDetectionMeta *) _gst_imgrec_meta_find_for_roi (buffer,
      GST_IMGREC_DETECTION_META_API_TYPE, roi_id);
}

/**
 * gst_buffer_get_imgrec_detection_metas:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer container) (element-type GstImgRecDetectionMeta): every
 *   detection of @buffer, best first within each searched region
 */
GList *
gst_buffer_get_imgrec_detection_metas (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return _gst_imgrec_meta_list (buffer, GST_IMGREC_DETECTION_META_API_TYPE);
}

/**
 * gst_buffer_get_n_imgrec_detection_metas:
 * @buffer: a #GstBuffer
 *
 * Returns: how many detections @buffer carries
 */
guint
gst_buffer_get_n_imgrec_detection_metas (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), 0);
  return _gst_imgrec_meta_count (buffer, GST_IMGREC_DETECTION_META_API_TYPE);
}

/**
 * gst_imgrec_detection_meta_get_label:
 * @meta: a #GstImgRecDetectionMeta
 *
 * Returns: (nullable): the object's label
 */
const gchar *
gst_imgrec_detection_meta_get_label (GstImgRecDetectionMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->label;
}

/**
 * gst_imgrec_detection_meta_get_class_id:
 * @meta: a #GstImgRecDetectionMeta
 *
 * Returns: the object's class
 */
gint
gst_imgrec_detection_meta_get_class_id (GstImgRecDetectionMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->class_id;
}

/**
 * gst_imgrec_detection_meta_get_confidence:
 * @meta: a #GstImgRecDetectionMeta
 *
 * Returns: the detection's confidence
 */
gfloat
gst_imgrec_detection_meta_get_confidence (GstImgRecDetectionMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0.0f);
  return meta->confidence;
}

/**
 * gst_imgrec_detection_meta_get_box:
 * @meta: a #GstImgRecDetectionMeta
 * @x_min: (out) (optional): left edge
 * @y_min: (out) (optional): top edge
 * @x_max: (out) (optional): right edge
 * @y_max: (out) (optional): bottom edge
 *
 * Gets the object's box in frame pixels, with sub-pixel precision.
 */
void
gst_imgrec_detection_meta_get_box (GstImgRecDetectionMeta * meta,
    gfloat * x_min, gfloat * y_min, gfloat * x_max, gfloat * y_max)
{
  g_return_if_fail (meta != NULL);
  if (x_min)
    *x_min = meta->x_min;
  if (y_min)
    *y_min = meta->y_min;
  if (x_max)
    *x_max = meta->x_max;
  if (y_max)
    *y_max = meta->y_max;
}

/**
 * gst_imgrec_detection_meta_get_parent_id:
 * @meta: a #GstImgRecDetectionMeta
 *
 * Returns: ROI id of the region searched, or -1 for the whole frame
 */
gint
gst_imgrec_detection_meta_get_parent_id (GstImgRecDetectionMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->parent_id;
}

/**
 * gst_imgrec_detection_meta_get_model:
 * @meta: a #GstImgRecDetectionMeta
 *
 * Returns: (nullable): the model name
 */
const gchar *
gst_imgrec_detection_meta_get_model (GstImgRecDetectionMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->info.model;
}

/**
 * gst_imgrec_detection_meta_get_roi_id:
 * @meta: a #GstImgRecDetectionMeta
 *
 * Returns: id of the object's #GstVideoRegionOfInterestMeta
 */
gint
gst_imgrec_detection_meta_get_roi_id (GstImgRecDetectionMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->info.roi_id;
}

/**
 * gst_imgrec_detection_meta_get_region:
 * @meta: a #GstImgRecDetectionMeta
 * @x: (out) (optional): left edge
 * @y: (out) (optional): top edge
 * @width: (out) (optional): width
 * @height: (out) (optional): height
 *
 * Gets the object's box in whole frame pixels (its ROI).
 */
void
gst_imgrec_detection_meta_get_region (GstImgRecDetectionMeta * meta, gint * x,
    gint * y, guint * width, guint * height)
{
  g_return_if_fail (meta != NULL);
  _gst_imgrec_result_info_get_region (&meta->info, x, y, width, height);
}

/* ---- track ---- */

GType
gst_imgrec_track_meta_api_get_type (void)
{
  static GType type = 0;

  if (g_once_init_enter (&type)) {
    GType t = _gst_imgrec_meta_api_register ("GstImgRecTrackMetaAPI");
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
track_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstImgRecTrackMeta *t = (GstImgRecTrackMeta *) meta;

  _gst_imgrec_meta_init_result (meta, sizeof (*t));
  t->class_id = -1;
  t->first_seen = GST_CLOCK_TIME_NONE;
  return TRUE;
}

static GstStructure *
track_roi_param (GstMeta * meta)
{
  GstImgRecTrackMeta *t = (GstImgRecTrackMeta *) meta;

  return gst_structure_new (GST_IMGREC_TRACK_PARAM_NAME,
      "tracking-id", G_TYPE_UINT64, t->track_id,
      "age", G_TYPE_UINT64, t->age,
      "hits", G_TYPE_UINT64, t->hits,
      "time-since-update", G_TYPE_UINT64, t->time_since_update,
      "predicted", G_TYPE_BOOLEAN,
      t->state == GST_IMGREC_TRACK_STATE_PREDICTED,
      "model", G_TYPE_STRING, t->info.model, NULL);
}

static gboolean
track_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer,
    GQuark type, gpointer data)
{
  GstImgRecTrackMeta *src = (GstImgRecTrackMeta *) meta;
  GstVideoRegionOfInterestMeta *roi;

  if (!_gst_imgrec_meta_transform (dest, meta, type, data,
          GST_IMGREC_TRACK_META_INFO, GST_IMGREC_TRACK_PARAM_NAME,
          track_roi_param))
    return FALSE;
  roi = src->info.roi_id >= 0 ?
      gst_buffer_get_video_region_of_interest_meta_id (dest, src->info.roi_id)
      : NULL;
  if (roi == NULL)
    return TRUE;
  /* DL Streamer's id structure (imgrec's own is restored above) */
  if (!roi_has_param (roi, "object_id"))
    gst_video_region_of_interest_meta_add_param (roi,
        gst_structure_new ("object_id", "id", G_TYPE_INT,
            (gint) MIN (src->track_id, (guint64) G_MAXINT), NULL));
  return TRUE;
}

const GstMetaInfo *
gst_imgrec_track_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_IMGREC_TRACK_META_API_TYPE,
        "GstImgRecTrackMeta", sizeof (GstImgRecTrackMeta),
        track_meta_init, NULL, track_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * gst_buffer_add_imgrec_track_meta:
 * @buffer: a writable #GstBuffer
 * @element: (nullable): name of the tracker element
 *
 * Adds an empty track (id 0, no ROI) to @buffer.
 *
 * Returns: (transfer none): the new meta
 */
GstImgRecTrackMeta *
gst_buffer_add_imgrec_track_meta (GstBuffer * buffer, const gchar * element)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecTrackMeta *) _gst_imgrec_meta_add (buffer,
      GST_IMGREC_TRACK_META_INFO, NULL, element);
}

/**
 * gst_buffer_get_imgrec_track_meta_for_roi:
 * @buffer: a #GstBuffer
 * @roi_id: id of a #GstVideoRegionOfInterestMeta
 *
 * Returns: (transfer none) (nullable): the track of ROI @roi_id
 */
GstImgRecTrackMeta *
gst_buffer_get_imgrec_track_meta_for_roi (GstBuffer * buffer, gint roi_id)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecTrackMeta *) _gst_imgrec_meta_find_for_roi (buffer,
      GST_IMGREC_TRACK_META_API_TYPE, roi_id);
}

/**
 * gst_buffer_get_imgrec_track_metas:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer container) (element-type GstImgRecTrackMeta): every
 *   track of @buffer
 */
GList *
gst_buffer_get_imgrec_track_metas (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return _gst_imgrec_meta_list (buffer, GST_IMGREC_TRACK_META_API_TYPE);
}

/**
 * gst_buffer_get_n_imgrec_track_metas:
 * @buffer: a #GstBuffer
 *
 * Returns: how many tracks @buffer carries
 */
guint
gst_buffer_get_n_imgrec_track_metas (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), 0);
  return _gst_imgrec_meta_count (buffer, GST_IMGREC_TRACK_META_API_TYPE);
}

/**
 * gst_imgrec_track_meta_get_track_id:
 * @meta: a #GstImgRecTrackMeta
 *
 * Returns: the track's id
 */
guint64
gst_imgrec_track_meta_get_track_id (GstImgRecTrackMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->track_id;
}

/**
 * gst_imgrec_track_meta_get_state:
 * @meta: a #GstImgRecTrackMeta
 *
 * Returns: whether the box was measured or predicted on this frame
 */
GstImgRecTrackState
gst_imgrec_track_meta_get_state (GstImgRecTrackMeta * meta)
{
  g_return_val_if_fail (meta != NULL, GST_IMGREC_TRACK_STATE_TRACKED);
  return meta->state;
}

/**
 * gst_imgrec_track_meta_get_label:
 * @meta: a #GstImgRecTrackMeta
 *
 * Returns: (nullable): the track's label
 */
const gchar *
gst_imgrec_track_meta_get_label (GstImgRecTrackMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->label;
}

/**
 * gst_imgrec_track_meta_get_class_id:
 * @meta: a #GstImgRecTrackMeta
 *
 * Returns: the track's class, or -1
 */
gint
gst_imgrec_track_meta_get_class_id (GstImgRecTrackMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->class_id;
}

/**
 * gst_imgrec_track_meta_get_age:
 * @meta: a #GstImgRecTrackMeta
 *
 * Returns: frames since the track began
 */
guint64
gst_imgrec_track_meta_get_age (GstImgRecTrackMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->age;
}

/**
 * gst_imgrec_track_meta_get_hits:
 * @meta: a #GstImgRecTrackMeta
 *
 * Returns: frames with a matched detection
 */
guint64
gst_imgrec_track_meta_get_hits (GstImgRecTrackMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->hits;
}

/**
 * gst_imgrec_track_meta_get_time_since_update:
 * @meta: a #GstImgRecTrackMeta
 *
 * Returns: frames since the last matched detection
 */
guint64
gst_imgrec_track_meta_get_time_since_update (GstImgRecTrackMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->time_since_update;
}

/**
 * gst_imgrec_track_meta_get_first_seen:
 * @meta: a #GstImgRecTrackMeta
 *
 * Returns: PTS of the frame the track began on
 */
GstClockTime
gst_imgrec_track_meta_get_first_seen (GstImgRecTrackMeta * meta)
{
  g_return_val_if_fail (meta != NULL, GST_CLOCK_TIME_NONE);
  return meta->first_seen;
}

/**
 * gst_imgrec_track_meta_get_roi_id:
 * @meta: a #GstImgRecTrackMeta
 *
 * Returns: id of the track's #GstVideoRegionOfInterestMeta
 */
gint
gst_imgrec_track_meta_get_roi_id (GstImgRecTrackMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->info.roi_id;
}

/**
 * gst_imgrec_track_meta_get_region:
 * @meta: a #GstImgRecTrackMeta
 * @x: (out) (optional): left edge
 * @y: (out) (optional): top edge
 * @width: (out) (optional): width
 * @height: (out) (optional): height
 *
 * Gets the track's box on this frame, in frame pixels.
 */
void
gst_imgrec_track_meta_get_region (GstImgRecTrackMeta * meta, gint * x,
    gint * y, guint * width, guint * height)
{
  g_return_if_fail (meta != NULL);
  _gst_imgrec_result_info_get_region (&meta->info, x, y, width, height);
}
