/* imgrectrack: multi-object tracking of regions of interest.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrectrack
 * @title: imgrectrack
 *
 * Follows the objects an upstream detector (imgrecdetect, or any element
 * that attaches #GstVideoRegionOfInterestMeta) finds on each frame and gives
 * each a stable id.  The video passes through unchanged.
 *
 * Each track's box is predicted by a constant-velocity Kalman filter (centre,
 * size and their velocities); the frame's regions are matched with the
 * predictions by intersection over union with a minimum-cost assignment
 * (#GstImgRecTrack:association: Hungarian, or greedy as SORT variants do).
 * As in ByteTrack, confident regions (score ≥ #GstImgRecTrack:high-threshold)
 * are matched first against the tracks matched on the previous inference
 * (those come before lost tracks, as in DeepSORT's matching cascade, so a
 * lost track coasting on a stale velocity cannot take the region of an
 * object another track follows); weaker ones (≥
 * #GstImgRecTrack:low-threshold) then continue those tracks that are still
 * unmatched, so an object keeps its id while its detector confidence dips.
 * The confident regions left then go to the lost tracks (missed on the
 * previous inference), with both boxes widened by two standard deviations
 * of the track's predicted edges (its Kalman uncertainty, which grows with
 * every missed frame) before the IoU is taken: an object that accelerates
 * (a sign growing as the car nears it) leaves its constant-velocity
 * prediction behind while it is missed, and is found again instead of
 * starting a new track.  Unmatched confident regions (≥
 * #GstImgRecTrack:new-track-threshold) start tentative tracks, confirmed
 * after #GstImgRecTrack:min-hits matched frames; a tentative track missed
 * once ends (a frame without any region is no miss: nothing was looked
 * for); a confirmed track survives #GstImgRecTrack:max-age frames without a
 * match (or #GstImgRecTrack:max-age-time).  At most
 * #GstImgRecTrack:max-tracks live at once (the longest-missed is dropped
 * for a new one).  With #GstImgRecTrack:class-consistent, a track only
 * matches regions of its own type.  A region's score is the `confidence`
 * of its `detection` (DL Streamer) or `imgrec-detection` param, else 1.
 *
 * Ids start at 1, are given when a track is confirmed, and are never
 * reused by the element: after a reset (flush, seek, stream-start, a
 * DISCONT buffer, new caps with another frame size, or a custom downstream
 * event named `imgrec-reset` — the same rules as imgrecseq) every track
 * ends and new ones get new ids.
 *
 * On a region matched with a confirmed track the element writes:
 * - an `imgrec-track` param (`tracking-id`, `age`, `hits`,
 *   `time-since-update` guint64, `predicted` boolean, `model` string: the
 *   tracker's name) — imgrecseq keys its per-object states on
 *   `tracking-id`;
 * - DL Streamer's `object_id` param (`id`, int);
 * - a #GstImgRecTrackMeta (libgstimgrec-1.0): id, state, class, label,
 *   age, hits, frames since the last match, PTS first seen.
 *
 * On a frame without any region (nothing found, or skipped by an upstream
 * `inference-interval`), tracks move by prediction: with
 * #GstImgRecTrack:show-predicted each confirmed track adds an ROI of its
 * type at its predicted box (clipped to the frame), with the same params,
 * `predicted` TRUE and a track meta in state PREDICTED, so boxes stay on
 * the objects between inferences.
 *
 * ## Messages
 *
 * With #GstImgRecTrack:post-messages (default on):
 * - `imgrec-track-new` when a track is confirmed: `timestamp`,
 *   `stream-time`, `running-time`, `first-seen` (guint64 ns), `track-id`
 *   (guint64), `label` (string), `class-id` (int, the tracker's class
 *   index; -1 unknown), `x`, `y`, `width`, `height` (int, frame pixels);
 * - `imgrec-track-lost` when a confirmed track ends: `timestamp`,
 *   `stream-time`, `running-time`, `first-seen` (guint64 ns), `track-id`,
 *   `age`, `hits` (guint64), `label` (string), `reason` (string: `expired`
 *   after max-age missed frames, `evicted` for a new track when
 *   max-tracks are live, `reset`).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! \
 *     imgrecdetect model=yolov8n.onnx inference-interval=3 ! imgrectrack ! \
 *     imgrecoverlay ! videoconvert ! autovideosink
 * ]| Detects on every third frame and keeps the boxes and ids on the
 * objects in between.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrectrack.h"
#include "gstimgrecmeta.h"
#include "gstimgrecdetectmeta.h"
#include "gstimgrecproperty.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_track_debug);
#define GST_CAT_DEFAULT gst_imgrec_track_debug

#define DEFAULT_MAX_AGE 30
#define DEFAULT_MAX_AGE_TIME 0
#define DEFAULT_MIN_HITS 3
#define DEFAULT_MAX_TRACKS 256
#define DEFAULT_IOU 0.2
#define DEFAULT_LOW_IOU 0.5
#define DEFAULT_HIGH 0.5
#define DEFAULT_LOW 0.1
#define DEFAULT_NEW 0.6
#define DEFAULT_CLASS_CONSISTENT FALSE
#define DEFAULT_ASSOCIATION IMGREC_ASSOC_HUNGARIAN
#define DEFAULT_SHOW_PREDICTED TRUE
#define DEFAULT_POST_MESSAGES TRUE

enum
{
  PROP_0,
  PROP_MAX_AGE,
  PROP_MAX_AGE_TIME,
  PROP_MIN_HITS,
  PROP_MAX_TRACKS,
  PROP_IOU_THRESHOLD,
  PROP_LOW_IOU_THRESHOLD,
  PROP_HIGH_THRESHOLD,
  PROP_LOW_THRESHOLD,
  PROP_NEW_TRACK_THRESHOLD,
  PROP_CLASS_CONSISTENT,
  PROP_ASSOCIATION,
  PROP_OBJECT_CLASS,
  PROP_SHOW_PREDICTED,
  PROP_POST_MESSAGES,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (GST_VIDEO_FORMATS_ALL)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (GST_VIDEO_FORMATS_ALL)));

#define gst_imgrec_track_parent_class parent_class
G_DEFINE_TYPE (GstImgRecTrack, gst_imgrec_track, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (imgrectrack, "imgrectrack", GST_RANK_NONE,
    GST_TYPE_IMGREC_TRACK);

static GType
gst_imgrec_association_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {IMGREC_ASSOC_HUNGARIAN, "Minimum-cost assignment of tracks and regions "
          "(Hungarian method)", "hungarian"},
    {IMGREC_ASSOC_GREEDY, "Best-overlapping pair first", "greedy"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecAssociation", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------------ */

