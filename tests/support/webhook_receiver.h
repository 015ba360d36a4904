// A real HTTP/1.1 webhook receiver on a loopback port, for push delivery
// tests and the delivery benchmark: plain sockets, one thread per
// connection, keep-alive. What it answers comes from a policy the test
// supplies (status, headers, a delay before answering, or no answer at all),
// so a receiver can fail on a schedule. Every request is recorded.
//
// Also DeadReceiver: a port that accepts TCP connections into its backlog
// but never reads or answers (a hung receiver).
//
// Thread-safety: the accessors may be called from any thread; the policy is
// called on connection threads (one call at a time per connection).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace syncmgr::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::chrono::steady_clock::time_point at;
  int answered_status = 0;  // what the policy answered (0: none)
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct ReceiverReply {
  int status = 200;
  std::string body = "{}";
  std::vector<std::pair<std::string, std::string>> headers;
  // Wait this long before answering (a slow or hanging receiver); cut short
  // when the receiver stops.
  std::chrono::milliseconds delay{0};
  // Close the connection without answering.
  bool drop = false;
};

// `n`: how many requests came before this one (0 for the first).
using ReceiverPolicy = std::function<ReceiverReply(const ReceivedRequest& request, size_t n)>;

class WebhookReceiver {
 public:
  // Default policy: 200 to everything.
  explicit WebhookReceiver(ReceiverPolicy policy = {});
  ~WebhookReceiver();  // Stop()
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:PORT/hook"
  std::string url() const;
  // Replaces the policy (for requests that arrive from now on).
  void set_policy(ReceiverPolicy policy);

  std::vector<ReceivedRequest> requests() const;
  size_t request_count() const;
  // Waits until `done(requests)` is true or `timeout` passes; returns it.
  bool WaitUntil(const std::function<bool(const std::vector<ReceivedRequest>&)>& done,
                 std::chrono::milliseconds timeout) const;
  // Closes the listener and every connection; joins the threads.
  void Stop();

 private:
  void AcceptLoop();
  void Serve(int fd);
  void ServeLoop(int fd);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  ReceiverPolicy policy_;                  // guarded by mu_
  std::vector<ReceivedRequest> requests_;  // guarded by mu_
  std::vector<std::thread> connections_;   // guarded by mu_
  std::vector<int> connection_fds_;        // guarded by mu_
};

// Listens on a loopback port and never accepts: connections complete in
// the kernel's backlog, requests are never read, nothing is answered.
class DeadReceiver {
 public:
  DeadReceiver();
  ~DeadReceiver();
  uint16_t port() const { return port_; }
  std::string url() const;

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace syncmgr::testing
