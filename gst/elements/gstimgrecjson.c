/* imgrecjson: writes the imgrec results of each frame as one JSON line.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrecjson
 * @title: imgrecjson
 *
 * A pass-through element that writes one JSON object per video frame (JSON
 * Lines) to #GstImgRecJson:location — a regular file (created or truncated;
 * a FIFO, device or directory is refused at start), or `-` for standard
 * output.
 * Every frame gets a line, with or without results; the file is flushed on
 * EOS and closed when the element stops.  A write error stops the pipeline
 * with an error: no line is silently lost.
 *
 * Each line has these members:
 *
 * - `schema-version` (integer, first): the version of this layout, now 1.
 *   It grows when a member is removed or changes meaning; new members do
 *   not change it.
 * - `frame` (integer): index of the frame since the element started.
 * - `timestamp`, `stream-time`, `running-time`, `duration` (integer
 *   nanoseconds, or null when unknown).
 * - `width`, `height` (integers), `format` (string): the frame size and
 *   format.
 * - `results` (array): every imgrec result meta of the buffer, in order.
 *   Each has `kind` (`classification`, `sequence`, `gan`, `detection`,
 *   `track`), `model`, `element`, `roi-id`,
 *   `region` (`x`, `y`, `width`, `height` in frame pixels), `carried` and
 *   `qos-skipped` (booleans), `inference-timestamp` (PTS of the frame the
 *   result was computed on); a classification adds `label`, `class-id`,
 *   `confidence` and `top` (array of `class-id`, `label`, `confidence`);
 *   a `gan` result adds `role` (`generated`, `discriminated` or
 *   `restored`) and: generated — `synthetic` (true), `seed`,
 *   `latent-index`, `latent-position`, `class-id`, `label` (null for an
 *   unconditional generator); discriminated — `score` (realism, 0 to 1),
 *   `logit`, `anomaly` (boolean), `anomaly-reasons` (array of strings:
 *   `realism`, `defocus`; empty when normal), `sharpness` and
 *   `sharpness-baseline` (the defocus check's focus measure and the
 *   baseline it is compared with; null when not measured / none yet);
 *   restored — `blend`; a `sequence` result
 *   (imgrecseq) has the classification's members and `steps` (frames since
 *   the state's reset), `reset-count`, `scope-id` (-1: the stream),
 *   `scope-tracked` (true: `scope-id` is a track id, false: an untracked
 *   region's ROI id) and `window-start`, `window-end` (PTS, null for step
 *   models); a
 *   `detection` (imgrecdetect) adds `label`, `class-id`, `confidence`,
 *   `box` (`x-min`, `y-min`, `x-max`, `y-max`: frame pixels, sub-pixel) and
 *   `parent-id` (the searched ROI, -1: the whole frame); a `track`
 *   (imgrectrack) adds `track-id`, `state` (`tracked` or `predicted`),
 *   `label`, `class-id`, `age`, `hits`, `time-since-update` (frames) and
 *   `first-seen` (PTS).
 * - `rois` (array): every #GstVideoRegionOfInterestMeta: `id`, `parent-id`,
 *   `type`, `x`, `y`, `width`, `height`, and `params`, an object with one
 *   member per param structure (e.g. `imgrec-classification`), whose fields
 *   become members.
 *
 * With #GstImgRecJson:format `gva` each line is instead DL Streamer
 * gvametaconvert's layout, so consumers written for it work unchanged:
 * `objects` (one per region but the whole-frame one: `x`, `y`, `w`, `h`
 * in pixels, `region_id`, `roi_type`, `id` (the `object_id` param: the
 * track), `detection` with `bounding_box` {`x_min`, `y_min`, `x_max`,
 * `y_max`} normalised to the frame — the detector's box and its
 * `confidence`, `label_id`, `label` when a detector made the region — and
 * one member per classification of the region, named after its model:
 * {`label`, `label_id`, `confidence`, `model` {`name`}}), `tensors` (the
 * classifications of the whole frame: `name`, `label`, `label_id`,
 * `confidence`, `model` {`name`}), `resolution` {`width`, `height`} and
 * `timestamp` (stream time, ns).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=10 ! \
 *     imgrecclassify model=model.onnx ! imgrecjson location=results.jsonl ! fakesink
 * ]| Writes ten lines to results.jsonl.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecjson.h"
#include "gstimgrecgva.h"
#include "gstimgrecfile.h"
#include "gstimgrecproperty.h"
#include "gstimgrecmeta.h"
#include "gstimgrecresultkind.h"

#include <errno.h>
#include <string.h>
#include <json-glib/json-glib.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_json_debug);
#define GST_CAT_DEFAULT gst_imgrec_json_debug

#define DEFAULT_LOCATION "-"

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_FORMAT,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));

#define gst_imgrec_json_parent_class parent_class
G_DEFINE_TYPE (GstImgRecJson, gst_imgrec_json, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (imgrecjson, "imgrecjson", GST_RANK_NONE,
    GST_TYPE_IMGREC_JSON);

static gboolean
gst_imgrec_json_start (GstBaseTransform * trans)
{
  GstImgRecJson *self = GST_IMGREC_JSON (trans);
  GError *err = NULL;
  gchar *location;

  GST_OBJECT_LOCK (self);
  location = g_strdup (self->location);
  GST_OBJECT_UNLOCK (self);

  if (location == NULL || *location == '\0') {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No location set: set \"location\" to a file path or \"-\" for "
            "standard output."), (NULL));
    g_free (location);
    return FALSE;
  }
  self->file = gst_imgrec_file_open_output (location, "JSON output file",
      TRUE, &err);
  if (self->file == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", err->message),
        (NULL));
    g_error_free (err);
    g_free (location);
    return FALSE;
  }
  self->is_stdout = self->file == stdout;
  self->frames = 0;
  self->have_info = FALSE;
  g_free (location);
  return TRUE;
}

static gboolean
flush_file (GstImgRecJson * self)
{
  if (self->file && fflush (self->file) != 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not write the JSON lines: %s.", g_strerror (errno)), (NULL));
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_imgrec_json_stop (GstBaseTransform * trans)
{
  GstImgRecJson *self = GST_IMGREC_JSON (trans);
  gboolean ok = flush_file (self);

  if (self->file && !self->is_stdout && fclose (self->file) != 0 && ok) {
    GST_ELEMENT_ERROR (self, RESOURCE, CLOSE,
        ("Could not close the JSON file: %s.", g_strerror (errno)), (NULL));
  }
  self->file = NULL;
  /* the error is posted; FALSE would fail the pad's deactivation (a
   * GStreamer warning) and leave the element half stopped */
  return TRUE;
}

