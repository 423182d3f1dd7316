/* Vector math shared by op families, defined in activation.c. */
#ifndef IMGREC_ACTIVATION_H
#define IMGREC_ACTIVATION_H

#include "op.h"

/* Scalar reference of ir_activation_apply (kept for tests of the SIMD path). */
void ir_activation_apply_scalar (const ir_activation *act, float *x, int64_t n);
/* The fused activation on integer results (Relu/Clip fused into an int Add). */
void ir_activation_apply_i64 (const ir_activation *act, int64_t *x, int64_t n);
/* y = exp(x - shift), vectorised; returns sum(y).  x and y may alias. */
float ir_vector_exp_sum (const float *x, float *y, int64_t n, float shift);

#endif
