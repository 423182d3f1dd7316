/* Every ISA's kernels against their plain-C references, over random shapes.
 *
 * SGEMM (ops/sgemm.h): for each kernel the machine can run (ref, avx2,
 * avx512), M, N and K from 1 to past two register blocks and across the K
 * block edge (IR_SGEMM_KC), transposed and strided B, every epilogue
 * combination (bias, residual, each fused activation), 1 and 3 threads;
 * tolerance scaled by sum |a * b| of each output.
 *
 * Row GEMV (ir_sgemv_rows_*, batch-1 fully connected layers): each ISA
 * against a double reference, n and k across the 4-row and vector blocks,
 * strided rows, accumulating into y.
 *
 * Depthwise 3x3 (conv_dw3x3_*): each ISA's kernel against
 * conv_dw3x3_reference over random plane sizes (1 to past two vectors, flat
 * runs not a multiple of the vector), stride 1 "same" and stride 2 with
 * every pad, each register activation; the floats around the output must
 * stay untouched.
 *
 * Convs (im2col while packing, depthwise phase planes, groups, strides,
 * pads, dilations) are checked per ISA by test_conv_random.py.
 *
 * Prints "N passed, M failed"; exit status 1 on any failure.
 * `test-kernels --bench` prints GFLOP/s per kernel on ResNet/MobileNet GEMM
 * shapes instead (tuning aid, not a test). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "conv_internal.h"
#include "cpu.h"
#include "sgemm.h"
#include "threadpool.h"

static int passed, failed;

static unsigned rng_state = 2024;

static float
rnd (void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return ((rng_state >> 8) / 16777216.0f) * 2.0f - 1.0f;
}

static int64_t
rnd_int (int64_t lo, int64_t hi)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return lo + (int64_t) ((rng_state >> 8) % (uint32_t) (hi - lo + 1));
}

static void *
aligned (size_t bytes)
{
  void *p = NULL;
  if (posix_memalign (&p, 64, bytes ? bytes : 64) != 0) {
    fprintf (stderr, "out of memory\n");
    exit (2);
  }
  return p;
}

/* One SGEMM case: C = act (A B + bias + residual), B read with strides. */
static bool
sgemm_case (const ir_sgemm_kernel *kern, ir_thread_pool *pool, int64_t m, int64_t n,
    int64_t k, bool b_transposed, bool with_bias, bool with_residual, ir_activation act,
    char *why, size_t why_size)
{
  const int64_t lda = k + 3, ldb = n + 5, ldc = n + 2, ldr = n + 1;
  float *a = aligned ((size_t) (m * lda) * sizeof (float));
  float *b = aligned ((size_t) (k * ldb + n * (k + 7)) * sizeof (float));
  float *bt = b_transposed ? aligned ((size_t) (n * (k + 7)) * sizeof (float)) : NULL;
  float *c = aligned ((size_t) (m * ldc) * sizeof (float));
  float *ref = aligned ((size_t) (m * ldc) * sizeof (float));
  float *bound = aligned ((size_t) (m * n) * sizeof (float));
  float *bias = aligned ((size_t) m * sizeof (float));
  float *res = aligned ((size_t) (m * ldr) * sizeof (float));
  for (int64_t i = 0; i < m * lda; i++)
    a[i] = rnd ();
  for (int64_t i = 0; i < k * ldb; i++)
    b[i] = rnd ();
  if (bt != NULL)   /* the same B stored transposed: B[kk][j] = bt[j * (k + 7) + kk] */
    for (int64_t kk = 0; kk < k; kk++)
      for (int64_t j = 0; j < n; j++)
        bt[j * (k + 7) + kk] = b[kk * ldb + j];
  for (int64_t i = 0; i < m; i++)
    bias[i] = rnd ();
  for (int64_t i = 0; i < m * ldr; i++)
    res[i] = rnd ();
  for (int64_t i = 0; i < m * ldc; i++)
    c[i] = ref[i] = 1234.5f;   /* padding columns must stay untouched */
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t kk = 0; kk < k; kk++)
        s += fabs ((double) a[i * lda + kk] * b[kk * ldb + j]);
      bound[i * n + j] = (float) s + 1.0f;
    }
  ir_sgemm_reference (m, n, k, a, lda, b, ldb, ref, ldc, with_bias ? bias : NULL,
      with_residual ? res : NULL, ldr, &act);

  float *packed = aligned (ir_sgemm_packed_a_floats (kern, m, k) * sizeof (float));
  ir_sgemm_pack_a (kern, a, lda, 1, m, k, packed);
  /* The scratch as the conv sizes it (a shared packed B where the shape
   * takes one). */
  const size_t scratch_bytes = ir_sgemm_scratch_bytes_for (kern, ir_pool_threads (pool), m, n, k);
  void *scratch = aligned (scratch_bytes);
  ir_sgemm_args args = {
    .m = m, .n = n, .k = k, .a_packed = packed,
    .b = bt != NULL ? bt : b, .b_rs = bt != NULL ? 1 : ldb, .b_cs = bt != NULL ? k + 7 : 1,
    .c = c, .ldc = ldc, .bias = with_bias ? bias : NULL,
    .residual = with_residual ? res : NULL, .ldr = ldr, .act = &act,
    .scratch_bytes = scratch_bytes,
  };
  ir_sgemm (kern, &args, pool, scratch);
  bool ok = true;
  for (int64_t i = 0; i < m && ok; i++)
    for (int64_t j = 0; j < ldc && ok; j++) {
      const float got = c[i * ldc + j], want = ref[i * ldc + j];
      const float tol = j < n ? 1e-5f * bound[i * n + j] : 0.0f;
      if (!(fabsf (got - want) <= tol)) {
        snprintf (why, why_size, "C[%lld][%lld] = %g, reference %g (tolerance %g)",
            (long long) i, (long long) j, got, want, tol);
        ok = false;
      }
    }
  free (a);
  free (b);
  free (bt);
  free (c);
  free (ref);
  free (bound);
  free (bias);
  free (res);
  free (packed);
  free (scratch);
  return ok;
}

