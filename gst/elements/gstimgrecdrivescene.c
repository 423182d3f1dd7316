/* The procedural driving scene behind imgrecdrivesrc (see the header).
 *
 * World: metres; the road runs along s, its centre line at lateral u = 0,
 * lanes u in [-3.5, 0] and [0, 3.5], shoulders to +-4.5; the camera drives
 * in the right lane (u = 1.75) at CAMERA_HEIGHT, looking along the road.
 * A point Z metres ahead, at lateral u and height Y, projects to
 *   x = cx + f (u - 1.75 + bend (s, Z)) / Z,  y = horizon + f (h - Y) / Z
 * with f = 0.9 * width, so every size scales with the frame width and the
 * ground truth is the same projection as the drawing.  Objects along the
 * road (signs, trees, posts, dashes) are placed by a counter-based hash of
 * (seed, kind, index), so a frame depends only on (seed, time).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstimgrecdrivescene.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CAMERA_U 1.75
#define CAMERA_HEIGHT 1.35
#define FOCAL_PER_WIDTH 0.9
#define HORIZON_PER_HEIGHT 0.47
#define Z_NEAR 1.2
#define Z_ROAD_FAR 600.0
#define Z_OBJECT_FAR 320.0
#define MIN_SIGN_PX 2.5
#define ROAD_HALF 3.5
#define SHOULDER 1.0
#define DASH_PERIOD 12.0
#define DASH_LENGTH 3.0
#define TREE_PERIOD 7.0
#define POST_PERIOD 50.0
#define BAND_PERIOD 6.0
#define BEND_AMPLITUDE (1.0 / 900.0)    /* curvature, 1/m */
#define BEND_PERIOD 1300.0              /* metres of road per S-bend */
#define FIRST_SIGN_AT 12.0

enum {
  SALT_GAP = 1, SALT_CLASS, SALT_MOUNT, SALT_SIZE, SALT_LATERAL, SALT_HEIGHT,
  SALT_TREE, SALT_RAIN, SALT_NOISE, SALT_HILLS, SALT_BEND
};

/* ------------------------------------------------------------------------ */
/* names and parsing                                                          */

static const gchar *const kind_names[IMGREC_DRIVE_N_KINDS] = {
  "day", "night", "rain", "noise", "motion-blur", "covered", "defocus"
};

const gchar *
imgrec_drive_kind_name (ImgRecDriveKind kind)
{
  return kind < IMGREC_DRIVE_N_KINDS ? kind_names[kind] : "?";
}

ImgRecDriveSegment *
imgrec_drive_parse_segments (const gchar * text, guint * n_segments,
    gchar ** error)
{
  gchar **items;
  GArray *out;
  guint i;

  *n_segments = 0;
  if (text == NULL || *text == '\0') {
    *error = g_strdup ("segments is empty: give a list of name:seconds, "
        "e.g. \"day:20,night:10\".");
    return NULL;
  }
  items = g_strsplit (text, ",", -1);
  out = g_array_new (FALSE, FALSE, sizeof (ImgRecDriveSegment));
  for (i = 0; items[i] != NULL; i++) {
    gchar *item = g_strstrip (items[i]), *colon, *end = NULL;
    ImgRecDriveSegment seg;
    gint k;

    colon = strchr (item, ':');
    if (colon == NULL) {
      *error = g_strdup_printf ("segments item \"%s\" is not name:seconds.",
          item);
      goto fail;
    }
    *colon = '\0';
    g_strstrip (item);
    for (k = 0; k < IMGREC_DRIVE_N_KINDS; k++)
      if (g_ascii_strcasecmp (item, kind_names[k]) == 0)
        break;
    if (k == IMGREC_DRIVE_N_KINDS) {
      *error = g_strdup_printf ("Unknown segment \"%s\" (known: day, night, "
          "rain, noise, motion-blur, covered, defocus).", item);
      goto fail;
    }
    seg.kind = (ImgRecDriveKind) k;
    seg.seconds = g_ascii_strtod (g_strstrip (colon + 1), &end);
    if (end == colon + 1 || *end != '\0' || !isfinite (seg.seconds)
        || seg.seconds <= 0 || seg.seconds > 1e6) {
      *error = g_strdup_printf ("Segment \"%s\" needs a duration in seconds "
          "above 0 (and at most 1e6), not \"%s\".", item, colon + 1);
      goto fail;
    }
    g_array_append_val (out, seg);
  }
  g_strfreev (items);
  *n_segments = out->len;
  return (ImgRecDriveSegment *) g_array_free (out, FALSE);

fail:
  g_strfreev (items);
  g_array_free (out, TRUE);
  return NULL;
}

ImgRecDriveShape
imgrec_drive_class_shape (gint class_id)
{
  if (class_id == 12)
    return IMGREC_DRIVE_SHAPE_DIAMOND;  /* priority road */
  if (class_id == 13)
    return IMGREC_DRIVE_SHAPE_INVERTED_TRIANGLE;        /* yield */
  if (class_id == 14)
    return IMGREC_DRIVE_SHAPE_OCTAGON;  /* stop */
  if (class_id == 11 || (class_id >= 18 && class_id <= 31))
    return IMGREC_DRIVE_SHAPE_TRIANGLE; /* warnings */
  return IMGREC_DRIVE_SHAPE_CIRCLE;     /* prohibitions, mandatory, ends */
}

const gchar *
imgrec_drive_shape_name (ImgRecDriveShape shape)
{
  static const gchar *const names[] = { "circle", "triangle",
    "inverted-triangle", "octagon", "diamond"
  };
  return shape <= IMGREC_DRIVE_SHAPE_DIAMOND ? names[shape] : "?";
}

const gchar *
imgrec_drive_mount_name (ImgRecDriveMount mount)
{
  static const gchar *const names[] = { "right", "left", "overhead" };
  return mount <= IMGREC_DRIVE_MOUNT_OVERHEAD ? names[mount] : "?";
}

