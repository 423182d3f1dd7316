/* imgrec inference engine — public API.
 *
 * A model (imgrec_model) is loaded once from an ONNX file and is immutable:
 * it holds the graph and the prepacked weights and may be shared by many
 * sessions on many threads.  A session (imgrec_session) holds everything one
 * stream needs to run the model: its memory arena, scratch space and thread
 * pool.  A session is used by one thread at a time.  The sessions of a
 * process share one thread budget (imgrec_set_thread_budget), so many
 * streams do not run more threads than there are cores.
 *
 * Every function that can fail takes an imgrec_error pointer (may be NULL)
 * and returns NULL / a negative value on failure with a human sentence in
 * err->message.  The engine never prints and never aborts on bad input.
 */
#ifndef IMGREC_ENGINE_H
#define IMGREC_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; only this header's
 * declarations are exported. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define IMGREC_MAX_RANK 8
#define IMGREC_ERROR_MESSAGE_SIZE 512

typedef struct imgrec_error {
  char message[IMGREC_ERROR_MESSAGE_SIZE];
} imgrec_error;

/* Element types, numbered as ONNX's TensorProto.DataType. */
typedef enum imgrec_dtype {
  IMGREC_DTYPE_UNDEFINED = 0,
  IMGREC_DTYPE_FLOAT = 1,
  IMGREC_DTYPE_UINT8 = 2,
  IMGREC_DTYPE_INT8 = 3,
  IMGREC_DTYPE_UINT16 = 4,
  IMGREC_DTYPE_INT16 = 5,
  IMGREC_DTYPE_INT32 = 6,
  IMGREC_DTYPE_INT64 = 7,
  IMGREC_DTYPE_STRING = 8,
  IMGREC_DTYPE_BOOL = 9,
  IMGREC_DTYPE_FLOAT16 = 10,
  IMGREC_DTYPE_DOUBLE = 11,
  IMGREC_DTYPE_UINT32 = 12,
  IMGREC_DTYPE_UINT64 = 13,
} imgrec_dtype;

const char *imgrec_dtype_name (imgrec_dtype dtype);

/* Description of a graph input or output.  dims[i] < 0 means the dimension
 * is not fixed by the model; dim_names[i] then holds its symbolic name (or
 * NULL). */
typedef struct imgrec_tensor_info {
  const char *name;
  imgrec_dtype dtype;
  int rank;
  int64_t dims[IMGREC_MAX_RANK];
  const char *dim_names[IMGREC_MAX_RANK];
} imgrec_tensor_info;

typedef struct imgrec_model imgrec_model;
typedef struct imgrec_session imgrec_session;

/* Loading.  Validates everything read from the file. */
imgrec_model *imgrec_model_load (const char *path, imgrec_error *err);
imgrec_model *imgrec_model_load_from_memory (const void *data, size_t size,
    imgrec_error *err);
void imgrec_model_free (imgrec_model *model);

/* Introspection. */
int imgrec_model_n_inputs (const imgrec_model *model);
int imgrec_model_n_outputs (const imgrec_model *model);
const imgrec_tensor_info *imgrec_model_input (const imgrec_model *model, int index);
const imgrec_tensor_info *imgrec_model_output (const imgrec_model *model, int index);
/* Index of the input/output with that name, or -1. */
int imgrec_model_input_index (const imgrec_model *model, const char *name);
int imgrec_model_output_index (const imgrec_model *model, const char *name);
int imgrec_model_n_metadata (const imgrec_model *model);
const char *imgrec_model_metadata_key (const imgrec_model *model, int index);
const char *imgrec_model_metadata_value (const imgrec_model *model, int index);
/* Value of a metadata_props key, or NULL. */
const char *imgrec_model_metadata_lookup (const imgrec_model *model, const char *key);
int64_t imgrec_model_ir_version (const imgrec_model *model);
int64_t imgrec_model_opset (const imgrec_model *model);
const char *imgrec_model_producer (const imgrec_model *model);

/* Default bound on a session's tensor memory (inputs, intermediate
 * tensors, scratch): a malformed or hostile model fails with an error
 * instead of exhausting the machine. */
#define IMGREC_DEFAULT_MEMORY_LIMIT ((size_t) 4 << 30)

/* The threads all sessions of the process run on together: the value set
 * here (0: back to the default), else IMGREC_THREAD_BUDGET from the
 * environment, else the CPUs the process may run on.  A session created
 * with threads = 0 takes, at each run, an equal share of what sessions with
 * a fixed count leave of the budget, shared among the sessions that ran in
 * the last two seconds (at least one thread; the share of a session never
 * exceeds the budget it was created under).  Such sessions also share
 * their tensor arenas (imgrec_session_memory). */
void imgrec_set_thread_budget (int threads);
int imgrec_thread_budget (void);

typedef struct imgrec_session_options {
  int threads;                  /* 0 = a share of the thread budget */
  size_t max_memory_bytes;      /* 0 = IMGREC_DEFAULT_MEMORY_LIMIT */
} imgrec_session_options;

imgrec_session *imgrec_session_new (const imgrec_model *model,
    const imgrec_session_options *options, imgrec_error *err);
void imgrec_session_free (imgrec_session *session);

/* Copies the data into the session, converting from `dtype` to what the
 * model declares (float32/float16/int64/int32/bool/uint8 are accepted).
 * A new shape re-plans the session on the next run. */
int imgrec_session_set_input (imgrec_session *session, int index,
    imgrec_dtype dtype, const int64_t *dims, int rank, const void *data,
    imgrec_error *err);

int imgrec_session_run (imgrec_session *session, imgrec_error *err);

/* The threads the last run used (before any run: the most it may use). */
int imgrec_session_threads (const imgrec_session *session);

/* The bytes the session holds for inputs, tensors and scratch; *arena and
 * *scratch (may be NULL) get the tensor arena's size and the scratch
 * buffer's.  A session created with threads = 0 holds neither: each run
 * leases both, in one block, from the budget's shared arenas (at most
 * `budget` runs of such sessions go at a time, each in one arena), which
 * the return value does not count. */
size_t imgrec_session_memory (const imgrec_session *session, size_t *arena,
    size_t *scratch);

/* After a successful run: the output's shape in *info (may be NULL) and its
 * data, valid until the next run or set_input.  Outputs of a floating type
 * are float32; integer outputs are int64; bool outputs are uint8. */
const void *imgrec_session_output (const imgrec_session *session, int index,
    imgrec_tensor_info *info);

/* Convenience: output `index` converted to float32 into a caller buffer of
 * `capacity` elements; returns the element count or -1. */
int64_t imgrec_session_output_float (const imgrec_session *session, int index,
    float *dest, int64_t capacity, imgrec_error *err);

/* Profiling.  While enabled, every run adds each node's wall time to the
 * session's profile; enabling (again) starts a new profile.  IMGREC_PROFILE=1
 * in the environment enables it for every new session and writes the report
 * to stderr when the session is freed.  Profiling adds two clock reads per
 * node and allocates nothing per run. */
void imgrec_session_set_profiling (imgrec_session *session, int enabled);

/* Writes the profile: per node (in execution order) and per op type, the
 * milliseconds per run, share, GFLOP/s (Conv, ConvTranspose, Gemm, MatMul)
 * and the kernel or algorithm chosen with the ISA.  -1 with err when no
 * profiled run happened. */
int imgrec_session_profile_write (const imgrec_session *session, FILE *f,
    imgrec_error *err);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif /* IMGREC_ENGINE_H */