static void
test_sgemm (const ir_sgemm_kernel *kern, ir_thread_pool *pool)
{
  const ir_activation acts[] = {
    { IR_ACT_NONE, 0, 0 }, { IR_ACT_RELU, 0, 0 }, { IR_ACT_CLIP, 0.0f, 6.0f },
    { IR_ACT_CLIP, -0.25f, 0.5f }, { IR_ACT_LEAKY_RELU, 0.1f, 0 }, { IR_ACT_SIGMOID, 0, 0 },
    { IR_ACT_HARD_SWISH, 0, 0 },
  };
  const int n_acts = (int) (sizeof acts / sizeof acts[0]);
  const int mr = kern->mr, nr = kern->nr;
  /* Sizes around the register blocks and the K block. */
  const int64_t ms[] = { 1, 2, mr - 1, mr, mr + 1, 2 * mr + 1, 3 * mr + 2 };
  const int64_t ns[] = { 1, 3, nr - 1, nr, nr + 1, 2 * nr + 3, 300 };
  const int64_t ks[] = { 1, 2, 7, IR_SGEMM_KC - 1, IR_SGEMM_KC, IR_SGEMM_KC + 1,
    2 * IR_SGEMM_KC + 5 };
  int cases = 0, bad = 0;
  char why[256], first_bad[512] = "";
  for (size_t im = 0; im < sizeof ms / sizeof ms[0]; im++)
    for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++)
      for (size_t ik = 0; ik < sizeof ks / sizeof ks[0]; ik++) {
        if (ms[im] < 1)
          continue;
        /* Rotate epilogues and layouts so every combination occurs. */
        const int c = cases++;
        const ir_activation act = acts[c % n_acts];
        const bool bias = (c / n_acts) % 2, res = (c / (2 * n_acts)) % 2;
        const bool bt = c % 5 == 0;
        if (!sgemm_case (kern, pool, ms[im], ns[in], ks[ik], bt, bias, res, act, why,
                sizeof why)) {
          if (bad++ == 0)
            snprintf (first_bad, sizeof first_bad, "M=%lld N=%lld K=%lld act=%d bias=%d "
                "residual=%d transposed-B=%d: %s", (long long) ms[im], (long long) ns[in],
                (long long) ks[ik], act.kind, bias, res, bt, why);
        }
      }
  /* Random shapes. */
  for (int r = 0; r < 60; r++) {
    const int64_t m = rnd_int (1, 4 * mr), n = rnd_int (1, 5 * nr), k = rnd_int (1, 600);
    const ir_activation act = acts[r % n_acts];
    if (!sgemm_case (kern, pool, m, n, k, r % 3 == 0, r % 2, r % 4 < 2, act, why,
            sizeof why) && bad++ == 0)
      snprintf (first_bad, sizeof first_bad, "random M=%lld N=%lld K=%lld: %s",
          (long long) m, (long long) n, (long long) k, why);
    cases++;
  }
  /* Deep products on few columns with weights of 512 KB or more: B packed
   * once and shared, rows split over the threads (ResNet's 14x14 and 7x7
   * layers); with smaller weights the columns split (checked below). */
  int shared_cases = 0;
  if (pool != NULL) {
    const int64_t sms[] = { 6 * mr, 6 * mr + 5, 11 * mr + 1 };
    const int64_t sns[] = { 1, nr - 1, 2 * nr + 3, 7 * nr };
    /* K past the 512 KB of A, ending anywhere in a K block */
    const int64_t sk_extra[] = { 0, IR_SGEMM_KC - 1, IR_SGEMM_KC + 1, 3 * IR_SGEMM_KC + 7 };
    for (size_t im = 0; im < sizeof sms / sizeof sms[0]; im++)
      for (size_t in = 0; in < sizeof sns / sizeof sns[0]; in++)
        for (size_t ik = 0; ik < sizeof sk_extra / sizeof sk_extra[0]; ik++) {
          const int64_t m = sms[im], n = sns[in];
          const int64_t k = ((512 << 10) / 4 + m - 1) / m + sk_extra[ik];
          if (ik == 0 && in == 0) {
            /* the same rows with small weights keep the column split */
            const int64_t k_small = ((512 << 10) / 4) / m - 1;
            if (ir_sgemm_scratch_bytes_for (kern, ir_pool_threads (pool), m, n, k_small)
                != ir_sgemm_scratch_bytes (kern, ir_pool_threads (pool)) && bad++ == 0)
              snprintf (first_bad, sizeof first_bad, "M=%lld N=%lld K=%lld (weights under "
                  "512 KB) took the shared packed B", (long long) m, (long long) n,
                  (long long) k_small);
          }
          if (ir_sgemm_scratch_bytes_for (kern, ir_pool_threads (pool), m, n, k)
              <= ir_sgemm_scratch_bytes (kern, ir_pool_threads (pool))) {
            if (bad++ == 0)
              snprintf (first_bad, sizeof first_bad, "M=%lld N=%lld K=%lld did not take "
                  "the shared packed B", (long long) m, (long long) n, (long long) k);
            continue;
          }
          const int c = cases++;
          shared_cases++;
          const ir_activation act = acts[c % n_acts];
          if (!sgemm_case (kern, pool, m, n, k, c % 3 == 0, c % 2, c % 4 < 2, act, why,
                  sizeof why) && bad++ == 0)
            snprintf (first_bad, sizeof first_bad, "shared B M=%lld N=%lld K=%lld: %s",
                (long long) m, (long long) n, (long long) k, why);
        }
  }
  /* One thread: more rows than one row chunk (48 panels) over at most 8
   * strips (ResNet's 7x7 maps, M = 512, N = 49): B built once into the
   * shared buffer, not once per row chunk; 9 strips keep the row chunks. */
  if (pool == NULL) {
    const int64_t sms[] = { 48 * mr + 1, 61 * mr + 5 };
    const int64_t sns[] = { 1, nr + 3, 8 * nr };
    const int64_t sks[] = { 1, IR_SGEMM_KC + 1, 2 * IR_SGEMM_KC + 7 };
    for (size_t im = 0; im < sizeof sms / sizeof sms[0]; im++) {
      if (ir_sgemm_scratch_bytes_for (kern, 1, sms[im], 8 * nr + 1, 300)
          != ir_sgemm_scratch_bytes (kern, 1) && bad++ == 0)
        snprintf (first_bad, sizeof first_bad, "1 thread, M=%lld N=%lld took the shared B",
            (long long) sms[im], (long long) (8 * nr + 1));
      for (size_t in = 0; in < sizeof sns / sizeof sns[0]; in++)
        for (size_t ik = 0; ik < sizeof sks / sizeof sks[0]; ik++) {
          const int64_t m = sms[im], n = sns[in], k = sks[ik];
          if (ir_sgemm_scratch_bytes_for (kern, 1, m, n, k) <= ir_sgemm_scratch_bytes (kern, 1)) {
            if (bad++ == 0)
              snprintf (first_bad, sizeof first_bad, "1 thread, M=%lld N=%lld K=%lld did not "
                  "take the shared packed B", (long long) m, (long long) n, (long long) k);
            continue;
          }
          const int c = cases++;
          shared_cases++;
          const ir_activation act = acts[c % n_acts];
          if (!sgemm_case (kern, pool, m, n, k, c % 3 == 0, c % 2, c % 4 < 2, act, why,
                  sizeof why) && bad++ == 0)
            snprintf (first_bad, sizeof first_bad, "1 thread, shared B M=%lld N=%lld K=%lld: %s",
                (long long) m, (long long) n, (long long) k, why);
        }
    }
  }
  char name[128];
  snprintf (name, sizeof name, "sgemm %s, %d threads, %d cases (%d with a shared B)",
      kern->name, ir_pool_threads (pool), cases, shared_cases);
  if (bad == 0) {
    passed++;
    printf ("PASS %s\n", name);
  } else {
    failed++;
    printf ("FAIL %s: %d bad; first: %s\n", name, bad, first_bad);
  }
}

