/* imgrecdetect: object detection with ONNX detectors.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrecdetect
 * @title: imgrecdetect
 *
 * Finds objects in each video frame — or inside each upstream region of
 * interest — with an ONNX object detector run by the imgrec engine on the
 * CPU, and attaches them to the buffer in frame coordinates.  The video
 * passes through unchanged.  Per object:
 *
 * - a #GstVideoRegionOfInterestMeta whose roi_type is the object's label,
 *   with a unique id on the buffer and, in roi-list mode, the searched
 *   region's id as parent_id; its box is the detection rounded outwards to
 *   whole pixels and clipped to the frame (roi-list: to the region);
 * - on that ROI, DL Streamer's `detection` structure (`x_min`, `y_min`,
 *   `x_max`, `y_max` normalised to 0–1 of the frame, `confidence`,
 *   `label_id`, `label`), so DL Streamer elements downstream read it, and
 *   imgrec's `imgrec-detection` structure (`label`, `class-id`,
 *   `confidence`, `model`, `parent-id`);
 * - a #GstImgRecDetectionMeta (libgstimgrec-1.0, GObject-introspected):
 *   class, label, confidence, sub-pixel box in frame pixels, parent region.
 *
 * ## Detector outputs
 *
 * The decoder comes from #GstImgRecDetect:decoder, else from the model's
 * `imgrec.detector` key, else from the output shapes; when the shapes fit
 * several layouts the element refuses to start and says which to set.
 *
 * - `yolov5` (also YOLOv7): one output `[1,N,5+C]`, rows of centre x,
 *   centre y, width, height (input pixels), objectness, C class scores;
 *   confidence = objectness × best class score.
 * - `yolov8` (also YOLOv11): one output `[1,4+C,N]` (as exported by
 *   Ultralytics) or `[1,N,4+C]`: centre x, centre y, width, height, C class
 *   scores; confidence = best class score.
 * - `ssd`: boxes `[1,N,4]` and scores `[1,N,C]` (outputs named box/loc and
 *   score/conf, else by shape).  Boxes are corners normalised to 0–1 by
 *   default; with prior boxes (`imgrec.ssd-priors`) they are offsets
 *   decoded with the priors and `imgrec.ssd-variances`.  Class 0 is the
 *   background when `imgrec.detector-background` says so, or when the
 *   labels are one fewer than the scores.
 * - `nms-done`: models that ran NMS themselves — rows `[N,6]` (x_min,
 *   y_min, x_max, y_max, score, class; YOLOv10 and end-to-end exports),
 *   rows `[1,1,N,7]` (image id, class, score, x_min, y_min, x_max, y_max
 *   normalised; OpenVINO DetectionOutput, a negative image id ends the
 *   list), or torchvision's `boxes [N,4]`, `labels [N]`, `scores [N]`.
 *
 * Extra model keys: `imgrec.detector-box` (`cxcywh`, `xyxy`, `yxyx`),
 * `imgrec.detector-units` (`pixels`, `normalized`),
 * `imgrec.detector-activation` (`none`, `sigmoid`, `softmax`: for raw
 * logits), `imgrec.detector-background` (`true`/`false`).  Labels come from
 * the `labels` property, `imgrec.labels`, or Ultralytics' `names` key; their
 * number must match the model's classes.
 *
 * ## Pre- and post-processing
 *
 * Frames are fitted to the model input as the model's `imgrec.resize` or
 * the `resize` property says; detectors default to `letterbox` (aspect
 * kept, padded with #GstImgRecDetect:pad-value, 114 like Ultralytics).  The
 * boxes are mapped back through the exact inverse of that placement, also
 * for regions (roi-list) and odd sizes.  Then: confidence threshold
 * (#GstImgRecDetect:threshold, per class with
 * #GstImgRecDetect:class-thresholds), #GstImgRecDetect:classes filter (the
 * best of the wanted classes), clipping, #GstImgRecDetect:min-size, NMS
 * (#GstImgRecDetect:iou-threshold; per class unless
 * #GstImgRecDetect:class-agnostic), at most #GstImgRecDetect:max-detections
 * per searched region, best first.  Candidates with NaN or infinite scores
 * or boxes are dropped.
 *
 * With #GstImgRecDetect:inference-interval N, the detector runs on every
 * Nth frame; frames in between carry no detections (imgrectrack moves its
 * tracks by prediction there).
 *
 * ## Messages
 *
 * With #GstImgRecDetect:post-messages, an element message
 * `imgrec-detections` is posted for every searched region of an inferred
 * frame: `timestamp`, `stream-time`, `running-time`, `duration` (guint64
 * ns), `region-id` (int: the searched ROI's id, -1 for the whole frame),
 * `model` (string), `count` (uint), and per object, best first, the
 * arrays (GstValueArray) `roi-ids` (int), `labels` (string), `class-ids`
 * (int), `confidences`, `x-min`, `y-min`, `x-max`, `y-max` (double, frame
 * pixels).
 *
 * Errors (no model, an input that is not an image, output shapes that fit
 * no decoder or the chosen one, labels that do not match the class count,
 * bad property values) are one sentence posted with GST_ELEMENT_ERROR when
 * going from READY to PAUSED.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *     imgrecdetect model=yolov8n.onnx threshold=0.3 ! imgrectrack ! \
 *     imgrecoverlay ! videoconvert ! autovideosink
 * ]| Finds and follows objects in a video, showing boxes, labels and ids.
 * |[
 * gst-launch-1.0 v4l2src ! imgrecdetect model=cars.onnx ! \
 *     imgrecdetect model=plates.onnx roi=roi-list object-class=car ! \
 *     imgrecjson location=- ! fakesink
 * ]| Finds plates inside each car.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecdetect.h"
#include "gstimgrecdetectmeta.h"
#include "gstimgrecproperty.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_detect_debug);
#define GST_CAT_DEFAULT gst_imgrec_detect_debug

#define DEFAULT_DECODER IMGREC_DECODER_AUTO
#define DEFAULT_THRESHOLD 0.25
#define DEFAULT_IOU_THRESHOLD 0.45
#define DEFAULT_CLASS_AGNOSTIC FALSE
#define DEFAULT_MAX_DETECTIONS 300
#define DEFAULT_MIN_SIZE 0
#define DEFAULT_PAD_VALUE 114
#define DEFAULT_INFERENCE_INTERVAL 1
#define DEFAULT_ROI GST_IMGREC_DETECT_ROI_FULL_FRAME

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
  PROP_ROI = GST_IMGREC_INFER_PROP_ROI,
  PROP_OBJECT_CLASS = GST_IMGREC_INFER_PROP_OBJECT_CLASS,
  PROP_THREADS = GST_IMGREC_INFER_PROP_THREADS,
  PROP_POST_MESSAGES = GST_IMGREC_INFER_PROP_POST_MESSAGES,
  PROP_MODEL_INSTANCE_ID = GST_IMGREC_INFER_PROP_MODEL_INSTANCE_ID,
  PROP_DECODER = GST_IMGREC_INFER_PROP_LAST,
  PROP_THRESHOLD,
  PROP_CLASS_THRESHOLDS,
  PROP_IOU_THRESHOLD,
  PROP_CLASS_AGNOSTIC,
  PROP_MAX_DETECTIONS,
  PROP_MIN_SIZE,
  PROP_CLASSES,
  PROP_PAD_VALUE,
  PROP_INFERENCE_INTERVAL,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

#define gst_imgrec_detect_parent_class parent_class
G_DEFINE_TYPE (GstImgRecDetect, gst_imgrec_detect, GST_TYPE_IMGREC_INFER);
GST_ELEMENT_REGISTER_DEFINE (imgrecdetect, "imgrecdetect", GST_RANK_NONE,
    GST_TYPE_IMGREC_DETECT);

static GType
gst_imgrec_decoder_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {IMGREC_DECODER_AUTO, "The model's imgrec.detector key, else the output "
          "shapes", "auto"},
    {IMGREC_DECODER_YOLOV5, "YOLOv5/v7: [1,N,5+C] (box, objectness, class "
          "scores)", "yolov5"},
    {IMGREC_DECODER_YOLOV8, "YOLOv8/v11: [1,4+C,N] or [1,N,4+C] (box, class "
          "scores)", "yolov8"},
    {IMGREC_DECODER_SSD, "SSD: boxes [1,N,4] and scores [1,N,C]", "ssd"},
    {IMGREC_DECODER_NMS_DONE, "Already suppressed: [N,6] or [1,1,N,7] rows, "
          "or boxes/labels/scores", "nms-done"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecDecoder", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GType
gst_imgrec_detect_roi_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_DETECT_ROI_FULL_FRAME, "Search the whole frame", "full-frame"},
    {GST_IMGREC_DETECT_ROI_LIST, "Search inside each upstream "
          "GstVideoRegionOfInterestMeta (filtered by object-class)",
        "roi-list"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecDetectRoiMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------------ */
