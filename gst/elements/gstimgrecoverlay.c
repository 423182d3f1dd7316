/* imgrecoverlay: draws imgrec results on the video.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrecoverlay
 * @title: imgrecoverlay
 *
 * Draws every imgrec result of a frame onto it, one line of text per
 * result: the label and confidence of each classification, detection and
 * sequence result, a track's id, a GAN's note.  The results of one region
 * (one ROI id; for results without one, one rectangle) form one label
 * block, its lines always in the same order:
 *
 * 1. the track (#GstImgRecTrackMeta, imgrectrack): `#ID`, or `#ID ~` for a
 *    box predicted on a frame without detections (a carried result);
 * 2. the detection (#GstImgRecDetectionMeta, imgrecdetect): `LABEL 87%`;
 * 3. the per-frame classification (imgrecclassify): `LABEL 87%`, or one
 *    line per ranked class with `show=top-k`;
 * 4. the sequence result (#GstImgRecSequenceMeta, imgrecseq, e.g. a
 *    CNN-RNN): `LABEL 87% [12]`, the number being the frames its state has
 *    seen since its reset;
 * 5. the GAN's (#GstImgRecGanMeta): `restored (blend B)` for imgrecgan
 *    mode=generate, `realism 87%` (prefixed `ANOMALY` in the anomaly state)
 *    for mode=discriminate, `synthetic: LABEL` on frames from imgrecgansrc.
 *
 * Each line starts with a swatch in a colour derived from the name of the
 * element that produced it, so results of different elements are told
 * apart; the block's background is dark and translucent, its text white.
 * The region's rectangle is drawn once, in the colour of its block's first
 * line (the tracker's for a tracked object).  A block sits on its region's
 * top edge, or below the region when there is no room above; it is kept
 * inside the frame and, greedily in the buffer's order of regions, moved
 * clear of the blocks placed before it where there is room (stacked over or
 * under them, or beside them).  The whole-frame results form one block in
 * the corner set by #GstImgRecOverlay:position.
 *
 * **Camera alarm.**  While the whole frame of imgrecgan mode=discriminate
 * is in the anomaly state (its #GstImgRecGanMeta's `anomaly`), a red banner
 * across the top of the frame says why: `CAMERA ALARM: realism 17% (MODEL)`
 * for the realism check, `CAMERA ALARM: lens defocused (sharpness 9% of
 * usual)` for the defocus check, both joined by `; `; the corner block and
 * the regions' blocks stay clear of it.  No banner on other frames, nor for the anomaly of a
 * region (that shows as its `ANOMALY` line).
 *
 * Carried-over results (inference-interval, QoS) are drawn like fresh
 * ones unless #GstImgRecOverlay:show-carried is off.
 * #GstImgRecOverlay:min-confidence compares the confidence of
 * classifications, sequence results and detections; GAN results and tracks
 * have none and are always drawn.
 *
 * Text is rendered with pango/cairo into small ARGB rectangles that are
 * blended straight onto the frame (#GstVideoOverlayComposition), so RGB
 * formats, I420 and NV12 are drawn on without converting the frame.  A line
 * wider than the frame is cut with an ellipsis.
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
#include "gstimgrecganmeta.h"
#include "gstimgrecresultkind.h"
#include "imgrec_label_layout.h"

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

/* What a frame's drawing is made of: one line per result to draw, grouped
 * by the box they describe, each group drawn as one label block.  The
 * results of one box share its ROI id (their rectangles may differ by a
 * pixel: imgrecgan mode=generate widens a region to the chroma grid), or,
 * without one, its rectangle; the whole-frame results form one group. */
typedef struct {
  gchar *text;
  guint32 colour;
  guint order;                  /* the kind's line_order */
  guint group;
  gint text_w, text_h;
} OverlayLine;

