#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
ir_fail (imgrec_error *err, const char *fmt, ...)
{
  if (err != NULL) {
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err->message, sizeof err->message, fmt, ap);
    va_end (ap);
  }
  return -1;
}

int
ir_fail_prefix (imgrec_error *err, const char *fmt, ...)
{
  if (err == NULL)
    return -1;
  char prefix[IMGREC_ERROR_MESSAGE_SIZE];
  char old[IMGREC_ERROR_MESSAGE_SIZE];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);
  memcpy (old, err->message, sizeof old);
  size_t n = strlen (prefix);
  if (n >= sizeof err->message)
    n = sizeof err->message - 1;
  memcpy (err->message, prefix, n);
  size_t rest = sizeof err->message - 1 - n;
  size_t m = strlen (old);
  if (m > rest)
    m = rest;
  memcpy (err->message + n, old, m);
  err->message[n + m] = '\0';
  return -1;
}