static void
test_sgemv (ir_isa isa, ir_sgemv_rows_fn fn)
{
  int cases = 0, bad = 0;
  char first_bad[256] = "";
  const int64_t ns[] = { 1, 3, 4, 5, 9, 70 };
  const int64_t ks[] = { 1, 7, 8, 15, 16, 17, 33, 600 };
  for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++)
    for (size_t ik = 0; ik < sizeof ks / sizeof ks[0]; ik++) {
      const int64_t n = ns[in], k = ks[ik], ldb = k + (int64_t) (ik % 3) * 5;
      float *x = aligned ((size_t) k * sizeof (float));
      float *b = aligned ((size_t) (n * ldb) * sizeof (float));
      float *y = aligned ((size_t) n * sizeof (float));
      double *want = malloc ((size_t) n * sizeof (double));
      const float alpha = cases % 2 ? 1.0f : -0.75f;
      for (int64_t i = 0; i < k; i++)
        x[i] = rnd ();
      for (int64_t i = 0; i < n * ldb; i++)
        b[i] = rnd ();
      double bound = 1.0;
      for (int64_t j = 0; j < n; j++) {
        y[j] = rnd ();
        double s = 0, mag = 0;
        for (int64_t kk = 0; kk < k; kk++) {
          s += (double) x[kk] * b[j * ldb + kk];
          mag += fabs ((double) x[kk] * b[j * ldb + kk]);
        }
        want[j] = y[j] + alpha * s;
        bound = mag + 1.0 > bound ? mag + 1.0 : bound;
      }
      fn (n, k, alpha, x, b, ldb, y);
      for (int64_t j = 0; j < n; j++)
        if (!(fabs (y[j] - want[j]) <= 1e-5 * bound) && bad++ == 0)
          snprintf (first_bad, sizeof first_bad, "n=%lld k=%lld ldb=%lld: y[%lld] = %g, "
              "expected %g", (long long) n, (long long) k, (long long) ldb, (long long) j,
              y[j], want[j]);
      cases++;
      free (x);
      free (b);
      free (y);
      free (want);
    }
  char name[128];
  snprintf (name, sizeof name, "row gemv %s, %d cases", ir_cpu_isa_name (isa), cases);
  if (bad == 0) {
    passed++;
    printf ("PASS %s\n", name);
  } else {
    failed++;
    printf ("FAIL %s: %d bad; first: %s\n", name, bad, first_bad);
  }
}

