#include "server/streamed_body.h"

#include <boost/asio/post.hpp>
#include <cstring>

namespace syncmgr::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace {

// What one read of the socket asks for while a chunked body streams through
// Beast's parser: Beast's most (http::async_read_some reads at most 64 KiB
// into the session's buffer, and no more than the buffer's free capacity,
// which the header's read left at 8 KiB). A 2 GB import in 8 KiB reads cost
// ~260 k recvmsg calls, each with its timer re-armed and often a thread
// woken: ~4 % of the server's CPU for the day-0 import (bench/report_notes.md,
// "Day-0 import"). A Content-Length body skips the parser (ReadChunk).
constexpr size_t kBodyReadBytes = 64u << 10;

}  // namespace

void DisposeSink(ServerState& state, std::unique_ptr<RequestBodySink> sink) {
  if (!sink || state.workers_joined.load()) return;  // shutting down: here
  net::post(*state.workers, [sink = std::move(sink)] {});
}

StreamedBody::StreamedBody(std::shared_ptr<Session> session,
                           http::request_parser<http::empty_body>&& header,
                           std::unique_ptr<RequestBodySink> sink, uint64_t max_body_bytes)
    : session_(std::move(session)),
      limit_(max_body_bytes),
      parser_(std::move(header)),
      sink_(std::move(sink)) {}

StreamedBody::~StreamedBody() { DisposeSink(session_->state(), std::move(sink_)); }

void StreamedBody::Start() {
  if (parser_.content_length().value_or(0) > limit_) {
    Fail(ErrorResponse(BodyTooLarge(limit_)));
    return;
  }
  parser_.body_limit(limit_);
  if (parser_.content_length() && !parser_.is_done()) {
    direct_left_ = *parser_.content_length();
  } else {
    session_->buffer().reserve(kBodyReadBytes);
  }
  Pump();
}

void StreamedBody::OnClose() { DisposeSink(session_->state(), std::move(sink_)); }

// Moves the body along: a full chunk to the worker as soon as it is free,
// the next read as soon as the read buffer is, and Finish once everything
// is read and appended.
void StreamedBody::Pump() {
  if (session_->closed() || phase_ != Phase::kStreaming) return;
  if (socket_ == Socket::kChunkFull && sink_) {
    socket_ = Socket::kIdle;
    if (read_filled_ > 0) Append();
  }
  const bool body_read = BodyRead();
  if (!body_read && socket_ == Socket::kIdle) ReadChunk();
  if (body_read && socket_ == Socket::kIdle && sink_) Finish();
}

void StreamedBody::ReadChunk() {
  // A new period to receive the body's next stream_chunk_bytes in: at each
  // new chunk (the previous one may have waited for the worker) and each
  // time that much has arrived.
  if (read_filled_ == 0 || period_bytes_ >= session_->options().stream_chunk_bytes) {
    if (read_filled_ == 0) read_chunk_.resize(session_->options().import_chunk_bytes);
    period_bytes_ = 0;
    session_->stream().expires_after(
        std::chrono::milliseconds(session_->options().body_timeout_ms));
  }
  socket_ = Socket::kReading;
  if (direct_left_ > 0) {
    // A Content-Length body: its bytes go straight into the chunk, a whole
    // chunk per read if the socket has it, with no copy out of the session's
    // buffer and no framing to parse. Never past the body's end: what
    // follows it (a pipelined request) stays in the socket for the session.
    const size_t want = static_cast<size_t>(
        std::min<uint64_t>(direct_left_, read_chunk_.size() - read_filled_));
    char* const into = read_chunk_.data() + read_filled_;
    beast::flat_buffer& early = session_->buffer();  // body bytes read with the header
    if (early.size() > 0) {
      const size_t n = std::min(want, early.size());
      std::memcpy(into, early.data().data(), n);
      early.consume(n);
      net::post(session_->stream().get_executor(),
                beast::bind_front_handler(&StreamedBody::OnChunkRead, shared_from_this(),
                                          beast::error_code(), n));
      return;
    }
    session_->stream().async_read_some(
        net::buffer(into, want),
        beast::bind_front_handler(&StreamedBody::OnChunkRead, shared_from_this()));
    return;
  }
  auto& body = parser_.get().body();
  body.data = read_chunk_.data() + read_filled_;
  body.size = read_chunk_.size() - read_filled_;
  body.more = true;
  http::async_read_some(session_->stream(), session_->buffer(), parser_,
                        beast::bind_front_handler(&StreamedBody::OnChunkRead, shared_from_this()));
}

