/* imgrecoverlay: draws imgrec results on the video.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrecoverlay
 * @title: imgrecoverlay
 *
 * Draws every imgrec result of a frame onto it: the label and confidence of
 * each classification, the rectangle of the region it describes (regions
 * other than the whole frame), in a colour derived from the name of the
 * element that produced the result, so results of different classifiers are
 * told apart.  Labels of whole-frame results are stacked in the corner set
 * by #GstImgRecOverlay:position; labels of regions sit on the region's top
 * edge.  Carried-over results (inference-interval, QoS) are drawn like fresh
 * ones unless #GstImgRecOverlay:show-carried is off.
 * GAN results (#GstImgRecGanMeta) read `synthetic: LABEL` on frames from
 * imgrecgansrc, `realism 87%` (prefixed `ANOMALY` in the anomaly state) for
 * imgrecgan mode=discriminate and `restored (blend B)` for mode=generate.
 * Sequence results (#GstImgRecSequenceMeta, imgrecseq) read `LABEL 87%
 * [12]`, the number being the frames the state has seen since its reset.
 * Detections (#GstImgRecDetectionMeta, imgrecdetect) draw their box with
 * `LABEL 87%` on its top edge; tracks (#GstImgRecTrackMeta, imgrectrack)
 * draw their box in the tracker's colour with `#ID` inside its bottom edge
 * (`#ID ~` for a box predicted on a frame without detections; those are
 * carried results, hidden when #GstImgRecOverlay:show-carried is off).
 * #GstImgRecOverlay:min-confidence compares the confidence of
 * classifications, sequence results and detections; GAN results and tracks
 * have none and are always drawn.
 *
 * Text is rendered with pango/cairo into small ARGB rectangles that are
 * blended straight onto the frame (#GstVideoOverlayComposition), so RGB
 * formats, I420 and NV12 are drawn on without converting the frame.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *     imgrecclassify model=model.onnx ! imgrecoverlay font-size=24 ! \
 *     videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecoverlay.h"
#include "gstimgrecmeta.h"
#include "gstimgrecresultkind.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_overlay_debug);
#define GST_CAT_DEFAULT gst_imgrec_overlay_debug

#define DEFAULT_FONT_SIZE 0
#define DEFAULT_SHOW (GST_IMGREC_OVERLAY_SHOW_LABEL | \
    GST_IMGREC_OVERLAY_SHOW_CONFIDENCE | GST_IMGREC_OVERLAY_SHOW_BOX)
#define DEFAULT_POSITION GST_IMGREC_OVERLAY_POSITION_TOP_LEFT
#define DEFAULT_SHOW_CARRIED TRUE
#define DEFAULT_MIN_CONFIDENCE 0.0

enum
{
  PROP_0,
  PROP_FONT_SIZE,
  PROP_SHOW,
  PROP_POSITION,
  PROP_SHOW_CARRIED,
  PROP_MIN_CONFIDENCE,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

#define VIDEO_FORMATS "{ RGB, BGR, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, " \
    "xRGB, xBGR, I420, YV12, NV12, NV21, GRAY8 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

#define gst_imgrec_overlay_parent_class parent_class
G_DEFINE_TYPE (GstImgRecOverlay, gst_imgrec_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (imgrecoverlay, "imgrecoverlay", GST_RANK_NONE,
    GST_TYPE_IMGREC_OVERLAY);

static GType
gst_imgrec_overlay_show_get_type (void)
{
  static GType type = 0;
  static const GFlagsValue values[] = {
    {GST_IMGREC_OVERLAY_SHOW_LABEL, "The decided label", "label"},
    {GST_IMGREC_OVERLAY_SHOW_CONFIDENCE, "Its confidence in percent",
        "confidence"},
    {GST_IMGREC_OVERLAY_SHOW_BOX, "The rectangle of each region", "box"},
    {GST_IMGREC_OVERLAY_SHOW_TOP_K, "All ranked classes, one per line",
        "top-k"},
    {GST_IMGREC_OVERLAY_SHOW_MODEL, "The model name", "model"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_flags_register_static ("GstImgRecOverlayShow", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GType
gst_imgrec_overlay_position_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_OVERLAY_POSITION_TOP_LEFT, "Top left corner", "top-left"},
    {GST_IMGREC_OVERLAY_POSITION_TOP_RIGHT, "Top right corner", "top-right"},
    {GST_IMGREC_OVERLAY_POSITION_BOTTOM_LEFT, "Bottom left corner",
        "bottom-left"},
    {GST_IMGREC_OVERLAY_POSITION_BOTTOM_RIGHT, "Bottom right corner",
        "bottom-right"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecOverlayPosition", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* Per-element colours (opaque ARGB). */