/* ------------------------------------------------------------------------ */
/* counter-based randomness                                                   */

static guint64
mix64 (guint64 z)
{
  z += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static guint64
hash3 (guint64 seed, guint64 salt, guint64 index)
{
  return mix64 (mix64 (mix64 (seed) ^ salt) ^ index);
}

/* uniform in [0, 1) */
static gdouble
hash01 (guint64 seed, guint64 salt, guint64 index)
{
  return (hash3 (seed, salt, index) >> 11) * (1.0 / 9007199254740992.0);
}

/* ------------------------------------------------------------------------ */
/* the scene                                                                  */

typedef struct {
  guint64 id;
  gdouble s;                    /* road position */
  gint class_id;
  ImgRecDriveShape shape;
  ImgRecDriveMount mount;
  gdouble u, y_centre, w, h;    /* lateral, height of the centre, size (m) */
  cairo_surface_t *face;
} Sign;

struct _ImgRecDriveScene {
  ImgRecDriveSettings set;
  ImgRecDriveSegment *segments;
  gdouble period;
  gdouble bend_phase;
  gdouble hill_phase[3];

  GArray *signs;                /* Sign, increasing s */
  guint64 next_id;
  gdouble next_s;
  gdouble dropped_s;            /* largest s of a sign dropped behind */

  guint8 *scratch;              /* blur passes */
  gint8 *noise;                 /* noise texture for noise_sigma */
  gdouble noise_sigma;
  gsize scratch_size;
};

static void
sign_clear (Sign * sign)
{
  if (sign->face)
    cairo_surface_destroy (sign->face);
  sign->face = NULL;
}

static void
reset_signs (ImgRecDriveScene * scene)
{
  guint i;

  for (i = 0; i < scene->signs->len; i++)
    sign_clear (&g_array_index (scene->signs, Sign, i));
  g_array_set_size (scene->signs, 0);
  scene->next_id = 0;
  scene->next_s = FIRST_SIGN_AT;
  scene->dropped_s = -G_MAXDOUBLE;
}

ImgRecDriveScene *
imgrec_drive_scene_new (const ImgRecDriveSettings * s)
{
  ImgRecDriveScene *scene = g_new0 (ImgRecDriveScene, 1);
  guint i;

  scene->set = *s;
  scene->segments = g_memdup2 (s->segments,
      sizeof (ImgRecDriveSegment) * s->n_segments);
  scene->set.segments = scene->segments;
  for (i = 0; i < s->n_segments; i++)
    scene->period += s->segments[i].seconds;
  scene->bend_phase = 2 * G_PI * hash01 (s->seed, SALT_BEND, 0);
  for (i = 0; i < 3; i++)
    scene->hill_phase[i] = 2 * G_PI * hash01 (s->seed, SALT_HILLS, i);
  scene->signs = g_array_new (FALSE, FALSE, sizeof (Sign));
  reset_signs (scene);
  return scene;
}

void
imgrec_drive_scene_free (ImgRecDriveScene * scene)
{
  if (scene == NULL)
    return;
  reset_signs (scene);
  g_array_free (scene->signs, TRUE);
  g_free (scene->segments);
  g_free (scene->scratch);
  g_free (scene->noise);
  g_free (scene);
}

ImgRecDriveKind
imgrec_drive_scene_segment_at (ImgRecDriveScene * scene, gdouble t)
{
  gdouble p;
  guint i;

  if (scene->set.n_segments == 0 || !(scene->period > 0))
    return IMGREC_DRIVE_DAY;
  p = fmod (MAX (t, 0.0), scene->period);
  for (i = 0; i + 1 < scene->set.n_segments; i++) {
    if (p < scene->segments[i].seconds)
      break;
    p -= scene->segments[i].seconds;
  }
  return scene->segments[i].kind;
}

/* ------------------------------------------------------------------------ */
/* signs along the road                                                       */

static void
make_sign (ImgRecDriveScene * scene, guint64 id, gdouble s, Sign * sign)
{
  guint64 seed = scene->set.seed;
  gdouble mount = hash01 (seed, SALT_MOUNT, id);
  gdouble size = 0.9 + 0.2 * hash01 (seed, SALT_SIZE, id);
  gdouble lateral = hash01 (seed, SALT_LATERAL, id);
  gdouble height = hash01 (seed, SALT_HEIGHT, id);

  memset (sign, 0, sizeof (*sign));
  sign->id = id;
  sign->s = s;
  sign->class_id = (gint) (hash01 (seed, SALT_CLASS, id) * 43);
  sign->shape = imgrec_drive_class_shape (sign->class_id);
  if (mount < 0.65) {
    sign->mount = IMGREC_DRIVE_MOUNT_RIGHT;
    sign->u = ROAD_HALF + 1.5 + 0.9 * lateral;
  } else if (mount < 0.85) {
    sign->mount = IMGREC_DRIVE_MOUNT_LEFT;
    sign->u = -(ROAD_HALF + 1.5 + 0.8 * lateral);
  } else {
    sign->mount = IMGREC_DRIVE_MOUNT_OVERHEAD;
    sign->u = -3.0 + 6.0 * lateral;
  }
  sign->w = (sign->mount == IMGREC_DRIVE_MOUNT_OVERHEAD ? 1.15 : 0.75) * size;
  sign->h = sign->w;
  if (sign->shape == IMGREC_DRIVE_SHAPE_TRIANGLE
      || sign->shape == IMGREC_DRIVE_SHAPE_INVERTED_TRIANGLE)
    sign->h = 0.9 * sign->w;
  sign->y_centre = sign->mount == IMGREC_DRIVE_MOUNT_OVERHEAD ?
      5.15 - sign->h / 2 : 1.9 + 0.5 * height;
}

/* Keeps the signs from just behind the camera (s_car) to Z_OBJECT_FAR. */
static void
update_signs (ImgRecDriveScene * scene, gdouble s_car)
{
  guint drop = 0;

  /* back in time past a dropped sign (a seek): start the road again */
  if (scene->dropped_s >= s_car - 1.0)
    reset_signs (scene);
  while (drop < scene->signs->len
      && g_array_index (scene->signs, Sign, drop).s < s_car - 1.0) {
    Sign *sign = &g_array_index (scene->signs, Sign, drop);
    scene->dropped_s = MAX (scene->dropped_s, sign->s);
    sign_clear (sign);
    drop++;
  }
  if (drop > 0)
    g_array_remove_range (scene->signs, 0, drop);
  while (scene->next_s < s_car + Z_OBJECT_FAR) {
    Sign sign;
    gdouble spacing = MAX (scene->set.sign_spacing, 1.0);

    make_sign (scene, scene->next_id, scene->next_s, &sign);
    if (sign.s >= s_car - 1.0)
      g_array_append_val (scene->signs, sign);
    else
      scene->dropped_s = MAX (scene->dropped_s, sign.s);
    scene->next_id++;
    scene->next_s += spacing * (0.5 + hash01 (scene->set.seed, SALT_GAP,
            scene->next_id));
  }
}

/* ------------------------------------------------------------------------ */
/* camera and light                                                           */

typedef struct {
  gint width, height;
  gdouble f, cx, horizon;
  gdouble s;                    /* the car's road position */
  gdouble heading;              /* the car's heading from the bends, rad */
  gdouble bend_phase;
} Camera;

static gdouble
curvature (const Camera * cam, gdouble s)
{
  return BEND_AMPLITUDE * sin (2 * G_PI * s / BEND_PERIOD + cam->bend_phase);
}

/* lateral shift of the road centre Z metres ahead, from the bend there */
static gdouble
bend (const Camera * cam, gdouble z)
{
  return 0.5 * curvature (cam, cam->s + 0.5 * z) * z * z;
}

static void
project (const Camera * cam, gdouble z, gdouble u, gdouble y, gdouble * px,
    gdouble * py)
{
  *px = cam->cx + cam->f * (u - CAMERA_U + bend (cam, z)) / z;
  *py = cam->horizon + cam->f * (CAMERA_HEIGHT - y) / z;
}

typedef struct {
  gdouble sky_top[3], sky_horizon[3], haze[3];
  gdouble ambient;              /* light on everything */
  gdouble headlight;            /* added near the car, falls with distance */
  gdouble fog_distance;         /* metres for 63 % haze */
  gdouble noise_sigma;          /* sensor noise, grey levels */
  gboolean rain;
  gdouble blur_h, blur_v;       /* box radii as fractions of the width */
  guint blur_passes;
} Look;

static void
look_for (ImgRecDriveKind kind, Look * look)
{
  static const Look day = {
    {0.30, 0.52, 0.84}, {0.74, 0.83, 0.93}, {0.76, 0.82, 0.89},
    1.0, 0.0, 900.0, 1.5, FALSE, 0, 0, 0
  };
  static const Look night = {
    {0.005, 0.007, 0.02}, {0.03, 0.035, 0.07}, {0.02, 0.022, 0.035},
    0.07, 0.75, 500.0, 5.0, FALSE, 0, 0, 0
  };
  static const Look rain = {
    {0.42, 0.45, 0.49}, {0.60, 0.62, 0.65}, {0.58, 0.60, 0.62},
    0.68, 0.0, 150.0, 6.0, TRUE, 0, 0, 0
  };

  switch (kind) {
    case IMGREC_DRIVE_NIGHT:
      *look = night;
      break;
    case IMGREC_DRIVE_RAIN:
      *look = rain;
      break;
    default:
      *look = day;
      break;
  }
  if (kind == IMGREC_DRIVE_NOISE)
    look->noise_sigma = 16.0;
  if (kind == IMGREC_DRIVE_MOTION_BLUR) {
    look->blur_h = 1.0 / 100;
    look->blur_v = 1.0 / 600;
    look->blur_passes = 1;
  }
  if (kind == IMGREC_DRIVE_DEFOCUS) {
    look->blur_h = look->blur_v = 1.0 / 70;
    look->blur_passes = 2;
  }
}

/* A colour seen @z metres away: lit (ambient + headlights) and hazed. */
static void
shade (const Look * look, const gdouble rgb[3], gdouble z, gdouble reflect,
    gdouble out[3])
{
  gdouble light = look->ambient + look->headlight * reflect *
      exp (-z / (reflect > 1 ? 70.0 : 20.0));
  gdouble fog = 1.0 - exp (-z / look->fog_distance);
  gint c;

  light = MIN (light, 1.15);
  for (c = 0; c < 3; c++)
    out[c] = CLAMP (rgb[c] * light * (1 - fog) + look->haze[c] * fog, 0, 1);
}

static void
set_shaded (cairo_t * cr, const Look * look, const gdouble rgb[3], gdouble z)
{
  gdouble c[3];
  shade (look, rgb, z, 1.0, c);
  cairo_set_source_rgb (cr, c[0], c[1], c[2]);
}

/* A vertical gradient over the ground: the colour at each row is the colour
 * at the distance that row shows. */
static cairo_pattern_t *
ground_pattern (const Camera * cam, const Look * look, const gdouble rgb[3])
{
  static const gdouble zs[] = { 600, 300, 150, 80, 40, 20, 10, 5, 2.5, 1.2 };
  cairo_pattern_t *p = cairo_pattern_create_linear (0, cam->horizon, 0,
      cam->height);
  gdouble span = cam->height - cam->horizon;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (zs); i++) {
    gdouble c[3], off = cam->f * CAMERA_HEIGHT / zs[i] / span;
    shade (look, rgb, zs[i], 1.0, c);
    cairo_pattern_add_color_stop_rgb (p, MIN (off, 1.0), c[0], c[1], c[2]);
    if (off >= 1.0)
      break;
  }
  return p;
}

