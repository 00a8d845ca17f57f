#include "libs/db/transaction.h"

#include <typeinfo>

#include "libs/common/errors.h"
#include "libs/logging/logging.h"

namespace lienthong::db {
namespace {

// Only the SQLSTATE is logged: the exception text may quote a citizen's data.
void LogSqlState(const std::string& sqlstate) {
  logging::Event("db_error").With("sqlstate", sqlstate).Warn();
}

}  // namespace

absl::Status MapCurrentException(bool* retry, bool* broken) {
  *retry = false;
  *broken = false;
  try {
    throw;
  } catch (const pqxx::serialization_failure&) {
    *retry = true;
    return common::Aborted("SERIALIZATION_FAILURE",
                           "concurrent update; retry the request");
  } catch (const pqxx::deadlock_detected&) {
    *retry = true;
    return common::Aborted("DEADLOCK", "concurrent update; retry the request");
  } catch (const pqxx::unique_violation& e) {
    return common::AlreadyExists("ALREADY_EXISTS", "the record already exists",
                                 {{"sqlstate", e.sqlstate()}});
  } catch (const pqxx::foreign_key_violation&) {
    return common::FailedPrecondition("FOREIGN_KEY_VIOLATION",
                                      "a referenced record does not exist");
  } catch (const pqxx::check_violation&) {
    return common::FailedPrecondition("CHECK_VIOLATION",
                                      "the record breaks a stored rule");
  } catch (const pqxx::not_null_violation&) {
    return common::FailedPrecondition("NOT_NULL_VIOLATION",
                                      "a required column is missing");
  } catch (const pqxx::broken_connection&) {
    // The transaction never committed (a lost commit is in_doubt_error
    // below), so a fresh connection may try again.
    *broken = true;
    *retry = true;
    return common::Unavailable("DB_UNAVAILABLE",
                               "lost the PostgreSQL connection");
  } catch (const pqxx::in_doubt_error&) {
    *broken = true;
    return common::Unavailable(
        "DB_COMMIT_IN_DOUBT", "connection lost during commit; outcome unknown");
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "57P01" || e.sqlstate() == "57P02" ||
        e.sqlstate() == "57P03" || e.sqlstate().rfind("08", 0) == 0) {
      *broken = true;
      *retry = true;
      return common::Unavailable("DB_UNAVAILABLE",
                                 "PostgreSQL is shutting down");
    }
    LogSqlState(e.sqlstate());
    return common::Internal("DB_ERROR", "database error",
                            {{"sqlstate", e.sqlstate()}});
  } catch (const std::exception& e) {
    // Not from the server (a conversion in the caller's code, say): the
    // type names the kind of failure without quoting any data.
    logging::Event("db_error").With("exception", typeid(e).name()).Warn();
    return common::Internal("DB_ERROR", "database error");
  } catch (...) {
    logging::Event("db_error").With("exception", "unknown").Warn();
    return common::Internal("DB_ERROR", "database error");
  }
}

}  // namespace lienthong::db
