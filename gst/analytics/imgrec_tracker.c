/* Kalman + IoU multi-object tracker (SORT / ByteTrack family).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "imgrec_tracker.h"
#include "imgrec_assign.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Noise as fractions of the box size (DeepSORT's and ByteTrack's values):
 * position 1/20, velocity 1/160 per frame. */
#define STD_POS (1.0f / 20.0f)
#define STD_VEL (1.0f / 160.0f)
#define INVALID_COST 1e6

struct imgrec_tracker {
  imgrec_tracker_params p;
  imgrec_track *tracks;         /* p.max_tracks */
  unsigned char *dead;
  int n_tracks;
  uint64_t next_id;
  int64_t frame;

  /* events, valid until the next call */
  uint64_t *new_ids, *lost_ids;
  imgrec_track *lost_copy;
  const imgrec_track **lost_ptrs;
  int n_new, n_lost, events_cap;

  /* scratch, grown as needed */
  double *cost;
  size_t cost_cap;
  int *rows_to_cols, *cand_tracks, *cand_dets, *det_match, *remap;
  int scratch_cap;
  int *matched;                 /* p.max_tracks, per update */
};

void
imgrec_tracker_params_default (imgrec_tracker_params *p)
{
  p->high_threshold = 0.5f;
  p->low_threshold = 0.1f;
  p->new_track_threshold = 0.6f;
  p->iou_threshold = 0.2f;
  p->low_iou_threshold = 0.5f;
  p->max_age = 30;
  p->min_hits = 3;
  p->max_tracks = 256;
  p->class_consistent = 0;
  p->method = IMGREC_ASSOC_HUNGARIAN;
}

imgrec_tracker *
imgrec_tracker_new (const imgrec_tracker_params *params)
{
  imgrec_tracker *t = calloc (1, sizeof (*t));
  int n;

  if (t == NULL)
    return NULL;
  t->p = *params;
  if (t->p.max_tracks < 1)
    t->p.max_tracks = 1;
  if (t->p.min_hits < 1)
    t->p.min_hits = 1;
  if (t->p.max_age < 0)
    t->p.max_age = 0;
  n = t->p.max_tracks;
  t->next_id = 1;
  t->tracks = calloc ((size_t) n, sizeof (*t->tracks));
  t->dead = calloc ((size_t) n, 1);
  /* every live track can be lost or confirmed in one frame, plus evictions */
  t->events_cap = n + 1;
  t->new_ids = calloc ((size_t) t->events_cap, sizeof (uint64_t));
  t->lost_ids = calloc ((size_t) t->events_cap, sizeof (uint64_t));
  t->lost_copy = calloc ((size_t) t->events_cap, sizeof (imgrec_track));
  t->lost_ptrs = calloc ((size_t) t->events_cap, sizeof (imgrec_track *));
  t->matched = calloc ((size_t) n, sizeof (int));
  if (!t->tracks || !t->dead || !t->new_ids || !t->lost_ids || !t->lost_copy
      || !t->lost_ptrs || !t->matched) {
    imgrec_tracker_free (t);
    return NULL;
  }
  return t;
}

void
imgrec_tracker_free (imgrec_tracker *t)
{
  if (t == NULL)
    return;
  free (t->tracks);
  free (t->dead);
  free (t->new_ids);
  free (t->lost_ids);
  free (t->lost_copy);
  free (t->lost_ptrs);
  free (t->cost);
  free (t->rows_to_cols);
  free (t->cand_tracks);
  free (t->cand_dets);
  free (t->det_match);
  free (t->remap);
  free (t->matched);
  free (t);
}

static void
events_begin (imgrec_tracker *t)
{
  t->n_new = t->n_lost = 0;
}

static void
events_fill (imgrec_tracker *t, imgrec_tracker_events *ev)
{
  int i;

  if (ev == NULL)
    return;
  for (i = 0; i < t->n_lost; i++)
    t->lost_ptrs[i] = &t->lost_copy[i];
  ev->n_new = t->n_new;
  ev->n_lost = t->n_lost;
  ev->new_ids = t->new_ids;
  ev->lost_ids = t->lost_ids;
  ev->lost = t->lost_ptrs;
}

