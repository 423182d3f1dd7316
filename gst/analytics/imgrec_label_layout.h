/* Where imgrecoverlay puts the label block of each box: above the box, below
 * it when there is no room above, inside the frame, and clear of the blocks
 * already placed and of reserved areas (the alarm banner, the whole-frame
 * labels) where that can be done.  Plain C, no GStreamer: a greedy
 * placement in box order, unit-tested in tests/analytics/.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef IMGREC_LABEL_LAYOUT_H
#define IMGREC_LABEL_LAYOUT_H

#ifdef __cplusplus
extern "C" {
#endif

/* [x, x + w) x [y, y + h), frame pixels */
typedef struct {
  int x, y, w, h;
} imgrec_rect;

/* One box and the size of the block that labels it. */
typedef struct {
  imgrec_rect box;
  int block_w, block_h;
} imgrec_label_item;

/* Whether @a and @b share a pixel (empty rectangles share none). */
int imgrec_rect_intersects (const imgrec_rect *a, const imgrec_rect *b);

/* The most obstacles (blocks placed before, reserved rectangles) a block is
 * moved around; later blocks only choose between the two sides of their
 * box.  A 1280x720 frame holds about 45 blocks of five 16 px lines. */
#define IMGREC_LABEL_SEARCH_MAX 64

/* Places the blocks of @items[0..n) in order into @blocks[0..n).  A block's
 * anchor is left-aligned with its box and sits on the box's top edge, or on
 * its bottom edge when the block does not fit above; it is then moved inside
 * the frame_w x frame_h frame (a block larger than the frame starts at 0).
 * When the anchor overlaps an earlier block or a @reserved rectangle, the
 * block goes to the candidate position (the anchor moved vertically or
 * horizontally to touch an obstacle's edge, or the other side of the box)
 * with, in this order of importance, the least area over obstacles, the
 * least area over its own box, the shortest distance from the anchor
 * (beyond IMGREC_LABEL_SEARCH_MAX obstacles: the anchor or the other side).
 * Returns how many blocks still overlap an obstacle (0 when every block
 * found free room). */
int imgrec_label_layout (const imgrec_label_item *items, int n,
    const imgrec_rect *reserved, int n_reserved, int frame_w, int frame_h,
    imgrec_rect *blocks);

#ifdef __cplusplus
}
#endif
#endif
