/* imgrec result metadata — public API of libgstimgrec-1.0.
 *
 * Every imgrec inference element attaches its results to the buffer it
 * analysed as a GstMeta of this family.  All metas of the family start with
 * the same #GstImgRecResultInfo (model, producing element, region, flags), so
 * elements that only need the common part (overlay, JSON writer) handle
 * every present and future kind through gst_imgrec_meta_get_result_info().
 *
 * Strings in the metas (model name, element name, labels) are interned
 * (g_intern_string()): they are never freed and stay valid for the lifetime
 * of the process, so metas copy by value and survive buffer copies, tees and
 * queues without ownership rules.
 */
#ifndef __GST_IMGREC_META_H__
#define __GST_IMGREC_META_H__

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#ifndef GST_IMGREC_API
# if defined(BUILDING_GST_IMGREC) && defined(__GNUC__)
#  define GST_IMGREC_API __attribute__((visibility ("default"))) extern
# else
#  define GST_IMGREC_API extern
# endif
#endif

/**
 * GST_IMGREC_MAX_TOP_K:
 *
 * The largest number of ranked classes a #GstImgRecClassificationMeta holds.
 */
#define GST_IMGREC_MAX_TOP_K 16

/**
 * GST_IMGREC_FULL_FRAME_ROI_TYPE:
 *
 * The roi_type of the #GstVideoRegionOfInterestMeta an imgrec element adds
 * when it analyses the whole frame.
 */
#define GST_IMGREC_FULL_FRAME_ROI_TYPE "imgrec-full-frame"

/**
 * GST_IMGREC_CLASSIFICATION_PARAM_NAME:
 *
 * Name of the #GstStructure param (fields: `label` string, `class-id` int,
 * `confidence` double, `model` string, and DL Streamer's `label_id` int and
 * `model_name` string; see gst_imgrec_roi_param_new()) that imgrecclassify
 * appends to the #GstVideoRegionOfInterestMeta of each region it classifies.
 */
#define GST_IMGREC_CLASSIFICATION_PARAM_NAME "imgrec-classification"

/**
 * GstImgRecResultFlags:
 * @GST_IMGREC_RESULT_FLAG_NONE: a fresh result computed on this frame
 * @GST_IMGREC_RESULT_FLAG_CARRIED: the result was computed on an earlier
 *   frame and carried over to this one (inference-interval or QoS)
 * @GST_IMGREC_RESULT_FLAG_QOS_SKIPPED: inference was skipped on this frame
 *   because the pipeline was late; the result is carried over
 * @GST_IMGREC_RESULT_FLAG_BELOW_THRESHOLD: the best confidence was below the
 *   element's threshold, so the decision is "unknown"
 *
 * Flags describing how a result was obtained.
 */
typedef enum {
  GST_IMGREC_RESULT_FLAG_NONE = 0,
  GST_IMGREC_RESULT_FLAG_CARRIED = (1 << 0),
  GST_IMGREC_RESULT_FLAG_QOS_SKIPPED = (1 << 1),
  GST_IMGREC_RESULT_FLAG_BELOW_THRESHOLD = (1 << 2),
} GstImgRecResultFlags;

/**
 * GstImgRecResultInfo:
 * @model: (nullable): name of the model that produced the result (interned)
 * @element: (nullable): name of the element that produced the result
 *   (interned); the overlay derives its per-element colour from it
 * @roi_id: id of the #GstVideoRegionOfInterestMeta the result describes, or
 *   -1 when there is none
 * @x: left edge of the analysed region, in frame pixels
 * @y: top edge of the analysed region, in frame pixels
 * @width: width of the analysed region, in frame pixels
 * @height: height of the analysed region, in frame pixels
 * @flags: #GstImgRecResultFlags
 * @inference_pts: PTS of the frame the result was computed on (differs
 *   from the buffer's own PTS when the result is carried over)
 *
 * The part every imgrec result meta starts with.
 */
typedef struct {
  const gchar *model;
  const gchar *element;
  gint roi_id;
  gint x;
  gint y;
  guint width;
  guint height;
  GstImgRecResultFlags flags;
  GstClockTime inference_pts;

  /*< private >*/
  gpointer _gst_reserved[GST_PADDING];
} GstImgRecResultInfo;

/**
 * GstImgRecClassScore:
 * @class_id: index of the class in the model's output
 * @label: (nullable): the class's label (interned), or %NULL when the model
 *   has no labels
 * @confidence: the class's probability (after softmax when applied)
 *
 * One ranked class of a classification.
 */
typedef struct {
  gint class_id;
  const gchar *label;
  gfloat confidence;
} GstImgRecClassScore;

typedef struct _GstImgRecClassificationMeta GstImgRecClassificationMeta;

/**
 * GstImgRecClassificationMeta:
 * @meta: parent #GstMeta
 * @info: model, region and flags of the result
 * @class_id: the decided class, or -1 when the best confidence was below
 *   the threshold
 * @label: (nullable): label of the decided class ("unknown" below the
 *   threshold; the class index as text when the model has no labels)
 * @confidence: confidence of the best class (kept below the threshold)
 * @n_top: number of valid entries in @top
 * @top: the best classes, by decreasing confidence
 *
 * The result of classifying one region (or the whole frame) of a buffer.
 * A buffer carries one per classified region.
 */
