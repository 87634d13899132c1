// libpq() (see libpq.h): dlopen the client library once, resolve its
// functions by name.
#include "store/libpq.h"

#include <dlfcn.h>

#include <string>

#include "sopir/error.h"
#include "sopir/messages.h"
#include "sopir/messages/store.h"

namespace sopir::pg {

namespace {

// Debian 12's libpq5 package installs the library under this soname.
constexpr const char* kLibrary = "libpq.so.5";

template <typename F>
void resolve(void* handle, F& slot, const char* name) {
  void* symbol = dlsym(handle, name);
  if (!symbol) throw storage_error(tr(msg::store_pg_library_symbol, {kLibrary, name}));
  slot = reinterpret_cast<F>(symbol);
}

LibPq load() {
  void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw storage_error(tr(msg::store_pg_library, {kLibrary, why ? why : ""}));
  }
  // The handle stays open for the life of the process.
  LibPq lib{};
#define SOPIR_RESOLVE(name) resolve(handle, lib.name, #name)
  SOPIR_RESOLVE(PQbackendPID);
  SOPIR_RESOLVE(PQclear);
  SOPIR_RESOLVE(PQcmdTuples);
  SOPIR_RESOLVE(PQconnectdbParams);
  SOPIR_RESOLVE(PQconninfoFree);
  SOPIR_RESOLVE(PQconninfoParse);
  SOPIR_RESOLVE(PQdb);
  SOPIR_RESOLVE(PQenterPipelineMode);
  SOPIR_RESOLVE(PQerrorMessage);
  SOPIR_RESOLVE(PQexec);
  SOPIR_RESOLVE(PQexecParams);
  SOPIR_RESOLVE(PQexecPrepared);
  SOPIR_RESOLVE(PQexitPipelineMode);
  SOPIR_RESOLVE(PQfinish);
  SOPIR_RESOLVE(PQfreemem);
  SOPIR_RESOLVE(PQgetisnull);
  SOPIR_RESOLVE(PQgetResult);
  SOPIR_RESOLVE(PQgetlength);
  SOPIR_RESOLVE(PQgetvalue);
  SOPIR_RESOLVE(PQhost);
  SOPIR_RESOLVE(PQntuples);
  SOPIR_RESOLVE(PQpipelineSync);
  SOPIR_RESOLVE(PQport);
  SOPIR_RESOLVE(PQprepare);
  SOPIR_RESOLVE(PQreset);
  SOPIR_RESOLVE(PQresultErrorField);
  SOPIR_RESOLVE(PQresultErrorMessage);
  SOPIR_RESOLVE(PQresultStatus);
  SOPIR_RESOLVE(PQsendPrepare);
  SOPIR_RESOLVE(PQsendQueryParams);
  SOPIR_RESOLVE(PQsendQueryPrepared);
  SOPIR_RESOLVE(PQstatus);
  SOPIR_RESOLVE(PQtransactionStatus);
  SOPIR_RESOLVE(PQuser);
#undef SOPIR_RESOLVE
  return lib;
}

}  // namespace

const LibPq& libpq() {
  // A failed load throws out of the initialiser, so the next call tries again.
  static const LibPq lib = load();
  return lib;
}

}  // namespace sopir::pg
