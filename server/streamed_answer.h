// StreamedAnswer: an answer sent with chunked transfer encoding, its body
// pulled piece by piece from a ResponseStream (property lists, the change
// feed) so memory does not grow with its size. One piece of a Session
// (session.h).
//
// The header goes out first, then the piece the handler made; meanwhile a
// worker fetches the next one (ResponseStream::Next). At most two pieces
// are in memory: one on the socket, one with the worker. Each write has a
// deadline (write_timeout_ms; a live stream's own for its pieces): a reader
// that stops reading is closed. A piece that fails after the status line
// went out ends the connection without the last chunk, so the client sees
// a broken body rather than a silently short one.
//
// A LiveStream (the change feed) may have nothing to send for a while: it
// is then parked (LiveWait) and holds no worker. On shutdown a live answer
// ends at its next piece (resumable).
//
// Thread-safety: on the session's strand; the stream is a worker's (moved
// into its job) while it fetches.
#pragma once

#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>

#include "server/live_wait.h"
#include "server/session.h"

namespace syncmgr::server {

class StreamedAnswer : public SessionMode, public std::enable_shared_from_this<StreamedAnswer> {
 public:
  // REQUIRES: response.stream is set.
  StreamedAnswer(std::shared_ptr<Session> session, ApiResponse response);

  // Writes the answer, then hands the connection back (Session::
  // AfterResponse). REQUIRES: called once.
  void Start();
  void OnClose() override;
  void OnShutdown() override;

 private:
  enum class Source {
    kIdle,      // the stream is here; nothing fetched is waiting
    kFetching,  // a worker has the stream
    kDone,      // the last piece has been fetched; the stream is released
  };
  enum class Socket {
    kWriting,  // the header or a piece
    kIdle,
    kEnded,  // the last chunk is written or being written
  };
  struct Fetched {
    Status status;
    std::string piece;
    bool done = false;
    std::unique_ptr<ResponseStream> stream;
  };

  void Pump();
  void WritePiece();
  void Fetch();
  void OnFetched(Fetched fetched);
  void WriteLast();
  void OnWritten(boost::beast::error_code ec, size_t n);
  void OnLastWritten(boost::beast::error_code ec, size_t n);
  void ReleaseSource();

  const std::shared_ptr<Session> session_;
  std::unique_ptr<ResponseStream> source_;  // null unless Source::kIdle
  // A live stream's parking; null for other streams and once released.
  std::shared_ptr<LiveWait> live_;
  Source source_state_ = Source::kIdle;
  Socket socket_ = Socket::kWriting;
  boost::beast::http::response<boost::beast::http::empty_body> header_;
  std::optional<boost::beast::http::response_serializer<boost::beast::http::empty_body>>
      serializer_;
  std::string ready_;    // fetched, not yet written ("": none)
  std::string writing_;  // on the socket
};

}  // namespace syncmgr::server
