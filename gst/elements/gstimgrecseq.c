/* imgrecseq: recurrent (CNN-RNN) and windowed recognition over video frames.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-imgrecseq
 * @title: imgrecseq
 *
 * Recognises what a video shows over time with a sequence model run by the
 * imgrec engine: a CNN-RNN that carries a hidden state from frame to frame,
 * or a model that looks at a window of the last T frames.  The state lives
 * in the element, either one for the whole stream (`scope=stream`) or one
 * per tracked region (`scope=roi`), and is reset by exactly the rules listed
 * below.  The video passes through unchanged.
 *
 * ## Model forms
 *
 * - **Step model** (`imgrec.kind` = `sequence-step`): per frame, inputs =
 *   the pre-processed frame (the one input of rank 4) + the recurrent state
 *   tensors; outputs = scores + the new state tensors.  Which output feeds
 *   which input on the next frame comes from the `state-map` property or
 *   the model's `imgrec.state-map` metadata, e.g. `h_in:h_out,c_in:c_out`.
 *   The state starts at zeros, or at the values the model declares in
 *   `imgrec.state-init.INPUT` metadata (one number for every element, or
 *   one per element, comma-separated).  The scores are the first output
 *   that is not a state.
 * - **Window model** (`imgrec.kind` = `sequence-window`, or any model whose
 *   image input has rank 5): input `[1,T,C,H,W]` or `[T,1,C,H,W]`.  The
 *   element keeps a ring of the last T pre-processed frames (each frame is
 *   pre-processed once) and runs the model every #GstImgRecSeq:stride
 *   frames once T frames are there, oldest frame first.  Frames in between
 *   carry the last result (flag %GST_IMGREC_RESULT_FLAG_CARRIED); the first
 *   T-1 frames after a reset have no result yet.
 *
 * Pre-processing (labels, scale, mean, std, colour order, resize, layout)
 * follows the model's `imgrec.*` metadata like imgrecclassify.  Scores are
 * turned into probabilities with softmax unless they already are one.
 *
 * ## State scope
 *
 * - `scope=stream`: one state for the whole frame.
 * - `scope=roi`: one state per upstream #GstVideoRegionOfInterestMeta, keyed
 *   by the region's tracking id when one of its params has an integer field
 *   `tracking-id` (or `object-id`, or DL Streamer's `object_id` structure's
 *   `id`), else by the ROI id; #GstImgRecSeq:object-class limits it to
 *   ROIs of those types.  A sign or vehicle
 *   tracked across frames keeps its own memory; states never mix.
 *   Tracking ids and ROI ids are two id spaces, kept apart: when some
 *   regions of a stream are tracked and others are not, each untracked
 *   region gets its own state keyed by its ROI id, never that of the track
 *   whose id happens to equal its ROI id (the meta's `scope_tracked` and
 *   the messages' `scope-tracked` say which space `scope-id` is in).  An
 *   untracked region's state only means something when upstream keeps its
 *   ROI id from frame to frame (regions an application adds itself);
 *   detectors number ROIs afresh on every frame, so put imgrectrack (or
 *   imgrecroi, whose regions carry a `tracking-id`) before imgrecseq.  A state
 *   whose region was not seen for more than #GstImgRecSeq:roi-ttl frames
 *   (or, when set, for longer than #GstImgRecSeq:roi-ttl-time) is dropped.
 *   At most #GstImgRecSeq:max-states states are kept: a new region then
 *   takes the state of the least recently seen one (logged at INFO level).
 *   Regions outside the frame are skipped; a key that appears twice on one
 *   frame gets its state updated once, the second region carries the
 *   first's result.
 *
 * ## Reset rules
 *
 * Every state goes back to its initial value (zeros; the window emptied;
 * regions forgotten) on:
 *
 * - `FLUSH_STOP` (a flushing seek);
 * - `STREAM_START`;
 * - a `SEGMENT` that does not continue the previous one: another format or
 *   rate (a change of direction included), or a start whose stream time is
 *   before the end of the last frame or more than #GstImgRecSeq:max-gap
 *   after it (1 ms when max-gap is 0); with a negative rate, a stop after
 *   the start of the last frame or more than max-gap before it;
 * - a buffer with the `DISCONT` flag;
 * - a buffer whose PTS is earlier than the previous one's, or more than
 *   #GstImgRecSeq:max-gap after the previous frame's end (0 = no limit);
 * - in reverse playback (a segment with a negative rate), where timestamps
 *   decreasing frame after frame are continuous playback and keep the
 *   state: a buffer whose PTS is later than the previous one's, or whose
 *   end is more than max-gap before the previous frame's PTS;
 * - a caps change to another resolution;
 * - a `GAP` event longer than #GstImgRecSeq:max-gap;
 * - the `reset` action signal (applied before the next frame);
 * - a custom downstream event (serialized or out-of-band) whose structure
 *   is named `imgrec-reset`; with an int field `scope-id` only that region's
 *   state is dropped: with a boolean `scope-tracked`, the state of that
 *   tracking id (TRUE) or of that untracked ROI id (FALSE); without it,
 *   both.  The event travels on downstream.
 *
 * After a reset the outputs are bit-identical to those of a new pipeline
 * started at that frame.  #GstImgRecSequenceMeta.reset_count counts the
 * resets that discarded a state.
 *
 * ## Output
 *
 * - a #GstImgRecSequenceMeta per recognised region (libgstimgrec-1.0):
 *   label, class id, confidence, top-k, steps since the reset, reset count,
 *   scope id and whether it is a tracking id, window start/end for window
 *   models;
 * - a param `imgrec-sequence` (fields `label`, `class-id`, `confidence`,
 *   `steps`, `model`, and DL Streamer's `label_id`, `model_name`) on the
 *   region's #GstVideoRegionOfInterestMeta; with
 *   `scope=stream` on an ROI of type `imgrec-full-frame` covering the frame
 *   (reused when an earlier imgrec element added one).
 *
 * ## Messages
 *
 * With #GstImgRecSeq:post-messages, an element message `imgrec-sequence` is
 * posted per fresh result (carried results post none):
 *
 * - `timestamp`, `stream-time`, `running-time`, `duration` (#G_TYPE_UINT64):
 *   of the buffer.
 * - `roi-id` (#G_TYPE_INT): the region's ROI id (the full-frame ROI with
 *   `scope=stream`).
 * - `scope-id` (#G_TYPE_INT64): the state's key, -1 with `scope=stream`.
 * - `scope-tracked` (#G_TYPE_BOOLEAN): TRUE when `scope-id` is a tracking
 *   id, FALSE when it is an ROI id (or -1).
 * - `model` (#G_TYPE_STRING): model name.
 * - `label` (#G_TYPE_STRING), `class-id` (#G_TYPE_INT), `confidence`
 *   (#G_TYPE_DOUBLE): the recognised class.
 * - `steps` (#G_TYPE_UINT64): frames the state has seen since its reset.
 * - `reset-count` (#G_TYPE_UINT): resets so far.
 * - `window-start`, `window-end` (#G_TYPE_UINT64): PTS of the window's
 *   first and last frame (window models; %GST_CLOCK_TIME_NONE otherwise).
 * - `top-labels`, `top-class-ids`, `top-confidences` (#GST_TYPE_ARRAY of
 *   string / int / double): the top-k classes, best first.
 *
 * Independently of post-messages, an element message
 * `imgrec-sequence-change` is posted when a state's recognised label has
 * been the same, with confidence ≥ #GstImgRecSeq:min-confidence, for
 * #GstImgRecSeq:stable-frames consecutive fresh results and differs from
 * the last label announced for that state (the first stable label after a
 * reset is announced too) — the event an application acts on ("sign
 * recognised: Stop").  Fields: `timestamp`, `stream-time`, `running-time`
 * (#G_TYPE_UINT64), `roi-id` (#G_TYPE_INT), `scope-id` (#G_TYPE_INT64),
 * `scope-tracked` (#G_TYPE_BOOLEAN), `model`, `label` (#G_TYPE_STRING),
 * `class-id` (#G_TYPE_INT), `confidence` (#G_TYPE_DOUBLE), `previous-label`
 * (#G_TYPE_STRING, empty when none), `previous-class-id` (#G_TYPE_INT, -1
 * when none), `steps` (#G_TYPE_UINT64).
 *
 * Errors (no or unloadable model, a model of another kind, a state map that
 * names missing or mismatched tensors, bad labels) are reported with
 * GST_ELEMENT_ERROR when going from READY to PAUSED.  Frames are never
 * dropped (QoS would break the state's continuity).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -m filesrc location=drive.mp4 ! decodebin ! \
 *     imgrecseq model=models/traffic-signs-seq/traffic-signs-seq.onnx ! \
 *     imgrecoverlay ! videoconvert ! autovideosink
 * ]| Recognises the sign filling the frame over time and prints the
 * imgrec-sequence-change messages.
 * |[
 * gst-launch-1.0 filesrc location=drive.mp4 ! decodebin ! \
 *     imgrecroi regions="sign=100,80,64,64" ! \
 *     imgrecseq scope=roi model=models/traffic-signs-seq/traffic-signs-seq.onnx \
 *     roi-ttl=15 ! imgrecjson location=out.jsonl ! fakesink
 * ]| One state per region, JSON lines out.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecseq.h"
#include "gstimgrecproperty.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_seq_debug);
#define GST_CAT_DEFAULT gst_imgrec_seq_debug

#define DEFAULT_MODEL NULL
#define DEFAULT_STATE_MAP NULL
#define DEFAULT_SCOPE GST_IMGREC_SEQ_SCOPE_STREAM
#define DEFAULT_ROI_TTL 30
#define DEFAULT_ROI_TTL_TIME 0
#define DEFAULT_MAX_STATES 64
#define DEFAULT_MAX_GAP GST_SECOND
#define DEFAULT_STRIDE 1
#define DEFAULT_POST_MESSAGES FALSE
#define DEFAULT_STABLE_FRAMES 5
#define DEFAULT_MIN_CONFIDENCE 0.5
#define DEFAULT_THREADS 0

#define RESET_EVENT_NAME "imgrec-reset"

enum
{
  PROP_MODEL = GST_IMGREC_INFER_PROP_MODEL,
  PROP_LABELS = GST_IMGREC_INFER_PROP_LABELS,
  PROP_TOP_K = GST_IMGREC_INFER_PROP_TOP_K,
  PROP_POST_MESSAGES = GST_IMGREC_INFER_PROP_POST_MESSAGES,
  PROP_MODEL_INSTANCE_ID = GST_IMGREC_INFER_PROP_MODEL_INSTANCE_ID,
  PROP_THREADS = GST_IMGREC_INFER_PROP_THREADS,
  PROP_OBJECT_CLASS = GST_IMGREC_INFER_PROP_OBJECT_CLASS,
  PROP_STATE_MAP = GST_IMGREC_INFER_PROP_LAST,
  PROP_SCOPE,
  PROP_ROI_TTL,
  PROP_ROI_TTL_TIME,
  PROP_MAX_STATES,
  PROP_MAX_GAP,
  PROP_STRIDE,
  PROP_STABLE_FRAMES,
  PROP_MIN_CONFIDENCE,
  N_PROPERTIES
};

static GParamSpec *properties[N_PROPERTIES];

enum
{
  SIGNAL_RESET,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define gst_imgrec_seq_parent_class parent_class
G_DEFINE_TYPE (GstImgRecSeq, gst_imgrec_seq, GST_TYPE_IMGREC_INFER);
GST_ELEMENT_REGISTER_DEFINE (imgrecseq, "imgrecseq", GST_RANK_NONE,
    GST_TYPE_IMGREC_SEQ);

static GType
gst_imgrec_seq_scope_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_IMGREC_SEQ_SCOPE_STREAM, "One state for the whole frame", "stream"},
    {GST_IMGREC_SEQ_SCOPE_ROI, "One state per region of interest (ROI id or "
          "tracking id)", "roi"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstImgRecSeqScope", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ------------------------------------------------------------------------ */
