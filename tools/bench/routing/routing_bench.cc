// lienthong-bench-routing: routing's figures on a durable PostgreSQL.
//
// (a) Dispatch latency: dossiers arrive at a fixed rate (default 1,000/s);
//     each DossierReceived commits a route, its ready task, a feed row and
//     outbox events in one transaction; an agency system watches its queue
//     over gRPC. Latency = task's ready time (inside the transaction) to its
//     arrival on WatchTasks. Baseline printed beside it: the durable commit
//     of that same transaction (what the stream adds on top of it).
// (b) Whole birth workflows: in one process, intake and routing over real
//     gRPC with their outbox relays, three agency systems completing
//     instantly. Workflows/s from submission to READY_FOR_RETURN, with the
//     intake-only submission rate measured in the same run.
//
//   build/release/tools/bench/routing/lienthong-bench-routing
//   --db_dsn="$(tools/pg dsn)"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "intake_migrations.h"
#include "libs/calendar/default_calendar.h"
#include "libs/common/uuid.h"
#include "libs/db/migrations.h"
#include "libs/db/outbox.h"
#include "libs/db/transaction.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/proto_time.h"
#include "libs/testing/in_process_server.h"
#include "lienthong/intake/v1/events.pb.h"
#include "routing_migrations.h"
#include "services/intake/intake_server.h"
#include "services/routing/intake_directory.h"
#include "services/routing/routing_server.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, db_dsn, "",
          "libpq DSN of a durable server (tools/pg dsn)");
ABSL_FLAG(double, rate, 1000, "(a) dossiers per second");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "(a) how long to offer load");
ABSL_FLAG(int, producers, 16, "(a) concurrent producers");
ABSL_FLAG(int, workflows, 400, "(b) birth workflows to run");
ABSL_FLAG(int, submitters, 8, "(b) concurrent counters submitting");
ABSL_FLAG(int, workers_per_agency, 1,
          "(b) claim/complete threads per agency, fed by one watcher");
ABSL_FLAG(std::string, source_dir, ".", "repository root (seed data)");
ABSL_FLAG(std::string, part, "ab", "which parts to run: a, b or ab");
ABSL_FLAG(int, submit_batch_max, 32,
          "(b) intake's --submit_batch_max (1 = one transaction per call)");

namespace lt = lienthong;

