/* imgrecdetect element tests (GstHarness): every decoder on models with
 * known outputs, YOLOv8-style networks against a NumPy reference, letterbox
 * inversion for whole frames and regions, the ROI params DL Streamer reads,
 * messages, errors.  Models and expected boxes: make_detect_models.py.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gstimgrecmeta.h"
#include "gstimgrecdetectmeta.h"

static const gchar *LABELS[3] = { "car", "person", "bike" };

static gchar *
data_path (const gchar * name)
{
  const gchar *dir = g_getenv ("IMGREC_GST_TEST_DATA");
  fail_unless (dir != NULL, "IMGREC_GST_TEST_DATA is not set");
  return g_build_filename (dir, name, NULL);
}

typedef struct {
  gdouble x0, y0, x1, y1, score;
  gint class_id;
} Expected;

/* expected-*.txt: "threshold iou", then one object per line */
static GArray *
read_expected (const gchar * name, gdouble * threshold, gdouble * iou)
{
  gchar *path = data_path (name), *text = NULL, **lines;
  GArray *a = g_array_new (FALSE, FALSE, sizeof (Expected));
  guint i;

  fail_unless (g_file_get_contents (path, &text, NULL, NULL), "no %s", path);
  lines = g_strsplit (text, "\n", -1);
  fail_unless (sscanf (lines[0], "%lf %lf", threshold, iou) == 2);
  for (i = 1; lines[i]; i++) {
    Expected e;
    if (sscanf (lines[i], "%lf %lf %lf %lf %lf %d", &e.x0, &e.y0, &e.x1, &e.y1,
            &e.score, &e.class_id) == 6)
      g_array_append_val (a, e);
  }
  g_strfreev (lines);
  g_free (text);
  g_free (path);
  return a;
}

static GstBuffer *
gray_frame (GstVideoFormat format, gint w, gint h, GstVideoInfo * info)
{
  GstBuffer *buf;

  gst_video_info_set_format (info, format, w, h);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info), NULL);
  gst_buffer_memset (buf, 0, 0x80, GST_VIDEO_INFO_SIZE (info));
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
  return buf;
}

static GstHarness *
detect_harness (const gchar * model, const gchar * extra, const GstVideoInfo * info)
{
  gchar *path = data_path (model);
  gchar *desc = g_strdup_printf ("imgrecdetect name=d model=\"%s\" %s", path,
      extra ? extra : "");
  GstHarness *h = gst_harness_new_parse (desc);
  GstCaps *caps = gst_video_info_to_caps (info);

  gst_harness_set_src_caps (h, caps);
  g_free (desc);
  g_free (path);
  return h;
}

/* The detections of a buffer match the expected list, in order, with their
 * ROIs and both ROI params. */