/* states                                                                     */

static GstImgRecSeqSlot *
slot_new (GstImgRecSeq * self)
{
  GstImgRecSeqSlot *slot = g_new0 (GstImgRecSeqSlot, 1);

  if (self->form == GST_IMGREC_SEQ_FORM_STEP) {
    slot->state = g_new0 (gfloat, MAX (self->state_size, 1));
  } else {
    slot->state = g_new0 (gfloat, self->frame_size * self->window);
    slot->pts = g_new0 (GstClockTime, self->window);
  }
  return slot;
}

static void
slot_free (GstImgRecSeqSlot * slot)
{
  g_free (slot->state);
  g_free (slot->pts);
  g_free (slot);
}

/* The key of the whole stream's state (scope=stream). */
static const GstImgRecSeqKey stream_key = { -1, FALSE };

/* The two id spaces of scope=roi keys, as a mask for reset_states. */
enum {
  SPACE_ROI = 1 << 0,
  SPACE_TRACK = 1 << 1,
};

/* Hash and equality of GstImgRecSeqKey: the id and its space, so that ROI
 * id 1 and tracking id 1 are two states. */
static guint
key_hash (gconstpointer p)
{
  const GstImgRecSeqKey *k = p;

  return g_int64_hash (&k->id) ^ (k->tracked ? 0x9e3779b9u : 0u);
}

static gboolean
key_equal (gconstpointer a, gconstpointer b)
{
  const GstImgRecSeqKey *ka = a, *kb = b;

  return ka->id == kb->id && !ka->tracked == !kb->tracked;
}

/* Orders keys for a deterministic eviction: ROI ids before tracking ids,
 * then by id. */
static gint
key_compare (const GstImgRecSeqKey * a, const GstImgRecSeqKey * b)
{
  if (!a->tracked != !b->tracked)
    return a->tracked ? 1 : -1;
  return a->id < b->id ? -1 : a->id > b->id;
}

#define KEY_FORMAT "%s %" G_GINT64_FORMAT
#define KEY_ARGS(k) ((k).tracked ? "track" : "ROI"), (k).id

/* Back to the initial state: zeros, empty window, nothing announced. */
static void
slot_clear (GstImgRecSeq * self, GstImgRecSeqSlot * slot,
    const GstImgRecSeqKey * key)
{
  if (self->form == GST_IMGREC_SEQ_FORM_STEP)
    memcpy (slot->state, self->state_init, self->state_size * sizeof (gfloat));
  slot->key = *key;
  slot->last_seen = 0;
  slot->last_seen_pts = GST_CLOCK_TIME_NONE;
  slot->steps = 0;
  slot->ring_len = slot->ring_head = slot->since_run = 0;
  slot->have_result = FALSE;
  slot->candidate = slot->announced = -1;
  slot->stable = 0;
}

static void
forget_slot (GstImgRecSeq * self, GstImgRecSeqSlot * slot)
{
  g_hash_table_remove (self->slots, &slot->key);
  g_ptr_array_add (self->free_slots, slot);
}

/* Drops every state (all = TRUE), or the states with id scope_id in the
 * id spaces of the mask `spaces` (SPACE_ROI, SPACE_TRACK; scope_id -1 with
 * no such state: the stream's). */
static void
reset_states (GstImgRecSeq * self, const gchar * reason, gboolean all,
    gint64 scope_id, guint spaces)
{
  gboolean discarded = FALSE;

  if (self->stream_slot == NULL)        /* not started */
    return;
  if (all) {
    GHashTableIter iter;
    gpointer value;

    if (self->stream_slot->steps > 0)
      discarded = TRUE;
    slot_clear (self, self->stream_slot, &stream_key);
    g_hash_table_iter_init (&iter, self->slots);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      g_ptr_array_add (self->free_slots, value);
      g_hash_table_iter_remove (&iter);
      discarded = TRUE;
    }
  } else {
    GstImgRecSeqKey key = { scope_id, FALSE };
    guint space;
    for (space = SPACE_ROI; space <= SPACE_TRACK; space <<= 1) {
      GstImgRecSeqSlot *slot;
      if (!(spaces & space))
        continue;
      key.tracked = space == SPACE_TRACK;
      slot = g_hash_table_lookup (self->slots, &key);
      if (slot) {
        forget_slot (self, slot);
        discarded = TRUE;
      }
    }
    if (!discarded && scope_id == -1 && self->stream_slot->steps > 0) {
      slot_clear (self, self->stream_slot, &stream_key);
      discarded = TRUE;
    }
  }
  if (discarded) {
    self->reset_count++;
    GST_DEBUG_OBJECT (self, "reset #%u (%s)%s", self->reset_count, reason,
        all ? "" : ", one region");
  } else {
    GST_LOG_OBJECT (self, "reset (%s): nothing to discard", reason);
  }
  if (all) {
    self->last_pts = GST_CLOCK_TIME_NONE;
    self->last_end = GST_CLOCK_TIME_NONE;
  }
}

