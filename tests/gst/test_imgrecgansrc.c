/* gst-check tests of imgrecgansrc and of the GAN meta it attaches.
 *
 * The generators (tests/gst/make_gan_models.py) are tiny: tiny-generator
 * maps z [8] + one-hot class [4] to an 8x8 RGB image, tiny-generator-gray is
 * unconditional with a 10x6 grey image.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

#include "gstimgrecganmeta.h"

static gchar *
data_path (const gchar * name)
{
  const gchar *dir = g_getenv ("IMGREC_GST_TEST_DATA");
  fail_unless (dir != NULL, "IMGREC_GST_TEST_DATA is not set");
  return g_build_filename (dir, name, NULL);
}

/* A harness around "imgrecgansrc MODEL PROPS ! CAPS", playing. */
static GstHarness *
src_harness (const gchar * model, const gchar * props, const gchar * caps)
{
  gchar *path = data_path (model);
  gchar *desc = g_strdup_printf ("imgrecgansrc name=g model=\"%s\" threads=1 "
      "%s%s%s%s", path, props ? props : "", caps ? " ! capsfilter caps=\"" : "",
      caps ? caps : "", caps ? "\"" : "");
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  g_free (path);
  gst_harness_play (h);
  return h;
}

static gchar *
buffer_md5 (GstBuffer * buf)
{
  GstMapInfo map;
  gchar *md5;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  md5 = g_compute_checksum_for_data (G_CHECKSUM_MD5, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  return md5;
}

/* md5 of the first n frames. */
static gchar **
frame_md5s (const gchar * model, const gchar * props, const gchar * caps,
    guint n)
{
  GstHarness *h = src_harness (model, props, caps);
  gchar **md5 = g_new0 (gchar *, n + 1);
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_harness_pull (h);
    fail_unless (buf != NULL);
    md5[i] = buffer_md5 (buf);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
  return md5;
}

#define CAPS_RGB32 "video/x-raw,format=RGB,width=32,height=24,framerate=10/1"

GST_START_TEST (test_same_seed_gives_identical_frames)
{
  gchar **a = frame_md5s ("tiny-generator.onnx", "seed=3", CAPS_RGB32, 8);
  gchar **b = frame_md5s ("tiny-generator.onnx", "seed=3", CAPS_RGB32, 8);
  gchar **c = frame_md5s ("tiny-generator.onnx", "seed=4", CAPS_RGB32, 8);
  gchar **d = frame_md5s ("tiny-generator.onnx", "seed=3 latent-walk=false",
      CAPS_RGB32, 8);
  gchar **e = frame_md5s ("tiny-generator.onnx", "seed=3 latent-walk=false",
      CAPS_RGB32, 8);
  guint i, distinct = 0;

  for (i = 0; i < 8; i++) {
    fail_unless_equals_string (a[i], b[i]);
    fail_unless_equals_string (d[i], e[i]);
    if (i > 0 && strcmp (d[i], d[i - 1]) != 0)
      distinct++;
  }
  fail_if (strcmp (a[0], c[0]) == 0, "seeds 3 and 4 gave the same frame");
  fail_if (strcmp (a[1], d[1]) == 0, "the latent walk changed nothing");
  fail_unless (distinct == 7, "without a walk every frame is new");
  g_strfreev (a);
  g_strfreev (b);
  g_strfreev (c);
  g_strfreev (d);
  g_strfreev (e);
}

GST_END_TEST;

/* Mean absolute difference of two RGB frames of equal size. */
static gdouble
frame_difference (GstBuffer * a, GstBuffer * b)
{
  GstMapInfo ma, mb;
  gdouble sum = 0;
  gsize i;

  fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
  fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
  fail_unless_equals_int (ma.size, mb.size);
  for (i = 0; i < ma.size; i++)
    sum += fabs ((gdouble) ma.data[i] - mb.data[i]);
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return sum / ma.size;
}

GST_START_TEST (test_latent_walk_is_continuous_and_passes_key_latents)
{
  GstHarness *walk = src_harness ("tiny-generator.onnx",
      "seed=11 class=1 walk-frames=6", CAPS_RGB32);
  GstHarness *jump = src_harness ("tiny-generator.onnx",
      "seed=11 class=1 latent-walk=false", CAPS_RGB32);
  GstBuffer *w[13], *j[3];
  gdouble walk_diff = 0, jump_diff;
  gchar *m1, *m2;
  guint i;

  for (i = 0; i < 13; i++)
    w[i] = gst_harness_pull (walk);
  for (i = 0; i < 3; i++)
    j[i] = gst_harness_pull (jump);
  for (i = 1; i < 13; i++)
    walk_diff += frame_difference (w[i - 1], w[i]) / 12;
  jump_diff = (frame_difference (j[0], j[1]) + frame_difference (j[1],
          j[2])) / 2;
  GST_INFO ("mean change per frame: walk %f, jumps %f", walk_diff, jump_diff);
  fail_unless (walk_diff * 3 < jump_diff,
      "walk frames change by %f on average, independent latents by %f",
      walk_diff, jump_diff);

  /* frame k * walk-frames is drawn from key latent k itself */
  for (i = 0; i < 3; i++) {
    GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (w[i * 6]);
    fail_unless (meta != NULL);
    fail_unless_equals_int (meta->latent_index, i);
    fail_unless (meta->latent_position == 0.0);
    m1 = buffer_md5 (w[i * 6]);
    m2 = buffer_md5 (j[i]);
    fail_unless_equals_string (m1, m2);
    g_free (m1);
    g_free (m2);
  }
  {
    GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (w[9]);
    fail_unless_equals_int (meta->latent_index, 1);
    fail_unless (fabs (meta->latent_position - 0.5) < 1e-9);
  }
  for (i = 0; i < 13; i++)
    gst_buffer_unref (w[i]);
  for (i = 0; i < 3; i++)
    gst_buffer_unref (j[i]);
  gst_harness_teardown (walk);
  gst_harness_teardown (jump);
}

GST_END_TEST;

GST_START_TEST (test_meta_carries_provenance)
{
  GstHarness *h = src_harness ("tiny-generator.onnx",
      "seed=99 class=2 latent-walk=false",
      "video/x-raw,format=I420,width=64,height=48,framerate=25/1");
  guint i;

  for (i = 0; i < 3; i++) {
    GstBuffer *buf = gst_harness_pull (h);
    GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (buf);
    GstMeta *base = (GstMeta *) meta;

    fail_unless (meta != NULL);
    fail_unless (gst_imgrec_meta_is_result (base));
    fail_unless_equals_string (gst_imgrec_meta_get_kind (base), "gan");
    fail_unless_equals_int (meta->role, GST_IMGREC_GAN_ROLE_GENERATED);
    fail_unless_equals_string (meta->info.model, "tiny-generator");
    fail_unless_equals_string (meta->info.element, "g");
    fail_unless_equals_uint64 (meta->seed, 99);
    fail_unless_equals_uint64 (meta->latent_index, i);
    fail_unless_equals_int (meta->class_id, 2);
    fail_unless_equals_string (meta->label, "square");
    fail_unless_equals_int (meta->info.x, 0);
    fail_unless_equals_int (meta->info.width, 64);
    fail_unless_equals_int (meta->info.height, 48);
    fail_unless_equals_uint64 (meta->info.inference_pts, GST_BUFFER_PTS (buf));
    /* accessors for bindings agree with the struct */
    fail_unless_equals_uint64 (gst_imgrec_gan_meta_get_seed (meta), 99);
    fail_unless_equals_int (gst_imgrec_gan_meta_get_class_id (meta), 2);
    fail_unless_equals_string (gst_imgrec_gan_meta_get_label (meta), "square");
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* imgrec.labels with CRLF line ends gives the same labels as with LF: no
 * '\r' in them, no extra label for the trailing line end (the model module's
 * parser, which every element uses). */
GST_START_TEST (test_crlf_labels)
{
  GstHarness *h = src_harness ("tiny-generator-crlf.onnx",
      "seed=1 class=1 latent-walk=false",
      "video/x-raw,format=RGB,width=8,height=8,framerate=25/1");
  GstBuffer *buf = gst_harness_pull (h);
  GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (buf);

  fail_unless (meta != NULL);
  fail_unless_equals_string (meta->label, "triangle");
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_classes_cycle_every_class_duration)
{
  /* 10 fps, 0.3 s per class: frames 0-2 class 0, 3-5 class 1, ... */
  GstHarness *h = src_harness ("tiny-generator.onnx",
      "class-duration=300000000", CAPS_RGB32);
  guint i;

  for (i = 0; i < 15; i++) {
    GstBuffer *buf = gst_harness_pull (h);
    GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (buf);
    fail_unless_equals_int (meta->class_id, (i / 3) % 4);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_unconditional_gray_generator)
{
  GstHarness *h = src_harness ("tiny-generator-gray.onnx", "",
      "video/x-raw,format=GRAY8,width=10,height=6,framerate=5/1");
  GstBuffer *buf = gst_harness_pull (h);
  GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (buf);

  fail_unless_equals_int (gst_buffer_get_size (buf), 12 * 6);      /* stride 12 */
  fail_unless_equals_int (meta->class_id, -1);
  fail_unless (meta->label == NULL);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Every format and size downstream asks for; at the generator's own size a
 * YUV frame is exactly the RGB frame converted. */
GST_START_TEST (test_any_format_and_size)
{
  static const gchar *formats[] = { "I420", "NV12", "YV12", "Y444", "YUY2",
    "UYVY", "BGRA", "xRGB", "BGR", "GRAY8"
  };
  static const gint sizes[][2] = { {8, 8}, {33, 17}, {320, 240} };
  guint f, s;

  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    for (s = 0; s < G_N_ELEMENTS (sizes); s++) {
      gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,"
          "height=%d,framerate=30/1", formats[f], sizes[s][0], sizes[s][1]);
      GstHarness *h = src_harness ("tiny-generator.onnx", "seed=5", caps);
      GstBuffer *buf = gst_harness_pull (h);
      GstVideoInfo info;
      GstCaps *c = gst_caps_from_string (caps);

      fail_unless (gst_video_info_from_caps (&info, c));
      fail_unless_equals_int (gst_buffer_get_size (buf),
          GST_VIDEO_INFO_SIZE (&info));
      gst_caps_unref (c);
      gst_buffer_unref (buf);
      gst_harness_teardown (h);
      g_free (caps);
    }
  }

  /* I420 at 8x8 = the RGB 8x8 frame through the same converter */
  {
    GstHarness *hr = src_harness ("tiny-generator.onnx", "seed=5",
        "video/x-raw,format=RGB,width=8,height=8,framerate=30/1");
    GstHarness *hy = src_harness ("tiny-generator.onnx", "seed=5",
        "video/x-raw,format=I420,width=8,height=8,framerate=30/1");
    GstBuffer *rgb = gst_harness_pull (hr), *yuv = gst_harness_pull (hy);
    GstBuffer *expected;
    GstVideoInfo ri, yi;
    GstVideoFrame rf, ef;
    GstVideoConverter *conv;
    gchar *m1, *m2;

    gst_video_info_set_format (&ri, GST_VIDEO_FORMAT_RGB, 8, 8);
    gst_video_info_set_format (&yi, GST_VIDEO_FORMAT_I420, 8, 8);
    ri.fps_n = yi.fps_n = 30;
    expected = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&yi), NULL);
    fail_unless (gst_video_frame_map (&rf, &ri, rgb, GST_MAP_READ));
    fail_unless (gst_video_frame_map (&ef, &yi, expected, GST_MAP_WRITE));
    conv = gst_video_converter_new (&ri, &yi,
        gst_structure_new ("GstVideoConverter",
            GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
            GST_VIDEO_DITHER_NONE, NULL));
    gst_video_converter_frame (conv, &rf, &ef);
    gst_video_converter_free (conv);
    gst_video_frame_unmap (&ef);
    gst_video_frame_unmap (&rf);
    m1 = buffer_md5 (expected);
    m2 = buffer_md5 (yuv);
    fail_unless_equals_string (m1, m2);
    g_free (m1);
    g_free (m2);
    gst_buffer_unref (expected);
    gst_buffer_unref (rgb);
    gst_buffer_unref (yuv);
    gst_harness_teardown (hr);
    gst_harness_teardown (hy);
  }
}

GST_END_TEST;

GST_START_TEST (test_default_caps)
{
  GstHarness *h = src_harness ("tiny-generator.onnx", "", NULL);
  GstBuffer *buf = gst_harness_pull (h);
  GstCaps *caps = gst_pad_get_current_caps (h->sinkpad);
  GstVideoInfo info;

  fail_unless (gst_video_info_from_caps (&info, caps));
  fail_unless_equals_string (gst_video_format_to_string
      (GST_VIDEO_INFO_FORMAT (&info)), "RGB");
  fail_unless_equals_int (GST_VIDEO_INFO_WIDTH (&info), 256);
  fail_unless_equals_int (GST_VIDEO_INFO_HEIGHT (&info), 256);
  fail_unless_equals_int (GST_VIDEO_INFO_FPS_N (&info), 30);
  fail_unless_equals_int (GST_VIDEO_INFO_FPS_D (&info), 1);
  gst_caps_unref (caps);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_timestamps_durations_num_buffers)
{
  GstHarness *h = src_harness ("tiny-generator.onnx", "num-buffers=7",
      "video/x-raw,format=RGB,width=16,height=16,framerate=30000/1001");
  GstClockTime expected_pts = 0;
  GstEvent *ev;
  guint i;
  gboolean eos = FALSE;

  for (i = 0; i < 7; i++) {
    GstBuffer *buf = gst_harness_pull (h);
    GstClockTime next = gst_util_uint64_scale (i + 1, 1001 * GST_SECOND, 30000);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), expected_pts);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), next - expected_pts);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), i);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (buf), i + 1);
    expected_pts = next;
    gst_buffer_unref (buf);
  }
  while (!eos && (ev = gst_harness_pull_event (h))) {
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless (eos);
  fail_unless_equals_int (gst_harness_buffers_received (h), 7);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Runs a pipeline to EOS or error; returns the error message or NULL. */
static gchar *
run_pipeline (const gchar * desc_fmt, const gchar * model)
{
  gchar *path = model ? data_path (model) : g_strdup ("");
  gchar *desc = g_strdup_printf (desc_fmt, path);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstBus *bus;
  GstMessage *msg;
  gchar *text = NULL;

  fail_unless (pipeline != NULL, "could not parse %s", desc);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "pipeline timed out: %s", desc);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    text = g_strdup (err->message);
    g_error_free (err);
  }
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
  return text;
}