typedef struct {
  gint roi_id;
  GstVideoRectangle rect;       /* its first result's region, unclipped */
  gboolean whole;
  guint32 colour;               /* its box's: that of its first line */
  gboolean has_line;
  guint first_line, n_lines;    /* lines with text, after sorting */
  gint block_w, block_h;
} OverlayGroup;

/* The geometry of label blocks, from the font size: text padding, the
 * colour swatch before each line (the producing element's colour). */
typedef struct {
  gint pad, swatch, edge;
} OverlayMetrics;

static OverlayMetrics
overlay_metrics (guint font_px)
{
  OverlayMetrics m;

  m.pad = MAX (2, (gint) font_px / 5);
  m.swatch = MAX (3, (gint) font_px / 4);
  m.edge = MAX (2, (gint) font_px / 8);
  return m;
}

static gboolean
is_whole_frame (const GstImgRecResultInfo * info, gint fw, gint fh)
{
  return info->x <= 0 && info->y <= 0 && (gint) info->width >= fw
      && (gint) info->height >= fh;
}

static guint
find_group (GArray * groups, const GstImgRecResultInfo * info, gboolean whole)
{
  OverlayGroup g = { 0 };
  guint i;

  for (i = 0; i < groups->len; i++) {
    OverlayGroup *o = &g_array_index (groups, OverlayGroup, i);
    if (whole || o->whole) {
      if (whole && o->whole)
        return i;
    } else if (info->roi_id >= 0 ? o->roi_id == info->roi_id
        : o->roi_id < 0 && o->rect.x == info->x && o->rect.y == info->y
        && o->rect.w == (gint) info->width
        && o->rect.h == (gint) info->height) {
      return i;
    }
  }
  g.roi_id = info->roi_id;
  g.rect.x = info->x;
  g.rect.y = info->y;
  g.rect.w = (gint) MIN (info->width, G_MAXINT);
  g.rect.h = (gint) MIN (info->height, G_MAXINT);
  g.whole = whole;
  g_array_append_val (groups, g);
  return groups->len - 1;
}

/* A whole-frame realism score in the anomaly state (imgrecgan
 * mode=discriminate): the camera alarm. */
static gboolean
is_camera_alarm (GstMeta * meta, gboolean whole)
{
  GstImgRecGanMeta *g = (GstImgRecGanMeta *) meta;

  return whole && meta->info->api == GST_IMGREC_GAN_META_API_TYPE
      && g->role == GST_IMGREC_GAN_ROLE_DISCRIMINATED && g->anomaly;
}

static void
overlay_line_clear (OverlayLine * line)
{
  g_free (line->text);
}

/* The frame's lines and their groups, in the buffer's meta order; @alarm
 * gets the reasons of the camera alarms. */
static void
collect_lines (GstBuffer * buf, gint fw, gint fh, GstImgRecOverlayShow show,
    gboolean show_carried, gdouble min_confidence, GArray * lines,
    GArray * groups, GString * alarm)
{
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta (buf, &state))) {
    GstImgRecResultInfo *info;
    const GstImgRecResultKind *kind;
    OverlayLine line = { 0 };
    gboolean whole;

    if (!gst_imgrec_meta_is_result (meta))
      continue;
    info = gst_imgrec_meta_get_result_info (meta);
    if (!show_carried && (info->flags & GST_IMGREC_RESULT_FLAG_CARRIED))
      continue;
    if (gst_imgrec_result_kind_confidence (meta) < min_confidence)
      continue;
    kind = gst_imgrec_result_kind_lookup (meta);
    whole = is_whole_frame (info, fw, fh);
    if (is_camera_alarm (meta, whole)) {
      const GstImgRecGanMeta *g = (const GstImgRecGanMeta *) meta;
      gboolean defocus = g->anomaly_reasons & GST_IMGREC_GAN_ANOMALY_DEFOCUS;

      if (defocus && g->sharpness >= 0.0f && g->sharpness_baseline > 0.0f)
        g_string_append_printf (alarm, "%slens defocused (sharpness %.0f%% "
            "of usual)", alarm->len ? "; " : "",
            100.0 * g->sharpness / g->sharpness_baseline);
      else if (defocus)
        g_string_append_printf (alarm, "%slens defocused",
            alarm->len ? "; " : "");
      /* a meta without reasons comes from the realism check */
      if (!defocus || (g->anomaly_reasons & GST_IMGREC_GAN_ANOMALY_REALISM))
        g_string_append_printf (alarm, "%srealism %.0f%%%s%s%s",
            alarm->len ? "; " : "", 100.0 * g->score,
            info->model ? " (" : "", info->model ? info->model : "",
            info->model ? ")" : "");
    }
    line.text = result_text (meta, kind, show);
    line.colour = element_colour (info->element);
    line.order = kind ? kind->line_order : G_MAXUINT;
    line.group = find_group (groups, info, whole);
    g_array_append_val (lines, line);
  }
}

