/* gst-check tests of imgrecroi.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

static GstHarness *
roi_harness (const gchar * props)
{
  gchar *desc = g_strdup_printf ("imgrecroi %s", props);
  GstHarness *h = gst_harness_new_parse (desc);
  GstVideoInfo info;

  g_free (desc);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 320, 240);
  info.fps_n = 10;
  info.fps_d = 1;
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  return h;
}

/* Pushes a frame at `pts`; returns the ROI metas as "type:id:x,y,w,h;...". */
static gchar *
push (GstHarness * h, GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 320 * 240 * 3 / 2, NULL);
  GstVideoRegionOfInterestMeta *roi;
  GString *s = g_string_new (NULL);
  gpointer state = NULL;
  GstBuffer *out;

  GST_BUFFER_PTS (buf) = pts;
  out = gst_harness_push_and_pull (h, buf);
  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (out, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstStructure *p = gst_video_region_of_interest_meta_get_param (roi,
        "imgrec-roi");
    gint tid = -1;
    fail_unless (p != NULL && gst_structure_get_int (p, "tracking-id", &tid));
    fail_unless_equals_int (tid, roi->id);
    /* DL Streamer's form of the same identity */
    p = gst_video_region_of_interest_meta_get_param (roi, "object_id");
    tid = -1;
    fail_unless (p != NULL && gst_structure_get_int (p, "id", &tid));
    fail_unless_equals_int (tid, roi->id);
    g_string_append_printf (s, "%s:%d:%u,%u,%u,%u;",
        g_quark_to_string (roi->roi_type), roi->id, roi->x, roi->y, roi->w,
        roi->h);
  }
  gst_buffer_unref (out);
  return g_string_free (s, FALSE);
}

#define assert_rois(h, pts, expected) G_STMT_START {                         \
  gchar *_got = push (h, pts);                                               \
  fail_unless_equals_string (_got, expected);                                \
  g_free (_got);                                                             \
} G_STMT_END

GST_START_TEST (test_fixed_regions)
{
  GstHarness *h = roi_harness ("regions=\"sign=10,20,30,40; car = 300,200,50,50\"");

  /* the second is clipped to the frame */
  assert_rois (h, 0, "sign:0:10,20,30,40;car:1:300,200,20,40;");
  assert_rois (h, GST_SECOND, "sign:0:10,20,30,40;car:1:300,200,20,40;");
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_keyframes_interpolate_and_disappear)
{
  GstHarness *h = roi_harness ("id-base=5 "
      "regions=\"sign=1:0,0,10,10/2:100,50,30,30/3:100,50,30,30\"");

  assert_rois (h, 0, "");       /* before the first keyframe */
  assert_rois (h, GST_SECOND, "sign:5:0,0,10,10;");
  assert_rois (h, GST_SECOND + GST_SECOND / 2, "sign:5:50,25,20,20;");
  assert_rois (h, 2 * GST_SECOND, "sign:5:100,50,30,30;");
  assert_rois (h, 3 * GST_SECOND, "sign:5:100,50,30,30;");
  assert_rois (h, 3 * GST_SECOND + 1, "");      /* after the last */
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_relative_boxes)
{
  GstHarness *h = roi_harness ("relative=true regions=\"a=0.25,0.5,0.5,0.25\"");

  assert_rois (h, 0, "a:0:80,120,160,60;");
  gst_harness_teardown (h);
}

GST_END_TEST;

static gchar *
start_error (const gchar * props)
{
  gchar *desc = g_strdup_printf ("imgrecroi %s", props);
  GstElement *e = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  gchar *text = NULL;

  gst_element_set_bus (e, bus);
  gst_element_set_state (e, GST_STATE_PAUSED);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    text = g_strdup (err->message);
    g_error_free (err);
    gst_message_unref (msg);
  }
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (desc);
  return text;
}