static void
report_lost (imgrec_tracker *t, const imgrec_track *tr)
{
  if (tr->state != IMGREC_TRACK_CONFIRMED || t->n_lost >= t->events_cap)
    return;
  t->lost_copy[t->n_lost] = *tr;
  t->lost_ids[t->n_lost++] = tr->id;
}

int
imgrec_tracker_reset (imgrec_tracker *t, const uint64_t **ids)
{
  int i;

  events_begin (t);
  for (i = 0; i < t->n_tracks; i++)
    report_lost (t, &t->tracks[i]);
  t->n_tracks = 0;
  if (ids)
    *ids = t->lost_ids;
  return t->n_lost;
}

/* ------------------------------------------------------------------------ */
/* Kalman filter: four independent constant-velocity filters (cx, cy, w, h)
 * — the 8-state filter of SORT/ByteTrack with diagonal noise factors into
 * these exactly. */

static void
box_to_meas (float x0, float y0, float x1, float y1, float z[4])
{
  z[0] = 0.5f * (x0 + x1);
  z[1] = 0.5f * (y0 + y1);
  z[2] = x1 - x0;
  z[3] = y1 - y0;
}

static void
track_box_from_state (imgrec_track *tr)
{
  float w = fmaxf (tr->kx[2], 1.0f), h = fmaxf (tr->kx[3], 1.0f);

  tr->x0 = tr->kx[0] - 0.5f * w;
  tr->x1 = tr->kx[0] + 0.5f * w;
  tr->y0 = tr->kx[1] - 0.5f * h;
  tr->y1 = tr->kx[1] + 0.5f * h;
}

/* the size a coordinate's noise scales with: width for x and w, height
 * for y and h */
static float
coord_scale (const imgrec_track *tr, int k)
{
  return fmaxf ((k == 0 || k == 2) ? tr->kx[2] : tr->kx[3], 1.0f);
}

static void
kalman_init (imgrec_track *tr, const float z[4])
{
  int k;

  for (k = 0; k < 4; k++) {
    tr->kx[k] = z[k];
    tr->kv[k] = 0.0f;
  }
  for (k = 0; k < 4; k++) {
    float s = coord_scale (tr, k);
    tr->kp00[k] = (2.0f * STD_POS * s) * (2.0f * STD_POS * s);
    tr->kp01[k] = 0.0f;
    tr->kp11[k] = (10.0f * STD_VEL * s) * (10.0f * STD_VEL * s);
  }
}

static void
kalman_predict (imgrec_track *tr)
{
  int k;

  for (k = 0; k < 4; k++) {
    float s = coord_scale (tr, k);
    float qp = (STD_POS * s) * (STD_POS * s), qv = (STD_VEL * s) * (STD_VEL * s);
    tr->kx[k] += tr->kv[k];
    tr->kp00[k] += 2.0f * tr->kp01[k] + tr->kp11[k] + qp;
    tr->kp01[k] += tr->kp11[k];
    tr->kp11[k] += qv;
  }
  /* a shrinking box must not turn inside out */
  for (k = 2; k < 4; k++)
    if (tr->kx[k] < 1.0f) {
      tr->kx[k] = 1.0f;
      tr->kv[k] = 0.0f;
    }
  track_box_from_state (tr);
}

static void
kalman_update (imgrec_track *tr, const float z[4])
{
  int k;

  for (k = 0; k < 4; k++) {
    float s = coord_scale (tr, k);
    float r = (STD_POS * s) * (STD_POS * s);
    float S = tr->kp00[k] + r, k0 = tr->kp00[k] / S, k1 = tr->kp01[k] / S;
    float y = z[k] - tr->kx[k];
    float p00 = tr->kp00[k], p01 = tr->kp01[k];
    tr->kx[k] += k0 * y;
    tr->kv[k] += k1 * y;
    tr->kp00[k] = (1.0f - k0) * p00;
    tr->kp01[k] = (1.0f - k0) * p01;
    tr->kp11[k] -= k1 * p01;
  }
  track_box_from_state (tr);
}

/* ------------------------------------------------------------------------ */

