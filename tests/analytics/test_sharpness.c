/* Unit tests of imgrecgan's focus measure (imgrec_sharpness): flat and tiny
 * regions are not measured, a box blur lowers it, brightness and contrast do
 * not change it, a one-direction blur keeps the other direction's value, RGB
 * reads as its luma; and its cost on a 1280x720 frame. */
#include "check.h"
#include "imgrec_sharpness.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define W 320
#define H 180

static uint32_t rng_state = 12345u;

static unsigned
rng (void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

/* Random grey patches of 6x6 px: detail at every scale the measure sees. */
static void
texture (unsigned char *img, int w, int h)
{
  int x, y;
  unsigned char *patch = malloc ((size_t) (w / 6 + 1) * (h / 6 + 1));

  for (x = 0; x < (w / 6 + 1) * (h / 6 + 1); x++)
    patch[x] = (unsigned char) (30 + rng () % 200);
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++)
      img[y * w + x] = patch[(y / 6) * (w / 6 + 1) + x / 6];
  free (patch);
}

/* Box blur of radius rx along rows and ry along columns, clamped edges. */
static void
box_blur (const unsigned char *src, unsigned char *dst, int w, int h, int rx,
    int ry)
{
  int *tmp = malloc (sizeof (int) * w * h), x, y, k;

  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      int acc = 0;
      for (k = -rx; k <= rx; k++) {
        int xx = x + k < 0 ? 0 : x + k >= w ? w - 1 : x + k;
        acc += src[y * w + xx];
      }
      tmp[y * w + x] = acc;
    }
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      int acc = 0;
      for (k = -ry; k <= ry; k++) {
        int yy = y + k < 0 ? 0 : y + k >= h ? h - 1 : y + k;
        acc += tmp[yy * w + x];
      }
      dst[y * w + x] = (unsigned char) ((acc + (2 * rx + 1) * (2 * ry + 1) / 2)
          / ((2 * rx + 1) * (2 * ry + 1)));
    }
  free (tmp);
}

static double
measure (const unsigned char *img, int w, int h, imgrec_sharpness_result *r)
{
  imgrec_luma_view v = { img, NULL, NULL, 1, w, w, h };
  float *scratch = malloc (sizeof (float) * imgrec_sharpness_scratch_floats (w));
  imgrec_sharpness_measure (&v, scratch, r);
  free (scratch);
  return r->sharpness;
}

static void
test_flat_and_tiny_not_measured (void)
{
  static unsigned char img[W * H];
  imgrec_sharpness_result r;
  imgrec_luma_view tiny = { img, NULL, NULL, 1, W, 7, 7 };
  float scratch[64];
  int i;

  for (i = 0; i < W * H; i++)
    img[i] = (unsigned char) (100 + (i % 3));   /* noise-like, 1 grey level */
  CHECK_INT (measure (img, W, H, &r) < 0, 1);
  CHECK (r.contrast < 2.0);
  texture (img, W, H);
  CHECK_INT (imgrec_sharpness_measure (&tiny, scratch, &r), 0);
  CHECK_NEAR (r.sharpness, -1.0, 0.0);
}

static void
test_blur_lowers_it (void)
{
  static unsigned char img[W * H], soft[W * H], softer[W * H];
  imgrec_sharpness_result r;
  double sharp, s4, s12;

  texture (img, W, H);
  sharp = measure (img, W, H, &r);
  box_blur (img, soft, W, H, 4, 4);
  s4 = measure (soft, W, H, &r);
  box_blur (img, softer, W, H, 12, 12);
  s12 = measure (softer, W, H, &r);
  printf ("  sharp %.4f, box radius 4 %.4f (%.2f), radius 12 %.4f (%.2f)\n",
      sharp, s4, s4 / sharp, s12, s12 / sharp);
  CHECK (sharp > 0.1);
  CHECK (s4 < 0.6 * sharp);
  CHECK (s12 < 0.15 * sharp);
  CHECK (s12 < s4);
}

static void
test_brightness_and_contrast_do_not_change_it (void)
{
  static unsigned char img[W * H], dim[W * H];
  imgrec_sharpness_result r;
  double a, b;
  int i;

  texture (img, W, H);
  for (i = 0; i < W * H; i++)
    dim[i] = (unsigned char) (20 + img[i] / 4);
  a = measure (img, W, H, &r);
  b = measure (dim, W, H, &r);
  CHECK_NEAR (b / a, 1.0, 0.02);
}

static void
test_one_direction_blur_keeps_the_other (void)
{
  static unsigned char img[W * H], smeared[W * H];
  imgrec_sharpness_result r;
  double a, b;

  texture (img, W, H);
  a = measure (img, W, H, &r);
  box_blur (img, smeared, W, H, 12, 0);         /* horizontal motion blur */
  b = measure (smeared, W, H, &r);
  CHECK (b > 0.7 * a);
}

static void
test_rgb_reads_as_luma (void)
{
  static unsigned char img[W * H], rgb[W * H * 4];
  imgrec_sharpness_result r, rr;
  imgrec_luma_view v = { rgb + 2, rgb + 1, rgb, 4, W * 4, W, H };      /* BGRx */
  float *scratch = malloc (sizeof (float) * imgrec_sharpness_scratch_floats (W));
  int i;

  texture (img, W, H);
  for (i = 0; i < W * H; i++)
    rgb[4 * i] = rgb[4 * i + 1] = rgb[4 * i + 2] = rgb[4 * i + 3] = img[i];
  measure (img, W, H, &r);
  CHECK_INT (imgrec_sharpness_measure (&v, scratch, &rr), 1);
  CHECK_NEAR (rr.sharpness / r.sharpness, 1.0, 0.01);
  free (scratch);
}

static void
test_cost_per_720p_frame (void)
{
  const int w = 1280, h = 720, runs = 200;
  unsigned char *img = malloc ((size_t) w * h);
  float *scratch = malloc (sizeof (float) * imgrec_sharpness_scratch_floats (w));
  imgrec_luma_view v = { img, NULL, NULL, 1, w, w, h };
  imgrec_sharpness_result r;
  struct timespec t0, t1;
  double best = 1e9;
  int i;

  texture (img, w, h);
  for (i = 0; i < runs; i++) {
    double ms;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    imgrec_sharpness_measure (&v, scratch, &r);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    best = ms < best ? ms : best;
  }
  printf ("  1280x720 luma: %.3f ms per frame (fastest of %d)\n", best, runs);
  CHECK (r.sharpness > 0.0);
  free (scratch);
  free (img);
}

int
main (void)
{
  RUN (test_flat_and_tiny_not_measured);
  RUN (test_blur_lowers_it);
  RUN (test_brightness_and_contrast_do_not_change_it);
  RUN (test_one_direction_blur_keeps_the_other);
  RUN (test_rgb_reads_as_luma);
  RUN (test_cost_per_720p_frame);
  return check_failures ? 1 : 0;
}
