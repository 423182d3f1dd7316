/* imgrecpublish's transports (file, MQTT, Kafka) and what they may call back
 * into the element.  Everything here runs on the element's publisher thread,
 * except open (start) and close (stop, after the thread has ended).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_PUBLISH_TRANSPORT_H__
#define __GST_IMGREC_PUBLISH_TRANSPORT_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _GstImgRecPublish GstImgRecPublish;

/* One queued message: a frame's JSON.  It stays in the element's queue, and
 * counts against max-queue, until the transport acknowledges it. */
typedef struct {
  gchar *payload;
  gsize len;
  guint64 frame;
  gboolean in_flight;           /* handed to the transport, not yet acked */
  GList *link;                  /* its node in the element's queue */
} GstImgRecPublishMessage;

/* What a transport needs to know (copied from the properties at start). */
typedef struct {
  gchar *element_name;
  gchar *file_path;             /* "stdout" or "-": standard output */
  gboolean file_json_array;     /* file-format=json */
  gchar *address;
  gchar *topic;
  gchar *client_id;
  gchar *mqtt_config;           /* path or NULL */
  gchar *source;                /* Kafka message key; NULL: none */
  guint max_reconnect_interval; /* seconds */
} GstImgRecPublishConfig;

typedef struct _GstImgRecPublishTransport GstImgRecPublishTransport;

typedef struct {
  const gchar *method;
  /* At start: check the configuration and prepare; no network traffic.
   * NULL with @error (a sentence for the user) on failure. */
  GstImgRecPublishTransport *(*open) (GstImgRecPublish * host,
      const GstImgRecPublishConfig * config, GError ** error);
  /* Begin a connection attempt; the transport then reports link_up or
   * connect_failed.  FALSE with @reason: the attempt failed at once. */
  gboolean (*connect) (GstImgRecPublishTransport * t, gchar ** reason);
  /* Give the transport a message to deliver; it reports acked/rejected
   * later.  FALSE: not taken now (the message stays queued). */
  gboolean (*send) (GstImgRecPublishTransport * t,
      GstImgRecPublishMessage * m);
  /* Wait at most @timeout_ms for the transport's I/O or for @wakeup_fd to
   * become readable, then do the I/O and report what happened. */
  void (*poll) (GstImgRecPublishTransport * t, gint wakeup_fd,
      gint timeout_ms);
  /* Drop the connection or the attempt in progress (no answer in time);
   * the messages in flight are forgotten (the element sends them again).
   * NULL: connect always answers at once. */
  void (*disconnect) (GstImgRecPublishTransport * t);
  /* At stop: messages still in flight are given up (reported rejected or
   * simply forgotten: the element discards and counts what is left). */
  void (*close) (GstImgRecPublishTransport * t);
  /* most messages in flight at once */
  guint window;
} GstImgRecPublishTransportClass;

struct _GstImgRecPublishTransport {
  const GstImgRecPublishTransportClass *klass;
  GstImgRecPublish *host;
};

extern const GstImgRecPublishTransportClass gst_imgrec_publish_file_transport;
#ifdef IMGREC_HAVE_MQTT
extern const GstImgRecPublishTransportClass gst_imgrec_publish_mqtt_transport;
#endif
#ifdef IMGREC_HAVE_KAFKA
extern const GstImgRecPublishTransportClass gst_imgrec_publish_kafka_transport;
#endif

/* Called by transports, on the publisher thread. */
void gst_imgrec_publish_link_up (GstImgRecPublish * host);
/* The connection attempt begun by connect failed. */
void gst_imgrec_publish_connect_failed (GstImgRecPublish * host,
    const gchar * reason);
/* An established link is lost.  @requeue: the transport forgot the messages
 * in flight; they are sent again after the next link_up. */
void gst_imgrec_publish_link_down (GstImgRecPublish * host,
    const gchar * reason, gboolean requeue);
void gst_imgrec_publish_acked (GstImgRecPublish * host,
    GstImgRecPublishMessage * m);
/* The broker refused @m for good (e.g. too large): dropped and reported. */
void gst_imgrec_publish_rejected (GstImgRecPublish * host,
    GstImgRecPublishMessage * m, const gchar * reason);
/* Nothing more can be published (e.g. a write error): an element error. */
void gst_imgrec_publish_fatal (GstImgRecPublish * host, const gchar * reason);

/* address "host:port", "host" or "[v6]:port" → host and port (@default_port
 * when absent).  FALSE with @error for a malformed address. */
gboolean gst_imgrec_publish_parse_address (const gchar * address,
    guint default_port, gchar ** host, guint * port, GError ** error);

G_END_DECLS

#endif
