/* imgrecpublish: sends each frame's imgrec results as a JSON message to a
 * file, an MQTT broker or a Kafka cluster.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrecpublish
 * @title: imgrecpublish
 *
 * A pass-through element (it can sit before any sink) that turns the imgrec
 * results of every video frame into one JSON message and publishes it with
 * #GstImgRecPublish:method: to a file (JSON Lines or one JSON array), to an
 * MQTT broker (libmosquitto) or to a Kafka cluster (librdkafka).  Property
 * names follow DL Streamer's `gvametapublish`.
 *
 * Each message is the object `imgrecjson` writes for the frame (the same
 * writer: `frame`, `timestamp`, `stream-time`, `running-time`, `duration`,
 * `width`, `height`, `format`, `results`, `rois`; see docs/metadata.md),
 * followed by `source` (the #GstImgRecPublish:source string, when set) and
 * `tags` (a copy of the #GstImgRecPublish:tags JSON object, when set).
 * Without `source` and `tags` a message is byte for byte the line imgrecjson
 * writes.  With #GstImgRecPublish:format `gva` the message has DL Streamer
 * gvametaconvert's layout instead (`objects`, `tensors`, `resolution`,
 * `timestamp`; see imgrecjson's manual), then `source` and `tags`, as
 * gvametapublish sends it.
 *
 * ## Nothing is lost silently
 *
 * Messages go through a bounded queue to a publisher thread, so a slow or
 * unreachable broker never blocks the streaming thread (unless
 * #GstImgRecPublish:overflow-policy is `block`).  A message stays queued —
 * and counts against #GstImgRecPublish:max-queue messages and
 * #GstImgRecPublish:max-queue-bytes bytes — until the broker has
 * acknowledged it (MQTT: PUBACK at QoS 1, the default; Kafka: the delivery
 * report; file: written).  When the connection is lost, the queue holds
 * the messages and the element reconnects with exponential back-off
 * (100 ms doubling up to #GstImgRecPublish:max-reconnect-interval); after
 * reconnecting, the messages are sent again in order (at least once: one
 * the broker had received but not acknowledged may arrive twice).  When the
 * queue is full, #GstImgRecPublish:overflow-policy decides: `drop-oldest`
 * discards the oldest message not yet handed to the transport, `drop-new`
 * discards the new one, `block` makes the streaming thread wait for room
 * (back-pressure into the pipeline).  Every dropped message is counted in
 * #GstImgRecPublish:stats and reported by a warning message (at most one a
 * second while drops go on, each with the running total, and a last one
 * when the stream ends or the element stops).  On EOS the element waits
 * until the queue is empty, at most #GstImgRecPublish:flush-timeout, before
 * EOS goes downstream (a warning says how many messages were still queued).
 * Stopping without EOS waits the same way while the link is up (or the
 * first connection attempt is under way); messages still queued when the
 * element stops are counted as dropped.
 *
 * The first connection must succeed within #GstImgRecPublish:max-connect-
 * attempts attempts, or the element fails with an error naming the address
 * and the reason; a link that has worked once is never given up on.
 *
 * ## Properties
 *
 * - `method`: `file` (default), `mqtt` or `kafka`.  Asking for a method the
 *   plugin was built without (no libmosquitto-dev / librdkafka-dev at build
 *   time) is an error when the element starts.
 * - `file-path`: the file (method=file); `stdout` or `-`: standard output.
 * - `file-format`: `json-lines` (one message a line, default) or `json` (one
 *   JSON array of the messages, closed when the element stops).
 * - `address`: MQTT `host:port` (port 1883 when omitted; `[v6addr]:port`),
 *   Kafka bootstrap servers `host:port[,host:port…]`.
 * - `topic`: MQTT topic or Kafka topic (required for mqtt and kafka).
 * - `mqtt-client-id`: MQTT client id (default `imgrec-` and a random UUID).
 * - `mqtt-config`: a file of MQTT settings, `key=value` lines (`#`
 *   comments) or one JSON object: `username`, `password`, `cafile`,
 *   `capath`, `certfile`, `keyfile` (TLS is on when `cafile` or `capath` is
 *   set), `tls-version` (e.g. `tlsv1.2`), `tls-insecure` (true: do not
 *   check the server's host name), `ciphers`, `keepalive` (seconds, default
 *   60), `qos` (0, 1 — default — or 2), `retain` (boolean).  An unknown
 *   key, a bad value or an unreadable file is an error at start.
 * - `max-connect-attempts`: failed attempts before the first connection
 *   that make the element fail (default 1; 0: try for ever).  With 1, start
 *   waits up to 250 ms for that attempt: a broker that refuses at once fails
 *   the state change itself, with the error; a slower one is awaited in the
 *   background as with more attempts.
 * - `max-reconnect-interval`: longest wait between connection attempts, in
 *   seconds (default 30); Kafka: librdkafka's `reconnect.backoff.max.ms`.
 * - `source`: the camera's name, copied into every message as `source` and
 *   used as the Kafka message key (one camera's messages stay in order on
 *   one partition).
 * - `tags`: a JSON object copied into every message as `tags`.
 * - `format`: `imgrec` (default: imgrecjson's layout) or `gva`
 *   (gvametaconvert's layout).
 * - `max-queue`: most messages queued (default 1000).
 * - `max-queue-bytes`: most payload bytes queued (default 16 MiB; one
 *   message larger than that is still queued when the queue is empty).
 * - `overflow-policy`: `drop-oldest` (default), `drop-new` or `block`.
 * - `flush-timeout`: how long EOS waits for the queue to empty, in
 *   nanoseconds (default 10 s).
 * - `stats`: read-only #GstStructure `imgrec-publish-stats`: `method`
 *   (string), `connected` (boolean), `sent` (messages acknowledged),
 *   `sent-bytes`, `queued` (messages in the queue now, in flight included),
 *   `queued-bytes`, `in-flight`, `dropped` (every message lost: overflow,
 *   rejected by the broker, left at stop), `dropped-overflow`, `rejected`,
 *   `reconnects` (links re-established after a loss), `connect-failures`
 *   (failed attempts), `blocked` (times the streaming thread waited for
 *   room) (all guint64 but `method` and `connected`).
 *
 * ## Warning messages
 *
 * Warnings carry a details structure (gst_message_parse_warning_details())
 * with `event` (string): `dropped` with `dropped` (guint64, the total so
 * far) when messages were dropped; `disconnected` with `address` and
 * `reason` (strings) when an established link is lost.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! imgrecclassify model=model.onnx ! \
 *     imgrecpublish method=mqtt address=127.0.0.1:1883 topic=imgrec/cam1 \
 *     source=cam1 tags='{"site":"depot"}' ! fakesink
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! \
 *     imgrecclassify model=model.onnx ! imgrecpublish method=kafka \
 *     address=kafka1:9092,kafka2:9092 topic=imgrec source=cam1 ! fakesink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecpublish.h"
#include "gstimgrecpublishtransport.h"
#include "gstimgrecjson.h"
#include "gstimgrecgva.h"
#include "gstimgrecproperty.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_publish_debug);
#define GST_CAT_DEFAULT gst_imgrec_publish_debug

#define DEFAULT_METHOD GST_IMGREC_PUBLISH_METHOD_FILE
#define DEFAULT_FILE_PATH "stdout"
#define DEFAULT_FILE_FORMAT GST_IMGREC_PUBLISH_FILE_FORMAT_JSON_LINES
#define DEFAULT_MAX_CONNECT_ATTEMPTS 1
#define DEFAULT_MAX_RECONNECT_INTERVAL 30
#define DEFAULT_MAX_QUEUE 1000
#define DEFAULT_MAX_QUEUE_BYTES (16 * 1024 * 1024)
#define DEFAULT_OVERFLOW GST_IMGREC_PUBLISH_OVERFLOW_DROP_OLDEST
#define DEFAULT_FLUSH_TIMEOUT (10 * GST_SECOND)
/* How long start () waits for the only connection attempt's outcome. */
#define START_CONNECT_WAIT_US (250 * G_TIME_SPAN_MILLISECOND)

