/* imgrecpublish method=mqtt: libmosquitto driven from the element's
 * publisher thread (its own poll loop: no libmosquitto thread).  Each
 * connection is a fresh client handle; when one is lost, the element sends
 * the unacknowledged messages again on the next, in order.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecpublishtransport.h"
#include "gstimgrecfile.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <mosquitto.h>
#include <json-glib/json-glib.h>

GST_DEBUG_CATEGORY_STATIC (imgrec_publish_mqtt_debug);
#define GST_CAT_DEFAULT imgrec_publish_mqtt_debug

/* mqtt-config */
typedef struct {
  gchar *username, *password;
  gchar *cafile, *capath, *certfile, *keyfile, *tls_version, *ciphers;
  gboolean tls_insecure;
  gint keepalive;
  gint qos;
  gboolean retain;
} MqttSettings;

typedef struct {
  GstImgRecPublishTransport parent;
  MqttSettings settings;
  gchar *host;
  guint port;
  gchar *topic;
  gchar *client_id;
  struct mosquitto *mosq;       /* NULL: no connection */
  gboolean up;                  /* CONNACK accepted */
  GHashTable *in_flight;        /* mid → GstImgRecPublishMessage */
  gint connack;                 /* -1: none yet */
} MqttTransport;

static void
settings_clear (MqttSettings * s)
{
  g_free (s->username);
  g_free (s->password);
  g_free (s->cafile);
  g_free (s->capath);
  g_free (s->certfile);
  g_free (s->keyfile);
  g_free (s->tls_version);
  g_free (s->ciphers);
}

static gboolean
parse_bool (const gchar * v, gboolean * out)
{
  if (!g_ascii_strcasecmp (v, "true") || !strcmp (v, "1")
      || !g_ascii_strcasecmp (v, "yes")) {
    *out = TRUE;
    return TRUE;
  }
  if (!g_ascii_strcasecmp (v, "false") || !strcmp (v, "0")
      || !g_ascii_strcasecmp (v, "no")) {
    *out = FALSE;
    return TRUE;
  }
  return FALSE;
}

static gboolean
parse_int (const gchar * v, gint lo, gint hi, gint * out)
{
  gint64 n;
  gchar *end = NULL;

  n = g_ascii_strtoll (v, &end, 10);
  if (end == v || *end != '\0' || n < lo || n > hi)
    return FALSE;
  *out = (gint) n;
  return TRUE;
}

static gboolean
set_setting (MqttSettings * s, const gchar * key, const gchar * value,
    const gchar * path, GError ** error)
{
  gchar **str = NULL;

  if (!strcmp (key, "username"))
    str = &s->username;
  else if (!strcmp (key, "password"))
    str = &s->password;
  else if (!strcmp (key, "cafile"))
    str = &s->cafile;
  else if (!strcmp (key, "capath"))
    str = &s->capath;
  else if (!strcmp (key, "certfile"))
    str = &s->certfile;
  else if (!strcmp (key, "keyfile"))
    str = &s->keyfile;
  else if (!strcmp (key, "tls-version"))
    str = &s->tls_version;
  else if (!strcmp (key, "ciphers"))
    str = &s->ciphers;
  if (str) {
    g_free (*str);
    *str = g_strdup (value);
    return TRUE;
  }
  if (!strcmp (key, "tls-insecure") && parse_bool (value, &s->tls_insecure))
    return TRUE;
  if (!strcmp (key, "retain") && parse_bool (value, &s->retain))
    return TRUE;
  if (!strcmp (key, "keepalive") && parse_int (value, 5, 65535,
          &s->keepalive))
    return TRUE;
  if (!strcmp (key, "qos") && parse_int (value, 0, 2, &s->qos))
    return TRUE;
  if (!strcmp (key, "tls-insecure") || !strcmp (key, "retain")
      || !strcmp (key, "keepalive") || !strcmp (key, "qos"))
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "mqtt-config \"%s\": bad value \"%s\" for %s (%s).", path, value, key,
        !strcmp (key, "qos") ? "0, 1 or 2" : !strcmp (key, "keepalive") ?
        "seconds, 5 to 65535" : "true or false");
  else
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "mqtt-config \"%s\": unknown key \"%s\" (known: username, password, "
        "cafile, capath, certfile, keyfile, tls-version, tls-insecure, "
        "ciphers, keepalive, qos, retain).", path, key);
  return FALSE;
}

