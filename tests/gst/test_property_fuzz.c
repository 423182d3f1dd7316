/* Property fuzz test of every imgrec element: random values inside and
 * outside each property's range (clamped by GLib's validation the way
 * g_object_set would, so the element sees what an application could give
 * it), strings from a pool of hostile texts and paths (FIFOs, devices,
 * directories, models of the wrong kind, garbage), set in random states
 * while the pipeline changes state at random.  No crash (run it in the ASan
 * build too), no hang (every state change is bounded), no CRITICAL or
 * WARNING log (gst-check makes them fatal).
 *
 * IMGREC_FUZZ_SECONDS (default 8) bounds the run; IMGREC_FUZZ_SEED (default
 * 1) picks the sequence, printed so that a failure can be replayed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STATE_BOUND (10 * G_USEC_PER_SEC)

static gchar *tmp_dir;
static GPtrArray *string_pool;

/* A copy of a test file in the temporary folder: output properties
 * (imgrecjson location) get these paths too and overwrite them. */
static gchar *
copy_test_data (const gchar * env, const gchar * name)
{
  const gchar *dir = g_getenv (env);
  gchar *src, *dst, *data = NULL;
  gsize len;

  fail_unless (dir != NULL, "%s is not set", env);
  src = g_build_filename (dir, name, NULL);
  dst = g_build_filename (tmp_dir, name, NULL);
  fail_unless (g_file_get_contents (src, &data, &len, NULL), "%s", src);
  fail_unless (g_file_set_contents (dst, data, len, NULL), "%s", dst);
  g_free (data);
  g_free (src);
  return dst;
}

