/* imgrecpublish method=mqtt against a real mosquitto broker, started by
 * each test on a free 127.0.0.1 port (persistence in the test's folder) and
 * killed at its end, with a libmosquitto subscriber in this process:
 * every frame's message arrives in order with imgrecjson's bytes; the broker
 * stopped and restarted loses nothing within max-queue and drops exactly
 * what exceeds it (drop-new, drop-oldest), block holds the streaming thread
 * back; EOS waits for the queue, bounded by flush-timeout.
 *
 * Skips (exit 77) when the mosquitto broker is not installed (Debian
 * package mosquitto).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "publish_common.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <mosquitto.h>

#define TOPIC "imgrec/test/cam"
#define SOURCE_TAGS "\"source\":\"cam-7\",\"tags\":{\"site\":\"depot\"}"

static const gchar *broker_binary;

/* ---- the broker -------------------------------------------------------- */

typedef struct {
  GPid pid;
  guint port;
  gchar *dir;
  gchar *conf;
} Broker;

static guint
free_port (void)
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

static gboolean
port_open (guint port)
{
  struct sockaddr_in a = { 0 };
  gint fd = socket (AF_INET, SOCK_STREAM, 0);
  gboolean ok;

  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  a.sin_port = htons (port);
  ok = connect (fd, (struct sockaddr *) &a, sizeof a) == 0;
  close (fd);
  return ok;
}

/* the broker dies with this process, whatever happens to the test */
static void
die_with_parent (gpointer unused)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
broker_run (Broker * b)
{
  gchar *argv[] = { (gchar *) broker_binary, (gchar *) "-c", b->conf, NULL };
  GError *err = NULL;
  gint64 end;

  fail_unless (g_spawn_async (b->dir, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD
          | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
          die_with_parent, NULL, &b->pid, &err), "mosquitto: %s",
      err ? err->message : "?");
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!port_open (b->port) && g_get_monotonic_time () < end)
    g_usleep (10000);
  fail_unless (port_open (b->port), "mosquitto does not listen on %u",
      b->port);
}

/* @security: NULL (anonymous, plain TCP) or the TLS and password lines */
static Broker
broker_start_with (const gchar * dir, const gchar * security)
{
  Broker b = { 0 };
  gchar *text;

  b.port = free_port ();
  b.dir = g_strdup (dir);
  b.conf = g_build_filename (dir, "mosquitto.conf", NULL);
  /* persistence: the subscriber's session (subscription, messages queued
   * for it) survives a broker restart */
  text = g_strdup_printf ("listener %u 127.0.0.1\n%s"
      "persistence true\npersistence_location %s/\nautosave_interval 1\n"
      "max_queued_messages 100000\nmax_inflight_messages 100\n"
      "log_dest file %s/mosquitto.log\n%s", b.port,
      security ? security : "allow_anonymous true\n", dir, dir,
      /* as root, mosquitto would switch to user mosquitto, who cannot
       * write the test's folder */
      getuid () == 0 ? "user root\n" : "");
  fail_unless (g_file_set_contents (b.conf, text, -1, NULL));
  g_free (text);
  broker_run (&b);
  return b;
}

static Broker
broker_start (const gchar * dir)
{
  return broker_start_with (dir, NULL);
}

static void
broker_kill (Broker * b, gint sig)
{
  gint status;
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  if (b->pid == 0)
    return;
  kill (b->pid, sig);
  while (waitpid (b->pid, &status, WNOHANG) == 0) {
    if (g_get_monotonic_time () > end) {
      kill (b->pid, SIGKILL);
      waitpid (b->pid, &status, 0);
      break;
    }
    g_usleep (5000);
  }
  g_spawn_close_pid (b->pid);
  b->pid = 0;
}

static void
broker_free (Broker * b)
{
  broker_kill (b, SIGKILL);
  g_free (b->dir);
  g_free (b->conf);
}

/* ---- the subscriber ---------------------------------------------------- */

typedef struct {
  struct mosquitto *m;
  GMutex lock;
  GPtrArray *payloads;          /* gchar* in arrival order */
  gint subscriptions;
} Subscriber;

static void
sub_on_connect (struct mosquitto *m, void *obj, int rc)
{
  if (rc == 0)
    mosquitto_subscribe (m, NULL, TOPIC, 1);
}

static void
sub_on_subscribe (struct mosquitto *m, void *obj, int mid, int n,
    const int *granted)
{
  Subscriber *s = obj;
  g_mutex_lock (&s->lock);
  s->subscriptions++;
  g_mutex_unlock (&s->lock);
}

