#pragma once

// The fixture of the deadline service's tests over real gRPC and real
// PostgreSQL (deadline_server_test.cc, deadline_server_input_test.cc,
// pg_leg_clock_test.cc): a fresh database, the service behind the shared
// server bootstrap (restartable over the same database), and identities
// from the dev metadata headers.

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "libs/calendar/calendar_json.h"
#include "libs/calendar/default_calendar.h"
#include "libs/calendar/test_calendars.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/server.h"
#include "libs/grpc_util/status_conversion.h"
#include "libs/metrics/metrics.h"
#include "libs/testing/status_matchers.h"
#include "lienthong/intake/v1/events.pb.h"
#include "lienthong/routing/v1/events.pb.h"
#include "services/deadline/deadline_events.h"
#include "services/deadline/deadline_server.h"
#include "services/deadline/event_handler.h"
#include "services/deadline/pg_deadline_store.h"
#include "services/deadline/pg_test_db.h"

namespace lienthong::deadline::server_testing {

using calendar::testing::Vn;
using ::lienthong::testing::GrpcStatusIs;

inline constexpr char kCity[] = "000.00.00.H26";
inline constexpr char kDistrict[] = "000.00.01.H26";
inline constexpr char kWardA[] = "000.01.01.H26";
inline constexpr char kWardB[] = "000.02.01.H26";

struct Who {
  std::string role, agency, subject;
};
inline const Who kAdmin{"admin", kCity, "quan-tri"};
inline const Who kCityOfficer{"supervisor", kCity, "giam-sat"};
inline const Who kWardBOfficer{"counter_officer", kWardB, "can-bo-b"};

class DeadlineServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = test::FreshPool();
    Start();
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // The service over pool_, behind a server on a new port.
  void Start() {
    store_ = std::make_unique<PgDeadlineStore>(*pool_, clock_);
    service_ = std::make_unique<DeadlineService>(*store_, clock_, EncodeNotice);
    service_->SetMovedEncoder(EncodeAppointmentsMoved);
    ASSERT_TRUE(service_->EnsureDefaultCalendar().ok());
    server_impl_ = std::make_unique<DeadlineServer>(*service_, clock_, true);
    sink_ = std::make_unique<grpc_util::EventSinkServer>(
        "lienthong.deadline", MakeEventHandler(*service_), true);
    grpc_util::ServerOptions o;
    o.service_label = "deadline_test";
    o.service_names = {"lienthong.deadline.v1.DeadlineService"};
    o.drain_grace = absl::ZeroDuration();
    o.shutdown_deadline = absl::Seconds(1);
    absl::StatusOr<std::unique_ptr<grpc_util::Server>> server =
        grpc_util::Server::Start(o, {server_impl_.get(), sink_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials());
    stub_ = v1::DeadlineService::NewStub(channel);
    sink_stub_ = common::v1::EventSinkService::NewStub(channel);
  }

  // A new process over the same database: the server, the service with its
  // calendar cache, the store and the pool are all made again, so what the
  // test reads next was read back from PostgreSQL.
  void Restart() {
    server_->Shutdown();
    stub_.reset();
    sink_stub_.reset();
    server_.reset();
    sink_.reset();
    server_impl_.reset();
    service_.reset();
    store_.reset();
    db::PoolOptions o;
    o.dsn = pool_->dsn();
    o.size = 8;
    pool_ = std::make_unique<db::Pool>(o);
    Start();
  }

  // deadline.audit_log as "action outcome target actor" lines, in order.
  std::vector<std::string> AuditTrail() {
    return db::WithTransaction(
               *pool_,
               [](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
                 std::vector<std::string> out;
                 for (const auto& r : tx.exec(
                          "SELECT action || ' ' || outcome || ' ' || target || "
                          "' ' || actor || ' ' || (peer <> '')::text FROM "
                          "deadline.audit_log ORDER BY id")) {
                   out.push_back(r[0].as<std::string>());
                 }
                 return out;
               })
        .value_or(std::vector<std::string>{"error"});
  }

  void As(grpc::ClientContext& ctx, const Who& who) {
    grpc_util::PrepareContext(ctx, absl::Seconds(10), who.role, who.agency,
                              who.subject);
  }

  grpc::Status Deliver(const std::vector<common::v1::Event>& events,
                       common::v1::DeliverEventsResponse* resp) {
    grpc::ClientContext ctx;
    As(ctx, {"service", "", "intake-relay"});
    common::v1::DeliverEventsRequest req;
    for (const auto& e : events) *req.add_events() = e;
    return sink_stub_->DeliverEvents(&ctx, req, resp);
  }

  common::v1::Event Received(const std::string& code, const char* agency,
                             std::vector<std::string> ancestors, absl::Time at,
                             int days) {
    intake::v1::DossierReceived m;
    m.set_dossier(absl::StrCat("dossiers/", code));
    m.mutable_receiving_agency()->set_code(agency);
    m.mutable_receiving_agency()->set_tier(common::v1::TIER_COMMUNE);
    for (const auto& a : ancestors) m.add_agency_ancestor_codes(a);
    m.mutable_procedure()->set_code("1.001193");
    m.mutable_procedure()->mutable_legal_time()->set_unit(
        common::v1::WORKING_DURATION_UNIT_DAYS);
    m.mutable_procedure()->mutable_legal_time()->set_amount(days);
    grpc_util::ToProto(at, m.mutable_receive_time());
    return grpc_util::MakeEvent(m, "intake", m.dossier(), at);
  }

  void ReceiveTwo() {
    common::v1::DeliverEventsResponse resp;
    ASSERT_TRUE(Deliver({Received("DA", kWardA, {kCity, kDistrict},
                                  Vn(2026, 3, 9, 10, 0), 5),
                         Received("DB", kWardB, {kCity, kDistrict},
                                  Vn(2026, 3, 9, 10, 0), 1)},
                        &resp)
                    .ok());
    ASSERT_EQ(resp.applied_event_ids_size(), 2);
  }

  common::FakeClock clock_{Vn(2026, 3, 9, 10, 0)};
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<PgDeadlineStore> store_;
  std::unique_ptr<DeadlineService> service_;
  std::unique_ptr<DeadlineServer> server_impl_;
  std::unique_ptr<grpc_util::EventSinkServer> sink_;
  std::unique_ptr<grpc_util::Server> server_;
  std::unique_ptr<v1::DeadlineService::Stub> stub_;
  std::unique_ptr<common::v1::EventSinkService::Stub> sink_stub_;
};

}  // namespace lienthong::deadline::server_testing