/* One product with B packed whole (MatMul's and Gemm's constant weights)
 * and A packed at run time times alpha: C = act (alpha A B + bias +
 * residual), the residual's row stride 0 (one row for all, a Gemm bias of
 * shape [N]) or n; M = 1 runs as a row times the packed B.  False with the
 * reason in why. */
static bool
packed_b_case (const ir_sgemm_kernel *kern, ir_thread_pool *pool, int64_t m, int64_t n,
    int64_t k, float alpha, bool a_transposed, bool b_transposed, bool bias_row,
    int64_t ldr, ir_activation act, char *why, size_t why_size)
{
  float *a = aligned ((size_t) (m * k) * sizeof (float));
  float *a_scaled = aligned ((size_t) (m * k) * sizeof (float));
  float *b = aligned ((size_t) (k * n) * sizeof (float));
  float *c = aligned ((size_t) (m * n) * sizeof (float));
  float *ref = aligned ((size_t) (m * n) * sizeof (float));
  float *res = aligned ((size_t) ((ldr > 0 ? m : 1) * n) * sizeof (float));
  float bias = rnd ();
  for (int64_t i = 0; i < m * k; i++)
    a[i] = rnd ();
  for (int64_t i = 0; i < k * n; i++)
    b[i] = rnd ();
  for (int64_t i = 0; i < (ldr > 0 ? m : 1) * n; i++)
    res[i] = rnd ();
  /* A[i][kk] is a[i k + kk], or a[kk m + i] stored transposed; likewise B */
  for (int64_t i = 0; i < m; i++)
    for (int64_t kk = 0; kk < k; kk++)
      a_scaled[i * k + kk] = alpha * (a_transposed ? a[kk * m + i] : a[i * k + kk]);
  float *b_rows = aligned ((size_t) (k * n) * sizeof (float));
  for (int64_t kk = 0; kk < k; kk++)
    for (int64_t j = 0; j < n; j++)
      b_rows[kk * n + j] = b_transposed ? b[j * k + kk] : b[kk * n + j];
  float *bias_rows = aligned ((size_t) m * sizeof (float));
  for (int64_t i = 0; i < m; i++)
    bias_rows[i] = bias;
  ir_sgemm_reference (m, n, k, a_scaled, k, b_rows, n, ref, n, bias_row ? bias_rows : NULL,
      res, ldr, &act);

  float *bp = aligned (ir_sgemm_packed_b_floats (kern, k, n) * sizeof (float));
  ir_sgemm_pack_b (kern, b, b_transposed ? 1 : n, b_transposed ? k : 1, k, n, bp);
  float *ap = aligned (ir_sgemm_packed_a_floats (kern, m, k) * sizeof (float));
  const size_t scratch_bytes = ir_sgemm_scratch_bytes_for (kern, ir_pool_threads (pool), m, n, k);
  void *scratch = aligned (scratch_bytes);
  if (m == 1 && !a_transposed)
    ir_sgemv_packed (kern, n, k, alpha, a, bp, c, bias_row ? &bias : NULL, res, &act, pool);
  else {
    ir_sgemm_pack_a_run (kern, a, a_transposed ? 1 : k, a_transposed ? m : 1, m, k, alpha, ap,
        pool);
    const ir_sgemm_args args = {
      .m = m, .n = n, .k = k, .a_packed = ap, .b_packed = bp, .c = c, .ldc = n,
      .bias = bias_row ? bias_rows : NULL, .residual = res, .ldr = ldr, .act = &act,
      .scratch_bytes = scratch_bytes,
    };
    ir_sgemm (kern, &args, pool, scratch);
  }
  bool ok = true;
  for (int64_t i = 0; i < m && ok; i++)
    for (int64_t j = 0; j < n && ok; j++) {
      double bound = 1.0;
      for (int64_t kk = 0; kk < k; kk++)
        bound += fabs ((double) a_scaled[i * k + kk] * b_rows[kk * n + j]);
      const float got = c[i * n + j], want = ref[i * n + j];
      if (!(fabs ((double) got - want) <= 1e-5 * bound)) {
        snprintf (why, why_size, "C[%lld][%lld] = %g, reference %g", (long long) i,
            (long long) j, got, want);
        ok = false;
      }
    }
  free (a);
  free (a_scaled);
  free (b);
  free (b_rows);
  free (c);
  free (ref);
  free (res);
  free (bias_rows);
  free (bp);
  free (ap);
  free (scratch);
  return ok;
}

