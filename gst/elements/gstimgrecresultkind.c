/* The per-kind table of imgrec results: JSON members, overlay text,
 * confidence (gstimgrecresultkind.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecresultkind.h"
#include "gstimgrecjson.h"
#include "gstimgrecmeta.h"
#include "gstimgrecganmeta.h"
#include "gstimgrecseqmeta.h"
#include "gstimgrecdetectmeta.h"

/* --- JSON members (docs/metadata.md) --- */

/* A GAN result: provenance of a synthetic frame, a realism score, or a
 * restoration (documented in docs/metadata.md). */
static void
gan_json (JsonBuilder * b, GstMeta * meta)
{
  GstImgRecGanMeta *g = (GstImgRecGanMeta *) meta;

  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, gst_imgrec_gan_role_to_string (g->role));
  switch (g->role) {
    case GST_IMGREC_GAN_ROLE_GENERATED:
      json_builder_set_member_name (b, "synthetic");
      json_builder_add_boolean_value (b, TRUE);
      json_builder_set_member_name (b, "seed");
      json_builder_add_int_value (b, (gint64) g->seed);
      json_builder_set_member_name (b, "latent-index");
      json_builder_add_int_value (b, (gint64) g->latent_index);
      json_builder_set_member_name (b, "latent-position");
      json_builder_add_double_value (b, g->latent_position);
      json_builder_set_member_name (b, "class-id");
      json_builder_add_int_value (b, g->class_id);
      json_builder_set_member_name (b, "label");
      if (g->label)
        json_builder_add_string_value (b, g->label);
      else
        json_builder_add_null_value (b);
      break;
    case GST_IMGREC_GAN_ROLE_DISCRIMINATED:
      json_builder_set_member_name (b, "score");
      json_builder_add_double_value (b, g->score);
      json_builder_set_member_name (b, "logit");
      json_builder_add_double_value (b, g->logit);
      json_builder_set_member_name (b, "anomaly");
      json_builder_add_boolean_value (b, g->anomaly);
      json_builder_set_member_name (b, "anomaly-reasons");
      json_builder_begin_array (b);
      if (g->anomaly_reasons & GST_IMGREC_GAN_ANOMALY_REALISM)
        json_builder_add_string_value (b, "realism");
      if (g->anomaly_reasons & GST_IMGREC_GAN_ANOMALY_DEFOCUS)
        json_builder_add_string_value (b, "defocus");
      json_builder_end_array (b);
      /* null: not measured (defocus check off, no detail) / no baseline yet */
      json_builder_set_member_name (b, "sharpness");
      if (g->sharpness >= 0.0f)
        json_builder_add_double_value (b, g->sharpness);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "sharpness-baseline");
      if (g->sharpness_baseline > 0.0f)
        json_builder_add_double_value (b, g->sharpness_baseline);
      else
        json_builder_add_null_value (b);
      break;
    case GST_IMGREC_GAN_ROLE_RESTORED:{
      static const gchar *names[] = { "dark", "low-contrast", "blurred",
        "noisy"
      };
      guint k;
      json_builder_set_member_name (b, "blend");
      json_builder_add_double_value (b, g->blend);
      json_builder_set_member_name (b, "restored");
      json_builder_add_boolean_value (b, g->restored);
      json_builder_set_member_name (b, "degradations");
      json_builder_begin_array (b);
      for (k = 0; k < G_N_ELEMENTS (names); k++)
        if (g->degradations & (1u << k))
          json_builder_add_string_value (b, names[k]);
      json_builder_end_array (b);
      /* the gate's measures; null: not measured */
      json_builder_set_member_name (b, "brightness");
      json_builder_add_double_value (b, g->brightness);
      json_builder_set_member_name (b, "contrast");
      json_builder_add_double_value (b, g->contrast);
      json_builder_set_member_name (b, "sharpness");
      if (g->sharpness >= 0.0f)
        json_builder_add_double_value (b, g->sharpness);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "noise");
      if (g->noise >= 0.0f)
        json_builder_add_double_value (b, g->noise);
      else
        json_builder_add_null_value (b);
      break;
    }
  }
}

/* The decision and the ranked classes: classification and sequence results
 * carry the same fields, so both are written the same way. */
