/* imgrecdrivesrc: a synthetic driving scene with traffic signs drawn by a
 * GAN generator, and its ground truth.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_DRIVE_SRC_H__
#define __GST_IMGREC_DRIVE_SRC_H__

#include <stdio.h>
#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>
#include <gst/video/video.h>
#include <imgrec/engine.h>

#include "gstimgrecdrivescene.h"

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_DRIVE_SRC (gst_imgrec_drive_src_get_type ())
G_DECLARE_FINAL_TYPE (GstImgRecDriveSrc, gst_imgrec_drive_src, GST,
    IMGREC_DRIVE_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (imgrecdrivesrc);

struct _GstImgRecDriveSrc {
  GstPushSrc parent;

  /* properties (object lock) */
  gchar *model_path;
  guint64 seed;
  gdouble speed;                /* km/h */
  gdouble sign_spacing;         /* m */
  gchar *segments;
  gchar *ground_truth_location;
  guint threads;

  /* from start() to stop(), streaming thread only */
  imgrec_model *model;
  imgrec_session *session;
  gint z_input, class_input, latent_dim, n_classes, face_size;
  gfloat range_lo, range_hi;    /* imgrec.output-range */
  gchar **labels;               /* n_classes */
  gfloat *z, *onehot;
  guint64 stream_seed;
  ImgRecDriveScene *scene;
  GArray *signs;                /* ImgRecDriveSign of the current frame */
  FILE *gt_file;
  gchar *gt_path;
  GString *gt_line;

  /* from set_caps() */
  GstVideoInfo out_info;
  gboolean have_caps;
  gboolean direct;              /* render straight into the output buffer */
  GstVideoInfo render_info;     /* native BGRx/xRGB at the output size */
  GstBuffer *render_buffer;
  GstVideoConverter *convert;

  guint64 n_frames;             /* index of the next frame */
};

G_END_DECLS

#endif