/* ------------------------------------------------------------------------ */
/* drawing                                                                    */

static const gdouble asphalt[3] = { 0.30, 0.30, 0.31 };
static const gdouble gravel[3] = { 0.46, 0.43, 0.38 };
static const gdouble grass[3] = { 0.27, 0.42, 0.17 };
static const gdouble grass_band[3] = { 0.33, 0.48, 0.21 };
static const gdouble paint[3] = { 0.93, 0.93, 0.90 };
static const gdouble hills[3] = { 0.22, 0.30, 0.24 };
static const gdouble trunk[3] = { 0.28, 0.21, 0.15 };
static const gdouble metal[3] = { 0.58, 0.59, 0.61 };
static const gdouble dark_metal[3] = { 0.36, 0.37, 0.40 };

/* The ground strip between laterals u0 and u1 from z0 to z1 ahead. */
static void
ground_strip (cairo_t * cr, const Camera * cam, gdouble u0, gdouble u1,
    gdouble z0, gdouble z1)
{
  gint steps = (gint) CLAMP (log (z1 / z0) * 9, 1, 64), i;
  gdouble x, y;

  for (i = 0; i <= steps; i++) {
    gdouble z = z0 * pow (z1 / z0, (gdouble) i / steps);
    project (cam, z, u0, 0, &x, &y);
    if (i == 0)
      cairo_move_to (cr, x, y);
    else
      cairo_line_to (cr, x, y);
  }
  for (i = steps; i >= 0; i--) {
    gdouble z = z0 * pow (z1 / z0, (gdouble) i / steps);
    project (cam, z, u1, 0, &x, &y);
    cairo_line_to (cr, x, y);
  }
  cairo_close_path (cr);
}

