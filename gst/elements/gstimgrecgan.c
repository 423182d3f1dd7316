/* imgrecgan: GAN discriminator scores and generator restoration of frames
 * and regions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrecgan
 * @title: imgrecgan
 *
 * Runs the two halves of a GAN on video, on each frame or on each region of
 * interest (#GstImgRecGan:roi, #GstImgRecGan:object-class, as in
 * imgrecclassify), with the imgrec engine on the CPU.
 *
 * ## mode=discriminate
 *
 * #GstImgRecGan:model is a GAN discriminator (image → realism logit).  Each
 * frame or region gets a realism score, `score` = sigmoid(logit) in [0, 1]:
 *
 * - a #GstImgRecGanMeta with role %GST_IMGREC_GAN_ROLE_DISCRIMINATED
 *   (`score`, `logit`, `anomaly`, `anomaly_reasons`, `sharpness`,
 *   `sharpness_baseline`);
 * - a #GstStructure param named `imgrec-gan` (fields `model`, `mode` =
 *   `discriminate`, `score`, `logit`, `anomaly`, and the decision under
 *   DL Streamer's names: `model_name`, `label` = `anomaly` or `normal`,
 *   `label_id` = 1 or 0, `confidence` = the label's probability;
 *   `anomaly-reasons`, and `sharpness`, `sharpness-baseline` when measured)
 *   on the region's
 *   #GstVideoRegionOfInterestMeta (an `imgrec-full-frame` ROI for the whole
 *   frame, added or reused as imgrecclassify does).
 *
 * **Anomalies.**  Two checks, each with its own state per region, raise it.
 *
 * - `realism`: with #GstImgRecGan:anomaly-threshold above 0, a region whose
 *   score stays below the threshold for #GstImgRecGan:anomaly-frames
 *   consecutive frames enters the anomaly state — a camera covered, or
 *   pointed at something the model never saw.  It leaves it (recovers) when
 *   its score stays at or above threshold + #GstImgRecGan:anomaly-hysteresis
 *   for anomaly-frames consecutive frames; scores in between change nothing,
 *   so a score hovering at the threshold does not flap.
 * - `defocus`: with #GstImgRecGan:defocus-threshold above 0, each region's
 *   lens sharpness is measured on its luma at the frame's own resolution
 *   (the discriminator, at its 32×32 input, cannot see a blur): the frame is
 *   cut into 4×4-pixel blocks, and sharpness = the mean squared difference
 *   between neighbouring block means, in the sharper of the two directions,
 *   divided by the block means' variance — so brightness and contrast
 *   (night, haze, exposure) do not change it, nor does a motion blur, which
 *   smears one direction only (0.15 ms a 1280×720 frame).  It is compared
 *   with the region's own baseline: the running geometric mean of its sharp
 *   frames, time constant #GstImgRecGan:defocus-baseline-frames (each frame
 *   counts while the baseline holds fewer), so a camera that is always soft
 *   is its own normal.  Once the baseline holds 10 frames, a sharpness below
 *   defocus-threshold × baseline for anomaly-frames consecutive frames
 *   enters the state, and at least (defocus-threshold + anomaly-hysteresis) ×
 *   baseline for as many frames leaves it; the baseline learns nothing while
 *   the frame points to defocus or the region is defocused.  Regions with no
 *   detail (block means varying by less than 4 grey levels: a covered lens, a
 *   blank wall) and regions under 8×8 pixels are not measured and count
 *   neither way.
 *
 * The whole frame keeps both states (and its sharpness baseline) whatever
 * ROIs come and go upstream, though its full-frame ROI's id follows their
 * number; an ROI's states live as long as its id appears on every frame.
 *
 * While either state is on, the meta's `anomaly` is %TRUE and its
 * `anomaly_reasons` says which (#GstImgRecGanAnomalyReason).  Each change of
 * either posts an element message named `imgrec-anomaly`:
 *
 * - `anomaly` (#G_TYPE_BOOLEAN): %TRUE when the anomaly began, %FALSE when
 *   the region recovered.
 * - `timestamp`, `stream-time`, `running-time` (#G_TYPE_UINT64): of the frame
 *   that decided the change.
 * - `since` (#G_TYPE_UINT64): PTS of the first of the consecutive frames
 *   that led to the change.
 * - `frames` (#G_TYPE_UINT): how many consecutive frames that was.
 * - `roi-id` (#G_TYPE_INT): id of the region's
 *   #GstVideoRegionOfInterestMeta.
 * - `model` (#G_TYPE_STRING): model name.
 * - `reason` (#G_TYPE_STRING): the check whose state changed, `realism` or
 *   `defocus`.
 * - `score` (#G_TYPE_DOUBLE): the deciding frame's realism score.
 * - `threshold` (#G_TYPE_DOUBLE): the check's threshold, anomaly-threshold
 *   or defocus-threshold (a recovery needed threshold + hysteresis).
 * - `sharpness`, `sharpness-baseline` (#G_TYPE_DOUBLE, `defocus` only): the
 *   deciding frame's sharpness and the baseline it was compared with.
 *
 * The settings of the defocus check are checked when the element starts:
 * defocus-threshold needs mode=discriminate, defocus-threshold +
 * anomaly-hysteresis must not exceed 1 and defocus-baseline-frames must be
 * at least anomaly-frames; otherwise starting fails with an error saying
 * which.
 *
 * ## Result messages
 *
 * With #GstImgRecGan:post-messages (like imgrecclassify and imgrecseq),
 * every region scored or restored on a frame also posts an element message
 * named `imgrec-gan`:
 *
 * - `timestamp`, `stream-time`, `running-time` (#G_TYPE_UINT64): the frame.
 * - `roi-id` (#G_TYPE_INT): the region's #GstVideoRegionOfInterestMeta id.
 * - `model`, `mode` (#G_TYPE_STRING): model name; `discriminate` or
 *   `generate`.
 * - discriminate: `score`, `logit` (#G_TYPE_DOUBLE), `anomaly`
 *   (#G_TYPE_BOOLEAN, the region's anomaly state after this frame),
 *   `anomaly-reasons` (#G_TYPE_STRING, comma-separated, empty when normal),
 *   `sharpness` (#G_TYPE_DOUBLE, -1 when not measured).
 * - generate: `blend` (#G_TYPE_DOUBLE), `restored` (#G_TYPE_BOOLEAN:
 *   %FALSE when the degradation gate left the region untouched),
 *   `degradations` (#G_TYPE_STRING, comma-separated: `dark`,
 *   `low-contrast`, `blurred`, `noisy`; empty when clean or the gate is off),
 *   `brightness`, `contrast`, `sharpness`, `noise` (#G_TYPE_DOUBLE, the
 *   gate's measures; -1 when not measured).
 *
 * ## mode=generate
 *
 * #GstImgRecGan:model is an image-to-image generator (image → image of the
 * same kind, e.g. a restoration GAN).  Each frame or region is fed to it and
 * replaced by its output, scaled back into place;
 * #GstImgRecGan:blend mixes the output with the original pixels (1: the
 * output only; 0: the frame passes unchanged).  Pixels outside the regions
 * are never touched (with chroma-subsampled formats, a region is widened to
 * the chroma grid).  With blend=0 the element does nothing (no inference, no
 * metadata).  Each region gets a #GstImgRecGanMeta with role
 * %GST_IMGREC_GAN_ROLE_RESTORED and an `imgrec-gan` ROI param (`model`,
 * `mode` = `generate`, `blend`, `model_name`, `restored`, `degradations`,
 * `brightness`, `contrast`, `sharpness`, `noise`).
 *
 * **The degradation gate.**  A restorer trained on degraded crops can only
 * damage a clean one, so with any of #GstImgRecGan:gate-min-brightness,
 * #GstImgRecGan:gate-min-contrast, #GstImgRecGan:gate-min-sharpness and
 * #GstImgRecGan:gate-max-noise above 0 a region is restored only when it
 * looks degraded by one of the measures set.  They are taken on the region
 * as the generator sees it (its 8-bit image at the model's input size, e.g.
 * a 32×32 sign crop, so a large sign's blur or noise counts as much as the
 * model is shown of it), on the luma L:
 *
 * - `brightness` = mean of L, grey levels: below gate-min-brightness is
 *   `dark`;
 * - `contrast` = standard deviation of L: below gate-min-contrast is
 *   `low-contrast`;
 * - `sharpness` = mean squared difference of neighbouring pixels in the
 *   blurrier of the two directions over twice the variance (about 0 for a
 *   smooth image, 1 for independent pixels; blind to brightness and
 *   contrast, lowered by a motion blur as by a defocus): below
 *   gate-min-sharpness is `blurred` (a flat region has none and is not
 *   judged by it);
 * - `noise` = Immerkær's estimate of the white noise's standard deviation,
 *   grey levels (the mean absolute difference of two Laplacians, which
 *   cancels smooth gradients): above gate-max-noise is `noisy`.
 *
 * A region found clean is left untouched (no inference) and still gets its
 * meta, with `restored` %FALSE and the measures, so nothing is silent: the
 * meta's `restored`, `degradations` (#GstImgRecGanDegradation) and measures,
 * the ROI param, the JSON and the `imgrec-gan` message say what was decided
 * and why; #GstImgRecGan:stats counts `restored` and `kept` regions.  With
 * every gate property 0 (the default) every region is restored, as before,
 * and the measures are still reported.  A gate property set in
 * mode=discriminate fails the start with an error naming it.
 *
 * ## Models
 *
 * Both take one image input (as imgrecclassify: NCHW or NHWC, 1 or 3
 * channels, fixed size; `imgrec.scale`, `imgrec.mean`, `imgrec.std`,
 * `imgrec.color-order`, `imgrec.resize`, `imgrec.input-layout` apply).
 *
 * - A discriminator has `imgrec.kind` = `gan-discriminator` (or none); its
 *   realism logit is the output named `score`, else the first output, and
 *   must be one value.
 * - A generator has `imgrec.kind` = `gan-generator` or `gan-image-to-image`
 *   (or none); its first output is an NCHW image with 1 or 3 channels whose
 *   value range is `imgrec.output-range` (`lo,hi`, default `-1,1`).  A
 *   noise-to-image generator (imgrecgansrc's kind of model) is refused.
 *
 * Errors — no model, a model of the wrong kind or shape for the mode, bad
 * metadata — are reported with GST_ELEMENT_ERROR when going from READY to
 * PAUSED.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m v4l2src ! videoconvert ! \
 *     imgrecgan model=models/traffic-signs-gan/discriminator.onnx \
 *     anomaly-threshold=0.2 anomaly-frames=15 defocus-threshold=0.2 ! \
 *     imgrecoverlay ! videoconvert ! autovideosink
 * ]| Scores the realism and the sharpness of each camera frame and posts
 * `imgrec-anomaly` messages when either stays low (the sharpness: below a
 * fifth of its usual value) for half a second and when it recovers.
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! \
 *     imgrecgan mode=generate model=restore.onnx roi=roi-list blend=0.8 ! \
 *     videoconvert ! autovideosink
 * ]| Replaces each region of interest found upstream by the generator's
 * restoration of it, mixed 80/20 with the original.
 * |[
 * gst-launch-1.0 ... ! imgrecdetect model=signs.onnx ! \
 *     imgrecgan mode=generate model=traffic-signs-restore.onnx roi=roi-list \
 *     gate-max-noise=7 gate-min-sharpness=0.02 ! imgrecclassify roi=roi-list ...
 * ]| Restores only the detected signs whose 32×32 crop looks noisy or
 * blurred (the driving demo's gate); clean signs reach the classifier as
 * they were.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecgan.h"
#include "gstimgrecfile.h"
#include "gstimgrecproperty.h"
#include "imgrec_sharpness.h"
#include "imgrec_degradation.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_gan_debug);
#define GST_CAT_DEFAULT gst_imgrec_gan_debug

#define DEFAULT_MODEL NULL
#define DEFAULT_MODE GST_IMGREC_GAN_MODE_DISCRIMINATE
#define DEFAULT_ROI GST_IMGREC_GAN_ROI_FULL_FRAME
#define DEFAULT_OBJECT_CLASS NULL
#define DEFAULT_ANOMALY_THRESHOLD 0.0
#define DEFAULT_ANOMALY_FRAMES 5
#define DEFAULT_ANOMALY_HYSTERESIS 0.05
#define DEFAULT_DEFOCUS_THRESHOLD 0.0
#define DEFAULT_DEFOCUS_BASELINE_FRAMES 300
/* The defocus check judges a region once its baseline holds this many frames
 * (or defocus-baseline-frames, when fewer). */
