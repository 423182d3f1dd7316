/* Files named by element properties: checked opening, bounded reading (see
 * gstimgrecfile.h for why).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstimgrecfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const gchar *
file_kind (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISFIFO (mode))
    return "a FIFO (named pipe)";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "something else";
}

/* "1 MiB", "2 GiB", "1000 bytes" */
static gchar *
format_limit (gsize bytes)
{
  static const gchar *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
  gsize v = bytes;
  guint u = 0;

  while (u < 4 && v >= 1024 && v % 1024 == 0) {
    v /= 1024;
    u++;
  }
  return g_strdup_printf ("%" G_GSIZE_FORMAT " %s", v, units[u]);
}

/* "Could not read labels file "x": it is a FIFO (named pipe), not a
 * regular file." */
static void
set_read_error (GError ** error, gint code, const gchar * what,
    const gchar * path, const gchar * reason)
{
  g_set_error (error, GST_RESOURCE_ERROR, code, "Could not read %s \"%s\": %s.",
      what, path, reason);
}

static gboolean
check_stat (const struct stat *st, const gchar * what, const gchar * path,
    gsize max_bytes, GError ** error)
{
  gchar *reason;

  if (!S_ISREG (st->st_mode)) {
    reason = g_strdup_printf ("it is %s, not a regular file",
        file_kind (st->st_mode));
  } else if (st->st_size < 0 || (guint64) st->st_size > max_bytes) {
    gchar *limit = format_limit (max_bytes);
    reason = g_strdup_printf ("it is larger than the %s limit (%"
        G_GUINT64_FORMAT " bytes)", limit, (guint64) st->st_size);
    g_free (limit);
  } else {
    return TRUE;
  }
  set_read_error (error, GST_RESOURCE_ERROR_OPEN_READ, what, path, reason);
  g_free (reason);
  return FALSE;
}

static void
set_errno_error (GError ** error, gint err, const gchar * what,
    const gchar * path)
{
  if (err == ENOENT)
    set_read_error (error, GST_RESOURCE_ERROR_NOT_FOUND, what, path,
        "it does not exist");
  else
    set_read_error (error, GST_RESOURCE_ERROR_OPEN_READ, what, path,
        g_strerror (err));
}

/* The descriptor of a checked input file and its size, or -1. */
static gint
open_input (const gchar * path, const gchar * what, gsize max_bytes,
    gsize * size, GError ** error)
{
  struct stat st;
  gint fd, flags;

  if (path == NULL || *path == '\0') {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "No %s given.", what);
    return -1;
  }
  /* a device or FIFO is refused before it is opened at all */
  if (stat (path, &st) != 0) {
    set_errno_error (error, errno, what, path);
    return -1;
  }
  if (!check_stat (&st, what, path, max_bytes, error))
    return -1;
  /* the path may have been replaced since: O_NONBLOCK keeps a FIFO from
   * blocking open(), fstat checks what was really opened */
  fd = open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    set_errno_error (error, errno, what, path);
    return -1;
  }
  if (fstat (fd, &st) != 0) {
    set_errno_error (error, errno, what, path);
    close (fd);
    return -1;
  }
  if (!check_stat (&st, what, path, max_bytes, error)) {
    close (fd);
    return -1;
  }
  flags = fcntl (fd, F_GETFL);
  if (flags >= 0)
    fcntl (fd, F_SETFL, flags & ~O_NONBLOCK);
  *size = (gsize) st.st_size;
  return fd;
}

gboolean
gst_imgrec_file_check (const gchar * path, const gchar * what,
    gsize max_bytes, GError ** error)
{
  gsize size;
  gint fd = open_input (path, what, max_bytes, &size, error);

  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

gchar *
gst_imgrec_file_read_text (const gchar * path, const gchar * what,
    gsize max_bytes, gsize * length, GError ** error)
{
  gsize size = 0, done = 0;
  gint fd = open_input (path, what, max_bytes, &size, error);
  const gchar *bad;
  gchar *text, *reason;

  if (fd < 0)
    return NULL;
  if (size == 0) {
    close (fd);
    set_read_error (error, GST_RESOURCE_ERROR_OPEN_READ, what, path,
        "it is empty");
    return NULL;
  }
  text = g_malloc (size + 1);
  while (done < size) {         /* never more than fstat's size */
    gssize r = read (fd, text + done, size - done);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      set_read_error (error, GST_RESOURCE_ERROR_READ, what, path,
          r < 0 ? g_strerror (errno) : "it became shorter while being read");
      close (fd);
      g_free (text);
      return NULL;
    }
    done += (gsize) r;
  }
  close (fd);
  text[size] = '\0';

  if (memchr (text, '\0', size) != NULL) {
    reason = g_strdup_printf ("it contains a NUL byte at offset %"
        G_GSIZE_FORMAT " (not a text file)",
        (gsize) ((const gchar *) memchr (text, '\0', size) - text));
  } else if (!g_utf8_validate (text, (gssize) size, &bad)) {
    reason = g_strdup_printf ("it is not UTF-8 text (invalid byte at "
        "offset %" G_GSIZE_FORMAT ")", (gsize) (bad - text));
  } else {
    if (length)
      *length = size;
    return text;
  }
  set_read_error (error, GST_RESOURCE_ERROR_READ, what, path, reason);
  g_free (reason);
  g_free (text);
  return NULL;
}

static void
set_write_error (GError ** error, const gchar * what, const gchar * path,
    const gchar * reason, gboolean allow_stdout)
{
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
      "Could not open %s \"%s\" for writing: %s%s.", what, path, reason,
      allow_stdout ? " (use \"-\" for standard output)" : "");
}

FILE *
gst_imgrec_file_open_output (const gchar * path, const gchar * what,
    gboolean allow_stdout, GError ** error)
{
  struct stat st;
  gchar *reason;
  FILE *file;
  gint fd, flags;

  if (path == NULL || *path == '\0') {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "No %s given.", what);
    return NULL;
  }
  if (allow_stdout && strcmp (path, "-") == 0)
    return stdout;
  /* not opened at all when it exists and is not a regular file */
  if (stat (path, &st) == 0 && !S_ISREG (st.st_mode))
    goto not_regular;
  /* no O_TRUNC yet: only a regular file is truncated */
  fd = open (path, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
      0666);
  if (fd < 0) {
    set_write_error (error, what, path, g_strerror (errno), FALSE);
    return NULL;
  }
  if (fstat (fd, &st) != 0) {
    set_write_error (error, what, path, g_strerror (errno), FALSE);
    close (fd);
    return NULL;
  }
  if (!S_ISREG (st.st_mode)) {
    close (fd);
    goto not_regular;
  }
  flags = fcntl (fd, F_GETFL);
  if (ftruncate (fd, 0) != 0 || flags < 0
      || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) != 0
      || (file = fdopen (fd, "w")) == NULL) {
    set_write_error (error, what, path, g_strerror (errno), FALSE);
    close (fd);
    return NULL;
  }
  return file;

not_regular:
  reason = g_strdup_printf ("it is %s, not a regular file",
      file_kind (st.st_mode));
  set_write_error (error, what, path, reason, allow_stdout);
  g_free (reason);
  return NULL;
}
