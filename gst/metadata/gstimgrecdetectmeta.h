/* imgrec object detections (imgrecdetect) and tracks (imgrectrack) — part
 * of libgstimgrec-1.0.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_DETECT_META_H__
#define __GST_IMGREC_DETECT_META_H__

#include "gstimgrecmeta.h"

G_BEGIN_DECLS

/**
 * GST_IMGREC_DETECTION_PARAM_NAME:
 *
 * Name of the #GstStructure param (fields: `label` string, `class-id` int,
 * `confidence` double, `model` string, `parent-id` int) that imgrecdetect
 * appends to the #GstVideoRegionOfInterestMeta of each object it finds.
 * The same ROI also carries DL Streamer's `detection` structure
 * (%GST_IMGREC_DLS_DETECTION_PARAM_NAME).
 */
#define GST_IMGREC_DETECTION_PARAM_NAME "imgrec-detection"

/**
 * GST_IMGREC_DLS_DETECTION_PARAM_NAME:
 *
 * Name of the DL Streamer-compatible param (fields: `x_min`, `y_min`,
 * `x_max`, `y_max` doubles normalised to 0–1 of the frame, `confidence`
 * double, `label_id` int, `label` string) on each detected object's ROI.
 */
#define GST_IMGREC_DLS_DETECTION_PARAM_NAME "detection"

/**
 * GST_IMGREC_TRACK_PARAM_NAME:
 *
 * Name of the #GstStructure param (fields: `tracking-id`, `age`, `hits`,
 * `time-since-update` guint64, `predicted` boolean, `model` string) that
 * imgrectrack appends to each tracked ROI, beside DL Streamer's `object_id`
 * structure (field `id`, int).  imgrecseq and imgrecclassify key regions on
 * either id.
 */
#define GST_IMGREC_TRACK_PARAM_NAME "imgrec-track"

typedef struct _GstImgRecDetectionMeta GstImgRecDetectionMeta;

/**
 * GstImgRecDetectionMeta:
 * @meta: parent #GstMeta
 * @info: model, element, the object's ROI id and its box in whole frame
 *   pixels (rounded outwards), flags
 * @class_id: the object's class (model output index, background excluded)
 * @label: (nullable): its label (interned)
 * @confidence: its confidence
 * @x_min: left edge, frame pixels (sub-pixel)
 * @y_min: top edge, frame pixels
 * @x_max: right edge, frame pixels
 * @y_max: bottom edge, frame pixels
 * @parent_id: ROI id of the region the object was found in (roi-list
 *   mode), or -1 when the whole frame was searched
 *
 * One object found by a detector.  A buffer carries one per object.
 */
struct _GstImgRecDetectionMeta {
  GstMeta meta;

  GstImgRecResultInfo info;

  gint class_id;
  const gchar *label;
  gfloat confidence;
  gfloat x_min;
  gfloat y_min;
  gfloat x_max;
  gfloat y_max;
  gint parent_id;
};

/**
 * GstImgRecTrackState:
 * @GST_IMGREC_TRACK_STATE_TRACKED: matched with a detection on this frame
 * @GST_IMGREC_TRACK_STATE_PREDICTED: no detection on this frame; the box
 *   is the motion model's prediction
 *
 * Whether a track's box on a frame was measured or predicted.
 */
typedef enum {
  GST_IMGREC_TRACK_STATE_TRACKED = 0,
  GST_IMGREC_TRACK_STATE_PREDICTED = 1,
} GstImgRecTrackState;

typedef struct _GstImgRecTrackMeta GstImgRecTrackMeta;

/**
 * GstImgRecTrackMeta:
 * @meta: parent #GstMeta
 * @info: tracker element, the track's ROI id and box, flags
 * @track_id: the track's id: stable while the object is followed, never
 *   reused within the element's life
 * @state: #GstImgRecTrackState
 * @class_id: the track's class (-1 unknown)
 * @label: (nullable): its label (interned), the ROI type
 * @age: frames since the track began
 * @hits: frames on which a detection was matched
 * @time_since_update: frames since the last matched detection (0: now)
 * @first_seen: PTS of the frame the track began on
 *
 * The state of one confirmed track on a frame.
 */
struct _GstImgRecTrackMeta {
  GstMeta meta;

  GstImgRecResultInfo info;

  guint64 track_id;
  GstImgRecTrackState state;
  gint class_id;
  const gchar *label;
  guint64 age;
  guint64 hits;
  guint64 time_since_update;
  GstClockTime first_seen;
};

/* --- detection --- */

GST_IMGREC_API
GType gst_imgrec_detection_meta_api_get_type (void);
/**
 * GST_IMGREC_DETECTION_META_API_TYPE:
 *
 * The #GType of the detection meta API.
 */
#define GST_IMGREC_DETECTION_META_API_TYPE \
  (gst_imgrec_detection_meta_api_get_type ())

