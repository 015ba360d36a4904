// FeedConnection: a raw, non-blocking HTTP/1.1 client for change-feed tests:
// it sends one GET, then decodes the response as it arrives (status, header,
// chunked or Content-Length body) and parses Server-Sent Events from the
// body. Many connections can be served by one thread (PollAll), so a test
// can hold hundreds of subscribers without a thread each; a connection can
// also be opened with a tiny receive buffer and simply never read (a stuck
// subscriber).
//
// Every wait is bounded by a timeout. Thread-safety: none; one thread per
// connection (or per PollAll group).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace syncmgr::testing {

struct SseEvent {
  std::string id;     // "" if the event had no id line
  std::string event;  // "" if it had no event line ("message")
  std::string data;
};

class FeedConnection {
 public:
  explicit FeedConnection(uint16_t port) : port_(port) {}
  ~FeedConnection();
  FeedConnection(const FeedConnection&) = delete;
  FeedConnection& operator=(const FeedConnection&) = delete;

  // Connects and sends `GET target` with the headers (Host and
  // Connection: keep-alive are added). `rcvbuf` > 0 sets SO_RCVBUF before
  // connecting. False on failure (error() says why).
  bool Open(const std::string& target,
            const std::vector<std::pair<std::string, std::string>>& headers, int rcvbuf = 0);
  // Reads whatever is available without blocking. False once the peer has
  // closed (or on an error).
  bool ReadAvailable();
  // Polls and reads until `done()` holds, the connection closes, or
  // `timeout` passes; returns done().
  bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  void Close();

  int fd() const { return fd_; }
  int status() const { return status_; }           // 0 until the header has arrived
  std::string Header(const std::string& name) const;  // "" if absent; name in any case
  const std::string& body() const { return body_; }  // decoded body so far
  bool complete() const { return complete_; }        // the whole body has arrived
  bool closed() const { return closed_; }            // the peer closed the connection
  const std::vector<SseEvent>& events() const { return events_; }
  // Comment lines (": keep-alive" → "keep-alive"), in order.
  const std::vector<std::string>& comments() const { return comments_; }
  // Only events of this type (by `event:`), or every event but checkpoints,
  // caught_up and comments ("" = the feed's own events).
  std::vector<SseEvent> FeedEvents() const;
  const std::string& error() const { return error_; }

 private:
  void Consume();
  void ParseSse(std::string_view bytes);

  uint16_t port_;
  int fd_ = -1;
  std::string raw_;  // bytes not decoded yet
  int status_ = 0;
  std::map<std::string, std::string> headers_;  // lower-cased names
  bool chunked_ = false;
  int64_t content_length_ = -1;
  int64_t chunk_left_ = -1;  // -1: expecting a chunk size line
  bool complete_ = false;
  bool closed_ = false;
  std::string body_;
  std::string sse_line_;  // partial SSE line
  SseEvent pending_;
  bool pending_any_ = false;
  std::vector<SseEvent> events_;
  std::vector<std::string> comments_;
  std::string error_;
};

// Polls all connections from this thread until `done(c)` holds for every
// one (or it has closed) or `timeout` passes. Returns true if `done` holds
// for all of them.
bool PollAll(const std::vector<FeedConnection*>& connections,
             const std::function<bool(const FeedConnection&)>& done,
             std::chrono::milliseconds timeout);

}  // namespace syncmgr::testing
