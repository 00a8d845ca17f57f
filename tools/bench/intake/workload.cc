// The intake bench's workload (workload.h).

#include "tools/bench/intake/workload.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "libs/common/uuid.h"
#include "libs/db/outbox.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/grpc_util/status_conversion.h"
#include "lienthong/intake/v1/events.pb.h"
#include "services/intake/intake_logic.h"
#include "services/intake/pg_intake_store.h"

namespace lienthong::intake {

void Die(absl::string_view what, const absl::Status& s) {
  std::fprintf(stderr, "intake-bench: %s: %s\n", std::string(what).c_str(),
               s.ToString().c_str());
  std::exit(1);
}

namespace {

constexpr char kCity[] = "000.00.00.H26";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("read", absl::NotFoundError(path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename M>
M ParseJson(const std::string& text, absl::string_view what) {
  M m;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;  // the seed files' "_note", "_invented_code"
  auto s = google::protobuf::util::JsonStringToMessage(text, &m, o);
  if (!s.ok()) Die(what, absl::InvalidArgumentError(s.ToString()));
  return m;
}

void As(grpc::ClientContext& ctx, const std::string& role,
        const std::string& agency) {
  ctx.AddMetadata("x-lienthong-role", role);
  ctx.AddMetadata("x-lienthong-agency", agency);
  ctx.AddMetadata("x-lienthong-subject", "bench");
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

// The joint birth registration a ward counter receives most.
v1::Dossier BirthDossier() {
  return ParseJson<v1::Dossier>(R"json({
    "procedure": "procedures/LT.01", "channel": "RECEIPT_CHANNEL_COUNTER",
    "applicant": {"full_name": "Nguyễn Văn An", "personal_id": "001090012345",
                  "contact": {"phone": "0912345678",
                              "email": "nguyenvanan@example.vn"},
                  "address": "Số 12 ngõ 35 phố Tây Mỗ, phường Tây Mỗ, Hà Nội"},
    "fields": [
      {"key": "child_full_name", "value": "Nguyễn Minh Khôi"},
      {"key": "child_date_of_birth", "value": "2026-11-20"},
      {"key": "child_sex", "value": "Nam"},
      {"key": "place_of_birth", "value": "Bệnh viện Phụ sản Hà Nội"},
      {"key": "mother_full_name", "value": "Trần Thị Bình"},
      {"key": "mother_personal_id", "value": "001192054321"},
      {"key": "permanent_address", "value": "Phường Tây Mỗ, Hà Nội"}],
    "documents": [
      {"code": "giay_chung_sinh", "sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
      {"code": "to_khai_lien_thong", "sha256": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]
  })json",
                                "birth dossier");
}

}  // namespace

Seed LoadSeed(const std::string& dir) {
  Seed s;
  s.agencies = ParseJson<v1::ListAgenciesResponse>(
      ReadFile(dir + "/agencies.json"), "agencies.json");
  s.procedures = ParseJson<v1::ListProceduresResponse>(
      ReadFile(dir + "/procedures.json"), "procedures.json");
  for (const auto& a : s.agencies.agencies()) {
    if (a.tier() == common::v1::TIER_COMMUNE &&
        a.kind() == common::v1::AGENCY_KIND_ONE_STOP_UNIT) {
      s.counters.push_back(a);
    }
  }
  for (const auto& p : s.procedures.procedures()) {
    if (p.code() == "LT.01") s.birth = p;
  }
  if (s.counters.empty() || s.birth.code().empty()) {
    Die("seed", absl::FailedPreconditionError(
                    "no commune one-stop unit or no procedure LT.01"));
  }
  return s;
}

void SeedService(v1::IntakeService::Stub& stub, const Seed& seed) {
  for (const auto& a : seed.agencies.agencies()) {
    grpc::ClientContext ctx;
    As(ctx, "admin", kCity);
    v1::UpsertAgencyRequest req;
    *req.mutable_agency() = a;
    v1::UpsertAgencyResponse resp;
    grpc::Status s = stub.UpsertAgency(&ctx, req, &resp);
    if (!s.ok()) Die("seed agency", absl::UnknownError(s.error_message()));
  }
  for (const auto& p : seed.procedures.procedures()) {
    grpc::ClientContext ctx;
    As(ctx, "admin", kCity);
    v1::UpsertProcedureRequest req;
    *req.mutable_procedure() = p;
    v1::UpsertProcedureResponse resp;
    grpc::Status s = stub.UpsertProcedure(&ctx, req, &resp);
    if (!s.ok()) Die("seed procedure", absl::UnknownError(s.error_message()));
  }
}

// Submits through gRPC, as a counter officer of the city (whose subtree
// holds every ward), spreading dossiers over the ward counters.
bench::Op ServiceOp(
    const std::vector<std::unique_ptr<v1::IntakeService::Stub>>& stubs,
    const Seed& seed) {
  const v1::Dossier birth = BirthDossier();
  return [&stubs, &seed, birth](int client, int64_t i) -> absl::Status {
    v1::SubmitDossierRequest req;
    const v1::Agency& ward = seed.counters[(client + i) % seed.counters.size()];
    req.set_parent(AgencyName(ward.code()));
    *req.mutable_dossier() = birth;
    req.set_request_id(common::NewUuid());
    grpc::ClientContext ctx;
    As(ctx, "counter_officer", kCity);
    v1::SubmitDossierResponse resp;
    grpc::Status s =
        stubs[client % stubs.size()]->SubmitDossier(&ctx, req, &resp);
    return grpc_util::FromGrpcStatus(s);
  };
}

namespace {

// A client thread's completion queue, for the generic calls it makes.
class ThreadQueue {
 public:
  ~ThreadQueue() {
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }
  grpc::CompletionQueue& get() { return cq_; }

 private:
  grpc::CompletionQueue cq_;
};

constexpr char kSubmitMethod[] =
    "/lienthong.intake.v1.IntakeService/SubmitDossier";
constexpr int kParseEvery = 32;

}  // namespace

namespace {

// Each ward's request without its request_id, serialized once.
std::shared_ptr<const std::vector<std::string>> RequestTemplates(
    const Seed& seed) {
  auto templates = std::make_shared<std::vector<std::string>>();
  const v1::Dossier birth = BirthDossier();
  for (const v1::Agency& ward : seed.counters) {
    v1::SubmitDossierRequest req;
    req.set_parent(AgencyName(ward.code()));
    *req.mutable_dossier() = birth;
    templates->push_back(req.SerializeAsString());
  }
  return templates;
}

// Client `client`'s i-th request: its ward's bytes with a fresh request_id
// appended.
grpc::ByteBuffer LeanRequest(const std::vector<std::string>& templates,
                             int client, int64_t i) {
  std::string bytes = templates[(client + i) % templates.size()];
  const std::string id = common::NewUuid();
  bytes += static_cast<char>(
      (v1::SubmitDossierRequest::kRequestIdFieldNumber << 3) | 2);
  bytes += static_cast<char>(id.size());  // 36 < 128: one byte
  bytes += id;
  grpc::Slice slice(bytes.data(), bytes.size());
  return grpc::ByteBuffer(&slice, 1);
}

// The call's outcome; every kParseEvery-th answer (by `i`) is parsed and
// must hold the received dossier with its code and the receipt.
absl::Status CheckLeanAnswer(const grpc::Status& status,
                             grpc::ByteBuffer& response, int64_t i) {
  if (!status.ok()) return grpc_util::FromGrpcStatus(status);
  if (i % kParseEvery != 0) return absl::OkStatus();
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) {
    return absl::InternalError("answer unreadable");
  }
  std::string answer;
  for (const grpc::Slice& s : slices) {
    answer.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  v1::SubmitDossierResponse resp;
  if (!resp.ParseFromString(answer) || resp.dossier().code().empty() ||
      resp.dossier().state() != v1::DOSSIER_STATE_RECEIVED ||
      resp.receipt_html().empty()) {
    return absl::InternalError(
        "an answer without a received dossier or its receipt");
  }
  return absl::OkStatus();
}

void AsCityOfficer(grpc::ClientContext& ctx) {
  As(ctx, "counter_officer", kCity);
}

}  // namespace

bench::Op LeanServiceOp(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const Seed& seed) {
  auto stubs =
      std::make_shared<std::vector<std::unique_ptr<grpc::GenericStub>>>();
  for (const auto& c : channels) {
    stubs->push_back(std::make_unique<grpc::GenericStub>(c));
  }
  return [stubs, templates = RequestTemplates(seed)](
             int client, int64_t i) -> absl::Status {
    thread_local ThreadQueue queue;
    const grpc::ByteBuffer request = LeanRequest(*templates, client, i);
    grpc::ClientContext ctx;
    AsCityOfficer(ctx);
    grpc::ByteBuffer response;
    grpc::Status status;
    auto call = (*stubs)[client % stubs->size()]->PrepareUnaryCall(
        &ctx, kSubmitMethod, request, &queue.get());
    call->StartCall();
    call->Finish(&response, &status, &status);
    void* tag = nullptr;
    bool ok = false;
    if (!queue.get().Next(&tag, &ok) || tag != &status || !ok) {
      return absl::InternalError("completion queue");
    }
    return CheckLeanAnswer(status, response, i);
  };
}

bench::AsyncOp AsyncLeanServiceOp(std::shared_ptr<bench::AsyncCalls> calls,
                                  const Seed& seed) {
  return [calls, templates = RequestTemplates(seed)](int client, int64_t i,
                                                     bench::Done done) {
    calls->Call(client, kSubmitMethod, LeanRequest(*templates, client, i),
                AsCityOfficer,
                [i, done = std::move(done)](const grpc::Status& status,
                                            grpc::ByteBuffer& answer) {
                  done(CheckLeanAnswer(status, answer, i));
                });
  };
}

// The same rows with no gRPC, no validation, no idempotency record, no
// transition or audit row: the counter, the dossier (documents inside its
// body, as the service stores them) and DossierReceived for three
// destinations. Counters of their own ("B" prefix) so codes never collide.
bench::Op BaselineOp(db::Pool& pool, const Seed& seed,
                     const calendar::WorkingCalendar& cal) {
  const v1::Dossier birth = BirthDossier();
  return [&pool, &seed, &cal, birth](int client, int64_t i) -> absl::Status {
    const v1::Agency& ward = seed.counters[(client + i) % seed.counters.size()];
    const std::string agency = absl::StrCat("B", ward.code());
    return db::WithTransaction(pool, [&](pqxx::work& tx) -> absl::Status {
      const absl::Time now = absl::Now();
      const int64_t seq = pg::NextSequence(tx, agency, LocalDay(now));
      v1::Dossier d = birth;
      d.set_code(FormatDossierCode(agency, LocalDay(now), seq));
      d.set_name(DossierName(d.code()));
      d.set_receiving_agency(AgencyName(agency));
      d.set_state(v1::DOSSIER_STATE_RECEIVED);
      grpc_util::ToProto(now, d.mutable_receive_time());
      grpc_util::ToProto(now, d.mutable_update_time());
      absl::StatusOr<absl::Time> appointment =
          ComputeAppointment(cal, now, seed.birth);
      if (appointment.ok()) {
        grpc_util::ToProto(*appointment, d.mutable_appointment_time());
      }
      pg::InsertDossier(tx, d, "/bench/", now);
      v1::DossierReceived ev;
      ev.set_dossier(d.name());
      *ev.mutable_receiving_agency() = ward;
      *ev.mutable_procedure() = seed.birth;
      *ev.mutable_fields() = d.fields();
      *ev.mutable_applicant_contact() = d.applicant().contact();
      *ev.mutable_receive_time() = d.receive_time();
      *ev.mutable_appointment_time() = d.appointment_time();
      const common::v1::Event e =
          grpc_util::MakeEvent(ev, "intake", d.name(), now);
      return db::AppendOutbox(tx, "intake",
                              {e.event_id(), e.type(), e.SerializeAsString()},
                              {"routing", "deadline", "notify"}, now);
    });
  };
}

}  // namespace lienthong::intake
