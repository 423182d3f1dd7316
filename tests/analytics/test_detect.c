/* Unit tests of the detector cores: fitting and its inverse, layout
 * resolution from shapes, every decoder on known values, mapping, NMS edge
 * cases; a timing line for 8,400 candidates x 80 classes (not asserted). */
#include "check.h"
#include "imgrec_detect.h"
#include "imgrec_fit.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static imgrec_detect_shape
shape (int rank, int64_t a, int64_t b, int64_t c, int64_t d)
{
  imgrec_detect_shape s = { 0 };
  int64_t v[4] = { a, b, c, d };
  int i;

  s.rank = rank;
  for (i = 0; i < rank; i++)
    s.dims[i] = v[i];
  return s;
}

static void
test_fit_letterbox_inverse (void)
{
  imgrec_fit f;
  double x, y, mx, my;

  imgrec_fit_compute (&f, IMGREC_FIT_LETTERBOX, 0, 0, 1280, 720, 640, 640);
  CHECK_INT (f.dst_w, 640);
  CHECK_INT (f.dst_h, 360);
  CHECK_INT (f.dst_x, 0);
  CHECK_INT (f.dst_y, 140);
  imgrec_fit_to_frame (&f, 320, 320, &x, &y);
  CHECK_NEAR (x, 640, 1e-9);
  CHECK_NEAR (y, 360, 1e-9);
  imgrec_fit_to_frame (&f, 0, 140, &x, &y);
  CHECK_NEAR (x, 0, 1e-9);
  CHECK_NEAR (y, 0, 1e-9);
  imgrec_fit_to_frame (&f, 640, 500, &x, &y);
  CHECK_NEAR (x, 1280, 1e-9);
  CHECK_NEAR (y, 720, 1e-9);

  /* an odd region of an odd frame, at an odd offset, into a non-square
   * model: the picture's edges map exactly onto the region's */
  imgrec_fit_compute (&f, IMGREC_FIT_LETTERBOX, 7, 9, 333, 101, 64, 48);
  CHECK_INT (f.dst_w, 64);
  CHECK_INT (f.dst_h, 19);      /* 101 * 64 / 333 = 19.41 */
  CHECK_INT (f.dst_y, 14);      /* (48 - 19) / 2, odd pixel at the bottom */
  imgrec_fit_to_frame (&f, f.dst_x, f.dst_y, &x, &y);
  CHECK_NEAR (x, 7, 1e-9);
  CHECK_NEAR (y, 9, 1e-9);
  imgrec_fit_to_frame (&f, f.dst_x + f.dst_w, f.dst_y + f.dst_h, &x, &y);
  CHECK_NEAR (x, 7 + 333, 1e-9);
  CHECK_NEAR (y, 9 + 101, 1e-9);
  for (mx = 0; mx <= 64; mx += 3.7)
    for (my = 14; my <= 33; my += 2.3) {
      double bx, by;
      imgrec_fit_to_frame (&f, mx, my, &x, &y);
      imgrec_fit_to_model (&f, x, y, &bx, &by);
      CHECK_NEAR (bx, mx, 1e-9);
      CHECK_NEAR (by, my, 1e-9);
    }

  /* portrait: pads left and right */
  imgrec_fit_compute (&f, IMGREC_FIT_LETTERBOX, 0, 0, 101, 333, 64, 64);
  CHECK_INT (f.dst_h, 64);
  CHECK_INT (f.dst_w, 19);
  CHECK_INT (f.dst_x, 22);
}

static void
test_fit_stretch_and_crop (void)
{
  imgrec_fit f;
  double x, y;

  imgrec_fit_compute (&f, IMGREC_FIT_STRETCH, 100, 50, 300, 200, 60, 40);
  imgrec_fit_to_frame (&f, 30, 20, &x, &y);
  CHECK_NEAR (x, 250, 1e-9);
  CHECK_NEAR (y, 150, 1e-9);
  imgrec_fit_compute (&f, IMGREC_FIT_CENTER_CROP, 0, 0, 400, 200, 100, 100);
  CHECK_INT (f.crop_w, 200);
  CHECK_INT (f.crop_x, 100);
  imgrec_fit_to_frame (&f, 0, 0, &x, &y);
  CHECK_NEAR (x, 100, 1e-9);
  CHECK_NEAR (y, 0, 1e-9);
}

