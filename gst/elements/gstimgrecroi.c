/* imgrecroi: attaches fixed or keyframe-interpolated regions of interest.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrecroi
 * @title: imgrecroi
 *
 * Adds a #GstVideoRegionOfInterestMeta per region listed in
 * #GstImgRecRoi:regions to every video buffer, so `imgrecclassify
 * roi=roi-list` and `imgrecseq scope=roi` can be used without a detector
 * (like DL Streamer's gvaattachroi).  The video is not touched.
 *
 * ## Region syntax
 *
 * Regions are separated by `;`.  Each is `TYPE=BOX` (a fixed region, on
 * every frame) or `TYPE=T:BOX/T:BOX/...` (keyframes): BOX is `x,y,w,h`, T a
 * stream time in seconds.  Between two keyframes the box is interpolated
 * linearly; before the first and after the last keyframe the region is
 * absent (a tracked object appearing and disappearing).  With
 * #GstImgRecRoi:relative the numbers are fractions of the frame's width and
 * height.  Boxes are clipped to the frame; a box entirely outside it is not
 * attached.
 *
 * The n-th region of the list (from 0) always gets the ROI id
 * #GstImgRecRoi:id-base + n, so downstream elements can follow it from
 * frame to frame, a param `imgrec-roi` with the int field `tracking-id`
 * (the same number) and DL Streamer's `object_id` param (int field `id`, the
 * same number again).
 *
 * Errors in the region list are reported with GST_ELEMENT_ERROR when the
 * element starts (and a warning when the property is set while playing; the
 * previous regions stay).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc ! imgrecroi relative=true \
 *     regions="sign=0.1,0.1,0.2,0.2;car=0.5,0.5,0.25,0.25" ! \
 *     imgrecclassify roi=roi-list model=models/traffic-signs/traffic-signs.onnx ! \
 *     imgrecoverlay ! videoconvert ! autovideosink
 * ]| Two fixed regions, given as fractions of the frame, classified.
 * |[
 * gst-launch-1.0 filesrc location=drive.mp4 ! decodebin ! \
 *     imgrecroi regions="sign=0:10,10,40,40/2.5:300,50,80,80" ! \
 *     imgrecseq scope=roi model=models/traffic-signs-seq/traffic-signs-seq.onnx ! \
 *     imgrecoverlay ! videoconvert ! autovideosink
 * ]| A sign that moves from the top left to the right over 2.5 seconds.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecroi.h"
#include "gstimgrecproperty.h"

#include <errno.h>
#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_roi_debug);
#define GST_CAT_DEFAULT gst_imgrec_roi_debug

#define DEFAULT_REGIONS NULL
#define DEFAULT_RELATIVE FALSE
#define DEFAULT_ID_BASE 0

#define ROI_PARAM_NAME "imgrec-roi"

enum
{
  PROP_0,
  PROP_REGIONS,
  PROP_RELATIVE,
  PROP_ID_BASE,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS ("video/x-raw(ANY)"));

#define gst_imgrec_roi_parent_class parent_class
G_DEFINE_TYPE (GstImgRecRoi, gst_imgrec_roi, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (imgrecroi, "imgrecroi", GST_RANK_NONE,
    GST_TYPE_IMGREC_ROI);

static void
regions_free (GArray * regions)
{
  guint i;

  if (regions == NULL)
    return;
  for (i = 0; i < regions->len; i++)
    g_array_free (g_array_index (regions, GstImgRecRoiRegion, i).keys, TRUE);
  g_array_free (regions, TRUE);
}

static gboolean
parse_number (const gchar * s, gdouble * out)
{
  gchar *end = NULL;
  gchar *t = g_strstrip (g_strdup (s));
  gboolean ok;

  errno = 0;
  *out = g_ascii_strtod (t, &end);
  ok = *t != '\0' && errno == 0 && end != t && *end == '\0' && isfinite (*out);
  g_free (t);
  return ok;
}

static gboolean
parse_box (const gchar * text, GstImgRecRoiKey * key)
{
  gchar **v = g_strsplit (text, ",", -1);
  gboolean ok = g_strv_length (v) == 4 && parse_number (v[0], &key->x)
      && parse_number (v[1], &key->y) && parse_number (v[2], &key->w)
      && parse_number (v[3], &key->h) && key->w >= 0 && key->h >= 0;
  g_strfreev (v);
  return ok;
}

/* The region list syntax (see the element docs) -> regions, or NULL with
 * a sentence in *error. */
