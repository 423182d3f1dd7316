/* gst-check tests of imgrecgan (mode=discriminate and mode=generate) and of
 * the GAN results in imgrecjson and imgrecoverlay.
 *
 * Models (tests/gst/make_gan_models.py): tiny-discriminator with the logits
 * PyTorch computes for the frames in disc-frames.bin (disc-expected.bin);
 * brightness-discriminator, whose realism follows the frame's brightness;
 * restore-invert, an image-to-image "generator" computing 255 - pixel.
 * The defocus check and the restorer's degradation gate run on textures of
 * random patches, sharp and box-blurred.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "gstimgrecganmeta.h"

#define DISC_FRAMES 6

static gchar *
data_path (const gchar * name)
{
  const gchar *dir = g_getenv ("IMGREC_GST_TEST_DATA");
  fail_unless (dir != NULL, "IMGREC_GST_TEST_DATA is not set");
  return g_build_filename (dir, name, NULL);
}

static GstHarness *
gan_harness (const gchar * model, const gchar * props, const gchar * caps)
{
  gchar *path = data_path (model);
  gchar *desc = g_strdup_printf ("imgrecgan name=g model=\"%s\" threads=1 %s",
      path, props ? props : "");
  GstHarness *h = gst_harness_new_parse (desc);
  gst_harness_set_src_caps_str (h, caps);
  g_free (desc);
  g_free (path);
  return h;
}

/* An RGB frame whose pixel (x, y) is fill(x, y). */
typedef void (*FillFunc) (gint x, gint y, guint8 rgb[3], gpointer data);

static GstBuffer *
rgb_frame (gint w, gint h, FillFunc fill, gpointer data, GstClockTime pts)
{
  GstVideoInfo info;
  GstVideoFrame f;
  GstBuffer *buf;
  gint x, y;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, w, h);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  gst_buffer_memset (buf, 0, 0, GST_VIDEO_INFO_SIZE (&info));
  fail_unless (gst_video_frame_map (&f, &info, buf, GST_MAP_WRITE));
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      fill (x, y, (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0) +
          y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0) + 3 * x, data);
  gst_video_frame_unmap (&f);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 10;
  return buf;
}

static void
fill_solid (gint x, gint y, guint8 rgb[3], gpointer data)
{
  const guint8 *c = data;
  memcpy (rgb, c, 3);
}

static guint8 *
read_file (const gchar * name, gsize expected)
{
  gchar *path = data_path (name), *contents;
  gsize len;

  fail_unless (g_file_get_contents (path, &contents, &len, NULL), "%s", path);
  fail_unless_equals_int (len, expected);
  g_free (path);
  return (guint8 *) contents;
}

static GstBuffer *
disc_frame (const guint8 * frames, guint index, GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 16 * 16 * 3, NULL);
  gst_buffer_fill (buf, 0, frames + index * 16 * 16 * 3, 16 * 16 * 3);
  GST_BUFFER_PTS (buf) = pts;
  return buf;
}

static void
check_close (gfloat got, gfloat expected, const gchar * what)
{
  fail_unless (fabsf (got - expected) <= 1e-4f + 1e-4f * fabsf (expected),
      "%s: %f, expected %f", what, got, expected);
}

GST_START_TEST (test_discriminator_scores_equal_reference)
{
  guint8 *frames = read_file ("disc-frames.bin", DISC_FRAMES * 16 * 16 * 3);
  gfloat *expected = (gfloat *) read_file ("disc-expected.bin",
      DISC_FRAMES * sizeof (gfloat));
  gchar *ref = NULL, *ref_path = data_path ("disc-reference.txt");
  GstHarness *h = gan_harness ("tiny-discriminator.onnx", NULL,
      "video/x-raw,format=RGB,width=16,height=16,framerate=10/1");
  guint i;

  g_file_get_contents (ref_path, &ref, NULL, NULL);
  GST_INFO ("reference logits from %s", ref);
  for (i = 0; i < DISC_FRAMES; i++) {
    GstBuffer *buf = gst_harness_push_and_pull (h,
        disc_frame (frames, i, i * GST_SECOND / 10));
    GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (buf);
    GstVideoRegionOfInterestMeta *roi;
    GstStructure *param;
    gdouble score;
    gboolean anomaly;

    fail_unless (meta != NULL);
    fail_unless_equals_int (meta->role, GST_IMGREC_GAN_ROLE_DISCRIMINATED);
    fail_unless_equals_string (meta->info.model, "tiny-discriminator");
    check_close (meta->logit, expected[i], "logit");
    check_close (meta->score, 1.0f / (1.0f + expf (-expected[i])), "score");
    fail_if (meta->anomaly);
    fail_unless_equals_string (gst_imgrec_meta_get_kind ((GstMeta *) meta),
        "gan");

    roi = gst_buffer_get_video_region_of_interest_meta_id (buf,
        meta->info.roi_id);
    fail_unless (roi != NULL);
    fail_unless_equals_string (g_quark_to_string (roi->roi_type),
        GST_IMGREC_FULL_FRAME_ROI_TYPE);
    param = gst_video_region_of_interest_meta_get_param (roi,
        GST_IMGREC_GAN_PARAM_NAME);
    fail_unless (param != NULL);
    fail_unless_equals_string (gst_structure_get_string (param, "mode"),
        "discriminate");
    fail_unless (gst_structure_get_double (param, "score", &score));
    check_close ((gfloat) score, meta->score, "param score");
    fail_unless (gst_structure_get_boolean (param, "anomaly", &anomaly));
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
  g_free (frames);
  g_free (expected);
  g_free (ref);
  g_free (ref_path);
}

GST_END_TEST;

/* Two 16x16 regions of a 48x32 frame hold reference frames 0 and 3. */
GST_START_TEST (test_discriminate_each_roi)
{
  guint8 *frames = read_file ("disc-frames.bin", DISC_FRAMES * 16 * 16 * 3);
  gfloat *expected = (gfloat *) read_file ("disc-expected.bin",
      DISC_FRAMES * sizeof (gfloat));
  const gchar *object_class[] = { "", "sign" };
  guint pass;

  for (pass = 0; pass < 2; pass++) {
    gchar *props = g_strdup_printf ("roi=roi-list object-class=\"%s\"",
        object_class[pass]);
    GstHarness *h = gan_harness ("tiny-discriminator.onnx", props,
        "video/x-raw,format=RGB,width=48,height=32,framerate=10/1");
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 48 * 32 * 3, NULL);
    GstVideoRegionOfInterestMeta *a, *b;
    GstImgRecGanMeta *ma, *mb;
    gint y;

    gst_buffer_memset (buf, 0, 0x40, 48 * 32 * 3);
    for (y = 0; y < 16; y++) {
      gst_buffer_fill (buf, y * 48 * 3, frames + y * 16 * 3, 16 * 3);
      gst_buffer_fill (buf, (y + 8) * 48 * 3 + 16 * 3,
          frames + 3 * 16 * 16 * 3 + y * 16 * 3, 16 * 3);
    }
    a = gst_buffer_add_video_region_of_interest_meta (buf, "sign", 0, 0, 16,
        16);
    a->id = 4;
    b = gst_buffer_add_video_region_of_interest_meta (buf, "car", 16, 8, 16,
        16);
    b->id = 9;
    buf = gst_harness_push_and_pull (h, buf);
    ma = gst_buffer_get_imgrec_gan_meta_for_roi (buf, 4);
    mb = gst_buffer_get_imgrec_gan_meta_for_roi (buf, 9);
    fail_unless (ma != NULL);
    check_close (ma->logit, expected[0], "region a");
    fail_unless_equals_int (ma->info.x, 0);
    fail_unless_equals_int (ma->info.width, 16);
    fail_unless (gst_video_region_of_interest_meta_get_param
        (gst_buffer_get_video_region_of_interest_meta_id (buf, 4),
            GST_IMGREC_GAN_PARAM_NAME) != NULL);
    if (pass == 0) {
      fail_unless (mb != NULL);
      check_close (mb->logit, expected[3], "region b");
      fail_unless_equals_int (mb->info.x, 16);
      fail_unless_equals_int (mb->info.y, 8);
    } else {
      fail_unless (mb == NULL, "object-class=sign scored a car");
    }
    gst_buffer_unref (buf);
    gst_harness_teardown (h);
    g_free (props);
  }
  g_free (frames);
  g_free (expected);
}