/* start: model, decoder, classes                                             */

static void
free_running (GstImgRecDetect * self)
{
  gint i;

  for (i = 0; i < IMGREC_DETECT_MAX_OUTPUTS; i++) {
    g_clear_pointer (&self->out_data[i], g_free);
    self->out_cap[i] = 0;
  }
  g_clear_pointer (&self->cands, g_free);
  g_clear_pointer (&self->nms_scratch, g_free);
  g_clear_pointer (&self->priors, g_free);
  g_clear_pointer (&self->labels, g_free);
  g_clear_pointer (&self->class_thr, g_free);
  g_clear_pointer (&self->class_enabled, g_free);
  self->cand_cap = 0;
  self->n_class_labels = 0;
  self->n_class_params = 0;
  self->n_outputs = 0;
}

/* Ultralytics' `names` key: "{0: 'person', 1: 'bicycle', ...}". */
static gchar **
parse_ultralytics_names (const gchar * text)
{
  GPtrArray *names = g_ptr_array_new ();
  const gchar *p = text;
  gint64 expect = 0;

  while ((p = strchr (p, ':')) != NULL) {
    const gchar *q = p - 1, *start, *end;
    gchar quote;
    gint64 idx;
    while (q > text && g_ascii_isspace (*q))
      q--;
    while (q > text && g_ascii_isdigit (*(q - 1)))
      q--;
    idx = g_ascii_strtoll (q, NULL, 10);
    p++;
    while (g_ascii_isspace (*p))
      p++;
    quote = *p;
    if ((quote != '\'' && quote != '"') || idx != expect)
      break;
    start = p + 1;
    end = strchr (start, quote);
    if (end == NULL)
      break;
    g_ptr_array_add (names, g_strndup (start, end - start));
    expect++;
    p = end + 1;
  }
  if (names->len == 0) {
    g_ptr_array_free (names, TRUE);
    return NULL;
  }
  g_ptr_array_add (names, NULL);
  return (gchar **) g_ptr_array_free (names, FALSE);
}

static gboolean
parse_choice (const gchar * text, const gchar * const *names, gint * value)
{
  gint i;

  for (i = 0; names[i]; i++)
    if (g_ascii_strcasecmp (text, names[i]) == 0) {
      *value = i;
      return TRUE;
    }
  return FALSE;
}

