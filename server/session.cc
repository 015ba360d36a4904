// Session: reading a request, routing it and handing it on (see session.h).
// Answering, accounting and closing are in session_respond.cc.
#include "server/session.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>

#include "server/auth.h"
#include "server/buffered_body.h"
#include "server/dispatch.h"
#include "server/errors.h"
#include "server/streamed_body.h"

namespace syncmgr::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// First read of a request: as much as arrives, up to this.
constexpr size_t kFirstReadBytes = 8192;
// The interim answer to "Expect: 100-continue".
constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";

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
RequestHead HeadOf(const http::request_parser<http::empty_body>& parser) {
  const http::request_header<>& req = parser.get();
  RequestHead head;
  head.method = ToMethod(req.method());
  head.method_name = req.method_string();
  head.target = req.target();
  head.origin = req[http::field::origin];
  head.content_type = req[http::field::content_type];
  head.accept = req[http::field::accept];
  if (const auto it = req.find("Last-Event-ID"); it != req.end()) head.last_event_id = it->value();
  if (const auto it = req.find("X-API-Key"); it != req.end()) head.api_key = it->value();
  if (const auto length = parser.content_length()) head.content_length = *length;
  return head;
}

}  // namespace

bool IsHttpParseError(beast::error_code ec) {
  return ec.category() == http::make_error_code(http::error::bad_version).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

ApiResponse HandlerThrew(std::string_view what) {
  return ErrorResponse(Status::Internal("handler threw: " + std::string(what)));
}

Status BodyTooLarge(uint64_t limit) {
  return Status::PayloadTooLarge("request body is larger than " + std::to_string(limit) + " bytes");
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
    if (self->reject_) {  // no request is read: the answer, then close
      self->AnswerError(Status::Unavailable("too many connections; try again later"));
      return;
    }
    self->WaitForRequest();
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
    if (self->phase_ == Phase::kIdle) self->stream_.socket().cancel();
    if (const auto mode = self->mode_.lock()) mode->OnShutdown();
  });
}

void Session::ForceClose() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->CloseNow(); });
}

// ---- Reading a request ------------------------------------------------------

void Session::WaitForRequest() {
  if (closed()) return;
  mode_.reset();
  if ((shutting_down_ || state_.stopping.load()) && !RequestArrived()) {
    CloseGracefully();
    return;
  }
  if (buffer_.size() > 0) {  // a pipelined request is already here
    ReadHeader();
    return;
  }
  phase_ = Phase::kIdle;
  stream_.expires_after(std::chrono::milliseconds(state_.options.idle_timeout_ms));
  stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                          beast::bind_front_handler(&Session::OnIdleRead, shared_from_this()));
}

// Stopping: a request the client sent before the stop (here or in the
// socket) is still served, and the session closes after answering it.
bool Session::RequestArrived() {
  if (buffer_.size() > 0) return true;
  beast::error_code ec;
  return stream_.socket().available(ec) > 0 && !ec;
}

