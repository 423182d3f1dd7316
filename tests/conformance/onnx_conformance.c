/* ONNX backend conformance runner.
 *
 * For every test folder under DATA/{node,pytorch-converted,pytorch-operator,simple}:
 * loads model.onnx, feeds each test_data_set_N/input_*.pb, compares with
 * output_*.pb (|actual - expected| <= atol + rtol * |expected|, rtol 1e-3,
 * atol 1e-5 as ONNX's runner does) and prints one line per failure.
 *
 * Tests needing what the engine deliberately does not support (double,
 * string, complex or bfloat16 tensors, sequences/maps/optionals, training
 * mode) or an operator outside its scope are skipped with the reason.
 *
 * With --deviations FILE ("folder/test reason" per line): a listed test
 * that fails is reported as a documented DEVIATION and counted as skipped.
 *
 * With --expected FILE (one "folder/test" per line, '#' comments): exits 1
 * when a listed test does not pass, and names tests that pass but are not
 * listed.  --write-expected FILE writes the list of passing tests. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graph.h"
#include "onnx.pb-c.h"
#include "onnx_tensor.h"

static const char *const folders[] = { "node", "pytorch-converted", "pytorch-operator", "simple" };

typedef enum { RESULT_PASS, RESULT_FAIL, RESULT_SKIP } result_kind;

typedef struct string_list {
  char **items;
  int n, cap;
} string_list;

static void
list_add (string_list *l, const char *s)
{
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 256;
    l->items = realloc (l->items, (size_t) l->cap * sizeof *l->items);
  }
  l->items[l->n++] = strdup (s);
}

static void
list_free (string_list *l)
{
  for (int i = 0; i < l->n; i++)
    free (l->items[i]);
  free (l->items);
  memset (l, 0, sizeof *l);
}

static bool
list_has (const string_list *l, const char *s)
{
  for (int i = 0; i < l->n; i++)
    if (strcmp (l->items[i], s) == 0)
      return true;
  return false;
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

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

static Onnx__TensorProto *
read_tensor_proto (const char *path)
{
  size_t size;
  void *data = read_file (path, &size);
  if (data == NULL)
    return NULL;
  Onnx__TensorProto *t = onnx__tensor_proto__unpack (NULL, size, data);
  free (data);
  return t;
}

static bool
unsupported_type (int type)
{
  return type == IMGREC_DTYPE_DOUBLE || type == IMGREC_DTYPE_STRING || type == 14
      || type == 15 || type == 16;
}

static const char *
type_skip_reason (const Onnx__ValueInfoProto *vi)
{
  if (vi->type == NULL)
    return NULL;
  if (vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
    return "uses sequence/map/optional types (outside the engine's scope)";
  if (vi->type->tensor_type && vi->type->tensor_type->has_elem_type
      && unsupported_type (vi->type->tensor_type->elem_type)) {
    switch (vi->type->tensor_type->elem_type) {
      case IMGREC_DTYPE_DOUBLE: return "needs float64 tensors (outside the engine's scope)";
      case IMGREC_DTYPE_STRING: return "needs string tensors (outside the engine's scope)";
      default: return "needs complex/bfloat16 tensors (outside the engine's scope)";
    }
  }
  return NULL;
}

/* Reason to skip the model before loading it, or NULL. */
static const char *
model_skip_reason (const Onnx__ModelProto *mp)
{
  const Onnx__GraphProto *g = mp->graph;
  if (g == NULL)
    return NULL;
  for (size_t i = 0; i < g->n_input; i++) {
    const char *r = type_skip_reason (g->input[i]);
    if (r)
      return r;
  }
  for (size_t i = 0; i < g->n_output; i++) {
    const char *r = type_skip_reason (g->output[i]);
    if (r)
      return r;
  }
  for (size_t i = 0; i < g->n_node; i++) {
    const Onnx__NodeProto *n = g->node[i];
    for (size_t a = 0; a < n->n_attribute; a++) {
      const Onnx__AttributeProto *attr = n->attribute[a];
      if (attr->name && strcmp (attr->name, "training_mode") == 0 && attr->i != 0)
        return "uses training mode (outside the engine's scope)";
      if (attr->name && strcmp (attr->name, "to") == 0 && n->op_type
          && strcmp (n->op_type, "Cast") == 0 && unsupported_type ((int) attr->i))
        return "casts to float64/string (outside the engine's scope)";
    }
    if (n->op_type && strcmp (n->op_type, "Dropout") == 0 && n->n_input >= 3
        && n->input[2] && n->input[2][0])
      return "feeds Dropout a training_mode input (outside the engine's scope)";
    if (n->domain && n->domain[0] && strcmp (n->domain, "ai.onnx") != 0)
      return "uses an operator domain other than ai.onnx (e.g. training or ML ops)";
  }
  return NULL;
}

