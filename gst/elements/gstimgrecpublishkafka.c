/* imgrecpublish method=kafka: a librdkafka producer served from the
 * element's publisher thread.  librdkafka keeps its own connections and
 * retries; it is configured never to time a message out
 * (message.timeout.ms=0) and to keep order (idempotent producer), so a
 * message leaves the element's queue only with its delivery report.  The
 * key of every message is the element's source.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecpublishtransport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <librdkafka/rdkafka.h>

GST_DEBUG_CATEGORY_STATIC (imgrec_publish_kafka_debug);
#define GST_CAT_DEFAULT imgrec_publish_kafka_debug

/* how long one connection attempt (a metadata request) may take */
#define METADATA_TIMEOUT_MS 5000

typedef struct {
  GstImgRecPublishTransport parent;
  rd_kafka_t *rk;
  rd_kafka_queue_t *main_queue;
  gint event_fds[2];            /* librdkafka writes here when it has events */
  gchar *topic;
  gchar *key;
  gchar *address;
  gboolean down;                /* all brokers down since the last delivery */
  gboolean closing;
} KafkaTransport;

static void
on_delivery (rd_kafka_t * rk, const rd_kafka_message_t * msg, void *opaque)
{
  KafkaTransport *k = opaque;
  GstImgRecPublishMessage *m = msg->_private;

  if (k->closing || m == NULL)
    return;                     /* the element counts what is left */
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (k->down) {
      k->down = FALSE;
      gst_imgrec_publish_link_up (k->parent.host);
    }
    gst_imgrec_publish_acked (k->parent.host, m);
  } else {
    gst_imgrec_publish_rejected (k->parent.host, m, rd_kafka_err2str
        (msg->err));
  }
}

static void
on_error (rd_kafka_t * rk, int err, const char *reason, void *opaque)
{
  KafkaTransport *k = opaque;

  if (k->closing)
    return;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char text[512];
    rd_kafka_fatal_error (rk, text, sizeof text);
    gchar *sentence = g_strdup_printf ("Kafka producer failed for good: %s.",
        text);
    gst_imgrec_publish_fatal (k->parent.host, sentence);
    g_free (sentence);
  } else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    if (!k->down) {
      k->down = TRUE;
      gst_imgrec_publish_link_down (k->parent.host, reason, FALSE);
    }
  } else {
    GST_DEBUG ("librdkafka: %s: %s", rd_kafka_err2str (err), reason);
  }
}

static void
on_log (const rd_kafka_t * rk, int level, const char *fac, const char *buf)
{
  GST_DEBUG ("librdkafka %d %s: %s", level, fac, buf);
}

