/* imgrecgansrc: synthetic video from a GAN generator model.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrecgansrc
 * @title: imgrecgansrc
 *
 * A video source whose frames are drawn by a GAN generator (an ONNX model:
 * noise `z` [N, latent-dim], optionally a one-hot class [N, classes] →
 * image [N, C, H, W]) run by the imgrec engine on the CPU: synthetic test
 * feeds of the things a pipeline is meant to recognise.
 *
 * - **Any raw format, size and frame rate** downstream asks for: the
 *   generator's image is scaled and converted with #GstVideoConverter.
 *   Unconstrained, the source produces RGB 256x256 at 30/1.
 * - **Deterministic**: the latent vectors come from a counter-based
 *   generator seeded by #GstImgRecGanSrc:seed, so the same seed, model and
 *   caps give bit-identical frames, and a seek gives the frames a run from
 *   the start would have given at that position.
 * - **Latent walk** (#GstImgRecGanSrc:latent-walk, default on): key latents
 *   are drawn every #GstImgRecGanSrc:walk-frames frames and the frames in
 *   between use their spherical interpolation (slerp), so the output is a
 *   continuous video rather than a new random image every frame.
 * - **Classes**: a conditional generator gets #GstImgRecGanSrc:class, or,
 *   with class=-1 (default), the classes in turn, each for
 *   #GstImgRecGanSrc:class-duration of stream time.
 * - **Provenance**: each frame carries a #GstImgRecGanMeta with role
 *   %GST_IMGREC_GAN_ROLE_GENERATED (model, seed, latent index and position,
 *   class id and label), which imgrecjson writes as a `gan` result.
 * - Timestamps: frame n has PTS n / framerate and the duration to the next
 *   frame; with #GstImgRecGanSrc:is-live the source is a live source
 *   synchronised to the clock.  `num-buffers` limits the frames.
 *
 * ## Model
 *
 * The model's first input (or the one named `z`) is the latent vector: a
 * float tensor [N, latent-dim] with a fixed latent-dim, filled with N(0, 1)
 * values.  A second input is the class condition, one-hot [N, classes]
 * (`imgrec.class-input`=`one-hot`, the default).  The first output is the
 * image, NCHW with 1 or 3 channels.  ONNX `metadata_props` read:
 *
 * - `imgrec.kind`: must be `gan-generator` when present.
 * - `imgrec.output-range`: the output's value range, `lo,hi` (default
 *   `-1,1`), mapped linearly to 0–255.
 * - `imgrec.labels`: class names, one per line (the meta's labels).
 * - `imgrec.latent-dim`, `imgrec.num-classes`: checked against the inputs.
 *
 * A model that is not a generator (wrong kind, inputs that are not vectors,
 * an output that is not an image), a missing model, or a class the model does
 * not have is reported with GST_ELEMENT_ERROR when going from READY to
 * PAUSED; caps without a positive frame rate are refused with an error at
 * negotiation.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 imgrecgansrc model=models/traffic-signs-gan/generator.onnx \
 *     num-buffers=300 ! video/x-raw,width=256,height=256,framerate=25/1 ! \
 *     videoconvert ! autovideosink
 * ]| Shows a continuous synthetic video of traffic signs, the class changing
 * every 2 seconds.
 * |[
 * gst-launch-1.0 imgrecgansrc model=generator.onnx class=14 seed=7 num-buffers=50 ! \
 *     video/x-raw,format=I420,width=320,height=240 ! \
 *     imgrecjson location=provenance.jsonl ! fakesink
 * ]| Fifty frames of class 14; each JSON line records model, seed, latent
 * index and class.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecgansrc.h"
#include "gstimgrecfile.h"
#include "gstimgrecmodel.h"
#include "gstimgrecpreprocess.h"
#include "gstimgrecvideosrc.h"
#include "gstimgrecproperty.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_gan_src_debug);
#define GST_CAT_DEFAULT gst_imgrec_gan_src_debug

#define DEFAULT_MODEL NULL
#define DEFAULT_SEED 0
#define DEFAULT_CLASS -1
#define DEFAULT_CLASS_DURATION (2 * GST_SECOND)
#define DEFAULT_LATENT_WALK TRUE
#define DEFAULT_WALK_FRAMES 30
#define DEFAULT_IS_LIVE FALSE
#define DEFAULT_THREADS 0

#define DEFAULT_WIDTH 256
#define DEFAULT_HEIGHT 256
#define DEFAULT_FPS_N 30
#define DEFAULT_FPS_D 1

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_SEED,
  PROP_CLASS,
  PROP_CLASS_DURATION,
  PROP_LATENT_WALK,
  PROP_WALK_FRAMES,
  PROP_IS_LIVE,
  PROP_THREADS,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

#define VIDEO_FORMATS "{ RGB, BGR, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, " \
    "xRGB, xBGR, I420, YV12, NV12, NV21, Y42B, Y444, YUY2, UYVY, GRAY8 }"

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

#define gst_imgrec_gan_src_parent_class parent_class
G_DEFINE_TYPE (GstImgRecGanSrc, gst_imgrec_gan_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (imgrecgansrc, "imgrecgansrc", GST_RANK_NONE,
    GST_TYPE_IMGREC_GAN_SRC);

/* ------------------------------------------------------------------------ */
/* latents: a counter-based generator, so key latent k depends only on       */
/* (seed, k) and frames can be produced in any order (seeks)                 */