static gboolean
gst_imgrec_json_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstImgRecJson *self = GST_IMGREC_JSON (trans);

  self->have_info = gst_video_info_from_caps (&self->info, incaps);
  if (!self->have_info)
    GST_WARNING_OBJECT (self, "caps %" GST_PTR_FORMAT " describe no raw "
        "video size; lines will have no width/height", incaps);
  return TRUE;
}

static gboolean
gst_imgrec_json_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstImgRecJson *self = GST_IMGREC_JSON (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && !flush_file (self)) {
    gst_event_unref (event);
    return FALSE;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* @name: the time in ns, or null when unknown */
void
gst_imgrec_json_add_time (JsonBuilder * b, const gchar * name,
    GstClockTime t)
{
  json_builder_set_member_name (b, name);
  if (GST_CLOCK_TIME_IS_VALID (t))
    json_builder_add_int_value (b, (gint64) t);
  else
    json_builder_add_null_value (b);
}

static void
add_gvalue (JsonBuilder * b, const GValue * v)
{
  switch (G_VALUE_TYPE (v)) {
    case G_TYPE_STRING:
      json_builder_add_string_value (b, g_value_get_string (v));
      return;
    case G_TYPE_INT:
      json_builder_add_int_value (b, g_value_get_int (v));
      return;
    case G_TYPE_UINT:
      json_builder_add_int_value (b, g_value_get_uint (v));
      return;
    case G_TYPE_INT64:
      json_builder_add_int_value (b, g_value_get_int64 (v));
      return;
    case G_TYPE_UINT64:
      json_builder_add_int_value (b, (gint64) g_value_get_uint64 (v));
      return;
    case G_TYPE_DOUBLE:
      json_builder_add_double_value (b, g_value_get_double (v));
      return;
    case G_TYPE_FLOAT:
      json_builder_add_double_value (b, g_value_get_float (v));
      return;
    case G_TYPE_BOOLEAN:
      json_builder_add_boolean_value (b, g_value_get_boolean (v));
      return;
    default:
      break;
  }
  if (GST_VALUE_HOLDS_ARRAY (v) || GST_VALUE_HOLDS_LIST (v)) {
    guint i, n = GST_VALUE_HOLDS_ARRAY (v) ? gst_value_array_get_size (v) :
        gst_value_list_get_size (v);
    json_builder_begin_array (b);
    for (i = 0; i < n; i++)
      add_gvalue (b, GST_VALUE_HOLDS_ARRAY (v) ?
          gst_value_array_get_value (v, i) : gst_value_list_get_value (v, i));
    json_builder_end_array (b);
  } else if (GST_VALUE_HOLDS_STRUCTURE (v)) {
    const GstStructure *s = gst_value_get_structure (v);
    guint i;
    json_builder_begin_object (b);
    for (i = 0; i < (guint) gst_structure_n_fields (s); i++) {
      const gchar *name = gst_structure_nth_field_name (s, i);
      json_builder_set_member_name (b, name);
      add_gvalue (b, gst_structure_get_value (s, name));
    }
    json_builder_end_object (b);
  } else {
    gchar *text = gst_value_serialize (v);
    json_builder_add_string_value (b, text ? text : "");
    g_free (text);
  }
}

static void
add_region (JsonBuilder * b, gint x, gint y, guint w, guint h)
{
  json_builder_set_member_name (b, "x");
  json_builder_add_int_value (b, x);
  json_builder_set_member_name (b, "y");
  json_builder_add_int_value (b, y);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, h);
}