static int
resolve (imgrec_decoder *dec, imgrec_decoder_kind kind, int n_labels,
    const imgrec_detect_shape *outs, int n, char *err)
{
  imgrec_decoder_request req = { 0 };

  req.kind = kind;
  req.n_labels = n_labels;
  req.background = -1;
  err[0] = 0;
  return imgrec_decoder_resolve (dec, &req, outs, n, err, 512);
}

static void
test_resolve_layouts (void)
{
  imgrec_decoder dec;
  char err[512];
  imgrec_detect_shape s[3];

  s[0] = shape (3, 1, 84, 8400, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, s, 1, err), 0);
  CHECK_INT (dec.kind, IMGREC_DECODER_YOLOV8);
  CHECK_INT (dec.transposed, 0);
  CHECK_INT (dec.n_classes, 80);
  CHECK_INT (dec.n_candidates, 8400);
  CHECK_INT (dec.box_units, IMGREC_UNITS_PIXELS);

  /* [1,N,84]: yolov5 with 79 classes or transposed yolov8 with 80 */
  s[0] = shape (3, 1, 8400, 84, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, s, 1, err), -1);
  CHECK_STR_HAS (err, "several");
  CHECK_STR_HAS (err, "yolov5");
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 80, s, 1, err), 0);
  CHECK_INT (dec.kind, IMGREC_DECODER_YOLOV8);
  CHECK_INT (dec.transposed, 1);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_YOLOV8, 0, s, 1, err), 0);
  CHECK_INT (dec.transposed, 1);

  s[0] = shape (3, 1, 25200, 85, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 80, s, 1, err), 0);
  CHECK_INT (dec.kind, IMGREC_DECODER_YOLOV5);
  CHECK_INT (dec.n_classes, 80);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_YOLOV5, 0, s, 1, err), 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_YOLOV5, 3, s, 1, err), -1);
  CHECK_STR_HAS (err, "labels");
  /* dynamic candidate count */
  s[0] = shape (3, 1, -1, 85, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_YOLOV5, 0, s, 1, err), 0);
  CHECK_INT (dec.n_classes, 80);

  s[0] = shape (3, 1, 300, 6, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, s, 1, err), -1);
  CHECK_STR_HAS (err, "nms-done");
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 80, s, 1, err), 0);
  CHECK_INT (dec.kind, IMGREC_DECODER_NMS_DONE);
  CHECK_INT (dec.rows, IMGREC_ROWS_XYXY_SCORE_CLASS);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_NMS_DONE, 0, s, 1, err), 0);

  s[0] = shape (4, 1, 1, 100, 7);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, s, 1, err), 0);
  CHECK_INT (dec.rows, IMGREC_ROWS_ID_CLASS_SCORE_XYXY);
  CHECK_INT (dec.box_units, IMGREC_UNITS_NORMALIZED);

  /* SSD, with a background class when the labels are one fewer */
  s[0] = shape (3, 1, 100, 4, 0);
  s[1] = shape (3, 1, 100, 21, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 20, s, 2, err), 0);
  CHECK_INT (dec.kind, IMGREC_DECODER_SSD);
  CHECK_INT (dec.background, 1);
  CHECK_INT (dec.n_classes, 20);
  CHECK_INT (dec.label_offset, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, s, 2, err), 0);
  CHECK_INT (dec.background, 0);
  CHECK_INT (dec.n_classes, 21);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_SSD, 5, s, 2, err), -1);
  CHECK_STR_HAS (err, "21 classes but 5 labels");
  s[1] = shape (3, 1, 99, 21, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, s, 2, err), -1);
  CHECK_STR_HAS (err, "as many boxes");

  /* torchvision */
  s[0] = shape (2, -1, 4, 0, 0);
  s[1] = shape (1, -1, 0, 0, 0);
  s[1].is_integer = 1;
  s[2] = shape (1, -1, 0, 0, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, s, 3, err), 0);
  CHECK_INT (dec.kind, IMGREC_DECODER_NMS_DONE);
  CHECK_INT (dec.rows, IMGREC_ROWS_SEPARATE);
  CHECK_INT (dec.out_labels, 1);
  CHECK_INT (dec.out_scores, 2);

  /* wrong shapes for the decoder asked for */
  s[0] = shape (4, 1, 3, 4, 5);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, s, 1, err), -1);
  CHECK_STR_HAS (err, "[1,3,4,5]");
  s[0] = shape (3, 1, 84, 8400, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_SSD, 0, s, 1, err), -1);
  CHECK_STR_HAS (err, "two outputs");
  CHECK_INT (resolve (&dec, IMGREC_DECODER_YOLOV5, 0, s, 1, err), -1);
  CHECK_STR_HAS (err, "yolov5");
  CHECK_INT (resolve (&dec, IMGREC_DECODER_YOLOV8, 3, s, 1, err), -1);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, s, 0, err), -1);

  CHECK_INT (imgrec_decoder_kind_from_name ("yolov7"), IMGREC_DECODER_YOLOV5);
  CHECK_INT (imgrec_decoder_kind_from_name ("YOLO11"), IMGREC_DECODER_YOLOV8);
  CHECK_INT (imgrec_decoder_kind_from_name ("nms-done"),
      IMGREC_DECODER_NMS_DONE);
  CHECK_INT (imgrec_decoder_kind_from_name ("yolo"), -1);
}

