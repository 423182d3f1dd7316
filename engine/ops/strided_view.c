/* The data movement shared by the layout ops (reshape.c, slice.c,
 * transpose.c, tile.c, gather.c): whole-tensor copies and the strided view.
 *
 * Most layout ops are one loop skeleton, the strided view: the output is
 * dense and each output dimension reads the input with its own element
 * stride (0 to broadcast, negative to walk backwards).  Transpose, Slice,
 * Split, Expand, Tile, DepthToSpace and SpaceToDepth only differ in how they
 * build that view; this file walks it, by rows or, when the input's
 * contiguous dim is not the output's last, by blocked-transpose tiles.
 */
#include <string.h>

#include "cpu.h"
#include "strided_view.h"

/* Side of the square tiles of the blocked transpose. */
#define TRANSPOSE_TILE 16

void
dense_strides (int rank, const int64_t *dims, int64_t *strides)
{
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
}

int64_t
copy_grain (int64_t per_item, int64_t target)
{
  return per_item >= target ? 1 : target / per_item;
}

/* ---- whole-tensor copy (ops that keep the element order) ---- */

typedef struct bytes_job {
  char *dst;
  const char *src;
} bytes_job;

static void
copy_bytes_range (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const bytes_job *job = arg;
  memcpy (job->dst + begin, job->src + begin, (size_t) (end - begin));
}

void
copy_bytes (ir_thread_pool *pool, void *dst, const void *src, size_t n)
{
  if (n == 0 || dst == src)
    return;
  bytes_job job = { dst, src };
  ir_parallel_for (pool, (int64_t) n, (int64_t) COPY_GRAIN_ELEMS * 16, copy_bytes_range, &job);
}

void
copy_tensor_data (const op_run_ctx *ctx, ir_tensor *out, const ir_tensor *in)
{
  copy_bytes (ctx->pool, out->data, in->data, ir_nbytes (in));
}

/* ---- the strided view ---- */

/* Drops size-1 dims and merges neighbours that the input walks contiguously,
 * so that the inner loop runs as long as possible. */
static void
view_simplify (strided_view *v)
{
  int r = 0;
  for (int k = 0; k < v->rank; k++) {
    if (v->dims[k] == 1)
      continue;
    if (r > 0 && v->strides[r - 1] == v->strides[k] * v->dims[k]) {
      v->dims[r - 1] *= v->dims[k];
      v->strides[r - 1] = v->strides[k];
      continue;
    }
    v->dims[r] = v->dims[k];
    v->strides[r] = v->strides[k];
    r++;
  }
  v->rank = r;
}

/* One output row: n elements read with a stride.  Fixed element sizes let
 * the compiler turn the copies into single moves. */
#define DEFINE_COPY_ROW(type)                                                  \
  static inline void                                                          \
  copy_row_##type (type *restrict dst, const type *restrict src, int64_t n,   \
      int64_t stride)                                                         \
  {                                                                           \
    if (stride == 1) {                                                        \
      memcpy (dst, src, (size_t) n * sizeof *dst);                            \
    } else if (stride == 0) {                                                 \
      type value = *src;                                                      \
      for (int64_t i = 0; i < n; i++)                                         \
        dst[i] = value;                                                       \
    } else {                                                                  \
      for (int64_t i = 0; i < n; i++)                                         \
        dst[i] = src[i * stride];                                             \
    }                                                                         \
  }
DEFINE_COPY_ROW (uint8_t)
DEFINE_COPY_ROW (uint32_t)
DEFINE_COPY_ROW (uint64_t)

static inline void
copy_row (size_t esize, void *dst, const void *src, int64_t n, int64_t stride)
{
  switch (esize) {
    case 1: copy_row_uint8_t (dst, src, n, stride); break;
    case 4: copy_row_uint32_t (dst, src, n, stride); break;
    default: copy_row_uint64_t (dst, src, n, stride); break;
  }
}

/* A rows x cols block: dst[i * dst_pitch + j] = src[i + j * src_pitch].
 * Tiles keep both the reads and the writes within a few cache lines. */
#define DEFINE_TRANSPOSE_BLOCK(type)                                           \
  static void                                                                 \
  transpose_block_##type (type *restrict dst, int64_t dst_pitch,              \
      const type *restrict src, int64_t src_pitch, int64_t rows, int64_t cols)\
  {                                                                           \
    for (int64_t j0 = 0; j0 < cols; j0 += TRANSPOSE_TILE) {                   \
      int64_t j1 = j0 + TRANSPOSE_TILE < cols ? j0 + TRANSPOSE_TILE : cols;   \
      for (int64_t i = 0; i < rows; i++) {                                    \
        type *d = dst + i * dst_pitch;                                        \
        const type *s = src + i;                                              \
        for (int64_t j = j0; j < j1; j++)                                     \
          d[j] = s[j * src_pitch];                                            \
      }                                                                       \
    }                                                                         \
  }
DEFINE_TRANSPOSE_BLOCK (uint8_t)
DEFINE_TRANSPOSE_BLOCK (uint64_t)

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86_TRANSPOSE 1

