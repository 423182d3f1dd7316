/* Object-detector outputs → boxes: the output layouts of the common ONNX
 * detectors (YOLOv5/v7, YOLOv8/v11 either way round, SSD with or without
 * priors and background class, models that already ran NMS), detected from
 * the output shapes when not named; confidence thresholds (global and per
 * class), minimum size, class-aware or class-agnostic NMS and a bound on
 * the number of detections.  Plain C, no GStreamer: the imgrecdetect
 * element feeds it the engine's float outputs and maps the boxes to the
 * frame in between (imgrec_detect_map).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef IMGREC_DETECT_H
#define IMGREC_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "imgrec_fit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  IMGREC_DECODER_AUTO = 0,      /* from the output shapes */
  IMGREC_DECODER_YOLOV5,        /* [1,N,5+C]: cx,cy,w,h,objectness,scores */
  IMGREC_DECODER_YOLOV8,        /* [1,4+C,N] or [1,N,4+C]: cx,cy,w,h,scores */
  IMGREC_DECODER_SSD,           /* boxes [1,N,4] + scores [1,N,C] */
  IMGREC_DECODER_NMS_DONE,      /* [N,6], [1,1,N,7] rows or boxes/labels/scores */
} imgrec_decoder_kind;

typedef enum {
  IMGREC_BOX_AUTO = 0,
  IMGREC_BOX_CXCYWH,            /* centre x, centre y, width, height */
  IMGREC_BOX_XYXY,              /* x_min, y_min, x_max, y_max */
  IMGREC_BOX_YXYX,              /* y_min, x_min, y_max, x_max (TensorFlow) */
} imgrec_box_format;

typedef enum {
  IMGREC_UNITS_AUTO = 0,
  IMGREC_UNITS_PIXELS,          /* model-input pixels */
  IMGREC_UNITS_NORMALIZED,      /* 0..1 of the model input's width/height */
} imgrec_box_units;

typedef enum {
  IMGREC_ACTIVATION_AUTO = 0,   /* none: exported detectors output probabilities */
  IMGREC_ACTIVATION_NONE,
  IMGREC_ACTIVATION_SIGMOID,
  IMGREC_ACTIVATION_SOFTMAX,    /* over the classes of each candidate */
} imgrec_activation;

/* NMS-done rows */
typedef enum {
  IMGREC_ROWS_NONE = 0,
  IMGREC_ROWS_XYXY_SCORE_CLASS, /* [.., N, 6]: x0,y0,x1,y1,score,class (YOLOv10, end2end exports) */
  IMGREC_ROWS_ID_CLASS_SCORE_XYXY, /* [.., N, 7]: image_id,class,score,x0,y0,x1,y1 (OpenVINO DetectionOutput; image_id < 0 ends) */
  IMGREC_ROWS_SEPARATE,         /* boxes [N,4], labels [N], scores [N] (torchvision) */
} imgrec_rows_kind;

#define IMGREC_DETECT_MAX_OUTPUTS 8
#define IMGREC_DETECT_MAX_RANK 8

/* One model output as the decoder sees it. */
typedef struct {
  const char *name;             /* may be NULL */
  int rank;
  int64_t dims[IMGREC_DETECT_MAX_RANK];   /* < 0: not fixed (declared shapes) */
  int is_integer;               /* integer element type (labels) */
} imgrec_detect_shape;

/* What the user or the model's metadata asks for; zero = decide. */
typedef struct {
  imgrec_decoder_kind kind;
  imgrec_box_format box_format;
  imgrec_box_units box_units;
  imgrec_activation activation;
  int background;               /* -1 auto (SSD: no), 0 no, 1 class 0 is background */
  int n_labels;                 /* 0 = no labels known */
  /* SSD priors: n_priors x 4 (cx, cy, w, h, normalised) and 4 variances;
   * NULL = boxes are already decoded */
  const float *priors;
  int64_t n_priors;
  float variances[4];
} imgrec_decoder_request;

