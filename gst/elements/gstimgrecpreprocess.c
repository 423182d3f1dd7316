/* Pre-processing for imgrec inference elements.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstimgrecpreprocess.h"

#include <math.h>
#include <string.h>

GType
gst_imgrec_scaling_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_SCALING_BILINEAR, "Bilinear interpolation of the nearest "
          "source pixels (fast; like OpenCV's INTER_LINEAR)", "bilinear"},
    {GST_IMGREC_SCALING_ANTIALIAS, "Linear filter widened to the downscale "
          "factor, averaging every source pixel (like PIL's resize; about 4x "
          "slower for 1080p to 224x224)", "antialias"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecScaling", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

gboolean
gst_imgrec_preprocess_init (GstImgRecPreprocess * pp,
    const GstImgRecModelConfig * cfg, GstImgRecScaling scaling, guint threads,
    GError ** error)
{
  GstVideoFormat format;
  gint c, v;

  memset (pp, 0, sizeof (*pp));
  pp->width = cfg->width;
  pp->height = cfg->height;
  pp->channels = cfg->channels;
  pp->layout = cfg->layout;
  pp->resize = cfg->resize;
  pp->scaling = scaling;
  pp->threads = threads;
  pp->border_argb = 0xff000000u;

  for (c = 0; c < cfg->channels; c++)
    for (v = 0; v < 256; v++)
      pp->lut[c][v] = ((gfloat) v * cfg->scale - cfg->mean[c]) / cfg->std[c];

  switch (cfg->color_order) {
    case GST_IMGREC_COLOR_ORDER_BGR:
      format = GST_VIDEO_FORMAT_BGR;
      break;
    case GST_IMGREC_COLOR_ORDER_GRAY:
      format = GST_VIDEO_FORMAT_GRAY8;
      break;
    default:
      format = GST_VIDEO_FORMAT_RGB;
      break;
  }
  gst_video_info_set_format (&pp->model_info, format, cfg->width, cfg->height);
  pp->model_buffer = gst_buffer_new_allocate (NULL,
      GST_VIDEO_INFO_SIZE (&pp->model_info), NULL);
  if (pp->model_buffer == NULL || !gst_video_frame_map (&pp->model_frame,
          &pp->model_info, pp->model_buffer, GST_MAP_READWRITE)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
        "Could not allocate the %dx%d model input image.", cfg->width,
        cfg->height);
    gst_imgrec_preprocess_clear (pp);
    return FALSE;
  }
  pp->model_frame_mapped = TRUE;

  pp->tensor = g_try_new0 (gfloat, (gsize) cfg->width * cfg->height *
      cfg->channels);
  if (pp->tensor == NULL) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
        "Could not allocate the %dx%dx%d input tensor.", cfg->channels,
        cfg->height, cfg->width);
    gst_imgrec_preprocess_clear (pp);
    return FALSE;
  }
  pp->dims[0] = 1;
  if (cfg->layout == GST_IMGREC_LAYOUT_NCHW) {
    pp->dims[1] = cfg->channels;
    pp->dims[2] = cfg->height;
    pp->dims[3] = cfg->width;
  } else {
    pp->dims[1] = cfg->height;
    pp->dims[2] = cfg->width;
    pp->dims[3] = cfg->channels;
  }
  return TRUE;
}

static void
clear_slots (GstImgRecPreprocess * pp)
{
  guint i;

  for (i = 0; i < GST_IMGREC_CONVERTER_CACHE_SIZE; i++) {
    if (pp->slots[i].convert)
      gst_video_converter_free (pp->slots[i].convert);
    memset (&pp->slots[i], 0, sizeof (pp->slots[i]));
  }
}

static imgrec_fit_mode
fit_mode (GstImgRecResize resize)
{
  switch (resize) {
    case GST_IMGREC_RESIZE_LETTERBOX:
      return IMGREC_FIT_LETTERBOX;
    case GST_IMGREC_RESIZE_CENTER_CROP:
      return IMGREC_FIT_CENTER_CROP;
    default:
      return IMGREC_FIT_STRETCH;
  }
}

void
gst_imgrec_preprocess_fit (const GstImgRecPreprocess * pp,
    const GstVideoRectangle * region, imgrec_fit * fit)
{
  if (region)
    imgrec_fit_compute (fit, fit_mode (pp->resize), region->x, region->y,
        region->w, region->h, pp->width, pp->height);
  else
    imgrec_fit_compute (fit, fit_mode (pp->resize), 0, 0,
        GST_VIDEO_INFO_WIDTH (&pp->in_info),
        GST_VIDEO_INFO_HEIGHT (&pp->in_info), pp->width, pp->height);
}

/* A converter from a src_w x src_h region of the input format to the model
 * image, placing the picture as the resize mode says. */
