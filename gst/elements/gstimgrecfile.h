/* Files named by element properties (models, labels, output files): the one
 * place that opens them.
 *
 * A FIFO blocks open() until a writer (or reader) appears, a device such as
 * /dev/zero never ends, and a huge file is read whole before anything can
 * say it is wrong.  So every path a property names is checked with stat()
 * before it is opened, opened with O_NONBLOCK, checked again with fstat()
 * on the descriptor (only regular files; inputs no larger than a limit),
 * and read with reads bounded by that size.  Errors are one sentence that
 * names the file and the problem (its kind, the limit), in
 * GST_RESOURCE_ERROR.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_FILE_H__
#define __GST_IMGREC_FILE_H__

#include <stdio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/* The engine refuses larger model files too. */
#define GST_IMGREC_MAX_MODEL_BYTES ((gsize) 2 << 30)
/* One label per line: 1 MiB is tens of thousands of classes. */
#define GST_IMGREC_MAX_LABELS_BYTES ((gsize) 1 << 20)

/* Whether @path (for @what, e.g. "model file") is a regular file of at most
 * @max_bytes bytes; the engine then opens it itself. */
gboolean gst_imgrec_file_check (const gchar * path, const gchar * what,
    gsize max_bytes, GError ** error);

/* The whole of a regular text file of 1 to @max_bytes bytes, NUL-terminated
 * (free with g_free); a NUL byte or invalid UTF-8 is an error. */
gchar *gst_imgrec_file_read_text (const gchar * path, const gchar * what,
    gsize max_bytes, gsize * length, GError ** error);

/* @path opened for writing (created, or truncated if it is a regular file);
 * anything but a regular file is refused.  With @allow_stdout, "-" is
 * standard output, which the caller must not fclose. */
FILE *gst_imgrec_file_open_output (const gchar * path, const gchar * what,
    gboolean allow_stdout, GError ** error);

G_END_DECLS

#endif
