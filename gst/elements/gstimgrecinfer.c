/* GstImgRecInfer: abstract base class of the imgrec inference elements.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:gstimgrecinfer
 * @title: GstImgRecInfer
 *
 * What imgrecclassify, imgrecseq and imgrecgan share: the properties every
 * inference element may have (model, labels, pre-processing overrides,
 * scaling, top-k, roi, object-class, threads, post-messages,
 * model-instance-id) and their
 * storage, the refusal of changes to properties flagged
 * GST_PARAM_MUTABLE_READY (model, labels, pre-processing, roi, threads, ...)
 * while PAUSED or PLAYING, threads bounded by the CPUs, the
 * model's inference session and pre-processing (created in start, freed in
 * stop), negotiation of the input frames, the error reporting, the class
 * table, softmax and top-k of classifying models, the selection of regions
 * of interest, and the time and top-k fields of element messages.  Each
 * element installs the shared properties it has (with its own description
 * where it differs) and adds its own per-frame logic.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecinfer.h"
#include "gstimgrecmeta.h"
#include "gstimgrecproperty.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_infer_debug);
#define GST_CAT_DEFAULT gst_imgrec_infer_debug

/* Every common raw format, at any size and stride: the pre-processing
 * (GstVideoConverter) reads them all. */
#define VIDEO_FORMATS "{ RGB, BGR, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, " \
    "xRGB, xBGR, I420, YV12, NV12, NV21, GRAY8 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

#define gst_imgrec_infer_parent_class parent_class
G_DEFINE_ABSTRACT_TYPE (GstImgRecInfer, gst_imgrec_infer,
    GST_TYPE_VIDEO_FILTER);

void
gst_imgrec_infer_install_properties (GObjectClass * klass, guint n_pspecs,
    GParamSpec ** pspecs)
{
  guint i;

  for (i = 1; i < n_pspecs; i++)
    if (pspecs[i] != NULL)
      g_object_class_install_property (klass, i, pspecs[i]);
}

/* The shared properties whose description is the same in every element
 * that has them; the others (model, roi, object-class, post-messages) say
 * what the element does with them and are the element's own. */
GParamSpec *
gst_imgrec_infer_param_spec (guint prop_id)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  switch (prop_id) {
    case GST_IMGREC_INFER_PROP_LABELS:
      return g_param_spec_string ("labels", "Labels file",
          "Path of a file with one class label per line, overriding the "
          "model's imgrec.labels", NULL, rw | GST_PARAM_MUTABLE_READY);
    case GST_IMGREC_INFER_PROP_MEAN:
      return g_param_spec_string ("mean", "Mean",
          "Per-channel mean subtracted after scaling, comma-separated (one "
          "value or one per channel), overriding the model's imgrec.mean "
          "(default 0)", NULL, rw | GST_PARAM_MUTABLE_READY);
    case GST_IMGREC_INFER_PROP_STD:
      return g_param_spec_string ("std", "Standard deviation",
          "Per-channel divisor applied after the mean, comma-separated, "
          "overriding the model's imgrec.std (default 1)", NULL,
          rw | GST_PARAM_MUTABLE_READY);
    case GST_IMGREC_INFER_PROP_SCALE:
      return g_param_spec_double ("scale", "Scale",
          "Factor applied to 8-bit pixel values before mean/std; 0 = the "
          "model's imgrec.scale (default 1/255)", 0.0, G_MAXDOUBLE, 0.0,
          rw | GST_PARAM_MUTABLE_READY);
    case GST_IMGREC_INFER_PROP_COLOR_ORDER:
      return g_param_spec_enum ("color-order", "Colour order",
          "Channel order the model expects", GST_TYPE_IMGREC_COLOR_ORDER,
          GST_IMGREC_COLOR_ORDER_FROM_MODEL, rw | GST_PARAM_MUTABLE_READY);
    case GST_IMGREC_INFER_PROP_RESIZE:
      return g_param_spec_enum ("resize", "Resize",
          "How a frame or region is fitted to the model's input size",
          GST_TYPE_IMGREC_RESIZE, GST_IMGREC_RESIZE_FROM_MODEL,
          rw | GST_PARAM_MUTABLE_READY);
    case GST_IMGREC_INFER_PROP_SCALING:
      return g_param_spec_enum ("scaling", "Scaling",
          "Filter used to scale frames to the model's input size",
          GST_TYPE_IMGREC_SCALING, GST_IMGREC_SCALING_BILINEAR,
          rw | GST_PARAM_MUTABLE_READY);
    case GST_IMGREC_INFER_PROP_TOP_K:
      return g_param_spec_uint ("top-k", "Top k",
          "Number of best classes kept in the results", 1,
          GST_IMGREC_MAX_TOP_K, GST_IMGREC_INFER_DEFAULT_TOP_K,
          rw | GST_PARAM_MUTABLE_PLAYING);
    case GST_IMGREC_INFER_PROP_THREADS:
      return g_param_spec_uint ("threads", "Threads",
          "Threads for inference and pre-processing (0 = a share of the "
          "process's thread budget: the CPUs, or IMGREC_THREAD_BUDGET, "
          "divided among the inference elements running, pre-processing on "
          "one thread; more than the CPUs is lowered to their number, with a "
          "warning)", 0, 1024, 0, rw | GST_PARAM_MUTABLE_READY);
    case GST_IMGREC_INFER_PROP_MODEL_INSTANCE_ID:
      return g_param_spec_string ("model-instance-id", "Model instance id",
          "Name of a loaded model to share (DL Streamer's property): "
          "inference elements of the process that give the same id run one "
          "loaded model, also when their model paths name different copies "
          "of the file; the same id with a different model is an error. "
          "Elements that name the same file share it without an id", NULL,
          rw | GST_PARAM_MUTABLE_READY);
    default:
      g_return_val_if_reached (NULL);
  }
}