static void
check_detections (GstBuffer * out, const GArray * expected, gint fw, gint fh,
    gdouble tol, gint parent_id)
{
  GList *metas = gst_buffer_get_imgrec_detection_metas (out), *l;
  guint i = 0;

  fail_unless_equals_int (g_list_length (metas), expected->len);
  for (l = metas; l; l = l->next, i++) {
    GstImgRecDetectionMeta *m = l->data;
    const Expected *e = &g_array_index (expected, Expected, i);
    GstVideoRegionOfInterestMeta *roi;
    GstStructure *s;
    gdouble v;
    gint id;
    const gchar *label;

    fail_unless (fabs (m->x_min - e->x0) <= tol, "object %u x_min %f, expected %f",
        i, m->x_min, e->x0);
    fail_unless (fabs (m->y_min - e->y0) <= tol, "object %u y_min %f, expected %f",
        i, m->y_min, e->y0);
    fail_unless (fabs (m->x_max - e->x1) <= tol, "object %u x_max %f, expected %f",
        i, m->x_max, e->x1);
    fail_unless (fabs (m->y_max - e->y1) <= tol, "object %u y_max %f, expected %f",
        i, m->y_max, e->y1);
    fail_unless (fabs (m->confidence - e->score) <= 1e-4,
        "object %u confidence %f, expected %f", i, m->confidence, e->score);
    fail_unless_equals_int (m->class_id, e->class_id);
    fail_unless_equals_string (m->label, LABELS[e->class_id]);
    fail_unless_equals_int (m->parent_id, parent_id);

    roi = gst_buffer_get_video_region_of_interest_meta_id (out, m->info.roi_id);
    fail_unless (roi != NULL);
    fail_unless_equals_string (g_quark_to_string (roi->roi_type),
        LABELS[e->class_id]);
    fail_unless_equals_int (roi->parent_id, parent_id);
    /* the ROI holds the box, rounded outwards */
    fail_unless (roi->x <= m->x_min && roi->x + roi->w >= m->x_max);
    fail_unless (roi->y <= m->y_min && roi->y + roi->h >= m->y_max);
    fail_unless (roi->x + roi->w <= (guint) fw && roi->y + roi->h <= (guint) fh);

    s = gst_video_region_of_interest_meta_get_param (roi, "detection");
    fail_unless (s != NULL, "no DL Streamer detection param");
    fail_unless (gst_structure_get_double (s, "x_min", &v));
    fail_unless (fabs (v - e->x0 / fw) < 1e-3);
    fail_unless (gst_structure_get_double (s, "y_max", &v));
    fail_unless (fabs (v - e->y1 / fh) < 1e-3);
    fail_unless (gst_structure_get_double (s, "confidence", &v));
    fail_unless (fabs (v - e->score) < 1e-4);
    fail_unless (gst_structure_get_int (s, "label_id", &id));
    fail_unless_equals_int (id, e->class_id);
    label = gst_structure_get_string (s, "label");
    fail_unless_equals_string (label, LABELS[e->class_id]);

    s = gst_video_region_of_interest_meta_get_param (roi, "imgrec-detection");
    fail_unless (s != NULL);
    fail_unless (gst_structure_get_int (s, "class-id", &id));
    fail_unless_equals_int (id, e->class_id);
  }
  g_list_free (metas);
}

static void
run_const_model (const gchar * model, const gchar * extra)
{
  gdouble thr, iou;
  GArray *expected = read_expected ("expected-const.txt", &thr, &iou);
  GstVideoInfo info;
  GstBuffer *in = gray_frame (GST_VIDEO_FORMAT_I420, 1280, 720, &info);
  gchar *props = g_strdup_printf ("threshold=%f iou-threshold=%f %s", thr, iou,
      extra ? extra : "");
  GstHarness *h = detect_harness (model, props, &info);
  GstBuffer *out = gst_harness_push_and_pull (h, in);

  fail_unless (out != NULL);
  check_detections (out, expected, 1280, 720, 1e-3, -1);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_array_free (expected, TRUE);
  g_free (props);
}

GST_START_TEST (test_yolov8_letterbox_inverse)
{
  run_const_model ("det-yolov8-const.onnx", NULL);
}

GST_END_TEST;

GST_START_TEST (test_yolov8_transposed)
{
  run_const_model ("det-yolov8t-const.onnx", NULL);
}

GST_END_TEST;

GST_START_TEST (test_yolov5)
{
  run_const_model ("det-yolov5-const.onnx", NULL);
}

GST_END_TEST;

GST_START_TEST (test_ssd_with_background)
{
  run_const_model ("det-ssd-const.onnx", NULL);
}

GST_END_TEST;

/* Ultralytics exports name their classes in a `names` key. */
GST_START_TEST (test_ultralytics_names)
{
  run_const_model ("det-yolov8-names.onnx", NULL);
}

GST_END_TEST;

/* SSD with prior boxes and variances from the model's keys, raw logits. */
GST_START_TEST (test_ssd_priors_sigmoid)
{
  run_const_model ("det-ssd-priors.onnx", NULL);
}

GST_END_TEST;

GST_START_TEST (test_nms_done_rows_and_torchvision)
{
  run_const_model ("det-nms-rows-const.onnx", NULL);
  run_const_model ("det-torchvision-const.onnx", NULL);
}

GST_END_TEST;

/* A YOLOv8-style network with random weights gives the NumPy reference's
 * boxes (frames that need no resampling, so the tensors are identical). */