/* first wait after a failed attempt or a lost link; doubles */
#define INITIAL_BACKOFF_US (100 * G_TIME_SPAN_MILLISECOND)
/* a connection attempt without an answer for this long has failed */
#define CONNECT_TIMEOUT_US (10 * G_TIME_SPAN_SECOND)
/* drop warnings while drops go on: at most one this often */
#define DROP_WARNING_INTERVAL_US G_TIME_SPAN_SECOND

enum
{
  PROP_0,
  PROP_METHOD,
  PROP_FILE_PATH,
  PROP_FILE_FORMAT,
  PROP_ADDRESS,
  PROP_TOPIC,
  PROP_MQTT_CLIENT_ID,
  PROP_MQTT_CONFIG,
  PROP_MAX_CONNECT_ATTEMPTS,
  PROP_MAX_RECONNECT_INTERVAL,
  PROP_SOURCE,
  PROP_TAGS,
  PROP_MAX_QUEUE,
  PROP_MAX_QUEUE_BYTES,
  PROP_OVERFLOW_POLICY,
  PROP_FLUSH_TIMEOUT,
  PROP_STATS,
  PROP_FORMAT,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

typedef enum
{
  LINK_DOWN,                    /* a connection attempt is due at next_attempt */
  LINK_CONNECTING,
  LINK_UP,
  LINK_FAILED,                  /* fatal error posted; nothing more is sent */
} LinkState;

struct _GstImgRecPublish
{
  GstBaseTransform parent;

  /* properties (object lock) */
  GstImgRecPublishMethod method;
  gchar *file_path;
  GstImgRecPublishFileFormat file_format;
  gchar *address;
  gchar *topic;
  gchar *mqtt_client_id;
  gchar *mqtt_config;
  guint max_connect_attempts;
  guint max_reconnect_interval;
  gchar *source;
  gchar *tags;
  guint max_queue;
  guint64 max_queue_bytes;
  GstImgRecPublishOverflow overflow;
  GstClockTime flush_timeout;
  GstImgRecJsonFormat format;

  /* streaming thread */
  GstVideoInfo info;
  gboolean have_info;
  guint64 frames;
  JsonNode *tags_node;
  GstImgRecJsonFormat format_now;

  /* set at start, constant while running */
  GstImgRecPublishConfig config;
  guint queue_limit;
  guint64 queue_limit_bytes;
  guint window;
  GstImgRecPublishTransport *transport;
  GThread *thread;
  gint wake_fds[2];

  /* the queue, the link and the counters (lock, cond) */
  GMutex lock;
  GCond cond;
  GQueue queue;                 /* GstImgRecPublishMessage, oldest first */
  guint64 queued_bytes;
  guint in_flight;
  LinkState link;
  gboolean connected;
  gboolean ever_connected;
  guint failed_attempts;        /* in a row */
  gint64 backoff_us;
  gint64 next_attempt_us;
  gint64 connect_started_us;
  gboolean flushing;
  gboolean thread_stop;
  guint64 sent, sent_bytes, dropped_overflow, rejected, dropped_at_stop;
  guint64 reconnects, connect_failures, blocked;
  guint64 drops_reported;
  gint64 last_drop_warning_us;
};

#define DROPPED(self) ((self)->dropped_overflow + (self)->rejected + \
    (self)->dropped_at_stop)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));

#define gst_imgrec_publish_parent_class parent_class
G_DEFINE_TYPE (GstImgRecPublish, gst_imgrec_publish, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (imgrecpublish, "imgrecpublish", GST_RANK_NONE,
    GST_TYPE_IMGREC_PUBLISH);

#define GST_TYPE_IMGREC_PUBLISH_METHOD (gst_imgrec_publish_method_get_type ())
static GType
gst_imgrec_publish_method_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_PUBLISH_METHOD_FILE, "Write to a file", "file"},
    {GST_IMGREC_PUBLISH_METHOD_MQTT, "Publish to an MQTT broker", "mqtt"},
    {GST_IMGREC_PUBLISH_METHOD_KAFKA, "Produce to a Kafka cluster", "kafka"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstImgRecPublishMethod", values));
  return type;
}

#define GST_TYPE_IMGREC_PUBLISH_FILE_FORMAT \
  (gst_imgrec_publish_file_format_get_type ())
static GType
gst_imgrec_publish_file_format_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_PUBLISH_FILE_FORMAT_JSON_LINES, "One message a line",
        "json-lines"},
    {GST_IMGREC_PUBLISH_FILE_FORMAT_JSON, "One JSON array of the messages",
        "json"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstImgRecPublishFileFormat", values));
  return type;
}

#define GST_TYPE_IMGREC_PUBLISH_OVERFLOW (gst_imgrec_publish_overflow_get_type ())
static GType
gst_imgrec_publish_overflow_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_PUBLISH_OVERFLOW_DROP_OLDEST,
        "Discard the oldest message not yet handed to the transport",
        "drop-oldest"},
    {GST_IMGREC_PUBLISH_OVERFLOW_DROP_NEW, "Discard the new message",
        "drop-new"},
    {GST_IMGREC_PUBLISH_OVERFLOW_BLOCK,
        "Wait for room (back-pressure into the pipeline)", "block"},
    {0, NULL, NULL}
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type,
        g_enum_register_static ("GstImgRecPublishOverflow", values));
  return type;
}

