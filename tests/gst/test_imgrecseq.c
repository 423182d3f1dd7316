/* gst-check tests of imgrecseq and of the sequence meta.
 *
 * Golden data (tests/gst/seq_data, written by make_seq_golden.py): a small
 * CNN-LSTM step model and a window model, with the probabilities PyTorch
 * computes on synthetic frames; frame_pixel() below is the same formula.
 * The reset tests compare a stream that is reset at frame RESET_AT with a
 * new element started at that frame: the results must be bit-identical.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imgrec/engine.h>
#include "gstimgrecmeta.h"
#include "gstimgrecseqmeta.h"

#define N_CLASSES 5
#define N_FRAMES 12
#define RESET_AT 6
#define FRAME_DURATION (GST_SECOND / 30)

static gchar *
seq_data (const gchar * name)
{
  const gchar *dir = g_getenv ("IMGREC_SEQ_TEST_DATA");
  fail_unless (dir != NULL, "IMGREC_SEQ_TEST_DATA is not set");
  return g_build_filename (dir, name, NULL);
}

static gchar *
gst_data (const gchar * name)
{
  const gchar *dir = g_getenv ("IMGREC_GST_TEST_DATA");
  fail_unless (dir != NULL, "IMGREC_GST_TEST_DATA is not set");
  return g_build_filename (dir, name, NULL);
}

static guint8
frame_pixel (gint t, gint y, gint x, gint c)
{
  return (guint8) ((t * 53 + y * 29 + x * 17 + c * 91 +
          ((x + 1) * (y + 2) * (t + 3)) % 61) & 255);
}

/* Frame t as packed RGB of w x h. */
static GstBuffer *
make_frame (gint t, gint w, gint h)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buf;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, w, h);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_WRITE));
  for (gint y = 0; y < h; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
    for (gint x = 0; x < w; x++)
      for (gint c = 0; c < 3; c++)
        row[3 * x + c] = frame_pixel (t, y, x, c);
  }
  gst_video_frame_unmap (&frame);
  return buf;
}

static void
set_caps (GstHarness * h, gint w, gint ht)
{
  GstVideoInfo info;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, w, ht);
  info.fps_n = 30;
  info.fps_d = 1;
  gst_harness_set_src_caps (h, gst_video_info_to_caps (&info));
}

static GstHarness *
seq_harness (const gchar * model, const gchar * extra)
{
  gchar *path = seq_data (model);
  gchar *desc = g_strdup_printf ("imgrecseq name=s top-k=5 model=\"%s\" %s",
      path, extra ? extra : "");
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  g_free (path);
  return h;
}

static GstElement *
element (GstHarness * h)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (h->element), "s");
  fail_unless (e != NULL);
  gst_object_unref (e);         /* the bin keeps it alive */
  return e;
}

/* What a test compares: the probabilities of every class, steps, flags. */
typedef struct {
  gboolean have;
  gfloat p[N_CLASSES];
  gint class_id;
  guint64 steps;
  guint reset_count;
  gint64 scope_id;
  gboolean scope_tracked;
  GstImgRecResultFlags flags;
  GstClockTime window_start, window_end;
} Out;

static void
read_meta (GstImgRecSequenceMeta * m, Out * o)
{
  memset (o, 0, sizeof (*o));
  if (m == NULL)
    return;
  o->have = TRUE;
  fail_unless_equals_int (m->n_top, N_CLASSES);
  for (guint i = 0; i < m->n_top; i++)
    o->p[m->top[i].class_id] = m->top[i].confidence;
  o->class_id = m->class_id;
  o->steps = m->steps;
  o->reset_count = m->reset_count;
  o->scope_id = m->scope_id;
  o->scope_tracked = m->scope_tracked;
  o->flags = m->info.flags;
  o->window_start = m->window_start;
  o->window_end = m->window_end;
}

/* Pushes frame t (size w x ht, PTS t frames + offset) and reads the meta. */
static void
push_frame (GstHarness * h, gint t, gint w, gint ht, GstClockTime offset,
    GstBufferFlags flags, Out * o)
{
  GstBuffer *buf = make_frame (t, w, ht), *out;

  GST_BUFFER_PTS (buf) = t * FRAME_DURATION + offset;
  GST_BUFFER_DURATION (buf) = FRAME_DURATION;
  GST_BUFFER_FLAG_SET (buf, flags);
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless_equals_int (gst_buffer_get_n_imgrec_sequence_metas (out),
      o ? (gst_buffer_get_imgrec_sequence_meta (out) ? 1 : 0) : 1);
  if (o)
    read_meta (gst_buffer_get_imgrec_sequence_meta (out), o);
  gst_buffer_unref (out);
}

/* A tiny .npy reader: float32, little endian, C order. */
static gfloat *
load_npy (const gchar * name, gint * rows, gint * cols)
{
  gchar *path = seq_data (name), *data = NULL;
  gsize len = 0;
  guint16 hlen;
  gchar *header, *shape;
  gfloat *out;

  fail_unless (g_file_get_contents (path, &data, &len, NULL), "read %s", path);
  fail_unless (len > 10 && memcmp (data, "\x93NUMPY", 6) == 0);
  memcpy (&hlen, data + 8, 2);
  header = g_strndup (data + 10, hlen);
  fail_unless (strstr (header, "'<f4'") != NULL);
  fail_unless (strstr (header, "'fortran_order': False") != NULL);
  shape = strstr (header, "'shape': (");
  fail_unless (shape != NULL);
  fail_unless_equals_int (sscanf (shape, "'shape': (%d, %d)", rows, cols), 2);
  fail_unless_equals_int (len - 10 - hlen, (gsize) * rows * *cols * 4);
  out = g_memdup2 (data + 10 + hlen, len - 10 - hlen);
  g_free (header);
  g_free (data);
  g_free (path);
  return out;
}

/* ------------------------------------------------------------------------ */
/* golden                                                                     */

static void
check_step_golden (const gchar * model, const gchar * npy)
{
  GstHarness *h = seq_harness (model, NULL);
  gint rows, cols;
  gfloat *expected = load_npy (npy, &rows, &cols);

  fail_unless_equals_int (rows, N_FRAMES);
  fail_unless_equals_int (cols, N_CLASSES);
  set_caps (h, 8, 8);
  for (gint t = 0; t < N_FRAMES; t++) {
    Out o;
    push_frame (h, t, 8, 8, 0, 0, &o);
    fail_unless (o.have);
    fail_unless_equals_uint64 (o.steps, t + 1);
    fail_unless_equals_int64 (o.scope_id, -1);
    fail_unless_equals_int (o.flags, 0);
    fail_unless_equals_uint64 (o.window_start, GST_CLOCK_TIME_NONE);
    for (gint k = 0; k < N_CLASSES; k++)
      fail_unless (fabsf (o.p[k] - expected[t * N_CLASSES + k]) < 2e-5,
          "%s frame %d class %d: %f, PyTorch %f", model, t, k, o.p[k],
          expected[t * N_CLASSES + k]);
  }
  g_free (expected);
  gst_harness_teardown (h);
}

