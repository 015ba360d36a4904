// Session: answering (buffered responses), request accounting and closing.
// See session.h for the lifecycle.
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "server/cors.h"
#include "server/errors.h"
#include "server/request_log.h"
#include "server/server_state.h"
#include "server/session.h"

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
constexpr std::chrono::milliseconds kDrainTimeout{2000};
}  // namespace

// ---- Answering ----------------------------------------------------------------

bool Session::KeepAlive() const {
  return client_keep_alive_ && !close_after_ && !shutting_down_ && !state_.stopping.load() &&
         !reject_;
}

void Session::AddCommonHeaders(http::fields& fields, const ApiResponse& response) const {
  fields.set(http::field::server, "syncmgr");
  if (!response.content_type.empty()) fields.set(http::field::content_type, response.content_type);
  fields.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : response.headers) fields.set(name, value);
  for (const auto& [name, value] : CorsAnswerHeaders(method_, cors_origin_)) {
    fields.set(name, value);
  }
}

void Session::SendError(const Status& status) { SendResponse(ErrorResponse(status)); }

void Session::SendHttpError(int http_status, std::string_view code, std::string_view message) {
  SendResponse(JsonResponse(http_status, ErrorBody({http_status, code}, message)));
}

void Session::SendResponse(ApiResponse response) {
  if (closed_) return;
  status_ = response.status;
  if (has_body_ && !body_complete_) close_after_ = true;  // the unread body ends the connection
  if (response.stream) {
    StartStreamedResponse(std::move(response));
    return;
  }
  response_.emplace(static_cast<http::status>(response.status), 11);
  AddCommonHeaders(response_->base(), response);
  response_->body() = std::move(response.body);
  const bool keep_alive = KeepAlive();
  response_->keep_alive(keep_alive);
  response_->prepare_payload();
  bytes_out_ += response_->body().size();
  stream_.expires_after(std::chrono::milliseconds(state_.options.write_timeout_ms));
  http::async_write(stream_, *response_,
                    beast::bind_front_handler(&Session::OnWritten, shared_from_this(), keep_alive));
}

void Session::OnWritten(bool keep_alive, beast::error_code ec, size_t) {
  FinishRequest();
  response_.reset();
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

void Session::FinishRequest() {
  if (!active_) return;
  active_ = false;
  const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  const std::string_view route = route_ ? std::string_view(route_->pattern) : "unmatched";
  state_.metrics.ObserveRequest(MethodName(method_), route, status_, seconds);
  RequestLogRecord record;
  record.method = MethodName(method_);
  record.route = route;
  record.status = status_;
  record.duration_s = seconds;
  if (request_) record.caller = request_->caller;
  record.bytes_in = bytes_in_;
  record.bytes_out = bytes_out_;
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  state_.Log(FormatRequestLog(record, now_us));
}

// ---- Closing ------------------------------------------------------------------

void Session::CloseGracefully() {
  if (closed_) return;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    CloseNow();
    return;
  }
  drain_.resize(16 << 10);
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
  if (closed_) return;
  closed_ = true;
  idle_ = false;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  // Not connected any more is fine: we are closing anyway.
  stream_.close();
  DisposeSink();
  parked_ = false;
  if (park_timer_) park_timer_->cancel();
  if (!in_worker_) ReleaseResponseStream();
}

}  // namespace syncmgr::server