static const gchar *
method_name (GstImgRecPublishMethod m)
{
  return m == GST_IMGREC_PUBLISH_METHOD_MQTT ? "mqtt" :
      m == GST_IMGREC_PUBLISH_METHOD_KAFKA ? "kafka" : "file";
}

static const gchar *
broker_kind (GstImgRecPublishMethod m)
{
  return m == GST_IMGREC_PUBLISH_METHOD_KAFKA ? "Kafka" : "MQTT";
}

/* a library's reason without its final full stop, to end our sentence */
static gchar *
reason_text (const gchar * reason)
{
  gchar *r = g_strdup (reason ? reason : "unknown reason");
  gsize n = strlen (r);
  while (n > 0 && (r[n - 1] == '.' || g_ascii_isspace (r[n - 1])))
    r[--n] = '\0';
  return r;
}

/* ---- addresses --------------------------------------------------------- */

gboolean
gst_imgrec_publish_parse_address (const gchar * address, guint default_port,
    gchar ** host, guint * port, GError ** error)
{
  const gchar *colon = NULL, *host_start = address, *host_end;
  guint64 p = default_port;

  if (address == NULL || *address == '\0')
    goto bad;
  if (address[0] == '[') {
    host_start = address + 1;
    host_end = strchr (host_start, ']');
    if (host_end == NULL || host_end == host_start)
      goto bad;
    if (host_end[1] == ':')
      colon = host_end + 1;
    else if (host_end[1] != '\0')
      goto bad;
  } else {
    colon = strrchr (address, ':');
    if (colon && strchr (address, ':') != colon)
      goto bad;                 /* a bare IPv6 address needs brackets */
    host_end = colon ? colon : address + strlen (address);
    if (host_end == host_start)
      goto bad;
  }
  if (colon) {
    gchar *end = NULL;
    if (colon[1] == '\0' || !g_ascii_isdigit (colon[1]))
      goto bad;
    p = g_ascii_strtoull (colon + 1, &end, 10);
    if (*end != '\0' || p == 0 || p > 65535)
      goto bad;
  }
  *host = g_strndup (host_start, host_end - host_start);
  *port = (guint) p;
  return TRUE;

bad:
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "\"%s\" is not an address: use host:port (e.g. 127.0.0.1:1883, "
      "[::1]:1883)", address ? address : "");
  return FALSE;
}

/* ---- the queue --------------------------------------------------------- */

static void
message_free (GstImgRecPublishMessage * m)
{
  g_free (m->payload);
  g_free (m);
}

/* lock held */
static void
remove_message (GstImgRecPublish * self, GstImgRecPublishMessage * m)
{
  g_queue_delete_link (&self->queue, m->link);
  self->queued_bytes -= m->len;
  if (m->in_flight)
    self->in_flight--;
  message_free (m);
  g_cond_broadcast (&self->cond);
}

static void
wake_thread (GstImgRecPublish * self)
{
  const gchar c = 'w';
  if (self->wake_fds[1] >= 0 && write (self->wake_fds[1], &c, 1) < 0
      && errno != EAGAIN)
    GST_WARNING_OBJECT (self, "wake-up pipe: %s", g_strerror (errno));
}

static void
drain_wakeups (gint fd)
{
  gchar buf[64];
  while (read (fd, buf, sizeof buf) > 0);
}

/* Posts a drop warning when messages were dropped since the last one and
 * the last is older than DROP_WARNING_INTERVAL_US (or @force). */
static void
report_drops (GstImgRecPublish * self, gboolean force, const gchar * when)
{
  guint64 total, fresh;
  gint64 now = g_get_monotonic_time ();
  guint limit;
  guint64 limit_bytes;

  g_mutex_lock (&self->lock);
  total = DROPPED (self);
  fresh = total - self->drops_reported;
  if (fresh == 0 || (!force && self->last_drop_warning_us != 0
          && now - self->last_drop_warning_us < DROP_WARNING_INTERVAL_US)) {
    g_mutex_unlock (&self->lock);
    return;
  }
  self->drops_reported = total;
  self->last_drop_warning_us = now;
  limit = self->queue_limit;
  limit_bytes = self->queue_limit_bytes;
  g_mutex_unlock (&self->lock);

  GST_ELEMENT_WARNING_WITH_DETAILS (self, RESOURCE, WRITE,
      ("%" G_GUINT64_FORMAT " result message(s) dropped%s (%" G_GUINT64_FORMAT
          " in all): the publish queue (max-queue %u messages, max-queue-bytes %"
          G_GUINT64_FORMAT ") was full or the broker refused them.", fresh,
          when ? when : "", total, limit, limit_bytes),
      ("see the stats property"),
      ("event", G_TYPE_STRING, "dropped", "dropped", G_TYPE_UINT64, total,
          NULL));
}

/* ---- callbacks from the transports (publisher thread) ------------------- */

void
gst_imgrec_publish_link_up (GstImgRecPublish * self)
{
  g_mutex_lock (&self->lock);
  if (self->link != LINK_FAILED)
    self->link = LINK_UP;
  if (!self->connected && self->ever_connected)
    self->reconnects++;
  self->connected = TRUE;
  self->ever_connected = TRUE;
  self->failed_attempts = 0;
  self->backoff_us = 0;
  g_cond_broadcast (&self->cond);       /* start () may wait for this */
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self, "connected to %s", self->config.address);
}

static void
schedule_attempt (GstImgRecPublish * self)
{
  gint64 max_us = (gint64) self->config.max_reconnect_interval *
      G_TIME_SPAN_SECOND;

  self->backoff_us = self->backoff_us == 0 ? INITIAL_BACKOFF_US :
      MIN (self->backoff_us * 2, max_us);
  self->backoff_us = MIN (self->backoff_us, max_us);
  self->next_attempt_us = g_get_monotonic_time () + self->backoff_us;
}

void
gst_imgrec_publish_connect_failed (GstImgRecPublish * self,
    const gchar * reason)
{
  guint attempts, max;
  gboolean fatal;

  GST_OBJECT_LOCK (self);
  max = self->max_connect_attempts;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  self->connect_failures++;
  attempts = ++self->failed_attempts;
  fatal = !self->ever_connected && max > 0 && attempts >= max;
  if (fatal) {
    self->link = LINK_FAILED;
    g_cond_broadcast (&self->cond);
  } else if (self->link != LINK_FAILED) {
    self->link = LINK_DOWN;
    schedule_attempt (self);
  }
  g_mutex_unlock (&self->lock);

  if (fatal) {
    gchar *why = reason_text (reason);
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Could not connect to the %s broker at %s after %u attempt(s): %s.",
            broker_kind (self->method), self->config.address, attempts,
            why), ("max-connect-attempts=%u", max));
    g_free (why);
  } else {
    GST_INFO_OBJECT (self, "connection attempt %u to %s failed: %s; next in "
        "%" G_GINT64_FORMAT " ms", attempts, self->config.address, reason,
        self->backoff_us / 1000);
  }
}