static void
run_yolo_reference (const gchar * name, gint fw, gint fh)
{
  gchar *model = g_strdup_printf ("%s.onnx", name);
  gchar *frame_name = g_strdup_printf ("%s-frame.rgb", name);
  gchar *exp_name = g_strdup_printf ("expected-%s.txt", name);
  gchar *frame_path = data_path (frame_name), *pixels = NULL, *props;
  gdouble thr, iou;
  GArray *expected = read_expected (exp_name, &thr, &iou);
  GstVideoInfo info;
  GstVideoFrame vf;
  GstBuffer *in, *out;
  GstHarness *h;
  gsize len;
  gint y;

  fail_unless (expected->len > 0, "the reference found nothing");
  fail_unless (g_file_get_contents (frame_path, &pixels, &len, NULL));
  fail_unless_equals_int (len, (gsize) fw * fh * 3);
  in = gray_frame (GST_VIDEO_FORMAT_RGB, fw, fh, &info);
  fail_unless (gst_video_frame_map (&vf, &info, in, GST_MAP_WRITE));
  for (y = 0; y < fh; y++)
    memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0), pixels + (gsize) y * fw * 3,
        (gsize) fw * 3);
  gst_video_frame_unmap (&vf);

  props = g_strdup_printf ("threshold=%f iou-threshold=%f threads=1", thr, iou);
  h = detect_harness (model, props, &info);
  out = gst_harness_push_and_pull (h, in);
  fail_unless (out != NULL);
  check_detections (out, expected, fw, fh, 0.02, -1);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_array_free (expected, TRUE);
  g_free (pixels);
  g_free (props);
  g_free (frame_path);
  g_free (exp_name);
  g_free (frame_name);
  g_free (model);
}

GST_START_TEST (test_yolov8_style_640_matches_numpy)
{
  run_yolo_reference ("det-yolov8-640", 640, 480);
}

GST_END_TEST;

GST_START_TEST (test_yolov8_style_non_square_matches_numpy)
{
  run_yolo_reference ("det-yolov8-320x192", 320, 192);
}

GST_END_TEST;

/* In roi-list mode each region is letterboxed on its own and the boxes map
 * back into it; the ROIs name their parent. */
