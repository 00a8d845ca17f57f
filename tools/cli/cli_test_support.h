#pragma once

// The built `lienthong` binary run by tests against a real intake server (in
// process, on loopback) over a real PostgreSQL: a fixture shared by the CLI's
// integration tests, on the runner in cli_runner.h.

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/intake/intake_test_fixture.h"
#include "tools/cli/cli_runner.h"

namespace lienthong::intake::cli_testing {

using testing_support::kTayMo;

class CliTest : public testing_support::IntakeIntegrationTest {
 protected:
  std::string Address() const {
    return absl::StrCat("--address=", a_->grpc.address());
  }

  // A birth registration at Tây Mỗ, as a file without a request_id.
  std::string WriteBirthFile(const std::string& name) {
    v1::SubmitDossierRequest req = Birth(kTayMo);
    req.clear_request_id();
    std::string json;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    EXPECT_TRUE(
        google::protobuf::util::MessageToJsonString(req, &json, o).ok());
    const std::string path = absl::StrCat(Scratch(), "/", name);
    std::ofstream(path) << json;
    return path;
  }

  CliRun SubmitAsOfficer(const std::string& file,
                         std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {Address(),
                                     absl::StrCat("--dev_agency=", kTayMo)};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("submit");
    args.push_back(file);
    return Cli(args);
  }

  CliRun SeedAsAdmin() {
    return Cli({Address(), "--dev_role=admin", "--json", "seed",
                absl::StrCat("--dir=", std::getenv("LIENTHONG_SOURCE_DIR"),
                             "/data/seed")});
  }

  int64_t AuditRows(const std::string& action) {
    return Count(absl::StrCat(
        "SELECT count(*) FROM intake.audit WHERE action = '", action, "'"));
  }
};

}  // namespace lienthong::intake::cli_testing