struct _GstImgRecClassificationMeta {
  GstMeta meta;

  GstImgRecResultInfo info;

  gint class_id;
  const gchar *label;
  gfloat confidence;

  guint n_top;
  GstImgRecClassScore top[GST_IMGREC_MAX_TOP_K];
};

/* --- the family --- */

GST_IMGREC_API
gboolean gst_imgrec_meta_is_result (GstMeta * meta);

GST_IMGREC_API
GstImgRecResultInfo *gst_imgrec_meta_get_result_info (GstMeta * meta);

GST_IMGREC_API
const gchar *gst_imgrec_meta_get_kind (GstMeta * meta);

GST_IMGREC_API
GstStructure *gst_imgrec_roi_param_new (const gchar * name,
    const gchar * model, const gchar * label, gint class_id,
    gdouble confidence);

/* --- classification --- */

GST_IMGREC_API
GType gst_imgrec_classification_meta_api_get_type (void);

/**
 * GST_IMGREC_CLASSIFICATION_META_API_TYPE:
 *
 * The #GType of the classification meta API.
 */
#define GST_IMGREC_CLASSIFICATION_META_API_TYPE \
  (gst_imgrec_classification_meta_api_get_type ())

GST_IMGREC_API
const GstMetaInfo *gst_imgrec_classification_meta_get_info (void);

/**
 * GST_IMGREC_CLASSIFICATION_META_INFO:
 *
 * The #GstMetaInfo of the classification meta implementation.
 */
#define GST_IMGREC_CLASSIFICATION_META_INFO \
  (gst_imgrec_classification_meta_get_info ())

GST_IMGREC_API
GstImgRecClassificationMeta *gst_buffer_add_imgrec_classification_meta (
    GstBuffer * buffer, const gchar * model, const gchar * element);

GST_IMGREC_API
GstImgRecClassificationMeta *gst_buffer_get_imgrec_classification_meta (
    GstBuffer * buffer);

GST_IMGREC_API
GstImgRecClassificationMeta *gst_buffer_get_imgrec_classification_meta_for_roi (
    GstBuffer * buffer, gint roi_id);

GST_IMGREC_API
GList *gst_buffer_get_imgrec_classification_metas (GstBuffer * buffer);

GST_IMGREC_API
guint gst_buffer_get_n_imgrec_classification_metas (GstBuffer * buffer);

GST_IMGREC_API
GstImgRecClassificationMeta *gst_buffer_get_nth_imgrec_classification_meta (
    GstBuffer * buffer, guint index);

GST_IMGREC_API
gboolean gst_imgrec_classification_meta_add_class (
    GstImgRecClassificationMeta * meta, gint class_id, const gchar * label,
    gfloat confidence);

GST_IMGREC_API
void gst_imgrec_classification_meta_set_decision (
    GstImgRecClassificationMeta * meta, gint class_id, const gchar * label,
    gfloat confidence);

GST_IMGREC_API
void gst_imgrec_classification_meta_set_region (
    GstImgRecClassificationMeta * meta, gint roi_id, gint x, gint y,
    guint width, guint height);

/* Accessors (for language bindings; C code may read the struct). */

GST_IMGREC_API
const gchar *gst_imgrec_classification_meta_get_label (
    GstImgRecClassificationMeta * meta);

GST_IMGREC_API
gint gst_imgrec_classification_meta_get_class_id (
    GstImgRecClassificationMeta * meta);

GST_IMGREC_API
gfloat gst_imgrec_classification_meta_get_confidence (
    GstImgRecClassificationMeta * meta);

GST_IMGREC_API
guint gst_imgrec_classification_meta_get_n_top (
    GstImgRecClassificationMeta * meta);

GST_IMGREC_API
gboolean gst_imgrec_classification_meta_get_top (
    GstImgRecClassificationMeta * meta, guint index, gint * class_id,
    const gchar ** label, gfloat * confidence);

GST_IMGREC_API
const gchar *gst_imgrec_classification_meta_get_model (
    GstImgRecClassificationMeta * meta);

GST_IMGREC_API
const gchar *gst_imgrec_classification_meta_get_element (
    GstImgRecClassificationMeta * meta);

GST_IMGREC_API
gint gst_imgrec_classification_meta_get_roi_id (
    GstImgRecClassificationMeta * meta);

GST_IMGREC_API
void gst_imgrec_classification_meta_get_region (
    GstImgRecClassificationMeta * meta, gint * x, gint * y, guint * width,
    guint * height);

GST_IMGREC_API
GstImgRecResultFlags gst_imgrec_classification_meta_get_flags (
    GstImgRecClassificationMeta * meta);

GST_IMGREC_API
gboolean gst_imgrec_classification_meta_is_carried (
    GstImgRecClassificationMeta * meta);

G_END_DECLS

#endif /* __GST_IMGREC_META_H__ */
