/* gst-check tests of imgrecpublish that need no broker: method=file is
 * byte for byte imgrecjson's output (plus source/tags), the JSON array
 * format, every bad setting is an error sentence at start, an unreachable
 * broker fails after max-connect-attempts, and a method that was not built
 * says so.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "publish_common.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

GST_START_TEST (test_file_json_lines_are_imgrecjson_lines)
{
  gchar *dir = test_dir ();
  gchar *out = g_build_filename (dir, "pub.jsonl", NULL);
  gchar *props = g_strdup_printf ("method=file file-path=\"%s\"", out);
  PubHarness p = pub_harness (dir, props);
  gchar *a = NULL, *b = NULL;
  gsize na, nb;
  GstElement *pub = gst_object_ref (p.pub);

  pub_push (&p, 0, 12);
  fail_unless (gst_harness_push_event (p.h, gst_event_new_eos ()));
  wait_stat (pub, "sent", 12, 10);
  fail_unless (g_file_get_contents (out, &a, &na, NULL));
  fail_unless (g_file_get_contents (p.json_path, &b, &nb, NULL));
  fail_unless_equals_int (na, nb);
  fail_unless (memcmp (a, b, na) == 0, "imgrecpublish wrote other bytes "
      "than imgrecjson");
  fail_unless (strstr (a, "\"label\":\"green\"") != NULL);
  pub_teardown (&p);
  fail_unless_equals_uint64 (pub_stat (pub, "dropped"), 0);
  fail_unless_equals_uint64 (pub_stat (pub, "queued"), 0);
  gst_object_unref (pub);
  g_free (a);
  g_free (b);
  g_free (props);
  g_free (out);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_file_json_array_with_source_and_tags)
{
  gchar *dir = test_dir ();
  gchar *out = g_build_filename (dir, "pub.json", NULL);
  gchar *props = g_strdup_printf ("method=file file-path=\"%s\" "
      "file-format=json source=cam-1 tags=\"{\\\"site\\\":\\\"depot\\\","
      "\\\"lane\\\":3}\"", out);
  PubHarness p = pub_harness (dir, props);
  gchar *json_path = g_strdup (p.json_path);
  GString *expected = g_string_new ("[\n");
  gchar *text = NULL, **lines;
  guint n, i;
  JsonParser *parser = json_parser_new ();
  JsonArray *array;

  pub_push (&p, 0, 5);
  pub_teardown (&p);            /* closes the array */

  lines = json_lines (json_path, &n);
  fail_unless_equals_int (n, 5);
  for (i = 0; i < n; i++) {
    gchar *m = expected_message (lines[i],
        "\"source\":\"cam-1\",\"tags\":{\"site\":\"depot\",\"lane\":3}");
    g_string_append_printf (expected, "%s%s", i ? ",\n" : "", m);
    g_free (m);
  }
  g_string_append (expected, "\n]\n");
  fail_unless (g_file_get_contents (out, &text, NULL, NULL));
  fail_unless_equals_string (text, expected->str);
  fail_unless (json_parser_load_from_data (parser, text, -1, NULL));
  array = json_node_get_array (json_parser_get_root (parser));
  fail_unless_equals_int (json_array_get_length (array), 5);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (array, 2), "source"), "cam-1");

  g_object_unref (parser);
  g_strfreev (lines);
  g_free (json_path);
  g_string_free (expected, TRUE);
  g_free (text);
  g_free (props);
  g_free (out);
  g_free (dir);
}

GST_END_TEST;

/* format=gva: gvametaconvert's layout from imgrecjson and imgrecpublish
 * alike: a region a detector made (DL Streamer `detection` and `object_id`
 * params, as imgrecdetect/imgrectrack write them) classified per region, a
 * whole-frame classification in tensors[], stream time as timestamp. */
