/* imgrecclassify: CNN classification of video frames and regions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrecclassify
 * @title: imgrecclassify
 *
 * Classifies each video frame — or each region of interest of it — with an
 * ONNX image classifier run by the imgrec engine on the CPU.  The video
 * passes through unchanged; the results are attached to the buffer:
 *
 * - a #GstImgRecClassificationMeta per classified region (libgstimgrec-1.0:
 *   model, region and its ROI id, the decided class, the top-k classes,
 *   flags saying whether the result is fresh or carried over);
 * - a #GstStructure param named `imgrec-classification` (fields `label`,
 *   `class-id`, `confidence`, `model`) on the region's
 *   #GstVideoRegionOfInterestMeta.  When the whole frame is classified an ROI
 *   of type `imgrec-full-frame` covering the frame is added (or reused when
 *   an earlier imgrec element added one).
 *
 * Every common raw format is accepted at any size and stride (RGB, BGR, RGBA,
 * BGRA, ARGB, ABGR, RGBx, BGRx, xRGB, xBGR, I420, YV12, NV12, NV21, GRAY8),
 * with no videoconvert or videoscale in front.  #GstVideoConverter crops and
 * scales the region to the model's input size within the frame's own format
 * (its fast per-plane path), converts that small image to the model's colour
 * order, and one more pass turns it into floats.  #GstImgRecClassify:scaling
 * chooses plain bilinear interpolation (default, like OpenCV's INTER_LINEAR)
 * or an antialiasing filter (like PIL's resize), about 4 times slower for
 * 1080p to 224x224.  Everything a frame needs is allocated when the caps are
 * set; regions of other sizes (roi-list mode) use a cache of 8 converters
 * keyed by region size.
 *
 * ## Model metadata
 *
 * Pre-processing settings come from the model's ONNX `metadata_props`; the
 * element's properties override them.
 *
 * - `imgrec.kind`: `classifier` (other kinds — `sequence-step`,
 *   `gan-generator`, `gan-discriminator` — are refused). Absent: classifier.
 * - `imgrec.labels`: class names, one per line, in output order.
 * - `imgrec.scale`: factor applied to 8-bit pixel values (default 1/255).
 * - `imgrec.mean`, `imgrec.std`: one value or one per channel,
 *   comma-separated, applied after scale: (pixel × scale − mean) / std
 *   (defaults 0 and 1).
 * - `imgrec.color-order`: `RGB`, `BGR` or `GRAY` (default RGB; GRAY for
 *   one-channel inputs).
 * - `imgrec.resize`: `stretch` (default), `letterbox` (keep the aspect ratio,
 *   pad with black) or `center-crop` (keep the aspect ratio, crop to fill).
 * - `imgrec.input-layout`: `NCHW` (default) or `NHWC`.
 *
 * The model must have one float input of rank 4 with 1 or 3 channels and a
 * fixed height and width; its first output holds one score per class (any
 * shape whose element count is the number of classes).
 *
 * ## Messages
 *
 * With #GstImgRecClassify:post-messages, an element message named
 * `imgrec-classification` is posted for every region classified on a frame
 * (one per frame when classifying the whole frame).  Frames that only carry
 * an earlier result (inference-interval, QoS) post nothing.  Fields:
 *
 * - `timestamp` (#G_TYPE_UINT64): the buffer's PTS.
 * - `stream-time` (#G_TYPE_UINT64): the buffer's stream time.
 * - `running-time` (#G_TYPE_UINT64): the buffer's running time.
 * - `duration` (#G_TYPE_UINT64): the buffer's duration.
 * - `roi-id` (#G_TYPE_INT): id of the classified region's
 *   #GstVideoRegionOfInterestMeta (the full-frame ROI in full-frame mode).
 * - `model` (#G_TYPE_STRING): model name (file name without `.onnx`).
 * - `label` (#G_TYPE_STRING): decided label, `unknown` below the threshold.
 * - `class-id` (#G_TYPE_INT): decided class index, -1 below the threshold.
 * - `confidence` (#G_TYPE_DOUBLE): probability of the best class.
 * - `top-labels` (#GST_TYPE_ARRAY of #G_TYPE_STRING): the top-k labels, best
 *   first.
 * - `top-class-ids` (#GST_TYPE_ARRAY of #G_TYPE_INT): their class indices.
 * - `top-confidences` (#GST_TYPE_ARRAY of #G_TYPE_DOUBLE): their
 *   probabilities.
 *
 * ## Behaviour
 *
 * - `inference-interval=N` runs the model on every Nth frame; frames in
 *   between carry the last result with the %GST_IMGREC_RESULT_FLAG_CARRIED
 *   flag.  In roi-list mode a region carries the result of the region with
 *   the same ROI id on the last frame; a region without one, or whose id is
 *   not unique on its buffer, is classified at once.
 * - With #GstImgRecClassify:qos (default on), when downstream reports that
 *   the pipeline is late, inference is skipped (frames are never dropped):
 *   the frame carries the last result flagged
 *   %GST_IMGREC_RESULT_FLAG_QOS_SKIPPED, and the debug log says so.  LATENCY
 *   queries add the measured inference time.
 * - Errors (no or unloadable model, a model whose input is not an image,
 *   labels that do not match the model's classes, bad property values) are
 *   reported with GST_ELEMENT_ERROR when going from READY to PAUSED.
 * - The model can only be changed in NULL or READY; setting `model` while
 *   PAUSED or PLAYING is refused with a warning message and the running
 *   model stays.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m filesrc location=clip.mp4 ! decodebin ! \
 *     imgrecclassify model=models/traffic-signs/traffic-signs.onnx post-messages=true ! \
 *     imgrecoverlay ! videoconvert ! autovideosink
 * ]| Classifies every frame of a video file, shows the labels, prints the
 * messages.
 * |[
 * gst-launch-1.0 v4l2src ! imgrecclassify model=model.onnx inference-interval=5 ! \
 *     imgrecjson location=- ! fakesink
 * ]| Classifies every fifth camera frame and writes one JSON line per frame.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecclassify.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_classify_debug);
#define GST_CAT_DEFAULT gst_imgrec_classify_debug

#define DEFAULT_MODEL NULL
#define DEFAULT_LABELS NULL
#define DEFAULT_MEAN NULL
#define DEFAULT_STD NULL
#define DEFAULT_SCALE 0.0
#define DEFAULT_COLOR_ORDER GST_IMGREC_COLOR_ORDER_FROM_MODEL
#define DEFAULT_RESIZE GST_IMGREC_RESIZE_FROM_MODEL
#define DEFAULT_SCALING GST_IMGREC_SCALING_BILINEAR
#define DEFAULT_TOP_K 5
#define DEFAULT_THRESHOLD 0.0
#define DEFAULT_SOFTMAX GST_IMGREC_SOFTMAX_AUTO
#define DEFAULT_INFERENCE_INTERVAL 1
#define DEFAULT_ROI GST_IMGREC_ROI_FULL_FRAME
#define DEFAULT_OBJECT_CLASS NULL
#define DEFAULT_THREADS 0
#define DEFAULT_POST_MESSAGES FALSE
#define DEFAULT_QOS TRUE

#define UNKNOWN_LABEL "unknown"

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_LABELS,
  PROP_MEAN,
  PROP_STD,
  PROP_SCALE,
  PROP_COLOR_ORDER,
  PROP_RESIZE,
  PROP_SCALING,
  PROP_TOP_K,
  PROP_THRESHOLD,
  PROP_SOFTMAX,
  PROP_INFERENCE_INTERVAL,
  PROP_ROI,
  PROP_OBJECT_CLASS,
  PROP_THREADS,
  PROP_POST_MESSAGES,
  PROP_STATS,
  N_PROPERTIES,
  PROP_QOS = N_PROPERTIES       /* overridden from GstBaseTransform */
};