GST_START_TEST (test_roi_list_maps_into_region)
{
  gdouble thr, iou;
  GArray *full = read_expected ("expected-const.txt", &thr, &iou);
  GArray *expected = g_array_new (FALSE, FALSE, sizeof (Expected));
  GstVideoInfo info;
  GstBuffer *in = gray_frame (GST_VIDEO_FORMAT_NV12, 1920, 1080, &info), *out;
  GstVideoRegionOfInterestMeta *car;
  GstHarness *h;
  guint i;
  /* the region: 640x360 at (300, 200): the same 16:9 letterbox, scaled by
   * 0.5 and moved */
  const gint rx = 300, ry = 200;

  for (i = 0; i < full->len; i++) {
    Expected e = g_array_index (full, Expected, i);
    e.x0 = rx + e.x0 * 0.5;
    e.x1 = rx + e.x1 * 0.5;
    e.y0 = ry + e.y0 * 0.5;
    e.y1 = ry + e.y1 * 0.5;
    g_array_append_val (expected, e);
  }
  car = gst_buffer_add_video_region_of_interest_meta (in, "vehicle", rx, ry,
      640, 360);
  car->id = 7;
  gst_buffer_add_video_region_of_interest_meta (in, "other", 0, 0, 100, 100)->id
      = 8;
  h = detect_harness ("det-yolov8-const.onnx",
      "roi=roi-list object-class=vehicle", &info);
  out = gst_harness_push_and_pull (h, in);
  check_detections (out, expected, 1920, 1080, 1e-3, 7);
  /* ids are new on the buffer */
  {
    GList *metas = gst_buffer_get_imgrec_detection_metas (out), *l;
    for (l = metas; l; l = l->next)
      fail_unless (((GstImgRecDetectionMeta *) l->data)->info.roi_id > 8);
    g_list_free (metas);
  }
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_array_free (expected, TRUE);
  g_array_free (full, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_filters_and_limits)
{
  GstVideoInfo info;
  GstBuffer *out;
  GstHarness *h;
  GList *metas;

  /* only persons */
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 1280, 720);
  h = detect_harness ("det-yolov8-const.onnx", "classes=person", &info);
  out = gst_harness_push_and_pull (h, gray_frame (GST_VIDEO_FORMAT_I420, 1280,
          720, &info));
  metas = gst_buffer_get_imgrec_detection_metas (out);
  fail_unless_equals_int (g_list_length (metas), 2);
  for (GList * l = metas; l; l = l->next)
    fail_unless_equals_int (((GstImgRecDetectionMeta *) l->data)->class_id, 1);
  g_list_free (metas);
  gst_buffer_unref (out);
  gst_harness_teardown (h);

  /* max-detections, class-agnostic NMS, per-class thresholds */
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 1280, 720);
  h = detect_harness ("det-yolov8-const.onnx", "max-detections=2", &info);
  out = gst_harness_push_and_pull (h, gray_frame (GST_VIDEO_FORMAT_I420, 1280,
          720, &info));
  fail_unless_equals_int (gst_buffer_get_n_imgrec_detection_metas (out), 2);
  gst_buffer_unref (out);
  gst_harness_teardown (h);

  h = detect_harness ("det-yolov8-const.onnx", "class-agnostic=true", &info);
  out = gst_harness_push_and_pull (h, gray_frame (GST_VIDEO_FORMAT_I420, 1280,
          720, &info));
  /* the person/bike pair overlaps: one of five goes */
  fail_unless_equals_int (gst_buffer_get_n_imgrec_detection_metas (out), 4);
  gst_buffer_unref (out);
  gst_harness_teardown (h);

  h = detect_harness ("det-yolov8-const.onnx",
      "class-thresholds=\"person=0.65,2=0.6\"", &info);
  out = gst_harness_push_and_pull (h, gray_frame (GST_VIDEO_FORMAT_I420, 1280,
          720, &info));
  /* car 0.9, person 0.7 (0.6 dropped), bike 0.65 (0.55 dropped) */
  fail_unless_equals_int (gst_buffer_get_n_imgrec_detection_metas (out), 3);
  gst_buffer_unref (out);
  gst_harness_teardown (h);

  /* min-size drops the 80x80 box */
  h = detect_harness ("det-yolov8-const.onnx", "min-size=100", &info);
  out = gst_harness_push_and_pull (h, gray_frame (GST_VIDEO_FORMAT_I420, 1280,
          720, &info));
  fail_unless_equals_int (gst_buffer_get_n_imgrec_detection_metas (out), 4);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_messages_and_interval)
{
  GstVideoInfo info;
  GstHarness *h;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  const GstStructure *s;
  const GValue *labels;
  guint count, n_msgs = 0, i;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 1280, 720);
  h = detect_harness ("det-yolov8-const.onnx",
      "post-messages=true inference-interval=2", &info);
  gst_element_set_bus (h->element, bus);
  for (i = 0; i < 4; i++) {
    GstBuffer *in = gray_frame (GST_VIDEO_FORMAT_I420, 1280, 720, &info);
    GstBuffer *out;
    GST_BUFFER_PTS (in) = i * GST_SECOND / 30;
    out = gst_harness_push_and_pull (h, in);
    /* frames 1 and 3 are not inferred */
    fail_unless_equals_int (gst_buffer_get_n_imgrec_detection_metas (out),
        i % 2 ? 0 : 5);
    gst_buffer_unref (out);
  }
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "imgrec-detections")) {
      n_msgs++;
      fail_unless (gst_structure_get_uint (s, "count", &count));
      fail_unless_equals_int (count, 5);
      labels = gst_structure_get_value (s, "labels");
      fail_unless_equals_int (gst_value_array_get_size (labels), 5);
      fail_unless_equals_string (g_value_get_string
          (gst_value_array_get_value (labels, 0)), "car");
      fail_unless (gst_structure_has_field (s, "x-max"));
      fail_unless (gst_structure_has_field (s, "running-time"));
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (n_msgs, 2);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The detection meta and both ROI params survive a buffer copy and a
 * videoscale-like transform. */
GST_START_TEST (test_meta_survives_copy)
{
  GstVideoInfo info;
  GstHarness *h;
  GstBuffer *out, *copy;
  GstImgRecDetectionMeta *m;
  GstVideoRegionOfInterestMeta *roi;
  GList *metas;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, 1280, 720);
  h = detect_harness ("det-yolov8-const.onnx", NULL, &info);
  out = gst_harness_push_and_pull (h, gray_frame (GST_VIDEO_FORMAT_I420, 1280,
          720, &info));
  copy = gst_buffer_copy (out);
  fail_unless_equals_int (gst_buffer_get_n_imgrec_detection_metas (copy), 5);
  metas = gst_buffer_get_imgrec_detection_metas (copy);
  m = metas->data;
  g_list_free (metas);
  roi = gst_buffer_get_video_region_of_interest_meta_id (copy, m->info.roi_id);
  fail_unless (roi != NULL);
  fail_unless (gst_video_region_of_interest_meta_get_param (roi, "detection"));
  fail_unless (gst_video_region_of_interest_meta_get_param (roi,
          "imgrec-detection"));
  fail_unless (fabs (m->x_min - 300) < 1e-3);
  fail_unless_equals_string (gst_imgrec_meta_get_kind ((GstMeta *) m),
      "detection");
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Every input format at an odd size, with and without padded strides:
 * the same objects (the constant model ignores pixels; the geometry is
 * what is tested). */
GST_START_TEST (test_every_format_odd_size_padded_strides)
{
  static const GstVideoFormat formats[] = { GST_VIDEO_FORMAT_RGB,
    GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRx,
    GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_YV12,
    GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_NV21, GST_VIDEO_FORMAT_GRAY8
  };
  gdouble thr, iou;
  GArray *expected = read_expected ("expected-const-333x217.txt", &thr, &iou);
  guint i, pad;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    for (pad = 0; pad <= 40; pad += 40) {
      GstVideoInfo info, aligned;
      GstVideoAlignment align;
      GstBuffer *in, *out;
      GstHarness *h;

      gst_video_info_set_format (&info, formats[i], 333, 217);
      aligned = info;
      gst_video_alignment_reset (&align);
      align.padding_right = pad;
      fail_unless (gst_video_info_align (&aligned, &align));
      in = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&aligned), NULL);
      gst_buffer_memset (in, 0, 0x80, GST_VIDEO_INFO_SIZE (&aligned));
      if (pad)
        gst_buffer_add_video_meta_full (in, GST_VIDEO_FRAME_FLAG_NONE,
            formats[i], 333, 217, GST_VIDEO_INFO_N_PLANES (&aligned),
            aligned.offset, aligned.stride);
      GST_BUFFER_PTS (in) = 0;
      h = detect_harness ("det-yolov8-const.onnx", NULL, &info);
      out = gst_harness_push_and_pull (h, in);
      fail_unless (out != NULL, "%s", gst_video_format_to_string (formats[i]));
      check_detections (out, expected, 333, 217, 1e-3, -1);
      gst_buffer_unref (out);
      gst_harness_teardown (h);
    }
  }
  g_array_free (expected, TRUE);
}