static gint
compare_lines (gconstpointer a, gconstpointer b)
{
  const OverlayLine *la = a, *lb = b;

  if (la->group != lb->group)
    return la->group < lb->group ? -1 : 1;
  return la->order < lb->order ? -1 : la->order > lb->order;
}

/* Sorts the lines into their blocks (stable: results of one kind keep the
 * buffer's order) and measures each block. */
static void
measure_blocks (GstImgRecOverlay * self, const OverlayMetrics * m,
    GArray * lines, GArray * groups)
{
  guint i;

  g_array_sort (lines, compare_lines);
  for (i = 0; i < lines->len; i++) {
    OverlayLine *line = &g_array_index (lines, OverlayLine, i);
    OverlayGroup *g = &g_array_index (groups, OverlayGroup, line->group);

    if (!g->has_line)
      g->colour = line->colour;
    g->has_line = TRUE;
    if (!*line->text)
      continue;
    pango_layout_set_text (self->layout, line->text, -1);
    pango_layout_get_pixel_size (self->layout, &line->text_w, &line->text_h);
    if (g->n_lines == 0)
      g->first_line = i;
    g->n_lines = i + 1 - g->first_line;
    g->block_w = MAX (g->block_w, m->swatch + 2 * m->pad + line->text_w);
    g->block_h += line->text_h + m->pad;
  }
}

/* One block: a dark translucent background (white text reads on any
 * scene), one row per line, each starting with its element's colour. */
static GstBuffer *
render_block (GstImgRecOverlay * self, const OverlayMetrics * m,
    GArray * lines, const OverlayGroup * g)
{
  GstMapInfo map;
  cairo_surface_t *surface;
  GstBuffer *buf = new_pixels (g->block_w, g->block_h, &map, &surface);
  cairo_t *cr = cairo_create (surface);
  gint y = 0;
  guint i;

  cairo_set_source_rgba (cr, 0, 0, 0, 0.65);
  cairo_paint (cr);
  for (i = g->first_line; i < g->first_line + g->n_lines; i++) {
    const OverlayLine *line = &g_array_index (lines, OverlayLine, i);
    gint row_h = line->text_h + m->pad;

    if (!*line->text)
      continue;
    set_source_argb (cr, line->colour, 1.0);
    cairo_rectangle (cr, 0, y, m->swatch, row_h);
    cairo_fill (cr);
    pango_layout_set_text (self->layout, line->text, -1);
    cairo_move_to (cr, m->swatch + m->pad, y + m->pad / 2);
    cairo_set_source_rgb (cr, 1, 1, 1);
    pango_cairo_update_layout (cr, self->layout);
    pango_cairo_show_layout (cr, self->layout);
    y += row_h;
  }
  cairo_destroy (cr);
  finish_pixels (buf, &map, surface);
  return buf;
}

