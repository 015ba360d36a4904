// Forwarder: one request to another node over Beast, each step run on a
// private io_context until it completes or its deadline passes.
#include "server/forward.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include <fmt/format.h>

namespace syncmgr::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

namespace {

// Answer headers the session sets itself, or that describe the hop.
bool HopHeader(std::string_view name) {
  for (std::string_view h : {"connection", "keep-alive", "transfer-encoding", "content-length",
                             "content-type", "server", "cache-control", "date"}) {
    if (beast::iequals(name, h)) return true;
  }
  return false;
}

}  // namespace

struct Forwarder::Impl {
  explicit Impl(ForwardOptions o) : options(o), stream(ioc) {}

  // Runs the io_context until the operation started before completes (its
  // deadline is the stream's).
  void Run() {
    ioc.restart();
    ioc.run();
  }

  // The same, asking options.owner_holds between slices; false: the
  // operation is cancelled and `gave_up` set.
  void RunChecked(const bool& done) {
    ioc.restart();
    while (!done) {
      ioc.run_for(milliseconds(options.check_interval_ms));
      if (done || !options.owner_holds || options.owner_holds()) continue;
      gave_up = true;
      beast::error_code ignored;
      stream.socket().cancel(ignored);
      ioc.restart();
      ioc.run();
      return;
    }
  }

  beast::error_code Write(std::string_view bytes) {
    beast::error_code ec;
    bool done = false;
    stream.expires_after(milliseconds(options.io_timeout_ms));
    net::async_write(stream, net::buffer(bytes.data(), bytes.size()),
                     [&](beast::error_code e, size_t) {
                       ec = e;
                       done = true;
                     });
    RunChecked(done);
    return ec;
  }

  ForwardOptions options;
  net::io_context ioc;
  beast::tcp_stream stream;
  std::string owner;  // "host:port", for messages
  bool chunked = false;
  bool broken = false;  // a write failed: the answer may still be there
  std::string broke_because;
  bool gave_up = false;  // the owner lost the tenant while it was waited on
};

Forwarder::Forwarder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Forwarder::~Forwarder() = default;

StatusOr<std::unique_ptr<Forwarder>> Forwarder::Open(std::string_view base_url,
                                                     const ForwardRequest& request,
                                                     std::string_view forwarded_by,
                                                     const ForwardOptions& options) {
  std::string_view rest = base_url;
  if (rest.substr(0, 7) != "http://") {
    return Status::Unavailable(fmt::format("the tenant's owner has no http:// URL ({})", base_url));
  }
  rest.remove_prefix(7);
  rest = rest.substr(0, rest.find('/'));
  const size_t colon = rest.rfind(':');
  const std::string host(colon == std::string_view::npos ? rest : rest.substr(0, colon));
  const std::string port(colon == std::string_view::npos ? "80" : rest.substr(colon + 1));

  auto impl = std::make_unique<Impl>(options);
  impl->owner = std::string(rest);
  tcp::resolver resolver(impl->ioc);
  beast::error_code ec;
  tcp::resolver::results_type endpoints;
  bool resolved = false;
  resolver.async_resolve(host, port, [&](beast::error_code e, tcp::resolver::results_type r) {
    ec = e;
    endpoints = std::move(r);
    resolved = true;
  });
  impl->ioc.run_for(milliseconds(options.connect_timeout_ms));
  if (!resolved) {
    resolver.cancel();
    impl->Run();
    ec = beast::error::timeout;
  }
  if (!ec) {
    impl->stream.expires_after(milliseconds(options.connect_timeout_ms));
    impl->stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    impl->Run();
  }
  if (ec) {
    return Status::Unavailable(
        fmt::format("the tenant's owner at {} cannot be reached: {}", impl->owner, ec.message()));
  }
  std::string head = fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n", request.method, request.target,
                                 impl->owner);
  for (const auto& [name, value] : request.headers) head += fmt::format("{}: {}\r\n", name, value);
  head += fmt::format("{}: {}\r\n", kForwardedByHeader, forwarded_by);
  if (request.has_body && !request.content_length.has_value()) {
    impl->chunked = true;
    head += "Transfer-Encoding: chunked\r\n";
  } else {
    head += fmt::format("Content-Length: {}\r\n", request.content_length.value_or(0));
  }
  head += "Connection: close\r\n\r\n";
  ec = impl->Write(head);
  if (ec) {
    return Status::Unavailable(fmt::format("the tenant's owner at {} closed the connection: {}",
                                           impl->owner, ec.message()));
  }
  return std::unique_ptr<Forwarder>(new Forwarder(std::move(impl)));
}

Status Forwarder::Send(std::string_view piece) {
  if (impl_->broken || impl_->gave_up || piece.empty()) return Status::Ok();
  beast::error_code ec;
  if (impl_->chunked) {
    ec = impl_->Write(fmt::format("{:x}\r\n", piece.size()));
    if (!ec) ec = impl_->Write(piece);
    if (!ec) ec = impl_->Write("\r\n");
  } else {
    ec = impl_->Write(piece);
  }
  if (ec) {
    impl_->broken = true;
    impl_->broke_because = ec.message();
  }
  return Status::Ok();
}

ApiResponse Forwarder::Finish() {
  Impl& f = *impl_;
  bool sent = !f.broken;
  if (sent && f.chunked) {
    beast::error_code ec = f.Write("0\r\n\r\n");
    if (ec) {
      sent = false;
      f.broke_because = ec.message();
    }
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(f.options.max_response_bytes);
  beast::error_code ec;
  bool done = false;
  f.stream.expires_after(milliseconds(f.options.io_timeout_ms));
  if (!f.gave_up) {
    http::async_read(f.stream, buffer, parser, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    f.RunChecked(done);
  }
  if (f.gave_up) {
    return ErrorResponse(Status::Unavailable(fmt::format(
        "outcome unknown: the write was forwarded to the tenant's owner at {}, which stopped "
        "answering and lost the tenant meanwhile; it may or may not have been applied. Before "
        "retrying, check the import log, the sync log or the property",
        f.owner)));
  }
  beast::error_code ignored;
  f.stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (ec) {
    return ErrorResponse(Status::Unavailable(
        sent ? fmt::format("outcome unknown: the write was forwarded to the tenant's owner at {}, "
                           "which did not answer ({}); it may or may not have been applied. "
                           "Before retrying, check the import log, the sync log or the property",
                           f.owner, ec.message())
             : fmt::format("the write was not applied: the connection to the tenant's owner at {} "
                           "broke before the request was sent ({}); retry",
                           f.owner, f.broke_because)));
  }
  http::response<http::string_body> res = parser.release();
  ApiResponse out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  for (const auto& field : res) {
    if (HopHeader(field.name_string())) continue;
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return out;
}

Status ForwardingSink::Append(std::string_view chunk) { return forwarder_->Send(chunk); }

}  // namespace syncmgr::server
