/* TensorProto -> ir_tensor.  Every size read from the file is checked before
 * it is used: dims, element counts, raw_data length, typed-field counts and
 * external data ranges. */
#include "onnx_tensor.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checked_file.h"
#include "error.h"

/* Only `expected` bytes are read from an external data file, so its size
 * matters less than its kind (a FIFO or device would hang); one file may
 * hold every tensor of a large model. */
#define MAX_EXTERNAL_DATA_BYTES ((size_t) 1 << 40)

int
ir_checked_numel (int rank, const int64_t *dims, int64_t *numel, imgrec_error *err)
{
  /* The product of the non-zero dims is bounded too, so that partial
   * products computed by kernels ([0, 2^62, 2^62]) never overflow. */
  int64_t nonzero = 1;
  bool empty = false;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0)
      return ir_fail (err, "dimension %d is negative (%lld)", i, (long long) dims[i]);
    if (dims[i] == 0) {
      empty = true;
      continue;
    }
    if (nonzero > IR_MAX_TENSOR_ELEMENTS / dims[i])
      return ir_fail (err, "tensor is too large (more than %lld elements)",
          (long long) IR_MAX_TENSOR_ELEMENTS);
    nonzero *= dims[i];
  }
  *numel = empty ? 0 : nonzero;
  return 0;
}

/* Reads `size` bytes at `offset` of a file named by a relative path inside
 * base_dir; refuses absolute paths and "..". */
static void *
read_external (const Onnx__TensorProto *proto, const char *base_dir,
    size_t expected, imgrec_error *err)
{
  const char *location = NULL;
  long long offset = 0, length = -1;
  for (size_t i = 0; i < proto->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = proto->external_data[i];
    if (e->key == NULL || e->value == NULL)
      continue;
    if (strcmp (e->key, "location") == 0)
      location = e->value;
    else if (strcmp (e->key, "offset") == 0)
      offset = strtoll (e->value, NULL, 10);
    else if (strcmp (e->key, "length") == 0)
      length = strtoll (e->value, NULL, 10);
  }
  if (base_dir == NULL) {
    ir_fail (err, "tensor '%s' uses external data, which is not allowed here",
        proto->name ? proto->name : "");
    return NULL;
  }
  if (location == NULL || location[0] == '\0' || location[0] == '/'
      || strstr (location, "..") != NULL) {
    ir_fail (err, "tensor '%s' has an external data location outside the model's folder",
        proto->name ? proto->name : "");
    return NULL;
  }
  if (offset < 0 || (length >= 0 && (size_t) length != expected)) {
    ir_fail (err, "tensor '%s' has an external data range that does not match its size",
        proto->name ? proto->name : "");
    return NULL;
  }
  char path[4096];
  if (snprintf (path, sizeof path, "%s/%s", base_dir, location) >= (int) sizeof path) {
    ir_fail (err, "external data path is too long");
    return NULL;
  }
  size_t file_size = 0;
  int fd = ir_checked_open (path, "external data file", MAX_EXTERNAL_DATA_BYTES, &file_size,
      err);
  if (fd < 0)
    return NULL;
  if ((unsigned long long) offset > file_size || expected > file_size - (size_t) offset) {
    close (fd);
    ir_fail (err, "external data file '%s' is shorter than tensor '%s' needs", path,
        proto->name ? proto->name : "");
    return NULL;
  }
  void *data = malloc (expected ? expected : 1);
  if (data == NULL || ir_checked_pread (fd, data, expected, (off_t) offset) != 0) {
    ir_fail (err, "cannot read external data file '%s' of tensor '%s'", path,
        proto->name ? proto->name : "");
    free (data);
    close (fd);
    return NULL;
  }
  close (fd);
  return data;
}

static size_t
file_element_size (int type)
{
  switch (type) {
    case IMGREC_DTYPE_FLOAT: case IMGREC_DTYPE_INT32: case IMGREC_DTYPE_UINT32: return 4;
    case IMGREC_DTYPE_FLOAT16: case IMGREC_DTYPE_INT16: case IMGREC_DTYPE_UINT16: return 2;
    case IMGREC_DTYPE_INT8: case IMGREC_DTYPE_UINT8: case IMGREC_DTYPE_BOOL: return 1;
    case IMGREC_DTYPE_INT64: case IMGREC_DTYPE_UINT64: case IMGREC_DTYPE_DOUBLE: return 8;
    default: return 0;
  }
}

