// lienthong-bench-routing, part (b): whole birth workflows. In one process,
// intake and routing over real gRPC with their outbox relays; three agency
// systems, each with one watcher feeding --workers_per_agency claim and
// complete threads, answer instantly. Workflows/s from submission to
// READY_FOR_RETURN, with the intake-only submission rate of the same run.

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "absl/flags/flag.h"
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
#include "tools/bench/routing/bench_support.h"

ABSL_FLAG(int, workflows, 400, "(b) birth workflows to run");
ABSL_FLAG(int, submitters, 8, "(b) concurrent counters submitting");
ABSL_FLAG(int, workers_per_agency, 1,
          "(b) claim/complete threads per agency, fed by one watcher");
ABSL_FLAG(std::string, source_dir, ".", "repository root (seed data)");
ABSL_FLAG(bool, batch_agency_calls, true,
          "(b) agency systems watch with claim on delivery and complete up "
          "to --complete_batch tasks per CompleteTasks call; false: one "
          "ClaimTask and one CompleteTask call per task");
ABSL_FLAG(int, complete_batch, 100, "(b) most completions per CompleteTasks");
ABSL_FLAG(int, submit_batch_max, 32,
          "(b) intake's --submit_batch_max (1 = one transaction per call)");

namespace lt = lienthong;

namespace lienthong::bench {

void RunWholeWorkflows(const std::string& base_dsn) {
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
  std::atomic<int> retries{0}, failures{0}, batches{0}, batched_items{0};
  const bool batched = absl::GetFlag(FLAGS_batch_agency_calls);
  // As a real agency system would: a request_id per action, retried on a
  // transient failure (a retry never acts twice).
  auto call = [&](const char* agency, auto method, const auto& req,
                  auto* resp) {
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
  auto completion = [](const lt::routing::v1::Task& task) {
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
    return done;
  };
  auto work = [&](const char* agency, AgencyQueue& q) {
    while (true) {
      std::vector<lt::routing::v1::Task> tasks;
      {
        std::unique_lock lock(q.mu);
        q.cv.wait(lock, [&] { return stop || !q.tasks.empty(); });
        if (q.tasks.empty()) return;
        const size_t take =
            batched ? std::min<size_t>(q.tasks.size(),
                                       absl::GetFlag(FLAGS_complete_batch))
                    : 1;
        for (size_t i = 0; i < take; ++i) {
          tasks.push_back(std::move(q.tasks.front()));
          q.tasks.pop_front();
        }
      }
      if (batched) {
        // Already claimed on delivery: complete them in one call.
        lt::routing::v1::CompleteTasksRequest req;
        for (const auto& t : tasks) *req.add_requests() = completion(t);
        lt::routing::v1::CompleteTasksResponse resp;
        if (call(agency, &lt::routing::v1::RoutingService::Stub::CompleteTasks,
                 req, &resp)) {
          for (const auto& r : resp.results()) {
            if (r.status().code() != 0) ++failures;
          }
          ++batches;
          batched_items += resp.results_size();
        }
        continue;
      }
      const lt::routing::v1::Task& task = tasks.front();
      lt::routing::v1::ClaimTaskRequest claim;
      claim.set_name(task.name());
      claim.set_request_id(lt::common::NewUuid());
      lt::routing::v1::ClaimTaskResponse cr;
      if (!call(agency, &lt::routing::v1::RoutingService::Stub::ClaimTask,
                claim, &cr))
        continue;
      lt::routing::v1::CompleteTaskResponse dr;
      call(agency, &lt::routing::v1::RoutingService::Stub::CompleteTask,
           completion(task), &dr);
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
        if (batched) {
          lt::grpc_util::ToProto(absl::Minutes(1),
                                 wr.mutable_claim_lease_duration());
        }
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
  if (batched) {
    std::printf(
        "    claimed on delivery; %d CompleteTasks calls, %.1f tasks each\n",
        batches.load(),
        batches.load() ? static_cast<double>(batched_items.load()) /
                             batches.load()
                       : 0.0);
  } else {
    std::printf("    one ClaimTask and one CompleteTask call per task\n");
  }
}

}  // namespace lienthong::bench
