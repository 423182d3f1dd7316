/* gst-check tests of imgrecclassify and of the classification meta.
 *
 * The models (tests/gst/make_models.py) score the mean colour of each input
 * channel: scores = mean(R,G,B) x W + b with classes red, green, blue, gray,
 * so uniformly coloured frames have known results, and noise frames are
 * compared with the engine run on the same tensor.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include <imgrec/engine.h>
#include "gstimgrecmeta.h"

static const gfloat W_RGB[3][4] = {
  {4, -2, -2, 0}, {-2, 4, -2, 0}, {-2, -2, 4, 0}
};
static const gfloat BIAS[4] = { 0, 0, 0, 0.5f };
static const gchar *LABELS[4] = { "red", "green", "blue", "gray" };

static gchar *
data_path (const gchar * name)
{
  const gchar *dir = g_getenv ("IMGREC_GST_TEST_DATA");
  fail_unless (dir != NULL, "IMGREC_GST_TEST_DATA is not set");
  return g_build_filename (dir, name, NULL);
}

/* Expected probabilities of the mean-colour model for channel means m. */
static void
expected_probs (const gdouble m[3], gdouble p[4])
{
  gdouble max = -1e30, sum = 0;
  gint k, c;

  for (k = 0; k < 4; k++) {
    p[k] = BIAS[k];
    for (c = 0; c < 3; c++)
      p[k] += m[c] * W_RGB[c][k];
    max = MAX (max, p[k]);
  }
  for (k = 0; k < 4; k++) {
    p[k] = exp (p[k] - max);
    sum += p[k];
  }
  for (k = 0; k < 4; k++)
    p[k] /= sum;
}

/* A frame of `format` converted from ARGB pixels; padding > 0 gives every
 * plane a stride `padding` bytes wider than needed (with a GstVideoMeta). */
static GstBuffer *
make_frame (GstVideoFormat format, gint w, gint h, const guint8 * argb,
    guint padding, GstVideoInfo * info_out)
{
  GstVideoInfo argb_info, info;
  GstVideoFrame in, out;
  GstBuffer *src, *dst;
  GstVideoConverter *convert;

  gst_video_info_set_format (&argb_info, GST_VIDEO_FORMAT_ARGB, w, h);
  src = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&argb_info), NULL);
  fail_unless (gst_video_frame_map (&in, &argb_info, src, GST_MAP_WRITE));
  for (gint y = 0; y < h; y++)
    memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&in, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&in, 0), argb + (gsize) y * w * 4,
        (gsize) w * 4);
  gst_video_frame_unmap (&in);

  gst_video_info_set_format (&info, format, w, h);
  if (padding > 0) {
    GstVideoAlignment align;
    gst_video_alignment_reset (&align);
    align.padding_right = padding;
    fail_unless (gst_video_info_align (&info, &align));
  }
  dst = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  gst_buffer_memset (dst, 0, 0x55, GST_VIDEO_INFO_SIZE (&info));
  if (padding > 0)
    gst_buffer_add_video_meta_full (dst, GST_VIDEO_FRAME_FLAG_NONE, format, w,
        h, GST_VIDEO_INFO_N_PLANES (&info), info.offset, info.stride);

  fail_unless (gst_video_frame_map (&in, &argb_info, src, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&out, &info, dst, GST_MAP_WRITE));
  convert = gst_video_converter_new (&argb_info, &info,
      gst_structure_new ("GstVideoConverter",
          GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
          GST_VIDEO_DITHER_NONE, NULL));
  gst_video_converter_frame (convert, &in, &out);
  gst_video_converter_free (convert);
  gst_video_frame_unmap (&out);
  gst_video_frame_unmap (&in);
  gst_buffer_unref (src);

  /* the caps describe the default layout; the meta carries the strides */
  gst_video_info_set_format (info_out, format, w, h);
  return dst;
}

static guint8 *
solid_argb (gint w, gint h, guint8 r, guint8 g, guint8 b)
{
  guint8 *p = g_malloc ((gsize) w * h * 4);
  for (gsize i = 0; i < (gsize) w * h; i++) {
    p[4 * i] = 255;
    p[4 * i + 1] = r;
    p[4 * i + 2] = g;
    p[4 * i + 3] = b;
  }
  return p;
}

static GstHarness *
classify_harness (const gchar * model, const gchar * extra)
{
  gchar *path = data_path (model);
  gchar *desc = g_strdup_printf ("imgrecclassify model=\"%s\" %s", path,
      extra ? extra : "");
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  g_free (path);
  return h;
}

/* The classifier inside a parsed harness (named "c"). */
static GstElement *
element (GstHarness * h)
{
  static GstElement *e;
  e = gst_bin_get_by_name (GST_BIN (h->element), "c");
  fail_unless (e != NULL);
  gst_object_unref (e);         /* the bin keeps it alive */
  return e;
}

static void
set_caps (GstHarness * h, const GstVideoInfo * info)
{
  GstVideoInfo i = *info;
  i.fps_n = 30;
  i.fps_d = 1;
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&i));
}

static GstBuffer *
push_pull (GstHarness * h, GstBuffer * buf, GstClockTime pts)
{
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  return gst_harness_pull (h);
}

/* ------------------------------------------------------------------------ */

static const GstVideoFormat all_formats[] = {
  GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBA,
  GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_ARGB, GST_VIDEO_FORMAT_ABGR,
  GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_xRGB,
  GST_VIDEO_FORMAT_xBGR, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_YV12,
  GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_NV21, GST_VIDEO_FORMAT_GRAY8,
};

static gboolean
is_rgb (GstVideoFormat f)
{
  return GST_VIDEO_FORMAT_INFO_IS_RGB (gst_video_format_get_info (f));
}

/* Each format, odd sizes and padded strides: the colour of the frame is
 * recognised; for RGB formats the probabilities are exact. */
