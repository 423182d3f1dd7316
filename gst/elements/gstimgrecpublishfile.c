/* imgrecpublish method=file: JSON Lines or one JSON array, to a file or to
 * standard output.  A message is acknowledged once written and flushed.
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
#include <stdio.h>
#include <string.h>

typedef struct {
  GstImgRecPublishTransport parent;
  FILE *file;
  gboolean is_stdout;
  gboolean json_array;
  guint64 written;
  gchar *path;
  gboolean failed;
} FileTransport;

static GstImgRecPublishTransport *
file_open (GstImgRecPublish * host, const GstImgRecPublishConfig * config,
    GError ** error)
{
  FileTransport *f = g_new0 (FileTransport, 1);

  f->json_array = config->file_json_array;
  f->path = g_strdup (config->file_path);
  /* regular files only: a FIFO or a device is refused, not waited on */
  f->file = gst_imgrec_file_open_output (strcmp (config->file_path,
          "stdout") == 0 ? "-" : config->file_path, "publish file", TRUE,
      error);
  if (f->file == NULL) {
    g_free (f->path);
    g_free (f);
    return NULL;
  }
  f->is_stdout = f->file == stdout;
  if (f->json_array && fputs ("[\n", f->file) == EOF) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
        "Could not write to \"%s\": %s.", config->file_path,
        g_strerror (errno));
    if (!f->is_stdout)
      fclose (f->file);
    g_free (f->path);
    g_free (f);
    return NULL;
  }
  f->parent.klass = &gst_imgrec_publish_file_transport;
  f->parent.host = host;
  return &f->parent;
}

static gboolean
file_connect (GstImgRecPublishTransport * t, gchar ** reason)
{
  gst_imgrec_publish_link_up (t->host);
  return TRUE;
}

static gboolean
file_send (GstImgRecPublishTransport * t, GstImgRecPublishMessage * m)
{
  FileTransport *f = (FileTransport *) t;

  if (f->failed)
    return FALSE;
  if ((f->json_array && f->written > 0 && fputs (",\n", f->file) == EOF)
      || fwrite (m->payload, 1, m->len, f->file) != m->len
      || (!f->json_array && fputc ('\n', f->file) == EOF)
      || fflush (f->file) != 0) {
    gchar *reason = g_strdup_printf ("Could not write the message of frame %"
        G_GUINT64_FORMAT " to \"%s\": %s.", m->frame, f->path,
        g_strerror (errno));
    f->failed = TRUE;
    gst_imgrec_publish_fatal (t->host, reason);
    g_free (reason);
    return FALSE;
  }
  f->written++;
  gst_imgrec_publish_acked (t->host, m);
  return TRUE;
}

static void
file_poll (GstImgRecPublishTransport * t, gint wakeup_fd, gint timeout_ms)
{
  struct pollfd p = { wakeup_fd, POLLIN, 0 };
  poll (&p, 1, timeout_ms);
}

static void
file_close (GstImgRecPublishTransport * t)
{
  FileTransport *f = (FileTransport *) t;

  if (f->json_array && !f->failed)
    fputs (f->written > 0 ? "\n]\n" : "]\n", f->file);
  fflush (f->file);
  if (!f->is_stdout)
    fclose (f->file);
  g_free (f->path);
  g_free (f);
}

const GstImgRecPublishTransportClass gst_imgrec_publish_file_transport = {
  .method = "file",
  .open = file_open,
  .connect = file_connect,
  .send = file_send,
  .poll = file_poll,
  .disconnect = NULL,
  .close = file_close,
  .window = 64,
};
