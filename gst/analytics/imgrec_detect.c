/* Object-detector output decoding, thresholds and NMS.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "imgrec_detect.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void
set_err (char *err, size_t size, const char *fmt, ...)
{
  va_list ap;

  if (err == NULL || size == 0)
    return;
  va_start (ap, fmt);
  vsnprintf (err, size, fmt, ap);
  va_end (ap);
}

static const char *const kind_names[] = {
  "auto", "yolov5", "yolov8", "ssd", "nms-done"
};

const char *
imgrec_decoder_kind_name (imgrec_decoder_kind kind)
{
  if ((unsigned) kind < sizeof (kind_names) / sizeof (kind_names[0]))
    return kind_names[kind];
  return "unknown";
}

int
imgrec_decoder_kind_from_name (const char *name)
{
  unsigned i;

  if (name == NULL)
    return -1;
  for (i = 0; i < sizeof (kind_names) / sizeof (kind_names[0]); i++)
    if (strcasecmp (name, kind_names[i]) == 0)
      return (int) i;
  /* the models each layout also serves */
  if (strcasecmp (name, "yolov7") == 0)
    return IMGREC_DECODER_YOLOV5;
  if (strcasecmp (name, "yolov11") == 0 || strcasecmp (name, "yolo11") == 0)
    return IMGREC_DECODER_YOLOV8;
  return -1;
}

/* The last `want` dims of a shape whose leading dims are 1 (or unknown,
 * taken as a batch of 1); 0 if the shape has fewer dims or a leading dim
 * other than 1. */
static int
squeeze_to (const imgrec_detect_shape *s, int want, int64_t *dims)
{
  int lead, i;

  if (s->rank < want)
    return 0;
  lead = s->rank - want;
  for (i = 0; i < lead; i++)
    if (s->dims[i] != 1 && s->dims[i] >= 0)
      return 0;
  for (i = 0; i < want; i++)
    dims[i] = s->dims[lead + i];
  return 1;
}

static void
shape_text (const imgrec_detect_shape *s, char *buf, size_t size)
{
  size_t n = 0;
  int i;

  n += snprintf (buf + n, size - n, "[");
  for (i = 0; i < s->rank && n < size; i++) {
    if (s->dims[i] < 0)
      n += snprintf (buf + n, size - n, "%s?", i ? "," : "");
    else
      n += snprintf (buf + n, size - n, "%s%lld", i ? "," : "",
          (long long) s->dims[i]);
  }
  if (n < size)
    snprintf (buf + n, size - n, "]");
}

static int
name_has (const char *name, const char *a, const char *b)
{
  return name && (strstr (name, a) || (b && strstr (name, b)));
}

/* One YOLO-style output [A, B] (leading 1s squeezed). */
typedef struct {
  int yolov5, yolov8, yolov8t, rows6, rows7;
} single_fits;

static single_fits
fits_single (int64_t A, int64_t B, int n_labels)
{
  single_fits f = { 0 };
  /* unknown dims: the candidate count is the unknown one */
  int wide = (A >= 0 && B >= 0) ? A < B : (B < 0);

  if (wide) {
    f.yolov8 = A >= 5 && (n_labels == 0 || A == 4 + n_labels);
  } else if (B >= 0) {
    f.yolov5 = B >= 6 && (n_labels == 0 || B == 5 + n_labels);
    f.yolov8t = B >= 5 && (n_labels == 0 || B == 4 + n_labels);
    f.rows6 = B == 6;
    f.rows7 = B == 7;
  }
  return f;
}