static void
check_format_size (GstVideoFormat format, gint w, gint ht, guint padding)
{
  static const guint8 colours[3][3] = { {255, 0, 0}, {0, 255, 0}, {0, 0, 255} };
  GstHarness *h = classify_harness ("mean-colour.onnx", "top-k=4");
  GstVideoInfo info;
  gint k;

  for (k = 0; k < 3; k++) {
    guint8 *argb = solid_argb (w, ht, colours[k][0], colours[k][1],
        colours[k][2]);
    GstBuffer *in = make_frame (format, w, ht, argb, padding, &info);
    GstBuffer *out;
    GstImgRecClassificationMeta *meta;
    gdouble m[3], p[4];

    if (k == 0)
      set_caps (h, &info);
    out = push_pull (h, in, k * GST_SECOND / 30);
    meta = gst_buffer_get_imgrec_classification_meta (out);
    fail_unless (meta != NULL, "no meta for %s %dx%d",
        gst_video_format_to_string (format), w, ht);
    fail_unless_equals_int (meta->n_top, 4);
    if (format == GST_VIDEO_FORMAT_GRAY8) {
      /* grey frames: every colour becomes a grey level */
      fail_unless_equals_string (meta->label, "gray");
    } else {
      fail_unless_equals_string (meta->label, LABELS[k]);
      fail_unless_equals_int (meta->class_id, k);
      for (gint c = 0; c < 3; c++)
        m[c] = colours[k][c] / 255.0;
      expected_probs (m, p);
      fail_unless (fabs (meta->confidence - p[k]) <
          (is_rgb (format) ? 1e-5 : 2e-2), "%s %dx%d: confidence %f, expected "
          "%f", gst_video_format_to_string (format), w, ht, meta->confidence,
          p[k]);
    }
    fail_unless_equals_int (meta->info.width, w);
    fail_unless_equals_int (meta->info.height, ht);
    fail_if (meta->info.flags & GST_IMGREC_RESULT_FLAG_CARRIED);
    gst_buffer_unref (out);
    g_free (argb);
  }
  gst_harness_teardown (h);
}

GST_START_TEST (test_every_format_and_odd_sizes)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_formats); i++) {
    check_format_size (all_formats[i], 333, 217, 0);
    check_format_size (all_formats[i], 1, 1, 0);
    check_format_size (all_formats[i], 7, 3, 0);
  }
}

GST_END_TEST;

GST_START_TEST (test_padded_strides)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_formats); i++)
    check_format_size (all_formats[i], 333, 217, 40);
}

GST_END_TEST;

GST_START_TEST (test_large_frames)
{
  check_format_size (GST_VIDEO_FORMAT_I420, 4096, 2160, 0);
  check_format_size (GST_VIDEO_FORMAT_BGRx, 4096, 2160, 0);
}

GST_END_TEST;

