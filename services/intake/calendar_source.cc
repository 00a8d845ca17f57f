#include "services/intake/calendar_source.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/logging/logging.h"
#include "services/intake/pg_intake_store.h"

namespace lienthong::intake {

absl::StatusOr<CalendarCopy> FetchDeadlineCalendar(
    deadline::v1::DeadlineService::StubInterface& stub,
    absl::Duration timeout) {
  deadline::v1::GetCalendarRequest req;
  req.set_name(kCalendarName);
  deadline::v1::GetCalendarResponse resp;
  grpc::ClientContext ctx;
  grpc_util::PrepareContext(ctx, timeout, "service", "", "intake");
  grpc::Status s = stub.GetCalendar(&ctx, req, &resp);
  if (!s.ok()) return grpc_util::FromGrpcStatus(s);
  if (resp.calendar().json().empty()) {
    return common::FailedPrecondition(
        "CALENDAR_WITHOUT_DOCUMENT",
        "the deadline service answered a calendar without its JSON document");
  }
  CalendarCopy copy;
  copy.json = resp.calendar().json();
  copy.version = absl::StrCat("vn@", resp.calendar().version());
  return copy;
}

absl::StatusOr<absl::optional<CalendarCopy>> LoadStoredCalendar(
    db::Pool& pool) {
  return db::WithTransaction(
      pool, [](pqxx::work& tx) -> absl::StatusOr<absl::optional<CalendarCopy>> {
        pqxx::result r = tx.exec_params(
            "SELECT version, json FROM intake.calendar_cache WHERE name = $1",
            std::string(kCalendarName));
        if (r.empty()) return absl::optional<CalendarCopy>();
        CalendarCopy c;
        c.version = r[0][0].as<std::string>();
        c.json = r[0][1].as<std::string>();
        return absl::optional<CalendarCopy>(std::move(c));
      });
}

absl::Status StoreCalendar(db::Pool& pool, const common::Clock& clock,
                           const CalendarCopy& copy) {
  const std::string now = pg::PgTime(clock.Now());
  return db::WithTransaction(pool, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "INSERT INTO intake.calendar_cache (name, version, json, fetched_at) "
        "VALUES ($1, $2, $3, $4::timestamptz) ON CONFLICT (name) DO UPDATE "
        "SET version = EXCLUDED.version, json = EXCLUDED.json, "
        "fetched_at = EXCLUDED.fetched_at",
        std::string(kCalendarName), copy.version, copy.json, now);
    return absl::OkStatus();
  });
}

std::shared_ptr<CalendarCache> InitialCalendarCache(
    db::Pool& pool, const calendar::WorkingCalendar& bundled,
    const std::string& bundled_version) {
  auto cache = std::make_shared<CalendarCache>(
      std::make_shared<const calendar::WorkingCalendar>(bundled),
      bundled_version);
  absl::StatusOr<absl::optional<CalendarCopy>> stored =
      LoadStoredCalendar(pool);
  if (!stored.ok()) {
    logging::Event("calendar_cache_load_failed")
        .With("code", absl::StatusCodeToString(stored.status().code()))
        .Warn();
  } else if (stored->has_value()) {
    absl::Status s = cache->Install(**stored);
    if (!s.ok()) {
      logging::Event("calendar_cache_invalid")
          .With("version", (*stored)->version)
          .Warn();
    }
  }
  return cache;
}

}  // namespace lienthong::intake