static int
resolve_single (imgrec_decoder *dec, const imgrec_decoder_request *req,
    const imgrec_detect_shape *out, char *err, size_t err_size)
{
  int64_t d[2];
  char shape[96];
  single_fits f;
  int n_fit;

  shape_text (out, shape, sizeof (shape));
  if (out->rank == 4 && out->dims[3] == 7 && (req->kind == IMGREC_DECODER_AUTO
          || req->kind == IMGREC_DECODER_NMS_DONE)
      && squeeze_to (out, 2, d)) {
    dec->kind = IMGREC_DECODER_NMS_DONE;
    dec->rows = IMGREC_ROWS_ID_CLASS_SCORE_XYXY;
    return 0;
  }
  if (!squeeze_to (out, 2, d)) {
    set_err (err, err_size, "The detector's output %s%s%s has shape %s; "
        "a single-output detector needs [1,N,5+C] (yolov5), [1,4+C,N] or "
        "[1,N,4+C] (yolov8) or [N,6] / [1,1,N,7] rows (nms-done).",
        out->name ? "\"" : "", out->name ? out->name : "",
        out->name ? "\"" : "", shape);
    return -1;
  }
  f = fits_single (d[0], d[1], req->n_labels);
  /* a decoder that was named only needs the row width to fit, whichever
   * dim is larger */
  switch (req->kind) {
    case IMGREC_DECODER_YOLOV5:
      if (!(d[1] >= 6 && (req->n_labels ? d[1] == 5 + req->n_labels
                  : (d[0] < 0 || d[0] >= d[1]))))
        goto mismatch;
      f = (single_fits) { .yolov5 = 1 };
      break;
    case IMGREC_DECODER_YOLOV8:{
      int cf = d[0] >= 5 && (req->n_labels == 0 || d[0] == 4 + req->n_labels);
      int t = d[1] >= 5 && (req->n_labels == 0 || d[1] == 4 + req->n_labels);
      if (cf && t)
        cf = f.yolov8, t = !f.yolov8;
      if (!cf && !t)
        goto mismatch;
      f = (single_fits) { .yolov8 = cf, .yolov8t = t };
      break;
    }
    case IMGREC_DECODER_NMS_DONE:
      if (d[1] != 6 && d[1] != 7)
        goto mismatch;
      f = (single_fits) { .rows6 = d[1] == 6, .rows7 = d[1] == 7 };
      break;
    case IMGREC_DECODER_SSD:
      set_err (err, err_size, "The ssd decoder needs two outputs (boxes "
          "[1,N,4] and scores [1,N,C]); the model has one, %s.", shape);
      return -1;
    default:
      break;
  }
  n_fit = f.yolov5 + f.yolov8 + f.yolov8t + f.rows6 + f.rows7;
  if (n_fit == 0)
    goto mismatch;
  if (n_fit > 1) {
    set_err (err, err_size, "The detector's output shape %s fits several "
        "layouts (%s%s%s%s); set the decoder property or the model's "
        "imgrec.detector key (yolov5, yolov8, nms-done)%s.", shape,
        f.yolov5 ? "yolov5 " : "", (f.yolov8 || f.yolov8t) ? "yolov8 " : "",
        f.rows6 ? "nms-done [N,6] " : "", f.rows7 ? "nms-done [N,7] " : "",
        req->n_labels ? "" : ", or give labels so the class count decides");
    return -1;
  }
  if (f.yolov5) {
    dec->kind = IMGREC_DECODER_YOLOV5;
    dec->n_candidates = d[0];
    dec->n_classes = d[1] - 5;
  } else if (f.yolov8 || f.yolov8t) {
    dec->kind = IMGREC_DECODER_YOLOV8;
    dec->transposed = f.yolov8t;
    dec->n_candidates = f.yolov8t ? d[0] : d[1];
    dec->n_classes = (f.yolov8t ? d[1] : d[0]) - 4;
  } else {
    dec->kind = IMGREC_DECODER_NMS_DONE;
    dec->rows = f.rows6 ? IMGREC_ROWS_XYXY_SCORE_CLASS
        : IMGREC_ROWS_ID_CLASS_SCORE_XYXY;
    dec->n_candidates = d[0];
  }
  return 0;

mismatch:
  if (req->n_labels > 0) {
    /* the shape fits without the labels: say the counts disagree */
    imgrec_decoder_request bare = *req;
    imgrec_decoder tmp;
    bare.n_labels = 0;
    if (resolve_single (&tmp, &bare, out, NULL, 0) == 0 && tmp.n_classes > 0) {
      set_err (err, err_size, "The model has %lld classes (%s layout %s) "
          "but %d labels were given.", (long long) tmp.n_classes,
          imgrec_decoder_kind_name (tmp.kind), shape, req->n_labels);
      return -1;
    }
  }
  if (req->kind == IMGREC_DECODER_AUTO)
    set_err (err, err_size, "The detector's output shape %s fits no known "
        "layout%s: expected [1,N,5+C] (yolov5), [1,4+C,N] or [1,N,4+C] "
        "(yolov8), [N,6] or [1,1,N,7] (nms-done).", shape,
        req->n_labels ? " with the number of labels given" : "");
  else
    set_err (err, err_size, "The %s decoder cannot read the output shape "
        "%s%s.", imgrec_decoder_kind_name (req->kind), shape,
        req->n_labels ? " with the number of labels given (class count "
        "and labels must agree)" : "");
  return -1;
}