GST_END_TEST;

/* The discriminate param also carries the decision as DL Streamer reads a
 * classification: label / label_id from the anomaly state, confidence the
 * label's probability, model_name. */
static void
check_param_decision (GstBuffer * buf, const GstImgRecGanMeta * meta)
{
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_get_video_region_of_interest_meta_id (buf, meta->info.roi_id);
  GstStructure *p = roi ? gst_video_region_of_interest_meta_get_param (roi,
      GST_IMGREC_GAN_PARAM_NAME) : NULL;
  gint label_id = -1;
  gdouble confidence = -1;

  fail_unless (p != NULL);
  fail_unless (gst_structure_get_int (p, "label_id", &label_id));
  fail_unless_equals_int (label_id, meta->anomaly ? 1 : 0);
  fail_unless_equals_string (gst_structure_get_string (p, "label"),
      meta->anomaly ? "anomaly" : "normal");
  fail_unless (gst_structure_get_double (p, "confidence", &confidence));
  check_close ((gfloat) confidence,
      meta->anomaly ? 1.0f - meta->score : meta->score, "param confidence");
  fail_unless_equals_string (gst_structure_get_string (p, "model_name"),
      meta->info.model);
}

/* brightness-discriminator: score = sigmoid(20 * (v / 255 - 0.5)) */
#define BRIGHT 230              /* score ~ 1 */
#define DARK 25                 /* score ~ 0 */
#define MIDDLE 133              /* score ~ 0.61: between 0.5 and 0.5 + 0.2 */

GST_START_TEST (test_anomaly_fires_and_recovers_with_hysteresis)
{
  static const guint8 levels[] = {
    BRIGHT, BRIGHT, DARK, DARK, BRIGHT,  /* two dark frames: no anomaly */
    DARK, DARK, DARK,           /* third dark in a row: anomaly (frame 7) */
    DARK, MIDDLE, MIDDLE, MIDDLE, MIDDLE,       /* in the band: still on */
    BRIGHT, BRIGHT, MIDDLE,     /* run broken */
    BRIGHT, BRIGHT, BRIGHT,     /* recovered at frame 18 */
    BRIGHT, DARK
  };
  static const gboolean flagged_after[] = {
    0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0
  };
  GstHarness *h = gan_harness ("brightness-discriminator.onnx",
      "anomaly-threshold=0.5 anomaly-frames=3 anomaly-hysteresis=0.2",
      "video/x-raw,format=RGB,width=8,height=8,framerate=10/1");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  const GstStructure *s;
  GstStructure *stats;
  gboolean anomaly;
  guint64 t, anomalies;
  guint i, frames, n_messages = 0;
  gdouble score, threshold;

  G_STATIC_ASSERT (G_N_ELEMENTS (levels) == G_N_ELEMENTS (flagged_after));
  gst_element_set_bus (h->element, bus);
  for (i = 0; i < G_N_ELEMENTS (levels); i++) {
    guint8 c[3] = { levels[i], levels[i], levels[i] };
    GstBuffer *buf = gst_harness_push_and_pull (h,
        rgb_frame (8, 8, fill_solid, c, i * GST_SECOND / 10));
    GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (buf);

    fail_unless_equals_int (meta->anomaly, flagged_after[i]);
    check_param_decision (buf, meta);
    if (levels[i] == MIDDLE)
      fail_unless (meta->score > 0.5 && meta->score < 0.7, "%f", meta->score);
    gst_buffer_unref (buf);

    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
      s = gst_message_get_structure (msg);
      fail_unless (gst_structure_has_name (s, "imgrec-anomaly"));
      fail_unless (gst_structure_get_boolean (s, "anomaly", &anomaly));
      fail_unless (gst_structure_get_uint64 (s, "timestamp", &t));
      fail_unless_equals_uint64 (t, i * GST_SECOND / 10);
      fail_unless (gst_structure_get_uint (s, "frames", &frames));
      fail_unless_equals_int (frames, 3);
      fail_unless (gst_structure_get_double (s, "score", &score));
      fail_unless (gst_structure_get_double (s, "threshold", &threshold));
      fail_unless (threshold == 0.5);
      fail_unless (gst_structure_get_uint64 (s, "since", &t));
      fail_unless_equals_string (gst_structure_get_string (s, "model"),
          "brightness-discriminator");
      if (n_messages == 0) {
        fail_unless (anomaly);
        fail_unless_equals_int (i, 7);
        fail_unless_equals_uint64 (t, 5 * GST_SECOND / 10);
        fail_unless (score < 0.5);
      } else {
        fail_unless (!anomaly);
        fail_unless_equals_int (i, 18);
        fail_unless_equals_uint64 (t, 16 * GST_SECOND / 10);
        fail_unless (score >= 0.7);
      }
      n_messages++;
      gst_message_unref (msg);
    }
  }
  fail_unless_equals_int (n_messages, 2);
  {
    GstElement *e = gst_harness_find_element (h, "imgrecgan");
    g_object_get (e, "stats", &stats, NULL);
    fail_unless (gst_structure_get_uint64 (stats, "anomalies", &anomalies));
    fail_unless_equals_uint64 (anomalies, 1);
    gst_structure_free (stats);
    gst_object_unref (e);
  }
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The whole frame's realism state must not depend on the ROIs upstream put
 * on the frame: its full-frame ROI takes the next free id, which follows
 * their number (a detector's boxes), and keying the state by that id
 * restarted the count of dark frames whenever the number changed (the
 * driving demo's covered lens then took 15 frames after the detections
 * stopped changing, not after it was covered). */
GST_START_TEST (test_full_frame_anomaly_whatever_the_rois)
{
  GstHarness *h = gan_harness ("brightness-discriminator.onnx",
      "anomaly-threshold=0.5 anomaly-frames=3",
      "video/x-raw,format=RGB,width=8,height=8,framerate=10/1");
  guint i;

  for (i = 0; i < 6; i++) {
    guint8 c[3] = { DARK, DARK, DARK };
    GstBuffer *in = rgb_frame (8, 8, fill_solid, c, i * GST_SECOND / 10);
    guint k;
    /* 0, 1, 2, 0, 1, 2 detections: the full-frame ROI's id changes */
    for (k = 0; k < i % 3; k++) {
      GstVideoRegionOfInterestMeta *r =
          gst_buffer_add_video_region_of_interest_meta (in, "traffic-sign", 1, 1, 4, 4);
      r->id = (gint) k;
    }
    GstBuffer *buf = gst_harness_push_and_pull (h, in);
    GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (buf);

    fail_unless (meta != NULL);
    fail_unless_equals_int (meta->info.roi_id, (gint) (i % 3));
    /* the third dark frame in a row raises it, as without ROIs */
    fail_unless_equals_int (meta->anomaly, i >= 2);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_anomaly_off_by_default)
{
  GstHarness *h = gan_harness ("brightness-discriminator.onnx", NULL,
      "video/x-raw,format=RGB,width=8,height=8,framerate=10/1");
  GstBus *bus = gst_bus_new ();
  guint8 c[3] = { DARK, DARK, DARK };
  guint i;

  gst_element_set_bus (h->element, bus);
  for (i = 0; i < 10; i++) {
    GstBuffer *buf = gst_harness_push_and_pull (h,
        rgb_frame (8, 8, fill_solid, c, i * GST_SECOND / 10));
    fail_if (gst_buffer_get_imgrec_gan_meta (buf)->anomaly);
    gst_buffer_unref (buf);
  }
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT) == NULL);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Noise outside a uniform block at (10,6) 20x12. */
static void
fill_noise_with_block (gint x, gint y, guint8 rgb[3], gpointer data)
{
  if (x >= 10 && x < 30 && y >= 6 && y < 18) {
    rgb[0] = 10;
    rgb[1] = 100;
    rgb[2] = 200;
  } else {
    guint32 v = (guint32) (x * 2654435761u) ^ (guint32) (y * 40503u);
    rgb[0] = v & 0xff;
    rgb[1] = (v >> 8) & 0xff;
    rgb[2] = (v >> 16) & 0xff;
  }
}

static GstBuffer *
frame_with_block (void)
{
  GstBuffer *buf = rgb_frame (64, 48, fill_noise_with_block, NULL, 0);
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_add_video_region_of_interest_meta (buf, "sign", 10, 6, 20,
      12);
  roi->id = 1;
  return buf;
}

GST_START_TEST (test_generate_changes_only_the_roi)
{
  GstHarness *h = gan_harness ("restore-invert.onnx",
      "mode=generate roi=roi-list",
      "video/x-raw,format=RGB,width=64,height=48,framerate=10/1");
  GstBuffer *in = frame_with_block (), *out;
  GstMapInfo mi, mo;
  GstImgRecGanMeta *meta;
  gint x, y, changed = 0;

  out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));
  fail_unless (gst_buffer_map (in, &mi, GST_MAP_READ));
  fail_unless (gst_buffer_map (out, &mo, GST_MAP_READ));
  for (y = 0; y < 48; y++) {
    for (x = 0; x < 64; x++) {
      const guint8 *a = mi.data + y * 192 + 3 * x, *b = mo.data + y * 192 + 3 * x;
      if (x >= 10 && x < 30 && y >= 6 && y < 18) {
        /* the generator's output: 255 - pixel */
        fail_unless (b[0] == 245 && b[1] == 155 && b[2] == 55,
            "(%d,%d) = %d,%d,%d", x, y, b[0], b[1], b[2]);
        changed++;
      } else {
        fail_unless (memcmp (a, b, 3) == 0, "pixel (%d,%d) outside the ROI "
            "changed", x, y);
      }
    }
  }
  fail_unless_equals_int (changed, 20 * 12);
  gst_buffer_unmap (in, &mi);
  gst_buffer_unmap (out, &mo);
  meta = gst_buffer_get_imgrec_gan_meta_for_roi (out, 1);
  fail_unless (meta != NULL);
  fail_unless_equals_int (meta->role, GST_IMGREC_GAN_ROLE_RESTORED);
  fail_unless (meta->blend == 1.0f);
  {
    GstStructure *p = gst_video_region_of_interest_meta_get_param
        (gst_buffer_get_video_region_of_interest_meta_id (out, 1),
        GST_IMGREC_GAN_PARAM_NAME);
    fail_unless (p != NULL);
    fail_unless_equals_string (gst_structure_get_string (p, "mode"),
        "generate");
    fail_unless_equals_string (gst_structure_get_string (p, "model_name"),
        meta->info.model);
    /* a restoration decides nothing: no classification fields */
    fail_if (gst_structure_has_field (p, "label"));
  }
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* I420: an ROI at odd coordinates changes nothing beyond its chroma-grid
 * bounding box. */