/* The decoder request from the property and the model's keys. */
static gboolean
build_request (GstImgRecDetect * self, imgrec_decoder_kind kind,
    imgrec_decoder_request * req, const gchar * model_path, GError ** err)
{
  const imgrec_model *m = self->infer.config.model;
  const gchar *s;
  static const gchar *const boxes[] = { "auto", "cxcywh", "xyxy", "yxyx", NULL };
  static const gchar *const units[] = { "auto", "pixels", "normalized", NULL };
  static const gchar *const acts[] = { "auto", "none", "sigmoid", "softmax",
    NULL
  };
  gint v;

  memset (req, 0, sizeof (*req));
  req->background = -1;
  req->kind = kind;
  if (kind == IMGREC_DECODER_AUTO
      && (s = imgrec_model_metadata_lookup (m, "imgrec.detector")) != NULL) {
    gint k = imgrec_decoder_kind_from_name (s);
    if (k < 0) {
      g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Model \"%s\" names the unknown decoder \"%s\" (imgrec.detector); "
          "known: yolov5, yolov7, yolov8, yolov11, ssd, nms-done.",
          model_path, s);
      return FALSE;
    }
    req->kind = k;
  }
#define CHOICE(key, table, field, type) \
  if ((s = imgrec_model_metadata_lookup (m, key)) != NULL) { \
    if (!parse_choice (s, table, &v)) { \
      g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, \
          "Model \"%s\" has an unknown %s value \"%s\".", model_path, key, s); \
      return FALSE; \
    } \
    req->field = (type) v; \
  }
  CHOICE ("imgrec.detector-box", boxes, box_format, imgrec_box_format);
  CHOICE ("imgrec.detector-units", units, box_units, imgrec_box_units);
  CHOICE ("imgrec.detector-activation", acts, activation, imgrec_activation);
#undef CHOICE
  if ((s = imgrec_model_metadata_lookup (m, "imgrec.detector-background"))) {
    if (g_ascii_strcasecmp (s, "true") == 0 || strcmp (s, "1") == 0)
      req->background = 1;
    else if (g_ascii_strcasecmp (s, "false") == 0 || strcmp (s, "0") == 0)
      req->background = 0;
    else {
      g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Model \"%s\" has imgrec.detector-background \"%s\"; expected true "
          "or false.", model_path, s);
      return FALSE;
    }
  }
  if ((s = imgrec_model_metadata_lookup (m, "imgrec.ssd-priors"))) {
    gchar **parts = g_strsplit_set (s, ", \n", -1);
    guint n = 0, i;
    self->priors = g_new (gfloat, g_strv_length (parts) + 1);
    for (i = 0; parts[i]; i++) {
      gchar *end;
      if (*parts[i] == '\0')
        continue;
      self->priors[n] = (gfloat) g_ascii_strtod (parts[i], &end);
      if (*end != '\0' || !isfinite (self->priors[n])) {
        g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "Model \"%s\" has a value \"%s\" in imgrec.ssd-priors that is not "
            "a number.", model_path, parts[i]);
        g_strfreev (parts);
        return FALSE;
      }
      n++;
    }
    g_strfreev (parts);
    if (n == 0 || n % 4 != 0) {
      g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Model \"%s\" has %u numbers in imgrec.ssd-priors; expected 4 per "
          "prior box (cx, cy, w, h).", model_path, n);
      return FALSE;
    }
    req->priors = self->priors;
    req->n_priors = n / 4;
    req->variances[0] = req->variances[1] = 0.1f;
    req->variances[2] = req->variances[3] = 0.2f;
    if ((s = imgrec_model_metadata_lookup (m, "imgrec.ssd-variances"))) {
      guint nv = 0;
      if (!gst_imgrec_parse_float_list (s, req->variances, 4, &nv) || nv != 4) {
        g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "Model \"%s\" has imgrec.ssd-variances \"%s\"; expected four "
            "numbers.", model_path, s);
        return FALSE;
      }
    }
  }
  return TRUE;
}

/* Class id of a name in the class-thresholds / classes properties: a label
 * or a number; -1 if neither. */
static gint64
class_by_name (GstImgRecDetect * self, const gchar * name)
{
  gint64 i;
  gchar *end;

  for (i = 0; i < self->n_class_labels; i++)
    if (self->labels[i] && strcmp (self->labels[i], name) == 0)
      return i;
  i = g_ascii_strtoll (name, &end, 10);
  if (*name && *end == '\0' && i >= 0
      && (self->dec.n_classes < 0 || i < self->dec.n_classes))
    return i;
  return -1;
}

/* Per-class thresholds ("person=0.5,car=0.3,2=0.4") and the classes filter
 * ("person,car") into the arrays the decoder reads. */
static gboolean
build_class_params (GstImgRecDetect * self, const gchar * thresholds,
    const gchar * classes, GError ** err)
{
  gint64 n = self->dec.n_classes >= 0 ? self->dec.n_classes : 4096, i;
  gchar **parts;

  self->n_class_params = n;
  if (thresholds && *thresholds) {
    self->class_thr = g_new (gfloat, n);
    for (i = 0; i < n; i++)
      self->class_thr[i] = NAN;
    parts = g_strsplit (thresholds, ",", -1);
    for (i = 0; parts[i]; i++) {
      gchar *item = g_strstrip (parts[i]), *eq = strchr (item, '='), *end;
      gdouble v;
      gint64 c;
      if (*item == '\0')
        continue;
      if (eq == NULL) {
        g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "class-thresholds entry \"%s\" is not class=threshold.", item);
        g_strfreev (parts);
        return FALSE;
      }
      *eq = '\0';
      v = g_ascii_strtod (g_strstrip (eq + 1), &end);
      c = class_by_name (self, g_strstrip (item));
      if (*end != '\0' || !(v >= 0.0 && v <= 1.0) || c < 0) {
        g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            c < 0 ? "class-thresholds names \"%s\", which is neither a label "
            "nor a class number of the model." : "class-thresholds gives "
            "\"%s\" a threshold that is not a number from 0 to 1.", item);
        g_strfreev (parts);
        return FALSE;
      }
      self->class_thr[c] = (gfloat) v;
    }
    g_strfreev (parts);
  }
  if (classes && *classes) {
    self->class_enabled = g_new0 (guint8, n);
    parts = g_strsplit (classes, ",", -1);
    for (i = 0; parts[i]; i++) {
      gchar *item = g_strstrip (parts[i]);
      gint64 c;
      if (*item == '\0')
        continue;
      c = class_by_name (self, item);
      if (c < 0) {
        g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "classes names \"%s\", which is neither a label nor a class "
            "number of the model.", item);
        g_strfreev (parts);
        return FALSE;
      }
      self->class_enabled[c] = 1;
    }
    g_strfreev (parts);
  }
  return TRUE;
}

