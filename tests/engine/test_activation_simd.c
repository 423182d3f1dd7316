/* The vectorised activation epilogue (ir_activation_apply, used by every
 * conv/gemm/add with a fused activation) must match its scalar reference for
 * every kind, every tail length and special values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"

static int passed, failed;

static float
random_value (unsigned *state)
{
  *state = *state * 1664525u + 1013904223u;
  return ((*state >> 8) / 16777216.0f) * 24.0f - 12.0f;
}

static void
check_kind (const char *name, ir_activation act)
{
  enum { N = 1000 };
  float in[N], fast[N], ref[N];
  unsigned state = 12345;
  for (int i = 0; i < N; i++)
    in[i] = random_value (&state);
  in[0] = 0.0f;
  in[1] = -0.0f;
  in[2] = 88.0f;
  in[3] = -88.0f;
  in[4] = 1e-20f;
  bool ok = true;
  /* Every length up to 40 exercises the vector tails; then the full array. */
  for (int n = 0; n <= N && ok; n = n < 40 ? n + 1 : N + 1) {
    int len = n <= N ? n : N;
    memcpy (fast, in, sizeof in);
    memcpy (ref, in, sizeof in);
    ir_activation_apply (&act, fast, len);
    ir_activation_apply_scalar (&act, ref, len);
    for (int i = 0; i < N; i++) {
      float tol = 1e-6f * fabsf (ref[i]) + 1e-7f;
      if (!(fabsf (fast[i] - ref[i]) <= tol) && !(isnan (fast[i]) && isnan (ref[i]))) {
        printf ("FAIL %s: length %d, x=%g: vector %.9g, scalar %.9g\n", name, len, in[i],
            fast[i], ref[i]);
        ok = false;
        break;
      }
    }
  }
  if (ok)
    printf ("PASS %s\n", name);
  ok ? passed++ : failed++;
}

int
main (void)
{
  check_kind ("relu", (ir_activation) { IR_ACT_RELU, 0, 0 });
  check_kind ("clip", (ir_activation) { IR_ACT_CLIP, -1.5f, 6.0f });
  check_kind ("leaky_relu", (ir_activation) { IR_ACT_LEAKY_RELU, 0.1f, 0 });
  check_kind ("sigmoid", (ir_activation) { IR_ACT_SIGMOID, 0, 0 });
  check_kind ("tanh", (ir_activation) { IR_ACT_TANH, 0, 0 });
  check_kind ("hard_sigmoid", (ir_activation) { IR_ACT_HARD_SIGMOID, 0.2f, 0.5f });
  check_kind ("hard_swish", (ir_activation) { IR_ACT_HARD_SWISH, 0, 0 });
  check_kind ("silu", (ir_activation) { IR_ACT_SILU, 0, 0 });
  check_kind ("elu", (ir_activation) { IR_ACT_ELU, 1.0f, 0 });
  printf ("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
