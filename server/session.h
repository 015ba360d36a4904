// Session: one HTTP/1.1 connection, the Beast "advanced server" way. It owns
// the tcp_stream, the read buffer and the parser of the current request's
// header; it reads requests one at a time (pipelined ones wait in the
// buffer), routes them, writes buffered answers, and hands each phase that
// reads a body or streams an answer to a small piece owning only that
// phase's state (a SessionMode):
//
//   wait for a request (idle_timeout_ms) → header (header_timeout_ms,
//   max_header_bytes) → Dispatch → RouteRequest (dispatch.h: target, CORS,
//   route, 405, query, headers) → [worker] authenticate, wait for min_seq
//   (cluster_route.h), forward a write to its tenant's owner in cluster
//   mode, else run a body-less handler or open a streamed route's body sink
//   → 100 Continue if asked →
//     BufferedBody    the body (≤ max_body_bytes) → [worker] handler
//     StreamedBody    chunk by chunk to the sink on a worker while the next
//                     chunk is read (≤ the sink's limit) → [worker] Finish
//   → the answer: buffered (written here), or
//     StreamedAnswer  chunked; a worker fetches the next piece while the
//                     current one is written; a live answer (the change
//                     feed) parks while it has nothing to send (LiveWait:
//                     a timer and a FeedHub waiter, no worker)
//   → keep-alive: the next request; else close, draining what the client
//     still sends for a moment so that it sees the answer.
//
// Every read and write has a deadline (stream().expires_after, the
// ServerOptions timeouts). Engine calls run on the worker pool only
// (Offload); their completions come back to the session's strand.
//
// Lifetime: a pending operation keeps its owner alive (a shared_ptr in its
// handler). A piece holds the session; the session holds only a weak
// reference to the piece serving it now (to tell it about closing and
// shutdown), so a piece that has handed on its answer ends with its last
// operation.
//
// Thread-safety: everything runs on the session's strand, except Shutdown
// and ForceClose (any thread) and the work Offload sends to the workers.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/cluster_route.h"
#include "server/http_types.h"
#include "server/router.h"
#include "server/server_state.h"

namespace syncmgr::server {

// A malformed request (answered 400) rather than a network condition.
bool IsHttpParseError(boost::beast::error_code ec);

// PayloadTooLarge for a request body past `limit` bytes.
Status BodyTooLarge(uint64_t limit);

// Calls into route code on a worker (handlers, body sinks, response
// streams). An exception escaping one is a bug: it becomes an internal
// error (500, details in the server log) instead of ending the process.
template <typename Fn>
Status Guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("exception: ") + e.what());
  } catch (...) {
    return Status::Internal("unknown exception");
  }
}
// The answer when route code threw `what`: 500, details in the server log.
ApiResponse HandlerThrew(std::string_view what);
template <typename Fn>
ApiResponse GuardedAnswer(Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return HandlerThrew(e.what());
  } catch (...) {
    return HandlerThrew("unknown exception");
  }
}

// A piece serving one phase of a request on a session's connection: reading
// a body (BufferedBody, StreamedBody) or writing a streamed answer
// (StreamedAnswer). Kept alive by its own pending operations.
class SessionMode {
 public:
  virtual ~SessionMode() = default;
  // The connection was closed: let go of what can be let go now.
  virtual void OnClose() {}
  // The server is stopping: a live answer ends now (resumable).
  virtual void OnShutdown() {}
};

// The request a session is serving: what its answer and its request-log
// line need. The session's own (Session::exchange_).
struct Exchange {
  enum class Body { kNone, kUnread, kRead };
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  HttpMethod method = HttpMethod::kOther;
  const Route* route = nullptr;  // null: unmatched
  std::shared_ptr<ApiRequest> request;
  std::string cors_origin;  // the allowed Origin, "" if none
  Body body = Body::kNone;
  bool keep_alive = true;  // the client's wish, cleared when the request forbids it
  int status = 0;
  uint64_t bytes_in = 0;   // request body
  uint64_t bytes_out = 0;  // response body
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `reject`: answer 503 unavailable at once and close (max_connections).
  Session(boost::asio::ip::tcp::socket&& socket, ServerState& state, bool reject);
  ~Session();