static void
test_packed_b (const ir_sgemm_kernel *kern, ir_thread_pool *pool)
{
  const ir_activation acts[] = {
    { IR_ACT_NONE, 0, 0 }, { IR_ACT_RELU, 0, 0 }, { IR_ACT_CLIP, -0.25f, 0.5f },
    { IR_ACT_TANH, 0, 0 },
  };
  const int mr = kern->mr, nr = kern->nr;
  const int64_t ms[] = { 1, 2, mr, mr + 1, 3 * mr + 2 };
  const int64_t ns[] = { 1, nr - 1, nr, 2 * nr + 3, 300 };
  const int64_t ks[] = { 1, 5, IR_SGEMM_KC, IR_SGEMM_KC + 3, 2 * IR_SGEMM_KC + 9 };
  int cases = 0, bad = 0;
  char why[256], first_bad[512] = "";
  for (size_t im = 0; im < sizeof ms / sizeof ms[0]; im++)
    for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++)
      for (size_t ik = 0; ik < sizeof ks / sizeof ks[0]; ik++) {
        const int c = cases++;
        const int64_t m = ms[im], n = ns[in], k = ks[ik];
        const float alpha = c % 3 == 0 ? 1.0f : c % 3 == 1 ? -0.5f : 2.0f;
        const bool at = c % 4 == 1, bt = c % 2 == 0, bias = c % 5 < 2;
        const int64_t ldr = c % 3 == 2 ? n : 0;
        if (!packed_b_case (kern, pool, m, n, k, alpha, at, bt, bias, ldr, acts[c % 4], why,
                sizeof why) && bad++ == 0)
          snprintf (first_bad, sizeof first_bad, "M=%lld N=%lld K=%lld alpha=%g transposed "
              "A=%d B=%d bias=%d ldr=%lld act=%d: %s", (long long) m, (long long) n,
              (long long) k, alpha, at, bt, bias, (long long) ldr, acts[c % 4].kind, why);
      }
  char name[128];
  snprintf (name, sizeof name, "sgemm %s packed B, run-time A, %s, %d cases", kern->name,
      pool != NULL ? "3 threads" : "1 thread", cases);
  if (bad == 0) {
    passed++;
    printf ("PASS %s\n", name);
  } else {
    failed++;
    printf ("FAIL %s: %d bad; first: %s\n", name, bad, first_bad);
  }
}

