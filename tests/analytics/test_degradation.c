/* Unit tests of imgrecgan's restorer gate measures (imgrec_degradation) on
 * 32x32 images, the size of the restorer's input: brightness and contrast
 * exact, sharpness blind to brightness and contrast and lowered by a blur,
 * a one-direction (motion) blur too,
 * noise estimated within 15 % of the added white noise on a smooth image
 * and near 0 without it, RGB read as its luma, tiny and flat images. */
#include "check.h"
#include "imgrec_degradation.h"

#include <stdint.h>

#define N 32

static uint32_t rng_state = 777u;

static double
uniform (void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return ((rng_state >> 8) + 0.5) / 16777216.0;
}

/* standard normal (Box-Muller) */
static double
gauss (void)
{
  double u = uniform (), v = uniform ();
  return sqrt (-2.0 * log (u)) * cos (6.283185307179586 * v);
}

static unsigned char
clamp8 (double v)
{
  return (unsigned char) (v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
}

static imgrec_degradation
measure_grey (const unsigned char *img, int w, int h)
{
  imgrec_luma_view v = { img, NULL, NULL, 1, w, w, h };
  imgrec_degradation d;

  imgrec_degradation_measure (&v, &d);
  return d;
}

/* a sign-like crop: a dark ring and a bright disc on grey, 4 px patches of
 * detail inside */
static void
sign (unsigned char *img, double gain, double offset)
{
  int x, y;

  for (y = 0; y < N; y++)
    for (x = 0; x < N; x++) {
      double r = hypot (x - 15.5, y - 15.5), v = 120;
      if (r < 14)
        v = 40;
      if (r < 10)
        v = ((x / 4 + y / 4) % 2) ? 230 : 90;
      img[y * N + x] = clamp8 (offset + gain * v);
    }
}

static void
box_blur3 (const unsigned char *src, unsigned char *dst)
{
  int x, y, dx, dy;

  for (y = 0; y < N; y++)
    for (x = 0; x < N; x++) {
      int acc = 0, n = 0;
      for (dy = -1; dy <= 1; dy++)
        for (dx = -1; dx <= 1; dx++) {
          int xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= N || yy >= N)
            continue;
          acc += src[yy * N + xx];
          n++;
        }
      dst[y * N + x] = (unsigned char) ((acc + n / 2) / n);
    }
}

static void
test_brightness_and_contrast_exact (void)
{
  unsigned char img[N * N];
  imgrec_degradation d;
  int i;

  /* half 50, half 150: mean 100, deviation 50 */
  for (i = 0; i < N * N; i++)
    img[i] = i < N * N / 2 ? 50 : 150;
  d = measure_grey (img, N, N);
  CHECK_NEAR (d.brightness, 100.0, 1e-9);
  CHECK_NEAR (d.contrast, 50.0, 1e-9);
}

static void
test_sharpness_blind_to_brightness_and_contrast (void)
{
  unsigned char a[N * N], b[N * N], c[N * N];
  imgrec_degradation da, db, dc;

  sign (a, 1.0, 0.0);
  sign (b, 0.4, 10.0);          /* night: dark, low contrast */
  box_blur3 (a, c);
  da = measure_grey (a, N, N);
  db = measure_grey (b, N, N);
  dc = measure_grey (c, N, N);
  CHECK (db.brightness < 0.5 * da.brightness);
  CHECK (db.contrast < 0.5 * da.contrast);
  CHECK_NEAR (db.sharpness, da.sharpness, 0.03 * da.sharpness);
  /* a 3x3 box blur takes most of the neighbouring differences away */
  CHECK (dc.sharpness < 0.5 * da.sharpness);
  CHECK (dc.sharpness > 0.0);
}

/* a blur along the rows only (a motion blur) lowers it as much as a blur
 * in both directions, whichever the direction */
