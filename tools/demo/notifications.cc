#include "tools/demo/notifications.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/uuid.h"
#include "libs/grpc_util/channel.h"
#include "nlohmann/json.hpp"
#include "tools/demo/demo_support.h"

namespace lienthong::demo {
namespace {

namespace nv1 = lienthong::notify::v1;

// Only the last four digits of a phone; the part after @ of an e-mail.
std::string Mask(const std::string& s) {
  const size_t at = s.find('@');
  if (at != std::string::npos)
    return s.substr(0, std::min<size_t>(1, at)) + "***" + s.substr(at);
  if (s.size() <= 4) return s;
  return std::string(s.size() - 4, '*') + s.substr(s.size() - 4);
}

const char* ChannelName(common::v1::ContactChannel c) {
  switch (c) {
    case common::v1::CONTACT_CHANNEL_SMS:
      return "SMS";
    case common::v1::CONTACT_CHANNEL_EMAIL:
      return "E-mail";
    default:
      return "Webhook";
  }
}

const char* StateName(nv1::DeliveryState s) {
  switch (s) {
    case nv1::DELIVERY_STATE_PENDING:
      return "chờ gửi";
    case nv1::DELIVERY_STATE_SENDING:
      return "đang gửi";
    case nv1::DELIVERY_STATE_SENT:
      return "đã gửi";
    case nv1::DELIVERY_STATE_FAILED:
      return "lỗi, sẽ thử lại";
    case nv1::DELIVERY_STATE_DEAD_LETTER:
      return "thư chết";
    default:
      return "?";
  }
}

// Every delivery about `dossier`, or the failed call in *error.
std::vector<nv1::Delivery> Deliveries(nv1::NotifyService::Stub& notify,
                                      const NotifyDemoOptions& o,
                                      const std::string& dossier,
                                      std::string* error) {
  std::vector<nv1::Delivery> out;
  nv1::ListDeliveriesRequest req;
  req.set_dossier(dossier);
  req.set_page_size(100);
  do {
    grpc::ClientContext ctx;
    Officer(ctx, o.counter);
    nv1::ListDeliveriesResponse resp;
    const grpc::Status s = notify.ListDeliveries(&ctx, req, &resp);
    if (!s.ok()) {
      *error = RpcError("ListDeliveries", s);
      return out;
    }
    out.insert(out.end(), resp.deliveries().begin(), resp.deliveries().end());
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return out;
}

bool Settled(const nv1::Delivery& d) {
  return d.state() == nv1::DELIVERY_STATE_SENT ||
         d.state() == nv1::DELIVERY_STATE_DEAD_LETTER;
}

// An accepted line of a sink file and the dossier (index into the codes) it
// is about.
struct LandedLine {
  size_t dossier;
  nlohmann::json entry;
};

std::vector<LandedLine> Landed(const std::string& path,
                               const std::vector<std::string>& codes) {
  std::vector<LandedLine> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t mine = codes.size();
    for (size_t i = 0; i < codes.size() && mine == codes.size(); ++i) {
      if (absl::StrContains(line, codes[i])) mine = i;
    }
    if (mine == codes.size()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("result", "") != "accepted") continue;
    out.push_back({mine, std::move(j)});
  }
  return out;
}

// A sink's record time (Unix seconds) as Hà Nội time of day.
std::string SinkTime(const nlohmann::json& entry) {
  const double unix_seconds = entry.value("time", 0.0);
  return Local(absl::FromUnixMicros(static_cast<int64_t>(unix_seconds * 1e6)),
               kTimeOfDay);
}

// The delivery log, per dossier, oldest first.
void PrintDeliveryLog(std::vector<std::vector<nv1::Delivery>>& all,
                      const std::vector<std::string>& codes,
                      absl::Duration wait, const NotificationReport& report) {
  std::printf("\n── Thông báo (nhật ký gửi của dịch vụ thông báo) ──\n");
  for (size_t i = 0; i < codes.size(); ++i) {
    std::printf("  Hồ sơ %s:\n", codes[i].c_str());
    std::sort(all[i].begin(), all[i].end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.create_time().seconds(), a.name()) <
             std::make_pair(b.create_time().seconds(), b.name());
    });
    for (const auto& d : all[i]) {
      std::printf("    %s  %-7s %-18s %-16s %-9s %d lần thử%s\n",
                  Local(d.create_time(), kTimeOfDay).c_str(),
                  ChannelName(d.channel()), d.masked_recipient().c_str(),
                  d.event_type().c_str(), StateName(d.state()),
                  d.attempts_size(),
                  d.sms_segments() > 0
                      ? absl::StrCat(", ", d.sms_segments(), " tin SMS").c_str()
                      : "");
    }
    if (!report.dossiers[i].unsettled.empty()) {
      std::printf("    (chưa gửi xong sau %s: %s)\n",
                  absl::FormatDuration(wait).c_str(),
                  report.dossiers[i].unsettled.c_str());
    }
  }
}

}  // namespace

std::string NotYetSettled(const std::vector<nv1::Delivery>& deliveries) {
  bool outcome_told = false;
  size_t pending = 0;
  for (const nv1::Delivery& d : deliveries) {
    outcome_told = outcome_told || d.event_type() == "ready_for_return" ||
                   d.event_type() == "dossier_refused";
    if (!Settled(d)) ++pending;
  }
  if (!outcome_told)
    return "no ready_for_return or dossier_refused delivery yet";
  if (pending > 0)
    return absl::StrCat(pending, " of ", deliveries.size(),
                        " deliveries not sent yet");
  return "";
}