static int64_t
run_decode (const imgrec_decoder *dec, const float *const *data,
    const imgrec_detect_shape *s, float thr, imgrec_detection *out,
    int64_t cap)
{
  imgrec_decode_params p = { 0 };
  char err[256];

  p.threshold = thr;
  p.model_w = 640;
  p.model_h = 480;
  return imgrec_decode (dec, data, s, &p, out, cap, err, sizeof (err));
}

static void
test_decode_yolov8_both_layouts (void)
{
  /* 3 candidates x 2 classes: channels-first [1,6,3] */
  float cf[6 * 3] = {
    100, 200, 300,              /* cx */
    50, 60, 70,                 /* cy */
    20, 10, 40,                 /* w */
    10, 30, 20,                 /* h */
    0.9f, 0.1f, 0.3f,           /* class 0 */
    0.2f, 0.05f, 0.8f,          /* class 1 */
  };
  float tr[3 * 6];
  imgrec_detect_shape s[2];
  imgrec_decoder dec;
  imgrec_detection out[3];
  const float *data[1];
  char err[512];
  int i, k;

  for (i = 0; i < 3; i++)
    for (k = 0; k < 6; k++)
      tr[i * 6 + k] = cf[k * 3 + i];
  s[0] = shape (3, 1, 6, 3, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_YOLOV8, 2, s, 1, err), 0);
  data[0] = cf;
  CHECK_INT (run_decode (&dec, data, s, 0.25f, out, 3), 2);
  CHECK_NEAR (out[0].x0, 90, 1e-5);
  CHECK_NEAR (out[0].y0, 45, 1e-5);
  CHECK_NEAR (out[0].x1, 110, 1e-5);
  CHECK_NEAR (out[0].y1, 55, 1e-5);
  CHECK_NEAR (out[0].score, 0.9, 1e-6);
  CHECK_INT (out[0].class_id, 0);
  CHECK_INT (out[1].index, 2);
  CHECK_INT (out[1].class_id, 1);
  CHECK_NEAR (out[1].score, 0.8, 1e-6);

  s[0] = shape (3, 1, 3, 6, 0);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_YOLOV8, 2, s, 1, err), 0);
  CHECK_INT (dec.transposed, 1);
  data[0] = tr;
  CHECK_INT (run_decode (&dec, data, s, 0.25f, out, 3), 2);
  CHECK_NEAR (out[0].x0, 90, 1e-5);
  CHECK_NEAR (out[1].y1, 80, 1e-5);
  CHECK_INT (out[1].class_id, 1);

  /* the run's shape must match what was resolved */
  s[0] = shape (3, 1, 3, 7, 0);
  CHECK_INT (run_decode (&dec, data, s, 0.25f, out, 3), -1);
}

