/* imgrec-run: inspect, run and benchmark an ONNX model with the engine.
 *
 *   imgrec-run MODEL.onnx --info
 *   imgrec-run MODEL.onnx --input NAME=FILE.npy ... [--random-inputs SEED] --output-dir DIR
 *   imgrec-run MODEL.onnx --bench N [--warmup W] [--threads T] [--input ...|--random-inputs SEED]
 *   imgrec-run MODEL.onnx --profile [--bench N] ...   per-node / per-op-type table, then the JSON
 *
 * --threads T: a session of T threads (default: the online CPUs); 0: a share of the
 * process's thread budget, in a leased arena, as the GStreamer elements' threads=0.
 *
 * Errors are one sentence on stderr and exit status 1. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#include "imgrec/engine.h"
#include "npy.h"

#define MAX_INPUTS 64

typedef struct options {
  const char *model;
  bool info;
  const char *input_names[MAX_INPUTS];
  const char *input_files[MAX_INPUTS];
  int n_inputs;
  bool random_inputs;
  unsigned long long seed;
  const char *output_dir;
  int bench;
  int warmup;
  int threads;
  bool budget;                 /* --threads 0: the process's thread budget */
  bool profile;
} options;

static void
usage (FILE *to)
{
  fprintf (to,
      "usage: imgrec-run MODEL.onnx --info\n"
      "       imgrec-run MODEL.onnx [--input NAME=FILE.npy]... [--random-inputs SEED] "
      "--output-dir DIR [--threads T]\n"
      "       imgrec-run MODEL.onnx --bench N [--warmup W] [--threads T] "
      "[--input NAME=FILE.npy]... [--random-inputs SEED] [--profile]\n"
      "       --threads 0: a share of the process's thread budget (leased arena)\n");
}

static int
die (const char *fmt, const char *a, const char *b)
{
  fprintf (stderr, "imgrec-run: ");
  fprintf (stderr, fmt, a, b);
  fputc ('\n', stderr);
  return 1;
}

static bool
parse_int (const char *s, long long min, long long max, long long *out)
{
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
    return false;
  *out = v;
  return true;
}

static int
parse_args (int argc, char **argv, options *o)
{
  memset (o, 0, sizeof *o);
  o->warmup = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    long long v;
    if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
      usage (stdout);
      exit (0);
    } else if (strcmp (a, "--profile") == 0) {
      o->profile = true;
    } else if (strcmp (a, "--info") == 0) {
      o->info = true;
    } else if (strcmp (a, "--input") == 0 && next) {
      const char *eq = strchr (next, '=');
      if (eq == NULL || eq == next)
        return die ("--input expects NAME=FILE.npy, got '%s'%s", next, "");
      if (o->n_inputs == MAX_INPUTS)
        return die ("too many --input options%s%s", "", "");
      char *name = strndup (next, (size_t) (eq - next));
      o->input_names[o->n_inputs] = name;
      o->input_files[o->n_inputs++] = eq + 1;
      i++;
    } else if (strcmp (a, "--random-inputs") == 0 && next) {
      if (!parse_int (next, 0, INT64_MAX, &v))
        return die ("--random-inputs expects a non-negative integer seed, got '%s'%s", next, "");
      o->random_inputs = true;
      o->seed = (unsigned long long) v;
      i++;
    } else if (strcmp (a, "--output-dir") == 0 && next) {
      o->output_dir = next;
      i++;
    } else if (strcmp (a, "--bench") == 0 && next) {
      if (!parse_int (next, 1, 1000000, &v))
        return die ("--bench expects a run count between 1 and 1000000, got '%s'%s", next, "");
      o->bench = (int) v;
      i++;
    } else if (strcmp (a, "--warmup") == 0 && next) {
      if (!parse_int (next, 0, 1000000, &v))
        return die ("--warmup expects a count between 0 and 1000000, got '%s'%s", next, "");
      o->warmup = (int) v;
      i++;
    } else if (strcmp (a, "--threads") == 0 && next) {
      if (!parse_int (next, 0, 256, &v))
        return die ("--threads expects a number between 0 and 256, got '%s'%s", next, "");
      o->threads = (int) v;
      o->budget = v == 0;
      i++;
    } else if (a[0] == '-' ) {
      usage (stderr);
      return die ("unknown or incomplete option '%s'%s", a, "");
    } else if (o->model == NULL) {
      o->model = a;
    } else {
      return die ("unexpected argument '%s' (only one model may be given)%s", a, "");
    }
  }
  if (o->model == NULL) {
    usage (stderr);
    return die ("no model given%s%s", "", "");
  }
  if (o->profile && o->bench == 0)
    o->bench = 10;
  if (!o->info && o->bench == 0 && o->output_dir == NULL) {
    usage (stderr);
    return die ("nothing to do: give --info, --output-dir DIR or --bench N%s%s", "", "");
  }
  return 0;
}