static GArray *
parse_regions (const gchar * text, gint id_base, gchar ** error)
{
  GArray *regions = g_array_new (FALSE, TRUE, sizeof (GstImgRecRoiRegion));
  gchar **items;
  guint i, n = 0;

  if (text == NULL)
    return regions;
  items = g_strsplit (text, ";", -1);
  for (i = 0; items[i]; i++) {
    gchar *item = g_strstrip (items[i]);
    gchar *eq, **keys;
    GstImgRecRoiRegion region;
    guint k;

    if (*item == '\0')
      continue;
    eq = strchr (item, '=');
    if (eq == NULL || eq == item) {
      *error = g_strdup_printf ("Region \"%s\" is not TYPE=x,y,w,h or "
          "TYPE=t:x,y,w,h/t:x,y,w,h...", item);
      goto fail;
    }
    *eq = '\0';
    region.type = g_quark_from_string (g_strstrip (item));
    region.id = id_base + (gint) n++;
    region.keys = g_array_new (FALSE, TRUE, sizeof (GstImgRecRoiKey));
    g_array_append_val (regions, region);
    keys = g_strsplit (eq + 1, "/", -1);
    for (k = 0; keys[k]; k++) {
      GstImgRecRoiKey key;
      gchar *colon = strchr (keys[k], ':');
      gdouble t;

      key.time = GST_CLOCK_TIME_NONE;
      if (colon) {
        *colon = '\0';
        if (!parse_number (keys[k], &t) || t < 0) {
          *error = g_strdup_printf ("Region %s has an invalid keyframe time "
              "\"%s\" (seconds expected).", g_quark_to_string (region.type),
              keys[k]);
          g_strfreev (keys);
          goto fail;
        }
        key.time = (GstClockTime) llround (t * GST_SECOND);
      }
      if (!parse_box (colon ? colon + 1 : keys[k], &key)) {
        *error = g_strdup_printf ("Region %s has an invalid box \"%s\" "
            "(x,y,w,h expected, w and h not negative).",
            g_quark_to_string (region.type), colon ? colon + 1 : keys[k]);
        g_strfreev (keys);
        goto fail;
      }
      if ((key.time == GST_CLOCK_TIME_NONE) != (k == 0 && keys[1] == NULL)) {
        *error = g_strdup_printf ("Region %s mixes fixed boxes and keyframes: "
            "give one x,y,w,h or keyframes t:x,y,w,h/t:x,y,w,h.",
            g_quark_to_string (region.type));
        g_strfreev (keys);
        goto fail;
      }
      if (k > 0 && key.time <= g_array_index (g_array_index (regions,
                  GstImgRecRoiRegion, regions->len - 1).keys, GstImgRecRoiKey,
              k - 1).time) {
        *error = g_strdup_printf ("Region %s has keyframe times that do not "
            "increase.", g_quark_to_string (region.type));
        g_strfreev (keys);
        goto fail;
      }
      g_array_append_val (g_array_index (regions, GstImgRecRoiRegion,
              regions->len - 1).keys, key);
    }
    g_strfreev (keys);
  }
  g_strfreev (items);
  return regions;

fail:
  g_strfreev (items);
  regions_free (regions);
  return NULL;
}

