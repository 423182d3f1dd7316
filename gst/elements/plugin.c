/* The imgrec GStreamer plugin: registers its elements.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstimgrecclassify.h"
#include "gstimgrecjson.h"
#include "gstimgrecpublish.h"
#include "gstimgrecoverlay.h"
#include "gstimgrecseq.h"
#include "gstimgrecroi.h"
#include "gstimgrecgan.h"
#include "gstimgrecgansrc.h"
#include "gstimgrecdetect.h"
#include "gstimgrectrack.h"
#include "gstimgrecdrivesrc.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (imgrecclassify, plugin);
  ret |= GST_ELEMENT_REGISTER (imgrecjson, plugin);
  ret |= GST_ELEMENT_REGISTER (imgrecpublish, plugin);
  ret |= GST_ELEMENT_REGISTER (imgrecoverlay, plugin);
  ret |= GST_ELEMENT_REGISTER (imgrecseq, plugin);
  ret |= GST_ELEMENT_REGISTER (imgrecroi, plugin);
  ret |= GST_ELEMENT_REGISTER (imgrecgansrc, plugin);
  ret |= GST_ELEMENT_REGISTER (imgrecgan, plugin);
  ret |= GST_ELEMENT_REGISTER (imgrecdetect, plugin);
  ret |= GST_ELEMENT_REGISTER (imgrectrack, plugin);
  ret |= GST_ELEMENT_REGISTER (imgrecdrivesrc, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, imgrec,
    "Video analytics with the imgrec ONNX engine: classification, result "
    "metadata, overlay and JSON output", plugin_init, PACKAGE_VERSION,
    "LGPL", PACKAGE, "https://github.com/imgrec/imgrec")
