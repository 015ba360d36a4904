// Forwarding a write to the tenant's owner (cluster mode, docs/scaling.md
// "Forwarding writes"): the request as it came — method, target, headers,
// body streamed piece by piece as the client sends it — plus
// X-Syncmgr-Forwarded-By, to the owner's advertise URL; the owner's answer
// comes back as it is.
//
// The client is Beast's, as the server's own sockets are: a push model
// (each piece the session reads is written on), one connection per
// forwarded request, every step bounded by a deadline (a private
// io_context run until the step completes, so basic_stream's deadlines
// apply). libcurl, which push delivery uses, pulls a body through a read
// callback instead, which would need a thread or a pause per request here.
//
// Thread-safety: a Forwarder is used by one thread at a time (the session's
// worker of the moment).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"
#include "server/http_types.h"

namespace syncmgr::server {

inline constexpr std::string_view kForwardedByHeader = "X-Syncmgr-Forwarded-By";

struct ForwardRequest {
  std::string method;  // "POST", "PUT", "DELETE"
  std::string target;  // path and query, as received
  // Header fields to send, as received, without the hop-by-hop ones.
  std::vector<std::pair<std::string, std::string>> headers;
  bool has_body = false;
  // The body's length when the client gave one; else it is sent chunked.
  std::optional<uint64_t> content_length;
};

struct ForwardOptions {
  // Resolve and connect. Default: 2 000 ms.
  uint32_t connect_timeout_ms = 2'000;
  // Each later step (a write, the whole answer's read). Default: 600 000 ms
  // (a large import is committed before the owner answers).
  uint32_t io_timeout_ms = 600'000;
  // Largest answer accepted (write answers are small). Default: 16 MiB.
  uint64_t max_response_bytes = 16ull << 20;
  // While a step waits on the owner, this is asked every check_interval_ms
  // whether the owner still holds the tenant; false: give up (a paused or
  // partitioned owner that lost its lease; the outcome is unknown). Unset:
  // only io_timeout_ms bounds the wait.
  std::function<bool()> owner_holds;
  uint32_t check_interval_ms = 500;
};

class Forwarder {
 public:
  // Connects to `base_url` (http://host:port) and sends the request's head.
  // Unavailable if it cannot: nothing reached the owner.
  static StatusOr<std::unique_ptr<Forwarder>> Open(std::string_view base_url,
                                                   const ForwardRequest& request,
                                                   std::string_view forwarded_by,
                                                   const ForwardOptions& options);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // The next piece of the body. A failure is kept for Finish (the owner may
  // have answered early and closed).
  Status Send(std::string_view piece);
  // Ends the body and reads the owner's answer, which is returned as it
  // came. Without one: 503 unavailable, "outcome unknown" once the whole
  // request was sent (the owner may have applied it).
  ApiResponse Finish();

 private:
  struct Impl;
  explicit Forwarder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A streamed request body that goes to a Forwarder.
class ForwardingSink : public RequestBodySink {
 public:
  explicit ForwardingSink(std::unique_ptr<Forwarder> forwarder)
      : forwarder_(std::move(forwarder)) {}
  Status Append(std::string_view chunk) override;
  ApiResponse Finish() override { return forwarder_->Finish(); }

 private:
  std::unique_ptr<Forwarder> forwarder_;
};

}  // namespace syncmgr::server
