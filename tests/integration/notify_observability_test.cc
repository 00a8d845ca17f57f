// What notify tells operators, from REAL deliveries (PostgreSQL, the local
// sinks in tools/sinks, the libcurl transport, the sender):
//  - metrics by channel: lienthong_notify_deliveries_total{channel,result}
//    counts every recorded attempt, dead letters and queue age are gauges,
//    read from the registry and scraped from a real /metrics endpoint; no
//    label carries a phone number or an e-mail address;
//  - logs: the lines the sender writes for failed attempts carry the
//    masked recipient, never the phone number or e-mail address itself.

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/clock.h"
#include "libs/db/migrations.h"
#include "libs/db/transaction.h"
#include "libs/logging/logging.h"
#include "libs/metrics/http_get.h"
#include "libs/metrics/metrics.h"
#include "libs/testing/pg_cluster.h"
#include "libs/testing/status_matchers.h"
#include "notify_migrations.h"
#include "prometheus/registry.h"
#include "services/notify/default_templates.h"
#include "services/notify/enqueuer.h"
#include "services/notify/notify_metrics.h"
#include "services/notify/sender.h"
#include "tests/integration/notify_sinks.h"
#include "tests/integration/notify_store_fixture.h"

namespace lienthong::notify {
namespace {

using ::lienthong::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Sink;

constexpr char kPhone[] = "0912345678";
constexpr char kMaskedPhone[] = "******5678";
constexpr char kEmail[] = "nguyen.van.an@example.vn";
constexpr char kMaskedEmail[] = "n***@example.vn";

constexpr char kDeliveries[] = "lienthong_notify_deliveries_total";
constexpr char kSendErrors[] = "lienthong_notify_send_errors_total";
constexpr char kDeadLetters[] = "lienthong_notify_dead_letters";
constexpr char kQueueAge[] = "lienthong_notify_queue_age_seconds";

using testing::Hcm;

// The value of one series in `registry`; -1 when there is no such series.
double Value(prometheus::Registry& registry, const std::string& name,
             const std::map<std::string, std::string>& labels) {
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (f.name != name) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      std::map<std::string, std::string> got;
      for (const prometheus::ClientMetric::Label& l : m.label) {
        got[l.name] = l.value;
      }
      if (got != labels) continue;
      return f.type == prometheus::MetricType::Counter ? m.counter.value
                                                       : m.gauge.value;
    }
  }
  return -1;
}

double Deliveries(prometheus::Registry& r, const std::string& channel,
                  const std::string& result) {
  return Value(r, kDeliveries, {{"channel", channel}, {"result", result}});
}

const std::set<std::string> kChannels = {"sms", "email", "webhook"};
const std::set<std::string> kResults = {"sent", "failed", "dead_lettered"};
const std::set<std::string> kReasons = {
    "auth", "endpoint", "network", "tls", "throttled", "server", "rejected"};

double SendErrors(prometheus::Registry& r, const std::string& channel,
                  const std::string& reason) {
  return Value(r, kSendErrors, {{"channel", channel}, {"reason", reason}});
}

// Labels only from the fixed sets, and nothing that looks like a contact.
void ExpectFixedLabels(prometheus::Registry& registry) {
  int series = 0;
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (!absl::StartsWith(f.name, "lienthong_notify_")) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      ++series;
      for (const prometheus::ClientMetric::Label& l : m.label) {
        if (l.name == "channel") {
          EXPECT_TRUE(kChannels.count(l.value)) << f.name << " " << l.value;
        } else if (l.name == "result") {
          EXPECT_EQ(f.name, kDeliveries);
          EXPECT_TRUE(kResults.count(l.value)) << f.name << " " << l.value;
        } else if (l.name == "table") {
          EXPECT_EQ(f.name, "lienthong_notify_deliveries_purged_total");
          EXPECT_TRUE(l.value == "deliveries" || l.value == "attempts")
              << l.value;
        } else if (l.name == "reason") {
          EXPECT_EQ(f.name, kSendErrors);
          EXPECT_TRUE(kReasons.count(l.value)) << f.name << " " << l.value;
        } else {
          ADD_FAILURE() << f.name << " has label " << l.name;
        }
        EXPECT_THAT(l.value, Not(HasSubstr("@")));
        EXPECT_THAT(l.value, Not(HasSubstr("5678")));
      }
    }
  }
  // deliveries, send errors, dead letters, queue age, purged
  EXPECT_EQ(series, 3 * 3 + 3 * 7 + 3 + 3 + 2);
}