static GParamSpec *properties[N_PROPERTIES];

#define VIDEO_FORMATS "{ RGB, BGR, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, " \
    "xRGB, xBGR, I420, YV12, NV12, NV21, GRAY8 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

#define gst_imgrec_classify_parent_class parent_class
G_DEFINE_TYPE (GstImgRecClassify, gst_imgrec_classify, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (imgrecclassify, "imgrecclassify", GST_RANK_NONE,
    GST_TYPE_IMGREC_CLASSIFY);

static GType
gst_imgrec_softmax_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_SOFTMAX_AUTO, "Apply unless the output already is a "
          "probability distribution", "auto"},
    {GST_IMGREC_SOFTMAX_ON, "Always apply softmax to the output", "on"},
    {GST_IMGREC_SOFTMAX_OFF, "Use the output as it is", "off"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecSoftmax", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GType
gst_imgrec_roi_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_ROI_FULL_FRAME, "Classify the whole frame", "full-frame"},
    {GST_IMGREC_ROI_LIST, "Classify each upstream GstVideoRegionOfInterestMeta"
          " (filtered by object-class)", "roi-list"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecRoiMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
post_error (GstImgRecClassify * self, GError * err)
{
  gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_ERROR,
      err->domain, err->code, g_strdup (err->message), NULL, __FILE__,
      GST_FUNCTION, __LINE__);
}

/* ------------------------------------------------------------------------ */
/* start / stop: model, session, labels                                       */

static void
free_model_state (GstImgRecClassify * self)
{
  if (self->preprocess_ready)
    gst_imgrec_preprocess_clear (&self->preprocess);
  self->preprocess_ready = FALSE;
  if (self->session)
    imgrec_session_free (self->session);
  self->session = NULL;
  gst_imgrec_model_config_clear (&self->config);
  g_clear_pointer (&self->class_labels, g_free);
  g_clear_pointer (&self->scores, g_free);
  g_clear_pointer (&self->object_classes, g_free);
  self->n_classes = 0;
}

