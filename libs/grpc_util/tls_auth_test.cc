// mTLS end to end: a throwaway CA, a server certificate for 127.0.0.1 and
// client certificates whose subject carries O=agency, CN=subject, OU=role.

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/auth.h"
#include "libs/grpc_util/channel.h"
#include "libs/grpc_util/event_sink.h"
#include "libs/grpc_util/server.h"

namespace lienthong::grpc_util {
namespace {

namespace fs = std::filesystem;

class TlsAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        absl::StrCat("lienthong-tls-", common::NewUuid()));
    fs::create_directories(*dir_);
    const std::string d = dir_->string();
    const std::string script = absl::StrCat(
        "set -e; cd ", d, "\n",
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -keyout ca.key "
        "-out ca.pem -subj '/CN=lienthong test CA' 2>/dev/null\n",
        "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext\n",
        "issue() { openssl req -utf8 -newkey rsa:2048 -nodes -keyout $1.key -out "
        "$1.csr -subj \"$2\" 2>/dev/null; openssl x509 -req -in $1.csr -CA "
        "ca.pem -CAkey ca.key -CAcreateserial -days 1 -out $1.pem $3 "
        "2>/dev/null; }\n",
        "issue server '/CN=127.0.0.1' '-extfile san.ext'\n",
        "issue relay '/O=000.00.00.H26/OU=service/CN=routing-relay' ''\n",
        "issue citizen '/O=000.00.00.H26/OU=citizen/CN=Nguyễn Văn An' ''\n");
    ASSERT_EQ(std::system(script.c_str()), 0);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string Path(const std::string& f) { return (*dir_ / f).string(); }

  static fs::path* dir_;
};
fs::path* TlsAuthTest::dir_ = nullptr;

grpc::StatusCode Deliver(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = lienthong::common::v1::EventSinkService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  // Dev headers claiming to be a service must be ignored without dev auth.
  ctx.AddMetadata("x-lienthong-role", "service");
  lienthong::common::v1::DeliverEventsRequest req;
  req.add_events()->set_event_id(common::NewUuid());
  lienthong::common::v1::DeliverEventsResponse resp;
  return stub->DeliverEvents(&ctx, req, &resp).error_code();
}

TEST_F(TlsAuthTest, CallerComesFromTheClientCertificate) {
  std::vector<Caller> seen;
  EventSinkServer sink(
      "lienthong.test",
      [&](const lienthong::common::v1::Event&) -> absl::StatusOr<bool> {
        return true;
      },
      /*insecure_dev_auth=*/false);
  ServerOptions opts;
  opts.service_label = "tlstest";
  opts.tls = {Path("server.pem"), Path("server.key"), Path("ca.pem")};
  opts.drain_grace = absl::ZeroDuration();
  auto server = Server::Start(opts, {&sink});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());

  auto relay = MakeChannel(
      address, {Path("ca.pem"), Path("relay.pem"), Path("relay.key")});
  ASSERT_TRUE(relay.ok());
  EXPECT_EQ(Deliver(*relay), grpc::StatusCode::OK);

  auto citizen = MakeChannel(
      address, {Path("ca.pem"), Path("citizen.pem"), Path("citizen.key")});
  ASSERT_TRUE(citizen.ok());
  EXPECT_EQ(Deliver(*citizen), grpc::StatusCode::PERMISSION_DENIED);

  // No client certificate: the handshake is refused.
  auto anonymous = MakeChannel(address, {Path("ca.pem"), "", ""});
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(Deliver(*anonymous), grpc::StatusCode::UNAVAILABLE);

  // Plaintext to a TLS port fails too.
  EXPECT_NE(
      Deliver(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
      grpc::StatusCode::OK);
}

TEST_F(TlsAuthTest, SubjectFieldsParseIncludingVietnamese) {
  std::ifstream in(Path("citizen.pem"));
  std::string pem((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  absl::StatusOr<Caller> c = CallerFromPem(pem);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->agency_code, "000.00.00.H26");
  EXPECT_EQ(c->role, Role::kCitizen);
  EXPECT_EQ(c->subject, "Nguyễn Văn An");
  EXPECT_EQ(CallerFromPem("garbage").status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace lienthong::grpc_util