GST_START_TEST (test_gva_format)
{
  gchar *dir = test_dir ();
  gchar *model = data_path ("mean-colour.onnx");
  gchar *jpath = g_build_filename (dir, "gva.jsonl", NULL);
  gchar *ppath = g_build_filename (dir, "gva-pub.jsonl", NULL);
  gchar *desc = g_strdup_printf ("imgrecclassify model=\"%s\" roi=roi-list "
      "name=per-region ! imgrecclassify model=\"%s\" ! imgrecjson format=gva "
      "location=\"%s\" ! imgrecpublish format=gva file-path=\"%s\" "
      "source=cam-9 tags=\"{\\\"zone\\\":1}\"", model, model, jpath, ppath);
  GstHarness *h = gst_harness_new_parse (desc);
  GstSegment seg;
  gchar *text = NULL, *ptext = NULL;
  JsonParser *parser = json_parser_new ();
  JsonObject *o, *obj, *det, *box, *cls, *res;
  JsonArray *objects, *tensors;
  GstBuffer *buf;
  GstVideoRegionOfInterestMeta *roi;

  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=16,"
      "height=16,framerate=25/1");
  /* stream time 100 s at PTS 0 */
  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.time = 100 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  buf = colour_frame (1);       /* green */
  roi = gst_buffer_add_video_region_of_interest_meta (buf, "car", 4, 2, 8, 12);
  roi->id = 7;
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("detection", "x_min", G_TYPE_DOUBLE, 0.25,
          "y_min", G_TYPE_DOUBLE, 0.125, "x_max", G_TYPE_DOUBLE, 0.75,
          "y_max", G_TYPE_DOUBLE, 0.875, "confidence", G_TYPE_DOUBLE, 0.8,
          "label_id", G_TYPE_INT, 2, "label", G_TYPE_STRING, "car", NULL));
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("object_id", "id", G_TYPE_INT, 42, NULL));
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (h));
  gst_harness_teardown (h);

  fail_unless (g_file_get_contents (jpath, &text, NULL, NULL));
  fail_unless (g_file_get_contents (ppath, &ptext, NULL, NULL));
  g_strchomp (text);
  g_strchomp (ptext);
  /* imgrecpublish: the same object, then source and tags */
  {
    gchar *want = expected_message (text, "\"source\":\"cam-9\","
        "\"tags\":{\"zone\":1}");
    fail_unless_equals_string (ptext, want);
    g_free (want);
  }
  fail_unless (json_parser_load_from_data (parser, text, -1, NULL), "%s",
      text);
  o = json_node_get_object (json_parser_get_root (parser));
  /* gvametaconvert's layout has no version member: none is added */
  fail_if (json_object_has_member (o, "schema-version"), "%s", text);
  /* stream time, not the PTS (40 ms) */
  fail_unless_equals_int64 (json_object_get_int_member (o, "timestamp"),
      100 * GST_SECOND + 40 * GST_MSECOND);
  res = json_object_get_object_member (o, "resolution");
  fail_unless_equals_int (json_object_get_int_member (res, "width"), 16);
  fail_unless_equals_int (json_object_get_int_member (res, "height"), 16);
  objects = json_object_get_array_member (o, "objects");
  fail_unless_equals_int (json_array_get_length (objects), 1);
  obj = json_array_get_object_element (objects, 0);
  fail_unless_equals_int (json_object_get_int_member (obj, "x"), 4);
  fail_unless_equals_int (json_object_get_int_member (obj, "y"), 2);
  fail_unless_equals_int (json_object_get_int_member (obj, "w"), 8);
  fail_unless_equals_int (json_object_get_int_member (obj, "h"), 12);
  fail_unless_equals_int (json_object_get_int_member (obj, "region_id"), 7);
  fail_unless_equals_int (json_object_get_int_member (obj, "id"), 42);
  fail_unless_equals_string (json_object_get_string_member (obj, "roi_type"),
      "car");
  det = json_object_get_object_member (obj, "detection");
  box = json_object_get_object_member (det, "bounding_box");
  fail_unless (json_object_get_double_member (box, "x_min") == 0.25);
  fail_unless (json_object_get_double_member (box, "y_max") == 0.875);
  fail_unless (json_object_get_double_member (det, "confidence") == 0.8);
  fail_unless_equals_int (json_object_get_int_member (det, "label_id"), 2);
  fail_unless_equals_string (json_object_get_string_member (det, "label"),
      "car");
  cls = json_object_get_object_member (obj, "mean-colour");
  fail_unless (cls != NULL, "no classification attribute: %s", text);
  fail_unless_equals_string (json_object_get_string_member (cls, "label"),
      "green");
  fail_unless_equals_int (json_object_get_int_member (cls, "label_id"), 1);
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (cls, "model"), "name"), "mean-colour");
  tensors = json_object_get_array_member (o, "tensors");
  fail_unless_equals_int (json_array_get_length (tensors), 1);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (tensors, 0), "label"), "green");

  g_object_unref (parser);
  g_free (text);
  g_free (ptext);
  g_free (desc);
  g_free (jpath);
  g_free (ppath);
  g_free (model);
  g_free (dir);
}

GST_END_TEST;

/* Sets "name=value" pairs on a lone imgrecpublish, starts it and returns the
 * error it posted (NULL: it started). */
static gchar *
start_error (const gchar * const *settings)
{
  GstElement *e = gst_element_factory_make ("imgrecpublish", NULL);
  GstBus *bus = gst_bus_new ();
  GstStateChangeReturn ret;
  gchar *text;

  for (; *settings; settings += 2)
    gst_util_set_object_arg (G_OBJECT (e), settings[0], settings[1]);
  gst_element_set_bus (e, bus);
  ret = gst_element_set_state (e, GST_STATE_PAUSED);
  text = wait_error (bus, 0.5);
  fail_unless ((ret == GST_STATE_CHANGE_FAILURE) == (text != NULL),
      "state change %d, error %s", ret, text);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  gst_object_unref (e);
  return text;
}