typedef struct run_stats {
  int passed, failed, skipped;
  string_list passing;
  string_list failing;
} run_stats;

static bool verbose;

static result_kind
compare_output (const ir_tensor *expected, const imgrec_tensor_info *info, const void *actual,
    char *why, size_t why_size)
{
  if (info->rank != expected->rank) {
    snprintf (why, why_size, "output '%s' has rank %d, expected %d", info->name, info->rank,
        expected->rank);
    return RESULT_FAIL;
  }
  for (int d = 0; d < info->rank; d++)
    if (info->dims[d] != expected->dims[d]) {
      snprintf (why, why_size, "output '%s' dimension %d is %lld, expected %lld", info->name, d,
          (long long) info->dims[d], (long long) expected->dims[d]);
      return RESULT_FAIL;
    }
  int64_t n = ir_numel (expected);
  int64_t bad = 0, first_bad = -1;
  double worst = 0;
  for (int64_t i = 0; i < n; i++) {
    double e = ir_get_f64 (expected, i);
    double a;
    switch (info->dtype) {
      case IMGREC_DTYPE_FLOAT: a = ((const float *) actual)[i]; break;
      case IMGREC_DTYPE_INT64: a = (double) ((const int64_t *) actual)[i]; break;
      default: a = ((const uint8_t *) actual)[i]; break;
    }
    if (isnan (e) && isnan (a))
      continue;
    if (isinf (e) && a == e)
      continue;
    double diff = fabs (a - e);
    if (!(diff <= 1e-5 + 1e-3 * fabs (e))) {
      if (first_bad < 0)
        first_bad = i;
      bad++;
      if (diff > worst || isnan (diff))
        worst = diff;
    }
  }
  if (bad > 0) {
    double e = ir_get_f64 (expected, first_bad);
    double a = info->dtype == IMGREC_DTYPE_FLOAT ? ((const float *) actual)[first_bad]
        : info->dtype == IMGREC_DTYPE_INT64 ? (double) ((const int64_t *) actual)[first_bad]
        : ((const uint8_t *) actual)[first_bad];
    snprintf (why, why_size, "output '%s': %lld of %lld values differ (first at %lld: got %g, "
        "expected %g; max abs diff %g)", info->name, (long long) bad, (long long) n,
        (long long) first_bad, a, e, worst);
    return RESULT_FAIL;
  }
  return RESULT_PASS;
}

static result_kind
run_data_set (const imgrec_model *model, const char *dir, char *why, size_t why_size)
{
  imgrec_error err;
  imgrec_session_options so = { .threads = 1 };
  imgrec_session *session = imgrec_session_new (model, &so, &err);
  if (session == NULL) {
    snprintf (why, why_size, "session: %s", err.message);
    return RESULT_FAIL;
  }
  result_kind result = RESULT_PASS;
  char path[4096];
  /* Inputs: input_K.pb is the K-th graph input that has no initializer;
   * when the file names its tensor, the name wins. */
  for (int k = 0;; k++) {
    snprintf (path, sizeof path, "%s/input_%d.pb", dir, k);
    struct stat st;
    if (stat (path, &st) != 0)
      break;
    Onnx__TensorProto *tp = read_tensor_proto (path);
    ir_tensor t;
    if (tp == NULL || ir_tensor_from_proto (tp, NULL, &t, &err) < 0) {
      snprintf (why, why_size, "cannot read %s: %s", path, tp ? err.message : "parse error");
      if (tp)
        onnx__tensor_proto__free_unpacked (tp, NULL);
      result = RESULT_FAIL;
      goto out;
    }
    int index = k;
    if (tp->name && tp->name[0]) {
      int by_name = imgrec_model_input_index (model, tp->name);
      if (by_name >= 0)
        index = by_name;
    }
    imgrec_dtype dtype = t.storage == IR_F32 ? IMGREC_DTYPE_FLOAT
        : t.storage == IR_I64 ? IMGREC_DTYPE_INT64 : IMGREC_DTYPE_BOOL;
    int rc = imgrec_session_set_input (session, index, dtype, t.dims, t.rank, t.data, &err);
    free (t.data);
    onnx__tensor_proto__free_unpacked (tp, NULL);
    if (rc < 0) {
      snprintf (why, why_size, "set_input %d: %s", k, err.message);
      result = RESULT_FAIL;
      goto out;
    }
  }
  if (imgrec_session_run (session, &err) < 0) {
    snprintf (why, why_size, "run: %s", err.message);
    result = RESULT_FAIL;
    goto out;
  }
  for (int k = 0;; k++) {
    snprintf (path, sizeof path, "%s/output_%d.pb", dir, k);
    struct stat st;
    if (stat (path, &st) != 0)
      break;
    Onnx__TensorProto *tp = read_tensor_proto (path);
    ir_tensor expected;
    if (tp == NULL || ir_tensor_from_proto (tp, NULL, &expected, &err) < 0) {
      snprintf (why, why_size, "cannot read %s: %s", path, tp ? err.message : "parse error");
      if (tp)
        onnx__tensor_proto__free_unpacked (tp, NULL);
      result = RESULT_FAIL;
      goto out;
    }
    int index = k;
    if (tp->name && tp->name[0]) {
      int by_name = imgrec_model_output_index (model, tp->name);
      if (by_name >= 0)
        index = by_name;
    }
    onnx__tensor_proto__free_unpacked (tp, NULL);
    imgrec_tensor_info info;
    const void *actual = imgrec_session_output (session, index, &info);
    if (actual == NULL && ir_numel (&expected) > 0) {
      snprintf (why, why_size, "output %d is missing", k);
      result = RESULT_FAIL;
    } else {
      result = compare_output (&expected, &info, actual, why, why_size);
    }
    free (expected.data);
    if (result != RESULT_PASS)
      goto out;
  }
out:
  imgrec_session_free (session);
  return result;
}