static void
sub_on_message (struct mosquitto *m, void *obj,
    const struct mosquitto_message *msg)
{
  Subscriber *s = obj;
  g_mutex_lock (&s->lock);
  g_ptr_array_add (s->payloads, g_strndup (msg->payload, msg->payloadlen));
  g_mutex_unlock (&s->lock);
}

/* distinct frames received (a repeat counts once) */
static guint
sub_count (Subscriber * s)
{
  GHashTable *frames = g_hash_table_new (g_direct_hash, g_direct_equal);
  guint i, n;

  g_mutex_lock (&s->lock);
  for (i = 0; i < s->payloads->len; i++)
    g_hash_table_add (frames, GINT_TO_POINTER (message_frame
            (g_ptr_array_index (s->payloads, i))));
  g_mutex_unlock (&s->lock);
  n = g_hash_table_size (frames);
  g_hash_table_unref (frames);
  return n;
}

static void
sub_wait (Subscriber * s, guint n, gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (sub_count (s) < n && g_get_monotonic_time () < end)
    g_usleep (5000);
  fail_unless (sub_count (s) >= n, "subscriber got %u messages, expected %u",
      sub_count (s), n);
}

/* a persistent session (clean_session false, QoS 1): what the broker queued
 * for it survives the broker's restart */
static Subscriber *
sub_start_with (guint port, const gchar * cafile, const gchar * user,
    const gchar * password)
{
  Subscriber *s = g_new0 (Subscriber, 1);
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  gchar *id = g_strdup_printf ("imgrec-test-sub-%d", (int) getpid ());

  g_mutex_init (&s->lock);
  s->payloads = g_ptr_array_new_with_free_func (g_free);
  s->m = mosquitto_new (id, false, s);
  g_free (id);
  fail_unless (s->m != NULL);
  mosquitto_connect_callback_set (s->m, sub_on_connect);
  mosquitto_subscribe_callback_set (s->m, sub_on_subscribe);
  mosquitto_message_callback_set (s->m, sub_on_message);
  mosquitto_reconnect_delay_set (s->m, 1, 1, false);
  if (cafile)
    fail_unless_equals_int (mosquitto_tls_set (s->m, cafile, NULL, NULL, NULL,
            NULL), MOSQ_ERR_SUCCESS);
  if (user)
    fail_unless_equals_int (mosquitto_username_pw_set (s->m, user, password),
        MOSQ_ERR_SUCCESS);
  fail_unless_equals_int (mosquitto_connect (s->m, "127.0.0.1", port, 30),
      MOSQ_ERR_SUCCESS);
  fail_unless_equals_int (mosquitto_loop_start (s->m), MOSQ_ERR_SUCCESS);
  while (g_get_monotonic_time () < end) {
    g_mutex_lock (&s->lock);
    if (s->subscriptions > 0) {
      g_mutex_unlock (&s->lock);
      return s;
    }
    g_mutex_unlock (&s->lock);
    g_usleep (5000);
  }
  fail ("the subscriber could not subscribe");
  return NULL;
}

static Subscriber *
sub_start (guint port)
{
  return sub_start_with (port, NULL, NULL, NULL);
}