static void
test_sharpness_sees_motion_blur (void)
{
  unsigned char a[N * N], rows[N * N], cols[N * N];
  double sa, sr, sc;
  int x, y, k;

  sign (a, 1.0, 0.0);
  for (y = 0; y < N; y++)
    for (x = 0; x < N; x++) {
      int acc_r = 0, acc_c = 0;
      for (k = -2; k <= 2; k++) {
        int xx = x + k < 0 ? 0 : x + k >= N ? N - 1 : x + k;
        int yy = y + k < 0 ? 0 : y + k >= N ? N - 1 : y + k;
        acc_r += a[y * N + xx];
        acc_c += a[yy * N + x];
      }
      rows[y * N + x] = (unsigned char) ((acc_r + 2) / 5);
      cols[y * N + x] = (unsigned char) ((acc_c + 2) / 5);
    }
  sa = measure_grey (a, N, N).sharpness;
  sr = measure_grey (rows, N, N).sharpness;
  sc = measure_grey (cols, N, N).sharpness;
  CHECK (sr < 0.3 * sa);
  CHECK (sc < 0.3 * sa);
  CHECK_NEAR (sr, sc, 0.1 * sr);        /* the sign is symmetric */
}

static void
test_noise_estimate (void)
{
  unsigned char smooth[N * N], noisy[N * N];
  double sigmas[] = { 4.0, 8.0, 16.0 };
  int x, y, k;

  for (y = 0; y < N; y++)
    for (x = 0; x < N; x++)
      smooth[y * N + x] = clamp8 (60 + 3.0 * x + 1.5 * y);
  /* a linear ramp: the Laplacian difference cancels it (rounding only) */
  CHECK (measure_grey (smooth, N, N).noise < 1.0);
  for (k = 0; k < 3; k++) {
    for (x = 0; x < N * N; x++)
      noisy[x] = clamp8 (smooth[x] + sigmas[k] * gauss ());
    CHECK_NEAR (measure_grey (noisy, N, N).noise, sigmas[k], 0.15 * sigmas[k]);
  }
}

static void
test_rgb_reads_as_luma (void)
{
  unsigned char grey[N * N], rgb[N * N * 3];
  imgrec_luma_view v = { rgb, rgb + 1, rgb + 2, 3, 3 * N, N, N };
  imgrec_degradation dg, dc;
  int i;

  sign (grey, 1.0, 0.0);
  for (i = 0; i < N * N; i++)
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
  dg = measure_grey (grey, N, N);
  CHECK_INT (imgrec_degradation_measure (&v, &dc), 1);
  CHECK_NEAR (dc.brightness, dg.brightness, 1.0);
  CHECK_NEAR (dc.sharpness, dg.sharpness, 0.01 * dg.sharpness);
  CHECK_NEAR (dc.noise, dg.noise, 0.02 * dg.noise + 0.05);
}

static void
test_tiny_and_flat (void)
{
  unsigned char img[N * N];
  imgrec_luma_view v = { img, NULL, NULL, 1, N, 2, 2 };
  imgrec_degradation d;

  memset (img, 90, sizeof (img));
  v.width = N;
  v.height = N;
  CHECK_INT (imgrec_degradation_measure (&v, &d), 0);   /* flat: no sharpness */
  CHECK_NEAR (d.brightness, 90.0, 1e-9);
  CHECK_NEAR (d.sharpness, -1.0, 0.0);
  CHECK_NEAR (d.noise, 0.0, 1e-9);
  img[0] = 200;
  v.width = v.height = 2;       /* too small for the noise kernel */
  CHECK_INT (imgrec_degradation_measure (&v, &d), 0);
  CHECK (d.sharpness > 0.0);
  CHECK_NEAR (d.noise, -1.0, 0.0);
}

int
main (void)
{
  RUN (test_brightness_and_contrast_exact);
  RUN (test_sharpness_blind_to_brightness_and_contrast);
  RUN (test_sharpness_sees_motion_blur);
  RUN (test_noise_estimate);
  RUN (test_rgb_reads_as_luma);
  RUN (test_tiny_and_flat);
  return check_failures ? 1 : 0;
}