GST_START_TEST (test_step_model_matches_pytorch)
{
  check_step_golden ("seq-step.onnx", "seq-step-expected.npy");
}

GST_END_TEST;

/* The model declares its initial state (imgrec.state-init.*). */
GST_START_TEST (test_step_model_initial_state_from_metadata)
{
  check_step_golden ("seq-step-init.onnx", "seq-step-init-expected.npy");
}

GST_END_TEST;

static void
check_window_golden (const gchar * model)
{
  GstHarness *h = seq_harness (model, NULL);
  gint rows, cols;
  gfloat *expected = load_npy ("seq-window-expected.npy", &rows, &cols);

  fail_unless_equals_int (rows, N_FRAMES - 3);
  set_caps (h, 8, 8);
  for (gint t = 0; t < N_FRAMES; t++) {
    Out o;
    push_frame (h, t, 8, 8, 0, 0, &o);
    if (t < 3) {
      fail_if (o.have, "a result before the window of 4 frames is full");
      continue;
    }
    fail_unless (o.have);
    fail_unless_equals_int (o.flags, 0);
    fail_unless_equals_uint64 (o.window_start, (t - 3) * FRAME_DURATION);
    fail_unless_equals_uint64 (o.window_end, t * FRAME_DURATION);
    for (gint k = 0; k < N_CLASSES; k++)
      fail_unless (fabsf (o.p[k] - expected[(t - 3) * N_CLASSES + k]) < 2e-5,
          "%s frame %d class %d: %f, PyTorch %f", model, t, k, o.p[k],
          expected[(t - 3) * N_CLASSES + k]);
  }
  g_free (expected);
  gst_harness_teardown (h);
}

/* Input [1,T,C,H,W] and [T,1,C,H,W]. */
GST_START_TEST (test_window_model_matches_pytorch)
{
  check_window_golden ("seq-window.onnx");
  check_window_golden ("seq-window-t1.onnx");
}

GST_END_TEST;

