#include "server/buffered_body.h"

namespace syncmgr::server {

namespace beast = boost::beast;
namespace http = beast::http;

BufferedBody::BufferedBody(std::shared_ptr<Session> session,
                           http::request_parser<http::empty_body>&& header, const Route& route,
                           std::shared_ptr<ApiRequest> request)
    : session_(std::move(session)),
      route_(route),
      request_(std::move(request)),
      parser_(std::move(header)) {}

void BufferedBody::Start() {
  const uint64_t limit = session_->options().max_body_bytes;
  if (parser_.content_length().value_or(0) > limit) {
    session_->Answer(ErrorResponse(BodyTooLarge(limit)));
    return;
  }
  parser_.body_limit(limit);
  progress_ = 0;
  session_->stream().expires_after(std::chrono::milliseconds(session_->options().body_timeout_ms));
  ReadSome();
}

void BufferedBody::ReadSome() {
  http::async_read_some(session_->stream(), session_->buffer(), parser_,
                        beast::bind_front_handler(&BufferedBody::OnRead, shared_from_this()));
}

void BufferedBody::OnRead(beast::error_code ec, size_t n) {
  const ServerOptions& options = session_->options();
  if (ec == http::error::body_limit) {
    session_->Answer(ErrorResponse(BodyTooLarge(options.max_body_bytes)));
    return;
  }
  if (ec && IsHttpParseError(ec)) {
    session_->Answer(
        ErrorResponse(Status::InvalidArgument("malformed request body framing: " + ec.message())));
    return;
  }
  if (ec) {  // body too slow (timeout), client gone
    session_->CloseNow();
    return;
  }
  session_->CountBodyIn(n);
  progress_ += n;
  if (progress_ >= options.stream_chunk_bytes) {  // enough progress: a new period
    progress_ = 0;
    session_->stream().expires_after(std::chrono::milliseconds(options.body_timeout_ms));
  }
  if (!parser_.is_done()) {
    ReadSome();
    return;
  }
  session_->MarkBodyRead();
  request_->body = std::move(parser_.get().body());
  RunHandler();
}

void BufferedBody::RunHandler() {
  session_->Offload(
      [&route = route_, request = request_, &context = session_->state().context] {
        return GuardedAnswer([&] { return route.handler(*request, context); });
      },
      [self = shared_from_this()](ApiResponse response) {
        self->session_->Answer(std::move(response));
      });
}

}  // namespace syncmgr::server