/* The resolved layout. */
typedef struct {
  imgrec_decoder_kind kind;
  imgrec_box_format box_format;
  imgrec_box_units box_units;
  imgrec_activation activation;
  int background;
  int64_t n_candidates;         /* < 0: given by the run's shapes */
  int64_t n_classes;            /* classes reported (background excluded); -1: any (rows) */
  int label_offset;             /* 1: the labels list names the background first */
  int transposed;               /* YOLOv8: 1 = [1,N,4+C] */
  imgrec_rows_kind rows;
  int out_main;                 /* YOLO / rows output, SSD and torchvision boxes */
  int out_scores;               /* SSD and torchvision scores, else -1 */
  int out_labels;               /* torchvision labels, else -1 */
  const float *priors;
  float variances[4];
} imgrec_decoder;

/* Chooses and checks the layout for a model's outputs (declared shapes;
 * unknown dims < 0).  On failure returns -1 and writes one sentence to
 * err (what was expected, what the model has, what to set). */
int imgrec_decoder_resolve (imgrec_decoder *dec,
    const imgrec_decoder_request *req, const imgrec_detect_shape *outputs,
    int n_outputs, char *err, size_t err_size);

const char *imgrec_decoder_kind_name (imgrec_decoder_kind kind);
/* "yolov5", "yolov8", "ssd", "nms-done", "auto" → kind; -1 if unknown. */
int imgrec_decoder_kind_from_name (const char *name);

/* A detection: box in some coordinate system (model pixels after decoding,
 * frame pixels after imgrec_detect_map). */
typedef struct {
  float x0, y0, x1, y1;
  float score;
  int class_id;
  int index;                    /* candidate index in the model's output */
} imgrec_detection;

typedef struct {
  float threshold;              /* minimum confidence */
  /* per class, n_class_params entries (class ids from 0): a threshold
   * (NaN = the global one; classes beyond: the global one) and whether
   * the class is wanted (0 = no; classes beyond: no); NULL = none / all */
  const float *class_thresholds;
  const unsigned char *class_enabled;
  int64_t n_class_params;
  int model_w, model_h;         /* input size, for normalised boxes */
} imgrec_decode_params;

/* Decodes one run's outputs (float data, actual shapes) into candidates
 * above their threshold, in model-input pixels.  `capacity` must be at
 * least imgrec_decoder_max_candidates.  Each candidate takes its best
 * enabled class.  Non-finite
 * scores and boxes are dropped.  Returns the count, or -1 with one
 * sentence in err when the run's shapes do not fit the layout. */
int64_t imgrec_decode (const imgrec_decoder *dec,
    const float *const *data, const imgrec_detect_shape *shapes,
    const imgrec_decode_params *params, imgrec_detection *out,
    int64_t capacity, char *err, size_t err_size);

/* How many candidates a run with these shapes can give (buffer size). */
int64_t imgrec_decoder_max_candidates (const imgrec_decoder *dec,
    const imgrec_detect_shape *shapes);

/* Maps boxes from model pixels to the frame through `fit`, clips them to
 * [clip_x0, clip_x1] x [clip_y0, clip_y1] and drops those narrower or
 * shorter than min_w / min_h (frame pixels) or with no area.  Returns the
 * number kept (compacted in place). */
int64_t imgrec_detect_map (imgrec_detection *dets, int64_t n,
    const imgrec_fit *fit, double clip_x0, double clip_y0, double clip_x1,
    double clip_y1, double min_w, double min_h);

/* Intersection over union; 0 when the union has no area. */
float imgrec_box_iou (const imgrec_detection *a, const imgrec_detection *b);

/* Greedy NMS: sorts by score (ties: lower candidate index first), keeps a
 * box unless it overlaps a kept one of the same class (any class when
 * class_agnostic) by more than iou_threshold, stops at max_detections
 * (0 = no bound).  Compacts in place, best first; returns the count.
 * `scratch` needs n bytes. */
int64_t imgrec_nms (imgrec_detection *dets, int64_t n, float iou_threshold,
    int class_agnostic, int64_t max_detections, unsigned char *scratch);

#ifdef __cplusplus
}
#endif
#endif
