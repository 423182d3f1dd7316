/* imgrec GAN result metadata — part of libgstimgrec-1.0.
 *
 * A #GstImgRecGanMeta says what a GAN element did to or found in a frame:
 * imgrecgansrc marks every frame it synthesises (provenance: model, seed,
 * latent index, conditioning class), imgrecgan mode=discriminate records the
 * discriminator's realism score and the anomaly state of a region, and
 * imgrecgan mode=generate records that a region was replaced by a
 * generator's output.  Like every imgrec result meta it starts with a
 * #GstImgRecResultInfo.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_GAN_META_H__
#define __GST_IMGREC_GAN_META_H__

#include "gstimgrecmeta.h"

G_BEGIN_DECLS

/**
 * GST_IMGREC_GAN_PARAM_NAME:
 *
 * Name of the #GstStructure param imgrecgan appends to the
 * #GstVideoRegionOfInterestMeta of each region it handles.  Fields: `model`
 * and DL Streamer's `model_name` (string), `mode` (string: `discriminate` or
 * `generate`), and for `discriminate` `score` (double, realism in [0, 1]),
 * `logit` (double), `anomaly` (boolean) and the decision as a classification
 * DL Streamer's tools read: `label` (string: `anomaly` while the region is in
 * the anomaly state, else `normal`), `label_id` (int: 1, 0), `confidence`
 * (double: the label's probability, 1 - score for `anomaly`, score for
 * `normal`), `anomaly-reasons` (string: the causes of the anomaly state,
 * comma-separated, see gst_imgrec_gan_anomaly_reasons_to_string(); empty
 * when normal), and with the element's defocus check on `sharpness` and
 * `sharpness-baseline` (double); for `generate` `blend` (double),
 * `restored` (boolean: %FALSE when the degradation gate left the region
 * untouched), `degradations` (string, comma-separated, see
 * gst_imgrec_gan_degradations_to_string(); empty when clean or the gate is
 * off), and the gate's measures `brightness`, `contrast`, `sharpness`,
 * `noise` (double).
 */
#define GST_IMGREC_GAN_PARAM_NAME "imgrec-gan"

/**
 * GstImgRecGanRole:
 * @GST_IMGREC_GAN_ROLE_GENERATED: the frame was synthesised by a generator
 *   (imgrecgansrc); seed, latent and class fields are valid
 * @GST_IMGREC_GAN_ROLE_DISCRIMINATED: a discriminator scored the region's
 *   realism (imgrecgan mode=discriminate); score, logit and anomaly are valid
 * @GST_IMGREC_GAN_ROLE_RESTORED: the region was replaced by an
 *   image-to-image generator's output (imgrecgan mode=generate); blend is
 *   valid
 *
 * What a GAN element did.
 */
typedef enum {
  GST_IMGREC_GAN_ROLE_GENERATED = 0,
  GST_IMGREC_GAN_ROLE_DISCRIMINATED = 1,
  GST_IMGREC_GAN_ROLE_RESTORED = 2,
} GstImgRecGanRole;

/**
 * GstImgRecGanAnomalyReason:
 * @GST_IMGREC_GAN_ANOMALY_NONE: no anomaly
 * @GST_IMGREC_GAN_ANOMALY_REALISM: the discriminator's realism score stayed
 *   below imgrecgan's anomaly-threshold (a covered lens, a view the model
 *   never saw)
 * @GST_IMGREC_GAN_ANOMALY_DEFOCUS: the region's sharpness stayed below
 *   imgrecgan's defocus-threshold times its own baseline (a defocused or
 *   smeared lens)
 *
 * Why a region is in the anomaly state; flags, since both can hold at once.
 */
typedef enum {
  GST_IMGREC_GAN_ANOMALY_NONE = 0,
  GST_IMGREC_GAN_ANOMALY_REALISM = 1 << 0,
  GST_IMGREC_GAN_ANOMALY_DEFOCUS = 1 << 1,
} GstImgRecGanAnomalyReason;