static float
iou (float ax0, float ay0, float ax1, float ay1, float bx0, float by0,
    float bx1, float by1)
{
  float iw = fminf (ax1, bx1) - fmaxf (ax0, bx0);
  float ih = fminf (ay1, by1) - fmaxf (ay0, by0);
  float inter, uni;

  if (!(iw > 0.0f) || !(ih > 0.0f))
    return 0.0f;
  inter = iw * ih;
  uni = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter;
  return uni > 0.0f ? inter / uni : 0.0f;
}

/* A lost track's prediction drifts from its object (a sign nearing the car
 * accelerates away from the vanishing point and grows faster and faster,
 * which a constant-velocity filter follows late), and the filter knows by
 * how much: its position variance grows with every missed frame.  Both
 * boxes are widened by two standard deviations of the prediction's edges
 * (centre plus half the size), the buffered IoU of C-BIoU with the buffer
 * the filter's own, so the gate opens as far as the track may have
 * drifted and no further. */
static void
uncertainty_margin (const imgrec_track *tr, float *mx, float *my)
{
  *mx = 2.0f * (sqrtf (tr->kp00[0]) + 0.5f * sqrtf (tr->kp00[2]));
  *my = 2.0f * (sqrtf (tr->kp00[1]) + 0.5f * sqrtf (tr->kp00[3]));
}

static int
ensure_scratch (imgrec_tracker *t, int n_dets)
{
  int need = n_dets > t->p.max_tracks ? n_dets : t->p.max_tracks;
  size_t cost_need = (size_t) t->p.max_tracks * (size_t) (n_dets ? n_dets : 1);

  if (need > t->scratch_cap) {
    int *a = realloc (t->rows_to_cols, (size_t) need * sizeof (int));
    if (a)
      t->rows_to_cols = a;
    int *b = realloc (t->cand_tracks, (size_t) need * sizeof (int));
    if (b)
      t->cand_tracks = b;
    int *c = realloc (t->cand_dets, (size_t) need * sizeof (int));
    if (c)
      t->cand_dets = c;
    int *d = realloc (t->det_match, (size_t) need * sizeof (int));
    if (d)
      t->det_match = d;
    int *e = realloc (t->remap, (size_t) need * sizeof (int));
    if (e)
      t->remap = e;
    if (!a || !b || !c || !d || !e)
      return -1;
    t->scratch_cap = need;
  }
  if (cost_need > t->cost_cap) {
    double *c = realloc (t->cost, cost_need * sizeof (double));
    if (!c)
      return -1;
    t->cost = c;
    t->cost_cap = cost_need;
  }
  return 0;
}

/* Matches the candidate tracks with the candidate detections (IoU at
 * least min_iou, same class when asked); det_match[det] = track. */
static int
associate (imgrec_tracker *t, const imgrec_track_input *dets,
    const int *tracks, int nt, const int *cands, int nd, float min_iou,
    int widen, int *track_matched)
{
  int i, j;

  if (nt == 0 || nd == 0)
    return 0;
  for (i = 0; i < nt; i++) {
    const imgrec_track *tr = &t->tracks[tracks[i]];
    float mx = 0.0f, my = 0.0f;
    if (widen)
      uncertainty_margin (tr, &mx, &my);
    for (j = 0; j < nd; j++) {
      const imgrec_track_input *d = &dets[cands[j]];
      float v = iou (tr->x0 - mx, tr->y0 - my, tr->x1 + mx, tr->y1 + my,
          d->x0 - mx, d->y0 - my, d->x1 + mx, d->y1 + my);
      int ok = v >= min_iou && v > 0.0f
          && (!t->p.class_consistent || d->class_id == tr->class_id);
      t->cost[(size_t) i * nd + j] = ok ? 1.0 - v : INVALID_COST;
    }
  }

  if (t->p.method == IMGREC_ASSOC_GREEDY) {
    /* best remaining pair first */
    for (;;) {
      double best = INVALID_COST;
      int bi = -1, bj = -1;
      for (i = 0; i < nt; i++) {
        if (track_matched[tracks[i]])
          continue;
        for (j = 0; j < nd; j++)
          if (t->det_match[cands[j]] < 0 && t->cost[(size_t) i * nd + j] < best) {
            best = t->cost[(size_t) i * nd + j];
            bi = i;
            bj = j;
          }
      }
      if (bi < 0)
        break;
      t->det_match[cands[bj]] = tracks[bi];
      track_matched[tracks[bi]] = 1;
    }
    return 0;
  }

  if (imgrec_assign_min_cost (t->cost, nt, nd, t->rows_to_cols) < 0)
    return -1;
  for (i = 0; i < nt; i++) {
    j = t->rows_to_cols[i];
    if (j >= 0 && t->cost[(size_t) i * nd + j] < INVALID_COST) {
      t->det_match[cands[j]] = tracks[i];
      track_matched[tracks[i]] = 1;
    }
  }
  return 0;
}

