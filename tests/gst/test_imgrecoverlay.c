/* gst-check tests of imgrecoverlay: it draws inside the label and box areas
 * and leaves the rest of the frame untouched, on RGB and YUV frames; the
 * results of one box are stacked lines of one block; the camera alarm's
 * banner.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <string.h>

#include "gstimgrecmeta.h"
#include "gstimgrecdetectmeta.h"
#include "gstimgrecganmeta.h"

#define W 240
#define H 120

static GstBuffer *
grey_frame (GstVideoInfo * info)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info),
      NULL);

  /* 0x80 in every byte is mid grey in RGB and in YUV */
  gst_buffer_memset (buf, 0, 0x80, GST_VIDEO_INFO_SIZE (info));
  return buf;
}

/* Whether any byte of the first plane differs inside [x0,x1)x[y0,y1). */
static gboolean
changed_in (const GstVideoInfo * info, GstBuffer * a, GstBuffer * b, gint x0,
    gint y0, gint x1, gint y1)
{
  GstVideoFrame fa, fb;
  gboolean changed = FALSE;
  gint ps = GST_VIDEO_FORMAT_INFO_PSTRIDE (info->finfo, 0);

  fail_unless (gst_video_frame_map (&fa, info, a, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fb, info, b, GST_MAP_READ));
  for (gint y = y0; y < y1 && !changed; y++) {
    const guint8 *ra = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fa, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&fa, 0);
    const guint8 *rb = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fb, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&fb, 0);
    if (memcmp (ra + x0 * ps, rb + x0 * ps, (x1 - x0) * ps) != 0)
      changed = TRUE;
  }
  gst_video_frame_unmap (&fa);
  gst_video_frame_unmap (&fb);
  return changed;
}

static void
check_format (GstVideoFormat format)
{
  GstHarness *h = gst_harness_new_parse ("imgrecoverlay font-size=16");
  GstVideoInfo info;
  GstBuffer *in, *ref, *out;
  GstImgRecClassificationMeta *whole, *region;

  gst_video_info_set_format (&info, format, W, H);
  info.fps_n = 30;
  info.fps_d = 1;
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
  in = grey_frame (&info);
  ref = gst_buffer_copy_deep (in);

  whole = gst_buffer_add_imgrec_classification_meta (in, "m", "classifier-a");
  gst_imgrec_classification_meta_set_region (whole, 0, 0, 0, W, H);
  gst_imgrec_classification_meta_set_decision (whole, 0, "cat", 0.9f);
  region = gst_buffer_add_imgrec_classification_meta (in, "m", "classifier-b");
  gst_imgrec_classification_meta_set_region (region, 1, 140, 60, 80, 40);
  gst_imgrec_classification_meta_set_decision (region, 1, "dog", 0.8f);

  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  /* the whole-frame label in the top-left corner */
  fail_unless (changed_in (&info, ref, out, 0, 0, 20, 10),
      "%s: no label drawn", gst_video_format_to_string (format));
  /* the region's box edges (left edge and top edge) */
  fail_unless (changed_in (&info, ref, out, 140, 80, 142, 90),
      "%s: no left box edge", gst_video_format_to_string (format));
  fail_unless (changed_in (&info, ref, out, 200, 98, 210, 100),
      "%s: no bottom box edge", gst_video_format_to_string (format));
  /* the region's label above its top edge */
  fail_unless (changed_in (&info, ref, out, 142, 45, 150, 58),
      "%s: no region label", gst_video_format_to_string (format));
  /* untouched: the region's inside, and the area between */
  fail_if (changed_in (&info, ref, out, 150, 66, 210, 92),
      "%s: drew inside the box", gst_video_format_to_string (format));
  fail_if (changed_in (&info, ref, out, 10, 60, 120, 118),
      "%s: drew outside the label and box areas",
      gst_video_format_to_string (format));
  /* the metas pass through */
  fail_unless_equals_int (gst_buffer_get_n_imgrec_classification_metas (out),
      2);
  gst_buffer_unref (out);
  gst_buffer_unref (ref);
  gst_harness_teardown (h);
}

GST_START_TEST (test_draws_labels_and_boxes_only_there)
{
  check_format (GST_VIDEO_FORMAT_RGB);
  check_format (GST_VIDEO_FORMAT_BGRx);
  check_format (GST_VIDEO_FORMAT_RGBA);
  check_format (GST_VIDEO_FORMAT_I420);
  check_format (GST_VIDEO_FORMAT_NV12);
}

GST_END_TEST;

/* An overlay harness parsed from @desc on RGBx W x H frames; @in is a grey
 * frame to draw on and @ref an untouched copy of it. */