static GstVideoConverter *
create_converter (GstImgRecPreprocess * pp, gint src_w, gint src_h)
{
  GstVideoInfo src_info = pp->in_info;
  GstVideoInfo dst_info = pp->mid_info;
  GstStructure *config;
  imgrec_fit fit;
  gint sx, sy, sw, sh, dx, dy, dw, dh;

  src_info.width = src_w;
  src_info.height = src_h;
  /* Analysis treats every frame as one progressive picture; the converter
   * wants matching rates and interlacing on both sides. */
  src_info.interlace_mode = GST_VIDEO_INTERLACE_MODE_PROGRESSIVE;
  dst_info.fps_n = src_info.fps_n;
  dst_info.fps_d = src_info.fps_d;

  /* the placement detectors invert (gst_imgrec_preprocess_fit) */
  imgrec_fit_compute (&fit, fit_mode (pp->resize), 0, 0, src_w, src_h,
      pp->width, pp->height);
  sx = fit.crop_x;
  sy = fit.crop_y;
  sw = fit.crop_w;
  sh = fit.crop_h;
  dx = fit.dst_x;
  dy = fit.dst_y;
  dw = fit.dst_w;
  dh = fit.dst_h;

  config = gst_imgrec_scaler_config (sh, GST_VIDEO_RESAMPLER_METHOD_LINEAR,
      pp->threads);
  gst_structure_set (config,
      GST_VIDEO_CONVERTER_OPT_SRC_X, G_TYPE_INT, sx,
      GST_VIDEO_CONVERTER_OPT_SRC_Y, G_TYPE_INT, sy,
      GST_VIDEO_CONVERTER_OPT_SRC_WIDTH, G_TYPE_INT, sw,
      GST_VIDEO_CONVERTER_OPT_SRC_HEIGHT, G_TYPE_INT, sh,
      GST_VIDEO_CONVERTER_OPT_DEST_X, G_TYPE_INT, dx,
      GST_VIDEO_CONVERTER_OPT_DEST_Y, G_TYPE_INT, dy,
      GST_VIDEO_CONVERTER_OPT_DEST_WIDTH, G_TYPE_INT, dw,
      GST_VIDEO_CONVERTER_OPT_DEST_HEIGHT, G_TYPE_INT, dh,
      GST_VIDEO_CONVERTER_OPT_FILL_BORDER, G_TYPE_BOOLEAN, TRUE,
      GST_VIDEO_CONVERTER_OPT_BORDER_ARGB, G_TYPE_UINT, pp->border_argb, NULL);
  /* Two taps = plain bilinear; the default widens the filter with the
   * downscale factor (17 taps from 1920 to 224 wide). */
  if (pp->scaling == GST_IMGREC_SCALING_BILINEAR)
    gst_structure_set (config, GST_VIDEO_CONVERTER_OPT_RESAMPLER_TAPS,
        G_TYPE_UINT, 2, NULL);
  return gst_video_converter_new (&src_info, &dst_info, config);
}

