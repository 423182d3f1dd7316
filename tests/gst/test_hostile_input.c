/* gst-check tests of hostile paths and properties, on every element:
 * FIFOs, devices, directories, huge and binary files named by properties
 * fail at once with a message naming the file and the problem; properties
 * that may only change in NULL or READY are refused while PAUSED; thread
 * counts are bounded by the CPUs; color-order takes lower-case nicks.
 *
 * Every state change that could hang runs under a 10 s bound: a hang fails
 * the test instead of blocking it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_BOUND (10 * G_USEC_PER_SEC)

static gchar *
test_data (const gchar * env, const gchar * name)
{
  const gchar *dir = g_getenv (env);
  fail_unless (dir != NULL, "%s is not set", env);
  return g_build_filename (dir, name, NULL);
}

#define gst_data(name) test_data ("IMGREC_GST_TEST_DATA", name)
#define seq_data(name) test_data ("IMGREC_SEQ_TEST_DATA", name)

/* A fresh temporary folder for one test. */
static gchar *
make_tmp_dir (void)
{
  gchar *dir = g_dir_make_tmp ("imgrec-hostile-XXXXXX", NULL);
  fail_unless (dir != NULL);
  return dir;
}

static void
remove_tmp_dir (gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    gchar *p = g_build_filename (dir, name, NULL);
    if (g_rmdir (p) != 0)
      g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
  g_free (dir);
}

static gchar *
make_fifo (const gchar * dir, const gchar * name)
{
  gchar *path = g_build_filename (dir, name, NULL);
  fail_unless (mkfifo (path, 0600) == 0, "mkfifo %s", path);
  return path;
}

static gchar *
write_file (const gchar * dir, const gchar * name, const gchar * data,
    gssize len)
{
  gchar *path = g_build_filename (dir, name, NULL);
  fail_unless (g_file_set_contents (path, data, len, NULL));
  return path;
}

/* ------------------------------------------------------------------------ */
/* bounded state changes                                                      */

typedef struct {
  GstElement *element;
  GstState state;
  GstStateChangeReturn ret;
  gboolean done;
  GMutex lock;
  GCond cond;
} StateCall;

static gpointer
state_thread (gpointer data)
{
  StateCall *call = data;
  GstStateChangeReturn ret = gst_element_set_state (call->element,
      call->state);

  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = gst_element_get_state (call->element, NULL, NULL, 5 * GST_SECOND);
  g_mutex_lock (&call->lock);
  call->ret = ret;
  call->done = TRUE;
  g_cond_signal (&call->cond);
  g_mutex_unlock (&call->lock);
  return NULL;
}

/* gst_element_set_state (and, when ASYNC, the preroll) in another thread;
 * fails the test if it does not return within STATE_BOUND. */
static GstStateChangeReturn
set_state_bounded (GstElement * element, GstState state)
{
  StateCall call = { element, state, GST_STATE_CHANGE_FAILURE, FALSE };
  gint64 deadline = g_get_monotonic_time () + STATE_BOUND;
  GThread *thread;
  gboolean done;

  g_mutex_init (&call.lock);
  g_cond_init (&call.cond);
  thread = g_thread_new ("set-state", state_thread, &call);
  g_mutex_lock (&call.lock);
  while (!call.done && g_cond_wait_until (&call.cond, &call.lock, deadline));
  done = call.done;
  g_mutex_unlock (&call.lock);
  /* a hung thread cannot be joined: the test process ends with the failure */
  fail_unless (done, "set_state(%s) on %s did not return within 10 s",
      gst_element_state_get_name (state), GST_OBJECT_NAME (element));
  g_thread_join (thread);
  g_mutex_clear (&call.lock);
  g_cond_clear (&call.cond);
  return call.ret;
}

/* The pipeline around one element: a source, or a filter between a short
 * test source and a fakesink. */
