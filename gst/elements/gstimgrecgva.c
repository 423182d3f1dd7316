/* DL Streamer's gvametaconvert JSON layout for one frame, so consumers
 * written for gvametaconvert / gvametapublish read imgrec's results
 * unchanged (imgrecjson and imgrecpublish format=gva).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecgva.h"

#include <string.h>

GType
gst_imgrec_json_format_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_JSON_FORMAT_IMGREC, "imgrec's own layout (docs/metadata.md)",
        "imgrec"},
    {GST_IMGREC_JSON_FORMAT_GVA, "DL Streamer gvametaconvert's layout",
        "gva"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstImgRecJsonFormat", values));
  return type;
}

/* params that describe the region itself, not a classification of it */
static gboolean
is_region_param (const gchar * name)
{
  return !strcmp (name, "detection") || !strcmp (name, "imgrec-detection")
      || !strcmp (name, "object_id") || !strcmp (name, "imgrec-track");
}

static const gchar *
param_model (const GstStructure * s)
{
  const gchar *m = gst_structure_get_string (s, "model");
  if (m == NULL)
    m = gst_structure_get_string (s, "model_name");
  return m ? m : gst_structure_get_name (s);
}

/* a classification-like param: a string label and a double confidence */
static gboolean
is_classification (const GstStructure * s)
{
  return gst_structure_get_string (s, "label") != NULL
      && gst_structure_has_field_typed (s, "confidence", G_TYPE_DOUBLE);
}

/* {"label", "label_id", "confidence", "model": {"name"}} (plus "name" in
 * tensors[]) */
static void
add_classification (JsonBuilder * b, const GstStructure * s,
    gboolean with_name)
{
  gint label_id = -1;
  gdouble confidence = 0;

  if (!gst_structure_get_int (s, "class-id", &label_id))
    gst_structure_get_int (s, "label_id", &label_id);
  gst_structure_get_double (s, "confidence", &confidence);
  json_builder_begin_object (b);
  if (with_name) {
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, param_model (s));
  }
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, gst_structure_get_string (s, "label"));
  json_builder_set_member_name (b, "label_id");
  json_builder_add_int_value (b, label_id);
  json_builder_set_member_name (b, "confidence");
  json_builder_add_double_value (b, confidence);
  json_builder_set_member_name (b, "model");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, param_model (s));
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static void
add_double (JsonBuilder * b, const gchar * name, gdouble v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, v);
}

static void
add_object (JsonBuilder * b, GstVideoRegionOfInterestMeta * roi,
    const GstVideoInfo * info)
{
  const GstStructure *det =
      gst_video_region_of_interest_meta_get_param (roi, "detection");
  const GstStructure *oid =
      gst_video_region_of_interest_meta_get_param (roi, "object_id");
  gdouble fw = info ? MAX (GST_VIDEO_INFO_WIDTH (info), 1) : 0;
  gdouble fh = info ? MAX (GST_VIDEO_INFO_HEIGHT (info), 1) : 0;
  gint id;
  GList *l;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "x");
  json_builder_add_int_value (b, roi->x);
  json_builder_set_member_name (b, "y");
  json_builder_add_int_value (b, roi->y);
  json_builder_set_member_name (b, "w");
  json_builder_add_int_value (b, roi->w);
  json_builder_set_member_name (b, "h");
  json_builder_add_int_value (b, roi->h);
  json_builder_set_member_name (b, "region_id");
  json_builder_add_int_value (b, roi->id);
  json_builder_set_member_name (b, "roi_type");
  json_builder_add_string_value (b, g_quark_to_string (roi->roi_type));
  if (oid && gst_structure_get_int (oid, "id", &id)) {
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, id);
  }

  /* detection: the detector's normalised box and score when there is one,
   * else the region's own box */
  json_builder_set_member_name (b, "detection");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "bounding_box");
  json_builder_begin_object (b);
  {
    gdouble x0, y0, x1, y1;
    if (!(det && gst_structure_get_double (det, "x_min", &x0)
            && gst_structure_get_double (det, "y_min", &y0)
            && gst_structure_get_double (det, "x_max", &x1)
            && gst_structure_get_double (det, "y_max", &y1))) {
      x0 = fw > 0 ? roi->x / fw : 0;
      y0 = fh > 0 ? roi->y / fh : 0;
      x1 = fw > 0 ? (roi->x + (gdouble) roi->w) / fw : 0;
      y1 = fh > 0 ? (roi->y + (gdouble) roi->h) / fh : 0;
    }
    add_double (b, "x_min", x0);
    add_double (b, "y_min", y0);
    add_double (b, "x_max", x1);
    add_double (b, "y_max", y1);
  }
  json_builder_end_object (b);
  if (det) {
    gdouble conf;
    gint label_id;
    const gchar *label = gst_structure_get_string (det, "label");
    if (gst_structure_get_double (det, "confidence", &conf))
      add_double (b, "confidence", conf);
    if (gst_structure_get_int (det, "label_id", &label_id)) {
      json_builder_set_member_name (b, "label_id");
      json_builder_add_int_value (b, label_id);
    }
    if (label) {
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, label);
    }
  }
  json_builder_end_object (b);

  /* one member per classification of the region, named after its model */
  for (l = roi->params; l; l = l->next) {
    const GstStructure *s = l->data;
    if (is_region_param (gst_structure_get_name (s)) || !is_classification (s))
      continue;
    json_builder_set_member_name (b, param_model (s));
    add_classification (b, s, FALSE);
  }
  json_builder_end_object (b);
}

void
gst_imgrec_gva_add_frame_members (JsonBuilder * b, GstBuffer * buf,
    const GstSegment * segment, const GstVideoInfo * info)
{
  GstMeta *meta;
  gpointer state = NULL;
  GstClockTime t = gst_segment_to_stream_time (segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  gboolean tensors_open = FALSE;

  /* regions; a whole-frame region's classifications go to tensors[] as
   * gvaclassify's full-frame results do */
  json_builder_set_member_name (b, "objects");
  json_builder_begin_array (b);
  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    if (roi->roi_type != g_quark_from_static_string ("imgrec-full-frame"))
      add_object (b, roi, info);
  }
  json_builder_end_array (b);

  state = NULL;
  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *) meta;
    GList *l;
    if (roi->roi_type != g_quark_from_static_string ("imgrec-full-frame"))
      continue;
    for (l = roi->params; l; l = l->next) {
      if (!is_classification (l->data))
        continue;
      if (!tensors_open) {
        json_builder_set_member_name (b, "tensors");
        json_builder_begin_array (b);
        tensors_open = TRUE;
      }
      add_classification (b, l->data, TRUE);
    }
  }
  if (tensors_open)
    json_builder_end_array (b);

  if (info) {
    json_builder_set_member_name (b, "resolution");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "width");
    json_builder_add_int_value (b, GST_VIDEO_INFO_WIDTH (info));
    json_builder_set_member_name (b, "height");
    json_builder_add_int_value (b, GST_VIDEO_INFO_HEIGHT (info));
    json_builder_end_object (b);
  }
  json_builder_set_member_name (b, "timestamp");
  if (GST_CLOCK_TIME_IS_VALID (t))
    json_builder_add_int_value (b, (gint64) t);
  else
    json_builder_add_null_value (b);
}