static void
print_info (const imgrec_model *model, const char *path)
{
  printf ("model: %s\n", path);
  printf ("ir_version: %lld, opset: %lld, producer: %s\n",
      (long long) imgrec_model_ir_version (model), (long long) imgrec_model_opset (model),
      imgrec_model_producer (model));
  for (int pass = 0; pass < 2; pass++) {
    int n = pass == 0 ? imgrec_model_n_inputs (model) : imgrec_model_n_outputs (model);
    printf ("%s:\n", pass == 0 ? "inputs" : "outputs");
    for (int i = 0; i < n; i++) {
      const imgrec_tensor_info *t = pass == 0 ? imgrec_model_input (model, i)
          : imgrec_model_output (model, i);
      printf ("  %s: %s [", t->name, imgrec_dtype_name (t->dtype));
      if (t->rank < 0)
        printf ("unknown rank");
      for (int d = 0; d < t->rank; d++) {
        if (t->dims[d] >= 0)
          printf ("%s%lld", d ? ", " : "", (long long) t->dims[d]);
        else
          printf ("%s%s", d ? ", " : "", t->dim_names[d] ? t->dim_names[d] : "?");
      }
      printf ("]\n");
    }
  }
  int n_meta = imgrec_model_n_metadata (model);
  printf ("metadata_props:%s\n", n_meta ? "" : " (none)");
  for (int i = 0; i < n_meta; i++) {
    printf ("  %s: ", imgrec_model_metadata_key (model, i));
    /* Multi-line values (label lists) are indented under their key. */
    for (const char *c = imgrec_model_metadata_value (model, i); *c; c++) {
      putchar (*c);
      if (*c == '\n' && c[1] != '\0')
        printf ("    ");
    }
    putchar ('\n');
  }
}

