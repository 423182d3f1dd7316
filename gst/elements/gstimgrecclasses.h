/* The class table of a classifying model (imgrecclassify, imgrecseq): its
 * labels and the buffer its scores are read into; softmax and top-k over
 * those scores; the ranked classes as message fields.  Detectors and GAN
 * elements have no such table, so it is not part of the base class.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_CLASSES_H__
#define __GST_IMGREC_CLASSES_H__

#include <gst/gst.h>

#include "gstimgrecmeta.h"

G_BEGIN_DECLS

/* Whether scores are turned into probabilities (imgrecclassify's softmax
 * property; imgrecseq always decides by itself). */
typedef enum {
  GST_IMGREC_SOFTMAX_AUTO,
  GST_IMGREC_SOFTMAX_ON,
  GST_IMGREC_SOFTMAX_OFF,
} GstImgRecSoftmax;

typedef struct {
  gint64 n;                     /* classes = scores of the model's output */
  const gchar **labels;         /* interned, n entries */
  gfloat *scores;               /* n: where the scores output is read to */
} GstImgRecClasses;

/* A table of @n classes named by @labels (the model configuration's: the
 * caller checked there are @n of them), or by their numbers when @labels
 * is NULL. */
void gst_imgrec_classes_init (GstImgRecClasses * classes, gint64 n,
    gchar ** labels);
void gst_imgrec_classes_clear (GstImgRecClasses * classes);

/* Turns the scores into probabilities (with AUTO: unless they already are a
 * distribution) and writes the best @top_k classes to @top, best first;
 * returns how many (at least 1). */
guint gst_imgrec_classes_top_k (GstImgRecClasses * classes,
    GstImgRecSoftmax softmax, guint top_k, GstImgRecClassScore * top);

/* Appends the ranked classes to a message's fields as three arrays, best
 * first: top-labels, top-class-ids, top-confidences. */
void gst_imgrec_classes_structure_set_top (GstStructure * s,
    const GstImgRecClassScore * top, guint n_top);

G_END_DECLS

#endif