static void
test_decode_yolov5_objectness (void)
{
  float rows[2 * 7] = {
    10, 10, 4, 4, 0.5f, 0.9f, 0.1f,     /* 0.45 class 0 */
    20, 20, 4, 4, 0.9f, 0.2f, 0.6f,     /* 0.54 class 1 */
  };
  imgrec_detect_shape s = shape (3, 1, 2, 7, 0);
  imgrec_decoder dec;
  imgrec_detection out[2];
  const float *data[1] = { rows };
  imgrec_decode_params p = { 0 };
  float per_class[2] = { 0.4f, NAN };
  unsigned char enabled[2] = { 1, 0 };
  char err[512];

  /* 2 candidates of 7 values: the class count must say which is which */
  CHECK_INT (resolve (&dec, IMGREC_DECODER_YOLOV5, 0, &s, 1, err), -1);
  CHECK_INT (resolve (&dec, IMGREC_DECODER_YOLOV5, 2, &s, 1, err), 0);
  CHECK_INT (run_decode (&dec, data, &s, 0.5f, out, 2), 1);
  CHECK_NEAR (out[0].score, 0.54, 1e-6);
  CHECK_INT (out[0].class_id, 1);

  /* per-class threshold: class 0 needs 0.4, class 1 the global 0.5 */
  p.threshold = 0.5f;
  p.class_thresholds = per_class;
  p.n_class_params = 2;
  p.model_w = p.model_h = 32;
  CHECK_INT (imgrec_decode (&dec, data, &s, &p, out, 2, err, 512), 2);
  /* class 1 disabled: row 1 falls back to class 0 (0.9 * 0.2 = 0.18) */
  p.class_enabled = enabled;
  CHECK_INT (imgrec_decode (&dec, data, &s, &p, out, 2, err, 512), 1);
  CHECK_INT (out[0].index, 0);
}

static void
test_decode_ssd_priors_and_background (void)
{
  /* 2 priors (cx, cy, w, h normalised), variances 0.1 0.1 0.2 0.2 */
  float priors[8] = { 0.5f, 0.5f, 0.2f, 0.4f, 0.25f, 0.25f, 0.1f, 0.1f };
  float loc[8] = { 1, -1, 0, 0, 0, 0, 0, 0 };
  float scores[2 * 3] = { 0.1f, 0.7f, 0.2f, 0.9f, 0.05f, 0.05f };
  imgrec_detect_shape s[2] = { shape (3, 1, 2, 4, 0), shape (3, 1, 2, 3, 0) };
  imgrec_decoder_request req = { 0 };
  imgrec_decoder dec;
  imgrec_detection out[2];
  const float *data[2] = { loc, scores };
  char err[512];

  req.kind = IMGREC_DECODER_SSD;
  req.background = 1;
  req.priors = priors;
  req.n_priors = 2;
  req.variances[0] = req.variances[1] = 0.1f;
  req.variances[2] = req.variances[3] = 0.2f;
  CHECK_INT (imgrec_decoder_resolve (&dec, &req, s, 2, err, 512), 0);
  CHECK_INT (dec.n_classes, 2);
  CHECK_INT (dec.box_units, IMGREC_UNITS_NORMALIZED);
  /* prior 1 is background (0.9): no detection */
  CHECK_INT (run_decode (&dec, data, s, 0.3f, out, 2), 1);
  /* cx = 0.5 + 1*0.1*0.2 = 0.52, cy = 0.5 - 0.1*0.4 = 0.46, w 0.2, h 0.4 */
  CHECK_NEAR (out[0].x0, (0.52 - 0.1) * 640, 1e-3);
  CHECK_NEAR (out[0].y0, (0.46 - 0.2) * 480, 1e-3);
  CHECK_NEAR (out[0].x1, (0.52 + 0.1) * 640, 1e-3);
  CHECK_NEAR (out[0].y1, (0.46 + 0.2) * 480, 1e-3);
  CHECK_INT (out[0].class_id, 0);       /* model class 1 */

  req.n_priors = 3;
  CHECK_INT (imgrec_decoder_resolve (&dec, &req, s, 2, err, 512), -1);
  CHECK_STR_HAS (err, "prior");

  /* softmax over the classes of raw logits */
  {
    float logits[2 * 3] = { 0, 2, 0, 3, 0, 0 };
    const float *d2[2] = { loc, logits };
    req.n_priors = 2;
    req.activation = IMGREC_ACTIVATION_SOFTMAX;
    CHECK_INT (imgrec_decoder_resolve (&dec, &req, s, 2, err, 512), 0);
    CHECK_INT (run_decode (&dec, d2, s, 0.5f, out, 2), 1);
    CHECK_NEAR (out[0].score, expf (2) / (expf (2) + 2), 1e-6);
  }
}