/**
 * GstImgRecGanDegradation:
 * @GST_IMGREC_GAN_DEGRADATION_NONE: the region looks clean
 * @GST_IMGREC_GAN_DEGRADATION_DARK: its brightness is below imgrecgan's
 *   gate-min-brightness
 * @GST_IMGREC_GAN_DEGRADATION_LOW_CONTRAST: its contrast is below
 *   gate-min-contrast
 * @GST_IMGREC_GAN_DEGRADATION_BLURRED: its sharpness is below
 *   gate-min-sharpness
 * @GST_IMGREC_GAN_DEGRADATION_NOISY: its noise is above gate-max-noise
 *
 * Why imgrecgan mode=generate's gate restored a region; flags.
 */
typedef enum {
  GST_IMGREC_GAN_DEGRADATION_NONE = 0,
  GST_IMGREC_GAN_DEGRADATION_DARK = 1 << 0,
  GST_IMGREC_GAN_DEGRADATION_LOW_CONTRAST = 1 << 1,
  GST_IMGREC_GAN_DEGRADATION_BLURRED = 1 << 2,
  GST_IMGREC_GAN_DEGRADATION_NOISY = 1 << 3,
} GstImgRecGanDegradation;

typedef struct _GstImgRecGanMeta GstImgRecGanMeta;

/**
 * GstImgRecGanMeta:
 * @meta: parent #GstMeta
 * @info: model, region and flags of the result
 * @role: what the element did, a #GstImgRecGanRole
 * @seed: (generated) the source's seed
 * @latent_index: (generated) index of the latent vector: the frame number
 *   without a latent walk, the index of the walk's starting key latent with
 *   one
 * @latent_position: (generated) position between key latents @latent_index
 *   and @latent_index + 1 in [0, 1) (0 without a latent walk)
 * @class_id: (generated) the class the generator was conditioned on, -1 for
 *   an unconditional generator
 * @label: (nullable): (generated) label of @class_id (interned)
 * @score: (discriminated) realism in [0, 1]: the sigmoid of @logit
 * @logit: (discriminated) the discriminator's raw realism output
 * @anomaly: (discriminated) %TRUE while the region is in the anomaly state
 *   (its score stayed below the element's anomaly-threshold long enough, or
 *   its sharpness below its defocus-threshold times its baseline)
 * @blend: (restored) weight of the generator's output in the region's new
 *   pixels, 0 to 1
 * @anomaly_reasons: (discriminated) why @anomaly is set: a
 *   #GstImgRecGanAnomalyReason mask, 0 when it is not
 * @sharpness: (discriminated) the region's focus measure on this frame
 *   (block-mean gradient energy over variance, see imgrecgan), -1 when not
 *   measured (defocus check off, region too small or without detail)
 * @sharpness_baseline: (discriminated) the running baseline of the region's
 *   sharp frames the measure is compared with, 0 while there is none
 * @restored: (restored) %TRUE when the region's pixels were replaced;
 *   %FALSE when imgrecgan's degradation gate found it clean and left it
 *   untouched
 * @degradations: (restored) what the gate found: a
 *   #GstImgRecGanDegradation mask (0: clean, or the gate is off)
 * @brightness: (restored) mean luma of the region as the generator sees it
 *   (at the model's input size), grey levels
 * @contrast: (restored) standard deviation of that luma, grey levels
 * @noise: (restored) estimated standard deviation of its white noise, grey
 *   levels (-1: not measured); in this role @sharpness is the gate's
 *   neighbouring-pixel sharpness of the same image in its blurrier
 *   direction (see imgrecgan)
 *
 * The result of a GAN element for one frame or region.
 */
struct _GstImgRecGanMeta {
  GstMeta meta;

  GstImgRecResultInfo info;

  GstImgRecGanRole role;

  guint64 seed;
  guint64 latent_index;
  gdouble latent_position;
  gint class_id;
  const gchar *label;

  gfloat score;
  gfloat logit;
  gboolean anomaly;

  gfloat blend;

  guint anomaly_reasons;
  gfloat sharpness;
  gfloat sharpness_baseline;

  gboolean restored;
  guint degradations;
  gfloat brightness;
  gfloat contrast;
  gfloat noise;
};

GST_IMGREC_API
GType gst_imgrec_gan_meta_api_get_type (void);

/**
 * GST_IMGREC_GAN_META_API_TYPE:
 *
 * The #GType of the GAN meta API.
 */
