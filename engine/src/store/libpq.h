// libpq, opened on first use. The PostgreSQL store is the only user of the
// client library, and linking it pulls some twenty libraries (Kerberos,
// LDAP, GnuTLS, ...) into every sopir process; loading them costs about
// 12 ms of start-up that a command on an SQLite file never needs. So the
// library is opened with dlopen when a postgresql:// database is first
// used, and its functions are reached through this table. libpq-fe.h is
// included for its types only.
#pragma once

#include <libpq-fe.h>

namespace sopir::pg {

struct LibPq {
  decltype(&::PQbackendPID) PQbackendPID;
  decltype(&::PQclear) PQclear;
  decltype(&::PQcmdTuples) PQcmdTuples;
  decltype(&::PQconnectdbParams) PQconnectdbParams;
  decltype(&::PQconninfoFree) PQconninfoFree;
  decltype(&::PQconninfoParse) PQconninfoParse;
  decltype(&::PQdb) PQdb;
  decltype(&::PQenterPipelineMode) PQenterPipelineMode;
  decltype(&::PQerrorMessage) PQerrorMessage;
  decltype(&::PQexec) PQexec;
  decltype(&::PQexecParams) PQexecParams;
  decltype(&::PQexecPrepared) PQexecPrepared;
  decltype(&::PQexitPipelineMode) PQexitPipelineMode;
  decltype(&::PQfinish) PQfinish;
  decltype(&::PQfreemem) PQfreemem;
  decltype(&::PQgetisnull) PQgetisnull;
  decltype(&::PQgetResult) PQgetResult;
  decltype(&::PQgetlength) PQgetlength;
  decltype(&::PQgetvalue) PQgetvalue;
  decltype(&::PQhost) PQhost;
  decltype(&::PQntuples) PQntuples;
  decltype(&::PQpipelineSync) PQpipelineSync;
  decltype(&::PQport) PQport;
  decltype(&::PQprepare) PQprepare;
  decltype(&::PQreset) PQreset;
  decltype(&::PQresultErrorField) PQresultErrorField;
  decltype(&::PQresultErrorMessage) PQresultErrorMessage;
  decltype(&::PQresultStatus) PQresultStatus;
  decltype(&::PQsendPrepare) PQsendPrepare;
  decltype(&::PQsendQueryParams) PQsendQueryParams;
  decltype(&::PQsendQueryPrepared) PQsendQueryPrepared;
  decltype(&::PQstatus) PQstatus;
  decltype(&::PQtransactionStatus) PQtransactionStatus;
  decltype(&::PQuser) PQuser;
};

// The library's functions, loading libpq.so.5 on the first call (thread
// safe). Throws Error kStorage naming the library and the Debian package
// that provides it when it cannot be loaded or lacks a function.
const LibPq& libpq();

}  // namespace sopir::pg
