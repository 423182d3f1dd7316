/* imgrecseq: recurrent (CNN-RNN) and windowed recognition over video frames,
 * with state per stream or per tracked region and exact reset rules.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_SEQ_H__
#define __GST_IMGREC_SEQ_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "gstimgrecmeta.h"
#include "gstimgrecseqmeta.h"
#include "gstimgrecinfer.h"
#include "gstimgrecclasses.h"

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_SEQ (gst_imgrec_seq_get_type ())
G_DECLARE_FINAL_TYPE (GstImgRecSeq, gst_imgrec_seq, GST, IMGREC_SEQ,
    GstImgRecInfer)

GST_ELEMENT_REGISTER_DECLARE (imgrecseq);

typedef enum {
  GST_IMGREC_SEQ_SCOPE_STREAM,
  GST_IMGREC_SEQ_SCOPE_ROI,
} GstImgRecSeqScope;

typedef enum {
  GST_IMGREC_SEQ_FORM_STEP,
  GST_IMGREC_SEQ_FORM_WINDOW,
} GstImgRecSeqForm;

#define GST_IMGREC_SEQ_MAX_STATES 8

/* One recurrent state tensor: model input `input` takes what output
 * `output` produced on the previous frame. */
typedef struct {
  gint input, output;
  gint rank;
  gint64 dims[IMGREC_MAX_RANK];
  gsize count;                  /* elements */
  gsize offset;                 /* in a slot's state array */
} GstImgRecSeqStatePair;

/* One result, as kept between frames. */
typedef struct {
  gint class_id;
  const gchar *label;
  gfloat confidence;
  guint n_top;
  GstImgRecClassScore top[GST_IMGREC_MAX_TOP_K];
  GstImgRecResultFlags flags;
  GstClockTime inference_pts;
  guint64 steps;
  GstClockTime window_start, window_end;
} GstImgRecSeqResult;

/* Which region a state belongs to.  Tracking ids and ROI ids are two id
 * spaces that overlap (an untracked box's ROI id 1 is not track 1), so the
 * key records which space its id comes from. */
typedef struct {
  gint64 id;                    /* -1: the stream; else ROI/tracking id */
  gboolean tracked;             /* id is a tracking id, else an ROI id */
} GstImgRecSeqKey;

/* The memory of one stream or one tracked region. */
typedef struct {
  GstImgRecSeqKey key;
  guint64 last_seen;            /* frame index */
  GstClockTime last_seen_pts;
  guint64 steps;                /* frames since the reset */
  gfloat *state;                /* step: the state tensors; window: T frames */
  GstClockTime *pts;            /* window: PTS of each frame of the ring */
  guint ring_len, ring_head, since_run;
  gboolean have_result;
  GstImgRecSeqResult last;
  /* label-change detection */
  gint candidate, announced;
  guint stable;
} GstImgRecSeqSlot;

struct _GstImgRecSeq {
  GstImgRecInfer infer;         /* model, labels, top-k, post-messages,
                                 * threads; session, pre-processing */
  GstImgRecClasses classes;     /* start() to stop() */

  /* properties (object lock) */
  gchar *state_map;
  GstImgRecSeqScope scope;
  guint roi_ttl;
  GstClockTime roi_ttl_time;
  guint max_states;
  GstClockTime max_gap;
  guint stride;
  guint stable_frames;
  gdouble min_confidence;

  /* from start() to stop(), streaming thread only */
  GstImgRecSeqForm form;
  gint scores_output;
  GstImgRecSeqStatePair pairs[GST_IMGREC_SEQ_MAX_STATES];
  guint n_pairs;
  gsize state_size;             /* floats per slot (step form) */
  gfloat *state_init;           /* state_size initial values */
  gsize frame_size;             /* floats per pre-processed frame */
  gint window;                  /* T (window form) */
  gfloat *window_input;         /* T frames in time order */
  gint64 window_dims[5];

  GstImgRecSeqSlot *stream_slot;
  GHashTable *slots;            /* GstImgRecSeqKey -> slot (scope=roi) */
  GPtrArray *free_slots;

  guint64 frame_index;
  guint reset_count;
  gboolean have_size;
  gint width, height;
  GstClockTime last_pts, last_end;
  GstSegment last_segment;
  gboolean have_segment;
  gint pending_reset;           /* atomic: set by the reset action signal */
};

G_END_DECLS

#endif
