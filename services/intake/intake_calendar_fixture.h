#pragma once

// The fixture of intake's calendar integration tests (intake_calendar_test,
// intake_calendar_upcoming_test): a fake DeadlineService listing calendars
// on a loopback port, intake's refresher over it and the real store.

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/calendar/test_calendars.h"
#include "libs/grpc_util/proto_time.h"
#include "services/intake/calendar_source.h"
#include "services/intake/intake_test_fixture.h"

namespace lienthong::intake::testing_support {

// Monday 23/11/2026 09:00 (the fixture's clock) + 3 working days is
// Thursday 26/11 09:00 under "vn"; Hà Nội's calendar in these tests takes
// Tuesday 24/11 off, so there it is Friday 27/11 09:00.
inline constexpr absl::CivilDay kHanoiDayOff(2026, 11, 24);

inline absl::Time Vn(int d, int h) {
  return absl::FromCivil(absl::CivilSecond(2026, 11, d, h, 0, 0),
                         absl::FixedTimeZone(7 * 3600));
}

// vn.json as calendar `id`, with the days `off` taken off.
inline std::string DocWithDaysOff(const std::string& id,
                                  const std::vector<absl::CivilDay>& off) {
  return calendar::testing::VnJsonWithDaysOff(id, off, "Nghỉ theo lịch " + id);
}

// vn.json as calendar `id`, with Hà Nội's local day off when `day_off`.
inline std::string Doc(const std::string& id, bool day_off = false) {
  return DocWithDaysOff(id, day_off ? std::vector<absl::CivilDay>{kHanoiDayOff}
                                    : std::vector<absl::CivilDay>{});
}

// Lists `calendars` (name then version, as the deadline service does) two
// per page, so a fetch has to follow the page tokens; UNAVAILABLE when
// `down`.
class FakeDeadline final : public deadline::v1::DeadlineService::Service {
 public:
  grpc::Status ListCalendars(
      grpc::ServerContext*, const deadline::v1::ListCalendarsRequest* req,
      deadline::v1::ListCalendarsResponse* resp) override {
    ++calls;
    if (down) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "down");
    size_t from = 0;
    if (!req->page_token().empty() &&
        !absl::SimpleAtoi(req->page_token(), &from)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_token");
    }
    std::vector<deadline::v1::Calendar> sorted = calendars;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.name(), a.version()) <
             std::make_pair(b.name(), b.version());
    });
    const size_t page = std::min<size_t>(2, req->page_size());
    for (size_t i = from; i < sorted.size(); ++i) {
      if (static_cast<size_t>(resp->calendars_size()) == page) {
        resp->set_next_page_token(absl::StrCat(i));
        break;
      }
      *resp->add_calendars() = sorted[i];
    }
    return grpc::Status::OK;
  }

  void Add(const std::string& id, int version, const std::string& json,
           absl::Time effective = absl::UnixEpoch()) {
    deadline::v1::Calendar& c = calendars.emplace_back();
    c.set_name(CalendarName(id));
    c.set_version(version);
    grpc_util::ToProto(effective, c.mutable_effective_time());
    c.set_json(json);
  }

  std::atomic<int> calls{0};
  bool down = false;
  std::vector<deadline::v1::Calendar> calendars;
};

class IntakeCalendarTest : public IntakeIntegrationTest {
 protected:
  IntakeCalendarTest()
      : deadline_grpc_({&deadline_}),
        stub_(deadline::v1::DeadlineService::NewStub(
            deadline_grpc_.NewChannel())),
        pool_({dsn_, 1}) {}

  CalendarRefresher Refresher(CalendarCache* cache) {
    CalendarRefresher r;
    r.cache = cache;
    r.fetch = [this] {
      return FetchDeadlineCalendars(*stub_, absl::Seconds(5), clock_.Now());
    };
    r.persist = [this](const CalendarCopy& c) {
      return StoreCalendar(pool_, clock_, c);
    };
    r.forget = [this](const std::string& id) {
      return ForgetCalendar(pool_, id);
    };
    r.clock = &clock_;
    r.prune = [this](const std::vector<CalendarCopy>& listed,
                     absl::Time listed_at) {
      return PruneStoredCalendars(pool_, listed, listed_at);
    };
    return r;
  }

  // What intake starts with after a restart: the stored copies.
  std::shared_ptr<CalendarCache> Restart() {
    return InitialCalendarCache(pool_, *calendar::DefaultCalendar(),
                                "vn@bundled");
  }

  static std::vector<std::string> Held(const CalendarCache& cache) {
    std::vector<std::string> out;
    const std::shared_ptr<const CalendarSet> held = cache.Calendars();
    for (const auto& [id, s] : held->by_id()) {
      out.push_back(s.version);
    }
    return out;
  }

  // The upcoming versions held, each with the day and hour it takes over.
  static std::vector<std::string> HeldUpcoming(const CalendarCache& cache) {
    std::vector<std::string> out;
    const std::shared_ptr<const CalendarSet> held = cache.Calendars();
    for (const auto& [id, versions] : held->upcoming()) {
      for (const TimedSnapshot& t : versions) {
        out.push_back(
            absl::StrCat(t.snapshot.version, " from ",
                         absl::FormatTime("%d %H:%M", t.from,
                                          absl::FixedTimeZone(7 * 3600))));
      }
    }
    return out;
  }

  // The rows of intake.calendar_cache and intake.calendar_cache_upcoming:
  // the upcoming ones with the day and hour they take over.
  std::vector<std::string> Stored() {
    std::vector<std::string> out;
    EXPECT_TRUE(db::WithTransaction(pool_, [&](pqxx::work& tx) -> absl::Status {
                  for (const auto& row : tx.exec(
                           "SELECT name || ' ' || version || coalesce(' from "
                           "' || to_char(takes_effect AT TIME ZONE "
                           "'Asia/Ho_Chi_Minh', 'DD HH24:MI'), '') FROM "
                           "(SELECT name, version, NULL::timestamptz AS "
                           "takes_effect FROM intake.calendar_cache UNION ALL "
                           "SELECT name, version, takes_effect FROM "
                           "intake.calendar_cache_upcoming) r ORDER BY name, "
                           "takes_effect NULLS FIRST, version")) {
                    out.push_back(row[0].as<std::string>());
                  }
                  return absl::OkStatus();
                }).ok());
    return out;
  }

  FakeDeadline deadline_;
  testing::InProcessServer deadline_grpc_;
  std::unique_ptr<deadline::v1::DeadlineService::Stub> stub_;
  db::Pool pool_;
};

}  // namespace lienthong::intake::testing_support