static void
set_times (GstImgRecTrack * self, GstStructure * s, GstClockTime pts)
{
  const GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;

  gst_structure_set (s,
      "timestamp", G_TYPE_UINT64, pts,
      "stream-time", G_TYPE_UINT64,
      gst_segment_to_stream_time (segment, GST_FORMAT_TIME, pts),
      "running-time", G_TYPE_UINT64,
      gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts), NULL);
}

static const gchar *
class_label (GstImgRecTrack * self, gint class_id)
{
  if (class_id >= 0 && (guint) class_id < self->class_quarks->len)
    return g_quark_to_string (g_array_index (self->class_quarks, GQuark,
            class_id));
  return NULL;
}

static GstClockTime
first_seen_of (GstImgRecTrack * self, guint64 id)
{
  gpointer v;

  if (g_hash_table_lookup_extended (self->first_seen, &id, NULL, &v))
    return *(GstClockTime *) v;
  return GST_CLOCK_TIME_NONE;
}

static void
post_lost (GstImgRecTrack * self, const imgrec_track * tr, GstClockTime pts,
    const gchar * reason)
{
  GstStructure *s;
  const gchar *label;
  gboolean post;

  GST_OBJECT_LOCK (self);
  post = self->post_messages;
  GST_OBJECT_UNLOCK (self);
  if (post) {
    label = class_label (self, tr->class_id);
    s = gst_structure_new_empty ("imgrec-track-lost");
    set_times (self, s, pts);
    gst_structure_set (s,
        "first-seen", G_TYPE_UINT64, first_seen_of (self, tr->id),
        "track-id", G_TYPE_UINT64, tr->id,
        "age", G_TYPE_UINT64, (guint64) tr->age,
        "hits", G_TYPE_UINT64, (guint64) tr->hits,
        "label", G_TYPE_STRING, label ? label : "",
        "reason", G_TYPE_STRING, reason, NULL);
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self), s));
  }
  g_hash_table_remove (self->first_seen, &tr->id);
}

