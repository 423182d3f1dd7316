/* The class table of a classifying model (gstimgrecclasses.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstimgrecclasses.h"

#include <math.h>
#include <string.h>

void
gst_imgrec_classes_init (GstImgRecClasses * classes, gint64 n,
    gchar ** labels)
{
  gint64 i;

  gst_imgrec_classes_clear (classes);
  classes->n = n;
  classes->labels = g_new (const gchar *, n);
  for (i = 0; i < n; i++) {
    if (labels) {
      classes->labels[i] = g_intern_string (labels[i]);
    } else {
      gchar num[32];
      g_snprintf (num, sizeof (num), "%" G_GINT64_FORMAT, i);
      classes->labels[i] = g_intern_string (num);
    }
  }
  classes->scores = g_new0 (gfloat, n);
}

void
gst_imgrec_classes_clear (GstImgRecClasses * classes)
{
  g_clear_pointer (&classes->labels, g_free);
  g_clear_pointer (&classes->scores, g_free);
  classes->n = 0;
}

guint
gst_imgrec_classes_top_k (GstImgRecClasses * classes,
    GstImgRecSoftmax softmax, guint top_k, GstImgRecClassScore * top)
{
  gfloat *p = classes->scores;
  gint64 n = classes->n, i;
  gboolean apply = softmax == GST_IMGREC_SOFTMAX_ON;
  guint k = MIN (top_k, (guint) MIN (n, GST_IMGREC_MAX_TOP_K)), m = 0, j;

  if (softmax == GST_IMGREC_SOFTMAX_AUTO) {
    gdouble sum = 0.0;
    for (i = 0; i < n && !apply; i++) {
      if (!(p[i] >= -1e-6f && p[i] <= 1.0f + 1e-6f))
        apply = TRUE;
      sum += p[i];
    }
    if (!apply && fabs (sum - 1.0) > 1e-3)
      apply = TRUE;
  }
  if (apply) {
    gfloat max = p[0];
    gdouble sum = 0.0;
    for (i = 1; i < n; i++)
      max = MAX (max, p[i]);
    for (i = 0; i < n; i++) {
      p[i] = expf (p[i] - max);
      sum += p[i];
    }
    for (i = 0; i < n; i++)
      p[i] = (gfloat) (p[i] / sum);
  }

  /* top-k by insertion into a short sorted list; ties keep the lower id */
  for (i = 0; i < n; i++) {
    gfloat v = p[i];
    if (m == k && !(v > top[k - 1].confidence))
      continue;
    j = (m < k) ? m++ : k - 1;
    while (j > 0 && v > top[j - 1].confidence) {
      top[j] = top[j - 1];
      j--;
    }
    top[j].class_id = (gint) i;
    top[j].confidence = v;
    top[j].label = classes->labels[i];
  }
  return m;
}

void
gst_imgrec_classes_structure_set_top (GstStructure * s,
    const GstImgRecClassScore * top, guint n_top)
{
  GValue labels = G_VALUE_INIT, ids = G_VALUE_INIT, confs = G_VALUE_INIT;
  GValue v = G_VALUE_INIT;
  guint i;

  gst_value_array_init (&labels, n_top);
  gst_value_array_init (&ids, n_top);
  gst_value_array_init (&confs, n_top);
  for (i = 0; i < n_top; i++) {
    g_value_init (&v, G_TYPE_STRING);
    g_value_set_static_string (&v, top[i].label);
    gst_value_array_append_and_take_value (&labels, &v);
    memset (&v, 0, sizeof (v));
    g_value_init (&v, G_TYPE_INT);
    g_value_set_int (&v, top[i].class_id);
    gst_value_array_append_and_take_value (&ids, &v);
    memset (&v, 0, sizeof (v));
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, top[i].confidence);
    gst_value_array_append_and_take_value (&confs, &v);
    memset (&v, 0, sizeof (v));
  }
  gst_structure_take_value (s, "top-labels", &labels);
  gst_structure_take_value (s, "top-class-ids", &ids);
  gst_structure_take_value (s, "top-confidences", &confs);
}
