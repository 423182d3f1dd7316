/* Unit tests of the assignment solver and the tracker: synthetic scenes
 * (crossing, occlusion, appearing and leaving objects, weak detections,
 * clutter) scored with the CLEAR-MOT counts — identity switches and
 * fragmentations of each ground-truth object — and the rules on ids. */
#include "check.h"
#include "imgrec_assign.h"
#include "imgrec_tracker.h"

#include <stdint.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* assignment against brute force                                             */

static double best_total;

static void
permute (const double *cost, int rows, int cols, int r, char *used, double acc)
{
  int c;

  if (r == rows || (rows > cols && r == rows)) {
    if (acc < best_total)
      best_total = acc;
    return;
  }
  /* rows > cols: a row may stay out */
  if (rows > cols) {
    int assigned = 0;
    for (c = 0; c < cols; c++)
      assigned += used[c];
    if (rows - r > cols - assigned)
      permute (cost, rows, cols, r + 1, used, acc);
  }
  for (c = 0; c < cols; c++) {
    if (used[c])
      continue;
    used[c] = 1;
    permute (cost, rows, cols, r + 1, used, acc + cost[r * cols + c]);
    used[c] = 0;
  }
}

static void
test_assign_matches_brute_force (void)
{
  unsigned seed = 7;
  int trial;

  for (trial = 0; trial < 300; trial++) {
    int rows = 1 + trial % 6, cols = 1 + (trial / 6) % 6, i;
    double cost[36], total = 0;
    int r2c[6];
    char used[6] = { 0 }, seen[6] = { 0 };
    int n_assigned = 0;

    for (i = 0; i < rows * cols; i++) {
      seed = seed * 1103515245u + 12345u;
      cost[i] = (double) ((seed >> 8) % 1000) / 100.0;
    }
    CHECK_INT (imgrec_assign_min_cost (cost, rows, cols, r2c), 0);
    for (i = 0; i < rows; i++) {
      if (r2c[i] < 0)
        continue;
      CHECK (r2c[i] < cols && !seen[r2c[i]]);
      seen[r2c[i]] = 1;
      total += cost[i * cols + r2c[i]];
      n_assigned++;
    }
    CHECK_INT (n_assigned, rows < cols ? rows : cols);
    best_total = 1e300;
    permute (cost, rows, cols, 0, used, 0);
    CHECK_NEAR (total, best_total, 1e-9);
  }
  CHECK_INT (imgrec_assign_min_cost (NULL, 0, 3, NULL), 0);
}

/* ------------------------------------------------------------------------ */
/* scenes                                                                     */

#define MAX_OBJ 320

typedef struct {
  int n;                        /* objects */
  int frames;
  /* per object: a function of the frame gives its box; visible flag */
  int (*object) (int obj, int frame, float *box, float *score, int *cls);
} scene;

typedef struct {
  int id_switches;
  int fragmentations;
  int64_t n_new, n_lost;
  uint64_t first_id[MAX_OBJ];
  int frames_tracked[MAX_OBJ];
  uint64_t max_id;
} scene_result;

static uint64_t
noise_seed = 12345;

static float
jitter (float amount)
{
  noise_seed = noise_seed * 6364136223846793005ull + 1442695040888963407ull;
  return amount * (((float) ((noise_seed >> 33) % 2001) / 1000.0f) - 1.0f);
}

/* Runs a scene; counts, per object, id switches (its confirmed id differs
 * from the last one it had) and fragmentations (it was tracked, then
 * visible but untracked, then tracked again). */
