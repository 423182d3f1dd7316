/* Internal tensor: dense, row-major, contiguous.
 *
 * Storage types are deliberately few: every floating type (float32, float16)
 * is computed and stored as float32, every integer type as int64, bool as
 * uint8.  `elem_type` keeps the ONNX type the graph declares so that Cast to
 * float16 can round and outputs can be reported with their declared type. */
#ifndef IMGREC_TENSOR_H
#define IMGREC_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imgrec/engine.h"

typedef enum ir_storage {
  IR_NONE = 0,
  IR_F32,      /* float */
  IR_I64,      /* int64_t */
  IR_BOOL,     /* uint8_t, 0 or 1 */
} ir_storage;

typedef struct ir_tensor {
  ir_storage storage;
  imgrec_dtype elem_type;   /* declared ONNX type */
  int rank;
  int64_t dims[IMGREC_MAX_RANK];
  void *data;
  bool is_const;            /* initializer or folded at plan time */
  bool owns_data;
} ir_tensor;

/* Storage used for an ONNX element type; IR_NONE when unsupported. */
ir_storage ir_storage_for (imgrec_dtype type);
size_t ir_storage_size (ir_storage storage);

int64_t ir_numel (const ir_tensor *t);
size_t ir_nbytes (const ir_tensor *t);
/* Product of dims [from, to). */
int64_t ir_dims_product (const int64_t *dims, int from, int to);
bool ir_same_shape (const ir_tensor *a, const ir_tensor *b);
/* Sets storage/elem_type/rank/dims; data untouched. */
void ir_set_shape (ir_tensor *t, imgrec_dtype elem_type, int rank, const int64_t *dims);

static inline float *ir_f32 (const ir_tensor *t) { return (float *) t->data; }
static inline int64_t *ir_i64 (const ir_tensor *t) { return (int64_t *) t->data; }
static inline uint8_t *ir_bool (const ir_tensor *t) { return (uint8_t *) t->data; }

/* Element i as double / int64 whatever the storage (for small shape tensors). */
double ir_get_f64 (const ir_tensor *t, int64_t i);
int64_t ir_get_i64 (const ir_tensor *t, int64_t i);

/* float16 <-> float32 (IEEE half, round to nearest even). */
float ir_half_to_float (uint16_t h);
uint16_t ir_float_to_half (float f);

#endif
