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
 *   `class-id`, `confidence`, `model`, and DL Streamer's `label_id`,
 *   `model_name`, as gvaclassify writes them) on the region's
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
 *   the same tracking id (imgrectrack's `imgrec-track`, imgrecroi's
 *   `tracking-id`, DL Streamer's `object_id`) or, without one, the same ROI
 *   id on the last frame; a region without one, or whose ROI id is not
 *   unique on its buffer, is classified at once.  Tracking ids and ROI ids
 *   are two id spaces kept apart: an untracked region with ROI id 1 never
 *   carries the result of track 1, nor track 1 its.  So `imgrectrack !
 *   imgrecclassify roi=roi-list inference-interval=N` classifies each tracked
 *   object once every N frames and carries the result in between.  A
 *   region wholly outside the frame gets no result, fresh or carried (the
 *   same walk over the selected regions as imgrecseq, imgrecgan and
 *   imgrecdetect: object-class filter, clipped to the frame).
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
#include "gstimgrecproperty.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_classify_debug);
#define GST_CAT_DEFAULT gst_imgrec_classify_debug

#define DEFAULT_MODEL NULL
#define DEFAULT_THRESHOLD 0.0
#define DEFAULT_SOFTMAX GST_IMGREC_SOFTMAX_AUTO
#define DEFAULT_INFERENCE_INTERVAL 1
#define DEFAULT_ROI GST_IMGREC_ROI_FULL_FRAME
#define DEFAULT_OBJECT_CLASS NULL
#define DEFAULT_POST_MESSAGES FALSE
#define DEFAULT_QOS TRUE

#define UNKNOWN_LABEL "unknown"

enum
{
  PROP_MODEL = GST_IMGREC_INFER_PROP_MODEL,
  PROP_LABELS = GST_IMGREC_INFER_PROP_LABELS,
  PROP_MEAN = GST_IMGREC_INFER_PROP_MEAN,
  PROP_STD = GST_IMGREC_INFER_PROP_STD,
  PROP_SCALE = GST_IMGREC_INFER_PROP_SCALE,
  PROP_COLOR_ORDER = GST_IMGREC_INFER_PROP_COLOR_ORDER,
  PROP_RESIZE = GST_IMGREC_INFER_PROP_RESIZE,
  PROP_SCALING = GST_IMGREC_INFER_PROP_SCALING,
  PROP_TOP_K = GST_IMGREC_INFER_PROP_TOP_K,
  PROP_ROI = GST_IMGREC_INFER_PROP_ROI,
  PROP_OBJECT_CLASS = GST_IMGREC_INFER_PROP_OBJECT_CLASS,
  PROP_THREADS = GST_IMGREC_INFER_PROP_THREADS,
  PROP_POST_MESSAGES = GST_IMGREC_INFER_PROP_POST_MESSAGES,
  PROP_MODEL_INSTANCE_ID = GST_IMGREC_INFER_PROP_MODEL_INSTANCE_ID,
  PROP_THRESHOLD = GST_IMGREC_INFER_PROP_LAST,
  PROP_SOFTMAX,
  PROP_INFERENCE_INTERVAL,
  PROP_STATS,
  N_PROPERTIES,
  PROP_QOS = N_PROPERTIES       /* overridden from GstBaseTransform */
};

static GParamSpec *properties[N_PROPERTIES];

#define gst_imgrec_classify_parent_class parent_class
G_DEFINE_TYPE (GstImgRecClassify, gst_imgrec_classify, GST_TYPE_IMGREC_INFER);
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

/* ------------------------------------------------------------------------ */
/* start / stop: model, session, labels                                       */

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
  imgrec_tensor_info out_info;
  GError *err = NULL;
  gchar *model_path, *object_class;
  GstImgRecScaling scaling;
  guint threads;
  gint64 n_classes;
  gint d;

  gst_imgrec_infer_snapshot_overrides (&self->infer, &ov);
  GST_OBJECT_LOCK (self);
  model_path = g_strdup (self->infer.model_path);
  object_class = g_strdup (self->infer.object_class);
  scaling = self->infer.scaling;
  threads = self->infer.threads;
  GST_OBJECT_UNLOCK (self);

  gst_imgrec_infer_free_model (&self->infer);
  gst_imgrec_classes_clear (&self->classes);
  if (!gst_imgrec_model_config_load (&self->infer.config, model_path, &ov,
          &err))
    goto error;

  if (self->infer.config.kind != NULL
      && g_ascii_strcasecmp (self->infer.config.kind, "classifier") != 0) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is a %s model (imgrec.kind); imgrecclassify needs a "
        "classifier.", model_path, self->infer.config.kind);
    goto error;
  }

  if (!gst_imgrec_infer_open_session (&self->infer, model_path, threads,
          scaling, &err))
    goto error;

  /* Two dry runs: the first plans the session (so frames allocate nothing)
   * and tells the output size, the second measures the latency. */
  if (!gst_imgrec_infer_plan (&self->infer, model_path, 2,
          &self->processing_latency, &err))
    goto error;

  if (imgrec_model_n_outputs (self->infer.config.model) < 1
      || imgrec_session_output (self->infer.session, 0, &out_info) == NULL) {
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
  n_classes = 1;
  for (d = 0; d < out_info.rank; d++)
    n_classes *= out_info.dims[d];
  if (n_classes < 1 || n_classes > G_MAXINT) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is not a classifier: its first output has %"
        G_GINT64_FORMAT " elements.", model_path, n_classes);
    goto error;
  }
  if (self->infer.config.labels != NULL
      && (gint64) self->infer.config.n_labels != n_classes) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has %" G_GINT64_FORMAT " classes but %u labels were "
        "given (%s).",
        model_path, n_classes, self->infer.config.n_labels,
        ov.labels_file && *ov.labels_file ? ov.labels_file :
        "imgrec.labels metadata");
    goto error;
  }

  gst_imgrec_classes_init (&self->classes, n_classes,
      self->infer.config.labels);
  gst_imgrec_infer_model_ready (&self->infer, object_class);

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

  GST_INFO_OBJECT (self,
      "model %s: %dx%dx%d %s, %s, %s, scale %g, mean "
      "%g,%g,%g, std %g,%g,%g, %" G_GINT64_FORMAT " classes, %s labels, "
      "inference %" GST_TIME_FORMAT,
      model_path, self->infer.config.channels, self->infer.config.height,
      self->infer.config.width,
      self->infer.config.layout == GST_IMGREC_LAYOUT_NCHW ? "NCHW" : "NHWC",
      gst_imgrec_color_order_nick (self->infer.config.color_order),
      gst_imgrec_resize_nick (self->infer.config.resize),
      self->infer.config.scale, self->infer.config.mean[0],
      self->infer.config.mean[1], self->infer.config.mean[2],
      self->infer.config.std[0], self->infer.config.std[1],
      self->infer.config.std[2], self->classes.n,
      self->infer.config.labels ? "with" : "without",
      GST_TIME_ARGS (self->processing_latency));

  g_free (model_path);
  g_free (object_class);
  gst_imgrec_infer_overrides_clear (&ov);
  return TRUE;