static void
reset_stream_state (GstImgRecClassify * self)
{
  self->frame_count = 0;
  self->have_last = FALSE;
  if (self->last_rois)
    g_array_set_size (self->last_rois, 0);
  GST_OBJECT_LOCK (self);
  self->earliest_time = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_imgrec_classify_start (GstBaseTransform * trans)
{
  GstImgRecClassify *self = GST_IMGREC_CLASSIFY (trans);
  GstImgRecModelOverrides ov;
  imgrec_session_options opts = { 0 };
  imgrec_tensor_info out_info;
  imgrec_error eerr;
  GError *err = NULL;
  gchar *model_path, *object_class;
  GstImgRecScaling scaling;
  gint64 t0, t1, i;
  gint d;

  GST_OBJECT_LOCK (self);
  model_path = g_strdup (self->model_path);
  object_class = g_strdup (self->object_class);
  ov.labels_file = g_strdup (self->labels_file);
  ov.mean = g_strdup (self->mean);
  ov.std = g_strdup (self->std);
  ov.scale = self->scale;
  ov.color_order = self->color_order;
  ov.resize = self->resize;
  scaling = self->scaling;
  opts.threads = (int) self->threads;
  GST_OBJECT_UNLOCK (self);

  free_model_state (self);
  if (!gst_imgrec_model_config_load (&self->config, model_path, &ov, &err))
    goto error;

  if (self->config.kind != NULL
      && g_ascii_strcasecmp (self->config.kind, "classifier") != 0) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is a %s model (imgrec.kind); imgrecclassify needs a "
        "classifier.", model_path, self->config.kind);
    goto error;
  }

  self->session = imgrec_session_new (self->config.model, &opts, &eerr);
  if (self->session == NULL) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
        "Could not create an inference session for model \"%s\": %s",
        model_path, eerr.message);
    goto error;
  }
  if (!gst_imgrec_preprocess_init (&self->preprocess, &self->config, scaling,
          self->threads, &err))
    goto error;
  self->preprocess_ready = TRUE;

  /* Two dry runs: the first plans the session (so frames allocate nothing)
   * and tells the output size, the second measures the latency. */
  t0 = 0;
  for (i = 0; i < 2; i++) {
    t0 = g_get_monotonic_time ();
    if (imgrec_session_set_input (self->session, 0, IMGREC_DTYPE_FLOAT,
            self->preprocess.dims, 4, self->preprocess.tensor, &eerr) < 0
        || imgrec_session_run (self->session, &eerr) < 0) {
      g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Model \"%s\" cannot run on a %dx%d image: %s", model_path,
          self->config.width, self->config.height, eerr.message);
      goto error;
    }
  }
  t1 = g_get_monotonic_time ();
  self->processing_latency = (t1 - t0) * GST_USECOND;

  if (imgrec_model_n_outputs (self->config.model) < 1
      || imgrec_session_output (self->session, 0, &out_info) == NULL) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has no output.", model_path);
    goto error;
  }
  if (out_info.dtype != IMGREC_DTYPE_FLOAT) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is not a classifier: its output \"%s\" is %s, not "
        "float scores.", model_path, out_info.name ? out_info.name : "0",
        imgrec_dtype_name (out_info.dtype));
    goto error;
  }
  self->n_classes = 1;
  for (d = 0; d < out_info.rank; d++)
    self->n_classes *= out_info.dims[d];
  if (self->n_classes < 1 || self->n_classes > G_MAXINT) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is not a classifier: its first output has %"
        G_GINT64_FORMAT " elements.", model_path, self->n_classes);
    goto error;
  }
  if (self->config.labels != NULL
      && (gint64) self->config.n_labels != self->n_classes) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has %" G_GINT64_FORMAT " classes but %u labels were "
        "given (%s).", model_path, self->n_classes, self->config.n_labels,
        ov.labels_file && *ov.labels_file ? ov.labels_file :
        "imgrec.labels metadata");
    goto error;
  }

  self->class_labels = g_new (const gchar *, self->n_classes);
  for (i = 0; i < self->n_classes; i++) {
    if (self->config.labels) {
      self->class_labels[i] = g_intern_string (self->config.labels[i]);
    } else {
      gchar num[32];
      g_snprintf (num, sizeof (num), "%" G_GINT64_FORMAT, i);
      self->class_labels[i] = g_intern_string (num);
    }
  }
  self->scores = g_new0 (gfloat, self->n_classes);
  self->model_name = g_intern_string (self->config.name);
  self->element_name = g_intern_string (GST_OBJECT_NAME (self));

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

  if (self->last_rois == NULL) {
    self->last_rois = g_array_sized_new (FALSE, FALSE,
        sizeof (GstImgRecClassifyResult), 16);
    self->next_rois = g_array_sized_new (FALSE, FALSE,
        sizeof (GstImgRecClassifyResult), 16);
  }
  reset_stream_state (self);

  GST_OBJECT_LOCK (self);
  self->stat_frames = self->stat_inferences = self->stat_qos_skipped = 0;
  self->stat_engine_ns = self->stat_outside_ns = self->stat_total_ns = 0;
  GST_OBJECT_UNLOCK (self);

  GST_INFO_OBJECT (self, "model %s: %dx%dx%d %s, %s, %s, scale %g, mean "
      "%g,%g,%g, std %g,%g,%g, %" G_GINT64_FORMAT " classes, %s labels, "
      "inference %" GST_TIME_FORMAT, model_path, self->config.channels,
      self->config.height, self->config.width,
      self->config.layout == GST_IMGREC_LAYOUT_NCHW ? "NCHW" : "NHWC",
      gst_imgrec_color_order_nick (self->config.color_order),
      gst_imgrec_resize_nick (self->config.resize), self->config.scale,
      self->config.mean[0], self->config.mean[1], self->config.mean[2],
      self->config.std[0], self->config.std[1], self->config.std[2],
      self->n_classes, self->config.labels ? "with" : "without",
      GST_TIME_ARGS (self->processing_latency));

  g_free (model_path);
  g_free (object_class);
  g_free ((gchar *) ov.labels_file);
  g_free ((gchar *) ov.mean);
  g_free ((gchar *) ov.std);
  return TRUE;

error:
  post_error (self, err);
  g_error_free (err);
  free_model_state (self);
  g_free (model_path);
  g_free (object_class);
  g_free ((gchar *) ov.labels_file);
  g_free ((gchar *) ov.mean);
  g_free ((gchar *) ov.std);
  return FALSE;
}