gboolean
gst_imgrec_infer_is_running (GstImgRecInfer * self)
{
  return GST_STATE (self) > GST_STATE_READY
      || GST_STATE_PENDING (self) > GST_STATE_READY;
}

void
gst_imgrec_infer_post_error (GstImgRecInfer * self, GError * err)
{
  gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_ERROR,
      err->domain, err->code, g_strdup (err->message), NULL, __FILE__,
      GST_FUNCTION, __LINE__);
}

/* ------------------------------------------------------------------------ */
/* start / stop: model, session, pre-processing                               */

/* The model-setting overrides, copied under the object lock; free them with
 * gst_imgrec_infer_overrides_clear. */
void
gst_imgrec_infer_snapshot_overrides (GstImgRecInfer * self,
    GstImgRecModelOverrides * ov)
{
  memset (ov, 0, sizeof (*ov));
  GST_OBJECT_LOCK (self);
  ov->labels_file = g_strdup (self->labels_file);
  ov->mean = g_strdup (self->mean);
  ov->std = g_strdup (self->std);
  ov->scale = self->scale;
  ov->color_order = self->color_order;
  ov->resize = self->resize;
  ov->model_instance_id = g_strdup (self->model_instance_id);
  GST_OBJECT_UNLOCK (self);
}

void
gst_imgrec_infer_overrides_clear (GstImgRecModelOverrides * ov)
{
  g_free ((gchar *) ov->labels_file);
  g_free ((gchar *) ov->mean);
  g_free ((gchar *) ov->std);
  g_free ((gchar *) ov->model_instance_id);
  memset (ov, 0, sizeof (*ov));
}

/* The session for the loaded model (self->config) and the pre-processing
 * into its image input. */
gboolean
gst_imgrec_infer_open_session (GstImgRecInfer * self, const gchar * model_path,
    guint threads, GstImgRecScaling scaling, GError ** err)
{
  imgrec_session_options opts = { 0 };
  imgrec_error eerr;

  threads = gst_imgrec_property_clamp_threads (GST_ELEMENT (self), threads);
  opts.threads = (int) threads;
  self->session = imgrec_session_new (self->config.model, &opts, &eerr);
  if (self->session == NULL) {
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
        "Could not create an inference session for model \"%s\": %s",
        model_path, eerr.message);
    return FALSE;
  }
  /* the converter's threads are fixed at creation: a budgeted element's
   * share changes with the streams around it, so it converts on one */
  if (!gst_imgrec_preprocess_init (&self->preprocess, &self->config, scaling,
          threads > 0 ? threads : 1, err))
    return FALSE;
  self->preprocess_ready = TRUE;
  return TRUE;
}

/* Dry runs on the (blank) pre-processed tensor, fed to input 0: the first
 * plans the session (frames then allocate nothing) and fixes the output
 * sizes; @last_run (may be NULL) gets the time the last one took. */