GST_START_TEST (test_window_stride_carries_between_runs)
{
  GstHarness *h = seq_harness ("seq-window.onnx", "stride=3");
  gint rows, cols;
  gfloat *expected = load_npy ("seq-window-expected.npy", &rows, &cols);
  gint last_run = -1;

  set_caps (h, 8, 8);
  for (gint t = 0; t < N_FRAMES; t++) {
    Out o;
    push_frame (h, t, 8, 8, 0, 0, &o);
    if (t < 3) {
      fail_if (o.have);
      continue;
    }
    fail_unless (o.have);
    if ((t - 3) % 3 == 0) {
      fail_unless_equals_int (o.flags, 0);
      last_run = t;
    } else {
      fail_unless (o.flags & GST_IMGREC_RESULT_FLAG_CARRIED, "frame %d", t);
    }
    fail_unless_equals_uint64 (o.window_end, last_run * FRAME_DURATION);
    for (gint k = 0; k < N_CLASSES; k++)
      fail_unless (fabsf (o.p[k] - expected[(last_run - 3) * N_CLASSES + k]) <
          2e-5);
  }
  g_free (expected);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The shipped CNN-LSTM (43 classes, two 128-float states) in the element
 * equals the engine stepped by hand: the element feeds h_out/c_out back. */
GST_START_TEST (test_shipped_traffic_signs_seq_model)
{
  const gchar *root = g_getenv ("IMGREC_SOURCE_ROOT");
  static const gfloat mean[3] = { 0.289f, 0.2647f, 0.2744f };
  static const gfloat std[3] = { 0.2577f, 0.2498f, 0.2537f };
  const gfloat scale = (gfloat) 0.00392156862745098;
  gchar *path, *desc;
  GstHarness *h;
  imgrec_model *model;
  imgrec_session *session;
  imgrec_error err;
  gfloat frame[3 * 32 * 32], state[2][128], scores[43];
  const int64_t frame_dims[4] = { 1, 3, 32, 32 }, state_dims[3] = { 1, 1, 128 };
  int in_frame, in_h, in_c, out_scores, out_h, out_c;

  fail_unless (root != NULL);
  path = g_build_filename (root, "models", "traffic-signs-seq",
      "traffic-signs-seq.onnx", NULL);
  model = imgrec_model_load (path, &err);
  fail_unless (model != NULL, "%s", err.message);
  session = imgrec_session_new (model, NULL, &err);
  fail_unless (session != NULL);
  in_frame = imgrec_model_input_index (model, "frame");
  in_h = imgrec_model_input_index (model, "h_in");
  in_c = imgrec_model_input_index (model, "c_in");
  out_scores = imgrec_model_output_index (model, "scores");
  out_h = imgrec_model_output_index (model, "h_out");
  out_c = imgrec_model_output_index (model, "c_out");
  memset (state, 0, sizeof (state));

  desc = g_strdup_printf ("imgrecseq top-k=5 model=\"%s\"", path);
  h = gst_harness_new_parse (desc);
  set_caps (h, 32, 32);
  for (gint t = 0; t < 6; t++) {
    GstBuffer *buf = make_frame (t * 7, 32, 32), *out;
    GstImgRecSequenceMeta *m;
    gdouble max = -1e30, sum = 0;

    for (gint c = 0; c < 3; c++)
      for (gint y = 0; y < 32; y++)
        for (gint x = 0; x < 32; x++)
          frame[(c * 32 + y) * 32 + x] =
              ((gfloat) frame_pixel (t * 7, y, x, c) * scale - mean[c]) /
              std[c];
    fail_unless (imgrec_session_set_input (session, in_frame,
            IMGREC_DTYPE_FLOAT, frame_dims, 4, frame, &err) == 0);
    fail_unless (imgrec_session_set_input (session, in_h, IMGREC_DTYPE_FLOAT,
            state_dims, 3, state[0], &err) == 0);
    fail_unless (imgrec_session_set_input (session, in_c, IMGREC_DTYPE_FLOAT,
            state_dims, 3, state[1], &err) == 0);
    fail_unless (imgrec_session_run (session, &err) == 0, "%s", err.message);
    fail_unless_equals_int (imgrec_session_output_float (session, out_scores,
            scores, 43, &err), 43);
    fail_unless_equals_int (imgrec_session_output_float (session, out_h,
            state[0], 128, &err), 128);
    fail_unless_equals_int (imgrec_session_output_float (session, out_c,
            state[1], 128, &err), 128);
    for (gint k = 0; k < 43; k++)
      max = MAX (max, scores[k]);
    for (gint k = 0; k < 43; k++)
      sum += exp (scores[k] - max);

    GST_BUFFER_PTS (buf) = t * FRAME_DURATION;
    out = gst_harness_push_and_pull (h, buf);
    m = gst_buffer_get_imgrec_sequence_meta (out);
    fail_unless (m != NULL);
    fail_unless_equals_uint64 (m->steps, t + 1);
    fail_unless_equals_string (m->info.model, "traffic-signs-seq");
    fail_unless_equals_int (m->n_top, 5);
    for (guint i = 0; i < m->n_top; i++) {
      gdouble p = exp (scores[m->top[i].class_id] - max) / sum;
      fail_unless (fabs (m->top[i].confidence - p) < 1e-5,
          "frame %d class %d: element %f, engine %f", t, m->top[i].class_id,
          m->top[i].confidence, p);
    }
    fail_unless (m->label != NULL && strlen (m->label) > 2);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
  imgrec_session_free (session);
  imgrec_model_free (model);
  g_free (desc);
  g_free (path);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* reset rules                                                                */

typedef enum {
  TRIGGER_NONE,
  TRIGGER_FLUSH,
  TRIGGER_STREAM_START,
  TRIGGER_SEGMENT_JUMP,
  TRIGGER_SEGMENT_SAME,
  TRIGGER_SEGMENT_CONTINUES,
  TRIGGER_DISCONT,
  TRIGGER_TIMESTAMP_GAP,
  TRIGGER_SMALL_TIMESTAMP_GAP,
  TRIGGER_TIMESTAMPS_BACK,
  TRIGGER_CAPS_SIZE,
  TRIGGER_GAP_EVENT,
  TRIGGER_SHORT_GAP_EVENT,
  TRIGGER_SIGNAL,
  TRIGGER_CUSTOM_EVENT,
  TRIGGER_CUSTOM_EVENT_OOB,
} Trigger;

static void
push_segment (GstHarness * h, GstClockTime start, GstClockTime time)
{
  GstSegment seg;

  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = start;
  seg.time = time;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
}

/* Runs frames 0..N-1 with `trigger` before frame RESET_AT, and a fresh
 * element on frames RESET_AT..N-1 as they were pushed after the trigger;
 * checks that the results are bit-identical (reset) or that the state
 * went on (no reset). */
static void
check_trigger (const gchar * model, Trigger trigger, gboolean expect_reset)
{
  GstHarness *h = seq_harness (model, NULL), *fresh;
  Out a[N_FRAMES], b[N_FRAMES];
  GstClockTime offset = 0;
  GstBufferFlags flags = 0;
  gint w = 8, ht = 8, t;

  set_caps (h, 8, 8);
  for (t = 0; t < RESET_AT; t++)
    push_frame (h, t, 8, 8, 0, 0, &a[t]);

  switch (trigger) {
    case TRIGGER_NONE:
      break;
    case TRIGGER_FLUSH:
      fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
      fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
      push_segment (h, 0, 0);
      break;
    case TRIGGER_STREAM_START:
      fail_unless (gst_harness_push_event (h,
              gst_event_new_stream_start ("another-stream")));
      push_segment (h, 0, 0);
      break;
    case TRIGGER_SEGMENT_JUMP:
      push_segment (h, 0, 100 * GST_SECOND);
      break;
    case TRIGGER_SEGMENT_SAME:
      push_segment (h, 0, 0);
      break;
    case TRIGGER_SEGMENT_CONTINUES:
      push_segment (h, RESET_AT * FRAME_DURATION, RESET_AT * FRAME_DURATION);
      break;
    case TRIGGER_DISCONT:
      flags = GST_BUFFER_FLAG_DISCONT;
      break;
    case TRIGGER_TIMESTAMP_GAP:
      offset = 2 * GST_SECOND;
      break;
    case TRIGGER_SMALL_TIMESTAMP_GAP:
      offset = GST_SECOND / 2;
      break;
    case TRIGGER_TIMESTAMPS_BACK:
      offset = 0;               /* frames below are pushed from PTS 0 again */
      break;
    case TRIGGER_CAPS_SIZE:
      w = 16;
      ht = 12;
      set_caps (h, w, ht);
      break;
    case TRIGGER_GAP_EVENT:
      offset = 2 * GST_SECOND;
      fail_unless (gst_harness_push_event (h,
              gst_event_new_gap (RESET_AT * FRAME_DURATION, 2 * GST_SECOND)));
      break;
    case TRIGGER_SHORT_GAP_EVENT:
      offset = GST_SECOND / 2;
      fail_unless (gst_harness_push_event (h,
              gst_event_new_gap (RESET_AT * FRAME_DURATION, GST_SECOND / 2)));
      break;
    case TRIGGER_SIGNAL:
      g_signal_emit_by_name (element (h), "reset");
      break;
    case TRIGGER_CUSTOM_EVENT:
      fail_unless (gst_harness_push_event (h,
              gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
                  gst_structure_new_empty ("imgrec-reset"))));
      break;
    case TRIGGER_CUSTOM_EVENT_OOB:
      fail_unless (gst_harness_push_event (h,
              gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM_OOB,
                  gst_structure_new_empty ("imgrec-reset"))));
      break;
  }

  fresh = seq_harness (model, NULL);
  set_caps (fresh, w, ht);
  for (t = RESET_AT; t < N_FRAMES; t++) {
    GstClockTime off = offset;
    if (trigger == TRIGGER_TIMESTAMPS_BACK)
      off = 0 - (GstClockTime) RESET_AT *FRAME_DURATION;
    push_frame (h, t, w, ht, off, t == RESET_AT ? flags : 0, &a[t]);
    push_frame (fresh, t, w, ht, off, 0, &b[t]);
  }

  for (t = RESET_AT; t < N_FRAMES; t++) {
    if (!b[t].have) {
      fail_if (expect_reset && a[t].have, "trigger %d frame %d", trigger, t);
      continue;
    }
    fail_unless (a[t].have);
    if (expect_reset) {
      fail_unless (memcmp (a[t].p, b[t].p, sizeof (a[t].p)) == 0,
          "trigger %d, frame %d: results differ from a fresh start", trigger,
          t);
      fail_unless_equals_uint64 (a[t].steps, b[t].steps);
      fail_unless_equals_int (a[t].reset_count, 1);
    } else {
      fail_unless_equals_uint64 (a[t].steps, b[t].steps + RESET_AT);
      fail_unless_equals_int (a[t].reset_count, 0);
    }
  }
  if (!expect_reset && strstr (model, "step"))
    fail_if (memcmp (a[N_FRAMES - 1].p, b[N_FRAMES - 1].p,
            sizeof (a[0].p)) == 0, "trigger %d: the state made no difference",
        trigger);
  gst_harness_teardown (fresh);
  gst_harness_teardown (h);
}

GST_START_TEST (test_reset_rules_step_model)
{
  const gchar *m = "seq-step.onnx";

  check_trigger (m, TRIGGER_NONE, FALSE);
  check_trigger (m, TRIGGER_FLUSH, TRUE);
  check_trigger (m, TRIGGER_STREAM_START, TRUE);
  check_trigger (m, TRIGGER_SEGMENT_JUMP, TRUE);
  check_trigger (m, TRIGGER_SEGMENT_SAME, FALSE);
  check_trigger (m, TRIGGER_SEGMENT_CONTINUES, FALSE);
  check_trigger (m, TRIGGER_DISCONT, TRUE);
  check_trigger (m, TRIGGER_TIMESTAMP_GAP, TRUE);
  check_trigger (m, TRIGGER_SMALL_TIMESTAMP_GAP, FALSE);
  check_trigger (m, TRIGGER_TIMESTAMPS_BACK, TRUE);
  check_trigger (m, TRIGGER_CAPS_SIZE, TRUE);
  check_trigger (m, TRIGGER_GAP_EVENT, TRUE);
  check_trigger (m, TRIGGER_SHORT_GAP_EVENT, FALSE);
  check_trigger (m, TRIGGER_SIGNAL, TRUE);
  check_trigger (m, TRIGGER_CUSTOM_EVENT, TRUE);
  check_trigger (m, TRIGGER_CUSTOM_EVENT_OOB, TRUE);
}

GST_END_TEST;

GST_START_TEST (test_reset_rules_window_model)
{
  const gchar *m = "seq-window.onnx";

  check_trigger (m, TRIGGER_NONE, FALSE);
  check_trigger (m, TRIGGER_FLUSH, TRUE);
  check_trigger (m, TRIGGER_DISCONT, TRUE);
  check_trigger (m, TRIGGER_CAPS_SIZE, TRUE);
  check_trigger (m, TRIGGER_SIGNAL, TRUE);
}

GST_END_TEST;

/* Reverse playback (rate -1): frames come with decreasing timestamps, which
 * is continuous playback, not a reset.  The results equal those of a
 * forward stream of the same frames in the same order; a PTS that jumps
 * forward, or a hole longer than max-gap, resets. */
static void
push_reverse_segment (GstHarness * h, GstClockTime stop)
{
  GstSegment seg;

  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.rate = -1.0;
  seg.start = 0;
  seg.stop = stop;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
}

/* Frame t with PTS `pts` (frame durations). */
static void
push_frame_at (GstHarness * h, gint t, gint pts, Out * o)
{
  GstBuffer *buf = make_frame (t, 8, 8), *out;

  GST_BUFFER_PTS (buf) = pts * FRAME_DURATION;
  GST_BUFFER_DURATION (buf) = FRAME_DURATION;
  out = gst_harness_push_and_pull (h, buf);
  read_meta (gst_buffer_get_imgrec_sequence_meta (out), o);
  gst_buffer_unref (out);
}

GST_START_TEST (test_reverse_playback_keeps_state)
{
  GstHarness *rev = seq_harness ("seq-step.onnx", "max-gap=200000000");
  GstHarness *fwd = seq_harness ("seq-step.onnx", NULL);
  Out a, b;
  gint i, t;

  set_caps (rev, 8, 8);
  set_caps (fwd, 8, 8);
  push_reverse_segment (rev, N_FRAMES * FRAME_DURATION);
  /* frames N-1 .. 0 played backwards, and the same frames forwards */
  for (i = 0; i < N_FRAMES; i++) {
    t = N_FRAMES - 1 - i;
    push_frame_at (rev, t, t, &a);
    push_frame_at (fwd, t, i, &b);
    fail_unless (a.have && b.have);
    fail_unless_equals_uint64 (a.steps, (guint64) i + 1);
    fail_unless_equals_int (a.reset_count, 0);
    fail_unless (memcmp (a.p, b.p, sizeof (a.p)) == 0,
        "frame %d: reverse playback differs from the same frames forwards", t);
  }

  /* a new segment that goes on backwards from the last frame continues */
  push_reverse_segment (rev, 0);
  push_frame_at (rev, 0, 0, &a);
  fail_unless_equals_int (a.reset_count, 0);

  /* a PTS later than the last one is a jump, in reverse too */
  push_reverse_segment (rev, 100 * FRAME_DURATION);
  push_frame_at (rev, 50, 50, &a);
  fail_unless_equals_int (a.reset_count, 1);
  push_frame_at (rev, 60, 60, &a);
  fail_unless_equals_uint64 (a.steps, 1);
  fail_unless_equals_int (a.reset_count, 2);
  /* continuous backwards again, then a hole longer than max-gap (200 ms) */
  push_frame_at (rev, 59, 59, &a);
  fail_unless_equals_uint64 (a.steps, 2);
  fail_unless_equals_int (a.reset_count, 2);
  push_frame_at (rev, 40, 40, &a);
  fail_unless_equals_uint64 (a.steps, 1);
  fail_unless_equals_int (a.reset_count, 3);

  /* changing direction is a reset */
  gst_harness_teardown (fwd);
  fwd = seq_harness ("seq-step.onnx", NULL);
  set_caps (fwd, 8, 8);
  push_frame_at (fwd, 0, 0, &b);
  push_segment (fwd, 0, 0);
  {
    GstSegment seg;
    gst_segment_init (&seg, GST_FORMAT_TIME);
    seg.rate = -1.0;
    seg.stop = FRAME_DURATION;
    fail_unless (gst_harness_push_event (fwd, gst_event_new_segment (&seg)));
  }
  push_frame_at (fwd, 0, 0, &b);
  fail_unless_equals_uint64 (b.steps, 1);
  fail_unless_equals_int (b.reset_count, 1);
  gst_harness_teardown (fwd);
  gst_harness_teardown (rev);
}

GST_END_TEST;

/* A real flushing seek in the middle of a stream: the results after it are
 * bit-identical to a new element fed the same frames from there on. */
GST_START_TEST (test_seek_mid_stream_equals_fresh_start)
{
  gchar *model = seq_data ("seq-step.onnx");
  gchar *desc = g_strdup_printf ("videotestsrc pattern=ball ! "
      "video/x-raw,format=RGB,width=8,height=8,framerate=30/1 ! "
      "imgrecseq top-k=5 model=\"%s\" ! appsink name=out sync=false "
      "max-buffers=1", model);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstAppSink *sink = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (pipeline),
          "out"));
  GstBuffer *frames[8];
  Out after[8], fresh_out;
  GstHarness *fresh;
  /* videotestsrc starts at the frame whose PTS is the seek position rounded
   * down to a frame: seek just after frame 20's PTS */
  GstClockTime seek_to = gst_util_uint64_scale (20, GST_SECOND, 30);
  gint i;

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  for (i = 0; i < 10; i++) {
    GstSample *s = gst_app_sink_pull_sample (sink);
    fail_unless (s != NULL);
    gst_sample_unref (s);
  }
  fail_unless (gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, seek_to + 1));
  for (i = 0; i < 8; i++) {
    GstSample *s = gst_app_sink_pull_sample (sink);
    GstBuffer *b;
    fail_unless (s != NULL);
    b = gst_sample_get_buffer (s);
    if (i == 0 && GST_BUFFER_PTS (b) != seek_to) {
      /* a frame from before the seek that was already on its way */
      gst_sample_unref (s);
      i--;
      continue;
    }
    read_meta (gst_buffer_get_imgrec_sequence_meta (b), &after[i]);
    frames[i] = gst_buffer_copy_deep (b);
    gst_sample_unref (s);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);

  fresh = seq_harness ("seq-step.onnx", NULL);
  set_caps (fresh, 8, 8);
  for (i = 0; i < 8; i++) {
    GstBuffer *in = gst_buffer_new ();
    GstBuffer *out;
    /* the raw frame without the metas the first run attached */
    gst_buffer_copy_into (in, frames[i], GST_BUFFER_COPY_MEMORY |
        GST_BUFFER_COPY_TIMESTAMPS, 0, -1);
    out = gst_harness_push_and_pull (fresh, in);
    read_meta (gst_buffer_get_imgrec_sequence_meta (out), &fresh_out);
    fail_unless (after[i].have && fresh_out.have);
    fail_unless_equals_uint64 (after[i].steps, i + 1);
    fail_unless (after[i].reset_count >= 1);
    fail_unless (memcmp (after[i].p, fresh_out.p, sizeof (fresh_out.p)) == 0,
        "frame %d after the seek differs from a fresh start", i);
    gst_buffer_unref (out);
    gst_buffer_unref (frames[i]);
  }
  gst_harness_teardown (fresh);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* scope=roi                                                                  */

