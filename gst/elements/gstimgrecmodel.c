/* Loading an imgrec model for a GStreamer element.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstimgrecmodel.h"
#include "gstimgrecfile.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

GType
gst_imgrec_color_order_get_type (void)
{
  static GType type = 0;
  /* Lower-case nicks like every other enum (and GStreamer's own); the
   * upper-case ones the first releases had stay accepted as aliases of the
   * same values (g_enum_get_value() returns the first, canonical entry). */
  static const GEnumValue values[] = {
    {GST_IMGREC_COLOR_ORDER_FROM_MODEL,
        "From the model's imgrec.color-order (default RGB; GRAY for "
          "one-channel inputs)", "model"},
    {GST_IMGREC_COLOR_ORDER_RGB, "Red, green, blue", "rgb"},
    {GST_IMGREC_COLOR_ORDER_BGR, "Blue, green, red", "bgr"},
    {GST_IMGREC_COLOR_ORDER_GRAY, "One luminance channel", "gray"},
    {GST_IMGREC_COLOR_ORDER_RGB, "Same as rgb (upper-case alias)", "RGB"},
    {GST_IMGREC_COLOR_ORDER_BGR, "Same as bgr (upper-case alias)", "BGR"},
    {GST_IMGREC_COLOR_ORDER_GRAY, "Same as gray (upper-case alias)", "GRAY"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecColorOrder", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_imgrec_resize_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_RESIZE_FROM_MODEL,
        "From the model's imgrec.resize (default stretch)", "model"},
    {GST_IMGREC_RESIZE_STRETCH,
        "Scale to the model's input size, ignoring the aspect ratio",
        "stretch"},
    {GST_IMGREC_RESIZE_LETTERBOX,
          "Scale keeping the aspect ratio, pad with black to the input size",
        "letterbox"},
    {GST_IMGREC_RESIZE_CENTER_CROP,
          "Scale keeping the aspect ratio so the input is covered, crop the "
          "centre", "center-crop"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecResize", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

const gchar *
gst_imgrec_color_order_nick (GstImgRecColorOrder order)
{
  GEnumValue *v = g_enum_get_value (g_type_class_peek_static
      (GST_TYPE_IMGREC_COLOR_ORDER), order);
  return v ? v->value_nick : "?";
}

const gchar *
gst_imgrec_resize_nick (GstImgRecResize resize)
{
  GEnumValue *v = g_enum_get_value (g_type_class_peek_static
      (GST_TYPE_IMGREC_RESIZE), resize);
  return v ? v->value_nick : "?";
}

/* Parses "a,b,c" (spaces allowed) into at most max_values floats. */
gboolean
gst_imgrec_parse_float_list (const gchar * text, gfloat * values,
    guint max_values, guint * n_values)
{
  gchar **parts;
  guint n = 0, i;
  gboolean ok = TRUE;

  if (text == NULL)
    return FALSE;
  parts = g_strsplit (text, ",", -1);
  for (i = 0; parts[i] != NULL; i++) {
    gchar *s = g_strstrip (parts[i]);
    gchar *end = NULL;
    gdouble v;

    if (n >= max_values || *s == '\0') {
      ok = FALSE;
      break;
    }
    errno = 0;
    v = g_ascii_strtod (s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite (v)) {
      ok = FALSE;
      break;
    }
    values[n++] = (gfloat) v;
  }
  g_strfreev (parts);
  if (n == 0)
    ok = FALSE;
  *n_values = n;
  return ok;
}

static gboolean
parse_color_order (const gchar * s, GstImgRecColorOrder * out)
{
  if (g_ascii_strcasecmp (s, "RGB") == 0)
    *out = GST_IMGREC_COLOR_ORDER_RGB;
  else if (g_ascii_strcasecmp (s, "BGR") == 0)
    *out = GST_IMGREC_COLOR_ORDER_BGR;
  else if (g_ascii_strcasecmp (s, "GRAY") == 0)
    *out = GST_IMGREC_COLOR_ORDER_GRAY;
  else
    return FALSE;
  return TRUE;
}

static gboolean
parse_resize (const gchar * s, GstImgRecResize * out)
{
  if (g_ascii_strcasecmp (s, "stretch") == 0)
    *out = GST_IMGREC_RESIZE_STRETCH;
  else if (g_ascii_strcasecmp (s, "letterbox") == 0)
    *out = GST_IMGREC_RESIZE_LETTERBOX;
  else if (g_ascii_strcasecmp (s, "center-crop") == 0)
    *out = GST_IMGREC_RESIZE_CENTER_CROP;
  else
    return FALSE;
  return TRUE;
}

gchar **
gst_imgrec_model_split_labels (const gchar * text, guint * n_labels)
{
  gchar **lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines), i;

  for (i = 0; i < n; i++) {
    gsize len = strlen (lines[i]);
    if (len > 0 && lines[i][len - 1] == '\r')
      lines[i][len - 1] = '\0';
  }
  while (n > 0 && lines[n - 1][0] == '\0') {
    g_free (lines[n - 1]);
    lines[--n] = NULL;
  }
  *n_labels = n;
  if (n == 0) {
    g_strfreev (lines);
    return NULL;
  }
  return lines;
}

static gboolean
set_error (GError ** error, GQuark domain, gint code, const gchar * fmt, ...)
    G_GNUC_PRINTF (4, 5);

static gboolean
set_error (GError ** error, GQuark domain, gint code, const gchar * fmt, ...)
{
  va_list args;
  gchar *msg;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error_literal (error, domain, code, msg);
  g_free (msg);
  return FALSE;
}

/* Per-channel values from a property (overriding) or a metadata key. */
static gboolean
load_channel_values (GstImgRecModelConfig * cfg, const gchar * prop_name,
    const gchar * prop_value, const gchar * key, gfloat default_value,
    gfloat * out, GError ** error)
{
  const gchar *text = prop_value;
  const gchar *origin = "property";
  gfloat values[GST_IMGREC_MAX_CHANNELS + 1];
  guint n = 0, c;

  if (text == NULL || *text == '\0') {
    text = imgrec_model_metadata_lookup (cfg->model, key);
    origin = "model metadata";
  }
  if (text == NULL) {
    for (c = 0; c < GST_IMGREC_MAX_CHANNELS; c++)
      out[c] = default_value;
    return TRUE;
  }
  if (!gst_imgrec_parse_float_list (text, values, G_N_ELEMENTS (values), &n)
      || (n != 1 && n != (guint) cfg->channels)) {
    return set_error (error, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS,
        "Invalid %s \"%s\" (from the %s %s): expected 1 or %d comma-separated "
        "numbers.", prop_name, text, origin,
        origin[0] == 'p' ? prop_name : key, cfg->channels);
  }
  for (c = 0; c < GST_IMGREC_MAX_CHANNELS; c++)
    out[c] = values[n == 1 ? 0 : MIN (c, n - 1)];
  return TRUE;
}

static gboolean
load_image_input (GstImgRecModelConfig * cfg, const gchar * path,
    gint image_input, gboolean allow_window, GError ** error)
{
  const imgrec_tensor_info *in;
  imgrec_tensor_info frame_info;
  const gchar *layout_key;
  gint64 d1, d2, d3;
  gint n_inputs = imgrec_model_n_inputs (cfg->model);

  if (image_input == -1 && n_inputs != 1)
    return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has %d inputs; an image model must have exactly one "
        "image input.", path, n_inputs);
  if (image_input == GST_IMGREC_IMAGE_INPUT_AUTO) {
    /* the one input of rank 4 (or 5, a window of frames) */
    gint i, found = -1;
    for (i = 0; i < n_inputs; i++) {
      gint rank = imgrec_model_input (cfg->model, i)->rank;
      if (rank != 4 && !(allow_window && rank == 5))
        continue;
      if (found >= 0)
        return set_error (error, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_SETTINGS, "Model \"%s\" has several image "
            "inputs (\"%s\" and \"%s\"); imgrec needs exactly one.", path,
            imgrec_model_input (cfg->model, found)->name,
            imgrec_model_input (cfg->model, i)->name);
      found = i;
    }
    if (found < 0)
      return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Model \"%s\" is not an image model: none of its %d inputs is an "
          "image tensor of rank 4%s.", path, n_inputs,
          allow_window ? " (or a window of frames of rank 5)" : "");
    image_input = found;
  }
  if (image_input >= n_inputs)
    return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has no input %d.", path, image_input);
  cfg->image_input = MAX (image_input, 0);
  in = imgrec_model_input (cfg->model, cfg->image_input);
  if (allow_window && in->rank == 5) {
    /* [1,T,C,H,W] or [T,1,C,H,W]: T frames, each an image [1,C,H,W] */
    gint64 t = in->dims[0] == 1 ? in->dims[1] : in->dims[0];
    if ((in->dims[0] != 1 && in->dims[1] != 1) || t <= 0 || t > 4096)
      return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Model \"%s\" is not a window model: its input \"%s\" must be "
          "[1,T,C,H,W] or [T,1,C,H,W] with a fixed T.", path, in->name);
    frame_info = *in;
    frame_info.rank = 4;
    frame_info.dims[0] = 1;
    memcpy (&frame_info.dims[1], &in->dims[2], 3 * sizeof (in->dims[0]));
    cfg->window = (gint) t;
    in = &frame_info;
  }

  if (in->dtype != IMGREC_DTYPE_FLOAT && in->dtype != IMGREC_DTYPE_FLOAT16)
    return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is not an image model: its input \"%s\" is %s, not a "
        "float image tensor.", path, in->name, imgrec_dtype_name (in->dtype));
  if (in->rank != 4)
    return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is not an image model: its input \"%s\" has rank %d, "
        "not 4 (NCHW or NHWC).", path, in->name, in->rank);
  if (in->dims[0] > 1)
    return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has a fixed batch size of %" G_GINT64_FORMAT
        " on input \"%s\"; imgrec needs batch size 1 (or a dynamic one).",
        path, in->dims[0], in->name);

  layout_key = imgrec_model_metadata_lookup (cfg->model, "imgrec.input-layout");
  if (layout_key == NULL || g_ascii_strcasecmp (layout_key, "NCHW") == 0) {
    cfg->layout = GST_IMGREC_LAYOUT_NCHW;
    d1 = in->dims[1];
    d2 = in->dims[2];
    d3 = in->dims[3];
  } else if (g_ascii_strcasecmp (layout_key, "NHWC") == 0) {
    cfg->layout = GST_IMGREC_LAYOUT_NHWC;
    d1 = in->dims[3];
    d2 = in->dims[1];
    d3 = in->dims[2];
  } else {
    return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has an invalid imgrec.input-layout \"%s\" (expected "
        "NCHW or NHWC).", path, layout_key);
  }

  if (d1 != 1 && d1 != 3)
    return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" is not an image model: input \"%s\" has %"
        G_GINT64_FORMAT " channels in %s layout, not 1 or 3 (set the model's "
        "imgrec.input-layout metadata if it is %s).", path, in->name, d1,
        cfg->layout == GST_IMGREC_LAYOUT_NCHW ? "NCHW" : "NHWC",
        cfg->layout == GST_IMGREC_LAYOUT_NCHW ? "NHWC" : "NCHW");
  if (d2 <= 0 || d3 <= 0)
    return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has no fixed image size: input \"%s\" must declare its "
        "height and width.", path, in->name);
  if (d2 > 16384 || d3 > 16384)
    return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model \"%s\" has an implausible image size %" G_GINT64_FORMAT "x%"
        G_GINT64_FORMAT ".", path, d3, d2);
  cfg->channels = (gint) d1;
  cfg->height = (gint) d2;
  cfg->width = (gint) d3;
  return TRUE;
}