static gboolean
gst_imgrec_classify_stop (GstBaseTransform * trans)
{
  GstImgRecClassify *self = GST_IMGREC_CLASSIFY (trans);

  GST_OBJECT_LOCK (self);
  GST_INFO_OBJECT (self, "%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
      " inferences (%" G_GUINT64_FORMAT " skipped for QoS), engine %"
      GST_TIME_FORMAT ", outside the engine %" GST_TIME_FORMAT,
      self->stat_frames, self->stat_inferences, self->stat_qos_skipped,
      GST_TIME_ARGS (self->stat_engine_ns),
      GST_TIME_ARGS (self->stat_outside_ns));
  GST_OBJECT_UNLOCK (self);
  free_model_state (self);
  if (self->last_rois)
    g_array_set_size (self->last_rois, 0);
  return TRUE;
}

static gboolean
gst_imgrec_classify_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstImgRecClassify *self = GST_IMGREC_CLASSIFY (filter);
  GError *err = NULL;

  if (!self->preprocess_ready) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Caps were set before a model was loaded."), (NULL));
    return FALSE;
  }
  if (!gst_imgrec_preprocess_set_input (&self->preprocess, in_info, &err)) {
    post_error (self, err);
    g_error_free (err);
    return FALSE;
  }
  GST_DEBUG_OBJECT (self, "input %s %dx%d",
      gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (in_info)),
      GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info));
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* per frame                                                                  */

typedef struct {
  guint top_k;
  gfloat threshold;
  GstImgRecSoftmax softmax;
  guint interval;
  gboolean post_messages;
  gboolean qos;
  GstClockTime earliest_time;
} FrameSettings;

/* Turns the model's output into probabilities, the top-k and the decision. */
static void
scores_to_result (GstImgRecClassify * self, const FrameSettings * fs,
    GstImgRecClassifyResult * r)
{
  gfloat *p = self->scores;
  gint64 n = self->n_classes, i;
  gboolean apply = fs->softmax == GST_IMGREC_SOFTMAX_ON;
  guint k = MIN (fs->top_k, (guint) MIN (n, GST_IMGREC_MAX_TOP_K)), m = 0, j;

  if (fs->softmax == GST_IMGREC_SOFTMAX_AUTO) {
    gdouble sum = 0.0;
    for (i = 0; i < n && !apply; i++) {
      if (!(p[i] >= -1e-6f && p[i] <= 1.0f + 1e-6f))
        apply = TRUE;
      sum += p[i];
    }
    if (!apply && fabs (sum - 1.0) > 1e-3)
      apply = TRUE;
  }
  if (apply) {
    gfloat max = p[0];
    gdouble sum = 0.0;
    for (i = 1; i < n; i++)
      max = MAX (max, p[i]);
    for (i = 0; i < n; i++) {
      p[i] = expf (p[i] - max);
      sum += p[i];
    }
    for (i = 0; i < n; i++)
      p[i] = (gfloat) (p[i] / sum);
  }

  /* top-k by insertion into a short sorted list; ties keep the lower id */
  for (i = 0; i < n; i++) {
    gfloat v = p[i];
    if (m == k && !(v > r->top[k - 1].confidence))
      continue;
    j = (m < k) ? m++ : k - 1;
    while (j > 0 && v > r->top[j - 1].confidence) {
      r->top[j] = r->top[j - 1];
      j--;
    }
    r->top[j].class_id = (gint) i;
    r->top[j].confidence = v;
    r->top[j].label = self->class_labels[i];
  }
  r->n_top = m;

  r->flags = GST_IMGREC_RESULT_FLAG_NONE;
  r->confidence = r->top[0].confidence;
  if (r->confidence < fs->threshold) {
    r->class_id = -1;
    r->label = g_intern_static_string (UNKNOWN_LABEL);
    r->flags |= GST_IMGREC_RESULT_FLAG_BELOW_THRESHOLD;
  } else {
    r->class_id = r->top[0].class_id;
    r->label = r->top[0].label;
  }
}

static gboolean
classify_region (GstImgRecClassify * self, const FrameSettings * fs,
    const GstVideoFrame * frame, const GstVideoRectangle * region,
    GstImgRecClassifyResult * r)
{
  imgrec_error eerr;
  gint64 t0, t1, t2;

  t0 = g_get_monotonic_time ();
  if (!gst_imgrec_preprocess_run (&self->preprocess, frame, region)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not convert a %dx%d region for the model.",
            region ? region->w : GST_VIDEO_FRAME_WIDTH (frame),
            region ? region->h : GST_VIDEO_FRAME_HEIGHT (frame)), (NULL));
    return FALSE;
  }
  t1 = g_get_monotonic_time ();
  if (imgrec_session_set_input (self->session, 0, IMGREC_DTYPE_FLOAT,
          self->preprocess.dims, 4, self->preprocess.tensor, &eerr) < 0
      || imgrec_session_run (self->session, &eerr) < 0
      || imgrec_session_output_float (self->session, 0, self->scores,
          self->n_classes, &eerr) != self->n_classes) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Inference failed: %s", eerr.message), (NULL));
    return FALSE;
  }
  t2 = g_get_monotonic_time ();
  GST_LOG_OBJECT (self, "scores[0] %f, engine %" G_GINT64_FORMAT " us, "
      "pre-processing %" G_GINT64_FORMAT " us", self->scores[0], t2 - t1,
      t1 - t0);
  scores_to_result (self, fs, r);

  GST_OBJECT_LOCK (self);
  self->stat_inferences++;
  self->stat_engine_ns += (t2 - t1) * GST_USECOND;
  self->stat_outside_ns += (t1 - t0) * GST_USECOND;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static GstStructure *