GST_END_TEST;

/* resize=stretch maps back without letterbox offsets. */
GST_START_TEST (test_stretch_inverse)
{
  gdouble thr, iou;
  GArray *expected = read_expected ("expected-const-stretch.txt", &thr, &iou);
  GstVideoInfo info;
  GstBuffer *in = gray_frame (GST_VIDEO_FORMAT_I420, 1280, 720, &info), *out;
  GstHarness *h = detect_harness ("det-yolov8-const.onnx", "resize=stretch",
      &info);

  out = gst_harness_push_and_pull (h, in);
  check_detections (out, expected, 1280, 720, 1e-3, -1);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_array_free (expected, TRUE);
}

GST_END_TEST;

/* An ROI at an odd position of an I420 frame: its origin moves onto the
 * chroma grid (100, 50, 302x182) and the boxes map back through that. */
GST_START_TEST (test_roi_odd_position)
{
  gdouble thr, iou;
  GArray *expected = read_expected ("expected-const-roi-odd.txt", &thr, &iou);
  GstVideoInfo info;
  GstBuffer *in = gray_frame (GST_VIDEO_FORMAT_I420, 1280, 720, &info), *out;
  GstHarness *h = detect_harness ("det-yolov8-const.onnx", "roi=roi-list",
      &info);

  gst_buffer_add_video_region_of_interest_meta (in, "car", 101, 51, 301,
      181)->id = 3;
  out = gst_harness_push_and_pull (h, in);
  check_detections (out, expected, 1280, 720, 1e-3, 3);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  g_array_free (expected, TRUE);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* errors                                                                     */

static gchar *
start_error (const gchar * model, const gchar * props)
{
  gchar *path = model ? data_path (model) : NULL;
  gchar *desc = g_strdup_printf ("imgrecdetect %s%s%s %s",
      path ? "model=\"" : "", path ? path : "", path ? "\"" : "",
      props ? props : "");
  GstElement *e = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_bus_new ();
  GstStateChangeReturn ret;
  GstMessage *msg;
  gchar *text = NULL;

  fail_unless (e != NULL);
  gst_element_set_bus (e, bus);
  ret = gst_element_set_state (e, GST_STATE_PAUSED);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  if (msg) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    text = g_strdup (err->message);
    g_error_free (err);
    gst_message_unref (msg);
    fail_unless_equals_int (ret, GST_STATE_CHANGE_FAILURE);
    /* one error, one sentence */
    fail_if (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) != NULL);
  } else {
    fail_if (ret == GST_STATE_CHANGE_FAILURE);
  }
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (desc);
  g_free (path);
  return text;
}