/* The state of region `key`: an existing one, a free one, or the least
 * recently seen one when max-states are in use. */
static GstImgRecSeqSlot *
acquire_slot (GstImgRecSeq * self, const GstImgRecSeqKey * key,
    guint max_states)
{
  GstImgRecSeqSlot *slot = g_hash_table_lookup (self->slots, key);
  GHashTableIter iter;
  gpointer value;

  if (slot)
    return slot;
  /* (a loop: max-states may have been lowered while playing) */
  while (g_hash_table_size (self->slots) >= max_states) {
    GstImgRecSeqSlot *oldest = NULL;
    g_hash_table_iter_init (&iter, self->slots);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      GstImgRecSeqSlot *s = value;
      if (oldest == NULL || s->last_seen < oldest->last_seen
          || (s->last_seen == oldest->last_seen
              && key_compare (&s->key, &oldest->key) < 0))
        oldest = s;
    }
    GST_INFO_OBJECT (self, "max-states (%u) reached: dropping the state of "
        "region " KEY_FORMAT " (last seen on frame %" G_GUINT64_FORMAT
        ") for region " KEY_FORMAT, max_states, KEY_ARGS (oldest->key),
        oldest->last_seen, KEY_ARGS (*key));
    forget_slot (self, oldest);
  }
  if (self->free_slots->len > 0)
    slot = g_ptr_array_steal_index_fast (self->free_slots,
        self->free_slots->len - 1);
  else
    slot = slot_new (self);
  slot_clear (self, slot, key);
  g_hash_table_insert (self->slots, &slot->key, slot);
  return slot;
}

/* Drops the states of regions not seen for longer than the TTL. */
static void
evict_expired (GstImgRecSeq * self, guint ttl, GstClockTime ttl_time,
    GstClockTime pts)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->slots);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    GstImgRecSeqSlot *s = value;
    gboolean expired = self->frame_index - s->last_seen > ttl;

    if (!expired && ttl_time > 0 && GST_CLOCK_TIME_IS_VALID (pts)
        && GST_CLOCK_TIME_IS_VALID (s->last_seen_pts)
        && pts > s->last_seen_pts && pts - s->last_seen_pts > ttl_time)
      expired = TRUE;
    if (expired) {
      GST_DEBUG_OBJECT (self, "region " KEY_FORMAT " not seen since "
          "frame %" G_GUINT64_FORMAT ": state dropped (roi-ttl)",
          KEY_ARGS (s->key),
          s->last_seen);
      g_ptr_array_add (self->free_slots, s);
      g_hash_table_iter_remove (&iter);
    }
  }
}

/* ------------------------------------------------------------------------ */
/* start / stop                                                               */

static void
free_model_state (GstImgRecSeq * self)
{
  gst_imgrec_infer_free_model (&self->infer);
  gst_imgrec_classes_clear (&self->classes);
  g_clear_pointer (&self->window_input, g_free);
  g_clear_pointer (&self->state_init, g_free);
  g_clear_pointer (&self->stream_slot, slot_free);
  if (self->slots) {
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init (&iter, self->slots);
    while (g_hash_table_iter_next (&iter, NULL, &value)) {
      g_hash_table_iter_remove (&iter);
      slot_free (value);
    }
  }
  if (self->free_slots)
    g_ptr_array_set_size (self->free_slots, 0);
  self->n_pairs = 0;
}