namespace {

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

std::string FreshDatabase(const std::string& dsn, const std::string& name) {
  pqxx::connection c(dsn);
  pqxx::nontransaction tx(c);
  tx.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  tx.exec("CREATE DATABASE " + name);
  return dsn + " dbname=" + name;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The three-office tree of part (a).
class StaticDirectory : public lt::routing::AgencyDirectory {
 public:
  StaticDirectory() {
    Add("W", "", lt::common::v1::AGENCY_KIND_PEOPLES_COMMITTEE);
    Add("W-TP", "W", lt::common::v1::AGENCY_KIND_JUSTICE);
    Add("W-1CUA", "W", lt::common::v1::AGENCY_KIND_ONE_STOP_UNIT);
  }
  absl::StatusOr<lt::intake::v1::Agency> Get(const std::string& c) override {
    return a_.at(c);
  }
  absl::StatusOr<std::vector<lt::intake::v1::Agency>> ChildrenOfKind(
      const std::string& unit, lt::common::v1::AgencyKind kind) override {
    std::vector<lt::intake::v1::Agency> out;
    for (auto& [c, a] : a_) {
      if (a.parent() == "agencies/" + unit && a.kind() == kind)
        out.push_back(a);
    }
    return out;
  }

 private:
  void Add(const std::string& c, const std::string& parent,
           lt::common::v1::AgencyKind kind) {
    lt::intake::v1::Agency a;
    a.set_code(c);
    a.set_name("agencies/" + c);
    a.set_kind(kind);
    a.set_tier(lt::common::v1::TIER_COMMUNE);
    if (!parent.empty()) a.set_parent("agencies/" + parent);
    a.set_administrative_unit(parent.empty() ? a.name() : "agencies/" + parent);
    a_[c] = a;
  }
  std::map<std::string, lt::intake::v1::Agency> a_;
};

void PartA(const std::string& base_dsn) {
  const std::string dsn = FreshDatabase(base_dsn, "lt_bench_routing_a");
  lt::db::Pool pool({dsn, absl::GetFlag(FLAGS_producers) + 4});
  if (!lt::db::Migrate(pool, "routing", lt::routing::Migrations()).ok()) return;
  StaticDirectory dir;
  lt::routing::RoutingOptions o;
  o.insecure_dev_auth = true;
  o.watch_poll = absl::Milliseconds(100);
  lt::routing::RoutingServer server(pool, lt::common::RealClock::Get(), dir, o);
  server.StartFeedListener();
  lt::testing::InProcessServer grpc({&server});
  auto stub = lt::routing::v1::RoutingService::NewStub(grpc.NewChannel());

  std::mutex mu;
  std::vector<double> deliver_ms, commit_ms;
  std::atomic<int64_t> received{0};
  grpc::ClientContext wctx;
  wctx.AddMetadata("x-lienthong-role", "agency_system");
  wctx.AddMetadata("x-lienthong-agency", "W-TP");
  lt::routing::v1::WatchTasksRequest wreq;
  wreq.set_agency("agencies/W-TP");
  auto reader = stub->WatchTasks(&wctx, wreq);
  std::thread watcher([&] {
    lt::routing::v1::WatchTasksResponse item;
    while (reader->Read(&item)) {
      const absl::Time now = absl::Now();
      const double ms = absl::ToDoubleMilliseconds(
          now - lt::grpc_util::FromProto(item.task().ready_time()));
      std::lock_guard<std::mutex> l(mu);
      deliver_ms.push_back(ms);
      ++received;
    }
  });

  lt::intake::v1::DossierReceived tmpl;
  *tmpl.mutable_receiving_agency() = *dir.Get("W-1CUA");
  auto* leg = tmpl.mutable_procedure()->add_legs();
  leg->set_id("civil_status");
  leg->set_display_name("Đăng ký khai sinh");
  leg->set_agency_kind(lt::common::v1::AGENCY_KIND_JUSTICE);
  leg->mutable_time_limit()->set_unit(
      lt::common::v1::WORKING_DURATION_UNIT_DAYS);
  leg->mutable_time_limit()->set_amount(1);

  const double rate = absl::GetFlag(FLAGS_rate);
  const int producers = absl::GetFlag(FLAGS_producers);
  const absl::Time start = absl::Now() + absl::Milliseconds(200);
  const int64_t total = static_cast<int64_t>(
      rate * absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration)));
  std::atomic<int64_t> next{0}, failed{0};
  std::vector<std::thread> ps;
  for (int p = 0; p < producers; ++p) {
    ps.emplace_back([&] {
      while (true) {
        const int64_t i = next++;
        if (i >= total) return;
        // Open loop: each dossier has its scheduled instant.
        const absl::Time at = start + absl::Seconds(i / rate);
        if (absl::Now() < at) absl::SleepFor(at - absl::Now());
        lt::intake::v1::DossierReceived ev = tmpl;
        ev.set_dossier(absl::StrCat("dossiers/B-", i));
        const absl::Time t0 = absl::Now();
        auto r = server.HandleEvent(
            lt::grpc_util::MakeEvent(ev, "intake", ev.dossier(), t0));
        const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
        if (!r.ok()) ++failed;
        std::lock_guard<std::mutex> l(mu);
        commit_ms.push_back(ms);
      }
    });
  }
  for (auto& t : ps) t.join();
  const absl::Time produced = absl::Now();
  while (received < total - failed &&
         absl::Now() - produced < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const double offered_s = absl::ToDoubleSeconds(produced - start);
  wctx.TryCancel();
  watcher.join();
  server.Stop();
  std::printf(
      "\n(a) dispatch: %lld dossiers offered at %.0f/s for %.1f s, achieved "
      "%.0f/s, %lld failed, %lld delivered\n",
      static_cast<long long>(total), rate,
      absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration)), total / offered_s,
      static_cast<long long>(failed.load()),
      static_cast<long long>(received.load()));
  std::printf(
      "    ready -> WatchTasks   p50 %7.2f ms   p99 %7.2f ms   (target p50 < "
      "10, p99 < 100)\n",
      Pct(deliver_ms, 0.5), Pct(deliver_ms, 0.99));
  std::printf(
      "    baseline: durable commit of the dispatching transaction   p50 %7.2f "
      "ms   p99 %7.2f ms\n",
      Pct(commit_ms, 0.5), Pct(commit_ms, 0.99));
  std::printf("    backlog at the end: %lld not delivered\n",
              static_cast<long long>(total - failed - received));
}