static const guint32 palette[] = {
  0xffe6194b, 0xff3cb44b, 0xff4363d8, 0xfff58231, 0xff911eb4, 0xff42d4f4,
  0xfff032e6, 0xffbfef45,
};

static guint32
element_colour (const gchar * element)
{
  return palette[(element ? g_str_hash (element) : 0) % G_N_ELEMENTS (palette)];
}

/* A w x h premultiplied-ARGB buffer (in the overlay's native byte order)
 * with a cairo surface on its memory; the caller draws, then calls
 * finish_pixels. */
static GstBuffer *
new_pixels (gint w, gint h, GstMapInfo * map, cairo_surface_t ** surface)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, (gsize) w * h * 4, NULL);

  gst_buffer_add_video_meta (buf, GST_VIDEO_FRAME_FLAG_NONE,
      GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, w, h);
  gst_buffer_map (buf, map, GST_MAP_READWRITE);
  memset (map->data, 0, map->size);
  *surface = cairo_image_surface_create_for_data (map->data,
      CAIRO_FORMAT_ARGB32, w, h, w * 4);
  return buf;
}

static void
finish_pixels (GstBuffer * buf, GstMapInfo * map, cairo_surface_t * surface)
{
  cairo_surface_flush (surface);
  cairo_surface_destroy (surface);
  gst_buffer_unmap (buf, map);
}

static void
add_rectangle (GstVideoOverlayComposition ** comp, GstBuffer * pixels,
    gint x, gint y, gint w, gint h)
{
  GstVideoOverlayRectangle *rect = gst_video_overlay_rectangle_new_raw (pixels,
      x, y, w, h, GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);

  if (*comp == NULL)
    *comp = gst_video_overlay_composition_new (rect);
  else
    gst_video_overlay_composition_add_rectangle (*comp, rect);
  gst_video_overlay_rectangle_unref (rect);
  gst_buffer_unref (pixels);
}

static void
set_source_argb (cairo_t * cr, guint32 argb, gdouble alpha)
{
  cairo_set_source_rgba (cr, ((argb >> 16) & 0xff) / 255.0,
      ((argb >> 8) & 0xff) / 255.0, (argb & 0xff) / 255.0, alpha);
}

/* A solid rectangle (for box edges). */
static void
add_solid (GstVideoOverlayComposition ** comp, guint32 argb, gint x, gint y,
    gint w, gint h)
{
  GstMapInfo map;
  cairo_surface_t *surface;
  GstBuffer *buf;
  cairo_t *cr;

  if (w <= 0 || h <= 0)
    return;
  buf = new_pixels (w, h, &map, &surface);
  cr = cairo_create (surface);
  set_source_argb (cr, argb, 1.0);
  cairo_paint (cr);
  cairo_destroy (cr);
  finish_pixels (buf, &map, surface);
  add_rectangle (comp, buf, x, y, w, h);
}

static void
ensure_layout (GstImgRecOverlay * self, guint font_px)
{
  PangoFontDescription *desc;

  if (self->layout && self->layout_font_px == font_px)
    return;
  if (self->layout == NULL) {
    self->measure_surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32,
        1, 1);
    self->measure_cr = cairo_create (self->measure_surface);
    self->layout = pango_cairo_create_layout (self->measure_cr);
  }
  desc = pango_font_description_from_string ("Sans Bold");
  pango_font_description_set_absolute_size (desc, font_px * PANGO_SCALE);
  pango_layout_set_font_description (self->layout, desc);
  pango_font_description_free (desc);
  self->layout_font_px = font_px;
}

static gchar *
result_text (GstMeta * meta, const GstImgRecResultKind * kind,
    GstImgRecOverlayShow show)
{
  GstImgRecResultInfo *info = gst_imgrec_meta_get_result_info (meta);
  GstImgRecTextParts parts = 0;
  GString *s = g_string_new (NULL);

  if (show & GST_IMGREC_OVERLAY_SHOW_MODEL && info->model)
    g_string_append_printf (s, "%s: ", info->model);
  if (show & GST_IMGREC_OVERLAY_SHOW_LABEL)
    parts |= GST_IMGREC_TEXT_LABEL;
  if (show & GST_IMGREC_OVERLAY_SHOW_CONFIDENCE)
    parts |= GST_IMGREC_TEXT_CONFIDENCE;
  if (show & GST_IMGREC_OVERLAY_SHOW_TOP_K)
    parts |= GST_IMGREC_TEXT_TOP_K;
  if (kind)
    kind->append_text (s, meta, parts);
  return g_string_free (s, FALSE);
}