static GstVideoConverter *
get_converter (GstImgRecPreprocess * pp, gint w, gint h)
{
  GstImgRecConverterSlot *victim = &pp->slots[0];
  guint i;

  pp->tick++;
  for (i = 0; i < GST_IMGREC_CONVERTER_CACHE_SIZE; i++) {
    GstImgRecConverterSlot *slot = &pp->slots[i];
    if (slot->convert && slot->width == w && slot->height == h) {
      slot->last_use = pp->tick;
      return slot->convert;
    }
    if (slot->convert == NULL || slot->last_use < victim->last_use)
      victim = slot;
    if (slot->convert == NULL)
      break;
  }
  if (victim->convert)
    gst_video_converter_free (victim->convert);
  victim->convert = create_converter (pp, w, h);
  victim->width = victim->convert ? w : 0;
  victim->height = victim->convert ? h : 0;
  victim->last_use = pp->tick;
  return victim->convert;
}

static void
clear_input (GstImgRecPreprocess * pp)
{
  clear_slots (pp);
  if (pp->to_model)
    gst_video_converter_free (pp->to_model);
  pp->to_model = NULL;
  if (pp->mid_frame_mapped)
    gst_video_frame_unmap (&pp->mid_frame);
  pp->mid_frame_mapped = FALSE;
  gst_clear_buffer (&pp->mid_buffer);
  gst_clear_buffer (&pp->region_buffer);
  pp->have_in_info = FALSE;
}

gboolean
gst_imgrec_preprocess_set_input (GstImgRecPreprocess * pp,
    const GstVideoInfo * in_info, GError ** error)
{
  const GstVideoFormatInfo *finfo = in_info->finfo;
  GstVideoInfo mid_info;
  guint c, ws = 0, hs = 0;

  clear_input (pp);
  pp->in_info = *in_info;
  for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    ws = MAX (ws, GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c));
    hs = MAX (hs, GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c));
  }
  pp->x_align = 1 << ws;
  pp->y_align = 1 << hs;

  /* The model-size image in the input's own format: scaling within one
   * format takes GstVideoConverter's per-plane fast path, which costs a
   * fraction of scaling while converting. */
  gst_video_info_set_format (&pp->mid_info, GST_VIDEO_INFO_FORMAT (in_info),
      pp->width, pp->height);
  pp->mid_info.colorimetry = in_info->colorimetry;
  pp->mid_info.chroma_site = in_info->chroma_site;
  pp->mid_info.fps_n = in_info->fps_n;
  pp->mid_info.fps_d = in_info->fps_d;
  pp->mid_buffer = gst_buffer_new_allocate (NULL,
      GST_VIDEO_INFO_SIZE (&pp->mid_info), NULL);
  if (pp->mid_buffer == NULL || !gst_video_frame_map (&pp->mid_frame,
          &pp->mid_info, pp->mid_buffer, GST_MAP_READWRITE))
    goto failed;
  pp->mid_frame_mapped = TRUE;

  mid_info = pp->mid_info;
  {
    GstVideoInfo model_info = pp->model_info;
    model_info.fps_n = mid_info.fps_n;
    model_info.fps_d = mid_info.fps_d;
    pp->to_model = gst_video_converter_new (&mid_info, &model_info,
        gst_structure_new ("GstVideoConverter",
            GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
            GST_VIDEO_DITHER_NONE, NULL));
  }
  pp->have_in_info = TRUE;

  /* The whole-frame converter is made now so the first frame does not pay
   * for it. */
  if (pp->to_model == NULL || get_converter (pp, GST_VIDEO_INFO_WIDTH (in_info),
          GST_VIDEO_INFO_HEIGHT (in_info)) == NULL)
    goto failed;
  return TRUE;

failed:
  g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
      "Cannot convert %s %dx%d video to the model's %dx%d %s input.",
      gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (in_info)),
      GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info),
      pp->width, pp->height,
      gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&pp->model_info)));
  clear_input (pp);
  return FALSE;
}