typedef struct {
  gint id;
  gint x;
  gint tracking_id;             /* < 0: none */
} Region;

/* Pushes frame t (32x16) with the given regions; out[i] = region i's meta. */
static void
push_rois (GstHarness * h, gint t, const Region * regions, guint n, Out * out)
{
  GstBuffer *buf = make_frame (t, 32, 16), *res;
  guint i;

  GST_BUFFER_PTS (buf) = t * FRAME_DURATION;
  GST_BUFFER_DURATION (buf) = FRAME_DURATION;
  for (i = 0; i < n; i++) {
    GstVideoRegionOfInterestMeta *roi =
        gst_buffer_add_video_region_of_interest_meta (buf, "sign",
        regions[i].x, 0, 16, 16);
    roi->id = regions[i].id;
    if (regions[i].tracking_id >= 0)
      gst_video_region_of_interest_meta_add_param (roi,
          gst_structure_new ("tracker", "tracking-id", G_TYPE_INT,
              regions[i].tracking_id, NULL));
  }
  res = gst_harness_push_and_pull (h, buf);
  fail_unless_equals_int (gst_buffer_get_n_imgrec_sequence_metas (res), n);
  for (i = 0; i < n; i++) {
    GstImgRecSequenceMeta *m =
        gst_buffer_get_imgrec_sequence_meta_for_roi (res, regions[i].id);
    GstVideoRegionOfInterestMeta *roi =
        gst_buffer_get_video_region_of_interest_meta_id (res, regions[i].id);
    fail_unless (m != NULL && roi != NULL);
    fail_unless (gst_video_region_of_interest_meta_get_param (roi,
            GST_IMGREC_SEQUENCE_PARAM_NAME) != NULL);
    read_meta (m, &out[i]);
  }
  gst_buffer_unref (res);
}