static GstFlowReturn
gst_imgrec_overlay_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstImgRecOverlay *self = GST_IMGREC_OVERLAY (filter);
  GstVideoOverlayComposition *comp = NULL;
  gint fw = GST_VIDEO_FRAME_WIDTH (frame), fh = GST_VIDEO_FRAME_HEIGHT (frame);
  GstImgRecOverlayShow show;
  GstImgRecOverlayPosition position;
  gboolean show_carried;
  gdouble min_confidence;
  guint font_px;
  gint corner_offset = 0;
  GstMeta *meta;
  gpointer state = NULL;

  GST_OBJECT_LOCK (self);
  show = self->show;
  position = self->position;
  show_carried = self->show_carried;
  min_confidence = self->min_confidence;
  font_px = self->font_size ? self->font_size : CLAMP (fh / 30, 10, 48);
  GST_OBJECT_UNLOCK (self);
  ensure_layout (self, font_px);

  while ((meta = gst_buffer_iterate_meta (frame->buffer, &state))) {
    GstImgRecResultInfo *info;
    const GstImgRecResultKind *kind;
    guint32 colour;
    gboolean whole;
    gchar *text;
    gint pad = MAX (2, (gint) font_px / 5), t = MAX (2, (gint) font_px / 8);
    gint tw, th, lw, lh, lx, ly;

    if (!gst_imgrec_meta_is_result (meta))
      continue;
    info = gst_imgrec_meta_get_result_info (meta);
    if (!show_carried && (info->flags & GST_IMGREC_RESULT_FLAG_CARRIED))
      continue;
    kind = gst_imgrec_result_kind_lookup (meta);
    if (gst_imgrec_result_kind_confidence (meta) < min_confidence)
      continue;
    colour = element_colour (info->element);
    whole = info->x <= 0 && info->y <= 0 && (gint) info->width >= fw
        && (gint) info->height >= fh;

    if (!whole && (show & GST_IMGREC_OVERLAY_SHOW_BOX)) {
      gint x = CLAMP (info->x, 0, fw), y = CLAMP (info->y, 0, fh);
      gint x1 = CLAMP ((gint64) info->x + info->width, 0, fw);
      gint y1 = CLAMP ((gint64) info->y + info->height, 0, fh);
      gint bt = MIN (t, MIN (x1 - x, y1 - y));
      add_solid (&comp, colour, x, y, x1 - x, bt);
      add_solid (&comp, colour, x, y1 - bt, x1 - x, bt);
      add_solid (&comp, colour, x, y, bt, y1 - y);
      add_solid (&comp, colour, x1 - bt, y, bt, y1 - y);
    }

    text = result_text (meta, kind, show);
    if (*text) {
      GstMapInfo map;
      cairo_surface_t *surface;
      GstBuffer *buf;
      cairo_t *cr;

      pango_layout_set_text (self->layout, text, -1);
      pango_layout_get_pixel_size (self->layout, &tw, &th);
      lw = tw + 2 * pad;
      lh = th + 2 * pad;
      if (whole) {
        gboolean right = position == GST_IMGREC_OVERLAY_POSITION_TOP_RIGHT ||
            position == GST_IMGREC_OVERLAY_POSITION_BOTTOM_RIGHT;
        gboolean bottom = position >= GST_IMGREC_OVERLAY_POSITION_BOTTOM_LEFT;
        lx = right ? fw - lw : 0;
        ly = bottom ? fh - lh - corner_offset : corner_offset;
        corner_offset += lh;
      } else if (kind && kind->label_place == GST_IMGREC_LABEL_INSIDE_BOTTOM) {
        /* e.g. a track's id: the detection's label is above the same box */
        gint y1 = (gint) MIN ((gint64) info->y + info->height, fh);
        lx = info->x;
        ly = y1 - lh >= info->y ? y1 - lh : y1;
      } else {
        lx = info->x;
        ly = info->y >= lh ? info->y - lh : info->y;
      }
      lx = MAX (0, MIN (lx, fw - lw));
      ly = MAX (0, ly);

      buf = new_pixels (lw, lh, &map, &surface);
      cr = cairo_create (surface);
      set_source_argb (cr, colour, 0.75);
      cairo_paint (cr);
      cairo_move_to (cr, pad, pad);
      cairo_set_source_rgb (cr, 1, 1, 1);
      pango_cairo_update_layout (cr, self->layout);
      pango_cairo_show_layout (cr, self->layout);
      cairo_destroy (cr);
      finish_pixels (buf, &map, surface);
      add_rectangle (&comp, buf, lx, ly, lw, lh);
    }
    g_free (text);
  }

  if (comp) {
    if (!gst_video_overlay_composition_blend (comp, frame))
      GST_WARNING_OBJECT (self, "could not blend onto %s",
          gst_video_format_to_string (GST_VIDEO_FRAME_FORMAT (frame)));
    gst_video_overlay_composition_unref (comp);
  }
  return GST_FLOW_OK;
}

