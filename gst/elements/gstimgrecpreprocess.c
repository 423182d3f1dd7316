/* Pre-processing for imgrec inference elements.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstimgrecpreprocess.h"

#include <math.h>
#include <string.h>

gboolean
gst_imgrec_preprocess_init (GstImgRecPreprocess * pp,
    const GstImgRecModelConfig * cfg, guint threads, GError ** error)
{
  GstVideoFormat format;
  gint c, v;

  memset (pp, 0, sizeof (*pp));
  pp->width = cfg->width;
  pp->height = cfg->height;
  pp->channels = cfg->channels;
  pp->layout = cfg->layout;
  pp->resize = cfg->resize;
  pp->threads = threads;

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

/* A converter from a src_w x src_h region of the input format to the model
 * image, placing the picture as the resize mode says. */
static GstVideoConverter *
create_converter (GstImgRecPreprocess * pp, gint src_w, gint src_h)
{
  GstVideoInfo src_info = pp->in_info;
  GstVideoInfo dst_info = pp->model_info;
  gint sx = 0, sy = 0, sw = src_w, sh = src_h;
  gint dx = 0, dy = 0, dw = pp->width, dh = pp->height;
  GstStructure *config;

  src_info.width = src_w;
  src_info.height = src_h;
  /* Analysis treats every frame as one progressive picture; the converter
   * wants matching rates and interlacing on both sides. */
  src_info.interlace_mode = GST_VIDEO_INTERLACE_MODE_PROGRESSIVE;
  dst_info.fps_n = src_info.fps_n;
  dst_info.fps_d = src_info.fps_d;

  if (pp->resize == GST_IMGREC_RESIZE_LETTERBOX) {
    gdouble s = MIN ((gdouble) pp->width / src_w, (gdouble) pp->height / src_h);
    dw = CLAMP ((gint) lround (src_w * s), 1, pp->width);
    dh = CLAMP ((gint) lround (src_h * s), 1, pp->height);
    dx = (pp->width - dw) / 2;
    dy = (pp->height - dh) / 2;
  } else if (pp->resize == GST_IMGREC_RESIZE_CENTER_CROP) {
    gdouble s = MAX ((gdouble) pp->width / src_w, (gdouble) pp->height / src_h);
    sw = CLAMP ((gint) lround (pp->width / s), 1, src_w);
    sh = CLAMP ((gint) lround (pp->height / s), 1, src_h);
    sx = (src_w - sw) / 2;
    sy = (src_h - sh) / 2;
  }

  config = gst_structure_new ("GstVideoConverter",
      GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD, GST_TYPE_VIDEO_RESAMPLER_METHOD,
      GST_VIDEO_RESAMPLER_METHOD_LINEAR,
      GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
      GST_VIDEO_DITHER_NONE,
      GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT, pp->threads,
      GST_VIDEO_CONVERTER_OPT_SRC_X, G_TYPE_INT, sx,
      GST_VIDEO_CONVERTER_OPT_SRC_Y, G_TYPE_INT, sy,
      GST_VIDEO_CONVERTER_OPT_SRC_WIDTH, G_TYPE_INT, sw,
      GST_VIDEO_CONVERTER_OPT_SRC_HEIGHT, G_TYPE_INT, sh,
      GST_VIDEO_CONVERTER_OPT_DEST_X, G_TYPE_INT, dx,
      GST_VIDEO_CONVERTER_OPT_DEST_Y, G_TYPE_INT, dy,
      GST_VIDEO_CONVERTER_OPT_DEST_WIDTH, G_TYPE_INT, dw,
      GST_VIDEO_CONVERTER_OPT_DEST_HEIGHT, G_TYPE_INT, dh,
      GST_VIDEO_CONVERTER_OPT_FILL_BORDER, G_TYPE_BOOLEAN, TRUE,
      GST_VIDEO_CONVERTER_OPT_BORDER_ARGB, G_TYPE_UINT, 0xff000000u, NULL);
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

gboolean
gst_imgrec_preprocess_set_input (GstImgRecPreprocess * pp,
    const GstVideoInfo * in_info, GError ** error)
{
  const GstVideoFormatInfo *finfo = in_info->finfo;
  guint c, ws = 0, hs = 0;

  clear_slots (pp);
  pp->in_info = *in_info;
  pp->have_in_info = TRUE;
  for (c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS (finfo); c++) {
    ws = MAX (ws, GST_VIDEO_FORMAT_INFO_W_SUB (finfo, c));
    hs = MAX (hs, GST_VIDEO_FORMAT_INFO_H_SUB (finfo, c));
  }
  pp->x_align = 1 << ws;
  pp->y_align = 1 << hs;

  /* The whole-frame converter is made now so the first frame does not pay
   * for it. */
  if (get_converter (pp, GST_VIDEO_INFO_WIDTH (in_info),
          GST_VIDEO_INFO_HEIGHT (in_info)) == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "Cannot convert %s %dx%d video to the model's %dx%d %s input.",
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (in_info)),
        GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info),
        pp->width, pp->height,
        gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&pp->model_info)));
    return FALSE;
  }
  return TRUE;
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

/* Converts `region` (already clipped; NULL = the whole frame) of `frame`
 * into pp->tensor. */
gboolean
gst_imgrec_preprocess_run (GstImgRecPreprocess * pp,
    const GstVideoFrame * frame, const GstVideoRectangle * region)
{
  const GstVideoFormatInfo *finfo = frame->info.finfo;
  GstVideoConverter *convert;
  GstVideoFrame sub;
  guint c;

  g_return_val_if_fail (pp->have_in_info, FALSE);

  if (region == NULL) {
    convert = get_converter (pp, GST_VIDEO_FRAME_WIDTH (frame),
        GST_VIDEO_FRAME_HEIGHT (frame));
    if (convert == NULL)
      return FALSE;
    gst_video_converter_frame (convert, frame, &pp->model_frame);
    fill_tensor (pp);
    return TRUE;
  }

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
  convert = get_converter (pp, region->w, region->h);
  if (convert == NULL)
    return FALSE;
  gst_video_converter_frame (convert, &sub, &pp->model_frame);
  fill_tensor (pp);
  return TRUE;
}

void
gst_imgrec_preprocess_clear (GstImgRecPreprocess * pp)
{
  clear_slots (pp);
  if (pp->model_frame_mapped)
    gst_video_frame_unmap (&pp->model_frame);
  gst_clear_buffer (&pp->model_buffer);
  g_free (pp->tensor);
  memset (pp, 0, sizeof (*pp));
}
