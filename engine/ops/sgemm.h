/* Our packed single-precision GEMM: C = A · B (+ C) with a fused epilogue.
 *
 *   A   [M x K], usually constant weights, packed once (ir_sgemm_pack_a) into
 *       the kernel's order: K blocks of IR_SGEMM_KC, each a run of MR-row
 *       panels stored k-major ([k][MR]), rows past M zero; 64-byte aligned.
 *   B   [K x N], read through strides (row k, column j at b[k * rs + j * cs]),
 *       packed at run time into NR-column strips per thread (scratch); or,
 *       constant (MatMul's and Gemm's weights), packed whole once
 *       (ir_sgemm_pack_b), A then being packed at run time.
 *   C   [M x N] row-major with leading dimension ldc.
 *
 * The epilogue runs in registers on the last K block, before the one store:
 * bias per row (output channel), a residual tensor added (ResNet's Add
 * fused into the conv), then ReLU / Clip / LeakyRelu; other activations are
 * applied to the tile rows right after their store, while in L1.
 *
 * One parallel region per call: work units are (column chunk x row chunk),
 * so deep small maps (7x7, 14x14) split over output channels and large maps
 * over columns.  The kernel table (ir_sgemm_kernel_for) is filled once per
 * ISA: avx512 12x32 and avx2 6x16 (each with narrower tiles for the last
 * panel of M and the last strip of N), ref (plain C) 4x8; IMGREC_ISA caps
 * it. */
#ifndef IMGREC_SGEMM_H
#define IMGREC_SGEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"
#include "op.h"

#define IR_SGEMM_KC 256        /* K block: a B strip of KC x NR stays in L1 */
#define IR_SGEMM_MAX_MR 12
#define IR_SGEMM_MAX_NR 32

/* What the microkernel does after its K loop. */
typedef struct ir_sgemm_tile_epilogue {
  bool accumulate;             /* add C's current values (K blocks after the first) */
  bool last;                   /* last K block: apply bias, residual, activation */
  const float *bias;           /* bias of the tile's first row, or NULL */
  const float *residual;       /* residual element of the tile's (0, 0), or NULL */
  int64_t ldr;
  int act;                     /* IR_SGEMM_ACT_* */
  float lo, hi, alpha;         /* Clip bounds; LeakyRelu slope */
} ir_sgemm_tile_epilogue;

enum { IR_SGEMM_ACT_NONE, IR_SGEMM_ACT_RELU, IR_SGEMM_ACT_CLIP, IR_SGEMM_ACT_LEAKY };

/* The IR_SGEMM_ACT_* code and parameters of an activation the kernels apply
 * in registers (ReLU, Clip, LeakyRelu; none for NULL or IR_ACT_NONE): true;
 * false (code NONE) for the others, which the caller applies after the
 * store (ir_activation_apply). */
bool ir_sgemm_register_act (const ir_activation *act, int *code, float *lo, float *hi,
    float *alpha);

/* MR x NR tile: C = epilogue (A panel · B strip); kc >= 1.  Only the first
 * `rows` rows and `cols` columns of C (and of the residual) are read and
 * written (masked loads/stores on the edges of M and N). */
typedef void (*ir_sgemm_tile_fn) (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);

/* y[0, nr) += sum over k < kc of x[k] b[k * nr + j]: one strip of a packed B
 * times a row (ir_sgemv_packed). */
typedef void (*ir_sgemv_strip_fn) (int64_t kc, const float *x, const float *b, float *y);

typedef struct ir_sgemm_kernel {
  ir_isa isa;
  const char *name;            /* e.g. "avx512 12x32" */
  int mr, nr;
  ir_sgemm_tile_fn tile;
  /* Tiles of the same panels and strips for at most short_mr[i] rows (0:
   * none), the narrowest first (the last panel when M is not a multiple of
   * mr), and for at most half_nr columns (0: none) in half_tile[i] (row
   * counts short_mr[0], short_mr[1], mr): the last strip of N. */
  int short_mr[2];
  ir_sgemm_tile_fn short_tile[2];
  int half_nr;
  ir_sgemm_tile_fn half_tile[3];
  ir_sgemv_strip_fn gemv_strip;
} ir_sgemm_kernel;

/* The kernel for ir_cpu ()->isa (cached); or for an explicit ISA, NULL when
 * the machine cannot run it. */
const ir_sgemm_kernel *ir_sgemm_kernel_default (void);
const ir_sgemm_kernel *ir_sgemm_kernel_for (ir_isa isa);

/* Packed A: floats of the packed matrix, and packing of A[i][k] =
 * a[i * rs + k * cs]. */
size_t ir_sgemm_packed_a_floats (const ir_sgemm_kernel *kern, int64_t m, int64_t k);
void ir_sgemm_pack_a (const ir_sgemm_kernel *kern, const float *a, int64_t rs, int64_t cs,
    int64_t m, int64_t k, float *packed);
/* The same at run time (A an activation: MatMul, Gemm), times alpha, split
 * over the pool. */
void ir_sgemm_pack_a_run (const ir_sgemm_kernel *kern, const float *a, int64_t rs, int64_t cs,
    int64_t m, int64_t k, float alpha, float *packed, ir_thread_pool *pool);

/* B packed whole (a constant B: MatMul's and Gemm's weights), in the order
 * the kernel reads it: K blocks of IR_SGEMM_KC, each the run of nr-column
 * strips ([k][nr], columns past n zero) of every column; B[k][j] =
 * b[k * rs + j * cs]. */