static void
confirm_if_ready (imgrec_tracker *t, imgrec_track *tr)
{
  if (tr->state == IMGREC_TRACK_TENTATIVE && tr->hits >= t->p.min_hits) {
    tr->state = IMGREC_TRACK_CONFIRMED;
    tr->id = t->next_id++;
    if (t->n_new < t->events_cap)
      t->new_ids[t->n_new++] = tr->id;
  }
}

/* Drops dead tracks, keeping order; remap[old] = new index or -1. */
static void
compact (imgrec_tracker *t)
{
  int i, m = 0;

  for (i = 0; i < t->n_tracks; i++) {
    if (t->dead[i]) {
      t->remap[i] = -1;
      continue;
    }
    t->remap[i] = m;
    if (m != i)
      t->tracks[m] = t->tracks[i];
    m++;
  }
  t->n_tracks = m;
  memset (t->dead, 0, (size_t) t->p.max_tracks);
}

static void
predict_all (imgrec_tracker *t)
{
  int i;

  t->frame++;
  for (i = 0; i < t->n_tracks; i++) {
    imgrec_track *tr = &t->tracks[i];
    kalman_predict (tr);
    tr->age++;
    tr->time_since_update++;
  }
}

/* Tracks matched nowhere this frame: tentative ones end (unless the frame
 * was prediction only: matched == NULL), confirmed ones end after max_age
 * frames without a match. */
static void
age_out (imgrec_tracker *t, const int *matched)
{
  int i;

  for (i = 0; i < t->n_tracks; i++) {
    imgrec_track *tr = &t->tracks[i];
    if (matched && matched[i])
      continue;
    if ((matched && tr->state == IMGREC_TRACK_TENTATIVE)
        || tr->time_since_update > t->p.max_age) {
      report_lost (t, tr);
      t->dead[i] = 1;
    }
  }
}

int
imgrec_tracker_predict (imgrec_tracker *t, imgrec_tracker_events *events)
{
  events_begin (t);
  if (ensure_scratch (t, 0) < 0)
    return -1;
  predict_all (t);
  age_out (t, NULL);
  compact (t);
  events_fill (t, events);
  return 0;
}

