/* Unit tests of the overlay's label-block placement: above the box, below
 * it at the top edge, inside the frame, clear of the banner, and no two
 * blocks overlapping on crowded scenes. */
#include "check.h"
#include "imgrec_label_layout.h"

#define FW 640
#define FH 360

static imgrec_label_item
item (int x, int y, int w, int h, int bw, int bh)
{
  imgrec_label_item it = { {x, y, w, h}, bw, bh };
  return it;
}

static int
inside_frame (const imgrec_rect *r, int fw, int fh)
{
  return r->x >= 0 && r->y >= 0 && r->x + r->w <= fw && r->y + r->h <= fh;
}

/* How many blocks overlap a block before them or a reserved rectangle,
 * counted here independently of the layout's own count. */
static int
count_overlapping (const imgrec_rect *blocks, int n,
    const imgrec_rect *reserved, int n_reserved)
{
  int i, j, count = 0;

  for (i = 0; i < n; i++) {
    int hit = 0;
    for (j = 0; j < i; j++)
      hit |= imgrec_rect_intersects (&blocks[i], &blocks[j]);
    for (j = 0; j < n_reserved; j++)
      hit |= imgrec_rect_intersects (&blocks[i], &reserved[j]);
    count += hit;
  }
  return count;
}

static void
test_block_sits_above_its_box (void)
{
  imgrec_label_item it = item (100, 200, 40, 40, 90, 50);
  imgrec_rect b;

  CHECK_INT (imgrec_label_layout (&it, 1, NULL, 0, FW, FH, &b), 0);
  CHECK_INT (b.x, 100);
  CHECK_INT (b.y, 150);
  CHECK_INT (b.w, 90);
  CHECK_INT (b.h, 50);
}

static void
test_box_at_top_edge_gets_block_below (void)
{
  imgrec_label_item it[2] = { item (300, 0, 40, 30, 90, 50),
    item (420, 20, 40, 30, 90, 50)
  };
  imgrec_rect b[2];

  CHECK_INT (imgrec_label_layout (it, 2, NULL, 0, FW, FH, b), 0);
  CHECK_INT (b[0].x, 300);
  CHECK_INT (b[0].y, 30);
  /* 20 px above the box is not enough for a 50 px block */
  CHECK_INT (b[1].y, 50);
}

static void
test_blocks_clamped_inside_frame (void)
{
  imgrec_label_item it[3] = { item (610, 200, 30, 30, 120, 40),
    item (-20, 100, 60, 60, 80, 40),
    item (0, 0, FW, FH - 10, 100, 40)   /* no room above or below */
  };
  imgrec_rect b[3];
  int i;

  imgrec_label_layout (it, 3, NULL, 0, FW, FH, b);
  for (i = 0; i < 3; i++)
    CHECK (inside_frame (&b[i], FW, FH));
  CHECK_INT (b[0].x, FW - 120);
  CHECK_INT (b[0].y, 160);
  CHECK_INT (b[1].x, 0);
  CHECK_INT (b[1].y, 60);
}

/* Boxes side by side, closer than their blocks are wide: each block moves
 * clear of the earlier ones, still touching its box's column or row. */
static void
test_neighbouring_blocks_do_not_overlap (void)
{
  imgrec_label_item it[8];
  imgrec_rect b[8];
  int i;

  for (i = 0; i < 8; i++)
    it[i] = item (200 + 25 * i, 180, 20, 20, 110, 36);
  CHECK_INT (imgrec_label_layout (it, 8, NULL, 0, FW, FH, b), 0);
  CHECK_INT (count_overlapping (b, 8, NULL, 0), 0);
  for (i = 0; i < 8; i++)
    CHECK (inside_frame (&b[i], FW, FH));
  /* the first keeps its place above its box */
  CHECK_INT (b[0].x, 200);
  CHECK_INT (b[0].y, 144);
}

/* The alarm banner across the top and a corner block are reserved: a box
 * just under the banner gets its block below, none covers them. */
static void
test_blocks_avoid_reserved_areas (void)
{
  imgrec_rect reserved[2] = { {0, 0, FW, 30}, {0, 30, 150, 40} };
  imgrec_label_item it[3] = { item (300, 40, 40, 40, 100, 36),
    item (20, 120, 40, 40, 100, 36), item (80, 90, 40, 40, 100, 36)
  };
  imgrec_rect b[3];
  int i;

  CHECK_INT (imgrec_label_layout (it, 3, reserved, 2, FW, FH, b), 0);
  CHECK_INT (count_overlapping (b, 3, reserved, 2), 0);
  CHECK_INT (b[0].x, 300);
  CHECK_INT (b[0].y, 80);
  for (i = 0; i < 3; i++)
    CHECK (inside_frame (&b[i], FW, FH));
}

/* Random scenes of 2 to 16 boxes: every block inside the frame, the
 * layout's overlap count true, and none at all while the blocks cover at
 * most a sixth of the frame. */
static void
test_random_crowded_scenes (void)
{
  unsigned seed = 12345;
  int trial, light = 0, light_clear = 0, heavy = 0, heavy_clear = 0;

  for (trial = 0; trial < 2000; trial++) {
    imgrec_label_item it[16];
    imgrec_rect b[16];
    imgrec_rect banner = { 0, 0, FW, 24 };
    int n = 2 + trial % 15, i, got, area = 0, n_reserved = trial % 2;

    for (i = 0; i < n; i++) {
      int v[6], k;
      for (k = 0; k < 6; k++) {
        seed = seed * 1103515245u + 12345u;
        v[k] = (int) ((seed >> 8) & 0xffff);
      }
      it[i] = item (v[0] % FW - 20, v[1] % FH - 20, 8 + v[2] % 80,
          8 + v[3] % 80, 40 + v[4] % 100, 18 + v[5] % 60);
      area += it[i].block_w * it[i].block_h;
    }
    got = imgrec_label_layout (it, n, &banner, n_reserved, FW, FH, b);
    for (i = 0; i < n; i++)
      CHECK (inside_frame (&b[i], FW, FH));
    CHECK_INT (got, count_overlapping (b, n, &banner, n_reserved));
    if (area * 6 <= FW * FH) {
      light++;
      light_clear += got == 0;
    } else {
      heavy++;
      heavy_clear += got == 0;
    }
  }
  printf ("  light scenes without overlap: %d of %d; crowded: %d of %d\n",
      light_clear, light, heavy_clear, heavy);
  CHECK_INT (light_clear, light);
}

/* More boxes than the search takes: every block still inside the frame,
 * the count true, and the search bounded (this runs in milliseconds). */
static void
test_beyond_search_limit (void)
{
  imgrec_label_item it[200];
  imgrec_rect b[200];
  int i, got;

  for (i = 0; i < 200; i++)
    it[i] = item ((i * 37) % FW, (i * 53) % FH, 20, 20, 100, 40);
  got = imgrec_label_layout (it, 200, NULL, 0, FW, FH, b);
  for (i = 0; i < 200; i++)
    CHECK (inside_frame (&b[i], FW, FH));
  CHECK_INT (got, count_overlapping (b, 200, NULL, 0));
}

int
main (void)
{
  RUN (test_block_sits_above_its_box);
  RUN (test_box_at_top_edge_gets_block_below);
  RUN (test_blocks_clamped_inside_frame);
  RUN (test_neighbouring_blocks_do_not_overlap);
  RUN (test_blocks_avoid_reserved_areas);
  RUN (test_random_crowded_scenes);
  RUN (test_beyond_search_limit);
  return check_failures ? 1 : 0;
}