/* lock held: the transport forgot what it had in flight */
static void
requeue_in_flight (GstImgRecPublish * self)
{
  GList *l;

  for (l = self->queue.head; l; l = l->next)
    ((GstImgRecPublishMessage *) l->data)->in_flight = FALSE;
  self->in_flight = 0;
}

void
gst_imgrec_publish_link_down (GstImgRecPublish * self, const gchar * reason,
    gboolean requeue)
{
  gboolean was_connected;

  g_mutex_lock (&self->lock);
  was_connected = self->connected;
  self->connected = FALSE;
  if (requeue) {
    requeue_in_flight (self);
    if (self->link != LINK_FAILED) {
      self->link = LINK_DOWN;
      self->backoff_us = 0;
      schedule_attempt (self);
    }
  }
  g_mutex_unlock (&self->lock);

  if (was_connected) {
    gchar *why = reason_text (reason);
    GST_ELEMENT_WARNING_WITH_DETAILS (self, RESOURCE, WRITE,
        ("Lost the connection to the %s broker at %s (%s); queuing results "
            "and reconnecting.", broker_kind (self->method),
            self->config.address, why), (NULL),
        ("event", G_TYPE_STRING, "disconnected", "address", G_TYPE_STRING,
            self->config.address, "reason", G_TYPE_STRING, why, NULL));
    g_free (why);
  }
}

void
gst_imgrec_publish_acked (GstImgRecPublish * self, GstImgRecPublishMessage * m)
{
  g_mutex_lock (&self->lock);
  self->sent++;
  self->sent_bytes += m->len;
  remove_message (self, m);
  g_mutex_unlock (&self->lock);
}

void
gst_imgrec_publish_rejected (GstImgRecPublish * self,
    GstImgRecPublishMessage * m, const gchar * reason)
{
  guint64 frame = m->frame;

  g_mutex_lock (&self->lock);
  self->rejected++;
  remove_message (self, m);
  g_mutex_unlock (&self->lock);
  GST_WARNING_OBJECT (self, "message of frame %" G_GUINT64_FORMAT
      " refused: %s", frame, reason);
  report_drops (self, TRUE, " (refused by the broker)");
}

void
gst_imgrec_publish_fatal (GstImgRecPublish * self, const gchar * reason)
{
  g_mutex_lock (&self->lock);
  self->link = LINK_FAILED;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", reason), (NULL));
}

/* ---- the publisher thread ---------------------------------------------- */

static gpointer
publisher_thread (gpointer data)
{
  GstImgRecPublish *self = data;
  GstImgRecPublishTransport *t = self->transport;
  GPtrArray *batch = g_ptr_array_new ();

  for (;;) {
    gint64 now, wait_us = G_TIME_SPAN_SECOND;
    gboolean attempt = FALSE;
    LinkState link;
    guint i;

    g_mutex_lock (&self->lock);
    link = self->link;
    if (self->thread_stop || link == LINK_FAILED) {
      g_mutex_unlock (&self->lock);
      break;
    }
    now = g_get_monotonic_time ();
    switch (link) {
      case LINK_DOWN:
        if (now >= self->next_attempt_us) {
          self->link = LINK_CONNECTING;
          self->connect_started_us = now;
          attempt = TRUE;
        } else {
          wait_us = self->next_attempt_us - now;
        }
        break;
      case LINK_CONNECTING:
        wait_us = self->connect_started_us + CONNECT_TIMEOUT_US - now;
        break;
      case LINK_UP:{
        GList *l;
        for (l = self->queue.head; l && self->in_flight < self->window;
            l = l->next) {
          GstImgRecPublishMessage *m = l->data;
          if (!m->in_flight) {
            m->in_flight = TRUE;
            self->in_flight++;
            g_ptr_array_add (batch, m);
          }
        }
        break;
      }
      case LINK_FAILED:
        break;
    }
    g_mutex_unlock (&self->lock);

    if (attempt) {
      gchar *reason = NULL;
      if (!t->klass->connect (t, &reason))
        gst_imgrec_publish_connect_failed (self, reason ? reason : "failed");
      g_free (reason);
      continue;
    }
    if (link == LINK_CONNECTING && wait_us <= 0) {
      if (t->klass->disconnect)
        t->klass->disconnect (t);       /* give the attempt up */
      g_mutex_lock (&self->lock);
      requeue_in_flight (self);
      g_mutex_unlock (&self->lock);
      gst_imgrec_publish_connect_failed (self, "no answer from the broker "
          "within 10 s");
      continue;
    }

    for (i = 0; i < batch->len; i++) {
      GstImgRecPublishMessage *m = g_ptr_array_index (batch, i);
      if (!t->klass->send (t, m)) {
        /* not taken: it and everything after it stay queued, in order */
        g_mutex_lock (&self->lock);
        for (; i < batch->len; i++) {
          m = g_ptr_array_index (batch, i);
          if (m->in_flight) {
            m->in_flight = FALSE;
            self->in_flight--;
          }
        }
        g_mutex_unlock (&self->lock);
        wait_us = MIN (wait_us, 10 * G_TIME_SPAN_MILLISECOND);
        break;
      }
    }
    g_ptr_array_set_size (batch, 0);

    t->klass->poll (t, self->wake_fds[0],
        (gint) CLAMP ((wait_us + 999) / 1000, 0, 1000));
    drain_wakeups (self->wake_fds[0]);
  }
  g_ptr_array_free (batch, TRUE);
  return NULL;
}

/* ---- start / stop ------------------------------------------------------ */