static GstElement *
pipeline_for (const gchar * factory, const gchar * props)
{
  gchar *desc;
  GstElement *p;
  GError *err = NULL;

  if (strcmp (factory, "imgrecgansrc") == 0)
    desc = g_strdup_printf ("imgrecgansrc name=e num-buffers=2 %s ! "
        "video/x-raw,width=32,height=32 ! fakesink", props);
  else
    desc = g_strdup_printf ("videotestsrc num-buffers=2 ! "
        "video/x-raw,width=32,height=32 ! %s name=e %s ! fakesink", factory,
        props);
  p = gst_parse_launch (desc, &err);
  fail_unless (p != NULL && err == NULL, "%s: %s", desc,
      err ? err->message : "");
  g_free (desc);
  return p;
}

/* Starts `factory` with `props` (to PAUSED, bounded); returns the error
 * message, or NULL when it started.  A failed start must return FAILURE. */
static gchar *
start_error (const gchar * factory, const gchar * props)
{
  GstElement *p = pipeline_for (factory, props);
  GstBus *bus = gst_element_get_bus (p);
  GstStateChangeReturn ret = set_state_bounded (p, GST_STATE_PAUSED);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  gchar *text = NULL;

  if (msg) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    text = g_strdup (err->message);
    g_error_free (err);
    gst_message_unref (msg);
    fail_unless_equals_int (ret, GST_STATE_CHANGE_FAILURE);
  } else {
    fail_unless_equals_int (ret, GST_STATE_CHANGE_SUCCESS);
  }
  fail_unless_equals_int (set_state_bounded (p, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (p);
  return text;
}

static void
assert_start_error (const gchar * factory, const gchar * props,
    const gchar * word1, const gchar * word2)
{
  gchar *msg = start_error (factory, props);

  fail_unless (msg != NULL, "%s %s started", factory, props);
  fail_unless (strstr (msg, word1) != NULL && (!word2
          || strstr (msg, word2) != NULL),
      "%s %s: error \"%s\" does not say \"%s\" and \"%s\"", factory, props,
      msg, word1, word2 ? word2 : "");
  g_free (msg);
}

static void
assert_starts (const gchar * factory, const gchar * props)
{
  gchar *msg = start_error (factory, props);

  fail_unless (msg == NULL, "%s %s: unexpected error: %s", factory, props,
      msg);
}

/* ------------------------------------------------------------------------ */
/* files named by properties                                                  */

GST_START_TEST (test_fifo_model_fails_at_once)
{
  static const gchar *const elements[] = { "imgrecclassify", "imgrecseq",
    "imgrecgan", "imgrecgansrc"
  };
  gchar *dir = make_tmp_dir (), *fifo = make_fifo (dir, "model.onnx");
  gint64 t0 = g_get_monotonic_time ();

  for (guint i = 0; i < G_N_ELEMENTS (elements); i++) {
    gchar *props = g_strdup_printf ("model=\"%s\"", fifo);
    assert_start_error (elements[i], props, fifo, "is a FIFO");
    g_free (props);
  }
  fail_unless (g_get_monotonic_time () - t0 < 5 * G_USEC_PER_SEC);
  g_free (fifo);
  remove_tmp_dir (dir);
}

GST_END_TEST;

GST_START_TEST (test_devices_and_directories_as_model)
{
  gchar *dir = make_tmp_dir (), *props;

  assert_start_error ("imgrecclassify", "model=/dev/zero", "/dev/zero",
      "character device");
  assert_start_error ("imgrecgansrc", "model=/dev/zero", "/dev/zero",
      "character device");
  props = g_strdup_printf ("model=\"%s\"", dir);
  assert_start_error ("imgrecseq", props, dir, "a directory");
  assert_start_error ("imgrecgan", props, dir, "a directory");
  g_free (props);
  remove_tmp_dir (dir);
}

GST_END_TEST;

static void
assert_labels_error (const gchar * labels, const gchar * word1,
    const gchar * word2)
{
  gchar *model = gst_data ("mean-colour.onnx");
  gchar *props = g_strdup_printf ("model=\"%s\" labels=\"%s\"", model,
      labels);

  assert_start_error ("imgrecclassify", props, word1, word2);
  g_free (props);
  g_free (model);
}

GST_START_TEST (test_labels_files_are_checked)
{
  gchar *dir = make_tmp_dir (), *path, *big, *model, *props, *good;
  gint fd;

  assert_labels_error ("/dev/zero", "/dev/zero", "character device");
  path = make_fifo (dir, "labels.fifo");
  assert_labels_error (path, path, "FIFO");
  g_free (path);
  assert_labels_error (dir, dir, "a directory");

  /* 3 GiB (sparse) and just over the limit: refused, naming the limit */
  path = g_build_filename (dir, "huge.txt", NULL);
  fd = open (path, O_WRONLY | O_CREAT, 0600);
  fail_unless (fd >= 0 && ftruncate (fd, (off_t) 3 << 30) == 0);
  close (fd);
  assert_labels_error (path, path, "larger than the 1 MiB limit");
  g_free (path);
  big = g_strnfill ((1 << 20) + 1, 'a');
  path = write_file (dir, "big.txt", big, -1);
  assert_labels_error (path, "big.txt", "1 MiB limit");
  g_free (path);
  g_free (big);

  path = write_file (dir, "nul.txt", "\0a\nb\nc\nd\n", 9);
  assert_labels_error (path, "nul.txt", "NUL byte");
  g_free (path);
  path = write_file (dir, "latin1.txt", "a\nb\nc\n\xe9t\xe9\n", -1);
  assert_labels_error (path, "latin1.txt", "not UTF-8");
  g_free (path);
  path = write_file (dir, "empty.txt", "", 0);
  assert_labels_error (path, "empty.txt", "is empty");
  g_free (path);

  /* an ordinary labels file still works */
  model = gst_data ("mean-colour.onnx");
  good = gst_data ("labels4.txt");
  props = g_strdup_printf ("model=\"%s\" labels=\"%s\"", model, good);
  assert_starts ("imgrecclassify", props);
  g_free (props);
  g_free (good);
  g_free (model);
  remove_tmp_dir (dir);
}

GST_END_TEST;

GST_START_TEST (test_json_output_file_is_checked)
{
  gchar *dir = make_tmp_dir (), *fifo = make_fifo (dir, "out.fifo");
  gchar *props, *path, *text = NULL;

  props = g_strdup_printf ("location=\"%s\"", fifo);
  assert_start_error ("imgrecjson", props, fifo, "FIFO");
  g_free (props);
  props = g_strdup_printf ("location=\"%s\"", dir);
  assert_start_error ("imgrecjson", props, dir, "a directory");
  g_free (props);
  assert_start_error ("imgrecjson", "location=/dev/full", "/dev/full",
      "character device");
  assert_start_error ("imgrecjson", "location=/nonexistent-dir/out.jsonl",
      "Could not open", "out.jsonl");

  /* a regular file is truncated and written */
  path = write_file (dir, "out.jsonl", "old content that must go\n", -1);
  props = g_strdup_printf ("location=\"%s\"", path);
  assert_starts ("imgrecjson", props);
  fail_unless (g_file_get_contents (path, &text, NULL, NULL));
  fail_unless (text[0] == '{' && strstr (text, "old content") == NULL,
      "%s", text);
  g_free (text);
  g_free (props);
  g_free (path);
  g_free (fifo);
  remove_tmp_dir (dir);
}

GST_END_TEST;

/* A file that opens as a regular file but refuses writes (a /proc file):
 * the error is posted and the element still stops cleanly (no GStreamer
 * warning about a pad that failed to deactivate). */
GST_START_TEST (test_json_write_error_stops_cleanly)
{
  GstElement *p = pipeline_for ("imgrecjson", "location=/proc/self/status");
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg;
  GError *err = NULL;

  /* stopped after the preroll, with its lines still buffered: the flush in
   * stop fails */
  set_state_bounded (p, GST_STATE_PAUSED);
  fail_unless_equals_int (set_state_bounded (p, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no error writing to /proc/self/status");
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "Could not write")
      || strstr (err->message, "Could not open"), "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  fail_unless_equals_int (set_state_bounded (p, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (p);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* properties                                                                 */

/* Each element with properties that make it start. */
typedef struct {
  const gchar *factory;
  const gchar *env, *model;
  const gchar *extra;
} ElementSetup;

static const ElementSetup setups[] = {
  {"imgrecclassify", "IMGREC_GST_TEST_DATA", "mean-colour.onnx", ""},
  {"imgrecseq", "IMGREC_SEQ_TEST_DATA", "seq-step.onnx", ""},
  {"imgrecgan", "IMGREC_GST_TEST_DATA", "tiny-discriminator.onnx", ""},
  {"imgrecgansrc", "IMGREC_GST_TEST_DATA", "tiny-generator.onnx", ""},
  {"imgrecdetect", "IMGREC_GST_TEST_DATA", "det-yolov8-const.onnx", ""},
  {"imgrectrack", NULL, NULL, ""},
  {"imgrecroi", NULL, NULL, "regions=\"a=0,0,8,8\""},
  {"imgrecjson", NULL, NULL, "location=/dev/null"},
  {"imgrecoverlay", NULL, NULL, ""},
};

static gchar *
setup_props (const ElementSetup * s, const gchar * dir)
{
  gchar *model, *props;

  if (strcmp (s->factory, "imgrecjson") == 0)
    return g_strdup_printf ("location=\"%s/out.jsonl\"", dir);
  if (s->model == NULL)
    return g_strdup (s->extra);
  model = test_data (s->env, s->model);
  props = g_strdup_printf ("model=\"%s\" %s", model, s->extra);
  g_free (model);
  return props;
}

/* A value of @pspec's type that differs from @cur; FALSE when the type has
 * no other value to try. */
static gboolean
other_value (GParamSpec * pspec, const GValue * cur, GValue * out)
{
  GType t = G_PARAM_SPEC_VALUE_TYPE (pspec);

  g_value_init (out, t);
  if (t == G_TYPE_STRING) {
    g_value_set_string (out, "changed-while-paused");
  } else if (t == G_TYPE_BOOLEAN) {
    g_value_set_boolean (out, !g_value_get_boolean (cur));
  } else if (G_IS_PARAM_SPEC_ENUM (pspec)) {
    GEnumClass *k = G_PARAM_SPEC_ENUM (pspec)->enum_class;
    guint i;
    for (i = 0; i < k->n_values; i++)
      if (k->values[i].value != g_value_get_enum (cur))
        break;
    if (i == k->n_values)
      return FALSE;
    g_value_set_enum (out, k->values[i].value);
  } else if (G_IS_PARAM_SPEC_UINT (pspec)) {
    GParamSpecUInt *p = G_PARAM_SPEC_UINT (pspec);
    g_value_set_uint (out, g_value_get_uint (cur) == p->minimum ?
        MIN (p->minimum + 1, p->maximum) : p->minimum);
  } else if (G_IS_PARAM_SPEC_INT (pspec)) {
    GParamSpecInt *p = G_PARAM_SPEC_INT (pspec);
    g_value_set_int (out, g_value_get_int (cur) == p->minimum ?
        MIN (p->minimum + 1, p->maximum) : p->minimum);
  } else if (G_IS_PARAM_SPEC_UINT64 (pspec)) {
    GParamSpecUInt64 *p = G_PARAM_SPEC_UINT64 (pspec);
    g_value_set_uint64 (out, g_value_get_uint64 (cur) == p->minimum ?
        MIN (p->minimum + 1, p->maximum) : p->minimum);
  } else if (G_IS_PARAM_SPEC_DOUBLE (pspec)) {
    GParamSpecDouble *p = G_PARAM_SPEC_DOUBLE (pspec);
    g_value_set_double (out, g_value_get_double (cur) == p->minimum ?
        MIN (p->minimum + 0.5, p->maximum) : p->minimum);
  } else {
    return FALSE;
  }
  return g_param_values_cmp (pspec, cur, out) != 0;
}

static gboolean
pop_warning_naming (GstBus * bus, const gchar * name)
{
  GstMessage *msg;
  gboolean found = FALSE;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
    GError *err = NULL;
    gst_message_parse_warning (msg, &err, NULL);
    if (strstr (err->message, name) && strstr (err->message, "cannot be "
            "changed while PAUSED or PLAYING"))
      found = TRUE;
    g_error_free (err);
    gst_message_unref (msg);
  }
  return found;
}

/* Tries every READY-only property of the element named "e" in @p: while
 * @paused they must be refused with a warning and keep their value, else
 * they must change.  Returns how many were tried. */
static guint
try_ready_only_properties (GstElement * p, gboolean paused)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (p), "e");
  GstBus *bus = gst_element_get_bus (p);
  GParamSpec **specs;
  guint n, i, tried = 0;

  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);
  for (i = 0; i < n; i++) {
    GParamSpec *pspec = specs[i];
    GValue cur = G_VALUE_INIT, want = G_VALUE_INIT, now = G_VALUE_INIT;

    /* the imgrec elements' own properties, not their base classes' */
    if (!g_str_has_prefix (g_type_name (pspec->owner_type), "GstImgRec")
        || !(pspec->flags & GST_PARAM_MUTABLE_READY)
        || !(pspec->flags & G_PARAM_WRITABLE)
        || (pspec->flags & G_PARAM_CONSTRUCT_ONLY))
      continue;
    g_value_init (&cur, G_PARAM_SPEC_VALUE_TYPE (pspec));
    g_object_get_property (G_OBJECT (e), pspec->name, &cur);
    if (other_value (pspec, &cur, &want)) {
      g_object_set_property (G_OBJECT (e), pspec->name, &want);
      g_value_init (&now, G_PARAM_SPEC_VALUE_TYPE (pspec));
      g_object_get_property (G_OBJECT (e), pspec->name, &now);
      if (paused) {
        fail_unless (g_param_values_cmp (pspec, &cur, &now) == 0,
            "%s: %s changed while PAUSED", GST_OBJECT_NAME (e), pspec->name);
        fail_unless (pop_warning_naming (bus, pspec->name),
            "%s: no warning refusing %s", GST_OBJECT_NAME (e), pspec->name);
      } else {
        fail_unless (g_param_values_cmp (pspec, &want, &now) == 0,
            "%s: %s did not change in READY", GST_OBJECT_NAME (e),
            pspec->name);
      }
      g_value_unset (&now);
      tried++;
    }
    g_value_unset (&want);
    g_value_unset (&cur);
  }
  g_free (specs);
  gst_object_unref (bus);
  gst_object_unref (e);
  return tried;
}