static void
test_decode_nms_done_rows (void)
{
  float r6[3 * 6] = {
    10, 20, 30, 40, 0.9f, 2,
    5, 5, 6, 6, 0.1f, 1,
    1, 2, 3, 4, 0.8f, 7,        /* class out of range for 3 labels */
  };
  float r7[3 * 7] = {
    0, 1, 0.95f, 0.1f, 0.2f, 0.3f, 0.4f,
    -1, 0, 0, 0, 0, 0, 0,       /* end */
    0, 1, 0.95f, 0.1f, 0.2f, 0.3f, 0.4f,
  };
  float boxes[2 * 4] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  float labels[2] = { 3, 1 }, scores[2] = { 0.3f, 0.7f };
  imgrec_detect_shape s[3];
  imgrec_decoder dec;
  imgrec_detection out[3];
  const float *data[3];
  char err[512];

  s[0] = shape (3, 1, 3, 6, 0);
  data[0] = r6;
  CHECK_INT (resolve (&dec, IMGREC_DECODER_NMS_DONE, 3, s, 1, err), 0);
  CHECK_INT (run_decode (&dec, data, s, 0.25f, out, 3), 1);
  CHECK_INT (out[0].class_id, 2);
  CHECK_NEAR (out[0].x1, 30, 1e-6);

  s[0] = shape (4, 1, 1, 3, 7);
  data[0] = r7;
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, s, 1, err), 0);
  CHECK_INT (run_decode (&dec, data, s, 0.25f, out, 3), 1);
  CHECK_NEAR (out[0].x0, 0.1 * 640, 1e-3);
  CHECK_NEAR (out[0].y1, 0.4 * 480, 1e-3);

  s[0] = shape (2, 2, 4, 0, 0);
  s[1] = shape (1, 2, 0, 0, 0);
  s[1].name = "labels";
  s[2] = shape (1, 2, 0, 0, 0);
  s[2].name = "scores";
  data[0] = boxes;
  data[1] = labels;
  data[2] = scores;
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, s, 3, err), 0);
  CHECK_INT (dec.rows, IMGREC_ROWS_SEPARATE);
  CHECK_INT (run_decode (&dec, data, s, 0.5f, out, 3), 1);
  CHECK_INT (out[0].class_id, 1);
  CHECK_NEAR (out[0].x0, 5, 1e-6);
  s[2] = shape (1, 3, 0, 0, 0);
  CHECK_INT (run_decode (&dec, data, s, 0.5f, out, 3), -1);
}

static imgrec_detection
det (float x0, float y0, float x1, float y1, float score, int c, int index)
{
  imgrec_detection d = { x0, y0, x1, y1, score, c, index };
  return d;
}

