/* Multi-object tracker: constant-velocity Kalman prediction of each box
 * (centre, size and their velocities), IoU association by minimum-cost
 * assignment (Hungarian) or greedily, the tracks matched on the last update
 * first (a matching cascade), ByteTrack's second pass that lets
 * low-confidence detections continue those tracks, a third pass that gives
 * lost tracks the confident detections left with a gate widened by their
 * prediction's uncertainty, tentative tracks
 * confirmed after min_hits, tracks kept through max_age missed frames.
 * Ids are given when a track is confirmed, increase by one and are never
 * reused by the same tracker (imgrec_tracker_reset keeps counting).  Plain
 * C, no GStreamer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef IMGREC_TRACKER_H
#define IMGREC_TRACKER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  IMGREC_ASSOC_HUNGARIAN = 0,
  IMGREC_ASSOC_GREEDY,
} imgrec_assoc_method;

typedef struct {
  float high_threshold;         /* detections at or above: first pass, may start tracks (0.5) */
  float low_threshold;          /* detections at or above, below high: second pass only (0.1) */
  float new_track_threshold;    /* score a detection needs to start a track (0.6) */
  float iou_threshold;          /* first pass: minimum IoU of a match (0.2) */
  float low_iou_threshold;      /* second pass: minimum IoU (0.5) */
  int max_age;                  /* frames a track survives without a match (30) */
  int min_hits;                 /* matched frames before a track is confirmed (3) */
  int max_tracks;               /* bound on live tracks (256) */
  int class_consistent;         /* only match detections of the track's class */
  imgrec_assoc_method method;
} imgrec_tracker_params;

void imgrec_tracker_params_default (imgrec_tracker_params *p);

typedef enum {
  IMGREC_TRACK_TENTATIVE = 0,
  IMGREC_TRACK_CONFIRMED,
} imgrec_track_state;

typedef struct {
  uint64_t id;                  /* 0 while tentative */
  imgrec_track_state state;
  int class_id;
  float score;                  /* of the last matched detection */
  float x0, y0, x1, y1;         /* current estimate (after update or prediction) */
  int64_t age;                  /* frames since the track began */
  int64_t hits;                 /* frames with a matched detection */
  int64_t time_since_update;    /* frames since the last match (0: matched now) */
  int64_t first_frame;          /* tracker frame number of the first detection */
  int matched_last_update;      /* matched by the last imgrec_tracker_update */
  /* Kalman state per coordinate (cx, cy, w, h): value, velocity, and the
   * 2x2 covariance [p00 p01; p01 p11] */
  float kx[4], kv[4], kp00[4], kp01[4], kp11[4];
} imgrec_track;

typedef struct {
  float x0, y0, x1, y1;
  float score;
  int class_id;
} imgrec_track_input;

/* What one update did. */
typedef struct {
  int n_new;                    /* tracks confirmed on this frame (ids in new_ids) */
  int n_lost;                   /* confirmed tracks dropped on this frame */
  uint64_t *new_ids;            /* valid until the next call */
  uint64_t *lost_ids;
  const imgrec_track **lost;    /* the dropped tracks' last state, valid until the next call */
} imgrec_tracker_events;

typedef struct imgrec_tracker imgrec_tracker;

imgrec_tracker *imgrec_tracker_new (const imgrec_tracker_params *params);
void imgrec_tracker_free (imgrec_tracker *t);
/* Forgets every track; ids keep counting.  Returns the number of
 * confirmed tracks dropped, their ids in *ids (valid until the next
 * call). */
int imgrec_tracker_reset (imgrec_tracker *t, const uint64_t **ids);

/* One frame: predicts every track, associates the detections, updates,
 * creates and drops tracks.  det_track[i] receives the index (into
 * imgrec_tracker_track) of the track detection i belongs to, or -1.
 * Returns 0, or -1 when memory runs out. */
int imgrec_tracker_update (imgrec_tracker *t, const imgrec_track_input *dets,
    int n_dets, int *det_track, imgrec_tracker_events *events);
/* A frame without detections that still counts (prediction only: nothing
 * was looked for, e.g. a frame an upstream detector skipped).  Every track
 * moves and ages; confirmed tracks end after max_age such frames, tentative
 * ones wait for the next update (they are not missed). */
int imgrec_tracker_predict (imgrec_tracker *t, imgrec_tracker_events *events);

int imgrec_tracker_n_tracks (const imgrec_tracker *t);
const imgrec_track *imgrec_tracker_track (const imgrec_tracker *t, int index);
uint64_t imgrec_tracker_next_id (const imgrec_tracker *t);
int64_t imgrec_tracker_frame (const imgrec_tracker *t);

#ifdef __cplusplus
}
#endif
#endif
