/* Op family: resize — Resize (opsets 10 to 19) and Upsample (7, 9).
 *
 * Every output coordinate of an axis maps to a source coordinate (the
 * coordinate transformation mode), and from it to 1 (nearest), 2 (linear) or
 * 4 (cubic) source indices with weights.  These per-axis tables are built at
 * run time in scratch memory (they depend only on shapes and scales, and cost
 * O(sum of output dims)).  Interpolation is separable, so:
 *
 *   nearest          one N-D gather; repeated source rows are copied from the
 *                    output row just written.
 *   linear / cubic   when only the last two axes are resized (NCHW images):
 *                    one fused pass over output rows; each thread caches the
 *                    horizontally interpolated source rows it needs and blends
 *                    them vertically.  Otherwise one pass per resized axis
 *                    through scratch buffers.
 *
 * Axes whose table is the identity (N and C, usually) cost nothing.  On
 * AVX-512 machines rows along the last axis are interpolated with vector
 * permutes over a 32-element source window instead of scalar gathers.
 *
 * Output sizes come from `sizes` or floor(input * scale).  As in ONNX's
 * reference implementation (and its test data), align_corners,
 * pytorch_half_pixel and tf_crop_and_resize use the unrounded output length
 * input * scale when scales are given.
 *
 * Opset 18 additions (antialias, axes, keep_aspect_ratio_policy) are refused
 * at load; half_pixel_symmetric (19) is supported. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RS_X86 1
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "op.h"

typedef enum rs_mode {
  RS_NEAREST,
  RS_LINEAR,
  RS_CUBIC,
} rs_mode;

typedef enum rs_coord {
  CT_HALF_PIXEL,
  CT_HALF_PIXEL_SYMMETRIC,
  CT_PYTORCH_HALF_PIXEL,
  CT_ALIGN_CORNERS,
  CT_ASYMMETRIC,
  CT_TF_HALF_PIXEL_FOR_NN,
  CT_TF_CROP_AND_RESIZE,
} rs_coord;

typedef enum rs_round {
  NR_ROUND_PREFER_FLOOR,
  NR_ROUND_PREFER_CEIL,
  NR_FLOOR,
  NR_CEIL,
  /* Upsample and Resize-10 have no nearest_mode; ONNX Runtime floors when
   * upsampling and rounds up when downsampling. */
  NR_LEGACY,
} rs_round;

/* Where the scales and sizes come from. */
typedef enum rs_inputs {
  RS_IN_SCALES_ATTR,             /* Upsample-7: attribute `scales` */
  RS_IN_SCALES,                  /* Upsample-9, Resize-10: X, scales */
  RS_IN_ROI_SCALES_SIZES,        /* Resize-11+: X, roi, scales, sizes */
} rs_inputs;

typedef struct rs_params {
  rs_mode mode;
  rs_coord coord;
  rs_round round;
  rs_inputs inputs;
  float cubic_a;
  bool exclude_outside;
  float extrapolation;
  int n_attr_scales;
  float attr_scales[IMGREC_MAX_RANK];
} rs_params;

/* Largest output dimension accepted: keeps index arithmetic far from int64
 * overflow and source coordinates exact in double. */
#define RS_MAX_DIM ((int64_t) 1 << 40)

/* Everything derived from the input shapes and the scales/sizes/roi. */
typedef struct rs_plan {
  const rs_params *params;
  int rank;
  int64_t in[IMGREC_MAX_RANK], out[IMGREC_MAX_RANK];
  double scale[IMGREC_MAX_RANK];       /* used by the coordinate transform */
  double out_len[IMGREC_MAX_RANK];     /* output length for the transform */
  double roi_start[IMGREC_MAX_RANK], roi_end[IMGREC_MAX_RANK];
  bool identity[IMGREC_MAX_RANK];
  int taps[IMGREC_MAX_RANK];           /* 1 for identity and nearest axes */
  /* linear/cubic: fused path, or separable passes in `order`. */
  bool fused;
  int n_passes;
  int order[IMGREC_MAX_RANK];
  int64_t max_intermediate;            /* elements of the largest pass buffer */
} rs_plan;

/* One axis's table: for output index j and tap t, source index
 * idx[t * n + j] (always in range) with weight w[t * n + j].  outside[j] marks
 * tf_crop_and_resize coordinates that take the extrapolation value. */
typedef struct rs_table {
  int taps;
  bool identity;
  int64_t n;
  int64_t *idx;
  float *w;
  uint8_t *outside;          /* NULL unless some coordinate is outside */
  int64_t factor;            /* > 0: nearest with idx[j] == j / factor */
  int64_t n_in;              /* input length of the axis */
  /* Windowed gather (AVX-512, float rows along the last axis): every block
   * of RS_BLOCK outputs reads only the 2 * RS_BLOCK source elements from
   * win_base[block], so a vector permute replaces a gather; win_rel[t][j]
   * is idx[t][j] - win_base[j / RS_BLOCK].  NULL when some block spans more. */
  int64_t *win_base;
  int32_t *win_rel;          /* [taps][n_pad] */
  int64_t n_pad;
} rs_table;

#define RS_BLOCK 16