static void
add_decision_fields (JsonBuilder * b, const gchar * label, gint class_id,
    gfloat confidence, const GstImgRecClassScore * top, guint n_top)
{
  guint i;

  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, label);
  json_builder_set_member_name (b, "class-id");
  json_builder_add_int_value (b, class_id);
  json_builder_set_member_name (b, "confidence");
  json_builder_add_double_value (b, confidence);
  json_builder_set_member_name (b, "top");
  json_builder_begin_array (b);
  for (i = 0; i < n_top; i++) {
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "class-id");
    json_builder_add_int_value (b, top[i].class_id);
    json_builder_set_member_name (b, "label");
    json_builder_add_string_value (b, top[i].label);
    json_builder_set_member_name (b, "confidence");
    json_builder_add_double_value (b, top[i].confidence);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

static void
classification_json (JsonBuilder * b, GstMeta * meta)
{
  GstImgRecClassificationMeta *c = (GstImgRecClassificationMeta *) meta;

  add_decision_fields (b, c->label, c->class_id, c->confidence, c->top,
      c->n_top);
}

/* A sequence result (imgrecseq): the decision plus the state's progress. */
static void
sequence_json (JsonBuilder * b, GstMeta * meta)
{
  GstImgRecSequenceMeta *q = (GstImgRecSequenceMeta *) meta;

  add_decision_fields (b, q->label, q->class_id, q->confidence, q->top,
      q->n_top);
  json_builder_set_member_name (b, "steps");
  json_builder_add_int_value (b, (gint64) q->steps);
  json_builder_set_member_name (b, "reset-count");
  json_builder_add_int_value (b, q->reset_count);
  json_builder_set_member_name (b, "scope-id");
  json_builder_add_int_value (b, q->scope_id);
  json_builder_set_member_name (b, "scope-tracked");
  json_builder_add_boolean_value (b, q->scope_tracked);
  gst_imgrec_json_add_time (b, "window-start", q->window_start);
  gst_imgrec_json_add_time (b, "window-end", q->window_end);
}

/* detection: label, class-id, confidence, box (frame pixels), parent-id */
static void
detection_json (JsonBuilder * b, GstMeta * meta)
{
  GstImgRecDetectionMeta *d = (GstImgRecDetectionMeta *) meta;

  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, d->label);
  json_builder_set_member_name (b, "class-id");
  json_builder_add_int_value (b, d->class_id);
  json_builder_set_member_name (b, "confidence");
  json_builder_add_double_value (b, d->confidence);
  json_builder_set_member_name (b, "box");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "x-min");
  json_builder_add_double_value (b, d->x_min);
  json_builder_set_member_name (b, "y-min");
  json_builder_add_double_value (b, d->y_min);
  json_builder_set_member_name (b, "x-max");
  json_builder_add_double_value (b, d->x_max);
  json_builder_set_member_name (b, "y-max");
  json_builder_add_double_value (b, d->y_max);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "parent-id");
  json_builder_add_int_value (b, d->parent_id);
}

/* track: track-id, state, label, class-id, age, hits, time-since-update,
 * first-seen */
static void
track_json (JsonBuilder * b, GstMeta * meta)
{
  GstImgRecTrackMeta *t = (GstImgRecTrackMeta *) meta;

  json_builder_set_member_name (b, "track-id");
  json_builder_add_int_value (b, (gint64) t->track_id);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b,
      t->state == GST_IMGREC_TRACK_STATE_PREDICTED ? "predicted" : "tracked");
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, t->label);
  json_builder_set_member_name (b, "class-id");
  json_builder_add_int_value (b, t->class_id);
  json_builder_set_member_name (b, "age");
  json_builder_add_int_value (b, (gint64) t->age);
  json_builder_set_member_name (b, "hits");
  json_builder_add_int_value (b, (gint64) t->hits);
  json_builder_set_member_name (b, "time-since-update");
  json_builder_add_int_value (b, (gint64) t->time_since_update);
  gst_imgrec_json_add_time (b, "first-seen", t->first_seen);
}

/* --- overlay text --- */

/* "LABEL 87%", either part as asked */
static void
append_decision_text (GString * s, const gchar * label, gfloat confidence,
    GstImgRecTextParts parts)
{
  if (parts & GST_IMGREC_TEXT_LABEL)
    g_string_append (s, label ? label : "?");
  if (parts & GST_IMGREC_TEXT_CONFIDENCE)
    g_string_append_printf (s, "%s%.0f%%",
        parts & GST_IMGREC_TEXT_LABEL ? " " : "", 100.0 * confidence);
}