static scene_result
run_scene (const scene *sc, const imgrec_tracker_params *params)
{
  imgrec_tracker *t = imgrec_tracker_new (params);
  scene_result res;
  uint64_t last_id[MAX_OBJ] = { 0 };
  int gap[MAX_OBJ] = { 0 };
  int f, o;

  memset (&res, 0, sizeof (res));
  for (f = 0; f < sc->frames; f++) {
    imgrec_track_input dets[MAX_OBJ];
    int owner[MAX_OBJ], det_track[MAX_OBJ], n = 0, i;
    imgrec_tracker_events ev;

    for (o = 0; o < sc->n; o++) {
      float box[4], score = 0.9f;
      int cls = 0;
      if (!sc->object (o, f, box, &score, &cls))
        continue;
      dets[n].x0 = box[0] + jitter (1.0f);
      dets[n].y0 = box[1] + jitter (1.0f);
      dets[n].x1 = box[2] + jitter (1.0f);
      dets[n].y1 = box[3] + jitter (1.0f);
      dets[n].score = score;
      dets[n].class_id = cls;
      owner[n++] = o;
    }
    CHECK_INT (imgrec_tracker_update (t, dets, n, det_track, &ev), 0);
    res.n_new += ev.n_new;
    res.n_lost += ev.n_lost;
    CHECK (imgrec_tracker_n_tracks (t) <= params->max_tracks);
    for (i = 0; i < n; i++) {
      const imgrec_track *tr = imgrec_tracker_track (t, det_track[i]);
      uint64_t id = (tr && tr->state == IMGREC_TRACK_CONFIRMED) ? tr->id : 0;
      o = owner[i];
      if (id == 0) {
        if (last_id[o])
          gap[o] = 1;
        continue;
      }
      if (id > res.max_id)
        res.max_id = id;
      if (res.first_id[o] == 0)
        res.first_id[o] = id;
      if (last_id[o] && id != last_id[o])
        res.id_switches++;
      else if (gap[o])
        res.fragmentations++;
      gap[o] = 0;
      last_id[o] = id;
      res.frames_tracked[o]++;
    }
  }
  imgrec_tracker_free (t);
  return res;
}

/* two 40x80 pedestrians walking towards each other, 12 px apart vertically,
 * crossing at frame 30 */
static int
crossing (int obj, int f, float *b, float *score, int *cls)
{
  float x = obj == 0 ? 50 + 6.0f * f : 410 - 6.0f * f;
  float y = obj == 0 ? 100 : 112;
  b[0] = x;
  b[1] = y;
  b[2] = x + 40;
  b[3] = y + 80;
  return 1;
}

static void
test_crossing_keeps_ids (void)
{
  scene sc = { 2, 60, crossing };
  imgrec_tracker_params p;
  scene_result r;

  imgrec_tracker_params_default (&p);
  r = run_scene (&sc, &p);
  CHECK_INT (r.id_switches, 0);
  CHECK_INT (r.fragmentations, 0);
  CHECK_INT (r.n_new, 2);
  CHECK (r.first_id[0] != r.first_id[1]);
  /* confirmed after min_hits = 3 frames: tracked from frame 2 on */
  CHECK_INT (r.frames_tracked[0], 58);
  CHECK_INT (r.frames_tracked[1], 58);

  p.method = IMGREC_ASSOC_GREEDY;
  r = run_scene (&sc, &p);
  CHECK_INT (r.id_switches, 0);
}

static int occlusion_frames;

/* a car driving right, hidden behind something for occlusion_frames
 * frames from frame 20 */
static int
occluded (int obj, int f, float *b, float *score, int *cls)
{
  float x = 20 + 8.0f * f;
  b[0] = x;
  b[1] = 200;
  b[2] = x + 60;
  b[3] = 240;
  return !(f >= 20 && f < 20 + occlusion_frames);
}

static void
test_occlusion_within_max_age_keeps_id (void)
{
  scene sc = { 1, 70, occluded };
  imgrec_tracker_params p;
  scene_result r;

  imgrec_tracker_params_default (&p);
  occlusion_frames = 10;
  r = run_scene (&sc, &p);
  CHECK_INT (r.id_switches, 0);
  CHECK_INT (r.fragmentations, 0);
  CHECK_INT (r.n_new, 1);
  CHECK_INT (r.frames_tracked[0], 70 - 10 - 2);
}

static void
test_occlusion_beyond_max_age_gives_new_id (void)
{
  scene sc = { 1, 80, occluded };
  imgrec_tracker_params p;
  scene_result r;

  imgrec_tracker_params_default (&p);
  p.max_age = 5;
  occlusion_frames = 10;
  r = run_scene (&sc, &p);
  /* the track ended; the car comes back under a new, larger id */
  CHECK_INT (r.n_new, 2);
  CHECK_INT (r.n_lost, 1);
  CHECK_INT (r.id_switches, 1);
  CHECK_INT (r.max_id, 2);
}

