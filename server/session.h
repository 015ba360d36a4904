// Session: one HTTP/1.1 connection, the Beast "advanced server" way: it owns
// the tcp_stream, the read buffer and the parser of the current request, and
// every read and write has a deadline (ServerOptions timeouts).
//
// One request at a time (pipelined requests wait in the buffer):
//
//   wait for first byte (idle_timeout) → header (header_timeout,
//   max_header_bytes) → route, query, CORS (RouteRequest, dispatch.h) →
//   [worker] authenticate, and run the handler (no body) or open the body
//   sink (imports) → body, buffered (max_body_bytes) or streamed chunk by
//   chunk to the sink on the worker pool while the next chunk is read →
//   [worker] handler → response, buffered or streamed in pieces (a worker
//   fetches the next piece while the current one is written) → keep-alive
//   or close.
//
// Engine calls run on the worker pool only; their completions come back to
// the session's strand. A worker job holds a shared_ptr to the session, so
// the session (and the sink or stream the job uses) outlives it.
//
// Thread-safety: all members are used on the session's strand, except the
// request, sink and response stream, which a worker uses while the strand
// leaves them alone (phases below).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "server/feed_live_stream.h"
#include "server/http_types.h"
#include "server/router.h"

namespace syncmgr::server {

struct ServerState;

// A malformed request (answered 400) rather than a network condition.
bool IsHttpParseError(boost::beast::error_code ec);

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

 private:
  using Clock = std::chrono::steady_clock;

  // session.cc: the request lifecycle.
  void WaitForRequest();
  void OnIdleRead(boost::beast::error_code ec, size_t n);
  void ReadHeader();
  void OnHeader(boost::beast::error_code ec, size_t n);
  void Dispatch();
  void Prepare();  // on a worker
  void OnPrepared(std::optional<ApiResponse> response);
  void SendContinueThen(void (Session::*next)());
  void ReadBody();
  void ReadBodySome();
  void OnBodyRead(boost::beast::error_code ec, size_t n);
  void RunHandler();  // on a worker
  void SendResponse(ApiResponse response);
  void SendError(const Status& status);
  void SendHttpError(int http_status, std::string_view code, std::string_view message);
  void OnWritten(bool keep_alive, boost::beast::error_code ec, size_t n);
  void BeginRequest();
  void FinishRequest();
  void AfterResponse(bool keep_alive);
  void CloseGracefully();
  void OnDrain(boost::beast::error_code ec, size_t n);
  void CloseNow();
  void AddCommonHeaders(boost::beast::http::fields& fields, const ApiResponse& response) const;
  bool KeepAlive() const;

  // session_stream.cc: streamed request bodies and responses.
  void StartStreamedBody();
  void ReadChunk();
  void OnChunkRead(boost::beast::error_code ec, size_t n);
  void PumpBody();
  void OnAppended(Status status);
  void FailBody(ApiResponse response);
  void DisposeSink();
  void StartStreamedResponse(ApiResponse response);
  void OnStreamHeaderWritten(boost::beast::error_code ec, size_t n);
  void PumpResponse();
  void OnPieceFetched(Status status, std::string piece, bool done);
  void OnPieceWritten(boost::beast::error_code ec, size_t n);
  void OnLastChunkWritten(boost::beast::error_code ec, size_t n);

  // session_feed.cc: parking a live stream (the change feed) while it has
  // nothing to send — no worker, no thread, only a timer and a hub waiter.
  void ParkLiveStream();
  void OnLiveWake(uint64_t generation);
  void StopLiveStream();
  void ReleaseResponseStream();

  // Constant after construction.
  ServerState& state_;
  const bool reject_;

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool closed_ = false;
  bool shutting_down_ = false;  // finish this request, then close
  bool idle_ = false;           // waiting for a next request
  bool close_after_ = false;    // request body left unread: close after answering

  // The current request.
  std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> header_parser_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> body_parser_;
  bool active_ = false;  // a request is being served
  Clock::time_point started_;
  HttpMethod method_ = HttpMethod::kOther;
  std::string method_name_;
  const Route* route_ = nullptr;
  std::shared_ptr<ApiRequest> request_;  // the worker's, while it runs
  std::optional<std::string> api_key_;
  std::string cors_origin_;  // set: allowed origin of a GET
  bool has_body_ = false;
  bool body_complete_ = false;  // the whole body has been read
  bool expect_continue_ = false;
  bool in_worker_ = false;  // a worker job of this session is running
  bool client_keep_alive_ = true;
  int status_ = 0;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  uint64_t progress_ = 0;  // body bytes since the body deadline was last reset
  std::optional<boost::beast::http::response<boost::beast::http::string_body>> response_;
  std::string continue_;  // "100 Continue" bytes being written

  // Streamed request body (imports).
  std::optional<boost::beast::http::request_parser<boost::beast::http::buffer_body>> chunk_parser_;
  std::unique_ptr<RequestBodySink> sink_;  // the worker's while in_worker_
  uint64_t sink_limit_ = 0;
  std::string read_chunk_;  // being filled from the socket
  size_t read_filled_ = 0;
  std::string append_chunk_;  // being appended by a worker
  bool reading_ = false, chunk_ready_ = false, finishing_ = false, body_failed_ = false;
  std::optional<ApiResponse> failed_response_;

  // Streamed response (property lists).
  std::unique_ptr<ResponseStream> response_stream_;  // the worker's while in_worker_
  std::optional<boost::beast::http::response<boost::beast::http::empty_body>> stream_header_;
  std::optional<boost::beast::http::response_serializer<boost::beast::http::empty_body>> stream_sr_;
  std::string ready_piece_;  // fetched, not yet written
  std::string write_piece_;  // being written
  bool piece_ready_ = false, writing_ = false, stream_done_ = false, last_sent_ = false;

  // Live streamed response (the change feed): response_stream_ as a
  // LiveStream, or null.
  LiveStream* live_ = nullptr;
  bool parked_ = false;           // waiting for a wake or the park timer
  uint64_t park_generation_ = 0;  // tells a current wake from a stale one
  std::unique_ptr<boost::asio::steady_timer> park_timer_;

  // Draining an unread body before close.
  std::string drain_;
  uint64_t drained_ = 0;
};

}  // namespace syncmgr::server