static int
rs_init (ir_node *node, const op_init_ctx *ctx, imgrec_error *err)
{
  rs_params *p = calloc (1, sizeof *p);
  if (p == NULL)
    return ir_fail (err, "out of memory for Resize parameters.");
  node->params = p;
  bool is_upsample = strcmp (node->op_type, "Upsample") == 0;
  bool modern = !is_upsample && node->opset >= 11;

  const char *mode = op_attr_string (ctx, "mode", "nearest");
  if (strcmp (mode, "nearest") == 0)
    p->mode = RS_NEAREST;
  else if (strcmp (mode, "linear") == 0 || (is_upsample && strcmp (mode, "bilinear") == 0))
    p->mode = RS_LINEAR;
  else if (strcmp (mode, "cubic") == 0 && modern)
    p->mode = RS_CUBIC;
  else
    return ir_fail (err, "attribute mode is \"%s\"; expected nearest, linear%s.", mode,
        modern ? " or cubic" : "");

  if (is_upsample && node->opset < 9) {
    const float *scales;
    int n = op_attr_floats (ctx, "scales", &scales);
    if (n < 0)
      return ir_fail (err, "attribute scales is required.");
    if (n > IMGREC_MAX_RANK)
      return ir_fail (err, "attribute scales has %d values; at most %d are supported.", n,
          IMGREC_MAX_RANK);
    p->inputs = RS_IN_SCALES_ATTR;
    p->n_attr_scales = n;
    memcpy (p->attr_scales, scales, (size_t) n * sizeof *scales);
  } else if (!modern) {
    p->inputs = RS_IN_SCALES;
    if (node->n_inputs < 2 || node->inputs[1] < 0)
      return ir_fail (err, "input 'scales' is required.");
  } else {
    p->inputs = RS_IN_ROI_SCALES_SIZES;
  }

  p->coord = CT_ASYMMETRIC;
  p->round = NR_LEGACY;
  p->cubic_a = -0.75f;
  if (!modern)
    return 0;

  const char *coord = op_attr_string (ctx, "coordinate_transformation_mode", "half_pixel");
  static const struct { const char *name; rs_coord coord; int since; } coords[] = {
    { "half_pixel", CT_HALF_PIXEL, 11 },
    { "half_pixel_symmetric", CT_HALF_PIXEL_SYMMETRIC, 19 },
    { "pytorch_half_pixel", CT_PYTORCH_HALF_PIXEL, 11 },
    { "align_corners", CT_ALIGN_CORNERS, 11 },
    { "asymmetric", CT_ASYMMETRIC, 11 },
    { "tf_half_pixel_for_nn", CT_TF_HALF_PIXEL_FOR_NN, 11 },
    { "tf_crop_and_resize", CT_TF_CROP_AND_RESIZE, 11 },
  };
  bool found = false;
  for (size_t i = 0; i < sizeof coords / sizeof coords[0]; i++) {
    if (strcmp (coord, coords[i].name) == 0 && node->opset >= coords[i].since) {
      p->coord = coords[i].coord;
      found = true;
    }
  }
  if (!found)
    return ir_fail (err, "attribute coordinate_transformation_mode is \"%s\"; expected "
        "half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn "
        "or tf_crop_and_resize.", coord);

  const char *round = op_attr_string (ctx, "nearest_mode", "round_prefer_floor");
  if (strcmp (round, "round_prefer_floor") == 0)
    p->round = NR_ROUND_PREFER_FLOOR;
  else if (strcmp (round, "round_prefer_ceil") == 0)
    p->round = NR_ROUND_PREFER_CEIL;
  else if (strcmp (round, "floor") == 0)
    p->round = NR_FLOOR;
  else if (strcmp (round, "ceil") == 0)
    p->round = NR_CEIL;
  else
    return ir_fail (err, "attribute nearest_mode is \"%s\"; expected round_prefer_floor, "
        "round_prefer_ceil, floor or ceil.", round);

  p->cubic_a = op_attr_float (ctx, "cubic_coeff_a", -0.75f);
  if (!isfinite (p->cubic_a))
    return ir_fail (err, "attribute cubic_coeff_a must be finite.");
  int64_t exclude = op_attr_int (ctx, "exclude_outside", 0);
  if (exclude != 0 && exclude != 1)
    return ir_fail (err, "attribute exclude_outside is %lld; expected 0 or 1.",
        (long long) exclude);
  p->exclude_outside = exclude == 1;
  p->extrapolation = op_attr_float (ctx, "extrapolation_value", 0.0f);

  /* Opset 18 additions this kernel does not implement: refuse rather than
   * silently compute something else. */
  if (op_attr_int (ctx, "antialias", 0) != 0)
    return ir_fail (err, "attribute antialias=1 is not supported.");
  if (op_attr_has (ctx, "axes"))
    return ir_fail (err, "attribute axes is not supported; give scales or sizes for every axis.");
  const char *policy = op_attr_string (ctx, "keep_aspect_ratio_policy", "stretch");
  if (strcmp (policy, "stretch") != 0)
    return ir_fail (err, "attribute keep_aspect_ratio_policy \"%s\" is not supported "
        "(only stretch).", policy);
  return 0;
}

/* An optional input counts as absent when it is not connected or empty. */
static const ir_tensor *
rs_optional (const ir_node *node, ir_tensor *const *in, int i)
{
  if (i >= node->n_inputs || in[i] == NULL || ir_numel (in[i]) == 0)
    return NULL;
  return in[i];
}

/* Source coordinate of output index j on axis d.  *outside is set for
 * tf_crop_and_resize coordinates beyond the input. */
static double
rs_source_coord (const rs_plan *plan, int d, int64_t j, bool *outside)
{
  double x = (double) j, scale = plan->scale[d], out_len = plan->out_len[d];
  double in_len = (double) plan->in[d];
  *outside = false;
  switch (plan->params->coord) {
  case CT_HALF_PIXEL:
    return (x + 0.5) / scale - 0.5;
  case CT_HALF_PIXEL_SYMMETRIC: {
    double adjustment = (double) plan->out[d] / out_len;
    double offset = in_len / 2 * (1 - adjustment);
    return offset + (x + 0.5) / scale - 0.5;
  }
  /* The modes below use the integer output length, as ONNX Runtime and
   * PyTorch do; ONNX 1.12's reference data for two downsample tests uses
   * the unrounded in*scale instead (see tests/conformance/deviations.txt). */
  case CT_PYTORCH_HALF_PIXEL:
    return plan->out[d] > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
  case CT_ALIGN_CORNERS:
    return plan->out[d] == 1 ? 0.0 : x * (in_len - 1) / ((double) plan->out[d] - 1);
  case CT_ASYMMETRIC:
    return x / scale;
  case CT_TF_HALF_PIXEL_FOR_NN:
    return (x + 0.5) / scale;
  case CT_TF_CROP_AND_RESIZE: {
    double start = plan->roi_start[d], end = plan->roi_end[d], src;
    double n_out = (double) plan->out[d];
    if (n_out == 1)
      src = (start + end) / 2 * (in_len - 1);
    else
      src = start * (in_len - 1) + x * (end - start) * (in_len - 1) / (n_out - 1);
    /* Written so that NaN also counts as outside. */
    if (!(src >= 0 && src <= in_len - 1))
      *outside = true;
    return src;
  }
  }
  return x;
}