static void
expect_start_error (const gchar * const *settings, const gchar * part)
{
  gchar *text = start_error (settings);

  fail_unless (text != NULL, "started, expected an error with \"%s\"", part);
  fail_unless (strstr (text, part) != NULL, "error \"%s\" lacks \"%s\"",
      text, part);
  g_free (text);
}

GST_START_TEST (test_bad_settings_are_errors_at_start)
{
  gchar *dir = test_dir ();
  gchar *missing = g_build_filename (dir, "no", "such", "dir.jsonl", NULL);
  gchar *conf = g_build_filename (dir, "mqtt.conf", NULL);
  gchar *conf_json = g_build_filename (dir, "mqtt.json", NULL);

  {
    const gchar *s[] = { "tags", "not json", "file-path",
      "/dev/null", NULL
    };
    expect_start_error (s, "tags must be a JSON object");
  }
  {
    const gchar *s[] = { "tags", "[1,2]", NULL };
    expect_start_error (s, "tags must be a JSON object");
  }
  {
    const gchar *s[] = { "file-path", missing, NULL };
    expect_start_error (s, "Could not open publish file");
  }
  {
    /* a FIFO is refused at once, not waited on */
    gchar *fifo = g_build_filename (dir, "fifo", NULL);
    const gchar *s[] = { "file-path", fifo, NULL };
    fail_unless (mkfifo (fifo, 0600) == 0);
    expect_start_error (s, "FIFO");
    g_free (fifo);
  }
  {
    const gchar *s[] = { "method", "mqtt", "topic", "t", NULL };
    expect_start_error (s, "No address set");
  }
  {
    const gchar *s[] = { "method", "kafka", "address", "127.0.0.1:9",
      NULL
    };
    expect_start_error (s, "No topic set");
  }
#ifdef IMGREC_HAVE_MQTT
  {
    const gchar *s[] = { "method", "mqtt", "topic", "t", "address",
      "127.0.0.1:99999", NULL
    };
    expect_start_error (s, "is not an address");
  }
  {
    const gchar *s[] = { "method", "mqtt", "topic", "t", "address",
      "::1:1883", NULL
    };
    expect_start_error (s, "is not an address");
  }
  {
    const gchar *s[] = { "method", "mqtt", "topic", "cams/#", "address",
      "127.0.0.1:1883", NULL
    };
    expect_start_error (s, "is not an MQTT topic");
  }
  {
    const gchar *s[] = { "method", "mqtt", "topic", "t", "address",
      "127.0.0.1", "mqtt-config", missing, NULL
    };
    expect_start_error (s, "Could not read mqtt-config file");
  }
  fail_unless (g_file_set_contents (conf, "# broker\nusername=cam\n"
          "colour=blue\n", -1, NULL));
  {
    const gchar *s[] = { "method", "mqtt", "topic", "t", "address",
      "127.0.0.1", "mqtt-config", conf, NULL
    };
    expect_start_error (s, "unknown key \"colour\"");
  }
  fail_unless (g_file_set_contents (conf_json, "{\"qos\": 5}", -1, NULL));
  {
    const gchar *s[] = { "method", "mqtt", "topic", "t", "address",
      "127.0.0.1", "mqtt-config", conf_json, NULL
    };
    expect_start_error (s, "bad value \"5\" for qos");
  }
  fail_unless (g_file_set_contents (conf, "cafile=/nonexistent/ca.pem\n", -1,
          NULL));
  {
    const gchar *s[] = { "method", "mqtt", "topic", "t", "address",
      "127.0.0.1", "mqtt-config", conf, NULL
    };
    expect_start_error (s, "TLS settings refused");
  }
#else
  {
    const gchar *s[] = { "method", "mqtt", "topic", "t", "address",
      "127.0.0.1:1883", NULL
    };
    expect_start_error (s, "built without libmosquitto");
  }
#endif
#ifndef IMGREC_HAVE_KAFKA
  {
    const gchar *s[] = { "method", "kafka", "topic", "t", "address",
      "127.0.0.1:9092", NULL
    };
    expect_start_error (s, "built without librdkafka");
  }
#endif
  g_free (missing);
  g_free (conf);
  g_free (conf_json);
  g_free (dir);
}

GST_END_TEST;

#ifdef IMGREC_HAVE_MQTT
/* a loopback port nobody listens on */
static guint
closed_port (void)
{
  struct sockaddr_in a = { 0 };
  socklen_t len = sizeof a;
  gint fd = socket (AF_INET, SOCK_STREAM, 0);

  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fail_unless (bind (fd, (struct sockaddr *) &a, sizeof a) == 0);
  fail_unless (getsockname (fd, (struct sockaddr *) &a, &len) == 0);
  close (fd);
  return ntohs (a.sin_port);
}