static void
shape_from_info (imgrec_detect_shape * s, const imgrec_tensor_info * info)
{
  gint d;

  memset (s, 0, sizeof (*s));
  s->name = info->name;
  s->rank = MIN (info->rank, IMGREC_DETECT_MAX_RANK);
  for (d = 0; d < s->rank; d++)
    s->dims[d] = info->dims[d];
  s->is_integer = info->dtype == IMGREC_DTYPE_INT64
      || info->dtype == IMGREC_DTYPE_INT32 || info->dtype == IMGREC_DTYPE_INT16
      || info->dtype == IMGREC_DTYPE_INT8 || info->dtype == IMGREC_DTYPE_UINT8;
}

static gboolean
gst_imgrec_detect_start (GstBaseTransform * trans)
{
  GstImgRecDetect *self = GST_IMGREC_DETECT (trans);
  GstImgRecModelConfig *cfg = &self->infer.config;
  GstImgRecModelOverrides ov;
  imgrec_decoder_request req;
  imgrec_detect_shape declared[IMGREC_DETECT_MAX_OUTPUTS];
  GError *err = NULL;
  gchar *model_path, *object_class, *thresholds, *classes;
  gchar **names = NULL, msg[512];
  GstImgRecScaling scaling;
  imgrec_decoder_kind kind;
  guint threads, pad;
  gint i, n_labels;

  gst_imgrec_infer_snapshot_overrides (&self->infer, &ov);
  GST_OBJECT_LOCK (self);
  model_path = g_strdup (self->infer.model_path);
  object_class = g_strdup (self->infer.object_class);
  scaling = self->infer.scaling;
  threads = self->infer.threads;
  kind = self->decoder_kind;
  thresholds = g_strdup (self->class_thresholds);
  classes = g_strdup (self->classes);
  pad = self->pad_value;
  GST_OBJECT_UNLOCK (self);

  gst_imgrec_infer_free_model (&self->infer);
  free_running (self);
  if (!gst_imgrec_model_config_load (cfg, model_path, &ov, &err))
    goto error;
  if (cfg->kind != NULL && g_ascii_strcasecmp (cfg->kind, "detector") != 0) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is a %s model (imgrec.kind); imgrecdetect needs a "
        "detector.", model_path, cfg->kind);
    goto error;
  }
  /* detectors are trained on letterboxed images */
  if (ov.resize == GST_IMGREC_RESIZE_FROM_MODEL
      && imgrec_model_metadata_lookup (cfg->model, "imgrec.resize") == NULL)
    cfg->resize = GST_IMGREC_RESIZE_LETTERBOX;

  if (!gst_imgrec_infer_open_session (&self->infer, model_path, threads,
          scaling, &err))
    goto error;
  self->infer.preprocess.border_argb = 0xff000000u | (pad << 16) | (pad << 8)
      | pad;
  if (!gst_imgrec_infer_plan (&self->infer, model_path, 1, NULL, &err))
    goto error;

  /* the decoder reads the declared shapes (the run's where undeclared) */
  self->n_outputs = imgrec_model_n_outputs (cfg->model);
  if (self->n_outputs < 1 || self->n_outputs > IMGREC_DETECT_MAX_OUTPUTS) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has %d outputs; a detector has 1 to %d.", model_path,
        self->n_outputs, IMGREC_DETECT_MAX_OUTPUTS);
    goto error;
  }
  for (i = 0; i < self->n_outputs; i++) {
    const imgrec_tensor_info *info = imgrec_model_output (cfg->model, i);
    imgrec_tensor_info run;
    if (info->rank > 0) {
      shape_from_info (&declared[i], info);
    } else if (imgrec_session_output (self->infer.session, i, &run)) {
      shape_from_info (&declared[i], &run);
      declared[i].name = info->name;
    } else {
      memset (&declared[i], 0, sizeof (declared[i]));
    }
  }

  if (!build_request (self, kind, &req, model_path, &err))
    goto error;
  n_labels = cfg->labels ? (gint) cfg->n_labels : 0;
  if (cfg->labels == NULL) {
    const gchar *u = imgrec_model_metadata_lookup (cfg->model, "names");
    if (u && (names = parse_ultralytics_names (u)) != NULL)
      n_labels = (gint) g_strv_length (names);
  }
  req.n_labels = n_labels;
  if (imgrec_decoder_resolve (&self->dec, &req, declared, self->n_outputs,
          msg, sizeof (msg)) < 0) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\": %s", model_path, msg);
    goto error;
  }

  /* labels by reported class id */
  {
    gchar **src = cfg->labels ? cfg->labels : names;
    gint64 n = self->dec.n_classes >= 0 ? self->dec.n_classes
        : (gint64) n_labels;
    self->n_class_labels = n;
    self->labels = g_new0 (const gchar *, MAX (n, 1));
    for (i = 0; i < n; i++) {
      gint64 li = i + self->dec.label_offset;
      if (src && li < n_labels) {
        self->labels[i] = g_intern_string (src[li]);
      } else {
        gchar num[32];
        g_snprintf (num, sizeof (num), "%d", i);
        self->labels[i] = g_intern_string (num);
      }
    }
  }
  if (!build_class_params (self, thresholds, classes, &err))
    goto error;

  gst_imgrec_infer_model_ready (&self->infer, object_class);
  self->frame_count = 0;

  GST_INFO_OBJECT (self, "model %s: %dx%d input, %s, decoder %s%s, %"
      G_GINT64_FORMAT " candidates, %" G_GINT64_FORMAT " classes, %s labels",
      model_path, cfg->width, cfg->height,
      gst_imgrec_resize_nick (cfg->resize),
      imgrec_decoder_kind_name (self->dec.kind),
      self->dec.transposed ? " (transposed)" : "", self->dec.n_candidates,
      self->dec.n_classes, n_labels ? "with" : "without");

  g_strfreev (names);
  g_free (model_path);
  g_free (object_class);
  g_free (thresholds);
  g_free (classes);
  gst_imgrec_infer_overrides_clear (&ov);
  return TRUE;

