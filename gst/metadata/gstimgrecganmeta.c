/* imgrec GAN result metadata — libgstimgrec-1.0.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:gstimgrecganmeta
 * @title: GstImgRecGanMeta
 * @short_description: results of the imgrec GAN elements
 *
 * imgrecgansrc attaches a #GstImgRecGanMeta with role
 * %GST_IMGREC_GAN_ROLE_GENERATED to every frame it synthesises, so that the
 * frame's provenance (generator model, seed, latent index, conditioning
 * class) reaches every later element and imgrecjson's output.  imgrecgan adds
 * one per region it scores (%GST_IMGREC_GAN_ROLE_DISCRIMINATED) or restores
 * (%GST_IMGREC_GAN_ROLE_RESTORED).
 *
 * The meta has the same tags and transforms as the classification meta:
 * videoconvert keeps it, videoscale scales its region, buffer copies copy
 * it, and the `imgrec-gan` param of its region's ROI is put back when
 * GStreamer copies the ROI without its params.
 *
 * From Python (GObject-introspection):
 * |[
 * from gi.repository import GstImgRec
 * for meta in GstImgRec.buffer_get_imgrec_gan_metas(buffer):
 *     print(meta.get_role(), meta.get_seed(), meta.get_class_id(), meta.get_score())
 * ]|
 */
#include "gstimgrecganmeta.h"
#include "gstimgrecmeta-private.h"

GType
gst_imgrec_gan_meta_api_get_type (void)
{
  static GType type = 0;

  if (g_once_init_enter (&type)) {
    GType t = _gst_imgrec_meta_api_register ("GstImgRecGanMetaAPI");
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
gan_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  _gst_imgrec_meta_init_result (meta, sizeof (GstImgRecGanMeta));
  ((GstImgRecGanMeta *) meta)->class_id = -1;
  ((GstImgRecGanMeta *) meta)->sharpness = -1.0f;
  ((GstImgRecGanMeta *) meta)->noise = -1.0f;
  return TRUE;
}

/**
 * gst_imgrec_gan_meta_make_roi_param:
 * @meta: a #GstImgRecGanMeta
 *
 * The %GST_IMGREC_GAN_PARAM_NAME param that describes @meta on its region's
 * #GstVideoRegionOfInterestMeta: imgrecgan adds it, and the meta's transform
 * puts it back on a copied ROI (GStreamer 1.22 drops ROI params on copy).
 *
 * Returns: (transfer full) (nullable): the param, or %NULL for a synthetic
 *   frame (%GST_IMGREC_GAN_ROLE_GENERATED), which has none.
 */
GstStructure *
gst_imgrec_gan_meta_make_roi_param (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);

  if (meta->role == GST_IMGREC_GAN_ROLE_GENERATED)
    return NULL;
  if (meta->role == GST_IMGREC_GAN_ROLE_DISCRIMINATED) {
    /* the anomaly state, not the instant score, is the element's decision;
     * DL Streamer's consumers want one label with its probability */
    gdouble p_normal = CLAMP ((gdouble) meta->score, 0.0, 1.0);
    GstStructure *s = gst_structure_new (GST_IMGREC_GAN_PARAM_NAME,
        "model", G_TYPE_STRING, meta->info.model,
        "mode", G_TYPE_STRING, "discriminate",
        "score", G_TYPE_DOUBLE, (gdouble) meta->score,
        "logit", G_TYPE_DOUBLE, (gdouble) meta->logit,
        "anomaly", G_TYPE_BOOLEAN, meta->anomaly,
        "model_name", G_TYPE_STRING, meta->info.model,
        "label", G_TYPE_STRING, meta->anomaly ? "anomaly" : "normal",
        "label_id", G_TYPE_INT, meta->anomaly ? 1 : 0,
        "confidence", G_TYPE_DOUBLE,
        meta->anomaly ? 1.0 - p_normal : p_normal,
        "anomaly-reasons", G_TYPE_STRING,
        gst_imgrec_gan_anomaly_reasons_to_string (meta->anomaly_reasons), NULL);
    if (meta->sharpness >= 0.0f)
      gst_structure_set (s, "sharpness", G_TYPE_DOUBLE,
          (gdouble) meta->sharpness, "sharpness-baseline", G_TYPE_DOUBLE,
          (gdouble) meta->sharpness_baseline, NULL);
    return s;
  }
  return gst_structure_new (GST_IMGREC_GAN_PARAM_NAME,
      "model", G_TYPE_STRING, meta->info.model,
      "mode", G_TYPE_STRING, "generate",
      "blend", G_TYPE_DOUBLE, (gdouble) meta->blend,
      "model_name", G_TYPE_STRING, meta->info.model,
      "restored", G_TYPE_BOOLEAN, meta->restored,
      "degradations", G_TYPE_STRING,
      gst_imgrec_gan_degradations_to_string (meta->degradations),
      "brightness", G_TYPE_DOUBLE, (gdouble) meta->brightness,
      "contrast", G_TYPE_DOUBLE, (gdouble) meta->contrast,
      "sharpness", G_TYPE_DOUBLE, (gdouble) meta->sharpness,
      "noise", G_TYPE_DOUBLE, (gdouble) meta->noise, NULL);
}