GST_START_TEST (test_generate_i420_roi_stays_in_place)
{
  GstHarness *h = gan_harness ("restore-invert.onnx",
      "mode=generate roi=roi-list",
      "video/x-raw,format=I420,width=64,height=48,framerate=10/1");
  GstVideoInfo info;
  GstBuffer *in, *out;
  GstVideoFrame fi, fo;
  GstVideoRegionOfInterestMeta *roi;
  gint x, y;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 64, 48);
  in = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  fail_unless (gst_video_frame_map (&fi, &info, in, GST_MAP_WRITE));
  for (y = 0; y < 48; y++)
    for (x = 0; x < 64; x++)
      ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fi, 0))[y *
          GST_VIDEO_FRAME_PLANE_STRIDE (&fi, 0) + x] = (x * 7 + y * 13) & 0xff;
  for (y = 0; y < 24; y++)
    for (x = 0; x < 32; x++) {
      ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fi, 1))[y *
          GST_VIDEO_FRAME_PLANE_STRIDE (&fi, 1) + x] = (x * 5) & 0xff;
      ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fi, 2))[y *
          GST_VIDEO_FRAME_PLANE_STRIDE (&fi, 2) + x] = (y * 9) & 0xff;
    }
  gst_video_frame_unmap (&fi);
  roi = gst_buffer_add_video_region_of_interest_meta (in, "sign", 11, 7, 19,
      9);
  roi->id = 0;

  out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));
  fail_unless (gst_video_frame_map (&fi, &info, in, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fo, &info, out, GST_MAP_READ));
  /* region on the chroma grid: x 10..29, y 6..15 */
  for (y = 0; y < 48; y++)
    for (x = 0; x < 64; x++) {
      gint off = y * GST_VIDEO_FRAME_PLANE_STRIDE (&fi, 0) + x;
      gboolean inside = x >= 10 && x < 30 && y >= 6 && y < 16;
      guint8 a = ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fi, 0))[off];
      guint8 b = ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fo, 0))[off];
      if (!inside)
        fail_unless (a == b, "luma (%d,%d) outside the region changed", x, y);
    }
  for (y = 0; y < 24; y++)
    for (x = 0; x < 32; x++) {
      gboolean inside = x >= 5 && x < 15 && y >= 3 && y < 8;
      gint p;
      for (p = 1; p < 3; p++) {
        gint off = y * GST_VIDEO_FRAME_PLANE_STRIDE (&fi, p) + x;
        if (!inside)
          fail_unless (((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fi, p))[off] ==
              ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fo, p))[off],
              "chroma (%d,%d) outside the region changed", x, y);
      }
    }
  {
    GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (out);
    fail_unless_equals_int (meta->info.x, 10);
    fail_unless_equals_int (meta->info.y, 6);
    fail_unless_equals_int (meta->info.width, 20);
    fail_unless_equals_int (meta->info.height, 10);
  }
  gst_video_frame_unmap (&fi);
  gst_video_frame_unmap (&fo);
  gst_buffer_unref (in);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