int
imgrec_tracker_update (imgrec_tracker *t, const imgrec_track_input *dets,
    int n_dets, int *det_track, imgrec_tracker_events *events)
{
  int *matched, i, nh = 0, nl = 0, nt = 0, n_before;

  events_begin (t);
  if (n_dets < 0 || ensure_scratch (t, n_dets) < 0)
    return -1;
  matched = t->matched;
  memset (matched, 0, (size_t) t->p.max_tracks * sizeof (int));
  predict_all (t);
  for (i = 0; i < n_dets; i++)
    t->det_match[i] = -1;

  /* first pass: confident detections against the tracks matched on the
   * last update.  Those come first (DeepSORT's matching cascade): a lost
   * track coasting on a stale velocity must not take the detection of an
   * object that another track is following (two signs on one path) */
  for (i = 0; i < n_dets; i++)
    if (dets[i].score >= t->p.high_threshold)
      t->cand_dets[nh++] = i;
  for (i = 0; i < t->n_tracks; i++)
    if (t->tracks[i].matched_last_update)
      t->cand_tracks[nt++] = i;
  if (associate (t, dets, t->cand_tracks, nt, t->cand_dets, nh,
          t->p.iou_threshold, 0, matched) < 0)
    goto oom;

  /* second pass (ByteTrack): weak detections continue the tracks that were
   * matched on the previous frame and are still unmatched */
  nt = 0;
  for (i = 0; i < t->n_tracks; i++)
    if (!matched[i] && t->tracks[i].matched_last_update)
      t->cand_tracks[nt++] = i;
  for (i = 0; i < n_dets; i++)
    if (dets[i].score < t->p.high_threshold
        && dets[i].score >= t->p.low_threshold)
      t->cand_dets[nl++] = i;
  if (associate (t, dets, t->cand_tracks, nt, t->cand_dets, nl,
          t->p.low_iou_threshold, 0, matched) < 0)
    goto oom;

  /* third pass: the confident detections left against the lost tracks
   * (missed on the last update), their boxes widened by the prediction's
   * uncertainty */
  nt = 0;
  for (i = 0; i < t->n_tracks; i++)
    if (!matched[i] && !t->tracks[i].matched_last_update)
      t->cand_tracks[nt++] = i;
  nh = 0;
  for (i = 0; i < n_dets; i++)
    if (t->det_match[i] < 0 && dets[i].score >= t->p.high_threshold)
      t->cand_dets[nh++] = i;
  if (associate (t, dets, t->cand_tracks, nt, t->cand_dets, nh,
          t->p.iou_threshold, 1, matched) < 0)
    goto oom;

  for (i = 0; i < n_dets; i++) {
    int k = t->det_match[i];
    float z[4];
    imgrec_track *tr;
    if (k < 0)
      continue;
    tr = &t->tracks[k];
    box_to_meas (dets[i].x0, dets[i].y0, dets[i].x1, dets[i].y1, z);
    kalman_update (tr, z);
    tr->hits++;
    tr->time_since_update = 0;
    tr->score = dets[i].score;
    if (!t->p.class_consistent)
      tr->class_id = dets[i].class_id;
    confirm_if_ready (t, tr);
  }
  age_out (t, matched);
  for (i = 0; i < t->n_tracks; i++)
    t->tracks[i].matched_last_update = matched[i];

  /* new tracks from confident unmatched detections */
  n_before = t->n_tracks;
  for (i = 0; i < n_dets; i++) {
    imgrec_track *tr;
    float z[4];
    int slot = -1, k;
    if (t->det_match[i] >= 0 || !(dets[i].score >= t->p.new_track_threshold))
      continue;
    if (t->n_tracks < t->p.max_tracks) {
      slot = t->n_tracks++;
    } else {
      /* full: replace the dead track, else the longest-missed one */
      int64_t worst = 0;
      for (k = 0; k < n_before; k++) {
        if (t->dead[k]) {
          slot = k;
          break;
        }
        if (t->tracks[k].time_since_update > worst) {
          worst = t->tracks[k].time_since_update;
          slot = k;
        }
      }
      if (slot < 0)
        continue;               /* every track was matched now: keep them */
      if (!t->dead[slot])
        report_lost (t, &t->tracks[slot]);
      t->dead[slot] = 0;
    }
    tr = &t->tracks[slot];
    memset (tr, 0, sizeof (*tr));
    box_to_meas (dets[i].x0, dets[i].y0, dets[i].x1, dets[i].y1, z);
    kalman_init (tr, z);
    track_box_from_state (tr);
    tr->class_id = dets[i].class_id;
    tr->score = dets[i].score;
    tr->hits = 1;
    tr->age = 1;
    tr->first_frame = t->frame;
    tr->state = IMGREC_TRACK_TENTATIVE;
    tr->matched_last_update = 1;
    confirm_if_ready (t, tr);
    if (slot < n_before)
      matched[slot] = 1;        /* a reused slot is no longer a missed track */
    t->det_match[i] = slot;
  }

  compact (t);
  if (det_track)
    for (i = 0; i < n_dets; i++)
      det_track[i] = t->det_match[i] >= 0 ? t->remap[t->det_match[i]] : -1;
  events_fill (t, events);
  return 0;

oom:
  return -1;
}

int
imgrec_tracker_n_tracks (const imgrec_tracker *t)
{
  return t->n_tracks;
}

const imgrec_track *
imgrec_tracker_track (const imgrec_tracker *t, int index)
{
  return (index >= 0 && index < t->n_tracks) ? &t->tracks[index] : NULL;
}

uint64_t
imgrec_tracker_next_id (const imgrec_tracker *t)
{
  return t->next_id;
}

int64_t
imgrec_tracker_frame (const imgrec_tracker *t)
{
  return t->frame;
}