static GstStructure *
gan_roi_param (GstMeta * meta)
{
  return gst_imgrec_gan_meta_make_roi_param ((GstImgRecGanMeta *) meta);
}

static gboolean
gan_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer,
    GQuark type, gpointer data)
{
  return _gst_imgrec_meta_transform (dest, meta, type, data,
      GST_IMGREC_GAN_META_INFO, GST_IMGREC_GAN_PARAM_NAME, gan_roi_param);
}

const GstMetaInfo *
gst_imgrec_gan_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_register (GST_IMGREC_GAN_META_API_TYPE,
        "GstImgRecGanMeta", sizeof (GstImgRecGanMeta), gan_meta_init, NULL,
        gan_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

/**
 * gst_buffer_add_imgrec_gan_meta:
 * @buffer: a writable #GstBuffer
 * @role: what the element did
 * @model: (nullable): model name
 * @element: (nullable): name of the producing element
 *
 * Adds an empty GAN result (no region, class -1) to @buffer.
 *
 * Returns: (transfer none): the new meta
 */
GstImgRecGanMeta *
gst_buffer_add_imgrec_gan_meta (GstBuffer * buffer, GstImgRecGanRole role,
    const gchar * model, const gchar * element)
{
  GstImgRecGanMeta *meta;

  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  meta = (GstImgRecGanMeta *) _gst_imgrec_meta_add (buffer,
      GST_IMGREC_GAN_META_INFO, model, element);
  if (meta != NULL)
    meta->role = role;
  return meta;
}

/**
 * gst_buffer_get_imgrec_gan_meta:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer none) (nullable): the first GAN meta of @buffer
 */
GstImgRecGanMeta *
gst_buffer_get_imgrec_gan_meta (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecGanMeta *) gst_buffer_get_meta (buffer,
      GST_IMGREC_GAN_META_API_TYPE);
}

/**
 * gst_buffer_get_imgrec_gan_meta_for_roi:
 * @buffer: a #GstBuffer
 * @roi_id: id of a #GstVideoRegionOfInterestMeta
 *
 * Returns: (transfer none) (nullable): the first GAN meta describing region
 *   @roi_id, or %NULL
 */
GstImgRecGanMeta *
gst_buffer_get_imgrec_gan_meta_for_roi (GstBuffer * buffer, gint roi_id)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstImgRecGanMeta *) _gst_imgrec_meta_find_for_roi (buffer,
      GST_IMGREC_GAN_META_API_TYPE, roi_id);
}

/**
 * gst_buffer_get_imgrec_gan_metas:
 * @buffer: a #GstBuffer
 *
 * Returns: (transfer container) (element-type GstImgRecGanMeta): every GAN
 *   meta of @buffer, in the order they were added
 */
GList *
gst_buffer_get_imgrec_gan_metas (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return _gst_imgrec_meta_list (buffer, GST_IMGREC_GAN_META_API_TYPE);
}

/**
 * gst_imgrec_gan_role_to_string:
 * @role: a #GstImgRecGanRole
 *
 * Returns: `generated`, `discriminated` or `restored`
 */
const gchar *
gst_imgrec_gan_role_to_string (GstImgRecGanRole role)
{
  switch (role) {
    case GST_IMGREC_GAN_ROLE_GENERATED:
      return "generated";
    case GST_IMGREC_GAN_ROLE_DISCRIMINATED:
      return "discriminated";
    case GST_IMGREC_GAN_ROLE_RESTORED:
      return "restored";
  }
  return "unknown";
}

/**
 * gst_imgrec_gan_meta_get_role:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: what the element did
 */
GstImgRecGanRole
gst_imgrec_gan_meta_get_role (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, GST_IMGREC_GAN_ROLE_GENERATED);
  return meta->role;
}

/**
 * gst_imgrec_gan_meta_get_model:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: (nullable): the model name
 */
const gchar *
gst_imgrec_gan_meta_get_model (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->info.model;
}

/**
 * gst_imgrec_gan_meta_get_element:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: (nullable): name of the element that produced the result
 */
const gchar *
gst_imgrec_gan_meta_get_element (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->info.element;
}

/**
 * gst_imgrec_gan_meta_get_roi_id:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: id of the region's #GstVideoRegionOfInterestMeta, or -1
 */
gint
gst_imgrec_gan_meta_get_roi_id (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->info.roi_id;
}

/**
 * gst_imgrec_gan_meta_get_region:
 * @meta: a #GstImgRecGanMeta
 * @x: (out) (optional): left edge
 * @y: (out) (optional): top edge
 * @width: (out) (optional): width
 * @height: (out) (optional): height
 *
 * Gets the region the result describes, in frame pixels.
 */
void
gst_imgrec_gan_meta_get_region (GstImgRecGanMeta * meta, gint * x, gint * y,
    guint * width, guint * height)
{
  g_return_if_fail (meta != NULL);
  _gst_imgrec_result_info_get_region (&meta->info, x, y, width, height);
}

