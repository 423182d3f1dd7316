/* Checked opening and bounded reading of the files the engine is told to
 * read (see checked_file.h for why). */
#include "checked_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *
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
  return "not a regular file";
}

void
ir_format_bytes (size_t bytes, char *out, size_t out_size)
{
  static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
  size_t v = bytes;
  int u = 0;

  while (u < 4 && v >= 1024 && v % 1024 == 0) {
    v /= 1024;
    u++;
  }
  snprintf (out, out_size, "%zu %s", v, units[u]);
}

static int
fail_kind_or_size (const char *path, const char *what, const struct stat *st,
    size_t max_bytes, imgrec_error *err)
{
  if (!S_ISREG (st->st_mode))
    return ir_fail (err, "%s '%s' is not a regular file (it is %s)", what,
        path, file_kind (st->st_mode));
  if (st->st_size < 0 || (unsigned long long) st->st_size > max_bytes) {
    char limit[32];
    ir_format_bytes (max_bytes, limit, sizeof limit);
    return ir_fail (err, "%s '%s' is larger than the %s limit (%lld bytes)",
        what, path, limit, (long long) st->st_size);
  }
  return 0;
}

int
ir_checked_open (const char *path, const char *what, size_t max_bytes,
    size_t *size, imgrec_error *err)
{
  struct stat st;

  if (path == NULL || path[0] == '\0')
    return ir_fail (err, "no %s path given", what);
  /* Refuse a device or FIFO before opening it at all: opening some devices
   * has effects of its own. */
  if (stat (path, &st) != 0)
    return ir_fail (err, "cannot open %s '%s': %s", what, path,
        strerror (errno));
  if (fail_kind_or_size (path, what, &st, max_bytes, err) < 0)
    return -1;
  /* The path may have been replaced since: O_NONBLOCK keeps a FIFO from
   * blocking open(), and fstat checks the file that was really opened. */
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return ir_fail (err, "cannot open %s '%s': %s", what, path,
        strerror (errno));
  if (fstat (fd, &st) != 0) {
    int e = errno;
    close (fd);
    return ir_fail (err, "cannot open %s '%s': %s", what, path, strerror (e));
  }
  if (fail_kind_or_size (path, what, &st, max_bytes, err) < 0) {
    close (fd);
    return -1;
  }
  int flags = fcntl (fd, F_GETFL);
  if (flags >= 0)
    fcntl (fd, F_SETFL, flags & ~O_NONBLOCK);
  *size = (size_t) st.st_size;
  return fd;
}

int
ir_checked_pread (int fd, void *buf, size_t n, off_t offset)
{
  unsigned char *p = buf;

  while (n > 0) {
    ssize_t r = pread (fd, p, n, offset);
    if (r < 0 && errno == EINTR)
      continue;
    if (r == 0)
      errno = 0;                /* the file ended early */
    if (r <= 0)
      return -1;
    p += r;
    n -= (size_t) r;
    offset += r;
  }
  return 0;
}

void *
ir_checked_read (const char *path, const char *what, size_t max_bytes,
    size_t *size, imgrec_error *err)
{
  size_t n = 0;
  int fd = ir_checked_open (path, what, max_bytes, &n, err);

  if (fd < 0)
    return NULL;
  if (n == 0) {
    close (fd);
    ir_fail (err, "%s '%s' is empty", what, path);
    return NULL;
  }
  void *data = malloc (n);
  if (data == NULL) {
    close (fd);
    ir_fail (err, "out of memory reading %s '%s' (%zu bytes)", what, path, n);
    return NULL;
  }
  if (ir_checked_pread (fd, data, n, 0) != 0) {
    int e = errno;
    close (fd);
    free (data);
    ir_fail (err, "cannot read %s '%s': %s", what, path,
        e ? strerror (e) : "it is shorter than its size (changed while read)");
    return NULL;
  }
  close (fd);
  *size = n;
  return data;
}