/* eight objects entering one after another (one every 10 frames), each
 * crossing the view in 30 frames, at separate heights */
static int
appear_leave (int obj, int f, float *b, float *score, int *cls)
{
  int start = obj * 10, k = f - start;
  if (k < 0 || k >= 30)
    return 0;
  b[0] = 10 + 10.0f * k;
  b[1] = 30 + 50.0f * obj;
  b[2] = b[0] + 30;
  b[3] = b[1] + 30;
  *cls = obj % 3;
  return 1;
}

static void
test_appear_and_leave (void)
{
  scene sc = { 8, 140, appear_leave };
  imgrec_tracker_params p;
  scene_result r;
  int o, a;

  imgrec_tracker_params_default (&p);
  p.max_age = 10;
  p.class_consistent = 1;
  r = run_scene (&sc, &p);
  CHECK_INT (r.id_switches, 0);
  CHECK_INT (r.fragmentations, 0);
  CHECK_INT (r.n_new, 8);
  CHECK_INT (r.n_lost, 8);      /* every one left more than 10 frames before the end */
  for (o = 0; o < 8; o++) {
    CHECK_INT (r.frames_tracked[o], 28);
    for (a = 0; a < o; a++)
      CHECK (r.first_id[a] < r.first_id[o]);    /* in order of appearance */
  }
}

/* a pedestrian whose detector confidence drops to 0.3 for 15 frames (in
 * shadow): ByteTrack's second pass keeps the track */
static int
weak (int obj, int f, float *b, float *score, int *cls)
{
  float x = 100 + 3.0f * f;
  b[0] = x;
  b[1] = 50;
  b[2] = x + 30;
  b[3] = 130;
  *score = (f >= 20 && f < 35) ? 0.3f : 0.85f;
  return 1;
}

static void
test_low_confidence_second_pass (void)
{
  scene sc = { 1, 50, weak };
  imgrec_tracker_params p;
  scene_result r;

  imgrec_tracker_params_default (&p);
  r = run_scene (&sc, &p);
  CHECK_INT (r.id_switches, 0);
  CHECK_INT (r.fragmentations, 0);
  CHECK_INT (r.frames_tracked[0], 48);

  /* without the second pass (low threshold = high), the weak frames are
   * missed: the object is untracked while visible, a fragmentation */
  p.low_threshold = p.high_threshold;
  r = run_scene (&sc, &p);
  CHECK_INT (r.frames_tracked[0], 48 - 15);
  CHECK_INT (r.fragmentations, 1);
  CHECK_INT (r.id_switches, 0);
}

/* 300 static objects for a tracker bounded to 64 tracks */
static int
clutter (int obj, int f, float *b, float *score, int *cls)
{
  b[0] = 10.0f * (obj % 30) * 4;
  b[1] = 10.0f * (obj / 30) * 4;
  b[2] = b[0] + 20;
  b[3] = b[1] + 20;
  return 1;
}

static void
test_bounded_tracks (void)
{
  scene sc = { 300, 10, clutter };
  imgrec_tracker_params p;
  scene_result r;

  imgrec_tracker_params_default (&p);
  p.max_tracks = 64;
  r = run_scene (&sc, &p);      /* run_scene checks n_tracks <= 64 */
  CHECK (r.n_new <= 64);
  CHECK_INT (r.id_switches, 0);
}

/* two objects of different classes swapping positions in one frame: with
 * class-consistent matching, each keeps its id */
static int
swap_classes (int obj, int f, float *b, float *score, int *cls)
{
  int left = (obj == 0) == (f < 10);
  b[0] = left ? 100 : 104;
  b[1] = 100;
  b[2] = b[0] + 50;
  b[3] = 150;
  *cls = obj;
  return 1;
}