#define assert_start_error(model, props, substring) G_STMT_START {          \
  gchar *_msg = start_error (model, props);                                 \
  fail_unless (_msg != NULL, "no error for %s %s", model, props);           \
  fail_unless (strstr (_msg, substring) != NULL,                            \
      "error \"%s\" does not say \"%s\"", _msg, substring);                 \
  g_free (_msg);                                                            \
} G_STMT_END

GST_START_TEST (test_error_messages)
{
  gchar *labels = data_path ("labels4.txt"), *props;

  assert_start_error ("det-ambiguous.onnx", NULL, "several layouts");
  assert_start_error ("det-ambiguous.onnx", NULL, "decoder property");
  assert_start_error ("det-badshape.onnx", NULL, "[1,3,4,5]");
  assert_start_error ("det-yolov8-const.onnx", "decoder=ssd", "two outputs");
  assert_start_error ("det-yolov8-const.onnx", "decoder=nms-done", "nms-done");
  props = g_strdup_printf ("labels=\"%s\"", labels);
  assert_start_error ("det-yolov8-const.onnx", props, "but 4 labels were given");
  g_free (props);
  assert_start_error ("det-yolov8-const.onnx", "class-thresholds=truck=0.3",
      "truck");
  assert_start_error ("det-yolov8-const.onnx", "class-thresholds=car",
      "class=threshold");
  assert_start_error ("det-yolov8-const.onnx", "class-thresholds=car=7",
      "from 0 to 1");
  assert_start_error ("det-yolov8-const.onnx", "classes=truck", "truck");
  assert_start_error ("mean-colour.onnx", NULL, "needs a detector");
  assert_start_error ("det-ssd-badpriors.onnx", NULL, "imgrec.ssd-priors");
  /* the ambiguity is resolved by naming the decoder */
  fail_unless (start_error ("det-ambiguous.onnx", "decoder=yolov5") == NULL);
  g_free (labels);
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  gchar *path = data_path ("det-yolov8-const.onnx");
  gchar *desc = g_strdup_printf ("imgrecdetect model=\"%s\"", path);
  GstElement *e = gst_parse_launch (desc, NULL);
  gint i;

  for (i = 0; i < 5; i++) {
    fail_unless (gst_element_set_state (e, GST_STATE_PAUSED) !=
        GST_STATE_CHANGE_FAILURE);
    fail_unless (gst_element_set_state (e, GST_STATE_NULL) ==
        GST_STATE_CHANGE_SUCCESS);
  }
  gst_object_unref (e);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

static Suite *
imgrecdetect_suite (void)
{
  Suite *s = suite_create ("imgrecdetect");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_yolov8_letterbox_inverse);
  tcase_add_test (tc, test_yolov8_transposed);
  tcase_add_test (tc, test_yolov5);
  tcase_add_test (tc, test_ssd_with_background);
  tcase_add_test (tc, test_nms_done_rows_and_torchvision);
  tcase_add_test (tc, test_ultralytics_names);
  tcase_add_test (tc, test_ssd_priors_sigmoid);
  tcase_add_test (tc, test_yolov8_style_640_matches_numpy);
  tcase_add_test (tc, test_yolov8_style_non_square_matches_numpy);
  tcase_add_test (tc, test_roi_list_maps_into_region);
  tcase_add_test (tc, test_every_format_odd_size_padded_strides);
  tcase_add_test (tc, test_stretch_inverse);
  tcase_add_test (tc, test_roi_odd_position);
  tcase_add_test (tc, test_filters_and_limits);
  tcase_add_test (tc, test_messages_and_interval);
  tcase_add_test (tc, test_meta_survives_copy);
  tcase_add_test (tc, test_error_messages);
  tcase_add_test (tc, test_state_cycles);
  return s;
}

GST_CHECK_MAIN (imgrecdetect);