static gchar *
md5_of (GstBuffer * buf)
{
  GstMapInfo map;
  gchar *md5;

  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  md5 = g_compute_checksum_for_data (G_CHECKSUM_MD5, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  return md5;
}

GST_START_TEST (test_blend)
{
  GstHarness *h = gan_harness ("restore-invert.onnx",
      "mode=generate roi=roi-list blend=0",
      "video/x-raw,format=RGB,width=64,height=48,framerate=10/1");
  GstBuffer *in = frame_with_block (), *out;
  GstElement *e = gst_harness_find_element (h, "imgrecgan");
  gchar *m1, *m2;
  GstMapInfo map;
  gint c;

  /* blend=0: the frame passes bit for bit */
  out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));
  m1 = md5_of (in);
  m2 = md5_of (out);
  fail_unless_equals_string (m1, m2);
  fail_unless (gst_buffer_get_imgrec_gan_meta (out) == NULL);
  g_free (m1);
  g_free (m2);
  gst_buffer_unref (out);

  /* blend=0.5 (changed while playing): half way between c and 255 - c */
  g_object_set (e, "blend", 0.5, NULL);
  out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));
  fail_unless (gst_buffer_map (out, &map, GST_MAP_READ));
  for (c = 0; c < 3; c++) {
    guint8 v = map.data[10 * 192 + 3 * 20 + c];
    fail_unless (v >= 126 && v <= 129, "channel %d = %d", c, v);
  }
  {
    GstMapInfo orig;
    fail_unless (gst_buffer_map (in, &orig, GST_MAP_READ));
    fail_unless (memcmp (orig.data, map.data, 6 * 192) == 0,
        "rows above the ROI changed");
    gst_buffer_unmap (in, &orig);
  }
  gst_buffer_unmap (out, &map);
  fail_unless (gst_buffer_get_imgrec_gan_meta (out)->blend == 0.5f);
  gst_buffer_unref (out);
  gst_object_unref (e);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* post-messages: one imgrec-gan message per region, with the meta's
 * values; none without it */
GST_START_TEST (test_post_messages)
{
  guint pass;

  for (pass = 0; pass < 3; pass++) {
    const gchar *props[] = { "roi=roi-list post-messages=true",
      "roi=roi-list", "mode=generate post-messages=true"
    };
    GstHarness *h = gan_harness (pass < 2 ? "tiny-discriminator.onnx" :
        "restore-invert.onnx", props[pass],
        "video/x-raw,format=RGB,width=48,height=32,framerate=10/1");
    GstBus *bus = gst_bus_new ();
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 48 * 32 * 3, NULL);
    GstVideoRegionOfInterestMeta *a, *b;
    GstMessage *msg;
    guint n = 0;

    gst_element_set_bus (h->element, bus);
    gst_buffer_memset (buf, 0, 0x60, 48 * 32 * 3);
    GST_BUFFER_PTS (buf) = 300 * GST_MSECOND;
    a = gst_buffer_add_video_region_of_interest_meta (buf, "sign", 0, 0, 16,
        16);
    a->id = 4;
    b = gst_buffer_add_video_region_of_interest_meta (buf, "car", 16, 8, 16,
        16);
    b->id = 9;
    buf = gst_harness_push_and_pull (h, buf);
    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
      const GstStructure *s = gst_message_get_structure (msg);
      gint roi_id = -2;
      guint64 ts = 0;

      if (gst_structure_has_name (s, "imgrec-gan")) {
        n++;
        fail_unless (gst_structure_get_int (s, "roi-id", &roi_id));
        fail_unless (gst_structure_get_uint64 (s, "timestamp", &ts));
        fail_unless_equals_uint64 (ts, 300 * GST_MSECOND);
        fail_unless (gst_structure_get_string (s, "model") != NULL);
        if (pass == 0) {
          GstImgRecGanMeta *m = gst_buffer_get_imgrec_gan_meta_for_roi (buf,
              roi_id);
          gdouble score = -1, logit = 0;
          gboolean anomaly = TRUE;
          fail_unless (m != NULL, "no meta for region %d", roi_id);
          fail_unless_equals_string (gst_structure_get_string (s, "mode"),
              "discriminate");
          fail_unless (gst_structure_get_double (s, "score", &score));
          fail_unless (gst_structure_get_double (s, "logit", &logit));
          fail_unless (gst_structure_get_boolean (s, "anomaly", &anomaly));
          fail_unless (score == (gdouble) m->score && logit == (gdouble)
              m->logit && anomaly == m->anomaly);
        } else {
          gdouble blend = 0;
          fail_unless_equals_string (gst_structure_get_string (s, "mode"),
              "generate");
          fail_unless (gst_structure_get_double (s, "blend", &blend));
          fail_unless (blend == 1.0);
        }
      }
      gst_message_unref (msg);
    }
    /* two regions; none without post-messages; generate: the whole frame */
    fail_unless_equals_int (n, pass == 0 ? 2 : pass == 1 ? 0 : 1);
    gst_buffer_unref (buf);
    gst_harness_teardown (h);
    gst_bus_set_flushing (bus, TRUE);
    gst_object_unref (bus);
  }
}

GST_END_TEST;

GST_START_TEST (test_generate_full_frame)
{
  GstHarness *h = gan_harness ("restore-invert.onnx", "mode=generate",
      "video/x-raw,format=BGRx,width=40,height=30,framerate=10/1");
  GstVideoInfo info;
  GstBuffer *buf;
  GstMapInfo map;
  gsize i;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_BGRx, 40, 30);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_WRITE));
  for (i = 0; i < map.size; i += 4) {
    map.data[i] = 200;          /* B */
    map.data[i + 1] = 50;       /* G */
    map.data[i + 2] = 0;        /* R */
    map.data[i + 3] = 255;
  }
  gst_buffer_unmap (buf, &map);
  buf = gst_harness_push_and_pull (h, buf);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  for (i = 0; i < map.size; i += 4) {
    fail_unless (map.data[i] == 55 && map.data[i + 1] == 205
        && map.data[i + 2] == 255, "pixel %u = %d,%d,%d", (guint) i / 4,
        map.data[i], map.data[i + 1], map.data[i + 2]);
  }
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

static gchar *
start_error (const gchar * model, const gchar * props)
{
  gchar *path = model ? data_path (model) : NULL;
  gchar *desc = g_strdup_printf ("imgrecgan %s%s%s %s",
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
  }
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (desc);
  g_free (path);
  return text;
}

static void
expect_start_error (const gchar * model, const gchar * props,
    const gchar * part)
{
  gchar *msg = start_error (model, props);
  fail_unless (msg != NULL, "no error for %s %s", model, props);
  fail_unless (strstr (msg, part) != NULL, "error \"%s\" lacks \"%s\"", msg,
      part);
  g_free (msg);
}