/* ---------------------------------------------------------------- sharing
 *
 * Eight cameras running one model should hold its weights (and prepacked
 * kernels) once: a model is immutable and any number of sessions may run
 * it, so elements that name the same file share one loaded model, each
 * with its own session.  "The same file" is the same device, inode, size
 * and modification time: a file replaced on disk is loaded anew, and two
 * paths to one file (symlinks, relative paths) share.  The lock is held
 * while loading so that elements starting together load a model once.
 *
 * DL Streamer's model-instance-id names a loaded model explicitly: every
 * element that gives the same id shares the model the first one loaded,
 * also when their paths name different files (copies on other disks, a
 * file per camera), as long as the files hold the same bytes (SHA-256);
 * an id given with a different model is refused, since silently running
 * the first element's model would give wrong results. */

typedef struct {
  imgrec_model *model;
  guint refs;
  const gchar *key;             /* owned by shared_by_key */
  gchar *path;                  /* the path it was loaded from */
  gchar *digest;                /* SHA-256 of the file, once an id needs it */
} SharedModel;

static GMutex shared_lock;
static GHashTable *shared_by_key;       /* file key -> SharedModel */
static GHashTable *shared_by_model;     /* imgrec_model* -> file key */
static GHashTable *shared_by_instance;  /* model-instance-id -> SharedModel */