GST_START_TEST (test_interleaved_rois_keep_independent_states)
{
  GstHarness *both = seq_harness ("seq-step.onnx", "scope=roi");
  GstHarness *only_a = seq_harness ("seq-step.onnx", "scope=roi");
  GstHarness *only_b = seq_harness ("seq-step.onnx", "scope=roi");
  Region a = { 1, 0, -1 }, b = { 2, 16, -1 }, ab[2] = { {1, 0, -1}, {2, 16,
          -1}
  };

  set_caps (both, 32, 16);
  set_caps (only_a, 32, 16);
  set_caps (only_b, 32, 16);
  for (gint t = 0; t < N_FRAMES; t++) {
    Out o2[2], oa, ob;
    /* A on every frame, B on odd frames only */
    if (t % 2) {
      push_rois (both, t, ab, 2, o2);
      push_rois (only_b, t, &b, 1, &ob);
      fail_unless (memcmp (o2[1].p, ob.p, sizeof (ob.p)) == 0, "B, frame %d",
          t);
      fail_unless_equals_uint64 (o2[1].steps, ob.steps);
      fail_unless_equals_int64 (o2[1].scope_id, 2);
    } else {
      push_rois (both, t, &a, 1, o2);
    }
    push_rois (only_a, t, &a, 1, &oa);
    fail_unless (memcmp (o2[0].p, oa.p, sizeof (oa.p)) == 0, "A, frame %d", t);
    fail_unless_equals_uint64 (o2[0].steps, t + 1);
    fail_unless_equals_int64 (o2[0].scope_id, 1);
  }
  gst_harness_teardown (both);
  gst_harness_teardown (only_a);
  gst_harness_teardown (only_b);
}

GST_END_TEST;

