/* Minimal NumPy .npy reader/writer (format versions 1-3, C order). */
#ifndef IMGREC_NPY_H
#define IMGREC_NPY_H

#include <stdint.h>

#include "imgrec/engine.h"

typedef struct npy_array {
  imgrec_dtype dtype;
  int rank;
  int64_t dims[IMGREC_MAX_RANK];
  void *data;          /* malloc'd, native little-endian */
} npy_array;

/* 0 on success; -1 with a sentence in err. */
int npy_read (const char *path, npy_array *out, imgrec_error *err);
void npy_free (npy_array *a);
/* Writes float32 data. */
int npy_write_f32 (const char *path, const float *data, int rank, const int64_t *dims,
    imgrec_error *err);

#endif