std::string EnsureWebhook(nv1::NotifyService::Stub& notify,
                          const NotifyDemoOptions& o) {
  if (o.webhook_url.empty() || o.webhook_secret.empty()) return "";
  const std::string agency = "agencies/" + o.counter;
  nv1::ListWebhooksRequest lreq;
  lreq.set_agency(agency);
  lreq.set_page_size(100);
  grpc::ClientContext lctx;
  grpc_util::PrepareContext(lctx, absl::Seconds(10), "admin", o.counter,
                            "demo");
  nv1::ListWebhooksResponse hooks;
  grpc::Status s = notify.ListWebhooks(&lctx, lreq, &hooks);
  if (!s.ok()) return RpcError("ListWebhooks", s);
  // The same URL again updates that webhook (a second one would double
  // every delivery). Its request id is derived from the secret: with the
  // same secret a replay that changes nothing; with a new one (the sinks'
  // secret file was made again, the database kept) the secret is
  // replaced, the old one signing beside it for a while.
  std::string existing;
  for (const auto& h : hooks.webhooks()) {
    if (h.url() == o.webhook_url) existing = h.name();
  }
  nv1::RegisterWebhookRequest req;
  req.set_request_id(common::Version8Uuid(
      absl::StrCat("demo-webhook", absl::string_view("\0", 1), agency,
                   absl::string_view("\0", 1), o.webhook_url,
                   absl::string_view("\0", 1), o.webhook_secret)));
  req.mutable_webhook()->set_name(existing);
  req.mutable_webhook()->set_agency(agency);
  req.mutable_webhook()->set_url(o.webhook_url);
  req.mutable_webhook()->set_secret(o.webhook_secret);
  grpc::ClientContext ctx;
  grpc_util::PrepareContext(ctx, absl::Seconds(10), "admin", o.counter, "demo");
  nv1::RegisterWebhookResponse resp;
  s = notify.RegisterWebhook(&ctx, req, &resp);
  if (!s.ok()) return RpcError("RegisterWebhook", s);
  if (existing.empty()) {
    std::printf("Đăng ký webhook của bộ phận một cửa: %s\n",
                o.webhook_url.c_str());
  }
  return "";
}

NotificationReport PrintNotifications(nv1::NotifyService::Stub& notify,
                                      const NotifyDemoOptions& o,
                                      const std::vector<std::string>& names,
                                      const std::vector<std::string>& codes,
                                      absl::Duration wait) {
  NotificationReport report;
  report.dossiers.resize(names.size());
  const absl::Time give_up = absl::Now() + wait;
  std::vector<std::vector<nv1::Delivery>> all(names.size());
  for (;;) {
    bool settled = true;
    for (size_t i = 0; i < names.size() && report.error.empty(); ++i) {
      all[i] = Deliveries(notify, o, names[i], &report.error);
      report.dossiers[i].unsettled = NotYetSettled(all[i]);
      settled = settled && report.dossiers[i].unsettled.empty();
    }
    if (!report.error.empty() || settled || absl::Now() > give_up) break;
    absl::SleepFor(absl::Milliseconds(300));
  }
  if (!report.error.empty()) {
    // The sinks are still worth reading: what landed, landed.
    std::printf("\n(dịch vụ thông báo không trả lời: %s)\n",
                report.error.c_str());
  } else {
    PrintDeliveryLog(all, codes, wait, report);
  }
  int landed = 0;
  std::printf("\n── Nơi nhận (các hộp thư giả lập trong %s) ──\n",
              o.sinks_dir.c_str());
  for (const auto& [i, j] : Landed(o.sinks_dir + "/sms.jsonl", codes)) {
    nlohmann::json body =
        nlohmann::json::parse(j.value("body", ""), nullptr, false);
    if (body.is_discarded()) continue;
    std::printf("  %s  SMS tới %s: %s\n", SinkTime(j).c_str(),
                Mask(body.value("to", "")).c_str(),
                body.value("text", "").c_str());
    ++report.dossiers[i].landed;
    ++landed;
  }
  for (const auto& [i, j] : Landed(o.sinks_dir + "/mail.jsonl", codes)) {
    const auto rcpt = j.value("rcpt_to", std::vector<std::string>{});
    std::printf("  %s  E-mail tới %s: %s\n", SinkTime(j).c_str(),
                rcpt.empty() ? "?" : Mask(rcpt.front()).c_str(),
                j.value("subject", "").c_str());
    ++report.dossiers[i].landed;
    ++landed;
  }
  for (const auto& [i, j] : Landed(o.sinks_dir + "/webhook.jsonl", codes)) {
    nlohmann::json body =
        nlohmann::json::parse(j.value("body", ""), nullptr, false);
    // A sink started without the secret cannot vouch for the signature:
    // that counts as not verified, as it prints.
    const bool verified = j.value("signature_valid", false);
    std::printf("  %s  Webhook %s %s (chữ ký %s): %s\n", SinkTime(j).c_str(),
                j.value("path", "").c_str(), j.value("event", "").c_str(),
                verified ? "hợp lệ" : "KHÔNG hợp lệ",
                body.is_discarded() ? "" : body.value("text", "").c_str());
    ++report.dossiers[i].landed;
    if (!verified) ++report.dossiers[i].invalid_signatures;
    ++landed;
  }
  if (landed == 0)
    std::printf("  (chưa có tin nào — các hộp thư giả lập có đang chạy?)\n");
  return report;
}

}  // namespace lienthong::demo