// Everything written to stderr (fd 2) between construction and Stop().
class StderrCapture {
 public:
  explicit StderrCapture(const std::string& path) : path_(path) {
    std::fflush(stderr);
    saved_ = dup(2);
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
  }
  ~StderrCapture() { Stop(); }
  std::string Stop() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      dup2(saved_, 2);
      close(saved_);
      saved_ = -1;
    }
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string path_;
  int saved_ = -1;
};

class ObservabilityTest : public testing::NotifyStoreTest {
 protected:
  void SetUp() override {
    options_.quiet_hours = *ParseQuietHours("off", VietnamZone());
    EnqueueOptions eo;
    eo.quiet_hours = options_.quiet_hours;
    SetUpStore(eo);
    if (HasFatalFailure()) return;
    http_ = Sink::Http(dir_, "bí-mật-webhook-16");
    smtp_ = Sink::Smtp(dir_);
    TransportOptions t;
    t.sms_gateway_url = http_->Url("/sms");
    t.smtp_url = smtp_->SmtpUrl();
    t.smtp_from = "Bộ phận một cửa <mot-cua@hanoi.gov.vn>";
    t.smtp_tls = SmtpTls::kTry;
    t.webhook_allow_cidrs = testing::SinkCidrs();
    transport_ = NewCurlTransport(t, common::RealClock::Get());
    options_.backoff.initial = absl::Seconds(10);
    options_.backoff.max_attempts = 5;
  }

  std::unique_ptr<Sender> NewSender(NotifyMetrics& m) {
    return std::make_unique<Sender>(*store_, *transport_, clock_, options_,
                                    m.Observer());
  }

  NotificationPlan Received(const std::string& event_id, Contact c) {
    NotificationPlan p;
    p.event_id = event_id;
    p.event_type = "dossier_received";
    p.dossier = "dossiers/000.00.14.H26-260312-0042";
    p.occur_time = clock_.Now();
    p.values = {{"dossier_code", "000.00.14.H26-260312-0042"},
                {"appointment_time", "16:30 ngày 18/03/2026"}};
    p.citizen = c;
    p.agency_codes = {"000.00.14.H26"};
    return p;
  }

  void RegisterWebhook() {
    absl::StatusOr<Webhook> hook =
        store_->SaveWebhook({.agency_code = "000.00.14.H26",
                             .url = http_->Url("/hooks/tay-mo"),
                             .secret = "bí-mật-webhook-16"},
                            "", clock_.Now(), {.action = "test"});
    ASSERT_TRUE(hook.ok()) << hook.status();
  }

  std::unique_ptr<Sink> http_;
  std::unique_ptr<Sink> smtp_;
  std::unique_ptr<Transport> transport_;
  SenderOptions options_;
};

TEST_F(ObservabilityTest, DeliveriesAreCountedByChannelAndResult) {
  prometheus::Registry registry;
  NotifyMetrics metrics(registry);
  // Every series is there, at zero, before the first attempt.
  for (const std::string& ch : kChannels) {
    for (const std::string& r : kResults) {
      EXPECT_EQ(Deliveries(registry, ch, r), 0) << ch << " " << r;
    }
  }
  RegisterWebhook();
  ASSERT_EQ(Enqueue(Received("ev-sms", {.phone = kPhone})).size(), 2u);
  auto sender = NewSender(metrics);
  absl::StatusOr<SendCounts> c = sender->RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->sent, 2);
  EXPECT_EQ(Deliveries(registry, "sms", "sent"), 1);
  EXPECT_EQ(Deliveries(registry, "webhook", "sent"), 1);
  EXPECT_EQ(Deliveries(registry, "email", "sent"), 0);
  EXPECT_EQ(Deliveries(registry, "sms", "failed"), 0);

  // An e-mail the server keeps refusing: each attempt but the last is
  // `failed` (retried), the last `dead_lettered`; the sum is the attempts.
  smtp_->FailNext(-1);
  ASSERT_EQ(Enqueue(Received("ev-mail",
                             {.email = kEmail, .preferred = Channel::kEmail}))
                .size(),
            2u);
  for (int i = 1; i <= options_.backoff.max_attempts; ++i) {
    ASSERT_TRUE(sender->RunOnce().ok());
    const bool last = i == options_.backoff.max_attempts;
    EXPECT_EQ(Deliveries(registry, "email", "failed"), last ? i - 1 : i) << i;
    EXPECT_EQ(Deliveries(registry, "email", "dead_lettered"), last ? 1 : 0)
        << i;
    clock_.Advance(absl::Hours(2));
  }
  EXPECT_EQ(Deliveries(registry, "email", "sent"), 0);
  EXPECT_EQ(Deliveries(registry, "webhook", "sent"), 2);
  EXPECT_EQ(Deliveries(registry, "sms", "sent"), 1);  // unchanged
  EXPECT_EQ(Deliveries(registry, "sms", "dead_lettered"), 0);
  // Every failed attempt by why: the sink's "451 try later".
  EXPECT_EQ(SendErrors(registry, "email", "throttled"),
            options_.backoff.max_attempts);
  EXPECT_EQ(SendErrors(registry, "email", "auth"), 0);
  EXPECT_EQ(SendErrors(registry, "sms", "throttled"), 0);

  // A gateway refusing our token shows as `auth`, and is retried.
  http_->FailNext(1, 401);
  NotificationPlan sms_only = Received("ev-auth", {.phone = "0987654321"});
  sms_only.agency_codes.clear();
  ASSERT_EQ(Enqueue(sms_only).size(), 1u);
  ASSERT_TRUE(sender->RunOnce().ok());
  EXPECT_EQ(SendErrors(registry, "sms", "auth"), 1);
  EXPECT_EQ(Deliveries(registry, "sms", "failed"), 1);
  EXPECT_EQ(Deliveries(registry, "sms", "dead_lettered"), 0);

  ASSERT_THAT(metrics.Update(*store_, clock_.Now()), IsOk());
  EXPECT_EQ(Value(registry, kDeadLetters, {{"channel", "email"}}), 1);
  EXPECT_EQ(Value(registry, kDeadLetters, {{"channel", "sms"}}), 0);
  EXPECT_EQ(Value(registry, kDeadLetters, {{"channel", "webhook"}}), 0);
  ExpectFixedLabels(registry);
}