result_param (GstImgRecClassify * self, const GstImgRecClassifyResult * r)
{
  return gst_structure_new (GST_IMGREC_CLASSIFICATION_PARAM_NAME,
      "label", G_TYPE_STRING, r->label,
      "class-id", G_TYPE_INT, r->class_id,
      "confidence", G_TYPE_DOUBLE, (gdouble) r->confidence,
      "model", G_TYPE_STRING, self->model_name, NULL);
}

static void
post_result_message (GstImgRecClassify * self, GstBuffer * buf,
    const GstImgRecClassifyResult * r)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GValue labels = G_VALUE_INIT, ids = G_VALUE_INIT, confs = G_VALUE_INIT;
  GValue v = G_VALUE_INIT;
  GstStructure *s;
  guint i;

  gst_value_array_init (&labels, r->n_top);
  gst_value_array_init (&ids, r->n_top);
  gst_value_array_init (&confs, r->n_top);
  for (i = 0; i < r->n_top; i++) {
    g_value_init (&v, G_TYPE_STRING);
    g_value_set_static_string (&v, r->top[i].label);
    gst_value_array_append_and_take_value (&labels, &v);
    memset (&v, 0, sizeof (v));
    g_value_init (&v, G_TYPE_INT);
    g_value_set_int (&v, r->top[i].class_id);
    gst_value_array_append_and_take_value (&ids, &v);
    memset (&v, 0, sizeof (v));
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, r->top[i].confidence);
    gst_value_array_append_and_take_value (&confs, &v);
    memset (&v, 0, sizeof (v));
  }

  s = gst_structure_new ("imgrec-classification",
      "timestamp", G_TYPE_UINT64, pts,
      "stream-time", G_TYPE_UINT64, gst_segment_to_stream_time (&trans->segment,
          GST_FORMAT_TIME, pts),
      "running-time", G_TYPE_UINT64,
      gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME, pts),
      "duration", G_TYPE_UINT64, GST_BUFFER_DURATION (buf),
      "roi-id", G_TYPE_INT, r->roi_id,
      "model", G_TYPE_STRING, self->model_name,
      "label", G_TYPE_STRING, r->label,
      "class-id", G_TYPE_INT, r->class_id,
      "confidence", G_TYPE_DOUBLE, (gdouble) r->confidence, NULL);
  gst_structure_take_value (s, "top-labels", &labels);
  gst_structure_take_value (s, "top-class-ids", &ids);
  gst_structure_take_value (s, "top-confidences", &confs);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Writes a result onto the buffer: classification meta + ROI param. */
static void
attach_result (GstImgRecClassify * self, GstBuffer * buf,
    GstVideoRegionOfInterestMeta * roi, const GstImgRecClassifyResult * r)
{
  GstImgRecClassificationMeta *meta;
  guint i;

  gst_video_region_of_interest_meta_add_param (roi, result_param (self, r));

  meta = gst_buffer_add_imgrec_classification_meta (buf, self->model_name,
      self->element_name);
  gst_imgrec_classification_meta_set_region (meta, roi->id, roi->x, roi->y,
      roi->w, roi->h);
  meta->info.flags = r->flags;
  meta->info.inference_pts = r->inference_pts;
  meta->class_id = r->class_id;
  meta->label = r->label;
  meta->confidence = r->confidence;
  meta->n_top = r->n_top;
  for (i = 0; i < r->n_top; i++)
    meta->top[i] = r->top[i];
}

/* The full-frame ROI an earlier imgrec element added, or a new one with an
 * id no other ROI of the buffer has (ROI ids default to 0). */
static GstVideoRegionOfInterestMeta *
full_frame_roi (GstBuffer * buf, const GstVideoFrame * frame)
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