GST_START_TEST (test_roi_ttl_evicts_unseen_regions)
{
  GstHarness *h = seq_harness ("seq-step.onnx", "scope=roi roi-ttl=2");
  Region a = { 1, 0, -1 };
  Out o;
  gint t;

  set_caps (h, 32, 16);
  for (t = 0; t < 4; t++)
    push_rois (h, t, &a, 1, &o);
  fail_unless_equals_uint64 (o.steps, 4);
  /* absent on 2 frames (= roi-ttl): kept */
  push_rois (h, 4, NULL, 0, NULL);
  push_rois (h, 5, NULL, 0, NULL);
  push_rois (h, 6, &a, 1, &o);
  fail_unless_equals_uint64 (o.steps, 5);
  /* absent on 3 frames: dropped, starts again */
  for (t = 7; t < 10; t++)
    push_rois (h, t, NULL, 0, NULL);
  push_rois (h, 10, &a, 1, &o);
  fail_unless_equals_uint64 (o.steps, 1);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_roi_ttl_time)
{
  GstHarness *h = seq_harness ("seq-step.onnx",
      "scope=roi roi-ttl=1000 roi-ttl-time=100000000");
  Region a = { 1, 0, -1 };
  Out o;

  set_caps (h, 32, 16);
  push_rois (h, 0, &a, 1, &o);
  push_rois (h, 1, NULL, 0, NULL);      /* 33 ms later */
  push_rois (h, 2, &a, 1, &o);
  fail_unless_equals_uint64 (o.steps, 2);
  for (gint t = 3; t < 8; t++)  /* 200 ms without it */
    push_rois (h, t, NULL, 0, NULL);
  push_rois (h, 8, &a, 1, &o);
  fail_unless_equals_uint64 (o.steps, 1);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_max_states_drops_least_recently_seen)
{
  GstHarness *h = seq_harness ("seq-step.onnx", "scope=roi max-states=2");
  Region r12[2] = { {1, 0, -1}, {2, 16, -1} }, r3 = { 3, 0, -1 };
  Region r21[2] = { {2, 16, -1}, {1, 0, -1} };
  Out o[2];

  set_caps (h, 32, 16);
  push_rois (h, 0, r12, 2, o);
  push_rois (h, 1, r12, 2, o);
  fail_unless_equals_uint64 (o[0].steps, 2);
  /* frame 2: region 3 replaces region 1 (both seen on frame 1; lower key) */
  push_rois (h, 2, &r3, 1, o);
  fail_unless_equals_uint64 (o[0].steps, 1);
  /* frame 3: region 2 is still known; region 1 comes back new and takes
   * the place of region 3, now the least recently seen */
  push_rois (h, 3, r21, 2, o);
  fail_unless_equals_uint64 (o[0].steps, 3);
  fail_unless_equals_uint64 (o[1].steps, 1);
  push_rois (h, 4, &r3, 1, o);
  fail_unless_equals_uint64 (o[0].steps, 1);
  /* lowered while playing: a new region trims the states down to it */
  g_object_set (element (h), "max-states", 1, NULL);
  push_rois (h, 5, r21, 2, o);
  fail_unless_equals_uint64 (o[0].steps, 4);
  fail_unless_equals_uint64 (o[1].steps, 1);
  push_rois (h, 6, r21, 1, o);
  fail_unless_equals_uint64 (o[0].steps, 1);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_tracking_id_keys_the_state)
{
  GstHarness *h = seq_harness ("seq-step.onnx", "scope=roi");
  Out o;

  set_caps (h, 32, 16);
  for (gint t = 0; t < 5; t++) {
    Region r = { 10 + t, 0, 7 };        /* a new ROI id on every frame */
    push_rois (h, t, &r, 1, &o);
    fail_unless_equals_uint64 (o.steps, t + 1);
    fail_unless_equals_int64 (o.scope_id, 7);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Tracking ids and ROI ids are two id spaces that overlap: an untracked box
 * whose ROI id is 1 next to track 1 (ROI id 5) must keep its own state, and
 * track 1's results must be those of a stream without the untracked box.
 * The untracked box comes first on even frames (the order a state shared by
 * the two would be stepped in: its crop, then track 1 carried), last on odd
 * ones. */
GST_START_TEST (test_untracked_roi_id_does_not_step_a_track)
{
  GstHarness *both = seq_harness ("seq-step.onnx", "scope=roi");
  GstHarness *track_alone = seq_harness ("seq-step.onnx", "scope=roi");
  GstHarness *roi_alone = seq_harness ("seq-step.onnx", "scope=roi");
  Region track = { 5, 0, 1 }, untracked = { 1, 16, -1 };

  set_caps (both, 32, 16);
  set_caps (track_alone, 32, 16);
  set_caps (roi_alone, 32, 16);
  for (gint t = 0; t < N_FRAMES; t++) {
    Region pair[2];
    Out o[2], ref_track, ref_roi, *o_track, *o_roi;

    pair[t % 2] = untracked;
    pair[1 - t % 2] = track;
    o_roi = &o[t % 2];
    o_track = &o[1 - t % 2];
    push_rois (both, t, pair, 2, o);
    push_rois (track_alone, t, &track, 1, &ref_track);
    push_rois (roi_alone, t, &untracked, 1, &ref_roi);
    fail_unless (memcmp (o_track->p, ref_track.p, sizeof (ref_track.p)) == 0,
        "track 1, frame %d: the untracked box with ROI id 1 changed it", t);
    fail_unless_equals_uint64 (o_track->steps, t + 1);
    fail_unless_equals_int64 (o_track->scope_id, 1);
    fail_unless (o_track->scope_tracked);
    fail_unless (!(o_track->flags & GST_IMGREC_RESULT_FLAG_CARRIED));
    fail_unless (memcmp (o_roi->p, ref_roi.p, sizeof (ref_roi.p)) == 0,
        "untracked ROI 1, frame %d", t);
    fail_unless_equals_uint64 (o_roi->steps, t + 1);
    fail_unless_equals_int64 (o_roi->scope_id, 1);
    fail_unless (!o_roi->scope_tracked);
  }
  gst_harness_teardown (both);
  gst_harness_teardown (track_alone);
  gst_harness_teardown (roi_alone);
}

GST_END_TEST;

/* Sends imgrec-reset for state `id`: scope-tracked = `tracked` (0 or 1),
 * none when `tracked` < 0. */
static void
push_reset_one (GstHarness * h, gint id, gint tracked)
{
  GstStructure *s = gst_structure_new ("imgrec-reset", "scope-id", G_TYPE_INT,
      id, NULL);

  if (tracked >= 0)
    gst_structure_set (s, "scope-tracked", G_TYPE_BOOLEAN, tracked, NULL);
  fail_unless (gst_harness_push_event (h,
          gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, s)));
}

/* The reset event names a state by id and, optionally, by space:
 * scope-tracked=true resets track 1 only, false the untracked ROI 1 only,
 * no scope-tracked both. */
GST_START_TEST (test_reset_event_names_the_id_space)
{
  GstHarness *h = seq_harness ("seq-step.onnx", "scope=roi");
  Region pair[2] = { {5, 0, 1}, {1, 16, -1} };
  Out o[2];

  set_caps (h, 32, 16);
  push_rois (h, 0, pair, 2, o);
  push_rois (h, 1, pair, 2, o);
  push_reset_one (h, 1, 1);
  push_rois (h, 2, pair, 2, o);
  fail_unless_equals_uint64 (o[0].steps, 1);
  fail_unless_equals_uint64 (o[1].steps, 3);
  push_reset_one (h, 1, 0);
  push_rois (h, 3, pair, 2, o);
  fail_unless_equals_uint64 (o[0].steps, 2);
  fail_unless_equals_uint64 (o[1].steps, 1);
  push_reset_one (h, 1, -1);
  push_rois (h, 4, pair, 2, o);
  fail_unless_equals_uint64 (o[0].steps, 1);
  fail_unless_equals_uint64 (o[1].steps, 1);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A region as DL Streamer's gvatrack leaves it: an ROI whose only param is
 * `object_id` {id}.  Two objects swap ROI ids and positions from frame to
 * frame; each must keep its own state, keyed on its object id, and the
 * sequence param must carry DL Streamer's names too. */
GST_START_TEST (test_dls_object_id_keys_the_state)
{
  GstHarness *h = seq_harness ("seq-step.onnx", "scope=roi");
  GstHarness *alone = seq_harness ("seq-step.onnx", "scope=roi");
  Out o[2], ref;

  set_caps (h, 32, 16);
  set_caps (alone, 32, 16);
  for (gint t = 0; t < 5; t++) {
    GstBuffer *buf = make_frame (t, 32, 16), *res;
    gint ids[2] = { 100 + 2 * t, 101 + 2 * t };
    gint object_ids[2] = { 41, 42 };
    Region r = { 7, 0, -1 };

    GST_BUFFER_PTS (buf) = t * FRAME_DURATION;
    GST_BUFFER_DURATION (buf) = FRAME_DURATION;
    for (gint i = 0; i < 2; i++) {
      /* object 41 on the left on even frames, on the right on odd ones */
      gint x = ((i + t) % 2) * 16;
      GstVideoRegionOfInterestMeta *roi =
          gst_buffer_add_video_region_of_interest_meta (buf, "sign", x, 0, 16,
          16);
      roi->id = ids[i];
      gst_video_region_of_interest_meta_add_param (roi,
          gst_structure_new ("object_id", "id", G_TYPE_INT, object_ids[i],
              NULL));
    }
    res = gst_harness_push_and_pull (h, buf);
    for (gint i = 0; i < 2; i++) {
      GstImgRecSequenceMeta *m =
          gst_buffer_get_imgrec_sequence_meta_for_roi (res, ids[i]);
      GstVideoRegionOfInterestMeta *roi =
          gst_buffer_get_video_region_of_interest_meta_id (res, ids[i]);
      GstStructure *p;
      gint label_id = -2;
      gdouble confidence = -1;

      fail_unless (m != NULL && roi != NULL);
      read_meta (m, &o[i]);
      fail_unless_equals_uint64 (o[i].steps, t + 1);
      fail_unless_equals_int64 (o[i].scope_id, object_ids[i]);
      p = gst_video_region_of_interest_meta_get_param (roi,
          GST_IMGREC_SEQUENCE_PARAM_NAME);
      fail_unless (p != NULL);
      fail_unless (gst_structure_get_int (p, "label_id", &label_id));
      fail_unless_equals_int (label_id, m->class_id);
      fail_unless (gst_structure_get_double (p, "confidence", &confidence));
      fail_unless (confidence == (gdouble) m->confidence);
      fail_unless_equals_string (gst_structure_get_string (p, "label"),
          m->label);
      fail_unless_equals_string (gst_structure_get_string (p, "model_name"),
          m->info.model);
    }
    /* object 41's state equals one that saw only object 41's crops */
    r.x = (t % 2) * 16;
    push_rois (alone, t, &r, 1, &ref);
    fail_unless (memcmp (o[0].p, ref.p, sizeof (ref.p)) == 0,
        "object 41, frame %d", t);
    gst_buffer_unref (res);
  }
  gst_harness_teardown (h);
  gst_harness_teardown (alone);
}

GST_END_TEST;

GST_START_TEST (test_reset_event_for_one_region)
{
  GstHarness *h = seq_harness ("seq-step.onnx", "scope=roi");
  Region ab[2] = { {1, 0, -1}, {2, 16, -1} };
  Out o[2];

  set_caps (h, 32, 16);
  push_rois (h, 0, ab, 2, o);
  push_rois (h, 1, ab, 2, o);
  fail_unless (gst_harness_push_event (h,
          gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
              gst_structure_new ("imgrec-reset", "scope-id", G_TYPE_INT64,
                  (gint64) 2, NULL))));
  push_rois (h, 2, ab, 2, o);
  fail_unless_equals_uint64 (o[0].steps, 3);
  fail_unless_equals_uint64 (o[1].steps, 1);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* messages                                                                   */

GST_START_TEST (test_messages_and_label_change)
{
  GstHarness *h = seq_harness ("seq-step.onnx",
      "post-messages=true stable-frames=3 min-confidence=0.3");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  guint n_results = 0, n_changes = 0;
  const GstStructure *s;

  gst_element_set_bus (h->element, bus);
  set_caps (h, 8, 8);
  for (gint t = 0; t < N_FRAMES; t++)
    push_frame (h, t, 8, 8, 0, 0, NULL);
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "imgrec-sequence")) {
      guint64 steps;
      gboolean tracked = TRUE;
      n_results++;
      fail_unless (gst_structure_get_uint64 (s, "steps", &steps));
      fail_unless_equals_uint64 (steps, n_results);
      fail_unless_equals_string (gst_structure_get_string (s, "model"),
          "seq-step");
      fail_unless_equals_string (gst_structure_get_string (s, "label"),
          "beta");
      fail_unless (gst_structure_has_field (s, "top-confidences"));
      fail_unless (gst_structure_has_field (s, "scope-id"));
      fail_unless (gst_structure_get_boolean (s, "scope-tracked", &tracked));
      fail_unless (!tracked);   /* scope=stream */
      fail_unless (gst_structure_has_field (s, "reset-count"));
    } else if (gst_structure_has_name (s, "imgrec-sequence-change")) {
      guint64 steps;
      gint id;
      n_changes++;
      fail_unless_equals_string (gst_structure_get_string (s, "label"),
          "beta");
      fail_unless_equals_string (gst_structure_get_string (s,
              "previous-label"), "");
      fail_unless (gst_structure_get_int (s, "previous-class-id", &id));
      fail_unless_equals_int (id, -1);
      fail_unless (gst_structure_get_uint64 (s, "steps", &steps));
      fail_unless_equals_uint64 (steps, 3);
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (n_results, N_FRAMES);
  fail_unless_equals_int (n_changes, 1);

  /* below min-confidence nothing is announced */
  g_object_set (element (h), "min-confidence", 0.9, NULL);
  g_signal_emit_by_name (element (h), "reset");
  for (gint t = 0; t < N_FRAMES; t++)
    push_frame (h, t + N_FRAMES, 8, 8, 0, 0, NULL);
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    fail_if (gst_structure_has_name (gst_message_get_structure (msg),
            "imgrec-sequence-change"));
    gst_message_unref (msg);
  }
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_meta_survives_buffer_copy)
{
  GstHarness *h = seq_harness ("seq-step.onnx", NULL);
  GstBuffer *buf = make_frame (0, 8, 8), *out, *copy;
  GstImgRecSequenceMeta *m;
  GstVideoRegionOfInterestMeta *roi;

  set_caps (h, 8, 8);
  GST_BUFFER_PTS (buf) = 0;
  out = gst_harness_push_and_pull (h, buf);
  copy = gst_buffer_copy (out);
  m = gst_buffer_get_imgrec_sequence_meta (copy);
  fail_unless (m != NULL);
  fail_unless_equals_uint64 (m->steps, 1);
  fail_unless (gst_imgrec_meta_is_result ((GstMeta *) m));
  fail_unless_equals_string (gst_imgrec_meta_get_kind ((GstMeta *) m),
      "sequence");
  roi = gst_buffer_get_video_region_of_interest_meta_id (copy,
      m->info.roi_id);
  fail_unless (roi != NULL);
  fail_unless (gst_video_region_of_interest_meta_get_param (roi,
          GST_IMGREC_SEQUENCE_PARAM_NAME) != NULL);
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* errors, state cycles, memory                                               */

static gchar *
start_error (const gchar * model_path, const gchar * props)
{
  gchar *desc = g_strdup_printf ("imgrecseq %s%s%s %s",
      model_path ? "model=\"" : "", model_path ? model_path : "",
      model_path ? "\"" : "", props ? props : "");
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
  } else {
    fail_if (ret == GST_STATE_CHANGE_FAILURE);
  }
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_free (desc);
  return text;
}