GST_START_TEST (test_wrong_models_give_clear_errors)
{
  expect_start_error ("tiny-generator.onnx", NULL,
      "is a gan-generator model (imgrec.kind); imgrecgan mode=discriminate "
      "needs a gan-discriminator");
  expect_start_error ("mean-colour.onnx", NULL,
      "is a classifier model (imgrec.kind)");
  expect_start_error ("restore-invert.onnx", NULL,
      "needs a gan-discriminator");
  expect_start_error ("dynamic-size.onnx", NULL, "no fixed image size");
  expect_start_error ("three-labels.onnx", NULL,
      "is not a discriminator: its output \"scores\" has 4 values");
  expect_start_error ("tiny-discriminator.onnx", "mode=generate",
      "is a gan-discriminator model (imgrec.kind); imgrecgan mode=generate "
      "needs an image-to-image generator");
  expect_start_error ("tiny-generator.onnx", "mode=generate",
      "mode=generate needs an image-to-image generator (a noise-to-image "
      "generator belongs in imgrecgansrc)");
  expect_start_error ("no-such.onnx", NULL, "does not exist");
  expect_start_error (NULL, NULL, "No model set");
}

GST_END_TEST;

/* --- the defocus check ---------------------------------------------------- */

#define TEX_W 64
#define TEX_H 48

/* A grey texture of random 6x6 patches (a scene, different per seed),
 * box-blurred with radius @blur (0: sharp). */
static void
texture (guint8 * img, guint seed, gint blur)
{
  guint8 sharp[TEX_W * TEX_H];
  GRand *rand = g_rand_new_with_seed (seed);
  guint8 patches[(TEX_W / 6 + 1) * (TEX_H / 6 + 1)];
  gint x, y, dx, dy;

  for (x = 0; x < (gint) sizeof (patches); x++)
    patches[x] = (guint8) g_rand_int_range (rand, 40, 220);
  g_rand_free (rand);
  for (y = 0; y < TEX_H; y++)
    for (x = 0; x < TEX_W; x++)
      sharp[y * TEX_W + x] = patches[(y / 6) * (TEX_W / 6 + 1) + x / 6];
  for (y = 0; y < TEX_H; y++)
    for (x = 0; x < TEX_W; x++) {
      gint acc = 0, n = 0;
      for (dy = -blur; dy <= blur; dy++)
        for (dx = -blur; dx <= blur; dx++) {
          gint xx = CLAMP (x + dx, 0, TEX_W - 1), yy = CLAMP (y + dy, 0,
              TEX_H - 1);
          acc += sharp[yy * TEX_W + xx];
          n++;
        }
      img[y * TEX_W + x] = (guint8) ((acc + n / 2) / n);
    }
}

static void
fill_grey (gint x, gint y, guint8 rgb[3], gpointer data)
{
  const guint8 *img = data;
  rgb[0] = rgb[1] = rgb[2] = img[y * TEX_W + x];
}

static GstBuffer *
texture_frame (guint seed, gint blur, guint index)
{
  guint8 img[TEX_W * TEX_H];

  if (blur < 0)
    memset (img, 120, sizeof (img));    /* no detail: a covered lens */
  else
    texture (img, seed, blur);
  return rgb_frame (TEX_W, TEX_H, fill_grey, img, index * GST_SECOND / 10);
}

#define TEX_CAPS "video/x-raw,format=RGB,width=64,height=48,framerate=10/1"

/* 12 sharp frames of a changing scene, 6 box-blurred ones, 6 sharp again:
 * the defocus anomaly begins on the third blurred frame (anomaly-frames=3),
 * with reason "defocus", while the realism check (off) stays quiet, and
 * ends on the third sharp frame; the baseline does not learn the blur. */