TEST_F(ObservabilityTest, QueueAgeIsTheOldestDueUnsentDeliveryByChannel) {
  prometheus::Registry registry;
  NotifyMetrics metrics(registry);
  ASSERT_EQ(Enqueue(Received("ev-1", {.phone = kPhone})).size(), 1u);
  clock_.Advance(absl::Seconds(30));
  ASSERT_EQ(Enqueue(Received("ev-2", {.phone = "0987654321"})).size(), 1u);
  clock_.Advance(absl::Seconds(60));
  ASSERT_THAT(metrics.Update(*store_, clock_.Now()), IsOk());
  EXPECT_EQ(Value(registry, kQueueAge, {{"channel", "sms"}}), 90);
  EXPECT_EQ(Value(registry, kQueueAge, {{"channel", "email"}}), 0);
  EXPECT_EQ(Value(registry, kQueueAge, {{"channel", "webhook"}}), 0);

  // One attempt fails, the other lands: the failed one is not due (and not
  // counted) until its backoff is over, then ages from its retry time.
  http_->FailNext(1);
  auto sender = NewSender(metrics);
  absl::StatusOr<SendCounts> c = sender->RunOnce();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sent, 1);
  EXPECT_EQ(c->failed, 1);
  ASSERT_THAT(metrics.Update(*store_, clock_.Now()), IsOk());
  EXPECT_EQ(Value(registry, kQueueAge, {{"channel", "sms"}}), 0);
  clock_.Advance(absl::Seconds(20));  // past 10 s ± 20 %
  ASSERT_THAT(metrics.Update(*store_, clock_.Now()), IsOk());
  const double age = Value(registry, kQueueAge, {{"channel", "sms"}});
  EXPECT_GE(age, 8);
  EXPECT_LE(age, 12);
  EXPECT_EQ(sender->RunOnce()->sent, 1);
  ASSERT_THAT(metrics.Update(*store_, clock_.Now()), IsOk());
  EXPECT_EQ(Value(registry, kQueueAge, {{"channel", "sms"}}), 0);
  EXPECT_EQ(Deliveries(registry, "sms", "sent"), 2);
  EXPECT_EQ(Deliveries(registry, "sms", "failed"), 1);
  ExpectFixedLabels(registry);
}