static void
assert_start_error (gchar * model_path, const gchar * props,
    const gchar * substring)
{
  gchar *msg = start_error (model_path, props);

  fail_unless (msg != NULL, "no error for %s %s", model_path, props);
  fail_unless (strstr (msg, substring) != NULL,
      "error \"%s\" does not say \"%s\"", msg, substring);
  g_free (msg);
  g_free (model_path);
}

GST_START_TEST (test_error_messages)
{
  gchar *msg, *path;

  assert_start_error (NULL, NULL, "No model set");
  assert_start_error (seq_data ("missing.onnx"), NULL, "does not exist");
  assert_start_error (gst_data ("mean-colour.onnx"), NULL,
      "needs a sequence-step or sequence-window model");
  assert_start_error (gst_data ("not-image.onnx"), NULL,
      "is not an image model");
  assert_start_error (seq_data ("seq-step.onnx"), "state-map=h_in",
      "Invalid state map");
  assert_start_error (seq_data ("seq-step.onnx"), "state-map=h_in:nope",
      "does not have");
  assert_start_error (seq_data ("seq-step.onnx"), "state-map=h_in:h_out",
      "neither the image nor a state");
  assert_start_error (seq_data ("seq-step.onnx"), "state-map=h_in:c_out,"
      "c_in:h_out,x:y", "does not have");
  assert_start_error (seq_data ("seq-step.onnx"),
      "labels=/nonexistent/labels.txt", "Could not read labels file");
  assert_start_error (gst_data ("mean-colour.onnx"),
      "state-map=image:scores", "needs a sequence-step");

  path = seq_data ("seq-step.onnx");
  msg = start_error (path, "state-map=h_in:h_out,c_in:c_out");
  fail_unless (msg == NULL, "unexpected error: %s", msg);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  gchar *model = seq_data ("seq-step.onnx");
  gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,width=64,height=48 ! imgrecroi regions=\"a=0,0,16,16;"
      "b=0:20,20,8,8/10:40,20,8,8\" ! imgrecseq scope=roi model=\"%s\" ! "
      "fakesink", model);
  GstElement *pipeline = gst_parse_launch (desc, NULL);

  fail_unless (pipeline != NULL);
  for (gint i = 0; i < 30; i++) {
    fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
            10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (model);
}