GST_START_TEST (test_defocus_fires_and_recovers)
{
  gchar *json = g_build_filename (g_get_tmp_dir (), "imgrecgan-defocus.jsonl",
      NULL);
  gchar *props = g_strdup_printf ("defocus-threshold=0.5 anomaly-frames=3 "
      "defocus-baseline-frames=30 ! imgrecjson location=\"%s\"", json);
  GstHarness *h = gan_harness ("brightness-discriminator.onnx", props,
      TEX_CAPS);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  gchar *contents, **lines;
  gfloat baseline_before_blur = 0.0f;
  guint i, n_messages = 0;

  gst_element_set_bus (h->element, bus);
  for (i = 0; i < 24; i++) {
    gboolean blurred = i >= 12 && i < 18;
    gboolean flagged = i >= 14 && i < 20;
    GstBuffer *buf = gst_harness_push_and_pull (h,
        texture_frame (100 + i, blurred ? 6 : 0, i));
    GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (buf);
    GstVideoRegionOfInterestMeta *roi =
        gst_buffer_get_video_region_of_interest_meta_id (buf,
        meta->info.roi_id);
    GstStructure *p = gst_video_region_of_interest_meta_get_param (roi,
        GST_IMGREC_GAN_PARAM_NAME);

    fail_unless_equals_int (meta->anomaly, flagged);
    fail_unless_equals_int (meta->anomaly_reasons,
        flagged ? GST_IMGREC_GAN_ANOMALY_DEFOCUS : 0);
    fail_unless_equals_string (gst_structure_get_string (p, "anomaly-reasons"),
        flagged ? "defocus" : "");
    fail_unless_equals_string (gst_structure_get_string (p, "label"),
        flagged ? "anomaly" : "normal");
    fail_unless (meta->sharpness > 0.0f, "frame %u: sharpness %f", i,
        meta->sharpness);
    fail_unless (meta->sharpness_baseline > 0.0f);
    if (i == 11)
      baseline_before_blur = meta->sharpness_baseline;
    if (blurred) {
      /* frozen: the blur does not become the new normal */
      fail_unless (meta->sharpness_baseline == baseline_before_blur);
      fail_unless (meta->sharpness < 0.5f * meta->sharpness_baseline,
          "frame %u: %f of %f", i, meta->sharpness, meta->sharpness_baseline);
    } else if (i < 12) {
      fail_unless (meta->sharpness > 0.7f * meta->sharpness_baseline,
          "frame %u: %f of %f", i, meta->sharpness, meta->sharpness_baseline);
    }
    gst_buffer_unref (buf);

    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
      const GstStructure *s = gst_message_get_structure (msg);
      gboolean anomaly;
      guint frames;
      guint64 t, since;
      gdouble threshold, sharpness, baseline;

      fail_unless (gst_structure_has_name (s, "imgrec-anomaly"));
      fail_unless_equals_string (gst_structure_get_string (s, "reason"),
          "defocus");
      fail_unless (gst_structure_get_boolean (s, "anomaly", &anomaly));
      fail_unless (gst_structure_get_uint (s, "frames", &frames));
      fail_unless_equals_int (frames, 3);
      fail_unless (gst_structure_get_uint64 (s, "timestamp", &t));
      fail_unless (gst_structure_get_uint64 (s, "since", &since));
      fail_unless (gst_structure_get_double (s, "threshold", &threshold));
      fail_unless (threshold == 0.5);
      fail_unless (gst_structure_get_double (s, "sharpness", &sharpness));
      fail_unless (gst_structure_get_double (s, "sharpness-baseline",
              &baseline));
      fail_unless_equals_float (baseline, baseline_before_blur);
      if (n_messages == 0) {
        fail_unless (anomaly);
        fail_unless_equals_uint64 (t, 14 * GST_SECOND / 10);
        fail_unless_equals_uint64 (since, 12 * GST_SECOND / 10);
        fail_unless (sharpness < 0.5 * baseline);
      } else {
        fail_unless (!anomaly);
        fail_unless_equals_uint64 (t, 20 * GST_SECOND / 10);
        fail_unless_equals_uint64 (since, 18 * GST_SECOND / 10);
        fail_unless (sharpness >= 0.55 * baseline);
      }
      n_messages++;
      gst_message_unref (msg);
    }
  }
  fail_unless_equals_int (n_messages, 2);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);

  /* imgrecjson carries the reason and the measure */
  fail_unless (g_file_get_contents (json, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  fail_unless (g_strv_length (lines) >= 24);
  fail_unless (strstr (lines[13], "\"anomaly-reasons\":[]") != NULL, "%s",
      lines[13]);
  fail_unless (strstr (lines[14], "\"anomaly-reasons\":[\"defocus\"]") != NULL,
      "%s", lines[14]);
  fail_unless (strstr (lines[14], "\"sharpness\":0.") != NULL, "%s",
      lines[14]);
  fail_unless (strstr (lines[14], "\"sharpness-baseline\":") != NULL);
  g_strfreev (lines);
  g_free (contents);
  g_unlink (json);
  g_free (json);
  g_free (props);
}

GST_END_TEST;

/* A camera that is soft from its first frame is its own normal: no alarm;
 * frames without detail (a covered lens) are not measured and count
 * neither way; with the check off nothing is measured. */
GST_START_TEST (test_defocus_soft_from_start_does_not_alarm)
{
  GstHarness *h = gan_harness ("brightness-discriminator.onnx",
      "defocus-threshold=0.5 anomaly-frames=3", TEX_CAPS);
  GstBus *bus = gst_bus_new ();
  guint i;

  gst_element_set_bus (h->element, bus);
  for (i = 0; i < 40; i++) {
    GstBuffer *buf = gst_harness_push_and_pull (h,
        texture_frame (200 + i, i < 30 ? 6 : -1, i));
    GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (buf);

    fail_if (meta->anomaly, "frame %u", i);
    if (i < 30) {
      fail_unless (meta->sharpness > 0.0f);
      if (i >= 10)
        fail_unless (meta->sharpness > 0.7f * meta->sharpness_baseline,
            "frame %u: %f of %f", i, meta->sharpness,
            meta->sharpness_baseline);
    } else {
      fail_unless (meta->sharpness < 0.0f, "frame %u: %f", i,
          meta->sharpness);
      fail_unless (meta->sharpness_baseline > 0.0f);
    }
    gst_buffer_unref (buf);
  }
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT) == NULL);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);

  h = gan_harness ("brightness-discriminator.onnx", NULL, TEX_CAPS);
  for (i = 0; i < 3; i++) {
    GstBuffer *buf = gst_harness_push_and_pull (h, texture_frame (i, 0, i));
    GstImgRecGanMeta *meta = gst_buffer_get_imgrec_gan_meta (buf);
    fail_unless (meta->sharpness < 0.0f);
    fail_unless (meta->sharpness_baseline == 0.0f);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_defocus_settings_are_checked)
{
  GstElement *e = gst_element_factory_make ("imgrecgan", NULL);
  gdouble v = -1.0;

  expect_start_error ("brightness-discriminator.onnx",
      "defocus-threshold=0.3 anomaly-frames=20 defocus-baseline-frames=10",
      "defocus-baseline-frames=10 is shorter than anomaly-frames=20");
  expect_start_error ("brightness-discriminator.onnx",
      "defocus-threshold=0.97", "defocus-threshold=0.97 plus "
      "anomaly-hysteresis=0.05 is above 1");
  expect_start_error ("restore-invert.onnx",
      "mode=generate defocus-threshold=0.3",
      "defocus-threshold=0.3 needs mode=discriminate");
  /* the same settings with the check off start */
  fail_unless (start_error ("brightness-discriminator.onnx",
          "anomaly-frames=20 defocus-baseline-frames=10") == NULL);
  /* out of range: GLib refuses it and the value stays */
  ASSERT_WARNING (g_object_set (e, "defocus-threshold", 1.5, NULL));
  ASSERT_WARNING (g_object_set (e, "defocus-baseline-frames", 0, NULL));
  g_object_get (e, "defocus-threshold", &v, NULL);
  fail_unless (v == 0.0);
  gst_object_unref (e);
}

GST_END_TEST;

/* --- the restorer's degradation gate -------------------------------------- */

#define GATE_W 96
#define GATE_H 48

/* Random grey 6x6 patches; the right half box-blurred with radius 5. */
static void
fill_gate_scene (gint x, gint y, guint8 rgb[3], gpointer data)
{
  const guint8 *img = data;
  rgb[0] = rgb[1] = rgb[2] = img[y * GATE_W + x];
}

static GstBuffer *
gate_frame (void)
{
  guint8 sharp[GATE_W * GATE_H], img[GATE_W * GATE_H];
  GRand *rand = g_rand_new_with_seed (5);
  guint8 patches[(GATE_W / 6) * (GATE_H / 6)];
  GstVideoRegionOfInterestMeta *a, *b;
  GstBuffer *buf;
  gint x, y, dx, dy;

  for (x = 0; x < (gint) sizeof (patches); x++)
    patches[x] = (guint8) g_rand_int_range (rand, 30, 230);
  g_rand_free (rand);
  for (y = 0; y < GATE_H; y++)
    for (x = 0; x < GATE_W; x++)
      sharp[y * GATE_W + x] = patches[(y / 6) * (GATE_W / 6) + x / 6];
  for (y = 0; y < GATE_H; y++)
    for (x = 0; x < GATE_W; x++) {
      gint acc = 0, n = 0;
      if (x < GATE_W / 2) {
        img[y * GATE_W + x] = sharp[y * GATE_W + x];
        continue;
      }
      for (dy = -5; dy <= 5; dy++)
        for (dx = -5; dx <= 5; dx++) {
          gint xx = CLAMP (x + dx, GATE_W / 2, GATE_W - 1);
          gint yy = CLAMP (y + dy, 0, GATE_H - 1);
          acc += sharp[yy * GATE_W + xx];
          n++;
        }
      img[y * GATE_W + x] = (guint8) ((acc + n / 2) / n);
    }
  buf = rgb_frame (GATE_W, GATE_H, fill_gate_scene, img, 0);
  a = gst_buffer_add_video_region_of_interest_meta (buf, "sign", 0, 0, 48,
      48);
  a->id = 1;
  b = gst_buffer_add_video_region_of_interest_meta (buf, "sign", 48, 0, 48,
      48);
  b->id = 2;
  return buf;
}

/* Whether the pixels of region x0..x0+47 differ between a and b. */
static gboolean
half_changed (GstBuffer * a, GstBuffer * b, gint x0)
{
  GstMapInfo ma, mb;
  gboolean changed = FALSE;
  gint y;

  fail_unless (gst_buffer_map (a, &ma, GST_MAP_READ));
  fail_unless (gst_buffer_map (b, &mb, GST_MAP_READ));
  for (y = 0; y < GATE_H && !changed; y++)
    changed = memcmp (ma.data + y * GATE_W * 3 + x0 * 3,
        mb.data + y * GATE_W * 3 + x0 * 3, 48 * 3) != 0;
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return changed;
}