/* The box of a region at stream time `t`; FALSE when absent. */
static gboolean
region_box_at (const GstImgRecRoiRegion * region, GstClockTime t,
    GstImgRecRoiKey * box)
{
  const GstImgRecRoiKey *keys = (const GstImgRecRoiKey *) region->keys->data;
  guint n = region->keys->len, i;

  if (n == 0)
    return FALSE;
  if (keys[0].time == GST_CLOCK_TIME_NONE) {
    *box = keys[0];
    return TRUE;
  }
  if (!GST_CLOCK_TIME_IS_VALID (t) || t < keys[0].time
      || t > keys[n - 1].time)
    return FALSE;
  for (i = 0; i + 1 < n && t > keys[i + 1].time; i++);
  if (i + 1 == n || t == keys[i].time) {
    *box = keys[i];
  } else {
    gdouble a = (gdouble) (t - keys[i].time) /
        (gdouble) (keys[i + 1].time - keys[i].time);
    box->x = keys[i].x + a * (keys[i + 1].x - keys[i].x);
    box->y = keys[i].y + a * (keys[i + 1].y - keys[i].y);
    box->w = keys[i].w + a * (keys[i + 1].w - keys[i].w);
    box->h = keys[i].h + a * (keys[i + 1].h - keys[i].h);
  }
  return TRUE;
}

static gboolean
gst_imgrec_roi_start (GstBaseTransform * trans)
{
  GstImgRecRoi *self = GST_IMGREC_ROI (trans);
  gchar *error = NULL;
  GArray *regions;

  GST_OBJECT_LOCK (self);
  regions = parse_regions (self->regions_text, self->id_base, &error);
  if (regions) {
    regions_free (self->regions);
    self->regions = regions;
  }
  GST_OBJECT_UNLOCK (self);
  if (regions == NULL) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("%s", error), (NULL));
    g_free (error);
    return FALSE;
  }
  self->have_info = FALSE;
  return TRUE;
}

static gboolean
gst_imgrec_roi_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstImgRecRoi *self = GST_IMGREC_ROI (trans);

  if (!gst_video_info_from_caps (&self->info, incaps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Caps %" GST_PTR_FORMAT " do not describe raw video.", incaps),
        (NULL));
    return FALSE;
  }
  self->have_info = TRUE;
  return TRUE;
}

static GstFlowReturn
gst_imgrec_roi_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstImgRecRoi *self = GST_IMGREC_ROI (trans);
  gint fw = GST_VIDEO_INFO_WIDTH (&self->info);
  gint fh = GST_VIDEO_INFO_HEIGHT (&self->info);
  GstClockTime t;
  gboolean relative;
  guint i;

  if (!self->have_info) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("No caps were negotiated before the first buffer."), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  t = gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
  if (!GST_CLOCK_TIME_IS_VALID (t))
    t = GST_BUFFER_PTS (buf);

  GST_OBJECT_LOCK (self);
  relative = self->relative;
  for (i = 0; self->regions && i < self->regions->len; i++) {
    const GstImgRecRoiRegion *region = &g_array_index (self->regions,
        GstImgRecRoiRegion, i);
    GstVideoRegionOfInterestMeta *roi;
    GstImgRecRoiKey box;
    gdouble x0, y0, x1, y1;

    if (!region_box_at (region, t, &box))
      continue;
    if (relative) {
      box.x *= fw;
      box.w *= fw;
      box.y *= fh;
      box.h *= fh;
    }
    x0 = CLAMP (round (box.x), 0, fw);
    y0 = CLAMP (round (box.y), 0, fh);
    x1 = CLAMP (round (box.x + box.w), 0, fw);
    y1 = CLAMP (round (box.y + box.h), 0, fh);
    if (x1 <= x0 || y1 <= y0)
      continue;
    roi = gst_buffer_add_video_region_of_interest_meta_id (buf, region->type,
        (guint) x0, (guint) y0, (guint) (x1 - x0), (guint) (y1 - y0));
    roi->id = region->id;
    gst_video_region_of_interest_meta_add_param (roi,
        gst_structure_new (ROI_PARAM_NAME, "tracking-id", G_TYPE_INT,
            region->id, NULL));
    /* DL Streamer's tools read a region's identity only from here */
    gst_video_region_of_interest_meta_add_param (roi,
        gst_structure_new ("object_id", "id", G_TYPE_INT, region->id, NULL));
  }
  GST_OBJECT_UNLOCK (self);
  return GST_FLOW_OK;
}

