/* The procedural driving scene behind imgrecdrivesrc: a road seen from a
 * car (perspective, lane marks, sky, roadside, traffic signs on poles and
 * gantries), segments of weather, light and lens trouble, and the ground
 * truth of every sign drawn.  Plain GLib + cairo, no GStreamer: everything
 * is a function of (seed, time), so any frame can be drawn in any order.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_IMGREC_DRIVE_SCENE_H__
#define __GST_IMGREC_DRIVE_SCENE_H__

#include <glib.h>
#include <cairo.h>

G_BEGIN_DECLS

typedef enum {
  IMGREC_DRIVE_DAY,
  IMGREC_DRIVE_NIGHT,
  IMGREC_DRIVE_RAIN,
  IMGREC_DRIVE_NOISE,
  IMGREC_DRIVE_MOTION_BLUR,
  IMGREC_DRIVE_COVERED,
  IMGREC_DRIVE_DEFOCUS,
  IMGREC_DRIVE_N_KINDS
} ImgRecDriveKind;

const gchar *imgrec_drive_kind_name (ImgRecDriveKind kind);

typedef struct {
  ImgRecDriveKind kind;
  gdouble seconds;
} ImgRecDriveSegment;

/* "day:15,night:12,..." → segments; NULL with a sentence in @error. */
ImgRecDriveSegment *imgrec_drive_parse_segments (const gchar * text,
    guint * n_segments, gchar ** error);

typedef enum {
  IMGREC_DRIVE_SHAPE_CIRCLE,
  IMGREC_DRIVE_SHAPE_TRIANGLE,
  IMGREC_DRIVE_SHAPE_INVERTED_TRIANGLE,
  IMGREC_DRIVE_SHAPE_OCTAGON,
  IMGREC_DRIVE_SHAPE_DIAMOND,
} ImgRecDriveShape;

/* The outline of a GTSRB class (ids 0-42; others: circle). */
ImgRecDriveShape imgrec_drive_class_shape (gint class_id);
const gchar *imgrec_drive_shape_name (ImgRecDriveShape shape);

typedef enum {
  IMGREC_DRIVE_MOUNT_RIGHT,
  IMGREC_DRIVE_MOUNT_LEFT,
  IMGREC_DRIVE_MOUNT_OVERHEAD,
} ImgRecDriveMount;

const gchar *imgrec_drive_mount_name (ImgRecDriveMount mount);

/* Draws the face of sign @track_id (class @class_id): a square ARGB32
 * surface of the generator's picture, the sign filling its central
 * IMGREC_DRIVE_FACE_FILL.  NULL: the element has posted an error. */
typedef cairo_surface_t *(*ImgRecDriveFaceFunc) (guint64 track_id,
    gint class_id, gpointer user_data);

#define IMGREC_DRIVE_FACE_FILL 0.80

/* One sign in a frame's ground truth. */
typedef struct {
  guint64 track_id;
  gint class_id;
  ImgRecDriveShape shape;
  ImgRecDriveMount mount;
  gdouble distance;             /* metres ahead of the camera */
  gdouble x_min, y_min, x_max, y_max;   /* visible box, frame pixels */
  gboolean truncated;           /* part of the sign is outside the frame */
} ImgRecDriveSign;

typedef struct _ImgRecDriveScene ImgRecDriveScene;

typedef struct {
  guint64 seed;
  gdouble speed_kmh;
  gdouble sign_spacing;         /* mean metres between signs */
  const ImgRecDriveSegment *segments;   /* copied */
  guint n_segments;
  ImgRecDriveFaceFunc face_func;
  gpointer face_data;
} ImgRecDriveSettings;

ImgRecDriveScene *imgrec_drive_scene_new (const ImgRecDriveSettings * s);
void imgrec_drive_scene_free (ImgRecDriveScene * scene);

/* The segment at @t seconds (the list repeats). */
ImgRecDriveKind imgrec_drive_scene_segment_at (ImgRecDriveScene * scene,
    gdouble t);

/* Draws the frame at time @t (seconds) into @data (cairo ARGB32 / native
 * BGRx, @width x @height, @stride bytes a row) and fills @signs with the
 * signs visible in it (cleared first).  FALSE when a face could not be
 * drawn (the face function failed). */
gboolean imgrec_drive_scene_render (ImgRecDriveScene * scene, gdouble t,
    guint64 frame_index, guint8 * data, gint width, gint height, gint stride,
    GArray * signs);

G_END_DECLS

#endif
