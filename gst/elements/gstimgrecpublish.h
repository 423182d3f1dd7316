/* imgrecpublish: sends each frame's imgrec results as a JSON message to a
 * file, an MQTT broker or a Kafka cluster.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_PUBLISH_H__
#define __GST_IMGREC_PUBLISH_H__

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_IMGREC_PUBLISH (gst_imgrec_publish_get_type ())
G_DECLARE_FINAL_TYPE (GstImgRecPublish, gst_imgrec_publish, GST,
    IMGREC_PUBLISH, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (imgrecpublish);

typedef enum {
  GST_IMGREC_PUBLISH_METHOD_FILE,
  GST_IMGREC_PUBLISH_METHOD_MQTT,
  GST_IMGREC_PUBLISH_METHOD_KAFKA,
} GstImgRecPublishMethod;

typedef enum {
  GST_IMGREC_PUBLISH_FILE_FORMAT_JSON_LINES,
  GST_IMGREC_PUBLISH_FILE_FORMAT_JSON,
} GstImgRecPublishFileFormat;

typedef enum {
  GST_IMGREC_PUBLISH_OVERFLOW_DROP_OLDEST,
  GST_IMGREC_PUBLISH_OVERFLOW_DROP_NEW,
  GST_IMGREC_PUBLISH_OVERFLOW_BLOCK,
} GstImgRecPublishOverflow;

G_END_DECLS

#endif