/* gate-min-sharpness: the sharp region passes bit for bit, marked not
 * restored with its measures; the blurred one is restored, marked
 * "blurred"; the ROI params and messages say the same.  Without a gate both
 * are restored. */
GST_START_TEST (test_gate_restores_only_the_blurred_region)
{
  GstHarness *h = gan_harness ("restore-invert.onnx",
      "mode=generate roi=roi-list gate-min-sharpness=0.6 post-messages=true",
      "video/x-raw,format=RGB,width=96,height=48,framerate=10/1");
  GstBuffer *in = gate_frame (), *out;
  GstImgRecGanMeta *sharp, *blurred;
  GstStructure *p;
  GstElement *e = gst_harness_find_element (h, "imgrecgan");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GstStructure *stats = NULL;
  guint64 restored = 0, kept = 0;
  guint n_msg = 0;
  gboolean flag = TRUE;

  gst_element_set_bus (h->element, bus);
  out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));
  fail_if (half_changed (in, out, 0), "the sharp region changed");
  fail_unless (half_changed (in, out, 48), "the blurred region was kept");

  sharp = gst_buffer_get_imgrec_gan_meta_for_roi (out, 1);
  blurred = gst_buffer_get_imgrec_gan_meta_for_roi (out, 2);
  fail_unless (sharp != NULL && blurred != NULL);
  fail_unless_equals_int (sharp->role, GST_IMGREC_GAN_ROLE_RESTORED);
  fail_if (sharp->restored);
  fail_unless_equals_int (sharp->degradations, 0);
  fail_unless (blurred->restored);
  fail_unless_equals_int (blurred->degradations,
      GST_IMGREC_GAN_DEGRADATION_BLURRED);
  /* the measures, on the 8x8 image the model sees: independent patches
   * (about 1.1) against their 11x11 box blur (about 0.4) */
  fail_unless (sharp->sharpness > 0.9f, "sharp: %f", sharp->sharpness);
  fail_unless (blurred->sharpness >= 0.0f && blurred->sharpness < 0.5f,
      "blurred: %f", blurred->sharpness);
  fail_unless (sharp->contrast > blurred->contrast);
  fail_unless (sharp->noise >= 0.0f && sharp->brightness > 30.0f);

  p = gst_video_region_of_interest_meta_get_param
      (gst_buffer_get_video_region_of_interest_meta_id (out, 1),
      GST_IMGREC_GAN_PARAM_NAME);
  fail_unless (p != NULL);
  fail_unless (gst_structure_get_boolean (p, "restored", &flag));
  fail_if (flag);
  fail_unless_equals_string (gst_structure_get_string (p, "degradations"),
      "");
  fail_unless (gst_structure_has_field (p, "sharpness"));
  p = gst_video_region_of_interest_meta_get_param
      (gst_buffer_get_video_region_of_interest_meta_id (out, 2),
      GST_IMGREC_GAN_PARAM_NAME);
  fail_unless (gst_structure_get_boolean (p, "restored", &flag) && flag);
  fail_unless_equals_string (gst_structure_get_string (p, "degradations"),
      "blurred");

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    gint roi_id = 0;
    if (gst_structure_has_name (s, "imgrec-gan")) {
      n_msg++;
      fail_unless (gst_structure_get_int (s, "roi-id", &roi_id));
      fail_unless (gst_structure_get_boolean (s, "restored", &flag));
      fail_unless (flag == (roi_id == 2));
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (n_msg, 2);
  g_object_get (e, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "restored", &restored));
  fail_unless (gst_structure_get_uint64 (stats, "kept", &kept));
  fail_unless_equals_uint64 (restored, 1);
  fail_unless_equals_uint64 (kept, 1);
  gst_structure_free (stats);
  gst_buffer_unref (out);

  /* the gate off (changed while playing): every region is restored */
  g_object_set (e, "gate-min-sharpness", 0.0, NULL);
  out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (in));
  fail_unless (half_changed (in, out, 0));
  fail_unless (half_changed (in, out, 48));
  fail_unless (gst_buffer_get_imgrec_gan_meta_for_roi (out, 1)->restored);
  fail_unless_equals_int (gst_buffer_get_imgrec_gan_meta_for_roi (out,
          1)->degradations, 0);
  gst_buffer_unref (out);

  gst_object_unref (e);
  gst_buffer_unref (in);
  gst_harness_teardown (h);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

GST_END_TEST;

/* gate-max-noise and gate-min-contrast on regions the size of the model's
 * input (no scaling): a noisy region is restored ("noisy"), the same
 * region without the noise is not; a faint one is restored for its
 * contrast ("low-contrast"). */
static void
fill_gate_noise (gint x, gint y, guint8 rgb[3], gpointer data)
{
  const gint *kind = data;
  gint v = 40 + 20 * (x % 8) + 4 * y;   /* a smooth ramp */

  if (x >= 8 && x < 16)
    v += (((x * 7 + y * 13) * 2654435761u) >> 28) % 2 ? 40 : -40;
  if (x >= 16)
    v = 120 + (v - 120) / 8;
  (void) kind;
  rgb[0] = rgb[1] = rgb[2] = (guint8) CLAMP (v, 0, 255);
}

GST_START_TEST (test_gate_noise_and_contrast)
{
  GstHarness *h = gan_harness ("restore-invert.onnx",
      "mode=generate roi=roi-list gate-max-noise=8 gate-min-contrast=20",
      "video/x-raw,format=RGB,width=24,height=8,framerate=10/1");
  GstBuffer *buf = rgb_frame (24, 8, fill_gate_noise, NULL, 0);
  GstVideoRegionOfInterestMeta *r;
  GstImgRecGanMeta *m;
  gint k;

  for (k = 0; k < 3; k++) {
    r = gst_buffer_add_video_region_of_interest_meta (buf, "sign", 8 * k, 0,
        8, 8);
    r->id = k;
  }
  buf = gst_harness_push_and_pull (h, buf);
  m = gst_buffer_get_imgrec_gan_meta_for_roi (buf, 0);
  fail_if (m->restored, "smooth: noise %f contrast %f", m->noise,
      m->contrast);
  m = gst_buffer_get_imgrec_gan_meta_for_roi (buf, 1);
  fail_unless (m->restored && m->degradations ==
      GST_IMGREC_GAN_DEGRADATION_NOISY, "noisy: noise %f, degradations %u",
      m->noise, m->degradations);
  m = gst_buffer_get_imgrec_gan_meta_for_roi (buf, 2);
  fail_unless (m->restored && m->degradations ==
      GST_IMGREC_GAN_DEGRADATION_LOW_CONTRAST, "faint: contrast %f, %u",
      m->contrast, m->degradations);
  fail_unless_equals_string (gst_imgrec_gan_degradations_to_string
      (GST_IMGREC_GAN_DEGRADATION_DARK | GST_IMGREC_GAN_DEGRADATION_NOISY),
      "dark,noisy");
  gst_buffer_unref (buf);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_gate_settings_are_checked)
{
  GstElement *e = gst_element_factory_make ("imgrecgan", NULL);
  gdouble v = -1.0;

  expect_start_error ("brightness-discriminator.onnx",
      "gate-max-noise=6", "gate-max-noise=6 needs mode=generate");
  expect_start_error ("brightness-discriminator.onnx",
      "gate-min-sharpness=0.1", "gate-min-sharpness=0.1 needs mode=generate");
  fail_unless (start_error ("restore-invert.onnx",
          "mode=generate gate-min-brightness=40 gate-min-contrast=10 "
          "gate-min-sharpness=0.05 gate-max-noise=6") == NULL);
  /* out of range: GLib refuses it and the value stays */
  ASSERT_WARNING (g_object_set (e, "gate-min-sharpness", 5.0, NULL));
  ASSERT_WARNING (g_object_set (e, "gate-max-noise", -1.0, NULL));
  g_object_get (e, "gate-min-sharpness", &v, NULL);
  fail_unless (v == 0.0);
  gst_object_unref (e);
}

