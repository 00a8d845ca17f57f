// SubmitDossier's group commit over real gRPC and PostgreSQL: submissions
// queued behind a running batch commit together in one transaction, and
// each still gets its own answer — codes gap-free per agency, a twin of a
// request in the same batch answered as a replay, and the invalid, the
// unauthorised and the unknown refused alone without holding the others
// back.

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/common/errors.h"
#include "libs/grpc_util/proto_time.h"
#include "lienthong/intake/v1/events.pb.h"
#include "services/intake/intake_logic.h"
#include "services/intake/intake_test_fixture.h"

namespace lienthong::intake {
namespace {

using testing_support::IntakeIntegrationTest;
using testing_support::kHaDinh;
using testing_support::kTayMo;
using testing_support::Replica;

class SubmitBatchTest : public IntakeIntegrationTest {
 protected:
  // A replica running one batch at a time whose first batch waits for
  // `release_`.
  std::unique_ptr<Replica> HeldReplica() {
    IntakeOptions o = Replica::Options();
    o.submit_batches_in_flight = 1;
    o.before_submit_batch_for_testing = [this] {
      if (batches_started_++ == 0) release_.WaitForNotification();
    };
    return std::make_unique<Replica>(dsn_, clock_, std::move(o));
  }
  std::atomic<int> batches_started_{0};
  absl::Notification release_;
};

struct Call {
  v1::SubmitDossierRequest req;
  std::string caller = kTayMo;
  grpc::Status status;
  v1::SubmitDossierResponse resp;
};

TEST_F(SubmitBatchTest, QueuedSubmissionsCommitTogetherEachWithItsOwnAnswer) {
  auto r = HeldReplica();
  const auto submit = [&](Call& c) {
    c.status = Submit(*r, c.req, &c.resp, c.caller);
  };
  Call first{Birth(kTayMo)};
  std::thread holder([&] { submit(first); });
  while (r->server.SubmitBatchStats().batches < 1) std::this_thread::yield();

  std::vector<Call> calls(6);
  calls[0].req = Birth(kTayMo);   // valid
  calls[1].req = Birth(kHaDinh);  // valid, other ward
  calls[1].caller = kHaDinh;
  calls[2].req = Birth(kTayMo);  // invalid
  calls[2].req.mutable_dossier()->mutable_fields()->DeleteSubrange(0, 1);
  calls[3].req = calls[0].req;    // twin of calls[0]
  calls[4].req = Birth(kHaDinh);  // another ward's
  calls[5].req = Birth(kTayMo);   // unknown procedure
  calls[5].req.mutable_dossier()->set_procedure("procedures/LT.99");
  std::vector<std::thread> threads;
  for (auto& c : calls) threads.emplace_back([&, p = &c] { submit(*p); });
  while (r->server.SubmitsWaiting() < calls.size()) std::this_thread::yield();
  release_.Notify();
  holder.join();
  for (auto& t : threads) t.join();

  // The six went into one batch (the twin then again, as a replay).
  EXPECT_GE(r->server.SubmitBatchStats().largest, 6);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  EXPECT_EQ(first.resp.dossier().code(), "001.08.19.H26-261123-0001");
  ASSERT_TRUE(calls[0].status.ok()) << calls[0].status.error_message();
  EXPECT_EQ(calls[0].resp.dossier().code(), "001.08.19.H26-261123-0002");
  ASSERT_TRUE(calls[1].status.ok()) << calls[1].status.error_message();
  EXPECT_EQ(calls[1].resp.dossier().code(), "001.01.14.H26-261123-0001");
  // Each receipt is its own dossier's.
  EXPECT_NE(calls[0].resp.receipt_html().find("001.08.19.H26-261123-0002"),
            std::string::npos);
  EXPECT_NE(calls[1].resp.receipt_html().find("001.01.14.H26-261123-0001"),
            std::string::npos);

  EXPECT_EQ(calls[2].status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const auto details =
      common::GetErrorDetails(grpc_util::FromGrpcStatus(calls[2].status));
  bool names_field = false;
  for (const auto& v : details.field_violations) {
    if (v.field.find("child_full_name") != std::string::npos) {
      names_field = true;
    }
  }
  EXPECT_TRUE(names_field) << calls[2].status.error_message();

  ASSERT_TRUE(calls[3].status.ok()) << calls[3].status.error_message();
  EXPECT_EQ(calls[3].resp.dossier().code(), calls[0].resp.dossier().code());
  EXPECT_FALSE(calls[3].resp.receipt_html().empty());
  EXPECT_EQ(calls[4].status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(calls[5].status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(calls[5].status.error_message().find("LT.99"), std::string::npos);

  // Three dossiers, each with one record, transition and audit entry, and
  // DossierReceived for three destinations; the refusal audited.
  EXPECT_EQ(Count("SELECT count(*) FROM intake.dossiers"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.idempotency"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.transitions"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.audit WHERE action = "
                  "'SubmitDossier' AND outcome = 'OK'"),
            3);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.audit WHERE outcome = "
                  "'PERMISSION_DENIED'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.outbox WHERE event_type = "
                  "'lienthong.intake.v1.DossierReceived'"),
            9);
  EXPECT_EQ(Count("SELECT count(DISTINCT event_id) FROM intake.outbox"), 3);
  // The stored dossiers are those answered.
  EXPECT_EQ(Count("SELECT count(*) FROM intake.dossiers WHERE code IN "
                  "('001.08.19.H26-261123-0001', '001.08.19.H26-261123-0002', "
                  "'001.01.14.H26-261123-0001')"),
            3);
}

TEST_F(SubmitBatchTest, AReplayOfACommittedRequestInABatchGetsTheFirstAnswer) {
  auto r = HeldReplica();
  Call done{Birth(kTayMo)};
  release_.Notify();  // nothing held: a batch of one
  done.status = Submit(*r, done.req, &done.resp);
  ASSERT_TRUE(done.status.ok());

  // Again, beside new submissions and a misuse of its request id.
  std::vector<Call> calls(3);
  calls[0].req = done.req;       // replay
  calls[1].req = Birth(kTayMo);  // new
  calls[2].req = Birth(kTayMo);  // same id, other content
  calls[2].req.set_request_id(done.req.request_id());
  calls[2].req.mutable_dossier()->mutable_applicant()->set_full_name(
      "Lê Văn Bình");
  std::vector<std::thread> threads;
  for (auto& c : calls) {
    threads.emplace_back(
        [&, p = &c] { p->status = Submit(*r, p->req, &p->resp); });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(calls[0].status.ok()) << calls[0].status.error_message();
  EXPECT_EQ(calls[0].resp.dossier().code(), done.resp.dossier().code());
  EXPECT_EQ(calls[0].resp.receipt_html(), done.resp.receipt_html());
  ASSERT_TRUE(calls[1].status.ok());
  EXPECT_EQ(calls[1].resp.dossier().code(), "001.08.19.H26-261123-0002");
  EXPECT_EQ(calls[2].status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(common::GetErrorDetails(grpc_util::FromGrpcStatus(calls[2].status))
                .reason,
            "REQUEST_ID_REUSED");
  EXPECT_EQ(Count("SELECT count(*) FROM intake.dossiers"), 2);
}

// With the catalog read, each call checks and builds its dossier before it
// joins a batch, and the batch only writes the codes in front of those
// bytes: what is stored (the dossier, the request record, DossierReceived)
// is what was answered, and the receive time is when the counter
// submitted, not when the batch committed.
TEST_F(SubmitBatchTest, ADossierBuiltBeforeItsBatchIsStoredAsAnswered) {
  IntakeOptions o = Replica::Options();
  o.submit_batches_in_flight = 1;
  o.before_submit_batch_for_testing = [this] {
    if (batches_started_++ == 1) release_.WaitForNotification();
  };
  Replica r(dsn_, clock_, std::move(o));
  // Batch 0 reads the catalog: the agencies and procedure it names.
  Call warm{Birth(kTayMo)};
  warm.status = Submit(r, warm.req, &warm.resp);
  ASSERT_TRUE(warm.status.ok()) << warm.status.error_message();
  batches_started_ = 0;  // so that the next batch is the held one
  Call warm_other{Birth(kHaDinh), kHaDinh};
  warm_other.status = Submit(r, warm_other.req, &warm_other.resp, kHaDinh);
  ASSERT_TRUE(warm_other.status.ok()) << warm_other.status.error_message();

  const absl::Time submitted = clock_.Now();
  Call held{Birth(kTayMo)};
  std::thread holder([&] { held.status = Submit(r, held.req, &held.resp); });
  while (batches_started_ < 2) std::this_thread::yield();
  std::vector<Call> calls(2);
  calls[1].req = Birth(kHaDinh);
  calls[1].caller = kHaDinh;
  std::vector<std::thread> threads;
  for (auto& c : calls) {
    if (c.req.dossier().procedure().empty()) c.req = Birth(kTayMo);
    threads.emplace_back(
        [&, p = &c] { p->status = Submit(r, p->req, &p->resp, p->caller); });
  }
  while (r.server.SubmitsWaiting() < calls.size()) std::this_thread::yield();
  clock_.Advance(absl::Minutes(10));  // the batch runs later
  release_.Notify();
  holder.join();
  for (auto& t : threads) t.join();

  db::Pool pool({dsn_, 1});
  for (const Call* c : {&held, &calls[0], &calls[1]}) {
    ASSERT_TRUE(c->status.ok()) << c->status.error_message();
    const v1::Dossier& answered = c->resp.dossier();
    EXPECT_EQ(grpc_util::FromProto(answered.receive_time()), submitted);
    v1::Dossier stored;
    v1::SubmitDossierResponse record;
    std::vector<v1::DossierReceived> events;
    int64_t stored_receive = 0, transition_at = 0;
    ASSERT_TRUE(
        db::WithTransaction(pool, [&](pqxx::work& tx) -> absl::Status {
          pqxx::result d = tx.exec_params(
              "SELECT body, EXTRACT(EPOCH FROM receive_time)::bigint, "
              "(SELECT EXTRACT(EPOCH FROM at)::bigint FROM "
              "intake.transitions WHERE dossier_code = $1) FROM "
              "intake.dossiers WHERE code = $1",
              answered.code());
          const pqxx::binarystring body(d[0][0]);
          EXPECT_TRUE(stored.ParseFromArray(body.data(),
                                            static_cast<int>(body.size())));
          stored_receive = d[0][1].as<int64_t>();
          transition_at = d[0][2].as<int64_t>();
          pqxx::result i = tx.exec_params(
              "SELECT response FROM intake.idempotency WHERE "
              "request_id = $1",
              c->req.request_id());
          const pqxx::binarystring resp(i[0][0]);
          EXPECT_TRUE(record.ParseFromArray(resp.data(),
                                            static_cast<int>(resp.size())));
          for (const auto& row :
               tx.exec("SELECT p.payload FROM intake.outbox JOIN "
                       "intake.outbox_payloads p USING (event_id) WHERE "
                       "destination = 'routing'")) {
            const pqxx::binarystring p(row[0]);
            common::v1::Event e;
            EXPECT_TRUE(e.ParseFromArray(p.data(), static_cast<int>(p.size())));
            v1::DossierReceived ev;
            EXPECT_TRUE(e.payload().UnpackTo(&ev));
            if (e.dossier() == answered.name()) {
              EXPECT_EQ(ev.dossier(), answered.name());
              events.push_back(ev);
            }
          }
          return absl::OkStatus();
        }).ok());
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(stored, answered))
        << stored.ShortDebugString();
    EXPECT_EQ(stored_receive, absl::ToUnixSeconds(submitted));
    EXPECT_EQ(transition_at, absl::ToUnixSeconds(submitted));
    v1::SubmitDossierResponse want = c->resp;
    want.clear_receipt_html();
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(record, want));
    ASSERT_EQ(events.size(), 1u) << answered.name();
    EXPECT_EQ(events[0].procedure().code(), "LT.01");
    EXPECT_EQ(AgencyName(events[0].receiving_agency().code()),
              answered.receiving_agency());
    EXPECT_EQ(events[0].fields_size(), answered.fields_size());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        events[0].receive_time(), answered.receive_time()));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        events[0].appointment_time(), answered.appointment_time()));
  }
  EXPECT_EQ(calls[0].resp.dossier().code(), "001.08.19.H26-261123-0003");
  EXPECT_EQ(calls[1].resp.dossier().code(), "001.01.14.H26-261123-0002");
}

