// Session: answering (buffered answers; streamed ones are StreamedAnswer's),
// request accounting and closing. See session.h for the lifecycle.
#include <array>
#include <boost/asio/write.hpp>

#include "server/cors.h"
#include "server/request_log.h"
#include "server/response_head.h"
#include "server/session.h"
#include "server/streamed_answer.h"

namespace syncmgr::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
// Closing after an answer that left a body unread: read and drop at most
// this much, for at most this long, so the client sees the answer rather
// than a reset.
constexpr uint64_t kMaxDrainBytes = 1 << 20;
constexpr size_t kDrainReadBytes = 16 << 10;
constexpr std::chrono::milliseconds kDrainTimeout{2000};
}  // namespace

// ---- Answering ----------------------------------------------------------------

void Session::Answer(ApiResponse response) {
  if (closed()) return;
  if (exchange_) {
    exchange_->status = response.status;
    // The unread rest of the body cannot be told from a next request.
    if (exchange_->body == Exchange::Body::kUnread) exchange_->keep_alive = false;
  }
  if (response.stream) {
    auto answer = std::make_shared<StreamedAnswer>(shared_from_this(), std::move(response));
    mode_ = answer;
    answer->Start();
    return;
  }
  WriteBuffered(std::move(response));
}

void Session::AnswerError(const Status& status) { Answer(ErrorResponse(status)); }

bool Session::KeepAlive() const {
  return exchange_ && exchange_->keep_alive && !shutting_down_ && !state_.stopping.load() &&
         !reject_;
}

void Session::AddCommonHeaders(http::fields& fields, const ApiResponse& response) const {
  AddCommonFields(fields, response,
                  exchange_ ? CorsAnswerHeaders(exchange_->method, exchange_->cors_origin)
                            : HeaderViews{});
}

void Session::WriteBuffered(ApiResponse response) {
  const bool keep_alive = KeepAlive();
  CountBodyOut(response.body.size());
  stream_.expires_after(std::chrono::milliseconds(state_.options.write_timeout_ms));
  const HeaderViews cors =
      exchange_ ? CorsAnswerHeaders(exchange_->method, exchange_->cors_origin) : HeaderViews{};
  head_.clear();  // keeps its capacity: no allocation per answer
  if (AppendResponseHead(response, cors, keep_alive, &head_)) {
    // Head and body in one write (one sendmsg), without Beast's fields.
    body_ = std::move(response.body);
    const std::array<net::const_buffer, 2> buffers = {net::buffer(head_), net::buffer(body_)};
    net::async_write(stream_, buffers,
                     beast::bind_front_handler(&Session::OnWritten, shared_from_this(), keep_alive));
    return;
  }
  response_.emplace(static_cast<http::status>(response.status), 11);
  AddCommonFields(response_->base(), response, cors);
  response_->body() = std::move(response.body);
  response_->keep_alive(keep_alive);
  response_->prepare_payload();
  http::async_write(stream_, *response_,
                    beast::bind_front_handler(&Session::OnWritten, shared_from_this(), keep_alive));
}

void Session::OnWritten(bool keep_alive, beast::error_code ec, size_t) {
  FinishRequest();
  response_.reset();
  std::string().swap(body_);  // the answer's memory goes now, not at the next one
  if (ec) {
    CloseNow();
    return;
  }
  AfterResponse(keep_alive);
}

void Session::AfterResponse(bool keep_alive) {
  if (!keep_alive) {
    CloseGracefully();
    return;
  }
  WaitForRequest();
}

// ---- Accounting ---------------------------------------------------------------

void Session::CountBodyIn(uint64_t bytes) {
  if (exchange_) exchange_->bytes_in += bytes;
}

void Session::CountBodyOut(uint64_t bytes) {
  if (exchange_) exchange_->bytes_out += bytes;
}

void Session::MarkBodyRead() {
  if (exchange_) exchange_->body = Exchange::Body::kRead;
}

void Session::FinishRequest() {
  if (!exchange_) return;
  const Exchange exchange = std::move(*exchange_);
  exchange_.reset();
  const double seconds = std::chrono::duration<double>(Clock::now() - exchange.started).count();
  const std::string_view route =
      exchange.route ? std::string_view(exchange.route->pattern) : "unmatched";
  state_.metrics.ObserveRequest(MethodName(exchange.method), route, exchange.status, seconds);
  RequestLogRecord record;
  record.method = MethodName(exchange.method);
  record.route = route;
  record.status = exchange.status;
  record.duration_s = seconds;
  if (exchange.request) record.caller = exchange.request->caller;
  record.bytes_in = exchange.bytes_in;
  record.bytes_out = exchange.bytes_out;
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  state_.Log(FormatRequestLog(record, now_us));
}

// ---- Closing ------------------------------------------------------------------

void Session::CloseGracefully() {
  if (closed()) return;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    CloseNow();
    return;
  }
  phase_ = Phase::kDraining;
  drain_.resize(kDrainReadBytes);
  drained_ = 0;
  stream_.expires_after(kDrainTimeout);
  stream_.async_read_some(net::buffer(drain_),
                          beast::bind_front_handler(&Session::OnDrain, shared_from_this()));
}

void Session::OnDrain(beast::error_code ec, size_t n) {
  drained_ += n;
  if (ec || drained_ > kMaxDrainBytes) {
    CloseNow();
    return;
  }
  stream_.async_read_some(net::buffer(drain_),
                          beast::bind_front_handler(&Session::OnDrain, shared_from_this()));
}

void Session::CloseNow() {
  if (closed()) return;
  phase_ = Phase::kClosed;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  // Not connected any more is fine: we are closing anyway.
  stream_.close();
  if (const auto mode = mode_.lock()) mode->OnClose();
}

}  // namespace syncmgr::server