/* SSD (boxes + scores) or torchvision (boxes + labels + scores). */
static int
resolve_multi (imgrec_decoder *dec, const imgrec_decoder_request *req,
    const imgrec_detect_shape *outs, int n, char *err, size_t err_size)
{
  int i, boxes = -1, scores = -1, labels = -1;
  int64_t d[2], e[2];
  char s0[96], s1[96];

  /* boxes: [N,4], by name first */
  for (i = 0; i < n && boxes < 0; i++)
    if (name_has (outs[i].name, "box", "loc") && squeeze_to (&outs[i], 2, d)
        && d[1] == 4)
      boxes = i;
  for (i = 0; i < n && boxes < 0; i++)
    if (squeeze_to (&outs[i], 2, d) && d[1] == 4)
      boxes = i;
  if (boxes < 0) {
    shape_text (&outs[0], s0, sizeof (s0));
    set_err (err, err_size, "None of the detector's %d outputs is a box "
        "tensor [1,N,4] or [N,4] (output 0 is %s); set the decoder "
        "property if the model has one output of another layout.", n, s0);
    return -1;
  }
  squeeze_to (&outs[boxes], 2, d);

  /* torchvision: two more outputs of rank 1 after squeezing */
  if (n >= 3 && req->kind != IMGREC_DECODER_SSD) {
    for (i = 0; i < n; i++) {
      if (i == boxes || !squeeze_to (&outs[i], 1, e) || outs[i].rank > 2)
        continue;
      if (labels < 0 && (outs[i].is_integer
              || name_has (outs[i].name, "label", "class")))
        labels = i;
      else if (scores < 0)
        scores = i;
    }
    if (labels >= 0 && scores >= 0) {
      dec->kind = IMGREC_DECODER_NMS_DONE;
      dec->rows = IMGREC_ROWS_SEPARATE;
      dec->out_main = boxes;
      dec->out_labels = labels;
      dec->out_scores = scores;
      dec->n_candidates = d[0];
      return 0;
    }
    labels = scores = -1;
  }
  if (req->kind == IMGREC_DECODER_NMS_DONE) {
    set_err (err, err_size, "The nms-done decoder needs [N,6] or [1,1,N,7] "
        "rows, or boxes [N,4], labels [N] and scores [N] outputs; the model "
        "has %d outputs without labels and scores of that form.", n);
    return -1;
  }

  for (i = 0; i < n && scores < 0; i++)
    if (i != boxes && name_has (outs[i].name, "score", "conf")
        && squeeze_to (&outs[i], 2, e))
      scores = i;
  for (i = 0; i < n && scores < 0; i++)
    if (i != boxes && squeeze_to (&outs[i], 2, e))
      scores = i;
  if (scores < 0) {
    set_err (err, err_size, "The ssd decoder needs a scores output [1,N,C] "
        "beside the boxes; the model's other outputs do not have that form.");
    return -1;
  }
  squeeze_to (&outs[scores], 2, e);
  shape_text (&outs[boxes], s0, sizeof (s0));
  shape_text (&outs[scores], s1, sizeof (s1));
  if (d[0] >= 0 && e[0] >= 0 && d[0] != e[0]) {
    set_err (err, err_size, "The ssd decoder needs as many boxes as score "
        "rows; the model's boxes are %s and its scores %s.", s0, s1);
    return -1;
  }
  if (e[1] < 1) {
    set_err (err, err_size, "The ssd decoder needs a fixed class count in "
        "the scores output; it is %s.", s1);
    return -1;
  }
  dec->kind = IMGREC_DECODER_SSD;
  dec->out_main = boxes;
  dec->out_scores = scores;
  dec->n_candidates = d[0] >= 0 ? d[0] : e[0];
  dec->background = req->background;
  if (dec->background < 0)
    dec->background = req->n_labels > 0 && e[1] == req->n_labels + 1;
  if (dec->background && e[1] < 2) {
    set_err (err, err_size, "The ssd scores %s have one class, which cannot "
        "also be the background.", s1);
    return -1;
  }
  dec->n_classes = e[1] - dec->background;
  if (req->priors) {
    if (dec->n_candidates >= 0 && req->n_priors != dec->n_candidates) {
      set_err (err, err_size, "The model has %lld prior boxes but %lld "
          "box rows %s.", (long long) req->n_priors,
          (long long) dec->n_candidates, s0);
      return -1;
    }
    dec->priors = req->priors;
    memcpy (dec->variances, req->variances, sizeof (dec->variances));
  }
  return 0;
}