static result_kind
run_test (const char *test_dir, char *why, size_t why_size)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/model.onnx", test_dir);
  size_t size;
  void *data = read_file (path, &size);
  if (data == NULL) {
    snprintf (why, why_size, "no model.onnx");
    return RESULT_SKIP;
  }
  Onnx__ModelProto *mp = onnx__model_proto__unpack (NULL, size, data);
  if (mp == NULL) {
    free (data);
    snprintf (why, why_size, "model.onnx does not parse");
    return RESULT_FAIL;
  }
  const char *skip = model_skip_reason (mp);
  onnx__model_proto__free_unpacked (mp, NULL);
  if (skip != NULL) {
    free (data);
    snprintf (why, why_size, "%s", skip);
    return RESULT_SKIP;
  }
  imgrec_error err;
  imgrec_model *model = imgrec_model_load_from_memory (data, size, &err);
  free (data);
  if (model == NULL) {
    snprintf (why, why_size, "load: %s", err.message);
    return strstr (err.message, "unsupported operator") != NULL ? RESULT_SKIP : RESULT_FAIL;
  }
  result_kind result = RESULT_PASS;
  DIR *d = opendir (test_dir);
  struct dirent *e;
  string_list sets = { 0 };
  while (d && (e = readdir (d)) != NULL)
    if (strncmp (e->d_name, "test_data_set_", 14) == 0)
      list_add (&sets, e->d_name);
  if (d)
    closedir (d);
  qsort (sets.items, (size_t) sets.n, sizeof *sets.items, compare_strings);
  for (int i = 0; i < sets.n && result == RESULT_PASS; i++) {
    snprintf (path, sizeof path, "%s/%s", test_dir, sets.items[i]);
    char inner[400];
    result = run_data_set (model, path, inner, sizeof inner);
    if (result != RESULT_PASS)
      snprintf (why, why_size, "%s: %s", sets.items[i], inner);
  }
  for (int i = 0; i < sets.n; i++)
    free (sets.items[i]);
  free (sets.items);
  imgrec_model_free (model);
  return result;
}

/* Lines "folder/test reason": ids go to ids, reasons (same index) to reasons. */
static void
load_deviations (const char *path, string_list *ids, string_list *reasons)
{
  FILE *f = fopen (path, "r");
  if (f == NULL) {
    fprintf (stderr, "cannot read deviations list '%s'\n", path);
    exit (1);
  }
  char line[1024];
  while (fgets (line, sizeof line, f)) {
    line[strcspn (line, "\r\n")] = '\0';
    if (line[0] == '\0' || line[0] == '#')
      continue;
    char *space = strpbrk (line, " \t");
    const char *reason = "documented deviation";
    if (space != NULL) {
      *space = '\0';
      reason = space + 1 + strspn (space + 1, " \t");
    }
    list_add (ids, line);
    list_add (reasons, reason);
  }
  fclose (f);
}

static void
load_expected (const char *path, string_list *expected)
{
  FILE *f = fopen (path, "r");
  if (f == NULL) {
    fprintf (stderr, "cannot read expected-pass list '%s'\n", path);
    exit (1);
  }
  char line[512];
  while (fgets (line, sizeof line, f)) {
    line[strcspn (line, "\r\n")] = '\0';
    char *s = line;
    while (*s == ' ')
      s++;
    if (*s == '\0' || *s == '#')
      continue;
    list_add (expected, s);
  }
  fclose (f);
}