static gboolean
set_error (GError ** err, const gchar * fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
set_error (GError ** err, const gchar * fmt, ...)
{
  va_list args;
  gchar *msg;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_set_error_literal (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      msg);
  g_free (msg);
  return FALSE;
}

/* Initial states: zeros, or imgrec.state-init.INPUT = one value for every
 * element or one value per element, comma-separated. */
static gboolean
load_state_init (GstImgRecSeq * self, const gchar * path, GError ** err)
{
  guint i;

  self->state_init = g_new0 (gfloat, MAX (self->state_size, 1));
  for (i = 0; i < self->n_pairs; i++) {
    const GstImgRecSeqStatePair *p = &self->pairs[i];
    const gchar *name =
        imgrec_model_input (self->infer.config.model, p->input)->name;
    gchar *key = g_strdup_printf ("imgrec.state-init.%s", name);
    const gchar *text =
        imgrec_model_metadata_lookup (self->infer.config.model, key);
    guint n = 0;
    gsize k;

    if (text != NULL) {
      gboolean ok = gst_imgrec_parse_float_list (text,
          self->state_init + p->offset, p->count, &n) && (n == 1
          || n == p->count);
      if (!ok) {
        set_error (err, "Model \"%s\" has an invalid %s \"%.40s\": expected "
            "1 or %" G_GSIZE_FORMAT " comma-separated numbers.", path, key,
            text, p->count);
        g_free (key);
        return FALSE;
      }
      for (k = n; k < p->count; k++)
        self->state_init[p->offset + k] = self->state_init[p->offset];
    }
    g_free (key);
  }
  return TRUE;
}

/* "h_in:h_out,c_in:c_out" -> state pairs, checked against the model. */
static gboolean
parse_state_map (GstImgRecSeq * self, const gchar * map, const gchar * origin,
    const gchar * path, GError ** err)
{
  const imgrec_model *model = self->infer.config.model;
  gchar **items = g_strsplit (map, ",", -1);
  gboolean ok = TRUE;
  guint i;

  self->n_pairs = 0;
  self->state_size = 0;
  for (i = 0; ok && items[i]; i++) {
    gchar **io = g_strsplit (items[i], ":", -1);
    GstImgRecSeqStatePair *p = &self->pairs[self->n_pairs];
    const imgrec_tensor_info *in;
    gint d;

    if (g_strv_length (io) != 2 || *g_strstrip (io[0]) == '\0'
        || *g_strstrip (io[1]) == '\0') {
      ok = set_error (err, "Invalid state map \"%s\" (from the %s): expected "
          "input:output pairs separated by commas, e.g. h_in:h_out,c_in:c_out.",
          map, origin);
    } else if (self->n_pairs >= GST_IMGREC_SEQ_MAX_STATES) {
      ok = set_error (err, "State map \"%s\" has more than %d pairs.", map,
          GST_IMGREC_SEQ_MAX_STATES);
    } else if ((p->input = imgrec_model_input_index (model, io[0])) < 0) {
      ok = set_error (err, "State map \"%s\" (from the %s) names input "
          "\"%s\", which model \"%s\" does not have.", map, origin, io[0],
          path);
    } else if ((p->output = imgrec_model_output_index (model, io[1])) < 0) {
      ok = set_error (err, "State map \"%s\" (from the %s) names output "
          "\"%s\", which model \"%s\" does not have.", map, origin, io[1],
          path);
    } else if (p->input == self->infer.config.image_input) {
      ok = set_error (err, "State map \"%s\" uses the image input \"%s\" as "
          "a state.", map, io[0]);
    } else {
      in = imgrec_model_input (model, p->input);
      if (in->dtype != IMGREC_DTYPE_FLOAT && in->dtype != IMGREC_DTYPE_FLOAT16)
        ok = set_error (err, "State input \"%s\" of model \"%s\" is %s, not "
            "a float tensor.", io[0], path, imgrec_dtype_name (in->dtype));
      p->rank = in->rank;
      p->count = 1;
      for (d = 0; d < in->rank; d++) {
        /* a dynamic dimension of a state is a batch of one */
        p->dims[d] = in->dims[d] > 0 ? in->dims[d] : 1;
        p->count *= p->dims[d];
      }
      if (p->count > (1 << 24))
        ok = set_error (err, "State input \"%s\" is implausibly large.",
            io[0]);
      p->offset = self->state_size;
      self->state_size += p->count;
      self->n_pairs++;
    }
    g_strfreev (io);
  }
  g_strfreev (items);
  if (ok && self->n_pairs == 0)
    ok = set_error (err, "State map \"%s\" (from the %s) is empty.", map,
        origin);
  return ok && load_state_init (self, path, err);
}

static gboolean
is_state_output (GstImgRecSeq * self, gint output)
{
  guint i;
  for (i = 0; i < self->n_pairs; i++)
    if (self->pairs[i].output == output)
      return TRUE;
  return FALSE;
}

static gboolean
is_state_input (GstImgRecSeq * self, gint input)
{
  guint i;
  for (i = 0; i < self->n_pairs; i++)
    if (self->pairs[i].input == input)
      return TRUE;
  return FALSE;
}

/* One inference on the current inputs; scores into self->classes.scores, new
 * state into `state_out` (may be NULL). */
static gboolean
run_model (GstImgRecSeq * self, const gfloat * frame_input,
    const gfloat * state_in, gfloat * state_out, imgrec_error * eerr)
{
  guint i;

  if (self->form == GST_IMGREC_SEQ_FORM_WINDOW) {
    if (imgrec_session_set_input (self->infer.session,
            self->infer.config.image_input, IMGREC_DTYPE_FLOAT,
            self->window_dims, 5, frame_input, eerr) < 0)
      return FALSE;
  } else {
    if (imgrec_session_set_input (self->infer.session,
            self->infer.config.image_input, IMGREC_DTYPE_FLOAT,
            self->infer.preprocess.dims, 4, frame_input, eerr) < 0)
      return FALSE;
    for (i = 0; i < self->n_pairs; i++) {
      const GstImgRecSeqStatePair *p = &self->pairs[i];
      if (imgrec_session_set_input (self->infer.session, p->input,
              IMGREC_DTYPE_FLOAT, p->dims, p->rank, state_in + p->offset,
              eerr) < 0)
        return FALSE;
    }
  }
  if (imgrec_session_run (self->infer.session, eerr) < 0)
    return FALSE;
  if (self->classes.scores && imgrec_session_output_float (self->infer.session,
          self->scores_output, self->classes.scores, self->classes.n,
          eerr) != self->classes.n)
    return FALSE;
  if (state_out) {
    for (i = 0; i < self->n_pairs; i++) {
      const GstImgRecSeqStatePair *p = &self->pairs[i];
      if (imgrec_session_output_float (self->infer.session, p->output,
              state_out + p->offset, p->count, eerr) != (gint64) p->count) {
        g_snprintf (eerr->message, sizeof (eerr->message), "state output "
            "\"%s\" does not have the %" G_GSIZE_FORMAT " elements of its "
            "input \"%s\"", imgrec_model_output (self->infer.config.model,
                p->output)->name, p->count,
            imgrec_model_input (self->infer.config.model, p->input)->name);
        return FALSE;
      }
    }
  }
  return TRUE;
}

static gboolean
gst_imgrec_seq_start (GstBaseTransform * trans)
{
  GstImgRecSeq *self = GST_IMGREC_SEQ (trans);
  GstImgRecModelOverrides ov;
  imgrec_tensor_info out_info;
  imgrec_error eerr;
  GError *err = NULL;
  gchar *model_path, *state_map_prop, *object_class;
  const gchar *state_map = NULL, *origin = NULL;
  const gchar *kind;
  gint n_outputs, n_inputs, i;
  gfloat *zeros = NULL;
  guint threads;
  gint64 n_classes;

  gst_imgrec_infer_snapshot_overrides (&self->infer, &ov);
  GST_OBJECT_LOCK (self);
  model_path = g_strdup (self->infer.model_path);
  state_map_prop = g_strdup (self->state_map);
  threads = self->infer.threads;
  GST_OBJECT_UNLOCK (self);

  free_model_state (self);
  if (!gst_imgrec_model_config_load_input (&self->infer.config, model_path, &ov,
          GST_IMGREC_IMAGE_INPUT_AUTO, TRUE, &err))
    goto error;
  kind = self->infer.config.kind;

  if (state_map_prop && *state_map_prop) {
    state_map = state_map_prop;
    origin = "state-map property";
  } else if ((state_map =
          imgrec_model_metadata_lookup (self->infer.config.model,
              "imgrec.state-map")) != NULL) {
    origin = "model's imgrec.state-map";
  }

  if (kind && g_ascii_strcasecmp (kind, "sequence-step") != 0
      && g_ascii_strcasecmp (kind, "sequence-window") != 0) {
    set_error (&err, "Model \"%s\" is a %s model (imgrec.kind); imgrecseq "
        "needs a sequence-step or sequence-window model.", model_path, kind);
    goto error;
  }
  if ((kind && g_ascii_strcasecmp (kind, "sequence-window") == 0)
      || (kind == NULL && self->infer.config.window > 0 && state_map == NULL)) {
    self->form = GST_IMGREC_SEQ_FORM_WINDOW;
    if (self->infer.config.window <= 0) {
      set_error (&err, "Model \"%s\" is a sequence-window model but its "
          "image input is not a window [1,T,C,H,W] or [T,1,C,H,W].",
          model_path);
      goto error;
    }
  } else {
    self->form = GST_IMGREC_SEQ_FORM_STEP;
    if (self->infer.config.window > 0) {
      set_error (&err, "Model \"%s\" has a window input [1,T,C,H,W] but a "
          "state map; a step model takes one frame.", model_path);
      goto error;
    }
    if (state_map == NULL) {
      set_error (&err, "Model \"%s\" has no state map: set the state-map "
          "property (e.g. h_in:h_out,c_in:c_out) or the model's "
          "imgrec.state-map metadata.", model_path);
      goto error;
    }
    if (!parse_state_map (self, state_map, origin, model_path, &err))
      goto error;
  }

  n_inputs = imgrec_model_n_inputs (self->infer.config.model);
  for (i = 0; i < n_inputs; i++) {
    if (i != self->infer.config.image_input && !is_state_input (self, i)) {
      set_error (&err, "Model \"%s\" has an input \"%s\" that is neither the "
          "image nor a state of the state map.", model_path,
          imgrec_model_input (self->infer.config.model, i)->name);
      goto error;
    }
  }
  n_outputs = imgrec_model_n_outputs (self->infer.config.model);
  self->scores_output = -1;
  for (i = 0; i < n_outputs && self->scores_output < 0; i++)
    if (!is_state_output (self, i))
      self->scores_output = i;
  if (self->scores_output < 0) {
    set_error (&err, "Model \"%s\" has no scores output: every output is a "
        "state.", model_path);
    goto error;
  }

  if (!gst_imgrec_infer_open_session (&self->infer, model_path, threads,
          GST_IMGREC_SCALING_BILINEAR, &err))
    goto error;
  self->frame_size = (gsize) self->infer.config.width *
      self->infer.config.height * self->infer.config.channels;
  if (self->form == GST_IMGREC_SEQ_FORM_WINDOW) {
    self->window = self->infer.config.window;
    self->window_input = g_new0 (gfloat, self->frame_size * self->window);
    self->window_dims[0] = 1;
    self->window_dims[1] = self->window;
    memcpy (&self->window_dims[2], &self->infer.preprocess.dims[1],
        3 * sizeof (gint64));
    if (imgrec_model_input (self->infer.config.model,
            self->infer.config.image_input)->dims[0] != 1) {
      self->window_dims[0] = self->window;
      self->window_dims[1] = 1;
    }
  }

  /* A dry run plans the session (frames then allocate nothing), checks the
   * state outputs and tells the number of classes. */
  zeros = g_new0 (gfloat, MAX (self->state_size, 1));
  if (!run_model (self, self->form == GST_IMGREC_SEQ_FORM_WINDOW ?
          self->window_input : self->infer.preprocess.tensor, self->state_init,
          self->n_pairs ? zeros : NULL, &eerr)) {
    set_error (&err, "Model \"%s\" cannot run on a %dx%d image: %s", model_path,
        self->infer.config.width, self->infer.config.height, eerr.message);
    goto error;
  }
  g_clear_pointer (&zeros, g_free);
  if (imgrec_session_output (self->infer.session, self->scores_output,
          &out_info) == NULL) {
    set_error (&err, "Model \"%s\" produced no scores.", model_path);
    goto error;
  }
  n_classes = 1;
  for (i = 0; i < out_info.rank; i++)
    n_classes *= out_info.dims[i];
  if (n_classes < 1 || n_classes > (1 << 20)) {
    set_error (&err, "Model \"%s\" has %" G_GINT64_FORMAT " scores.",
        model_path, n_classes);
    goto error;
  }
  if (self->infer.config.labels
      && self->infer.config.n_labels != n_classes) {
    set_error (&err,
        "Model \"%s\" has %" G_GINT64_FORMAT " classes but %u "
        "labels.",
        model_path, n_classes, self->infer.config.n_labels);
    goto error;
  }
  gst_imgrec_classes_init (&self->classes, n_classes,
      self->infer.config.labels);
  GST_OBJECT_LOCK (self);
  object_class = g_strdup (self->infer.object_class);
  GST_OBJECT_UNLOCK (self);
  gst_imgrec_infer_model_ready (&self->infer, object_class);
  g_free (object_class);

  self->stream_slot = slot_new (self);
  slot_clear (self, self->stream_slot, &stream_key);
  self->frame_index = 0;
  self->reset_count = 0;
  self->have_size = FALSE;
  self->have_segment = FALSE;
  self->last_pts = self->last_end = GST_CLOCK_TIME_NONE;
  g_atomic_int_set (&self->pending_reset, 0);

  GST_INFO_OBJECT (self,
      "model %s: %s form, %dx%dx%d input%s, %u state "
      "tensors (%" G_GSIZE_FORMAT " floats), %" G_GINT64_FORMAT " classes",
      model_path, self->form == GST_IMGREC_SEQ_FORM_STEP ? "step" : "window",
      self->infer.config.channels, self->infer.config.height,
      self->infer.config.width,
      self->form == GST_IMGREC_SEQ_FORM_WINDOW ? " (window)" : "",
      self->n_pairs, self->state_size, self->classes.n);

  g_free (model_path);
  g_free (state_map_prop);
  gst_imgrec_infer_overrides_clear (&ov);
  return TRUE;

error:
  gst_imgrec_infer_post_error (&self->infer, err);
  g_error_free (err);
  g_free (zeros);
  free_model_state (self);
  g_free (model_path);
  g_free (state_map_prop);
  gst_imgrec_infer_overrides_clear (&ov);
  return FALSE;
}

static gboolean
gst_imgrec_seq_stop (GstBaseTransform * trans)
{
  GstImgRecSeq *self = GST_IMGREC_SEQ (trans);

  GST_INFO_OBJECT (self, "%" G_GUINT64_FORMAT " frames, %u resets",
      self->frame_index, self->reset_count);
  free_model_state (self);
  return TRUE;
}

static gboolean
gst_imgrec_seq_set_info (GstVideoFilter * filter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstImgRecSeq *self = GST_IMGREC_SEQ (filter);
  gint w = GST_VIDEO_INFO_WIDTH (in_info), h = GST_VIDEO_INFO_HEIGHT (in_info);

  if (!GST_VIDEO_FILTER_CLASS (parent_class)->set_info (filter, incaps,
          in_info, outcaps, out_info))
    return FALSE;
  if (self->have_size && (w != self->width || h != self->height))
    reset_states (self, "caps changed to a new resolution", TRUE, -1, 0);
  self->have_size = TRUE;
  self->width = w;
  self->height = h;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* per frame                                                                  */

typedef struct {
  guint top_k;
  gboolean post_messages;
  guint stable_frames;
  gfloat min_confidence;
  GstImgRecSeqScope scope;
  guint roi_ttl;
  GstClockTime roi_ttl_time;
  guint max_states;
  GstClockTime max_gap;
  guint stride;
} FrameSettings;

/* The model's scores → probabilities, top-k and the decision. */
static void
scores_to_result (GstImgRecSeq * self, guint top_k, GstImgRecSeqResult * r)
{
  r->n_top = gst_imgrec_classes_top_k (&self->classes,
      GST_IMGREC_SOFTMAX_AUTO, top_k, r->top);
  r->flags = GST_IMGREC_RESULT_FLAG_NONE;
  r->class_id = r->top[0].class_id;
  r->label = r->top[0].label;
  r->confidence = r->top[0].confidence;
}

/* Steps the slot's state (or window) with the pre-processed frame in
 * self->infer.preprocess.tensor.  Returns FALSE on an engine error; *fresh tells
 * whether slot->last is a new result. */
static gboolean
step_slot (GstImgRecSeq * self, const FrameSettings * fs,
    GstImgRecSeqSlot * slot, GstClockTime pts, gboolean * fresh)
{
  GstImgRecSeqResult *r = &slot->last;
  imgrec_error eerr;

  *fresh = FALSE;
  if (self->form == GST_IMGREC_SEQ_FORM_STEP) {
    /* the session copied the inputs: the state may be overwritten */
    if (!run_model (self, self->infer.preprocess.tensor, slot->state,
            slot->state, &eerr))
      goto failed;
    slot->steps++;
    r->window_start = r->window_end = GST_CLOCK_TIME_NONE;
  } else {
    guint t = (guint) self->window, i;

    memcpy (slot->state + (gsize) slot->ring_head * self->frame_size,
        self->infer.preprocess.tensor, self->frame_size * sizeof (gfloat));
    slot->pts[slot->ring_head] = pts;
    slot->ring_head = (slot->ring_head + 1) % t;
    slot->ring_len = MIN (slot->ring_len + 1, t);
    slot->since_run++;
    slot->steps++;
    if (slot->ring_len < t || (slot->have_result && slot->since_run <
            fs->stride))
      return TRUE;              /* carry (or nothing yet) */
    /* full ring: ring_head is the oldest frame */
    for (i = 0; i < t; i++) {
      guint idx = (slot->ring_head + i) % t;
      memcpy (self->window_input + (gsize) i * self->frame_size,
          slot->state + (gsize) idx * self->frame_size,
          self->frame_size * sizeof (gfloat));
    }
    if (!run_model (self, self->window_input, NULL, NULL, &eerr))
      goto failed;
    slot->since_run = 0;
    r->window_start = slot->pts[slot->ring_head];
    r->window_end = slot->pts[(slot->ring_head + t - 1) % t];
  }
  scores_to_result (self, fs->top_k, r);
  r->inference_pts = pts;
  r->steps = slot->steps;
  slot->have_result = TRUE;
  *fresh = TRUE;
  return TRUE;

failed:
  GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Inference failed: %s",
          eerr.message), (NULL));
  return FALSE;
}