/* 8x8 block of 32-bit elements in AVX registers: src rows are the input's
 * contiguous runs (pitch src_pitch between them), dst rows likewise. */
__attribute__ ((target ("avx2")))
static inline void
transpose_8x8_avx2 (uint32_t *dst, int64_t dst_pitch, const uint32_t *src,
    int64_t src_pitch)
{
  __m256 r0 = _mm256_loadu_ps ((const float *) (src + 0 * src_pitch));
  __m256 r1 = _mm256_loadu_ps ((const float *) (src + 1 * src_pitch));
  __m256 r2 = _mm256_loadu_ps ((const float *) (src + 2 * src_pitch));
  __m256 r3 = _mm256_loadu_ps ((const float *) (src + 3 * src_pitch));
  __m256 r4 = _mm256_loadu_ps ((const float *) (src + 4 * src_pitch));
  __m256 r5 = _mm256_loadu_ps ((const float *) (src + 5 * src_pitch));
  __m256 r6 = _mm256_loadu_ps ((const float *) (src + 6 * src_pitch));
  __m256 r7 = _mm256_loadu_ps ((const float *) (src + 7 * src_pitch));
  __m256 t0 = _mm256_unpacklo_ps (r0, r1), t1 = _mm256_unpackhi_ps (r0, r1);
  __m256 t2 = _mm256_unpacklo_ps (r2, r3), t3 = _mm256_unpackhi_ps (r2, r3);
  __m256 t4 = _mm256_unpacklo_ps (r4, r5), t5 = _mm256_unpackhi_ps (r4, r5);
  __m256 t6 = _mm256_unpacklo_ps (r6, r7), t7 = _mm256_unpackhi_ps (r6, r7);
  __m256 u0 = _mm256_shuffle_ps (t0, t2, 0x44), u1 = _mm256_shuffle_ps (t0, t2, 0xee);
  __m256 u2 = _mm256_shuffle_ps (t1, t3, 0x44), u3 = _mm256_shuffle_ps (t1, t3, 0xee);
  __m256 u4 = _mm256_shuffle_ps (t4, t6, 0x44), u5 = _mm256_shuffle_ps (t4, t6, 0xee);
  __m256 u6 = _mm256_shuffle_ps (t5, t7, 0x44), u7 = _mm256_shuffle_ps (t5, t7, 0xee);
  _mm256_storeu_ps ((float *) (dst + 0 * dst_pitch), _mm256_permute2f128_ps (u0, u4, 0x20));
  _mm256_storeu_ps ((float *) (dst + 1 * dst_pitch), _mm256_permute2f128_ps (u1, u5, 0x20));
  _mm256_storeu_ps ((float *) (dst + 2 * dst_pitch), _mm256_permute2f128_ps (u2, u6, 0x20));
  _mm256_storeu_ps ((float *) (dst + 3 * dst_pitch), _mm256_permute2f128_ps (u3, u7, 0x20));
  _mm256_storeu_ps ((float *) (dst + 4 * dst_pitch), _mm256_permute2f128_ps (u0, u4, 0x31));
  _mm256_storeu_ps ((float *) (dst + 5 * dst_pitch), _mm256_permute2f128_ps (u1, u5, 0x31));
  _mm256_storeu_ps ((float *) (dst + 6 * dst_pitch), _mm256_permute2f128_ps (u2, u6, 0x31));
  _mm256_storeu_ps ((float *) (dst + 7 * dst_pitch), _mm256_permute2f128_ps (u3, u7, 0x31));
}

/* The 32-bit block transpose with 8x8 register tiles; edges go scalar. */
__attribute__ ((target ("avx2")))
static void
transpose_block_uint32_t_avx2 (uint32_t *restrict dst, int64_t dst_pitch,
    const uint32_t *restrict src, int64_t src_pitch, int64_t rows, int64_t cols)
{
  int64_t rows8 = rows & ~(int64_t) 7, cols8 = cols & ~(int64_t) 7;
  for (int64_t j0 = 0; j0 < cols; j0 += TRANSPOSE_TILE) {
    int64_t j1 = j0 + TRANSPOSE_TILE < cols8 ? j0 + TRANSPOSE_TILE : cols8;
    for (int64_t i = 0; i < rows8; i += 8)
      for (int64_t j = j0; j < j1; j += 8)
        transpose_8x8_avx2 (dst + i * dst_pitch + j, dst_pitch, src + i + j * src_pitch,
            src_pitch);
  }
  /* Right edge (columns past cols8) for all rows, bottom edge for the rest. */
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = cols8; j < cols; j++)
      dst[i * dst_pitch + j] = src[i + j * src_pitch];
  for (int64_t i = rows8; i < rows; i++)
    for (int64_t j = 0; j < cols8; j++)
      dst[i * dst_pitch + j] = src[i + j * src_pitch];
}
#endif

/* Scalar reference for 32-bit elements (also the fallback without AVX2). */
DEFINE_TRANSPOSE_BLOCK (uint32_t)