static void
expect_error (const gchar * desc_fmt, const gchar * model, const gchar * part)
{
  gchar *msg = run_pipeline (desc_fmt, model);
  fail_unless (msg != NULL, "no error for %s", model ? model : "(none)");
  fail_unless (strstr (msg, part) != NULL, "error \"%s\" lacks \"%s\"", msg,
      part);
  g_free (msg);
}

GST_START_TEST (test_clear_errors)
{
  const gchar *fmt = "imgrecgansrc model=\"%s\" num-buffers=2 ! fakesink";

  expect_error (fmt, "tiny-discriminator.onnx",
      "is a gan-discriminator model (imgrec.kind); imgrecgansrc needs a "
      "gan-generator");
  expect_error (fmt, "generator-not-image.onnx", "is not an image generator");
  expect_error (fmt, "mean-colour.onnx", "is a classifier model");
  expect_error (fmt, "dynamic-size.onnx", "is not a generator: its input");
  expect_error (fmt, "no-such-model.onnx", "does not exist");
  expect_error ("imgrecgansrc num-buffers=2 ! fakesink", NULL,
      "No model set");
  expect_error ("imgrecgansrc model=\"%s\" class=4 num-buffers=2 ! fakesink",
      "tiny-generator.onnx", "class=4 is out of range");
  expect_error ("imgrecgansrc model=\"%s\" class=0 num-buffers=2 ! fakesink",
      "tiny-generator-gray.onnx", "is not class-conditional");
  /* bad caps: no positive frame rate */
  expect_error ("imgrecgansrc model=\"%s\" num-buffers=2 ! "
      "video/x-raw,framerate=0/1 ! fakesink", "tiny-generator.onnx",
      "needs a positive frame rate");
}