GST_START_TEST (test_unreachable_broker_fails_after_max_connect_attempts)
{
  gchar *dir = test_dir ();
  guint port = closed_port ();
  gchar *props = g_strdup_printf ("method=mqtt address=127.0.0.1:%u "
      "topic=imgrec/test max-connect-attempts=3", port);
  gchar *addr = g_strdup_printf ("127.0.0.1:%u", port);
  PubHarness p = pub_harness (dir, props);
  GstElement *pub = gst_object_ref (p.pub);
  gchar *text;

  /* the streaming thread is not held up while the element tries */
  fail_unless_equals_int (gst_harness_push (p.h, colour_frame (0)),
      GST_FLOW_OK);
  text = wait_error (p.bus, 10);
  fail_unless (text != NULL, "no error for an unreachable broker");
  fail_unless (strstr (text, addr) && strstr (text, "after 3 attempt(s)"),
      "error: %s", text);
  fail_unless_equals_uint64 (pub_stat (pub, "connect-failures"), 3);
  /* after the error the element refuses data */
  fail_unless_equals_int (gst_harness_push (p.h, colour_frame (1)),
      GST_FLOW_ERROR);
  pub_teardown (&p);
  /* the queued frame is counted, not lost silently */
  fail_unless_equals_uint64 (pub_stat (pub, "dropped"), 1);
  gst_object_unref (pub);
  g_free (text);
  g_free (addr);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

/* The default single attempt against a port that refuses at once fails the
 * state change with the error, every time: posted from the publisher
 * thread after the state change, gst-launch-1.0 1.22 lost it and hung now
 * and then (CI, 4 runs in 30). */
GST_START_TEST (test_refused_single_attempt_fails_the_state_change)
{
  guint port = closed_port ();
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 ! imgrecpublish "
      "method=mqtt address=127.0.0.1:%u topic=imgrec/test ! fakesink", port);
  gchar *addr = g_strdup_printf ("127.0.0.1:%u", port);
  guint i;

  for (i = 0; i < 10; i++) {
    GstElement *pipe = gst_parse_launch (desc, NULL);
    GstBus *bus = gst_element_get_bus (pipe);
    GstMessage *msg;
    GError *err = NULL;

    fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_PAUSED),
        GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "no error on the bus at the failed state change");
    gst_message_parse_error (msg, &err, NULL);
    fail_unless (strstr (err->message, addr)
        && strstr (err->message, "after 1 attempt(s)"), "error: %s", err->message);
    g_error_free (err);
    gst_message_unref (msg);
    gst_element_set_state (pipe, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (pipe);
  }
  g_free (addr);
  g_free (desc);
}

GST_END_TEST;
#endif

GST_START_TEST (test_stats_and_defaults)
{
  GstElement *e = gst_element_factory_make ("imgrecpublish", NULL);
  GstStructure *s = NULL;
  gchar *path = NULL;
  guint q;
  static const gchar *fields[] = { "sent", "sent-bytes", "queued",
    "queued-bytes", "in-flight", "dropped", "dropped-overflow", "rejected",
    "reconnects", "connect-failures", "blocked", NULL
  };
  const gchar **f;

  g_object_get (e, "stats", &s, "file-path", &path, "max-queue", &q, NULL);
  fail_unless (gst_structure_has_name (s, "imgrec-publish-stats"));
  for (f = fields; *f; f++) {
    guint64 v = 1;
    fail_unless (gst_structure_get_uint64 (s, *f, &v), "%s", *f);
    fail_unless_equals_uint64 (v, 0);
  }
  fail_unless_equals_string (gst_structure_get_string (s, "method"), "file");
  fail_unless_equals_string (path, "stdout");
  fail_unless_equals_int (q, 1000);
  gst_structure_free (s);
  g_free (path);
  gst_object_unref (e);
}

GST_END_TEST;

static Suite *
imgrecpublish_suite (void)
{
  Suite *s = suite_create ("imgrecpublish");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_file_json_lines_are_imgrecjson_lines);
  tcase_add_test (tc, test_file_json_array_with_source_and_tags);
  tcase_add_test (tc, test_gva_format);
  tcase_add_test (tc, test_bad_settings_are_errors_at_start);
#ifdef IMGREC_HAVE_MQTT
  tcase_add_test (tc, test_unreachable_broker_fails_after_max_connect_attempts);
  tcase_add_test (tc, test_refused_single_attempt_fails_the_state_change);
#endif
  tcase_add_test (tc, test_stats_and_defaults);
  return s;
}

GST_CHECK_MAIN (imgrecpublish);
