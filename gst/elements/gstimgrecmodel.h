/* Loading an imgrec model for a GStreamer element: the engine model, its
 * image input and the pre-processing settings from the model's ONNX
 * metadata_props (imgrec.* keys), merged with the element's overrides.
 * Shared by every inference element of the plugin.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_MODEL_H__
#define __GST_IMGREC_MODEL_H__

#include <gst/gst.h>
#include <imgrec/engine.h>

G_BEGIN_DECLS

typedef enum {
  GST_IMGREC_COLOR_ORDER_FROM_MODEL = 0,
  GST_IMGREC_COLOR_ORDER_RGB,
  GST_IMGREC_COLOR_ORDER_BGR,
  GST_IMGREC_COLOR_ORDER_GRAY,
} GstImgRecColorOrder;

typedef enum {
  GST_IMGREC_RESIZE_FROM_MODEL = 0,
  GST_IMGREC_RESIZE_STRETCH,
  GST_IMGREC_RESIZE_LETTERBOX,
  GST_IMGREC_RESIZE_CENTER_CROP,
} GstImgRecResize;

typedef enum {
  GST_IMGREC_LAYOUT_NCHW,
  GST_IMGREC_LAYOUT_NHWC,
} GstImgRecLayout;

GType gst_imgrec_color_order_get_type (void);
#define GST_TYPE_IMGREC_COLOR_ORDER (gst_imgrec_color_order_get_type ())
GType gst_imgrec_resize_get_type (void);
#define GST_TYPE_IMGREC_RESIZE (gst_imgrec_resize_get_type ())

/* What the element's properties override; NULL / 0 / FROM_MODEL = use the
 * model's metadata (or the default when the model has none). */
typedef struct {
  const gchar *labels_file;
  const gchar *mean;
  const gchar *std;
  gdouble scale;
  GstImgRecColorOrder color_order;
  GstImgRecResize resize;
  const gchar *model_instance_id;       /* see gst_imgrec_model_acquire_for_element */
} GstImgRecModelOverrides;

#define GST_IMGREC_MAX_CHANNELS 3

typedef struct {
  imgrec_model *model;
  gchar *name;                  /* file name without directory and .onnx */
  gchar *kind;                  /* imgrec.kind, or NULL */

  /* the image input (input 0) */
  gint width, height, channels;
  GstImgRecLayout layout;

  /* pre-processing: value = (pixel * scale - mean[c]) / std[c] */
  gfloat scale;
  gfloat mean[GST_IMGREC_MAX_CHANNELS];
  gfloat std[GST_IMGREC_MAX_CHANNELS];
  GstImgRecColorOrder color_order;      /* never FROM_MODEL once loaded */
  GstImgRecResize resize;               /* never FROM_MODEL once loaded */

  gchar **labels;               /* NULL-terminated, or NULL */
  guint n_labels;

  /* which model input is the image (0 for single-input models), and for a
   * window model (image input [1,T,C,H,W] or [T,1,C,H,W]) its T; else 0 */
  gint image_input;
  gint window;
} GstImgRecModelConfig;

gboolean gst_imgrec_model_config_load (GstImgRecModelConfig * cfg,
    const gchar * path, const GstImgRecModelOverrides * overrides,
    GError ** error);
/* Like gst_imgrec_model_config_load() for models with more inputs than the
 * image (recurrent state, ...): `image_input` is the index of the image
 * input, or GST_IMGREC_IMAGE_INPUT_AUTO for the one input of rank 4 (or 5);
 * `allow_window` accepts a rank-5 window of frames there. */
#define GST_IMGREC_IMAGE_INPUT_AUTO (-2)
gboolean gst_imgrec_model_config_load_input (GstImgRecModelConfig * cfg,
    const gchar * path, const GstImgRecModelOverrides * overrides,
    gint image_input, gboolean allow_window, GError ** error);
void gst_imgrec_model_config_clear (GstImgRecModelConfig * cfg);

/* The engine model of an ONNX file, shared by every element of the process
 * that names the same file (same device, inode, size and modification
 * time): loaded on the first acquire, freed on the last release.  Each
 * element creates its own session on it.  NULL with `err` set on failure. */
imgrec_model *gst_imgrec_model_acquire (const gchar * path, imgrec_error * err);
/* The model an inference element runs.  Without @instance_id (NULL or ""),
 * gst_imgrec_model_acquire()'s.  With one (DL Streamer's model-instance-id)
 * the model the process already loaded for that id, when @path holds the
 * same model (the same file, or a file with the same bytes) — otherwise an
 * error naming both —, else @path's model, which the id then names until
 * its last user releases it.  NULL with @error set (a sentence) on failure. */
imgrec_model *gst_imgrec_model_acquire_for_element (const gchar * path,
    const gchar * instance_id, GError ** error);
void gst_imgrec_model_release (imgrec_model * model);

/* Labels, one a line (imgrec.labels, a labels file): LF or CRLF line ends,
 * trailing empty lines ignored.  NULL-terminated, *n_labels of them; NULL
 * (and 0) when there are none. */
gchar **gst_imgrec_model_split_labels (const gchar * text, guint * n_labels);

gboolean gst_imgrec_parse_float_list (const gchar * text, gfloat * values,
    guint max_values, guint * n_values);

const gchar *gst_imgrec_color_order_nick (GstImgRecColorOrder order);
const gchar *gst_imgrec_resize_nick (GstImgRecResize resize);

G_END_DECLS

#endif
