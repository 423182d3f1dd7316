/* imgrecdetect: object detection with ONNX detectors (YOLO, SSD, NMS-done).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_DETECT_H__
#define __GST_IMGREC_DETECT_H__

#include "gstimgrecinfer.h"
#include "imgrec_detect.h"

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_DETECT (gst_imgrec_detect_get_type ())
G_DECLARE_FINAL_TYPE (GstImgRecDetect, gst_imgrec_detect, GST, IMGREC_DETECT,
    GstImgRecInfer)

typedef enum {
  GST_IMGREC_DETECT_ROI_FULL_FRAME,
  GST_IMGREC_DETECT_ROI_LIST,
} GstImgRecDetectRoiMode;

struct _GstImgRecDetect {
  GstImgRecInfer infer;

  /* properties (object lock) */
  imgrec_decoder_kind decoder_kind;
  gdouble threshold;
  gchar *class_thresholds;
  gdouble iou_threshold;
  gboolean class_agnostic;
  guint max_detections;
  guint min_size;
  gchar *classes;
  guint pad_value;
  guint inference_interval;

  /* from start() to stop(), streaming thread only */
  imgrec_decoder dec;
  gint n_outputs;
  imgrec_detect_shape shapes[IMGREC_DETECT_MAX_OUTPUTS];
  gfloat *out_data[IMGREC_DETECT_MAX_OUTPUTS];
  gint64 out_cap[IMGREC_DETECT_MAX_OUTPUTS];
  imgrec_detection *cands;
  gint64 cand_cap;
  guint8 *nms_scratch;
  gfloat *priors;
  gint64 n_class_labels;        /* labels the element can name */
  const gchar **labels;         /* interned, n_class_labels entries */
  gfloat *class_thr;            /* n_class_params */
  guint8 *class_enabled;        /* n_class_params, or NULL */
  gint64 n_class_params;
  guint64 frame_count;
};

GST_ELEMENT_REGISTER_DECLARE (imgrecdetect);

G_END_DECLS

#endif
