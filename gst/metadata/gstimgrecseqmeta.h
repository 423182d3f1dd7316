/* imgrec sequence results (imgrecseq) — part of libgstimgrec-1.0.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_SEQ_META_H__
#define __GST_IMGREC_SEQ_META_H__

#include "gstimgrecmeta.h"

G_BEGIN_DECLS

/**
 * GST_IMGREC_SEQUENCE_PARAM_NAME:
 *
 * Name of the #GstStructure param (fields: `label` string, `class-id` int,
 * `confidence` double, `steps` guint64, `model` string) that imgrecseq
 * appends to the #GstVideoRegionOfInterestMeta of each region it recognises.
 */
#define GST_IMGREC_SEQUENCE_PARAM_NAME "imgrec-sequence"

typedef struct _GstImgRecSequenceMeta GstImgRecSequenceMeta;

/**
 * GstImgRecSequenceMeta:
 * @meta: parent #GstMeta
 * @info: model, region and flags of the result
 * @class_id: the recognised class
 * @label: (nullable): its label (interned)
 * @confidence: its probability
 * @n_top: number of valid entries in @top
 * @top: the best classes, by decreasing confidence
 * @steps: frames the state has seen since its last reset, this one included
 *   (for a window model: frames pushed into the window since the reset)
 * @reset_count: resets of the element's state since it started
 * @scope_id: the state's key: -1 for the whole stream (scope=stream), else
 *   the region's tracking id or, for a region without one, its ROI id
 *   (scope=roi); @scope_tracked says which
 * @window_start: PTS of the oldest frame of the window (window models; else
 *   %GST_CLOCK_TIME_NONE)
 * @window_end: PTS of the newest frame of the window (window models; else
 *   %GST_CLOCK_TIME_NONE)
 * @scope_tracked: %TRUE when @scope_id is a tracking id, %FALSE when it is
 *   an ROI id (or -1, the stream).  The two id spaces overlap: the state of
 *   track 1 and that of the untracked region with ROI id 1 are two states.
 *
 * The result of a recurrent (or windowed) recognition of one region, or of
 * the whole frame, accumulated over the frames since the last reset.
 */
struct _GstImgRecSequenceMeta {
  GstMeta meta;

  GstImgRecResultInfo info;

  gint class_id;
  const gchar *label;
  gfloat confidence;

  guint n_top;
  GstImgRecClassScore top[GST_IMGREC_MAX_TOP_K];

  guint64 steps;
  guint reset_count;
  gint64 scope_id;
  GstClockTime window_start;
  GstClockTime window_end;
  gboolean scope_tracked;
};

GST_IMGREC_API
GType gst_imgrec_sequence_meta_api_get_type (void);

/**
 * GST_IMGREC_SEQUENCE_META_API_TYPE:
 *
 * The #GType of the sequence meta API.
 */
#define GST_IMGREC_SEQUENCE_META_API_TYPE \
  (gst_imgrec_sequence_meta_api_get_type ())

GST_IMGREC_API
const GstMetaInfo *gst_imgrec_sequence_meta_get_info (void);

/**
 * GST_IMGREC_SEQUENCE_META_INFO:
 *
 * The #GstMetaInfo of the sequence meta implementation.
 */
#define GST_IMGREC_SEQUENCE_META_INFO (gst_imgrec_sequence_meta_get_info ())

GST_IMGREC_API
GstImgRecSequenceMeta *gst_buffer_add_imgrec_sequence_meta (GstBuffer * buffer,
    const gchar * model, const gchar * element);

GST_IMGREC_API
GstImgRecSequenceMeta *gst_buffer_get_imgrec_sequence_meta (GstBuffer * buffer);

GST_IMGREC_API
GstImgRecSequenceMeta *gst_buffer_get_imgrec_sequence_meta_for_roi (
    GstBuffer * buffer, gint roi_id);

GST_IMGREC_API
GList *gst_buffer_get_imgrec_sequence_metas (GstBuffer * buffer);

GST_IMGREC_API
guint gst_buffer_get_n_imgrec_sequence_metas (GstBuffer * buffer);

/* Accessors (for language bindings; C code may read the struct). */

GST_IMGREC_API
const gchar *gst_imgrec_sequence_meta_get_label (GstImgRecSequenceMeta * meta);

GST_IMGREC_API
gint gst_imgrec_sequence_meta_get_class_id (GstImgRecSequenceMeta * meta);

GST_IMGREC_API
gfloat gst_imgrec_sequence_meta_get_confidence (GstImgRecSequenceMeta * meta);

GST_IMGREC_API
guint gst_imgrec_sequence_meta_get_n_top (GstImgRecSequenceMeta * meta);

GST_IMGREC_API
gboolean gst_imgrec_sequence_meta_get_top (GstImgRecSequenceMeta * meta,
    guint index, gint * class_id, const gchar ** label, gfloat * confidence);

GST_IMGREC_API
guint64 gst_imgrec_sequence_meta_get_steps (GstImgRecSequenceMeta * meta);

GST_IMGREC_API
guint gst_imgrec_sequence_meta_get_reset_count (GstImgRecSequenceMeta * meta);

GST_IMGREC_API
gint64 gst_imgrec_sequence_meta_get_scope_id (GstImgRecSequenceMeta * meta);

GST_IMGREC_API
gboolean gst_imgrec_sequence_meta_get_scope_tracked (
    GstImgRecSequenceMeta * meta);

GST_IMGREC_API
void gst_imgrec_sequence_meta_get_window (GstImgRecSequenceMeta * meta,
    GstClockTime * start, GstClockTime * end);

GST_IMGREC_API
const gchar *gst_imgrec_sequence_meta_get_model (GstImgRecSequenceMeta * meta);

GST_IMGREC_API
gint gst_imgrec_sequence_meta_get_roi_id (GstImgRecSequenceMeta * meta);

GST_IMGREC_API
void gst_imgrec_sequence_meta_get_region (GstImgRecSequenceMeta * meta,
    gint * x, gint * y, guint * width, guint * height);

GST_IMGREC_API
GstImgRecResultFlags gst_imgrec_sequence_meta_get_flags (
    GstImgRecSequenceMeta * meta);

G_END_DECLS

#endif /* __GST_IMGREC_SEQ_META_H__ */
