/* imgrecpublish method=kafka against librdkafka's mock cluster (in this
 * process, listening on 127.0.0.1) and a consumer reading the topic back:
 * every frame's message arrives in order with imgrecjson's bytes and the
 * source as key; the broker down and up again loses nothing within
 * max-queue and drops exactly what exceeds it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "publish_common.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define TOPIC "imgrec-results"
#define SOURCE_TAGS "\"source\":\"cam-3\",\"tags\":{\"line\":2}"

typedef struct {
  rd_kafka_t *rk;               /* owns the mock cluster */
  rd_kafka_mock_cluster_t *mc;
  gchar *bootstraps;
} Cluster;

static Cluster
cluster_new (void)
{
  Cluster c;
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new ();

  rd_kafka_conf_set (conf, "log_level", "0", NULL, 0);
  c.rk = rd_kafka_new (RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  fail_unless (c.rk != NULL, "%s", errstr);
  c.mc = rd_kafka_mock_cluster_new (c.rk, 1);
  fail_unless (c.mc != NULL);
  fail_unless_equals_int (rd_kafka_mock_topic_create (c.mc, TOPIC, 1, 1),
      RD_KAFKA_RESP_ERR_NO_ERROR);
  c.bootstraps = g_strdup (rd_kafka_mock_cluster_bootstraps (c.mc));
  fail_unless (g_str_has_prefix (c.bootstraps, "127.0.0.1:"), "%s",
      c.bootstraps);
  return c;
}

static void
cluster_free (Cluster * c)
{
  rd_kafka_mock_cluster_destroy (c->mc);
  rd_kafka_destroy (c->rk);
  g_free (c->bootstraps);
}

/* reads partition 0 from the start until @n messages or @seconds */
static GPtrArray *
consume (Cluster * c, guint n, gdouble seconds, GPtrArray ** keys)
{
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new ();
  rd_kafka_t *rk;
  rd_kafka_topic_partition_list_t *parts;
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  *keys = g_ptr_array_new_with_free_func (g_free);
  rd_kafka_conf_set (conf, "bootstrap.servers", c->bootstraps, NULL, 0);
  rd_kafka_conf_set (conf, "group.id", "imgrec-test", NULL, 0);
  rd_kafka_conf_set (conf, "enable.auto.commit", "false", NULL, 0);
  rd_kafka_conf_set (conf, "log_level", "0", NULL, 0);
  rk = rd_kafka_new (RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  fail_unless (rk != NULL, "%s", errstr);
  parts = rd_kafka_topic_partition_list_new (1);
  rd_kafka_topic_partition_list_add (parts, TOPIC, 0)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  fail_unless_equals_int (rd_kafka_assign (rk, parts),
      RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy (parts);
  while (out->len < n && g_get_monotonic_time () < end) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll (rk, 100);
    if (m == NULL)
      continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      g_ptr_array_add (out, g_strndup (m->payload, m->len));
      g_ptr_array_add (*keys, m->key ? g_strndup (m->key, m->key_len) :
          g_strdup (""));
    }
    rd_kafka_message_destroy (m);
  }
  rd_kafka_consumer_close (rk);
  rd_kafka_destroy (rk);
  return out;
}

static void
check_messages (GPtrArray * got, GPtrArray * keys, const gchar * json_path,
    guint first_a, guint n_a, guint first_b, guint n_b)
{
  guint nlines, i;
  gchar **lines = json_lines (json_path, &nlines);

  fail_unless_equals_int (got->len, n_a + n_b);
  for (i = 0; i < got->len; i++) {
    guint f = i < n_a ? first_a + i : first_b + (i - n_a);
    gchar *want = expected_message (lines[f], SOURCE_TAGS);
    fail_unless_equals_string (g_ptr_array_index (got, i), want);
    fail_unless_equals_string (g_ptr_array_index (keys, i), "cam-3");
    g_free (want);
  }
  g_strfreev (lines);
}

static gchar *
kafka_props (Cluster * c, const gchar * extra)
{
  return g_strdup_printf ("method=kafka address=%s topic=" TOPIC
      " source=cam-3 tags=\"{\\\"line\\\":2}\" max-reconnect-interval=1 "
      "max-connect-attempts=3 %s",
      c->bootstraps, extra);
}

GST_START_TEST (test_every_frame_arrives_in_order_keyed_by_source)
{
  Cluster c = cluster_new ();
  gchar *dir = test_dir ();
  gchar *props = kafka_props (&c, "");
  PubHarness p = pub_harness (dir, props);
  GstElement *pub = gst_object_ref (p.pub);
  GPtrArray *got, *keys;

  pub_push (&p, 0, 40);
  fail_unless (gst_harness_push_event (p.h, gst_event_new_eos ()));
  fail_unless_equals_uint64 (pub_stat (pub, "sent"), 40);
  fail_unless_equals_uint64 (pub_stat (pub, "queued"), 0);
  got = consume (&c, 40, 20, &keys);
  check_messages (got, keys, p.json_path, 0, 40, 0, 0);
  fail_unless_equals_uint64 (pub_stat (pub, "dropped"), 0);

  pub_teardown (&p);
  gst_object_unref (pub);
  g_ptr_array_unref (got);
  g_ptr_array_unref (keys);
  cluster_free (&c);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_broker_down_and_up_drops_exactly_beyond_the_queue)
{
  Cluster c = cluster_new ();
  gchar *dir = test_dir ();
  gchar *props = kafka_props (&c, "max-queue=40 overflow-policy=drop-new");
  PubHarness p = pub_harness (dir, props);
  GstElement *pub = gst_object_ref (p.pub);
  GPtrArray *got, *keys;
  guint64 last = 0;

  pub_push (&p, 0, 10);
  wait_stat (pub, "sent", 10, 20);

  fail_unless_equals_int (rd_kafka_mock_broker_set_down (c.mc, 1),
      RD_KAFKA_RESP_ERR_NO_ERROR);
  pub_push (&p, 10, 45);        /* 40 fit, 5 are dropped */
  fail_unless_equals_uint64 (pub_stat (pub, "dropped"), 5);
  fail_unless_equals_uint64 (pub_stat (pub, "queued"), 40);
  fail_unless_equals_uint64 (pub_stat (pub, "sent"), 10);
  fail_unless (count_warnings (p.bus, "dropped", "dropped",
          &last) >= 1);
  g_usleep (500 * 1000);        /* still down: nothing goes */
  fail_unless_equals_uint64 (pub_stat (pub, "sent"), 10);

  fail_unless_equals_int (rd_kafka_mock_broker_set_up (c.mc, 1),
      RD_KAFKA_RESP_ERR_NO_ERROR);
  wait_stat (pub, "sent", 50, 30);
  pub_push (&p, 55, 5);
  fail_unless (gst_harness_push_event (p.h, gst_event_new_eos ()));
  fail_unless_equals_uint64 (pub_stat (pub, "sent"), 55);
  fail_unless_equals_uint64 (pub_stat (pub, "dropped"), 5);

  /* 0..49 (frames 50..54 dropped), then 55..59; no duplicates */
  got = consume (&c, 55, 20, &keys);
  g_usleep (200 * 1000);
  check_messages (got, keys, p.json_path, 0, 50, 55, 5);

  pub_teardown (&p);
  gst_object_unref (pub);
  g_ptr_array_unref (got);
  g_ptr_array_unref (keys);
  cluster_free (&c);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

static Suite *
imgrecpublish_kafka_suite (void)
{
  Suite *s = suite_create ("imgrecpublish-kafka");
  TCase *tc = tcase_create ("mock-cluster");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_every_frame_arrives_in_order_keyed_by_source);
  tcase_add_test (tc, test_broker_down_and_up_drops_exactly_beyond_the_queue);
  return s;
}

GST_CHECK_MAIN (imgrecpublish_kafka);