static guint64
splitmix64 (guint64 * state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Uniform in (0, 1): 53 random bits, never 0 (log below). */
static gdouble
uniform_open (guint64 * state)
{
  return ((splitmix64 (state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static void
draw_key_latent (guint64 seed, guint64 index, gfloat * z, gint n)
{
  guint64 state = seed * G_GUINT64_CONSTANT (0xD1B54A32D192ED03) ^ index;
  gint i;

  (void) splitmix64 (&state);
  /* Box-Muller: pairs of N(0, 1) values */
  for (i = 0; i < n; i += 2) {
    gdouble u1 = uniform_open (&state), u2 = uniform_open (&state);
    gdouble r = sqrt (-2.0 * log (u1));
    z[i] = (gfloat) (r * cos (2.0 * G_PI * u2));
    if (i + 1 < n)
      z[i + 1] = (gfloat) (r * sin (2.0 * G_PI * u2));
  }
}

/* Spherical interpolation between a and b (linear when nearly parallel). */
static void
slerp (const gfloat * a, const gfloat * b, gdouble t, gfloat * out, gint n)
{
  gdouble dot = 0, na = 0, nb = 0, omega, so, wa, wb;
  gint i;

  for (i = 0; i < n; i++) {
    dot += (gdouble) a[i] * b[i];
    na += (gdouble) a[i] * a[i];
    nb += (gdouble) b[i] * b[i];
  }
  if (na <= 0 || nb <= 0) {
    wa = 1.0 - t;
    wb = t;
  } else {
    omega = acos (CLAMP (dot / sqrt (na * nb), -1.0, 1.0));
    so = sin (omega);
    if (so < 1e-6) {
      wa = 1.0 - t;
      wb = t;
    } else {
      wa = sin ((1.0 - t) * omega) / so;
      wb = sin (t * omega) / so;
    }
  }
  for (i = 0; i < n; i++)
    out[i] = (gfloat) (wa * a[i] + wb * b[i]);
}

/* ------------------------------------------------------------------------ */
/* start / stop                                                               */

static void
post_error (GstImgRecGanSrc * self, GQuark domain, gint code,
    const gchar * message)
{
  gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_ERROR, domain,
      code, g_strdup (message), NULL, __FILE__, GST_FUNCTION, __LINE__);
}

static void
free_caps_state (GstImgRecGanSrc * self)
{
  if (self->convert)
    gst_video_converter_free (self->convert);
  self->convert = NULL;
  gst_clear_buffer (&self->model_buffer);
  self->have_caps = FALSE;
}

static void
free_model_state (GstImgRecGanSrc * self)
{
  free_caps_state (self);
  if (self->session)
    imgrec_session_free (self->session);
  self->session = NULL;
  gst_imgrec_model_release (self->model);
  self->model = NULL;
  g_clear_pointer (&self->labels, g_free);
  g_clear_pointer (&self->z, g_free);
  g_clear_pointer (&self->onehot, g_free);
  g_clear_pointer (&self->key_a, g_free);
  g_clear_pointer (&self->key_b, g_free);
  self->key_index = -1;
}

static gboolean
is_vector_input (const imgrec_tensor_info * in)
{
  return (in->dtype == IMGREC_DTYPE_FLOAT || in->dtype == IMGREC_DTYPE_FLOAT16)
      && in->rank == 2 && in->dims[0] <= 1 && in->dims[1] > 0
      && in->dims[1] <= 65536;
}

/* Checks that the model is a generator and reads its shapes; on failure
 * returns a sentence naming the problem. */
static gchar *
load_generator (GstImgRecGanSrc * self, const gchar * path, gint class_id,
    guint threads)
{
  imgrec_session_options opts = { 0 };
  imgrec_tensor_info out;
  imgrec_error eerr;
  GError *ferr = NULL;
  const imgrec_tensor_info *zin, *cin = NULL;
  const gchar *s;
  gint64 dims[2];
  gint n_inputs, i;
  gchar *base;

  if (path == NULL || *path == '\0')
    return g_strdup ("No model set: set the \"model\" property to a GAN "
        "generator ONNX file.");
  if (!gst_imgrec_file_check (path, "model file", GST_IMGREC_MAX_MODEL_BYTES,
          &ferr)) {
    gchar *problem = g_strdup (ferr->message);
    g_error_free (ferr);
    return problem;
  }
  self->model = gst_imgrec_model_acquire (path, &eerr);
  if (self->model == NULL)
    return g_strdup_printf ("Could not load model \"%s\": %s", path,
        eerr.message);

  s = imgrec_model_metadata_lookup (self->model, "imgrec.kind");
  if (s != NULL && g_ascii_strcasecmp (s, "gan-generator") != 0)
    return g_strdup_printf ("Model \"%s\" is a %s model (imgrec.kind); "
        "imgrecgansrc needs a gan-generator.", path, s);

  n_inputs = imgrec_model_n_inputs (self->model);
  if (n_inputs < 1 || n_inputs > 2)
    return g_strdup_printf ("Model \"%s\" is not a generator: it has %d "
        "inputs (expected the latent z, and optionally a one-hot class).",
        path, n_inputs);
  self->z_input = imgrec_model_input_index (self->model, "z");
  if (self->z_input < 0)
    self->z_input = 0;
  self->class_input = n_inputs == 2 ? 1 - self->z_input : -1;
  zin = imgrec_model_input (self->model, self->z_input);
  if (!is_vector_input (zin))
    return g_strdup_printf ("Model \"%s\" is not a generator: its input \"%s\" "
        "is not a float latent vector [N, latent-dim] with a fixed "
        "latent-dim.", path, zin->name);
  self->latent_dim = (gint) zin->dims[1];
  self->n_classes = 0;
  if (self->class_input >= 0) {
    cin = imgrec_model_input (self->model, self->class_input);
    if (!is_vector_input (cin))
      return g_strdup_printf ("Model \"%s\" is not a class-conditional "
          "generator: its input \"%s\" is not a one-hot class vector "
          "[N, classes].", path, cin->name);
    s = imgrec_model_metadata_lookup (self->model, "imgrec.class-input");
    if (s != NULL && g_ascii_strcasecmp (s, "one-hot") != 0)
      return g_strdup_printf ("Model \"%s\" has imgrec.class-input \"%s\"; "
          "imgrecgansrc supports one-hot class inputs.", path, s);
    self->n_classes = (gint) cin->dims[1];
  }
  s = imgrec_model_metadata_lookup (self->model, "imgrec.latent-dim");
  if (s != NULL && g_ascii_strtoll (s, NULL, 10) != self->latent_dim)
    return g_strdup_printf ("Model \"%s\" declares imgrec.latent-dim %s but "
        "its input \"%s\" has %d values.", path, s, zin->name,
        self->latent_dim);
  s = imgrec_model_metadata_lookup (self->model, "imgrec.num-classes");
  if (s != NULL && self->class_input >= 0
      && g_ascii_strtoll (s, NULL, 10) != self->n_classes)
    return g_strdup_printf ("Model \"%s\" declares imgrec.num-classes %s but "
        "its class input has %d values.", path, s, self->n_classes);
  if (class_id >= 0 && class_id >= self->n_classes)
    return self->n_classes == 0 ?
        g_strdup_printf ("class=%d was set but model \"%s\" is not "
        "class-conditional.", class_id, path) :
        g_strdup_printf ("class=%d is out of range: model \"%s\" has %d "
        "classes (0 to %d).", class_id, path, self->n_classes,
        self->n_classes - 1);

  self->range_lo = -1.0f;
  self->range_hi = 1.0f;
  s = imgrec_model_metadata_lookup (self->model, "imgrec.output-range");
  if (s != NULL) {
    gchar **parts = g_strsplit (s, ",", -1);
    gchar *end0 = NULL, *end1 = NULL;
    gboolean ok = g_strv_length (parts) == 2;
    if (ok) {
      self->range_lo = (gfloat) g_ascii_strtod (g_strstrip (parts[0]), &end0);
      self->range_hi = (gfloat) g_ascii_strtod (g_strstrip (parts[1]), &end1);
      ok = end0 && *end0 == '\0' && end1 && *end1 == '\0'
          && self->range_hi > self->range_lo;
    }
    g_strfreev (parts);
    if (!ok)
      return g_strdup_printf ("Model \"%s\" has an invalid "
          "imgrec.output-range \"%s\" (expected \"lo,hi\" with lo < hi).",
          path, s);
  }

  if (self->n_classes > 0) {
    s = imgrec_model_metadata_lookup (self->model, "imgrec.labels");
    self->labels = g_new0 (const gchar *, self->n_classes);
    if (s != NULL) {
      guint n;
      gchar **lines = gst_imgrec_model_split_labels (s, &n);
      if (n != (guint) self->n_classes) {
        g_strfreev (lines);
        return g_strdup_printf ("Model \"%s\" has %d classes but %u labels "
            "in imgrec.labels.", path, self->n_classes, n);
      }
      for (i = 0; i < self->n_classes; i++)
        self->labels[i] = g_intern_string (lines[i]);
      g_strfreev (lines);
    } else {
      for (i = 0; i < self->n_classes; i++) {
        gchar num[16];
        g_snprintf (num, sizeof (num), "%d", i);
        self->labels[i] = g_intern_string (num);
      }
    }
  }

  opts.threads = (int) threads;
  self->session = imgrec_session_new (self->model, &opts, &eerr);
  if (self->session == NULL)
    return g_strdup_printf ("Could not create an inference session for model "
        "\"%s\": %s", path, eerr.message);

  self->z = g_new0 (gfloat, self->latent_dim);
  self->key_a = g_new0 (gfloat, self->latent_dim);
  self->key_b = g_new0 (gfloat, self->latent_dim);
  self->onehot = g_new0 (gfloat, MAX (self->n_classes, 1));
  if (self->n_classes > 0)
    self->onehot[0] = 1.0f;

  /* A dry run plans the session and tells the image size. */
  dims[0] = 1;
  dims[1] = self->latent_dim;
  if (imgrec_session_set_input (self->session, self->z_input,
          IMGREC_DTYPE_FLOAT, dims, 2, self->z, &eerr) < 0)
    return g_strdup_printf ("Model \"%s\" does not accept a latent vector: "
        "%s", path, eerr.message);
  if (self->class_input >= 0) {
    dims[1] = self->n_classes;
    if (imgrec_session_set_input (self->session, self->class_input,
            IMGREC_DTYPE_FLOAT, dims, 2, self->onehot, &eerr) < 0)
      return g_strdup_printf ("Model \"%s\" does not accept a class vector: "
          "%s", path, eerr.message);
  }
  if (imgrec_session_run (self->session, &eerr) < 0)
    return g_strdup_printf ("Model \"%s\" failed to run: %s", path,
        eerr.message);
  if (imgrec_model_n_outputs (self->model) < 1
      || imgrec_session_output (self->session, 0, &out) == NULL)
    return g_strdup_printf ("Model \"%s\" has no output.", path);
  if (out.dtype != IMGREC_DTYPE_FLOAT || out.rank != 4 || out.dims[0] != 1
      || (out.dims[1] != 1 && out.dims[1] != 3) || out.dims[2] < 1
      || out.dims[3] < 1 || out.dims[2] > 16384 || out.dims[3] > 16384)
    return g_strdup_printf ("Model \"%s\" is not an image generator: its "
        "output \"%s\" is not an NCHW image [1, 1 or 3, H, W].", path,
        out.name ? out.name : "0");
  self->out_channels = (gint) out.dims[1];
  self->out_height = (gint) out.dims[2];
  self->out_width = (gint) out.dims[3];

  base = g_path_get_basename (path);
  if (g_str_has_suffix (base, ".onnx"))
    base[strlen (base) - 5] = '\0';
  self->model_name = g_intern_string (base);
  g_free (base);
  return NULL;
}

static gboolean
gst_imgrec_gan_src_start (GstBaseSrc * src)
{
  GstImgRecGanSrc *self = GST_IMGREC_GAN_SRC (src);
  gchar *path, *problem;
  gint class_id;
  guint threads;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->model_path);
  class_id = self->class_id;
  threads = self->threads;
  self->stream_seed = self->seed;
  GST_OBJECT_UNLOCK (self);
  threads = gst_imgrec_property_clamp_threads (GST_ELEMENT (self), threads);

  free_model_state (self);
  problem = load_generator (self, path, class_id, threads);
  if (problem != NULL) {
    post_error (self, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        problem);
    g_free (problem);
    g_free (path);
    free_model_state (self);
    return FALSE;
  }
  self->element_name = g_intern_string (GST_OBJECT_NAME (self));
  self->n_frames = 0;
  self->running_time = 0;
  GST_INFO_OBJECT (self, "generator %s: latent %d, %d classes, image %dx%dx%d,"
      " range [%g, %g]", path, self->latent_dim, self->n_classes,
      self->out_channels, self->out_height, self->out_width, self->range_lo,
      self->range_hi);
  g_free (path);
  return TRUE;
}

static gboolean
gst_imgrec_gan_src_stop (GstBaseSrc * src)
{
  free_model_state (GST_IMGREC_GAN_SRC (src));
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* caps                                                                       */

static GstCaps *
gst_imgrec_gan_src_fixate (GstBaseSrc * src, GstCaps * caps)
{
  GstStructure *s;

  caps = gst_caps_make_writable (caps);
  caps = gst_caps_truncate (caps);
  s = gst_caps_get_structure (caps, 0);
  if (gst_structure_has_field (s, "format"))
    gst_structure_fixate_field_string (s, "format", "RGB");
  gst_structure_fixate_field_nearest_int (s, "width", DEFAULT_WIDTH);
  gst_structure_fixate_field_nearest_int (s, "height", DEFAULT_HEIGHT);
  if (gst_structure_has_field (s, "framerate"))
    gst_structure_fixate_field_nearest_fraction (s, "framerate",
        DEFAULT_FPS_N, DEFAULT_FPS_D);
  else
    gst_structure_set (s, "framerate", GST_TYPE_FRACTION, DEFAULT_FPS_N,
        DEFAULT_FPS_D, NULL);
  if (gst_structure_has_field (s, "pixel-aspect-ratio"))
    gst_structure_fixate_field_nearest_fraction (s, "pixel-aspect-ratio", 1, 1);
  return GST_BASE_SRC_CLASS (parent_class)->fixate (src, caps);
}

static gboolean
gst_imgrec_gan_src_set_caps (GstBaseSrc * src, GstCaps * caps)
{
  GstImgRecGanSrc *self = GST_IMGREC_GAN_SRC (src);
  GstVideoInfo info;
  GstVideoFormat model_format;

  if (self->session == NULL) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Caps were set before a generator was loaded."), (NULL));
    return FALSE;
  }
  if (!gst_video_info_from_caps (&info, caps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Invalid caps for a raw video source: %" GST_PTR_FORMAT, caps),
        (NULL));
    return FALSE;
  }
  if (GST_VIDEO_INFO_FPS_N (&info) <= 0 || GST_VIDEO_INFO_FPS_D (&info) <= 0) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("imgrecgansrc needs a positive frame rate; downstream asked for "
            "%d/%d.", GST_VIDEO_INFO_FPS_N (&info),
            GST_VIDEO_INFO_FPS_D (&info)), (NULL));
    return FALSE;
  }

  free_caps_state (self);
  model_format = self->out_channels == 1 ? GST_VIDEO_FORMAT_GRAY8 :
      GST_VIDEO_FORMAT_RGB;
  gst_video_info_set_format (&self->model_info, model_format,
      self->out_width, self->out_height);
  /* GstVideoConverter converts pictures, not frame rates */
  GST_VIDEO_INFO_FPS_N (&self->model_info) = GST_VIDEO_INFO_FPS_N (&info);
  GST_VIDEO_INFO_FPS_D (&self->model_info) = GST_VIDEO_INFO_FPS_D (&info);
  self->model_buffer = gst_buffer_new_allocate (NULL,
      GST_VIDEO_INFO_SIZE (&self->model_info), NULL);
  self->convert = gst_video_converter_new (&self->model_info, &info,
      gst_imgrec_scaler_config (self->out_height,
          GST_VIDEO_RESAMPLER_METHOD_CUBIC,
          MAX (gst_imgrec_property_usable_threads (self->threads), 1u)));
  if (self->convert == NULL) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Cannot convert the generator's %dx%d image to %s %dx%d.",
            self->out_width, self->out_height,
            gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&info)),
            GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info)),
        (NULL));
    free_caps_state (self);
    return FALSE;
  }
  self->out_info = info;
  self->have_caps = TRUE;
  GST_DEBUG_OBJECT (self, "output %" GST_PTR_FORMAT, caps);
  return TRUE;
}