int
imgrec_decoder_resolve (imgrec_decoder *dec,
    const imgrec_decoder_request *req, const imgrec_detect_shape *outputs,
    int n_outputs, char *err, size_t err_size)
{
  int rc;

  memset (dec, 0, sizeof (*dec));
  dec->out_scores = dec->out_labels = -1;
  dec->n_classes = -1;
  dec->background = req->background > 0;
  if (n_outputs < 1 || n_outputs > IMGREC_DETECT_MAX_OUTPUTS) {
    set_err (err, err_size, "A detector needs 1 to %d outputs; the model "
        "has %d.", IMGREC_DETECT_MAX_OUTPUTS, n_outputs);
    return -1;
  }
  if (req->kind == IMGREC_DECODER_SSD && n_outputs < 2) {
    char shape[96];
    shape_text (&outputs[0], shape, sizeof (shape));
    set_err (err, err_size, "The ssd decoder needs two outputs (boxes "
        "[1,N,4] and scores [1,N,C]); the model has one, %s.", shape);
    return -1;
  }
  if (req->kind == IMGREC_DECODER_SSD || (n_outputs >= 2
          && req->kind != IMGREC_DECODER_YOLOV5
          && req->kind != IMGREC_DECODER_YOLOV8
          && !(req->kind == IMGREC_DECODER_NMS_DONE && n_outputs < 3))) {
    rc = resolve_multi (dec, req, outputs, n_outputs, err, err_size);
  } else {
    /* YOLO exports may have auxiliary outputs: the first one is the head */
    rc = resolve_single (dec, req, &outputs[0], err, err_size);
  }
  if (rc < 0)
    return -1;

  if (dec->kind == IMGREC_DECODER_NMS_DONE) {
    dec->background = req->background > 0;
    dec->n_classes = req->n_labels > 0 ? req->n_labels : -1;
  } else if (req->n_labels > 0 && dec->n_classes != req->n_labels) {
    if (dec->kind == IMGREC_DECODER_SSD && dec->background
        && req->n_labels == dec->n_classes + 1) {
      dec->label_offset = 1;    /* the list names the background first */
    } else {
      set_err (err, err_size, "The model has %lld classes but %d labels "
          "were given.", (long long) dec->n_classes, req->n_labels);
      return -1;
    }
  }

  dec->activation = req->activation ? req->activation : IMGREC_ACTIVATION_NONE;
  dec->box_format = req->box_format;
  if (dec->box_format == IMGREC_BOX_AUTO)
    dec->box_format = (dec->kind == IMGREC_DECODER_YOLOV5
        || dec->kind == IMGREC_DECODER_YOLOV8 || dec->priors)
        ? IMGREC_BOX_CXCYWH : IMGREC_BOX_XYXY;
  dec->box_units = req->box_units;
  if (dec->box_units == IMGREC_UNITS_AUTO)
    dec->box_units = (dec->kind == IMGREC_DECODER_SSD
        || dec->rows == IMGREC_ROWS_ID_CLASS_SCORE_XYXY)
        ? IMGREC_UNITS_NORMALIZED : IMGREC_UNITS_PIXELS;
  return 0;
}

