/* The process-wide thread budget: sessions created with threads = 0 share
 * it (an equal share among the sessions that ran lately, the remainder to
 * the oldest, at least one each), sessions with a fixed count keep theirs
 * and leave the rest to the others, a freed session gives its share back,
 * and a run on fewer threads than its pool has (workers left out of the
 * job) computes the same outputs as one on all of them.
 *
 * Usage: test-thread-budget MODEL.onnx */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgrec/engine.h"

static int failures;

#define CHECK_EQ(got, expected, what) do {                                   \
    int got_ = (got), expected_ = (expected);                               \
    if (got_ != expected_) {                                                \
      printf ("FAIL: %s: %d, expected %d\n", what, got_, expected_);        \
      failures++;                                                           \
    }                                                                       \
  } while (0)

static float *input;
static int64_t dims[IMGREC_MAX_RANK];
static int rank;

static imgrec_session *
new_session (const imgrec_model *model, int threads)
{
  imgrec_error err;
  imgrec_session_options so = { .threads = threads };
  imgrec_session *s = imgrec_session_new (model, &so, &err);
  if (s == NULL) {
    printf ("FAIL: session: %s\n", err.message);
    exit (1);
  }
  return s;
}

/* Runs the session; returns the threads the run used; out (may be NULL)
 * gets output 0 (capacity n_out). */
static int
run (imgrec_session *s, float *out, int64_t n_out)
{
  imgrec_error err;
  if (imgrec_session_set_input (s, 0, IMGREC_DTYPE_FLOAT, dims, rank, input, &err) < 0
      || imgrec_session_run (s, &err) < 0
      || (out && imgrec_session_output_float (s, 0, out, n_out, &err) < 0)) {
    printf ("FAIL: run: %s\n", err.message);
    exit (1);
  }
  return imgrec_session_threads (s);
}

int
main (int argc, char **argv)
{
  imgrec_error err;
  if (argc != 2) {
    fprintf (stderr, "usage: %s MODEL.onnx\n", argv[0]);
    return 2;
  }
  /* the environment's budget, read once, before anything asks for it */
  setenv ("IMGREC_THREAD_BUDGET", "3", 1);
  CHECK_EQ (imgrec_thread_budget (), 3, "budget from IMGREC_THREAD_BUDGET");
  imgrec_set_thread_budget (4);
  CHECK_EQ (imgrec_thread_budget (), 4, "budget set");

  imgrec_model *model = imgrec_model_load (argv[1], &err);
  if (model == NULL) {
    printf ("FAIL: %s: %s\n", argv[1], err.message);
    return 1;
  }
  const imgrec_tensor_info *info = imgrec_model_input (model, 0);
  int64_t numel = 1;
  rank = info->rank;
  for (int d = 0; d < rank; d++) {
    dims[d] = info->dims[d] < 0 ? 1 : info->dims[d];
    numel *= dims[d];
  }
  input = malloc ((size_t) numel * sizeof *input);
  for (int64_t i = 0; i < numel; i++)
    input[i] = (float) ((i * 7919) % 255) / 255.0f;

  imgrec_session *a = new_session (model, 0), *b = new_session (model, 0);
  imgrec_session *c = new_session (model, 0);
  float wide[4096], half[4096], narrow[4096];
  CHECK_EQ (run (a, wide, 4096), 4, "one session: the whole budget");
  CHECK_EQ (run (b, NULL, 0), 2, "second session: half");
  CHECK_EQ (run (a, NULL, 0), 2, "first session, with the second active: half");
  CHECK_EQ (run (c, NULL, 0), 1, "third (4 / 3, the remainder to the oldest)");
  CHECK_EQ (run (a, half, 4096), 2, "first of three: 1 + the remainder");
  CHECK_EQ (run (b, NULL, 0), 1, "second of three");

  imgrec_session *fixed = new_session (model, 3);
  CHECK_EQ (run (fixed, NULL, 0), 3, "a fixed count is kept");
  CHECK_EQ (run (a, NULL, 0), 1, "4 - 3 fixed left to three sessions: one each");

  imgrec_session_free (fixed);
  imgrec_session_free (b);
  imgrec_session_free (c);
  CHECK_EQ (run (a, NULL, 0), 4, "freed sessions give their share back");

  /* a run on 1 of the pool's 4 threads and one on all 4 agree */
  imgrec_session *d = new_session (model, 0);
  CHECK_EQ (run (d, NULL, 0), 2, "a new session");
  imgrec_session_free (d);
  const imgrec_tensor_info *out = imgrec_model_output (model, 0);
  int64_t n_out = 1;
  for (int i = 0; i < out->rank; i++)
    n_out *= out->dims[i] < 0 ? 1 : out->dims[i];
  if (n_out > 4096)
    n_out = 4096;
  imgrec_session *e = new_session (model, 0);
  imgrec_session *f = new_session (model, 0);
  imgrec_session *g = new_session (model, 0);
  imgrec_session *h = new_session (model, 0);
  run (e, NULL, 0);
  run (f, NULL, 0);
  run (g, NULL, 0);
  run (h, NULL, 0);
  CHECK_EQ (run (a, narrow, 4096), 1, "five sessions on a budget of 4");
  for (int64_t i = 0; i < n_out; i++)
    if (fabsf (wide[i] - narrow[i]) > 1e-5f * (1.0f + fabsf (wide[i]))
        || fabsf (wide[i] - half[i]) > 1e-5f * (1.0f + fabsf (wide[i]))) {
      printf ("FAIL: output %lld: %g on 4 threads, %g on 2, %g on 1\n",
          (long long) i, wide[i], half[i], narrow[i]);
      failures++;
      break;
    }
  imgrec_session_free (e);
  imgrec_session_free (f);
  imgrec_session_free (g);
  imgrec_session_free (h);
  imgrec_session_free (a);
  imgrec_model_free (model);
  free (input);
  if (failures == 0)
    printf ("ok: thread budget shares, fixed counts, narrow runs\n");
  return failures != 0;
}
