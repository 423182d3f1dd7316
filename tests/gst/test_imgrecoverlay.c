/* gst-check tests of imgrecoverlay: it draws inside the label and box areas
 * and leaves the rest of the frame untouched, on RGB and YUV frames.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <string.h>

#include "gstimgrecmeta.h"
#include "gstimgrecdetectmeta.h"

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

static Suite *
imgrecoverlay_suite (void)
{
  Suite *s = suite_create ("imgrecoverlay");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_draws_labels_and_boxes_only_there);
  tcase_add_test (tc, test_show_carried_false_hides_carried_results);
  tcase_add_test (tc, test_min_confidence_per_kind);
  return s;
}

GST_CHECK_MAIN (imgrecoverlay);