static const GstImgRecPublishTransportClass *
find_transport (GstImgRecPublish * self, GstImgRecPublishMethod method)
{
  switch (method) {
    case GST_IMGREC_PUBLISH_METHOD_FILE:
      return &gst_imgrec_publish_file_transport;
    case GST_IMGREC_PUBLISH_METHOD_MQTT:
#ifdef IMGREC_HAVE_MQTT
      return &gst_imgrec_publish_mqtt_transport;
#else
      GST_ELEMENT_ERROR (self, CORE, NOT_IMPLEMENTED,
          ("method=mqtt is not available: this imgrec plugin was built "
              "without libmosquitto (install libmosquitto-dev and rebuild; "
              "meson option -Dmqtt=enabled makes it required)."), (NULL));
      return NULL;
#endif
    case GST_IMGREC_PUBLISH_METHOD_KAFKA:
#ifdef IMGREC_HAVE_KAFKA
      return &gst_imgrec_publish_kafka_transport;
#else
      GST_ELEMENT_ERROR (self, CORE, NOT_IMPLEMENTED,
          ("method=kafka is not available: this imgrec plugin was built "
              "without librdkafka (install librdkafka-dev and rebuild; "
              "meson option -Dkafka=enabled makes it required)."), (NULL));
      return NULL;
#endif
  }
  return NULL;
}

static void
config_clear (GstImgRecPublishConfig * c)
{
  g_free (c->element_name);
  g_free (c->file_path);
  g_free (c->address);
  g_free (c->topic);
  g_free (c->client_id);
  g_free (c->mqtt_config);
  g_free (c->source);
  memset (c, 0, sizeof *c);
}

static gboolean gst_imgrec_publish_stop (GstBaseTransform * trans);

/* With one connection attempt allowed (the default), waits up to
 * START_CONNECT_WAIT_US for its outcome and says whether it failed.  A
 * broker that refuses at once (wrong port, nothing listening) then fails
 * the state change instead of posting the error from the publisher thread
 * a moment later: gst-launch-1.0 1.22 loses an error posted before its main
 * loop runs and hung (1 run in 8).  A slower answer keeps the connection
 * asynchronous. */
static gboolean
start_fails_fast (GstImgRecPublish * self)
{
  gint64 deadline = g_get_monotonic_time () + START_CONNECT_WAIT_US;
  gboolean failed;
  guint max;

  GST_OBJECT_LOCK (self);
  max = self->max_connect_attempts;
  GST_OBJECT_UNLOCK (self);
  if (max != 1)
    return FALSE;
  g_mutex_lock (&self->lock);
  while (self->link != LINK_FAILED && !self->connected)
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline))
      break;
  failed = self->link == LINK_FAILED;
  g_mutex_unlock (&self->lock);
  if (failed) {
    /* the thread posts the error after marking the link: let it finish */
    g_thread_join (self->thread);
    self->thread = NULL;
  }
  return failed;
}

static gboolean
gst_imgrec_publish_start (GstBaseTransform * trans)
{
  GstImgRecPublish *self = GST_IMGREC_PUBLISH (trans);
  const GstImgRecPublishTransportClass *klass;
  GstImgRecPublishConfig *c = &self->config;
  GstImgRecPublishMethod method;
  gchar *tags;
  GError *error = NULL;

  config_clear (c);
  GST_OBJECT_LOCK (self);
  method = self->method;
  c->element_name = g_strdup (GST_OBJECT_NAME (self));
  c->file_path = g_strdup (self->file_path);
  c->file_json_array = self->file_format == GST_IMGREC_PUBLISH_FILE_FORMAT_JSON;
  c->address = g_strdup (self->address);
  c->topic = g_strdup (self->topic);
  c->client_id = self->mqtt_client_id && *self->mqtt_client_id ?
      g_strdup (self->mqtt_client_id) : NULL;
  c->mqtt_config = self->mqtt_config && *self->mqtt_config ?
      g_strdup (self->mqtt_config) : NULL;
  c->source = self->source && *self->source ? g_strdup (self->source) : NULL;
  c->max_reconnect_interval = self->max_reconnect_interval;
  tags = self->tags && *self->tags ? g_strdup (self->tags) : NULL;
  self->queue_limit = self->max_queue;
  self->queue_limit_bytes = self->max_queue_bytes;
  self->format_now = self->format;
  GST_OBJECT_UNLOCK (self);

  if (c->client_id == NULL) {
    gchar *uuid = g_uuid_string_random ();
    c->client_id = g_strconcat ("imgrec-", uuid, NULL);
    g_free (uuid);
  }

  g_clear_pointer (&self->tags_node, json_node_unref);
  if (tags) {
    JsonParser *parser = json_parser_new ();
    if (!json_parser_load_from_data (parser, tags, -1, &error)
        || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("tags must be a JSON object, e.g. {\"site\":\"depot\"}; got "
              "'%s'%s%s.", tags, error ? ": " : "",
              error ? error->message : ""), (NULL));
      g_clear_error (&error);
      g_object_unref (parser);
      g_free (tags);
      return FALSE;
    }
    self->tags_node = json_node_copy (json_parser_get_root (parser));
    g_object_unref (parser);
    g_free (tags);
  }

  if (method != GST_IMGREC_PUBLISH_METHOD_FILE) {
    if (c->address == NULL || *c->address == '\0') {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("No address set: method=%s needs address=host:port.",
              method_name (method)), (NULL));
      return FALSE;
    }
    if (c->topic == NULL || *c->topic == '\0') {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("No topic set: method=%s needs a topic.", method_name (method)),
          (NULL));
      return FALSE;
    }
  } else if (c->file_path == NULL || *c->file_path == '\0') {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("No file-path set: set \"file-path\" to a file or \"stdout\"."),
        (NULL));
    return FALSE;
  }

  klass = find_transport (self, method);
  if (klass == NULL)
    return FALSE;
  self->transport = klass->open (self, c, &error);
  if (self->transport == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", error->message),
        (NULL));
    g_clear_error (&error);
    return FALSE;
  }
  self->window = MIN (klass->window, MAX (1, self->queue_limit / 2));

  if (!g_unix_open_pipe (self->wake_fds, FD_CLOEXEC, &error)) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Could not create the publisher's pipe: %s.", error->message),
        (NULL));
    g_clear_error (&error);
    klass->close (self->transport);
    self->transport = NULL;
    return FALSE;
  }
  g_unix_set_fd_nonblocking (self->wake_fds[0], TRUE, NULL);
  g_unix_set_fd_nonblocking (self->wake_fds[1], TRUE, NULL);

  g_mutex_lock (&self->lock);
  self->queued_bytes = 0;
  self->in_flight = 0;
  self->link = LINK_DOWN;
  self->next_attempt_us = 0;
  self->backoff_us = 0;
  self->connected = self->ever_connected = FALSE;
  self->failed_attempts = 0;
  self->flushing = FALSE;
  self->thread_stop = FALSE;
  self->sent = self->sent_bytes = self->dropped_overflow = 0;
  self->rejected = self->dropped_at_stop = 0;
  self->reconnects = self->connect_failures = self->blocked = 0;
  self->drops_reported = 0;
  self->last_drop_warning_us = 0;
  g_mutex_unlock (&self->lock);

  self->frames = 0;
  self->have_info = FALSE;
  self->thread = g_thread_new ("imgrecpublish", publisher_thread, self);
  if (method != GST_IMGREC_PUBLISH_METHOD_FILE && start_fails_fast (self)) {
    /* the publisher thread posted the error and left; the state change
     * fails with it, as for a file that cannot be opened */
    gst_imgrec_publish_stop (trans);
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_imgrec_publish_stop (GstBaseTransform * trans)
{
  GstImgRecPublish *self = GST_IMGREC_PUBLISH (trans);
  GstImgRecPublishMessage *m;
  guint left = 0;

  if (self->thread) {
    GstClockTime timeout;
    gint64 deadline;

    /* stopped without EOS: let what the link can still take go first
     * (also while the first connection attempt is under way) */
    GST_OBJECT_LOCK (self);
    timeout = self->flush_timeout;
    GST_OBJECT_UNLOCK (self);
    deadline = g_get_monotonic_time () + (gint64) MIN (timeout / 1000,
        (guint64) G_MAXINT64 / 2);
    g_mutex_lock (&self->lock);
    while (!g_queue_is_empty (&self->queue) && self->link != LINK_FAILED
        && (self->connected || (!self->ever_connected
                && self->failed_attempts == 0)))
      if (!g_cond_wait_until (&self->cond, &self->lock, deadline))
        break;
    self->thread_stop = TRUE;
    g_mutex_unlock (&self->lock);
    wake_thread (self);
    g_thread_join (self->thread);
    self->thread = NULL;
  }
  if (self->transport) {
    self->transport->klass->close (self->transport);
    self->transport = NULL;
  }

  g_mutex_lock (&self->lock);
  while ((m = g_queue_peek_head (&self->queue))) {
    self->dropped_at_stop++;
    left++;
    remove_message (self, m);
  }
  self->connected = FALSE;
  g_mutex_unlock (&self->lock);
  if (left)
    GST_WARNING_OBJECT (self, "%u messages still queued at stop", left);
  report_drops (self, TRUE, left ? " (still queued when the element "
      "stopped)" : NULL);

  if (self->wake_fds[0] >= 0) {
    close (self->wake_fds[0]);
    close (self->wake_fds[1]);
    self->wake_fds[0] = self->wake_fds[1] = -1;
  }
  g_clear_pointer (&self->tags_node, json_node_unref);
  return TRUE;
}

/* ---- streaming --------------------------------------------------------- */

static gboolean
gst_imgrec_publish_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstImgRecPublish *self = GST_IMGREC_PUBLISH (trans);

  self->have_info = gst_video_info_from_caps (&self->info, incaps);
  return TRUE;
}