// The process-wide registry, as main wires it, scraped over HTTP from the
// /metrics endpoint the runtime serves.
TEST_F(ObservabilityTest, ScrapedMetricsShowDeliveriesAndNoContact) {
  NotifyMetrics metrics;  // metrics::Registry(), like main
  absl::StatusOr<int> port = metrics::StartExposer(0, "127.0.0.1");
  ASSERT_TRUE(port.ok()) << port.status();
  RegisterWebhook();
  Enqueue(Received("ev-sms", {.phone = kPhone}));
  options_.backoff.max_attempts = 2;
  smtp_->FailNext(-1);
  Enqueue(Received("ev-mail", {.email = kEmail, .preferred = Channel::kEmail}));
  auto sender = NewSender(metrics);
  ASSERT_TRUE(sender->RunOnce().ok());  // sms, 2 webhooks sent; mail failed
  clock_.Advance(absl::Hours(2));
  ASSERT_TRUE(sender->RunOnce().ok());  // mail dead-lettered
  ASSERT_THAT(metrics.Update(*store_, clock_.Now()), IsOk());

  absl::StatusOr<std::string> body =
      metrics::HttpGet(absl::StrCat("http://127.0.0.1:", *port, "/metrics"));
  ASSERT_TRUE(body.ok()) << body.status();
  std::map<std::string, double> series;
  for (absl::string_view line : absl::StrSplit(*body, '\n')) {
    if (!absl::StartsWith(line, "lienthong_notify_")) continue;
    const size_t space = line.rfind(' ');
    ASSERT_NE(space, absl::string_view::npos) << line;
    series[std::string(line.substr(0, space))] =
        std::stod(std::string(line.substr(space + 1)));
  }
  const auto d = [](const char* ch, const char* r) {
    return absl::StrCat(kDeliveries, "{channel=\"", ch, "\",result=\"", r,
                        "\"}");
  };
  EXPECT_EQ(series[d("sms", "sent")], 1) << *body;
  EXPECT_EQ(series[d("webhook", "sent")], 2);
  EXPECT_EQ(series[d("email", "failed")], 1);
  EXPECT_EQ(series[d("email", "dead_lettered")], 1);
  EXPECT_EQ(series[d("sms", "failed")], 0);
  EXPECT_EQ(series[absl::StrCat(kDeadLetters, "{channel=\"email\"}")], 1);
  EXPECT_EQ(series[absl::StrCat(kQueueAge, "{channel=\"sms\"}")], 0);
  EXPECT_EQ(series[absl::StrCat(kSendErrors,
                                "{channel=\"email\",reason=\"throttled\"}")],
            2);
  EXPECT_EQ(series.size(), 38u) << *body;  // 9 + 21 + 3 + 3 + 2, nothing else
  EXPECT_THAT(*body, Not(HasSubstr(kPhone)));
  EXPECT_THAT(*body, Not(HasSubstr(kEmail)));
  EXPECT_THAT(*body, Not(HasSubstr("@")));
  ExpectFixedLabels(*metrics::Registry());
}

TEST_F(ObservabilityTest, LogLinesCarryOnlyTheMaskedRecipient) {
  static std::once_flag once;
  std::call_once(once, [] { logging::Init("notify", "logfmt"); });
  http_->FailNext(1);  // the SMS fails once
  smtp_->FailNext(1);  // the e-mail fails once
  Enqueue(Received("ev-sms", {.phone = kPhone}));
  Enqueue(Received(
      "ev-mail",
      {.phone = kPhone, .email = kEmail, .preferred = Channel::kEmail}));
  prometheus::Registry registry;
  NotifyMetrics m(registry);
  auto sender = NewSender(m);
  std::string log;
  {
    StderrCapture capture(dir_ + "/stderr.log");
    ASSERT_TRUE(sender->RunOnce().ok());
    clock_.Advance(absl::Minutes(5));
    ASSERT_TRUE(sender->RunOnce().ok());
    log = capture.Stop();
  }
  // Both landed in the end, each after one failed attempt.
  EXPECT_EQ(Deliveries(registry, "sms", "failed"), 1);
  EXPECT_EQ(Deliveries(registry, "email", "failed"), 1);
  EXPECT_EQ(Deliveries(registry, "sms", "sent"), 1);
  EXPECT_EQ(Deliveries(registry, "email", "sent"), 1);
  int failed_lines = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, "event=delivery_attempt_failed")) {
      ++failed_lines;
    }
  }
  EXPECT_EQ(failed_lines, 2) << log;
  EXPECT_THAT(log, HasSubstr("service=notify"));
  EXPECT_THAT(log,
              HasSubstr(absl::StrCat("channel=sms recipient=", kMaskedPhone)))
      << log;
  EXPECT_THAT(log,
              HasSubstr(absl::StrCat("channel=email recipient=", kMaskedEmail)))
      << log;
  EXPECT_THAT(log, Not(HasSubstr(kPhone))) << log;
  EXPECT_THAT(log, Not(HasSubstr(kEmail))) << log;
  EXPECT_THAT(log, Not(HasSubstr("nguyen.van.an"))) << log;
  EXPECT_THAT(log, Not(HasSubstr("912345"))) << log;
}

}  // namespace
}  // namespace lienthong::notify