GST_IMGREC_API
const GstMetaInfo *gst_imgrec_detection_meta_get_info (void);
/**
 * GST_IMGREC_DETECTION_META_INFO:
 *
 * The #GstMetaInfo of the detection meta implementation.
 */
#define GST_IMGREC_DETECTION_META_INFO (gst_imgrec_detection_meta_get_info ())

GST_IMGREC_API
GstImgRecDetectionMeta *gst_buffer_add_imgrec_detection_meta (
    GstBuffer * buffer, const gchar * model, const gchar * element);
GST_IMGREC_API
GstImgRecDetectionMeta *gst_buffer_get_imgrec_detection_meta_for_roi (
    GstBuffer * buffer, gint roi_id);
GST_IMGREC_API
GList *gst_buffer_get_imgrec_detection_metas (GstBuffer * buffer);
GST_IMGREC_API
guint gst_buffer_get_n_imgrec_detection_metas (GstBuffer * buffer);

GST_IMGREC_API
const gchar *gst_imgrec_detection_meta_get_label (GstImgRecDetectionMeta * meta);
GST_IMGREC_API
gint gst_imgrec_detection_meta_get_class_id (GstImgRecDetectionMeta * meta);
GST_IMGREC_API
gfloat gst_imgrec_detection_meta_get_confidence (GstImgRecDetectionMeta * meta);
GST_IMGREC_API
void gst_imgrec_detection_meta_get_box (GstImgRecDetectionMeta * meta,
    gfloat * x_min, gfloat * y_min, gfloat * x_max, gfloat * y_max);
GST_IMGREC_API
gint gst_imgrec_detection_meta_get_parent_id (GstImgRecDetectionMeta * meta);
GST_IMGREC_API
const gchar *gst_imgrec_detection_meta_get_model (GstImgRecDetectionMeta * meta);
GST_IMGREC_API
gint gst_imgrec_detection_meta_get_roi_id (GstImgRecDetectionMeta * meta);
GST_IMGREC_API
void gst_imgrec_detection_meta_get_region (GstImgRecDetectionMeta * meta,
    gint * x, gint * y, guint * width, guint * height);

/* --- track --- */

GST_IMGREC_API
GType gst_imgrec_track_meta_api_get_type (void);
/**
 * GST_IMGREC_TRACK_META_API_TYPE:
 *
 * The #GType of the track meta API.
 */
#define GST_IMGREC_TRACK_META_API_TYPE (gst_imgrec_track_meta_api_get_type ())

GST_IMGREC_API
const GstMetaInfo *gst_imgrec_track_meta_get_info (void);
/**
 * GST_IMGREC_TRACK_META_INFO:
 *
 * The #GstMetaInfo of the track meta implementation.
 */
#define GST_IMGREC_TRACK_META_INFO (gst_imgrec_track_meta_get_info ())

GST_IMGREC_API
GstImgRecTrackMeta *gst_buffer_add_imgrec_track_meta (GstBuffer * buffer,
    const gchar * element);
GST_IMGREC_API
GstImgRecTrackMeta *gst_buffer_get_imgrec_track_meta_for_roi (
    GstBuffer * buffer, gint roi_id);
GST_IMGREC_API
GList *gst_buffer_get_imgrec_track_metas (GstBuffer * buffer);
GST_IMGREC_API
guint gst_buffer_get_n_imgrec_track_metas (GstBuffer * buffer);

GST_IMGREC_API
guint64 gst_imgrec_track_meta_get_track_id (GstImgRecTrackMeta * meta);
GST_IMGREC_API
GstImgRecTrackState gst_imgrec_track_meta_get_state (GstImgRecTrackMeta * meta);
GST_IMGREC_API
const gchar *gst_imgrec_track_meta_get_label (GstImgRecTrackMeta * meta);
GST_IMGREC_API
gint gst_imgrec_track_meta_get_class_id (GstImgRecTrackMeta * meta);
GST_IMGREC_API
guint64 gst_imgrec_track_meta_get_age (GstImgRecTrackMeta * meta);
GST_IMGREC_API
guint64 gst_imgrec_track_meta_get_hits (GstImgRecTrackMeta * meta);
GST_IMGREC_API
guint64 gst_imgrec_track_meta_get_time_since_update (GstImgRecTrackMeta * meta);
GST_IMGREC_API
GstClockTime gst_imgrec_track_meta_get_first_seen (GstImgRecTrackMeta * meta);
GST_IMGREC_API
gint gst_imgrec_track_meta_get_roi_id (GstImgRecTrackMeta * meta);
GST_IMGREC_API
void gst_imgrec_track_meta_get_region (GstImgRecTrackMeta * meta, gint * x,
    gint * y, guint * width, guint * height);

G_END_DECLS

#endif
