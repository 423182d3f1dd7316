/* What the imgrecpublish tests share: frames of known colours classified by
 * the mean-colour model, a harness running
 *   imgrecclassify ! imgrecjson ! imgrecpublish name=pub
 * (so each message can be compared with the line imgrecjson wrote for the
 * same buffer), stats polling and bus scanning.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef IMGREC_TEST_PUBLISH_COMMON_H
#define IMGREC_TEST_PUBLISH_COMMON_H

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <string.h>

G_GNUC_UNUSED static const guint8 colour_rgb[][3] = {
  {230, 20, 20}, {20, 230, 20}, {20, 20, 230}, {128, 128, 128}
};

G_GNUC_UNUSED static gchar *
data_path (const gchar * name)
{
  return g_build_filename (g_getenv ("IMGREC_GST_TEST_DATA"), name, NULL);
}

/* a private folder for one test's files */
G_GNUC_UNUSED static gchar *
test_dir (void)
{
  gchar *tmpl = g_build_filename (g_get_tmp_dir (), "imgrecpublish-XXXXXX",
      NULL);
  fail_unless (g_mkdtemp (tmpl) != NULL);
  return tmpl;
}

/* frame i: 16x16 RGB of colour i % 4, PTS i × 40 ms */
G_GNUC_UNUSED static GstBuffer *
colour_frame (guint i)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, 16 * 16 * 3, NULL);
  GstMapInfo map;
  guint p;

  fail_unless (gst_buffer_map (b, &map, GST_MAP_WRITE));
  for (p = 0; p < 16 * 16; p++)
    memcpy (map.data + p * 3, colour_rgb[i % 4], 3);
  gst_buffer_unmap (b, &map);
  GST_BUFFER_PTS (b) = i * 40 * GST_MSECOND;
  GST_BUFFER_DURATION (b) = 40 * GST_MSECOND;
  return b;
}

typedef struct {
  GstHarness *h;
  GstElement *pub;
  GstBus *bus;
  gchar *json_path;
} PubHarness;

/* imgrecclassify ! imgrecjson location=DIR/lines.jsonl ! imgrecpublish
 * name=pub PROPS, playing, caps set, with a bus */
G_GNUC_UNUSED static PubHarness
pub_harness (const gchar * dir, const gchar * props)
{
  PubHarness p;
  gchar *model = data_path ("mean-colour.onnx");
  gchar *desc;
  GstElement *bin;

  p.json_path = g_build_filename (dir, "lines.jsonl", NULL);
  desc = g_strdup_printf ("imgrecclassify model=\"%s\" ! imgrecjson "
      "location=\"%s\" ! imgrecpublish name=pub %s", model, p.json_path,
      props);
  p.bus = gst_bus_new ();
  /* the bus before the harness plays: an error at start reaches it */
  bin = gst_object_ref_sink (gst_parse_bin_from_description (desc, TRUE,
          NULL));
  fail_unless (bin != NULL, "%s", desc);
  gst_element_set_bus (bin, p.bus);
  p.h = gst_harness_new_with_element (bin, "sink", "src");
  gst_object_unref (bin);
  p.pub = gst_bin_get_by_name (GST_BIN (p.h->element), "pub");
  fail_unless (p.pub != NULL);
  gst_harness_set_src_caps_str (p.h, "video/x-raw,format=RGB,width=16,"
      "height=16,framerate=25/1");
  g_free (desc);
  g_free (model);
  return p;
}

G_GNUC_UNUSED static void
pub_push (PubHarness * p, guint first, guint n)
{
  guint i;
  for (i = first; i < first + n; i++) {
    fail_unless_equals_int (gst_harness_push (p->h, colour_frame (i)),
        GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (p->h));
  }
}

/* tears the harness down; pub stays alive (the caller's reference) */
G_GNUC_UNUSED static void
pub_teardown (PubHarness * p)
{
  gst_harness_teardown (p->h);
  gst_bus_set_flushing (p->bus, TRUE);
  gst_object_unref (p->bus);
  gst_object_unref (p->pub);
  g_free (p->json_path);
}