size_t ir_sgemm_packed_b_floats (const ir_sgemm_kernel *kern, int64_t k, int64_t n);
void ir_sgemm_pack_b (const ir_sgemm_kernel *kern, const float *b, int64_t rs, int64_t cs,
    int64_t k, int64_t n, float *packed);

/* Packs B rows [k0, k0 + kc), columns [n0, n1) into strips of nr columns
 * ([k][nr] each, columns past n1 zero): lets a caller build B while packing
 * (Conv's im2col, without a column matrix). */
typedef void (*ir_sgemm_pack_b_fn) (const void *ctx, int nr, int64_t k0, int64_t kc,
    int64_t n0, int64_t n1, float *dst);

typedef struct ir_sgemm_args {
  int64_t m, n, k;
  const float *a_packed;       /* ir_sgemm_pack_a with the same kernel */
  const float *b;
  int64_t b_rs, b_cs;          /* B[k][j] = b[k * b_rs + j * b_cs] */
  const float *b_packed;       /* if set, B is this (ir_sgemm_pack_b, same kernel), not b */
  ir_sgemm_pack_b_fn pack_b;   /* if set, B comes from pack_b (pack_b_ctx), not b */
  const void *pack_b_ctx;
  float *c;
  int64_t ldc;
  const float *bias;           /* [M] or NULL */
  const float *residual;       /* [M x N], leading dimension ldr, or NULL */
  int64_t ldr;
  const ir_activation *act;    /* NULL = none */
  size_t scratch_bytes;        /* the scratch's size: 0 (unknown) keeps to the
                                  ir_sgemm_scratch_bytes layout, no shared B */
} ir_sgemm_args;

/* Scratch for a call on `threads` threads (B strips): enough for a call
 * without a pool (one thread), or with a pool on products that split over
 * columns.  ir_sgemm_scratch_bytes_for is what a call of that shape on a
 * pool of that width needs (a shared packed B for deep small maps too); a
 * pool narrower than `threads` needs no more. */
size_t ir_sgemm_scratch_bytes (const ir_sgemm_kernel *kern, int threads);
size_t ir_sgemm_scratch_bytes_for (const ir_sgemm_kernel *kern, int threads, int64_t m,
    int64_t n, int64_t k);

/* C[1 x n] = act (alpha x B + bias + residual) for one row x[k] (contiguous)
 * and a B packed whole (ir_sgemm_pack_b, same kernel): a batch-1 fully
 * connected layer, B streamed once, strips split over the pool.  bias is
 * one value (bias[0]) or NULL, residual [n] or NULL; no scratch. */
void ir_sgemv_packed (const ir_sgemm_kernel *kern, int64_t n, int64_t k, float alpha,
    const float *x, const float *b_packed, float *c, const float *bias, const float *residual,
    const ir_activation *act, ir_thread_pool *pool);

/* Runs the product; scratch is 64-byte aligned, ir_sgemm_scratch_bytes. */
void ir_sgemm (const ir_sgemm_kernel *kern, const ir_sgemm_args *args, ir_thread_pool *pool,
    void *scratch);

/* Plain-C reference of ir_sgemm (unpacked row-major A with lda), for tests. */
void ir_sgemm_reference (int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
    const float *b, int64_t ldb, float *c, int64_t ldc, const float *bias,
    const float *residual, int64_t ldr, const ir_activation *act);

/* Rows times a vector, accumulated: y[j] += alpha * sum_k x[k] b[j ldb + k]
 * for j < n (a batch-1 fully connected layer, Gemm with transB: every row
 * of B is read once, in order).  Per ISA like the SGEMM kernels; NULL from
 * ir_sgemv_rows_for when the machine cannot run that ISA. */
typedef void (*ir_sgemv_rows_fn) (int64_t n, int64_t k, float alpha, const float *x,
    const float *b, int64_t ldb, float *y);
ir_sgemv_rows_fn ir_sgemv_rows_default (void);
ir_sgemv_rows_fn ir_sgemv_rows_for (ir_isa isa);
void ir_sgemv_rows_ref (int64_t n, int64_t k, float alpha, const float *x, const float *b,
    int64_t ldb, float *y);
void ir_sgemv_rows_avx2 (int64_t n, int64_t k, float alpha, const float *x, const float *b,
    int64_t ldb, float *y);
void ir_sgemv_rows_avx512 (int64_t n, int64_t k, float alpha, const float *x, const float *b,
    int64_t ldb, float *y);

/* The per-ISA microkernels (sgemm_avx2.c, sgemm_avx512.c, sgemm.c). */
void ir_sgemv_strip_ref (int64_t kc, const float *x, const float *b, float *y);
void ir_sgemv_strip_avx2 (int64_t kc, const float *x, const float *b, float *y);
void ir_sgemv_strip_avx512 (int64_t kc, const float *x, const float *b, float *y);
void ir_sgemm_tile_ref_4x8 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx2_6x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx2_4x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx2_2x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx2_6x8 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx2_4x8 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx2_2x8 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx512_12x32 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx512_8x32 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx512_4x32 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx512_12x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx512_8x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);
void ir_sgemm_tile_avx512_4x16 (int64_t kc, const float *a, const float *b, float *c,
    int64_t ldc, int rows, int cols, const ir_sgemm_tile_epilogue *e);

#endif