#define GST_IMGREC_GAN_META_API_TYPE (gst_imgrec_gan_meta_api_get_type ())

GST_IMGREC_API
const GstMetaInfo *gst_imgrec_gan_meta_get_info (void);

/**
 * GST_IMGREC_GAN_META_INFO:
 *
 * The #GstMetaInfo of the GAN meta implementation.
 */
#define GST_IMGREC_GAN_META_INFO (gst_imgrec_gan_meta_get_info ())

GST_IMGREC_API
GstImgRecGanMeta *gst_buffer_add_imgrec_gan_meta (GstBuffer * buffer,
    GstImgRecGanRole role, const gchar * model, const gchar * element);

GST_IMGREC_API
GstImgRecGanMeta *gst_buffer_get_imgrec_gan_meta (GstBuffer * buffer);

GST_IMGREC_API
GstImgRecGanMeta *gst_buffer_get_imgrec_gan_meta_for_roi (GstBuffer * buffer,
    gint roi_id);

GST_IMGREC_API
GList *gst_buffer_get_imgrec_gan_metas (GstBuffer * buffer);

GST_IMGREC_API
const gchar *gst_imgrec_gan_role_to_string (GstImgRecGanRole role);

GST_IMGREC_API
GstStructure *gst_imgrec_gan_meta_make_roi_param (GstImgRecGanMeta * meta);

/* Accessors (for language bindings; C code may read the struct). */

GST_IMGREC_API
GstImgRecGanRole gst_imgrec_gan_meta_get_role (GstImgRecGanMeta * meta);

GST_IMGREC_API
const gchar *gst_imgrec_gan_meta_get_model (GstImgRecGanMeta * meta);

GST_IMGREC_API
const gchar *gst_imgrec_gan_meta_get_element (GstImgRecGanMeta * meta);

GST_IMGREC_API
gint gst_imgrec_gan_meta_get_roi_id (GstImgRecGanMeta * meta);

GST_IMGREC_API
void gst_imgrec_gan_meta_get_region (GstImgRecGanMeta * meta, gint * x,
    gint * y, guint * width, guint * height);

GST_IMGREC_API
guint64 gst_imgrec_gan_meta_get_seed (GstImgRecGanMeta * meta);

GST_IMGREC_API
guint64 gst_imgrec_gan_meta_get_latent_index (GstImgRecGanMeta * meta);

GST_IMGREC_API
gdouble gst_imgrec_gan_meta_get_latent_position (GstImgRecGanMeta * meta);

GST_IMGREC_API
gint gst_imgrec_gan_meta_get_class_id (GstImgRecGanMeta * meta);

GST_IMGREC_API
const gchar *gst_imgrec_gan_meta_get_label (GstImgRecGanMeta * meta);

GST_IMGREC_API
gfloat gst_imgrec_gan_meta_get_score (GstImgRecGanMeta * meta);

GST_IMGREC_API
gfloat gst_imgrec_gan_meta_get_logit (GstImgRecGanMeta * meta);

GST_IMGREC_API
gboolean gst_imgrec_gan_meta_is_anomaly (GstImgRecGanMeta * meta);

GST_IMGREC_API
gfloat gst_imgrec_gan_meta_get_blend (GstImgRecGanMeta * meta);

GST_IMGREC_API
guint gst_imgrec_gan_meta_get_anomaly_reasons (GstImgRecGanMeta * meta);

GST_IMGREC_API
gfloat gst_imgrec_gan_meta_get_sharpness (GstImgRecGanMeta * meta);

GST_IMGREC_API
gfloat gst_imgrec_gan_meta_get_sharpness_baseline (GstImgRecGanMeta * meta);

GST_IMGREC_API
const gchar *gst_imgrec_gan_anomaly_reasons_to_string (guint reasons);

GST_IMGREC_API
const gchar *gst_imgrec_gan_degradations_to_string (guint degradations);

GST_IMGREC_API
gboolean gst_imgrec_gan_meta_is_restored (GstImgRecGanMeta * meta);

GST_IMGREC_API
guint gst_imgrec_gan_meta_get_degradations (GstImgRecGanMeta * meta);

G_END_DECLS

#endif /* __GST_IMGREC_GAN_META_H__ */