G_GNUC_UNUSED static guint64
pub_stat (GstElement * pub, const gchar * field)
{
  GstStructure *s = NULL;
  guint64 v = 0;

  g_object_get (pub, "stats", &s, NULL);
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, field, &v), "no %s in stats",
      field);
  gst_structure_free (s);
  return v;
}

G_GNUC_UNUSED static gboolean
stat_connected (GstElement * pub)
{
  GstStructure *s = NULL;
  gboolean v = FALSE;

  g_object_get (pub, "stats", &s, NULL);
  gst_structure_get_boolean (s, "connected", &v);
  gst_structure_free (s);
  return v;
}

/* waits (at most @seconds) until stats.@field == @value */
G_GNUC_UNUSED static void
wait_stat (GstElement * pub, const gchar * field, guint64 value,
    gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (pub_stat (pub, field) != value && g_get_monotonic_time () < end)
    g_usleep (5000);
  fail_unless_equals_uint64 (pub_stat (pub, field), value);
}

G_GNUC_UNUSED static void
wait_connected (GstElement * pub, gboolean connected, gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (stat_connected (pub) != connected && g_get_monotonic_time () < end)
    g_usleep (5000);
  fail_unless (stat_connected (pub) == connected, "connected is not %d",
      connected);
}

/* the lines imgrecjson wrote (NULL-terminated) */
G_GNUC_UNUSED static gchar **
json_lines (const gchar * path, guint * n)
{
  gchar *text = NULL;
  gchar **lines;

  fail_unless (g_file_get_contents (path, &text, NULL, NULL));
  fail_unless (g_str_has_suffix (text, "\n"));
  text[strlen (text) - 1] = '\0';
  lines = g_strsplit (text, "\n", -1);
  g_free (text);
  *n = g_strv_length (lines);
  return lines;
}

/* line with `,SUFFIX` inserted before its closing brace (SUFFIX NULL: the
 * line itself) — what imgrecpublish sends with source/tags set */
G_GNUC_UNUSED static gchar *
expected_message (const gchar * line, const gchar * suffix)
{
  gsize n = strlen (line);
  if (suffix == NULL)
    return g_strdup (line);
  fail_unless (n > 0 && line[n - 1] == '}');
  return g_strdup_printf ("%.*s,%s}", (int) (n - 1), line, suffix);
}

G_GNUC_UNUSED static gint64
message_frame (const gchar * payload)
{
  JsonParser *parser = json_parser_new ();
  gint64 frame;

  fail_unless (json_parser_load_from_data (parser, payload, -1, NULL),
      "not JSON: %s", payload);
  frame = json_object_get_int_member (json_node_get_object
      (json_parser_get_root (parser)), "frame");
  g_object_unref (parser);
  return frame;
}

/* counts warnings on the bus whose details have event @name, and returns
 * the last one's uint64 @field (0 when none) */
G_GNUC_UNUSED static guint
count_warnings (GstBus * bus, const gchar * name, const gchar * field,
    guint64 * last)
{
  GstMessage *msg;
  guint n = 0;

  *last = 0;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    const GstStructure *d = NULL;
    gst_message_parse_warning_details (msg, &d);
    if (d && !g_strcmp0 (gst_structure_get_string (d, "event"), name)) {
      n++;
      if (field)
        gst_structure_get_uint64 (d, field, last);
    }
    gst_message_unref (msg);
  }
  return n;
}

/* the text of the first error on the bus within @seconds (NULL: none) */
G_GNUC_UNUSED static gchar *
wait_error (GstBus * bus, gdouble seconds)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus,
      (GstClockTime) (seconds * GST_SECOND), GST_MESSAGE_ERROR);
  GError *err = NULL;
  gchar *text;

  if (msg == NULL)
    return NULL;
  gst_message_parse_error (msg, &err, NULL);
  text = g_strdup (err->message);
  g_error_free (err);
  gst_message_unref (msg);
  return text;
}

#endif