GST_START_TEST (test_ready_only_properties_refused_while_paused)
{
  gchar *dir = make_tmp_dir ();
  guint total = 0;

  for (guint i = 0; i < G_N_ELEMENTS (setups); i++) {
    gchar *props = setup_props (&setups[i], dir);
    GstElement *p = pipeline_for (setups[i].factory, props);
    guint tried;

    fail_unless_equals_int (set_state_bounded (p, GST_STATE_PAUSED),
        GST_STATE_CHANGE_SUCCESS);
    tried = try_ready_only_properties (p, TRUE);
    /* still running with the settings it started with */
    fail_unless_equals_int (set_state_bounded (p, GST_STATE_PLAYING),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (set_state_bounded (p, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (try_ready_only_properties (p, FALSE), tried);
    fail_unless_equals_int (set_state_bounded (p, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    gst_object_unref (p);
    g_free (props);
    total += tried;
  }
  /* model, labels, mean, std, scale, color-order, resize, scaling, roi,
   * object-class, threads (classify), state-map, scope, mode, seed,
   * is-live, id-base, location, ... */
  fail_unless (total >= 28, "only %u READY-only properties tried", total);
  remove_tmp_dir (dir);
}

GST_END_TEST;

static guint
count_threads (void)
{
  GDir *d = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  fail_unless (d != NULL);
  while (g_dir_read_name (d))
    n++;
  g_dir_close (d);
  return n;
}

GST_START_TEST (test_threads_bounded_by_cpus)
{
  guint cpus = (guint) g_get_num_processors ();
  gchar *dir = make_tmp_dir ();

  for (guint i = 0; i < 4; i++) {       /* the elements with a model */
    gchar *props = setup_props (&setups[i], dir);
    gchar *with_threads = g_strdup_printf ("%s threads=1024", props);
    GstElement *p = pipeline_for (setups[i].factory, with_threads);
    GstBus *bus = gst_element_get_bus (p);
    GstMessage *msg;
    gboolean warned = FALSE;
    guint before = count_threads ();

    fail_unless_equals_int (set_state_bounded (p, GST_STATE_PAUSED),
        GST_STATE_CHANGE_SUCCESS);
    /* the engine's pool and the converters' threads: at most a few per CPU */
    fail_unless (count_threads () <= before + 3 * cpus + 8,
        "%s threads=1024 started %u threads on %u CPUs", setups[i].factory,
        count_threads () - before, cpus);
    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING))) {
      GError *err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      if (strstr (err->message, "threads=1024 is more than the"))
        warned = TRUE;
      g_error_free (err);
      gst_message_unref (msg);
    }
    fail_unless (warned || cpus >= 1024, "%s: no warning for threads=1024",
        setups[i].factory);
    fail_unless_equals_int (set_state_bounded (p, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    gst_object_unref (bus);
    gst_object_unref (p);
    g_free (with_threads);
    g_free (props);
  }
  remove_tmp_dir (dir);
}

GST_END_TEST;

GST_START_TEST (test_color_order_lower_case_nicks)
{
  static const struct {
    const gchar *text;
    gint value;
  } cases[] = {
    {"rgb", 1}, {"bgr", 2}, {"gray", 3}, {"RGB", 1}, {"BGR", 2}, {"GRAY", 3},
    {"model", 0},
  };
  GstElement *e = gst_element_factory_make ("imgrecclassify", NULL);
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e),
      "color-order");
  GEnumClass *k = G_PARAM_SPEC_ENUM (pspec)->enum_class;
  gchar *model, *props;
  gint v;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_object_set (e, "color-order", 0, NULL);
    gst_util_set_object_arg (G_OBJECT (e), "color-order", cases[i].text);
    g_object_get (e, "color-order", &v, NULL);
    fail_unless_equals_int (v, cases[i].value);
  }
  /* the lower-case nick is the canonical one */
  fail_unless_equals_string (g_enum_get_value (k, 2)->value_nick, "bgr");
  gst_object_unref (e);

  model = gst_data ("mean-colour.onnx");
  props = g_strdup_printf ("model=\"%s\" color-order=bgr", model);
  assert_starts ("imgrecclassify", props);
  g_free (props);
  g_free (model);
}

GST_END_TEST;

static Suite *
hostile_input_suite (void)
{
  Suite *s = suite_create ("hostile-input");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_fifo_model_fails_at_once);
  tcase_add_test (tc, test_devices_and_directories_as_model);
  tcase_add_test (tc, test_labels_files_are_checked);
  tcase_add_test (tc, test_json_output_file_is_checked);
  tcase_add_test (tc, test_json_write_error_stops_cleanly);
  tcase_add_test (tc, test_ready_only_properties_refused_while_paused);
  tcase_add_test (tc, test_threads_bounded_by_cpus);
  tcase_add_test (tc, test_color_order_lower_case_nicks);
  return s;
}

GST_CHECK_MAIN (hostile_input);
