/* Arena offset assignment for tensors with known lifetimes. */
#ifndef IMGREC_PLAN_H
#define IMGREC_PLAN_H

#include <stddef.h>

#define IR_ARENA_ALIGN 64

typedef struct ir_buffer_request {
  size_t size;
  int first, last;     /* node positions where the tensor is written / last read */
  size_t offset;       /* out */
} ir_buffer_request;

/* Assigns offsets; *total is the arena size needed.  -1 when out of memory. */
int ir_plan_offsets (ir_buffer_request *reqs, int n, size_t *total);

#endif
