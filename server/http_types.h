// What route handlers see and return: a routed, authenticated request and a
// response (buffered, or streamed piece by piece). Free of Beast types, so
// the route files compile quickly and read like plain functions.
//
// Handlers run on the worker pool (they may block on the engine). Streams
// and body sinks are driven by one worker at a time, never concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"
#include "engine/types.h"

namespace syncmgr {
class Engine;
}
namespace syncmgr::delivery {
class DeliveryEngine;
}
namespace syncmgr::cluster {
class Node;
}

namespace syncmgr::server {

class FeedHub;
class Metrics;
struct ServerOptions;

enum class HttpMethod { kGet, kPost, kPut, kDelete, kOptions, kOther };
std::string_view MethodName(HttpMethod method);

// Who is calling, as established from X-API-Key.
struct Caller {
  enum class Kind { kNone, kAdmin, kTenant };
  Kind kind = Kind::kNone;
  TenantId tenant = 0;  // kTenant only
};

// Decoded path parameters, in pattern order ("{id}" → name "id").
class PathParams {
 public:
  void Add(std::string_view name, std::string value) {
    items_.emplace_back(name, std::move(value));
  }
  // REQUIRES: the route pattern has a parameter `name`.
  const std::string& Get(std::string_view name) const;

 private:
  std::vector<std::pair<std::string_view, std::string>> items_;
};

// Decoded query parameters; names are unique (the router refuses repeats).
class QueryParams {
 public:
  void Add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  std::optional<std::string_view> Get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct ApiRequest {
  HttpMethod method = HttpMethod::kGet;
  PathParams path;
  QueryParams query;
  // Media type of Content-Type, lower-cased, without parameters ("" if none).
  std::string content_type;
  // The body (buffered routes; empty for streamed-body routes).
  std::string body;
  Caller caller;
  // The Accept header as sent ("" if none): GET /feed answers SSE for
  // text/event-stream.
  std::string accept;
  // The Last-Event-ID header (SSE resumption), if sent.
  std::optional<std::string> last_event_id;
  // The body's Content-Length, if it came with one (not chunked).
  std::optional<uint64_t> content_length;
};

// A response body produced piece by piece (chunked transfer encoding), so
// memory does not grow with its size.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Appends the next piece to *out (bounded, ~stream_chunk_bytes) and sets
  // *done after the last one. A non-OK status aborts the response: the
  // connection is closed without the final chunk, so the client sees a
  // truncated (invalid) body rather than a silently short one.
  virtual Status Next(std::string* out, bool* done) = 0;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Set: the body is sent chunked — `body` first, then the stream's pieces.
  std::unique_ptr<ResponseStream> stream;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A request body consumed piece by piece (imports).
class RequestBodySink {
 public:
  virtual ~RequestBodySink() = default;
  // The next piece of the body, in order. An error ends the request with
  // that error (nothing is written).
  virtual Status Append(std::string_view chunk) = 0;
  // The body is complete: apply it and answer.
  virtual ApiResponse Finish() = 0;
};

// A streamed-body handler's answer before any body byte is read.
struct BodySinkStart {
  std::unique_ptr<RequestBodySink> sink;
  uint64_t max_body_bytes = 0;  // past it: 413
};

// Shared services handlers use. Lives as long as the server.
struct HandlerContext {
  Engine& engine;
  Metrics& metrics;
  const ServerOptions& options;
  // Push delivery (routes_delivery.cc); set once the server has started it.
  delivery::DeliveryEngine* delivery = nullptr;
  // Change-feed subscribers (routes_feed.cc); set once the server has started.
  FeedHub* feed_hub = nullptr;
  // Cluster mode (ServerOptions::cluster); nullptr in single-node mode.
  cluster::Node* cluster = nullptr;
};

// ---- Building answers ----------------------------------------------------
ApiResponse JsonResponse(int status, std::string body);
// The SPEC error body for a non-OK status (errors.h table).
ApiResponse ErrorResponse(const Status& status);

}  // namespace syncmgr::server

// In a handler returning ApiResponse: answers the error of a non-OK Status.
#define SYNCMGR_RESPOND_IF_ERROR(expr)                           \
  do {                                                           \
    ::syncmgr::Status _st = (expr);                              \
    if (!_st.ok()) return ::syncmgr::server::ErrorResponse(_st); \
  } while (0)

// In a handler returning ApiResponse: `lhs = value of expr` or answers its
// error.
#define SYNCMGR_ASSIGN_OR_RESPOND(lhs, expr)                                            \
  auto SYNCMGR_CONCAT_(_sor_, __LINE__) = (expr);                                       \
  if (!SYNCMGR_CONCAT_(_sor_, __LINE__).ok())                                           \
    return ::syncmgr::server::ErrorResponse(SYNCMGR_CONCAT_(_sor_, __LINE__).status()); \
  lhs = std::move(SYNCMGR_CONCAT_(_sor_, __LINE__)).value()