#define DEFOCUS_WARMUP_FRAMES 10
/* The state key of the whole frame (ROI ids are not negative). */
#define FULL_FRAME_KEY G_MININT
#define DEFAULT_BLEND 1.0
/* 0: that measure does not gate (all four 0: every region is restored) */
#define DEFAULT_GATE_MIN_BRIGHTNESS 0.0
#define DEFAULT_GATE_MIN_CONTRAST 0.0
#define DEFAULT_GATE_MIN_SHARPNESS 0.0
#define DEFAULT_GATE_MAX_NOISE 0.0

enum
{
  PROP_MODEL = GST_IMGREC_INFER_PROP_MODEL,
  PROP_ROI = GST_IMGREC_INFER_PROP_ROI,
  PROP_OBJECT_CLASS = GST_IMGREC_INFER_PROP_OBJECT_CLASS,
  PROP_SCALING = GST_IMGREC_INFER_PROP_SCALING,
  PROP_THREADS = GST_IMGREC_INFER_PROP_THREADS,
  PROP_POST_MESSAGES = GST_IMGREC_INFER_PROP_POST_MESSAGES,
  PROP_MODEL_INSTANCE_ID = GST_IMGREC_INFER_PROP_MODEL_INSTANCE_ID,
  PROP_MODE = GST_IMGREC_INFER_PROP_LAST,
  PROP_ANOMALY_THRESHOLD,
  PROP_ANOMALY_FRAMES,
  PROP_ANOMALY_HYSTERESIS,
  PROP_DEFOCUS_THRESHOLD,
  PROP_DEFOCUS_BASELINE_FRAMES,
  PROP_BLEND,
  PROP_GATE_MIN_BRIGHTNESS,
  PROP_GATE_MIN_CONTRAST,
  PROP_GATE_MIN_SHARPNESS,
  PROP_GATE_MAX_NOISE,
  PROP_STATS,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

#define gst_imgrec_gan_parent_class parent_class
G_DEFINE_TYPE (GstImgRecGan, gst_imgrec_gan, GST_TYPE_IMGREC_INFER);
GST_ELEMENT_REGISTER_DEFINE (imgrecgan, "imgrecgan", GST_RANK_NONE,
    GST_TYPE_IMGREC_GAN);

static GType
gst_imgrec_gan_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_GAN_MODE_DISCRIMINATE, "Score realism with a discriminator",
        "discriminate"},
    {GST_IMGREC_GAN_MODE_GENERATE, "Replace with an image-to-image "
          "generator's output", "generate"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecGanMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GType
gst_imgrec_gan_roi_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_GAN_ROI_FULL_FRAME, "The whole frame", "full-frame"},
    {GST_IMGREC_GAN_ROI_LIST, "Each upstream GstVideoRegionOfInterestMeta "
          "(filtered by object-class)", "roi-list"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecGanRoiMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------------ */
/* start / stop                                                               */

static void
clear_slot (GstImgRecGanWriteSlot * slot)
{
  if (slot->gen_to_rgb)
    gst_video_converter_free (slot->gen_to_rgb);
  if (slot->frame_to_rgb)
    gst_video_converter_free (slot->frame_to_rgb);
  if (slot->rgb_to_frame)
    gst_video_converter_free (slot->rgb_to_frame);
  gst_clear_buffer (&slot->generated);
  gst_clear_buffer (&slot->original);
  memset (slot, 0, sizeof (*slot));
}

static void
clear_slots (GstImgRecGan * self)
{
  guint i;

  for (i = 0; i < GST_IMGREC_GAN_WRITE_SLOTS; i++)
    clear_slot (&self->slots[i]);
}

static void
free_model_state (GstImgRecGan * self)
{
  clear_slots (self);
  gst_clear_buffer (&self->gen_buffer);
  gst_imgrec_infer_free_model (&self->infer);
  if (self->states)
    g_array_set_size (self->states, 0);
  if (self->focus_states)
    g_array_set_size (self->focus_states, 0);
}

static gboolean
parse_output_range (GstImgRecGan * self, const gchar * path, GError ** err)
{
  const gchar *s = imgrec_model_metadata_lookup (self->infer.config.model,
      "imgrec.output-range");
  gchar **parts;
  gchar *end0 = NULL, *end1 = NULL;
  gboolean ok;

  self->range_lo = -1.0f;
  self->range_hi = 1.0f;
  if (s == NULL)
    return TRUE;
  parts = g_strsplit (s, ",", -1);
  ok = g_strv_length (parts) == 2;
  if (ok) {
    self->range_lo = (gfloat) g_ascii_strtod (g_strstrip (parts[0]), &end0);
    self->range_hi = (gfloat) g_ascii_strtod (g_strstrip (parts[1]), &end1);
    ok = end0 && *end0 == '\0' && end1 && *end1 == '\0'
        && self->range_hi > self->range_lo;
  }
  g_strfreev (parts);
  if (!ok)
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has an invalid imgrec.output-range \"%s\" (expected "
        "\"lo,hi\" with lo < hi).", path, s);
  return ok;
}