static gboolean
parse_settings (const gchar * path, MqttSettings * s, GError ** error)
{
  gchar *text = NULL;
  GError *err = NULL;
  gboolean ok = TRUE;

  s->keepalive = 60;
  s->qos = 1;
  if (path == NULL)
    return TRUE;
  text = gst_imgrec_file_read_text (path, "mqtt-config file", 1 << 20, NULL,
      error);
  if (text == NULL)
    return FALSE;
  g_strstrip (text);
  if (text[0] == '{') {
    JsonParser *parser = json_parser_new ();
    JsonObject *o;
    GList *members, *l;

    if (!json_parser_load_from_data (parser, text, -1, &err)) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "mqtt-config \"%s\" is not valid JSON: %s.", path, err->message);
      g_error_free (err);
      g_object_unref (parser);
      g_free (text);
      return FALSE;
    }
    o = json_node_get_object (json_parser_get_root (parser));
    members = json_object_get_members (o);
    for (l = members; l && ok; l = l->next) {
      JsonNode *n = json_object_get_member (o, l->data);
      gchar *value;

      if (!JSON_NODE_HOLDS_VALUE (n)) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "mqtt-config \"%s\": %s must be a string, number or boolean.",
            path, (const gchar *) l->data);
        ok = FALSE;
        break;
      }
      if (json_node_get_value_type (n) == G_TYPE_STRING)
        value = g_strdup (json_node_get_string (n));
      else if (json_node_get_value_type (n) == G_TYPE_BOOLEAN)
        value = g_strdup (json_node_get_boolean (n) ? "true" : "false");
      else if (json_node_get_value_type (n) == G_TYPE_INT64)
        value = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
      else
        value = g_strdup_printf ("%g", json_node_get_double (n));
      ok = set_setting (s, l->data, value, path, error);
      g_free (value);
    }
    g_list_free (members);
    g_object_unref (parser);
  } else {
    gchar **lines = g_strsplit (text, "\n", -1), **line;
    guint n = 0;

    for (line = lines; *line && ok; line++) {
      gchar *eq, *key, *value;
      n++;
      g_strstrip (*line);
      if (**line == '\0' || **line == '#')
        continue;
      eq = strchr (*line, '=');
      if (eq == NULL) {
        g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "mqtt-config \"%s\" line %u: expected key=value, got \"%s\".",
            path, n, *line);
        ok = FALSE;
        break;
      }
      *eq = '\0';
      key = g_strstrip (*line);
      value = g_strstrip (eq + 1);
      ok = set_setting (s, key, value, path, error);
    }
    g_strfreev (lines);
  }
  g_free (text);
  if (ok && (s->certfile != NULL) != (s->keyfile != NULL)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "mqtt-config \"%s\": certfile and keyfile go together.", path);
    ok = FALSE;
  }
  if (ok && (s->certfile || s->tls_version || s->ciphers || s->tls_insecure)
      && !s->cafile && !s->capath) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "mqtt-config \"%s\": TLS settings need cafile or capath.", path);
    ok = FALSE;
  }
  return ok;
}

/* Configures a fresh client handle; FALSE with a sentence in @error. */
static gboolean
apply_settings (struct mosquitto *mosq, const MqttSettings * s,
    GError ** error)
{
  gint rc;

  mosquitto_int_option (mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  if (s->username && (rc = mosquitto_username_pw_set (mosq, s->username,
              s->password)) != MOSQ_ERR_SUCCESS) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "MQTT username/password refused by libmosquitto: %s.",
        mosquitto_strerror (rc));
    return FALSE;
  }
  if (s->cafile || s->capath) {
    rc = mosquitto_tls_set (mosq, s->cafile, s->capath, s->certfile,
        s->keyfile, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "MQTT TLS settings refused (cafile %s, capath %s, certfile %s, "
          "keyfile %s): %s.", s->cafile ? s->cafile : "-",
          s->capath ? s->capath : "-", s->certfile ? s->certfile : "-",
          s->keyfile ? s->keyfile : "-", mosquitto_strerror (rc));
      return FALSE;
    }
    rc = mosquitto_tls_opts_set (mosq, 1, s->tls_version, s->ciphers);
    if (rc == MOSQ_ERR_SUCCESS)
      rc = mosquitto_tls_insecure_set (mosq, s->tls_insecure);
    if (rc != MOSQ_ERR_SUCCESS) {
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "MQTT TLS options refused (tls-version %s, ciphers %s): %s.",
          s->tls_version ? s->tls_version : "default",
          s->ciphers ? s->ciphers : "default", mosquitto_strerror (rc));
      return FALSE;
    }
  }
  return TRUE;
}