static void
shared_model_free (gpointer p)
{
  SharedModel *shared = p;

  g_free (shared->path);
  g_free (shared->digest);
  g_free (shared);
}

static void
shared_tables_init (void)
{
  if (shared_by_key != NULL)
    return;
  shared_by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      shared_model_free);
  shared_by_model = g_hash_table_new (g_direct_hash, g_direct_equal);
  shared_by_instance = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
}

static gchar *
shared_model_key (const gchar * path)
{
  struct stat st;

  if (stat (path, &st) != 0)
    return NULL;
  return g_strdup_printf ("%ju:%ju:%jd:%jd.%09ld", (uintmax_t) st.st_dev,
      (uintmax_t) st.st_ino, (intmax_t) st.st_size,
      (intmax_t) st.st_mtim.tv_sec, (long) st.st_mtim.tv_nsec);
}

/* SHA-256 of the file's bytes, or NULL when it cannot be read. */
static gchar *
file_digest (const gchar * path)
{
  GChecksum *sum;
  guint8 *chunk;
  gchar *digest = NULL;
  gssize n;
  FILE *f = fopen (path, "rb");

  if (f == NULL)
    return NULL;
  sum = g_checksum_new (G_CHECKSUM_SHA256);
  chunk = g_malloc (1 << 20);
  while ((n = (gssize) fread (chunk, 1, 1 << 20, f)) > 0)
    g_checksum_update (sum, chunk, n);
  if (!ferror (f))
    digest = g_strdup (g_checksum_get_string (sum));
  g_free (chunk);
  g_checksum_free (sum);
  fclose (f);
  return digest;
}