/* Checks the model's outputs for the mode, after a dry run. */
static gboolean
check_outputs (GstImgRecGan * self, const gchar * path, GError ** err)
{
  imgrec_tensor_info out;
  gint64 n = 1;
  gint d;

  if (self->run_mode == GST_IMGREC_GAN_MODE_DISCRIMINATE) {
    self->score_output = imgrec_model_output_index (self->infer.config.model,
        "score");
    if (self->score_output < 0)
      self->score_output = 0;
    if (imgrec_session_output (self->infer.session, self->score_output, &out) ==
        NULL) {
      g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Model \"%s\" has no output.", path);
      return FALSE;
    }
    for (d = 0; d < out.rank; d++)
      n *= out.dims[d];
    if (out.dtype != IMGREC_DTYPE_FLOAT || n != 1) {
      g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Model \"%s\" is not a discriminator: its output \"%s\" has %"
          G_GINT64_FORMAT " values, not one realism logit.", path,
          out.name ? out.name : "0", n);
      return FALSE;
    }
    return TRUE;
  }

  if (imgrec_session_output (self->infer.session, 0, &out) == NULL) {
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has no output.", path);
    return FALSE;
  }
  if (out.dtype != IMGREC_DTYPE_FLOAT || out.rank != 4 || out.dims[0] != 1
      || (out.dims[1] != 1 && out.dims[1] != 3) || out.dims[2] < 1
      || out.dims[3] < 1 || out.dims[2] > 16384 || out.dims[3] > 16384) {
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is not an image-to-image generator: its output \"%s\" "
        "is not an NCHW image [1, 1 or 3, H, W].", path,
        out.name ? out.name : "0");
    return FALSE;
  }
  self->gen_channels = (gint) out.dims[1];
  self->gen_height = (gint) out.dims[2];
  self->gen_width = (gint) out.dims[3];
  gst_video_info_set_format (&self->gen_info, self->gen_channels == 1 ?
      GST_VIDEO_FORMAT_GRAY8 : GST_VIDEO_FORMAT_RGB, self->gen_width,
      self->gen_height);
  self->gen_buffer = gst_buffer_new_allocate (NULL,
      GST_VIDEO_INFO_SIZE (&self->gen_info), NULL);
  return parse_output_range (self, path, err);
}

/* The model's kind decides the clearest error: a generator given to
 * mode=discriminate fails on its kind before its inputs are examined.  The
 * model is acquired as the configuration will acquire it and kept in *held
 * (release it once the configuration holds it), so it is loaded once. */
static gboolean
check_kind_first (GstImgRecGan * self, const gchar * path,
    const gchar * instance_id, imgrec_model ** held, GError ** err)
{
  imgrec_model *model;
  const gchar *kind;
  gboolean ok = TRUE;

  if (!gst_imgrec_file_check (path, "model file", GST_IMGREC_MAX_MODEL_BYTES,
          NULL))
    return TRUE;                /* the loader says what is wrong */
  model = gst_imgrec_model_acquire_for_element (path, instance_id, NULL);
  if (model == NULL)
    return TRUE;                /* the configuration says why */
  kind = imgrec_model_metadata_lookup (model, "imgrec.kind");
  if (self->run_mode == GST_IMGREC_GAN_MODE_DISCRIMINATE && kind != NULL
      && g_ascii_strcasecmp (kind, "gan-discriminator") != 0) {
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is a %s model (imgrec.kind); imgrecgan "
        "mode=discriminate needs a gan-discriminator.", path, kind);
    ok = FALSE;
  } else if (self->run_mode == GST_IMGREC_GAN_MODE_GENERATE && kind != NULL
      && g_ascii_strcasecmp (kind, "gan-generator") != 0
      && g_ascii_strcasecmp (kind, "gan-image-to-image") != 0) {
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is a %s model (imgrec.kind); imgrecgan mode=generate "
        "needs an image-to-image generator (gan-generator or "
        "gan-image-to-image).", path, kind);
    ok = FALSE;
  }
  if (ok)
    *held = model;
  else
    gst_imgrec_model_release (model);
  return ok;
}

/* The defocus check's settings against each other and the mode. */
static gboolean
check_defocus_settings (GstImgRecGan * self, GError ** err)
{
  gdouble threshold, hysteresis;
  guint frames, baseline;
  GstImgRecGanMode mode;

  GST_OBJECT_LOCK (self);
  threshold = self->defocus_threshold;
  hysteresis = self->anomaly_hysteresis;
  frames = self->anomaly_frames;
  baseline = self->defocus_baseline_frames;
  mode = self->mode;
  GST_OBJECT_UNLOCK (self);
  if (threshold <= 0.0)
    return TRUE;
  if (mode != GST_IMGREC_GAN_MODE_DISCRIMINATE)
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "defocus-threshold=%g needs mode=discriminate: the lens check runs "
        "beside the discriminator, not in mode=generate.", threshold);
  else if (threshold + hysteresis > 1.0)
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "defocus-threshold=%g plus anomaly-hysteresis=%g is above 1: a "
        "defocused region would have to be sharper than its own baseline to "
        "recover.", threshold, hysteresis);
  else if (baseline < frames)
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "defocus-baseline-frames=%u is shorter than anomaly-frames=%u: the "
        "baseline would follow a lens going soft before the alarm could "
        "count it.", baseline, frames);
  else
    return TRUE;
  return FALSE;
}

/* The degradation gate belongs to mode=generate. */
static gboolean
check_gate_settings (GstImgRecGan * self, GError ** err)
{
  static const gchar *const names[] = { "gate-min-brightness",
    "gate-min-contrast", "gate-min-sharpness", "gate-max-noise"
  };
  gdouble v[4];
  GstImgRecGanMode mode;
  guint k;

  GST_OBJECT_LOCK (self);
  v[0] = self->gate_min_brightness;
  v[1] = self->gate_min_contrast;
  v[2] = self->gate_min_sharpness;
  v[3] = self->gate_max_noise;
  mode = self->mode;
  GST_OBJECT_UNLOCK (self);
  for (k = 0; k < G_N_ELEMENTS (v); k++)
    if (v[k] > 0.0 && mode != GST_IMGREC_GAN_MODE_GENERATE) {
      g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "%s=%g needs mode=generate: the degradation gate decides which "
          "regions the generator restores.", names[k], v[k]);
      return FALSE;
    }
  return TRUE;
}

static gboolean
gst_imgrec_gan_start (GstBaseTransform * trans)
{
  GstImgRecGan *self = GST_IMGREC_GAN (trans);
  GstImgRecModelOverrides ov;
  GError *err = NULL;
  gchar *model_path, *object_class;
  GstImgRecScaling scaling;
  imgrec_model *held = NULL;
  guint threads;

  gst_imgrec_infer_snapshot_overrides (&self->infer, &ov);
  GST_OBJECT_LOCK (self);
  model_path = g_strdup (self->infer.model_path);
  object_class = g_strdup (self->infer.object_class);
  self->run_mode = self->mode;
  scaling = self->infer.scaling;
  threads = self->infer.threads;
  self->baseline_frames = self->defocus_baseline_frames;
  self->stat_frames = self->stat_inferences = self->stat_anomalies = 0;
  self->stat_restored = self->stat_kept = 0;
  GST_OBJECT_UNLOCK (self);

  free_model_state (self);
  if (!check_defocus_settings (self, &err) || !check_gate_settings (self, &err))
    goto error;
  if (!check_kind_first (self, model_path, ov.model_instance_id, &held, &err))
    goto error;
  if (!gst_imgrec_model_config_load (&self->infer.config, model_path, &ov,
          &err)) {
    gst_imgrec_model_release (held);
    /* name the likely confusion: a noise generator in generate mode */
    if (self->run_mode == GST_IMGREC_GAN_MODE_GENERATE && model_path
        && g_file_test (model_path, G_FILE_TEST_EXISTS)
        && err->domain == GST_RESOURCE_ERROR
        && err->code == GST_RESOURCE_ERROR_SETTINGS) {
      gchar *msg = g_strdup_printf ("%s mode=generate needs an "
          "image-to-image generator (a noise-to-image generator belongs in "
          "imgrecgansrc).", err->message);
      g_free (err->message);
      err->message = msg;
    }
    goto error;
  }
  gst_imgrec_model_release (held);

  if (!gst_imgrec_infer_open_session (&self->infer, model_path, threads,
          scaling, &err))
    goto error;
  /* a dry run plans the session (frames then allocate nothing) */
  if (!gst_imgrec_infer_plan (&self->infer, model_path, 1, NULL, &err))
    goto error;
  if (!check_outputs (self, model_path, &err))
    goto error;

  gst_imgrec_infer_model_ready (&self->infer, object_class);
  if (self->states == NULL) {
    self->states = g_array_sized_new (FALSE, TRUE,
        sizeof (GstImgRecGanAnomalyState), 16);
    self->next_states = g_array_sized_new (FALSE, TRUE,
        sizeof (GstImgRecGanAnomalyState), 16);
    self->focus_states = g_array_sized_new (FALSE, TRUE,
        sizeof (GstImgRecGanFocusState), 16);
    self->next_focus_states = g_array_sized_new (FALSE, TRUE,
        sizeof (GstImgRecGanFocusState), 16);
  }
  g_array_set_size (self->states, 0);
  g_array_set_size (self->focus_states, 0);

  GST_INFO_OBJECT (self, "%s model %s: input %dx%dx%d",
      self->run_mode == GST_IMGREC_GAN_MODE_DISCRIMINATE ? "discriminator" :
      "generator",
      model_path, self->infer.config.channels, self->infer.config.height,
      self->infer.config.width);
  g_free (model_path);
  g_free (object_class);
  gst_imgrec_infer_overrides_clear (&ov);
  return TRUE;

error:
  gst_imgrec_infer_post_error (&self->infer, err);
  g_error_free (err);
  free_model_state (self);
  g_free (model_path);
  g_free (object_class);
  gst_imgrec_infer_overrides_clear (&ov);
  return FALSE;
}

