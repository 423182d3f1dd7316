/* Files the engine is told to read (a model, its external data): only
 * regular files, of a bounded size, read with bounded reads.
 *
 * open() on a FIFO blocks until a writer appears, and a device such as
 * /dev/zero never ends; both would hang or exhaust a caller.  So the path is
 * checked with stat() before it is opened, opened with O_NONBLOCK, checked
 * again with fstat() on the open descriptor (the file that is actually
 * read), and only then read, never more than the size fstat() reported. */
#ifndef IMGREC_CHECKED_FILE_H
#define IMGREC_CHECKED_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Opens `path` for reading if it is a regular file of at most `max_bytes`
 * bytes; *size gets its size.  Returns the descriptor, or -1 with a sentence
 * naming `what` ("model file", ...), the path and the problem (not a
 * regular file — which kind it is —, larger than the limit, cannot open). */
int ir_checked_open (const char *path, const char *what, size_t max_bytes,
    size_t *size, imgrec_error *err);

/* Reads exactly `n` bytes at `offset` (retrying short reads and EINTR);
 * 0, or -1 when the file ends first or a read fails. */
int ir_checked_pread (int fd, void *buf, size_t n, off_t offset);

/* The whole of a checked file (ir_checked_open) in a malloc'd buffer; an
 * empty file is an error.  NULL with a sentence in err on failure. */
void *ir_checked_read (const char *path, const char *what, size_t max_bytes,
    size_t *size, imgrec_error *err);

/* "2 GiB", "512 MiB", "1000 bytes": a limit as error messages say it. */
void ir_format_bytes (size_t bytes, char *out, size_t out_size);

#endif
