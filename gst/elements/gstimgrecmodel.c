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
 * while loading so that elements starting together load a model once. */

typedef struct {
  imgrec_model *model;
  guint refs;
} SharedModel;

static GMutex shared_lock;
static GHashTable *shared_by_key;       /* file key -> SharedModel */
static GHashTable *shared_by_model;     /* imgrec_model* -> file key */

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

imgrec_model *
gst_imgrec_model_acquire (const gchar * path, imgrec_error * err)
{
  gchar *key = shared_model_key (path);
  SharedModel *shared;
  imgrec_model *model;

  if (key == NULL)              /* the loader says what is wrong */
    return imgrec_model_load (path, err);

  g_mutex_lock (&shared_lock);
  if (shared_by_key == NULL) {
    shared_by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        g_free);
    shared_by_model = g_hash_table_new (g_direct_hash, g_direct_equal);
  }
  shared = g_hash_table_lookup (shared_by_key, key);
  if (shared != NULL) {
    shared->refs++;
    g_mutex_unlock (&shared_lock);
    g_free (key);
    return shared->model;
  }
  model = imgrec_model_load (path, err);
  if (model != NULL) {
    shared = g_new0 (SharedModel, 1);
    shared->model = model;
    shared->refs = 1;
    g_hash_table_insert (shared_by_model, model, key);
    g_hash_table_insert (shared_by_key, key, shared);
    key = NULL;
  }
  g_mutex_unlock (&shared_lock);
  g_free (key);
  return model;
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
  if (key == NULL) {            /* loaded without a file key */
    g_mutex_unlock (&shared_lock);
    imgrec_model_free (model);
    return;
  }
  shared = g_hash_table_lookup (shared_by_key, key);
  if (--shared->refs > 0) {
    g_mutex_unlock (&shared_lock);
    return;
  }
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
  imgrec_error err;
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

  cfg->model = gst_imgrec_model_acquire (path, &err);
  if (cfg->model == NULL)
    return set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "Could not load model \"%s\": %s", path, err.message);

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
