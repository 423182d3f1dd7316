/* imgrecdrivesrc: a synthetic driving scene with traffic signs drawn by a
 * GAN generator, and its ground truth.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrecdrivesrc
 * @title: imgrecdrivesrc
 *
 * A video source that renders a procedural road scene seen from a car's
 * windscreen, with traffic signs whose faces are drawn by a class-
 * conditional GAN generator (ONNX, run by the imgrec engine on the CPU), and
 * writes the ground truth of every sign in every frame: a camera feed for
 * testing detection, tracking and recognition pipelines without a camera or
 * a data set, and the feed of `bash tools/demo.sh`.
 *
 * ## The scene
 *
 * - A two-lane road in perspective (asphalt, shoulders, edge lines, a dashed
 *   centre line) with gentle S-bends, sky, hills and a tree line that pan in
 *   the bends, mown grass bands, trees and delineator posts, the car's
 *   bonnet at the bottom.  The car drives in the right lane at
 *   #GstImgRecDriveSrc:speed, so lane marks and roadside objects flow toward
 *   the camera at the speed's rate.
 * - **Traffic signs** (GTSRB's 43 classes, chosen at random) stand on poles
 *   at the right (65 %) and left (20 %) road side or hang from gantries over
 *   the lanes (15 %), on average every #GstImgRecDriveSrc:sign-spacing
 *   metres.  Each appears a few pixels wide far away and grows as the car
 *   approaches (at 1280x720 a roadside sign reaches about 120-150 px) until
 *   it leaves the frame, like GTSRB's tracks.  Its face is one picture of the
 *   generator (latent and class fixed per sign, so one generator run per
 *   sign), cut out with the class's outline — circle, triangle, inverted
 *   triangle (yield), octagon (stop), diamond (priority road) — so no
 *   square margin shows.
 * - **Segments** (#GstImgRecDriveSrc:segments, a list of `name:seconds`
 *   that repeats): `day`; `night` (dark, headlights light the road and the
 *   retroreflective signs near the car, sensor noise); `rain` (grey light,
 *   haze that swallows the distance, streaks, noise); `noise` (strong
 *   sensor noise); `motion-blur` (camera shake blur); `covered` (something
 *   over the lens: a nearly uniform dark frame, no sign visible) and
 *   `defocus` (a heavily blurred lens) — the camera anomalies a
 *   discriminator should flag.  The default is a 60 s loop:
 *   `day:14,night:10,rain:10,noise:5,motion-blur:8,day:5,covered:3,day:2,defocus:3`.
 * - **Deterministic**: every frame is a function of #GstImgRecDriveSrc:seed,
 *   the generator and its time (frame n is at n / framerate), at any
 *   resolution: the same seed and caps give bit-identical frames, a seek
 *   gives what a run from the start would, and other sizes show the same
 *   scene scaled (the focal length is 0.9 x the width, the horizon at 47 %
 *   of the height).
 *
 * ## Ground truth
 *
 * With #GstImgRecDriveSrc:ground-truth-location set, one JSON object per
 * frame is written (JSON Lines, flushed every frame):
 *
 * - `frame` (index), `timestamp` (PTS, ns), `segment` (its name), `width`,
 *   `height`;
 * - `signs`: every sign drawn in the frame (none while the lens is covered),
 *   each with `track-id` (one per physical sign, never reused in a run),
 *   `class-id` (GTSRB id), `label` (the generator's `imgrec.labels` name),
 *   `shape`, `mount` (`right`, `left`, `overhead`), `distance` (metres
 *   ahead), `box` {`x-min`, `y-min`, `x-max`, `y-max`} (frame pixels,
 *   sub-pixel, clipped to the frame: the box of the sign's outline, the
 *   same box format as imgrecjson's detections) and `truncated` (part of the
 *   sign is outside the frame).
 *
 * ## Model
 *
 * #GstImgRecDriveSrc:model names the traffic-sign generator
 * (`models/traffic-signs-gan/generator.onnx`): inputs `z` [N, latent-dim]
 * and a one-hot class [N, 43]; output an NCHW RGB image (square);
 * `imgrec.output-range` (default `-1,1`) and `imgrec.labels` are read.  A
 * missing model, a model that is not such a generator, or an invalid
 * #GstImgRecDriveSrc:segments list or ground-truth file is reported with
 * GST_ELEMENT_ERROR when going from READY to PAUSED.
 *
 * ## Output
 *
 * Any raw format #GstVideoConverter makes (the scene is drawn in BGRx with
 * cairo; other formats are converted), any size, any positive frame rate;
 * unconstrained: BGRx 1280x720 at 30/1.  `num-buffers` limits the frames;
 * with #GstImgRecDriveSrc:is-live the source is a live source synchronised
 * to the clock.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 imgrecdrivesrc model=models/traffic-signs-gan/generator.onnx \
 *     ground-truth-location=truth.jsonl num-buffers=1800 ! videoconvert ! \
 *     x264enc ! mp4mux ! filesink location=drive.mp4
 * ]| One minute of the default loop as MP4 and its ground truth.
 * |[
 * gst-launch-1.0 imgrecdrivesrc model=generator.onnx segments="night:30" \
 *     speed=90 seed=3 ! video/x-raw,format=I420,width=640,height=360 ! \
 *     videoconvert ! autovideosink
 * ]| Half a minute of night driving at 90 km/h, shown on screen.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecdrivesrc.h"
#include "gstimgrecfile.h"
#include "gstimgrecmodel.h"
#include "gstimgrecvideosrc.h"
#include "gstimgrecproperty.h"

#include <errno.h>
#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_drive_src_debug);
#define GST_CAT_DEFAULT gst_imgrec_drive_src_debug

#define DEFAULT_MODEL NULL
#define DEFAULT_SEED 0
#define DEFAULT_SPEED 60.0
#define DEFAULT_SIGN_SPACING 45.0
#define DEFAULT_SEGMENTS "day:14,night:10,rain:10,noise:5,motion-blur:8," \
    "day:5,covered:3,day:2,defocus:3"
#define DEFAULT_GROUND_TRUTH_LOCATION NULL
#define DEFAULT_IS_LIVE FALSE
#define DEFAULT_THREADS 1

#define DEFAULT_WIDTH 1280
#define DEFAULT_HEIGHT 720
#define DEFAULT_FPS_N 30
#define DEFAULT_FPS_D 1

#define GTSRB_CLASSES 43
/* latents are drawn from N(0, 1) scaled by this (the "truncation trick"):
 * typical signs rather than the generator's rare odd ones */