static void
post_result_message (GstImgRecSeq * self, GstBuffer * buf, gint roi_id,
    const GstImgRecSeqSlot * slot)
{
  const GstImgRecSeqResult *r = &slot->last;
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstStructure *s = gst_structure_new_empty ("imgrec-sequence");

  gst_imgrec_infer_structure_set_times (&self->infer, s, pts);
  gst_structure_set (s,
      "duration", G_TYPE_UINT64, GST_BUFFER_DURATION (buf),
      "roi-id", G_TYPE_INT, roi_id,
      "scope-id", G_TYPE_INT64, slot->key.id,
      "scope-tracked", G_TYPE_BOOLEAN, slot->key.tracked,
      "model", G_TYPE_STRING, self->infer.model_name,
      "label", G_TYPE_STRING, r->label,
      "class-id", G_TYPE_INT, r->class_id,
      "confidence", G_TYPE_DOUBLE, (gdouble) r->confidence,
      "steps", G_TYPE_UINT64, r->steps,
      "reset-count", G_TYPE_UINT, self->reset_count,
      "window-start", G_TYPE_UINT64, r->window_start,
      "window-end", G_TYPE_UINT64, r->window_end, NULL);
  gst_imgrec_classes_structure_set_top (s, r->top, r->n_top);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Label-change detection on a fresh result. */
static void
track_label (GstImgRecSeq * self, const FrameSettings * fs, GstBuffer * buf,
    gint roi_id, GstImgRecSeqSlot * slot)
{
  const GstImgRecSeqResult *r = &slot->last;
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstStructure *s;
  gint previous;

  if (r->confidence < fs->min_confidence) {
    slot->candidate = -1;
    slot->stable = 0;
    return;
  }
  if (r->class_id == slot->candidate) {
    slot->stable++;
  } else {
    slot->candidate = r->class_id;
    slot->stable = 1;
  }
  if (slot->stable < fs->stable_frames || slot->candidate == slot->announced)
    return;
  previous = slot->announced;
  slot->announced = slot->candidate;
  GST_DEBUG_OBJECT (self, "state " KEY_FORMAT ": %s", KEY_ARGS (slot->key),
      r->label);
  s = gst_structure_new_empty ("imgrec-sequence-change");
  gst_imgrec_infer_structure_set_times (&self->infer, s, pts);
  gst_structure_set (s,
      "roi-id", G_TYPE_INT, roi_id,
      "scope-id", G_TYPE_INT64, slot->key.id,
      "scope-tracked", G_TYPE_BOOLEAN, slot->key.tracked,
      "model", G_TYPE_STRING, self->infer.model_name,
      "label", G_TYPE_STRING, r->label,
      "class-id", G_TYPE_INT, r->class_id,
      "confidence", G_TYPE_DOUBLE, (gdouble) r->confidence,
      "previous-label", G_TYPE_STRING,
      previous >= 0 ? self->classes.labels[previous] : "",
      "previous-class-id", G_TYPE_INT, previous,
      "steps", G_TYPE_UINT64, r->steps, NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), s));
}