/* Clips a region to the frame and moves its origin onto the chroma grid
 * (growing it by what the origin moved). FALSE when nothing is left. */
gboolean
gst_imgrec_preprocess_clip_region (const GstImgRecPreprocess * pp,
    const GstVideoRectangle * region, GstVideoRectangle * clipped)
{
  gint fw = GST_VIDEO_INFO_WIDTH (&pp->in_info);
  gint fh = GST_VIDEO_INFO_HEIGHT (&pp->in_info);
  gint x0 = CLAMP (region->x, 0, fw), y0 = CLAMP (region->y, 0, fh);
  gint x1 = CLAMP ((gint64) region->x + region->w, 0, fw);
  gint y1 = CLAMP ((gint64) region->y + region->h, 0, fh);

  x0 -= x0 % pp->x_align;
  y0 -= y0 % pp->y_align;
  if (x1 <= x0 || y1 <= y0)
    return FALSE;
  clipped->x = x0;
  clipped->y = y0;
  clipped->w = x1 - x0;
  clipped->h = y1 - y0;
  return TRUE;
}

static void
fill_tensor (GstImgRecPreprocess * pp)
{
  const guint8 *base = GST_VIDEO_FRAME_PLANE_DATA (&pp->model_frame, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&pp->model_frame, 0);
  gint W = pp->width, H = pp->height, C = pp->channels;
  gint x, y;

  if (pp->layout == GST_IMGREC_LAYOUT_NHWC) {
    for (y = 0; y < H; y++) {
      const guint8 *row = base + (gsize) y * stride;
      gfloat *out = pp->tensor + (gsize) y * W * C;
      if (C == 3) {
        for (x = 0; x < W; x++) {
          out[3 * x] = pp->lut[0][row[3 * x]];
          out[3 * x + 1] = pp->lut[1][row[3 * x + 1]];
          out[3 * x + 2] = pp->lut[2][row[3 * x + 2]];
        }
      } else {
        for (x = 0; x < W; x++)
          out[x] = pp->lut[0][row[x]];
      }
    }
    return;
  }

  for (y = 0; y < H; y++) {
    const guint8 *row = base + (gsize) y * stride;
    gsize plane = (gsize) W * H;
    gfloat *out = pp->tensor + (gsize) y * W;
    if (C == 3) {
      for (x = 0; x < W; x++) {
        out[x] = pp->lut[0][row[3 * x]];
        out[plane + x] = pp->lut[1][row[3 * x + 1]];
        out[2 * plane + x] = pp->lut[2][row[3 * x + 2]];
      }
    } else {
      for (x = 0; x < W; x++)
        out[x] = pp->lut[0][row[x]];
    }
  }
}

static gboolean
convert_into_model_frame (GstImgRecPreprocess * pp, const GstVideoFrame * src)
{
  gint w = GST_VIDEO_FRAME_WIDTH (src), h = GST_VIDEO_FRAME_HEIGHT (src);
  GstVideoConverter *convert;

  if (h == 1) {
    /* GStreamer 1.22's converter repeats its first output for every later
     * frame of a one-line source, whatever the resampler: use a fresh one. */
    convert = create_converter (pp, w, h);
    if (convert == NULL)
      return FALSE;
    gst_video_converter_frame (convert, src, &pp->mid_frame);
    gst_video_converter_free (convert);
  } else {
    convert = get_converter (pp, w, h);
    if (convert == NULL)
      return FALSE;
    gst_video_converter_frame (convert, src, &pp->mid_frame);
  }
  gst_video_converter_frame (pp->to_model, &pp->mid_frame, &pp->model_frame);
  fill_tensor (pp);
  return TRUE;
}

/* Copies the sub-frame `sub` into pp->region_buffer, every plane and row
 * starting on a 32-byte boundary, and maps it as `copy`. */