#define LATENT_TRUNCATION 0.8f
/* dark faces are brightened until their 95th luminance percentile reaches
 * FACE_WHITE, by at most FACE_MAX_GAIN */
#define FACE_WHITE 215.0f
#define FACE_MAX_GAIN 2.5f

#if G_BYTE_ORDER == G_LITTLE_ENDIAN
#define RENDER_FORMAT GST_VIDEO_FORMAT_BGRx
#else
#define RENDER_FORMAT GST_VIDEO_FORMAT_xRGB
#endif

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_SEED,
  PROP_SPEED,
  PROP_SIGN_SPACING,
  PROP_SEGMENTS,
  PROP_GROUND_TRUTH_LOCATION,
  PROP_IS_LIVE,
  PROP_THREADS,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

#define VIDEO_FORMATS "{ BGRx, RGBx, xRGB, xBGR, BGRA, RGBA, ARGB, ABGR, " \
    "RGB, BGR, I420, YV12, NV12, NV21, Y42B, Y444, YUY2, UYVY, GRAY8 }"

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

#define gst_imgrec_drive_src_parent_class parent_class
G_DEFINE_TYPE (GstImgRecDriveSrc, gst_imgrec_drive_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE (imgrecdrivesrc, "imgrecdrivesrc", GST_RANK_NONE,
    GST_TYPE_IMGREC_DRIVE_SRC);

/* ------------------------------------------------------------------------ */
/* sign faces: one generator run per sign                                     */

static guint64
splitmix64 (guint64 * state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static gdouble
uniform_open (guint64 * state)
{
  return ((splitmix64 (state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* N(0, 1) latent of sign @id, a function of (seed, id) only */
static void
draw_latent (guint64 seed, guint64 id, gfloat * z, gint n)
{
  guint64 state = (seed ^ G_GUINT64_CONSTANT (0x5DEECE66D)) *
      G_GUINT64_CONSTANT (0xD1B54A32D192ED03) ^ id;
  gint i;

  (void) splitmix64 (&state);
  for (i = 0; i < n; i += 2) {
    gdouble u1 = uniform_open (&state), u2 = uniform_open (&state);
    gdouble r = sqrt (-2.0 * log (u1));
    z[i] = (gfloat) (r * cos (2.0 * G_PI * u2)) * LATENT_TRUNCATION;
    if (i + 1 < n)
      z[i + 1] = (gfloat) (r * sin (2.0 * G_PI * u2)) * LATENT_TRUNCATION;
  }
}

static cairo_surface_t *
make_face (guint64 id, gint class_id, gpointer user_data)
{
  GstImgRecDriveSrc *self = user_data;
  imgrec_tensor_info info;
  imgrec_error eerr;
  cairo_surface_t *face;
  const gfloat *out;
  gfloat lo, k, gain;
  gint64 dims[2] = { 1, 0 };
  gint n = self->face_size, x, y, stride;
  gsize plane = (gsize) n * n;
  guint8 *data;

  draw_latent (self->stream_seed, id, self->z, self->latent_dim);
  memset (self->onehot, 0, sizeof (gfloat) * self->n_classes);
  self->onehot[CLAMP (class_id, 0, self->n_classes - 1)] = 1.0f;
  dims[1] = self->latent_dim;
  if (imgrec_session_set_input (self->session, self->z_input,
          IMGREC_DTYPE_FLOAT, dims, 2, self->z, &eerr) < 0)
    goto engine_error;
  dims[1] = self->n_classes;
  if (imgrec_session_set_input (self->session, self->class_input,
          IMGREC_DTYPE_FLOAT, dims, 2, self->onehot, &eerr) < 0)
    goto engine_error;
  if (imgrec_session_run (self->session, &eerr) < 0)
    goto engine_error;
  out = imgrec_session_output (self->session, 0, &info);
  if (out == NULL || info.rank != 4 || info.dims[1] != 3
      || info.dims[2] != n || info.dims[3] != n) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("The sign generator's output changed shape between runs."), (NULL));
    return NULL;
  }
  lo = self->range_lo;
  k = 255.0f / (self->range_hi - self->range_lo);

  /* GTSRB (and so the generator) has many signs photographed in shadow:
   * lift dark faces so that the bright end of the sign (its white or
   * yellow) is near white, as a sign in daylight is; the scene's light is
   * applied when it is drawn */
  {
    guint hist[256] = { 0 }, count = 0, acc = 0;
    gint lum, b0 = n * 2 / 10, b1 = n - b0, p95 = 255;
    for (y = b0; y < b1; y++)
      for (x = b0; x < b1; x++) {
        gsize i = (gsize) y * n + x;
        gfloat l = 0.299f * out[i] + 0.587f * out[plane + i]
            + 0.114f * out[2 * plane + i];
        lum = (gint) ((l - lo) * k + 0.5f);
        hist[CLAMP (lum, 0, 255)]++;
        count++;
      }
    for (lum = 0; lum < 256; lum++) {
      acc += hist[lum];
      if (acc * 100 >= count * 95) {
        p95 = MAX (lum, 1);
        break;
      }
    }
    gain = CLAMP (FACE_WHITE / p95, 1.0f, FACE_MAX_GAIN);
  }

  face = cairo_image_surface_create (CAIRO_FORMAT_RGB24, n, n);
  data = cairo_image_surface_get_data (face);
  stride = cairo_image_surface_get_stride (face);
  cairo_surface_flush (face);
  for (y = 0; y < n; y++) {
    guint32 *row = (guint32 *) (data + (gsize) y * stride);
    for (x = 0; x < n; x++) {
      gsize i = (gsize) y * n + x;
      gint c, v[3];
      for (c = 0; c < 3; c++) {
        gfloat f = (out[c * plane + i] - lo) * k * gain + 0.5f;
        v[c] = f <= 0.0f ? 0 : f >= 255.0f ? 255 : (gint) f;
      }
      row[x] = 0xff000000u | ((guint32) v[0] << 16) | ((guint32) v[1] << 8)
          | (guint32) v[2];
    }
  }
  cairo_surface_mark_dirty (face);
  GST_LOG_OBJECT (self, "face of sign %" G_GUINT64_FORMAT ", class %d", id,
      class_id);
  return face;

engine_error:
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("The sign generator failed: %s", eerr.message), (NULL));
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* start / stop                                                               */

static void
free_caps_state (GstImgRecDriveSrc * self)
{
  if (self->convert)
    gst_video_converter_free (self->convert);
  self->convert = NULL;
  gst_clear_buffer (&self->render_buffer);
  self->have_caps = FALSE;
}

static void
free_state (GstImgRecDriveSrc * self)
{
  free_caps_state (self);
  imgrec_drive_scene_free (self->scene);
  self->scene = NULL;
  if (self->signs)
    g_array_free (self->signs, TRUE);
  self->signs = NULL;
  if (self->gt_file == stdout)
    fflush (stdout);
  else if (self->gt_file)
    fclose (self->gt_file);
  self->gt_file = NULL;
  g_clear_pointer (&self->gt_path, g_free);
  if (self->gt_line)
    g_string_free (self->gt_line, TRUE);
  self->gt_line = NULL;
  if (self->session)
    imgrec_session_free (self->session);
  self->session = NULL;
  gst_imgrec_model_release (self->model);
  self->model = NULL;
  g_clear_pointer (&self->labels, g_strfreev);
  g_clear_pointer (&self->z, g_free);
  g_clear_pointer (&self->onehot, g_free);
}

static gboolean
is_vector_input (const imgrec_tensor_info * in)
{
  return (in->dtype == IMGREC_DTYPE_FLOAT || in->dtype == IMGREC_DTYPE_FLOAT16)
      && in->rank == 2 && in->dims[0] <= 1 && in->dims[1] > 0
      && in->dims[1] <= 65536;
}

/* Loads the sign generator; on failure returns a sentence. */
static gchar *
load_generator (GstImgRecDriveSrc * self, const gchar * path, guint threads)
{
  imgrec_session_options opts = { 0 };
  imgrec_tensor_info out;
  imgrec_error eerr;
  GError *ferr = NULL;
  const imgrec_tensor_info *zin, *cin;
  const gchar *s;
  gint64 dims[2] = { 1, 0 };
  gint i;

  if (path == NULL || *path == '\0')
    return g_strdup ("No model set: set the \"model\" property to the "
        "traffic-sign GAN generator (models/traffic-signs-gan/"
        "generator.onnx).");
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
        "imgrecdrivesrc needs the traffic-sign gan-generator.", path, s);
  if (imgrec_model_n_inputs (self->model) != 2)
    return g_strdup_printf ("Model \"%s\" is not a class-conditional "
        "generator: it has %d inputs (expected the latent z and a one-hot "
        "class).", path, imgrec_model_n_inputs (self->model));
  self->z_input = imgrec_model_input_index (self->model, "z");
  if (self->z_input < 0)
    self->z_input = 0;
  self->class_input = 1 - self->z_input;
  zin = imgrec_model_input (self->model, self->z_input);
  cin = imgrec_model_input (self->model, self->class_input);
  if (!is_vector_input (zin) || !is_vector_input (cin))
    return g_strdup_printf ("Model \"%s\" is not a generator: its inputs are "
        "not float vectors [N, latent-dim] and [N, classes].", path);
  self->latent_dim = (gint) zin->dims[1];
  self->n_classes = (gint) cin->dims[1];
  if (self->n_classes != GTSRB_CLASSES)
    return g_strdup_printf ("Model \"%s\" has %d classes; imgrecdrivesrc "
        "draws GTSRB's %d traffic-sign classes.", path, self->n_classes,
        GTSRB_CLASSES);
  s = imgrec_model_metadata_lookup (self->model, "imgrec.output-range");
  self->range_lo = -1.0f;
  self->range_hi = 1.0f;
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
  s = imgrec_model_metadata_lookup (self->model, "imgrec.labels");
  self->labels = g_new0 (gchar *, self->n_classes + 1);
  {
    guint n = 0;
    gchar **lines = s ? gst_imgrec_model_split_labels (s, &n) : NULL;
    for (i = 0; i < self->n_classes; i++)
      self->labels[i] = (guint) i < n && *lines[i] ?
          g_strdup (lines[i]) : g_strdup_printf ("%d", i);
    g_strfreev (lines);
  }

  opts.threads = (int) threads;
  self->session = imgrec_session_new (self->model, &opts, &eerr);
  if (self->session == NULL)
    return g_strdup_printf ("Could not create an inference session for model "
        "\"%s\": %s", path, eerr.message);
  self->z = g_new0 (gfloat, self->latent_dim + 1);
  self->onehot = g_new0 (gfloat, self->n_classes);
  self->onehot[0] = 1.0f;
  dims[1] = self->latent_dim;
  if (imgrec_session_set_input (self->session, self->z_input,
          IMGREC_DTYPE_FLOAT, dims, 2, self->z, &eerr) < 0)
    return g_strdup_printf ("Model \"%s\" does not accept a latent vector: "
        "%s", path, eerr.message);
  dims[1] = self->n_classes;
  if (imgrec_session_set_input (self->session, self->class_input,
          IMGREC_DTYPE_FLOAT, dims, 2, self->onehot, &eerr) < 0)
    return g_strdup_printf ("Model \"%s\" does not accept a class vector: %s",
        path, eerr.message);
  if (imgrec_session_run (self->session, &eerr) < 0)
    return g_strdup_printf ("Model \"%s\" failed to run: %s", path,
        eerr.message);
  if (imgrec_model_n_outputs (self->model) < 1
      || imgrec_session_output (self->session, 0, &out) == NULL
      || out.dtype != IMGREC_DTYPE_FLOAT || out.rank != 4 || out.dims[0] != 1
      || out.dims[1] != 3 || out.dims[2] != out.dims[3] || out.dims[2] < 4
      || out.dims[2] > 1024)
    return g_strdup_printf ("Model \"%s\" is not a sign generator: its "
        "output is not a square NCHW RGB image [1, 3, S, S].", path);
  self->face_size = (gint) out.dims[2];
  return NULL;
}

static gboolean
gst_imgrec_drive_src_start (GstBaseSrc * src)
{
  GstImgRecDriveSrc *self = GST_IMGREC_DRIVE_SRC (src);
  ImgRecDriveSettings set = { 0 };
  ImgRecDriveSegment *segments;
  gchar *path, *segments_text, *gt_path, *problem = NULL;
  guint threads, n_segments;
  GError *ferr = NULL;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->model_path);
  segments_text = g_strdup (self->segments);
  gt_path = g_strdup (self->ground_truth_location);
  threads = self->threads;
  set.seed = self->seed;
  set.speed_kmh = self->speed;
  set.sign_spacing = self->sign_spacing;
  GST_OBJECT_UNLOCK (self);
  threads = gst_imgrec_property_clamp_threads (GST_ELEMENT (self), threads);

  free_state (self);
  segments = imgrec_drive_parse_segments (segments_text, &n_segments,
      &problem);
  if (segments == NULL)
    goto fail;
  problem = load_generator (self, path, threads);
  if (problem != NULL)
    goto fail;
  if (gt_path != NULL && *gt_path != '\0') {
    self->gt_file = gst_imgrec_file_open_output (gt_path,
        "ground-truth file", TRUE, &ferr);
    if (self->gt_file == NULL) {
      problem = g_strdup (ferr->message);
      g_error_free (ferr);
      goto fail;
    }
    self->gt_path = g_strdup (gt_path);
    self->gt_line = g_string_sized_new (1024);
  }

  self->stream_seed = set.seed;
  set.segments = segments;
  set.n_segments = n_segments;
  set.face_func = make_face;
  set.face_data = self;
  self->scene = imgrec_drive_scene_new (&set);
  self->signs = g_array_new (FALSE, FALSE, sizeof (ImgRecDriveSign));
  self->n_frames = 0;
  GST_INFO_OBJECT (self, "generator %s (%dx%d faces), %u segments, seed %"
      G_GUINT64_FORMAT, path, self->face_size, self->face_size, n_segments,
      set.seed);
  g_free (segments);
  g_free (path);
  g_free (segments_text);
  g_free (gt_path);
  return TRUE;

fail:
  gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_ERROR,
      GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, problem, NULL,
      __FILE__, GST_FUNCTION, __LINE__);
  g_free (segments);
  g_free (path);
  g_free (segments_text);
  g_free (gt_path);
  free_state (self);
  return FALSE;
}

static gboolean
gst_imgrec_drive_src_stop (GstBaseSrc * src)
{
  free_state (GST_IMGREC_DRIVE_SRC (src));
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* caps                                                                       */

static GstCaps *
gst_imgrec_drive_src_fixate (GstBaseSrc * src, GstCaps * caps)
{
  GstStructure *s;

  caps = gst_caps_make_writable (caps);
  caps = gst_caps_truncate (caps);
  s = gst_caps_get_structure (caps, 0);
  if (gst_structure_has_field (s, "format"))
    gst_structure_fixate_field_string (s, "format",
        gst_video_format_to_string (RENDER_FORMAT));
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
gst_imgrec_drive_src_set_caps (GstBaseSrc * src, GstCaps * caps)
{
  GstImgRecDriveSrc *self = GST_IMGREC_DRIVE_SRC (src);
  GstVideoInfo info;

  if (self->scene == NULL) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Caps were set before the source was started."), (NULL));
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
        ("imgrecdrivesrc needs a positive frame rate; downstream asked for "
            "%d/%d.", GST_VIDEO_INFO_FPS_N (&info),
            GST_VIDEO_INFO_FPS_D (&info)), (NULL));
    return FALSE;
  }

  free_caps_state (self);
  self->direct = GST_VIDEO_INFO_FORMAT (&info) == RENDER_FORMAT;
  if (!self->direct) {
    gst_video_info_set_format (&self->render_info, RENDER_FORMAT,
        GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info));
    GST_VIDEO_INFO_FPS_N (&self->render_info) = GST_VIDEO_INFO_FPS_N (&info);
    GST_VIDEO_INFO_FPS_D (&self->render_info) = GST_VIDEO_INFO_FPS_D (&info);
    self->render_buffer = gst_buffer_new_allocate (NULL,
        GST_VIDEO_INFO_SIZE (&self->render_info), NULL);
    self->convert = gst_video_converter_new (&self->render_info, &info,
        gst_structure_new ("GstVideoConverter",
            GST_VIDEO_CONVERTER_OPT_DITHER_METHOD,
            GST_TYPE_VIDEO_DITHER_METHOD, GST_VIDEO_DITHER_NONE,
            GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT, 1, NULL));
    if (self->convert == NULL) {
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("Cannot convert the scene to %s %dx%d.",
              gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&info)),
              GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info)),
          (NULL));
      free_caps_state (self);
      return FALSE;
    }
  }
  self->out_info = info;
  self->have_caps = TRUE;
  GST_DEBUG_OBJECT (self, "output %" GST_PTR_FORMAT, caps);
  return TRUE;
}