/* The model of @path's file from the tables, loaded and entered if needed,
 * with its entry in *out; shared_lock held.  A path without a file key
 * (stat fails) is loaded outside the tables (*out NULL) so that the loader
 * says what is wrong.  NULL with @err set on failure. */
static imgrec_model *
shared_acquire_locked (const gchar * path, SharedModel ** out,
    imgrec_error * err)
{
  gchar *key = shared_model_key (path);
  SharedModel *shared;
  imgrec_model *model;

  *out = NULL;
  if (key == NULL)
    return imgrec_model_load (path, err);
  shared = g_hash_table_lookup (shared_by_key, key);
  if (shared != NULL) {
    shared->refs++;
    g_free (key);
    *out = shared;
    return shared->model;
  }
  model = imgrec_model_load (path, err);
  if (model == NULL) {
    g_free (key);
    return NULL;
  }
  shared = g_new0 (SharedModel, 1);
  shared->model = model;
  shared->refs = 1;
  shared->key = key;
  shared->path = g_strdup (path);
  g_hash_table_insert (shared_by_model, model, key);
  g_hash_table_insert (shared_by_key, key, shared);
  *out = shared;
  return model;
}

imgrec_model *
gst_imgrec_model_acquire (const gchar * path, imgrec_error * err)
{
  SharedModel *shared;
  imgrec_model *model;

  g_mutex_lock (&shared_lock);
  shared_tables_init ();
  model = shared_acquire_locked (path, &shared, err);
  g_mutex_unlock (&shared_lock);
  return model;
}

/* Whether @path holds the model @shared was loaded from: the same file, or
 * a file with the same bytes; shared_lock held. */