static inline int64_t
rs_clamp_index (int64_t i, int64_t n)
{
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Cubic convolution weights for the taps at floor-1 .. floor+2, t in [0, 1). */
static void
rs_cubic_weights (double a, double t, double w[4])
{
  double s = t + 1, u = 1 - t, v = 2 - t;
  w[0] = ((a * s - 5 * a) * s + 8 * a) * s - 4 * a;
  w[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  w[2] = ((a + 2) * u - (a + 3)) * u * u + 1;
  w[3] = ((a * v - 5 * a) * v + 8 * a) * v - 4 * a;
}

/* Taps of output index j on axis d (`taps` = the mode's count): source
 * indices, clamped to the axis, and weights.  Returns whether the coordinate
 * is outside (tf_crop_and_resize). */
static bool
rs_entry (const rs_plan *plan, int d, int taps, int64_t j, int64_t idx[4], double w[4])
{
  const rs_params *p = plan->params;
  int64_t n = plan->in[d];
  bool outside;
  double x = rs_source_coord (plan, d, j, &outside);
  /* Coordinates beyond the axis only ever select its edge: bound them so
   * that floor() stays representable (and NaN cannot reach it). */
  if (!(x >= -4))
    x = -4;
  if (x > (double) n + 4)
    x = (double) n + 4;
  double f = floor (x), t = x - f;
  int64_t base = (int64_t) f;

  if (taps == 1) {
    int64_t r = base;
    if (t != 0) {
      switch (p->round) {
      case NR_ROUND_PREFER_FLOOR: r = t <= 0.5 ? base : base + 1; break;
      case NR_ROUND_PREFER_CEIL: r = t < 0.5 ? base : base + 1; break;
      case NR_FLOOR: r = base; break;
      case NR_CEIL: r = base + 1; break;
      case NR_LEGACY: r = plan->scale[d] < 1 ? base + 1 : base; break;
      }
    }
    idx[0] = rs_clamp_index (r, n);
    w[0] = 1;
  } else if (taps == 2) {
    idx[0] = rs_clamp_index (base, n);
    idx[1] = rs_clamp_index (base + 1, n);
    w[0] = 1 - t;
    w[1] = t;
  } else {
    rs_cubic_weights (p->cubic_a, t, w);
    double sum = 0;
    for (int k = 0; k < 4; k++) {
      int64_t i = base - 1 + k;
      if (p->exclude_outside && (i < 0 || i >= n))
        w[k] = 0;
      sum += w[k];
      idx[k] = rs_clamp_index (i, n);
    }
    if (p->exclude_outside && sum != 0)
      for (int k = 0; k < 4; k++)
        w[k] /= sum;
  }
  return outside;
}

static int
rs_mode_taps (rs_mode mode)
{
  return mode == RS_NEAREST ? 1 : mode == RS_LINEAR ? 2 : 4;
}

/* Whether axis d maps every output index to the same input index with
 * weight 1, so it needs no work at all. */
static bool
rs_axis_is_identity (const rs_plan *plan, int d)
{
  if (plan->in[d] != plan->out[d])
    return false;
  int taps = rs_mode_taps (plan->params->mode);
  for (int64_t j = 0; j < plan->out[d]; j++) {
    int64_t idx[4];
    double w[4];
    if (rs_entry (plan, d, taps, j, idx, w))
      return false;
    /* All weight on index j: taps elsewhere must weigh nothing. */
    double sum = 0;
    for (int k = 0; k < taps; k++) {
      if (idx[k] == j)
        sum += w[k];
      else if (w[k] != 0)
        return false;
    }
    if (sum != 1.0)
      return false;
  }
  return true;
}

/* Reads a float vector input (scales, roi) into out[]. */
static int
rs_read_floats (const ir_tensor *t, const char *name, int n, double *out, imgrec_error *err)
{
  if (t->data == NULL)
    return ir_fail (err, "the values of input '%s' are not known when planning.", name);
  if (ir_numel (t) != n)
    return ir_fail (err, "input '%s' has %lld values; expected %d.", name,
        (long long) ir_numel (t), n);
  for (int i = 0; i < n; i++)
    out[i] = ir_get_f64 (t, i);
  return 0;
}

/* Builds the plan from the inputs.  `with_roi`: read the roi values too (at
 * run; infer may not read them). */
static int
rs_make_plan (const ir_node *node, ir_tensor *const *in, bool with_roi, rs_plan *plan,
    imgrec_error *err)
{
  const rs_params *p = node->params;
  const ir_tensor *x = in[0];
  int rank = x->rank;
  memset (plan, 0, sizeof *plan);
  plan->params = p;
  plan->rank = rank;

  double scales[IMGREC_MAX_RANK];
  const ir_tensor *sizes = NULL, *scales_t = NULL, *roi = NULL;
  switch (p->inputs) {
  case RS_IN_SCALES_ATTR:
    if (p->n_attr_scales != rank)
      return ir_fail (err, "attribute scales has %d values but the input has rank %d.",
          p->n_attr_scales, rank);
    for (int d = 0; d < rank; d++)
      scales[d] = p->attr_scales[d];
    break;
  case RS_IN_SCALES:
    scales_t = in[1];
    if (scales_t == NULL)
      return ir_fail (err, "input 'scales' is required.");
    break;
  case RS_IN_ROI_SCALES_SIZES:
    roi = rs_optional (node, in, 1);
    scales_t = rs_optional (node, in, 2);
    sizes = rs_optional (node, in, 3);
    if (scales_t != NULL && sizes != NULL)
      return ir_fail (err, "inputs 'scales' and 'sizes' are both given; exactly one must be "
          "non-empty.");
    if (scales_t == NULL && sizes == NULL)
      return ir_fail (err, "neither input 'scales' nor 'sizes' is given; one is required.");
    break;
  }
  if (scales_t != NULL && rs_read_floats (scales_t, "scales", rank, scales, err) < 0)
    return -1;

  if (sizes != NULL) {
    if (sizes->data == NULL)
      return ir_fail (err, "the values of input 'sizes' are not known when planning.");
    if (ir_numel (sizes) != rank)
      return ir_fail (err, "input 'sizes' has %lld values; expected %d (the input rank).",
          (long long) ir_numel (sizes), rank);
  }

  for (int d = 0; d < rank; d++) {
    int64_t n = x->dims[d];
    plan->in[d] = n;
    if (sizes != NULL) {
      int64_t o = ir_get_i64 (sizes, d);
      if (o < 0 || o > RS_MAX_DIM)
        return ir_fail (err, "sizes[%d] is %lld; expected a size in [0, 2^40].", d,
            (long long) o);
      plan->out[d] = o;
      plan->scale[d] = n > 0 ? (double) o / (double) n : 1.0;
      plan->out_len[d] = (double) o;
    } else {
      double s = scales[d];
      if (!(s > 0) || !isfinite (s))
        return ir_fail (err, "scales[%d] is %g; scales must be positive and finite.", d, s);
      /* float arithmetic, as ONNX Runtime computes it: exporters derive
       * scales such as 11/7 from sizes and rely on the product rounding back
       * up to the integer (in double it stays just below). */
      double o = floor ((double) ((float) n * (float) s));
      if (o > (double) RS_MAX_DIM)
        return ir_fail (err, "scales[%d] = %g makes axis %d too large.", d, s, d);
      plan->out[d] = (int64_t) o;
      plan->scale[d] = s;
      plan->out_len[d] = (double) n * s;
    }
    if (n == 0 && plan->out[d] > 0)
      return ir_fail (err, "axis %d of the input is empty but the output size is %lld.", d,
          (long long) plan->out[d]);
    plan->roi_start[d] = 0;
    plan->roi_end[d] = 1;
  }
  int64_t total = 1;
  for (int d = 0; d < rank; d++) {
    if (plan->out[d] != 0 && total > INT64_MAX / plan->out[d])
      return ir_fail (err, "the resized output has too many elements.");
    total *= plan->out[d];
  }

  if (p->coord == CT_TF_CROP_AND_RESIZE && roi != NULL) {
    if (ir_numel (roi) != 2 * (int64_t) rank)
      return ir_fail (err, "input 'roi' has %lld values; expected %d (start and end per axis).",
          (long long) ir_numel (roi), 2 * rank);
    if (with_roi) {
      double r[2 * IMGREC_MAX_RANK];
      if (rs_read_floats (roi, "roi", 2 * rank, r, err) < 0)
        return -1;
      for (int d = 0; d < rank; d++) {
        plan->roi_start[d] = r[d];
        plan->roi_end[d] = r[rank + d];
      }
    }
  }

  /* Identity axes, and for linear/cubic how to schedule the work. */
  int mode_taps = rs_mode_taps (p->mode);
  bool outer_identity = true;
  for (int d = 0; d < rank; d++) {
    /* Whether an axis is the identity never depends on the roi: with
     * tf_crop_and_resize it is treated as resized (roi unknown at infer). */
    plan->identity[d] = p->coord != CT_TF_CROP_AND_RESIZE && rs_axis_is_identity (plan, d);
    plan->taps[d] = plan->identity[d] ? 1 : mode_taps;
    if (d < rank - 2 && !plan->identity[d])
      outer_identity = false;
  }
  if (p->mode != RS_NEAREST) {
    plan->fused = rank >= 1 && outer_identity;
    if (!plan->fused) {
      /* Shrinking axes first keeps the intermediates small. */
      int n = 0;
      for (int d = rank - 1; d >= 0; d--)
        if (!plan->identity[d])
          plan->order[n++] = d;
      for (int i = 1; i < n; i++) {
        int d = plan->order[i], k = i;
        double ratio = (double) plan->out[d] / (double) plan->in[d];
        while (k > 0 && (double) plan->out[plan->order[k - 1]]
            / (double) plan->in[plan->order[k - 1]] > ratio) {
          plan->order[k] = plan->order[k - 1];
          k--;
        }
        plan->order[k] = d;
      }
      plan->n_passes = n;
      int64_t shape[IMGREC_MAX_RANK];
      memcpy (shape, plan->in, sizeof shape);
      for (int i = 0; i + 1 < n; i++) {
        shape[plan->order[i]] = plan->out[plan->order[i]];
        int64_t size = 1;
        for (int k = 0; k < rank; k++) {
          if (shape[k] != 0 && size > RS_MAX_DIM / shape[k])
            return ir_fail (err, "an intermediate of the separable resize is too large.");
          size *= shape[k];
        }
        if (size > plan->max_intermediate)
          plan->max_intermediate = size;
      }
    }
  }
  return 0;
}

/* Scratch layout: the tables, then per-mode buffers. */
typedef struct rs_scratch {
  size_t table_off[IMGREC_MAX_RANK];
  size_t lines_off, line_floats;       /* fused: per-thread lines */
  size_t buf_off[2];                   /* separable: ping-pong buffers */
  size_t total;
} rs_scratch;

static size_t
rs_align (size_t n)
{
  return (n + 63) & ~(size_t) 63;
}

static void
rs_scratch_layout (const rs_plan *plan, int threads, rs_scratch *s)
{
  size_t off = 0;
  memset (s, 0, sizeof *s);
  for (int d = 0; d < plan->rank; d++) {
    size_t n = (size_t) plan->out[d], t = (size_t) plan->taps[d];
    s->table_off[d] = off;
    off += rs_align (n * t * sizeof (int64_t));       /* idx */
    off += rs_align (n * t * sizeof (float));         /* w */
    off += rs_align (n);                              /* outside */
    size_t n_pad = (n + RS_BLOCK - 1) / RS_BLOCK * RS_BLOCK;
    off += rs_align (n_pad / RS_BLOCK * sizeof (int64_t));   /* win_base */
    off += rs_align (n_pad * t * sizeof (int32_t));          /* win_rel */
  }
  if (plan->params->mode != RS_NEAREST) {
    if (plan->fused && plan->rank >= 1) {
      int r = plan->rank;
      int th = r >= 2 ? plan->taps[r - 2] : 1;
      s->line_floats = rs_align ((size_t) plan->out[r - 1] * sizeof (float)) / sizeof (float);
      s->lines_off = off;
      off += (size_t) (threads > 0 ? threads : 1) * (size_t) th * s->line_floats
          * sizeof (float);
    } else if (plan->n_passes > 1) {
      size_t bytes = rs_align ((size_t) plan->max_intermediate * sizeof (float));
      s->buf_off[0] = off;
      off += bytes;
      if (plan->n_passes > 2) {
        s->buf_off[1] = off;
        off += bytes;
      }
    }
  }
  s->total = off;
}

/* Fills axis d's table in scratch. */
static bool
rs_have_avx512 (void)
{
#ifdef RS_X86
  /* A read of libgcc's CPU model, filled in at start-up: cheap per run. */
  return ir_cpu ()->isa >= IR_ISA_AVX512;
#else
  return false;
#endif
}

/* Fills the windowed-gather data of a table if every block fits the window. */
static void
rs_build_window (rs_table *t, uint8_t *win)
{
  int64_t n = t->n, n_pad = (n + RS_BLOCK - 1) / RS_BLOCK * RS_BLOCK;
  int64_t *win_base = (int64_t *) win;
  int32_t *win_rel = (int32_t *) (win + rs_align ((size_t) (n_pad / RS_BLOCK) * sizeof (int64_t)));
  for (int64_t b = 0; b * RS_BLOCK < n; b++) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    int64_t end = (b + 1) * RS_BLOCK < n ? (b + 1) * RS_BLOCK : n;
    for (int k = 0; k < t->taps; k++) {
      for (int64_t j = b * RS_BLOCK; j < end; j++) {
        int64_t i = t->idx[k * n + j];
        lo = i < lo ? i : lo;
        hi = i > hi ? i : hi;
      }
    }
    if (hi - lo >= 2 * RS_BLOCK)
      return;
    win_base[b] = lo;
    for (int k = 0; k < t->taps; k++)
      for (int64_t j = b * RS_BLOCK; j < b * RS_BLOCK + RS_BLOCK; j++)
        win_rel[k * n_pad + j] = j < n ? (int32_t) (t->idx[k * n + j] - lo) : 0;
  }
  t->win_base = win_base;
  t->win_rel = win_rel;
  t->n_pad = n_pad;
}

static void
rs_build_table (const rs_plan *plan, int d, uint8_t *base, rs_table *t, bool want_window)
{
  int64_t n = plan->out[d];
  int taps = plan->taps[d];
  t->taps = taps;
  t->n = n;
  t->identity = plan->identity[d];
  t->idx = (int64_t *) base;
  t->w = (float *) (base + rs_align ((size_t) n * taps * sizeof (int64_t)));
  uint8_t *outside = (uint8_t *) t->w + rs_align ((size_t) n * taps * sizeof (float));
  uint8_t *win = outside + rs_align ((size_t) n);
  t->outside = NULL;
  t->factor = 0;
  t->n_in = plan->in[d];
  t->win_base = NULL;
  t->win_rel = NULL;
  t->n_pad = 0;

  if (t->identity) {
    for (int64_t j = 0; j < n; j++) {
      t->idx[j] = j;
      t->w[j] = 1;
    }
    t->factor = 1;
    return;
  }
  bool any_outside = false;
  for (int64_t j = 0; j < n; j++) {
    int64_t idx[4];
    double w[4];
    bool out = rs_entry (plan, d, taps, j, idx, w);
    outside[j] = out;
    any_outside |= out;
    for (int k = 0; k < taps; k++) {
      t->idx[k * n + j] = idx[k];
      t->w[k * n + j] = (float) w[k];
    }
  }
  if (any_outside)
    t->outside = outside;
  /* Integer nearest upsampling (the common 2x): idx[j] == j / f. */
  if (taps == 1 && !any_outside && plan->in[d] > 0 && n % plan->in[d] == 0) {
    int64_t f = n / plan->in[d];
    bool ok = true;
    for (int64_t j = 0; j < n && ok; j++)
      ok = t->idx[j] == j / f;
    if (ok)
      t->factor = f;
  }
  if (want_window && t->factor != 1 && n > 0 && rs_have_avx512 ())
    rs_build_window (t, win);
}

/* line[j] = sum_t w[t][j] * src[idx[t][j]] through the table's window: per
 * block, two masked loads cover the 32 source elements it may read (masked
 * lanes never touch memory past the row) and a permute per tap picks them. */
#ifdef RS_X86
__attribute__ ((target ("avx512f"))) static void
rs_window_line_avx512 (const rs_table *t, const float *src, float *line)
{
  int64_t n = t->n, n_in = t->n_in;
  for (int64_t j = 0; j < n; j += RS_BLOCK) {
    int64_t base = t->win_base[j / RS_BLOCK];
    int64_t avail = n_in - base, rest = n - j;
    __mmask16 m_lo = avail >= RS_BLOCK ? 0xFFFF : (__mmask16) ((1u << avail) - 1);
    __mmask16 m_hi = avail >= 2 * RS_BLOCK ? 0xFFFF
        : avail <= RS_BLOCK ? 0 : (__mmask16) ((1u << (avail - RS_BLOCK)) - 1);
    __mmask16 m_out = rest >= RS_BLOCK ? 0xFFFF : (__mmask16) ((1u << rest) - 1);
    __m512 lo = _mm512_maskz_loadu_ps (m_lo, src + base);
    __m512 hi = _mm512_maskz_loadu_ps (m_hi, src + base + RS_BLOCK);
    __m512i r = _mm512_load_si512 (t->win_rel + j);
    __m512 acc = _mm512_permutex2var_ps (lo, r, hi);
    if (t->taps > 1) {
      acc = _mm512_mul_ps (acc, _mm512_maskz_loadu_ps (m_out, t->w + j));
      for (int k = 1; k < t->taps; k++) {
        r = _mm512_load_si512 (t->win_rel + k * t->n_pad + j);
        __m512 v = _mm512_permutex2var_ps (lo, r, hi);
        acc = _mm512_fmadd_ps (v, _mm512_maskz_loadu_ps (m_out, t->w + k * n + j), acc);
      }
    }
    _mm512_mask_storeu_ps (line + j, m_out, acc);
  }
}
#else
static void
rs_window_line_avx512 (const rs_table *t, const float *src, float *line)
{
  /* Never called: rs_have_avx512 () is false, so no table has a window. */
}
#endif

/* ---- nearest: one gather over all axes, any storage ---- */

typedef struct rs_nearest_job {
  int rank;
  size_t esize;
  const uint8_t *src;
  uint8_t *dst;
  rs_table tables[IMGREC_MAX_RANK];
  int64_t in_stride[IMGREC_MAX_RANK];
  int64_t out_dims[IMGREC_MAX_RANK];
  float extrap;
} rs_nearest_job;

#define RS_DEFINE_GATHER(NAME, TYPE)                                            \
  static void                                                                   \
  NAME (TYPE *restrict dst, const TYPE *restrict src, const rs_table *t)        \
  {                                                                             \
    int64_t n = t->n;                                                           \
    if (t->factor == 1) {                                                       \
      memcpy (dst, src, (size_t) n * sizeof (TYPE));                            \
    } else if (t->factor == 2) {                                                \
      for (int64_t i = 0; i < n / 2; i++) {                                     \
        TYPE v = src[i];                                                        \
        dst[2 * i] = v;                                                         \
        dst[2 * i + 1] = v;                                                     \
      }                                                                         \
    } else if (t->factor > 2) {                                                 \
      int64_t f = t->factor;                                                    \
      for (int64_t i = 0; i < n / f; i++)                                       \
        for (int64_t k = 0; k < f; k++)                                         \
          dst[i * f + k] = src[i];                                              \
    } else {                                                                    \
      const int64_t *idx = t->idx;                                              \
      for (int64_t j = 0; j < n; j++)                                           \
        dst[j] = src[idx[j]];                                                   \
    }                                                                           \
  }

RS_DEFINE_GATHER (rs_gather_f32_scalar, float)

static void
rs_gather_f32 (float *restrict dst, const float *restrict src, const rs_table *t)
{
  if (t->win_base != NULL)
    rs_window_line_avx512 (t, src, dst);
  else
    rs_gather_f32_scalar (dst, src, t);
}
RS_DEFINE_GATHER (rs_gather_i64, int64_t)
RS_DEFINE_GATHER (rs_gather_u8, uint8_t)

/* Writes the extrapolation value into n elements of the given storage size. */
static void
rs_fill_extrap (uint8_t *dst, int64_t n, size_t esize, float value)
{
  if (esize == 4) {
    float *d = (float *) dst;
    for (int64_t i = 0; i < n; i++)
      d[i] = value;
  } else if (esize == 8) {
    int64_t *d = (int64_t *) dst, v = isfinite (value) ? (int64_t) value : 0;
    for (int64_t i = 0; i < n; i++)
      d[i] = v;
  } else {
    memset (dst, value != 0, (size_t) n);
  }
}

static void
rs_nearest_rows (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const rs_nearest_job *job = arg;
  int outer = job->rank - 1;
  const rs_table *last = &job->tables[outer];
  size_t esize = job->esize;
  size_t row_bytes = (size_t) last->n * esize;

  int64_t pos[IMGREC_MAX_RANK] = { 0 };
  int64_t r = begin;
  for (int d = outer - 1; d >= 0; d--) {
    pos[d] = r % job->out_dims[d];
    r /= job->out_dims[d];
  }

  int64_t prev_off = -1;
  bool prev_outside = false;
  for (int64_t row = begin; row < end; row++) {
    uint8_t *dst = job->dst + (size_t) row * row_bytes;
    int64_t off = 0;
    bool outside = false;
    for (int d = 0; d < outer; d++) {
      const rs_table *t = &job->tables[d];
      off += t->idx[pos[d]] * job->in_stride[d];
      if (t->outside != NULL && t->outside[pos[d]])
        outside = true;
    }

    if (outside) {
      rs_fill_extrap (dst, last->n, esize, job->extrap);
    } else if (row > begin && !prev_outside && off == prev_off) {
      /* Upsampling repeats source rows: copy the row just written. */
      memcpy (dst, dst - row_bytes, row_bytes);
    } else {
      const uint8_t *src = job->src + (size_t) off * esize;
      if (esize == 4)
        rs_gather_f32 ((float *) dst, (const float *) src, last);
      else if (esize == 8)
        rs_gather_i64 ((int64_t *) dst, (const int64_t *) src, last);
      else
        rs_gather_u8 (dst, src, last);
      if (last->outside != NULL)
        for (int64_t j = 0; j < last->n; j++)
          if (last->outside[j])
            rs_fill_extrap (dst + (size_t) j * esize, 1, esize, job->extrap);
    }
    prev_off = off;
    prev_outside = outside;

    for (int d = outer - 1; d >= 0; d--) {
      if (++pos[d] < job->out_dims[d])
        break;
      pos[d] = 0;
    }
  }
}

/* ---- linear / cubic ---- */

/* Interpolates one row along a table: line[j] = sum_t w[t][j] * src[idx[t][j]]. */
static void
rs_interp_line (const rs_table *t, const float *restrict src, float *restrict line,
    float extrap)
{
  int64_t n = t->n;
  const int64_t *idx = t->idx;
  const float *w = t->w;
  if (t->win_base != NULL) {
    rs_window_line_avx512 (t, src, line);
  } else switch (t->taps) {
  case 1:
    if (t->identity)
      memcpy (line, src, (size_t) n * sizeof (float));
    else
      for (int64_t j = 0; j < n; j++)
        line[j] = src[idx[j]];
    break;
  case 2:
    for (int64_t j = 0; j < n; j++)
      line[j] = w[j] * src[idx[j]] + w[n + j] * src[idx[n + j]];
    break;
  default:
    for (int64_t j = 0; j < n; j++)
      line[j] = w[j] * src[idx[j]] + w[n + j] * src[idx[n + j]]
          + w[2 * n + j] * src[idx[2 * n + j]] + w[3 * n + j] * src[idx[3 * n + j]];
    break;
  }
  if (t->outside != NULL)
    for (int64_t j = 0; j < n; j++)
      if (t->outside[j])
        line[j] = extrap;
}

/* dst[k] = sum_t w[t] * rows[t][k] over k < n: the vertical (outer-axis) blend. */
static void
rs_blend_rows (float *restrict dst, const float *const *rows, const float *w, int taps,
    int64_t n)
{
  switch (taps) {
  case 1:
    if (w[0] == 1.0f) {
      memcpy (dst, rows[0], (size_t) n * sizeof (float));
    } else {
      const float *a = rows[0];
      float wa = w[0];
      for (int64_t k = 0; k < n; k++)
        dst[k] = wa * a[k];
    }
    break;
  case 2: {
    const float *a = rows[0], *b = rows[1];
    float wa = w[0], wb = w[1];
    for (int64_t k = 0; k < n; k++)
      dst[k] = wa * a[k] + wb * b[k];
    break;
  }
  default: {
    const float *a = rows[0], *b = rows[1], *c = rows[2], *e = rows[3];
    float wa = w[0], wb = w[1], wc = w[2], we = w[3];
    for (int64_t k = 0; k < n; k++)
      dst[k] = wa * a[k] + wb * b[k] + wc * c[k] + we * e[k];
    break;
  }
  }
}

/* Fused path over [planes, H, W]: one item per output row. */
typedef struct rs_fused_job {
  const float *src;
  float *dst;
  int64_t h_in, w_in, h_out, w_out;
  rs_table th, tw;
  float extrap;
  float *lines;
  size_t line_floats;
} rs_fused_job;

static void
rs_fused_rows (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const rs_fused_job *job = arg;
  const rs_table *th = &job->th, *tw = &job->tw;
  int taps = th->taps;
  float *lines = job->lines + (size_t) thread_index * (size_t) taps * job->line_floats;
  int64_t keys[4] = { -1, -1, -1, -1 };   /* source row held by each line */

  for (int64_t row = begin; row < end; row++) {
    int64_t plane = row / job->h_out, y = row % job->h_out;
    float *out = job->dst + row * job->w_out;
    if (th->outside != NULL && th->outside[y]) {
      for (int64_t k = 0; k < job->w_out; k++)
        out[k] = job->extrap;
      continue;
    }

    int64_t need[4];
    float w[4];
    const float *rows[4];
    for (int t = 0; t < taps; t++) {
      need[t] = plane * job->h_in + th->idx[t * th->n + y];
      w[t] = th->w[t * th->n + y];
    }
    for (int t = 0; t < taps; t++) {
      const float *src_row = job->src + need[t] * job->w_in;
      if (tw->identity && tw->outside == NULL) {
        rows[t] = src_row;
        continue;
      }
      int slot = -1;
      for (int s = 0; s < taps && slot < 0; s++)
        if (keys[s] == need[t])
          slot = s;
      if (slot < 0) {
        /* Reuse a line this output row does not need. */
        for (int s = 0; s < taps && slot < 0; s++) {
          bool needed = false;
          for (int u = 0; u < taps; u++)
            needed |= keys[s] == need[u];
          if (!needed)
            slot = s;
        }
        keys[slot] = need[t];
        rs_interp_line (tw, src_row, lines + (size_t) slot * job->line_floats, job->extrap);
      }
      rows[t] = lines + (size_t) slot * job->line_floats;
    }
    rs_blend_rows (out, rows, w, taps, job->w_out);
  }
}

/* One separable pass along an axis: [outer, n_in, inner] -> [outer, n_out, inner]. */
typedef struct rs_pass_job {
  const float *src;
  float *dst;
  int64_t n_in, inner;
  const rs_table *t;
  float extrap;
} rs_pass_job;

/* Items are (outer, j) output blocks of `inner` elements. */
static void
rs_pass_blocks (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const rs_pass_job *job = arg;
  const rs_table *t = job->t;
  int64_t inner = job->inner;
  for (int64_t item = begin; item < end; item++) {
    int64_t o = item / t->n, j = item % t->n;
    float *dst = job->dst + item * inner;
    if (t->outside != NULL && t->outside[j]) {
      for (int64_t k = 0; k < inner; k++)
        dst[k] = job->extrap;
      continue;
    }
    const float *rows[4];
    float w[4];
    for (int k = 0; k < t->taps; k++) {
      rows[k] = job->src + (o * job->n_in + t->idx[k * t->n + j]) * inner;
      w[k] = t->w[k * t->n + j];
    }
    rs_blend_rows (dst, rows, w, t->taps, inner);
  }
}

/* Items are rows when the pass is along the last axis. */
static void
rs_pass_lines (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const rs_pass_job *job = arg;
  for (int64_t row = begin; row < end; row++)
    rs_interp_line (job->t, job->src + row * job->n_in, job->dst + row * job->t->n,
        job->extrap);
}

static int
rs_infer (const ir_node *node, ir_tensor *const *in, ir_tensor *const *out,
    op_infer_ctx *ctx)
{
  const rs_params *p = node->params;
  const ir_tensor *x = in[0];
  if (x == NULL)
    return ir_fail (ctx->err, "input 'X' is missing.");
  if (x->storage == IR_NONE)
    return ir_fail (ctx->err, "input 'X' has an unsupported element type.");
  if (p->mode != RS_NEAREST && x->storage != IR_F32)
    return ir_fail (ctx->err, "%s resize supports floating-point inputs only.",
        p->mode == RS_LINEAR ? "linear" : "cubic");
  rs_plan plan;
  if (rs_make_plan (node, in, false, &plan, ctx->err) < 0)
    return -1;
  rs_scratch s;
  rs_scratch_layout (&plan, ctx->threads, &s);
  ir_set_shape (out[0], x->elem_type, x->rank, plan.out);
  ctx->scratch_bytes = s.total;
  return 0;
}

static int
rs_run (const ir_node *node, const op_run_ctx *ctx)
{
  const rs_params *p = node->params;
  const ir_tensor *x = ctx->in[0];
  ir_tensor *y = ctx->out[0];
  rs_plan plan;
  if (rs_make_plan (node, ctx->in, true, &plan, ctx->err) < 0)
    return -1;
  int threads = ir_pool_threads (ctx->pool);
  rs_scratch s;
  rs_scratch_layout (&plan, threads, &s);
  if (s.total > ctx->scratch_bytes)
    return ir_fail (ctx->err, "scratch of %zu bytes is smaller than the %zu needed.",
        ctx->scratch_bytes, s.total);
  int rank = plan.rank;
  int64_t n_out = ir_numel (y);
  if (n_out == 0)
    return 0;
  if (rank == 0) {
    memcpy (y->data, x->data, ir_storage_size (x->storage));
    return 0;
  }

  uint8_t *scratch = ctx->scratch;
  rs_table tables[IMGREC_MAX_RANK];
  for (int d = 0; d < rank; d++)
    rs_build_table (&plan, d, scratch + s.table_off[d], &tables[d],
        d == rank - 1 && x->storage == IR_F32);

  if (p->mode == RS_NEAREST) {
    rs_nearest_job job;
    memset (&job, 0, sizeof job);
    job.rank = rank;
    job.esize = ir_storage_size (x->storage);
    job.src = x->data;
    job.dst = y->data;
    job.extrap = p->extrapolation;
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; d--) {
      job.tables[d] = tables[d];
      job.in_stride[d] = stride;
      job.out_dims[d] = plan.out[d];
      stride *= plan.in[d];
    }
    int64_t row_len = plan.out[rank - 1];
    ir_parallel_for (ctx->pool, n_out / row_len, 16384 / row_len + 1, rs_nearest_rows, &job);
    return 0;
  }

  if (plan.fused) {
    rs_fused_job job;
    memset (&job, 0, sizeof job);
    job.src = ir_f32 (x);
    job.dst = ir_f32 (y);
    job.w_in = plan.in[rank - 1];
    job.w_out = plan.out[rank - 1];
    job.tw = tables[rank - 1];
    if (rank >= 2) {
      job.h_in = plan.in[rank - 2];
      job.h_out = plan.out[rank - 2];
      job.th = tables[rank - 2];
    } else {
      /* A 1-D input is one row: an identity "H" axis of length 1. */
      static const int64_t zero = 0;
      static const float one = 1.0f;
      job.h_in = job.h_out = 1;
      job.th = (rs_table) { .taps = 1, .identity = true, .n = 1,
        .idx = (int64_t *) &zero, .w = (float *) &one, .factor = 1 };
    }
    job.extrap = p->extrapolation;
    job.lines = (float *) (scratch + s.lines_off);
    job.line_floats = s.line_floats;
    int64_t rows = n_out / job.w_out;
    ir_parallel_for (ctx->pool, rows, 8192 / job.w_out + 1, rs_fused_rows, &job);
    return 0;
  }

  /* Separable passes, shrinking axes first; the last pass writes y. */
  int64_t shape[IMGREC_MAX_RANK];
  memcpy (shape, plan.in, sizeof shape);
  const float *src = ir_f32 (x);
  for (int i = 0; i < plan.n_passes; i++) {
    int d = plan.order[i];
    float *dst = i + 1 == plan.n_passes ? ir_f32 (y)
        : (float *) (scratch + s.buf_off[i % 2]);
    rs_pass_job job = {
      .src = src, .dst = dst, .n_in = shape[d],
      .inner = ir_dims_product (shape, d + 1, rank),
      .t = &tables[d], .extrap = p->extrapolation,
    };
    int64_t outer = ir_dims_product (shape, 0, d);
    shape[d] = plan.out[d];
    if (job.inner == 1)
      ir_parallel_for (ctx->pool, outer, 8192 / (plan.out[d] + 1) + 1, rs_pass_lines, &job);
    else
      ir_parallel_for (ctx->pool, outer * plan.out[d], 8192 / job.inner + 1,
          rs_pass_blocks, &job);
    src = dst;
  }
  if (plan.n_passes == 0)
    memcpy (y->data, x->data, ir_nbytes (x));
  return 0;
}

#define RS_KERNEL(NAME, OP, SINCE, INPUT_BITS)                                  \
  static const op_kernel NAME = {                                               \
    .op_type = OP, .domain = "", .since_version = SINCE,                        \
    .needs_input_data = INPUT_BITS,                                             \
    .init = rs_init, .infer = rs_infer, .run = rs_run,                          \
  };

/* The output shape depends on the values of scales (and sizes); roi is only
 * read at run. */
RS_KERNEL (upsample_v7, "Upsample", 7, 0)
RS_KERNEL (upsample_v9, "Upsample", 9, 1u << 1)
RS_KERNEL (resize_v10, "Resize", 10, 1u << 1)
RS_KERNEL (resize_v11, "Resize", 11, (1u << 2) | (1u << 3))

const op_kernel *const ir_ops_resize[] = {
  &upsample_v7, &upsample_v9, &resize_v10, &resize_v11, NULL,
};