static gboolean
conf_set (rd_kafka_conf_t * conf, const gchar * key, const gchar * value,
    GError ** error)
{
  char errstr[512];

  if (rd_kafka_conf_set (conf, key, value, errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Kafka setting %s=%s refused: %s.", key, value, errstr);
    return FALSE;
  }
  return TRUE;
}

static gpointer
debug_init_once (gpointer unused)
{
  GST_DEBUG_CATEGORY_INIT (imgrec_publish_kafka_debug, "imgrecpublish-kafka",
      0, "imgrecpublish Kafka transport");
  return NULL;
}

static GstImgRecPublishTransport *
kafka_open (GstImgRecPublish * host, const GstImgRecPublishConfig * config,
    GError ** error)
{
  static GOnce once = G_ONCE_INIT;
  KafkaTransport *k = g_new0 (KafkaTransport, 1);
  rd_kafka_conf_t *conf = rd_kafka_conf_new ();
  gchar *backoff_max = g_strdup_printf ("%u",
      config->max_reconnect_interval * 1000);
  gchar *client_id = g_strdup_printf ("imgrec-%s", config->element_name);
  char errstr[512];
  gchar **servers;
  guint i;
  gboolean ok;

  g_once (&once, debug_init_once, NULL);
  k->event_fds[0] = k->event_fds[1] = -1;
  /* every bootstrap server must be host:port */
  servers = g_strsplit (config->address, ",", -1);
  for (i = 0; servers[i]; i++) {
    gchar *h = NULL;
    guint port;
    if (!gst_imgrec_publish_parse_address (g_strstrip (servers[i]), 9092, &h,
            &port, error))
      break;
    g_free (h);
  }
  ok = servers[i] == NULL;
  g_strfreev (servers);

  ok = ok && conf_set (conf, "bootstrap.servers", config->address, error)
      && conf_set (conf, "client.id", client_id, error)
      && conf_set (conf, "enable.idempotence", "true", error)
      && conf_set (conf, "message.timeout.ms", "0", error)
      && conf_set (conf, "linger.ms", "5", error)
      && conf_set (conf, "reconnect.backoff.ms", "100", error)
      && conf_set (conf, "reconnect.backoff.max.ms", backoff_max, error);
  g_free (backoff_max);
  g_free (client_id);
  if (!ok) {
    rd_kafka_conf_destroy (conf);
    g_free (k);
    return NULL;
  }
  rd_kafka_conf_set_opaque (conf, k);
  rd_kafka_conf_set_dr_msg_cb (conf, on_delivery);
  rd_kafka_conf_set_error_cb (conf, on_error);
  rd_kafka_conf_set_log_cb (conf, on_log);

  k->rk = rd_kafka_new (RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (k->rk == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Could not create the Kafka producer: %s.", errstr);
    rd_kafka_conf_destroy (conf);
    g_free (k);
    return NULL;
  }
  if (!g_unix_open_pipe (k->event_fds, FD_CLOEXEC, NULL)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
        "Could not create a pipe: %s.", g_strerror (errno));
    rd_kafka_destroy (k->rk);
    g_free (k);
    return NULL;
  }
  g_unix_set_fd_nonblocking (k->event_fds[0], TRUE, NULL);
  g_unix_set_fd_nonblocking (k->event_fds[1], TRUE, NULL);
  k->main_queue = rd_kafka_queue_get_main (k->rk);
  rd_kafka_queue_io_event_enable (k->main_queue, k->event_fds[1], "k", 1);

  k->topic = g_strdup (config->topic);
  k->key = g_strdup (config->source);
  k->address = g_strdup (config->address);
  k->parent.klass = &gst_imgrec_publish_kafka_transport;
  k->parent.host = host;
  return &k->parent;
}

static gboolean
kafka_connect (GstImgRecPublishTransport * t, gchar ** reason)
{
  KafkaTransport *k = (KafkaTransport *) t;
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t err;

  err = rd_kafka_metadata (k->rk, 0, NULL, &md, METADATA_TIMEOUT_MS);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    *reason = g_strdup_printf ("no answer from the bootstrap servers (%s)",
        rd_kafka_err2str (err));
    return FALSE;
  }
  rd_kafka_metadata_destroy (md);
  k->down = FALSE;
  gst_imgrec_publish_link_up (t->host);
  return TRUE;
}

static gboolean
kafka_send (GstImgRecPublishTransport * t, GstImgRecPublishMessage * m)
{
  KafkaTransport *k = (KafkaTransport *) t;
  rd_kafka_resp_err_t err;

  /* no copy: the payload lives in the element's queue until delivered */
  err = rd_kafka_producev (k->rk, RD_KAFKA_V_TOPIC (k->topic),
      RD_KAFKA_V_KEY (k->key, k->key ? strlen (k->key) : 0),
      RD_KAFKA_V_VALUE (m->payload, m->len), RD_KAFKA_V_OPAQUE (m),
      RD_KAFKA_V_END);
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return TRUE;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      gst_imgrec_publish_rejected (t->host, m, rd_kafka_err2str (err));
      return TRUE;
    default:
      GST_DEBUG ("produce: %s", rd_kafka_err2str (err));
      return FALSE;
  }
}

static void
kafka_poll (GstImgRecPublishTransport * t, gint wakeup_fd, gint timeout_ms)
{
  KafkaTransport *k = (KafkaTransport *) t;
  struct pollfd p[2] = { {wakeup_fd, POLLIN, 0}, {k->event_fds[0], POLLIN,
          0}
  };
  gchar buf[64];

  if (poll (p, 2, timeout_ms) < 0 && errno != EINTR)
    GST_WARNING ("poll: %s", g_strerror (errno));
  while (read (k->event_fds[0], buf, sizeof buf) > 0);
  rd_kafka_poll (k->rk, 0);
}

static void
kafka_close (GstImgRecPublishTransport * t)
{
  KafkaTransport *k = (KafkaTransport *) t;

  k->closing = TRUE;
  rd_kafka_purge (k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll (k->rk, 0);
  rd_kafka_queue_io_event_enable (k->main_queue, -1, NULL, 0);
  rd_kafka_queue_destroy (k->main_queue);
  rd_kafka_destroy (k->rk);
  close (k->event_fds[0]);
  close (k->event_fds[1]);
  g_free (k->topic);
  g_free (k->key);
  g_free (k->address);
  g_free (k);
}

const GstImgRecPublishTransportClass gst_imgrec_publish_kafka_transport = {
  .method = "kafka",
  .open = kafka_open,
  .connect = kafka_connect,
  .send = kafka_send,
  .poll = kafka_poll,
  .disconnect = NULL,
  .close = kafka_close,
  .window = 100,
};
