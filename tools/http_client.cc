// Synchronous calls built from Beast's asynchronous operations: each call
// starts the operation and runs the private io_context until it completes,
// so that basic_stream's deadlines (which only apply to async operations)
// bound every step.
#include "tools/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <optional>

namespace syncmgr::cli {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

constexpr std::string_view kUserAgent = "syncmgr-cli/0.1";

// One TCP connection and the io_context that drives it.
class Connection {
 public:
  explicit Connection(const HttpClientOptions& options) : options_(options), stream_(ioc_) {}

  beast::error_code Connect(const std::string& host, const std::string& port) {
    tcp::resolver resolver(ioc_);
    beast::error_code ec;
    tcp::resolver::results_type endpoints;
    bool resolved = false;
    resolver.async_resolve(host, port, [&](beast::error_code e, tcp::resolver::results_type r) {
      ec = e;
      endpoints = std::move(r);
      resolved = true;
    });
    if (!RunUntil(resolved, Deadline(options_.connect_timeout_ms), [&] { resolver.cancel(); })) {
      return Abandoned();
    }
    if (ec) return ec;
    stream_.expires_after(milliseconds(options_.connect_timeout_ms));
    bool connected = false;
    stream_.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
      ec = e;
      connected = true;
    });
    if (!RunUntilDoneOrCancelled(connected)) return Abandoned();
    return ec;
  }

  template <typename Request>
  beast::error_code WriteRequest(Request& req) {
    beast::error_code ec;
    bool written = false;
    stream_.expires_after(milliseconds(options_.io_timeout_ms));
    http::async_write(stream_, req, [&](beast::error_code e, size_t) {
      ec = e;
      written = true;
    });
    if (!RunUntilDoneOrCancelled(written)) return Abandoned();
    return ec;
  }

  beast::error_code ReadResponse(HttpResponse* out) {
    stream_.expires_after(milliseconds(options_.io_timeout_ms));
    StartRead();
    beast::error_code ec = WaitForRead(Deadline(options_.io_timeout_ms));
    if (!ec) TakeResponse(out);
    return ec;
  }

  // Reads the answer's header, then its body piece by piece: a 2xx body
  // into `on_body`, another (an error) into out->body, bounded.
  beast::error_code ReadStreamed(HttpResponse* out, const BodyPieceFn& on_body,
                                 Status* sink_error) {
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);  // a streamed body is not held
    beast::error_code ec;
    bool done = false;
    auto on_read = [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    };
    stream_.expires_after(milliseconds(options_.io_timeout_ms));
    http::async_read_header(stream_, buffer_, parser, on_read);
    if (!RunUntilDoneOrCancelled(done)) return Abandoned();
    if (ec) return ec;
    out->status = static_cast<int>(parser.get().result_int());
    const bool success = out->status >= 200 && out->status <= 299;
    std::array<char, 64 << 10> piece;
    while (!parser.is_done()) {
      parser.get().body().data = piece.data();
      parser.get().body().size = piece.size();
      done = false;
      stream_.expires_after(milliseconds(options_.io_timeout_ms));
      http::async_read(stream_, buffer_, parser, on_read);
      if (!RunUntilDoneOrCancelled(done)) return Abandoned();
      if (ec == http::error::need_buffer) ec = {};  // the piece is full
      if (ec) return ec;
      const std::string_view got(piece.data(), piece.size() - parser.get().body().size);
      if (success) {
        *sink_error = on_body(got);
        if (!sink_error->ok()) return net::error::operation_aborted;
      } else if (out->body.size() + got.size() > options_.max_response_bytes) {
        return http::error::body_limit;
      } else {
        out->body.append(got);
      }
    }
    return {};
  }

  // Streams a chunked body while already reading the answer, so an early
  // answer (an error before the whole body was sent) ends the upload.
  beast::error_code StreamRequest(http::request<http::empty_body>& req, const BodyChunkFn& next,
                                  Status* body_error, HttpResponse* out) {
    http::request_serializer<http::empty_body> sr(req);
    beast::error_code ec;
    stream_.expires_after(milliseconds(options_.io_timeout_ms));
    bool written = false;
    http::async_write_header(stream_, sr, [&](beast::error_code e, size_t) {
      ec = e;
      written = true;
    });
    if (!RunUntilDoneOrCancelled(written)) return Abandoned();
    if (ec) return ec;
    stream_.expires_never();  // the read's deadline is enforced by WaitForRead
    StartRead();
    std::string chunk;
    bool last_sent = false;
    while (!read_done_ && !last_sent) {
      *body_error = next(&chunk);
      if (!body_error->ok()) {
        // Closing mid-body makes the server discard the import: nothing is written.
        stream_.socket().close();
        ioc_.restart();
        while (!read_done_) ioc_.run_one();
        return net::error::operation_aborted;
      }
      bool write_done = false;
      stream_.expires_after(milliseconds(options_.io_timeout_ms));
      auto on_write = [&](beast::error_code e, size_t) {
        ec = e;
        write_done = true;
      };
      if (chunk.empty()) {
        net::async_write(stream_, http::make_chunk_last(), on_write);
        last_sent = true;
      } else {
        net::async_write(stream_, http::make_chunk(net::buffer(chunk)), on_write);
      }
      ioc_.restart();
      while (!write_done && !read_done_) ioc_.run_one();
      if (!write_done) {
        // Answered early: drop the rest of the upload.
        stream_.socket().cancel();
        while (!write_done) ioc_.run_one();
        break;
      }
      if (ec) break;  // the server may still have answered: read below
    }
    beast::error_code read_ec = WaitForRead(Deadline(options_.io_timeout_ms));
    if (read_ec) return ec ? ec : read_ec;
    TakeResponse(out);
    return {};
  }

 private:
  static std::chrono::steady_clock::time_point Deadline(uint32_t ms) {
    return std::chrono::steady_clock::now() + milliseconds(ms);
  }

  bool Cancelled() const {
    return options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed);
  }

  // Why a wait was given up: the caller cancelled, or its deadline passed.
  beast::error_code Abandoned() const {
    return cancelled_ ? beast::error_code(net::error::operation_aborted)
                      : beast::error_code(beast::error::timeout);
  }

  // Runs the io_context until `done`. When `deadline` passes or the call is
  // cancelled (checked every 100 ms), `abort` completes what is pending
  // with an error and the context runs until `done`; returns false then.
  template <typename AbortFn>
  bool RunUntil(const bool& done, std::chrono::steady_clock::time_point deadline,
                AbortFn abort) {
    ioc_.restart();
    while (!done) {
      const auto now = std::chrono::steady_clock::now();
      cancelled_ = Cancelled();
      if (cancelled_ || now >= deadline) {
        abort();
        ioc_.restart();
        while (!done) ioc_.run_one();
        return false;
      }
      ioc_.run_one_until(std::min(deadline, now + milliseconds(100)));
    }
    return true;
  }

  // The stream's own deadline (expires_after) bounds the operation; this
  // only adds the cancel check.
  bool RunUntilDoneOrCancelled(const bool& done) {
    return RunUntil(done, std::chrono::steady_clock::time_point::max(),
                    [this] { stream_.socket().close(); });
  }

  void StartRead() {
    parser_.emplace();
    parser_->body_limit(options_.max_response_bytes);
    read_done_ = false;
    http::async_read(stream_, buffer_, *parser_, [this](beast::error_code e, size_t) {
      read_ec_ = e;
      read_done_ = true;
    });
  }

  // Runs until the pending response read completes or `deadline` passes.
  beast::error_code WaitForRead(std::chrono::steady_clock::time_point deadline) {
    // Closing the socket completes the read with an error.
    if (!RunUntil(read_done_, deadline, [this] { stream_.socket().close(); })) return Abandoned();
    return read_ec_;
  }

  void TakeResponse(HttpResponse* out) {
    auto response = parser_->release();
    out->status = static_cast<int>(response.result_int());
    out->body = std::move(response.body());
  }

  const HttpClientOptions& options_;
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool read_done_ = false;
  beast::error_code read_ec_;
  bool cancelled_ = false;
};