static gboolean
running (GstImgRecRoi * self)
{
  return GST_STATE (self) > GST_STATE_READY
      || GST_STATE_PENDING (self) > GST_STATE_READY;
}

static void
gst_imgrec_roi_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecRoi *self = GST_IMGREC_ROI (object);
  gchar *error = NULL;

  GST_OBJECT_LOCK (self);
  if (gst_imgrec_property_refuse_locked (GST_ELEMENT (self), pspec))
    return;
  switch (prop_id) {
    case PROP_REGIONS:
      g_free (self->regions_text);
      self->regions_text = g_value_dup_string (value);
      if (running (self)) {
        GArray *regions = parse_regions (self->regions_text, self->id_base,
            &error);
        if (regions) {
          regions_free (self->regions);
          self->regions = regions;
        }
      }
      break;
    case PROP_RELATIVE:
      self->relative = g_value_get_boolean (value);
      break;
    case PROP_ID_BASE:
      self->id_base = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
  if (error) {
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS, ("%s The previous regions "
            "stay.", error), (NULL));
    g_free (error);
  }
}

static void
gst_imgrec_roi_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstImgRecRoi *self = GST_IMGREC_ROI (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_REGIONS:
      g_value_set_string (value, self->regions_text);
      break;
    case PROP_RELATIVE:
      g_value_set_boolean (value, self->relative);
      break;
    case PROP_ID_BASE:
      g_value_set_int (value, self->id_base);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_roi_finalize (GObject * object)
{
  GstImgRecRoi *self = GST_IMGREC_ROI (object);

  regions_free (self->regions);
  g_free (self->regions_text);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_imgrec_roi_class_init (GstImgRecRoiClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_roi_debug, "imgrecroi", 0,
      "imgrec fixed / keyframed regions of interest");

  gobject_class->set_property = gst_imgrec_roi_set_property;
  gobject_class->get_property = gst_imgrec_roi_get_property;
  gobject_class->finalize = gst_imgrec_roi_finalize;

  properties[PROP_REGIONS] = g_param_spec_string ("regions", "Regions",
      "Regions separated by ';': TYPE=x,y,w,h (fixed) or "
      "TYPE=t:x,y,w,h/t:x,y,w,h... (keyframes at stream times in seconds, "
      "linearly interpolated, absent outside the first and last keyframe)",
      DEFAULT_REGIONS, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_RELATIVE] = g_param_spec_boolean ("relative", "Relative",
      "Boxes are fractions of the frame's width and height", DEFAULT_RELATIVE,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_ID_BASE] = g_param_spec_int ("id-base", "ID base",
      "ROI id (and tracking-id) of the first region; the n-th gets "
      "id-base + n", 0, G_MAXINT / 2, DEFAULT_ID_BASE,
      rw | GST_PARAM_MUTABLE_READY);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);

  gst_element_class_set_static_metadata (element_class,
      "imgrec regions of interest", "Filter/Video",
      "Attaches fixed or keyframe-interpolated regions of interest to video "
      "buffers", "imgrec project");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_imgrec_roi_start);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_imgrec_roi_set_caps);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_imgrec_roi_transform_ip);
  trans_class->transform_ip_on_passthrough = FALSE;
}

static void
gst_imgrec_roi_init (GstImgRecRoi * self)
{
  self->relative = DEFAULT_RELATIVE;
  self->id_base = DEFAULT_ID_BASE;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
}