error:
  gst_imgrec_infer_post_error (&self->infer, err);
  g_error_free (err);
  gst_imgrec_infer_free_model (&self->infer);
  gst_imgrec_classes_clear (&self->classes);
  g_free (model_path);
  g_free (object_class);
  gst_imgrec_infer_overrides_clear (&ov);
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
  gst_imgrec_infer_free_model (&self->infer);
  gst_imgrec_classes_clear (&self->classes);
  if (self->last_rois)
    g_array_set_size (self->last_rois, 0);
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
  r->n_top = gst_imgrec_classes_top_k (&self->classes, fs->softmax,
      fs->top_k, r->top);
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
  if (!gst_imgrec_preprocess_run (&self->infer.preprocess, frame, region)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not convert a %dx%d region for the model.",
            region ? region->w : GST_VIDEO_FRAME_WIDTH (frame),
            region ? region->h : GST_VIDEO_FRAME_HEIGHT (frame)), (NULL));
    return FALSE;
  }
  t1 = g_get_monotonic_time ();
  if (imgrec_session_set_input (self->infer.session, 0, IMGREC_DTYPE_FLOAT,
          self->infer.preprocess.dims, 4, self->infer.preprocess.tensor,
          &eerr) < 0
      || imgrec_session_run (self->infer.session, &eerr) < 0
      || imgrec_session_output_float (self->infer.session, 0,
          self->classes.scores, self->classes.n,
          &eerr) != self->classes.n) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Inference failed: %s", eerr.message), (NULL));
    return FALSE;
  }
  t2 = g_get_monotonic_time ();
  GST_LOG_OBJECT (self, "scores[0] %f, engine %" G_GINT64_FORMAT " us, "
      "pre-processing %" G_GINT64_FORMAT " us", self->classes.scores[0], t2 - t1,
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
  return gst_imgrec_roi_param_new (GST_IMGREC_CLASSIFICATION_PARAM_NAME,
      self->infer.model_name, r->label, r->class_id, r->confidence);
}