/* Buffers of the negotiated frame size, from downstream's pool or ours. */
static gboolean
gst_imgrec_drive_src_decide_allocation (GstBaseSrc * src, GstQuery * query)
{
  GstImgRecDriveSrc *self = GST_IMGREC_DRIVE_SRC (src);

  if (!gst_imgrec_video_src_set_pool (src, &self->out_info, query))
    return FALSE;
  return GST_BASE_SRC_CLASS (parent_class)->decide_allocation (src, query);
}

/* ------------------------------------------------------------------------ */
/* timing and seeking                                                         */

static GstClockTime
frame_time (GstImgRecDriveSrc * self, guint64 n)
{
  return gst_imgrec_video_src_frame_time (&self->out_info, n);
}

static gboolean
gst_imgrec_drive_src_is_seekable (GstBaseSrc * src)
{
  return TRUE;
}

static gboolean
gst_imgrec_drive_src_do_seek (GstBaseSrc * src, GstSegment * segment)
{
  GstImgRecDriveSrc *self = GST_IMGREC_DRIVE_SRC (src);

  segment->time = segment->start;
  self->n_frames = self->have_caps ?
      gst_imgrec_video_src_frame_at (&self->out_info, segment->position) : 0;
  return TRUE;
}

static gboolean
gst_imgrec_drive_src_query (GstBaseSrc * src, GstQuery * query)
{
  GstImgRecDriveSrc *self = GST_IMGREC_DRIVE_SRC (src);

  if (self->have_caps
      && gst_imgrec_video_src_answer_latency (src, &self->out_info, query))
    return TRUE;
  return GST_BASE_SRC_CLASS (parent_class)->query (src, query);
}