// A request of `method` to `target` (already under the URL's prefix), with
// the headers every call sends.
template <typename Body>
http::request<Body> NewRequest(std::string_view method, const std::string& target,
                               const std::string& host_header, const std::string& api_key) {
  http::request<Body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, host_header);
  req.set(http::field::user_agent, kUserAgent);
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  if (!api_key.empty()) req.set("X-API-Key", api_key);
  return req;
}

}  // namespace

StatusOr<HttpClient> HttpClient::Create(const HttpClientOptions& options) {
  std::string_view url = options.url;
  constexpr std::string_view kScheme = "http://";
  if (url.starts_with("https://")) {
    return Status::InvalidArgument(
        "https is not supported by this client (use http://, with a "
        "TLS-terminating proxy in front of the server)");
  }
  if (!url.starts_with(kScheme)) {
    return Status::InvalidArgument("--url must look like http://HOST[:PORT], got '" +
                                   std::string(url) + "'");
  }
  HttpClient client(options);
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (prefix.ends_with('/')) prefix.remove_suffix(1);
  client.prefix_ = std::string(prefix);
  std::string_view port;
  if (authority.starts_with('[')) {  // [::1]:8000
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("bad IPv6 host in --url");
    client.host_ = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    client.host_ = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (client.host_.empty()) return Status::InvalidArgument("no host in --url");
  if (!port.empty()) {
    if (port.find_first_not_of("0123456789") != std::string_view::npos || port.size() > 5) {
      return Status::InvalidArgument("bad port in --url: '" + std::string(port) + "'");
    }
    client.port_ = std::string(port);
  }
  return client;
}

Status HttpClient::ConnectFailed(const std::string& why) {
  transport_failed_ = true;
  return Status::Unavailable("cannot connect to " + origin() + ": " + why);
}

Status HttpClient::RequestFailed(const std::string& why) {
  transport_failed_ = true;
  return Status::Unavailable("request to " + origin() + " failed: " + why);
}

std::string HttpClient::origin() const {
  bool v6 = host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + port_;
}

StatusOr<HttpResponse> HttpClient::Send(std::string_view method, std::string_view target,
                                        std::string_view body, std::string_view content_type) {
  transport_failed_ = false;
  Connection conn(options_);
  if (beast::error_code ec = conn.Connect(host_, port_)) return ConnectFailed(ec.message());
  auto req = NewRequest<http::string_body>(method, prefix_ + std::string(target), origin().substr(7),
                                     options_.api_key);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.set(http::field::content_type, content_type);
    req.body() = std::string(body);
  }
  req.prepare_payload();
  HttpResponse response;
  beast::error_code ec = conn.WriteRequest(req);
  if (!ec) ec = conn.ReadResponse(&response);
  if (ec) return RequestFailed(ec.message());
  return response;
}

