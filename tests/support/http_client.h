// HttpClient: a blocking HTTP/1.1 client for tests, over loopback (Beast).
//
// Keep-alive: requests reuse the connection while the server allows it and
// reconnect when it does not (connects() counts the TCP connections made).
// Every operation has a deadline (set_timeout, default 30 s): a test never
// hangs on a server that does not answer — the call fails instead, with
// status 0 and error() saying why.
//
// Besides plain requests it can send raw bytes, bytes one by one with a
// delay (slow clients) and chunked uploads, for the limits tests.
//
// Thread-safety: none; one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syncmgr::testing {

struct HttpResponse {
  int status = 0;                              // 0: no response (error, timeout, connection closed)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool keep_alive = false;
  // The header's value, "" if absent. `name` in any case.
  std::string Header(std::string_view name) const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Send the body with Transfer-Encoding: chunked in pieces of this size
  // (0: a Content-Length body).
  size_t chunk_bytes = 0;
};

// `s` in ASCII lower case (header names).
std::string Lower(std::string_view s);

class HttpClient {
 public:
  explicit HttpClient(uint16_t port, std::string host = "127.0.0.1");
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  // X-API-Key sent with every request ("" sends none).
  void set_api_key(std::string key) { api_key_ = std::move(key); }
  // Deadline of each operation. Default: 30 s.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  // When a kept-alive connection turns out closed by the server before any
  // response byte, send the request again once on a new one. Default: true.
  // Turn off where a request must never be sent twice (shutdown tests).
  void set_retry_stale(bool retry) { retry_stale_ = retry; }

  // Sends `request` (connecting if needed) and reads the response.
  HttpResponse Request(const HttpRequest& request);
  HttpResponse Get(std::string target);
  HttpResponse Post(std::string target, std::string body,
                    std::string content_type = "application/json");
  HttpResponse Put(std::string target, std::string body,
                   std::string content_type = "application/json");
  HttpResponse Delete(std::string target);

  // ---- Raw access ----------------------------------------------------------
  // Connects (closing any current connection). False on failure.
  bool Connect();
  // Writes all bytes. False if the connection fails.
  bool SendRaw(std::string_view bytes);
  // Writes the bytes one at a time, `delay` apart. False as soon as a write
  // fails (e.g. the server closed the connection).
  bool SendSlowly(std::string_view bytes, std::chrono::milliseconds delay);
  // Reads one response; status 0 if none comes (closed, timeout).
  HttpResponse ReadResponse();
  // True if the server closes the connection within `within`. Bytes the
  // server sends meanwhile are read and appended to `*received` if given
  // (the raw bytes of an answer), else dropped.
  bool WaitForClose(std::chrono::milliseconds within, std::string* received = nullptr);
  void Close();
  bool connected() const;

  const std::string& error() const { return error_; }
  size_t connects() const { return connects_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string api_key_;
  std::chrono::milliseconds timeout_{30'000};
  bool retry_stale_ = true;
  std::string error_;
  size_t connects_ = 0;
};

}  // namespace syncmgr::testing