static void
test_class_consistent (void)
{
  scene sc = { 2, 20, swap_classes };
  imgrec_tracker_params p;
  scene_result r;

  imgrec_tracker_params_default (&p);
  p.class_consistent = 1;
  r = run_scene (&sc, &p);
  CHECK_INT (r.id_switches, 0);
  p.class_consistent = 0;
  r = run_scene (&sc, &p);
  CHECK_INT (r.id_switches, 2); /* without it, position alone decides */
}

static void
test_prediction_and_reset (void)
{
  imgrec_tracker_params p;
  imgrec_tracker *t;
  imgrec_track_input d = { 0, 0, 20, 20, 0.9f, 0 };
  imgrec_tracker_events ev;
  const imgrec_track *tr;
  const uint64_t *ids;
  int f, idx, n_lost = 0;

  imgrec_tracker_params_default (&p);
  p.max_age = 3;
  t = imgrec_tracker_new (&p);
  for (f = 0; f < 12; f++) {
    d.x0 = 10.0f * f;
    d.x1 = d.x0 + 20;
    CHECK_INT (imgrec_tracker_update (t, &d, 1, &idx, &ev), 0);
  }
  tr = imgrec_tracker_track (t, idx);
  CHECK (tr && tr->state == IMGREC_TRACK_CONFIRMED);
  CHECK_INT (tr->id, 1);
  CHECK_INT (tr->hits, 12);
  CHECK_INT (tr->first_frame, 1);
  /* the box keeps moving at 10 px a frame without detections */
  CHECK_INT (imgrec_tracker_predict (t, &ev), 0);
  tr = imgrec_tracker_track (t, 0);
  CHECK_NEAR (tr->x0, 120, 1.5);
  CHECK_INT (tr->time_since_update, 1);
  CHECK_INT (imgrec_tracker_predict (t, &ev), 0);
  CHECK_NEAR (imgrec_tracker_track (t, 0)->x0, 130, 2.0);
  for (f = 0; f < 3; f++) {
    CHECK_INT (imgrec_tracker_predict (t, &ev), 0);
    n_lost += ev.n_lost;
  }
  CHECK_INT (n_lost, 1);
  CHECK_INT (ev.lost_ids[0], 1);
  CHECK_INT (imgrec_tracker_n_tracks (t), 0);

  /* after a reset, ids keep counting */
  for (f = 0; f < 3; f++)
    CHECK_INT (imgrec_tracker_update (t, &d, 1, &idx, &ev), 0);
  CHECK_INT (ev.n_new, 1);
  CHECK_INT (ev.new_ids[0], 2);
  CHECK_INT (imgrec_tracker_reset (t, &ids), 1);
  CHECK_INT (ids[0], 2);
  for (f = 0; f < 3; f++)
    CHECK_INT (imgrec_tracker_update (t, &d, 1, &idx, &ev), 0);
  CHECK_INT (imgrec_tracker_track (t, idx)->id, 3);
  CHECK_INT (imgrec_tracker_update (t, NULL, 0, NULL, &ev), 0);
  imgrec_tracker_free (t);
}

/* A detector that runs on every other frame: tracks start, are confirmed
 * after min_hits detections and follow the object through the frames in
 * between (prediction only); the weak-detection pass still applies. */
static void
test_every_other_frame (void)
{
  imgrec_tracker_params p;
  imgrec_tracker *t;
  imgrec_tracker_events ev;
  imgrec_track_input d = { 0, 50, 30, 80, 0.9f, 0 };
  int f, idx = -1, n_new = 0;

  imgrec_tracker_params_default (&p);
  t = imgrec_tracker_new (&p);
  for (f = 0; f < 20; f++) {
    d.x0 = 5.0f * f;
    d.x1 = d.x0 + 30;
    d.score = (f >= 10 && f < 14) ? 0.3f : 0.9f;   /* weak for two inferences */
    if (f % 2 == 0) {
      CHECK_INT (imgrec_tracker_update (t, &d, 1, &idx, &ev), 0);
      CHECK (idx >= 0);
      if (f >= 4)
        CHECK (imgrec_tracker_track (t, idx)->state == IMGREC_TRACK_CONFIRMED);
    } else {
      CHECK_INT (imgrec_tracker_predict (t, &ev), 0);
      CHECK_INT (imgrec_tracker_n_tracks (t), 1);
      /* the velocity (5 px a frame) is learnt from the detections */
      if (f >= 7)
        CHECK_NEAR (imgrec_tracker_track (t, 0)->x0, d.x0, 2.5);
    }
    n_new += ev.n_new;
  }
  CHECK_INT (n_new, 1);
  CHECK_INT (imgrec_tracker_track (t, 0)->id, 1);
  CHECK_INT (imgrec_tracker_track (t, 0)->hits, 10);
  imgrec_tracker_free (t);
}