void Session::OnIdleRead(beast::error_code ec, size_t n) {
  if (phase_ == Phase::kIdle) phase_ = Phase::kBusy;
  if (ec == net::error::operation_aborted && shutting_down_ && !closed()) {
    // Cancelled by Shutdown: serve a request already in the socket, if any.
    if (RequestArrived()) {
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

void Session::OnHeader(beast::error_code ec, size_t) {
  if (ec && ec != http::error::header_limit && ec != http::error::body_limit &&
      !IsHttpParseError(ec)) {  // header timeout (slowloris), client gone
    CloseNow();
    return;
  }
  exchange_.emplace();
  if (!ec) {
    Dispatch();
    return;
  }
  exchange_->keep_alive = false;  // the rest of this request cannot be told from the next one
  if (ec == http::error::header_limit) {
    Answer(JsonResponse(kHeadersTooLarge.http_status,
                        ErrorBody(kHeadersTooLarge,
                                  "request header is larger than " +
                                      std::to_string(state_.options.max_header_bytes) + " bytes")));
  } else if (ec == http::error::body_limit) {  // Content-Length past every limit
    AnswerError(Status::PayloadTooLarge("request body is too large"));
  } else {
    AnswerError(Status::InvalidArgument("malformed HTTP request: " + ec.message()));
  }
}

// ---- Routing and handing on ------------------------------------------------

// The router is RouteRequest (dispatch.h); this records what the answer and
// the request log need, and sends a routed request to a worker.
void Session::Dispatch() {
  const http::request_parser<http::empty_body>& parser = *header_parser_;
  const RequestHead head = HeadOf(parser);
  Exchange& exchange = *exchange_;
  exchange.method = head.method;
  exchange.keep_alive = parser.get().keep_alive();
  const bool has_body = parser.chunked() || parser.content_length().value_or(0) > 0;
  exchange.body = has_body ? Exchange::Body::kUnread : Exchange::Body::kNone;

  Routing routing = RouteRequest(head, state_.router, state_.options.cors_origins);
  exchange.route = routing.route;
  exchange.cors_origin = std::move(routing.cors_origin);
  if (routing.answer) {
    Answer(std::move(*routing.answer));
    return;
  }
  exchange.request = routing.request;
  Offload(
      [&state = state_, route = routing.route, request = std::move(routing.request),
       key = std::move(routing.api_key), has_body,
       capture = CaptureForForwarding(state_.options, head.method, parser)]() mutable {
        return Prepare(state, *route, *request, std::move(key), has_body, capture);
      },
      [self = shared_from_this()](Prepared prepared) { self->OnPrepared(std::move(prepared)); });
}

// Worker: authenticate; then run a body-less handler at once, or open the
// body sink of a streamed-body route before any body byte is read (so a
// refused import never uploads its body). The key is dropped here.
Session::Prepared Session::Prepare(ServerState& state, const Route& route, ApiRequest& request,
                                   std::optional<std::string> api_key, bool has_body,
                                   const ForwardCapture& capture) {
  Prepared out;
  try {
    StatusOr<Caller> caller =
        AuthenticateCaller(route.auth, api_key, state.options.admin_key_sha256, state.engine);
    if (!caller.ok() && caller.status().code() == Code::kUnauthorized && api_key.has_value() &&
        CatchUpWithCluster(state)) {
      caller = AuthenticateCaller(route.auth, api_key, state.options.admin_key_sha256, state.engine);
    }
    if (!caller.ok()) {
      out.answer = ErrorResponse(caller.status());
      return out;
    }
    request.caller = *caller;
    // A read that must wait (min_seq); a write another node runs.
    if ((out.answer = WaitForMinSeq(state, request))) return out;
    if (std::optional<Forwarded> f = ForwardIfNotOwner(state, route, request, capture, has_body)) {
      out.answer = std::move(f->answer);
      out.sink = std::move(f->sink);
      out.sink_limit = f->sink_limit;
      return out;
    }
    if (route.body_sink) {
      StatusOr<BodySinkStart> start = route.body_sink(request, state.context);
      if (!start.ok()) {
        out.answer = ErrorResponse(start.status());
        return out;
      }
      out.sink = std::move(start->sink);
      out.sink_limit = start->max_body_bytes;
    } else if (!has_body) {
      out.answer = route.handler(request, state.context);
    }
  } catch (const std::exception& e) {
    out.answer = HandlerThrew(e.what());
  } catch (...) {
    out.answer = HandlerThrew("unknown exception");
  }
  return out;
}

void Session::OnPrepared(Prepared prepared) {
  if (closed()) {
    DisposeSink(state_, std::move(prepared.sink));
    return;
  }
  if (prepared.answer) {
    Answer(std::move(*prepared.answer));
    return;
  }
  const bool expect_continue =
      beast::iequals(header_parser_->get()[http::field::expect], "100-continue");
  std::function<void()> start;
  if (prepared.sink) {
    auto body = std::make_shared<StreamedBody>(shared_from_this(), std::move(*header_parser_),
                                               std::move(prepared.sink), prepared.sink_limit);
    mode_ = body;
    start = [body] { body->Start(); };
  } else {
    auto body = std::make_shared<BufferedBody>(shared_from_this(), std::move(*header_parser_),
                                               *exchange_->route, exchange_->request);
    mode_ = body;
    start = [body] { body->Start(); };
  }
  header_parser_.reset();
  ContinueThen(expect_continue, std::move(start));
}

void Session::ContinueThen(bool expect_continue, std::function<void()> next) {
  if (!expect_continue) {
    next();
    return;
  }
  stream_.expires_after(std::chrono::milliseconds(state_.options.write_timeout_ms));
  net::async_write(
      stream_, net::buffer(k100Continue.data(), k100Continue.size()),
      [self = shared_from_this(), next = std::move(next)](beast::error_code ec, size_t) {
        if (ec) {
          self->CloseNow();
          return;
        }
        next();
      });
}

}  // namespace syncmgr::server