static gboolean
gst_imgrec_gan_stop (GstBaseTransform * trans)
{
  GstImgRecGan *self = GST_IMGREC_GAN (trans);

  GST_OBJECT_LOCK (self);
  GST_INFO_OBJECT (self, "%" G_GUINT64_FORMAT " frames, %" G_GUINT64_FORMAT
      " inferences, %" G_GUINT64_FORMAT " anomalies, %" G_GUINT64_FORMAT
      " regions restored, %" G_GUINT64_FORMAT " left clean",
      self->stat_frames, self->stat_inferences, self->stat_anomalies,
      self->stat_restored, self->stat_kept);
  GST_OBJECT_UNLOCK (self);
  free_model_state (self);
  return TRUE;
}

static gboolean
gst_imgrec_gan_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstImgRecGan *self = GST_IMGREC_GAN (filter);

  clear_slots (self);
  return GST_VIDEO_FILTER_CLASS (parent_class)->set_info (filter, incaps,
      in_info, outcaps, out_info);
}

/* ------------------------------------------------------------------------ */
/* regions                                                                    */

/* A view of a region of a frame: same strides, moved data pointers. */
static void
sub_frame (const GstVideoFrame * frame, const GstVideoRectangle * r,
    GstVideoFrame * sub)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  guint c;

  *sub = *frame;
  sub->info.width = r->w;
  sub->info.height = r->h;
  for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    guint plane = GST_VIDEO_FORMAT_INFO_PLANE (finfo, c);
    gsize offset = (gsize) (r->y >> GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c)) *
        GST_VIDEO_FRAME_PLANE_STRIDE (frame, plane) +
        (gsize) (r->x >> GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c)) *
        GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, c);
    sub->data[plane] = (guint8 *) frame->data[plane] + offset;
  }
}

/* ------------------------------------------------------------------------ */
/* mode=discriminate                                                          */

/* The state of region `key` in an array of GstImgRecGanAnomalyState or
 * GstImgRecGanFocusState (both start with their gint key), or NULL. */
static gpointer
find_keyed_state (GArray * states, gint key)
{
  const guint size = g_array_get_element_size (states);
  guint i;

  for (i = 0; i < states->len; i++) {
    gint *k = (gint *) (states->data + (gsize) i * size);
    if (*k == key)
      return k;
  }
  return NULL;
}

typedef struct {
  gdouble threshold, hysteresis, blend;
  gdouble defocus_threshold;
  gdouble gate_min_brightness, gate_min_contrast, gate_min_sharpness;
  gdouble gate_max_noise;
  guint frames;
  gboolean post_messages;
} FrameSettings;

