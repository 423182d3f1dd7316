/* gst-check tests of imgrecjson: one line per frame, flushed on EOS, with
 * every result and ROI; errors for unwritable locations.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <string.h>

static gchar *
data_path (const gchar * name)
{
  return g_build_filename (g_getenv ("IMGREC_GST_TEST_DATA"), name, NULL);
}

static gchar **
read_lines (const gchar * path, guint * n)
{
  gchar *text = NULL;
  gchar **lines;

  fail_unless (g_file_get_contents (path, &text, NULL, NULL));
  fail_unless (g_str_has_suffix (text, "\n"), "last line not terminated");
  text[strlen (text) - 1] = '\0';
  lines = g_strsplit (text, "\n", -1);
  g_free (text);
  *n = g_strv_length (lines);
  return lines;
}

GST_START_TEST (test_one_line_per_frame_flushed_on_eos)
{
  gchar *model = data_path ("mean-colour.onnx");
  gchar *out = data_path ("json-eos.jsonl");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=25 pattern=blue ! "
      "video/x-raw,format=I420,width=64,height=48,framerate=25/1 ! "
      "imgrecclassify model=\"%s\" inference-interval=2 ! "
      "imgrecjson location=\"%s\" ! fakesink", model, out);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  gchar **lines;
  guint n;

  g_unlink (out);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);

  /* still PLAYING: EOS must have flushed every line */
  lines = read_lines (out, &n);
  fail_unless_equals_int (n, 25);
  for (guint i = 0; i < n; i++) {
    JsonParser *parser = json_parser_new ();
    JsonObject *o, *r;
    JsonArray *results, *rois;

    fail_unless (json_parser_load_from_data (parser, lines[i], -1, NULL),
        "line %u is not JSON: %s", i, lines[i]);
    o = json_node_get_object (json_parser_get_root (parser));
    /* the layout's version comes first, so a reader can check it before
     * reading on */
    fail_unless (g_str_has_prefix (lines[i], "{\"schema-version\":1,"),
        "line %u does not start with the schema version: %s", i, lines[i]);
    fail_unless_equals_int (json_object_get_int_member (o, "schema-version"),
        1);
    fail_unless_equals_int (json_object_get_int_member (o, "frame"), i);
    fail_unless_equals_int64 (json_object_get_int_member (o, "timestamp"),
        i * GST_SECOND / 25);
    fail_unless (json_object_has_member (o, "stream-time"));
    fail_unless_equals_int (json_object_get_int_member (o, "width"), 64);
    fail_unless_equals_int (json_object_get_int_member (o, "height"), 48);
    results = json_object_get_array_member (o, "results");
    fail_unless_equals_int (json_array_get_length (results), 1);
    r = json_array_get_object_element (results, 0);
    fail_unless_equals_string (json_object_get_string_member (r, "label"),
        "blue");
    fail_unless_equals_string (json_object_get_string_member (r, "kind"),
        "classification");
    fail_unless_equals_string (json_object_get_string_member (r, "model"),
        "mean-colour");
    fail_unless_equals_int (json_object_get_boolean_member (r, "carried"),
        i % 2 == 1);
    fail_unless (json_object_get_double_member (r, "confidence") > 0.9);
    fail_unless_equals_int (json_array_get_length (json_object_get_array_member
            (r, "top")), 4);
    rois = json_object_get_array_member (o, "rois");
    fail_unless_equals_int (json_array_get_length (rois), 1);
    fail_unless_equals_string (json_object_get_string_member
        (json_object_get_object_member (json_object_get_object_member
                (json_array_get_object_element (rois, 0), "params"),
                "imgrec-classification"), "label"), "blue");
    g_object_unref (parser);
  }
  g_strfreev (lines);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_unlink (out);
  g_free (desc);
  g_free (out);
  g_free (model);
}

GST_END_TEST;

GST_START_TEST (test_frames_without_results_and_upstream_rois)
{
  gchar *out = data_path ("json-rois.jsonl");
  gchar *desc = g_strdup_printf ("imgrecjson location=\"%s\"", out);
  GstHarness *h = gst_harness_new_parse (desc);
  GstBuffer *buf;
  GstVideoRegionOfInterestMeta *roi;
  JsonParser *parser = json_parser_new ();
  JsonObject *o, *r;
  gchar **lines;
  guint n;

  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=NV12,width=32,height=16,framerate=1/1");
  buf = gst_buffer_new_allocate (NULL, 32 * 16 * 3 / 2, NULL);
  roi = gst_buffer_add_video_region_of_interest_meta (buf, "face", 1, 2, 3,
      4);
  roi->id = 7;
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("detection", "confidence", G_TYPE_DOUBLE, 0.5, NULL));
  gst_buffer_unref (gst_harness_push_and_pull (h,
          gst_buffer_new_allocate (NULL, 32 * 16 * 3 / 2, NULL)));
  gst_buffer_unref (gst_harness_push_and_pull (h, buf));
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  lines = read_lines (out, &n);
  fail_unless_equals_int (n, 2);
  fail_unless (json_parser_load_from_data (parser, lines[0], -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  fail_unless_equals_int (json_object_get_int_member (o, "schema-version"),
      1);
  fail_unless_equals_int (json_array_get_length (json_object_get_array_member
          (o, "results")), 0);
  fail_unless (json_node_is_null (json_object_get_member (o, "timestamp")));
  fail_unless (json_parser_load_from_data (parser, lines[1], -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  r = json_array_get_object_element (json_object_get_array_member (o, "rois"),
      0);
  fail_unless_equals_string (json_object_get_string_member (r, "type"),
      "face");
  fail_unless_equals_int (json_object_get_int_member (r, "id"), 7);
  fail_unless_equals_int (json_object_get_int_member (r, "height"), 4);
  fail_unless (json_object_get_double_member (json_object_get_object_member
          (json_object_get_object_member (r, "params"), "detection"),
          "confidence") == 0.5);
  g_object_unref (parser);
  g_strfreev (lines);
  gst_harness_teardown (h);
  g_unlink (out);
  g_free (desc);
  g_free (out);
}

GST_END_TEST;

GST_START_TEST (test_unwritable_location_is_an_error)
{
  GstElement *e = gst_element_factory_make ("imgrecjson", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  g_object_set (e, "location", "/nonexistent-dir/out.jsonl", NULL);
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "Could not open") != NULL, "%s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

static Suite *
imgrecjson_suite (void)
{
  Suite *s = suite_create ("imgrecjson");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_one_line_per_frame_flushed_on_eos);
  tcase_add_test (tc, test_frames_without_results_and_upstream_rois);
  tcase_add_test (tc, test_unwritable_location_is_an_error);
  return s;
}

GST_CHECK_MAIN (imgrecjson);
