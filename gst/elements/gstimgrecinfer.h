/* GstImgRecInfer: abstract base class of the imgrec inference elements
 * (imgrecclassify, imgrecseq, imgrecgan, imgrecdetect).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_INFER_H__
#define __GST_IMGREC_INFER_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "gstimgrecmeta.h"
#include "gstimgrecmodel.h"
#include "gstimgrecpreprocess.h"

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_INFER (gst_imgrec_infer_get_type ())
#define GST_IMGREC_INFER(obj) \
  (G_TYPE_CHECK_INSTANCE_CAST ((obj), GST_TYPE_IMGREC_INFER, GstImgRecInfer))
#define GST_IMGREC_INFER_CLASS(klass) \
  (G_TYPE_CHECK_CLASS_CAST ((klass), GST_TYPE_IMGREC_INFER, \
      GstImgRecInferClass))
#define GST_IS_IMGREC_INFER(obj) \
  (G_TYPE_CHECK_INSTANCE_TYPE ((obj), GST_TYPE_IMGREC_INFER))

typedef struct _GstImgRecInfer GstImgRecInfer;
typedef struct _GstImgRecInferClass GstImgRecInferClass;

/* Properties the base class stores and reads/writes.  Each element installs
 * the ones it has, with its own blurb, under these ids (see
 * gst_imgrec_infer_install_properties), and numbers its own properties from
 * GST_IMGREC_INFER_PROP_LAST; its set/get_property hands ids below
 * GST_IMGREC_INFER_PROP_LAST to the base class's. */
typedef enum {
  GST_IMGREC_INFER_PROP_MODEL = 1,
  GST_IMGREC_INFER_PROP_LABELS,
  GST_IMGREC_INFER_PROP_MEAN,
  GST_IMGREC_INFER_PROP_STD,
  GST_IMGREC_INFER_PROP_SCALE,
  GST_IMGREC_INFER_PROP_COLOR_ORDER,
  GST_IMGREC_INFER_PROP_RESIZE,
  GST_IMGREC_INFER_PROP_SCALING,
  GST_IMGREC_INFER_PROP_TOP_K,
  GST_IMGREC_INFER_PROP_ROI,
  GST_IMGREC_INFER_PROP_OBJECT_CLASS,
  GST_IMGREC_INFER_PROP_THREADS,
  GST_IMGREC_INFER_PROP_POST_MESSAGES,
  GST_IMGREC_INFER_PROP_MODEL_INSTANCE_ID,
  GST_IMGREC_INFER_PROP_LAST
} GstImgRecInferProp;

#define GST_IMGREC_INFER_DEFAULT_TOP_K 5

struct _GstImgRecInfer {
  GstVideoFilter parent;

  /* properties (object lock); an element without the property keeps the
   * default (NULL / 0 / FROM_MODEL: the model's own setting) */
  gchar *model_path;
  gchar *labels_file;
  gchar *mean;
  gchar *std;
  gdouble scale;
  GstImgRecColorOrder color_order;
  GstImgRecResize resize;
  GstImgRecScaling scaling;
  guint top_k;
  gint roi_mode;                /* the element's own enum */
  gchar *object_class;
  guint threads;
  gboolean post_messages;
  gchar *model_instance_id;

  /* from start() to stop(), streaming thread only */
  GstImgRecModelConfig config;
  imgrec_session *session;
  GstImgRecPreprocess preprocess;
  gboolean preprocess_ready;
  const gchar *model_name;      /* interned */
  const gchar *element_name;    /* interned */
  GQuark *object_classes;       /* 0-terminated, or NULL = every ROI */
};

struct _GstImgRecInferClass {
  GstVideoFilterClass parent_class;
};

GType gst_imgrec_infer_get_type (void);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstImgRecInfer, gst_object_unref)

GParamSpec *gst_imgrec_infer_param_spec (guint prop_id);
void gst_imgrec_infer_install_properties (GObjectClass * klass,
    guint n_pspecs, GParamSpec ** pspecs);

gboolean gst_imgrec_infer_is_running (GstImgRecInfer * self);

void gst_imgrec_infer_post_error (GstImgRecInfer * self, GError * err);

void gst_imgrec_infer_snapshot_overrides (GstImgRecInfer * self,
    GstImgRecModelOverrides * ov);
void gst_imgrec_infer_overrides_clear (GstImgRecModelOverrides * ov);

gboolean gst_imgrec_infer_open_session (GstImgRecInfer * self,
    const gchar * model_path, guint threads, GstImgRecScaling scaling,
    GError ** err);
gboolean gst_imgrec_infer_plan (GstImgRecInfer * self,
    const gchar * model_path, guint runs, GstClockTime * last_run,
    GError ** err);
void gst_imgrec_infer_model_ready (GstImgRecInfer * self,
    const gchar * object_class);
void gst_imgrec_infer_free_model (GstImgRecInfer * self);

GstVideoRegionOfInterestMeta *gst_imgrec_infer_full_frame_roi (GstBuffer * buf,
    const GstVideoFrame * frame);
gboolean gst_imgrec_infer_roi_selected (GstImgRecInfer * self,
    GstVideoRegionOfInterestMeta * roi);
gboolean gst_imgrec_infer_roi_tracking_id (GstVideoRegionOfInterestMeta * roi,
    gint64 * id);

/* An upstream region an element processes, clipped to the frame. */
typedef struct {
  GstVideoRegionOfInterestMeta *roi;
  GstVideoRectangle rect;       /* gst_imgrec_preprocess_clip_region */
} GstImgRecRegion;

void gst_imgrec_infer_collect_regions (GstImgRecInfer * self, GstBuffer * buf,
    GArray * regions);

void gst_imgrec_infer_structure_set_times (GstImgRecInfer * self,
    GstStructure * s, GstClockTime pts);

G_END_DECLS

#endif