static gpointer
lib_init_once (gpointer unused)
{
  mosquitto_lib_init ();
  GST_DEBUG_CATEGORY_INIT (imgrec_publish_mqtt_debug, "imgrecpublish-mqtt", 0,
      "imgrecpublish MQTT transport");
  return NULL;
}

static GstImgRecPublishTransport *
mqtt_open (GstImgRecPublish * host, const GstImgRecPublishConfig * config,
    GError ** error)
{
  static GOnce once = G_ONCE_INIT;
  MqttTransport *q = g_new0 (MqttTransport, 1);
  struct mosquitto *probe;

  g_once (&once, lib_init_once, NULL);
  if (!gst_imgrec_publish_parse_address (config->address, 1883, &q->host,
          &q->port, error))
    goto fail;
  if (mosquitto_sub_topic_check (config->topic) != MOSQ_ERR_SUCCESS
      || strpbrk (config->topic, "+#")) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "\"%s\" is not an MQTT topic to publish to (no + or #).",
        config->topic);
    goto fail;
  }
  if (!parse_settings (config->mqtt_config, &q->settings, error))
    goto fail;
  /* check the settings on a handle now, so start fails, not the thread */
  probe = mosquitto_new (config->client_id, true, NULL);
  if (probe == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Could not create an MQTT client (client id \"%s\"): %s.",
        config->client_id, g_strerror (errno));
    goto fail;
  }
  if (!apply_settings (probe, &q->settings, error)) {
    mosquitto_destroy (probe);
    goto fail;
  }
  mosquitto_destroy (probe);

  q->topic = g_strdup (config->topic);
  q->client_id = g_strdup (config->client_id);
  q->in_flight = g_hash_table_new (g_direct_hash, g_direct_equal);
  q->parent.klass = &gst_imgrec_publish_mqtt_transport;
  q->parent.host = host;
  return &q->parent;

fail:
  settings_clear (&q->settings);
  g_free (q->host);
  g_free (q);
  return NULL;
}

static void
on_connect (struct mosquitto *mosq, void *obj, int rc)
{
  MqttTransport *q = obj;
  q->connack = rc;
}

static void
on_publish (struct mosquitto *mosq, void *obj, int mid)
{
  MqttTransport *q = obj;
  GstImgRecPublishMessage *m =
      g_hash_table_lookup (q->in_flight, GINT_TO_POINTER (mid));

  if (m) {
    g_hash_table_remove (q->in_flight, GINT_TO_POINTER (mid));
    gst_imgrec_publish_acked (q->parent.host, m);
  }
}

static void
drop_connection (MqttTransport * q)
{
  if (q->mosq) {
    mosquitto_destroy (q->mosq);
    q->mosq = NULL;
  }
  q->up = FALSE;
  g_hash_table_remove_all (q->in_flight);
}

static gboolean
mqtt_connect (GstImgRecPublishTransport * t, gchar ** reason)
{
  MqttTransport *q = (MqttTransport *) t;
  GError *error = NULL;
  gint rc;

  drop_connection (q);
  q->mosq = mosquitto_new (q->client_id, true, q);
  if (q->mosq == NULL) {
    *reason = g_strdup_printf ("could not create a client: %s",
        g_strerror (errno));
    return FALSE;
  }
  if (!apply_settings (q->mosq, &q->settings, &error)) {
    *reason = g_strdup (error->message);
    g_error_free (error);
    drop_connection (q);
    return FALSE;
  }
  mosquitto_int_option (q->mosq, MOSQ_OPT_SEND_MAXIMUM,
      (gint) t->klass->window);
  mosquitto_connect_callback_set (q->mosq, on_connect);
  mosquitto_publish_callback_set (q->mosq, on_publish);
  q->connack = -1;
  rc = mosquitto_connect_async (q->mosq, q->host, (gint) q->port,
      q->settings.keepalive);
  if (rc != MOSQ_ERR_SUCCESS) {
    *reason = g_strdup (rc == MOSQ_ERR_ERRNO ? g_strerror (errno) :
        mosquitto_strerror (rc));
    drop_connection (q);
    return FALSE;
  }
  GST_DEBUG ("connecting to %s:%u as %s", q->host, q->port, q->client_id);
  return TRUE;
}