// `n`: the body bytes read (direct), or what Beast's parser consumed.
void StreamedBody::OnChunkRead(beast::error_code ec, size_t n) {
  socket_ = Socket::kIdle;
  if (ec == http::error::need_buffer) ec = {};  // the chunk buffer is full
  if (session_->closed()) return;
  if (phase_ == Phase::kFailed) {  // read cancelled after a failed append: answer now
    if (failure_) {
      ApiResponse response = std::move(*failure_);
      failure_.reset();
      session_->Answer(std::move(response));
    }
    return;
  }
  if (ec == http::error::body_limit) {
    Fail(ErrorResponse(BodyTooLarge(limit_)));
    return;
  }
  if (ec && IsHttpParseError(ec)) {
    Fail(ErrorResponse(Status::InvalidArgument("malformed request body framing: " + ec.message())));
    return;
  }
  if (ec) {  // too slow, or the client went away (mid-body): the import is discarded
    session_->CloseNow();
    return;
  }
  const size_t before = read_filled_;
  if (direct_left_ > 0) {
    read_filled_ += n;
    direct_left_ -= n;
    direct_done_ = direct_left_ == 0;
  } else {
    read_filled_ = read_chunk_.size() - parser_.get().body().size;
  }
  period_bytes_ += read_filled_ - before;
  session_->CountBodyIn(read_filled_ - before);
  if (BodyRead()) {
    session_->MarkBodyRead();
    session_->buffer().shrink_to_fit();  // the next request's header needs little
  }
  if (read_filled_ == read_chunk_.size() || BodyRead()) socket_ = Socket::kChunkFull;
  Pump();
}

void StreamedBody::Append() {
  std::string chunk = std::move(read_chunk_);
  chunk.resize(read_filled_);
  read_chunk_ = std::move(spare_chunk_);
  read_filled_ = 0;
  session_->Offload(
      [sink = std::move(sink_), chunk = std::move(chunk)]() mutable {
        Status status = Guarded([&] { return sink->Append(chunk); });
        return Appended{std::move(status), std::move(sink), std::move(chunk)};
      },
      [self = shared_from_this()](Appended appended) { self->OnAppended(std::move(appended)); });
}

void StreamedBody::OnAppended(Appended appended) {
  spare_chunk_ = std::move(appended.chunk);
  if (session_->closed() || phase_ == Phase::kFailed) {
    DisposeSink(session_->state(), std::move(appended.sink));
    return;
  }
  sink_ = std::move(appended.sink);
  if (!appended.status.ok()) {
    Fail(ErrorResponse(appended.status));
    return;
  }
  Pump();
}

void StreamedBody::Finish() {
  phase_ = Phase::kFinishing;
  session_->Offload(
      [sink = std::move(sink_)]() mutable {
        ApiResponse response = GuardedAnswer([&] { return sink->Finish(); });
        sink.reset();  // here, on the worker: its destructor may touch the engine
        return response;
      },
      [self = shared_from_this()](ApiResponse response) {
        self->session_->Answer(std::move(response));
      });
}

void StreamedBody::Fail(ApiResponse response) {
  phase_ = Phase::kFailed;
  DisposeSink(session_->state(), std::move(sink_));  // a worker's: disposed of when it returns
  if (socket_ == Socket::kReading) {
    // One read at a time: cancel it; OnChunkRead sends the answer.
    failure_ = std::move(response);
    session_->stream().cancel();
    return;
  }
  session_->Answer(std::move(response));
}

}  // namespace syncmgr::server