static void
build_string_pool (void)
{
  static const gchar *const gst_models[] = { "mean-colour.onnx",
    "mean-colour-softmax.onnx", "mean-colour-bgr-nhwc.onnx", "gray.onnx",
    "three-labels.onnx", "generator-kind.onnx", "dynamic-size.onnx",
    "not-image.onnx", "garbage.onnx", "labels4.txt", "tiny-generator.onnx",
    "tiny-generator-gray.onnx", "generator-not-image.onnx",
    "tiny-discriminator.onnx", "brightness-discriminator.onnx",
    "restore-invert.onnx", "disc-frames.bin"
  };
  static const gchar *const seq_models[] = { "seq-step.onnx",
    "seq-step-init.onnx", "seq-window.onnx", "seq-window-t1.onnx"
  };
  static const gchar *const texts[] = { "", "-", "0", "-1", "1e400", "nan",
    "inf", "0.5", "1,2,3", "0,0,0", "1,2,3,4", ",", "a,b", "0.485,0.456,0.406",
    "h_in:h_out,c_in:c_out", "h_in:h_out", "x:y,", ":", "image:scores",
    "a=0,0,8,8", "a=0,0,8,8;b=0:1,1,4,4/1:2,2,4,4", "a=-5,-5,100000,100000",
    "=;;;", "a=0:0,0,0,0", "a=1e9:1,1,1,1/-1e9:2,2,2,2", "car,person",
    "\xff\xfe invalid utf-8", "/dev/zero", "/dev/null", "/dev/full",
    "/nonexistent/file.onnx", "/", "/proc/self/status", "relative.onnx",
  };
  gchar *p;
  guint i;

  tmp_dir = g_dir_make_tmp ("imgrec-fuzz-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
  /* relative paths (imgrecjson location=0 ...) land in the temporary folder */
  fail_unless (g_chdir (tmp_dir) == 0);
  string_pool = g_ptr_array_new_with_free_func (g_free);
  for (i = 0; i < G_N_ELEMENTS (gst_models); i++)
    g_ptr_array_add (string_pool, copy_test_data ("IMGREC_GST_TEST_DATA",
            gst_models[i]));
  for (i = 0; i < G_N_ELEMENTS (seq_models); i++)
    g_ptr_array_add (string_pool, copy_test_data ("IMGREC_SEQ_TEST_DATA",
            seq_models[i]));
  for (i = 0; i < G_N_ELEMENTS (texts); i++)
    g_ptr_array_add (string_pool, g_strdup (texts[i]));
  p = g_build_filename (tmp_dir, "fifo", NULL);
  fail_unless (mkfifo (p, 0600) == 0);
  g_ptr_array_add (string_pool, p);
  g_ptr_array_add (string_pool, g_strdup (tmp_dir));
  g_ptr_array_add (string_pool, g_build_filename (tmp_dir, "out.jsonl",
          NULL));
  g_ptr_array_add (string_pool, g_strnfill (20000, 'x'));
}

static void
free_string_pool (void)
{
  GDir *d = g_dir_open (tmp_dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    gchar *p = g_build_filename (tmp_dir, name, NULL);
    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
  g_ptr_array_free (string_pool, TRUE);
}

/* ------------------------------------------------------------------------ */

typedef struct {
  GstElement *element;
  GstState state;
  gboolean done;
  GMutex lock;
  GCond cond;
} StateCall;

static gpointer
state_thread (gpointer data)
{
  StateCall *call = data;

  if (gst_element_set_state (call->element, call->state) ==
      GST_STATE_CHANGE_ASYNC)
    gst_element_get_state (call->element, NULL, NULL, 5 * GST_SECOND);
  g_mutex_lock (&call->lock);
  call->done = TRUE;
  g_cond_signal (&call->cond);
  g_mutex_unlock (&call->lock);
  return NULL;
}

/* A state change (and its preroll) that must return within STATE_BOUND;
 * whether it succeeds depends on the properties and does not matter. */
static void
set_state_bounded (GstElement * element, GstState state)
{
  StateCall call = { element, state, FALSE };
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
  fail_unless (done, "set_state(%s) did not return within 10 s",
      gst_element_state_get_name (state));
  g_thread_join (thread);
  g_mutex_clear (&call.lock);
  g_cond_clear (&call.cond);
}

/* ------------------------------------------------------------------------ */
/* random values                                                              */

#define PICK(rand, n) ((guint) g_rand_int_range (rand, 0, (gint32) (n)))

/* A number near the interesting points of [lo, hi]: the ends, just
 * outside them, zero, or anywhere (validation clamps what is outside). */
static gdouble
random_number (GRand * rand, gdouble lo, gdouble hi)
{
  switch (PICK (rand, 8)) {
    case 0:
      return lo;
    case 1:
      return hi;
    case 2:
      return lo - 1;
    case 3:
      return hi + 1;
    case 4:
      return 0;
    case 5:
      return lo + 1;
    case 6:
      return g_rand_double_range (rand, -1e12, 1e12);
    default:
      return lo + (hi - lo) * g_rand_double (rand);
  }
}

static gdouble
clamp_to (gdouble v, gdouble lo, gdouble hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* Fills @v (initialised to the property's type) with a random value; FALSE
 * for a type this test does not fuzz. */
static gboolean
random_value (GRand * rand, GParamSpec * pspec, GValue * v)
{
  GType t = G_PARAM_SPEC_VALUE_TYPE (pspec);

  if (t == G_TYPE_STRING && strcmp (pspec->name, "address") == 0) {
    /* imgrecpublish's broker: only this machine's loopback, where nothing
     * listens on these ports (no name lookups, no traffic elsewhere) */
    static const gchar *const addresses[] = { "127.0.0.1:1", "[::1]:1",
      "127.0.0.1:1,127.0.0.1:2", "127.0.0.1:99999", "127.0.0.1:x", ":1",
      "[::1", ""
    };
    guint i = PICK (rand, G_N_ELEMENTS (addresses) + 1);
    g_value_set_string (v, i == G_N_ELEMENTS (addresses) ? NULL :
        addresses[i]);
  } else if (t == G_TYPE_STRING) {
    guint i = PICK (rand, string_pool->len + 1);
    g_value_set_string (v, i == string_pool->len ? NULL :
        g_ptr_array_index (string_pool, i));
  } else if (t == G_TYPE_BOOLEAN) {
    g_value_set_boolean (v, g_rand_boolean (rand));
  } else if (G_IS_PARAM_SPEC_ENUM (pspec)) {
    GEnumClass *k = G_PARAM_SPEC_ENUM (pspec)->enum_class;
    g_value_set_enum (v, g_rand_int_range (rand, k->minimum - 2,
            k->maximum + 3));
  } else if (G_IS_PARAM_SPEC_FLAGS (pspec)) {
    g_value_set_flags (v, g_rand_int (rand));
  } else if (G_IS_PARAM_SPEC_INT (pspec)) {
    GParamSpecInt *p = G_PARAM_SPEC_INT (pspec);
    g_value_set_int (v, (gint) clamp_to (random_number (rand, p->minimum,
                p->maximum), G_MININT, G_MAXINT));
  } else if (G_IS_PARAM_SPEC_UINT (pspec)) {
    GParamSpecUInt *p = G_PARAM_SPEC_UINT (pspec);
    g_value_set_uint (v, (guint) clamp_to (random_number (rand, p->minimum,
                p->maximum), 0, G_MAXUINT));
  } else if (G_IS_PARAM_SPEC_INT64 (pspec)) {
    GParamSpecInt64 *p = G_PARAM_SPEC_INT64 (pspec);
    g_value_set_int64 (v, (gint64) clamp_to (random_number (rand,
                (gdouble) p->minimum, (gdouble) p->maximum), -9.2e18,
            9.2e18));
  } else if (G_IS_PARAM_SPEC_UINT64 (pspec)) {
    GParamSpecUInt64 *p = G_PARAM_SPEC_UINT64 (pspec);
    /* small values matter most (durations, TTLs) */
    g_value_set_uint64 (v, g_rand_boolean (rand) ?
        (guint64) clamp_to (random_number (rand, (gdouble) p->minimum,
                (gdouble) p->maximum), 0, 1.8e19) :
        (guint64) g_rand_int_range (rand, 0, 1000) * GST_MSECOND);
  } else if (G_IS_PARAM_SPEC_DOUBLE (pspec)) {
    GParamSpecDouble *p = G_PARAM_SPEC_DOUBLE (pspec);
    g_value_set_double (v, random_number (rand, p->minimum,
            MIN (p->maximum, 1e6)));
  } else {
    return FALSE;
  }
  return TRUE;
}

/* The writable properties of the element's own classes. */
static GPtrArray *
fuzzable_properties (GstElement * e)
{
  GPtrArray *out = g_ptr_array_new ();
  guint n, i;
  GParamSpec **specs =
      g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);

  for (i = 0; i < n; i++)
    if ((specs[i]->flags & G_PARAM_WRITABLE)
        && !(specs[i]->flags & G_PARAM_CONSTRUCT_ONLY)
        && g_str_has_prefix (g_type_name (specs[i]->owner_type), "GstImgRec"))
      g_ptr_array_add (out, specs[i]);
  g_free (specs);
  return out;
}

static void
drain_bus (GstBus * bus, guint * n_errors)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
      (*n_errors)++;
    gst_message_unref (msg);
  }
}

static GstElement *
fuzz_pipeline (const gchar * factory)
{
  gchar *desc;
  GstElement *p;

  /* a live source keeps PLAYING from running flat out */
  if (strcmp (factory, "imgrecgansrc") == 0
      || strcmp (factory, "imgrecdrivesrc") == 0)
    desc = g_strdup_printf ("%s name=e is-live=true ! "
        "video/x-raw,width=24,height=16,framerate=60/1 ! fakesink", factory);
  else
    desc = g_strdup_printf ("videotestsrc is-live=true ! "
        "video/x-raw,width=24,height=16,framerate=60/1 ! %s name=e ! "
        "fakesink", factory);
  p = gst_parse_launch (desc, NULL);
  fail_unless (p != NULL, "%s", desc);
  g_free (desc);
  return p;
}

static void
fuzz_element (const gchar * factory, GRand * rand, gint64 budget_us,
    guint * n_sets, guint * n_states, guint * n_errors)
{
  static const GstState states[] = { GST_STATE_NULL, GST_STATE_READY,
    GST_STATE_PAUSED, GST_STATE_PLAYING
  };
  GstElement *p = fuzz_pipeline (factory);
  GstElement *e = gst_bin_get_by_name (GST_BIN (p), "e");
  GstBus *bus = gst_element_get_bus (p);
  GPtrArray *props = fuzzable_properties (e);
  gint64 end = g_get_monotonic_time () + budget_us;

  fail_unless (props->len > 0, "%s has no properties to fuzz", factory);
  while (g_get_monotonic_time () < end) {
    guint k, burst = 1 + PICK (rand, 4);

    for (k = 0; k < burst; k++) {
      GParamSpec *pspec = g_ptr_array_index (props, PICK (rand, props->len));
      GValue v = G_VALUE_INIT;

      g_value_init (&v, G_PARAM_SPEC_VALUE_TYPE (pspec));
      if (random_value (rand, pspec, &v)) {
        /* what g_object_set does to an out-of-range value, minus its
         * warning: the element only ever sees a valid value */
        g_param_value_validate (pspec, &v);
        g_object_set_property (G_OBJECT (e), pspec->name, &v);
        (*n_sets)++;
      }
      g_value_unset (&v);
    }
    if (PICK (rand, 3) == 0) {
      set_state_bounded (p, states[PICK (rand, G_N_ELEMENTS (states))]);
      (*n_states)++;
    }
    if (PICK (rand, 4) == 0)
      g_usleep (PICK (rand, 20000));    /* let some frames through */
    drain_bus (bus, n_errors);
  }
  set_state_bounded (p, GST_STATE_NULL);
  drain_bus (bus, n_errors);
  g_ptr_array_free (props, TRUE);
  gst_object_unref (bus);
  gst_object_unref (e);
  gst_object_unref (p);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

GST_START_TEST (test_random_properties_in_random_states)
{
  const gchar *seconds_env = g_getenv ("IMGREC_FUZZ_SECONDS");
  const gchar *seed_env = g_getenv ("IMGREC_FUZZ_SEED");
  gdouble seconds = seconds_env ? g_ascii_strtod (seconds_env, NULL) : 8.0;
  guint32 seed = seed_env ? (guint32) atol (seed_env) : 1;
  GList *features, *l;
  GPtrArray *factories = g_ptr_array_new_with_free_func (g_free);
  guint n_sets = 0, n_states = 0, n_errors = 0, i;
  GRand *rand = g_rand_new_with_seed (seed);

  build_string_pool ();
  features = gst_registry_get_feature_list_by_plugin (gst_registry_get (),
      "imgrec");
  for (l = features; l; l = l->next)
    if (GST_IS_ELEMENT_FACTORY (l->data))
      g_ptr_array_add (factories,
          g_strdup (gst_plugin_feature_get_name (l->data)));
  gst_plugin_feature_list_free (features);
  fail_unless (factories->len >= 7, "only %u imgrec elements", factories->len);
  g_ptr_array_sort (factories, compare_names);
  g_print ("property fuzz: seed %u, %.1f s over %u elements\n", seed,
      seconds, factories->len);

  for (i = 0; i < factories->len; i++) {
    const gchar *name = g_ptr_array_index (factories, i);
    guint s0 = n_sets, st0 = n_states, e0 = n_errors;
    fuzz_element (name, rand, (gint64) (seconds * G_USEC_PER_SEC) /
        factories->len, &n_sets, &n_states, &n_errors);
    g_print ("  %-16s %5u property sets, %4u state changes, %4u errors "
        "posted\n", name, n_sets - s0, n_states - st0, n_errors - e0);
  }
  fail_unless (n_sets > 0 && n_states > 0);
  g_rand_free (rand);
  g_ptr_array_free (factories, TRUE);
  free_string_pool ();
}

GST_END_TEST;

static Suite *
property_fuzz_suite (void)
{
  Suite *s = suite_create ("property-fuzz");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 240);
  tcase_add_test (tc, test_random_properties_in_random_states);
  return s;
}

GST_CHECK_MAIN (property_fuzz);