void PartB(const std::string& base_dsn) {
  const std::string dsn = FreshDatabase(base_dsn, "lt_bench_routing_b");
  lt::db::Pool ipool({dsn, 16}), rpool({dsn, 16});
  if (!lt::db::Migrate(ipool, "intake", lt::intake::Migrations()).ok() ||
      !lt::db::Migrate(rpool, "routing", lt::routing::Migrations()).ok()) {
    std::printf("(b) migrations failed\n");
    return;
  }
  auto& clock = lt::common::RealClock::Get();
  lt::intake::IntakeOptions io;
  io.insecure_dev_auth = true;
  io.submit_batch_max = absl::GetFlag(FLAGS_submit_batch_max);
  io.calendar = std::make_shared<const lt::calendar::WorkingCalendar>(
      *lt::calendar::DefaultCalendar());
  lt::intake::IntakeServer intake(ipool, clock, io);
  // Both sinks as the services wire them: a delivered batch of events is
  // applied in one transaction.
  lt::grpc_util::EventSinkServer intake_sink(
      "lienthong.intake", [&](const auto& e) { return intake.HandleEvent(e); },
      [&](const auto& events) { return intake.HandleEvents(events); }, true);
  lt::testing::InProcessServer intake_grpc({&intake, &intake_sink});
  lt::routing::IntakeDirectory dir(intake_grpc.NewChannel(), clock,
                                   absl::Hours(1), absl::Seconds(5));
  lt::routing::RoutingOptions ro;
  ro.insecure_dev_auth = true;
  lt::routing::RoutingServer routing(rpool, clock, dir, ro);
  routing.StartFeedListener();
  lt::grpc_util::EventSinkServer routing_sink(
      "lienthong.routing",
      [&](const auto& e) { return routing.HandleEvent(e); },
      [&](const auto& events) { return routing.HandleEvents(events); }, true);
  lt::testing::InProcessServer routing_grpc({&routing, &routing_sink});
  auto istub = lt::intake::v1::IntakeService::NewStub(intake_grpc.NewChannel());
  auto rstub =
      lt::routing::v1::RoutingService::NewStub(routing_grpc.NewChannel());

  // Seed the tree and catalogue.
  auto seed = [&](auto msg, const std::string& file) {
    google::protobuf::util::JsonParseOptions jo;
    jo.ignore_unknown_fields = true;
    (void)google::protobuf::util::JsonStringToMessage(
        Read(absl::GetFlag(FLAGS_source_dir) + "/data/seed/" + file), &msg, jo);
    return msg;
  };
  const auto agencies =
      seed(lt::intake::v1::ListAgenciesResponse(), "agencies.json");
  for (const auto& a : agencies.agencies()) {
    grpc::ClientContext c;
    c.AddMetadata("x-lienthong-role", "admin");
    lt::intake::v1::UpsertAgencyRequest r;
    *r.mutable_agency() = a;
    lt::intake::v1::UpsertAgencyResponse resp;
    istub->UpsertAgency(&c, r, &resp);
  }
  const auto procedures =
      seed(lt::intake::v1::ListProceduresResponse(), "procedures.json");
  for (const auto& p : procedures.procedures()) {
    grpc::ClientContext c;
    c.AddMetadata("x-lienthong-role", "admin");
    lt::intake::v1::UpsertProcedureRequest r;
    *r.mutable_procedure() = p;
    lt::intake::v1::UpsertProcedureResponse resp;
    istub->UpsertProcedure(&c, r, &resp);
  }
  lt::intake::v1::SubmitDossierRequest tmpl;
  {
    google::protobuf::util::JsonParseOptions jo;
    (void)google::protobuf::util::JsonStringToMessage(
        R"({"parent":"agencies/001.08.19.H26","dossier":{"procedure":"procedures/LT.01","channel":"RECEIPT_CHANNEL_COUNTER","applicant":{"full_name":"Nguyễn Văn An","personal_id":"001090012345","contact":{"phone":"0912345678"}},"fields":[{"key":"child_full_name","value":"Nguyễn Minh Khôi"},{"key":"child_date_of_birth","value":"2026-11-20"},{"key":"child_sex","value":"Nam"},{"key":"place_of_birth","value":"Bệnh viện Phụ sản Hà Nội"},{"key":"mother_full_name","value":"Trần Thị Bình"},{"key":"mother_personal_id","value":"001192054321"},{"key":"permanent_address","value":"Phường Tây Mỗ"}],"documents":[{"code":"giay_chung_sinh","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},{"code":"to_khai_lien_thong","sha256":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]}})",
        &tmpl, jo);
  }
  const int n = absl::GetFlag(FLAGS_workflows);
  auto submit_all = [&](int count) {
    std::atomic<int> next{0}, ok{0};
    std::vector<std::thread> ts;
    const absl::Time t0 = absl::Now();
    for (int s = 0; s < absl::GetFlag(FLAGS_submitters); ++s) {
      ts.emplace_back([&] {
        while (next++ < count) {
          grpc::ClientContext c;
          c.AddMetadata("x-lienthong-role", "counter_officer");
          c.AddMetadata("x-lienthong-agency", "001.08.19.H26");
          auto req = tmpl;
          req.set_request_id(lt::common::NewUuid());
          lt::intake::v1::SubmitDossierResponse resp;
          if (istub->SubmitDossier(&c, req, &resp).ok()) ++ok;
        }
      });
    }
    for (auto& t : ts) t.join();
    return std::make_pair(ok.load(), absl::Now() - t0);
  };

  // Intake alone first (no relays running yet: its events wait in the outbox).
  auto [intake_ok, intake_wall] = submit_all(n);
  const double intake_rate = intake_ok / absl::ToDoubleSeconds(intake_wall);

  // Then the whole workflow: relays, agency systems, submissions.
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<lt::db::OutboxRelay>> relays;
  lt::grpc_util::EventSinkClient to_routing(routing_grpc.NewChannel(),
                                            absl::Seconds(5));
  lt::grpc_util::EventSinkClient to_intake(intake_grpc.NewChannel(),
                                           absl::Seconds(5));
  auto deliver = [](lt::grpc_util::EventSinkClient& c) {
    return [&c](const std::vector<lt::db::OutboxRecord>& rs) {
      std::vector<std::string> p;
      for (auto& r : rs) p.push_back(r.payload);
      return c.Deliver(p);
    };
  };
  // The backlog from the intake-only run is routed first; count from zero.
  {
    lt::db::RelayOptions o;
    o.schema = "intake";
    o.destination = "routing";
    o.poll_interval = absl::Milliseconds(20);
    relays.push_back(std::make_unique<lt::db::OutboxRelay>(
        ipool, clock, o, deliver(to_routing)));
    o.schema = "routing";
    o.destination = "intake";
    relays.push_back(std::make_unique<lt::db::OutboxRelay>(rpool, clock, o,
                                                           deliver(to_intake)));
  }
  // Each agency system: one watcher feeding a queue, `workers_per_agency`
  // threads claiming and completing from it (each ready task is seen once).
  struct AgencyQueue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<lt::routing::v1::Task> tasks;
  };
  std::vector<std::thread> workers;
  std::vector<std::unique_ptr<AgencyQueue>> queues;
  std::vector<std::unique_ptr<grpc::ClientContext>> watches;
  std::mutex watches_mu;
  std::atomic<int> retries{0}, failures{0};
  auto work = [&](const char* agency, AgencyQueue& q) {
    while (true) {
      lt::routing::v1::Task task;
      {
        std::unique_lock lock(q.mu);
        q.cv.wait(lock, [&] { return stop || !q.tasks.empty(); });
        if (q.tasks.empty()) return;
        task = std::move(q.tasks.front());
        q.tasks.pop_front();
      }
      // As a real agency system would: a request_id per action, retried
      // on a transient failure (a retry never acts twice).
      auto call = [&](auto method, const auto& req, auto* resp) {
        for (int attempt = 0; attempt < 5; ++attempt) {
          grpc::ClientContext c;
          c.AddMetadata("x-lienthong-role", "agency_system");
          c.AddMetadata("x-lienthong-agency", agency);
          c.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
          const grpc::Status st = ((*rstub).*method)(&c, req, resp);
          if (st.ok()) return true;
          if (st.error_code() != grpc::StatusCode::UNAVAILABLE &&
              st.error_code() != grpc::StatusCode::ABORTED &&
              st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
            if (st.error_code() != grpc::StatusCode::FAILED_PRECONDITION)
              ++failures;
            return false;
          }
          ++retries;
        }
        ++failures;
        return false;
      };
      lt::routing::v1::ClaimTaskRequest claim;
      claim.set_name(task.name());
      claim.set_request_id(lt::common::NewUuid());
      lt::routing::v1::ClaimTaskResponse cr;
      if (!call(&lt::routing::v1::RoutingService::Stub::ClaimTask, claim, &cr))
        continue;
      lt::routing::v1::CompleteTaskRequest done;
      done.set_name(task.name());
      done.set_request_id(lt::common::NewUuid());
      for (const auto& s : task.expected_outputs()) {
        auto* o = done.add_outputs();
        o->set_key(s.key());
        o->set_value(
            s.type() == lt::common::v1::FIELD_TYPE_PERSONAL_ID ? "001226012345"
            : s.type() == lt::common::v1::FIELD_TYPE_DATE      ? "2026-11-25"
                                                               : "X-1");
      }
      lt::routing::v1::CompleteTaskResponse dr;
      call(&lt::routing::v1::RoutingService::Stub::CompleteTask, done, &dr);
    }
  };
  for (const char* agency :
       {"002.08.19.H26", "003.08.19.H26", "000.91.19.H26"}) {
    queues.push_back(std::make_unique<AgencyQueue>());
    AgencyQueue& q = *queues.back();
    workers.emplace_back([&, agency] {
      std::string cursor;
      while (!stop) {
        auto c = std::make_unique<grpc::ClientContext>();
        c->AddMetadata("x-lienthong-role", "agency_system");
        c->AddMetadata("x-lienthong-agency", agency);
        grpc::ClientContext* ctx = c.get();
        {
          std::lock_guard lock(watches_mu);
          watches.push_back(std::move(c));
        }
        lt::routing::v1::WatchTasksRequest wr;
        wr.set_agency(std::string("agencies/") + agency);
        wr.set_cursor(cursor);
        auto reader = rstub->WatchTasks(ctx, wr);
        lt::routing::v1::WatchTasksResponse item;
        while (!stop && reader->Read(&item)) {
          cursor = item.cursor();
          std::lock_guard lock(q.mu);
          q.tasks.push_back(item.task());
          q.cv.notify_one();
        }
        ctx->TryCancel();
        reader->Finish();
      }
    });
    for (int w = 0; w < absl::GetFlag(FLAGS_workers_per_agency); ++w)
      workers.emplace_back([&, agency] { work(agency, q); });
  }
  auto ready = [&] {
    return lt::db::WithTransaction(
               ipool,
               [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
                 return tx
                     .exec(
                         "SELECT count(*) FROM intake.dossiers WHERE state = 4")
                         [0][0]
                     .as<int64_t>();
               })
        .value_or(0);
  };
  const absl::Time t0 = absl::Now();
  for (auto& r : relays) r->Start();
  auto [wf_ok, wf_submit] = submit_all(n);
  const int64_t want = intake_ok + wf_ok;
  int64_t done = 0;
  while ((done = ready()) < want && absl::Now() - t0 < absl::Minutes(5)) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const absl::Duration wall = absl::Now() - t0;
  stop = true;
  for (auto& q : queues) {
    std::lock_guard lock(q->mu);
    q->cv.notify_all();
  }
  routing.Stop();
  for (auto& r : relays) r->Stop();
  for (auto& w : workers) w.join();
  std::printf(
      "\n(b) whole birth workflows (submit -> 3 legs by 3 agencies over gRPC "
      "-> READY_FOR_RETURN):\n");
  std::printf(
      "    %lld workflows finished in %.2f s = %.1f workflows/s   (target >= "
      "500/s)\n",
      static_cast<long long>(done), absl::ToDoubleSeconds(wall),
      done / absl::ToDoubleSeconds(wall));
  std::printf(
      "    intake alone, same run: %d submissions in %.2f s = %.1f "
      "dossiers/s\n",
      intake_ok, absl::ToDoubleSeconds(intake_wall), intake_rate);
  std::printf("    agency calls retried: %d, failed: %d\n", retries.load(),
              failures.load());
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string dsn = absl::GetFlag(FLAGS_db_dsn);
  if (dsn.empty()) {
    std::fprintf(
        stderr,
        "bench-routing: --db_dsn is required (e.g. \"$(tools/pg dsn)\")\n");
    return 2;
  }
  {
    pqxx::connection c(dsn);
    pqxx::nontransaction tx(c);
    std::printf("PostgreSQL: fsync=%s synchronous_commit=%s\n",
                tx.exec("SHOW fsync")[0][0].c_str(),
                tx.exec("SHOW synchronous_commit")[0][0].c_str());
  }
  // Connect to the maintenance database to create the bench databases.
  std::string base = dsn;
  if (auto p = base.find("dbname="); p != std::string::npos) {
    auto e = base.find(' ', p);
    base.erase(p, e == std::string::npos ? std::string::npos : e - p);
  }
  spdlog::set_level(spdlog::level::warn);  // the services log every task
  const std::string part = absl::GetFlag(FLAGS_part);
  if (part.find('a') != std::string::npos) PartA(base + " dbname=postgres");
  if (part.find('b') != std::string::npos) PartB(base + " dbname=postgres");
  return 0;
}
