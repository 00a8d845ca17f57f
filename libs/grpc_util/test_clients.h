#pragma once

// Clients the grpc_util tests use to ask a server what it serves: a health
// Check and a server-reflection call (the reflection protos ship without
// C++ headers, so it is a generic bidi call). Test-only, header-only.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace lienthong::grpc_util::testing {

// The status a health Check gets; UNKNOWN when the call itself fails (its
// code in *code when given).
inline grpc::health::v1::HealthCheckResponse::ServingStatus CheckHealth(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
    grpc::StatusCode* code = nullptr) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  const grpc::Status st = stub->Check(&ctx, req, &resp);
  if (code != nullptr) *code = st.error_code();
  return st.ok() ? resp.status()
                 : grpc::health::v1::HealthCheckResponse::UNKNOWN;
}

struct ReflectionReply {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;  // the stream's end
  std::string bytes;  // the first answer, when a request was sent
};

// One grpc.reflection.v1alpha stream: with `list_services`, sends
// `list_services: ""` (field 7) and keeps the answer's bytes (they carry
// the names); without, sends nothing. The final status is OK where
// reflection is served, UNIMPLEMENTED where it is not.
inline ReflectionReply CallReflection(
    const std::shared_ptr<grpc::Channel>& channel, bool list_services) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto call = stub.PrepareCall(
      &ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      &cq);
  void* tag;
  bool ok;
  ReflectionReply reply;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  if (list_services) {
    const char request[] = {0x3A, 0x00};
    grpc::Slice slice(request, sizeof(request));
    grpc::ByteBuffer out(&slice, 1);
    call->Write(out, reinterpret_cast<void*>(2));
    cq.Next(&tag, &ok);
  }
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  if (list_services) {
    grpc::ByteBuffer in;
    call->Read(&in, reinterpret_cast<void*>(4));
    cq.Next(&tag, &ok);
    if (ok) {
      std::vector<grpc::Slice> slices;
      in.Dump(&slices);
      for (const auto& s : slices) {
        reply.bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  reply.code = status.error_code();
  return reply;
}

}  // namespace lienthong::grpc_util::testing