static gboolean
mqtt_send (GstImgRecPublishTransport * t, GstImgRecPublishMessage * m)
{
  MqttTransport *q = (MqttTransport *) t;
  gint mid = 0, rc;

  if (!q->up)
    return FALSE;
  if (m->len > G_MAXINT32) {
    gst_imgrec_publish_rejected (t->host, m, "larger than MQTT allows");
    return TRUE;
  }
  rc = mosquitto_publish (q->mosq, &mid, q->topic, (gint) m->len, m->payload,
      q->settings.qos, q->settings.retain);
  switch (rc) {
    case MOSQ_ERR_SUCCESS:
      g_hash_table_insert (q->in_flight, GINT_TO_POINTER (mid), m);
      return TRUE;
    case MOSQ_ERR_PAYLOAD_SIZE:
    case MOSQ_ERR_OVERSIZE_PACKET:
      gst_imgrec_publish_rejected (t->host, m, mosquitto_strerror (rc));
      return TRUE;
    default:
      GST_DEBUG ("publish: %s", mosquitto_strerror (rc));
      return FALSE;
  }
}

static void
mqtt_poll (GstImgRecPublishTransport * t, gint wakeup_fd, gint timeout_ms)
{
  MqttTransport *q = (MqttTransport *) t;
  struct pollfd p[2] = { {wakeup_fd, POLLIN, 0}, {-1, 0, 0} };
  gint rc = MOSQ_ERR_SUCCESS, err = 0;

  if (q->mosq) {
    p[1].fd = mosquitto_socket (q->mosq);
    p[1].events = POLLIN | (mosquitto_want_write (q->mosq) ? POLLOUT : 0);
  }
  if (poll (p, p[1].fd >= 0 ? 2 : 1, timeout_ms) < 0 && errno != EINTR)
    GST_WARNING ("poll: %s", g_strerror (errno));
  if (q->mosq == NULL)
    return;

  errno = 0;
  if (p[1].revents & (POLLIN | POLLERR | POLLHUP))
    rc = mosquitto_loop_read (q->mosq, 16);
  if (rc == MOSQ_ERR_SUCCESS && (p[1].revents & POLLOUT))
    rc = mosquitto_loop_write (q->mosq, 16);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_loop_misc (q->mosq);
  err = errno;

  /* a refusing CONNACK also makes the read fail: its code says why */
  if (!q->up && q->connack >= 0 && (rc == MOSQ_ERR_SUCCESS || q->connack > 0)) {
    if (q->connack == 0) {
      q->up = TRUE;
      gst_imgrec_publish_link_up (t->host);
    } else {
      gchar *reason = g_strdup_printf ("the broker refused the connection: "
          "%s", mosquitto_connack_string (q->connack));
      drop_connection (q);
      gst_imgrec_publish_connect_failed (t->host, reason);
      g_free (reason);
    }
    return;
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    gchar *reason = g_strdup (rc == MOSQ_ERR_ERRNO && err ? g_strerror (err) :
        mosquitto_strerror (rc));
    gboolean was_up = q->up;

    drop_connection (q);
    if (was_up)
      gst_imgrec_publish_link_down (t->host, reason, TRUE);
    else
      gst_imgrec_publish_connect_failed (t->host, reason);
    g_free (reason);
  }
}

static void
mqtt_disconnect (GstImgRecPublishTransport * t)
{
  drop_connection ((MqttTransport *) t);
}

static void
mqtt_close (GstImgRecPublishTransport * t)
{
  MqttTransport *q = (MqttTransport *) t;

  if (q->mosq && q->up) {
    mosquitto_disconnect (q->mosq);
    mosquitto_loop_write (q->mosq, 1);
  }
  drop_connection (q);
  g_hash_table_unref (q->in_flight);
  settings_clear (&q->settings);
  g_free (q->host);
  g_free (q->topic);
  g_free (q->client_id);
  g_free (q);
}

const GstImgRecPublishTransportClass gst_imgrec_publish_mqtt_transport = {
  .method = "mqtt",
  .open = mqtt_open,
  .connect = mqtt_connect,
  .send = mqtt_send,
  .poll = mqtt_poll,
  .disconnect = mqtt_disconnect,
  .close = mqtt_close,
  .window = 20,
};