static void
draw_sky_and_ground (cairo_t * cr, const Camera * cam, const Look * look,
    ImgRecDriveScene * scene)
{
  cairo_pattern_t *p;
  gdouble x, c[3];
  gint step = MAX (cam->width / 160, 2);
  gdouble s0, s;

  /* sky */
  p = cairo_pattern_create_linear (0, 0, 0, cam->horizon);
  cairo_pattern_add_color_stop_rgb (p, 0, look->sky_top[0], look->sky_top[1],
      look->sky_top[2]);
  cairo_pattern_add_color_stop_rgb (p, 1, look->sky_horizon[0],
      look->sky_horizon[1], look->sky_horizon[2]);
  cairo_set_source (cr, p);
  cairo_rectangle (cr, 0, 0, cam->width, cam->horizon + 1);
  cairo_fill (cr);
  cairo_pattern_destroy (p);

  /* far hills and tree line: fixed in azimuth, so they pan in the bends */
  cairo_move_to (cr, 0, cam->horizon + 1);
  for (x = 0; x <= cam->width + step; x += step) {
    gdouble a = (x - cam->cx) / cam->f + cam->heading;
    gdouble h = 0.030 + 0.018 * sin (a * 3 + scene->hill_phase[0])
        + 0.010 * sin (a * 11 + scene->hill_phase[1])
        + 0.005 * sin (a * 37 + scene->hill_phase[2]);
    cairo_line_to (cr, x, cam->horizon - h * cam->height);
  }
  cairo_line_to (cr, cam->width + step, cam->horizon + 1);
  cairo_close_path (cr);
  shade (look, hills, 700, 1.0, c);
  cairo_set_source_rgb (cr, c[0], c[1], c[2]);
  cairo_fill (cr);

  /* grass everywhere below the horizon */
  p = ground_pattern (cam, look, grass);
  cairo_set_source (cr, p);
  cairo_rectangle (cr, 0, cam->horizon, cam->width, cam->height);
  cairo_fill (cr);
  cairo_pattern_destroy (p);

  /* mown bands across the verges: they flow toward the camera */
  p = ground_pattern (cam, look, grass_band);
  cairo_set_source (cr, p);
  s0 = floor ((cam->s + Z_NEAR) / BAND_PERIOD) * BAND_PERIOD;
  for (s = s0; s < cam->s + 200; s += BAND_PERIOD) {
    gdouble z0 = MAX (s - cam->s, Z_NEAR), z1 = s + BAND_PERIOD / 2 - cam->s;
    if (z1 <= z0)
      continue;
    ground_strip (cr, cam, ROAD_HALF + SHOULDER, 60, z0, z1);
    ground_strip (cr, cam, -60, -ROAD_HALF - SHOULDER, z0, z1);
  }
  cairo_fill (cr);
  cairo_pattern_destroy (p);

  /* shoulders, road */
  p = ground_pattern (cam, look, gravel);
  cairo_set_source (cr, p);
  ground_strip (cr, cam, ROAD_HALF - 0.01, ROAD_HALF + SHOULDER, Z_NEAR,
      Z_ROAD_FAR);
  ground_strip (cr, cam, -ROAD_HALF - SHOULDER, -ROAD_HALF + 0.01, Z_NEAR,
      Z_ROAD_FAR);
  cairo_fill (cr);
  cairo_pattern_destroy (p);
  p = ground_pattern (cam, look, asphalt);
  cairo_set_source (cr, p);
  ground_strip (cr, cam, -ROAD_HALF, ROAD_HALF, Z_NEAR, Z_ROAD_FAR);
  cairo_fill (cr);
  cairo_pattern_destroy (p);

  /* edge lines and the dashed centre line */
  p = ground_pattern (cam, look, paint);
  cairo_set_source (cr, p);
  ground_strip (cr, cam, ROAD_HALF - 0.30, ROAD_HALF - 0.15, Z_NEAR, 300);
  ground_strip (cr, cam, -ROAD_HALF + 0.15, -ROAD_HALF + 0.30, Z_NEAR, 300);
  s0 = floor ((cam->s + Z_NEAR - DASH_LENGTH) / DASH_PERIOD) * DASH_PERIOD;
  for (s = s0; s < cam->s + 250; s += DASH_PERIOD) {
    gdouble z0 = MAX (s - cam->s, Z_NEAR), z1 = s + DASH_LENGTH - cam->s;
    if (z1 > z0)
      ground_strip (cr, cam, -0.07, 0.07, z0, z1);
  }
  cairo_fill (cr);
  cairo_pattern_destroy (p);
}

