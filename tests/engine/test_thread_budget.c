/* The process-wide thread budget: sessions created with threads = 0 share
 * it (an equal share among the sessions that ran lately, the remainder to
 * the oldest, at least one each), sessions with a fixed count keep theirs
 * and leave the rest to the others, a freed session gives its share back,
 * and a run on fewer threads than its pool has (workers left out of the
 * job) computes the same outputs as one on all of them.  Budgeted sessions
 * run in shared arenas: a session's outputs stay its own while another
 * session runs in the arena it used, and four threads running four
 * sessions at once on one or two arenas get the outputs of lone runs.
 *
 * Usage: test-thread-budget MODEL.onnx */
#include <math.h>
#include <pthread.h>
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

/* Runs the session on `in`; returns the threads the run used; out (may be
 * NULL) gets output 0 (capacity n_out). */
static int
run_on (imgrec_session *s, const float *in, float *out, int64_t n_out)
{
  imgrec_error err;
  if (imgrec_session_set_input (s, 0, IMGREC_DTYPE_FLOAT, dims, rank, in, &err) < 0
      || imgrec_session_run (s, &err) < 0
      || (out && imgrec_session_output_float (s, 0, out, n_out, &err) < 0)) {
    printf ("FAIL: run: %s\n", err.message);
    exit (1);
  }
  return imgrec_session_threads (s);
}

/* Outputs equal up to summation order (kernels may split work by width). */
static int
close_outputs (const float *a, const float *b, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    if (fabsf (a[i] - b[i]) > 1e-5f * (1.0f + fabsf (a[i])))
      return 0;
  return 1;
}

static int
run (imgrec_session *s, float *out, int64_t n_out)
{
  return run_on (s, input, out, n_out);
}

#define N_OUT_MAX 4096
#define N_WORKERS 4

static int64_t numel_in, n_out;

typedef struct worker {
  imgrec_session *session;
  float *in;
  float expected[N_OUT_MAX];
  int mismatches;
} worker;

static void *
worker_main (void *p)
{
  worker *w = p;
  float got[N_OUT_MAX];
  for (int r = 0; r < 5; r++) {
    run_on (w->session, w->in, got, n_out);
    if (!close_outputs (got, w->expected, n_out))
      w->mismatches++;
  }
  return NULL;
}

/* N_WORKERS sessions with their own inputs, run at once on `budget`
 * shared arenas, give the outputs each gave alone. */
static void
check_concurrent_runs (const imgrec_model *model, int budget)
{
  worker w[N_WORKERS];
  pthread_t t[N_WORKERS];
  imgrec_set_thread_budget (budget);
  for (int k = 0; k < N_WORKERS; k++) {
    w[k].session = new_session (model, 0);
    w[k].in = malloc ((size_t) numel_in * sizeof (float));
    for (int64_t i = 0; i < numel_in; i++)
      w[k].in[i] = (float) (((i + 31 * k) * 7919) % 255) / 255.0f;
    w[k].mismatches = 0;
    run_on (w[k].session, w[k].in, w[k].expected, n_out);
  }
  for (int k = 0; k < N_WORKERS; k++)
    pthread_create (&t[k], NULL, worker_main, &w[k]);
  for (int k = 0; k < N_WORKERS; k++) {
    pthread_join (t[k], NULL);
    if (w[k].mismatches) {
      printf ("FAIL: budget %d: session %d's outputs changed in %d of 5 concurrent runs\n",
          budget, k, w[k].mismatches);
      failures++;
    }
    imgrec_session_free (w[k].session);
    free (w[k].in);
  }
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
  numel_in = numel;
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
  n_out = 1;
  for (int i = 0; i < out->rank; i++)
    n_out *= out->dims[i] < 0 ? 1 : out->dims[i];
  if (n_out > N_OUT_MAX)
    n_out = N_OUT_MAX;
  imgrec_session *e = new_session (model, 0);
  imgrec_session *f = new_session (model, 0);
  imgrec_session *g = new_session (model, 0);
  imgrec_session *h = new_session (model, 0);
  run (e, NULL, 0);
  run (f, NULL, 0);
  run (g, NULL, 0);
  run (h, NULL, 0);
  CHECK_EQ (run (a, narrow, 4096), 1, "five sessions on a budget of 4");
  if (!close_outputs (wide, narrow, n_out) || !close_outputs (wide, half, n_out)) {
    printf ("FAIL: the outputs on 4, 2 and 1 threads differ\n");
    failures++;
  }
  imgrec_session_free (e);
  imgrec_session_free (f);
  imgrec_session_free (g);
  imgrec_session_free (h);
  /* the width going up and down from run to run (workers left out of a job
   * sleep apart and must be woken when one includes them again) */
  float again[N_OUT_MAX];
  /* widths 1, 4, 3, 2 in turn, ten times (each run takes ~0.4 s in the
   * debug sanitizer build) */
  for (int i = 0; i < 40; i++) {
    int budget = 1 + (i * 7) % 4;
    imgrec_set_thread_budget (budget);
    int got = run (a, again, N_OUT_MAX);
    if (got != budget || !close_outputs (again, wide, n_out)) {
      printf ("FAIL: run %d at budget %d: %d threads, or other outputs than on 4\n", i,
          budget, got);
      failures++;
      break;
    }
  }
  imgrec_set_thread_budget (4);
  imgrec_session_free (a);

  /* one arena for two sessions: the first's outputs survive the second's
   * run in the arena it used */
  imgrec_set_thread_budget (1);
  imgrec_session *p = new_session (model, 0), *q = new_session (model, 0);
  float *other = malloc ((size_t) numel * sizeof *other);
  for (int64_t i = 0; i < numel; i++)
    other[i] = 1.0f - input[i];
  float mine[N_OUT_MAX], theirs[N_OUT_MAX];
  run_on (p, input, mine, n_out);
  run_on (q, other, theirs, n_out);
  const float *kept = imgrec_session_output (p, 0, NULL);
  if (memcmp (kept, mine, (size_t) n_out * sizeof *kept) != 0
      || memcmp (mine, theirs, (size_t) n_out * sizeof *mine) == 0) {
    printf ("FAIL: a session's outputs changed when another ran in its arena\n");
    failures++;
  }
  free (other);
  imgrec_session_free (p);
  imgrec_session_free (q);

  check_concurrent_runs (model, 1);
  check_concurrent_runs (model, 2);
  imgrec_model_free (model);
  free (input);
  if (failures == 0)
    printf ("ok: thread budget shares, fixed counts, narrow runs, shared arenas\n");
  return failures != 0;
}