/* splitmix64: deterministic across platforms. */
static uint64_t
next_random (uint64_t *state)
{
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int
set_random_input (imgrec_session *session, const imgrec_model *model, int index,
    uint64_t *state, imgrec_error *err)
{
  const imgrec_tensor_info *info = imgrec_model_input (model, index);
  int64_t dims[IMGREC_MAX_RANK];
  int rank = info->rank < 0 ? 1 : info->rank;
  int64_t numel = 1;
  for (int d = 0; d < rank; d++) {
    dims[d] = info->rank < 0 || info->dims[d] < 0 ? 1 : info->dims[d];
    numel *= dims[d];
  }
  if (numel > ((int64_t) 1 << 30)) {
    snprintf (err->message, sizeof err->message, "input '%s' is too large for random data",
        info->name);
    return -1;
  }
  int rc;
  if (info->dtype == IMGREC_DTYPE_FLOAT || info->dtype == IMGREC_DTYPE_FLOAT16
      || info->dtype == IMGREC_DTYPE_DOUBLE) {
    float *data = malloc ((size_t) numel * sizeof *data + 1);
    if (data == NULL)
      return -1;
    for (int64_t i = 0; i < numel; i++)
      data[i] = (float) ((next_random (state) >> 40) * (1.0 / (1 << 24)) * 2.0 - 1.0);
    rc = imgrec_session_set_input (session, index, IMGREC_DTYPE_FLOAT, dims, rank, data, err);
    free (data);
  } else {
    int64_t *data = malloc ((size_t) numel * sizeof *data + 1);
    if (data == NULL)
      return -1;
    for (int64_t i = 0; i < numel; i++)
      data[i] = info->dtype == IMGREC_DTYPE_BOOL ? (int64_t) (next_random (state) & 1)
          : (int64_t) (next_random (state) % 10);
    rc = imgrec_session_set_input (session, index, IMGREC_DTYPE_INT64, dims, rank, data, err);
    free (data);
  }
  return rc;
}

static int
set_inputs (imgrec_session *session, const imgrec_model *model, const options *o)
{
  imgrec_error err;
  int n = imgrec_model_n_inputs (model);
  bool given[MAX_INPUTS * 4] = { false };
  for (int i = 0; i < o->n_inputs; i++) {
    int index = imgrec_model_input_index (model, o->input_names[i]);
    if (index < 0)
      return die ("the model has no input named '%s'%s", o->input_names[i], "");
    npy_array a;
    if (npy_read (o->input_files[i], &a, &err) < 0)
      return die ("%s%s", err.message, "");
    int rc = imgrec_session_set_input (session, index, a.dtype, a.dims, a.rank, a.data, &err);
    npy_free (&a);
    if (rc < 0)
      return die ("%s%s", err.message, "");
    if (index < (int) (sizeof given / sizeof given[0]))
      given[index] = true;
  }
  uint64_t state = o->seed;
  for (int i = 0; i < n; i++) {
    if (i < (int) (sizeof given / sizeof given[0]) && given[i])
      continue;
    if (!o->random_inputs)
      return die ("input '%s' was not given (use --input %s=FILE.npy or --random-inputs SEED)",
          imgrec_model_input (model, i)->name, imgrec_model_input (model, i)->name);
    if (set_random_input (session, model, i, &state, &err) < 0)
      return die ("%s%s", err.message, "");
  }
  return 0;
}

static void
sanitize_name (const char *name, char *out, size_t size)
{
  size_t i = 0;
  for (; name[i] != '\0' && i + 1 < size; i++) {
    char c = name[i];
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '.' || c == '_' || c == '-';
    out[i] = keep ? c : '_';
  }
  out[i] = '\0';
  if (strcmp (out, ".") == 0 || strcmp (out, "..") == 0 || out[0] == '\0')
    snprintf (out, size, "output");
}

static int
write_outputs (imgrec_session *session, const imgrec_model *model, const char *dir)
{
  if (mkdir (dir, 0777) != 0 && errno != EEXIST)
    return die ("cannot create output directory '%s': %s", dir, strerror (errno));
  imgrec_error err;
  for (int i = 0; i < imgrec_model_n_outputs (model); i++) {
    imgrec_tensor_info info;
    if (imgrec_session_output (session, i, &info) == NULL && info.rank < 0)
      return die ("output %s is not available%s", imgrec_model_output (model, i)->name, "");
    int64_t numel = 1;
    for (int d = 0; d < info.rank; d++)
      numel *= info.dims[d];
    float *data = malloc ((size_t) numel * sizeof *data + 1);
    if (data == NULL)
      return die ("out of memory for output '%s'%s", info.name, "");
    if (imgrec_session_output_float (session, i, data, numel, &err) < 0) {
      free (data);
      return die ("%s%s", err.message, "");
    }
    char file[512], path[4096];
    sanitize_name (info.name, file, sizeof file);
    snprintf (path, sizeof path, "%s/%s.npy", dir, file);
    int rc = npy_write_f32 (path, data, info.rank, info.dims, &err);
    free (data);
    if (rc < 0)
      return die ("%s%s", err.message, "");
  }
  return 0;
}

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
print_json_string (const char *s)
{
  putchar ('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      printf ("\\%c", *s);
    else if ((unsigned char) *s < 0x20)
      printf ("\\u%04x", *s);
    else
      putchar (*s);
  }
  putchar ('"');
}

static int
bench (imgrec_session *session, const options *o, double load_ms, int threads)
{
  imgrec_error err;
  for (int i = 0; i < o->warmup; i++)
    if (imgrec_session_run (session, &err) < 0)
      return die ("%s%s", err.message, "");
  double *times = malloc ((size_t) o->bench * sizeof *times);
  if (times == NULL)
    return die ("out of memory%s%s", "", "");
  if (o->profile)
    imgrec_session_set_profiling (session, 1);
  for (int i = 0; i < o->bench; i++) {
    double t0 = now_ms ();
    if (imgrec_session_run (session, &err) < 0) {
      free (times);
      return die ("%s%s", err.message, "");
    }
    times[i] = now_ms () - t0;
  }
  qsort (times, (size_t) o->bench, sizeof *times, compare_double);
  double median = o->bench % 2 ? times[o->bench / 2]
      : (times[o->bench / 2 - 1] + times[o->bench / 2]) / 2;
  if (o->profile) {
    if (imgrec_session_profile_write (session, stdout, &err) < 0) {
      free (times);
      return die ("%s%s", err.message, "");
    }
    imgrec_session_set_profiling (session, 0);
  }
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  size_t arena, scratch, session_bytes = imgrec_session_memory (session, &arena, &scratch);
  printf ("{\"model\":");
  print_json_string (o->model);
  printf (",\"threads\":%d,\"runs\":%d,\"median_ms\":%.4f,\"min_ms\":%.4f,\"max_ms\":%.4f,"
      "\"load_ms\":%.3f,\"peak_rss_mb\":%.1f,\"session_mib\":%.2f,\"arena_mib\":%.2f,"
      "\"scratch_mib\":%.2f}\n", threads, o->bench, median, times[0],
      times[o->bench - 1], load_ms, ru.ru_maxrss / 1024.0, session_bytes / 1048576.0,
      arena / 1048576.0, scratch / 1048576.0);
  free (times);
  return 0;
}

int
main (int argc, char **argv)
{
  options o;
  if (parse_args (argc, argv, &o) != 0)
    return 1;
  imgrec_error err;
  double t0 = now_ms ();
  imgrec_model *model = imgrec_model_load (o.model, &err);
  double load_ms = now_ms () - t0;
  if (model == NULL)
    return die ("%s%s", err.message, "");
  int rc = 0;
  if (o.info)
    print_info (model, o.model);
  if (o.threads == 0) {
    long online = sysconf (_SC_NPROCESSORS_ONLN);
    o.threads = online > 0 ? (int) online : 1;
  }
  if (o.output_dir != NULL || o.bench > 0) {
    /* --threads 0: a share of the thread budget, in a leased arena, as the
     * GStreamer elements' threads=0 */
    imgrec_session_options so = { .threads = o.budget ? 0 : o.threads };
    imgrec_session *session = imgrec_session_new (model, &so, &err);
    if (session == NULL) {
      rc = die ("%s%s", err.message, "");
    } else {
      rc = set_inputs (session, model, &o);
      if (rc == 0 && o.output_dir != NULL) {
        if (imgrec_session_run (session, &err) < 0)
          rc = die ("%s%s", err.message, "");
        else
          rc = write_outputs (session, model, o.output_dir);
      }
      if (rc == 0 && o.bench > 0)
        rc = bench (session, &o, load_ms, o.threads);
      imgrec_session_free (session);
    }
  }
  imgrec_model_free (model);
  for (int i = 0; i < o.n_inputs; i++)
    free ((char *) o.input_names[i]);
  return rc;
}
