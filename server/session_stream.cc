// Session: streamed request bodies (imports) and streamed responses
// (property lists). Both keep at most two pieces per connection in memory:
// one on the socket, one with a worker.
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "server/request_log.h"
#include "server/server_state.h"
#include "server/session.h"

namespace syncmgr::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace {

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

}  // namespace

// ---- Streamed request body ----------------------------------------------------
//
// The socket fills `read_chunk_` (stream_chunk_bytes) while a worker appends
// the previous chunk (`append_chunk_`) to the sink; a full chunk waits until
// the worker is free (backpressure on the client, bounded memory). Each
// chunk must arrive within body_timeout_ms.

void Session::StartStreamedBody() {
  chunk_parser_.emplace(std::move(*header_parser_));
  header_parser_.reset();
  reading_ = chunk_ready_ = finishing_ = body_failed_ = false;
  failed_response_.reset();
  read_filled_ = 0;
  if (chunk_parser_->content_length().value_or(0) > sink_limit_) {
    FailBody(ErrorResponse(Status::PayloadTooLarge("request body is larger than " +
                                                   std::to_string(sink_limit_) + " bytes")));
    return;
  }
  chunk_parser_->body_limit(sink_limit_);
  PumpBody();
}

void Session::PumpBody() {
  if (closed_ || body_failed_ || finishing_) return;
  // A full chunk goes to a worker as soon as none is busy.
  if (chunk_ready_ && !in_worker_) {
    chunk_ready_ = false;
    if (read_filled_ > 0) {
      std::swap(read_chunk_, append_chunk_);
      append_chunk_.resize(read_filled_);
      read_filled_ = 0;
      in_worker_ = true;
      net::post(*state_.workers, [self = shared_from_this()] {
        Status st = Guarded([&] { return self->sink_->Append(self->append_chunk_); });
        net::post(self->stream_.get_executor(),
                  [self, st = std::move(st)]() mutable { self->OnAppended(std::move(st)); });
      });
    }
  }
  // Keep reading while body is left and the read buffer is free.
  if (!body_complete_ && !reading_ && !chunk_ready_) ReadChunk();
  // Everything read and appended: apply the import.
  if (body_complete_ && !chunk_ready_ && !reading_ && !in_worker_) {
    finishing_ = true;
    in_worker_ = true;
    net::post(*state_.workers, [self = shared_from_this()] {
      std::optional<ApiResponse> response;
      try {
        response = self->sink_->Finish();
      } catch (const std::exception& e) {
        response = ErrorResponse(Status::Internal(std::string("exception: ") + e.what()));
      } catch (...) {
        response = ErrorResponse(Status::Internal("unknown exception"));
      }
      self->sink_.reset();  // on the worker: its destructor may touch the engine
      net::post(self->stream_.get_executor(), [self, r = std::move(*response)]() mutable {
        self->in_worker_ = false;
        self->finishing_ = false;
        if (self->closed_) return;
        self->SendResponse(std::move(r));
      });
    });
  }
}

void Session::ReadChunk() {
  if (read_filled_ == 0) {  // a new chunk: a new period to receive it in
    read_chunk_.resize(state_.options.stream_chunk_bytes);
    stream_.expires_after(std::chrono::milliseconds(state_.options.body_timeout_ms));
  }
  auto& body = chunk_parser_->get().body();
  body.data = read_chunk_.data() + read_filled_;
  body.size = read_chunk_.size() - read_filled_;
  body.more = true;
  reading_ = true;
  http::async_read_some(stream_, buffer_, *chunk_parser_,
                        beast::bind_front_handler(&Session::OnChunkRead, shared_from_this()));
}

void Session::OnChunkRead(beast::error_code ec, size_t) {
  reading_ = false;
  if (ec == http::error::need_buffer) ec = {};  // the chunk buffer is full
  if (closed_) return;
  if (body_failed_) {  // read cancelled after a failed append: answer now
    if (failed_response_) {
      ApiResponse r = std::move(*failed_response_);
      failed_response_.reset();
      SendResponse(std::move(r));
    }
    return;
  }
  if (ec == http::error::body_limit) {
    FailBody(ErrorResponse(Status::PayloadTooLarge("request body is larger than " +
                                                   std::to_string(sink_limit_) + " bytes")));
    return;
  }
  if (ec && IsHttpParseError(ec)) {
    FailBody(
        ErrorResponse(Status::InvalidArgument("malformed request body framing: " + ec.message())));
    return;
  }
  if (ec) {  // too slow, or the client went away: the import is discarded
    CloseNow();
    return;
  }
  const size_t before = read_filled_;
  read_filled_ = read_chunk_.size() - chunk_parser_->get().body().size;
  bytes_in_ += read_filled_ - before;
  if (chunk_parser_->is_done()) body_complete_ = true;
  if (read_filled_ == read_chunk_.size() || body_complete_) chunk_ready_ = true;
  PumpBody();
}