static gboolean
shared_same_model (SharedModel * shared, const gchar * path)
{
  gchar *key = shared_model_key (path), *digest;
  gboolean same = key != NULL && g_str_equal (key, shared->key);

  g_free (key);
  if (same)
    return TRUE;
  if (shared->digest == NULL)
    return FALSE;
  digest = file_digest (path);
  same = digest != NULL && g_str_equal (digest, shared->digest);
  g_free (digest);
  return same;
}

imgrec_model *
gst_imgrec_model_acquire_for_element (const gchar * path,
    const gchar * instance_id, GError ** error)
{
  SharedModel *shared;
  imgrec_model *model;
  imgrec_error err = { 0 };

  g_mutex_lock (&shared_lock);
  shared_tables_init ();
  if (instance_id != NULL && *instance_id != '\0'
      && (shared = g_hash_table_lookup (shared_by_instance,
              instance_id)) != NULL) {
    if (!shared_same_model (shared, path)) {
      g_mutex_unlock (&shared_lock);
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "model-instance-id \"%s\" already names model \"%s\" in this "
          "process, and \"%s\" is a different model: elements with one "
          "model-instance-id must run the same model (give this element "
          "another id).", instance_id, shared->path, path);
      return NULL;
    }
    shared->refs++;
    g_mutex_unlock (&shared_lock);
    return shared->model;
  }

  model = shared_acquire_locked (path, &shared, &err);
  if (model != NULL && shared != NULL && instance_id != NULL
      && *instance_id != '\0') {
    /* later elements with this id may name another copy of the file */
    if (shared->digest == NULL)
      shared->digest = file_digest (shared->path);
    g_hash_table_insert (shared_by_instance, g_strdup (instance_id), shared);
  }
  g_mutex_unlock (&shared_lock);
  if (model == NULL)
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "Could not load model \"%s\": %s", path, err.message);
  return model;
}

static gboolean
names_shared (gpointer id, gpointer value, gpointer shared)
{
  return value == shared;
}

void
gst_imgrec_model_release (imgrec_model * model)
{
  const gchar *key;
  SharedModel *shared;

  if (model == NULL)
    return;
  g_mutex_lock (&shared_lock);
  key = shared_by_model ? g_hash_table_lookup (shared_by_model, model) : NULL;
  if (key == NULL) {            /* not from the tables */
    g_mutex_unlock (&shared_lock);
    imgrec_model_free (model);
    return;
  }
  shared = g_hash_table_lookup (shared_by_key, key);
  if (--shared->refs > 0) {
    g_mutex_unlock (&shared_lock);
    return;
  }
  /* an id lives as long as its model: a later element with it loads anew */
  g_hash_table_foreach_remove (shared_by_instance, names_shared, shared);
  g_hash_table_remove (shared_by_model, model);
  g_hash_table_remove (shared_by_key, key);     /* frees key and entry */
  g_mutex_unlock (&shared_lock);
  imgrec_model_free (model);
}

gboolean
gst_imgrec_model_config_load (GstImgRecModelConfig * cfg, const gchar * path,
    const GstImgRecModelOverrides * ov, GError ** error)
{
  return gst_imgrec_model_config_load_input (cfg, path, ov, -1, FALSE, error);
}

