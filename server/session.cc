// Session: the request lifecycle (see session.h). Streamed bodies and
// responses are in session_stream.cc.
#include "server/session.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <exception>

#include "server/auth.h"
#include "server/dispatch.h"
#include "server/errors.h"
#include "server/request_log.h"
#include "server/server_state.h"

namespace syncmgr::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// First read of a request: as much as arrives, up to this.
constexpr size_t kFirstReadBytes = 8192;

HttpMethod ToMethod(http::verb verb) {
  switch (verb) {
    case http::verb::get:
      return HttpMethod::kGet;
    case http::verb::post:
      return HttpMethod::kPost;
    case http::verb::put:
      return HttpMethod::kPut;
    case http::verb::delete_:
      return HttpMethod::kDelete;
    case http::verb::options:
      return HttpMethod::kOptions;
    default:
      return HttpMethod::kOther;
  }
}

// What routing reads of the header (dispatch.h); views into `req`.
RequestHead HeadOf(const http::request_header<>& req) {
  RequestHead head;
  head.method = ToMethod(req.method());
  head.method_name = req.method_string();
  head.target = req.target();
  head.origin = req[http::field::origin];
  head.content_type = req[http::field::content_type];
  head.accept = req[http::field::accept];
  if (const auto it = req.find("Last-Event-ID"); it != req.end()) head.last_event_id = it->value();
  if (const auto it = req.find("X-API-Key"); it != req.end()) head.api_key = it->value();
  return head;
}

// A handler threw: answered 500 (ErrorResponse logs the details).
ApiResponse InternalErrorFrom(const char* what) {
  return ErrorResponse(Status::Internal(std::string("handler threw: ") + what));
}

}  // namespace

bool IsHttpParseError(beast::error_code ec) {
  return ec.category() == http::make_error_code(http::error::bad_version).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

Session::Session(tcp::socket&& socket, ServerState& state, bool reject)
    : state_(state), reject_(reject), stream_(std::move(socket)) {
  if (reject_) {
    state_.rejecting.fetch_add(1);
  } else {
    state_.metrics.ConnectionOpened();
  }
}

Session::~Session() {
  // An unfinished import session is discarded by its destructor, which may
  // write: never on an I/O thread.
  if (sink_ && !state_.workers_joined.load()) {
    net::post(*state_.workers, [sink = std::move(sink_)] {});
  }
  sink_.reset();  // after shutdown: inline
  if (reject_) {
    state_.rejecting.fetch_sub(1);
  } else {
    state_.metrics.ConnectionClosed();
  }
  state_.Unregister(this);
}

void Session::Start() {
  state_.Register(shared_from_this());
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (!self->reject_) {
      self->WaitForRequest();
      return;
    }
    self->close_after_ = true;
    self->SendHttpError(503, "unavailable", "too many connections; try again later");
  });
}

void Session::Shutdown() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->shutting_down_ = true;
    // An idle connection is closed — unless a request has already arrived
    // but not been handled yet: that one is in flight (its client sent it
    // before the stop) and is served like any other, and the session closes
    // after answering it (WaitForRequest). The pending read is cancelled
    // rather than the socket closed, so OnIdleRead sees either the request
    // (the read had completed) or the cancellation, and then looks at what
    // is left in the socket.
    if (self->idle_) self->stream_.socket().cancel();
    self->StopLiveStream();  // a feed answer ends now (resumable)
  });
}

void Session::ForceClose() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->CloseNow(); });
}

// ---- Reading a request ------------------------------------------------------

void Session::WaitForRequest() {
  if (closed_) return;
  request_.reset();
  route_ = nullptr;
  body_parser_.reset();
  chunk_parser_.reset();
  if (shutting_down_ || state_.stopping.load()) {
    CloseGracefully();
    return;
  }
  if (buffer_.size() > 0) {  // a pipelined request is already here
    ReadHeader();
    return;
  }
  idle_ = true;
  stream_.expires_after(std::chrono::milliseconds(state_.options.idle_timeout_ms));
  stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                          beast::bind_front_handler(&Session::OnIdleRead, shared_from_this()));
}