/* Decodes element i of little-endian raw bytes into the storage type. */
static void
store_raw (ir_tensor *t, const uint8_t *raw, int64_t n)
{
  for (int64_t i = 0; i < n; i++) {
    switch (t->elem_type) {
      case IMGREC_DTYPE_FLOAT: { float v; memcpy (&v, raw + 4 * i, 4); ir_f32 (t)[i] = v; break; }
      case IMGREC_DTYPE_FLOAT16: { uint16_t v; memcpy (&v, raw + 2 * i, 2); ir_f32 (t)[i] = ir_half_to_float (v); break; }
      case IMGREC_DTYPE_INT8: ir_i64 (t)[i] = (int8_t) raw[i]; break;
      case IMGREC_DTYPE_UINT8: ir_i64 (t)[i] = raw[i]; break;
      case IMGREC_DTYPE_BOOL: ir_bool (t)[i] = raw[i] != 0; break;
      case IMGREC_DTYPE_INT16: { int16_t v; memcpy (&v, raw + 2 * i, 2); ir_i64 (t)[i] = v; break; }
      case IMGREC_DTYPE_UINT16: { uint16_t v; memcpy (&v, raw + 2 * i, 2); ir_i64 (t)[i] = v; break; }
      case IMGREC_DTYPE_INT32: { int32_t v; memcpy (&v, raw + 4 * i, 4); ir_i64 (t)[i] = v; break; }
      case IMGREC_DTYPE_UINT32: { uint32_t v; memcpy (&v, raw + 4 * i, 4); ir_i64 (t)[i] = v; break; }
      case IMGREC_DTYPE_INT64: case IMGREC_DTYPE_UINT64: { int64_t v; memcpy (&v, raw + 8 * i, 8); ir_i64 (t)[i] = v; break; }
      default: break;
    }
  }
}

int
ir_tensor_from_proto (const Onnx__TensorProto *proto, const char *base_dir,
    ir_tensor *out, imgrec_error *err)
{
  const char *name = proto->name ? proto->name : "";
  memset (out, 0, sizeof *out);
  int type = proto->has_data_type ? proto->data_type : 0;
  if (proto->segment != NULL)
    return ir_fail (err, "tensor '%s' is segmented, which is not supported", name);
  if (type == IMGREC_DTYPE_DOUBLE)
    return ir_fail (err, "tensor '%s' has type double, which the engine does not support", name);
  if (ir_storage_for ((imgrec_dtype) type) == IR_NONE)
    return ir_fail (err, "tensor '%s' has unsupported element type %s", name,
        imgrec_dtype_name ((imgrec_dtype) type));
  if (proto->n_dims > IMGREC_MAX_RANK)
    return ir_fail (err, "tensor '%s' has rank %zu; at most %d is supported", name,
        proto->n_dims, IMGREC_MAX_RANK);
  int64_t numel = 0;           /* set by ir_checked_numel on success */
  if (ir_checked_numel ((int) proto->n_dims, proto->dims, &numel, err) < 0)
    return ir_fail_prefix (err, "tensor '%s': ", name);
  ir_set_shape (out, (imgrec_dtype) type, (int) proto->n_dims, proto->dims);
  size_t storage_bytes = (size_t) numel * ir_storage_size (out->storage);
  out->data = malloc (storage_bytes ? storage_bytes : 1);
  if (out->data == NULL)
    return ir_fail (err, "out of memory for tensor '%s' (%zu bytes)", name, storage_bytes);
  out->owns_data = true;

  size_t file_bytes = (size_t) numel * file_element_size (type);
  bool external = proto->has_data_location
      && proto->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  if (external) {
    void *raw = read_external (proto, base_dir, file_bytes, err);
    if (raw == NULL)
      goto fail;
    store_raw (out, raw, numel);
    free (raw);
    return 0;
  }
  if (proto->has_raw_data) {
    if (proto->raw_data.len != file_bytes) {
      ir_fail (err, "tensor '%s' has %zu bytes of raw data but its shape and type need %zu",
          name, proto->raw_data.len, file_bytes);
      goto fail;
    }
    store_raw (out, proto->raw_data.data, numel);
    return 0;
  }

  /* Typed repeated fields. */
  size_t count;
  switch (type) {
    case IMGREC_DTYPE_FLOAT: count = proto->n_float_data; break;
    case IMGREC_DTYPE_INT64: count = proto->n_int64_data; break;
    case IMGREC_DTYPE_UINT32: case IMGREC_DTYPE_UINT64: count = proto->n_uint64_data; break;
    default: count = proto->n_int32_data; break;
  }
  if (count != (size_t) numel) {
    ir_fail (err, "tensor '%s' holds %zu values but its shape needs %lld", name, count,
        (long long) numel);
    goto fail;
  }
  for (int64_t i = 0; i < numel; i++) {
    switch (type) {
      case IMGREC_DTYPE_FLOAT: ir_f32 (out)[i] = proto->float_data[i]; break;
      case IMGREC_DTYPE_FLOAT16: ir_f32 (out)[i] = ir_half_to_float ((uint16_t) proto->int32_data[i]); break;
      case IMGREC_DTYPE_INT64: ir_i64 (out)[i] = proto->int64_data[i]; break;
      case IMGREC_DTYPE_UINT32: case IMGREC_DTYPE_UINT64: ir_i64 (out)[i] = (int64_t) proto->uint64_data[i]; break;
      case IMGREC_DTYPE_BOOL: ir_bool (out)[i] = proto->int32_data[i] != 0; break;
      default: ir_i64 (out)[i] = proto->int32_data[i]; break;
    }
  }
  return 0;

fail:
  free (out->data);
  out->data = NULL;
  out->owns_data = false;
  return -1;
}
