/* Greedy placement of label blocks (imgrec_label_layout.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "imgrec_label_layout.h"

#include <stdlib.h>
#include <string.h>

int
imgrec_rect_intersects (const imgrec_rect *a, const imgrec_rect *b)
{
  return a->w > 0 && a->h > 0 && b->w > 0 && b->h > 0
      && a->x < b->x + b->w && b->x < a->x + a->w
      && a->y < b->y + b->h && b->y < a->y + a->h;
}

static long long
overlap_area (const imgrec_rect *a, const imgrec_rect *b)
{
  long long w, h;

  if (!imgrec_rect_intersects (a, b))
    return 0;
  w = (long long) (a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w)
      - (a->x > b->x ? a->x : b->x);
  h = (long long) (a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h)
      - (a->y > b->y ? a->y : b->y);
  return w * h;
}

/* The start of a [v, v + size) span moved inside [0, limit); a span longer
 * than the limit starts at 0. */
static int
clamp_start (int v, int size, int limit)
{
  if (v > limit - size)
    v = limit - size;
  return v < 0 ? 0 : v;
}

/* The search for one block: its obstacles (the blocks placed before it and
 * the reserved rectangles), its box and anchor, the best position so far
 * and its cost (area over obstacles, area over the box, distance). */
typedef struct {
  const imgrec_rect *placed;
  int n_placed;
  const imgrec_rect *reserved;
  int n_reserved;
  imgrec_rect box;
  int w, h, frame_w, frame_h, anchor_x, anchor_y;
  imgrec_rect best;
  long long best_cost[3];
  int have_best;
} placement;

static const imgrec_rect *
obstacle (const placement *p, int k)
{
  return k < p->n_placed ? &p->placed[k] : &p->reserved[k - p->n_placed];
}

/* Whether the best position is as good as any can be: touching nothing. */
static int
placement_done (const placement *p)
{
  return p->have_best && p->best_cost[0] == 0 && p->best_cost[1] == 0
      && p->best_cost[2] == 0;
}

/* Whether cost @a is lower than cost @b, the first part deciding first. */
static int
cost_less (const long long *a, const long long *b)
{
  int i;

  for (i = 0; i < 3 && a[i] == b[i]; i++);
  return i < 3 && a[i] < b[i];
}

static void
consider (placement *p, int x, int y)
{
  imgrec_rect r;
  long long cost[3] = { 0, 0, 0 };
  int k;

  r.x = clamp_start (x, p->w, p->frame_w);
  r.y = clamp_start (y, p->h, p->frame_h);
  r.w = p->w;
  r.h = p->h;
  cost[1] = overlap_area (&r, &p->box);
  cost[2] = llabs ((long long) r.x - p->anchor_x)
      + llabs ((long long) r.y - p->anchor_y);
  /* the obstacles last, and only while the candidate can still win: on a
   * crowded frame most cannot, which keeps the search cheap */
  if (p->have_best && p->best_cost[0] == 0 && !cost_less (cost, p->best_cost))
    return;
  for (k = 0; k < p->n_placed + p->n_reserved; k++) {
    cost[0] += overlap_area (&r, obstacle (p, k));
    if (p->have_best && cost[0] > p->best_cost[0])
      return;
  }
  if (p->have_best && !cost_less (cost, p->best_cost))
    return;
  p->best = r;
  memcpy (p->best_cost, cost, sizeof cost);
  p->have_best = 1;
}

int
imgrec_label_layout (const imgrec_label_item *items, int n,
    const imgrec_rect *reserved, int n_reserved, int frame_w, int frame_h,
    imgrec_rect *blocks)
{
  int i, k, n_overlapping = 0;

  for (i = 0; i < n; i++) {
    const imgrec_label_item *it = &items[i];
    placement p = { 0 };
    int above = it->box.y - it->block_h, below = it->box.y + it->box.h;
    int other_y;

    p.placed = blocks;
    p.n_placed = i;
    p.reserved = reserved;
    p.n_reserved = n_reserved;
    p.box = it->box;
    p.w = it->block_w;
    p.h = it->block_h;
    p.frame_w = frame_w;
    p.frame_h = frame_h;
    p.anchor_x = clamp_start (it->box.x, p.w, frame_w);
    /* above the box; flipped below it when there is no room above */
    if (above >= 0 || below + p.h > frame_h) {
      p.anchor_y = clamp_start (above, p.h, frame_h);
      other_y = below;
    } else {
      p.anchor_y = below;
      other_y = above;
    }
    consider (&p, p.anchor_x, p.anchor_y);
    if (!placement_done (&p))
      consider (&p, p.anchor_x, other_y);
    /* touch each obstacle: stacked over or under it at the anchor's x, or
     * beside it on the anchor's row or on the other side of the box; the
     * search costs the cube of the obstacles, so a frame with more than
     * IMGREC_LABEL_SEARCH_MAX of them (full of blocks already) only flips */
    for (k = 0; i + n_reserved <= IMGREC_LABEL_SEARCH_MAX
        && k < i + n_reserved && !placement_done (&p); k++) {
      const imgrec_rect *o = obstacle (&p, k);
      consider (&p, p.anchor_x, o->y - p.h);
      consider (&p, p.anchor_x, o->y + o->h);
      consider (&p, o->x - p.w, p.anchor_y);
      consider (&p, o->x + o->w, p.anchor_y);
      consider (&p, o->x - p.w, other_y);
      consider (&p, o->x + o->w, other_y);
    }
    blocks[i] = p.best;
    if (p.best_cost[0] > 0)
      n_overlapping++;
  }
  return n_overlapping;
}