gboolean
gst_imgrec_infer_plan (GstImgRecInfer * self, const gchar * model_path,
    guint runs, GstClockTime * last_run, GError ** err)
{
  imgrec_error eerr;
  gint64 t0 = 0, t1;
  guint i;

  for (i = 0; i < runs; i++) {
    t0 = g_get_monotonic_time ();
    if (imgrec_session_set_input (self->session, 0, IMGREC_DTYPE_FLOAT,
            self->preprocess.dims, 4, self->preprocess.tensor, &eerr) < 0
        || imgrec_session_run (self->session, &eerr) < 0) {
      g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Model \"%s\" cannot run on a %dx%d image: %s", model_path,
          self->config.width, self->config.height, eerr.message);
      return FALSE;
    }
  }
  t1 = g_get_monotonic_time ();
  if (last_run)
    *last_run = (t1 - t0) * GST_USECOND;
  return TRUE;
}

/* The names results carry, and the ROI types of @object_class
 * (comma-separated; NULL or empty: every ROI). */
void
gst_imgrec_infer_model_ready (GstImgRecInfer * self,
    const gchar * object_class)
{
  self->model_name = g_intern_string (self->config.name);
  self->element_name = g_intern_string (GST_OBJECT_NAME (self));
  g_clear_pointer (&self->object_classes, g_free);
  if (object_class != NULL && *object_class != '\0') {
    gchar **names = g_strsplit (object_class, ",", -1);
    guint n = g_strv_length (names), k, m = 0;
    self->object_classes = g_new0 (GQuark, n + 1);
    for (k = 0; k < n; k++) {
      gchar *name = g_strstrip (names[k]);
      if (*name)
        self->object_classes[m++] = g_quark_from_string (name);
    }
    g_strfreev (names);
  }
}

void
gst_imgrec_infer_free_model (GstImgRecInfer * self)
{
  if (self->preprocess_ready)
    gst_imgrec_preprocess_clear (&self->preprocess);
  self->preprocess_ready = FALSE;
  if (self->session)
    imgrec_session_free (self->session);
  self->session = NULL;
  gst_imgrec_model_config_clear (&self->config);
  g_clear_pointer (&self->object_classes, g_free);
}

/* Negotiation: the pre-processing takes the frames' format and size.  An
 * element with more to do overrides set_info and chains up first. */
static gboolean
gst_imgrec_infer_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstImgRecInfer *self = GST_IMGREC_INFER (filter);
  GError *err = NULL;

  if (!self->preprocess_ready) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Caps were set before a model was loaded."), (NULL));
    return FALSE;
  }
  if (!gst_imgrec_preprocess_set_input (&self->preprocess, in_info, &err)) {
    gst_imgrec_infer_post_error (self, err);
    g_error_free (err);
    return FALSE;
  }
  GST_DEBUG_OBJECT (self, "input %s %dx%d",
      gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (in_info)),
      GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info));
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* regions                                                                    */

/* The full-frame ROI an earlier imgrec element added, or a new one with an
 * id no other ROI of the buffer has (ROI ids default to 0). */
GstVideoRegionOfInterestMeta *
gst_imgrec_infer_full_frame_roi (GstBuffer * buf, const GstVideoFrame * frame)
{
  GQuark type = g_quark_from_static_string (GST_IMGREC_FULL_FRAME_ROI_TYPE);
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  gint next_id = 0;

  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (roi->roi_type == type && roi->x == 0 && roi->y == 0
        && roi->w == (guint) GST_VIDEO_FRAME_WIDTH (frame)
        && roi->h == (guint) GST_VIDEO_FRAME_HEIGHT (frame))
      return roi;
    next_id = MAX (next_id, roi->id + 1);
  }
  roi = gst_buffer_add_video_region_of_interest_meta_id (buf, type, 0, 0,
      GST_VIDEO_FRAME_WIDTH (frame), GST_VIDEO_FRAME_HEIGHT (frame));
  roi->id = next_id;
  return roi;
}

/* Whether an upstream ROI is one to process: not an imgrec full-frame ROI,
 * and of one of the object-class types (when set). */
gboolean
gst_imgrec_infer_roi_selected (GstImgRecInfer * self,
    GstVideoRegionOfInterestMeta * roi)
{
  GQuark *q;

  if (roi->roi_type ==
      g_quark_from_static_string (GST_IMGREC_FULL_FRAME_ROI_TYPE))
    return FALSE;
  if (self->object_classes == NULL)
    return TRUE;
  for (q = self->object_classes; *q; q++)
    if (*q == roi->roi_type)
      return TRUE;
  return FALSE;
}

