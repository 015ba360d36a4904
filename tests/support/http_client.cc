#include "tests/support/http_client.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

namespace syncmgr::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

namespace {

// Largest response body a test reads (streamed property lists of big tests).
constexpr uint64_t kMaxResponseBody = 1ull << 31;

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  const auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Impl {
  Impl(std::string host_in, uint16_t port_in) : host(std::move(host_in)), port(port_in) {}

  // Runs the io_context until the pending operation completes. Every
  // operation is started with a tcp_stream deadline, so this returns.
  void Run() {
    ioc.restart();
    ioc.run();
  }

  std::string host;
  uint16_t port;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(uint16_t port, std::string host)
    : impl_(std::make_unique<Impl>(std::move(host), port)) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

bool HttpClient::connected() const { return impl_->stream && impl_->stream->socket().is_open(); }

void HttpClient::Close() {
  if (!impl_->stream) return;
  beast::error_code ec;
  impl_->stream->socket().shutdown(tcp::socket::shutdown_both, ec);
  impl_->stream->close();
  impl_->stream.reset();
  impl_->buffer.clear();
}

bool HttpClient::Connect() {
  Close();
  impl_->stream.emplace(impl_->ioc);
  impl_->buffer.clear();
  beast::error_code result;
  const tcp::endpoint endpoint(net::ip::make_address(impl_->host), impl_->port);
  impl_->stream->expires_after(timeout_);
  impl_->stream->async_connect(endpoint, [&](beast::error_code ec) { result = ec; });
  impl_->Run();
  if (result) {
    error_ = "connect: " + result.message();
    impl_->stream.reset();
    return false;
  }
  ++connects_;
  return true;
}

bool HttpClient::SendRaw(std::string_view bytes) {
  if (!connected() && !Connect()) return false;
  beast::error_code result;
  impl_->stream->expires_after(timeout_);
  net::async_write(*impl_->stream, net::buffer(bytes.data(), bytes.size()),
                   [&](beast::error_code ec, size_t) { result = ec; });
  impl_->Run();
  if (result) {
    error_ = "write: " + result.message();
    return false;
  }
  return true;
}

bool HttpClient::SendSlowly(std::string_view bytes, std::chrono::milliseconds delay) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (!SendRaw(bytes.substr(i, 1))) return false;
    std::this_thread::sleep_for(delay);
  }
  return true;
}

HttpResponse HttpClient::ReadResponse() {
  HttpResponse out;
  if (!connected()) {
    error_ = "not connected";
    return out;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  parser.header_limit(1 << 20);
  beast::error_code result;
  impl_->stream->expires_after(timeout_);
  http::async_read(*impl_->stream, impl_->buffer, parser,
                   [&](beast::error_code ec, size_t) { result = ec; });
  impl_->Run();
  if (result) {
    error_ = "read: " + result.message();
    Close();
    return out;
  }
  auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res)
    out.headers[Lower(field.name_string())] = std::string(field.value());
  out.body = std::move(res.body());
  out.keep_alive = res.keep_alive();
  if (!out.keep_alive) Close();
  return out;
}

bool HttpClient::WaitForClose(std::chrono::milliseconds within, std::string* received) {
  if (!connected()) return true;
  if (received != nullptr) {  // what an earlier read took beyond its response
    received->append(static_cast<const char*>(impl_->buffer.data().data()), impl_->buffer.size());
  }
  impl_->buffer.consume(impl_->buffer.size());
  const auto deadline = std::chrono::steady_clock::now() + within;
  char scratch[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    beast::error_code result;
    size_t n = 0;
    impl_->stream->expires_at(deadline);
    impl_->stream->async_read_some(net::buffer(scratch), [&](beast::error_code ec, size_t got) {
      result = ec;
      n = got;
    });
    impl_->Run();
    if (received != nullptr) received->append(scratch, n);
    if (result == beast::error::timeout) {
      // Our own deadline: the server kept the connection open.
      impl_->stream.reset();
      return false;
    }
    if (result) {  // end of stream or reset: closed by the server
      Close();
      return true;
    }
  }
  return false;
}

HttpResponse HttpClient::Request(const HttpRequest& request) {
  // A kept-alive connection the server has closed meanwhile: retry once on a
  // fresh one when nothing of the response came back.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = connected();
    if (!reused && !Connect()) return {};
    std::string head =
        request.method + " " + request.target + " HTTP/1.1\r\nHost: " + impl_->host + "\r\n";
    if (!api_key_.empty()) head += "X-API-Key: " + api_key_ + "\r\n";
    for (const auto& [name, value] : request.headers) head += name + ": " + value + "\r\n";
    std::string payload;
    if (request.chunk_bytes > 0) {
      head += "Transfer-Encoding: chunked\r\n\r\n";
      bool ok = SendRaw(head);
      for (size_t pos = 0; ok && pos < request.body.size(); pos += request.chunk_bytes) {
        const std::string_view piece =
            std::string_view(request.body).substr(pos, request.chunk_bytes);
        char size_line[32];
        std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
        ok = SendRaw(std::string(size_line) + std::string(piece) + "\r\n");
      }
      if (ok) ok = SendRaw("0\r\n\r\n");
      if (!ok) {
        // The server may have answered early (e.g. 413) and closed.
        HttpResponse early = ReadResponse();
        if (early.status != 0) return early;
        if (reused && attempt == 0 && retry_stale_) continue;
        return {};
      }
    } else {
      if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
        head += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
      }
      head += "\r\n";
      if (!SendRaw(head + request.body)) {
        HttpResponse early = ReadResponse();
        if (early.status != 0) return early;
        if (reused && attempt == 0 && retry_stale_) continue;
        return {};
      }
    }
    HttpResponse response = ReadResponse();
    if (response.status == 0 && reused && attempt == 0 && retry_stale_) continue;
    return response;
  }
  return {};
}

namespace {
HttpRequest MakeRequest(std::string method, std::string target, std::string body,
                        std::string content_type) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.emplace_back("Content-Type", std::move(content_type));
  return r;
}
}  // namespace

HttpResponse HttpClient::Get(std::string target) {
  return Request(MakeRequest("GET", std::move(target), "", ""));
}

HttpResponse HttpClient::Post(std::string target, std::string body, std::string content_type) {
  return Request(MakeRequest("POST", std::move(target), std::move(body), std::move(content_type)));
}

HttpResponse HttpClient::Put(std::string target, std::string body, std::string content_type) {
  return Request(MakeRequest("PUT", std::move(target), std::move(body), std::move(content_type)));
}

HttpResponse HttpClient::Delete(std::string target) {
  return Request(MakeRequest("DELETE", std::move(target), "", ""));
}

}  // namespace syncmgr::testing
