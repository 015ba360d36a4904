// StreamedBody: a request body handed to the route's RequestBodySink chunk
// by chunk (imports), never held whole. One piece of a Session (session.h).
//
// The socket fills one chunk (import_chunk_bytes) while a worker appends
// the previous one; a full chunk waits until the worker is free
// (backpressure on the client, bounded memory: two chunks). Each
// stream_chunk_bytes of the body (or a chunk's rest, or the body's) must
// arrive within body_timeout_ms. Once the body is in and appended, a
// worker calls Finish and its answer is sent.
//
// A failure mid-body — past the sink's limit (413), bad chunked framing
// (400), a chunk the sink refuses — is answered at once (the session then
// closes, the rest of the body being unread). A client too slow or gone is
// closed. Either way the sink is discarded, on a worker: discarding an
// unfinished import may write, never on an I/O thread.
//
// Thread-safety: on the session's strand; the sink is a worker's (moved
// into its job) while it appends or finishes.
#pragma once

#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>

#include "server/session.h"

namespace syncmgr::server {

class StreamedBody : public SessionMode, public std::enable_shared_from_this<StreamedBody> {
 public:
  // `header`: the parser that read the request's header, taken over.
  // `max_body_bytes`: the sink's limit (BodySinkStart).
  StreamedBody(std::shared_ptr<Session> session,
               boost::beast::http::request_parser<boost::beast::http::empty_body>&& header,
               std::unique_ptr<RequestBodySink> sink, uint64_t max_body_bytes);
  ~StreamedBody() override;

  // Streams the body, then answers. REQUIRES: called once.
  void Start();
  void OnClose() override;

 private:
  enum class Phase { kStreaming, kFinishing, kFailed };
  enum class Socket {
    kIdle,
    kReading,    // a read into read_chunk_ is pending
    kChunkFull,  // read_chunk_ is full (or holds the body's end): waits for the worker
  };
  struct Appended {
    Status status;
    std::unique_ptr<RequestBodySink> sink;
    std::string chunk;  // its buffer, to reuse
  };

  // The whole body has been read from the socket.
  bool BodyRead() const { return direct_done_ || parser_.is_done(); }
  void Pump();
  void ReadChunk();
  void OnChunkRead(boost::beast::error_code ec, size_t n);
  void Append();
  void OnAppended(Appended appended);
  void Finish();
  void Fail(ApiResponse response);

  const std::shared_ptr<Session> session_;
  const uint64_t limit_;
  boost::beast::http::request_parser<boost::beast::http::buffer_body> parser_;
  // Here; or null while a worker appends or finishes with it, or once it
  // has been disposed of.
  std::unique_ptr<RequestBodySink> sink_;
  Phase phase_ = Phase::kStreaming;
  Socket socket_ = Socket::kIdle;
  std::string read_chunk_;  // being filled from the socket
  size_t read_filled_ = 0;
  // Body bytes read since the read timeout was last armed.
  size_t period_bytes_ = 0;
  std::string spare_chunk_;  // the last appended chunk's buffer
  // A Content-Length body is read past the parser, into the chunks: the
  // bytes still to read, and whether all of them were.
  uint64_t direct_left_ = 0;
  bool direct_done_ = false;
  // The answer to a failure that came while a read was pending: sent when
  // the cancelled read returns.
  std::optional<ApiResponse> failure_;
};

// Discards an unfinished sink on a worker (inline once the pool is gone).
void DisposeSink(ServerState& state, std::unique_ptr<RequestBodySink> sink);

}  // namespace syncmgr::server