/* Ends every track (posting imgrec-track-lost with reason "reset"). */
static void
reset_tracks (GstImgRecTrack * self, const gchar * why)
{
  gint i, n;

  if (self->tracker == NULL)
    return;
  n = imgrec_tracker_n_tracks (self->tracker);
  for (i = 0; i < n; i++) {
    const imgrec_track *tr = imgrec_tracker_track (self->tracker, i);
    if (tr->state == IMGREC_TRACK_CONFIRMED)
      post_lost (self, tr, GST_CLOCK_TIME_NONE, "reset");
  }
  imgrec_tracker_reset (self->tracker, NULL);
  g_hash_table_remove_all (self->first_seen);
  self->reset_count++;
  GST_DEBUG_OBJECT (self, "reset (%s): %d tracks ended", why, n);
}

static gboolean
ensure_tracker (GstImgRecTrack * self)
{
  imgrec_tracker_params p;
  guint64 max_age_time;

  if (self->tracker)
    return TRUE;
  GST_OBJECT_LOCK (self);
  p = self->params;
  max_age_time = self->max_age_time;
  GST_OBJECT_UNLOCK (self);
  if (max_age_time > 0 && self->have_info && self->info.fps_n > 0
      && self->info.fps_d > 0) {
    guint64 frames = gst_util_uint64_scale_ceil (max_age_time,
        self->info.fps_n, (guint64) self->info.fps_d * GST_SECOND);
    p.max_age = (gint) MIN (frames, (guint64) G_MAXINT);
  }
  self->tracker = imgrec_tracker_new (&p);
  if (self->tracker == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("Could not allocate a tracker for %d tracks.", p.max_tracks), (NULL));
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_imgrec_track_start (GstBaseTransform * trans)
{
  GstImgRecTrack *self = GST_IMGREC_TRACK (trans);
  gchar *object_class;

  GST_OBJECT_LOCK (self);
  object_class = g_strdup (self->object_class);
  GST_OBJECT_UNLOCK (self);
  g_clear_pointer (&self->object_classes, g_free);
  if (object_class && *object_class) {
    gchar **names = g_strsplit (object_class, ",", -1);
    guint n = g_strv_length (names), k, m = 0;
    self->object_classes = g_new0 (GQuark, n + 1);
    for (k = 0; k < n; k++) {
      gchar *name = g_strstrip (names[k]);
      if (*name)
        self->object_classes[m++] = g_quark_from_string (name);
    }
    g_strfreev (names);
  }
  g_free (object_class);
  self->seen_buffer = FALSE;
  self->have_info = FALSE;
  return TRUE;
}

static gboolean
gst_imgrec_track_stop (GstBaseTransform * trans)
{
  GstImgRecTrack *self = GST_IMGREC_TRACK (trans);

  g_clear_pointer (&self->tracker, imgrec_tracker_free);
  g_hash_table_remove_all (self->first_seen);
  g_array_set_size (self->class_quarks, 0);
  g_clear_pointer (&self->object_classes, g_free);
  return TRUE;
}

static gboolean
gst_imgrec_track_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstImgRecTrack *self = GST_IMGREC_TRACK (trans);
  GstVideoInfo info;

  if (!gst_video_info_from_caps (&info, incaps)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Caps %" GST_PTR_FORMAT " are not raw video.", incaps), (NULL));
    return FALSE;
  }
  if (self->have_info && (info.width != self->info.width
          || info.height != self->info.height))
    reset_tracks (self, "frame size changed");
  self->info = info;
  self->have_info = TRUE;
  return TRUE;
}