/* Buffers of the negotiated frame size, from downstream's pool or ours. */
static gboolean
gst_imgrec_gan_src_decide_allocation (GstBaseSrc * src, GstQuery * query)
{
  GstImgRecGanSrc *self = GST_IMGREC_GAN_SRC (src);

  if (!gst_imgrec_video_src_set_pool (src, &self->out_info, query))
    return FALSE;
  return GST_BASE_SRC_CLASS (parent_class)->decide_allocation (src, query);
}

/* ------------------------------------------------------------------------ */
/* timing and seeking                                                         */

static GstClockTime
frame_time (GstImgRecGanSrc * self, guint64 n)
{
  return gst_imgrec_video_src_frame_time (&self->out_info, n);
}

static gboolean
gst_imgrec_gan_src_is_seekable (GstBaseSrc * src)
{
  return TRUE;
}

static gboolean
gst_imgrec_gan_src_do_seek (GstBaseSrc * src, GstSegment * segment)
{
  GstImgRecGanSrc *self = GST_IMGREC_GAN_SRC (src);
  GstClockTime position = segment->position;

  segment->time = segment->start;
  if (self->have_caps) {
    self->n_frames = gst_imgrec_video_src_frame_at (&self->out_info, position);
    self->running_time = frame_time (self, self->n_frames);
  } else {
    self->n_frames = 0;
    self->running_time = 0;
  }
  return TRUE;
}