error:
  gst_imgrec_infer_post_error (&self->infer, err);
  g_error_free (err);
  gst_imgrec_infer_free_model (&self->infer);
  free_running (self);
  g_strfreev (names);
  g_free (model_path);
  g_free (object_class);
  g_free (thresholds);
  g_free (classes);
  gst_imgrec_infer_overrides_clear (&ov);
  return FALSE;
}

static gboolean
gst_imgrec_detect_stop (GstBaseTransform * trans)
{
  GstImgRecDetect *self = GST_IMGREC_DETECT (trans);

  gst_imgrec_infer_free_model (&self->infer);
  free_running (self);
  return TRUE;
}

static gboolean
gst_imgrec_detect_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstImgRecDetect *self = GST_IMGREC_DETECT (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP
      || GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START)
    self->frame_count = 0;      /* the interval restarts on the next frame */
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* ------------------------------------------------------------------------ */
/* per frame                                                                  */

typedef struct {
  gfloat threshold, iou_threshold;
  gboolean class_agnostic, post_messages;
  guint max_detections, min_size, interval;
} FrameSettings;

/* Runs the model on one region and leaves the kept detections, in frame
 * pixels, best first, in self->cands; returns their number or -1. */
static gint64
detect_region (GstImgRecDetect * self, const FrameSettings * fs,
    const GstVideoFrame * frame, const GstVideoRectangle * region)
{
  const float *data[IMGREC_DETECT_MAX_OUTPUTS];
  imgrec_decode_params params = { 0 };
  imgrec_error eerr;
  imgrec_fit fit;
  gint64 n, need;
  gint i;
  gchar msg[512];
  double cx0, cy0, cx1, cy1;
  gint64 t0 = g_get_monotonic_time (), t1, t2;

  if (!gst_imgrec_preprocess_run (&self->infer.preprocess, frame, region)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not convert a %dx%d region for the model.",
            region ? region->w : GST_VIDEO_FRAME_WIDTH (frame),
            region ? region->h : GST_VIDEO_FRAME_HEIGHT (frame)), (NULL));
    return -1;
  }
  t1 = g_get_monotonic_time ();
  if (imgrec_session_set_input (self->infer.session, 0, IMGREC_DTYPE_FLOAT,
          self->infer.preprocess.dims, 4, self->infer.preprocess.tensor,
          &eerr) < 0 || imgrec_session_run (self->infer.session, &eerr) < 0) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Inference failed: %s", eerr.message), (NULL));
    return -1;
  }
  t2 = g_get_monotonic_time ();

  /* the outputs as floats, in buffers that only grow (dynamic counts) */
  for (i = 0; i < self->n_outputs; i++) {
    imgrec_tensor_info info;
    gint64 count = 1;
    gint d;
    if (i != self->dec.out_main && i != self->dec.out_scores
        && i != self->dec.out_labels) {
      data[i] = NULL;
      continue;
    }
    if (imgrec_session_output (self->infer.session, i, &info) == NULL) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("The detector gave no output %d.", i), (NULL));
      return -1;
    }
    shape_from_info (&self->shapes[i], &info);
    for (d = 0; d < info.rank; d++)
      count *= info.dims[d];
    if (count > self->out_cap[i]) {
      g_free (self->out_data[i]);
      self->out_data[i] = g_try_new (gfloat, MAX (count, 1));
      self->out_cap[i] = self->out_data[i] ? count : 0;
      if (self->out_data[i] == NULL) {
        GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
            ("Could not allocate %" G_GINT64_FORMAT " values for the "
                "detector's output.", count), (NULL));
        return -1;
      }
    }
    if (count > 0 && imgrec_session_output_float (self->infer.session, i,
            self->out_data[i], self->out_cap[i], &eerr) != count) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Could not read the detector's output %d: %s", i, eerr.message),
          (NULL));
      return -1;
    }
    data[i] = self->out_data[i];
  }

  need = imgrec_decoder_max_candidates (&self->dec, self->shapes);
  if (need > self->cand_cap) {
    g_free (self->cands);
    g_free (self->nms_scratch);
    self->cands = g_try_new (imgrec_detection, MAX (need, 1));
    self->nms_scratch = g_try_new (guint8, MAX (need, 1));
    self->cand_cap = (self->cands && self->nms_scratch) ? need : 0;
    if (self->cand_cap == 0) {
      GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
          ("Could not allocate %" G_GINT64_FORMAT " detection candidates.",
              need), (NULL));
      return -1;
    }
  }

  params.threshold = fs->threshold;
  params.class_thresholds = self->class_thr;
  params.class_enabled = self->class_enabled;
  params.n_class_params = self->n_class_params;
  params.model_w = self->infer.config.width;
  params.model_h = self->infer.config.height;
  n = imgrec_decode (&self->dec, data, self->shapes, &params, self->cands,
      self->cand_cap, msg, sizeof (msg));
  if (n < 0) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("%s", msg), (NULL));
    return -1;
  }

  gst_imgrec_preprocess_fit (&self->infer.preprocess, region, &fit);
  if (region) {
    cx0 = region->x;
    cy0 = region->y;
    cx1 = region->x + region->w;
    cy1 = region->y + region->h;
  } else {
    cx0 = cy0 = 0;
    cx1 = GST_VIDEO_FRAME_WIDTH (frame);
    cy1 = GST_VIDEO_FRAME_HEIGHT (frame);
  }
  n = imgrec_detect_map (self->cands, n, &fit, cx0, cy0, cx1, cy1,
      fs->min_size, fs->min_size);
  n = imgrec_nms (self->cands, n, fs->iou_threshold, fs->class_agnostic,
      fs->max_detections, self->nms_scratch);
  GST_LOG_OBJECT (self, "%" G_GINT64_FORMAT " objects; pre-processing %"
      G_GINT64_FORMAT " us, engine %" G_GINT64_FORMAT " us, decoding + NMS %"
      G_GINT64_FORMAT " us", n, t1 - t0, t2 - t1,
      g_get_monotonic_time () - t2);
  return n;
}