StatusOr<HttpResponse> HttpClient::SendStreamingAnswer(std::string_view method,
                                                       std::string_view target,
                                                       const BodyPieceFn& on_body) {
  transport_failed_ = false;
  Connection conn(options_);
  if (beast::error_code ec = conn.Connect(host_, port_)) return ConnectFailed(ec.message());
  auto req = NewRequest<http::empty_body>(method, prefix_ + std::string(target), origin().substr(7),
                                     options_.api_key);
  HttpResponse response;
  Status sink_error;
  beast::error_code ec = conn.WriteRequest(req);
  if (!ec) ec = conn.ReadStreamed(&response, on_body, &sink_error);
  if (!sink_error.ok()) return sink_error;
  if (ec) return RequestFailed(ec.message());
  return response;
}

StatusOr<HttpResponse> HttpClient::SendStreamed(std::string_view method, std::string_view target,
                                                std::string_view content_type,
                                                const BodyChunkFn& next) {
  transport_failed_ = false;
  Connection conn(options_);
  if (beast::error_code ec = conn.Connect(host_, port_)) return ConnectFailed(ec.message());
  auto req = NewRequest<http::empty_body>(method, prefix_ + std::string(target), origin().substr(7),
                                     options_.api_key);
  req.set(http::field::content_type, content_type);
  req.chunked(true);
  HttpResponse response;
  Status body_error;
  beast::error_code ec = conn.StreamRequest(req, next, &body_error, &response);
  if (!body_error.ok()) return body_error;  // reading the input failed: nothing was committed
  if (ec) return RequestFailed(ec.message());
  return response;
}

}  // namespace syncmgr::cli