int64_t
imgrec_decoder_max_candidates (const imgrec_decoder *dec,
    const imgrec_detect_shape *shapes)
{
  int64_t d[2];
  const imgrec_detect_shape *s = &shapes[dec->out_main];

  if (dec->kind == IMGREC_DECODER_YOLOV8 && !dec->transposed)
    return squeeze_to (s, 2, d) ? d[1] : 0;
  return squeeze_to (s, 2, d) ? d[0] : 0;
}

/* ------------------------------------------------------------------------ */
/* decoding                                                                   */

static inline float
sigmoidf (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

static inline float
activate (const imgrec_decoder *dec, float v)
{
  return dec->activation == IMGREC_ACTIVATION_SIGMOID ? sigmoidf (v) : v;
}

static inline int
class_ok (const imgrec_decode_params *p, int c)
{
  return p->class_enabled == NULL
      || (c >= 0 && c < p->n_class_params && p->class_enabled[c]);
}

static inline float
class_threshold (const imgrec_decode_params *p, int c)
{
  if (p->class_thresholds && c >= 0 && c < p->n_class_params
      && !isnan (p->class_thresholds[c]))
    return p->class_thresholds[c];
  return p->threshold;
}

/* Appends a candidate if its score and box are usable and it passes its
 * class's threshold; returns the new count. */
static inline int64_t
emit (imgrec_detection *out, int64_t n, const imgrec_decoder *dec,
    const imgrec_decode_params *p, imgrec_box_format fmt, const float *box,
    float sx, float sy, float score, int c, int64_t index)
{
  float a = box[0], b = box[1], cc = box[2], d = box[3];
  imgrec_detection *o;

  if (!isfinite (score) || !(score >= class_threshold (p, c)))
    return n;
  if (!isfinite (a) || !isfinite (b) || !isfinite (cc) || !isfinite (d))
    return n;
  o = &out[n];
  switch (fmt) {
    case IMGREC_BOX_CXCYWH:
      o->x0 = (a - cc * 0.5f) * sx;
      o->y0 = (b - d * 0.5f) * sy;
      o->x1 = (a + cc * 0.5f) * sx;
      o->y1 = (b + d * 0.5f) * sy;
      break;
    case IMGREC_BOX_YXYX:
      o->x0 = b * sx;
      o->y0 = a * sy;
      o->x1 = d * sx;
      o->y1 = cc * sy;
      break;
    default:
      o->x0 = a * sx;
      o->y0 = b * sy;
      o->x1 = cc * sx;
      o->y1 = d * sy;
      break;
  }
  o->score = score;
  o->class_id = c;
  o->index = (int) index;
  return n + 1;
}

static int
runtime_dims (const imgrec_detect_shape *s, int want, int64_t *d,
    const char *what, char *err, size_t err_size)
{
  char shape[96];

  if (squeeze_to (s, want, d))
    return 0;
  shape_text (s, shape, sizeof (shape));
  set_err (err, err_size, "The detector's %s output has shape %s at run "
      "time, which its decoder cannot read.", what, shape);
  return -1;
}

static int64_t
decode_yolov5 (const imgrec_decoder *dec, const float *data, int64_t N,
    int64_t C, const imgrec_decode_params *p, float sx, float sy,
    imgrec_detection *out)
{
  int64_t i, n = 0, stride = 5 + C;
  int c;

  for (i = 0; i < N; i++) {
    const float *r = data + i * stride;
    float obj = activate (dec, r[4]), best = -INFINITY;
    int best_c = -1;
    if (!(obj > 0.0f))          /* also drops NaN */
      continue;
    for (c = 0; c < C; c++) {
      float v = r[5 + c];
      if (v > best && class_ok (p, c)) {
        best = v;
        best_c = c;
      }
    }
    if (best_c < 0)
      continue;
    n = emit (out, n, dec, p, dec->box_format, r, sx, sy,
        obj * activate (dec, best), best_c, i);
  }
  return n;
}

#define YOLOV8_BLOCK 256

static int64_t
decode_yolov8 (const imgrec_decoder *dec, const float *data, int64_t N,
    int64_t C, const imgrec_decode_params *p, float sx, float sy,
    imgrec_detection *out)
{
  int64_t i, n = 0;
  int c;

  if (dec->transposed) {
    for (i = 0; i < N; i++) {
      const float *r = data + i * (4 + C);
      float best = -INFINITY;
      int best_c = -1;
      for (c = 0; c < C; c++)
        if (r[4 + c] > best && class_ok (p, c)) {
          best = r[4 + c];
          best_c = c;
        }
      if (best_c >= 0)
        n = emit (out, n, dec, p, dec->box_format, r, sx, sy,
            activate (dec, best), best_c, i);
    }
    return n;
  }

  /* [4+C, N]: per block of candidates, walk each class row contiguously
   * keeping the best class per candidate (vectorisable, cache-resident),
   * then emit the block. */
  for (int64_t b0 = 0; b0 < N; b0 += YOLOV8_BLOCK) {
    float best[YOLOV8_BLOCK];
    int best_c[YOLOV8_BLOCK];
    int64_t bn = N - b0 < YOLOV8_BLOCK ? N - b0 : YOLOV8_BLOCK, j;
    for (j = 0; j < bn; j++) {
      best[j] = -INFINITY;
      best_c[j] = -1;
    }
    for (c = 0; c < C; c++) {
      const float *row = data + (4 + c) * N + b0;
      if (!class_ok (p, c))
        continue;
      for (j = 0; j < bn; j++) {
        int better = row[j] > best[j];
        best[j] = better ? row[j] : best[j];
        best_c[j] = better ? c : best_c[j];
      }
    }
    for (j = 0; j < bn; j++) {
      i = b0 + j;
      if (best_c[j] >= 0) {
        float box[4] = { data[i], data[N + i], data[2 * N + i],
          data[3 * N + i]
        };
        n = emit (out, n, dec, p, dec->box_format, box, sx, sy,
            activate (dec, best[j]), best_c[j], i);
      }
    }
  }
  return n;
}

static int64_t
decode_ssd (const imgrec_decoder *dec, const float *boxes, const float *scores,
    int64_t N, int64_t C, const imgrec_decode_params *p, float sx, float sy,
    imgrec_detection *out)
{
  int64_t i, n = 0;
  int c, bg = dec->background;

  for (i = 0; i < N; i++) {
    const float *s = scores + i * C;
    const float *b = boxes + i * 4;
    float best = -INFINITY, box[4], score, sum = 0.0f, max = -INFINITY;
    int best_c = -1;
    imgrec_box_format fmt = dec->box_format;

    for (c = bg; c < C; c++)
      if (s[c] > best && class_ok (p, c - bg)) {
        best = s[c];
        best_c = c - bg;
      }
    if (best_c < 0)
      continue;
    if (dec->activation == IMGREC_ACTIVATION_SOFTMAX) {
      for (c = 0; c < C; c++)
        max = s[c] > max ? s[c] : max;
      for (c = 0; c < C; c++)
        sum += expf (s[c] - max);
      score = expf (best - max) / sum;
    } else {
      score = activate (dec, best);
    }
    if (dec->priors) {
      const float *pr = dec->priors + i * 4;
      const float *v = dec->variances;
      box[0] = pr[0] + b[0] * v[0] * pr[2];
      box[1] = pr[1] + b[1] * v[1] * pr[3];
      box[2] = pr[2] * expf (b[2] * v[2]);
      box[3] = pr[3] * expf (b[3] * v[3]);
      fmt = IMGREC_BOX_CXCYWH;
    } else {
      memcpy (box, b, sizeof (box));
    }
    n = emit (out, n, dec, p, fmt, box, sx, sy, score, best_c, i);
  }
  return n;
}

/* A class id read from a float output: an integer in range, else -1. */
static int
row_class (const imgrec_decoder *dec, float v)
{
  double c;

  if (!isfinite (v))
    return -1;
  c = floor ((double) v + 0.5) - dec->background;
  if (c < 0 || c > 1e9 || (dec->n_classes >= 0 && c >= dec->n_classes))
    return -1;
  return (int) c;
}

int64_t
imgrec_decode (const imgrec_decoder *dec, const float *const *data,
    const imgrec_detect_shape *shapes, const imgrec_decode_params *p,
    imgrec_detection *out, int64_t capacity, char *err, size_t err_size)
{
  const imgrec_detect_shape *main = &shapes[dec->out_main];
  float sx = 1.0f, sy = 1.0f;
  int64_t d[2], e[2], i, n = 0, N;

  if (dec->box_units == IMGREC_UNITS_NORMALIZED) {
    sx = (float) p->model_w;
    sy = (float) p->model_h;
  }
  if (capacity < imgrec_decoder_max_candidates (dec, shapes)) {
    set_err (err, err_size, "The detection buffer holds %lld candidates; "
        "the run gave %lld.", (long long) capacity,
        (long long) imgrec_decoder_max_candidates (dec, shapes));
    return -1;
  }

  switch (dec->kind) {
    case IMGREC_DECODER_YOLOV5:
      if (runtime_dims (main, 2, d, "yolov5", err, err_size) < 0)
        return -1;
      if (d[1] != 5 + dec->n_classes)
        goto bad_classes;
      return decode_yolov5 (dec, data[dec->out_main], d[0], dec->n_classes,
          p, sx, sy, out);
    case IMGREC_DECODER_YOLOV8:
      if (runtime_dims (main, 2, d, "yolov8", err, err_size) < 0)
        return -1;
      if ((dec->transposed ? d[1] : d[0]) != 4 + dec->n_classes)
        goto bad_classes;
      return decode_yolov8 (dec, data[dec->out_main],
          dec->transposed ? d[0] : d[1], dec->n_classes, p, sx, sy, out);
    case IMGREC_DECODER_SSD:
      if (runtime_dims (main, 2, d, "boxes", err, err_size) < 0
          || runtime_dims (&shapes[dec->out_scores], 2, e, "scores", err,
              err_size) < 0)
        return -1;
      if (d[1] != 4 || d[0] != e[0] || e[1] != dec->n_classes + dec->background
          || (dec->priors && dec->n_candidates != d[0])) {
        set_err (err, err_size, "The ssd outputs changed shape at run time "
            "(%lld boxes of %lld, %lld score rows of %lld classes).",
            (long long) d[0], (long long) d[1], (long long) e[0],
            (long long) e[1]);
        return -1;
      }
      return decode_ssd (dec, data[dec->out_main], data[dec->out_scores],
          d[0], e[1], p, sx, sy, out);
    case IMGREC_DECODER_NMS_DONE:
      break;
    default:
      set_err (err, err_size, "The decoder is not resolved.");
      return -1;
  }

  if (dec->rows == IMGREC_ROWS_SEPARATE) {
    const float *boxes = data[dec->out_main];
    const float *labels = data[dec->out_labels];
    const float *scores = data[dec->out_scores];
    if (runtime_dims (main, 2, d, "boxes", err, err_size) < 0
        || runtime_dims (&shapes[dec->out_labels], 1, e, "labels", err,
            err_size) < 0)
      return -1;
    N = d[0];
    if (d[1] != 4 || e[0] != N || runtime_dims (&shapes[dec->out_scores], 1,
            e, "scores", err, err_size) < 0 || e[0] != N) {
      set_err (err, err_size, "The detector's boxes, labels and scores "
          "outputs disagree on the number of detections.");
      return -1;
    }
    for (i = 0; i < N; i++) {
      int c = row_class (dec, labels[i]);
      if (c >= 0 && class_ok (p, c))
        n = emit (out, n, dec, p, dec->box_format, boxes + 4 * i, sx, sy,
            scores[i], c, i);
    }
    return n;
  }

  if (runtime_dims (main, 2, d, "rows", err, err_size) < 0)
    return -1;
  N = d[0];
  if (d[1] != (dec->rows == IMGREC_ROWS_XYXY_SCORE_CLASS ? 6 : 7)) {
    set_err (err, err_size, "The detector's rows have %lld values at run "
        "time; the nms-done layout chosen reads %d.", (long long) d[1],
        dec->rows == IMGREC_ROWS_XYXY_SCORE_CLASS ? 6 : 7);
    return -1;
  }
  for (i = 0; i < N; i++) {
    const float *r = data[dec->out_main] + i * d[1];
    int c;
    if (dec->rows == IMGREC_ROWS_XYXY_SCORE_CLASS) {
      c = row_class (dec, r[5]);
      if (c >= 0 && class_ok (p, c))
        n = emit (out, n, dec, p, dec->box_format, r, sx, sy, r[4], c, i);
    } else {
      if (r[0] < 0)             /* end of the valid rows */
        break;
      c = row_class (dec, r[1]);
      if (c >= 0 && class_ok (p, c))
        n = emit (out, n, dec, p, dec->box_format, r + 3, sx, sy, r[2], c, i);
    }
  }
  return n;

bad_classes:
  set_err (err, err_size, "The %s output has %lld values per candidate at "
      "run time; the model declared %lld classes.",
      imgrec_decoder_kind_name (dec->kind),
      (long long) (dec->kind == IMGREC_DECODER_YOLOV8 && !dec->transposed
          ? d[0] : d[1]), (long long) dec->n_classes);
  return -1;
}

/* ------------------------------------------------------------------------ */
/* mapping, NMS                                                               */

int64_t
imgrec_detect_map (imgrec_detection *dets, int64_t n, const imgrec_fit *fit,
    double clip_x0, double clip_y0, double clip_x1, double clip_y1,
    double min_w, double min_h)
{
  int64_t i, m = 0;

  for (i = 0; i < n; i++) {
    imgrec_detection d = dets[i];
    double x0, y0, x1, y1;
    imgrec_fit_to_frame (fit, d.x0, d.y0, &x0, &y0);
    imgrec_fit_to_frame (fit, d.x1, d.y1, &x1, &y1);
    x0 = fmax (x0, clip_x0);
    y0 = fmax (y0, clip_y0);
    x1 = fmin (x1, clip_x1);
    y1 = fmin (y1, clip_y1);
    if (!(x1 > x0) || !(y1 > y0) || x1 - x0 < min_w || y1 - y0 < min_h)
      continue;
    d.x0 = (float) x0;
    d.y0 = (float) y0;
    d.x1 = (float) x1;
    d.y1 = (float) y1;
    dets[m++] = d;
  }
  return m;
}

float
imgrec_box_iou (const imgrec_detection *a, const imgrec_detection *b)
{
  float iw = fminf (a->x1, b->x1) - fmaxf (a->x0, b->x0);
  float ih = fminf (a->y1, b->y1) - fmaxf (a->y0, b->y0);
  float inter, uni;

  if (!(iw > 0.0f) || !(ih > 0.0f))
    return 0.0f;
  inter = iw * ih;
  uni = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0)
      - inter;
  return uni > 0.0f ? inter / uni : 0.0f;
}

static int
by_score (const void *pa, const void *pb)
{
  const imgrec_detection *a = pa, *b = pb;

  if (a->score > b->score)
    return -1;
  if (a->score < b->score)
    return 1;
  return (a->index > b->index) - (a->index < b->index);
}

int64_t
imgrec_nms (imgrec_detection *dets, int64_t n, float iou_threshold,
    int class_agnostic, int64_t max_detections, unsigned char *suppressed)
{
  int64_t i, j, kept = 0, m = 0;

  /* NaN scores cannot be ordered: drop them first */
  for (i = 0; i < n; i++)
    if (!isnan (dets[i].score))
      dets[m++] = dets[i];
  n = m;
  qsort (dets, (size_t) n, sizeof (*dets), by_score);
  memset (suppressed, 0, (size_t) n);
  for (i = 0; i < n; i++) {
    if (suppressed[i])
      continue;
    dets[kept++] = dets[i];
    if (max_detections > 0 && kept >= max_detections)
      break;
    for (j = i + 1; j < n; j++)
      if (!suppressed[j] && (class_agnostic
              || dets[j].class_id == dets[i].class_id)
          && imgrec_box_iou (&dets[i], &dets[j]) > iou_threshold)
        suppressed[j] = 1;
  }
  return kept;
}