/* Meta + ROI param for one region. */
static void
attach_result (GstImgRecSeq * self, GstBuffer * buf,
    GstVideoRegionOfInterestMeta * roi, const GstImgRecSeqSlot * slot,
    gboolean carried)
{
  const GstImgRecSeqResult *r = &slot->last;
  GstImgRecSequenceMeta *meta;
  GstStructure *param;
  guint i;

  param = gst_imgrec_roi_param_new (GST_IMGREC_SEQUENCE_PARAM_NAME,
      self->infer.model_name, r->label, r->class_id, r->confidence);
  gst_structure_set (param, "steps", G_TYPE_UINT64, r->steps, NULL);
  gst_video_region_of_interest_meta_add_param (roi, param);
  meta = gst_buffer_add_imgrec_sequence_meta (buf, self->infer.model_name,
      self->infer.element_name);
  meta->info.roi_id = roi->id;
  meta->info.x = roi->x;
  meta->info.y = roi->y;
  meta->info.width = roi->w;
  meta->info.height = roi->h;
  meta->info.flags = r->flags |
      (carried ? GST_IMGREC_RESULT_FLAG_CARRIED : 0);
  meta->info.inference_pts = r->inference_pts;
  meta->class_id = r->class_id;
  meta->label = r->label;
  meta->confidence = r->confidence;
  meta->n_top = r->n_top;
  for (i = 0; i < r->n_top; i++)
    meta->top[i] = r->top[i];
  meta->steps = r->steps;
  meta->reset_count = self->reset_count;
  meta->scope_id = slot->key.id;
  meta->scope_tracked = slot->key.tracked;
  meta->window_start = r->window_start;
  meta->window_end = r->window_end;
}

static gboolean
process_region (GstImgRecSeq * self, const FrameSettings * fs,
    GstBuffer * buf, const GstVideoFrame * frame,
    GstVideoRegionOfInterestMeta * roi, const GstVideoRectangle * region,
    GstImgRecSeqSlot * slot, gboolean duplicate)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  gboolean fresh = FALSE;

  if (!duplicate) {
    if (!gst_imgrec_preprocess_run (&self->infer.preprocess, frame, region)) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Could not convert a %dx%d region for the model.",
              region ? region->w : GST_VIDEO_FRAME_WIDTH (frame),
              region ? region->h : GST_VIDEO_FRAME_HEIGHT (frame)), (NULL));
      return FALSE;
    }
    if (!step_slot (self, fs, slot, pts, &fresh))
      return FALSE;
  }
  if (!slot->have_result)
    return TRUE;                /* window not full yet */
  if (roi == NULL)
    roi = gst_imgrec_infer_full_frame_roi (buf, frame);
  attach_result (self, buf, roi, slot, !fresh);
  if (fresh) {
    if (fs->post_messages)
      post_result_message (self, buf, roi->id, slot);
    track_label (self, fs, buf, roi->id, slot);
  }
  return TRUE;
}

/* A region's state key: its tracking id when it has one
 * (gst_imgrec_infer_roi_tracking_id), else its ROI id, in the ROI space:
 * an untracked box whose ROI id equals a live track's id must not step
 * that track's memory. */
static GstImgRecSeqKey
region_key (GstVideoRegionOfInterestMeta * roi)
{
  GstImgRecSeqKey key;

  key.tracked = gst_imgrec_infer_roi_tracking_id (roi, &key.id);
  if (!key.tracked)
    key.id = roi->id;
  return key;
}

static GstFlowReturn
process_rois (GstImgRecSeq * self, const FrameSettings * fs, GstBuffer * buf,
    const GstVideoFrame * frame)
{
  GArray *regions = g_array_new (FALSE, FALSE, sizeof (GstImgRecRegion));
  GstClockTime pts = GST_BUFFER_PTS (buf);
  guint k;

  gst_imgrec_infer_collect_regions (&self->infer, buf, regions);
  for (k = 0; k < regions->len; k++) {
    GstVideoRegionOfInterestMeta *roi =
        g_array_index (regions, GstImgRecRegion, k).roi;
    GstVideoRectangle clipped = g_array_index (regions, GstImgRecRegion, k).rect;
    GstImgRecSeqSlot *slot;
    gboolean duplicate;
    GstImgRecSeqKey key;

    key = region_key (roi);
    slot = acquire_slot (self, &key, fs->max_states);
    duplicate = slot->steps > 0 && slot->last_seen == self->frame_index;
    if (duplicate)
      GST_DEBUG_OBJECT (self, "region key " KEY_FORMAT " appears twice "
          "on this frame: its state is stepped once", KEY_ARGS (key));
    slot->last_seen = self->frame_index;
    slot->last_seen_pts = pts;
    if (!process_region (self, fs, buf, frame, roi, &clipped, slot,
            duplicate)) {
      g_array_free (regions, TRUE);
      return GST_FLOW_ERROR;
    }
  }
  g_array_free (regions, TRUE);
  evict_expired (self, fs->roi_ttl, fs->roi_ttl_time, pts);
  return GST_FLOW_OK;
}

/* Whether the current segment plays backwards: its timestamps then
 * decrease frame after frame. */
static gboolean
playing_backwards (GstImgRecSeq * self)
{
  return self->have_segment && self->last_segment.rate < 0.0;
}

/* The per-buffer reset rules: pending signal, DISCONT, timestamp gap.  In
 * reverse playback, decreasing timestamps are continuous playback: there a
 * later PTS is the jump, and the gap is from the frame's end to the start
 * of the previous one. */
static void
check_buffer_resets (GstImgRecSeq * self, const FrameSettings * fs,
    GstBuffer * buf)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  gboolean backwards = playing_backwards (self);

  if (g_atomic_int_compare_and_exchange (&self->pending_reset, 1, 0))
    reset_states (self, "reset signal", TRUE, -1, 0);
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT))
    reset_states (self, "DISCONT buffer", TRUE, -1, 0);
  if (GST_CLOCK_TIME_IS_VALID (pts)
      && GST_CLOCK_TIME_IS_VALID (self->last_pts) && !backwards) {
    if (pts < self->last_pts)
      reset_states (self, "timestamps went back", TRUE, -1, 0);
    else if (fs->max_gap > 0 && GST_CLOCK_TIME_IS_VALID (self->last_end)
        && pts > self->last_end && pts - self->last_end > fs->max_gap)
      reset_states (self, "timestamp gap larger than max-gap", TRUE, -1, 0);
  } else if (GST_CLOCK_TIME_IS_VALID (pts)
      && GST_CLOCK_TIME_IS_VALID (self->last_pts)) {
    GstClockTime end = pts + (GST_BUFFER_DURATION_IS_VALID (buf) ?
        GST_BUFFER_DURATION (buf) : 0);
    if (pts > self->last_pts)
      reset_states (self, "timestamps went forward in reverse playback",
          TRUE, -1, 0);
    else if (fs->max_gap > 0 && end < self->last_pts
        && self->last_pts - end > fs->max_gap)
      reset_states (self, "timestamp gap larger than max-gap", TRUE, -1, 0);
  }
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    self->last_pts = pts;
    self->last_end = pts + (GST_BUFFER_DURATION_IS_VALID (buf) ?
        GST_BUFFER_DURATION (buf) : 0);
  }
}