/* something standing by the road, drawn far to near */
typedef enum { OBJ_TREE, OBJ_POST, OBJ_SIGN, OBJ_GANTRY } ObjKind;

typedef struct {
  gdouble z;
  ObjKind kind;
  guint64 index;                /* tree/post number, or sign array index */
  gdouble u;
} Obj;

static gint
obj_far_first (gconstpointer a, gconstpointer b)
{
  gdouble za = ((const Obj *) a)->z, zb = ((const Obj *) b)->z;
  return za > zb ? -1 : za < zb ? 1 : 0;
}

/* an upright box from height y0 to y1, w metres wide */
static void
upright (cairo_t * cr, const Camera * cam, gdouble z, gdouble u, gdouble w,
    gdouble y0, gdouble y1)
{
  gdouble xa, ya, xb, yb, half = MAX (cam->f * w / z / 2, 0.5);
  project (cam, z, u, y0, &xa, &ya);
  project (cam, z, u, y1, &xb, &yb);
  cairo_rectangle (cr, xa - half, yb, 2 * half, ya - yb);
}

static void
draw_tree (cairo_t * cr, const Camera * cam, const Look * look,
    ImgRecDriveScene * scene, const Obj * o)
{
  guint64 seed = scene->set.seed;
  gdouble height = 5 + 5 * hash01 (seed, SALT_TREE, o->index * 4 + 1);
  gdouble radius = 1.6 + 1.6 * hash01 (seed, SALT_TREE, o->index * 4 + 2);
  gdouble tint = hash01 (seed, SALT_TREE, o->index * 4 + 3);
  gdouble leaf[3] = { 0.12 + 0.08 * tint, 0.27 + 0.10 * tint, 0.11 };
  gdouble x, y;

  set_shaded (cr, look, trunk, o->z);
  upright (cr, cam, o->z, o->u, 0.35, 0, height * 0.6);
  cairo_fill (cr);
  project (cam, o->z, o->u, height - radius, &x, &y);
  set_shaded (cr, look, leaf, o->z);
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, cam->f * radius / o->z, cam->f * radius * 1.25 / o->z);
  cairo_arc (cr, 0, 0, 1, 0, 2 * G_PI);
  cairo_restore (cr);
  cairo_fill (cr);
}

static void
draw_post (cairo_t * cr, const Camera * cam, const Look * look, const Obj * o)
{
  static const gdouble white[3] = { 0.92, 0.92, 0.92 };
  static const gdouble black[3] = { 0.08, 0.08, 0.08 };
  gdouble c[3];

  set_shaded (cr, look, white, o->z);
  upright (cr, cam, o->z, o->u, 0.12, 0, 1.0);
  cairo_fill (cr);
  set_shaded (cr, look, black, o->z);
  upright (cr, cam, o->z, o->u, 0.12, 0.72, 0.86);
  cairo_fill (cr);
  /* the reflector lights up in the headlights */
  shade (look, (const gdouble[3]) {
      0.95, 0.55, 0.1}, o->z, 2.0, c);
  cairo_set_source_rgb (cr, c[0], c[1], c[2]);
  upright (cr, cam, o->z, o->u, 0.06, 0.76, 0.82);
  cairo_fill (cr);
}

static void
draw_gantry (cairo_t * cr, const Camera * cam, const Look * look,
    const Obj * o)
{
  gdouble xa, ya, xb, yb, t = MAX (cam->f * 0.25 / o->z, 1.0);

  set_shaded (cr, look, dark_metal, o->z);
  upright (cr, cam, o->z, ROAD_HALF + 1.3, 0.25, 0, 5.6);
  upright (cr, cam, o->z, -ROAD_HALF - 1.3, 0.25, 0, 5.6);
  project (cam, o->z, -ROAD_HALF - 1.3, 5.55, &xa, &ya);
  project (cam, o->z, ROAD_HALF + 1.3, 5.55, &xb, &yb);
  cairo_rectangle (cr, xa, ya, xb - xa, t);
  cairo_fill (cr);
}

static void
shape_path (cairo_t * cr, ImgRecDriveShape shape, gdouble x0, gdouble y0,
    gdouble w, gdouble h)
{
  gdouble cx = x0 + w / 2, cy = y0 + h / 2;
  gint i;

  switch (shape) {
    case IMGREC_DRIVE_SHAPE_TRIANGLE:
      cairo_move_to (cr, cx, y0);
      cairo_line_to (cr, x0 + w, y0 + h);
      cairo_line_to (cr, x0, y0 + h);
      break;
    case IMGREC_DRIVE_SHAPE_INVERTED_TRIANGLE:
      cairo_move_to (cr, x0, y0);
      cairo_line_to (cr, x0 + w, y0);
      cairo_line_to (cr, cx, y0 + h);
      break;
    case IMGREC_DRIVE_SHAPE_OCTAGON:
      /* flat sides touching the box */
      for (i = 0; i < 8; i++) {
        gdouble a = G_PI / 8 + i * G_PI / 4, k = 1.0 / cos (G_PI / 8);
        gdouble px = cx + cos (a) * w / 2 * k, py = cy + sin (a) * h / 2 * k;
        if (i == 0)
          cairo_move_to (cr, px, py);
        else
          cairo_line_to (cr, px, py);
      }
      break;
    case IMGREC_DRIVE_SHAPE_DIAMOND:
      cairo_move_to (cr, cx, y0);
      cairo_line_to (cr, x0 + w, cy);
      cairo_line_to (cr, cx, y0 + h);
      cairo_line_to (cr, x0, cy);
      break;
    default:
      cairo_save (cr);
      cairo_translate (cr, cx, cy);
      cairo_scale (cr, w / 2, h / 2);
      cairo_arc (cr, 0, 0, 1, 0, 2 * G_PI);
      cairo_restore (cr);
      break;
  }
  cairo_close_path (cr);
}

