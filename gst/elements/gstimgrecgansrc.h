/* imgrecgansrc: synthetic video from a GAN generator model.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_GAN_SRC_H__
#define __GST_IMGREC_GAN_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>
#include <gst/video/video.h>
#include <imgrec/engine.h>

#include "gstimgrecganmeta.h"

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_GAN_SRC (gst_imgrec_gan_src_get_type ())
G_DECLARE_FINAL_TYPE (GstImgRecGanSrc, gst_imgrec_gan_src, GST,
    IMGREC_GAN_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (imgrecgansrc);

struct _GstImgRecGanSrc {
  GstPushSrc parent;

  /* properties (object lock) */
  gchar *model_path;
  guint64 seed;
  gint class_id;
  guint64 class_duration;
  gboolean latent_walk;
  guint walk_frames;
  guint threads;

  /* from start() to stop(), streaming thread only */
  imgrec_model *model;
  imgrec_session *session;
  const gchar *model_name;      /* interned */
  const gchar *element_name;    /* interned */
  gint z_input, class_input;    /* input indices; class_input -1: none */
  gint latent_dim, n_classes;
  gint out_width, out_height, out_channels;
  gfloat range_lo, range_hi;
  const gchar **labels;         /* interned, n_classes entries, or NULL */
  guint64 stream_seed;          /* the seed used by this run */
  gfloat *z, *onehot;           /* latent_dim, n_classes */
  gfloat *key_a, *key_b;        /* key latents of the walk segment */
  gint64 key_index;             /* index of key_a; -1: none */

  /* from set_caps() */
  GstVideoInfo out_info;
  gboolean have_caps;
  GstVideoInfo model_info;      /* RGB or GRAY8 at the generator's size */
  GstBuffer *model_buffer;
  GstVideoConverter *convert;

  guint64 n_frames;             /* index of the next frame */
  GstClockTime running_time;    /* of the next frame */
};

G_END_DECLS

#endif