// A replica checks submissions against the agencies and procedures as it
// last read them only while they are still what is stored: a procedure
// version or an agency changed through another replica is what its next
// submission is checked against and carries.
TEST_F(SubmitBatchTest, AChangeMadeOnAnotherReplicaHoldsForTheNextSubmission) {
  Replica b(dsn_, clock_);
  v1::SubmitDossierResponse first;
  ASSERT_TRUE(Submit(b, Birth(kTayMo), &first).ok());
  const int read_version = first.dossier().procedure_version();

  const auto upsert_procedure = [&](const v1::Procedure& p) {
    grpc::ClientContext ctx;
    testing_support::As(ctx, "admin", "000.00.00.H26");
    v1::UpsertProcedureRequest req;
    *req.mutable_procedure() = p;
    v1::UpsertProcedureResponse resp;
    grpc::Status s = a_->stub->UpsertProcedure(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.procedure().version();
  };
  v1::Procedure lt01;
  const auto seed = testing_support::FromJson<v1::ListProceduresResponse>(
      testing_support::ReadSource("data/seed/procedures.json"));
  for (const auto& p : seed.procedures()) {
    if (p.code() == "LT.01") lt01 = p;
  }
  ASSERT_EQ(lt01.code(), "LT.01");
  *lt01.mutable_effective_time() = first.dossier().receive_time();

  // Only districts may receive the next version: b refuses a ward's.
  v1::Procedure districts_only = lt01;
  districts_only.clear_receiving_tiers();
  districts_only.add_receiving_tiers(common::v1::TIER_DISTRICT);
  EXPECT_EQ(upsert_procedure(districts_only), read_version + 1);
  v1::SubmitDossierResponse refused;
  const grpc::Status s = Submit(b, Birth(kTayMo), &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(common::GetErrorDetails(grpc_util::FromGrpcStatus(s)).reason,
            "TIER_MAY_NOT_RECEIVE");

  // Wards again, and the ward renamed: b's dossier is under the newest
  // version and its receipt names the ward as it is now.
  EXPECT_EQ(upsert_procedure(lt01), read_version + 2);
  v1::Agency ward;
  {
    grpc::ClientContext ctx;
    testing_support::As(ctx, "admin", "000.00.00.H26");
    v1::GetAgencyRequest req;
    req.set_name(absl::StrCat("agencies/", kTayMo));
    v1::GetAgencyResponse resp;
    ASSERT_TRUE(a_->stub->GetAgency(&ctx, req, &resp).ok());
    ward = resp.agency();
  }
  ward.set_display_name("Bộ phận Một cửa phường Tây Mỗ (mới)");
  {
    grpc::ClientContext ctx;
    testing_support::As(ctx, "admin", "000.00.00.H26");
    v1::UpsertAgencyRequest req;
    *req.mutable_agency() = ward;
    v1::UpsertAgencyResponse resp;
    ASSERT_TRUE(a_->stub->UpsertAgency(&ctx, req, &resp).ok());
  }
  v1::SubmitDossierResponse second;
  ASSERT_TRUE(Submit(b, Birth(kTayMo), &second).ok());
  EXPECT_EQ(second.dossier().procedure_version(), read_version + 2);
  EXPECT_NE(second.receipt_html().find("Bộ phận Một cửa phường Tây Mỗ (mới)"),
            std::string::npos);
  // Numbered without a gap: the refused one and the re-read took none.
  EXPECT_EQ(second.dossier().code(), "001.08.19.H26-261123-0002");
}

// Routing's events for one dossier, delivered together: applied in one
// transaction, in order (processing, then ready for return), a redelivered
// one answered as a duplicate and applied once.
TEST_F(IntakeIntegrationTest, ADeliveredBatchOfEventsIsAppliedInOrderOnce) {
  v1::SubmitDossierResponse sub;
  ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
  const std::string name = sub.dossier().name();
  routing::v1::TaskDispatched dispatched;
  dispatched.set_dossier(name);
  dispatched.set_leg_id("civil_status");
  dispatched.set_agency("agencies/001.08.19.H26.TP");
  routing::v1::RouteCompleted done;
  done.set_dossier(name);
  auto* out = done.add_outputs();
  out->set_key("birth_certificate_number");
  out->set_value("123/2026");
  const common::v1::Event e1 =
      grpc_util::MakeEvent(dispatched, "routing", name, clock_.Now());
  const common::v1::Event e2 =
      grpc_util::MakeEvent(done, "routing", name, clock_.Now());
  auto applied = a_->server.HandleEvents({&e1, &e2, &e1});
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, (std::vector<bool>{true, true, false}));
  auto again = a_->server.HandleEvents({&e2, &e1});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, (std::vector<bool>{false, false}));

  EXPECT_EQ(Count(absl::StrCat("SELECT state FROM intake.dossiers WHERE code "
                               "= '",
                               sub.dossier().code(), "'")),
            static_cast<int64_t>(v1::DOSSIER_STATE_READY_FOR_RETURN));
  // received, in processing, ready for return: each step once.
  EXPECT_EQ(Count("SELECT count(*) FROM intake.transitions"), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.inbox"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.outbox WHERE event_type = "
                  "'lienthong.intake.v1.DossierReadyForReturn'"),
            2);  // deadline and notify
}

}  // namespace
// A delivered batch for several dossiers reads each dossier once and writes
// each table once: two dossiers, each dispatched and then finished, are one
// dossier update, one transitions insert and one outbox insert, and every
// dossier's transitions still chain in the order they happened.
TEST_F(IntakeIntegrationTest, ADeliveredBatchWritesEachTableInOneStatement) {
  std::vector<common::v1::Event> events;
  std::vector<std::string> codes;
  for (int i = 0; i < 2; ++i) {
    v1::SubmitDossierResponse sub;
    ASSERT_TRUE(Submit(*a_, Birth(kTayMo), &sub).ok());
    codes.push_back(sub.dossier().code());
  }
  for (const std::string& code : codes) {
    routing::v1::TaskDispatched dispatched;
    dispatched.set_dossier("dossiers/" + code);
    dispatched.set_leg_id("civil_status");
    dispatched.set_agency("agencies/001.08.19.H26.TP");
    events.push_back(grpc_util::MakeEvent(dispatched, "routing",
                                          dispatched.dossier(), clock_.Now()));
  }
  for (const std::string& code : codes) {
    routing::v1::RouteCompleted done;
    done.set_dossier("dossiers/" + code);
    auto* out = done.add_outputs();
    out->set_key("birth_certificate_number");
    out->set_value("123/2026");
    events.push_back(
        grpc_util::MakeEvent(done, "routing", done.dossier(), clock_.Now()));
  }
  db::Pool pool({dsn_, 1});
  ASSERT_TRUE(db::WithTransaction(pool, [](pqxx::work& tx) {
                tx.exec(
                    "CREATE TABLE intake.statements (tbl text); CREATE "
                    "FUNCTION intake.count_statement() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN INSERT INTO "
                    "intake.statements VALUES (TG_TABLE_NAME); RETURN NULL; "
                    "END $$");
                for (const char* t : {"dossiers", "transitions", "outbox"}) {
                  tx.exec(absl::StrCat("CREATE TRIGGER count_", t,
                                       " AFTER INSERT OR UPDATE ON intake.", t,
                                       " FOR EACH STATEMENT EXECUTE FUNCTION "
                                       "intake.count_statement()"));
                }
                return absl::OkStatus();
              }).ok());
  std::vector<const common::v1::Event*> batch;
  for (const auto& e : events) batch.push_back(&e);
  auto applied = a_->server.HandleEvents(batch);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, std::vector<bool>(4, true));
  for (const char* t : {"dossiers", "transitions", "outbox"}) {
    EXPECT_EQ(
        Count(absl::StrCat(
            "SELECT count(*) FROM intake.statements WHERE tbl = '", t, "'")),
        1)
        << t;
  }
  for (const std::string& code : codes) {
    EXPECT_EQ(
        Count(absl::StrCat("SELECT state FROM intake.dossiers WHERE code = '",
                           code, "'")),
        static_cast<int64_t>(v1::DOSSIER_STATE_READY_FOR_RETURN));
    EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM intake.transitions "
                                 "WHERE dossier_code = '",
                                 code, "'")),
              3);
  }
  EXPECT_EQ(Count("SELECT count(*) FROM (SELECT from_state, lag(to_state) "
                  "OVER (PARTITION BY dossier_code ORDER BY id) AS prev FROM "
                  "intake.transitions) x WHERE prev IS NOT NULL AND prev <> "
                  "from_state"),
            0);
  EXPECT_EQ(Count("SELECT count(*) FROM intake.outbox WHERE event_type = "
                  "'lienthong.intake.v1.DossierReadyForReturn'"),
            4);  // deadline and notify, for each dossier
}

}  // namespace lienthong::intake
