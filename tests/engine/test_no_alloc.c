/* "No allocation per run after the first": after a session has run once
 * with given input shapes, further set_input + run calls must not call the
 * allocator.  malloc and friends are wrapped at link time (-Wl,--wrap) so
 * every allocation made by the engine's code is counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgrec/engine.h"

static long allocations;
static int counting;

void *__real_malloc (size_t size);
void *__real_calloc (size_t n, size_t size);
void *__real_realloc (void *p, size_t size);
int __real_posix_memalign (void **p, size_t align, size_t size);

void *__wrap_malloc (size_t size) { allocations += counting; return __real_malloc (size); }
void *__wrap_calloc (size_t n, size_t size) { allocations += counting; return __real_calloc (n, size); }
void *__wrap_realloc (void *p, size_t size) { allocations += counting; return __real_realloc (p, size); }
int __wrap_posix_memalign (void **p, size_t align, size_t size)
{
  allocations += counting;
  return __real_posix_memalign (p, align, size);
}

static int
check_model (const char *path, int threads)
{
  imgrec_error err;
  /* Loading allocates: seeing it counted proves the wrapping works, so the
   * zero below means something. */
  counting = 1;
  long before_load = allocations;
  imgrec_model *model = imgrec_model_load (path, &err);
  counting = 0;
  if (model != NULL && allocations == before_load) {
    printf ("FAIL: allocations are not being counted (link wrapping broken)\n");
    return 1;
  }
  if (model == NULL) {
    printf ("FAIL %s: %s\n", path, err.message);
    return 1;
  }
  imgrec_session_options so = { .threads = threads };
  imgrec_session *s = imgrec_session_new (model, &so, &err);
  float *buffers[8] = { 0 };
  int n = imgrec_model_n_inputs (model);
  int64_t dims[8][IMGREC_MAX_RANK];
  int ranks[8];
  for (int i = 0; i < n && i < 8; i++) {
    const imgrec_tensor_info *info = imgrec_model_input (model, i);
    int64_t numel = 1;
    ranks[i] = info->rank;
    for (int d = 0; d < info->rank; d++) {
      dims[i][d] = info->dims[d] < 0 ? 2 : info->dims[d];
      numel *= dims[i][d];
    }
    buffers[i] = calloc ((size_t) numel, sizeof (float));
    for (int64_t k = 0; k < numel; k++)
      buffers[i][k] = (float) ((k * 7919) % 255) / 255.0f;
  }
  int failed = 0;
  for (int iteration = 0; iteration < 4 && !failed; iteration++) {
    counting = iteration > 0;   /* the first run plans and may allocate */
    long before = allocations;
    for (int i = 0; i < n && i < 8; i++)
      if (imgrec_session_set_input (s, i, IMGREC_DTYPE_FLOAT, dims[i], ranks[i], buffers[i],
              &err) < 0)
        failed = 1;
    if (!failed && imgrec_session_run (s, &err) < 0)
      failed = 1;
    counting = 0;
    if (failed) {
      printf ("FAIL %s: %s\n", path, err.message);
    } else if (iteration > 0 && allocations != before) {
      printf ("FAIL %s (%d threads): run %d allocated %ld times\n", path, threads, iteration + 1,
          allocations - before);
      failed = 1;
    }
  }
  if (!failed)
    printf ("PASS %s (%d threads): no allocation after the first run\n", path, threads);
  for (int i = 0; i < n && i < 8; i++)
    free (buffers[i]);
  imgrec_session_free (s);
  imgrec_model_free (model);
  return failed;
}

int
main (int argc, char **argv)
{
  int failed = 0, total = 0;
  for (int i = 1; i < argc; i++)
    /* 0: a budgeted session, whose runs lease a shared arena */
    for (int threads = 0; threads <= 2; threads++) {
      failed += check_model (argv[i], threads);
      total++;
    }
  printf ("%d passed, %d failed\n", total - failed, failed);
  return failed ? 1 : 0;
}