static void
add_result (JsonBuilder * b, GstMeta * meta)
{
  GstImgRecResultInfo *info = gst_imgrec_meta_get_result_info (meta);
  const GstImgRecResultKind *kind;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, gst_imgrec_meta_get_kind (meta));
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, info->model);
  json_builder_set_member_name (b, "element");
  json_builder_add_string_value (b, info->element);
  json_builder_set_member_name (b, "roi-id");
  json_builder_add_int_value (b, info->roi_id);
  json_builder_set_member_name (b, "region");
  json_builder_begin_object (b);
  add_region (b, info->x, info->y, info->width, info->height);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "carried");
  json_builder_add_boolean_value (b,
      (info->flags & GST_IMGREC_RESULT_FLAG_CARRIED) != 0);
  json_builder_set_member_name (b, "qos-skipped");
  json_builder_add_boolean_value (b,
      (info->flags & GST_IMGREC_RESULT_FLAG_QOS_SKIPPED) != 0);
  gst_imgrec_json_add_time (b, "inference-timestamp", info->inference_pts);

  kind = gst_imgrec_result_kind_lookup (meta);
  if (kind)
    kind->add_json_members (b, meta);
  json_builder_end_object (b);
}

static void
add_roi (JsonBuilder * b, GstVideoRegionOfInterestMeta * roi)
{
  GList *l;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, roi->id);
  json_builder_set_member_name (b, "parent-id");
  json_builder_add_int_value (b, roi->parent_id);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, g_quark_to_string (roi->roi_type));
  add_region (b, roi->x, roi->y, roi->w, roi->h);
  json_builder_set_member_name (b, "params");
  json_builder_begin_object (b);
  for (l = roi->params; l; l = l->next) {
    GstStructure *s = l->data;
    GValue v = G_VALUE_INIT;

    json_builder_set_member_name (b, gst_structure_get_name (s));
    g_value_init (&v, GST_TYPE_STRUCTURE);
    gst_value_set_structure (&v, s);
    add_gvalue (b, &v);
    g_value_unset (&v);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);
}

/* The members of one frame's object (docs/metadata.md), added to the object
 * @b has begun; imgrecpublish writes its messages with this too. */
