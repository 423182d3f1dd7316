/* Hungarian method (shortest augmenting paths with row/column potentials).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "imgrec_assign.h"

#include <float.h>
#include <stdlib.h>

/* n <= m; a(i, j) for i in 1..n, j in 1..m (1-based, as in the classic
 * formulation); p[j] = row matched to column j. */
static int
solve (const double *cost, int n, int m, int transposed, int cols, int *p)
{
  double *u = calloc ((size_t) n + 1, sizeof (double));
  double *v = calloc ((size_t) m + 1, sizeof (double));
  double *minv = malloc (((size_t) m + 1) * sizeof (double));
  int *way = malloc (((size_t) m + 1) * sizeof (int));
  char *used = malloc ((size_t) m + 1);
  int i, j;

  if (!u || !v || !minv || !way || !used) {
    free (u);
    free (v);
    free (minv);
    free (way);
    free (used);
    return -1;
  }
  for (j = 0; j <= m; j++)
    p[j] = 0;
  for (i = 1; i <= n; i++) {
    int j0 = 0;
    p[0] = i;
    for (j = 0; j <= m; j++) {
      minv[j] = DBL_MAX;
      used[j] = 0;
    }
    do {
      int i0 = p[j0], j1 = 0;
      double delta = DBL_MAX;
      used[j0] = 1;
      for (j = 1; j <= m; j++) {
        if (used[j])
          continue;
        {
          double a = transposed ? cost[(size_t) (j - 1) * cols + (i0 - 1)]
              : cost[(size_t) (i0 - 1) * cols + (j - 1)];
          double cur = a - u[i0] - v[j];
          if (cur < minv[j]) {
            minv[j] = cur;
            way[j] = j0;
          }
          if (minv[j] < delta) {
            delta = minv[j];
            j1 = j;
          }
        }
      }
      for (j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  free (u);
  free (v);
  free (minv);
  free (way);
  free (used);
  return 0;
}

int
imgrec_assign_min_cost (const double *cost, int rows, int cols,
    int *row_to_col)
{
  int *p, i, j;

  for (i = 0; i < rows; i++)
    row_to_col[i] = -1;
  if (rows == 0 || cols == 0)
    return 0;
  if (rows <= cols) {
    p = malloc (((size_t) cols + 1) * sizeof (int));
    if (!p || solve (cost, rows, cols, 0, cols, p) < 0) {
      free (p);
      return -1;
    }
    for (j = 1; j <= cols; j++)
      if (p[j] > 0)
        row_to_col[p[j] - 1] = j - 1;
  } else {
    /* columns as the rows of the transposed problem */
    p = malloc (((size_t) rows + 1) * sizeof (int));
    if (!p || solve (cost, cols, rows, 1, cols, p) < 0) {
      free (p);
      return -1;
    }
    for (j = 1; j <= rows; j++)
      if (p[j] > 0)
        row_to_col[j - 1] = p[j] - 1;
  }
  free (p);
  return 0;
}