GST_START_TEST (test_bad_regions_are_errors)
{
  static const struct {
    const gchar *props, *says;
  } cases[] = {
    {"regions=\"10,20,30,40\"", "is not TYPE=x,y,w,h"},
    {"regions=\"a=10,20,30\"", "invalid box"},
    {"regions=\"a=10,20,-3,4\"", "invalid box"},
    {"regions=\"a=x:1,2,3,4/2:1,2,3,4\"", "invalid keyframe time"},
    {"regions=\"a=2:1,2,3,4/1:1,2,3,4\"", "do not increase"},
    {"regions=\"a=1,2,3,4/2:1,2,3,4\"", "mixes fixed boxes and keyframes"},
  };
  gchar *msg;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    msg = start_error (cases[i].props);
    fail_unless (msg != NULL, "no error for %s", cases[i].props);
    fail_unless (strstr (msg, cases[i].says) != NULL, "\"%s\" does not say "
        "\"%s\"", msg, cases[i].says);
    g_free (msg);
  }
  msg = start_error ("regions=\"a=1,2,3,4;b=0:1,2,3,4/1.5:5,6,7,8\"");
  fail_unless (msg == NULL, "unexpected error %s", msg);
}

GST_END_TEST;

/* Regions whose planes start at odd byte offsets (an I420 region at x = 894,
 * 63 px wide, has its chroma at byte 447 of a row) scaled to the shipped
 * classifier's 32x32: GStreamer 1.22's scaler once faulted on them (aligned
 * SSE loads); on a uniform frame every region must get the same result. */
GST_START_TEST (test_regions_at_odd_offsets_classified)
{
  const gchar *root = g_getenv ("IMGREC_SOURCE_ROOT");
  GString *regions = g_string_new (NULL);
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *buf, *out;
  gchar *model, *desc, *first = NULL;
  gdouble first_conf = -1;
  gint n = 0;

  fail_unless (root != NULL, "IMGREC_SOURCE_ROOT is not set");
  model = g_build_filename (root, "models", "traffic-signs",
      "traffic-signs.onnx", NULL);
  for (gint x = 880; x < 912; x++)
    for (gint w = 62; w <= 65; w++)
      g_string_append_printf (regions, "%sr=%d,%d,%d,%d", regions->len ? ";" : "",
          x, 252 + (x & 1), w, 63 + (w & 1));
  desc = g_strdup_printf ("imgrecroi regions=\"%s\" ! imgrecclassify "
      "roi=roi-list model=\"%s\"", regions->str, model);
  h = gst_harness_new_parse (desc);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 1280, 720);
  info.fps_n = 30;
  info.fps_d = 1;
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  buf = gst_buffer_new_allocate (NULL, info.size, NULL);
  gst_buffer_memset (buf, 0, 128, info.size);
  GST_BUFFER_PTS (buf) = 0;
  out = gst_harness_push_and_pull (h, buf);
  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (out, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstStructure *p = gst_video_region_of_interest_meta_get_param (roi,
        "imgrec-classification");
    const gchar *label;
    gdouble conf;

    fail_unless (p != NULL, "region %u,%u %ux%u not classified", roi->x,
        roi->y, roi->w, roi->h);
    label = gst_structure_get_string (p, "label");
    fail_unless (label && gst_structure_get_double (p, "confidence", &conf));
    if (first == NULL) {
      first = g_strdup (label);
      first_conf = conf;
    }
    fail_unless_equals_string (label, first);
    fail_unless (fabs (conf - first_conf) < 1e-4, "region %u,%u %ux%u: "
        "confidence %f, the first region's %f", roi->x, roi->y, roi->w, roi->h,
        conf, first_conf);
    n++;
  }
  fail_unless_equals_int (n, 32 * 4);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (first);
  g_free (desc);
  g_free (model);
  g_string_free (regions, TRUE);
}

GST_END_TEST;

static Suite *
imgrecroi_suite (void)
{
  Suite *s = suite_create ("imgrecroi");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_fixed_regions);
  tcase_add_test (tc, test_keyframes_interpolate_and_disappear);
  tcase_add_test (tc, test_relative_boxes);
  tcase_add_test (tc, test_bad_regions_are_errors);
  tcase_add_test (tc, test_regions_at_odd_offsets_classified);
  return s;
}

GST_CHECK_MAIN (imgrecroi);
