#include "services/intake/calendar_source.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/common/errors.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/logging/logging.h"
#include "services/intake/pg_intake_store.h"

namespace lienthong::intake {
namespace {

constexpr char kCollection[] = "calendars/";
// ListCalendars coerces page sizes to at most 500.
constexpr int kPageSize = 500;
// Far more pages than any deadline service has calendar versions for; a
// server that keeps answering pages is broken, not large.
constexpr int kMaxPages = 1000;

// SQL for the version number in the label `column` ("vn-H26@2" -> 2;
// -1 for a label without one, such as "vn@bundled").
std::string VersionNumberSql(absl::string_view column) {
  return absl::StrCat("(CASE WHEN split_part(", column,
                      ", '@', 2) ~ '^[0-9]{1,18}$' THEN split_part(", column,
                      ", '@', 2)::bigint ELSE -1 END)");
}

}  // namespace

std::string CalendarName(absl::string_view id) {
  return absl::StrCat(kCollection, id);
}

absl::StatusOr<std::vector<CalendarCopy>> FetchDeadlineCalendars(
    deadline::v1::DeadlineService::StubInterface& stub, absl::Duration timeout,
    absl::Time now) {
  std::vector<ListedCalendar> listed;
  std::string token;
  for (int page = 0;; ++page) {
    if (page == kMaxPages) {
      return common::FailedPrecondition(
          "CALENDAR_LIST_ENDLESS",
          "the deadline service's calendar list did not end");
    }
    deadline::v1::ListCalendarsRequest req;
    req.set_page_size(kPageSize);
    req.set_page_token(token);
    deadline::v1::ListCalendarsResponse resp;
    grpc::ClientContext ctx;
    grpc_util::PrepareContext(ctx, timeout, "service", "", "intake");
    grpc::Status s = stub.ListCalendars(&ctx, req, &resp);
    if (!s.ok()) return grpc_util::FromGrpcStatus(s);
    for (const deadline::v1::Calendar& c : resp.calendars()) {
      absl::string_view id = c.name();
      if (!absl::ConsumePrefix(&id, kCollection) || id.empty()) continue;
      ListedCalendar& l = listed.emplace_back();
      l.id = std::string(id);
      l.version = c.version();
      l.effective_from = grpc_util::FromProto(c.effective_time());
      // A version without its document does not parse: the refresh skips
      // it and keeps the copy it holds.
      l.json = c.json();
    }
    if (resp.next_page_token().empty()) break;
    token = resp.next_page_token();
  }
  std::vector<CalendarCopy> out = InForce(listed, now);
  for (CalendarCopy& c : Upcoming(listed, now)) out.push_back(std::move(c));
  return out;
}

absl::StatusOr<std::vector<CalendarCopy>> LoadStoredCalendars(db::Pool& pool) {
  return db::WithTransaction(
      pool, [](pqxx::work& tx) -> absl::StatusOr<std::vector<CalendarCopy>> {
        std::vector<CalendarCopy> out;
        for (const pqxx::row& r : tx.exec(
                 "SELECT name, version, json, NULL::int8 AS takes_effect_us "
                 "FROM intake.calendar_cache UNION ALL SELECT name, version, "
                 "json, (EXTRACT(EPOCH FROM takes_effect) * 1000000)::int8 "
                 "FROM intake.calendar_cache_upcoming ORDER BY name, "
                 "takes_effect_us NULLS FIRST, version")) {
          const std::string name = r[0].as<std::string>();
          absl::string_view id = name;
          if (!absl::ConsumePrefix(&id, kCollection) || id.empty()) continue;
          CalendarCopy& c = out.emplace_back();
          c.id = std::string(id);
          c.version = r[1].as<std::string>();
          c.json = r[2].as<std::string>();
          if (!r[3].is_null()) {
            c.takes_effect = absl::FromUnixMicros(r[3].as<int64_t>());
          }
        }
        return out;
      });
}

absl::Status StoreCalendar(db::Pool& pool, const common::Clock& clock,
                           const CalendarCopy& copy) {
  const std::string now = pg::PgTime(clock.Now());
  const std::string name = CalendarName(copy.id);
  return db::WithTransaction(pool, [&](pqxx::work& tx) -> absl::Status {
    // Replicas store one calendar's versions one at a time (the first
    // version of a calendar has no row to lock yet): an upcoming copy
    // checked against the copy in force sees a later one a replica is
    // storing meanwhile, and two storing the same version do not collide.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                   absl::StrCat("lienthong.intake.calendar:", name));
    if (copy.takes_effect.has_value()) {
      // Listed before a replica stored this version, or a later one, in
      // force: it would never take over.
      tx.exec_params(
          absl::StrCat(
              "INSERT INTO intake.calendar_cache_upcoming (name, version, "
              "json, fetched_at, takes_effect) SELECT $1, $2, $3, "
              "$4::timestamptz, $5::timestamptz WHERE NOT EXISTS (SELECT 1 "
              "FROM intake.calendar_cache WHERE name = $1 AND ",
              VersionNumberSql("version"), " >= ", VersionNumberSql("$2"),
              ") ON CONFLICT DO NOTHING"),
          name, copy.version, copy.json, now, pg::PgTime(*copy.takes_effect));
      return absl::OkStatus();
    }
    // The upcoming versions up to this one are in force now (this one) or
    // never will be.
    tx.exec_params(absl::StrCat("DELETE FROM intake.calendar_cache_upcoming "
                                "WHERE name = $1 AND ",
                                VersionNumberSql("version"),
                                " <= ", VersionNumberSql("$2")),
                   name, copy.version);
    // Another replica may have stored a later version meanwhile (the
    // version in force only grows): never go back to an older one.
    tx.exec_params(
        absl::StrCat(
            "INSERT INTO intake.calendar_cache (name, version, json, "
            "fetched_at) VALUES ($1, $2, $3, $4::timestamptz) ON CONFLICT "
            "(name) DO UPDATE SET version = EXCLUDED.version, json = "
            "EXCLUDED.json, fetched_at = EXCLUDED.fetched_at WHERE ",
            VersionNumberSql("intake.calendar_cache.version"), " < ",
            VersionNumberSql("EXCLUDED.version")),
        name, copy.version, copy.json, now);
    return absl::OkStatus();
  });
}

absl::Status ForgetCalendar(db::Pool& pool, const std::string& id) {
  return db::WithTransaction(pool, [&](pqxx::work& tx) -> absl::Status {
    for (const char* table :
         {"intake.calendar_cache", "intake.calendar_cache_upcoming"}) {
      tx.exec_params(absl::StrCat("DELETE FROM ", table, " WHERE name = $1"),
                     CalendarName(id));
    }
    return absl::OkStatus();
  });
}

absl::Status PruneStoredCalendars(db::Pool& pool,
                                  const std::vector<CalendarCopy>& listed,
                                  absl::Time listed_at) {
  return db::WithTransaction(pool, [&](pqxx::work& tx) -> absl::Status {
    // A few rows per calendar: all read, the choice is StoredNotListed's.
    // A version stored meanwhile is judged by the next refresh.
    std::vector<StoredCopy> stored;
    for (const pqxx::row& r : tx.exec(
             "SELECT name, version, false, (EXTRACT(EPOCH FROM fetched_at) * "
             "1000000)::int8 FROM intake.calendar_cache UNION ALL SELECT name, "
             "version, true, (EXTRACT(EPOCH FROM fetched_at) * 1000000)::int8 "
             "FROM intake.calendar_cache_upcoming ORDER BY 1, 2")) {
      const std::string name = r[0].as<std::string>();
      absl::string_view id = name;
      if (!absl::ConsumePrefix(&id, kCollection) || id.empty()) continue;
      StoredCopy& s = stored.emplace_back();
      s.copy.id = std::string(id);
      s.copy.version = r[1].as<std::string>();
      // Only whether it is upcoming counts here, not when.
      if (r[2].as<bool>()) s.copy.takes_effect = absl::InfinitePast();
      s.stored_at = absl::FromUnixMicros(r[3].as<int64_t>());
    }
    for (const StoredCopy& s : StoredNotListed(stored, listed, listed_at)) {
      // As read: an upcoming version a replica has stored in force since
      // then is another row, and stays.
      tx.exec_params(absl::StrCat("DELETE FROM ",
                                  s.copy.takes_effect.has_value()
                                      ? "intake.calendar_cache_upcoming"
                                      : "intake.calendar_cache",
                                  " WHERE name = $1 AND version = $2"),
                     CalendarName(s.copy.id), s.copy.version);
    }
    return absl::OkStatus();
  });
}

std::shared_ptr<CalendarCache> InitialCalendarCache(
    db::Pool& pool, const calendar::WorkingCalendar& bundled,
    const std::string& bundled_version) {
  auto cache = std::make_shared<CalendarCache>(
      std::make_shared<const calendar::WorkingCalendar>(bundled),
      bundled_version);
  absl::StatusOr<std::vector<CalendarCopy>> stored = LoadStoredCalendars(pool);
  if (!stored.ok()) {
    logging::Event("calendar_cache_load_failed")
        .With("code", absl::StatusCodeToString(stored.status().code()))
        .Warn();
    return cache;
  }
  RestoredCalendars restored = RestoreCalendars(*stored);
  for (const SkippedCopy& skipped : restored.invalid) {
    logging::Event("calendar_cache_invalid")
        .With("version", skipped.version)
        .With("code", absl::StatusCodeToString(skipped.status.code()))
        .Warn();
  }
  for (auto& [id, snapshot] : restored.in_force) {
    cache->Put(id, std::move(snapshot));
  }
  cache->SetUpcoming(std::move(restored.upcoming));
  return cache;
}

}  // namespace lienthong::intake