static const gchar *
label_of (GstImgRecDetect * self, gint class_id)
{
  gchar num[32];

  if (class_id >= 0 && class_id < self->n_class_labels)
    return self->labels[class_id];
  g_snprintf (num, sizeof (num), "%d", class_id);
  return g_intern_string (num);
}

static void
array_append (GValue * array, GType type, gconstpointer value)
{
  GValue v = G_VALUE_INIT;

  g_value_init (&v, type);
  if (type == G_TYPE_INT)
    g_value_set_int (&v, *(const gint *) value);
  else if (type == G_TYPE_DOUBLE)
    g_value_set_double (&v, *(const gdouble *) value);
  else
    g_value_set_static_string (&v, value);
  gst_value_array_append_and_take_value (array, &v);
}

/* Writes the n detections of self->cands onto the buffer; next_id is the
 * next free ROI id. */
static void
attach_detections (GstImgRecDetect * self, const FrameSettings * fs,
    GstBuffer * buf, const GstVideoFrame * frame, gint64 n, gint parent_id,
    gint * next_id)
{
  gdouble fw = GST_VIDEO_FRAME_WIDTH (frame), fh = GST_VIDEO_FRAME_HEIGHT (frame);
  GValue a_roi = G_VALUE_INIT, a_lab = G_VALUE_INIT, a_cls = G_VALUE_INIT,
      a_conf = G_VALUE_INIT, a_x0 = G_VALUE_INIT, a_y0 = G_VALUE_INIT,
      a_x1 = G_VALUE_INIT, a_y1 = G_VALUE_INIT;
  gint64 i;

  if (fs->post_messages) {
    gst_value_array_init (&a_roi, n);
    gst_value_array_init (&a_lab, n);
    gst_value_array_init (&a_cls, n);
    gst_value_array_init (&a_conf, n);
    gst_value_array_init (&a_x0, n);
    gst_value_array_init (&a_y0, n);
    gst_value_array_init (&a_x1, n);
    gst_value_array_init (&a_y1, n);
  }
  for (i = 0; i < n; i++) {
    const imgrec_detection *d = &self->cands[i];
    const gchar *label = label_of (self, d->class_id);
    gint x = (gint) floor (d->x0), y = (gint) floor (d->y0);
    gint w = MAX ((gint) ceil (d->x1) - x, 1), h = MAX ((gint) ceil (d->y1) - y,
        1);
    GstVideoRegionOfInterestMeta *roi;
    GstImgRecDetectionMeta *meta;
    gdouble conf = d->score, x0 = d->x0, y0 = d->y0, x1 = d->x1, y1 = d->y1;

    roi = gst_buffer_add_video_region_of_interest_meta (buf, label, x, y, w, h);
    roi->id = (*next_id)++;
    roi->parent_id = parent_id;
    gst_video_region_of_interest_meta_add_param (roi,
        gst_structure_new (GST_IMGREC_DLS_DETECTION_PARAM_NAME,
            "x_min", G_TYPE_DOUBLE, CLAMP (x0 / fw, 0.0, 1.0),
            "y_min", G_TYPE_DOUBLE, CLAMP (y0 / fh, 0.0, 1.0),
            "x_max", G_TYPE_DOUBLE, CLAMP (x1 / fw, 0.0, 1.0),
            "y_max", G_TYPE_DOUBLE, CLAMP (y1 / fh, 0.0, 1.0),
            "confidence", G_TYPE_DOUBLE, conf,
            "label_id", G_TYPE_INT, d->class_id,
            "label", G_TYPE_STRING, label, NULL));
    gst_video_region_of_interest_meta_add_param (roi,
        gst_structure_new (GST_IMGREC_DETECTION_PARAM_NAME,
            "label", G_TYPE_STRING, label,
            "class-id", G_TYPE_INT, d->class_id,
            "confidence", G_TYPE_DOUBLE, conf,
            "model", G_TYPE_STRING, self->infer.model_name,
            "parent-id", G_TYPE_INT, parent_id, NULL));

    meta = gst_buffer_add_imgrec_detection_meta (buf, self->infer.model_name,
        self->infer.element_name);
    meta->info.roi_id = roi->id;
    meta->info.x = x;
    meta->info.y = y;
    meta->info.width = w;
    meta->info.height = h;
    meta->info.inference_pts = GST_BUFFER_PTS (buf);
    meta->class_id = d->class_id;
    meta->label = label;
    meta->confidence = d->score;
    meta->x_min = d->x0;
    meta->y_min = d->y0;
    meta->x_max = d->x1;
    meta->y_max = d->y1;
    meta->parent_id = parent_id;

    if (fs->post_messages) {
      array_append (&a_roi, G_TYPE_INT, &roi->id);
      array_append (&a_lab, G_TYPE_STRING, label);
      array_append (&a_cls, G_TYPE_INT, &d->class_id);
      array_append (&a_conf, G_TYPE_DOUBLE, &conf);
      array_append (&a_x0, G_TYPE_DOUBLE, &x0);
      array_append (&a_y0, G_TYPE_DOUBLE, &y0);
      array_append (&a_x1, G_TYPE_DOUBLE, &x1);
      array_append (&a_y1, G_TYPE_DOUBLE, &y1);
    }
  }
  if (fs->post_messages) {
    GstStructure *s = gst_structure_new_empty ("imgrec-detections");
    gst_imgrec_infer_structure_set_times (&self->infer, s, GST_BUFFER_PTS (buf));
    gst_structure_set (s,
        "duration", G_TYPE_UINT64, GST_BUFFER_DURATION (buf),
        "region-id", G_TYPE_INT, parent_id,
        "model", G_TYPE_STRING, self->infer.model_name,
        "count", G_TYPE_UINT, (guint) n, NULL);
    gst_structure_take_value (s, "roi-ids", &a_roi);
    gst_structure_take_value (s, "labels", &a_lab);
    gst_structure_take_value (s, "class-ids", &a_cls);
    gst_structure_take_value (s, "confidences", &a_conf);
    gst_structure_take_value (s, "x-min", &a_x0);
    gst_structure_take_value (s, "y-min", &a_y0);
    gst_structure_take_value (s, "x-max", &a_x1);
    gst_structure_take_value (s, "y-max", &a_y1);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), s));
  }
}