static void
test_nms_edge_cases (void)
{
  imgrec_detection d[8];
  unsigned char scratch[8];

  /* identical boxes: the first of equal scores stays */
  d[0] = det (0, 0, 10, 10, 0.8f, 0, 0);
  d[1] = det (0, 0, 10, 10, 0.8f, 0, 1);
  d[2] = det (0, 0, 10, 10, 0.9f, 0, 2);
  CHECK_INT (imgrec_nms (d, 3, 0.5f, 0, 0, scratch), 1);
  CHECK_INT (d[0].index, 2);

  /* class-aware keeps overlapping boxes of other classes; agnostic not */
  d[0] = det (0, 0, 10, 10, 0.8f, 0, 0);
  d[1] = det (1, 0, 11, 10, 0.7f, 1, 1);
  CHECK_INT (imgrec_nms (d, 2, 0.5f, 0, 0, scratch), 2);
  d[0] = det (0, 0, 10, 10, 0.8f, 0, 0);
  d[1] = det (1, 0, 11, 10, 0.7f, 1, 1);
  CHECK_INT (imgrec_nms (d, 2, 0.5f, 1, 0, scratch), 1);

  /* IoU exactly at the threshold is kept (suppress only above) */
  d[0] = det (0, 0, 10, 10, 0.8f, 0, 0);
  d[1] = det (0, 0, 10, 5, 0.7f, 0, 1);   /* IoU 0.5 */
  CHECK_INT (imgrec_nms (d, 2, 0.5f, 0, 0, scratch), 2);

  /* zero-area boxes overlap nothing */
  d[0] = det (5, 5, 5, 5, 0.9f, 0, 0);
  d[1] = det (0, 0, 10, 10, 0.8f, 0, 1);
  CHECK_NEAR (imgrec_box_iou (&d[0], &d[1]), 0, 0);
  CHECK_NEAR (imgrec_box_iou (&d[0], &d[0]), 0, 0);
  CHECK_INT (imgrec_nms (d, 2, 0.1f, 0, 0, scratch), 2);

  /* NaN scores are dropped, not ordered */
  d[0] = det (0, 0, 10, 10, NAN, 0, 0);
  d[1] = det (0, 0, 10, 10, 0.5f, 0, 1);
  d[2] = det (20, 0, 30, 10, NAN, 0, 2);
  CHECK_INT (imgrec_nms (d, 3, 0.5f, 0, 0, scratch), 1);
  CHECK_INT (d[0].index, 1);

  /* more candidates than max-detections: the best ones */
  {
    int i;
    for (i = 0; i < 8; i++)
      d[i] = det (i * 20, 0, i * 20 + 10, 10, 0.1f * i, 0, i);
    CHECK_INT (imgrec_nms (d, 8, 0.5f, 0, 3, scratch), 3);
    CHECK_INT (d[0].index, 7);
    CHECK_INT (d[1].index, 6);
    CHECK_INT (d[2].index, 5);
  }
  CHECK_INT (imgrec_nms (d, 0, 0.5f, 0, 3, scratch), 0);
}

static void
test_decode_drops_non_finite (void)
{
  float rows[4 * 6] = {
    10, 10, 4, 4, INFINITY, 0,
    10, 10, 4, 4, NAN, 0,
    NAN, 10, 4, 4, 0.9f, 0,
    10, 10, 4, 4, 0.9f, 0,
  };
  imgrec_detect_shape s = shape (3, 1, 4, 6, 0);
  imgrec_decoder dec;
  imgrec_detection out[4];
  const float *data[1] = { rows };
  char err[512];

  CHECK_INT (resolve (&dec, IMGREC_DECODER_YOLOV8, 2, &s, 1, err), 0);
  CHECK_INT (run_decode (&dec, data, &s, 0.25f, out, 4), 1);
  CHECK_INT (out[0].index, 3);
  /* nothing above the threshold */
  CHECK_INT (run_decode (&dec, data, &s, 0.95f, out, 4), 0);
}

