/* Minimum-cost assignment (Hungarian method with potentials, O(n^2 m)) for
 * rectangular cost matrices, as the trackers use to match predicted tracks
 * with detections.  Plain C.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef IMGREC_ASSIGN_H
#define IMGREC_ASSIGN_H

#ifdef __cplusplus
extern "C" {
#endif

/* cost: rows x cols, row-major, finite.  Fills row_to_col[rows] with the
 * column assigned to each row (-1 when rows > cols leaves it out) so that
 * the total cost is minimal over all assignments of min(rows, cols) pairs.
 * Returns 0, or -1 when memory runs out. */
int imgrec_assign_min_cost (const double *cost, int rows, int cols,
    int *row_to_col);

#ifdef __cplusplus
}
#endif
#endif