/* post-messages: one imgrec-gan message per region scored or restored */
static void
post_result (GstImgRecGan * self, GstBuffer * buf, gint roi_id,
    const gchar * mode, GstStructure * s)
{
  gst_imgrec_infer_structure_set_times (&self->infer, s, GST_BUFFER_PTS (buf));
  gst_structure_set (s, "roi-id", G_TYPE_INT, roi_id,
      "model", G_TYPE_STRING, self->infer.model_name,
      "mode", G_TYPE_STRING, mode, NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* What an imgrec-anomaly message reports besides the state change. */
typedef struct {
  GstImgRecGanAnomalyReason reason;
  gfloat score;                 /* the frame's realism score */
  gdouble threshold;            /* of the reason's check */
  gdouble sharpness, baseline;  /* defocus only */
} AnomalyReport;

static void
post_anomaly (GstImgRecGan * self, GstBuffer * buf,
    const GstImgRecGanHysteresis * h, gint roi_id, const AnomalyReport * rep,
    guint frames)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  const gchar *reason = gst_imgrec_gan_anomaly_reasons_to_string (rep->reason);
  GstStructure *s;

  if (h->anomaly) {
    GST_OBJECT_LOCK (self);
    self->stat_anomalies++;
    GST_OBJECT_UNLOCK (self);
  }
  s = gst_structure_new ("imgrec-anomaly",
      "anomaly", G_TYPE_BOOLEAN, h->anomaly, NULL);
  gst_imgrec_infer_structure_set_times (&self->infer, s, pts);
  gst_structure_set (s,
      "since", G_TYPE_UINT64, h->run_start,
      "frames", G_TYPE_UINT, frames,
      "roi-id", G_TYPE_INT, roi_id,
      "model", G_TYPE_STRING, self->infer.model_name,
      "reason", G_TYPE_STRING, reason,
      "score", G_TYPE_DOUBLE, (gdouble) rep->score,
      "threshold", G_TYPE_DOUBLE, rep->threshold, NULL);
  if (rep->reason == GST_IMGREC_GAN_ANOMALY_DEFOCUS)
    gst_structure_set (s, "sharpness", G_TYPE_DOUBLE, rep->sharpness,
        "sharpness-baseline", G_TYPE_DOUBLE, rep->baseline, NULL);
  GST_INFO_OBJECT (self, "region %d: %s (%s) at %" GST_TIME_FORMAT
      " (score %.3f, sharpness %.4f of baseline %.4f)", roi_id,
      h->anomaly ? "anomaly" : "recovered", reason, GST_TIME_ARGS (pts),
      rep->score, rep->sharpness, rep->baseline);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* One frame of a cause's hysteresis: @frames consecutive frames pointing to
 * a change flip the state.  Returns the length of the run that flipped it,
 * 0 when nothing changed. */
static guint
hysteresis_step (GstImgRecGanHysteresis * h, gboolean towards_change,
    GstClockTime pts, guint frames)
{
  guint run;

  if (!towards_change) {
    h->run = 0;
    return 0;
  }
  if (h->run++ == 0)
    h->run_start = pts;
  if (h->run < frames)
    return 0;
  run = h->run;
  h->anomaly = !h->anomaly;
  h->run = 0;
  return run;
}

/* A check switched off leaves its region unflagged. */
static void
hysteresis_off (GstImgRecGan * self, GstBuffer * buf,
    GstImgRecGanHysteresis * h, gint roi_id, const AnomalyReport * rep)
{
  if (!h->anomaly)
    return;
  h->anomaly = FALSE;
  h->run = 0;
  post_anomaly (self, buf, h, roi_id, rep, 0);
}

/* Realism: below the threshold for N frames enters the anomaly state, at
 * or above threshold + hysteresis for N frames leaves it. */
static gboolean
update_anomaly (GstImgRecGan * self, GstBuffer * buf, gint key, gint roi_id,
    gfloat score, const FrameSettings * fs)
{
  GstImgRecGanAnomalyState *prev = find_keyed_state (self->states, key), st;
  AnomalyReport rep = { GST_IMGREC_GAN_ANOMALY_REALISM, score, fs->threshold,
    -1.0, 0.0
  };
  guint run;

  if (prev)
    st = *prev;
  else {
    memset (&st, 0, sizeof (st));
    st.key = key;
    st.h.run_start = GST_CLOCK_TIME_NONE;
  }
  if (fs->threshold <= 0.0) {
    hysteresis_off (self, buf, &st.h, roi_id, &rep);
  } else {
    gboolean towards_change = st.h.anomaly ?
        score >= fs->threshold + fs->hysteresis : score < fs->threshold;
    run = hysteresis_step (&st.h, towards_change, GST_BUFFER_PTS (buf),
        fs->frames);
    if (run)
      post_anomaly (self, buf, &st.h, roi_id, &rep, run);
  }
  g_array_append_val (self->next_states, st);
  return st.h.anomaly;
}

/* The region's luma at the frame's resolution (8-bit formats only: the
 * element's caps). */
static void
luma_view (const GstVideoFrame * frame, const GstVideoRectangle * r,
    imgrec_luma_view * v)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  gint c, n = GST_VIDEO_FORMAT_INFO_IS_RGB (finfo) ? 3 : 1;
  const guint8 *p[3] = { NULL, NULL, NULL };

  for (c = 0; c < n; c++)
    p[c] = (const guint8 *) GST_VIDEO_FRAME_COMP_DATA (frame, c) +
        (gsize) r->y * GST_VIDEO_FRAME_COMP_STRIDE (frame, c) +
        (gsize) r->x * GST_VIDEO_FRAME_COMP_PSTRIDE (frame, c);
  v->r = p[0];
  v->g = p[1];
  v->b = p[2];
  v->pixel_stride = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
  v->row_stride = GST_VIDEO_FRAME_COMP_STRIDE (frame, 0);
  v->width = r->w;
  v->height = r->h;
}

static void
measure_sharpness (GstImgRecGan * self, const GstVideoFrame * frame,
    const GstVideoRectangle * region, imgrec_sharpness_result * out)
{
  GstVideoRectangle whole = { 0, 0, GST_VIDEO_FRAME_WIDTH (frame),
    GST_VIDEO_FRAME_HEIGHT (frame)
  };
  const GstVideoRectangle *r = region ? region : &whole;
  gsize need = imgrec_sharpness_scratch_floats (r->w);
  imgrec_luma_view view;

  if (need > self->sharpness_scratch_len) {
    g_free (self->sharpness_scratch);
    self->sharpness_scratch = g_new (gfloat, need);
    self->sharpness_scratch_len = need;
  }
  luma_view (frame, r, &view);
  imgrec_sharpness_measure (&view, self->sharpness_scratch, out);
}

/* Defocus: a region's sharpness below defocus-threshold times its baseline
 * for N frames enters the anomaly state, at or above (threshold +
 * hysteresis) times it for N frames leaves it.  The baseline is the running
 * geometric mean of the region's sharp frames (every frame while it is
 * young), frozen while the region is defocused; frames without detail count
 * neither way. */
static gboolean
update_defocus (GstImgRecGan * self, GstBuffer * buf, gint key, gint roi_id,
    const imgrec_sharpness_result * m, gfloat score, const FrameSettings * fs,
    gfloat * baseline_out)
{
  GstImgRecGanFocusState *prev = find_keyed_state (self->focus_states, key), st;
  AnomalyReport rep = { GST_IMGREC_GAN_ANOMALY_DEFOCUS, score,
    fs->defocus_threshold, m->sharpness, 0.0
  };
  guint warmup = MIN (self->baseline_frames, DEFOCUS_WARMUP_FRAMES), run;

  if (prev)
    st = *prev;
  else {
    memset (&st, 0, sizeof (st));
    st.key = key;
    st.h.run_start = GST_CLOCK_TIME_NONE;
  }
  if (st.baseline_frames > 0)
    rep.baseline = exp (st.log_baseline);
  if (fs->defocus_threshold <= 0.0) {
    hysteresis_off (self, buf, &st.h, roi_id, &rep);
    st.baseline_frames = 0;     /* switched on again: a new baseline */
  } else if (m->sharpness > 0.0) {
    gboolean ready = st.baseline_frames >= warmup;
    gdouble ratio = ready ? m->sharpness / rep.baseline : 1.0;
    gboolean towards_change = st.h.anomaly ?
        ratio >= fs->defocus_threshold + fs->hysteresis :
        ratio < fs->defocus_threshold;

    if (!st.h.anomaly && ratio >= fs->defocus_threshold) {
      guint k = MIN (st.baseline_frames + 1, self->baseline_frames);
      st.log_baseline += (log (m->sharpness) - st.log_baseline) / k;
      if (st.baseline_frames < G_MAXUINT)
        st.baseline_frames++;
    }
    run = hysteresis_step (&st.h, towards_change, GST_BUFFER_PTS (buf),
        fs->frames);
    if (run)
      post_anomaly (self, buf, &st.h, roi_id, &rep, run);
  } else {
    st.h.run = 0;
  }
  *baseline_out = st.baseline_frames > 0 ? (gfloat) exp (st.log_baseline) :
      0.0f;
  g_array_append_val (self->next_focus_states, st);
  return st.h.anomaly;
}

static gboolean
discriminate_region (GstImgRecGan * self, const FrameSettings * fs,
    GstBuffer * buf, const GstVideoFrame * frame,
    GstVideoRegionOfInterestMeta * roi, const GstVideoRectangle * region)
{
  GstImgRecGanMeta *meta;
  imgrec_error eerr;
  gfloat logit, score, baseline = 0.0f;
  guint reasons = 0;
  imgrec_sharpness_result sharp = { -1.0, 0.0 };
  gboolean anomaly;

  if (!gst_imgrec_preprocess_run (&self->infer.preprocess, frame, region)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not convert a %dx%d region for the model.",
            region ? region->w : GST_VIDEO_FRAME_WIDTH (frame),
            region ? region->h : GST_VIDEO_FRAME_HEIGHT (frame)), (NULL));
    return FALSE;
  }
  if (imgrec_session_set_input (self->infer.session, 0, IMGREC_DTYPE_FLOAT,
          self->infer.preprocess.dims, 4, self->infer.preprocess.tensor,
          &eerr) < 0
      || imgrec_session_run (self->infer.session, &eerr) < 0
      || imgrec_session_output_float (self->infer.session, self->score_output,
          &logit, 1, &eerr) != 1) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Inference failed: %s", eerr.message), (NULL));
    return FALSE;
  }
  score = (gfloat) (1.0 / (1.0 + exp (-(gdouble) logit)));
  /* the whole frame keeps one state whatever ROI id its full-frame ROI gets
   * (imgrecclassify's next free id: it followed the number of detections,
   * so the count of frames below the threshold restarted with it) */
  if (update_anomaly (self, buf, region ? roi->id : FULL_FRAME_KEY, roi->id, score,
          fs))
    reasons |= GST_IMGREC_GAN_ANOMALY_REALISM;
  if (fs->defocus_threshold > 0.0)
    measure_sharpness (self, frame, region, &sharp);
  if (update_defocus (self, buf, region ? roi->id : FULL_FRAME_KEY, roi->id,
          &sharp, score, fs, &baseline))
    reasons |= GST_IMGREC_GAN_ANOMALY_DEFOCUS;
  anomaly = reasons != 0;

  meta = gst_buffer_add_imgrec_gan_meta (buf, GST_IMGREC_GAN_ROLE_DISCRIMINATED,
      self->infer.model_name, self->infer.element_name);
  meta->info.roi_id = roi->id;
  meta->info.x = roi->x;
  meta->info.y = roi->y;
  meta->info.width = roi->w;
  meta->info.height = roi->h;
  meta->score = score;
  meta->logit = logit;
  meta->anomaly = anomaly;
  meta->anomaly_reasons = reasons;
  meta->sharpness = (gfloat) sharp.sharpness;
  meta->sharpness_baseline = baseline;
  gst_video_region_of_interest_meta_add_param (roi,
      gst_imgrec_gan_meta_make_roi_param (meta));
  if (fs->post_messages)
    post_result (self, buf, roi->id, "discriminate",
        gst_structure_new ("imgrec-gan", "score", G_TYPE_DOUBLE,
            (gdouble) score, "logit", G_TYPE_DOUBLE, (gdouble) logit,
            "anomaly", G_TYPE_BOOLEAN, anomaly, "anomaly-reasons",
            G_TYPE_STRING, gst_imgrec_gan_anomaly_reasons_to_string (reasons),
            "sharpness", G_TYPE_DOUBLE, sharp.sharpness, NULL));
  GST_LOG_OBJECT (self, "region %d: logit %f, score %f, sharpness %f of "
      "%f%s", roi->id, logit, score, sharp.sharpness, baseline,
      anomaly ? ", anomaly" : "");
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* mode=generate                                                              */

/* Bilinear scaling: its integer taps are normalised exactly, so a uniform
 * image stays uniform (the default cubic taps overshoot by up to 1.5% on
 * some phases). */
static GstStructure *
converter_config (gint src_height)
{
  return gst_imgrec_scaler_config (src_height,
      GST_VIDEO_RESAMPLER_METHOD_LINEAR, 0);
}

static GstImgRecGanWriteSlot *
get_write_slot (GstImgRecGan * self, const GstVideoInfo * frame_info, gint w,
    gint h)
{
  GstImgRecGanWriteSlot *slot = NULL, *oldest = &self->slots[0];
  GstVideoInfo region_info, gen_info;
  guint i;

  self->tick++;
  for (i = 0; i < GST_IMGREC_GAN_WRITE_SLOTS; i++) {
    GstImgRecGanWriteSlot *s = &self->slots[i];
    if (s->width == w && s->height == h) {
      s->last_use = self->tick;
      return s;
    }
    if (s->last_use < oldest->last_use)
      oldest = s;
  }
  slot = oldest;
  clear_slot (slot);

  gst_video_info_set_format (&region_info, GST_VIDEO_INFO_FORMAT (frame_info),
      w, h);
  region_info.colorimetry = frame_info->colorimetry;
  region_info.chroma_site = frame_info->chroma_site;
  region_info.fps_n = frame_info->fps_n;
  region_info.fps_d = frame_info->fps_d;
  gst_video_info_set_format (&slot->rgb_info, GST_VIDEO_FORMAT_RGB, w, h);
  slot->rgb_info.fps_n = frame_info->fps_n;
  slot->rgb_info.fps_d = frame_info->fps_d;
  gen_info = self->gen_info;
  gen_info.fps_n = frame_info->fps_n;
  gen_info.fps_d = frame_info->fps_d;

  slot->generated = gst_buffer_new_allocate (NULL,
      GST_VIDEO_INFO_SIZE (&slot->rgb_info), NULL);
  slot->original = gst_buffer_new_allocate (NULL,
      GST_VIDEO_INFO_SIZE (&slot->rgb_info), NULL);
  slot->gen_to_rgb = gst_video_converter_new (&gen_info, &slot->rgb_info,
      converter_config (self->gen_height));
  slot->frame_to_rgb = gst_video_converter_new (&region_info, &slot->rgb_info,
      converter_config (h));
  slot->rgb_to_frame = gst_video_converter_new (&slot->rgb_info, &region_info,
      converter_config (h));
  if (slot->generated == NULL || slot->original == NULL
      || slot->gen_to_rgb == NULL || slot->frame_to_rgb == NULL
      || slot->rgb_to_frame == NULL) {
    clear_slot (slot);
    return NULL;
  }
  slot->width = w;
  slot->height = h;
  slot->last_use = self->tick;
  return slot;
}