static gboolean
gst_imgrec_overlay_stop (GstBaseTransform * trans)
{
  GstImgRecOverlay *self = GST_IMGREC_OVERLAY (trans);

  g_clear_object (&self->layout);
  g_clear_pointer (&self->measure_cr, cairo_destroy);
  g_clear_pointer (&self->measure_surface, cairo_surface_destroy);
  self->layout_font_px = 0;
  return TRUE;
}

static void
gst_imgrec_overlay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecOverlay *self = GST_IMGREC_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_FONT_SIZE:
      self->font_size = g_value_get_uint (value);
      break;
    case PROP_SHOW:
      self->show = g_value_get_flags (value);
      break;
    case PROP_POSITION:
      self->position = g_value_get_enum (value);
      break;
    case PROP_SHOW_CARRIED:
      self->show_carried = g_value_get_boolean (value);
      break;
    case PROP_MIN_CONFIDENCE:
      self->min_confidence = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_overlay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstImgRecOverlay *self = GST_IMGREC_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_FONT_SIZE:
      g_value_set_uint (value, self->font_size);
      break;
    case PROP_SHOW:
      g_value_set_flags (value, self->show);
      break;
    case PROP_POSITION:
      g_value_set_enum (value, self->position);
      break;
    case PROP_SHOW_CARRIED:
      g_value_set_boolean (value, self->show_carried);
      break;
    case PROP_MIN_CONFIDENCE:
      g_value_set_double (value, self->min_confidence);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_overlay_finalize (GObject * object)
{
  gst_imgrec_overlay_stop (GST_BASE_TRANSFORM (object));
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_imgrec_overlay_class_init (GstImgRecOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_overlay_debug, "imgrecoverlay", 0,
      "imgrec result overlay");

  gobject_class->set_property = gst_imgrec_overlay_set_property;
  gobject_class->get_property = gst_imgrec_overlay_get_property;
  gobject_class->finalize = gst_imgrec_overlay_finalize;

  properties[PROP_FONT_SIZE] = g_param_spec_uint ("font-size", "Font size",
      "Text height in pixels (0 = 1/30 of the frame height, 10 to 48)", 0, 512,
      DEFAULT_FONT_SIZE, rw);
  properties[PROP_SHOW] = g_param_spec_flags ("show", "Show",
      "What to draw for each result", gst_imgrec_overlay_show_get_type (),
      DEFAULT_SHOW, rw);
  properties[PROP_POSITION] = g_param_spec_enum ("position", "Position",
      "Corner where the labels of whole-frame results are stacked",
      gst_imgrec_overlay_position_get_type (), DEFAULT_POSITION, rw);
  properties[PROP_SHOW_CARRIED] = g_param_spec_boolean ("show-carried",
      "Show carried results", "Also draw results carried over from an "
      "earlier frame", DEFAULT_SHOW_CARRIED, rw);
  properties[PROP_MIN_CONFIDENCE] = g_param_spec_double ("min-confidence",
      "Minimum confidence", "Draw only results at least this confident",
      0.0, 1.0, DEFAULT_MIN_CONFIDENCE, rw);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);

  gst_element_class_set_static_metadata (element_class,
      "imgrec result overlay", "Filter/Editor/Video",
      "Draws imgrec results (labels, confidences, regions) on the video",
      "imgrec project");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->stop = GST_DEBUG_FUNCPTR (gst_imgrec_overlay_stop);
  filter_class->transform_frame_ip =
      GST_DEBUG_FUNCPTR (gst_imgrec_overlay_transform_frame_ip);

  gst_type_mark_as_plugin_api (gst_imgrec_overlay_show_get_type (), 0);
  gst_type_mark_as_plugin_api (gst_imgrec_overlay_position_get_type (), 0);
}

static void
gst_imgrec_overlay_init (GstImgRecOverlay * self)
{
  self->font_size = DEFAULT_FONT_SIZE;
  self->show = DEFAULT_SHOW;
  self->position = DEFAULT_POSITION;
  self->show_carried = DEFAULT_SHOW_CARRIED;
  self->min_confidence = DEFAULT_MIN_CONFIDENCE;
  /* drawing needs every frame, late or not */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}