/* The sign's box in frame pixels (unclipped). */
static void
sign_box (const Camera * cam, const Sign * sign, gdouble z, gdouble * x0,
    gdouble * y0, gdouble * w, gdouble * h)
{
  gdouble x, y;
  project (cam, z, sign->u, sign->y_centre, &x, &y);
  *w = cam->f * sign->w / z;
  *h = cam->f * sign->h / z;
  *x0 = x - *w / 2;
  *y0 = y - *h / 2;
}

static gboolean
draw_sign (cairo_t * cr, const Camera * cam, const Look * look,
    ImgRecDriveScene * scene, Sign * sign, gdouble z, GArray * out)
{
  gdouble x0, y0, w, h, scale_x, scale_y, light, fog;
  ImgRecDriveSign gt;
  gint face_size;

  sign_box (cam, sign, z, &x0, &y0, &w, &h);
  if (w < MIN_SIGN_PX || x0 >= cam->width || y0 >= cam->height
      || x0 + w <= 0 || y0 + h <= 0)
    return TRUE;
  if (sign->face == NULL) {
    sign->face = scene->set.face_func (sign->id, sign->class_id,
        scene->set.face_data);
    if (sign->face == NULL)
      return FALSE;
  }

  /* pole, then the back plate's edge, then the face */
  if (sign->mount != IMGREC_DRIVE_MOUNT_OVERHEAD) {
    set_shaded (cr, look, metal, z + 0.05);
    upright (cr, cam, z + 0.05, sign->u, 0.07, 0,
        sign->y_centre - sign->h / 2 + 0.05);
    cairo_fill (cr);
  } else {
    set_shaded (cr, look, metal, z + 0.05);
    upright (cr, cam, z + 0.05, sign->u - sign->w / 4, 0.05,
        sign->y_centre, 5.55);
    upright (cr, cam, z + 0.05, sign->u + sign->w / 4, 0.05,
        sign->y_centre, 5.55);
    cairo_fill (cr);
  }

  face_size = cairo_image_surface_get_width (sign->face);
  scale_x = w / (IMGREC_DRIVE_FACE_FILL * face_size);
  scale_y = h / (IMGREC_DRIVE_FACE_FILL * face_size);
  cairo_save (cr);
  shape_path (cr, sign->shape, x0, y0, w, h);
  cairo_clip (cr);
  cairo_save (cr);
  cairo_translate (cr, x0, y0);
  cairo_scale (cr, scale_x, scale_y);
  cairo_translate (cr, -(1 - IMGREC_DRIVE_FACE_FILL) / 2 * face_size,
      -(1 - IMGREC_DRIVE_FACE_FILL) / 2 * face_size);
  cairo_set_source_surface (cr, sign->face, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), scale_x < 1 ?
      CAIRO_FILTER_GOOD : CAIRO_FILTER_BILINEAR);
  cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
  cairo_paint (cr);
  cairo_restore (cr);
  /* light (signs are retroreflective: bright in the headlights) and haze */
  light = MIN (look->ambient + look->headlight * 2.0 * exp (-z / 70.0), 1.0);
  fog = 1.0 - exp (-z / look->fog_distance);
  if (light < 0.999) {
    cairo_set_source_rgba (cr, 0, 0, 0, 1.0 - light);
    cairo_paint (cr);
  }
  if (fog > 0.004) {
    cairo_set_source_rgba (cr, look->haze[0], look->haze[1], look->haze[2],
        fog);
    cairo_paint (cr);
  }
  cairo_restore (cr);

  /* ground truth: the visible part of the sign's box */
  gt.track_id = sign->id;
  gt.class_id = sign->class_id;
  gt.shape = sign->shape;
  gt.mount = sign->mount;
  gt.distance = z;
  gt.x_min = MAX (x0, 0);
  gt.y_min = MAX (y0, 0);
  gt.x_max = MIN (x0 + w, cam->width);
  gt.y_max = MIN (y0 + h, cam->height);
  gt.truncated = gt.x_min > x0 || gt.y_min > y0 || gt.x_max < x0 + w
      || gt.y_max < y0 + h;
  g_array_append_val (out, gt);
  return TRUE;
}

static void
draw_hood (cairo_t * cr, const Camera * cam, const Look * look)
{
  gdouble w = cam->width, h = cam->height, top = h * 0.93;
  cairo_pattern_t *p;
  gdouble k = look->ambient > 0.5 ? 1.0 : 0.4;

  cairo_move_to (cr, -1, h + 1);
  cairo_line_to (cr, -1, top + h * 0.03);
  cairo_curve_to (cr, w * 0.25, top, w * 0.75, top, w + 1, top + h * 0.03);
  cairo_line_to (cr, w + 1, h + 1);
  cairo_close_path (cr);
  p = cairo_pattern_create_linear (0, top, 0, h);
  cairo_pattern_add_color_stop_rgb (p, 0, 0.16 * k, 0.17 * k, 0.19 * k);
  cairo_pattern_add_color_stop_rgb (p, 1, 0.05 * k, 0.05 * k, 0.06 * k);
  cairo_set_source (cr, p);
  cairo_fill (cr);
  cairo_pattern_destroy (p);
}

static void
draw_rain (cairo_t * cr, const Camera * cam, guint64 seed, guint64 frame)
{
  guint n = (guint) (260.0 * cam->width * cam->height / (1280.0 * 720.0));
  guint i;

  cairo_set_source_rgba (cr, 0.85, 0.87, 0.90, 0.28);
  cairo_set_line_width (cr, MAX (cam->width / 900.0, 1.0));
  for (i = 0; i < n; i++) {
    guint64 k = frame * 4096 + i;
    gdouble x = hash01 (seed, SALT_RAIN, 3 * k) * cam->width * 1.1;
    gdouble y = hash01 (seed, SALT_RAIN, 3 * k + 1) * cam->height;
    gdouble len = (0.02 + 0.04 * hash01 (seed, SALT_RAIN, 3 * k + 2))
        * cam->height;
    cairo_move_to (cr, x, y);
    cairo_line_to (cr, x - 0.22 * len, y + len);
  }
  cairo_stroke (cr);
}