/* The generator's output (NCHW floats) as an 8-bit image. */
static gboolean
output_to_image (GstImgRecGan * self)
{
  imgrec_tensor_info info;
  const gfloat *out = imgrec_session_output (self->infer.session, 0, &info);
  gint w = self->gen_width, h = self->gen_height, c = self->gen_channels;
  gsize plane = (gsize) w * h;
  gfloat k = 255.0f / (self->range_hi - self->range_lo), lo = self->range_lo;
  GstVideoFrame img;
  gint x, y, ch;

  if (out == NULL || info.rank != 4 || info.dims[1] != c || info.dims[2] != h
      || info.dims[3] != w)
    return FALSE;
  if (!gst_video_frame_map (&img, &self->gen_info, self->gen_buffer,
          GST_MAP_WRITE))
    return FALSE;
  for (y = 0; y < h; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&img, 0) +
        (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&img, 0);
    for (x = 0; x < w; x++)
      for (ch = 0; ch < c; ch++) {
        gfloat v = (out[ch * plane + (gsize) y * w + x] - lo) * k + 0.5f;
        row[x * c + ch] = (guint8) (v <= 0.0f ? 0 : v >= 255.0f ? 255 : v);
      }
  }
  gst_video_frame_unmap (&img);
  return TRUE;
}

/* new = blend * generated + (1 - blend) * original, into generated */
static void
blend_images (GstVideoFrame * generated, const GstVideoFrame * original,
    gdouble blend)
{
  gint w = GST_VIDEO_FRAME_WIDTH (generated) * 3;
  gint h = GST_VIDEO_FRAME_HEIGHT (generated), x, y;
  guint a = (guint) (blend * 256.0 + 0.5), b = 256 - a;

  for (y = 0; y < h; y++) {
    guint8 *g = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (generated, 0) +
        (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (generated, 0);
    const guint8 *o = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (original,
        0) + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (original, 0);
    for (x = 0; x < w; x++)
      g[x] = (guint8) ((a * g[x] + b * o[x] + 128) >> 8);
  }
}

/* The degradation gate's measures of the region as the generator sees it:
 * the pre-processing's 8-bit image at the model's input size (a 32x32 sign
 * crop), so a large sign's blur or noise counts as much as the model is
 * shown of it. */
static void
measure_degradation (GstImgRecGan * self, imgrec_degradation * out)
{
  GstImgRecPreprocess *pp = &self->infer.preprocess;
  GstVideoFrame *img = &pp->model_frame;
  const guint8 *p = GST_VIDEO_FRAME_PLANE_DATA (img, 0);
  imgrec_luma_view v;

  v.row_stride = GST_VIDEO_FRAME_PLANE_STRIDE (img, 0);
  v.width = GST_VIDEO_FRAME_WIDTH (img);
  v.height = GST_VIDEO_FRAME_HEIGHT (img);
  switch (GST_VIDEO_FRAME_FORMAT (img)) {
    case GST_VIDEO_FORMAT_RGB:
      v.r = p;
      v.g = p + 1;
      v.b = p + 2;
      v.pixel_stride = 3;
      break;
    case GST_VIDEO_FORMAT_BGR:
      v.r = p + 2;
      v.g = p + 1;
      v.b = p;
      v.pixel_stride = 3;
      break;
    default:                   /* GRAY8 */
      v.r = p;
      v.g = v.b = NULL;
      v.pixel_stride = 1;
      break;
  }
  imgrec_degradation_measure (&v, out);
}

static gboolean
gate_on (const FrameSettings * fs)
{
  return fs->gate_min_brightness > 0.0 || fs->gate_min_contrast > 0.0
      || fs->gate_min_sharpness > 0.0 || fs->gate_max_noise > 0.0;
}

/* The degradations the gate's thresholds find (0: clean, or the gate off);
 * a measure that could not be taken finds nothing. */
static guint
judge_degradation (const FrameSettings * fs, const imgrec_degradation * d)
{
  guint found = 0;

  if (fs->gate_min_brightness > 0.0 && d->brightness < fs->gate_min_brightness)
    found |= GST_IMGREC_GAN_DEGRADATION_DARK;
  if (fs->gate_min_contrast > 0.0 && d->contrast < fs->gate_min_contrast)
    found |= GST_IMGREC_GAN_DEGRADATION_LOW_CONTRAST;
  if (fs->gate_min_sharpness > 0.0 && d->sharpness >= 0.0
      && d->sharpness < fs->gate_min_sharpness)
    found |= GST_IMGREC_GAN_DEGRADATION_BLURRED;
  if (fs->gate_max_noise > 0.0 && d->noise > fs->gate_max_noise)
    found |= GST_IMGREC_GAN_DEGRADATION_NOISY;
  return found;
}

/* The region's restoration result: the meta, its ROI param, the message. */
static void
add_restore_result (GstImgRecGan * self, const FrameSettings * fs,
    GstBuffer * buf, GstVideoRegionOfInterestMeta * roi,
    const GstVideoRectangle * r, gboolean restored, guint degradations,
    const imgrec_degradation * d)
{
  GstImgRecGanMeta *meta;

  meta = gst_buffer_add_imgrec_gan_meta (buf, GST_IMGREC_GAN_ROLE_RESTORED,
      self->infer.model_name, self->infer.element_name);
  meta->info.roi_id = roi->id;
  meta->info.x = r->x;
  meta->info.y = r->y;
  meta->info.width = r->w;
  meta->info.height = r->h;
  meta->blend = (gfloat) fs->blend;
  meta->restored = restored;
  meta->degradations = degradations;
  meta->brightness = (gfloat) d->brightness;
  meta->contrast = (gfloat) d->contrast;
  meta->sharpness = (gfloat) d->sharpness;
  meta->noise = (gfloat) d->noise;
  gst_video_region_of_interest_meta_add_param (roi,
      gst_imgrec_gan_meta_make_roi_param (meta));
  GST_OBJECT_LOCK (self);
  if (restored)
    self->stat_restored++;
  else
    self->stat_kept++;
  GST_OBJECT_UNLOCK (self);
  if (fs->post_messages)
    post_result (self, buf, roi->id, "generate",
        gst_structure_new ("imgrec-gan", "blend", G_TYPE_DOUBLE, fs->blend,
            "restored", G_TYPE_BOOLEAN, restored,
            "degradations", G_TYPE_STRING,
            gst_imgrec_gan_degradations_to_string (degradations),
            "brightness", G_TYPE_DOUBLE, d->brightness,
            "contrast", G_TYPE_DOUBLE, d->contrast,
            "sharpness", G_TYPE_DOUBLE, d->sharpness,
            "noise", G_TYPE_DOUBLE, d->noise, NULL));
  GST_LOG_OBJECT (self, "region %d: %s (brightness %.1f, contrast %.1f, "
      "sharpness %.3f, noise %.2f)", roi->id, restored ? "restored" :
      "clean, left as it is", d->brightness, d->contrast, d->sharpness,
      d->noise);
}

static gboolean
generate_region (GstImgRecGan * self, const FrameSettings * fs,
    GstBuffer * buf, GstVideoFrame * frame, GstVideoRegionOfInterestMeta * roi,
    const GstVideoRectangle * region)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  gint fw = GST_VIDEO_FRAME_WIDTH (frame), fh = GST_VIDEO_FRAME_HEIGHT (frame);
  GstVideoRectangle r = region ? *region :
      (GstVideoRectangle) { 0, 0, fw, fh };
  GstImgRecGanWriteSlot *slot;
  GstVideoFrame sub, gen_img, gen_rgb, orig_rgb;
  imgrec_degradation deg;
  guint degradations;
  imgrec_error eerr;
  gint xa = 1 << GST_VIDEO_FORMAT_INFO_W_SUB (finfo, 1);
  gint ya = 1 << GST_VIDEO_FORMAT_INFO_H_SUB (finfo, 1);

  /* The region's end on the chroma grid too (or the frame's edge). */
  if (GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo) < 3)
    xa = ya = 1;
  if ((r.x + r.w) % xa && r.x + r.w < fw)
    r.w = MIN (fw - r.x, r.w + xa - (r.x + r.w) % xa);
  if ((r.y + r.h) % ya && r.y + r.h < fh)
    r.h = MIN (fh - r.y, r.h + ya - (r.y + r.h) % ya);

  if (r.h < 2) {
    /* GStreamer 1.22's converters repeat their first output for one-line
     * sources: such a sliver is left as it is */
    GST_DEBUG_OBJECT (self, "region %d is one line tall: left unchanged",
        roi->id);
    return TRUE;
  }
  if (!gst_imgrec_preprocess_run (&self->infer.preprocess, frame, &r)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not convert a %dx%d region for the model.", r.w, r.h), (NULL));
    return FALSE;
  }
  measure_degradation (self, &deg);
  degradations = judge_degradation (fs, &deg);
  if (gate_on (fs) && degradations == 0) {
    /* clean: the restorer could only damage it */
    add_restore_result (self, fs, buf, roi, &r, FALSE, degradations, &deg);
    return TRUE;
  }
  if (imgrec_session_set_input (self->infer.session, 0, IMGREC_DTYPE_FLOAT,
          self->infer.preprocess.dims, 4, self->infer.preprocess.tensor,
          &eerr) < 0
      || imgrec_session_run (self->infer.session, &eerr) < 0) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Inference failed: %s", eerr.message), (NULL));
    return FALSE;
  }
  if (!output_to_image (self)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("The generator's output changed shape between frames."), (NULL));
    return FALSE;
  }
  slot = get_write_slot (self, &frame->info, r.w, r.h);
  if (slot == NULL) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Cannot convert the generator's image into a %dx%d %s region.", r.w,
            r.h, gst_video_format_to_string (GST_VIDEO_FRAME_FORMAT (frame))),
        (NULL));
    return FALSE;
  }

  sub_frame (frame, &r, &sub);
  if (!gst_video_frame_map (&gen_img, &self->gen_info, self->gen_buffer,
          GST_MAP_READ))
    goto map_error;
  if (!gst_video_frame_map (&gen_rgb, &slot->rgb_info, slot->generated,
          GST_MAP_READWRITE)) {
    gst_video_frame_unmap (&gen_img);
    goto map_error;
  }
  gst_video_converter_frame (slot->gen_to_rgb, &gen_img, &gen_rgb);
  gst_video_frame_unmap (&gen_img);
  if (fs->blend < 1.0) {
    if (!gst_video_frame_map (&orig_rgb, &slot->rgb_info, slot->original,
            GST_MAP_READWRITE)) {
      gst_video_frame_unmap (&gen_rgb);
      goto map_error;
    }
    gst_video_converter_frame (slot->frame_to_rgb, &sub, &orig_rgb);
    blend_images (&gen_rgb, &orig_rgb, fs->blend);
    gst_video_frame_unmap (&orig_rgb);
  }
  gst_video_converter_frame (slot->rgb_to_frame, &gen_rgb, &sub);
  gst_video_frame_unmap (&gen_rgb);

  add_restore_result (self, fs, buf, roi, &r, TRUE, degradations, &deg);
  return TRUE;