/* Whether no other ROI of the buffer has the same id. */
static gboolean
roi_id_unique (GstBuffer * buf, GstVideoRegionOfInterestMeta * roi)
{
  GstVideoRegionOfInterestMeta *other;
  gpointer state = NULL;

  while ((other = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    if (other != roi && other->id == roi->id)
      return FALSE;
  }
  return TRUE;
}

static gboolean
roi_selected (GstImgRecClassify * self, GstVideoRegionOfInterestMeta * roi)
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

static const GstImgRecClassifyResult *
find_last_roi (GstImgRecClassify * self, gint roi_id)
{
  guint i;

  for (i = 0; i < self->last_rois->len; i++) {
    const GstImgRecClassifyResult *r =
        &g_array_index (self->last_rois, GstImgRecClassifyResult, i);
    if (r->roi_id == roi_id)
      return r;
  }
  return NULL;
}

static GstFlowReturn
classify_roi_list (GstImgRecClassify * self, const FrameSettings * fs,
    GstBuffer * buf, const GstVideoFrame * frame, gboolean infer_frame,
    gboolean qos_skip)
{
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  GArray *tmp;

  g_array_set_size (self->next_rois, 0);
  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstImgRecClassifyResult r;
    const GstImgRecClassifyResult *prev;
    GstVideoRectangle rect = { roi->x, roi->y, roi->w, roi->h }, clipped;

    if (!roi_selected (self, roi))
      continue;
    /* carrying needs ids that name one region (a tracker's ids) */
    prev = roi_id_unique (buf, roi) ? find_last_roi (self, roi->id) : NULL;
    if (prev && (!infer_frame || qos_skip)) {
      r = *prev;
      r.flags |= GST_IMGREC_RESULT_FLAG_CARRIED;
      if (qos_skip)
        r.flags |= GST_IMGREC_RESULT_FLAG_QOS_SKIPPED;
    } else {
      if (!gst_imgrec_preprocess_clip_region (&self->preprocess, &rect,
              &clipped)) {
        GST_DEBUG_OBJECT (self, "ROI %d (%d,%d %ux%u) is outside the frame, "
            "not classified", roi->id, roi->x, roi->y, roi->w, roi->h);
        continue;
      }
      memset (&r, 0, sizeof (r));
      if (!classify_region (self, fs, frame, &clipped, &r))
        return GST_FLOW_ERROR;
      r.roi_id = roi->id;
      r.inference_pts = GST_BUFFER_PTS (buf);
      if (fs->post_messages)
        post_result_message (self, buf, &r);
    }
    attach_result (self, buf, roi, &r);
    g_array_append_val (self->next_rois, r);
  }
  tmp = self->last_rois;
  self->last_rois = self->next_rois;
  self->next_rois = tmp;
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_imgrec_classify_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstImgRecClassify *self = GST_IMGREC_CLASSIFY (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  GstFlowReturn ret = GST_FLOW_OK;
  GstVideoFrame frame;
  FrameSettings fs;
  GstClockTime running_time;
  gboolean infer_frame, qos_skip = FALSE;
  gint64 start_us = g_get_monotonic_time ();

  if (G_UNLIKELY (!filter->negotiated || !self->preprocess_ready)) {
    GST_ELEMENT_ERROR (self, CORE, NOT_IMPLEMENTED,
        ("No caps were negotiated before the first buffer."), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  GST_OBJECT_LOCK (self);
  fs.top_k = self->top_k;
  fs.threshold = (gfloat) self->threshold;
  fs.softmax = self->softmax;
  fs.interval = self->inference_interval;
  fs.post_messages = self->post_messages;
  fs.qos = self->qos;
  fs.earliest_time = self->earliest_time;
  self->stat_frames++;
  GST_OBJECT_UNLOCK (self);

  infer_frame = (self->frame_count % fs.interval) == 0;
  self->frame_count++;

  running_time = gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  if (infer_frame && fs.qos && GST_CLOCK_TIME_IS_VALID (fs.earliest_time)
      && GST_CLOCK_TIME_IS_VALID (running_time)
      && running_time + self->processing_latency < fs.earliest_time) {
    qos_skip = TRUE;
    GST_DEBUG_OBJECT (self, "frame at running time %" GST_TIME_FORMAT
        " is late (earliest %" GST_TIME_FORMAT "): skipping inference, "
        "carrying the last result", GST_TIME_ARGS (running_time),
        GST_TIME_ARGS (fs.earliest_time));
    GST_OBJECT_LOCK (self);
    self->stat_qos_skipped++;
    GST_OBJECT_UNLOCK (self);
  }

  if (!gst_video_frame_map (&frame, &filter->in_info, buf,
          GST_MAP_READ | GST_VIDEO_FRAME_MAP_FLAG_NO_REF)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not map a video frame for reading."), (NULL));
    return GST_FLOW_ERROR;
  }

  if (self->roi_mode == GST_IMGREC_ROI_LIST) {
    ret = classify_roi_list (self, &fs, buf, &frame, infer_frame, qos_skip);
  } else {
    GstImgRecClassifyResult *r = &self->last;
    GstVideoRegionOfInterestMeta *roi;

    if ((!infer_frame || qos_skip) && self->have_last) {
      r->flags |= GST_IMGREC_RESULT_FLAG_CARRIED;
      if (qos_skip)
        r->flags |= GST_IMGREC_RESULT_FLAG_QOS_SKIPPED;
      else
        r->flags &= ~GST_IMGREC_RESULT_FLAG_QOS_SKIPPED;
      roi = full_frame_roi (buf, &frame);
      r->roi_id = roi->id;
      attach_result (self, buf, roi, r);
    } else if (classify_region (self, &fs, &frame, NULL, r)) {
      self->have_last = TRUE;
      r->inference_pts = GST_BUFFER_PTS (buf);
      roi = full_frame_roi (buf, &frame);
      r->roi_id = roi->id;
      attach_result (self, buf, roi, r);
      if (fs.post_messages)
        post_result_message (self, buf, r);
    } else {
      ret = GST_FLOW_ERROR;
    }
  }
  gst_video_frame_unmap (&frame);

  GST_OBJECT_LOCK (self);
  self->stat_total_ns += (g_get_monotonic_time () - start_us) * GST_USECOND;
  GST_OBJECT_UNLOCK (self);
  return ret;
}

/* ------------------------------------------------------------------------ */
/* events and queries                                                         */

static gboolean
gst_imgrec_classify_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstImgRecClassify *self = GST_IMGREC_CLASSIFY (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_QOS) {
    GstQOSType type;
    gdouble proportion;
    GstClockTimeDiff diff;
    GstClockTime timestamp;

    gst_event_parse_qos (event, &type, &proportion, &diff, &timestamp);
    GST_OBJECT_LOCK (self);
    if (diff > 0)
      self->earliest_time = timestamp + 2 * diff;
    else
      self->earliest_time = timestamp + diff;
    GST_OBJECT_UNLOCK (self);
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->src_event (trans, event);
}

static gboolean
gst_imgrec_classify_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstImgRecClassify *self = GST_IMGREC_CLASSIFY (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
    reset_stream_state (self);
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_imgrec_classify_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstImgRecClassify *self = GST_IMGREC_CLASSIFY (trans);

  if (direction == GST_PAD_SRC && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean live;
    GstClockTime min, max;

    if (!GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
            query))
      return FALSE;
    gst_query_parse_latency (query, &live, &min, &max);
    GST_DEBUG_OBJECT (self, "adding processing latency %" GST_TIME_FORMAT,
        GST_TIME_ARGS (self->processing_latency));
    min += self->processing_latency;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += self->processing_latency;
    gst_query_set_latency (query, live, min, max);
    return TRUE;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
      query);
}

/* ------------------------------------------------------------------------ */
/* properties                                                                 */

static gboolean
running (GstImgRecClassify * self)
{
  return GST_STATE (self) > GST_STATE_READY
      || GST_STATE_PENDING (self) > GST_STATE_READY;
}

static void
gst_imgrec_classify_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecClassify *self = GST_IMGREC_CLASSIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      if (running (self)) {
        GST_OBJECT_UNLOCK (self);
        GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
            ("The model cannot be changed while PAUSED or PLAYING; keeping "
                "\"%s\".", self->model_path), (NULL));
        return;
      }
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
      break;
    case PROP_LABELS:
      g_free (self->labels_file);
      self->labels_file = g_value_dup_string (value);
      break;
    case PROP_MEAN:
      g_free (self->mean);
      self->mean = g_value_dup_string (value);
      break;
    case PROP_STD:
      g_free (self->std);
      self->std = g_value_dup_string (value);
      break;
    case PROP_SCALE:
      self->scale = g_value_get_double (value);
      break;
    case PROP_COLOR_ORDER:
      self->color_order = g_value_get_enum (value);
      break;
    case PROP_RESIZE:
      self->resize = g_value_get_enum (value);
      break;
    case PROP_SCALING:
      self->scaling = g_value_get_enum (value);
      break;
    case PROP_TOP_K:
      self->top_k = g_value_get_uint (value);
      break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_double (value);
      break;
    case PROP_SOFTMAX:
      self->softmax = g_value_get_enum (value);
      break;
    case PROP_INFERENCE_INTERVAL:
      self->inference_interval = g_value_get_uint (value);
      break;
    case PROP_ROI:
      self->roi_mode = g_value_get_enum (value);
      break;
    case PROP_OBJECT_CLASS:
      g_free (self->object_class);
      self->object_class = g_value_dup_string (value);
      break;
    case PROP_THREADS:
      self->threads = g_value_get_uint (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    case PROP_QOS:
      self->qos = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_classify_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstImgRecClassify *self = GST_IMGREC_CLASSIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_LABELS:
      g_value_set_string (value, self->labels_file);
      break;
    case PROP_MEAN:
      g_value_set_string (value, self->mean);
      break;
    case PROP_STD:
      g_value_set_string (value, self->std);
      break;
    case PROP_SCALE:
      g_value_set_double (value, self->scale);
      break;
    case PROP_COLOR_ORDER:
      g_value_set_enum (value, self->color_order);
      break;
    case PROP_RESIZE:
      g_value_set_enum (value, self->resize);
      break;
    case PROP_SCALING:
      g_value_set_enum (value, self->scaling);
      break;
    case PROP_TOP_K:
      g_value_set_uint (value, self->top_k);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    case PROP_SOFTMAX:
      g_value_set_enum (value, self->softmax);
      break;
    case PROP_INFERENCE_INTERVAL:
      g_value_set_uint (value, self->inference_interval);
      break;
    case PROP_ROI:
      g_value_set_enum (value, self->roi_mode);
      break;
    case PROP_OBJECT_CLASS:
      g_value_set_string (value, self->object_class);
      break;
    case PROP_THREADS:
      g_value_set_uint (value, self->threads);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    case PROP_QOS:
      g_value_set_boolean (value, self->qos);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, gst_structure_new ("imgrec-classify-stats",
              "frames", G_TYPE_UINT64, self->stat_frames,
              "inferences", G_TYPE_UINT64, self->stat_inferences,
              "qos-skipped", G_TYPE_UINT64, self->stat_qos_skipped,
              "engine-time", G_TYPE_UINT64, self->stat_engine_ns,
              "preprocess-time", G_TYPE_UINT64, self->stat_outside_ns,
              "total-time", G_TYPE_UINT64, self->stat_total_ns,
              "latency", G_TYPE_UINT64, self->processing_latency, NULL));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_classify_finalize (GObject * object)
{
  GstImgRecClassify *self = GST_IMGREC_CLASSIFY (object);

  free_model_state (self);
  g_free (self->model_path);
  g_free (self->labels_file);
  g_free (self->mean);
  g_free (self->std);
  g_free (self->object_class);
  if (self->last_rois)
    g_array_free (self->last_rois, TRUE);
  if (self->next_rois)
    g_array_free (self->next_rois, TRUE);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_imgrec_classify_class_init (GstImgRecClassifyClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_classify_debug, "imgrecclassify", 0,
      "imgrec CNN classification");

  gobject_class->set_property = gst_imgrec_classify_set_property;
  gobject_class->get_property = gst_imgrec_classify_get_property;
  gobject_class->finalize = gst_imgrec_classify_finalize;

  properties[PROP_MODEL] = g_param_spec_string ("model", "Model",
      "Path of the ONNX classifier (changing it while PAUSED or PLAYING is "
      "refused with a warning)", DEFAULT_MODEL,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_LABELS] = g_param_spec_string ("labels", "Labels file",
      "Path of a file with one class label per line, overriding the model's "
      "imgrec.labels", DEFAULT_LABELS, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_MEAN] = g_param_spec_string ("mean", "Mean",
      "Per-channel mean subtracted after scaling, comma-separated (one value "
      "or one per channel), overriding the model's imgrec.mean (default 0)",
      DEFAULT_MEAN, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_STD] = g_param_spec_string ("std", "Standard deviation",
      "Per-channel divisor applied after the mean, comma-separated, "
      "overriding the model's imgrec.std (default 1)", DEFAULT_STD,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_SCALE] = g_param_spec_double ("scale", "Scale",
      "Factor applied to 8-bit pixel values before mean/std; 0 = the model's "
      "imgrec.scale (default 1/255)", 0.0, G_MAXDOUBLE, DEFAULT_SCALE,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_COLOR_ORDER] = g_param_spec_enum ("color-order",
      "Colour order", "Channel order the model expects",
      GST_TYPE_IMGREC_COLOR_ORDER, DEFAULT_COLOR_ORDER,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_RESIZE] = g_param_spec_enum ("resize", "Resize",
      "How a frame or region is fitted to the model's input size",
      GST_TYPE_IMGREC_RESIZE, DEFAULT_RESIZE, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_SCALING] = g_param_spec_enum ("scaling", "Scaling",
      "Filter used to scale frames to the model's input size",
      GST_TYPE_IMGREC_SCALING, DEFAULT_SCALING, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_TOP_K] = g_param_spec_uint ("top-k", "Top k",
      "Number of best classes kept in the results", 1, GST_IMGREC_MAX_TOP_K,
      DEFAULT_TOP_K, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_THRESHOLD] = g_param_spec_double ("threshold", "Threshold",
      "Below this confidence the label is \"unknown\" and the class id -1 "
      "(the confidence is kept)", 0.0, 1.0, DEFAULT_THRESHOLD,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_SOFTMAX] = g_param_spec_enum ("softmax", "Softmax",
      "Whether to turn the model's scores into probabilities",
      gst_imgrec_softmax_get_type (), DEFAULT_SOFTMAX,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_INFERENCE_INTERVAL] = g_param_spec_uint ("inference-interval",
      "Inference interval", "Run the model on every Nth frame; frames in "
      "between carry the last result, flagged as carried", 1, G_MAXUINT,
      DEFAULT_INFERENCE_INTERVAL, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_ROI] = g_param_spec_enum ("roi", "Regions",
      "What to classify", gst_imgrec_roi_mode_get_type (), DEFAULT_ROI,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_OBJECT_CLASS] = g_param_spec_string ("object-class",
      "Object class", "In roi-list mode, classify only ROIs of these types "
      "(comma-separated roi_type names; empty = all)", DEFAULT_OBJECT_CLASS,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_THREADS] = g_param_spec_uint ("threads", "Threads",
      "Threads for inference and pre-processing (0 = one per CPU)", 0, 1024,
      DEFAULT_THREADS, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_POST_MESSAGES] = g_param_spec_boolean ("post-messages",
      "Post messages", "Post an imgrec-classification element message per "
      "classified region", DEFAULT_POST_MESSAGES,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "Counters since the element started: frames, inferences, qos-skipped, "
      "engine-time (ns in the engine), preprocess-time (ns converting frames "
      "to tensors), total-time (ns in the element per frame, all included), "
      "latency (ns, reported in LATENCY queries)", GST_TYPE_STRUCTURE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);
  /* GstBaseTransform's qos would drop late frames; ours skips inference. */
  g_object_class_override_property (gobject_class, PROP_QOS, "qos");

  gst_element_class_set_static_metadata (element_class,
      "imgrec classifier", "Filter/Analyzer/Video",
      "Classifies frames or regions of interest with an ONNX CNN and attaches "
      "the results as metadata", "imgrec project");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_imgrec_classify_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_imgrec_classify_stop);
  trans_class->transform_ip =
      GST_DEBUG_FUNCPTR (gst_imgrec_classify_transform_ip);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_imgrec_classify_src_event);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_imgrec_classify_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_imgrec_classify_query);
  trans_class->transform_ip_on_passthrough = FALSE;
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_imgrec_classify_set_info);
  filter_class->transform_frame_ip = NULL;

  gst_type_mark_as_plugin_api (GST_TYPE_IMGREC_COLOR_ORDER, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_IMGREC_RESIZE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_IMGREC_SCALING, 0);
  gst_type_mark_as_plugin_api (gst_imgrec_softmax_get_type (), 0);
  gst_type_mark_as_plugin_api (gst_imgrec_roi_mode_get_type (), 0);
}

static void
gst_imgrec_classify_init (GstImgRecClassify * self)
{
  self->scale = DEFAULT_SCALE;
  self->color_order = DEFAULT_COLOR_ORDER;
  self->resize = DEFAULT_RESIZE;
  self->scaling = DEFAULT_SCALING;
  self->top_k = DEFAULT_TOP_K;
  self->threshold = DEFAULT_THRESHOLD;
  self->softmax = DEFAULT_SOFTMAX;
  self->inference_interval = DEFAULT_INFERENCE_INTERVAL;
  self->roi_mode = DEFAULT_ROI;
  self->threads = DEFAULT_THREADS;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->qos = DEFAULT_QOS;
  self->earliest_time = GST_CLOCK_TIME_NONE;
  self->processing_latency = 0;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
  /* GstVideoFilter enables the base class's QoS, which drops late frames;
   * this element keeps every frame and skips inference instead. */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}