static GstHarness *
rgbx_harness (const gchar * desc, GstVideoInfo * info, GstBuffer ** in,
    GstBuffer ** ref)
{
  GstHarness *h = gst_harness_new_parse (desc);

  gst_video_info_set_format (info, GST_VIDEO_FORMAT_RGBx, W, H);
  info->fps_n = 30;
  info->fps_d = 1;
  gst_harness_set_src_caps (h, gst_video_info_to_caps (info));
  *in = grey_frame (info);
  *ref = gst_buffer_copy_deep (*in);
  return h;
}

static void
set_region (GstImgRecResultInfo * info, gint roi_id, gint x, gint y, guint w,
    guint h)
{
  info->roi_id = roi_id;
  info->x = x;
  info->y = y;
  info->width = w;
  info->height = h;
}

GST_START_TEST (test_show_carried_false_hides_carried_results)
{
  GstVideoInfo info;
  GstBuffer *in, *ref, *out;
  GstHarness *h = rgbx_harness ("imgrecoverlay show-carried=false", &info,
      &in, &ref);
  GstImgRecClassificationMeta *meta;

  meta = gst_buffer_add_imgrec_classification_meta (in, "m", "c");
  gst_imgrec_classification_meta_set_region (meta, 0, 0, 0, W, H);
  gst_imgrec_classification_meta_set_decision (meta, 0, "cat", 0.9f);
  meta->info.flags |= GST_IMGREC_RESULT_FLAG_CARRIED;
  out = gst_harness_push_and_pull (h, in);
  fail_if (changed_in (&info, ref, out, 0, 0, W, H));
  gst_buffer_unref (out);
  gst_buffer_unref (ref);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* min-confidence reads each kind's own confidence: a detection below it is
 * hidden (box and label), one above it drawn; a track has no confidence and
 * is always drawn. */
GST_START_TEST (test_min_confidence_per_kind)
{
  GstVideoInfo info;
  GstBuffer *in, *ref, *out;
  GstHarness *h = rgbx_harness ("imgrecoverlay font-size=12 "
      "min-confidence=0.5", &info, &in, &ref);
  GstImgRecDetectionMeta *low, *high;
  GstImgRecTrackMeta *track;

  low = gst_buffer_add_imgrec_detection_meta (in, "m", "det");
  low->info.x = 10;
  low->info.y = 40;
  low->info.width = 50;
  low->info.height = 40;
  low->label = g_intern_static_string ("car");
  low->confidence = 0.3f;
  high = gst_buffer_add_imgrec_detection_meta (in, "m", "det");
  high->info.x = 90;
  high->info.y = 40;
  high->info.width = 50;
  high->info.height = 40;
  high->label = g_intern_static_string ("bus");
  high->confidence = 0.8f;
  track = gst_buffer_add_imgrec_track_meta (in, "trk");
  track->info.x = 170;
  track->info.y = 40;
  track->info.width = 50;
  track->info.height = 40;
  track->track_id = 3;
  out = gst_harness_push_and_pull (h, in);
  fail_if (changed_in (&info, ref, out, 0, 20, 80, H),
      "drew a detection below min-confidence");
  fail_unless (changed_in (&info, ref, out, 90, 40, 140, 80),
      "no box for the detection above min-confidence");
  fail_unless (changed_in (&info, ref, out, 170, 40, 220, 80),
      "no box for the track");
  gst_buffer_unref (out);
  gst_buffer_unref (ref);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Rows of [x0,x1)x[y0,y1) of an RGBx frame holding white text pixels (all
 * three channels above 220: the overlay's text, neither the grey frame nor
 * a label background), counted as runs of consecutive rows; @tallest gets
 * the height of the tallest run. */
static gint
text_row_runs (const GstVideoInfo * info, GstBuffer * buf, gint x0, gint y0,
    gint x1, gint y1, gint * tallest)
{
  GstVideoFrame f;
  gint runs = 0, run = 0;

  *tallest = 0;
  fail_unless (gst_video_frame_map (&f, info, buf, GST_MAP_READ));
  for (gint y = y0; y < y1; y++) {
    const guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
    gboolean text = FALSE;
    for (gint x = x0; x < x1 && !text; x++)
      text = row[4 * x] > 220 && row[4 * x + 1] > 220 && row[4 * x + 2] > 220;
    if (text && run++ == 0)
      runs++;
    if (!text)
      run = 0;
    *tallest = MAX (*tallest, run);
  }
  gst_video_frame_unmap (&f);
  return runs;
}

/* A track, a detection and a classification of one box: three lines of
 * text, one under the other, in one block above the box (labels without
 * descenders, so that lines are told apart by the empty rows between). */
GST_START_TEST (test_results_of_one_box_stack_into_lines)
{
  GstVideoInfo info;
  GstBuffer *in, *ref, *out;
  GstHarness *h = rgbx_harness ("imgrecoverlay font-size=16", &info, &in,
      &ref);
  GstImgRecDetectionMeta *det;
  GstImgRecTrackMeta *track;
  GstImgRecClassificationMeta *cls;
  gint runs, tallest;

  det = gst_buffer_add_imgrec_detection_meta (in, "m", "det");
  set_region (&det->info, 4, 60, 70, 40, 30);
  det->label = g_intern_static_string ("CAR");
  det->confidence = 0.9f;
  track = gst_buffer_add_imgrec_track_meta (in, "trk");
  set_region (&track->info, 4, 60, 70, 40, 30);
  track->track_id = 3;
  cls = gst_buffer_add_imgrec_classification_meta (in, "m", "cls");
  /* a pixel wider, as a region widened to the chroma grid: same ROI */
  set_region (&cls->info, 4, 60, 70, 41, 30);
  gst_imgrec_classification_meta_set_decision (cls, 0, "BMW", 0.8f);
  out = gst_harness_push_and_pull (h, in);

  runs = text_row_runs (&info, out, 0, 0, W, 70, &tallest);
  fail_unless_equals_int (runs, 3);
  fail_unless (tallest <= 16, "a text line %d px tall: lines overlap",
      tallest);
  /* nothing inside the box: the track's id is in the block too */
  fail_if (changed_in (&info, ref, out, 64, 74, 96, 96), "drew inside the box");
  gst_buffer_unref (out);
  gst_buffer_unref (ref);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The whole-frame realism score of imgrecgan mode=discriminate: in the
 * anomaly state a red banner spans the top of the frame; otherwise only
 * the score's label in the corner is drawn; a region's anomaly is no
 * camera alarm. */
static GstBuffer *
push_realism (GstHarness * h, GstBuffer * in, gboolean anomaly,
    gboolean whole)
{
  GstImgRecGanMeta *g = gst_buffer_add_imgrec_gan_meta (in,
      GST_IMGREC_GAN_ROLE_DISCRIMINATED, "disc", "gan");

  if (whole)
    set_region (&g->info, 0, 0, 0, W, H);
  else
    set_region (&g->info, 1, 100, 60, 40, 40);
  g->score = 0.17f;
  g->anomaly = anomaly;
  return gst_harness_push_and_pull (h, in);
}

static gboolean
is_red (const GstVideoInfo * info, GstBuffer * buf, gint x, gint y)
{
  GstVideoFrame f;
  const guint8 *p;
  gboolean red;

  fail_unless (gst_video_frame_map (&f, info, buf, GST_MAP_READ));
  p = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0) +
      y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0) + 4 * x;
  red = p[0] > 150 && p[1] < 60 && p[2] < 60;
  gst_video_frame_unmap (&f);
  return red;
}

GST_START_TEST (test_alarm_banner_only_on_alarm_frames)
{
  GstVideoInfo info;
  GstBuffer *in, *ref, *out;
  GstHarness *h = rgbx_harness ("imgrecoverlay font-size=12", &info, &in,
      &ref);
  gint bottom;

  out = push_realism (h, in, TRUE, TRUE);
  fail_unless (is_red (&info, out, 1, 1) && is_red (&info, out, W - 2, 1),
      "no banner on an alarm frame");
  for (bottom = 1; bottom < H && is_red (&info, out, W - 2, bottom); bottom++);
  fail_unless (bottom >= 12 && bottom < H / 2, "a banner %d px tall", bottom);
  /* the corner label is under the banner */
  fail_if (is_red (&info, out, 12, bottom + 2));
  fail_unless (changed_in (&info, ref, out, 0, bottom, 20, bottom + 8));
  gst_buffer_unref (out);

  out = push_realism (h, grey_frame (&info), FALSE, TRUE);
  fail_if (changed_in (&info, ref, out, W / 2, 0, W, H),
      "drew beyond the corner label without an alarm");
  fail_unless (changed_in (&info, ref, out, 0, 0, 20, 10), "no realism label");
  gst_buffer_unref (out);

  out = push_realism (h, grey_frame (&info), TRUE, FALSE);
  fail_if (changed_in (&info, ref, out, 0, 0, W, 30),
      "a region's anomaly raised the camera banner");
  gst_buffer_unref (out);
  gst_buffer_unref (ref);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
imgrecoverlay_suite (void)
{
  Suite *s = suite_create ("imgrecoverlay");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_draws_labels_and_boxes_only_there);
  tcase_add_test (tc, test_show_carried_false_hides_carried_results);
  tcase_add_test (tc, test_min_confidence_per_kind);
  tcase_add_test (tc, test_results_of_one_box_stack_into_lines);
  tcase_add_test (tc, test_alarm_banner_only_on_alarm_frames);
  return s;
}

GST_CHECK_MAIN (imgrecoverlay);
