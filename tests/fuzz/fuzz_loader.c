/* libFuzzer target: any byte string given to the loader must produce a model
 * or an error message — never a crash, leak, hang or runaway allocation.
 * Models that load are also planned and run once on zero inputs, which
 * exercises every op's attribute checks and shape inference.
 *
 *   meson setup build-fuzz -Dfuzzing=true  (with CC=clang)
 *   build-fuzz/tests/fuzz/fuzz-loader -max_total_time=600 CORPUS_DIR */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imgrec/engine.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  imgrec_error err;
  err.message[0] = '\0';
  imgrec_model *model = imgrec_model_load_from_memory (data, size, &err);
  if (model == NULL) {
    if (err.message[0] == '\0')
      abort ();   /* every failure must say why */
    return 0;
  }
  imgrec_session_options so = { .threads = 1, .max_memory_bytes = (size_t) 256 << 20 };
  imgrec_session *s = imgrec_session_new (model, &so, &err);
  if (s != NULL) {
    int ok = 1;
    for (int i = 0; i < imgrec_model_n_inputs (model) && ok; i++) {
      const imgrec_tensor_info *info = imgrec_model_input (model, i);
      int64_t dims[IMGREC_MAX_RANK];
      int rank = info->rank < 0 ? 1 : info->rank;
      int64_t n = 1;
      for (int d = 0; d < rank; d++) {
        dims[d] = info->rank < 0 || info->dims[d] < 0 ? 1 : info->dims[d];
        if (dims[d] > 4096)
          ok = 0;
        n *= dims[d] > 0 ? dims[d] : 1;
      }
      if (!ok || n > (1 << 16))
        break;
      float *zeros = calloc ((size_t) n + 1, sizeof *zeros);
      ok = imgrec_session_set_input (s, i, IMGREC_DTYPE_FLOAT, dims, rank, zeros, &err) == 0;
      free (zeros);
    }
    if (ok)
      imgrec_session_run (s, &err);
    imgrec_session_free (s);
  }
  imgrec_model_free (model);
  return 0;
}