static gboolean
gst_imgrec_gan_src_query (GstBaseSrc * src, GstQuery * query)
{
  GstImgRecGanSrc *self = GST_IMGREC_GAN_SRC (src);

  if (self->have_caps
      && gst_imgrec_video_src_answer_latency (src, &self->out_info, query))
    return TRUE;
  return GST_BASE_SRC_CLASS (parent_class)->query (src, query);
}

/* ------------------------------------------------------------------------ */
/* frames                                                                     */

/* Writes the generator's output (NCHW floats) into the model-size image. */
static void
output_to_image (GstImgRecGanSrc * self, const gfloat * out,
    GstVideoFrame * img)
{
  gint w = self->out_width, h = self->out_height, c = self->out_channels;
  gsize plane = (gsize) w * h;
  gfloat k = 255.0f / (self->range_hi - self->range_lo);
  gfloat lo = self->range_lo;
  guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (img, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (img, 0);
  gint x, y, ch;

  for (y = 0; y < h; y++) {
    guint8 *row = data + (gsize) y * stride;
    for (x = 0; x < w; x++) {
      for (ch = 0; ch < c; ch++) {
        gfloat v = (out[ch * plane + (gsize) y * w + x] - lo) * k + 0.5f;
        row[x * c + ch] = (guint8) (v <= 0.0f ? 0 : v >= 255.0f ? 255 : v);
      }
    }
  }
}

static GstFlowReturn
gst_imgrec_gan_src_fill (GstPushSrc * psrc, GstBuffer * buf)
{
  GstImgRecGanSrc *self = GST_IMGREC_GAN_SRC (psrc);
  GstVideoFrame img, frame;
  GstImgRecGanMeta *meta;
  imgrec_tensor_info out_info;
  imgrec_error eerr;
  const gfloat *out;
  gint class_id, cls = -1;
  guint64 class_duration, latent_index, n = self->n_frames;
  gdouble position = 0.0;
  gboolean walk;
  guint walk_frames;
  gint64 dims[2];
  GstClockTime pts, next;

  if (G_UNLIKELY (!self->have_caps)) {
    GST_ELEMENT_ERROR (self, CORE, NOT_IMPLEMENTED,
        ("No caps were negotiated before the first frame."), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  GST_OBJECT_LOCK (self);
  class_id = self->class_id;
  class_duration = self->class_duration;
  walk = self->latent_walk;
  walk_frames = self->walk_frames;
  GST_OBJECT_UNLOCK (self);

  pts = frame_time (self, n);
  next = frame_time (self, n + 1);

  /* latent */
  if (walk) {
    gint64 k = (gint64) (n / walk_frames);
    latent_index = (guint64) k;
    position = (gdouble) (n % walk_frames) / walk_frames;
    if (self->key_index != k) {
      if (self->key_index >= 0 && self->key_index == k - 1) {
        gfloat *t = self->key_a;
        self->key_a = self->key_b;
        self->key_b = t;
      } else {
        draw_key_latent (self->stream_seed, (guint64) k, self->key_a,
            self->latent_dim);
      }
      draw_key_latent (self->stream_seed, (guint64) k + 1, self->key_b,
          self->latent_dim);
      self->key_index = k;
    }
    slerp (self->key_a, self->key_b, position, self->z, self->latent_dim);
  } else {
    latent_index = n;
    draw_key_latent (self->stream_seed, n, self->z, self->latent_dim);
  }

  /* class */
  dims[0] = 1;
  dims[1] = self->latent_dim;
  if (imgrec_session_set_input (self->session, self->z_input,
          IMGREC_DTYPE_FLOAT, dims, 2, self->z, &eerr) < 0)
    goto engine_error;
  if (self->n_classes > 0) {
    if (class_id >= 0 && class_id < self->n_classes)
      cls = class_id;
    else
      cls = (gint) ((class_duration > 0 ? pts / class_duration : n)
          % (guint64) self->n_classes);
    memset (self->onehot, 0, sizeof (gfloat) * self->n_classes);
    self->onehot[cls] = 1.0f;
    dims[1] = self->n_classes;
    if (imgrec_session_set_input (self->session, self->class_input,
            IMGREC_DTYPE_FLOAT, dims, 2, self->onehot, &eerr) < 0)
      goto engine_error;
  }
  if (imgrec_session_run (self->session, &eerr) < 0)
    goto engine_error;
  out = imgrec_session_output (self->session, 0, &out_info);
  if (out == NULL || out_info.rank != 4 || out_info.dims[2] != self->out_height
      || out_info.dims[3] != self->out_width) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("The generator's output changed shape between frames."), (NULL));
    return GST_FLOW_ERROR;
  }

  if (!gst_video_frame_map (&img, &self->model_info, self->model_buffer,
          GST_MAP_WRITE))
    goto map_error;
  output_to_image (self, out, &img);
  gst_video_frame_unmap (&img);
  if (!gst_video_frame_map (&img, &self->model_info, self->model_buffer,
          GST_MAP_READ))
    goto map_error;
  if (!gst_video_frame_map (&frame, &self->out_info, buf, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&img);
    goto map_error;
  }
  gst_video_converter_frame (self->convert, &img, &frame);
  gst_video_frame_unmap (&frame);
  gst_video_frame_unmap (&img);

  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buf) = next - pts;
  GST_BUFFER_OFFSET (buf) = n;
  GST_BUFFER_OFFSET_END (buf) = n + 1;
  if (n == 0)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);

  meta = gst_buffer_add_imgrec_gan_meta (buf, GST_IMGREC_GAN_ROLE_GENERATED,
      self->model_name, self->element_name);
  meta->info.x = 0;
  meta->info.y = 0;
  meta->info.width = GST_VIDEO_INFO_WIDTH (&self->out_info);
  meta->info.height = GST_VIDEO_INFO_HEIGHT (&self->out_info);
  meta->info.inference_pts = pts;
  meta->seed = self->stream_seed;
  meta->latent_index = latent_index;
  meta->latent_position = position;
  meta->class_id = cls;
  meta->label = cls >= 0 ? self->labels[cls] : NULL;

  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT " at %" GST_TIME_FORMAT
      ": latent %" G_GUINT64_FORMAT " + %.3f, class %d", n,
      GST_TIME_ARGS (pts), latent_index, position, cls);
  self->n_frames = n + 1;
  self->running_time = next;
  return GST_FLOW_OK;