gboolean
gst_imgrec_model_config_load_input (GstImgRecModelConfig * cfg,
    const gchar * path, const GstImgRecModelOverrides * ov, gint image_input,
    gboolean allow_window, GError ** error)
{
  const gchar *s;
  gchar *base;
  guint c;

  memset (cfg, 0, sizeof (*cfg));

  if (path == NULL || *path == '\0')
    return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "No model set: set the \"model\" property to an ONNX file.");
  if (!gst_imgrec_file_check (path, "model file", GST_IMGREC_MAX_MODEL_BYTES,
          error))
    return FALSE;

  cfg->model = gst_imgrec_model_acquire_for_element (path,
      ov->model_instance_id, error);
  if (cfg->model == NULL)
    return FALSE;

  base = g_path_get_basename (path);
  if (g_str_has_suffix (base, ".onnx"))
    base[strlen (base) - 5] = '\0';
  cfg->name = base;
  s = imgrec_model_metadata_lookup (cfg->model, "imgrec.kind");
  cfg->kind = g_strdup (s);

  if (!load_image_input (cfg, path, image_input, allow_window, error))
    goto fail;

  /* colour order */
  cfg->color_order = ov->color_order;
  if (cfg->color_order == GST_IMGREC_COLOR_ORDER_FROM_MODEL) {
    s = imgrec_model_metadata_lookup (cfg->model, "imgrec.color-order");
    if (s != NULL && !parse_color_order (s, &cfg->color_order)) {
      set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Model \"%s\" has an invalid imgrec.color-order \"%s\" (expected "
          "RGB, BGR or GRAY).", path, s);
      goto fail;
    }
    if (s == NULL)
      cfg->color_order = cfg->channels == 1 ?
          GST_IMGREC_COLOR_ORDER_GRAY : GST_IMGREC_COLOR_ORDER_RGB;
  }
  if ((cfg->color_order == GST_IMGREC_COLOR_ORDER_GRAY) != (cfg->channels == 1)) {
    set_error (error, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS,
        "Colour order %s does not fit model \"%s\", whose image input has %d "
        "channel%s.", gst_imgrec_color_order_nick (cfg->color_order), path,
        cfg->channels, cfg->channels == 1 ? "" : "s");
    goto fail;
  }

  /* resize mode */
  cfg->resize = ov->resize;
  if (cfg->resize == GST_IMGREC_RESIZE_FROM_MODEL) {
    s = imgrec_model_metadata_lookup (cfg->model, "imgrec.resize");
    cfg->resize = GST_IMGREC_RESIZE_STRETCH;
    if (s != NULL && !parse_resize (s, &cfg->resize)) {
      set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Model \"%s\" has an invalid imgrec.resize \"%s\" (expected stretch, "
          "letterbox or center-crop).", path, s);
      goto fail;
    }
  }

  /* scale, mean, std */
  if (ov->scale > 0.0) {
    cfg->scale = (gfloat) ov->scale;
  } else {
    cfg->scale = 1.0f / 255.0f;
    s = imgrec_model_metadata_lookup (cfg->model, "imgrec.scale");
    if (s != NULL) {
      gfloat v;
      guint n;
      if (!gst_imgrec_parse_float_list (s, &v, 1, &n) || v <= 0.0f) {
        set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
            "Model \"%s\" has an invalid imgrec.scale \"%s\" (expected a "
            "positive number).", path, s);
        goto fail;
      }
      cfg->scale = v;
    }
  }
  if (!load_channel_values (cfg, "mean", ov->mean, "imgrec.mean", 0.0f,
          cfg->mean, error))
    goto fail;
  if (!load_channel_values (cfg, "std", ov->std, "imgrec.std", 1.0f,
          cfg->std, error))
    goto fail;
  for (c = 0; c < (guint) cfg->channels; c++) {
    if (cfg->std[c] == 0.0f) {
      set_error (error, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS,
          "Invalid std: channel %u is 0 (pixels are divided by std).", c);
      goto fail;
    }
  }

  /* labels */
  if (ov->labels_file != NULL && *ov->labels_file != '\0') {
    gchar *text = gst_imgrec_file_read_text (ov->labels_file, "labels file",
        GST_IMGREC_MAX_LABELS_BYTES, NULL, error);

    if (text == NULL)
      goto fail;
    cfg->labels = gst_imgrec_model_split_labels (text, &cfg->n_labels);
    g_free (text);
    if (cfg->labels == NULL) {
      set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Labels file \"%s\" is empty.", ov->labels_file);
      goto fail;
    }
  } else if ((s = imgrec_model_metadata_lookup (cfg->model,
              "imgrec.labels")) != NULL) {
    cfg->labels = gst_imgrec_model_split_labels (s, &cfg->n_labels);
  }
  return TRUE;

fail:
  gst_imgrec_model_config_clear (cfg);
  return FALSE;
}

void
gst_imgrec_model_config_clear (GstImgRecModelConfig * cfg)
{
  gst_imgrec_model_release (cfg->model);
  g_free (cfg->name);
  g_free (cfg->kind);
  g_strfreev (cfg->labels);
  memset (cfg, 0, sizeof (*cfg));
}
