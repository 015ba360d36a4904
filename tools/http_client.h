// HttpClient: a small synchronous HTTP/1.1 client for `syncmgr --url`.
//
// One connection per request (the command line makes one or two). Every
// step has a deadline: resolving and connecting within connect_timeout_ms,
// each socket read or write within io_timeout_ms. Plain http:// only; put a
// TLS-terminating proxy in front of the server for https.
// Boost.Beast stays inside http_client.cc.
//
// Thread-safety: not thread-safe; use one client per thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace syncmgr::cli {

struct HttpClientOptions {
  // Base URL: http://HOST[:PORT][/PREFIX]. Default port: 80.
  std::string url;
  // Sent as X-API-Key when not empty.
  std::string api_key;
  // Resolve + connect. Default: 10 000 ms.
  uint32_t connect_timeout_ms = 10'000;
  // Each read or write on the socket. A large sync or import may take
  // minutes before the server answers. Default: 3 600 000 ms (1 h).
  uint32_t io_timeout_ms = 3'600'000;
  // Largest response body accepted, bytes (a streamed answer's is not
  // held: SendStreamingAnswer). Default: 256 MiB.
  uint64_t max_response_bytes = 256ull << 20;
  // When set, a call in progress is abandoned within ~100 ms of it turning
  // true (Unavailable "cancelled"; set from a signal handler: StopFlag()).
  // Not owned. Default: none.
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// Supplies the next piece of a streamed request body; an empty piece ends it.
using BodyChunkFn = std::function<Status(std::string* chunk)>;
// Takes the next piece of a streamed answer's body; an error stops reading.
using BodyPieceFn = std::function<Status(std::string_view piece)>;

class HttpClient {
 public:
  // InvalidArgument when the URL is not http://HOST[:PORT][/PREFIX].
  static StatusOr<HttpClient> Create(const HttpClientOptions& options);

  // `target` is the path and query under the URL's prefix ("/sources?x=1").
  // Transport failures (resolve, connect, timeout, reset) return
  // Unavailable and set transport_failed(); any HTTP answer is a response.
  StatusOr<HttpResponse> Send(std::string_view method, std::string_view target,
                              std::string_view body = {},
                              std::string_view content_type = "application/json");

  // Sends the body as it is produced, with chunked transfer encoding. If the
  // server answers early (an error) and closes, that answer is returned.
  StatusOr<HttpResponse> SendStreamed(std::string_view method, std::string_view target,
                                      std::string_view content_type, const BodyChunkFn& next);

  // Sends a request without a body and hands a 2xx answer's body to
  // `on_body` as it arrives, in pieces of at most 64 KiB, so memory does not
  // grow with the answer (a property list). Any other answer is returned
  // whole in the response (an error); on 2xx the response's body is empty.
  // An error from `on_body` drops the connection and is returned.
  StatusOr<HttpResponse> SendStreamingAnswer(std::string_view method, std::string_view target,
                                             const BodyPieceFn& on_body);

  // True when the last call failed below HTTP (the server was not reached
  // or the connection broke).
  bool transport_failed() const { return transport_failed_; }
  // "http://host:port" for messages.
  std::string origin() const;

 private:
  explicit HttpClient(HttpClientOptions options) : options_(std::move(options)) {}
  // The Unavailable a call returns when the server was not reached, or the
  // connection broke; both set transport_failed().
  Status ConnectFailed(const std::string& why);
  Status RequestFailed(const std::string& why);

  HttpClientOptions options_;
  std::string host_;
  std::string port_ = "80";
  std::string prefix_;  // "" or "/api"
  bool transport_failed_ = false;
};

}  // namespace syncmgr::cli
