/* Property rules every imgrec element follows: properties flagged
 * GST_PARAM_MUTABLE_READY are refused with a warning while the element is
 * PAUSED or PLAYING (or going there), and thread counts are bounded by the
 * CPUs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_PROPERTY_H__
#define __GST_IMGREC_PROPERTY_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Call at the top of set_property with the object lock held.  When @pspec
 * may only change in NULL or READY (GST_PARAM_MUTABLE_READY; or in PAUSED,
 * GST_PARAM_MUTABLE_PAUSED) and @element is past that, or going past it,
 * releases the lock, posts a warning naming the property and returns TRUE:
 * the caller returns at once, keeping the old value.  Otherwise returns
 * FALSE with the lock still held. */
gboolean gst_imgrec_property_refuse_locked (GstElement * element,
    GParamSpec * pspec);

/* @requested threads bounded by the CPUs this process may use (0 = one per
 * CPU stays 0).  Elements store the threads property as set and bound it
 * when they start, with gst_imgrec_property_clamp_threads, which also posts
 * a warning when it had to be lowered (call it without the object lock). */
guint gst_imgrec_property_usable_threads (guint requested);
guint gst_imgrec_property_clamp_threads (GstElement * element,
    guint requested);

G_END_DECLS

#endif