engine_error:
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("The generator failed: %s", eerr.message), (NULL));
  return GST_FLOW_ERROR;

map_error:
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("Could not map a video frame."), (NULL));
  return GST_FLOW_ERROR;
}

/* ------------------------------------------------------------------------ */
/* properties                                                                 */

static void
gst_imgrec_gan_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecGanSrc *self = GST_IMGREC_GAN_SRC (object);

  GST_OBJECT_LOCK (self);
  if (gst_imgrec_property_refuse_locked (GST_ELEMENT (self), pspec))
    return;
  switch (prop_id) {
    case PROP_MODEL:
      g_free (self->model_path);
      self->model_path = g_value_dup_string (value);
      break;
    case PROP_SEED:
      self->seed = g_value_get_uint64 (value);
      break;
    case PROP_CLASS:
      self->class_id = g_value_get_int (value);
      break;
    case PROP_CLASS_DURATION:
      self->class_duration = g_value_get_uint64 (value);
      break;
    case PROP_LATENT_WALK:
      self->latent_walk = g_value_get_boolean (value);
      break;
    case PROP_WALK_FRAMES:
      self->walk_frames = g_value_get_uint (value);
      break;
    case PROP_IS_LIVE:
      GST_OBJECT_UNLOCK (self);
      gst_base_src_set_live (GST_BASE_SRC (self), g_value_get_boolean (value));
      return;
    case PROP_THREADS:
      self->threads = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_gan_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstImgRecGanSrc *self = GST_IMGREC_GAN_SRC (object);

  if (prop_id == PROP_IS_LIVE) {
    g_value_set_boolean (value, gst_base_src_is_live (GST_BASE_SRC (self)));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_SEED:
      g_value_set_uint64 (value, self->seed);
      break;
    case PROP_CLASS:
      g_value_set_int (value, self->class_id);
      break;
    case PROP_CLASS_DURATION:
      g_value_set_uint64 (value, self->class_duration);
      break;
    case PROP_LATENT_WALK:
      g_value_set_boolean (value, self->latent_walk);
      break;
    case PROP_WALK_FRAMES:
      g_value_set_uint (value, self->walk_frames);
      break;
    case PROP_THREADS:
      g_value_set_uint (value, self->threads);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_gan_src_finalize (GObject * object)
{
  GstImgRecGanSrc *self = GST_IMGREC_GAN_SRC (object);

  free_model_state (self);
  g_free (self->model_path);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_imgrec_gan_src_class_init (GstImgRecGanSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *src_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *push_class = GST_PUSH_SRC_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_gan_src_debug, "imgrecgansrc", 0,
      "imgrec GAN generator source");

  gobject_class->set_property = gst_imgrec_gan_src_set_property;
  gobject_class->get_property = gst_imgrec_gan_src_get_property;
  gobject_class->finalize = gst_imgrec_gan_src_finalize;

  properties[PROP_MODEL] = g_param_spec_string ("model", "Model",
      "Path of the ONNX GAN generator (z [+ one-hot class] -> image)",
      DEFAULT_MODEL, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_SEED] = g_param_spec_uint64 ("seed", "Seed",
      "Seed of the latent vectors: the same seed gives the same frames",
      0, G_MAXUINT64, DEFAULT_SEED, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_CLASS] = g_param_spec_int ("class", "Class",
      "Class the generator is conditioned on; -1 = every class in turn, each "
      "for class-duration", -1, G_MAXINT, DEFAULT_CLASS,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_CLASS_DURATION] = g_param_spec_uint64 ("class-duration",
      "Class duration", "With class=-1, stream time (ns) each class is shown "
      "for; 0 = a new class every frame", 0, G_MAXUINT64,
      DEFAULT_CLASS_DURATION, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_LATENT_WALK] = g_param_spec_boolean ("latent-walk",
      "Latent walk", "Interpolate spherically between random key latents "
      "over walk-frames frames (a continuous video) instead of a new latent "
      "every frame", DEFAULT_LATENT_WALK, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_WALK_FRAMES] = g_param_spec_uint ("walk-frames",
      "Walk frames", "Frames from one key latent of the walk to the next",
      1, G_MAXINT, DEFAULT_WALK_FRAMES, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_IS_LIVE] = g_param_spec_boolean ("is-live", "Is live",
      "Act as a live source, producing frames at the frame rate",
      DEFAULT_IS_LIVE, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_THREADS] = g_param_spec_uint ("threads", "Threads",
      "Threads for inference (0 = a share of the process's thread budget: "
      "the CPUs, or IMGREC_THREAD_BUDGET, divided among the inference "
      "elements running, scaling on one thread; more than the CPUs is "
      "lowered to their number, with a warning)", 0, 1024, DEFAULT_THREADS,
      rw | GST_PARAM_MUTABLE_READY);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);

  gst_element_class_set_static_metadata (element_class,
      "imgrec GAN source", "Source/Video",
      "Synthetic video drawn by a GAN generator ONNX model, with a latent walk "
      "and class cycling; every frame carries its provenance as metadata",
      "imgrec project");
  gst_element_class_add_static_pad_template (element_class, &src_template);

  src_class->start = GST_DEBUG_FUNCPTR (gst_imgrec_gan_src_start);
  src_class->stop = GST_DEBUG_FUNCPTR (gst_imgrec_gan_src_stop);
  src_class->set_caps = GST_DEBUG_FUNCPTR (gst_imgrec_gan_src_set_caps);
  src_class->fixate = GST_DEBUG_FUNCPTR (gst_imgrec_gan_src_fixate);
  src_class->decide_allocation =
      GST_DEBUG_FUNCPTR (gst_imgrec_gan_src_decide_allocation);
  src_class->get_times = GST_DEBUG_FUNCPTR (gst_imgrec_video_src_get_times);
  src_class->is_seekable = GST_DEBUG_FUNCPTR (gst_imgrec_gan_src_is_seekable);
  src_class->do_seek = GST_DEBUG_FUNCPTR (gst_imgrec_gan_src_do_seek);
  src_class->query = GST_DEBUG_FUNCPTR (gst_imgrec_gan_src_query);
  push_class->fill = GST_DEBUG_FUNCPTR (gst_imgrec_gan_src_fill);
}

static void
gst_imgrec_gan_src_init (GstImgRecGanSrc * self)
{
  self->seed = DEFAULT_SEED;
  self->class_id = DEFAULT_CLASS;
  self->class_duration = DEFAULT_CLASS_DURATION;
  self->latent_walk = DEFAULT_LATENT_WALK;
  self->walk_frames = DEFAULT_WALK_FRAMES;
  self->threads = DEFAULT_THREADS;
  self->key_index = -1;
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_live (GST_BASE_SRC (self), DEFAULT_IS_LIVE);
}