void Session::OnIdleRead(beast::error_code ec, size_t n) {
  idle_ = false;
  if (ec == net::error::operation_aborted && shutting_down_ && !closed_) {
    // Cancelled by Shutdown: serve a request already in the socket, if any.
    beast::error_code avail_ec;
    if (stream_.socket().available(avail_ec) > 0 && !avail_ec) {
      stream_.expires_after(std::chrono::milliseconds(state_.options.header_timeout_ms));
      stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                              beast::bind_front_handler(&Session::OnIdleRead, shared_from_this()));
      return;
    }
  }
  if (ec) {  // end of stream, idle timeout, or stopped by Shutdown
    CloseNow();
    return;
  }
  buffer_.commit(n);
  ReadHeader();
}

void Session::ReadHeader() {
  header_parser_.emplace();
  header_parser_->header_limit(state_.options.max_header_bytes);
  // The largest body any route takes; each route's own limit is applied
  // once the route is known.
  header_parser_->body_limit(
      std::max(state_.options.max_body_bytes, state_.options.max_import_bytes));
  stream_.expires_after(std::chrono::milliseconds(state_.options.header_timeout_ms));
  http::async_read_header(stream_, buffer_, *header_parser_,
                          beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
}

void Session::BeginRequest() {
  active_ = true;
  started_ = Clock::now();
  status_ = 0;
  bytes_in_ = bytes_out_ = 0;
  has_body_ = body_complete_ = expect_continue_ = close_after_ = false;
  client_keep_alive_ = true;
  method_ = HttpMethod::kOther;
  route_ = nullptr;
  cors_origin_.clear();
}

void Session::OnHeader(beast::error_code ec, size_t) {
  if (ec == http::error::header_limit) {
    BeginRequest();
    close_after_ = true;
    SendHttpError(kHeadersTooLarge.http_status, kHeadersTooLarge.code,
                  "request header is larger than " +
                      std::to_string(state_.options.max_header_bytes) + " bytes");
    return;
  }
  if (ec == http::error::body_limit) {  // Content-Length past every limit
    BeginRequest();
    close_after_ = true;
    SendError(Status::PayloadTooLarge("request body is too large"));
    return;
  }
  if (ec && IsHttpParseError(ec)) {
    BeginRequest();
    close_after_ = true;
    SendError(Status::InvalidArgument("malformed HTTP request: " + ec.message()));
    return;
  }
  if (ec) {  // header timeout (slowloris), client gone
    CloseNow();
    return;
  }
  BeginRequest();
  Dispatch();
}

// The router is RouteRequest (dispatch.h); this records what the answer and
// the request log need, and sends a routed request to a worker.
void Session::Dispatch() {
  const auto& req = header_parser_->get();
  const RequestHead head = HeadOf(req);
  method_ = head.method;
  client_keep_alive_ = req.keep_alive();
  has_body_ = header_parser_->chunked() || header_parser_->content_length().value_or(0) > 0;
  body_complete_ = !has_body_;
  expect_continue_ = beast::iequals(req[http::field::expect], "100-continue");

  Routing routing = RouteRequest(head, state_.router, state_.options.cors_origins);
  route_ = routing.route;
  cors_origin_ = std::move(routing.cors_origin);
  if (routing.answer) {
    SendResponse(std::move(*routing.answer));
    return;
  }
  request_ = std::move(routing.request);
  api_key_ = std::move(routing.api_key);
  in_worker_ = true;
  net::post(*state_.workers, [self = shared_from_this()] { self->Prepare(); });
}

// Worker: authenticate; then run a body-less handler at once, or open the
// body sink of a streamed-body route before any body byte is read (so a
// refused import never uploads its body).
void Session::Prepare() {
  std::optional<ApiResponse> response;
  try {
    StatusOr<Caller> caller =
        AuthenticateCaller(route_->auth, api_key_, state_.options.admin_key_sha256, state_.engine);
    api_key_.reset();  // not kept longer than needed
    if (!caller.ok()) {
      response = ErrorResponse(caller.status());
    } else {
      request_->caller = *caller;
      if (route_->body_sink) {
        StatusOr<BodySinkStart> start = route_->body_sink(*request_, state_.context);
        if (!start.ok()) {
          response = ErrorResponse(start.status());
        } else {
          sink_ = std::move(start->sink);
          sink_limit_ = start->max_body_bytes;
        }
      } else if (!has_body_) {
        response = route_->handler(*request_, state_.context);
      }
    }
  } catch (const std::exception& e) {
    response = InternalErrorFrom(e.what());
  } catch (...) {
    response = InternalErrorFrom("unknown exception");
  }
  net::post(stream_.get_executor(), [self = shared_from_this(), r = std::move(response)]() mutable {
    self->OnPrepared(std::move(r));
  });
}

void Session::OnPrepared(std::optional<ApiResponse> response) {
  in_worker_ = false;
  if (closed_) {
    DisposeSink();
    return;
  }
  if (response) {
    SendResponse(std::move(*response));
  } else if (sink_) {
    SendContinueThen(&Session::StartStreamedBody);
  } else {
    SendContinueThen(&Session::ReadBody);
  }
}

void Session::SendContinueThen(void (Session::*next)()) {
  if (!expect_continue_) {
    (this->*next)();
    return;
  }
  continue_ = "HTTP/1.1 100 Continue\r\n\r\n";
  stream_.expires_after(std::chrono::milliseconds(state_.options.write_timeout_ms));
  net::async_write(stream_, net::buffer(continue_),
                   [self = shared_from_this(), next](beast::error_code ec, size_t) {
                     if (ec) {
                       self->CloseNow();
                       return;
                     }
                     ((*self).*next)();
                   });
}

void Session::ReadBody() {
  body_parser_.emplace(std::move(*header_parser_));
  header_parser_.reset();
  const uint64_t limit = state_.options.max_body_bytes;
  if (body_parser_->content_length().value_or(0) > limit) {
    SendError(
        Status::PayloadTooLarge("request body is larger than " + std::to_string(limit) + " bytes"));
    return;
  }
  body_parser_->body_limit(limit);
  progress_ = 0;
  stream_.expires_after(std::chrono::milliseconds(state_.options.body_timeout_ms));
  ReadBodySome();
}

void Session::ReadBodySome() {
  http::async_read_some(stream_, buffer_, *body_parser_,
                        beast::bind_front_handler(&Session::OnBodyRead, shared_from_this()));
}

void Session::OnBodyRead(beast::error_code ec, size_t n) {
  if (ec == http::error::body_limit) {
    SendError(Status::PayloadTooLarge("request body is larger than " +
                                      std::to_string(state_.options.max_body_bytes) + " bytes"));
    return;
  }
  if (ec && IsHttpParseError(ec)) {
    SendError(Status::InvalidArgument("malformed request body framing: " + ec.message()));
    return;
  }
  if (ec) {  // body too slow (timeout), client gone
    CloseNow();
    return;
  }
  bytes_in_ += n;
  progress_ += n;
  if (progress_ >= state_.options.stream_chunk_bytes) {  // enough progress: a new period
    progress_ = 0;
    stream_.expires_after(std::chrono::milliseconds(state_.options.body_timeout_ms));
  }
  if (!body_parser_->is_done()) {
    ReadBodySome();
    return;
  }
  body_complete_ = true;
  request_->body = std::move(body_parser_->get().body());
  body_parser_.reset();
  in_worker_ = true;
  net::post(*state_.workers, [self = shared_from_this()] { self->RunHandler(); });
}

void Session::RunHandler() {
  std::optional<ApiResponse> response;
  try {
    response = route_->handler(*request_, state_.context);
  } catch (const std::exception& e) {
    response = InternalErrorFrom(e.what());
  } catch (...) {
    response = InternalErrorFrom("unknown exception");
  }
  net::post(stream_.get_executor(),
            [self = shared_from_this(), r = std::move(*response)]() mutable {
              self->in_worker_ = false;
              if (self->closed_) return;
              self->SendResponse(std::move(r));
            });
}

}  // namespace syncmgr::server