/* The regions of @buf the element processes, in buffer order, into
 * @regions (GstImgRecRegion): selected (gst_imgrec_infer_roi_selected:
 * not an imgrec full-frame ROI, of the object-class types when set) and
 * clipped to the frame with their origin on the chroma grid; regions
 * wholly outside the frame are left out.  Collect them before adding ROIs
 * to the buffer. */
void
gst_imgrec_infer_collect_regions (GstImgRecInfer * self, GstBuffer * buf,
    GArray * regions)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;

  g_array_set_size (regions, 0);
  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRectangle rect = { roi->x, roi->y, roi->w, roi->h };
    GstImgRecRegion r;

    if (!gst_imgrec_infer_roi_selected (self, roi))
      continue;
    if (!gst_imgrec_preprocess_clip_region (&self->preprocess, &rect,
            &r.rect)) {
      GST_DEBUG_OBJECT (self, "ROI %d (%d,%d %ux%u) is outside the frame, "
          "skipped", roi->id, roi->x, roi->y, roi->w, roi->h);
      continue;
    }
    r.roi = roi;
    g_array_append_val (regions, r);
  }
}

/* The id a tracker gave the region, in any of the forms elements write: a
 * `tracking-id` or `object-id` integer field of any param (imgrectrack's
 * `imgrec-track`, imgrecroi's `imgrec-roi`) or the `id` of DL Streamer's
 * `object_id` structure.  FALSE when the region has none. */
gboolean
gst_imgrec_infer_roi_tracking_id (GstVideoRegionOfInterestMeta * roi,
    gint64 * id)
{
  static const gchar *fields[] = { "tracking-id", "object-id" };
  GList *l;
  guint f;

  for (l = roi->params; l; l = l->next) {
    GstStructure *s = l->data;
    for (f = 0; f < G_N_ELEMENTS (fields) + 1; f++) {
      const GValue *v = f < G_N_ELEMENTS (fields) ?
          gst_structure_get_value (s, fields[f]) :
          gst_structure_has_name (s, "object_id") ?
          gst_structure_get_value (s, "id") : NULL;
      if (v == NULL)
        continue;
      if (G_VALUE_HOLDS_INT (v))
        *id = g_value_get_int (v);
      else if (G_VALUE_HOLDS_UINT (v))
        *id = g_value_get_uint (v);
      else if (G_VALUE_HOLDS_INT64 (v))
        *id = g_value_get_int64 (v);
      else if (G_VALUE_HOLDS_UINT64 (v))
        *id = (gint64) g_value_get_uint64 (v);
      else
        continue;
      return TRUE;
    }
  }
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* messages                                                                   */

/* Appends the frame's times to a message's fields: timestamp (the PTS),
 * stream-time and running-time. */
void
gst_imgrec_infer_structure_set_times (GstImgRecInfer * self, GstStructure * s,
    GstClockTime pts)
{
  const GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;

  gst_structure_set (s,
      "timestamp", G_TYPE_UINT64, pts,
      "stream-time", G_TYPE_UINT64,
      gst_segment_to_stream_time (segment, GST_FORMAT_TIME, pts),
      "running-time", G_TYPE_UINT64,
      gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts), NULL);
}

/* ------------------------------------------------------------------------ */
/* properties                                                                 */