GST_START_TEST (test_caps_refused_for_unlisted_format)
{
  GstHarness *h = classify_harness ("mean-colour.onnx", NULL);
  GstCaps *caps = gst_caps_from_string ("video/x-raw,format=YUY2,width=64,"
      "height=48,framerate=30/1");

  fail_if (gst_pad_query_accept_caps (h->srcpad ? GST_PAD_PEER (h->srcpad) :
          NULL, caps));
  gst_caps_unref (caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The meta holds what the engine computes for the same tensor. */
static void
reference_probs (const gchar * model_name, const gfloat * tensor,
    const int64_t * dims, gdouble * probs, gint n)
{
  gchar *path = data_path (model_name);
  imgrec_error err;
  imgrec_model *model = imgrec_model_load (path, &err);
  imgrec_session *session;
  gfloat out[16];
  gdouble max = -1e30, sum = 0;

  fail_unless (model != NULL, "%s", err.message);
  session = imgrec_session_new (model, NULL, &err);
  fail_unless (session != NULL);
  fail_unless (imgrec_session_set_input (session, 0, IMGREC_DTYPE_FLOAT, dims,
          4, tensor, &err) == 0, "%s", err.message);
  fail_unless (imgrec_session_run (session, &err) == 0, "%s", err.message);
  fail_unless_equals_int (imgrec_session_output_float (session, 0, out, 16,
          &err), n);
  for (gint k = 0; k < n; k++)
    max = MAX (max, out[k]);
  for (gint k = 0; k < n; k++)
    sum += (probs[k] = exp (out[k] - max));
  for (gint k = 0; k < n; k++)
    probs[k] /= sum;
  imgrec_session_free (session);
  imgrec_model_free (model);
  g_free (path);
}

static void
check_meta_matches (GstImgRecClassificationMeta * meta, const gdouble * probs,
    gint n)
{
  fail_unless_equals_int (meta->n_top, MIN (n, 4));
  for (guint i = 0; i < meta->n_top; i++) {
    gint id = meta->top[i].class_id;
    fail_unless (fabs (meta->top[i].confidence - probs[id]) < 1e-6,
        "rank %u class %d: meta %.8f engine %.8f", i, id,
        meta->top[i].confidence, probs[id]);
    if (i > 0)
      fail_unless (meta->top[i].confidence <= meta->top[i - 1].confidence);
    fail_unless_equals_string (meta->top[i].label, LABELS[id]);
  }
}

GST_START_TEST (test_meta_equals_engine_output_nchw_rgb)
{
  /* An 8x8 RGB frame is the model's input size: the tensor is the pixels
   * / 255 in planar order. */
  GstHarness *h = classify_harness ("mean-colour.onnx", "top-k=4");
  guint8 argb[8 * 8 * 4];
  gfloat tensor[3 * 8 * 8];
  int64_t dims[4] = { 1, 3, 8, 8 };
  GstVideoInfo info;
  GstBuffer *out;
  gdouble probs[4];
  GRand *rand = g_rand_new_with_seed (7);

  for (gint i = 0; i < 64; i++) {
    argb[4 * i] = 255;
    for (gint c = 0; c < 3; c++) {
      argb[4 * i + 1 + c] = g_rand_int_range (rand, 0, 256);
      tensor[c * 64 + i] = argb[4 * i + 1 + c] * (1.0f / 255.0f);
    }
  }
  out = make_frame (GST_VIDEO_FORMAT_BGRx, 8, 8, argb, 0, &info);
  set_caps (h, &info);
  out = push_pull (h, out, 0);
  reference_probs ("mean-colour.onnx", tensor, dims, probs, 4);
  check_meta_matches (gst_buffer_get_imgrec_classification_meta (out), probs,
      4);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_rand_free (rand);
}

GST_END_TEST;

GST_START_TEST (test_meta_equals_engine_output_nhwc_bgr_mean_std)
{
  /* Model: 10x6 NHWC input, BGR, mean 0.5, std 0.25, letterbox.  A 10x6
   * frame needs no scaling, so tensor[y][x][c] = (bgr[c]/255 - 0.5)/0.25. */
  GstHarness *h = classify_harness ("mean-colour-bgr-nhwc.onnx", "top-k=4");
  guint8 argb[10 * 6 * 4];
  gfloat tensor[6 * 10 * 3];
  int64_t dims[4] = { 1, 6, 10, 3 };
  GstVideoInfo info;
  GstBuffer *out;
  gdouble probs[4];
  GRand *rand = g_rand_new_with_seed (11);

  for (gint i = 0; i < 60; i++) {
    argb[4 * i] = 255;
    for (gint c = 0; c < 3; c++)
      argb[4 * i + 1 + c] = g_rand_int_range (rand, 0, 256);
    for (gint c = 0; c < 3; c++)        /* B, G, R */
      tensor[3 * i + c] = (argb[4 * i + 3 - c] / 255.0f - 0.5f) / 0.25f;
  }
  out = make_frame (GST_VIDEO_FORMAT_RGB, 10, 6, argb, 0, &info);
  set_caps (h, &info);
  out = push_pull (h, out, 0);
  reference_probs ("mean-colour-bgr-nhwc.onnx", tensor, dims, probs, 4);
  check_meta_matches (gst_buffer_get_imgrec_classification_meta (out), probs,
      4);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_rand_free (rand);
}

GST_END_TEST;

GST_START_TEST (test_letterbox_pads_with_black)
{
  /* A 20x6 white frame letterboxed into 10x6 fills 10x3 rows in the middle:
   * mean per channel is 0.5 -> (0.5 - 0.5)/0.25 = 0 -> class "gray"; a
   * stretched frame would be all white (mean 2 per channel). */
  GstHarness *h = classify_harness ("mean-colour-bgr-nhwc.onnx", "top-k=4");
  guint8 *argb = solid_argb (20, 6, 255, 255, 255);
  gfloat tensor[6 * 10 * 3];
  int64_t dims[4] = { 1, 6, 10, 3 };
  GstVideoInfo info;
  GstBuffer *out;
  gdouble probs[4];

  for (gint y = 0; y < 6; y++)
    for (gint x = 0; x < 10; x++)
      for (gint c = 0; c < 3; c++)
        tensor[(y * 10 + x) * 3 + c] = (y >= 1 && y < 4 ? 1.0f : 0.0f) - 0.5f;
  for (gint i = 0; i < 180; i++)
    tensor[i] /= 0.25f;
  out = make_frame (GST_VIDEO_FORMAT_RGB, 20, 6, argb, 0, &info);
  set_caps (h, &info);
  out = push_pull (h, out, 0);
  reference_probs ("mean-colour-bgr-nhwc.onnx", tensor, dims, probs, 4);
  check_meta_matches (gst_buffer_get_imgrec_classification_meta (out), probs,
      4);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (argb);
}

GST_END_TEST;

GST_START_TEST (test_center_crop_property_overrides_model)
{
  /* 30x6 frame: red | green | blue thirds.  center-crop into the 10x6 input
   * keeps exactly the green third (scale 1); the model's own letterbox or
   * stretch would mix the colours. */
  GstHarness *h = classify_harness ("mean-colour-bgr-nhwc.onnx",
      "top-k=4 resize=center-crop");
  guint8 *argb = solid_argb (30, 6, 255, 0, 0);
  gfloat tensor[6 * 10 * 3];
  int64_t dims[4] = { 1, 6, 10, 3 };
  GstVideoInfo info;
  GstBuffer *out;
  gdouble probs[4];

  for (gint y = 0; y < 6; y++)
    for (gint x = 10; x < 30; x++) {
      guint8 *px = argb + (y * 30 + x) * 4;
      px[1] = 0;
      px[x < 20 ? 2 : 3] = 255;
    }
  for (gint i = 0; i < 60; i++) {       /* B, G, R of pure green */
    tensor[3 * i] = (0.0f - 0.5f) / 0.25f;
    tensor[3 * i + 1] = (1.0f - 0.5f) / 0.25f;
    tensor[3 * i + 2] = (0.0f - 0.5f) / 0.25f;
  }
  out = make_frame (GST_VIDEO_FORMAT_RGB, 30, 6, argb, 0, &info);
  set_caps (h, &info);
  out = push_pull (h, out, 0);
  fail_unless_equals_string (gst_buffer_get_imgrec_classification_meta
      (out)->label, "green");
  reference_probs ("mean-colour-bgr-nhwc.onnx", tensor, dims, probs, 4);
  check_meta_matches (gst_buffer_get_imgrec_classification_meta (out), probs,
      4);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (argb);
}

GST_END_TEST;

GST_START_TEST (test_antialias_scaling)
{
  /* 1-pixel stripes alternating red/blue, 8x downscaled: antialiasing
   * averages them (both channels ~0.5), bilinear without it samples a few
   * stripes; both must still yield a valid distribution. */
  GstHarness *h = classify_harness ("mean-colour.onnx",
      "top-k=4 scaling=antialias");
  guint8 *argb = solid_argb (64, 64, 255, 0, 0);
  GstVideoInfo info;
  GstBuffer *out;
  GstImgRecClassificationMeta *meta;
  gdouble m[3] = { 0.5, 0, 0.5 }, p[4];
  gfloat sum = 0;

  for (gint y = 0; y < 64; y++)
    for (gint x = 1; x < 64; x += 2) {
      argb[(y * 64 + x) * 4 + 1] = 0;
      argb[(y * 64 + x) * 4 + 3] = 255;
    }
  out = make_frame (GST_VIDEO_FORMAT_RGBx, 64, 64, argb, 0, &info);
  set_caps (h, &info);
  out = push_pull (h, out, 0);
  meta = gst_buffer_get_imgrec_classification_meta (out);
  for (guint i = 0; i < meta->n_top; i++)
    sum += meta->top[i].confidence;
  fail_unless (fabs (sum - 1.0f) < 1e-5);
  expected_probs (m, p);
  /* averaged red and blue: red and blue classes tie at the top */
  fail_unless (fabs (meta->confidence - MAX (p[0], p[2])) < 2e-2,
      "confidence %f, expected about %f", meta->confidence, MAX (p[0], p[2]));
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (argb);
}

GST_END_TEST;

GST_START_TEST (test_softmax_auto_keeps_distributions)
{
  GstHarness *h = classify_harness ("mean-colour-softmax.onnx", "top-k=4");
  guint8 *argb = solid_argb (8, 8, 255, 0, 0);
  gdouble m[3] = { 1, 0, 0 }, p[4];
  GstVideoInfo info;
  GstBuffer *out;
  GstImgRecClassificationMeta *meta;

  out = make_frame (GST_VIDEO_FORMAT_RGB, 8, 8, argb, 0, &info);
  set_caps (h, &info);
  out = push_pull (h, out, 0);
  meta = gst_buffer_get_imgrec_classification_meta (out);
  expected_probs (m, p);
  /* applied twice it would be ~0.45 */
  fail_unless (fabs (meta->confidence - p[0]) < 1e-5, "%f vs %f",
      meta->confidence, p[0]);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (argb);
}

GST_END_TEST;

GST_START_TEST (test_threshold_and_top_k)
{
  GstHarness *h = classify_harness ("mean-colour.onnx",
      "top-k=2 threshold=0.99");
  guint8 *argb = solid_argb (8, 8, 255, 0, 0);
  GstVideoInfo info;
  GstBuffer *out;
  GstImgRecClassificationMeta *meta;
  GstVideoRegionOfInterestMeta *roi;
  GstStructure *param;
  gdouble conf;

  out = make_frame (GST_VIDEO_FORMAT_RGB, 8, 8, argb, 0, &info);
  set_caps (h, &info);
  out = push_pull (h, out, 0);
  meta = gst_buffer_get_imgrec_classification_meta (out);
  fail_unless_equals_string (meta->label, "unknown");
  fail_unless_equals_int (meta->class_id, -1);
  fail_unless (meta->confidence > 0.9 && meta->confidence < 0.99);
  fail_unless (meta->info.flags & GST_IMGREC_RESULT_FLAG_BELOW_THRESHOLD);
  fail_unless_equals_int (meta->n_top, 2);
  fail_unless_equals_string (meta->top[0].label, "red");

  /* the ROI param says the same */
  roi = gst_buffer_get_video_region_of_interest_meta_id (out,
      meta->info.roi_id);
  fail_unless (roi != NULL);
  fail_unless_equals_string (g_quark_to_string (roi->roi_type),
      GST_IMGREC_FULL_FRAME_ROI_TYPE);
  param = gst_video_region_of_interest_meta_get_param (roi,
      GST_IMGREC_CLASSIFICATION_PARAM_NAME);
  fail_unless (param != NULL);
  fail_unless_equals_string (gst_structure_get_string (param, "label"),
      "unknown");
  fail_unless (gst_structure_get_double (param, "confidence", &conf));
  fail_unless (fabs (conf - meta->confidence) < 1e-6);
  fail_unless_equals_string (gst_structure_get_string (param, "model"),
      "mean-colour");
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (argb);
}

GST_END_TEST;

/* The label the labels file @name gives a blue frame (mean-colour's class
 * 2). */
static gchar *
blue_label_with_labels_file (const gchar * name)
{
  gchar *labels = data_path (name);
  gchar *extra = g_strdup_printf ("labels=\"%s\"", labels);
  GstHarness *h = classify_harness ("mean-colour.onnx", extra);
  guint8 *argb = solid_argb (8, 8, 0, 0, 255);
  GstVideoInfo info;
  GstBuffer *out;
  gchar *label;

  out = make_frame (GST_VIDEO_FORMAT_RGB, 8, 8, argb, 0, &info);
  set_caps (h, &info);
  out = push_pull (h, out, 0);
  label = g_strdup (gst_buffer_get_imgrec_classification_meta (out)->label);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (argb);
  g_free (extra);
  g_free (labels);
  return label;
}

GST_START_TEST (test_labels_property_overrides_metadata)
{
  gchar *label = blue_label_with_labels_file ("labels4.txt");

  fail_unless_equals_string (label, "bleu");
  g_free (label);
}

GST_END_TEST;

/* A labels file with CRLF line ends (written on Windows) names the classes
 * as the LF one does: no '\r' in the labels, no extra class for the last
 * line end. */
GST_START_TEST (test_crlf_labels_file)
{
  gchar *path = data_path ("labels4-crlf.txt");
  gchar *label;

  fail_unless (g_file_set_contents (path, "rouge\r\nvert\r\nbleu\r\n"
          "gris\r\n", -1, NULL));
  label = blue_label_with_labels_file ("labels4-crlf.txt");
  fail_unless_equals_string (label, "bleu");
  g_unlink (path);
  g_free (label);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_gray_model_without_labels)
{
  GstHarness *h = classify_harness ("gray.onnx", NULL);
  guint8 *white = solid_argb (16, 16, 250, 250, 250);
  guint8 *black = solid_argb (16, 16, 5, 5, 5);
  GstVideoInfo info;
  GstBuffer *out;

  out = make_frame (GST_VIDEO_FORMAT_I420, 16, 16, white, 0, &info);
  set_caps (h, &info);
  out = push_pull (h, out, 0);
  fail_unless_equals_string (gst_buffer_get_imgrec_classification_meta
      (out)->label, "0");
  gst_buffer_unref (out);
  out = push_pull (h, make_frame (GST_VIDEO_FORMAT_I420, 16, 16, black, 0,
          &info), GST_SECOND);
  fail_unless_equals_int (gst_buffer_get_imgrec_classification_meta
      (out)->class_id, 1);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (white);
  g_free (black);
}

GST_END_TEST;

/* ROI mode: 64x32 frame, left half red, right half blue. */
static GstBuffer *
two_colour_frame (GstVideoFormat format, GstVideoInfo * info)
{
  guint8 *argb = solid_argb (64, 32, 255, 0, 0);
  GstBuffer *buf;

  for (gint y = 0; y < 32; y++)
    for (gint x = 32; x < 64; x++) {
      argb[(y * 64 + x) * 4 + 1] = 0;
      argb[(y * 64 + x) * 4 + 3] = 255;
    }
  buf = make_frame (format, 64, 32, argb, 0, info);
  g_free (argb);
  return buf;
}

/* A classification param carries the decision under imgrec's names and
 * under those DL Streamer's GVA::Tensor reads (gvaclassify's layout), with
 * the types those readers ask for. */
static void
check_param_fields (const GstStructure * p, const GstImgRecClassificationMeta *
    meta)
{
  gint class_id = -2, label_id = -2;
  gdouble confidence = -1;

  fail_unless (p != NULL);
  fail_unless (gst_structure_get_int (p, "class-id", &class_id));
  fail_unless (gst_structure_get_int (p, "label_id", &label_id));
  fail_unless_equals_int (class_id, meta->class_id);
  fail_unless_equals_int (label_id, meta->class_id);
  fail_unless (gst_structure_get_double (p, "confidence", &confidence));
  fail_unless (confidence == (gdouble) meta->confidence);
  fail_unless (confidence > 0 && confidence <= 1);
  fail_unless_equals_string (gst_structure_get_string (p, "label"),
      meta->label);
  fail_unless_equals_string (gst_structure_get_string (p, "model"),
      meta->info.model);
  fail_unless_equals_string (gst_structure_get_string (p, "model_name"),
      meta->info.model);
  fail_unless_equals_string (meta->info.model, "mean-colour");
}

GST_START_TEST (test_roi_list_classifies_each_region)
{
  GstHarness *h = classify_harness ("mean-colour.onnx", "roi=roi-list");
  GstVideoInfo info;
  GstBuffer *buf = two_colour_frame (GST_VIDEO_FORMAT_NV12, &info);
  GstVideoRegionOfInterestMeta *car, *person, *roi;
  GstImgRecClassificationMeta *meta;

  car = gst_buffer_add_video_region_of_interest_meta (buf, "car", 3, 5, 25,
      20);
  person = gst_buffer_add_video_region_of_interest_meta (buf, "person", 37, 1,
      27, 31);
  car->id = 1;                  /* ids as a detector/tracker sets them */
  person->id = 2;
  gint car_id = car->id, person_id = person->id;
  set_caps (h, &info);
  buf = push_pull (h, buf, 0);

  fail_unless_equals_int (gst_buffer_get_n_imgrec_classification_metas (buf),
      2);
  meta = gst_buffer_get_imgrec_classification_meta_for_roi (buf, car_id);
  fail_unless (meta != NULL);
  fail_unless_equals_string (meta->label, "red");
  /* the meta reports the ROI's own rectangle */
  fail_unless_equals_int (meta->info.x, 3);
  fail_unless_equals_int (meta->info.width, 25);
  meta = gst_buffer_get_imgrec_classification_meta_for_roi (buf, person_id);
  fail_unless (meta != NULL);
  fail_unless_equals_string (meta->label, "blue");

  roi = gst_buffer_get_video_region_of_interest_meta_id (buf, person_id);
  fail_unless_equals_string (gst_structure_get_string
      (gst_video_region_of_interest_meta_get_param (roi,
              GST_IMGREC_CLASSIFICATION_PARAM_NAME), "label"), "blue");
  check_param_fields (gst_video_region_of_interest_meta_get_param (roi,
          GST_IMGREC_CLASSIFICATION_PARAM_NAME), meta);
  /* no full-frame ROI in roi-list mode */
  fail_unless_equals_int (gst_buffer_get_n_meta (buf,
          GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE), 2);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The regions walk every inference element shares: a region that left the
 * frame gets no result, not even a carried one, while the one still inside
 * carries its result between inferences. */
GST_START_TEST (test_roi_list_region_leaving_the_frame)
{
  GstHarness *h = classify_harness ("mean-colour.onnx",
      "roi=roi-list inference-interval=2");
  GstVideoInfo info;
  GstBuffer *buf;
  GstVideoRegionOfInterestMeta *roi;
  GstImgRecClassificationMeta *meta;
  gint f;

  for (f = 0; f < 2; f++) {
    buf = two_colour_frame (GST_VIDEO_FORMAT_RGB, &info);
    roi = gst_buffer_add_video_region_of_interest_meta (buf, "car", 3, 5, 25,
        20);
    roi->id = 1;
    /* inside on frame 0, wholly right of the 64-pixel frame on frame 1 */
    roi = gst_buffer_add_video_region_of_interest_meta (buf, "car",
        f == 0 ? 37 : 70, 1, 20, 20);
    roi->id = 2;
    if (f == 0)
      set_caps (h, &info);
    buf = push_pull (h, buf, f * GST_SECOND / 30);
    meta = gst_buffer_get_imgrec_classification_meta_for_roi (buf, 1);
    fail_unless (meta != NULL, "frame %d: the region inside has no result", f);
    fail_unless_equals_string (meta->label, "red");
    fail_unless_equals_int ((meta->info.flags &
            GST_IMGREC_RESULT_FLAG_CARRIED) != 0, f == 1);
    meta = gst_buffer_get_imgrec_classification_meta_for_roi (buf, 2);
    if (f == 0) {
      fail_unless (meta != NULL);
      fail_unless_equals_string (meta->label, "blue");
    } else {
      fail_unless (meta == NULL, "a region outside the frame got a result");
    }
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Tracking ids and ROI ids are two id spaces that overlap: between
 * inferences, track 1 (ROI id 5, on the red half) carries its own result,
 * not that of the untracked box with ROI id 1 (on the blue half), whichever
 * of the two comes first on the buffer — the result it has without the
 * untracked box. */
GST_START_TEST (test_roi_list_carry_keeps_id_spaces_apart)
{
  GstHarness *h = classify_harness ("mean-colour.onnx",
      "roi=roi-list inference-interval=2");
  GstVideoInfo info;
  gint f;

  for (f = 0; f < 4; f++) {
    GstBuffer *buf = two_colour_frame (GST_VIDEO_FORMAT_RGB, &info);
    GstImgRecClassificationMeta *meta;

    for (gint i = 0; i < 2; i++) {
      /* the untracked box first on frames 0 and 1, last on 2 and 3 */
      gboolean tracked = (i == 1) == (f < 2);
      GstVideoRegionOfInterestMeta *roi =
          gst_buffer_add_video_region_of_interest_meta (buf, "sign",
          tracked ? 3 : 37, 5, 20, 20);
      roi->id = tracked ? 5 : 1;
      if (tracked)
        gst_video_region_of_interest_meta_add_param (roi,
            gst_structure_new ("tracker", "tracking-id", G_TYPE_INT, 1, NULL));
    }
    if (f == 0)
      set_caps (h, &info);
    buf = push_pull (h, buf, f * GST_SECOND / 30);
    meta = gst_buffer_get_imgrec_classification_meta_for_roi (buf, 5);
    fail_unless (meta != NULL);
    fail_unless_equals_string (meta->label, "red");
    fail_unless_equals_int ((meta->info.flags &
            GST_IMGREC_RESULT_FLAG_CARRIED) != 0, f % 2);
    meta = gst_buffer_get_imgrec_classification_meta_for_roi (buf, 1);
    fail_unless (meta != NULL);
    fail_unless_equals_string (meta->label, "blue");
    fail_unless_equals_int ((meta->info.flags &
            GST_IMGREC_RESULT_FLAG_CARRIED) != 0, f % 2);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_roi_list_object_class_filter)
{
  GstHarness *h = classify_harness ("mean-colour.onnx",
      "roi=roi-list object-class=person,dog");
  GstVideoInfo info;
  GstBuffer *buf = two_colour_frame (GST_VIDEO_FORMAT_RGB, &info);
  GstImgRecClassificationMeta *meta;

  gst_buffer_add_video_region_of_interest_meta (buf, "car", 0, 0, 32, 32);
  gst_buffer_add_video_region_of_interest_meta (buf, "person", 32, 0, 32, 32);
  set_caps (h, &info);
  buf = push_pull (h, buf, 0);
  fail_unless_equals_int (gst_buffer_get_n_imgrec_classification_metas (buf),
      1);
  meta = gst_buffer_get_imgrec_classification_meta (buf);
  fail_unless_equals_string (meta->label, "blue");
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_inference_interval_carries_results)
{
  GstHarness *h = classify_harness ("mean-colour.onnx",
      "name=c inference-interval=3");
  guint8 *red = solid_argb (16, 16, 255, 0, 0);
  guint8 *blue = solid_argb (16, 16, 0, 0, 255);
  GstVideoInfo info;
  GstStructure *stats;
  guint64 inferences;

  for (gint i = 0; i < 7; i++) {
    /* frames 0, 3, 6 are analysed: red, blue, red; the others are the
     * opposite colour, which must not show */
    gboolean analysed = i % 3 == 0;
    gboolean want_red = (i / 3) % 2 == 0;
    guint8 *px = (analysed == want_red) ? red : blue;
    GstBuffer *buf = make_frame (GST_VIDEO_FORMAT_RGBA, 16, 16, px, 0, &info);
    GstImgRecClassificationMeta *meta;

    if (i == 0)
      set_caps (h, &info);
    buf = push_pull (h, buf, i * GST_SECOND);
    meta = gst_buffer_get_imgrec_classification_meta (buf);
    fail_unless (meta != NULL, "frame %d has no result", i);
    fail_unless_equals_string (meta->label, want_red ? "red" : "blue");
    fail_unless_equals_int (!!(meta->info.flags &
            GST_IMGREC_RESULT_FLAG_CARRIED), !analysed);
    fail_unless_equals_uint64 (meta->info.inference_pts,
        (i / 3) * 3 * GST_SECOND);
    gst_buffer_unref (buf);
  }
  g_object_get (element (h), "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "inferences", &inferences));
  fail_unless_equals_uint64 (inferences, 3);
  gst_structure_free (stats);
  gst_harness_teardown (h);
  g_free (red);
  g_free (blue);
}

GST_END_TEST;

GST_START_TEST (test_messages_fields)
{
  GstHarness *h = classify_harness ("mean-colour.onnx",
      "post-messages=true top-k=3");
  GstBus *bus = gst_bus_new ();
  guint8 *argb = solid_argb (8, 8, 0, 255, 0);
  GstVideoInfo info;
  GstBuffer *buf;
  GstMessage *msg;
  const GstStructure *s;
  const GValue *arr;
  GstClockTime t;
  gint id;

  gst_element_set_bus (h->element, bus);
  buf = make_frame (GST_VIDEO_FORMAT_RGB, 8, 8, argb, 0, &info);
  set_caps (h, &info);
  buf = push_pull (h, buf, 2 * GST_SECOND);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
  fail_unless (msg != NULL);
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_has_name (s, "imgrec-classification"));
  fail_unless (gst_structure_get_uint64 (s, "timestamp", &t));
  fail_unless_equals_uint64 (t, 2 * GST_SECOND);
  fail_unless (gst_structure_get_uint64 (s, "running-time", &t));
  fail_unless_equals_uint64 (t, 2 * GST_SECOND);
  fail_unless (gst_structure_get_uint64 (s, "stream-time", &t));
  fail_unless (gst_structure_get_uint64 (s, "duration", &t));
  fail_unless_equals_uint64 (t, GST_SECOND / 30);
  fail_unless_equals_string (gst_structure_get_string (s, "label"), "green");
  fail_unless (gst_structure_get_int (s, "class-id", &id));
  fail_unless_equals_int (id, 1);
  fail_unless (gst_structure_get_int (s, "roi-id", &id));
  fail_unless_equals_int (id,
      gst_buffer_get_imgrec_classification_meta (buf)->info.roi_id);
  arr = gst_structure_get_value (s, "top-labels");
  fail_unless (GST_VALUE_HOLDS_ARRAY (arr));
  fail_unless_equals_int (gst_value_array_get_size (arr), 3);
  fail_unless_equals_string (g_value_get_string (gst_value_array_get_value (arr,
              0)), "green");
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value (s,
              "top-confidences")), 3);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value (s,
              "top-class-ids")), 3);
  gst_message_unref (msg);
  gst_buffer_unref (buf);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_free (argb);
}

GST_END_TEST;

GST_START_TEST (test_qos_skips_inference_not_frames)
{
  GstHarness *h = classify_harness ("mean-colour.onnx", "name=c");
  guint8 *red = solid_argb (8, 8, 255, 0, 0);
  guint8 *blue = solid_argb (8, 8, 0, 0, 255);
  GstVideoInfo info;
  GstBuffer *buf;
  GstImgRecClassificationMeta *meta;

  buf = make_frame (GST_VIDEO_FORMAT_RGB, 8, 8, red, 0, &info);
  set_caps (h, &info);
  gst_buffer_unref (push_pull (h, buf, 0));
  /* downstream: 10 s late */
  fail_unless (gst_harness_push_upstream_event (h,
          gst_event_new_qos (GST_QOS_TYPE_UNDERFLOW, 0.5, 10 * GST_SECOND,
              0)));
  buf = push_pull (h, make_frame (GST_VIDEO_FORMAT_RGB, 8, 8, blue, 0, &info),
      GST_SECOND);
  meta = gst_buffer_get_imgrec_classification_meta (buf);
  fail_unless (meta != NULL);
  fail_unless_equals_string (meta->label, "red");
  fail_unless (meta->info.flags & GST_IMGREC_RESULT_FLAG_QOS_SKIPPED);
  fail_unless (meta->info.flags & GST_IMGREC_RESULT_FLAG_CARRIED);
  gst_buffer_unref (buf);

  /* with qos=false the same frame is analysed */
  g_object_set (element (h), "qos", FALSE, NULL);
  buf = push_pull (h, make_frame (GST_VIDEO_FORMAT_RGB, 8, 8, blue, 0, &info),
      2 * GST_SECOND);
  fail_unless_equals_string (gst_buffer_get_imgrec_classification_meta
      (buf)->label, "blue");
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
  g_free (red);
  g_free (blue);
}

GST_END_TEST;

GST_START_TEST (test_latency_query_adds_processing_time)
{
  GstHarness *h = classify_harness ("mean-colour.onnx", "name=c");
  GstQuery *q = gst_query_new_latency ();
  GstStructure *stats;
  GstClockTime min, max, latency;
  gboolean live;

  gst_harness_set_upstream_latency (h, 10 * GST_MSECOND);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=8,height=8,framerate=30/1");
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  g_object_get (element (h), "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "latency", &latency));
  fail_unless (latency > 0);
  fail_unless_equals_uint64 (min, 10 * GST_MSECOND + latency);
  gst_structure_free (stats);
  gst_query_unref (q);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Metas survive videoconvert, videoscale (regions scaled), tee, queue and
 * buffer copies. */
GST_START_TEST (test_meta_survives_scale_convert_tee_queue)
{
  gchar *model = data_path ("mean-colour.onnx");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=3 pattern=blue ! "
      "video/x-raw,format=NV12,width=320,height=240 ! imgrecclassify model=\"%s\" ! "
      "videoconvert ! video/x-raw,format=RGBx ! videoscale ! "
      "video/x-raw,width=160,height=60 ! tee name=t ! queue ! "
      "appsink name=sink sync=false", model);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gint n = 0;

  fail_unless (pipeline != NULL);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PLAYING),
      GST_STATE_CHANGE_ASYNC);
  for (;;) {
    GstSample *sample = NULL;
    GstBuffer *buf, *copy;
    GstImgRecClassificationMeta *meta;
    GstVideoRegionOfInterestMeta *roi;

    g_signal_emit_by_name (sink, "pull-sample", &sample);
    if (sample == NULL)
      break;
    buf = gst_sample_get_buffer (sample);
    meta = gst_buffer_get_imgrec_classification_meta (buf);
    fail_unless (meta != NULL, "buffer %d lost its meta", n);
    fail_unless_equals_string (meta->label, "blue");
    fail_unless_equals_int (meta->info.width, 160);
    fail_unless_equals_int (meta->info.height, 60);
    roi = gst_buffer_get_video_region_of_interest_meta_id (buf,
        meta->info.roi_id);
    fail_unless (roi != NULL);
    fail_unless_equals_int (roi->w, 160);
    /* GStreamer 1.22 drops ROI params on copies; the meta restores ours */
    check_param_fields (gst_video_region_of_interest_meta_get_param (roi,
            GST_IMGREC_CLASSIFICATION_PARAM_NAME), meta);
    copy = gst_buffer_copy (buf);
    meta = gst_buffer_get_imgrec_classification_meta (copy);
    fail_unless (meta != NULL);
    fail_unless_equals_string (meta->label, "blue");
    gst_buffer_unref (copy);
    gst_sample_unref (sample);
    n++;
  }
  fail_unless_equals_int (n, 3);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  gchar *model = data_path ("mean-colour.onnx");
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,width=64,height=48 ! imgrecclassify model=\"%s\" ! "
      "fakesink", model);
  GstElement *pipeline = gst_parse_launch (desc, NULL);

  for (gint i = 0; i < 50; i++) {
    fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
            10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* errors                                                                     */

/* Sets up the element with `props`, goes to PAUSED, and returns the error
 * message text (or NULL when it started). */
static gchar *
start_error (const gchar * model, const gchar * props)
{
  gchar *path = model ? data_path (model) : NULL;
  gchar *desc = g_strdup_printf ("imgrecclassify %s%s%s %s",
      path ? "model=\"" : "", path ? path : "", path ? "\"" : "",
      props ? props : "");
  GstElement *e = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_bus_new ();
  GstStateChangeReturn ret;
  GstMessage *msg;
  gchar *text = NULL;

  fail_unless (e != NULL);
  gst_element_set_bus (e, bus);
  ret = gst_element_set_state (e, GST_STATE_PAUSED);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    text = g_strdup (err->message);
    g_error_free (err);
    gst_message_unref (msg);
    fail_unless_equals_int (ret, GST_STATE_CHANGE_FAILURE);
  } else {
    fail_if (ret == GST_STATE_CHANGE_FAILURE);
  }
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (desc);
  g_free (path);
  return text;
}

#define assert_start_error(model, props, substring) G_STMT_START {          \
  gchar *_msg = start_error (model, props);                                 \
  fail_unless (_msg != NULL, "no error for %s %s", model, props);           \
  fail_unless (strstr (_msg, substring) != NULL,                            \
      "error \"%s\" does not say \"%s\"", _msg, substring);                 \
  g_free (_msg);                                                            \
} G_STMT_END

