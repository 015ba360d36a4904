#include "tests/support/feed_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tests/support/http_client.h"

namespace syncmgr::testing {

FeedConnection::~FeedConnection() { Close(); }

void FeedConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool FeedConnection::Open(const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          int rcvbuf) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    error_ = std::string("connect: ") + std::strerror(errno);
    Close();
    return false;
  }
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) req += name + ": " + value + "\r\n";
  req += "\r\n";
  size_t sent = 0;
  while (sent < req.size()) {
    const ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      error_ = std::string("send: ") + std::strerror(errno);
      Close();
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  return true;
}

bool FeedConnection::ReadAvailable() {
  if (fd_ < 0) return false;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      raw_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      closed_ = true;
      break;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == EINTR) continue;
    closed_ = true;
    error_ = std::string("recv: ") + std::strerror(errno);
    break;
  }
  Consume();
  return !closed_;
}

void FeedConnection::Consume() {
  if (status_ == 0) {
    const size_t end = raw_.find("\r\n\r\n");
    if (end == std::string::npos) return;
    const std::string head = raw_.substr(0, end);
    raw_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.size() >= 12) status_ = std::atoi(status_line.c_str() + 9);
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos
                                                      ? std::string::npos
                                                      : line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      headers_[Lower(line.substr(0, colon))] = value;
    }
    chunked_ = Lower(Header("transfer-encoding")).find("chunked") != std::string::npos;
    if (!chunked_ && !Header("content-length").empty()) {
      content_length_ = std::atoll(Header("content-length").c_str());
    }
    if (!chunked_ && content_length_ < 0) content_length_ = 0;
  }
  for (;;) {
    if (complete_) return;
    if (!chunked_) {
      const size_t take =
          std::min<size_t>(raw_.size(), static_cast<size_t>(content_length_) - body_.size());
      body_.append(raw_, 0, take);
      ParseSse(std::string_view(raw_).substr(0, take));
      raw_.erase(0, take);
      if (body_.size() == static_cast<size_t>(content_length_)) complete_ = true;
      return;
    }
    if (chunk_left_ < 0) {
      const size_t eol = raw_.find("\r\n");
      if (eol == std::string::npos) return;
      chunk_left_ = std::strtoll(raw_.substr(0, eol).c_str(), nullptr, 16);
      raw_.erase(0, eol + 2);
      if (chunk_left_ == 0) {
        complete_ = true;  // (trailers are not used)
        return;
      }
    }
    if (raw_.size() < static_cast<size_t>(chunk_left_) + 2) return;
    const std::string_view piece = std::string_view(raw_).substr(0, chunk_left_);
    body_.append(piece);
    ParseSse(piece);
    raw_.erase(0, chunk_left_ + 2);
    chunk_left_ = -1;
  }
}

void FeedConnection::ParseSse(std::string_view bytes) {
  for (char c : bytes) {
    if (c != '\n') {
      sse_line_ += c;
      continue;
    }
    std::string line = std::move(sse_line_);
    sse_line_.clear();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {  // dispatch
      if (pending_any_) events_.push_back(std::move(pending_));
      pending_ = SseEvent();
      pending_any_ = false;
      continue;
    }
    if (line.front() == ':') {
      std::string comment = line.substr(1);
      if (!comment.empty() && comment.front() == ' ') comment.erase(0, 1);
      comments_.push_back(std::move(comment));
      continue;
    }
    const size_t colon = line.find(':');
    const std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.erase(0, 1);
    pending_any_ = true;
    if (field == "id") {
      pending_.id = value;
    } else if (field == "event") {
      pending_.event = value;
    } else if (field == "data") {
      if (!pending_.data.empty()) pending_.data += '\n';
      pending_.data += value;
    }
  }
}

std::string FeedConnection::Header(const std::string& name) const {
  auto it = headers_.find(Lower(name));
  return it == headers_.end() ? "" : it->second;
}

std::vector<SseEvent> FeedConnection::FeedEvents() const {
  std::vector<SseEvent> out;
  for (const SseEvent& e : events_) {
    if (e.event != "checkpoint" && e.event != "caught_up") out.push_back(e);
  }
  return out;
}

bool FeedConnection::WaitFor(const std::function<bool()>& done,
                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ReadAvailable();
  while (!done() && !closed_ && fd_ >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
    ReadAvailable();
  }
  return done();
}

bool PollAll(const std::vector<FeedConnection*>& connections,
             const std::function<bool(const FeedConnection&)>& done,
             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<FeedConnection*> waiting;
    for (FeedConnection* c : connections) {
      if (done(*c) || c->closed() || c->fd() < 0) continue;
      fds.push_back(pollfd{c->fd(), POLLIN, 0});
      waiting.push_back(c);
    }
    if (waiting.empty()) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left.count(), 100)));
    if (n <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents != 0) waiting[i]->ReadAvailable();
    }
  }
  return std::all_of(connections.begin(), connections.end(),
                     [&](FeedConnection* c) { return done(*c); });
}

}  // namespace syncmgr::testing