static void
gst_imgrec_infer_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecInfer *self = GST_IMGREC_INFER (object);

  GST_OBJECT_LOCK (self);
  if (gst_imgrec_property_refuse_locked (GST_ELEMENT (self), pspec))
    return;
  switch (prop_id) {
    case GST_IMGREC_INFER_PROP_MODEL:
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
      break;
    case GST_IMGREC_INFER_PROP_LABELS:
      g_free (self->labels_file);
      self->labels_file = g_value_dup_string (value);
      break;
    case GST_IMGREC_INFER_PROP_MEAN:
      g_free (self->mean);
      self->mean = g_value_dup_string (value);
      break;
    case GST_IMGREC_INFER_PROP_STD:
      g_free (self->std);
      self->std = g_value_dup_string (value);
      break;
    case GST_IMGREC_INFER_PROP_SCALE:
      self->scale = g_value_get_double (value);
      break;
    case GST_IMGREC_INFER_PROP_COLOR_ORDER:
      self->color_order = g_value_get_enum (value);
      break;
    case GST_IMGREC_INFER_PROP_RESIZE:
      self->resize = g_value_get_enum (value);
      break;
    case GST_IMGREC_INFER_PROP_SCALING:
      self->scaling = g_value_get_enum (value);
      break;
    case GST_IMGREC_INFER_PROP_TOP_K:
      self->top_k = g_value_get_uint (value);
      break;
    case GST_IMGREC_INFER_PROP_ROI:
      self->roi_mode = g_value_get_enum (value);
      break;
    case GST_IMGREC_INFER_PROP_OBJECT_CLASS:
      g_free (self->object_class);
      self->object_class = g_value_dup_string (value);
      break;
    case GST_IMGREC_INFER_PROP_THREADS:
      self->threads = g_value_get_uint (value);
      break;
    case GST_IMGREC_INFER_PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    case GST_IMGREC_INFER_PROP_MODEL_INSTANCE_ID:
      g_free (self->model_instance_id);
      self->model_instance_id = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_infer_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstImgRecInfer *self = GST_IMGREC_INFER (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case GST_IMGREC_INFER_PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case GST_IMGREC_INFER_PROP_LABELS:
      g_value_set_string (value, self->labels_file);
      break;
    case GST_IMGREC_INFER_PROP_MEAN:
      g_value_set_string (value, self->mean);
      break;
    case GST_IMGREC_INFER_PROP_STD:
      g_value_set_string (value, self->std);
      break;
    case GST_IMGREC_INFER_PROP_SCALE:
      g_value_set_double (value, self->scale);
      break;
    case GST_IMGREC_INFER_PROP_COLOR_ORDER:
      g_value_set_enum (value, self->color_order);
      break;
    case GST_IMGREC_INFER_PROP_RESIZE:
      g_value_set_enum (value, self->resize);
      break;
    case GST_IMGREC_INFER_PROP_SCALING:
      g_value_set_enum (value, self->scaling);
      break;
    case GST_IMGREC_INFER_PROP_TOP_K:
      g_value_set_uint (value, self->top_k);
      break;
    case GST_IMGREC_INFER_PROP_ROI:
      g_value_set_enum (value, self->roi_mode);
      break;
    case GST_IMGREC_INFER_PROP_OBJECT_CLASS:
      g_value_set_string (value, self->object_class);
      break;
    case GST_IMGREC_INFER_PROP_THREADS:
      g_value_set_uint (value, self->threads);
      break;
    case GST_IMGREC_INFER_PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case GST_IMGREC_INFER_PROP_MODEL_INSTANCE_ID:
      g_value_set_string (value, self->model_instance_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_infer_finalize (GObject * object)
{
  GstImgRecInfer *self = GST_IMGREC_INFER (object);

  gst_imgrec_infer_free_model (self);
  g_free (self->model_path);
  g_free (self->labels_file);
  g_free (self->mean);
  g_free (self->std);
  g_free (self->object_class);
  g_free (self->model_instance_id);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_imgrec_infer_class_init (GstImgRecInferClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_infer_debug, "imgrecinfer", 0,
      "imgrec inference base class");

  gobject_class->set_property = gst_imgrec_infer_set_property;
  gobject_class->get_property = gst_imgrec_infer_get_property;
  gobject_class->finalize = gst_imgrec_infer_finalize;

  trans_class->transform_ip_on_passthrough = FALSE;
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_imgrec_infer_set_info);
  filter_class->transform_frame_ip = NULL;

  gst_element_class_add_static_pad_template (GST_ELEMENT_CLASS (klass),
      &sink_template);
  gst_element_class_add_static_pad_template (GST_ELEMENT_CLASS (klass),
      &src_template);

  gst_type_mark_as_plugin_api (GST_TYPE_IMGREC_INFER, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_IMGREC_COLOR_ORDER, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_IMGREC_RESIZE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_IMGREC_SCALING, 0);
}

static void
gst_imgrec_infer_init (GstImgRecInfer * self)
{
  self->scaling = GST_IMGREC_SCALING_BILINEAR;
  self->top_k = GST_IMGREC_INFER_DEFAULT_TOP_K;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
  /* GstVideoFilter enables the base class's QoS, which drops late frames;
   * the inference elements keep every frame (imgrecclassify skips inference
   * instead, imgrecseq's state must see every frame). */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}
