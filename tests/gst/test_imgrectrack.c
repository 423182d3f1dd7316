/* imgrectrack element tests (GstHarness): stable ids on moving regions,
 * DL Streamer's object_id and imgrec's params, predicted boxes on frames
 * without detections, new/lost messages, resets that never reuse ids, and
 * imgrecdetect ! imgrectrack.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

#include "gstimgrecmeta.h"
#include "gstimgrecdetectmeta.h"
#include "gstimgrecseqmeta.h"

#define W 640
#define H 480

static GstHarness *
track_harness (const gchar * props)
{
  gchar *desc = g_strdup_printf ("imgrectrack name=t %s", props ? props : "");
  GstHarness *h = gst_harness_new_parse (desc);
  GstVideoInfo info;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_GRAY8, W, H);
  info.fps_n = 30;
  info.fps_d = 1;
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  g_free (desc);
  return h;
}

static GstBuffer *
frame (gint n)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, W * H, NULL);

  GST_BUFFER_PTS (buf) = n * GST_SECOND / 30;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

static void
add_box (GstBuffer * buf, const gchar * type, gint id, gint x, gint y, gint w,
    gint h, gdouble conf)
{
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_add_video_region_of_interest_meta (buf, type, x, y, w, h);
  roi->id = id;
  gst_video_region_of_interest_meta_add_param (roi,
      gst_structure_new ("detection", "confidence", G_TYPE_DOUBLE, conf, NULL));
}

/* The tracking id on ROI `roi_id` (0 if none), checking that the three
 * forms agree. */
static guint64
track_id_of (GstBuffer * buf, gint roi_id)
{
  GstVideoRegionOfInterestMeta *roi =
      gst_buffer_get_video_region_of_interest_meta_id (buf, roi_id);
  GstStructure *s, *o;
  GstImgRecTrackMeta *m;
  guint64 id;
  gint oid;

  fail_unless (roi != NULL);
  s = gst_video_region_of_interest_meta_get_param (roi, "imgrec-track");
  o = gst_video_region_of_interest_meta_get_param (roi, "object_id");
  m = gst_buffer_get_imgrec_track_meta_for_roi (buf, roi_id);
  if (s == NULL) {
    fail_unless (o == NULL && m == NULL);
    return 0;
  }
  fail_unless (gst_structure_get_uint64 (s, "tracking-id", &id));
  fail_unless (o != NULL && gst_structure_get_int (o, "id", &oid));
  fail_unless_equals_int (oid, (gint) id);
  fail_unless (m != NULL);
  fail_unless_equals_uint64 (m->track_id, id);
  return id;
}

/* Two people walking towards each other and crossing: ids appear after
 * min-hits frames and never switch. */