/* One depthwise 3x3 plane; false with the reason in why. */
static bool
dw3x3_case (conv_dw3x3_fn fn, conv_dw3x3_args a, char *why, size_t why_size)
{
  const int64_t in_n = a.in_h * a.in_w, out_n = a.out_h * a.out_w, guard = 40;
  float *in = aligned ((size_t) in_n * sizeof (float));
  float *w = aligned ((size_t) (a.k * a.k) * sizeof (float));
  float *got = aligned ((size_t) (out_n + 2 * guard) * sizeof (float));
  float *want = aligned ((size_t) out_n * sizeof (float));
  for (int64_t i = 0; i < in_n; i++)
    in[i] = rnd ();
  for (int i = 0; i < a.k * a.k; i++)
    w[i] = rnd ();
  for (int64_t i = 0; i < out_n + 2 * guard; i++)
    got[i] = 1234.5f;
  a.in = in;
  a.w = w;
  a.bias = rnd ();
  a.out = want;
  conv_dw3x3_reference (&a);
  a.out = got + guard;
  fn (&a);
  bool ok = true;
  for (int64_t i = 0; i < out_n + 2 * guard && ok; i++) {
    const bool inside = i >= guard && i < guard + out_n;
    const float g = got[i], r = inside ? want[i - guard] : 1234.5f;
    /* |bias| + k^2 taps of |w x| <= 1 + k^2 */
    if (!(fabsf (g - r) <= (inside ? 1e-5f * (float) (1 + a.k * a.k) : 0.0f))) {
      snprintf (why, why_size, "%s [%lld] = %g, expected %g",
          inside ? "output" : "a float outside the output", (long long) (i - guard), g, r);
      ok = false;
    }
  }
  free (in);
  free (w);
  free (got);
  free (want);
  return ok;
}