static void
sub_free (Subscriber * s)
{
  mosquitto_disconnect (s->m);
  mosquitto_loop_stop (s->m, true);
  mosquitto_destroy (s->m);
  g_ptr_array_unref (s->payloads);
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* Checks the subscriber got @frames, in this order, each message being
 * imgrecjson's line for that frame plus @suffix.  MQTT QoS 1 is at least
 * once: the broker may deliver a message again after its restart (one it
 * had sent but whose acknowledgement it had not recorded), so a repeat of
 * a frame already received, with the same bytes, is allowed; anything
 * else — a missing frame, a frame out of order, one that should have been
 * dropped — fails. */
static void
check_messages (Subscriber * s, const gchar * json_path, const guint * frames,
    guint n, const gchar * suffix)
{
  guint nlines, i, next = 0, repeats = 0;
  gchar **lines = json_lines (json_path, &nlines);
  GHashTable *seen = g_hash_table_new_full (g_direct_hash, g_direct_equal,
      NULL, g_free);

  g_mutex_lock (&s->lock);
  for (i = 0; i < s->payloads->len; i++) {
    const gchar *got = g_ptr_array_index (s->payloads, i);
    gint64 f = message_frame (got);
    const gchar *before = g_hash_table_lookup (seen, GINT_TO_POINTER (f));

    if (before) {
      fail_unless_equals_string (got, before);
      repeats++;
      continue;
    }
    fail_unless (next < n, "frame %" G_GINT64_FORMAT " after the last "
        "expected one", f);
    fail_unless (f == frames[next], "frame %" G_GINT64_FORMAT " arrived "
        "where frame %u was expected", f, frames[next]);
    fail_unless (frames[next] < nlines);
    {
      gchar *want = expected_message (lines[frames[next]], suffix);
      fail_unless_equals_string (got, want);
      g_free (want);
    }
    g_hash_table_insert (seen, GINT_TO_POINTER (f), g_strdup (got));
    next++;
  }
  g_mutex_unlock (&s->lock);
  fail_unless_equals_int (next, n);
  if (repeats)
    GST_INFO ("%u messages delivered again by the broker", repeats);
  g_hash_table_unref (seen);
  g_strfreev (lines);
}

static guint *
range (guint *a, guint at, guint first, guint n)
{
  guint i;
  for (i = 0; i < n; i++)
    a[at + i] = first + i;
  return a;
}

static gchar *
mqtt_props (guint port, const gchar * extra)
{
  return g_strdup_printf ("method=mqtt address=127.0.0.1:%u topic=" TOPIC
      " max-reconnect-interval=1 %s", port, extra);
}

/* ---- tests ------------------------------------------------------------- */

GST_START_TEST (test_every_frame_arrives_in_order_with_its_content)
{
  gchar *dir = test_dir ();
  Broker b = broker_start (dir);
  Subscriber *s = sub_start (b.port);
  gchar *props = mqtt_props (b.port, "source=cam-7 "
      "tags=\"{\\\"site\\\":\\\"depot\\\"}\"");
  PubHarness p = pub_harness (dir, props);
  GstElement *pub = gst_object_ref (p.pub);
  guint frames[60];

  pub_push (&p, 0, 60);
  fail_unless (gst_harness_push_event (p.h, gst_event_new_eos ()));
  /* EOS waited for the broker's acknowledgements */
  fail_unless_equals_uint64 (pub_stat (pub, "sent"), 60);
  fail_unless_equals_uint64 (pub_stat (pub, "queued"), 0);
  sub_wait (s, 60, 10);
  check_messages (s, p.json_path, range (frames, 0, 0, 60), 60, SOURCE_TAGS);
  fail_unless_equals_uint64 (pub_stat (pub, "dropped"), 0);
  fail_unless_equals_uint64 (pub_stat (pub, "reconnects"), 0);
  pub_teardown (&p);
  gst_object_unref (pub);
  sub_free (s);
  broker_free (&b);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

/* The broker stops after frames 0..19 were delivered; 57 frames come while
 * it is away with max-queue 50; it comes back. */
static void
outage (const gchar * policy, guint * expected, guint * n_expected)
{
  gchar *dir = test_dir ();
  Broker b = broker_start (dir);
  Subscriber *s = sub_start (b.port);
  gchar *extra = g_strdup_printf ("max-queue=50 overflow-policy=%s", policy);
  gchar *props = mqtt_props (b.port, extra);
  PubHarness p = pub_harness (dir, props);
  GstElement *pub = gst_object_ref (p.pub);
  guint64 last = 0;

  pub_push (&p, 0, 20);
  wait_stat (pub, "sent", 20, 10);
  sub_wait (s, 20, 10);

  broker_kill (&b, SIGTERM);
  wait_connected (pub, FALSE, 10);
  pub_push (&p, 20, 57);
  /* the streaming thread was not held up, the queue is at its bound, and
   * exactly what exceeded it was dropped and reported */
  fail_unless_equals_uint64 (pub_stat (pub, "queued"), 50);
  fail_unless_equals_uint64 (pub_stat (pub, "dropped"), 7);
  fail_unless_equals_uint64 (pub_stat (pub, "dropped-overflow"), 7);
  fail_unless_equals_uint64 (pub_stat (pub, "sent"), 20);
  fail_unless (count_warnings (p.bus, "dropped", "dropped",
          &last) >= 1);
  fail_unless (last >= 1 && last <= 7);

  broker_run (&b);
  wait_stat (pub, "sent", 70, 20);
  fail_unless_equals_uint64 (pub_stat (pub, "reconnects"), 1);
  fail_unless (stat_connected (pub));

  pub_push (&p, 77, 3);
  fail_unless (gst_harness_push_event (p.h, gst_event_new_eos ()));
  fail_unless_equals_uint64 (pub_stat (pub, "sent"), 73);
  sub_wait (s, 73, 20);
  g_usleep (200 * 1000);        /* nothing more arrives */
  check_messages (s, p.json_path, expected, *n_expected, NULL);
  fail_unless_equals_uint64 (pub_stat (pub, "dropped"), 7);
  /* the last warning of the stream has the exact total */
  count_warnings (p.bus, "dropped", "dropped", &last);
  fail_unless_equals_uint64 (last, 7);

  pub_teardown (&p);
  gst_object_unref (pub);
  sub_free (s);
  broker_free (&b);
  g_free (props);
  g_free (extra);
  g_free (dir);
}

GST_START_TEST (test_broker_restart_drop_new_keeps_first_of_outage)
{
  guint e[73], n = 73;
  range (e, 0, 0, 20);
  range (e, 20, 20, 50);        /* 70..76 dropped */
  range (e, 70, 77, 3);
  outage ("drop-new", e, &n);
}

GST_END_TEST;

GST_START_TEST (test_broker_restart_drop_oldest_keeps_last_of_outage)
{
  guint e[73], n = 73;
  range (e, 0, 0, 20);
  range (e, 20, 27, 50);        /* 20..26 dropped */
  range (e, 70, 77, 3);
  outage ("drop-oldest", e, &n);
}

GST_END_TEST;

/* The broker stops while frames flow (messages in flight); nothing within
 * the queue bound is lost.  A message the broker had taken but not
 * acknowledged may arrive twice (at least once), never out of order. */
GST_START_TEST (test_broker_stopped_mid_stream_loses_nothing)
{
  gchar *dir = test_dir ();
  Broker b = broker_start (dir);
  Subscriber *s = sub_start (b.port);
  gchar *props = mqtt_props (b.port, "max-queue=1000");
  PubHarness p = pub_harness (dir, props);
  GstElement *pub = gst_object_ref (p.pub);
  static guint frames[400];

  pub_push (&p, 0, 150);
  broker_kill (&b, SIGTERM);    /* mid-stream: some are still in flight */
  pub_push (&p, 150, 150);
  g_usleep (300 * 1000);
  broker_run (&b);
  pub_push (&p, 300, 100);
  fail_unless (gst_harness_push_event (p.h, gst_event_new_eos ()));
  fail_unless_equals_uint64 (pub_stat (pub, "sent"), 400);
  fail_unless_equals_uint64 (pub_stat (pub, "dropped"), 0);
  fail_unless (pub_stat (pub, "reconnects") >= 1);
  sub_wait (s, 400, 20);
  g_usleep (200 * 1000);

  check_messages (s, p.json_path, range (frames, 0, 0, 400), 400, NULL);

  pub_teardown (&p);
  gst_object_unref (pub);
  sub_free (s);
  broker_free (&b);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

typedef struct {
  PubHarness *p;
  guint first, n;
  gint done;
} Pusher;

static gpointer
push_thread (gpointer data)
{
  Pusher *q = data;
  pub_push (q->p, q->first, q->n);
  g_atomic_int_set (&q->done, 1);
  return NULL;
}

GST_START_TEST (test_block_holds_the_streaming_thread_until_room)
{
  gchar *dir = test_dir ();
  Broker b = broker_start (dir);
  Subscriber *s = sub_start (b.port);
  gchar *props = mqtt_props (b.port, "max-queue=5 overflow-policy=block");
  PubHarness p = pub_harness (dir, props);
  GstElement *pub = gst_object_ref (p.pub);
  Pusher q = { &p, 5, 10, 0 };
  GThread *t;
  guint frames[15];

  pub_push (&p, 0, 5);
  wait_stat (pub, "sent", 5, 10);
  broker_kill (&b, SIGTERM);
  wait_connected (pub, FALSE, 10);

  t = g_thread_new ("pusher", push_thread, &q);
  wait_stat (pub, "queued", 5, 10);
  g_usleep (300 * 1000);
  fail_if (g_atomic_int_get (&q.done), "the streaming thread did not wait");
  fail_unless_equals_uint64 (pub_stat (pub, "blocked"), 1);

  broker_run (&b);
  g_thread_join (t);
  fail_unless (gst_harness_push_event (p.h, gst_event_new_eos ()));
  fail_unless_equals_uint64 (pub_stat (pub, "sent"), 15);
  fail_unless_equals_uint64 (pub_stat (pub, "dropped"), 0);
  sub_wait (s, 15, 10);
  g_usleep (200 * 1000);
  check_messages (s, p.json_path, range (frames, 0, 0, 15), 15, NULL);

  pub_teardown (&p);
  gst_object_unref (pub);
  sub_free (s);
  broker_free (&b);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

GST_START_TEST (test_eos_flush_is_bounded_by_flush_timeout)
{
  gchar *dir = test_dir ();
  Broker b = broker_start (dir);
  gchar *props = mqtt_props (b.port, "flush-timeout=400000000");
  PubHarness p = pub_harness (dir, props);
  GstElement *pub = gst_object_ref (p.pub);
  GstMessage *msg;
  gint64 t0;
  gboolean warned = FALSE;

  pub_push (&p, 0, 3);
  wait_stat (pub, "sent", 3, 10);
  broker_kill (&b, SIGKILL);
  wait_connected (pub, FALSE, 10);
  pub_push (&p, 3, 4);

  t0 = g_get_monotonic_time ();
  fail_unless (gst_harness_push_event (p.h, gst_event_new_eos ()));
  t0 = g_get_monotonic_time () - t0;
  fail_unless (t0 >= 350 * 1000 && t0 < 3 * G_USEC_PER_SEC,
      "EOS took %" G_GINT64_FORMAT " us", t0);
  while ((msg = gst_bus_pop_filtered (p.bus, GST_MESSAGE_WARNING))) {
    GError *err = NULL;
    gst_message_parse_warning (msg, &err, NULL);
    if (strstr (err->message, "4 result message(s) were not yet delivered"))
      warned = TRUE;
    g_error_free (err);
    gst_message_unref (msg);
  }
  fail_unless (warned, "no warning about the undelivered messages");

  /* what is still queued at stop is counted as dropped */
  pub_teardown (&p);
  fail_unless_equals_uint64 (pub_stat (pub, "dropped"), 4);
  fail_unless_equals_uint64 (pub_stat (pub, "sent"), 3);
  gst_object_unref (pub);
  broker_free (&b);
  g_free (props);
  g_free (dir);
}

GST_END_TEST;

static void
run_or_fail (const gchar * dir, const gchar * command)
{
  gchar *out = NULL, *err = NULL;
  gint status = -1;
  gchar *argv[] = { (gchar *) "/bin/sh", (gchar *) "-c", (gchar *) command,
    NULL
  };

  fail_unless (g_spawn_sync (dir, argv, NULL, 0, NULL, NULL, &out, &err,
          &status, NULL), "could not run %s", command);
  fail_unless (g_spawn_check_wait_status (status, NULL), "%s: %s", command,
      err);
  g_free (out);
  g_free (err);
}

/* mqtt-config: TLS (a CA made here, the broker's certificate for
 * 127.0.0.1, checked) and a password; a wrong password and a plain-TCP
 * client are refused with errors that say so. */
GST_START_TEST (test_tls_and_password_from_mqtt_config)
{
  gchar *dir = test_dir ();
  gchar *ca = g_build_filename (dir, "ca.crt", NULL);
  gchar *security, *good, *bad, *props, *text;
  Broker b;
  Subscriber *s;
  PubHarness p;
  GstElement *pub;
  guint frames[5];

  run_or_fail (dir, "openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
      "-keyout ca.key -out ca.crt -subj /CN=imgrec-test-ca 2>/dev/null && "
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
      "-subj /CN=127.0.0.1 2>/dev/null && "
      "printf 'subjectAltName=IP:127.0.0.1\n' > ext.cnf && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
      "-CAcreateserial -days 1 -extfile ext.cnf -out server.crt 2>/dev/null && "
      "mosquitto_passwd -b -c passwd camera-7 s3cret");
  security = g_strdup_printf ("cafile %s/ca.crt\ncertfile %s/server.crt\n"
      "keyfile %s/server.key\nallow_anonymous false\npassword_file %s/passwd\n",
      dir, dir, dir, dir);
  b = broker_start_with (dir, security);
  s = sub_start_with (b.port, ca, "camera-7", "s3cret");

  good = g_build_filename (dir, "mqtt.conf", NULL);
  text = g_strdup_printf ("# the site's broker\nusername = camera-7\n"
      "password = s3cret\ncafile = %s\ntls-version = tlsv1.2\nqos = 1\n", ca);
  fail_unless (g_file_set_contents (good, text, -1, NULL));
  g_free (text);
  props = g_strdup_printf ("method=mqtt address=127.0.0.1:%u topic=" TOPIC
      " mqtt-config=\"%s\"", b.port, good);
  p = pub_harness (dir, props);
  pub = gst_object_ref (p.pub);
  pub_push (&p, 0, 5);
  fail_unless (gst_harness_push_event (p.h, gst_event_new_eos ()));
  fail_unless_equals_uint64 (pub_stat (pub, "sent"), 5);
  sub_wait (s, 5, 10);
  check_messages (s, p.json_path, range (frames, 0, 0, 5), 5, NULL);
  pub_teardown (&p);
  gst_object_unref (pub);
  g_free (props);

  /* the wrong password (JSON form): refused, named */
  bad = g_build_filename (dir, "bad.json", NULL);
  text = g_strdup_printf ("{\"username\": \"camera-7\", \"password\": "
      "\"wrong\", \"cafile\": \"%s\"}", ca);
  fail_unless (g_file_set_contents (bad, text, -1, NULL));
  g_free (text);
  props = g_strdup_printf ("method=mqtt address=127.0.0.1:%u topic=" TOPIC
      " mqtt-config=\"%s\" max-connect-attempts=2", b.port, bad);
  p = pub_harness (dir, props);
  /* the error may come before or after this frame */
  gst_harness_push (p.h, colour_frame (0));
  text = wait_error (p.bus, 10);
  fail_unless (text && strstr (text, "refused the connection")
      && strstr (text, "not authorised") && strstr (text, "2 attempt(s)"),
      "error: %s", text);
  g_free (text);
  pub_teardown (&p);
  g_free (props);

  /* no TLS towards a TLS listener, the one attempt of the default: no
   * connection, an error; when the broker answers at once the state change
   * itself fails with it (start waits briefly for that one attempt) */
  {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 ! imgrecpublish "
        "method=mqtt address=127.0.0.1:%u topic=" TOPIC " ! fakesink", b.port);
    GstElement *pipe = gst_parse_launch (desc, NULL);
    GstBus *bus;

    fail_unless (pipe != NULL, "%s", desc);
    bus = gst_element_get_bus (pipe);
    gst_element_set_state (pipe, GST_STATE_PLAYING);
    text = wait_error (bus, 15);
    fail_unless (text && strstr (text, "Could not connect"), "error: %s", text);
    g_free (text);
    gst_element_set_state (pipe, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (pipe);
    g_free (desc);
  }

  sub_free (s);
  broker_free (&b);
  g_free (security);
  g_free (good);
  g_free (bad);
  g_free (ca);
  g_free (dir);
}

GST_END_TEST;

static Suite *
imgrecpublish_mqtt_suite (void)
{
  Suite *s = suite_create ("imgrecpublish-mqtt");
  TCase *tc = tcase_create ("mosquitto");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_every_frame_arrives_in_order_with_its_content);
  tcase_add_test (tc, test_broker_restart_drop_new_keeps_first_of_outage);
  tcase_add_test (tc, test_broker_restart_drop_oldest_keeps_last_of_outage);
  tcase_add_test (tc, test_broker_stopped_mid_stream_loses_nothing);
  tcase_add_test (tc, test_block_holds_the_streaming_thread_until_room);
  tcase_add_test (tc, test_eos_flush_is_bounded_by_flush_timeout);
  tcase_add_test (tc, test_tls_and_password_from_mqtt_config);
  return s;
}

int
main (int argc, char **argv)
{
  static const gchar *candidates[] = { "/usr/sbin/mosquitto",
    "/usr/local/sbin/mosquitto", NULL
  };
  const gchar **c;

  broker_binary = g_getenv ("IMGREC_MOSQUITTO");
  for (c = candidates; broker_binary == NULL && *c; c++)
    if (g_file_test (*c, G_FILE_TEST_IS_EXECUTABLE))
      broker_binary = *c;
  if (broker_binary == NULL)
    broker_binary = g_find_program_in_path ("mosquitto");
  if (broker_binary == NULL) {
    g_print ("SKIP: no mosquitto broker (Debian package mosquitto)\n");
    return 77;
  }
  mosquitto_lib_init ();
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (imgrecpublish_mqtt_suite (), "imgrecpublish-mqtt",
      __FILE__);
}