static void
test_map_clip_min_size (void)
{
  imgrec_fit f;
  imgrec_detection d[4];

  /* a 200x100 ROI at (50, 30) letterboxed into 64x64: scale 0.32, picture
   * 64x32 at y 16 */
  imgrec_fit_compute (&f, IMGREC_FIT_LETTERBOX, 50, 30, 200, 100, 64, 64);
  d[0] = det (16, 24, 48, 40, 0.9f, 0, 0);      /* -> (100,55)-(200,105) */
  d[1] = det (-10, 10, 10, 20, 0.9f, 0, 1);     /* clipped to the ROI */
  d[2] = det (30, 30, 30.5f, 40, 0.9f, 0, 2);   /* 1.56 px wide: too small */
  d[3] = det (70, 0, 80, 10, 0.9f, 0, 3);       /* outside: nothing left */
  CHECK_INT (imgrec_detect_map (d, 4, &f, 50, 30, 250, 130, 2, 2), 2);
  CHECK_NEAR (d[0].x0, 100, 1e-4);
  CHECK_NEAR (d[0].y0, 55, 1e-4);
  CHECK_NEAR (d[0].x1, 200, 1e-4);
  CHECK_NEAR (d[0].y1, 105, 1e-4);
  CHECK_NEAR (d[1].x0, 50, 1e-4);
  CHECK_NEAR (d[1].y0, 30, 1e-4);       /* (10-16)/0.32+30 = 11.25 -> 30 */
  CHECK_NEAR (d[1].x1, 50 + 10 / 0.32, 1e-3);
}

static void
bench_yolov8_8400x80 (void)
{
  int64_t N = 8400, C = 80, i, n = 0;
  float *data = malloc (sizeof (float) * (size_t) (N * (4 + C)));
  imgrec_detection *out = malloc (sizeof (imgrec_detection) * (size_t) N);
  unsigned char *scratch = malloc ((size_t) N);
  imgrec_detect_shape s = shape (3, 1, 4 + C, N, 0);
  imgrec_decoder dec;
  const float *d[1] = { data };
  char err[512];
  struct timespec t0, t1;
  unsigned seed = 1;
  int rep;
  double best = 1e9, best_decode = 1e9;

  for (i = 0; i < N; i++) {
    data[i] = (float) (i % 80) * 8.0f;
    data[N + i] = (float) (i / 80) * 6.0f;
    data[2 * N + i] = 30;
    data[3 * N + i] = 30;
  }
  /* like a real scene: background scores below 0.05, 300 candidates
   * (clusters of overlapping boxes) of 0.3 to 0.9 */
  for (i = 4 * N; i < N * (4 + C); i++) {
    seed = seed * 1103515245u + 12345u;
    data[i] = (float) ((seed >> 8) & 0xffff) / 65536.0f * 0.05f;
  }
  for (i = 0; i < N; i += 28)
    data[(4 + (i % C)) * N + i] = 0.3f + 0.6f * (float) (i % 97) / 97.0f;
  CHECK_INT (resolve (&dec, IMGREC_DECODER_AUTO, 0, &s, 1, err), 0);
  for (rep = 0; rep < 20; rep++) {
    double ms, ms_decode;
    struct timespec tm;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    n = run_decode (&dec, d, &s, 0.25f, out, N);
    clock_gettime (CLOCK_MONOTONIC, &tm);
    n = imgrec_nms (out, n, 0.45f, 0, 300, scratch);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    ms_decode = (tm.tv_sec - t0.tv_sec) * 1e3 + (tm.tv_nsec - t0.tv_nsec) / 1e6;
    best = ms < best ? ms : best;
    best_decode = ms_decode < best_decode ? ms_decode : best_decode;
  }
  printf ("bench: decode + NMS of 8400 x 80 (%lld kept): %.3f ms, decode "
      "%.3f ms (best of 20; target 1 ms)\n", (long long) n, best, best_decode);
  free (data);
  free (out);
  free (scratch);
}

int
main (void)
{
  RUN (test_fit_letterbox_inverse);
  RUN (test_fit_stretch_and_crop);
  RUN (test_resolve_layouts);
  RUN (test_decode_yolov8_both_layouts);
  RUN (test_decode_yolov5_objectness);
  RUN (test_decode_ssd_priors_and_background);
  RUN (test_decode_nms_done_rows);
  RUN (test_nms_edge_cases);
  RUN (test_decode_drops_non_finite);
  RUN (test_map_clip_min_size);
  RUN (bench_yolov8_8400x80);
  return check_failures ? 1 : 0;
}