/* the decision, or every ranked class one per line (top-k) */
static void
classification_text (GString * s, GstMeta * meta, GstImgRecTextParts parts)
{
  GstImgRecClassificationMeta *c = (GstImgRecClassificationMeta *) meta;
  guint i;

  if (!(parts & GST_IMGREC_TEXT_TOP_K) || c->n_top == 0) {
    append_decision_text (s, c->label, c->confidence, parts);
    return;
  }
  for (i = 0; i < c->n_top; i++)
    g_string_append_printf (s, "%s%s %.0f%%", i ? "\n" : "",
        c->top[i].label ? c->top[i].label : "?", 100.0 * c->top[i].confidence);
}

/* synthetic: LABEL / [ANOMALY ]realism 87% / restored (blend B) /
 * restored: dark, noisy (blend B) / not restored: clean */
static void
gan_text (GString * s, GstMeta * meta, GstImgRecTextParts parts)
{
  GstImgRecGanMeta *g = (GstImgRecGanMeta *) meta;

  if (g->role == GST_IMGREC_GAN_ROLE_GENERATED)
    g_string_append_printf (s, "synthetic%s%s", g->label ? ": " : "",
        g->label ? g->label : "");
  else if (g->role == GST_IMGREC_GAN_ROLE_DISCRIMINATED)
    g_string_append_printf (s, "%srealism %.0f%%",
        g->anomaly ? "ANOMALY " : "", 100.0 * g->score);
  else if (!g->restored)
    g_string_append (s, "not restored: clean");
  else if (g->degradations) {
    static const gchar *names[] = { "dark", "low contrast", "blurred",
      "noisy"
    };
    guint k, n = 0;
    g_string_append (s, "restored: ");
    for (k = 0; k < G_N_ELEMENTS (names); k++)
      if (g->degradations & (1u << k))
        g_string_append_printf (s, "%s%s", n++ ? ", " : "", names[k]);
    g_string_append_printf (s, " (blend %.2f)", g->blend);
  } else
    g_string_append_printf (s, "restored (blend %.2f)", g->blend);
}

/* LABEL 87% [steps since the state's reset] */
static void
sequence_text (GString * s, GstMeta * meta, GstImgRecTextParts parts)
{
  GstImgRecSequenceMeta *q = (GstImgRecSequenceMeta *) meta;

  append_decision_text (s, q->label, q->confidence, parts);
  g_string_append_printf (s, " [%" G_GUINT64_FORMAT "]", q->steps);
}

static void
detection_text (GString * s, GstMeta * meta, GstImgRecTextParts parts)
{
  GstImgRecDetectionMeta *d = (GstImgRecDetectionMeta *) meta;

  append_decision_text (s, d->label, d->confidence, parts);
}

/* #ID, "#ID ~" for a box predicted on a frame without detections */
static void
track_text (GString * s, GstMeta * meta, GstImgRecTextParts parts)
{
  GstImgRecTrackMeta *t = (GstImgRecTrackMeta *) meta;

  g_string_append_printf (s, "#%" G_GUINT64_FORMAT "%s", t->track_id,
      t->state == GST_IMGREC_TRACK_STATE_PREDICTED ? " ~" : "");
}

/* --- confidence --- */

static gfloat
classification_confidence (GstMeta * meta)
{
  return ((GstImgRecClassificationMeta *) meta)->confidence;
}

static gfloat
sequence_confidence (GstMeta * meta)
{
  return ((GstImgRecSequenceMeta *) meta)->confidence;
}

static gfloat
detection_confidence (GstMeta * meta)
{
  return ((GstImgRecDetectionMeta *) meta)->confidence;
}

/* --- the table --- */

/* Line orders: the track's id first, then the detection, the per-frame
 * label, the sequence label and last the GAN's note. */
static const GstImgRecResultKind kinds[] = {
  {gst_imgrec_classification_meta_api_get_type, classification_json,
      classification_text, classification_confidence, 2},
  /* a GAN score is realism, not confidence in a label: never filtered */
  {gst_imgrec_gan_meta_api_get_type, gan_json, gan_text, NULL, 4},
  {gst_imgrec_sequence_meta_api_get_type, sequence_json, sequence_text,
      sequence_confidence, 3},
  {gst_imgrec_detection_meta_api_get_type, detection_json, detection_text,
      detection_confidence, 1},
  {gst_imgrec_track_meta_api_get_type, track_json, track_text, NULL, 0},
};

const GstImgRecResultKind *
gst_imgrec_result_kind_lookup (GstMeta * meta)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (meta->info->api == kinds[i].api ())
      return &kinds[i];
  return NULL;
}

gfloat
gst_imgrec_result_kind_confidence (GstMeta * meta)
{
  const GstImgRecResultKind *kind = gst_imgrec_result_kind_lookup (meta);

  return kind && kind->confidence ? kind->confidence (meta) : 1.0f;
}