/* The driving demo's signs (imgrecdrivesrc): seen from a car driving at
 * 0.6 m a frame, a 0.8 m sign 4 m to the side and 1.5 m up moves away from
 * the vanishing point (640, 300) and grows as 1 / distance, faster and
 * faster: a constant-velocity prediction falls behind it.  Box of a sign at
 * distance d (m), focal length 1000 px. */
static void
sign_box (float d, float lateral, float *b)
{
  float cx = 640 + 1000 * lateral / d, cy = 300 - 1000 * 1.5f / d;
  float half = 0.5f * 1000 * 0.8f / d;

  b[0] = cx - half;
  b[1] = cy - half;
  b[2] = cx + half;
  b[3] = cy + half;
}

/* one sign from 60 m, missed by the detector for 10 frames from 22 m to
 * 16 m (36-50 px boxes; the demo, seed 11: 6 frames at 35-40 px, 10 frames
 * in the rain at 26-34 px, seed 12: 8 frames) */
static int
approaching_missed (int obj, int f, float *b, float *score, int *cls)
{
  float d = 60 - 0.6f * f;

  sign_box (d, 4, b);
  return d > 8 && !(d <= 22 && d > 16);
}

static void
test_missed_approaching_sign_keeps_id (void)
{
  scene sc = { 1, 85, approaching_missed };
  imgrec_tracker_params p;
  scene_result r;

  imgrec_tracker_params_default (&p);
  r = run_scene (&sc, &p);
  /* after 10 missed frames the constant-velocity prediction has fallen
   * behind the sign below the IoU gate: without the lost track's
   * uncertainty in the gate, its detection started a new track */
  CHECK_INT (r.id_switches, 0);
  CHECK_INT (r.n_new, 1);
  CHECK_INT (r.fragmentations, 0);
}

/* A sign approaching along the path where a stale track is coasting: a
 * false detection on a gantry, 20 frames, ends 5 frames before the sign
 * (seed 12 frames 242 and 271: the stale prediction overlapped the sign's
 * detection more than the sign's own lagging track did, and took it). */
static int
sign_meets_stale_track (int obj, int f, float *b, float *score, int *cls)
{
  if (obj == 1) {
    float s[4];
    sign_box (60 - 0.6f * 78, 4, s);
    /* 4 px off where the sign will be */
    b[0] = s[0] + 4;
    b[1] = s[1] - 4;
    b[2] = s[2] + 4;
    b[3] = s[3] - 4;
    return f >= 50 && f < 73;
  }
  if (60 - 0.6f * f <= 10)
    return 0;
  sign_box (60 - 0.6f * f, 4, b);
  return 1;
}

static void
test_active_track_before_stale_one (void)
{
  scene sc = { 2, 83, sign_meets_stale_track };
  imgrec_tracker_params p;
  scene_result r;

  imgrec_tracker_params_default (&p);
  r = run_scene (&sc, &p);
  CHECK_INT (r.id_switches, 0);
  CHECK_INT (r.n_new, 2);
}

int
main (void)
{
  RUN (test_assign_matches_brute_force);
  RUN (test_crossing_keeps_ids);
  RUN (test_occlusion_within_max_age_keeps_id);
  RUN (test_occlusion_beyond_max_age_gives_new_id);
  RUN (test_appear_and_leave);
  RUN (test_low_confidence_second_pass);
  RUN (test_bounded_tracks);
  RUN (test_class_consistent);
  RUN (test_prediction_and_reset);
  RUN (test_every_other_frame);
  RUN (test_missed_approaching_sign_keeps_id);
  RUN (test_active_track_before_stale_one);
  return check_failures ? 1 : 0;
}