static GstFlowReturn
gst_imgrec_detect_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstImgRecDetect *self = GST_IMGREC_DETECT (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  GstVideoRegionOfInterestMeta *roi;
  GstVideoFrame frame;
  FrameSettings fs;
  gpointer state = NULL;
  gint next_id = 0;
  gboolean infer;
  GstFlowReturn ret = GST_FLOW_OK;

  if (G_UNLIKELY (!filter->negotiated || !self->infer.preprocess_ready)) {
    GST_ELEMENT_ERROR (self, CORE, NOT_IMPLEMENTED,
        ("No caps were negotiated before the first buffer."), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  GST_OBJECT_LOCK (self);
  fs.threshold = (gfloat) self->threshold;
  fs.iou_threshold = (gfloat) self->iou_threshold;
  fs.class_agnostic = self->class_agnostic;
  fs.post_messages = self->infer.post_messages;
  fs.max_detections = self->max_detections;
  fs.min_size = self->min_size;
  fs.interval = MAX (self->inference_interval, 1);
  GST_OBJECT_UNLOCK (self);

  infer = self->frame_count % fs.interval == 0;
  self->frame_count++;
  if (!infer)
    return GST_FLOW_OK;

  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)))
    next_id = MAX (next_id, roi->id + 1);

  if (!gst_video_frame_map (&frame, &filter->in_info, buf,
          GST_MAP_READ | GST_VIDEO_FRAME_MAP_FLAG_NO_REF)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not map a video frame for reading."), (NULL));
    return GST_FLOW_ERROR;
  }

  if (self->infer.roi_mode == GST_IMGREC_DETECT_ROI_LIST) {
    /* the regions first: attaching adds ROIs to the list being walked */
    GArray *regions = g_array_new (FALSE, FALSE, sizeof (GstImgRecRegion));
    guint k;
    gst_imgrec_infer_collect_regions (&self->infer, buf, regions);
    for (k = 0; k < regions->len; k++) {
      GstImgRecRegion *r = &g_array_index (regions, GstImgRecRegion, k);
      gint64 n = detect_region (self, &fs, &frame, &r->rect);
      if (n < 0) {
        ret = GST_FLOW_ERROR;
        break;
      }
      attach_detections (self, &fs, buf, &frame, n, r->roi->id, &next_id);
    }
    g_array_free (regions, TRUE);
  } else {
    gint64 n = detect_region (self, &fs, &frame, NULL);
    if (n < 0)
      ret = GST_FLOW_ERROR;
    else
      attach_detections (self, &fs, buf, &frame, n, -1, &next_id);
  }
  gst_video_frame_unmap (&frame);
  return ret;
}

/* ------------------------------------------------------------------------ */
/* properties                                                                 */