static void
test_dw3x3 (ir_isa isa, conv_dw3x3_fn fn)
{
  const int acts[] = { IR_SGEMM_ACT_NONE, IR_SGEMM_ACT_RELU, IR_SGEMM_ACT_CLIP,
    IR_SGEMM_ACT_LEAKY };
  int cases = 0, bad = 0;
  char why[256], first_bad[512] = "";
  const int n_sizes = 3;   /* 3x3, 5x5, 7x7 */
  for (int r = 0; r < 400 * n_sizes; r++) {
    conv_dw3x3_args a = { 0 };
    a.k = 3 + 2 * (r % n_sizes);
    const int64_t k = a.k, rad = (k - 1) / 2;
    /* Small planes often (7, 14, 15-17 wide: partial vectors), up to 40. */
    a.in_h = r % 4 == 0 ? rnd_int (1, 40) : rnd_int (1, 18);
    a.in_w = r % 4 == 1 ? rnd_int (1, 40) : rnd_int (1, 18);
    a.stride = r / n_sizes % 2 ? 2 : 1;
    if (a.stride == 1) {
      a.pad_h = a.pad_w = rad;
      a.out_h = a.in_h;
      a.out_w = a.in_w;
    } else {
      a.pad_h = rnd_int (0, rad + 1);
      a.pad_w = rnd_int (0, rad + 1);
      const int64_t end_h = rnd_int (0, rad + 1), end_w = rnd_int (0, rad + 1);
      if (a.in_h + a.pad_h + end_h < k || a.in_w + a.pad_w + end_w < k)
        continue;
      a.out_h = (a.in_h + a.pad_h + end_h - k) / 2 + 1;
      a.out_w = (a.in_w + a.pad_w + end_w - k) / 2 + 1;
    }
    a.act = acts[r / 2 % 4];
    a.lo = -0.3f;
    a.hi = 0.6f;
    a.alpha = 0.1f;
    cases++;
    if (!dw3x3_case (fn, a, why, sizeof why) && bad++ == 0)
      snprintf (first_bad, sizeof first_bad, "k%lld in %lldx%lld out %lldx%lld stride %lld pads "
          "%lld,%lld act %d: %s", (long long) a.k, (long long) a.in_h, (long long) a.in_w,
          (long long) a.out_h, (long long) a.out_w, (long long) a.stride,
          (long long) a.pad_h, (long long) a.pad_w, a.act, why);
  }
  char name[128];
  snprintf (name, sizeof name, "depthwise 3x3/5x5/7x7 %s, %d cases", ir_cpu_isa_name (isa),
      cases);
  if (bad == 0) {
    passed++;
    printf ("PASS %s\n", name);
  } else {
    failed++;
    printf ("FAIL %s: %d bad; first: %s\n", name, bad, first_bad);
  }
}

#include <time.h>

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* --bench: GFLOP/s of each kernel on ResNet-18/MobileNetV2-like shapes
 * (median of 15), for tuning; not a test. */