/* ------------------------------------------------------------------------ */
/* pixel effects on the BGRx frame                                            */

#define NOISE_TEXTURE (1 << 20)

/* Sensor noise: each row adds a window, at a random offset, of a texture of
 * gaussian-like values (the sum of two uniforms), so a frame costs one
 * saturating add per byte; the texture is made once per sigma. */
static void
add_noise (ImgRecDriveScene * scene, guint8 * data, gint width, gint height,
    gint stride, gdouble sigma, guint64 frame)
{
  gsize row_bytes = (gsize) width * 4, x;
  gint y;

  if (row_bytes >= NOISE_TEXTURE / 2)
    return;
  if (scene->noise == NULL || scene->noise_sigma != sigma) {
    guint64 state = hash3 (scene->set.seed, SALT_NOISE, 0) | 1;
    gdouble k = sigma / 104.4;          /* sd of the sum of two bytes */
    if (scene->noise == NULL)
      scene->noise = g_malloc (NOISE_TEXTURE);
    for (x = 0; x < NOISE_TEXTURE; x++) {
      gdouble v;
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      v = ((gdouble) (state & 0xff) + (gdouble) ((state >> 8) & 0xff) - 255)
          * k;
      scene->noise[x] = (gint8) CLAMP (lrint (v), -127, 127);
    }
    scene->noise_sigma = sigma;
  }
  for (y = 0; y < height; y++) {
    guint8 *p = data + (gsize) y * stride;
    const gint8 *n = scene->noise + (hash3 (scene->set.seed, SALT_NOISE,
            (frame << 20) + (guint64) y + 1) % (NOISE_TEXTURE - row_bytes));
    for (x = 0; x < row_bytes; x++) {
      gint v = p[x] + n[x];
      p[x] = (guint8) (v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
}

/* One box pass along a row of 4-byte pixels (radius r, edges repeated). */
static void
box_row (const guint8 * src, guint8 * dst, gint n, gint r, guint32 inv)
{
  guint32 sum[4];
  gint i, c;

  for (c = 0; c < 4; c++) {
    sum[c] = (guint32) src[c] * (r + 1);
    for (i = 1; i <= r; i++)
      sum[c] += src[(gsize) MIN (i, n - 1) * 4 + c];
  }
  for (i = 0; i < n; i++) {
    const guint8 *in = src + (gsize) MIN (i + r + 1, n - 1) * 4;
    const guint8 *drop = src + (gsize) MAX (i - r, 0) * 4;
    for (c = 0; c < 4; c++) {
      dst[(gsize) i * 4 + c] = (guint8) (((guint64) sum[c] * inv) >> 32);
      sum[c] += in[c];
      sum[c] -= drop[c];
    }
  }
}

/* Separable box blur, radius rh along rows and rv along columns; the
 * column pass runs row by row on a row of sums (cache-friendly, and the
 * inner loops vectorise). */
static void
box_blur (ImgRecDriveScene * scene, guint8 * data, gint width, gint height,
    gint stride, gint rh, gint rv)
{
  gsize row_bytes = (gsize) width * 4, need, x;
  guint32 *sum, inv;
  guint8 *line;
  gint y;

  need = row_bytes * (sizeof (guint32) + 1) + 16;
  if (scene->scratch_size < need) {
    g_free (scene->scratch);
    scene->scratch = g_malloc (need);
    scene->scratch_size = need;
  }
  sum = (guint32 *) scene->scratch;
  line = scene->scratch + row_bytes * sizeof (guint32);
  if (rh > 0) {
    inv = (guint32) (((guint64) 1 << 32) / (2 * rh + 1) + 1);
    for (y = 0; y < height; y++) {
      guint8 *row = data + (gsize) y * stride;
      memcpy (line, row, row_bytes);
      box_row (line, row, width, rh, inv);
    }
  }
  if (rv > 0 && height > 1) {
    /* rows y - rv .. y + rv of the input are needed while row y is
     * written: keep the input rows in a ring */
    gint ring_n = 2 * rv + 2, k;
    guint8 *ring;
    gsize ring_need = need + row_bytes * ring_n;

    if (scene->scratch_size < ring_need) {
      g_free (scene->scratch);
      scene->scratch = g_malloc (ring_need);
      scene->scratch_size = ring_need;
      sum = (guint32 *) scene->scratch;
    }
    ring = scene->scratch + need;
    inv = (guint32) (((guint64) 1 << 32) / (2 * rv + 1) + 1);
    for (x = 0; x < row_bytes; x++)
      sum[x] = (guint32) data[x] * (rv + 1);
    for (k = 1; k <= rv; k++) {
      const guint8 *row = data + (gsize) MIN (k, height - 1) * stride;
      for (x = 0; x < row_bytes; x++)
        sum[x] += row[x];
    }
    /* ring slot of input row j: j mod ring_n, for j = 0 .. rv + 1 */
    for (k = 0; k <= MIN (rv + 1, height - 1); k++)
      memcpy (ring + (gsize) (k % ring_n) * row_bytes,
          data + (gsize) k * stride, row_bytes);
    for (y = 0; y < height; y++) {
      gint in_row = MIN (y + rv + 1, height - 1), out_row = MAX (y - rv, 0);
      const guint8 *in, *drop;
      guint8 *dst = data + (gsize) y * stride;

      /* input row y + rv + 1 is still intact in data (not yet written) */
      if (y + rv + 1 <= height - 1)
        memcpy (ring + (gsize) ((y + rv + 1) % ring_n) * row_bytes,
            data + (gsize) (y + rv + 1) * stride, row_bytes);
      in = ring + (gsize) (in_row % ring_n) * row_bytes;
      drop = ring + (gsize) (out_row % ring_n) * row_bytes;
      for (x = 0; x < row_bytes; x++) {
        dst[x] = (guint8) (((guint64) sum[x] * inv) >> 32);
        sum[x] += in[x];
        sum[x] -= drop[x];
      }
    }
  }
}

/* ------------------------------------------------------------------------ */

static void
draw_covered (cairo_t * cr, gint width, gint height)
{
  /* a hand or a cap over the lens: dark, a faint glow leaking in */
  cairo_pattern_t *p = cairo_pattern_create_linear (0, 0, 0, height);
  cairo_pattern_add_color_stop_rgb (p, 0, 0.105, 0.078, 0.064);
  cairo_pattern_add_color_stop_rgb (p, 1, 0.080, 0.060, 0.048);
  cairo_set_source (cr, p);
  cairo_paint (cr);
  cairo_pattern_destroy (p);
}

gboolean
imgrec_drive_scene_render (ImgRecDriveScene * scene, gdouble t,
    guint64 frame_index, guint8 * data, gint width, gint height, gint stride,
    GArray * signs)
{
  ImgRecDriveKind kind = imgrec_drive_scene_segment_at (scene, t);
  cairo_surface_t *surface;
  cairo_t *cr;
  Camera cam;
  Look look;
  GArray *objs;
  gdouble s0, s, speed = scene->set.speed_kmh / 3.6;
  gboolean ok = TRUE;
  guint i;

  g_array_set_size (signs, 0);
  look_for (kind, &look);
  cam.width = width;
  cam.height = height;
  cam.f = FOCAL_PER_WIDTH * width;
  cam.cx = width / 2.0;
  cam.horizon = HORIZON_PER_HEIGHT * height;
  cam.s = speed * t;
  cam.bend_phase = scene->bend_phase;
  /* heading = integral of the curvature */
  cam.heading = -BEND_AMPLITUDE * BEND_PERIOD / (2 * G_PI) *
      (cos (2 * G_PI * cam.s / BEND_PERIOD + cam.bend_phase)
      - cos (cam.bend_phase));

  surface = cairo_image_surface_create_for_data (data, CAIRO_FORMAT_RGB24,
      width, height, stride);
  cr = cairo_create (surface);

  if (kind == IMGREC_DRIVE_COVERED) {
    /* the signs are still there (and keep their ids) but nothing shows */
    update_signs (scene, cam.s);
    draw_covered (cr, width, height);
    cairo_destroy (cr);
    cairo_surface_flush (surface);
    cairo_surface_destroy (surface);
    add_noise (scene, data, width, height, stride, 1.2, frame_index);
    return TRUE;
  }

  draw_sky_and_ground (cr, &cam, &look, scene);

  /* objects by the road, far to near */
  update_signs (scene, cam.s);
  objs = g_array_new (FALSE, FALSE, sizeof (Obj));
  s0 = ceil ((cam.s + Z_NEAR) / TREE_PERIOD);
  for (s = s0; s * TREE_PERIOD < cam.s + 200; s += 1) {
    guint64 j = (guint64) s;
    gdouble side = hash01 (scene->set.seed, SALT_TREE, j * 4);
    gdouble off = TREE_PERIOD * (hash01 (scene->set.seed, SALT_TREE,
            j * 4 + 3) - 0.5);
    Obj o;
    o.kind = OBJ_TREE;
    o.index = j;
    o.z = j * TREE_PERIOD + off - cam.s;
    o.u = (side < 0.5 ? -1 : 1) * (ROAD_HALF + 5.0 + 24.0 * fmod (side * 2,
            1.0));
    if (o.z > Z_NEAR + 1)
      g_array_append_val (objs, o);
  }
  s0 = ceil ((cam.s + Z_NEAR) / POST_PERIOD);
  for (s = s0; s * POST_PERIOD < cam.s + 250; s += 1) {
    Obj o;
    o.kind = OBJ_POST;
    o.index = (guint64) s;
    o.z = s * POST_PERIOD - cam.s;
    o.u = ROAD_HALF + 0.8;
    g_array_append_val (objs, o);
    o.u = -ROAD_HALF - 0.8;
    g_array_append_val (objs, o);
  }
  for (i = 0; i < scene->signs->len; i++) {
    const Sign *sign = &g_array_index (scene->signs, Sign, i);
    Obj o;
    o.kind = OBJ_SIGN;
    o.index = i;
    o.z = sign->s - cam.s;
    o.u = sign->u;
    if (o.z < Z_NEAR)
      continue;
    g_array_append_val (objs, o);
    if (sign->mount == IMGREC_DRIVE_MOUNT_OVERHEAD) {
      o.kind = OBJ_GANTRY;
      o.z += 0.1;
      g_array_append_val (objs, o);
    }
  }
  g_array_sort (objs, obj_far_first);
  for (i = 0; i < objs->len && ok; i++) {
    const Obj *o = &g_array_index (objs, Obj, i);
    switch (o->kind) {
      case OBJ_TREE:
        draw_tree (cr, &cam, &look, scene, o);
        break;
      case OBJ_POST:
        draw_post (cr, &cam, &look, o);
        break;
      case OBJ_GANTRY:
        draw_gantry (cr, &cam, &look, o);
        break;
      case OBJ_SIGN:
        ok = draw_sign (cr, &cam, &look, scene,
            &g_array_index (scene->signs, Sign, o->index), o->z, signs);
        break;
    }
  }
  g_array_free (objs, TRUE);

  draw_hood (cr, &cam, &look);
  if (look.rain)
    draw_rain (cr, &cam, scene->set.seed, frame_index);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  cairo_surface_destroy (surface);

  for (i = 0; i < look.blur_passes; i++)
    box_blur (scene, data, width, height, stride,
        (gint) (look.blur_h * width + 0.5), (gint) (look.blur_v * width + 0.5));
  if (look.noise_sigma > 0)
    add_noise (scene, data, width, height, stride, look.noise_sigma,
        frame_index);
  return ok;
}