map_error:
  GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Could not map a video frame."),
      (NULL));
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* per frame                                                                  */

static gboolean
process_region (GstImgRecGan * self, const FrameSettings * fs,
    GstBuffer * buf, GstVideoFrame * frame, GstVideoRegionOfInterestMeta * roi,
    const GstVideoRectangle * region)
{
  gboolean ok;

  if (self->run_mode == GST_IMGREC_GAN_MODE_DISCRIMINATE)
    ok = discriminate_region (self, fs, buf, frame, roi, region);
  else
    ok = generate_region (self, fs, buf, frame, roi, region);
  if (ok) {
    GST_OBJECT_LOCK (self);
    self->stat_inferences++;
    GST_OBJECT_UNLOCK (self);
  }
  return ok;
}

static GstFlowReturn
gst_imgrec_gan_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstImgRecGan *self = GST_IMGREC_GAN (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  GstFlowReturn ret = GST_FLOW_OK;
  GstVideoFrame frame;
  FrameSettings fs;
  GstMapFlags flags = GST_MAP_READ | GST_VIDEO_FRAME_MAP_FLAG_NO_REF;
  GArray *tmp;

  if (G_UNLIKELY (!filter->negotiated || !self->infer.preprocess_ready)) {
    GST_ELEMENT_ERROR (self, CORE, NOT_IMPLEMENTED,
        ("No caps were negotiated before the first buffer."), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  GST_OBJECT_LOCK (self);
  fs.threshold = self->anomaly_threshold;
  fs.frames = self->anomaly_frames;
  fs.hysteresis = self->anomaly_hysteresis;
  fs.defocus_threshold = self->defocus_threshold;
  fs.blend = self->blend;
  fs.gate_min_brightness = self->gate_min_brightness;
  fs.gate_min_contrast = self->gate_min_contrast;
  fs.gate_min_sharpness = self->gate_min_sharpness;
  fs.gate_max_noise = self->gate_max_noise;
  fs.post_messages = self->infer.post_messages;
  self->stat_frames++;
  GST_OBJECT_UNLOCK (self);

  /* blend=0 leaves every pixel as it is: nothing to compute */
  if (self->run_mode == GST_IMGREC_GAN_MODE_GENERATE) {
    if (fs.blend <= 0.0)
      return GST_FLOW_OK;
    flags |= GST_MAP_WRITE;
  }
  if (!gst_video_frame_map (&frame, &filter->in_info, buf, flags)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not map a video frame."), (NULL));
    return GST_FLOW_ERROR;
  }

  g_array_set_size (self->next_states, 0);
  g_array_set_size (self->next_focus_states, 0);
  if (self->infer.roi_mode == GST_IMGREC_GAN_ROI_LIST) {
    GArray *regions = g_array_new (FALSE, FALSE, sizeof (GstImgRecRegion));
    guint k;

    gst_imgrec_infer_collect_regions (&self->infer, buf, regions);
    for (k = 0; k < regions->len; k++) {
      GstImgRecRegion *r = &g_array_index (regions, GstImgRecRegion, k);
      if (!process_region (self, &fs, buf, &frame, r->roi, &r->rect)) {
        ret = GST_FLOW_ERROR;
        break;
      }
    }
    g_array_free (regions, TRUE);
  } else {
    GstVideoRegionOfInterestMeta *roi =
        gst_imgrec_infer_full_frame_roi (buf, &frame);
    if (!process_region (self, &fs, buf, &frame, roi, NULL))
      ret = GST_FLOW_ERROR;
  }
  gst_video_frame_unmap (&frame);

  /* regions not seen on this frame forget their anomaly state */
  tmp = self->states;
  self->states = self->next_states;
  self->next_states = tmp;
  /* generate: no region has a defocus state */
  if (self->run_mode == GST_IMGREC_GAN_MODE_DISCRIMINATE) {
    tmp = self->focus_states;
    self->focus_states = self->next_focus_states;
    self->next_focus_states = tmp;
  }
  return ret;
}

static gboolean
gst_imgrec_gan_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstImgRecGan *self = GST_IMGREC_GAN (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP && self->states) {
    g_array_set_size (self->states, 0);
    g_array_set_size (self->focus_states, 0);
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* ------------------------------------------------------------------------ */
/* properties                                                                 */

static void
gst_imgrec_gan_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecGan *self = GST_IMGREC_GAN (object);

  if (prop_id < GST_IMGREC_INFER_PROP_LAST && prop_id != PROP_MODEL) {
    G_OBJECT_CLASS (parent_class)->set_property (object, prop_id, value, pspec);
    return;
  }
  GST_OBJECT_LOCK (self);
  if (gst_imgrec_property_refuse_locked (GST_ELEMENT (self), pspec))
    return;
  switch (prop_id) {
    case PROP_MODEL:
      g_free (self->infer.model_path);
      self->infer.model_path = g_value_dup_string (value);
      break;
    case PROP_MODE:
      self->mode = g_value_get_enum (value);
      break;
    case PROP_ANOMALY_THRESHOLD:
      self->anomaly_threshold = g_value_get_double (value);
      break;
    case PROP_ANOMALY_FRAMES:
      self->anomaly_frames = g_value_get_uint (value);
      break;
    case PROP_ANOMALY_HYSTERESIS:
      self->anomaly_hysteresis = g_value_get_double (value);
      break;
    case PROP_DEFOCUS_THRESHOLD:
      self->defocus_threshold = g_value_get_double (value);
      break;
    case PROP_DEFOCUS_BASELINE_FRAMES:
      self->defocus_baseline_frames = g_value_get_uint (value);
      break;
    case PROP_BLEND:
      self->blend = g_value_get_double (value);
      break;
    case PROP_GATE_MIN_BRIGHTNESS:
      self->gate_min_brightness = g_value_get_double (value);
      break;
    case PROP_GATE_MIN_CONTRAST:
      self->gate_min_contrast = g_value_get_double (value);
      break;
    case PROP_GATE_MIN_SHARPNESS:
      self->gate_min_sharpness = g_value_get_double (value);
      break;
    case PROP_GATE_MAX_NOISE:
      self->gate_max_noise = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_gan_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstImgRecGan *self = GST_IMGREC_GAN (object);

  if (prop_id < GST_IMGREC_INFER_PROP_LAST) {
    G_OBJECT_CLASS (parent_class)->get_property (object, prop_id, value, pspec);
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      g_value_set_enum (value, self->mode);
      break;
    case PROP_ANOMALY_THRESHOLD:
      g_value_set_double (value, self->anomaly_threshold);
      break;
    case PROP_ANOMALY_FRAMES:
      g_value_set_uint (value, self->anomaly_frames);
      break;
    case PROP_ANOMALY_HYSTERESIS:
      g_value_set_double (value, self->anomaly_hysteresis);
      break;
    case PROP_DEFOCUS_THRESHOLD:
      g_value_set_double (value, self->defocus_threshold);
      break;
    case PROP_DEFOCUS_BASELINE_FRAMES:
      g_value_set_uint (value, self->defocus_baseline_frames);
      break;
    case PROP_BLEND:
      g_value_set_double (value, self->blend);
      break;
    case PROP_GATE_MIN_BRIGHTNESS:
      g_value_set_double (value, self->gate_min_brightness);
      break;
    case PROP_GATE_MIN_CONTRAST:
      g_value_set_double (value, self->gate_min_contrast);
      break;
    case PROP_GATE_MIN_SHARPNESS:
      g_value_set_double (value, self->gate_min_sharpness);
      break;
    case PROP_GATE_MAX_NOISE:
      g_value_set_double (value, self->gate_max_noise);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, gst_structure_new ("imgrec-gan-stats",
              "frames", G_TYPE_UINT64, self->stat_frames,
              "inferences", G_TYPE_UINT64, self->stat_inferences,
              "anomalies", G_TYPE_UINT64, self->stat_anomalies,
              "restored", G_TYPE_UINT64, self->stat_restored,
              "kept", G_TYPE_UINT64, self->stat_kept, NULL));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_gan_finalize (GObject * object)
{
  GstImgRecGan *self = GST_IMGREC_GAN (object);

  free_model_state (self);
  if (self->states)
    g_array_free (self->states, TRUE);
  if (self->next_states)
    g_array_free (self->next_states, TRUE);
  if (self->focus_states)
    g_array_free (self->focus_states, TRUE);
  if (self->next_focus_states)
    g_array_free (self->next_focus_states, TRUE);
  g_free (self->sharpness_scratch);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_imgrec_gan_class_init (GstImgRecGanClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_gan_debug, "imgrecgan", 0,
      "imgrec GAN discriminator / generator");

  gobject_class->set_property = gst_imgrec_gan_set_property;
  gobject_class->get_property = gst_imgrec_gan_get_property;
  gobject_class->finalize = gst_imgrec_gan_finalize;

  properties[PROP_MODEL] = g_param_spec_string ("model", "Model",
      "Path of the ONNX discriminator (mode=discriminate) or image-to-image "
      "generator (mode=generate)", DEFAULT_MODEL, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_MODE] = g_param_spec_enum ("mode", "Mode",
      "Score realism, or replace frames/regions with the generator's output",
      gst_imgrec_gan_mode_get_type (), DEFAULT_MODE,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_ROI] = g_param_spec_enum ("roi", "Regions",
      "What to process", gst_imgrec_gan_roi_mode_get_type (), DEFAULT_ROI,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_OBJECT_CLASS] = g_param_spec_string ("object-class",
      "Object class", "In roi-list mode, process only ROIs of these types "
      "(comma-separated roi_type names; empty = all)", DEFAULT_OBJECT_CLASS,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_ANOMALY_THRESHOLD] = g_param_spec_double ("anomaly-threshold",
      "Anomaly threshold", "mode=discriminate: a realism score (0-1) below "
      "this for anomaly-frames consecutive frames is an anomaly; 0 = off",
      0.0, 1.0, DEFAULT_ANOMALY_THRESHOLD, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_ANOMALY_FRAMES] = g_param_spec_uint ("anomaly-frames",
      "Anomaly frames", "Consecutive frames needed to enter or leave the "
      "anomaly state", 1, G_MAXUINT, DEFAULT_ANOMALY_FRAMES,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_ANOMALY_HYSTERESIS] =
      g_param_spec_double ("anomaly-hysteresis", "Anomaly hysteresis",
      "Recovering needs a score of at least anomaly-threshold + this (and a "
      "sharpness of at least defocus-threshold + this times the baseline)",
      0.0, 1.0, DEFAULT_ANOMALY_HYSTERESIS, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_DEFOCUS_THRESHOLD] =
      g_param_spec_double ("defocus-threshold", "Defocus threshold",
      "mode=discriminate: a region whose sharpness (focus measure of its luma "
      "at full resolution) stays below this fraction of its own baseline for "
      "anomaly-frames consecutive frames is defocused, an anomaly with reason "
      "\"defocus\"; 0 = off", 0.0, 1.0, DEFAULT_DEFOCUS_THRESHOLD,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_DEFOCUS_BASELINE_FRAMES] =
      g_param_spec_uint ("defocus-baseline-frames", "Defocus baseline frames",
      "Time constant, in frames, of the running baseline of each region's "
      "sharp frames the defocus check compares with (at least "
      "anomaly-frames)", 1, G_MAXINT, DEFAULT_DEFOCUS_BASELINE_FRAMES,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_BLEND] = g_param_spec_double ("blend", "Blend",
      "mode=generate: weight of the generator's output in the new pixels "
      "(1 = replace, 0 = leave the frame unchanged)", 0.0, 1.0, DEFAULT_BLEND,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_GATE_MIN_BRIGHTNESS] =
      g_param_spec_double ("gate-min-brightness", "Gate: minimum brightness",
      "mode=generate: restore a region whose mean luma at the model's input "
      "size is below this (grey levels); 0 = not gated on brightness", 0.0,
      255.0, DEFAULT_GATE_MIN_BRIGHTNESS, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_GATE_MIN_CONTRAST] =
      g_param_spec_double ("gate-min-contrast", "Gate: minimum contrast",
      "mode=generate: restore a region whose luma standard deviation at the "
      "model's input size is below this (grey levels); 0 = not gated on "
      "contrast", 0.0, 255.0, DEFAULT_GATE_MIN_CONTRAST,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_GATE_MIN_SHARPNESS] =
      g_param_spec_double ("gate-min-sharpness", "Gate: minimum sharpness",
      "mode=generate: restore a region whose sharpness at the model's input "
      "size (neighbouring pixels' mean squared difference in the blurrier "
      "direction over twice the variance) is below this; 0 = not gated on "
      "sharpness", 0.0, 4.0,
      DEFAULT_GATE_MIN_SHARPNESS, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_GATE_MAX_NOISE] =
      g_param_spec_double ("gate-max-noise", "Gate: maximum noise",
      "mode=generate: restore a region whose estimated noise at the model's "
      "input size is above this (standard deviation, grey levels); 0 = not "
      "gated on noise", 0.0, 255.0, DEFAULT_GATE_MAX_NOISE,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_SCALING] = gst_imgrec_infer_param_spec (PROP_SCALING);
  properties[PROP_THREADS] = gst_imgrec_infer_param_spec (PROP_THREADS);
  properties[PROP_POST_MESSAGES] = g_param_spec_boolean ("post-messages",
      "Post messages", "Post an imgrec-gan element message for every region "
      "scored or restored", FALSE, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "Counters since the element started: frames, inferences, anomalies "
      "(times a region entered the anomaly state), restored and kept "
      "(mode=generate: regions restored, regions the degradation gate left "
      "untouched)", GST_TYPE_STRUCTURE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MODEL_INSTANCE_ID] =
      gst_imgrec_infer_param_spec (PROP_MODEL_INSTANCE_ID);
  gst_imgrec_infer_install_properties (gobject_class, N_PROPERTIES, properties);

  gst_element_class_set_static_metadata (element_class,
      "imgrec GAN", "Filter/Analyzer/Effect/Video",
      "Scores the realism of frames or regions with a GAN discriminator "
      "(anomaly alarms), or replaces them with an image-to-image GAN "
      "generator's output", "imgrec project");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_imgrec_gan_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_imgrec_gan_stop);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_imgrec_gan_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_imgrec_gan_sink_event);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_imgrec_gan_set_info);

  gst_type_mark_as_plugin_api (gst_imgrec_gan_mode_get_type (), 0);
  gst_type_mark_as_plugin_api (gst_imgrec_gan_roi_mode_get_type (), 0);
}

static void
gst_imgrec_gan_init (GstImgRecGan * self)
{
  self->infer.roi_mode = DEFAULT_ROI;
  self->mode = DEFAULT_MODE;
  self->anomaly_threshold = DEFAULT_ANOMALY_THRESHOLD;
  self->anomaly_frames = DEFAULT_ANOMALY_FRAMES;
  self->anomaly_hysteresis = DEFAULT_ANOMALY_HYSTERESIS;
  self->defocus_threshold = DEFAULT_DEFOCUS_THRESHOLD;
  self->defocus_baseline_frames = DEFAULT_DEFOCUS_BASELINE_FRAMES;
  self->blend = DEFAULT_BLEND;
  self->gate_min_brightness = DEFAULT_GATE_MIN_BRIGHTNESS;
  self->gate_min_contrast = DEFAULT_GATE_MIN_CONTRAST;
  self->gate_min_sharpness = DEFAULT_GATE_MIN_SHARPNESS;
  self->gate_max_noise = DEFAULT_GATE_MAX_NOISE;
}