GST_START_TEST (test_crossing_ids_stable)
{
  GstHarness *h = track_harness (NULL);
  guint64 a = 0, b = 0;
  gint f;

  for (f = 0; f < 60; f++) {
    GstBuffer *in = frame (f), *out;
    guint64 ia, ib;
    add_box (in, "person", 0, 50 + 8 * f, 100, 40, 90, 0.9);
    add_box (in, "person", 1, 530 - 8 * f, 115, 40, 90, 0.85);
    out = gst_harness_push_and_pull (h, in);
    ia = track_id_of (out, 0);
    ib = track_id_of (out, 1);
    if (f < 2) {
      fail_unless (ia == 0 && ib == 0, "confirmed before min-hits");
    } else if (f == 2) {
      a = ia;
      b = ib;
      fail_unless (a > 0 && b > 0 && a != b);
    } else {
      fail_unless_equals_uint64 (ia, a);
      fail_unless_equals_uint64 (ib, b);
    }
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Frames without regions keep predicted boxes on the objects (skipped
 * inferences); the next detection continues the same id. */
GST_START_TEST (test_prediction_between_inferences)
{
  GstHarness *h = track_harness (NULL);
  guint64 id = 0;
  gint f;

  for (f = 0; f < 30; f++) {
    GstBuffer *in = frame (f), *out;
    gboolean inferred = f < 6 || f % 3 == 0;
    if (inferred)
      add_box (in, "car", 0, 20 + 10 * f, 200, 60, 40, 0.9);
    out = gst_harness_push_and_pull (h, in);
    if (inferred) {
      guint64 got = track_id_of (out, 0);
      if (f == 2)
        id = got;
      if (f >= 2)
        fail_unless_equals_uint64 (got, id);
    } else {
      GList *tracks = gst_buffer_get_imgrec_track_metas (out);
      GstImgRecTrackMeta *m;
      GstVideoRegionOfInterestMeta *roi;
      fail_unless_equals_int (g_list_length (tracks), 1);
      m = tracks->data;
      fail_unless_equals_uint64 (m->track_id, id);
      fail_unless_equals_int (m->state, GST_IMGREC_TRACK_STATE_PREDICTED);
      fail_unless (m->time_since_update >= 1);
      roi = gst_buffer_get_video_region_of_interest_meta_id (out,
          m->info.roi_id);
      fail_unless (roi != NULL);
      fail_unless_equals_string (g_quark_to_string (roi->roi_type), "car");
      /* the prediction follows the motion (10 px a frame) */
      fail_unless (abs ((gint) roi->x - (20 + 10 * f)) <= 4,
          "frame %d: predicted x %u, object at %d", f, roi->x, 20 + 10 * f);
      g_list_free (tracks);
    }
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

static guint
count_messages (GstBus * bus, const gchar * name, const gchar * reason,
    guint64 * last_id)
{
  GstMessage *msg;
  guint n = 0;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, name) && (reason == NULL
            || g_strcmp0 (gst_structure_get_string (s, "reason"), reason) == 0)) {
      n++;
      if (last_id)
        fail_unless (gst_structure_get_uint64 (s, "track-id", last_id));
      fail_unless (gst_structure_has_field (s, "first-seen"));
      fail_unless (gst_structure_has_field (s, "label"));
    }
    gst_message_unref (msg);
  }
  return n;
}

/* An object that appears and leaves: one new message, one lost message
 * max-age frames after it left. */
GST_START_TEST (test_new_and_lost_messages)
{
  GstHarness *h = track_harness ("max-age=5");
  GstBus *bus = gst_bus_new ();
  guint64 id = 0;
  gint f;

  gst_element_set_bus (h->element, bus);
  for (f = 0; f < 20; f++) {
    GstBuffer *in = frame (f);
    if (f < 10)
      add_box (in, "bike", 0, 100 + 5 * f, 100, 30, 30, 0.9);
    gst_buffer_unref (gst_harness_push_and_pull (h, in));
    if (f == 2)
      fail_unless_equals_int (count_messages (bus, "imgrec-track-new", NULL,
              &id), 1);
    if (f == 14)
      fail_unless_equals_int (count_messages (bus, "imgrec-track-lost",
              "expired", NULL), 0);
  }
  fail_unless_equals_uint64 (id, 1);
  /* last seen at frame 9: gone after 5 missed frames, at frame 15 */
  fail_unless_equals_int (count_messages (bus, "imgrec-track-lost", "expired",
          NULL), 1);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A flushing seek and a new stream end every track; the ids that follow are
 * new. */
GST_START_TEST (test_resets_never_reuse_ids)
{
  GstHarness *h = track_harness (NULL);
  GstBus *bus = gst_bus_new ();
  guint64 first = 0, second = 0, third = 0;
  gint f;

  gst_element_set_bus (h->element, bus);
  for (f = 0; f < 5; f++) {
    GstBuffer *in = frame (f), *out;
    add_box (in, "car", 0, 100, 100, 50, 50, 0.9);
    out = gst_harness_push_and_pull (h, in);
    first = track_id_of (out, 0);
    gst_buffer_unref (out);
  }
  fail_unless (first > 0);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  fail_unless_equals_int (count_messages (bus, "imgrec-track-lost", "reset",
          NULL), 1);
  {
    GstSegment seg;
    gst_segment_init (&seg, GST_FORMAT_TIME);
    gst_harness_push_event (h, gst_event_new_segment (&seg));
  }
  for (f = 0; f < 5; f++) {
    GstBuffer *in = frame (f), *out;
    add_box (in, "car", 0, 100, 100, 50, 50, 0.9);
    out = gst_harness_push_and_pull (h, in);
    if (f < 2) {
      fail_unless_equals_uint64 (track_id_of (out, 0), 0);
    } else {
      second = track_id_of (out, 0);
    }
    gst_buffer_unref (out);
  }
  fail_unless (second > first);

  /* a DISCONT buffer resets too */
  for (f = 5; f < 10; f++) {
    GstBuffer *in = frame (f), *out;
    if (f == 5)
      GST_BUFFER_FLAG_SET (in, GST_BUFFER_FLAG_DISCONT);
    add_box (in, "car", 0, 100, 100, 50, 50, 0.9);
    out = gst_harness_push_and_pull (h, in);
    third = track_id_of (out, 0);
    gst_buffer_unref (out);
  }
  fail_unless (third > second);

  /* a new stream ends the tracks too */
  count_messages (bus, "imgrec-track-lost", NULL, NULL);
  fail_unless (gst_harness_push_event (h, gst_event_new_stream_start ("s2")));
  fail_unless_equals_int (count_messages (bus, "imgrec-track-lost", "reset",
          NULL), 1);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A weak detection (ByteTrack's second pass) keeps its track; with
 * low-threshold = high-threshold it does not. */
GST_START_TEST (test_weak_detections_continue_tracks)
{
  const gchar *props[2] = { NULL, "low-threshold=0.5" };
  gint k;

  for (k = 0; k < 2; k++) {
    GstHarness *h = track_harness (props[k]);
    guint n_tracked_weak = 0;
    gint f;
    for (f = 0; f < 20; f++) {
      GstBuffer *in = frame (f), *out;
      gboolean weak = f >= 8 && f < 14;
      add_box (in, "person", 0, 100 + 4 * f, 80, 30, 80, weak ? 0.3 : 0.9);
      out = gst_harness_push_and_pull (h, in);
      if (weak && track_id_of (out, 0) != 0)
        n_tracked_weak++;
      gst_buffer_unref (out);
    }
    fail_unless_equals_int (n_tracked_weak, k == 0 ? 6 : 0);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* imgrecdetect ! imgrectrack: the detector's confident boxes get ids on
 * the third frame, the same ids afterwards. */
GST_START_TEST (test_detect_then_track)
{
  const gchar *dir = g_getenv ("IMGREC_GST_TEST_DATA");
  gchar *model = g_build_filename (dir, "det-yolov8-const.onnx", NULL);
  gchar *desc = g_strdup_printf ("imgrecdetect model=\"%s\" ! imgrectrack",
      model);
  GstHarness *h = gst_harness_new_parse (desc);
  GstVideoInfo info;
  GList *first = NULL;
  gint f;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 1280, 720);
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  for (f = 0; f < 6; f++) {
    GstBuffer *in = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info),
        NULL), *out;
    GList *tracks, *l, *p;
    gst_buffer_memset (in, 0, 0x80, GST_VIDEO_INFO_SIZE (&info));
    GST_BUFFER_PTS (in) = f * GST_SECOND / 30;
    out = gst_harness_push_and_pull (h, in);
    tracks = gst_buffer_get_imgrec_track_metas (out);
    /* the 0.55 bike is below new-track-threshold (0.6): never tracked */
    fail_unless_equals_int (g_list_length (tracks), f < 2 ? 0 : 4);
    if (f == 2) {
      for (l = tracks; l; l = l->next)
        first = g_list_append (first, GUINT_TO_POINTER ((guint)
                ((GstImgRecTrackMeta *) l->data)->track_id));
    } else if (f > 2) {
      for (l = tracks, p = first; l && p; l = l->next, p = p->next)
        fail_unless_equals_int ((guint) ((GstImgRecTrackMeta *) l->data)->
            track_id, GPOINTER_TO_UINT (p->data));
    }
    for (l = tracks; l; l = l->next)
      fail_unless_equals_string (gst_imgrec_meta_get_kind (l->data), "track");
    g_list_free (tracks);
    gst_buffer_unref (out);
  }
  g_list_free (first);
  gst_harness_teardown (h);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* imgrecclassify roi=roi-list on tracked objects classifies each track
 * once every inference-interval frames and carries its result, by tracking
 * id, in between. */
GST_START_TEST (test_classify_carries_per_track)
{
  const gchar *dir = g_getenv ("IMGREC_GST_TEST_DATA");
  gchar *det = g_build_filename (dir, "det-yolov8-const.onnx", NULL);
  gchar *cls = g_build_filename (dir, "mean-colour.onnx", NULL);
  gchar *desc = g_strdup_printf ("imgrecdetect model=\"%s\" ! imgrectrack ! "
      "imgrecclassify model=\"%s\" roi=roi-list inference-interval=4", det,
      cls);
  GstHarness *h = gst_harness_new_parse (desc);
  GstVideoInfo info;
  gint f;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 1280, 720);
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  for (f = 0; f < 9; f++) {
    GstBuffer *in = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info),
        NULL), *out;
    GList *metas, *l;
    guint carried = 0, n = 0;
    gst_buffer_memset (in, 0, 0x80, GST_VIDEO_INFO_SIZE (&info));
    GST_BUFFER_PTS (in) = f * GST_SECOND / 30;
    out = gst_harness_push_and_pull (h, in);
    metas = gst_buffer_get_imgrec_classification_metas (out);
    for (l = metas; l; l = l->next) {
      GstImgRecClassificationMeta *m = l->data;
      GstVideoRegionOfInterestMeta *roi =
          gst_buffer_get_video_region_of_interest_meta_id (out, m->info.roi_id);
      fail_unless (roi != NULL);
      n++;
      if (m->info.flags & GST_IMGREC_RESULT_FLAG_CARRIED)
        carried++;
    }
    fail_unless_equals_int (n, 5);
    if (f == 0 || f == 4 || f == 8) {
      fail_unless_equals_int (carried, 0);
    } else if (f == 2) {
      /* tracks are confirmed now: their ids have no result yet */
      fail_unless_equals_int (carried, 1);
    } else {
      fail_unless_equals_int (carried, 5);
    }
    g_list_free (metas);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
  g_free (desc);
  g_free (det);
  g_free (cls);
}

GST_END_TEST;

/* imgrecoverlay draws the detections' boxes and the tracks' ids. */
GST_START_TEST (test_overlay_draws_boxes_and_ids)
{
  const gchar *dir = g_getenv ("IMGREC_GST_TEST_DATA");
  gchar *model = g_build_filename (dir, "det-yolov8-const.onnx", NULL);
  gchar *desc = g_strdup_printf ("imgrecdetect model=\"%s\" ! imgrectrack ! "
      "imgrecoverlay", model);
  GstHarness *h = gst_harness_new_parse (desc);
  GstVideoInfo info;
  GstVideoFrame vf;
  GstBuffer *out = NULL;
  const guint8 *p;
  gint f, stride, changed_border = 0, changed_inside = 0, y;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 1280, 720);
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  for (f = 0; f < 4; f++) {
    GstBuffer *in = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info),
        NULL);
    gst_buffer_memset (in, 0, 0x80, GST_VIDEO_INFO_SIZE (&info));
    GST_BUFFER_PTS (in) = f * GST_SECOND / 30;
    if (out)
      gst_buffer_unref (out);
    out = gst_harness_push_and_pull (h, in);
  }
  fail_unless (gst_video_frame_map (&vf, &info, out, GST_MAP_READ));
  p = GST_VIDEO_FRAME_PLANE_DATA (&vf, 0);
  stride = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0);
  /* the car (300,280)-(500,440): its left edge is drawn, its middle not */
  for (y = 300; y < 420; y++) {
    if (p[y * stride + 301 * 3] != 0x80)
      changed_border++;
    if (p[y * stride + 400 * 3] != 0x80)
      changed_inside++;
  }
  fail_unless_equals_int (changed_border, 120);
  fail_unless_equals_int (changed_inside, 0);
  /* the track's id and the detection's label: one block of two lines
   * (24 px font) on the box's top edge, nothing at its bottom */
  changed_border = 0;
  for (y = 280 - 56; y < 280; y++)
    if (p[y * stride + 320 * 3] != 0x80)
      changed_border++;
  fail_unless_equals_int (changed_border, 56);
  changed_inside = 0;
  for (y = 420; y < 436; y++)
    if (p[y * stride + 320 * 3] != 0x80)
      changed_inside++;
  fail_unless_equals_int (changed_inside, 0);
  gst_video_frame_unmap (&vf);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* imgrectrack ! imgrecseq scope=roi object-class=car: one state per tracked
 * car, keyed by its tracking id; the person is not recognised. */