static void
bench_sgemm (const ir_sgemm_kernel *kern)
{
  static const int64_t shapes[][3] = {
    { 64, 3136, 576 }, { 128, 784, 1152 }, { 256, 196, 2304 }, { 512, 49, 4608 },
    { 64, 12544, 147 }, { 96, 3136, 24 }, { 960, 49, 160 }, { 160, 49, 960 },
  };
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    const int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
    float *a = aligned ((size_t) (m * k) * sizeof (float));
    float *b = aligned ((size_t) (k * n) * sizeof (float));
    float *c = aligned ((size_t) (m * n) * sizeof (float));
    for (int64_t i = 0; i < m * k; i++)
      a[i] = rnd ();
    for (int64_t i = 0; i < k * n; i++)
      b[i] = rnd ();
    float *packed = aligned (ir_sgemm_packed_a_floats (kern, m, k) * sizeof (float));
    ir_sgemm_pack_a (kern, a, k, 1, m, k, packed);
    void *scratch = aligned (ir_sgemm_scratch_bytes (kern, 1));
    ir_sgemm_args args = { .m = m, .n = n, .k = k, .a_packed = packed, .b = b, .b_rs = n,
      .b_cs = 1, .c = c, .ldc = n };
    double t[15];
    for (int r = 0; r < 15; r++) {
      double t0 = now_s ();
      ir_sgemm (kern, &args, NULL, scratch);
      t[r] = now_s () - t0;
    }
    for (int i = 0; i < 15; i++)
      for (int j = i + 1; j < 15; j++)
        if (t[j] < t[i]) {
          double x = t[i];
          t[i] = t[j];
          t[j] = x;
        }
    printf ("bench %s M=%lld N=%lld K=%lld: %.1f GFLOP/s (median), %.1f (best)\n", kern->name,
        (long long) m, (long long) n, (long long) k, 2e-9 * m * n * k / t[7],
        2e-9 * m * n * k / t[0]);
    free (a);
    free (b);
    free (c);
    free (packed);
    free (scratch);
  }
}

int
main (int argc, char **argv)
{
  if (argc > 1 && strcmp (argv[1], "--bench") == 0) {
    for (int isa = IR_ISA_AVX2; isa <= IR_ISA_AVX512; isa++)
      if (ir_sgemm_kernel_for ((ir_isa) isa) != NULL)
        bench_sgemm (ir_sgemm_kernel_for ((ir_isa) isa));
    return 0;
  }
  const ir_cpu_info *cpu = ir_cpu ();
  printf ("# machine ISA %s, in use %s (IMGREC_ISA caps it)\n",
      ir_cpu_isa_name (cpu->machine), ir_cpu_isa_name (cpu->isa));
  ir_thread_pool *pool3 = ir_pool_new (3);
  for (int isa = IR_ISA_REF; isa <= IR_ISA_AVX512; isa++) {
    const ir_sgemm_kernel *kern = ir_sgemm_kernel_for ((ir_isa) isa);
    if (kern == NULL) {
      printf ("SKIP sgemm %s: not supported by this machine\n", ir_cpu_isa_name ((ir_isa) isa));
      continue;
    }
    test_sgemm (kern, NULL);
    test_sgemm (kern, pool3);
    test_packed_b (kern, NULL);
    test_packed_b (kern, pool3);
  }
  ir_pool_free (pool3);
  for (int isa = IR_ISA_REF; isa <= IR_ISA_AVX512; isa++) {
    ir_sgemv_rows_fn fn = ir_sgemv_rows_for ((ir_isa) isa);
    if (fn == NULL)
      printf ("SKIP row gemv %s: not supported by this machine\n",
          ir_cpu_isa_name ((ir_isa) isa));
    else
      test_sgemv ((ir_isa) isa, fn);
  }
  /* A stride-2 3x3 depthwise geometry: every ISA with such a kernel has it. */
  conv_geometry dw = { .in_per_group = 1 };
  dw.low.n_spatial = 2;
  for (int i = 0; i < 2; i++) {
    dw.low.kernel[i] = 3;
    dw.low.dilation[i] = 1;
    dw.low.stride[i] = 2;
  }
  for (int isa = IR_ISA_AVX2; isa <= IR_ISA_AVX512; isa++) {
    conv_dw3x3_fn fn = conv_dw3x3_kernel_for ((ir_isa) isa, &dw);
    if (fn == NULL)
      printf ("SKIP depthwise 3x3 %s: no such kernel on this machine\n",
          ir_cpu_isa_name ((ir_isa) isa));
    else
      test_dw3x3 ((ir_isa) isa, fn);
  }
  printf ("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
