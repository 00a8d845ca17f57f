#pragma once

// The intake bench's workload: the seed it loads, the joint birth
// registration it submits, and the two ways of writing it that the bench
// compares (through the service over gRPC, and the baseline's rows
// straight through libpqxx).

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "libs/calendar/working_calendar.h"
#include "libs/db/pool.h"
#include "lienthong/intake/v1/intake_service.grpc.pb.h"
#include "tools/bench/intake/async_calls.h"
#include "tools/bench/intake/bench_util.h"

namespace lienthong::intake {

// Prints "intake-bench: <what>: <status>" and exits 1.
[[noreturn]] void Die(absl::string_view what, const absl::Status& s);

struct Seed {
  v1::ListAgenciesResponse agencies;
  v1::ListProceduresResponse procedures;
  std::vector<v1::Agency> counters;  // commune one-stop units
  v1::Procedure birth;
};

// data/seed's agencies.json and procedures.json from `dir`.
Seed LoadSeed(const std::string& dir);
// Upserts the seed through the admin RPCs.
void SeedService(v1::IntakeService::Stub& stub, const Seed& seed);

// Submits through gRPC, as a counter officer of the city (whose subtree
// holds every ward), spreading dossiers over the ward counters.
bench::Op ServiceOp(
    const std::vector<std::unique_ptr<v1::IntakeService::Stub>>& stubs,
    const Seed& seed);

// The same submissions with a load generator that costs the shared cores
// less: each ward's request is serialized once and a call only appends its
// request_id to those bytes (a message's fields may come in any order on
// the wire); calls go as raw bytes through the generic stub, each client
// thread waiting on a completion queue of its own as a sync stub does. The
// answers' bytes are not parsed, except every 32nd, which is parsed and
// must hold the dossier with its code and the receipt. The server sees
// exactly what ServiceOp sends.
bench::Op LeanServiceOp(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const Seed& seed);

// LeanServiceOp's calls, asynchronous: started by the loop's thread and
// finished on `calls`' completion thread (bench::Load::Async).
bench::AsyncOp AsyncLeanServiceOp(std::shared_ptr<bench::AsyncCalls> calls,
                                  const Seed& seed);

// The same rows with no gRPC, no validation, no idempotency record, no
// transition or audit row: the counter, the dossier (documents inside its
// body, as the service stores them) and DossierReceived for three
// destinations. Counters of their own ("B" prefix) so codes never collide.
bench::Op BaselineOp(db::Pool& pool, const Seed& seed,
                     const calendar::WorkingCalendar& cal);

}  // namespace lienthong::intake