static void
post_result_message (GstImgRecClassify * self, GstBuffer * buf,
    const GstImgRecClassifyResult * r)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstStructure *s = gst_structure_new_empty ("imgrec-classification");

  gst_imgrec_infer_structure_set_times (&self->infer, s, pts);
  gst_structure_set (s,
      "duration", G_TYPE_UINT64, GST_BUFFER_DURATION (buf),
      "roi-id", G_TYPE_INT, r->roi_id,
      "model", G_TYPE_STRING, self->infer.model_name,
      "label", G_TYPE_STRING, r->label,
      "class-id", G_TYPE_INT, r->class_id,
      "confidence", G_TYPE_DOUBLE, (gdouble) r->confidence, NULL);
  gst_imgrec_classes_structure_set_top (s, r->top, r->n_top);
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

  meta = gst_buffer_add_imgrec_classification_meta (buf, self->infer.model_name,
      self->infer.element_name);
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

static const GstImgRecClassifyResult *
find_last_roi (GstImgRecClassify * self, gint64 key, gboolean tracked)
{
  guint i;

  for (i = 0; i < self->last_rois->len; i++) {
    const GstImgRecClassifyResult *r =
        &g_array_index (self->last_rois, GstImgRecClassifyResult, i);
    if (r->key == key && r->tracked == tracked)
      return r;
  }
  return NULL;
}