GST_END_TEST;

/* Provenance and scores reach imgrecjson, through videoscale. */
GST_START_TEST (test_results_reach_json_and_overlay)
{
  gchar *gen = data_path ("tiny-generator.onnx");
  gchar *disc = data_path ("tiny-discriminator.onnx");
  gchar *json = g_build_filename (g_get_tmp_dir (), "imgrecgan-test.jsonl",
      NULL);
  gchar *desc = g_strdup_printf ("imgrecgansrc model=\"%s\" seed=7 class=3 "
      "num-buffers=4 ! video/x-raw,format=I420,width=64,height=64 ! "
      "imgrecgan model=\"%s\" ! videoscale ! "
      "video/x-raw,width=32,height=32 ! imgrecoverlay ! "
      "imgrecjson location=\"%s\" ! fakesink", gen, disc, json);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  gchar *text, **lines;

  fail_unless (pipeline != NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  fail_unless (g_file_get_contents (json, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 5);
  fail_unless (strstr (lines[2], "\"role\":\"generated\",\"synthetic\":true,"
          "\"seed\":7,\"latent-index\":0,") != NULL, "%s", lines[2]);
  fail_unless (strstr (lines[2], "\"class-id\":3,\"label\":\"diamond\"")
      != NULL, "%s", lines[2]);
  fail_unless (strstr (lines[2], "\"role\":\"discriminated\",\"score\":")
      != NULL, "%s", lines[2]);
  fail_unless (strstr (lines[2], "\"anomaly\":false") != NULL);
  /* the regions were scaled with the frame */
  fail_unless (strstr (lines[2], "\"region\":{\"x\":0,\"y\":0,\"width\":32,"
          "\"height\":32}") != NULL, "%s", lines[2]);
  fail_unless (strstr (lines[2], "\"imgrec-gan\":{\"model\":"
          "\"tiny-discriminator\",\"mode\":\"discriminate\"") != NULL, "%s",
      lines[2]);
  /* and DL Streamer's names for the decision */
  fail_unless (strstr (lines[2], "\"model_name\":\"tiny-discriminator\","
          "\"label\":\"normal\",\"label_id\":0,\"confidence\":") != NULL
      || strstr (lines[2], "\"model_name\":\"tiny-discriminator\","
          "\"label\":\"anomaly\",\"label_id\":1,\"confidence\":") != NULL,
      "%s", lines[2]);
  g_strfreev (lines);
  g_free (text);
  g_unlink (json);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (json);
  g_free (gen);
  g_free (disc);
}

GST_END_TEST;

/* imgrecoverlay draws the GAN results: a label for each role. */
GST_START_TEST (test_overlay_draws_gan_results)
{
  static const GstImgRecGanRole roles[] = { GST_IMGREC_GAN_ROLE_GENERATED,
    GST_IMGREC_GAN_ROLE_DISCRIMINATED, GST_IMGREC_GAN_ROLE_RESTORED
  };
  guint r;

  for (r = 0; r < G_N_ELEMENTS (roles); r++) {
    GstHarness *h = gst_harness_new ("imgrecoverlay");
    guint8 black[3] = { 0, 0, 0 };
    GstBuffer *buf = rgb_frame (160, 120, fill_solid, black, 0);
    GstImgRecGanMeta *meta;
    GstMapInfo map;
    gsize i, changed = 0;

    gst_harness_set_src_caps_str (h,
        "video/x-raw,format=RGB,width=160,height=120,framerate=10/1");
    meta = gst_buffer_add_imgrec_gan_meta (buf, roles[r], "m", "e");
    meta->info.width = 160;
    meta->info.height = 120;
    meta->label = g_intern_static_string ("stop");
    meta->score = 0.25f;
    meta->anomaly = TRUE;
    meta->blend = 1.0f;
    buf = gst_harness_push_and_pull (h, buf);
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    for (i = 0; i < map.size; i++)
      changed += map.data[i] != 0;
    gst_buffer_unmap (buf, &map);
    fail_unless (changed > 100, "role %d: %u bytes drawn", roles[r],
        (guint) changed);
    gst_buffer_unref (buf);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* Sessions, converters and states are freed at every stop (run under the
 * gstvalgrind setup to check for leaks). */
GST_START_TEST (test_state_cycles)
{
  gchar *gen = data_path ("tiny-generator.onnx");
  gchar *disc = data_path ("brightness-discriminator.onnx");
  gchar *restore = data_path ("restore-invert.onnx");
  gchar *desc = g_strdup_printf ("imgrecgansrc model=\"%s\" ! "
      "video/x-raw,format=I420,width=64,height=48 ! "
      "imgrecgan model=\"%s\" anomaly-threshold=0.5 ! "
      "imgrecgan mode=generate blend=0.5 model=\"%s\" ! fakesink", gen, disc,
      restore);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  guint i;

  fail_unless (pipeline != NULL);
  for (i = 0; i < 20; i++) {
    fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
            10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (pipeline, i % 2 ?
            GST_STATE_NULL : GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (gen);
  g_free (disc);
  g_free (restore);
}

GST_END_TEST;

static Suite *
imgrecgan_suite (void)
{
  Suite *s = suite_create ("imgrecgan");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_discriminator_scores_equal_reference);
  tcase_add_test (tc, test_discriminate_each_roi);
  tcase_add_test (tc, test_anomaly_fires_and_recovers_with_hysteresis);
  tcase_add_test (tc, test_full_frame_anomaly_whatever_the_rois);
  tcase_add_test (tc, test_anomaly_off_by_default);
  tcase_add_test (tc, test_defocus_fires_and_recovers);
  tcase_add_test (tc, test_defocus_soft_from_start_does_not_alarm);
  tcase_add_test (tc, test_defocus_settings_are_checked);
  tcase_add_test (tc, test_generate_changes_only_the_roi);
  tcase_add_test (tc, test_generate_i420_roi_stays_in_place);
  tcase_add_test (tc, test_blend);
  tcase_add_test (tc, test_generate_full_frame);
  tcase_add_test (tc, test_post_messages);
  tcase_add_test (tc, test_gate_restores_only_the_blurred_region);
  tcase_add_test (tc, test_gate_noise_and_contrast);
  tcase_add_test (tc, test_gate_settings_are_checked);
  tcase_add_test (tc, test_wrong_models_give_clear_errors);
  tcase_add_test (tc, test_results_reach_json_and_overlay);
  tcase_add_test (tc, test_overlay_draws_gan_results);
  tcase_add_test (tc, test_state_cycles);
  return s;
}

GST_CHECK_MAIN (imgrecgan);