GST_END_TEST;

GST_START_TEST (test_runs_to_eos_into_imgrecjson_style_pipeline)
{
  gchar *msg = run_pipeline ("imgrecgansrc model=\"%s\" num-buffers=20 ! "
      "video/x-raw,format=NV12,width=48,height=40 ! videoconvert ! "
      "videoscale ! video/x-raw,format=RGB,width=24,height=20 ! fakesink",
      "tiny-generator.onnx");
  fail_unless (msg == NULL, "%s", msg);
}

GST_END_TEST;

GST_START_TEST (test_live_source_latency_and_clock)
{
  gchar *path = data_path ("tiny-generator.onnx");
  gchar *desc = g_strdup_printf ("imgrecgansrc name=g model=\"%s\" is-live=true "
      "num-buffers=6 ! video/x-raw,width=16,height=16,framerate=50/1 ! "
      "fakesink sync=true", path);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "g");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  GstQuery *q;
  gboolean live, is_live;
  GstClockTime min, max;
  gint64 t0, t1;

  g_object_get (src, "is-live", &is_live, NULL);
  fail_unless (is_live);
  t0 = g_get_monotonic_time ();
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  t1 = g_get_monotonic_time ();
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  /* six frames at 50 fps, paced by the clock */
  fail_unless (t1 - t0 >= 90000, "live source ran in %" G_GINT64_FORMAT " us",
      t1 - t0);

  q = gst_query_new_latency ();
  fail_unless (gst_element_query (src, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (live);
  fail_unless_equals_uint64 (min, GST_SECOND / 50);
  gst_query_unref (q);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_seek_gives_frames_of_that_position)
{
  gchar *path = data_path ("tiny-generator.onnx");
  gchar *desc = g_strdup_printf ("imgrecgansrc name=g model=\"%s\" "
      "latent-walk=false ! video/x-raw,width=8,height=8,framerate=10/1 ! "
      "fakesink name=s signal-handoffs=false", path);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "s");
  GstSample *sample;
  GstBuffer *buf;
  GstImgRecGanMeta *meta;

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_element_get_state (pipeline, NULL, NULL,
          10 * GST_SECOND) == GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH, 2 * GST_SECOND));
  fail_unless (gst_element_get_state (pipeline, NULL, NULL,
          10 * GST_SECOND) == GST_STATE_CHANGE_SUCCESS);
  g_object_get (sink, "last-sample", &sample, NULL);
  fail_unless (sample != NULL);
  buf = gst_sample_get_buffer (sample);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 2 * GST_SECOND);
  meta = gst_buffer_get_imgrec_gan_meta (buf);
  fail_unless_equals_uint64 (meta->latent_index, 20);
  gst_sample_unref (sample);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  gchar *path = data_path ("tiny-generator.onnx");
  gchar *desc = g_strdup_printf ("imgrecgansrc model=\"%s\" ! "
      "video/x-raw,format=I420,width=32,height=32 ! fakesink", path);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  guint i;

  for (i = 0; i < 20; i++) {
    fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    fail_unless (gst_element_get_state (pipeline, NULL, NULL,
            10 * GST_SECOND) == GST_STATE_CHANGE_SUCCESS);
    fail_unless (gst_element_set_state (pipeline, i % 2 ? GST_STATE_NULL :
            GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

static Suite *
imgrecgansrc_suite (void)
{
  Suite *s = suite_create ("imgrecgansrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_same_seed_gives_identical_frames);
  tcase_add_test (tc, test_latent_walk_is_continuous_and_passes_key_latents);
  tcase_add_test (tc, test_meta_carries_provenance);
  tcase_add_test (tc, test_crlf_labels);
  tcase_add_test (tc, test_classes_cycle_every_class_duration);
  tcase_add_test (tc, test_unconditional_gray_generator);
  tcase_add_test (tc, test_any_format_and_size);
  tcase_add_test (tc, test_default_caps);
  tcase_add_test (tc, test_timestamps_durations_num_buffers);
  tcase_add_test (tc, test_clear_errors);
  tcase_add_test (tc, test_runs_to_eos_into_imgrecjson_style_pipeline);
  tcase_add_test (tc, test_live_source_latency_and_clock);
  tcase_add_test (tc, test_seek_gives_frames_of_that_position);
  tcase_add_test (tc, test_state_cycles);
  return s;
}

GST_CHECK_MAIN (imgrecgansrc);