  // Registers with the server and starts serving. REQUIRES: called once.
  void Start();
  // Server stopping: closes the connection if it waits between requests,
  // else lets the current request finish and then closes. Any thread.
  void Shutdown();
  // Closes the connection now (shutdown timeout). Any thread.
  void ForceClose();

  // ---- For the pieces serving the current request (on the strand) ----------
  boost::beast::tcp_stream& stream() { return stream_; }
  boost::beast::flat_buffer& buffer() { return buffer_; }
  ServerState& state() { return state_; }
  const ServerOptions& options() const { return state_.options; }
  bool closed() const { return phase_ == Phase::kClosed; }

  // Runs `work()` on the worker pool, then `done(result)` on the strand.
  // Whatever `work` uses must be its own (moved into it) or left alone by
  // the strand until `done` runs.
  template <typename Work, typename Done>
  void Offload(Work work, Done done) {
    boost::asio::post(*state_.workers, [self = shared_from_this(), work = std::move(work),
                                        done = std::move(done)]() mutable {
      auto result = work();
      // `self` moves on too: the session is never released on a worker.
      const auto strand = self->stream_.get_executor();
      boost::asio::post(strand,
                        [self = std::move(self), done = std::move(done),
                         result = std::move(result)]() mutable { done(std::move(result)); });
    });
  }

  // Answers the current request: a buffered answer is written here, a
  // streamed one (response.stream) by a StreamedAnswer. No-op once closed.
  void Answer(ApiResponse response);
  // Server, Content-Type, Cache-Control, the handler's headers, CORS
  // (AddCommonFields, response_head.h).
  void AddCommonHeaders(boost::beast::http::fields& fields, const ApiResponse& response) const;
  // The connection stays open after this answer: the client wants it, the
  // request was read whole, and the server is not stopping.
  bool KeepAlive() const;

  // Request accounting (the request log and metrics).
  void CountBodyIn(uint64_t bytes);
  void CountBodyOut(uint64_t bytes);
  void MarkBodyRead();
  // Logs the current request, once; the first call counts.
  void FinishRequest();

  // The answer has been written: the next request, or close.
  void AfterResponse(bool keep_alive);
  void CloseNow();

 private:
  using Clock = std::chrono::steady_clock;

  enum class Phase {
    kBusy,      // reading a request or serving it
    kIdle,      // waiting for the next request (Shutdown closes it)
    kDraining,  // answered, sending side shut: reading what the client still sends
    kClosed,
  };

  // What a worker made of a routed request before its body is read.
  struct Prepared {
    std::optional<ApiResponse> answer;      // answer this now, or
    std::unique_ptr<RequestBodySink> sink;  // stream the body to this sink,
    uint64_t sink_limit = 0;                // at most this long; neither: buffer it
  };

  void WaitForRequest();
  bool RequestArrived();
  void OnIdleRead(boost::beast::error_code ec, size_t n);
  void ReadHeader();
  void OnHeader(boost::beast::error_code ec, size_t n);
  void Dispatch();
  static Prepared Prepare(ServerState& state, const Route& route, ApiRequest& request,
                          std::optional<std::string> api_key, bool has_body,
                          const ForwardCapture& capture);  // on a worker
  void OnPrepared(Prepared prepared);
  // Writes "100 Continue" first if the client waits for it.
  void ContinueThen(bool expect_continue, std::function<void()> next);
  void AnswerError(const Status& status);
  void WriteBuffered(ApiResponse response);
  void OnWritten(bool keep_alive, boost::beast::error_code ec, size_t n);
  void CloseGracefully();
  void OnDrain(boost::beast::error_code ec, size_t n);

  // Constant after construction.
  ServerState& state_;
  const bool reject_;

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  Phase phase_ = Phase::kBusy;
  bool shutting_down_ = false;  // finish the current request, then close

  // The current request: its header, its record, the piece serving it now,
  // and its buffered answer while written.
  std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> header_parser_;
  std::optional<Exchange> exchange_;
  std::weak_ptr<SessionMode> mode_;
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> response_;
  // A buffered answer written without Beast's serializer (response_head.h):
  // its head (reused from answer to answer) and its body.
  std::string head_;
  std::string body_;

  // Draining before close: read into this, and dropped.
  std::string drain_;
  uint64_t drained_ = 0;
};

}  // namespace syncmgr::server