static GstFlowReturn
gst_imgrec_seq_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstImgRecSeq *self = GST_IMGREC_SEQ (trans);
  GstVideoFilter *filter = GST_VIDEO_FILTER (trans);
  GstFlowReturn ret = GST_FLOW_OK;
  GstVideoFrame frame;
  FrameSettings fs;

  if (G_UNLIKELY (!filter->negotiated || !self->infer.preprocess_ready)) {
    GST_ELEMENT_ERROR (self, CORE, NOT_IMPLEMENTED,
        ("No caps were negotiated before the first buffer."), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  GST_OBJECT_LOCK (self);
  fs.top_k = self->infer.top_k;
  fs.post_messages = self->infer.post_messages;
  fs.stable_frames = self->stable_frames;
  fs.min_confidence = (gfloat) self->min_confidence;
  fs.scope = self->scope;
  fs.roi_ttl = self->roi_ttl;
  fs.roi_ttl_time = self->roi_ttl_time;
  fs.max_states = self->max_states;
  fs.max_gap = self->max_gap;
  fs.stride = self->stride;
  GST_OBJECT_UNLOCK (self);

  check_buffer_resets (self, &fs, buf);

  if (!gst_video_frame_map (&frame, &filter->in_info, buf,
          GST_MAP_READ | GST_VIDEO_FRAME_MAP_FLAG_NO_REF)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Could not map a video frame for reading."), (NULL));
    return GST_FLOW_ERROR;
  }
  if (fs.scope == GST_IMGREC_SEQ_SCOPE_ROI) {
    ret = process_rois (self, &fs, buf, &frame);
  } else {
    GstImgRecSeqSlot *slot = self->stream_slot;
    slot->last_seen = self->frame_index;
    slot->last_seen_pts = GST_BUFFER_PTS (buf);
    if (!process_region (self, &fs, buf, &frame, NULL, NULL, slot, FALSE))
      ret = GST_FLOW_ERROR;
  }
  gst_video_frame_unmap (&frame);
  self->frame_index++;
  return ret;
}

/* ------------------------------------------------------------------------ */
/* events                                                                     */

/* Whether a new segment continues the stream where the last frame ended. */
static gboolean
segment_continues (GstImgRecSeq * self, const GstSegment * seg)
{
  const GstSegment *prev = &self->last_segment;
  GstClockTime max_gap, prev_end, start;
  GstClockTime tolerance;

  if (!self->have_segment || !GST_CLOCK_TIME_IS_VALID (self->last_end))
    return TRUE;                /* no frame since the last reset */
  if (gst_segment_is_equal (seg, prev))
    return TRUE;
  if (seg->format != prev->format || seg->format != GST_FORMAT_TIME
      || seg->rate != prev->rate || seg->applied_rate != prev->applied_rate)
    return FALSE;
  GST_OBJECT_LOCK (self);
  max_gap = self->max_gap;
  GST_OBJECT_UNLOCK (self);
  tolerance = max_gap > 0 ? max_gap : GST_MSECOND;
  if (seg->rate < 0.0) {
    /* backwards: the new segment must end where the last frame began */
    prev_end = gst_segment_to_stream_time (prev, GST_FORMAT_TIME,
        self->last_pts);
    start = gst_segment_to_stream_time (seg, GST_FORMAT_TIME, seg->stop);
    if (!GST_CLOCK_TIME_IS_VALID (prev_end) || !GST_CLOCK_TIME_IS_VALID (start))
      return FALSE;
    return start <= prev_end + GST_MSECOND && start + tolerance >= prev_end;
  }
  prev_end = gst_segment_to_stream_time (prev, GST_FORMAT_TIME,
      self->last_end);
  start = gst_segment_to_stream_time (seg, GST_FORMAT_TIME, seg->start);
  if (!GST_CLOCK_TIME_IS_VALID (prev_end) || !GST_CLOCK_TIME_IS_VALID (start))
    return FALSE;
  return start + GST_MSECOND >= prev_end && start <= prev_end + tolerance;
}

static gboolean
gst_imgrec_seq_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstImgRecSeq *self = GST_IMGREC_SEQ (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_STOP:
      reset_states (self, "FLUSH_STOP", TRUE, -1, 0);
      self->have_segment = FALSE;
      break;
    case GST_EVENT_STREAM_START:
      reset_states (self, "STREAM_START", TRUE, -1, 0);
      self->have_segment = FALSE;
      break;
    case GST_EVENT_SEGMENT:{
      GstSegment seg;
      gst_event_copy_segment (event, &seg);
      if (!segment_continues (self, &seg))
        reset_states (self, "SEGMENT that does not continue the previous one",
            TRUE, -1, 0);
      self->last_segment = seg;
      self->have_segment = TRUE;
      break;
    }
    case GST_EVENT_GAP:{
      GstClockTime ts, dur, max_gap;
      gst_event_parse_gap (event, &ts, &dur);
      GST_OBJECT_LOCK (self);
      max_gap = self->max_gap;
      GST_OBJECT_UNLOCK (self);
      if (max_gap > 0 && GST_CLOCK_TIME_IS_VALID (dur) && dur > max_gap)
        reset_states (self, "GAP longer than max-gap", TRUE, -1, 0);
      else if (GST_CLOCK_TIME_IS_VALID (ts) && playing_backwards (self))
        self->last_pts = ts;    /* the next frame ends where the gap began */
      else if (GST_CLOCK_TIME_IS_VALID (ts) && GST_CLOCK_TIME_IS_VALID (dur))
        self->last_end = ts + dur;
      break;
    }
    case GST_EVENT_CUSTOM_DOWNSTREAM:
    case GST_EVENT_CUSTOM_DOWNSTREAM_OOB:{
      const GstStructure *s = gst_event_get_structure (event);
      if (s && gst_structure_has_name (s, RESET_EVENT_NAME)) {
        gint64 id64;
        gint id;
        gboolean one = FALSE, tracked;
        guint spaces = SPACE_ROI | SPACE_TRACK;
        if (gst_structure_get_int64 (s, "scope-id", &id64)) {
          one = TRUE;
        } else if (gst_structure_get_int (s, "scope-id", &id)) {
          id64 = id;
          one = TRUE;
        }
        /* without scope-tracked: both states with that id (the one state
         * the id named before the two spaces were kept apart) */
        if (gst_structure_get_boolean (s, "scope-tracked", &tracked))
          spaces = tracked ? SPACE_TRACK : SPACE_ROI;
        if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM_OOB) {
          /* not serialized with the frames: apply before the next one */
          g_atomic_int_set (&self->pending_reset, 1);
        } else {
          reset_states (self, RESET_EVENT_NAME " event", !one,
              one ? id64 : -1, spaces);
        }
      }
      break;
    }
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static void
gst_imgrec_seq_reset_signal (GstImgRecSeq * self)
{
  GST_DEBUG_OBJECT (self, "reset requested");
  g_atomic_int_set (&self->pending_reset, 1);
}

/* ------------------------------------------------------------------------ */
/* properties                                                                 */

static void
gst_imgrec_seq_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstImgRecSeq *self = GST_IMGREC_SEQ (object);

  if (prop_id < GST_IMGREC_INFER_PROP_LAST) {
    G_OBJECT_CLASS (parent_class)->set_property (object, prop_id, value, pspec);
    return;
  }
  GST_OBJECT_LOCK (self);
  if (gst_imgrec_property_refuse_locked (GST_ELEMENT (self), pspec))
    return;
  switch (prop_id) {
    case PROP_STATE_MAP:
      g_free (self->state_map);
      self->state_map = g_value_dup_string (value);
      break;
    case PROP_SCOPE:
      self->scope = g_value_get_enum (value);
      break;
    case PROP_ROI_TTL:
      self->roi_ttl = g_value_get_uint (value);
      break;
    case PROP_ROI_TTL_TIME:
      self->roi_ttl_time = g_value_get_uint64 (value);
      break;
    case PROP_MAX_STATES:
      self->max_states = g_value_get_uint (value);
      break;
    case PROP_MAX_GAP:
      self->max_gap = g_value_get_uint64 (value);
      break;
    case PROP_STRIDE:
      self->stride = g_value_get_uint (value);
      break;
    case PROP_STABLE_FRAMES:
      self->stable_frames = g_value_get_uint (value);
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
gst_imgrec_seq_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstImgRecSeq *self = GST_IMGREC_SEQ (object);

  if (prop_id < GST_IMGREC_INFER_PROP_LAST) {
    G_OBJECT_CLASS (parent_class)->get_property (object, prop_id, value, pspec);
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_STATE_MAP:
      g_value_set_string (value, self->state_map);
      break;
    case PROP_SCOPE:
      g_value_set_enum (value, self->scope);
      break;
    case PROP_ROI_TTL:
      g_value_set_uint (value, self->roi_ttl);
      break;
    case PROP_ROI_TTL_TIME:
      g_value_set_uint64 (value, self->roi_ttl_time);
      break;
    case PROP_MAX_STATES:
      g_value_set_uint (value, self->max_states);
      break;
    case PROP_MAX_GAP:
      g_value_set_uint64 (value, self->max_gap);
      break;
    case PROP_STRIDE:
      g_value_set_uint (value, self->stride);
      break;
    case PROP_STABLE_FRAMES:
      g_value_set_uint (value, self->stable_frames);
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
gst_imgrec_seq_finalize (GObject * object)
{
  GstImgRecSeq *self = GST_IMGREC_SEQ (object);

  free_model_state (self);
  g_hash_table_destroy (self->slots);
  g_ptr_array_free (self->free_slots, TRUE);
  g_free (self->state_map);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_imgrec_seq_class_init (GstImgRecSeqClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (gst_imgrec_seq_debug, "imgrecseq", 0,
      "imgrec sequence (CNN-RNN / window) recognition");

  gobject_class->set_property = gst_imgrec_seq_set_property;
  gobject_class->get_property = gst_imgrec_seq_get_property;
  gobject_class->finalize = gst_imgrec_seq_finalize;

  properties[PROP_MODEL] = g_param_spec_string ("model", "Model",
      "Path of the ONNX sequence model (step or window form; changing it "
      "while PAUSED or PLAYING is refused with a warning)", DEFAULT_MODEL,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_LABELS] = gst_imgrec_infer_param_spec (PROP_LABELS);
  properties[PROP_STATE_MAP] = g_param_spec_string ("state-map", "State map",
      "Recurrent state of a step model as input:output pairs, e.g. "
      "h_in:h_out,c_in:c_out, overriding the model's imgrec.state-map",
      DEFAULT_STATE_MAP, rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_SCOPE] = g_param_spec_enum ("scope", "Scope",
      "One state for the stream or one per region of interest",
      gst_imgrec_seq_scope_get_type (), DEFAULT_SCOPE,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_ROI_TTL] = g_param_spec_uint ("roi-ttl", "ROI TTL",
      "scope=roi: drop the state of a region not seen for more than this "
      "many frames", 0, G_MAXUINT, DEFAULT_ROI_TTL,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_ROI_TTL_TIME] = g_param_spec_uint64 ("roi-ttl-time",
      "ROI TTL time", "scope=roi: also drop the state of a region not seen "
      "for longer than this (ns of PTS; 0 = frames only)", 0, G_MAXUINT64,
      DEFAULT_ROI_TTL_TIME, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MAX_STATES] = g_param_spec_uint ("max-states", "Max states",
      "scope=roi: most region states kept; a new region then replaces the "
      "least recently seen one", 1, 1 << 20, DEFAULT_MAX_STATES,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MAX_GAP] = g_param_spec_uint64 ("max-gap", "Max gap",
      "Reset the state when the timestamps jump (or a GAP event lasts) more "
      "than this many ns (0 = never on gaps)", 0, G_MAXUINT64, DEFAULT_MAX_GAP,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_STRIDE] = g_param_spec_uint ("stride", "Stride",
      "Window models: run the model every this many frames", 1, G_MAXUINT,
      DEFAULT_STRIDE, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_OBJECT_CLASS] = g_param_spec_string ("object-class",
      "Object class", "scope=roi: the ROI types to recognise "
      "(comma-separated; empty: every ROI)", NULL,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_TOP_K] = gst_imgrec_infer_param_spec (PROP_TOP_K);
  properties[PROP_POST_MESSAGES] = g_param_spec_boolean ("post-messages",
      "Post messages", "Post an imgrec-sequence element message per fresh "
      "result (imgrec-sequence-change messages are always posted)",
      DEFAULT_POST_MESSAGES, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_STABLE_FRAMES] = g_param_spec_uint ("stable-frames",
      "Stable frames", "Consecutive results with the same label (and at "
      "least min-confidence) before imgrec-sequence-change announces it", 1,
      G_MAXUINT, DEFAULT_STABLE_FRAMES, rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_MIN_CONFIDENCE] = g_param_spec_double ("min-confidence",
      "Min confidence", "Confidence a result needs to count towards "
      "stable-frames", 0.0, 1.0, DEFAULT_MIN_CONFIDENCE,
      rw | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_THREADS] = g_param_spec_uint ("threads", "Threads",
      "Threads for inference (0 = a share of the process's thread budget: "
      "the CPUs, or IMGREC_THREAD_BUDGET, divided among the inference "
      "elements running; more than the CPUs is lowered to their number, with "
      "a warning)", 0, 1024, DEFAULT_THREADS,
      rw | GST_PARAM_MUTABLE_READY);
  properties[PROP_MODEL_INSTANCE_ID] =
      gst_imgrec_infer_param_spec (PROP_MODEL_INSTANCE_ID);
  gst_imgrec_infer_install_properties (gobject_class, N_PROPERTIES, properties);

  /**
   * GstImgRecSeq::reset:
   * @seq: the element
   *
   * Resets every state to its initial value before the next frame.
   */
  signals[SIGNAL_RESET] = g_signal_new_class_handler ("reset",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_imgrec_seq_reset_signal), NULL, NULL, NULL,
      G_TYPE_NONE, 0);

  gst_element_class_set_static_metadata (element_class,
      "imgrec sequence recognition", "Filter/Analyzer/Video",
      "Recognises frames or tracked regions over time with a CNN-RNN (step) "
      "or windowed ONNX model, with defined state reset rules",
      "imgrec project");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_imgrec_seq_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_imgrec_seq_stop);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_imgrec_seq_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_imgrec_seq_sink_event);
  filter_class->set_info = GST_DEBUG_FUNCPTR (gst_imgrec_seq_set_info);

  gst_type_mark_as_plugin_api (gst_imgrec_seq_scope_get_type (), 0);
}

static void
gst_imgrec_seq_init (GstImgRecSeq * self)
{
  self->scope = DEFAULT_SCOPE;
  self->roi_ttl = DEFAULT_ROI_TTL;
  self->roi_ttl_time = DEFAULT_ROI_TTL_TIME;
  self->max_states = DEFAULT_MAX_STATES;
  self->max_gap = DEFAULT_MAX_GAP;
  self->stride = DEFAULT_STRIDE;
  self->infer.post_messages = DEFAULT_POST_MESSAGES;
  self->stable_frames = DEFAULT_STABLE_FRAMES;
  self->min_confidence = DEFAULT_MIN_CONFIDENCE;
  self->infer.threads = DEFAULT_THREADS;
  self->slots = g_hash_table_new_full (key_hash, key_equal, NULL, NULL);
  self->free_slots = g_ptr_array_new_with_free_func ((GDestroyNotify)
      slot_free);
  self->last_pts = self->last_end = GST_CLOCK_TIME_NONE;
}