GST_START_TEST (test_seq_keys_on_track_ids)
{
  const gchar *dir = g_getenv ("IMGREC_SEQ_TEST_DATA");
  gchar *model, *desc;
  GstHarness *h;
  GstVideoInfo info;
  guint64 id = 0;
  gint f;

  if (dir == NULL) {
    GST_INFO ("IMGREC_SEQ_TEST_DATA not set: skipped");
    return;
  }
  model = g_build_filename (dir, "seq-step.onnx", NULL);
  desc = g_strdup_printf ("imgrectrack min-hits=1 ! imgrecseq model=\"%s\" "
      "scope=roi object-class=car", model);
  h = gst_harness_new_parse (desc);
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 32, 16);
  info.fps_n = 30;
  info.fps_d = 1;
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  for (f = 0; f < 5; f++) {
    GstBuffer *in = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info),
        NULL), *out;
    GstImgRecSequenceMeta *m;
    gst_buffer_memset (in, 0, 40 * f, GST_VIDEO_INFO_SIZE (&info));
    GST_BUFFER_PTS (in) = f * GST_SECOND / 30;
    add_box (in, "car", 10 + f, 0, 0, 16, 16, 0.9);
    add_box (in, "person", 20 + f, 16, 0, 16, 16, 0.9);
    out = gst_harness_push_and_pull (h, in);
    fail_unless_equals_int (gst_buffer_get_n_imgrec_sequence_metas (out), 1);
    m = gst_buffer_get_imgrec_sequence_meta_for_roi (out, 10 + f);
    fail_unless (m != NULL, "frame %d: the car was not recognised", f);
    if (f == 0)
      id = track_id_of (out, 10 + f);
    fail_unless (id > 0);
    /* the ROI id changes every frame; the state follows the track */
    fail_unless_equals_int64 (m->scope_id, (gint64) id);
    fail_unless_equals_uint64 (m->steps, (guint64) f + 1);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

static Suite *
imgrectrack_suite (void)
{
  Suite *s = suite_create ("imgrectrack");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_crossing_ids_stable);
  tcase_add_test (tc, test_prediction_between_inferences);
  tcase_add_test (tc, test_new_and_lost_messages);
  tcase_add_test (tc, test_resets_never_reuse_ids);
  tcase_add_test (tc, test_weak_detections_continue_tracks);
  tcase_add_test (tc, test_detect_then_track);
  tcase_add_test (tc, test_classify_carries_per_track);
  tcase_add_test (tc, test_overlay_draws_boxes_and_ids);
  tcase_add_test (tc, test_seq_keys_on_track_ids);
  return s;
}

GST_CHECK_MAIN (imgrectrack);