int
main (int argc, char **argv)
{
  const char *data_dir = "/usr/share/libonnx-testdata/data";
  const char *filter = NULL, *expected_path = NULL, *write_path = NULL;
  const char *deviations_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp (argv[i], "--data") == 0 && i + 1 < argc)
      data_dir = argv[++i];
    else if (strcmp (argv[i], "--filter") == 0 && i + 1 < argc)
      filter = argv[++i];
    else if (strcmp (argv[i], "--expected") == 0 && i + 1 < argc)
      expected_path = argv[++i];
    else if (strcmp (argv[i], "--deviations") == 0 && i + 1 < argc)
      deviations_path = argv[++i];
    else if (strcmp (argv[i], "--write-expected") == 0 && i + 1 < argc)
      write_path = argv[++i];
    else if (strcmp (argv[i], "--verbose") == 0)
      verbose = true;
    else {
      fprintf (stderr, "usage: onnx-conformance [--data DIR] [--filter SUBSTRING] "
          "[--expected FILE] [--deviations FILE] [--write-expected FILE] [--verbose]\n");
      return 2;
    }
  }
  struct stat st;
  if (stat (data_dir, &st) != 0) {
    printf ("SKIP: ONNX test data not found at %s (install Debian's libonnx-testdata)\n",
        data_dir);
    return 77;
  }
  string_list expected = { 0 }, deviation_ids = { 0 }, deviation_reasons = { 0 };
  if (expected_path)
    load_expected (expected_path, &expected);
  if (deviations_path)
    load_deviations (deviations_path, &deviation_ids, &deviation_reasons);

  run_stats stats = { 0 };
  int regressions = 0, newly = 0;
  for (size_t f = 0; f < sizeof folders / sizeof folders[0]; f++) {
    char folder[4096];
    snprintf (folder, sizeof folder, "%s/%s", data_dir, folders[f]);
    DIR *d = opendir (folder);
    if (d == NULL)
      continue;
    string_list tests = { 0 };
    struct dirent *e;
    while ((e = readdir (d)) != NULL)
      if (strncmp (e->d_name, "test_", 5) == 0)
        list_add (&tests, e->d_name);
    closedir (d);
    qsort (tests.items, (size_t) tests.n, sizeof *tests.items, compare_strings);
    for (int t = 0; t < tests.n; t++) {
      char id[600], test_dir[4096], why[600] = "";
      snprintf (id, sizeof id, "%s/%s", folders[f], tests.items[t]);
      if (filter && strstr (id, filter) == NULL)
        continue;
      snprintf (test_dir, sizeof test_dir, "%s/%s", folder, tests.items[t]);
      result_kind r = run_test (test_dir, why, sizeof why);
      bool listed = list_has (&expected, id);
      int deviation = -1;
      for (int k = 0; k < deviation_ids.n; k++)
        if (strcmp (deviation_ids.items[k], id) == 0)
          deviation = k;
      if (r == RESULT_FAIL && deviation >= 0) {
        printf ("DEVIATION %s: %s\n", id, deviation_reasons.items[deviation]);
        stats.skipped++;
        continue;
      }
      switch (r) {
        case RESULT_PASS:
          stats.passed++;
          list_add (&stats.passing, id);
          if (verbose)
            printf ("PASS %s\n", id);
          if (expected_path && !listed) {
            printf ("NEW PASS %s (not in the expected-pass list)\n", id);
            newly++;
          }
          break;
        case RESULT_FAIL:
          stats.failed++;
          printf ("%s %s: %s\n", listed ? "REGRESSION" : "FAIL", id, why);
          regressions += listed;
          break;
        case RESULT_SKIP:
          stats.skipped++;
          if (verbose || listed)
            printf ("%s %s: %s\n", listed ? "REGRESSION (skipped)" : "SKIP", id, why);
          regressions += listed;
          break;
      }
    }
    for (int t = 0; t < tests.n; t++)
      free (tests.items[t]);
    free (tests.items);
  }
  if (write_path) {
    FILE *w = fopen (write_path, "w");
    if (w) {
      fprintf (w, "# ONNX backend tests that must pass (regenerate with "
          "onnx-conformance --write-expected)\n");
      for (int i = 0; i < stats.passing.n; i++)
        fprintf (w, "%s\n", stats.passing.items[i]);
      fclose (w);
    }
  }
  if (newly > 0)
    printf ("%d test(s) newly pass; add them to the expected-pass list\n", newly);
  if (regressions > 0)
    printf ("%d regression(s) against the expected-pass list\n", regressions);
  printf ("%d passed, %d failed, %d skipped\n", stats.passed, stats.failed, stats.skipped);
  list_free (&expected);
  list_free (&deviation_ids);
  list_free (&deviation_reasons);
  list_free (&stats.passing);
  list_free (&stats.failing);
  return regressions > 0 ? 1 : 0;
}