static gchar *
frame_message (GstImgRecPublish * self, GstBuffer * buf)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  if (self->format_now == GST_IMGREC_JSON_FORMAT_GVA)
    gst_imgrec_gva_add_frame_members (b, buf,
        &GST_BASE_TRANSFORM (self)->segment,
        self->have_info ? &self->info : NULL);
  else
    gst_imgrec_json_add_frame_members (b, buf, self->frames,
        &GST_BASE_TRANSFORM (self)->segment,
        self->have_info ? &self->info : NULL);
  if (self->config.source) {
    json_builder_set_member_name (b, "source");
    json_builder_add_string_value (b, self->config.source);
  }
  if (self->tags_node) {
    json_builder_set_member_name (b, "tags");
    json_builder_add_value (b, json_node_copy (self->tags_node));
  }
  json_builder_end_object (b);
  return gst_imgrec_json_builder_finish (b);
}

/* lock held */
static gboolean
queue_full (GstImgRecPublish * self, gsize len)
{
  guint n = g_queue_get_length (&self->queue);
  return n >= self->queue_limit || (n > 0
      && self->queued_bytes + len > self->queue_limit_bytes);
}

static GstFlowReturn
gst_imgrec_publish_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstImgRecPublish *self = GST_IMGREC_PUBLISH (trans);
  GstImgRecPublishOverflow policy;
  GstImgRecPublishMessage *m;
  GstFlowReturn ret = GST_FLOW_OK;
  gboolean dropped = FALSE;

  GST_OBJECT_LOCK (self);
  policy = self->overflow;
  GST_OBJECT_UNLOCK (self);

  m = g_new0 (GstImgRecPublishMessage, 1);
  m->payload = frame_message (self, buf);
  m->len = strlen (m->payload);
  m->frame = self->frames++;

  g_mutex_lock (&self->lock);
  while (queue_full (self, m->len) && !dropped) {
    if (self->link == LINK_FAILED) {
      ret = GST_FLOW_ERROR;
      break;
    }
    if (policy == GST_IMGREC_PUBLISH_OVERFLOW_BLOCK) {
      if (self->flushing) {
        ret = GST_FLOW_FLUSHING;
        break;
      }
      self->blocked++;
      while (queue_full (self, m->len) && !self->flushing
          && self->link != LINK_FAILED)
        g_cond_wait (&self->cond, &self->lock);
      continue;
    }
    if (policy == GST_IMGREC_PUBLISH_OVERFLOW_DROP_OLDEST) {
      GList *l;
      for (l = self->queue.head; l; l = l->next)
        if (!((GstImgRecPublishMessage *) l->data)->in_flight)
          break;
      if (l) {
        self->dropped_overflow++;
        remove_message (self, l->data);
        continue;
      }
      /* everything queued is in flight: nothing older can go */
    }
    self->dropped_overflow++;
    dropped = TRUE;
  }
  if (self->link == LINK_FAILED)
    ret = GST_FLOW_ERROR;
  if (ret == GST_FLOW_OK && !dropped) {
    g_queue_push_tail (&self->queue, m);
    m->link = self->queue.tail;
    self->queued_bytes += m->len;
    m = NULL;
  }
  g_mutex_unlock (&self->lock);

  if (m)
    message_free (m);
  if (ret == GST_FLOW_OK) {
    wake_thread (self);
    report_drops (self, FALSE, NULL);
  }
  return ret;
}

/* EOS: wait (at most flush-timeout) until every queued message is sent. */
static void
flush_queue (GstImgRecPublish * self)
{
  GstClockTime timeout;
  gint64 deadline;
  guint left;

  GST_OBJECT_LOCK (self);
  timeout = self->flush_timeout;
  GST_OBJECT_UNLOCK (self);
  deadline = g_get_monotonic_time () + (gint64) MIN (timeout / 1000,
      (guint64) G_MAXINT64 / 2);

  g_mutex_lock (&self->lock);
  while (!g_queue_is_empty (&self->queue) && !self->flushing
      && self->link != LINK_FAILED && self->thread)
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline))
      break;
  left = g_queue_get_length (&self->queue);
  g_mutex_unlock (&self->lock);

  if (left)
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("%u result message(s) were not yet delivered to %s when the stream "
            "ended (flush-timeout %" GST_TIME_FORMAT "); they stay queued "
            "until the element stops.", left,
            self->config.address ? self->config.address : self->config.
            file_path, GST_TIME_ARGS (timeout)), (NULL));
  report_drops (self, TRUE, " before the end of the stream");
}

