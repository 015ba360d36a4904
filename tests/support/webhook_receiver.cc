#include "tests/support/webhook_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace syncmgr::testing {

namespace {

// Largest request accepted (header + body), bytes.
constexpr size_t kMaxRequestBytes = 64 << 20;
// Poll interval of blocking reads and delays, so Stop() is prompt.
constexpr int kPollMs = 50;

int ListenLoopback(int backlog, uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, backlog) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

WebhookReceiver::WebhookReceiver(ReceiverPolicy policy) : policy_(std::move(policy)) {
  listen_fd_ = ListenLoopback(128, &port_);
  if (listen_fd_ >= 0) accept_thread_ = std::thread([this] { AcceptLoop(); });
}

WebhookReceiver::~WebhookReceiver() { Stop(); }

std::string WebhookReceiver::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/hook";
}

void WebhookReceiver::set_policy(ReceiverPolicy policy) {
  std::lock_guard lock(mu_);
  policy_ = std::move(policy);
}

std::vector<ReceivedRequest> WebhookReceiver::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t WebhookReceiver::request_count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

bool WebhookReceiver::WaitUntil(
    const std::function<bool(const std::vector<ReceivedRequest>&)>& done,
    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return done(requests_); });
}

void WebhookReceiver::Stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (int fd : connection_fds_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(connections_);
  }
  for (std::thread& t : threads) t.join();
}

void WebhookReceiver::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu_);
    connection_fds_.push_back(fd);
    connections_.emplace_back([this, fd] { Serve(fd); });
  }
}

void WebhookReceiver::Serve(int fd) {
  ServeLoop(fd);
  std::lock_guard lock(mu_);
  connection_fds_.erase(std::remove(connection_fds_.begin(), connection_fds_.end(), fd),
                        connection_fds_.end());
  ::close(fd);
}

void WebhookReceiver::ServeLoop(int fd) {
  std::string buf;
  char chunk[64 << 10];
  // Reads more bytes into buf; false on close, error or stop.
  auto read_more = [&]() -> bool {
    while (!stopping_.load()) {
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, kPollMs);
      if (r < 0) return false;
      if (r == 0) continue;
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf.append(chunk, static_cast<size_t>(n));
      return buf.size() <= kMaxRequestBytes;
    }
    return false;
  };
  for (;;) {
    size_t header_end;
    while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more()) return;
    }
    ReceivedRequest req;
    req.at = std::chrono::steady_clock::now();
    std::string head = buf.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    size_t sp1 = request_line.find(' ');
    size_t sp2 = request_line.find(' ', sp1 + 1);
    req.method = request_line.substr(0, sp1);
    req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        req.headers[Lower(line.substr(0, colon))] = Trim(line.substr(colon + 1));
      }
      pos = end + 2;
    }
    size_t length = 0;
    if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
      length = std::stoull(it->second);
    }
    buf.erase(0, header_end + 4);
    while (buf.size() < length) {
      if (!read_more()) return;
    }
    req.body = buf.substr(0, length);
    buf.erase(0, length);

    ReceiverReply reply;
    size_t index = 0;
    {
      std::lock_guard lock(mu_);
      index = requests_.size();
      requests_.push_back(req);
      if (policy_) {
        ReceiverPolicy policy = policy_;
        reply = policy(req, index);
      }
      requests_[index].answered_status = reply.drop ? 0 : reply.status;
    }
    changed_.notify_all();
    auto until = std::chrono::steady_clock::now() + reply.delay;
    while (!stopping_.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(
          kPollMs, std::chrono::duration_cast<std::chrono::milliseconds>(
                       until - std::chrono::steady_clock::now())
                           .count() +
                       1)));
    }
    if (reply.drop || stopping_.load()) return;
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                      ReasonPhrase(reply.status) + "\r\nContent-Type: application/json\r\n";
    for (const auto& [name, value] : reply.headers) out += name + ": " + value + "\r\n";
    out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n" + reply.body;
    if (!WriteAll(fd, out)) return;
  }
}

DeadReceiver::DeadReceiver() { fd_ = ListenLoopback(1024, &port_); }

DeadReceiver::~DeadReceiver() {
  if (fd_ >= 0) ::close(fd_);
}

std::string DeadReceiver::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/hook";
}

}  // namespace syncmgr::testing