GST_START_TEST (test_error_messages)
{
  gchar *msg;

  assert_start_error (NULL, NULL, "No model set");
  assert_start_error ("missing.onnx", NULL, "does not exist");
  assert_start_error ("garbage.onnx", NULL, "Could not load model");
  assert_start_error ("not-image.onnx", NULL, "is not an image model");
  assert_start_error ("dynamic-size.onnx", NULL, "no fixed image size");
  assert_start_error ("three-labels.onnx", NULL, "has 4 classes but 3 labels");
  assert_start_error ("generator-kind.onnx", NULL, "needs a classifier");
  assert_start_error ("mean-colour.onnx", "mean=a,b", "Invalid mean");
  assert_start_error ("mean-colour.onnx", "mean=0.1,0.2", "Invalid mean");
  assert_start_error ("mean-colour.onnx", "std=0", "channel 0 is 0");
  assert_start_error ("mean-colour.onnx", "color-order=GRAY",
      "does not fit model");
  assert_start_error ("gray.onnx", "color-order=RGB", "does not fit model");
  assert_start_error ("mean-colour.onnx", "labels=/nonexistent/labels.txt",
      "Could not read labels file");

  /* and a good one starts */
  msg = start_error ("mean-colour.onnx", "mean=0.5 std=0.2,0.3,0.4");
  fail_unless (msg == NULL, "unexpected error: %s", msg);
}