void
gst_imgrec_json_add_frame_members (JsonBuilder * b, GstBuffer * buf,
    guint64 frame, const GstSegment * segment, const GstVideoInfo * info)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstMeta *meta;
  gpointer state = NULL;

  json_builder_set_member_name (b, "schema-version");
  json_builder_add_int_value (b, GST_IMGREC_JSON_SCHEMA_VERSION);
  json_builder_set_member_name (b, "frame");
  json_builder_add_int_value (b, (gint64) frame);
  gst_imgrec_json_add_time (b, "timestamp", pts);
  gst_imgrec_json_add_time (b, "stream-time",
      gst_segment_to_stream_time (segment, GST_FORMAT_TIME, pts));
  gst_imgrec_json_add_time (b, "running-time",
      gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts));
  gst_imgrec_json_add_time (b, "duration", GST_BUFFER_DURATION (buf));
  if (info) {
    json_builder_set_member_name (b, "width");
    json_builder_add_int_value (b, GST_VIDEO_INFO_WIDTH (info));
    json_builder_set_member_name (b, "height");
    json_builder_add_int_value (b, GST_VIDEO_INFO_HEIGHT (info));
    json_builder_set_member_name (b, "format");
    json_builder_add_string_value (b,
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (info)));
  }

  json_builder_set_member_name (b, "results");
  json_builder_begin_array (b);
  while ((meta = gst_buffer_iterate_meta (buf, &state))) {
    if (gst_imgrec_meta_is_result (meta))
      add_result (b, meta);
  }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "rois");
  json_builder_begin_array (b);
  state = NULL;
  while ((meta = gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
    add_roi (b, (GstVideoRegionOfInterestMeta *) meta);
  json_builder_end_array (b);
}

/* The text of the value @b has built (compact, one line); unrefs @b. */
gchar *
gst_imgrec_json_builder_finish (JsonBuilder * b)
{
  JsonGenerator *gen = json_generator_new ();
  JsonNode *root = json_builder_get_root (b);
  gchar *text;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return text;
}

static gchar *
frame_to_json (GstImgRecJson * self, GstBuffer * buf)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  if (self->format == GST_IMGREC_JSON_FORMAT_GVA)
    gst_imgrec_gva_add_frame_members (b, buf,
        &GST_BASE_TRANSFORM (self)->segment,
        self->have_info ? &self->info : NULL);
  else
    gst_imgrec_json_add_frame_members (b, buf, self->frames,
        &GST_BASE_TRANSFORM (self)->segment,
        self->have_info ? &self->info : NULL);
  json_builder_end_object (b);
  return gst_imgrec_json_builder_finish (b);
}

static GstFlowReturn
gst_imgrec_json_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstImgRecJson *self = GST_IMGREC_JSON (trans);
  gchar *line = frame_to_json (self, buf);
  gsize len = strlen (line);

  self->frames++;
  if (fwrite (line, 1, len, self->file) != len
      || fputc ('\n', self->file) == EOF
      || (self->is_stdout && fflush (self->file) != 0)) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not write the JSON line of frame %" G_GUINT64_FORMAT ": %s.",
            self->frames - 1, g_strerror (errno)), (NULL));
    g_free (line);
    return GST_FLOW_ERROR;
  }
  g_free (line);
  return GST_FLOW_OK;
}

static void
gst_imgrec_json_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecJson *self = GST_IMGREC_JSON (object);

  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK (self);
      if (gst_imgrec_property_refuse_locked (GST_ELEMENT (self), pspec))
        return;
      g_free (self->location);
      self->location = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FORMAT:
      GST_OBJECT_LOCK (self);
      if (gst_imgrec_property_refuse_locked (GST_ELEMENT (self), pspec))
        return;
      self->format = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_imgrec_json_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstImgRecJson *self = GST_IMGREC_JSON (object);

  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->location);
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_FORMAT:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, self->format);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_imgrec_json_finalize (GObject * object)
{
  GstImgRecJson *self = GST_IMGREC_JSON (object);

  g_free (self->location);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_imgrec_json_class_init (GstImgRecJsonClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_json_debug, "imgrecjson", 0,
      "imgrec JSON lines writer");

  gobject_class->set_property = gst_imgrec_json_set_property;
  gobject_class->get_property = gst_imgrec_json_get_property;
  gobject_class->finalize = gst_imgrec_json_finalize;

  properties[PROP_LOCATION] = g_param_spec_string ("location", "Location",
      "File to write the JSON lines to (\"-\" = standard output)",
      DEFAULT_LOCATION, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY);
  properties[PROP_FORMAT] = g_param_spec_enum ("format", "Format",
      "Layout of each line: imgrec's own, or DL Streamer gvametaconvert's",
      GST_TYPE_IMGREC_JSON_FORMAT, GST_IMGREC_JSON_FORMAT_IMGREC,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);
  gst_type_mark_as_plugin_api (GST_TYPE_IMGREC_JSON_FORMAT, 0);

  gst_element_class_set_static_metadata (element_class,
      "imgrec JSON writer", "Filter/Analyzer/Video",
      "Writes the imgrec results and regions of interest of every frame as "
      "one JSON line", "imgrec project");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_imgrec_json_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_imgrec_json_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_imgrec_json_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_imgrec_json_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_imgrec_json_transform_ip);
  trans_class->transform_ip_on_passthrough = TRUE;
}

static void
gst_imgrec_json_init (GstImgRecJson * self)
{
  self->location = g_strdup (DEFAULT_LOCATION);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}