static gboolean
gst_imgrec_publish_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstImgRecPublish *self = GST_IMGREC_PUBLISH (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      g_mutex_lock (&self->lock);
      self->flushing = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->lock);
      self->flushing = FALSE;
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_EOS:
      flush_queue (self);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static GstStateChangeReturn
gst_imgrec_publish_change_state (GstElement * element,
    GstStateChange transition)
{
  GstImgRecPublish *self = GST_IMGREC_PUBLISH (element);

  /* a streaming thread waiting for room (block) or for the EOS flush must
   * let go before the pads deactivate */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    g_mutex_lock (&self->lock);
    self->flushing = TRUE;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

/* ---- properties -------------------------------------------------------- */

static GstStructure *
make_stats (GstImgRecPublish * self)
{
  GstStructure *s;

  g_mutex_lock (&self->lock);
  s = gst_structure_new ("imgrec-publish-stats",
      "method", G_TYPE_STRING, method_name (self->method),
      "connected", G_TYPE_BOOLEAN, self->connected,
      "sent", G_TYPE_UINT64, self->sent,
      "sent-bytes", G_TYPE_UINT64, self->sent_bytes,
      "queued", G_TYPE_UINT64, (guint64) g_queue_get_length (&self->queue),
      "queued-bytes", G_TYPE_UINT64, self->queued_bytes,
      "in-flight", G_TYPE_UINT64, (guint64) self->in_flight,
      "dropped", G_TYPE_UINT64, DROPPED (self),
      "dropped-overflow", G_TYPE_UINT64, self->dropped_overflow,
      "rejected", G_TYPE_UINT64, self->rejected,
      "reconnects", G_TYPE_UINT64, self->reconnects,
      "connect-failures", G_TYPE_UINT64, self->connect_failures,
      "blocked", G_TYPE_UINT64, self->blocked, NULL);
  g_mutex_unlock (&self->lock);
  return s;
}

static void
set_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

static void
gst_imgrec_publish_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecPublish *self = GST_IMGREC_PUBLISH (object);

  GST_OBJECT_LOCK (self);
  if (gst_imgrec_property_refuse_locked (GST_ELEMENT (self), pspec))
    return;
  switch (prop_id) {
    case PROP_METHOD:
      self->method = g_value_get_enum (value);
      break;
    case PROP_FILE_PATH:
      set_string (&self->file_path, value);
      break;
    case PROP_FILE_FORMAT:
      self->file_format = g_value_get_enum (value);
      break;
    case PROP_ADDRESS:
      set_string (&self->address, value);
      break;
    case PROP_TOPIC:
      set_string (&self->topic, value);
      break;
    case PROP_MQTT_CLIENT_ID:
      set_string (&self->mqtt_client_id, value);
      break;
    case PROP_MQTT_CONFIG:
      set_string (&self->mqtt_config, value);
      break;
    case PROP_MAX_CONNECT_ATTEMPTS:
      self->max_connect_attempts = g_value_get_uint (value);
      break;
    case PROP_MAX_RECONNECT_INTERVAL:
      self->max_reconnect_interval = g_value_get_uint (value);
      break;
    case PROP_SOURCE:
      set_string (&self->source, value);
      break;
    case PROP_TAGS:
      set_string (&self->tags, value);
      break;
    case PROP_MAX_QUEUE:
      self->max_queue = g_value_get_uint (value);
      break;
    case PROP_MAX_QUEUE_BYTES:
      self->max_queue_bytes = g_value_get_uint64 (value);
      break;
    case PROP_OVERFLOW_POLICY:
      self->overflow = g_value_get_enum (value);
      break;
    case PROP_FLUSH_TIMEOUT:
      self->flush_timeout = g_value_get_uint64 (value);
      break;
    case PROP_FORMAT:
      self->format = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);

  /* a blocked streaming thread re-checks a changed policy */
  if (prop_id == PROP_OVERFLOW_POLICY) {
    g_mutex_lock (&self->lock);
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }
}

static void
gst_imgrec_publish_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstImgRecPublish *self = GST_IMGREC_PUBLISH (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, make_stats (self));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_METHOD:
      g_value_set_enum (value, self->method);
      break;
    case PROP_FILE_PATH:
      g_value_set_string (value, self->file_path);
      break;
    case PROP_FILE_FORMAT:
      g_value_set_enum (value, self->file_format);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_TOPIC:
      g_value_set_string (value, self->topic);
      break;
    case PROP_MQTT_CLIENT_ID:
      g_value_set_string (value, self->mqtt_client_id);
      break;
    case PROP_MQTT_CONFIG:
      g_value_set_string (value, self->mqtt_config);
      break;
    case PROP_MAX_CONNECT_ATTEMPTS:
      g_value_set_uint (value, self->max_connect_attempts);
      break;
    case PROP_MAX_RECONNECT_INTERVAL:
      g_value_set_uint (value, self->max_reconnect_interval);
      break;
    case PROP_SOURCE:
      g_value_set_string (value, self->source);
      break;
    case PROP_TAGS:
      g_value_set_string (value, self->tags);
      break;
    case PROP_MAX_QUEUE:
      g_value_set_uint (value, self->max_queue);
      break;
    case PROP_MAX_QUEUE_BYTES:
      g_value_set_uint64 (value, self->max_queue_bytes);
      break;
    case PROP_OVERFLOW_POLICY:
      g_value_set_enum (value, self->overflow);
      break;
    case PROP_FLUSH_TIMEOUT:
      g_value_set_uint64 (value, self->flush_timeout);
      break;
    case PROP_FORMAT:
      g_value_set_enum (value, self->format);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_publish_finalize (GObject * object)
{
  GstImgRecPublish *self = GST_IMGREC_PUBLISH (object);

  g_free (self->file_path);
  g_free (self->address);
  g_free (self->topic);
  g_free (self->mqtt_client_id);
  g_free (self->mqtt_config);
  g_free (self->source);
  g_free (self->tags);
  config_clear (&self->config);
  g_clear_pointer (&self->tags_node, json_node_unref);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

#define READY_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
    GST_PARAM_MUTABLE_READY)
#define PLAYING_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | \
    GST_PARAM_MUTABLE_PLAYING)