void Session::OnAppended(Status status) {
  in_worker_ = false;
  if (closed_ || body_failed_) {
    DisposeSink();
    return;
  }
  if (!status.ok()) {
    FailBody(ErrorResponse(status));
    return;
  }
  PumpBody();
}

void Session::FailBody(ApiResponse response) {
  body_failed_ = true;
  DisposeSink();  // deferred to OnAppended while a worker appends
  if (reading_) {
    // One read at a time: cancel it; OnChunkRead sends the answer.
    failed_response_ = std::move(response);
    stream_.cancel();
    return;
  }
  SendResponse(std::move(response));
}

void Session::DisposeSink() {
  if (!sink_ || in_worker_) return;
  if (state_.workers_joined.load()) {  // shutting down: inline
    sink_.reset();
    return;
  }
  // Discarding an unfinished import may write: on a worker.
  net::post(*state_.workers, [sink = std::move(sink_)] {});
}

// ---- Streamed response ----------------------------------------------------------
//
// The header goes out first (chunked), then the first piece the handler
// made; meanwhile a worker makes the next piece.

void Session::StartStreamedResponse(ApiResponse response) {
  response_stream_ = std::move(response.stream);
  live_ = dynamic_cast<LiveStream*>(response_stream_.get());
  parked_ = false;
  stream_header_.emplace(static_cast<http::status>(response.status), 11);
  AddCommonHeaders(stream_header_->base(), response);
  stream_header_->keep_alive(KeepAlive());
  stream_header_->chunked(true);
  ready_piece_ = std::move(response.body);
  piece_ready_ = !ready_piece_.empty();
  stream_done_ = last_sent_ = false;
  writing_ = true;
  stream_sr_.emplace(*stream_header_);
  stream_.expires_after(std::chrono::milliseconds(state_.options.write_timeout_ms));
  http::async_write_header(
      stream_, *stream_sr_,
      beast::bind_front_handler(&Session::OnStreamHeaderWritten, shared_from_this()));
}

void Session::OnStreamHeaderWritten(beast::error_code ec, size_t) {
  writing_ = false;
  if (ec) {
    FinishRequest();
    CloseNow();
    return;
  }
  PumpResponse();
}

void Session::PumpResponse() {
  if (closed_) return;
  if (!writing_ && piece_ready_) {
    write_piece_.swap(ready_piece_);
    ready_piece_.clear();
    piece_ready_ = false;
    writing_ = true;
    bytes_out_ += write_piece_.size();
    stream_.expires_after(std::chrono::milliseconds(live_ ? live_->write_timeout_ms()
                                                          : state_.options.write_timeout_ms));
    net::async_write(stream_, http::make_chunk(net::buffer(write_piece_)),
                     beast::bind_front_handler(&Session::OnPieceWritten, shared_from_this()));
  }
  if (!in_worker_ && !piece_ready_ && !stream_done_ && !parked_) {
    in_worker_ = true;
    net::post(*state_.workers, [self = shared_from_this()] {
      std::string piece;
      bool done = false;
      Status st = Guarded([&] { return self->response_stream_->Next(&piece, &done); });
      net::post(self->stream_.get_executor(),
                [self, st = std::move(st), piece = std::move(piece), done]() mutable {
                  self->OnPieceFetched(std::move(st), std::move(piece), done);
                });
    });
  }
  if (stream_done_ && !piece_ready_ && !writing_ && !in_worker_ && !last_sent_) {
    last_sent_ = true;
    writing_ = true;
    stream_.expires_after(std::chrono::milliseconds(state_.options.write_timeout_ms));
    net::async_write(stream_, http::make_chunk_last(),
                     beast::bind_front_handler(&Session::OnLastChunkWritten, shared_from_this()));
  }
}

void Session::OnPieceFetched(Status status, std::string piece, bool done) {
  in_worker_ = false;
  if (closed_) {
    ReleaseResponseStream();
    return;
  }
  if (!status.ok()) {
    // The status line is gone already: end without the last chunk so the
    // client sees a broken body, never a silently short list.
    LogServerError("streamed response aborted: " + status.ToString());
    FinishRequest();
    CloseNow();
    return;
  }
  ready_piece_ = std::move(piece);
  piece_ready_ = !ready_piece_.empty();
  stream_done_ = done;
  if (done) ReleaseResponseStream();  // releases the cursor early
  if (live_ && !piece_ready_) {
    ParkLiveStream();  // nothing to send yet: wait for a commit or the timer
  }
  PumpResponse();
}

void Session::OnPieceWritten(beast::error_code ec, size_t) {
  writing_ = false;
  if (ec) {  // slow reader (write timeout) or client gone
    FinishRequest();
    CloseNow();
    return;
  }
  PumpResponse();
}

void Session::OnLastChunkWritten(beast::error_code ec, size_t) {
  writing_ = false;
  const bool keep_alive = stream_header_->keep_alive();
  FinishRequest();
  stream_sr_.reset();
  stream_header_.reset();
  ReleaseResponseStream();
  if (ec) {
    CloseNow();
    return;
  }
  AfterResponse(keep_alive);
}

}  // namespace syncmgr::server