static gboolean
gst_imgrec_track_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstImgRecTrack *self = GST_IMGREC_TRACK (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
      reset_tracks (self, "flush");
      break;
    case GST_EVENT_STREAM_START:
      reset_tracks (self, "stream-start");
      self->seen_buffer = FALSE;
      break;
    case GST_EVENT_CUSTOM_DOWNSTREAM:
    case GST_EVENT_CUSTOM_DOWNSTREAM_OOB:
      if (gst_event_has_name (event, "imgrec-reset"))
        reset_tracks (self, "imgrec-reset event");
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

/* ------------------------------------------------------------------------ */
/* per frame                                                                  */

static gboolean
roi_selected (GstImgRecTrack * self, GstVideoRegionOfInterestMeta * roi)
{
  GQuark *q;

  if (roi->roi_type ==
      g_quark_from_static_string (GST_IMGREC_FULL_FRAME_ROI_TYPE))
    return FALSE;
  if (self->object_classes == NULL)
    return TRUE;
  for (q = self->object_classes; *q; q++)
    if (*q == roi->roi_type)
      return TRUE;
  return FALSE;
}

static gint
class_of (GstImgRecTrack * self, GQuark type)
{
  guint i;

  for (i = 0; i < self->class_quarks->len; i++)
    if (g_array_index (self->class_quarks, GQuark, i) == type)
      return (gint) i;
  g_array_append_val (self->class_quarks, type);
  return (gint) self->class_quarks->len - 1;
}

static gfloat
score_of (GstVideoRegionOfInterestMeta * roi)
{
  static const gchar *params[] = { GST_IMGREC_DLS_DETECTION_PARAM_NAME,
    GST_IMGREC_DETECTION_PARAM_NAME
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (params); i++) {
    GstStructure *s = gst_video_region_of_interest_meta_get_param (roi,
        params[i]);
    gdouble v;
    if (s && gst_structure_get_double (s, "confidence", &v) && isfinite (v))
      return (gfloat) v;
  }
  return 1.0f;
}

static void
describe (GstImgRecTrack * self, GstBuffer * buf,
    GstVideoRegionOfInterestMeta * roi, const imgrec_track * tr,
    gboolean predicted)
{
  GstImgRecTrackMeta *m;

  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new (GST_IMGREC_TRACK_PARAM_NAME,
          "tracking-id", G_TYPE_UINT64, tr->id,
          "age", G_TYPE_UINT64, (guint64) tr->age,
          "hits", G_TYPE_UINT64, (guint64) tr->hits,
          "time-since-update", G_TYPE_UINT64, (guint64) tr->time_since_update,
          "predicted", G_TYPE_BOOLEAN, predicted,
          "model", G_TYPE_STRING, GST_OBJECT_NAME (self), NULL));
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("object_id", "id", G_TYPE_INT,
          (gint) MIN (tr->id, (guint64) G_MAXINT), NULL));

  m = gst_buffer_add_imgrec_track_meta (buf,
      g_intern_string (GST_OBJECT_NAME (self)));
  m->info.model = g_intern_string (GST_OBJECT_NAME (self));
  m->info.roi_id = roi->id;
  m->info.x = roi->x;
  m->info.y = roi->y;
  m->info.width = roi->w;
  m->info.height = roi->h;
  if (predicted)
    m->info.flags |= GST_IMGREC_RESULT_FLAG_CARRIED;
  m->track_id = tr->id;
  m->state = predicted ? GST_IMGREC_TRACK_STATE_PREDICTED :
      GST_IMGREC_TRACK_STATE_TRACKED;
  m->class_id = tr->class_id;
  m->label = class_label (self, tr->class_id);
  m->age = tr->age;
  m->hits = tr->hits;
  m->time_since_update = tr->time_since_update;
  m->first_seen = first_seen_of (self, tr->id);
}

