#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checked_file.h"

#define NPY_MAX_HEADER 65536
/* bounds what a header may make us allocate, too */
#define NPY_MAX_FILE_BYTES ((size_t) 1 << 36)

static int
fail (imgrec_error *err, const char *fmt, const char *a, const char *b)
{
  if (err)
    snprintf (err->message, sizeof err->message, fmt, a, b);
  return -1;
}

static int
parse_descr (const char *descr, imgrec_dtype *dtype, size_t *size)
{
  static const struct { const char *code; imgrec_dtype dtype; size_t size; } table[] = {
    { "<f4", IMGREC_DTYPE_FLOAT, 4 }, { "<f2", IMGREC_DTYPE_FLOAT16, 2 },
    { "<f8", IMGREC_DTYPE_DOUBLE, 8 }, { "<i8", IMGREC_DTYPE_INT64, 8 },
    { "<i4", IMGREC_DTYPE_INT32, 4 }, { "<i2", IMGREC_DTYPE_INT16, 2 },
    { "|i1", IMGREC_DTYPE_INT8, 1 }, { "|u1", IMGREC_DTYPE_UINT8, 1 },
    { "<u2", IMGREC_DTYPE_UINT16, 2 }, { "<u4", IMGREC_DTYPE_UINT32, 4 },
    { "|b1", IMGREC_DTYPE_BOOL, 1 },
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp (descr, table[i].code) == 0) {
      *dtype = table[i].dtype;
      *size = table[i].size;
      return 0;
    }
  return -1;
}

int
npy_read (const char *path, npy_array *out, imgrec_error *err)
{
  memset (out, 0, sizeof *out);
  /* a FIFO or device named as an input would block or never end */
  size_t file_size = 0;
  int fd = ir_checked_open (path, ".npy file", NPY_MAX_FILE_BYTES, &file_size, err);
  if (fd < 0)
    return -1;
  FILE *f = fdopen (fd, "rb");
  if (f == NULL) {
    close (fd);
    return fail (err, "cannot open '%s': %s", path, strerror (errno));
  }
  unsigned char magic[10];
  if (fread (magic, 1, 8, f) != 8 || memcmp (magic, "\x93NUMPY", 6) != 0) {
    fclose (f);
    return fail (err, "'%s' is not a NumPy .npy file%s", path, "");
  }
  size_t header_len;
  if (magic[6] == 1) {
    unsigned char b[2];
    if (fread (b, 1, 2, f) != 2)
      goto truncated;
    header_len = b[0] | (size_t) b[1] << 8;
  } else {
    unsigned char b[4];
    if (fread (b, 1, 4, f) != 4)
      goto truncated;
    header_len = b[0] | (size_t) b[1] << 8 | (size_t) b[2] << 16 | (size_t) b[3] << 24;
  }
  if (header_len > NPY_MAX_HEADER)
    goto bad_header;
  char header[NPY_MAX_HEADER + 1];
  if (fread (header, 1, header_len, f) != header_len)
    goto truncated;
  header[header_len] = '\0';

  char descr[16] = "";
  const char *d = strstr (header, "'descr':");
  if (d == NULL || sscanf (d, "'descr': '%15[^']'", descr) != 1)
    goto bad_header;
  size_t elem_size;
  if (parse_descr (descr, &out->dtype, &elem_size) < 0) {
    fclose (f);
    return fail (err, "'%s' has NumPy type '%s'; float32, float16, float64, int64, int32, "
        "int8, uint8 or bool is needed", path, descr);
  }
  if (strstr (header, "'fortran_order': True") != NULL) {
    fclose (f);
    return fail (err, "'%s' is in Fortran order; save it in C order%s", path, "");
  }
  const char *s = strstr (header, "'shape':");
  if (s == NULL || (s = strchr (s, '(')) == NULL)
    goto bad_header;
  s++;
  int64_t numel = 1;
  while (*s != ')' && *s != '\0') {
    while (*s == ' ' || *s == ',')
      s++;
    if (*s == ')')
      break;
    char *end;
    long long v = strtoll (s, &end, 10);
    if (end == s || v < 0 || out->rank >= IMGREC_MAX_RANK)
      goto bad_header;
    if (v != 0 && numel > ((int64_t) 1 << 40) / v)
      goto bad_header;
    out->dims[out->rank++] = v;
    numel *= v;
    s = end;
  }
  size_t bytes = (size_t) numel * elem_size;
  if (bytes > file_size)
    goto truncated;             /* before allocating what the header claims */
  out->data = malloc (bytes ? bytes : 1);
  if (out->data == NULL) {
    fclose (f);
    return fail (err, "out of memory reading '%s'%s", path, "");
  }
  if (fread (out->data, 1, bytes, f) != bytes) {
    npy_free (out);
    goto truncated;
  }
  fclose (f);
  return 0;
truncated:
  fclose (f);
  return fail (err, "'%s' is truncated%s", path, "");
bad_header:
  fclose (f);
  return fail (err, "'%s' has a malformed .npy header%s", path, "");
}

void
npy_free (npy_array *a)
{
  free (a->data);
  a->data = NULL;
}

int
npy_write_f32 (const char *path, const float *data, int rank, const int64_t *dims,
    imgrec_error *err)
{
  char shape[256] = "";
  size_t pos = 0;
  int64_t numel = 1;
  for (int i = 0; i < rank; i++) {
    pos += (size_t) snprintf (shape + pos, sizeof shape - pos, "%lld,%s", (long long) dims[i],
        i + 1 < rank ? " " : "");
    numel *= dims[i];
  }
  if (rank > 1)
    shape[pos - 1] = '\0';   /* numpy writes (1,) for rank 1 and (2, 3) otherwise */
  char header[512];
  int n = snprintf (header, sizeof header,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape);
  int total = 10 + n + 1;
  int pad = (64 - total % 64) % 64;
  FILE *f = fopen (path, "wb");
  if (f == NULL)
    return fail (err, "cannot write '%s': %s", path, strerror (errno));
  unsigned short len = (unsigned short) (n + pad + 1);
  fwrite ("\x93NUMPY\x01\x00", 1, 8, f);
  fputc (len & 0xff, f);
  fputc (len >> 8, f);
  fwrite (header, 1, (size_t) n, f);
  for (int i = 0; i < pad; i++)
    fputc (' ', f);
  fputc ('\n', f);
  size_t written = numel > 0 ? fwrite (data, sizeof (float), (size_t) numel, f) : 0;
  if (fclose (f) != 0 || written != (size_t) numel)
    return fail (err, "cannot write '%s': %s", path, "disk full or I/O error");
  return 0;
}
