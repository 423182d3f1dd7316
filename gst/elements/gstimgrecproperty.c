/* Property rules every imgrec element follows (see gstimgrecproperty.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstimgrecproperty.h"

GST_DEBUG_CATEGORY_STATIC (gst_imgrec_property_debug);
#define GST_CAT_DEFAULT gst_imgrec_property_debug

static void
ensure_debug_category (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (gst_imgrec_property_debug, "imgrecproperty", 0,
        "imgrec property rules");
    g_once_init_leave (&once, 1);
  }
}

/* The highest state in which a property with these flags may change. */
static GstState
last_mutable_state (GParamFlags flags)
{
  if (flags & GST_PARAM_MUTABLE_PLAYING)
    return GST_STATE_PLAYING;
  if (flags & GST_PARAM_MUTABLE_PAUSED)
    return GST_STATE_PAUSED;
  if (flags & GST_PARAM_MUTABLE_READY)
    return GST_STATE_READY;
  return GST_STATE_PLAYING;     /* not flagged: the element decides */
}

gboolean
gst_imgrec_property_refuse_locked (GstElement * element, GParamSpec * pspec)
{
  GstState limit = last_mutable_state (pspec->flags);

  /* during READY -> PAUSED, start() may already be reading the settings */
  if (GST_STATE (element) <= limit && GST_STATE_PENDING (element) <= limit)
    return FALSE;
  GST_OBJECT_UNLOCK (element);
  ensure_debug_category ();
  GST_ELEMENT_WARNING (element, RESOURCE, SETTINGS,
      ("The property \"%s\" cannot be changed while %s; keeping its "
          "value.", g_param_spec_get_name (pspec),
          limit == GST_STATE_PAUSED ? "PLAYING" : "PAUSED or PLAYING"),
      (NULL));
  return TRUE;
}

guint
gst_imgrec_property_usable_threads (guint requested)
{
  return MIN (requested, (guint) MAX (g_get_num_processors (), 1));
}

guint
gst_imgrec_property_clamp_threads (GstElement * element, guint requested)
{
  guint cpus = gst_imgrec_property_usable_threads (G_MAXUINT);

  if (requested <= cpus)
    return requested;
  ensure_debug_category ();
  GST_ELEMENT_WARNING (element, RESOURCE, SETTINGS,
      ("threads=%u is more than the %u CPUs this process may use; using %u.",
          requested, cpus, cpus), (NULL));
  return cpus;
}