static const imgrec_track *
find_track (GstImgRecTrack * self, guint64 id)
{
  gint i, n = imgrec_tracker_n_tracks (self->tracker);

  for (i = 0; i < n; i++) {
    const imgrec_track *tr = imgrec_tracker_track (self->tracker, i);
    if (tr->id == id)
      return tr;
  }
  return NULL;
}

static void
handle_events (GstImgRecTrack * self, const imgrec_tracker_events * ev,
    GstClockTime pts, gboolean post)
{
  gint64 frame = imgrec_tracker_frame (self->tracker);
  gint i;

  for (i = 0; i < ev->n_lost; i++)
    post_lost (self, ev->lost[i], pts, ev->lost[i]->time_since_update >
        0 && ev->lost[i]->time_since_update <= self->params.max_age ?
        "evicted" : "expired");
  for (i = 0; i < ev->n_new; i++) {
    const imgrec_track *tr = find_track (self, ev->new_ids[i]);
    GstClockTime first = GST_CLOCK_TIME_NONE;
    guint64 *key;
    GstClockTime *val;
    if (tr == NULL)
      continue;
    if (frame - tr->first_frame < GST_IMGREC_TRACK_PTS_RING)
      first = self->pts_ring[tr->first_frame % GST_IMGREC_TRACK_PTS_RING];
    key = g_new (guint64, 1);
    val = g_new (GstClockTime, 1);
    *key = tr->id;
    *val = first;
    g_hash_table_insert (self->first_seen, key, val);
    if (post) {
      const gchar *label = class_label (self, tr->class_id);
      GstStructure *s = gst_structure_new_empty ("imgrec-track-new");
      set_times (self, s, pts);
      gst_structure_set (s,
          "first-seen", G_TYPE_UINT64, first,
          "track-id", G_TYPE_UINT64, tr->id,
          "label", G_TYPE_STRING, label ? label : "",
          "class-id", G_TYPE_INT, tr->class_id,
          "x", G_TYPE_INT, (gint) floorf (tr->x0),
          "y", G_TYPE_INT, (gint) floorf (tr->y0),
          "width", G_TYPE_INT, (gint) ceilf (tr->x1 - tr->x0),
          "height", G_TYPE_INT, (gint) ceilf (tr->y1 - tr->y0), NULL);
      gst_element_post_message (GST_ELEMENT (self),
          gst_message_new_element (GST_OBJECT (self), s));
    }
  }
}

