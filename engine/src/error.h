/* Error values: every failure is a sentence in imgrec_error.message. */
#ifndef IMGREC_ERROR_H
#define IMGREC_ERROR_H

#include "imgrec/engine.h"

#if defined(__GNUC__)
#define IR_PRINTF(a, b) __attribute__ ((format (printf, a, b)))
#else
#define IR_PRINTF(a, b)
#endif

/* Formats the message into err (if not NULL); always returns -1 so that
 * callers can write `return ir_fail (err, ...);`. */
int ir_fail (imgrec_error *err, const char *fmt, ...) IR_PRINTF (2, 3);

/* Prefixes an existing message, e.g. with the node that failed. */
int ir_fail_prefix (imgrec_error *err, const char *fmt, ...) IR_PRINTF (2, 3);

#endif
