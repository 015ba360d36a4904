#include "server/streamed_answer.h"

#include <boost/asio/write.hpp>

#include "server/request_log.h"

namespace syncmgr::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

StreamedAnswer::StreamedAnswer(std::shared_ptr<Session> session, ApiResponse response)
    : session_(std::move(session)),
      source_(std::move(response.stream)),
      header_(static_cast<http::status>(response.status), 11),
      ready_(std::move(response.body)) {
  if (auto* live = dynamic_cast<LiveStream*>(source_.get())) {
    live_ = std::make_shared<LiveWait>(session_->stream().get_executor(), *live);
  }
  session_->AddCommonHeaders(header_.base(), response);
  header_.keep_alive(session_->KeepAlive());
  header_.chunked(true);
}

void StreamedAnswer::Start() {
  serializer_.emplace(header_);
  session_->stream().expires_after(std::chrono::milliseconds(session_->options().write_timeout_ms));
  http::async_write_header(
      session_->stream(), *serializer_,
      beast::bind_front_handler(&StreamedAnswer::OnWritten, shared_from_this()));
}

void StreamedAnswer::OnClose() {
  if (live_) live_->Cancel();
  if (source_state_ != Source::kFetching) ReleaseSource();  // else when the worker returns
}

void StreamedAnswer::OnShutdown() {
  if (live_) live_->Stop();
}

// Moves the answer along: a fetched piece to the socket as soon as it is
// free, the next fetch as soon as nothing fetched waits (unless parked),
// and the last chunk once the stream is done and everything written.
void StreamedAnswer::Pump() {
  if (session_->closed()) return;
  if (socket_ == Socket::kIdle && !ready_.empty()) WritePiece();
  if (source_state_ == Source::kIdle && ready_.empty() && !(live_ && live_->parked())) Fetch();
  if (source_state_ == Source::kDone && ready_.empty() && socket_ == Socket::kIdle) WriteLast();
}

void StreamedAnswer::WritePiece() {
  writing_.swap(ready_);
  ready_.clear();
  socket_ = Socket::kWriting;
  session_->CountBodyOut(writing_.size());
  session_->stream().expires_after(std::chrono::milliseconds(
      live_ ? live_->write_timeout_ms() : session_->options().write_timeout_ms));
  net::async_write(session_->stream(), http::make_chunk(net::buffer(writing_)),
                   beast::bind_front_handler(&StreamedAnswer::OnWritten, shared_from_this()));
}

void StreamedAnswer::Fetch() {
  source_state_ = Source::kFetching;
  session_->Offload(
      [stream = std::move(source_)]() mutable {
        Fetched fetched;
        fetched.status = Guarded([&] { return stream->Next(&fetched.piece, &fetched.done); });
        fetched.stream = std::move(stream);
        return fetched;
      },
      [self = shared_from_this()](Fetched fetched) { self->OnFetched(std::move(fetched)); });
}

void StreamedAnswer::OnFetched(Fetched fetched) {
  source_ = std::move(fetched.stream);
  source_state_ = Source::kIdle;
  if (session_->closed()) {
    ReleaseSource();
    return;
  }
  if (!fetched.status.ok()) {
    LogServerError("streamed response aborted: " + fetched.status.ToString());
    session_->FinishRequest();
    session_->CloseNow();
    return;
  }
  ready_ = std::move(fetched.piece);
  if (fetched.done) ReleaseSource();  // lets go of the cursor early
  if (live_ && ready_.empty()) {
    live_->Park([self = shared_from_this()] { self->Pump(); });  // until a commit or the timer
  }
  Pump();
}

void StreamedAnswer::OnWritten(beast::error_code ec, size_t) {
  socket_ = Socket::kIdle;
  if (ec) {  // slow reader (write timeout) or client gone
    session_->FinishRequest();
    session_->CloseNow();
    return;
  }
  Pump();
}

void StreamedAnswer::WriteLast() {
  socket_ = Socket::kEnded;
  session_->stream().expires_after(std::chrono::milliseconds(session_->options().write_timeout_ms));
  net::async_write(session_->stream(), http::make_chunk_last(),
                   beast::bind_front_handler(&StreamedAnswer::OnLastWritten, shared_from_this()));
}

void StreamedAnswer::OnLastWritten(beast::error_code ec, size_t) {
  session_->FinishRequest();
  if (ec) {
    session_->CloseNow();
    return;
  }
  session_->AfterResponse(header_.keep_alive());
}

void StreamedAnswer::ReleaseSource() {
  source_state_ = Source::kDone;
  live_.reset();
  source_.reset();
}

}  // namespace syncmgr::server
