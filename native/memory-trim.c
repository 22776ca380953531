/*
 * A Node addon with one function, trim(): glibc's malloc_trim(0), which hands the free pages
 * inside the malloc heap back to the system.
 *
 * Why: glibc returns freed memory on its own only from the top of the heap. After an evaluation
 * with a large output, tens of MiB freed by the server (socket chunks, the database driver's
 * copies) sit below memory still in use and stay resident for good; measured after two
 * 2 x 16 MiB outputs, malloc_trim(0) took RSS from ~178 to ~141 MiB (bench/output-memory.ts).
 * The server calls it after the full collection that follows such an output
 * (src/memory/large-output-collector.ts), so only large outputs pay for it.
 */
#include <malloc.h>
#include <node_api.h>

static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value released;
  if (napi_get_boolean(env, malloc_trim(0) != 0, &released) != napi_ok) return NULL;
  return released;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  return exports;
}
