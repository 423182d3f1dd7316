/* Conversion of ONNX TensorProto messages into engine tensors, shared by the
 * model loader and the conformance runner. */
#ifndef IMGREC_ONNX_TENSOR_H
#define IMGREC_ONNX_TENSOR_H

#include "onnx.pb-c.h"
#include "tensor.h"

/* Largest tensor accepted from a file, in elements: bounds memory use of a
 * malformed or hostile model. */
#define IR_MAX_TENSOR_ELEMENTS ((int64_t) 1 << 31)

/* Fills *out (which then owns its data).  `base_dir` is the model's folder
 * for external data, or NULL to refuse external data. */
int ir_tensor_from_proto (const Onnx__TensorProto *proto, const char *base_dir,
    ir_tensor *out, imgrec_error *err);

/* Element count of `rank` dims with overflow and negativity checks. */
int ir_checked_numel (int rank, const int64_t *dims, int64_t *numel, imgrec_error *err);

#endif