static GstFlowReturn
gst_imgrec_track_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstImgRecTrack *self = GST_IMGREC_TRACK (trans);
  GstVideoRegionOfInterestMeta *roi;
  GPtrArray *rois = self->rois;
  GArray *dets = self->dets;
  imgrec_tracker_events ev;
  gpointer state = NULL;
  gboolean show_predicted, post;
  GstClockTime pts = GST_BUFFER_PTS (buf);
  gint next_id = 0, rc;
  guint i;

  g_ptr_array_set_size (rois, 0);
  g_array_set_size (dets, 0);
  if (!ensure_tracker (self))
    return GST_FLOW_ERROR;
  GST_OBJECT_LOCK (self);
  show_predicted = self->show_predicted;
  post = self->post_messages;
  GST_OBJECT_UNLOCK (self);

  if (self->seen_buffer && GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT))
    reset_tracks (self, "discont");
  self->seen_buffer = TRUE;

  while ((roi = (GstVideoRegionOfInterestMeta *)
          gst_buffer_iterate_meta_filtered (buf, &state,
              GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    imgrec_track_input d;
    next_id = MAX (next_id, roi->id + 1);
    if (!roi_selected (self, roi))
      continue;
    d.x0 = roi->x;
    d.y0 = roi->y;
    d.x1 = (gfloat) roi->x + roi->w;
    d.y1 = (gfloat) roi->y + roi->h;
    d.score = score_of (roi);
    d.class_id = class_of (self, roi->roi_type);
    g_ptr_array_add (rois, roi);
    g_array_append_val (dets, d);
  }

  if (dets->len == 0) {
    rc = imgrec_tracker_predict (self->tracker, &ev);
  } else {
    gint *det_track;
    g_array_set_size (self->det_track, dets->len);
    det_track = (gint *) self->det_track->data;
    rc = imgrec_tracker_update (self->tracker,
        (const imgrec_track_input *) dets->data, (gint) dets->len, det_track,
        &ev);
    if (rc == 0) {
      self->pts_ring[imgrec_tracker_frame (self->tracker) %
          GST_IMGREC_TRACK_PTS_RING] = pts;
      handle_events (self, &ev, pts, post);
      for (i = 0; i < dets->len; i++) {
        const imgrec_track *tr = imgrec_tracker_track (self->tracker,
            det_track[i]);
        if (tr && tr->state == IMGREC_TRACK_CONFIRMED)
          describe (self, buf, g_ptr_array_index (rois, i), tr, FALSE);
      }
    }
  }
  if (rc == 0 && dets->len == 0) {
    self->pts_ring[imgrec_tracker_frame (self->tracker) %
        GST_IMGREC_TRACK_PTS_RING] = pts;
    handle_events (self, &ev, pts, post);
    if (show_predicted && self->have_info) {
      gint n = imgrec_tracker_n_tracks (self->tracker), k;
      gfloat fw = self->info.width, fh = self->info.height;
      for (k = 0; k < n; k++) {
        const imgrec_track *tr = imgrec_tracker_track (self->tracker, k);
        gfloat x0 = CLAMP (tr->x0, 0, fw), y0 = CLAMP (tr->y0, 0, fh);
        gfloat x1 = CLAMP (tr->x1, 0, fw), y1 = CLAMP (tr->y1, 0, fh);
        GstVideoRegionOfInterestMeta *p;
        const gchar *label;
        gint x, y;
        if (tr->state != IMGREC_TRACK_CONFIRMED || !(x1 > x0) || !(y1 > y0))
          continue;
        label = class_label (self, tr->class_id);
        x = (gint) floorf (x0);
        y = (gint) floorf (y0);
        p = gst_buffer_add_video_region_of_interest_meta (buf,
            label ? label : "object", x, y,
            MAX ((gint) ceilf (x1) - x, 1), MAX ((gint) ceilf (y1) - y, 1));
        p->id = next_id++;
        describe (self, buf, p, tr, TRUE);
      }
    }
  }
  if (rc < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT,
        ("The tracker ran out of memory."), (NULL));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------------------ */
/* properties                                                                 */

static void
gst_imgrec_track_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecTrack *self = GST_IMGREC_TRACK (object);
  imgrec_tracker_params *p = &self->params;

  GST_OBJECT_LOCK (self);
  if (gst_imgrec_property_refuse_locked (GST_ELEMENT (self), pspec))
    return;
  switch (prop_id) {
    case PROP_MAX_AGE:
      p->max_age = (gint) g_value_get_uint (value);
      break;
    case PROP_MAX_AGE_TIME:
      self->max_age_time = g_value_get_uint64 (value);
      break;
    case PROP_MIN_HITS:
      p->min_hits = (gint) g_value_get_uint (value);
      break;
    case PROP_MAX_TRACKS:
      p->max_tracks = (gint) g_value_get_uint (value);
      break;
    case PROP_IOU_THRESHOLD:
      p->iou_threshold = (gfloat) g_value_get_double (value);
      break;
    case PROP_LOW_IOU_THRESHOLD:
      p->low_iou_threshold = (gfloat) g_value_get_double (value);
      break;
    case PROP_HIGH_THRESHOLD:
      p->high_threshold = (gfloat) g_value_get_double (value);
      break;
    case PROP_LOW_THRESHOLD:
      p->low_threshold = (gfloat) g_value_get_double (value);
      break;
    case PROP_NEW_TRACK_THRESHOLD:
      p->new_track_threshold = (gfloat) g_value_get_double (value);
      break;
    case PROP_CLASS_CONSISTENT:
      p->class_consistent = g_value_get_boolean (value);
      break;
    case PROP_ASSOCIATION:
      p->method = g_value_get_enum (value);
      break;
    case PROP_OBJECT_CLASS:
      g_free (self->object_class);
      self->object_class = g_value_dup_string (value);
      break;
    case PROP_SHOW_PREDICTED:
      self->show_predicted = g_value_get_boolean (value);
      break;
    case PROP_POST_MESSAGES:
      self->post_messages = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_track_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstImgRecTrack *self = GST_IMGREC_TRACK (object);
  imgrec_tracker_params *p = &self->params;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MAX_AGE:
      g_value_set_uint (value, (guint) p->max_age);
      break;
    case PROP_MAX_AGE_TIME:
      g_value_set_uint64 (value, self->max_age_time);
      break;
    case PROP_MIN_HITS:
      g_value_set_uint (value, (guint) p->min_hits);
      break;
    case PROP_MAX_TRACKS:
      g_value_set_uint (value, (guint) p->max_tracks);
      break;
    case PROP_IOU_THRESHOLD:
      g_value_set_double (value, p->iou_threshold);
      break;
    case PROP_LOW_IOU_THRESHOLD:
      g_value_set_double (value, p->low_iou_threshold);
      break;
    case PROP_HIGH_THRESHOLD:
      g_value_set_double (value, p->high_threshold);
      break;
    case PROP_LOW_THRESHOLD:
      g_value_set_double (value, p->low_threshold);
      break;
    case PROP_NEW_TRACK_THRESHOLD:
      g_value_set_double (value, p->new_track_threshold);
      break;
    case PROP_CLASS_CONSISTENT:
      g_value_set_boolean (value, p->class_consistent);
      break;
    case PROP_ASSOCIATION:
      g_value_set_enum (value, p->method);
      break;
    case PROP_OBJECT_CLASS:
      g_value_set_string (value, self->object_class);
      break;
    case PROP_SHOW_PREDICTED:
      g_value_set_boolean (value, self->show_predicted);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->post_messages);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_imgrec_track_finalize (GObject * object)
{
  GstImgRecTrack *self = GST_IMGREC_TRACK (object);

  g_clear_pointer (&self->tracker, imgrec_tracker_free);
  g_hash_table_unref (self->first_seen);
  g_array_free (self->class_quarks, TRUE);
  g_ptr_array_free (self->rois, TRUE);
  g_array_free (self->dets, TRUE);
  g_array_free (self->det_track, TRUE);
  g_free (self->object_classes);
  g_free (self->object_class);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_imgrec_track_class_init (GstImgRecTrackClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
      | GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_track_debug, "imgrectrack", 0,
      "imgrec multi-object tracker");

  gobject_class->set_property = gst_imgrec_track_set_property;
  gobject_class->get_property = gst_imgrec_track_get_property;
  gobject_class->finalize = gst_imgrec_track_finalize;

  properties[PROP_MAX_AGE] = g_param_spec_uint ("max-age", "Max age",
      "Frames a confirmed track survives without a matching region", 0,
      100000, DEFAULT_MAX_AGE, rw);
  properties[PROP_MAX_AGE_TIME] = g_param_spec_uint64 ("max-age-time",
      "Max age time", "Like max-age in nanoseconds of stream time at the "
      "caps' frame rate (0 = use max-age)", 0, G_MAXUINT64,
      DEFAULT_MAX_AGE_TIME, rw);
  properties[PROP_MIN_HITS] = g_param_spec_uint ("min-hits", "Min hits",
      "Matched frames before a track is confirmed and gets an id", 1, 1000,
      DEFAULT_MIN_HITS, rw);
  properties[PROP_MAX_TRACKS] = g_param_spec_uint ("max-tracks", "Max tracks",
      "Most tracks alive at once", 1, 100000, DEFAULT_MAX_TRACKS, rw);
  properties[PROP_IOU_THRESHOLD] = g_param_spec_double ("iou-threshold",
      "IoU threshold", "Minimum overlap (intersection over union) of a track's "
      "prediction and a confident region to match", 0.0, 1.0, DEFAULT_IOU, rw);
  properties[PROP_LOW_IOU_THRESHOLD] = g_param_spec_double
      ("low-iou-threshold", "Low IoU threshold", "Minimum overlap for a weak "
      "region to continue a track (second pass)", 0.0, 1.0, DEFAULT_LOW_IOU,
      rw);
  properties[PROP_HIGH_THRESHOLD] = g_param_spec_double ("high-threshold",
      "High threshold", "Regions at least this confident are matched first",
      0.0, 1.0, DEFAULT_HIGH, rw);
  properties[PROP_LOW_THRESHOLD] = g_param_spec_double ("low-threshold",
      "Low threshold", "Less confident regions down to this one may only "
      "continue existing tracks (equal to high-threshold: no second pass)",
      0.0, 1.0, DEFAULT_LOW, rw);
  properties[PROP_NEW_TRACK_THRESHOLD] = g_param_spec_double
      ("new-track-threshold", "New track threshold", "Confidence an "
      "unmatched region needs to start a track", 0.0, 1.0, DEFAULT_NEW, rw);
  properties[PROP_CLASS_CONSISTENT] = g_param_spec_boolean
      ("class-consistent", "Class consistent", "Only match regions of the "
      "track's type", DEFAULT_CLASS_CONSISTENT, rw);
  properties[PROP_ASSOCIATION] = g_param_spec_enum ("association",
      "Association", "How tracks and regions are matched",
      gst_imgrec_association_get_type (), DEFAULT_ASSOCIATION, rw);
  properties[PROP_OBJECT_CLASS] = g_param_spec_string ("object-class",
      "Object class", "ROI types to track (comma-separated; empty: every "
      "ROI but imgrec full-frame ones)", NULL, rw);
  properties[PROP_SHOW_PREDICTED] = g_param_spec_boolean ("show-predicted",
      "Show predicted", "On frames without regions, add an ROI at each "
      "confirmed track's predicted box", DEFAULT_SHOW_PREDICTED,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_POST_MESSAGES] = g_param_spec_boolean ("post-messages",
      "Post messages", "Post imgrec-track-new and imgrec-track-lost element "
      "messages", DEFAULT_POST_MESSAGES,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_properties (gobject_class, N_PROPERTIES, properties);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "imgrec object tracker", "Filter/Analyzer/Video",
      "Follows detected regions across frames (Kalman + IoU, ByteTrack-style)"
      " and gives each object a stable id", "imgrec developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_imgrec_track_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_imgrec_track_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_imgrec_track_set_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_imgrec_track_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_imgrec_track_transform_ip);
  trans_class->transform_ip_on_passthrough = FALSE;

  gst_type_mark_as_plugin_api (gst_imgrec_association_get_type (), 0);
}

static void
gst_imgrec_track_init (GstImgRecTrack * self)
{
  imgrec_tracker_params_default (&self->params);
  self->params.max_age = DEFAULT_MAX_AGE;
  self->params.min_hits = DEFAULT_MIN_HITS;
  self->params.max_tracks = DEFAULT_MAX_TRACKS;
  self->max_age_time = DEFAULT_MAX_AGE_TIME;
  self->show_predicted = DEFAULT_SHOW_PREDICTED;
  self->post_messages = DEFAULT_POST_MESSAGES;
  self->class_quarks = g_array_new (FALSE, FALSE, sizeof (GQuark));
  self->rois = g_ptr_array_new ();
  self->dets = g_array_new (FALSE, FALSE, sizeof (imgrec_track_input));
  self->det_track = g_array_new (FALSE, FALSE, sizeof (gint));
  self->first_seen = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      g_free, g_free);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
}