static GstFlowReturn
classify_roi_list (GstImgRecClassify * self, const FrameSettings * fs,
    GstBuffer * buf, const GstVideoFrame * frame, gboolean infer_frame,
    gboolean qos_skip)
{
  GArray *regions = g_array_new (FALSE, FALSE, sizeof (GstImgRecRegion));
  GArray *tmp;
  guint k;

  g_array_set_size (self->next_rois, 0);
  gst_imgrec_infer_collect_regions (&self->infer, buf, regions);
  for (k = 0; k < regions->len; k++) {
    GstImgRecRegion *region = &g_array_index (regions, GstImgRecRegion, k);
    GstVideoRegionOfInterestMeta *roi = region->roi;
    GstImgRecClassifyResult r;
    const GstImgRecClassifyResult *prev;
    gboolean tracked;
    gint64 key;

    /* carrying needs ids that name one object: a tracker's id (imgrectrack,
     * imgrecroi, DL Streamer's object_id), else an ROI id unique on the
     * buffer */
    tracked = gst_imgrec_infer_roi_tracking_id (roi, &key);
    if (!tracked)
      key = roi->id;
    prev = (tracked || roi_id_unique (buf, roi)) ? find_last_roi (self, key,
        tracked) : NULL;
    if (prev && (!infer_frame || qos_skip)) {
      r = *prev;
      r.roi_id = roi->id;
      r.flags |= GST_IMGREC_RESULT_FLAG_CARRIED;
      if (qos_skip)
        r.flags |= GST_IMGREC_RESULT_FLAG_QOS_SKIPPED;
    } else {
      memset (&r, 0, sizeof (r));
      if (!classify_region (self, fs, frame, &region->rect, &r)) {
        g_array_free (regions, TRUE);
        return GST_FLOW_ERROR;
      }
      r.roi_id = roi->id;
      r.key = key;
      r.tracked = tracked;
      r.inference_pts = GST_BUFFER_PTS (buf);
      if (fs->post_messages)
        post_result_message (self, buf, &r);
    }
    attach_result (self, buf, roi, &r);
    g_array_append_val (self->next_rois, r);
  }
  g_array_free (regions, TRUE);
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

  if (G_UNLIKELY (!filter->negotiated || !self->infer.preprocess_ready)) {
    GST_ELEMENT_ERROR (self, CORE, NOT_IMPLEMENTED,
        ("No caps were negotiated before the first buffer."), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  GST_OBJECT_LOCK (self);
  fs.top_k = self->infer.top_k;
  fs.threshold = (gfloat) self->threshold;
  fs.softmax = self->softmax;
  fs.interval = self->inference_interval;
  fs.post_messages = self->infer.post_messages;
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

  if (self->infer.roi_mode == GST_IMGREC_ROI_LIST) {
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
      roi = gst_imgrec_infer_full_frame_roi (buf, &frame);
      r->roi_id = roi->id;
      attach_result (self, buf, roi, r);
    } else if (classify_region (self, &fs, &frame, NULL, r)) {
      self->have_last = TRUE;
      r->inference_pts = GST_BUFFER_PTS (buf);
      roi = gst_imgrec_infer_full_frame_roi (buf, &frame);
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

static void
gst_imgrec_classify_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecClassify *self = GST_IMGREC_CLASSIFY (object);

  if (prop_id < GST_IMGREC_INFER_PROP_LAST) {
    G_OBJECT_CLASS (parent_class)->set_property (object, prop_id, value, pspec);
    return;
  }
  GST_OBJECT_LOCK (self);
  if (gst_imgrec_property_refuse_locked (GST_ELEMENT (self), pspec))
    return;
  switch (prop_id) {
    case PROP_THRESHOLD:
      self->threshold = g_value_get_double (value);
      break;
    case PROP_SOFTMAX:
      self->softmax = g_value_get_enum (value);
      break;
    case PROP_INFERENCE_INTERVAL:
      self->inference_interval = g_value_get_uint (value);
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

  if (prop_id < GST_IMGREC_INFER_PROP_LAST) {
    G_OBJECT_CLASS (parent_class)->get_property (object, prop_id, value, pspec);
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    case PROP_SOFTMAX:
      g_value_set_enum (value, self->softmax);
      break;
    case PROP_INFERENCE_INTERVAL:
      g_value_set_uint (value, self->inference_interval);
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
  properties[PROP_LABELS] = gst_imgrec_infer_param_spec (PROP_LABELS);
  properties[PROP_MEAN] = gst_imgrec_infer_param_spec (PROP_MEAN);
  properties[PROP_STD] = gst_imgrec_infer_param_spec (PROP_STD);
  properties[PROP_SCALE] = gst_imgrec_infer_param_spec (PROP_SCALE);
  properties[PROP_COLOR_ORDER] = gst_imgrec_infer_param_spec (PROP_COLOR_ORDER);
  properties[PROP_RESIZE] = gst_imgrec_infer_param_spec (PROP_RESIZE);
  properties[PROP_SCALING] = gst_imgrec_infer_param_spec (PROP_SCALING);
  properties[PROP_TOP_K] = gst_imgrec_infer_param_spec (PROP_TOP_K);
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
  properties[PROP_THREADS] = gst_imgrec_infer_param_spec (PROP_THREADS);
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
  properties[PROP_MODEL_INSTANCE_ID] =
      gst_imgrec_infer_param_spec (PROP_MODEL_INSTANCE_ID);
  gst_imgrec_infer_install_properties (gobject_class, N_PROPERTIES, properties);
  /* GstBaseTransform's qos would drop late frames; ours skips inference. */
  g_object_class_override_property (gobject_class, PROP_QOS, "qos");

  gst_element_class_set_static_metadata (element_class,
      "imgrec classifier", "Filter/Analyzer/Video",
      "Classifies frames or regions of interest with an ONNX CNN and attaches "
      "the results as metadata", "imgrec project");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_imgrec_classify_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_imgrec_classify_stop);
  trans_class->transform_ip =
      GST_DEBUG_FUNCPTR (gst_imgrec_classify_transform_ip);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_imgrec_classify_src_event);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_imgrec_classify_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_imgrec_classify_query);

  gst_type_mark_as_plugin_api (gst_imgrec_softmax_get_type (), 0);
  gst_type_mark_as_plugin_api (gst_imgrec_roi_mode_get_type (), 0);
}

static void
gst_imgrec_classify_init (GstImgRecClassify * self)
{
  self->infer.roi_mode = DEFAULT_ROI;
  self->infer.post_messages = DEFAULT_POST_MESSAGES;
  self->threshold = DEFAULT_THRESHOLD;
  self->softmax = DEFAULT_SOFTMAX;
  self->inference_interval = DEFAULT_INFERENCE_INTERVAL;
  self->qos = DEFAULT_QOS;
  self->earliest_time = GST_CLOCK_TIME_NONE;
  self->processing_latency = 0;
}