static gboolean
copy_region (GstImgRecPreprocess * pp, const GstVideoFrame * sub,
    GstVideoFrame * copy)
{
  GstVideoInfo info;
  GstVideoAlignment align;
  guint i;

  gst_video_info_set_format (&info, GST_VIDEO_INFO_FORMAT (&sub->info),
      GST_VIDEO_INFO_WIDTH (&sub->info), GST_VIDEO_INFO_HEIGHT (&sub->info));
  info.colorimetry = sub->info.colorimetry;
  info.chroma_site = sub->info.chroma_site;
  info.fps_n = sub->info.fps_n;
  info.fps_d = sub->info.fps_d;
  gst_video_alignment_reset (&align);
  for (i = 0; i < GST_VIDEO_MAX_PLANES; i++)
    align.stride_align[i] = 31;
  if (!gst_video_info_align (&info, &align))
    return FALSE;
  if (pp->region_buffer == NULL
      || gst_buffer_get_size (pp->region_buffer) < info.size) {
    GstAllocationParams params;

    gst_allocation_params_init (&params);
    params.align = 31;
    gst_clear_buffer (&pp->region_buffer);
    pp->region_buffer = gst_buffer_new_allocate (NULL, info.size, &params);
    if (pp->region_buffer == NULL)
      return FALSE;
  }
  if (!gst_video_frame_map (copy, &info, pp->region_buffer, GST_MAP_WRITE))
    return FALSE;
  if (!gst_video_frame_copy (copy, sub)) {
    gst_video_frame_unmap (copy);
    return FALSE;
  }
  return TRUE;
}

/* Converts `region` (already clipped; NULL = the whole frame) of `frame`
 * into pp->tensor. */
gboolean
gst_imgrec_preprocess_run (GstImgRecPreprocess * pp,
    const GstVideoFrame * frame, const GstVideoRectangle * region)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  GstVideoFrame sub, copy;
  gboolean ok;
  guint c;

  g_return_val_if_fail (pp->have_in_info, FALSE);

  if (region == NULL)
    return convert_into_model_frame (pp, frame);

  /* A region is a sub-frame: the same strides, data pointers moved to the
   * region's origin (on the chroma grid, see clip_region), a smaller size. */
  sub = *frame;
  sub.info.width = region->w;
  sub.info.height = region->h;
  for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    guint plane = GST_VIDEO_FORMAT_INFO_PLANE (finfo, c);
    gsize offset =
        (gsize) (region->y >> GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c)) *
        GST_VIDEO_FRAME_PLANE_STRIDE (frame, plane) +
        (gsize) (region->x >> GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c)) *
        GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, c);
    sub.data[plane] = (guint8 *) frame->data[plane] + offset;
  }
  /* GStreamer 1.22's scaler (ORC code) reads some source lines with aligned
   * SSE loads, which fault on planes that start at an odd offset, e.g. an
   * I420 region at x = 894, 63 px wide (chroma from byte 447): scale an
   * aligned copy of the region instead (a few kB per region). */
  if (!copy_region (pp, &sub, &copy))
    return FALSE;
  ok = convert_into_model_frame (pp, &copy);
  gst_video_frame_unmap (&copy);
  return ok;
}

void
gst_imgrec_preprocess_clear (GstImgRecPreprocess * pp)
{
  clear_input (pp);
  if (pp->model_frame_mapped)
    gst_video_frame_unmap (&pp->model_frame);
  gst_clear_buffer (&pp->model_buffer);
  g_free (pp->tensor);
  memset (pp, 0, sizeof (*pp));
}

GstStructure *
gst_imgrec_scaler_config (gint src_height, GstVideoResamplerMethod method,
    guint threads)
{
  GstStructure *config = gst_structure_new ("GstVideoConverter",
      GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD, GST_TYPE_VIDEO_RESAMPLER_METHOD,
      src_height < 3 ? GST_VIDEO_RESAMPLER_METHOD_NEAREST : method,
      GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
      GST_VIDEO_DITHER_NONE, NULL);

  if (threads > 0)
    gst_structure_set (config, GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT,
        threads, NULL);
  return config;
}