/**
 * gst_imgrec_gan_meta_get_seed:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: the generating source's seed
 */
guint64
gst_imgrec_gan_meta_get_seed (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->seed;
}

/**
 * gst_imgrec_gan_meta_get_latent_index:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: index of the latent vector (or of the walk's starting key latent)
 */
guint64
gst_imgrec_gan_meta_get_latent_index (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->latent_index;
}

/**
 * gst_imgrec_gan_meta_get_latent_position:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: position in [0, 1) between two key latents of a latent walk
 */
gdouble
gst_imgrec_gan_meta_get_latent_position (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0.0);
  return meta->latent_position;
}

/**
 * gst_imgrec_gan_meta_get_class_id:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: the conditioning class, or -1
 */
gint
gst_imgrec_gan_meta_get_class_id (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1);
  return meta->class_id;
}

/**
 * gst_imgrec_gan_meta_get_label:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: (nullable): label of the conditioning class
 */
const gchar *
gst_imgrec_gan_meta_get_label (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, NULL);
  return meta->label;
}

/**
 * gst_imgrec_gan_meta_get_score:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: realism in [0, 1]
 */
gfloat
gst_imgrec_gan_meta_get_score (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0.0f);
  return meta->score;
}

/**
 * gst_imgrec_gan_meta_get_logit:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: the discriminator's raw output
 */
gfloat
gst_imgrec_gan_meta_get_logit (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0.0f);
  return meta->logit;
}

/**
 * gst_imgrec_gan_meta_is_anomaly:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: %TRUE while the region is in the anomaly state
 */
gboolean
gst_imgrec_gan_meta_is_anomaly (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, FALSE);
  return meta->anomaly;
}

/**
 * gst_imgrec_gan_meta_get_blend:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: weight of the generator's output in a restored region
 */
gfloat
gst_imgrec_gan_meta_get_blend (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0.0f);
  return meta->blend;
}

/**
 * gst_imgrec_gan_meta_get_anomaly_reasons:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: why the region is in the anomaly state, a
 *   #GstImgRecGanAnomalyReason mask (0 when it is not)
 */
guint
gst_imgrec_gan_meta_get_anomaly_reasons (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->anomaly_reasons;
}

/**
 * gst_imgrec_gan_meta_get_sharpness:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: the region's focus measure on this frame, -1 when not measured
 */
gfloat
gst_imgrec_gan_meta_get_sharpness (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, -1.0f);
  return meta->sharpness;
}

/**
 * gst_imgrec_gan_meta_get_sharpness_baseline:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: the baseline the sharpness is compared with, 0 while there is none
 */
gfloat
gst_imgrec_gan_meta_get_sharpness_baseline (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0.0f);
  return meta->sharpness_baseline;
}

/**
 * gst_imgrec_gan_anomaly_reasons_to_string:
 * @reasons: a #GstImgRecGanAnomalyReason mask
 *
 * Returns: (transfer none): the reasons' names, comma-separated, in the
 *   order `realism`, `defocus`; an empty string for none
 */
const gchar *
gst_imgrec_gan_anomaly_reasons_to_string (guint reasons)
{
  static const gchar *const names[] = { "", "realism", "defocus",
    "realism,defocus"
  };

  return names[reasons & (GST_IMGREC_GAN_ANOMALY_REALISM |
          GST_IMGREC_GAN_ANOMALY_DEFOCUS)];
}

/**
 * gst_imgrec_gan_degradations_to_string:
 * @degradations: a #GstImgRecGanDegradation mask
 *
 * Returns: (transfer none): the degradations' names, comma-separated, in
 *   the order `dark`, `low-contrast`, `blurred`, `noisy`; an empty string
 *   for none
 */
const gchar *
gst_imgrec_gan_degradations_to_string (guint degradations)
{
  static const gchar *const names[] = { "dark", "low-contrast", "blurred",
    "noisy"
  };
  static gchar *joined[16];
  guint mask = degradations & 15u;

  if (g_once_init_enter (&joined[0])) {
    guint m, k;
    for (m = 1; m < 16; m++) {
      GString *s = g_string_new (NULL);
      for (k = 0; k < 4; k++)
        if (m & (1u << k))
          g_string_append_printf (s, "%s%s", s->len ? "," : "", names[k]);
      joined[m] = g_string_free (s, FALSE);
    }
    g_once_init_leave (&joined[0], g_strdup (""));
  }
  return joined[mask];
}

/**
 * gst_imgrec_gan_meta_is_restored:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: (restored role) %TRUE when the region was replaced by the
 *   generator's output, %FALSE when the degradation gate left it untouched
 */
gboolean
gst_imgrec_gan_meta_is_restored (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, FALSE);
  return meta->restored;
}

/**
 * gst_imgrec_gan_meta_get_degradations:
 * @meta: a #GstImgRecGanMeta
 *
 * Returns: (restored role) what the degradation gate found, a
 *   #GstImgRecGanDegradation mask
 */
guint
gst_imgrec_gan_meta_get_degradations (GstImgRecGanMeta * meta)
{
  g_return_val_if_fail (meta != NULL, 0);
  return meta->degradations;
}