/* The camera alarm: a red bar across the top of the frame. */
static GstBuffer *
render_banner (GstImgRecOverlay * self, const OverlayMetrics * m,
    const gchar * reasons, gint fw, gint * banner_h)
{
  GstMapInfo map;
  cairo_surface_t *surface;
  GstBuffer *buf;
  cairo_t *cr;
  gchar *text = g_strdup_printf ("CAMERA ALARM: %s", reasons);
  gint th;

  /* centred, wrapped rather than cut on a narrow frame: every reason shows */
  pango_layout_set_width (self->layout, MAX (1, fw - 2 * m->pad) * PANGO_SCALE);
  pango_layout_set_ellipsize (self->layout, PANGO_ELLIPSIZE_NONE);
  pango_layout_set_alignment (self->layout, PANGO_ALIGN_CENTER);
  pango_layout_set_text (self->layout, text, -1);
  pango_layout_get_pixel_size (self->layout, NULL, &th);
  *banner_h = th + 2 * m->pad;
  buf = new_pixels (fw, *banner_h, &map, &surface);
  cr = cairo_create (surface);
  cairo_set_source_rgba (cr, 0.8, 0, 0, 0.85);
  cairo_paint (cr);
  cairo_move_to (cr, m->pad, m->pad);
  cairo_set_source_rgb (cr, 1, 1, 1);
  pango_cairo_update_layout (cr, self->layout);
  pango_cairo_show_layout (cr, self->layout);
  cairo_destroy (cr);
  finish_pixels (buf, &map, surface);
  g_free (text);
  return buf;
}

/* The four edges of a box, clipped to the frame. */
static void
add_box (GstVideoOverlayComposition ** comp, const GstVideoRectangle * r,
    guint32 colour, gint t, gint fw, gint fh)
{
  gint x = CLAMP (r->x, 0, fw), y = CLAMP (r->y, 0, fh);
  gint x1 = CLAMP ((gint64) r->x + r->w, 0, fw);
  gint y1 = CLAMP ((gint64) r->y + r->h, 0, fh);
  gint bt = MIN (t, MIN (x1 - x, y1 - y));

  add_solid (comp, colour, x, y, x1 - x, bt);
  add_solid (comp, colour, x, y1 - bt, x1 - x, bt);
  add_solid (comp, colour, x, y, bt, y1 - y);
  add_solid (comp, colour, x1 - bt, y, bt, y1 - y);
}

/* Where every block goes: the whole-frame block in its corner (under the
 * banner), then the boxes' blocks by imgrec_label_layout, clear of those
 * two and of one another. */
static void
place_blocks (GArray * groups, GstImgRecOverlayPosition position,
    gint banner_h, gint fw, gint fh, imgrec_rect * blocks)
{
  imgrec_rect reserved[2] = { {0, 0, fw, banner_h}, {0, 0, 0, 0} };
  imgrec_label_item *items = g_new0 (imgrec_label_item, groups->len);
  imgrec_rect *placed = g_new0 (imgrec_rect, groups->len);
  guint *index = g_new0 (guint, groups->len);
  guint i, n = 0;

  for (i = 0; i < groups->len; i++) {
    OverlayGroup *g = &g_array_index (groups, OverlayGroup, i);

    if (g->whole) {
      gboolean right = position == GST_IMGREC_OVERLAY_POSITION_TOP_RIGHT ||
          position == GST_IMGREC_OVERLAY_POSITION_BOTTOM_RIGHT;
      gboolean bottom = position >= GST_IMGREC_OVERLAY_POSITION_BOTTOM_LEFT;
      imgrec_rect r = { right ? MAX (0, fw - g->block_w) : 0,
        bottom ? MAX (0, fh - g->block_h) : banner_h, g->block_w, g->block_h
      };
      blocks[i] = reserved[1] = r;
      continue;
    }
    items[n].box.x = g->rect.x;
    items[n].box.y = g->rect.y;
    items[n].box.w = g->rect.w;
    items[n].box.h = g->rect.h;
    items[n].block_w = g->block_w;
    items[n].block_h = g->block_h;
    index[n++] = i;
  }
  imgrec_label_layout (items, n, reserved, 2, fw, fh, placed);
  for (i = 0; i < n; i++)
    blocks[index[i]] = placed[i];
  g_free (items);
  g_free (placed);
  g_free (index);
}