GST_END_TEST;

/* Many regions appearing and disappearing: the states stay bounded by
 * max-states and roi-ttl (and valgrind, see meson.build, finds no leak). */
GST_START_TEST (test_many_regions_appearing_and_disappearing)
{
  const gchar *env = g_getenv ("IMGREC_SEQ_LEAK_FRAMES");
  gint n_frames = env ? atoi (env) : 10000;
  GstHarness *h = seq_harness ("seq-step.onnx",
      "scope=roi roi-ttl=5 max-states=40");
  GstVideoInfo info;
  GstBuffer *frame = make_frame (0, 64, 64);
  guint64 max_steps = 0;

  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, 64, 64);
  set_caps (h, 64, 64);
  for (gint t = 0; t < n_frames; t++) {
    GstBuffer *buf = gst_buffer_copy (frame), *out;
    gint r, n = 0;
    GST_BUFFER_PTS (buf) = t * FRAME_DURATION;
    GST_BUFFER_DURATION (buf) = FRAME_DURATION;
    /* region r of 50 is visible on frames where (t / (r + 3)) is even */
    for (r = 0; r < 50; r++) {
      if (((t / (r + 3)) % 2) == 0 && n < 25) {
        GstVideoRegionOfInterestMeta *roi =
            gst_buffer_add_video_region_of_interest_meta (buf, "obj",
            (r % 8) * 8, (r / 8) * 8, 8, 8);
        roi->id = r;
        n++;
      }
    }
    out = gst_harness_push_and_pull (h, buf);
    fail_unless_equals_int (gst_buffer_get_n_imgrec_sequence_metas (out), n);
    {
      GList *metas = gst_buffer_get_imgrec_sequence_metas (out), *l;
      for (l = metas; l; l = l->next)
        max_steps = MAX (max_steps, ((GstImgRecSequenceMeta *) l->data)->steps);
      g_list_free (metas);
    }
    gst_buffer_unref (out);
  }
  fail_unless (max_steps > 1);
  gst_buffer_unref (frame);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
imgrecseq_suite (void)
{
  Suite *s = suite_create ("imgrecseq");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_step_model_matches_pytorch);
  tcase_add_test (tc, test_step_model_initial_state_from_metadata);
  tcase_add_test (tc, test_window_model_matches_pytorch);
  tcase_add_test (tc, test_window_stride_carries_between_runs);
  tcase_add_test (tc, test_shipped_traffic_signs_seq_model);
  tcase_add_test (tc, test_reset_rules_step_model);
  tcase_add_test (tc, test_reset_rules_window_model);
  tcase_add_test (tc, test_reverse_playback_keeps_state);
  tcase_add_test (tc, test_seek_mid_stream_equals_fresh_start);
  tcase_add_test (tc, test_interleaved_rois_keep_independent_states);
  tcase_add_test (tc, test_roi_ttl_evicts_unseen_regions);
  tcase_add_test (tc, test_roi_ttl_time);
  tcase_add_test (tc, test_max_states_drops_least_recently_seen);
  tcase_add_test (tc, test_tracking_id_keys_the_state);
  tcase_add_test (tc, test_untracked_roi_id_does_not_step_a_track);
  tcase_add_test (tc, test_reset_event_names_the_id_space);
  tcase_add_test (tc, test_dls_object_id_keys_the_state);
  tcase_add_test (tc, test_reset_event_for_one_region);
  tcase_add_test (tc, test_messages_and_label_change);
  tcase_add_test (tc, test_meta_survives_buffer_copy);
  tcase_add_test (tc, test_error_messages);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_many_regions_appearing_and_disappearing);
  return s;
}

GST_CHECK_MAIN (imgrecseq);