static void
gst_imgrec_publish_class_init (GstImgRecPublishClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_publish_debug, "imgrecpublish", 0,
      "imgrec result publisher");

  gobject_class->set_property = gst_imgrec_publish_set_property;
  gobject_class->get_property = gst_imgrec_publish_get_property;
  gobject_class->finalize = gst_imgrec_publish_finalize;

  properties[PROP_METHOD] = g_param_spec_enum ("method", "Method",
      "Where the messages go: a file, an MQTT broker or a Kafka cluster",
      GST_TYPE_IMGREC_PUBLISH_METHOD, DEFAULT_METHOD, READY_FLAGS);
  properties[PROP_FILE_PATH] = g_param_spec_string ("file-path", "File path",
      "method=file: the file to write (\"stdout\" or \"-\": standard output)",
      DEFAULT_FILE_PATH, READY_FLAGS);
  properties[PROP_FILE_FORMAT] = g_param_spec_enum ("file-format",
      "File format", "method=file: one message a line, or one JSON array",
      GST_TYPE_IMGREC_PUBLISH_FILE_FORMAT, DEFAULT_FILE_FORMAT, READY_FLAGS);
  properties[PROP_ADDRESS] = g_param_spec_string ("address", "Address",
      "Broker address: MQTT host:port (default port 1883), Kafka "
      "host:port[,host:port...]", NULL, READY_FLAGS);
  properties[PROP_TOPIC] = g_param_spec_string ("topic", "Topic",
      "MQTT or Kafka topic the messages are published to", NULL, READY_FLAGS);
  properties[PROP_MQTT_CLIENT_ID] = g_param_spec_string ("mqtt-client-id",
      "MQTT client id", "MQTT client id (default: imgrec- and a random UUID)",
      NULL, READY_FLAGS);
  properties[PROP_MQTT_CONFIG] = g_param_spec_string ("mqtt-config",
      "MQTT config", "File of MQTT settings (key=value lines or a JSON "
      "object): username, password, cafile, capath, certfile, keyfile, "
      "tls-version, tls-insecure, ciphers, keepalive, qos, retain",
      NULL, READY_FLAGS);
  properties[PROP_MAX_CONNECT_ATTEMPTS] =
      g_param_spec_uint ("max-connect-attempts", "Max connect attempts",
      "Failed connection attempts before the first connection that make the "
      "element fail (0: try for ever); a link that worked once is always "
      "re-established", 0, G_MAXINT, DEFAULT_MAX_CONNECT_ATTEMPTS,
      READY_FLAGS);
  properties[PROP_MAX_RECONNECT_INTERVAL] =
      g_param_spec_uint ("max-reconnect-interval", "Max reconnect interval",
      "Longest wait between connection attempts, in seconds (the back-off "
      "starts at 100 ms and doubles)", 1, 3600,
      DEFAULT_MAX_RECONNECT_INTERVAL, READY_FLAGS);
  properties[PROP_SOURCE] = g_param_spec_string ("source", "Source",
      "Camera name: the \"source\" member of every message and the Kafka "
      "message key", NULL, READY_FLAGS);
  properties[PROP_TAGS] = g_param_spec_string ("tags", "Tags",
      "A JSON object copied into every message as \"tags\"", NULL,
      READY_FLAGS);
  properties[PROP_MAX_QUEUE] = g_param_spec_uint ("max-queue", "Max queue",
      "Most messages queued (not yet acknowledged by the broker)", 1,
      G_MAXINT, DEFAULT_MAX_QUEUE, READY_FLAGS);
  properties[PROP_MAX_QUEUE_BYTES] = g_param_spec_uint64 ("max-queue-bytes",
      "Max queue bytes", "Most message bytes queued", 1, G_MAXINT64,
      DEFAULT_MAX_QUEUE_BYTES, READY_FLAGS);
  properties[PROP_OVERFLOW_POLICY] = g_param_spec_enum ("overflow-policy",
      "Overflow policy", "What happens to a message when the queue is full",
      GST_TYPE_IMGREC_PUBLISH_OVERFLOW, DEFAULT_OVERFLOW, PLAYING_FLAGS);
  properties[PROP_FLUSH_TIMEOUT] = g_param_spec_uint64 ("flush-timeout",
      "Flush timeout", "How long EOS waits for the queue to empty (ns)",
      0, G_MAXUINT64, DEFAULT_FLUSH_TIMEOUT, PLAYING_FLAGS);
  properties[PROP_STATS] = g_param_spec_boxed ("stats", "Statistics",
      "imgrec-publish-stats: method, connected, sent, sent-bytes, queued, "
      "queued-bytes, in-flight, dropped, dropped-overflow, rejected, "
      "reconnects, connect-failures, blocked", GST_TYPE_STRUCTURE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_FORMAT] = g_param_spec_enum ("format", "Format",
      "Layout of each message: imgrec's own (imgrecjson's), or DL Streamer "
      "gvametaconvert's", GST_TYPE_IMGREC_JSON_FORMAT,
      GST_IMGREC_JSON_FORMAT_IMGREC, READY_FLAGS);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);

  gst_element_class_set_static_metadata (element_class,
      "imgrec result publisher", "Filter/Analyzer/Video",
      "Publishes the imgrec results of every frame as JSON to a file, an "
      "MQTT broker or a Kafka cluster", "imgrec project");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_imgrec_publish_change_state);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_imgrec_publish_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_imgrec_publish_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_imgrec_publish_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_imgrec_publish_sink_event);
  trans_class->transform_ip =
      GST_DEBUG_FUNCPTR (gst_imgrec_publish_transform_ip);
  trans_class->transform_ip_on_passthrough = TRUE;

  gst_type_mark_as_plugin_api (GST_TYPE_IMGREC_PUBLISH_METHOD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_IMGREC_PUBLISH_FILE_FORMAT, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_IMGREC_PUBLISH_OVERFLOW, 0);
}

static void
gst_imgrec_publish_init (GstImgRecPublish * self)
{
  self->method = DEFAULT_METHOD;
  self->file_path = g_strdup (DEFAULT_FILE_PATH);
  self->file_format = DEFAULT_FILE_FORMAT;
  self->max_connect_attempts = DEFAULT_MAX_CONNECT_ATTEMPTS;
  self->max_reconnect_interval = DEFAULT_MAX_RECONNECT_INTERVAL;
  self->max_queue = DEFAULT_MAX_QUEUE;
  self->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  self->overflow = DEFAULT_OVERFLOW;
  self->flush_timeout = DEFAULT_FLUSH_TIMEOUT;
  self->wake_fds[0] = self->wake_fds[1] = -1;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->queue);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}