static void
gst_imgrec_detect_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecDetect *self = GST_IMGREC_DETECT (object);

  if (prop_id < GST_IMGREC_INFER_PROP_LAST) {
    G_OBJECT_CLASS (parent_class)->set_property (object, prop_id, value, pspec);
    return;
  }
  GST_OBJECT_LOCK (self);
  if (gst_imgrec_property_refuse_locked (GST_ELEMENT (self), pspec))
    return;
  switch (prop_id) {
    case PROP_DECODER:
      self->decoder_kind = g_value_get_enum (value);
      break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_double (value);
      break;
    case PROP_CLASS_THRESHOLDS:
      g_free (self->class_thresholds);
      self->class_thresholds = g_value_dup_string (value);
      break;
    case PROP_IOU_THRESHOLD:
      self->iou_threshold = g_value_get_double (value);
      break;
    case PROP_CLASS_AGNOSTIC:
      self->class_agnostic = g_value_get_boolean (value);
      break;
    case PROP_MAX_DETECTIONS:
      self->max_detections = g_value_get_uint (value);
      break;
    case PROP_MIN_SIZE:
      self->min_size = g_value_get_uint (value);
      break;
    case PROP_CLASSES:
      g_free (self->classes);
      self->classes = g_value_dup_string (value);
      break;
    case PROP_PAD_VALUE:
      self->pad_value = g_value_get_uint (value);
      break;
    case PROP_INFERENCE_INTERVAL:
      self->inference_interval = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_detect_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstImgRecDetect *self = GST_IMGREC_DETECT (object);

  if (prop_id < GST_IMGREC_INFER_PROP_LAST) {
    G_OBJECT_CLASS (parent_class)->get_property (object, prop_id, value, pspec);
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_DECODER:
      g_value_set_enum (value, self->decoder_kind);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    case PROP_CLASS_THRESHOLDS:
      g_value_set_string (value, self->class_thresholds);
      break;
    case PROP_IOU_THRESHOLD:
      g_value_set_double (value, self->iou_threshold);
      break;
    case PROP_CLASS_AGNOSTIC:
      g_value_set_boolean (value, self->class_agnostic);
      break;
    case PROP_MAX_DETECTIONS:
      g_value_set_uint (value, self->max_detections);
      break;
    case PROP_MIN_SIZE:
      g_value_set_uint (value, self->min_size);
      break;
    case PROP_CLASSES:
      g_value_set_string (value, self->classes);
      break;
    case PROP_PAD_VALUE:
      g_value_set_uint (value, self->pad_value);
      break;
    case PROP_INFERENCE_INTERVAL:
      g_value_set_uint (value, self->inference_interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_detect_finalize (GObject * object)
{
  GstImgRecDetect *self = GST_IMGREC_DETECT (object);

  free_running (self);
  g_free (self->class_thresholds);
  g_free (self->classes);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_imgrec_detect_class_init (GstImgRecDetectClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  guint id;

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_detect_debug, "imgrecdetect", 0,
      "imgrec object detection");

  gobject_class->set_property = gst_imgrec_detect_set_property;
  gobject_class->get_property = gst_imgrec_detect_get_property;
  gobject_class->finalize = gst_imgrec_detect_finalize;

  properties[PROP_MODEL] = g_param_spec_string ("model", "Model",
      "Path of the ONNX object detector (changeable only in NULL or READY)",
      NULL, rw | GST_PARAM_MUTABLE_READY);
  for (id = PROP_LABELS; id <= PROP_SCALING; id++)
    properties[id] = gst_imgrec_infer_param_spec (id);
  properties[PROP_THREADS] = gst_imgrec_infer_param_spec (PROP_THREADS);
  properties[PROP_ROI] = g_param_spec_enum ("roi", "ROI mode",
      "Search the whole frame or inside each upstream region of interest",
      gst_imgrec_detect_roi_mode_get_type (), DEFAULT_ROI,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_OBJECT_CLASS] = g_param_spec_string ("object-class",
      "Object class", "In roi-list mode, the ROI types to search inside "
      "(comma-separated; empty: every ROI)", NULL,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_POST_MESSAGES] = g_param_spec_boolean ("post-messages",
      "Post messages", "Post an imgrec-detections element message per "
      "searched region of every inferred frame", FALSE,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_DECODER] = g_param_spec_enum ("decoder", "Decoder",
      "Layout of the detector's outputs (auto: the model's imgrec.detector "
      "key, else the output shapes)", gst_imgrec_decoder_get_type (),
      DEFAULT_DECODER, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_THRESHOLD] = g_param_spec_double ("threshold",
      "Threshold", "Minimum confidence of a detection", 0.0, 1.0,
      DEFAULT_THRESHOLD, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_CLASS_THRESHOLDS] = g_param_spec_string ("class-thresholds",
      "Class thresholds", "Per-class minimum confidences overriding "
      "threshold, as label=value or class-number=value, comma-separated "
      "(e.g. person=0.5,car=0.3)", NULL, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_IOU_THRESHOLD] = g_param_spec_double ("iou-threshold",
      "IoU threshold", "Non-maximum suppression drops a box that overlaps a "
      "better one by more than this intersection over union", 0.0, 1.0,
      DEFAULT_IOU_THRESHOLD, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_CLASS_AGNOSTIC] = g_param_spec_boolean ("class-agnostic",
      "Class-agnostic NMS", "Suppress overlapping boxes whatever their class "
      "(default: only boxes of the same class)", DEFAULT_CLASS_AGNOSTIC,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MAX_DETECTIONS] = g_param_spec_uint ("max-detections",
      "Max detections", "Most objects kept per searched region, best first "
      "(0 = no bound)", 0, G_MAXINT, DEFAULT_MAX_DETECTIONS,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MIN_SIZE] = g_param_spec_uint ("min-size", "Minimum size",
      "Boxes narrower or shorter than this many frame pixels (after "
      "clipping) are dropped", 0, G_MAXINT, DEFAULT_MIN_SIZE,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_CLASSES] = g_param_spec_string ("classes", "Classes",
      "Only detect these classes (labels or class numbers, comma-separated; "
      "empty: all); a box takes the best of them", NULL,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_PAD_VALUE] = g_param_spec_uint ("pad-value", "Pad value",
      "Grey level of the letterbox padding (114 like Ultralytics)", 0, 255,
      DEFAULT_PAD_VALUE, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_INFERENCE_INTERVAL] = g_param_spec_uint
      ("inference-interval", "Inference interval", "Run the detector on "
      "every Nth frame; frames in between carry no detections", 1, G_MAXINT,
      DEFAULT_INFERENCE_INTERVAL, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MODEL_INSTANCE_ID] =
      gst_imgrec_infer_param_spec (PROP_MODEL_INSTANCE_ID);
  gst_imgrec_infer_install_properties (gobject_class, N_PROPERTIES,
      properties);

  gst_element_class_set_static_metadata (element_class,
      "imgrec object detector", "Filter/Analyzer/Video",
      "Finds objects with ONNX detectors (YOLOv5/v8/v11, SSD, NMS-done "
      "exports) and attaches them as regions of interest",
      "imgrec developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_imgrec_detect_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_imgrec_detect_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_imgrec_detect_sink_event);
  trans_class->transform_ip =
      GST_DEBUG_FUNCPTR (gst_imgrec_detect_transform_ip);

  gst_type_mark_as_plugin_api (gst_imgrec_decoder_get_type (), 0);
  gst_type_mark_as_plugin_api (gst_imgrec_detect_roi_mode_get_type (), 0);
}

static void
gst_imgrec_detect_init (GstImgRecDetect * self)
{
  self->decoder_kind = DEFAULT_DECODER;
  self->threshold = DEFAULT_THRESHOLD;
  self->iou_threshold = DEFAULT_IOU_THRESHOLD;
  self->class_agnostic = DEFAULT_CLASS_AGNOSTIC;
  self->max_detections = DEFAULT_MAX_DETECTIONS;
  self->min_size = DEFAULT_MIN_SIZE;
  self->pad_value = DEFAULT_PAD_VALUE;
  self->inference_interval = DEFAULT_INFERENCE_INTERVAL;
  self->infer.roi_mode = DEFAULT_ROI;
}