GST_END_TEST;

GST_START_TEST (test_model_change_while_playing_is_refused)
{
  GstHarness *h = classify_harness ("mean-colour.onnx", "name=c");
  GstBus *bus = gst_bus_new ();
  gchar *other = data_path ("gray.onnx"), *now;
  GstMessage *msg;

  gst_element_set_bus (h->element, bus);
  g_object_set (element (h), "model", other, NULL);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  g_object_get (element (h), "model", &now, NULL);
  fail_unless (g_str_has_suffix (now, "mean-colour.onnx"));
  g_free (now);
  g_free (other);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
imgrecclassify_suite (void)
{
  Suite *s = suite_create ("imgrecclassify");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_every_format_and_odd_sizes);
  tcase_add_test (tc, test_padded_strides);
  tcase_add_test (tc, test_large_frames);
  tcase_add_test (tc, test_caps_refused_for_unlisted_format);
  tcase_add_test (tc, test_meta_equals_engine_output_nchw_rgb);
  tcase_add_test (tc, test_meta_equals_engine_output_nhwc_bgr_mean_std);
  tcase_add_test (tc, test_letterbox_pads_with_black);
  tcase_add_test (tc, test_center_crop_property_overrides_model);
  tcase_add_test (tc, test_antialias_scaling);
  tcase_add_test (tc, test_softmax_auto_keeps_distributions);
  tcase_add_test (tc, test_threshold_and_top_k);
  tcase_add_test (tc, test_labels_property_overrides_metadata);
  tcase_add_test (tc, test_crlf_labels_file);
  tcase_add_test (tc, test_gray_model_without_labels);
  tcase_add_test (tc, test_roi_list_classifies_each_region);
  tcase_add_test (tc, test_roi_list_region_leaving_the_frame);
  tcase_add_test (tc, test_roi_list_carry_keeps_id_spaces_apart);
  tcase_add_test (tc, test_roi_list_object_class_filter);
  tcase_add_test (tc, test_inference_interval_carries_results);
  tcase_add_test (tc, test_messages_fields);
  tcase_add_test (tc, test_qos_skips_inference_not_frames);
  tcase_add_test (tc, test_latency_query_adds_processing_time);
  tcase_add_test (tc, test_meta_survives_scale_convert_tee_queue);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_error_messages);
  tcase_add_test (tc, test_model_change_while_playing_is_refused);
  return s;
}

GST_CHECK_MAIN (imgrecclassify);
