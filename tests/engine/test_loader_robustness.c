/* Malformed models must give an error, never a crash, hang or huge
 * allocation: every conformance model (or the models given on the command
 * line) is truncated at many lengths and bit-flipped at many positions, and
 * each variant is loaded (and, when it loads, run on zero inputs). */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "imgrec/engine.h"
#include "onnx.pb-c.h"

static int loaded, rejected;

static void *
read_file (const char *path, size_t *size)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return NULL;
  fseek (f, 0, SEEK_END);
  long n = ftell (f);
  fseek (f, 0, SEEK_SET);
  void *data = malloc (n > 0 ? (size_t) n : 1);
  if (data && fread (data, 1, (size_t) n, f) != (size_t) n) {
    free (data);
    data = NULL;
  }
  fclose (f);
  *size = (size_t) n;
  return data;
}

static void
try_model (const unsigned char *data, size_t size)
{
  imgrec_error err;
  err.message[0] = '\0';
  /* IMGREC_DUMP_VARIANT=path keeps the variant being tried, to reproduce a crash. */
  const char *dump = getenv ("IMGREC_DUMP_VARIANT");
  if (dump != NULL) {
    FILE *f = fopen (dump, "wb");
    if (f != NULL) {
      fwrite (data, 1, size, f);
      fclose (f);
    }
  }
  imgrec_model *model = imgrec_model_load_from_memory (data, size, &err);
  if (model == NULL) {
    if (err.message[0] == '\0') {
      fprintf (stderr, "FAIL: a malformed model was rejected without a message\n");
      exit (1);
    }
    rejected++;
    return;
  }
  loaded++;
  imgrec_session_options so = { .threads = 1, .max_memory_bytes = (size_t) 256 << 20 };
  imgrec_session *s = imgrec_session_new (model, &so, &err);
  if (s != NULL) {
    /* Feed small zero inputs of the declared shape; errors are fine. */
    bool ok = true;
    for (int i = 0; i < imgrec_model_n_inputs (model) && ok; i++) {
      const imgrec_tensor_info *info = imgrec_model_input (model, i);
      int64_t dims[IMGREC_MAX_RANK];
      int rank = info->rank < 0 ? 1 : info->rank;
      int64_t n = 1;
      for (int d = 0; d < rank; d++) {
        dims[d] = info->rank < 0 || info->dims[d] < 0 ? 1 : info->dims[d];
        n *= dims[d];
      }
      if (n > (1 << 22)) {
        ok = false;
        break;
      }
      float *zeros = calloc ((size_t) n + 1, sizeof *zeros);
      ok = imgrec_session_set_input (s, i, IMGREC_DTYPE_FLOAT, dims, rank, zeros, &err) == 0;
      free (zeros);
    }
    if (ok)
      imgrec_session_run (s, &err);
    imgrec_session_free (s);
  }
  imgrec_model_free (model);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t
next (void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void
mutate_file (const char *path, int flips)
{
  size_t size;
  unsigned char *data = read_file (path, &size);
  if (data == NULL || size == 0) {
    free (data);
    return;
  }
  unsigned char *copy = malloc (size);
  /* Truncations: every length for small files, a spread for large ones. */
  size_t step = size > 400 ? size / 200 : 1;
  for (size_t len = 0; len < size; len += step)
    try_model (data, len);
  for (int f = 0; f < flips; f++) {
    memcpy (copy, data, size);
    int nbits = 1 + (int) (next () % 4);
    for (int b = 0; b < nbits; b++) {
      size_t pos = next () % size;
      copy[pos] ^= (unsigned char) (1u << (next () % 8));
    }
    try_model (copy, size);
  }
  /* Byte overwrites with varint-looking values (huge counts/dims). */
  for (int f = 0; f < flips / 4; f++) {
    memcpy (copy, data, size);
    size_t pos = next () % size;
    copy[pos] = (unsigned char) (next () % 2 ? 0xff : 0x7f);
    try_model (copy, size);
  }
  free (copy);
  free (data);
}

/* Inputs the fuzzer once crashed on or ran out of memory with: each must now
 * load or fail with a message. */
static int
run_regressions (int n, char **paths)
{
  for (int i = 0; i < n; i++) {
    size_t size;
    unsigned char *data = read_file (paths[i], &size);
    if (data == NULL) {
      printf ("FAIL: cannot read regression input %s\n", paths[i]);
      return 1;
    }
    try_model (data, size);
    free (data);
  }
  printf ("%d fuzz regression inputs handled\n", n);
  return 0;
}

/* A node that sets one attribute twice (a second `strides` on a Conv) is
 * refused, with a message naming the node and the attribute; the model
 * without the copy loads. */
static int
check_duplicate_attribute (const char *dir)
{
  char path[4096];
  size_t size;
  snprintf (path, sizeof path, "%s/test_conv_with_strides_padding/model.onnx", dir);
  unsigned char *data = read_file (path, &size);
  if (data == NULL) {
    printf ("FAIL: cannot read %s\n", path);
    return 1;
  }
  Onnx__ModelProto *mp = onnx__model_proto__unpack (NULL, size, data);
  free (data);
  if (mp == NULL || mp->graph == NULL || mp->graph->n_node < 1) {
    printf ("FAIL: %s does not parse\n", path);
    return 1;
  }
  Onnx__NodeProto *np = mp->graph->node[0];
  char *original_name = np->name;
  np->name = (char *) "conv_twice";
  Onnx__AttributeProto **original = np->attribute;
  size_t n = np->n_attribute, found = n;
  for (size_t i = 0; i < n; i++)
    if (strcmp (original[i]->name, "strides") == 0)
      found = i;
  if (found == n) {
    printf ("FAIL: %s has no strides attribute\n", path);
    return 1;
  }
  Onnx__AttributeProto *twice[64];
  if (n + 1 > sizeof twice / sizeof twice[0])
    return 1;
  memcpy (twice, original, n * sizeof *twice);
  twice[n] = original[found];
  int failures = 0;
  for (int duplicated = 0; duplicated <= 1; duplicated++) {
    np->attribute = duplicated ? twice : original;
    np->n_attribute = n + (size_t) duplicated;
    size_t len = onnx__model_proto__get_packed_size (mp);
    uint8_t *buf = malloc (len);
    onnx__model_proto__pack (mp, buf);
    imgrec_error err;
    err.message[0] = '\0';
    imgrec_model *model = imgrec_model_load_from_memory (buf, len, &err);
    free (buf);
    if (!duplicated && model == NULL) {
      printf ("FAIL: the model without a duplicate did not load: %s\n", err.message);
      failures++;
    } else if (duplicated && (model != NULL || strstr (err.message, "conv_twice") == NULL
            || strstr (err.message, "'strides'") == NULL)) {
      printf ("FAIL: a Conv with strides twice %s (%s)\n", model ? "loaded" : "was refused",
          err.message);
      failures++;
    } else if (duplicated) {
      printf ("duplicate attribute refused: %s\n", err.message);
    }
    imgrec_model_free (model);
  }
  np->attribute = original;
  np->n_attribute = n;
  np->name = original_name;
  onnx__model_proto__free_unpacked (mp, NULL);
  return failures;
}

int
main (int argc, char **argv)
{
  if (argc > 1 && strcmp (argv[1], "--regressions") == 0)
    return run_regressions (argc - 2, argv + 2);
  const char *dir = argc > 1 ? argv[1] : "/usr/share/libonnx-testdata/data/node";
  DIR *d = opendir (dir);
  if (d == NULL) {
    printf ("SKIP: no model folder %s\n", dir);
    return 77;
  }
  struct dirent *e;
  int files = 0;
  /* A fixed, varied selection keeps the test quick. */
  static const char *const picks[] = {
    "test_conv_with_strides_padding", "test_lstm_with_peepholes", "test_gru_defaults",
    "test_resize_upsample_scales_linear", "test_slice", "test_reshape_negative_dim",
    "test_maxpool_2d_pads", "test_batchnorm_example", "test_gemm_all_attributes",
    "test_constant", "test_convtranspose_output_shape", "test_expand_dim_changed",
    "test_gather_negative_indices", "test_split_equal_parts_1d", "test_pad",
  };
  while ((e = readdir (d)) != NULL) {
    bool pick = false;
    for (size_t i = 0; i < sizeof picks / sizeof picks[0]; i++)
      pick |= strcmp (e->d_name, picks[i]) == 0;
    if (!pick)
      continue;
    char path[4096];
    snprintf (path, sizeof path, "%s/%s/model.onnx", dir, e->d_name);
    mutate_file (path, 400);
    files++;
  }
  closedir (d);
  printf ("%d models mutated: %d variants loaded, %d rejected with a message\n", files, loaded,
      rejected);
  if (check_duplicate_attribute (dir) != 0) {
    printf ("%d passed, 1 failed\n", loaded + rejected);
    return 1;
  }
  printf ("%d passed, 0 failed\n", loaded + rejected + 1);
  return 0;
}