static GstFlowReturn
gst_imgrec_overlay_transform_frame_ip (GstVideoFilter * filter,
    GstVideoFrame * frame)
{
  GstImgRecOverlay *self = GST_IMGREC_OVERLAY (filter);
  GstVideoOverlayComposition *comp = NULL;
  GstBuffer *banner = NULL;
  gint fw = GST_VIDEO_FRAME_WIDTH (frame), fh = GST_VIDEO_FRAME_HEIGHT (frame);
  GstImgRecOverlayShow show;
  GstImgRecOverlayPosition position;
  gboolean show_carried;
  gdouble min_confidence;
  guint font_px, i;
  gint banner_h = 0;
  OverlayMetrics m;
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (OverlayLine));
  GArray *groups = g_array_new (FALSE, FALSE, sizeof (OverlayGroup));
  GString *alarm = g_string_new (NULL);
  imgrec_rect *blocks;

  GST_OBJECT_LOCK (self);
  show = self->show;
  position = self->position;
  show_carried = self->show_carried;
  min_confidence = self->min_confidence;
  font_px = self->font_size ? self->font_size : CLAMP (fh / 30, 10, 48);
  GST_OBJECT_UNLOCK (self);
  ensure_layout (self, font_px);
  m = overlay_metrics (font_px);
  g_array_set_clear_func (lines, (GDestroyNotify) overlay_line_clear);

  collect_lines (frame->buffer, fw, fh, show, show_carried, min_confidence,
      lines, groups, alarm);
  if (alarm->len)
    banner = render_banner (self, &m, alarm->str, fw, &banner_h);
  /* a label line longer than the frame is cut with an ellipsis */
  pango_layout_set_width (self->layout,
      MAX (1, fw - m.swatch - 2 * m.pad) * PANGO_SCALE);
  pango_layout_set_ellipsize (self->layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_alignment (self->layout, PANGO_ALIGN_LEFT);
  measure_blocks (self, &m, lines, groups);
  blocks = g_new0 (imgrec_rect, MAX (groups->len, 1));
  place_blocks (groups, position, banner_h, fw, fh, blocks);

  /* boxes first, blocks over them, the banner over everything */
  for (i = 0; i < groups->len && (show & GST_IMGREC_OVERLAY_SHOW_BOX); i++) {
    OverlayGroup *g = &g_array_index (groups, OverlayGroup, i);
    if (!g->whole)
      add_box (&comp, &g->rect, g->colour, m.edge, fw, fh);
  }
  for (i = 0; i < groups->len; i++) {
    OverlayGroup *g = &g_array_index (groups, OverlayGroup, i);
    if (g->block_w > 0 && g->block_h > 0)
      add_rectangle (&comp, render_block (self, &m, lines, g), blocks[i].x,
          blocks[i].y, g->block_w, g->block_h);
  }
  if (banner)
    add_rectangle (&comp, banner, 0, 0, fw, banner_h);

  if (comp) {
    if (!gst_video_overlay_composition_blend (comp, frame))
      GST_WARNING_OBJECT (self, "could not blend onto %s",
          gst_video_format_to_string (GST_VIDEO_FRAME_FORMAT (frame)));
    gst_video_overlay_composition_unref (comp);
  }
  g_free (blocks);
  g_array_free (lines, TRUE);
  g_array_free (groups, TRUE);
  g_string_free (alarm, TRUE);
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
      "Corner of the label block of the whole-frame results (under the "
      "camera-alarm banner at the top)",
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
      "Draws imgrec results on the video: each region's box with one block "
      "of labels (track id, detection, label, sequence label, GAN note), the "
      "whole-frame results in a corner, a banner on camera alarms",
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
