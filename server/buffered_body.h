// BufferedBody: the request body read whole into the request (JSON bodies,
// at most ServerOptions::max_body_bytes), then the route's handler run on a
// worker and its answer sent. One piece of a Session (session.h).
//
// Deadlines: the body must advance by stream_chunk_bytes (or to its end)
// within body_timeout_ms, again and again; slower, the connection is closed.
// Past the limit: 413; bad chunked framing: 400 (the session then closes,
// the rest of the body being unread).
//
// Thread-safety: on the session's strand; the handler runs on a worker
// while the strand leaves the request alone.
#pragma once

#include <boost/beast/http.hpp>
#include <memory>

#include "server/session.h"

namespace syncmgr::server {

class BufferedBody : public SessionMode, public std::enable_shared_from_this<BufferedBody> {
 public:
  // `header`: the parser that read the request's header, taken over.
  BufferedBody(std::shared_ptr<Session> session,
               boost::beast::http::request_parser<boost::beast::http::empty_body>&& header,
               const Route& route, std::shared_ptr<ApiRequest> request);

  // Reads the body, then answers. REQUIRES: called once.
  void Start();

 private:
  void ReadSome();
  void OnRead(boost::beast::error_code ec, size_t n);
  void RunHandler();

  const std::shared_ptr<Session> session_;
  const Route& route_;
  const std::shared_ptr<ApiRequest> request_;  // the worker's while the handler runs
  boost::beast::http::request_parser<boost::beast::http::string_body> parser_;
  uint64_t progress_ = 0;  // body bytes since the deadline was last set
};

}  // namespace syncmgr::server