static void
transpose_block (size_t esize, void *dst, int64_t dst_pitch, const void *src,
    int64_t src_pitch, int64_t rows, int64_t cols)
{
  switch (esize) {
    case 1:
      transpose_block_uint8_t (dst, dst_pitch, src, src_pitch, rows, cols);
      break;
    case 4:
#ifdef HAVE_X86_TRANSPOSE
      if (rows >= 8 && cols >= 8 && ir_cpu ()->isa >= IR_ISA_AVX2) {
        transpose_block_uint32_t_avx2 (dst, dst_pitch, src, src_pitch, rows, cols);
        break;
      }
#endif
      transpose_block_uint32_t (dst, dst_pitch, src, src_pitch, rows, cols);
      break;
    default:
      transpose_block_uint64_t (dst, dst_pitch, src, src_pitch, rows, cols);
      break;
  }
}

typedef struct view_job {
  strided_view v;
  const char *src;
  char *dst;
  size_t esize;
  /* Blocked-transpose path: dim p is read with stride 1, the last dim q is
   * not; work items are (outer index, block of TRANSPOSE_TILE along p). */
  int p;
  int64_t p_blocks;
  int64_t dst_strides[VIEW_MAX_RANK];
} view_job;

/* Row path: items are output rows (all dims but the last). */
static void
view_copy_rows (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const view_job *job = arg;
  const strided_view *v = &job->v;
  int outer = v->rank - 1;
  int64_t inner = v->dims[outer], inner_stride = v->strides[outer];
  size_t es = job->esize;
  int64_t idx[VIEW_MAX_RANK];
  int64_t src_off = v->offset, rem = begin;
  for (int k = outer - 1; k >= 0; k--) {
    idx[k] = rem % v->dims[k];
    rem /= v->dims[k];
    src_off += idx[k] * v->strides[k];
  }
  for (int64_t row = begin; row < end; row++) {
    copy_row (es, job->dst + (size_t) (row * inner) * es, job->src + src_off * (int64_t) es,
        inner, inner_stride);
    for (int k = outer - 1; k >= 0; k--) {
      src_off += v->strides[k];
      if (++idx[k] < v->dims[k])
        break;
      src_off -= v->strides[k] * v->dims[k];
      idx[k] = 0;
    }
  }
}

static void
view_copy_tiles (void *arg, int64_t begin, int64_t end, int thread_index)
{
  const view_job *job = arg;
  const strided_view *v = &job->v;
  int q = v->rank - 1, p = job->p;
  int64_t es = (int64_t) job->esize;
  for (int64_t item = begin; item < end; item++) {
    int64_t block = item % job->p_blocks, o = item / job->p_blocks;
    int64_t src_off = v->offset, dst_off = 0;
    for (int k = q - 1; k >= 0; k--) {
      if (k == p)
        continue;
      int64_t i = o % v->dims[k];
      o /= v->dims[k];
      src_off += i * v->strides[k];
      dst_off += i * job->dst_strides[k];
    }
    int64_t i0 = block * TRANSPOSE_TILE;
    int64_t rows = v->dims[p] - i0 < TRANSPOSE_TILE ? v->dims[p] - i0 : TRANSPOSE_TILE;
    transpose_block (job->esize, job->dst + (dst_off + i0 * job->dst_strides[p]) * es,
        job->dst_strides[p], job->src + (src_off + i0) * es, v->strides[q], rows,
        v->dims[q]);
  }
}

/* Fills the dense `dst` from `src` through the view (which it simplifies). */
void
view_copy (ir_thread_pool *pool, strided_view *v, const void *src, void *dst, size_t esize)
{
  for (int k = 0; k < v->rank; k++)
    if (v->dims[k] == 0)
      return;
  view_simplify (v);
  if (v->rank == 0) {
    memcpy (dst, (const char *) src + v->offset * (int64_t) esize, esize);
    return;
  }
  view_job job;
  job.v = *v;
  job.src = src;
  job.dst = dst;
  job.esize = esize;
  job.p = -1;
  int q = v->rank - 1;
  if (v->strides[q] != 1 && v->strides[q] != 0) {
    for (int k = 0; k < q; k++)
      if (v->strides[k] == 1)
        job.p = k;
  }
  if (job.p >= 0) {
    dense_strides (v->rank, v->dims, job.dst_strides);
    job.p_blocks = (v->dims[job.p] + TRANSPOSE_TILE - 1) / TRANSPOSE_TILE;
    int64_t items = ir_dims_product (v->dims, 0, q) / v->dims[job.p] * job.p_blocks;
    int64_t per_item = TRANSPOSE_TILE * v->dims[q];
    ir_parallel_for (pool, items, copy_grain (per_item, COPY_GRAIN_ELEMS), view_copy_tiles,
        &job);
  } else {
    int64_t rows = ir_dims_product (v->dims, 0, q);
    int64_t inner = v->dims[q];
    ir_parallel_for (pool, rows, copy_grain (inner, COPY_GRAIN_ELEMS), view_copy_rows, &job);
  }
}

/* A view of the whole input in its own order, to be permuted or cut. */
void
view_of_input (strided_view *v, const ir_tensor *in)
{
  v->rank = in->rank;
  v->offset = 0;
  for (int k = 0; k < in->rank; k++)
    v->dims[k] = in->dims[k];
  dense_strides (in->rank, in->dims, v->strides);
}