/* ------------------------------------------------------------------------ */
/* ground truth                                                               */

static void
append_json_string (GString * out, const gchar * s)
{
  g_string_append_c (out, '"');
  for (; *s; s++) {
    guchar c = (guchar) * s;
    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (out, "\\u%04x", c);
    else
      g_string_append_c (out, (gchar) c);
  }
  g_string_append_c (out, '"');
}

static void
append_number (GString * out, const gchar * name, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append_printf (out, "\"%s\":%s", name,
      g_ascii_formatd (buf, sizeof (buf), "%.2f", v));
}

static gboolean
write_ground_truth (GstImgRecDriveSrc * self, guint64 n, GstClockTime pts,
    ImgRecDriveKind kind)
{
  GString *l = self->gt_line;
  guint i;

  g_string_truncate (l, 0);
  g_string_append_printf (l, "{\"frame\":%" G_GUINT64_FORMAT ",\"timestamp\":%"
      G_GUINT64_FORMAT ",\"segment\":\"%s\",\"width\":%d,\"height\":%d,"
      "\"signs\":[", n, pts, imgrec_drive_kind_name (kind),
      GST_VIDEO_INFO_WIDTH (&self->out_info),
      GST_VIDEO_INFO_HEIGHT (&self->out_info));
  for (i = 0; i < self->signs->len; i++) {
    const ImgRecDriveSign *s = &g_array_index (self->signs, ImgRecDriveSign,
        i);
    g_string_append_printf (l, "%s{\"track-id\":%" G_GUINT64_FORMAT
        ",\"class-id\":%d,\"label\":", i ? "," : "", s->track_id, s->class_id);
    append_json_string (l, self->labels[s->class_id]);
    g_string_append_printf (l, ",\"shape\":\"%s\",\"mount\":\"%s\",",
        imgrec_drive_shape_name (s->shape), imgrec_drive_mount_name (s->mount));
    append_number (l, "distance", s->distance);
    g_string_append (l, ",\"box\":{");
    append_number (l, "x-min", s->x_min);
    g_string_append_c (l, ',');
    append_number (l, "y-min", s->y_min);
    g_string_append_c (l, ',');
    append_number (l, "x-max", s->x_max);
    g_string_append_c (l, ',');
    append_number (l, "y-max", s->y_max);
    g_string_append_printf (l, "},\"truncated\":%s}",
        s->truncated ? "true" : "false");
  }
  g_string_append (l, "]}\n");
  if (fwrite (l->str, 1, l->len, self->gt_file) != l->len
      || fflush (self->gt_file) != 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
        ("Could not write the ground truth to \"%s\": %s", self->gt_path,
            g_strerror (errno)), (NULL));
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* frames                                                                     */

static GstFlowReturn
gst_imgrec_drive_src_fill (GstPushSrc * psrc, GstBuffer * buf)
{
  GstImgRecDriveSrc *self = GST_IMGREC_DRIVE_SRC (psrc);
  GstVideoFrame frame, render;
  guint64 n = self->n_frames;
  GstClockTime pts, next;
  gdouble t;
  gboolean ok;
  GstVideoFrame *target;
  gint width, height;

  if (G_UNLIKELY (!self->have_caps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("No caps were negotiated before the first frame."), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  pts = frame_time (self, n);
  next = frame_time (self, n + 1);
  t = (gdouble) n * GST_VIDEO_INFO_FPS_D (&self->out_info) /
      GST_VIDEO_INFO_FPS_N (&self->out_info);
  width = GST_VIDEO_INFO_WIDTH (&self->out_info);
  height = GST_VIDEO_INFO_HEIGHT (&self->out_info);

  if (!gst_video_frame_map (&frame, &self->out_info, buf, GST_MAP_WRITE))
    goto map_error;
  target = &frame;
  if (self->direct && GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) < width * 4) {
    gst_video_frame_unmap (&frame);
    goto map_error;
  }
  if (!self->direct) {
    if (!gst_video_frame_map (&render, &self->render_info,
            self->render_buffer, GST_MAP_READWRITE)) {
      gst_video_frame_unmap (&frame);
      goto map_error;
    }
    target = &render;
  }
  ok = imgrec_drive_scene_render (self->scene, t, n,
      GST_VIDEO_FRAME_PLANE_DATA (target, 0), width, height,
      GST_VIDEO_FRAME_PLANE_STRIDE (target, 0), self->signs);
  if (!self->direct) {
    gst_video_converter_frame (self->convert, &render, &frame);
    gst_video_frame_unmap (&render);
  }
  gst_video_frame_unmap (&frame);
  if (!ok)
    return GST_FLOW_ERROR;      /* make_face posted the error */

  if (self->gt_file && !write_ground_truth (self, n, pts,
          imgrec_drive_scene_segment_at (self->scene, t)))
    return GST_FLOW_ERROR;

  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buf) = next - pts;
  GST_BUFFER_OFFSET (buf) = n;
  GST_BUFFER_OFFSET_END (buf) = n + 1;
  if (n == 0)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  GST_LOG_OBJECT (self, "frame %" G_GUINT64_FORMAT " at %" GST_TIME_FORMAT
      ": %u signs", n, GST_TIME_ARGS (pts), self->signs->len);
  self->n_frames = n + 1;
  return GST_FLOW_OK;

map_error:
  GST_ELEMENT_ERROR (self, STREAM, FAILED,
      ("Could not map a video frame."), (NULL));
  return GST_FLOW_ERROR;
}

/* ------------------------------------------------------------------------ */
/* properties                                                                 */

static void
gst_imgrec_drive_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecDriveSrc *self = GST_IMGREC_DRIVE_SRC (object);

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
    case PROP_SPEED:
      self->speed = g_value_get_double (value);
      break;
    case PROP_SIGN_SPACING:
      self->sign_spacing = g_value_get_double (value);
      break;
    case PROP_SEGMENTS:
      g_free (self->segments);
      self->segments = g_value_dup_string (value);
      break;
    case PROP_GROUND_TRUTH_LOCATION:
      g_free (self->ground_truth_location);
      self->ground_truth_location = g_value_dup_string (value);
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
gst_imgrec_drive_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstImgRecDriveSrc *self = GST_IMGREC_DRIVE_SRC (object);

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
    case PROP_SPEED:
      g_value_set_double (value, self->speed);
      break;
    case PROP_SIGN_SPACING:
      g_value_set_double (value, self->sign_spacing);
      break;
    case PROP_SEGMENTS:
      g_value_set_string (value, self->segments);
      break;
    case PROP_GROUND_TRUTH_LOCATION:
      g_value_set_string (value, self->ground_truth_location);
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
gst_imgrec_drive_src_finalize (GObject * object)
{
  GstImgRecDriveSrc *self = GST_IMGREC_DRIVE_SRC (object);

  free_state (self);
  g_free (self->model_path);
  g_free (self->segments);
  g_free (self->ground_truth_location);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_imgrec_drive_src_class_init (GstImgRecDriveSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *src_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *push_class = GST_PUSH_SRC_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_drive_src_debug, "imgrecdrivesrc", 0,
      "imgrec synthetic driving scene");

  gobject_class->set_property = gst_imgrec_drive_src_set_property;
  gobject_class->get_property = gst_imgrec_drive_src_get_property;
  gobject_class->finalize = gst_imgrec_drive_src_finalize;

  properties[PROP_MODEL] = g_param_spec_string ("model", "Model",
      "Path of the traffic-sign GAN generator ONNX file that draws the sign "
      "faces (z + one-hot class of GTSRB's 43 -> square RGB image), e.g. "
      "models/traffic-signs-gan/generator.onnx", DEFAULT_MODEL,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_SEED] = g_param_spec_uint64 ("seed", "Seed",
      "Seed of the scene (road bends, trees, sign positions, classes and "
      "faces, rain, noise): the same seed gives the same frames", 0,
      G_MAXUINT64, DEFAULT_SEED, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_SPEED] = g_param_spec_double ("speed", "Speed",
      "Speed of the car in km/h (how fast lane marks, posts and signs come "
      "toward the camera)", 0.0, 300.0, DEFAULT_SPEED,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_SIGN_SPACING] = g_param_spec_double ("sign-spacing",
      "Sign spacing", "Mean distance in metres between one traffic sign and "
      "the next (each gap is 0.5 to 1.5 times this)", 5.0, 10000.0,
      DEFAULT_SIGN_SPACING, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_SEGMENTS] = g_param_spec_string ("segments", "Segments",
      "Conditions as a repeating list of name:seconds; names: day, night, "
      "rain, noise, motion-blur, covered (lens covered), defocus (lens out "
      "of focus)", DEFAULT_SEGMENTS, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_GROUND_TRUTH_LOCATION] = g_param_spec_string
      ("ground-truth-location", "Ground-truth location",
      "File to write the ground truth to, one JSON object per frame (segment, "
      "and each visible sign's box, track id, class id and name); - = "
      "standard output; unset = none", DEFAULT_GROUND_TRUTH_LOCATION,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_IS_LIVE] = g_param_spec_boolean ("is-live", "Is live",
      "Act as a live source, producing frames at the frame rate",
      DEFAULT_IS_LIVE, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_THREADS] = g_param_spec_uint ("threads", "Threads",
      "Threads for the sign generator (0 = a share of the process's thread "
      "budget, as the inference elements; more than the CPUs is lowered to "
      "their number, with a warning); it runs once per sign",
      0, 1024, DEFAULT_THREADS, rw | GST_PARAM_MUTABLE_READY);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);

  gst_element_class_set_static_metadata (element_class,
      "imgrec driving scene source", "Source/Video",
      "Synthetic road scene seen from a car, with traffic signs drawn by a GAN "
      "generator, segments of night, rain, noise, blur and lens faults, and "
      "a ground-truth file of every sign's box, track and class",
      "imgrec project");
  gst_element_class_add_static_pad_template (element_class, &src_template);

  src_class->start = GST_DEBUG_FUNCPTR (gst_imgrec_drive_src_start);
  src_class->stop = GST_DEBUG_FUNCPTR (gst_imgrec_drive_src_stop);
  src_class->set_caps = GST_DEBUG_FUNCPTR (gst_imgrec_drive_src_set_caps);
  src_class->fixate = GST_DEBUG_FUNCPTR (gst_imgrec_drive_src_fixate);
  src_class->decide_allocation =
      GST_DEBUG_FUNCPTR (gst_imgrec_drive_src_decide_allocation);
  src_class->get_times = GST_DEBUG_FUNCPTR (gst_imgrec_video_src_get_times);
  src_class->is_seekable = GST_DEBUG_FUNCPTR (gst_imgrec_drive_src_is_seekable);
  src_class->do_seek = GST_DEBUG_FUNCPTR (gst_imgrec_drive_src_do_seek);
  src_class->query = GST_DEBUG_FUNCPTR (gst_imgrec_drive_src_query);
  push_class->fill = GST_DEBUG_FUNCPTR (gst_imgrec_drive_src_fill);
}

static void
gst_imgrec_drive_src_init (GstImgRecDriveSrc * self)
{
  self->seed = DEFAULT_SEED;
  self->speed = DEFAULT_SPEED;
  self->sign_spacing = DEFAULT_SIGN_SPACING;
  self->segments = g_strdup (DEFAULT_SEGMENTS);
  self->threads = DEFAULT_THREADS;
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_live (GST_BASE_SRC (self), DEFAULT_IS_LIVE);
}
