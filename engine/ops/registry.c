/* The op registry: one array per op family, searched by (domain, op_type)
 * with the highest since_version that the model's opset allows. */
#include <string.h>

#include "op.h"

#define FAMILY(name) extern const op_kernel *const ir_ops_##name[];
#include "families.def"
#undef FAMILY

static const op_kernel *const *const all_families[] = {
#define FAMILY(name) ir_ops_##name,
#include "families.def"
#undef FAMILY
};

static bool
same_domain (const char *a, const char *b)
{
  /* "ai.onnx" and "" name the same default domain. */
  if (a == NULL || strcmp (a, "ai.onnx") == 0)
    a = "";
  if (b == NULL || strcmp (b, "ai.onnx") == 0)
    b = "";
  return strcmp (a, b) == 0;
}

const op_kernel *
ir_find_kernel (const char *domain, const char *op_type, int opset)
{
  const op_kernel *best = NULL;
  for (size_t f = 0; f < sizeof all_families / sizeof all_families[0]; f++) {
    for (const op_kernel *const *k = all_families[f]; *k != NULL; k++) {
      if (strcmp ((*k)->op_type, op_type) != 0 || !same_domain ((*k)->domain, domain))
        continue;
      if ((*k)->since_version > opset)
        continue;
      if (best == NULL || (*k)->since_version > best->since_version)
        best = *k;
    }
  }
  return best;
}
