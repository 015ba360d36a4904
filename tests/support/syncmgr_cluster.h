// A throwaway Sync Manager cluster for tests (SPEC §7): a 3-server NATS
// JetStream cluster (nats_cluster.h) and N `syncmgr serve --cluster` child
// processes of the built binary on free loopback ports, each with its own
// data directory, the same admin key, a short lease TTL and the test hooks
// (SIGUSR1/SIGUSR2 pause/resume a node's reader of the log). Nodes can be
// killed (SIGKILL), stopped (SIGTERM), paused (SIGSTOP), resumed (SIGCONT)
// and restarted on the same port and directory. Everything dies with the
// test (the children with the thread that started them) and the
// directories are removed.
//
//   SyncmgrCluster c(SYNCMGR_BIN);
//   ASSERT_TRUE(c.Start()) << c.error();
//   HttpClient admin = c.Admin(0);
//
// Every wait is bounded. Thread-safety: use from one thread (the test's
// main thread), except Client/Admin/url/port, which only read.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/nats_cluster.h"

namespace syncmgr::testing {

class BackgroundProcess;

struct SyncmgrClusterOptions {
  int nodes = 3;
  // --lease-ttl of every node. Short, so failovers are quick; clients must
  // retry for at least 10× it.
  std::chrono::milliseconds lease_ttl{1500};
  // --cluster-publish-timeout.
  std::chrono::milliseconds publish_timeout{5000};
  // Start and Restart wait this long for a node's /health.
  std::chrono::seconds ready_timeout{90};
  // Extra arguments for every node.
  std::vector<std::string> extra_args;
};

class SyncmgrCluster {
 public:
  explicit SyncmgrCluster(std::string bin);
  ~SyncmgrCluster();  // kills every node, then the NATS servers
  SyncmgrCluster(const SyncmgrCluster&) = delete;
  SyncmgrCluster& operator=(const SyncmgrCluster&) = delete;

  // Starts NATS, then every node, and waits for each one's /health. False
  // with error() (the logs' tails included) on failure.
  bool Start(const SyncmgrClusterOptions& options = {});
  const std::string& error() const { return error_; }

  static constexpr const char* kAdminKey = "cluster-test-admin-key-0123456789abcdef";

  int size() const { return static_cast<int>(nodes_.size()); }
  NatsCluster& nats() { return nats_; }
  uint16_t port(int i) const { return nodes_[i].port; }
  std::string url(int i) const { return "http://127.0.0.1:" + std::to_string(nodes_[i].port); }
  std::string name(int i) const { return "node" + std::to_string(i); }
  // Node i's index by its --node name; -1 if none.
  int IndexOf(const std::string& node) const;
  const std::string& db(int i) const { return nodes_[i].db; }
  // A client of node i with `api_key`, and one with the admin key.
  HttpClient Client(int i, const std::string& api_key) const;
  HttpClient Admin(int i) const;

  // SIGKILL, and wait for the process to be gone.
  void Kill(int i);
  // SIGTERM (a clean stop: leases released); the exit code, or nullopt.
  std::optional<int> Stop(int i);
  bool Pause(int i);   // SIGSTOP
  bool Resume(int i);  // SIGCONT
  // The test hook: pause or resume node i's reader of the log.
  bool PauseReader(int i);
  bool ResumeReader(int i);
  // Starts node i again on its port and directory; waits for /health.
  bool Restart(int i);
  bool running(int i);

  // The node holding `tenant`'s lease now (a leader read of the lease
  // bucket); -1 if none or unknown.
  int OwnerOf(uint32_t tenant);
  // Node i's /metrics value of `series` (the first sample); nullopt if absent.
  std::optional<double> Metric(int i, const std::string& series);
  // The tail of node i's log.
  std::string LogTail(int i, size_t bytes = 4000) const;
  // Every node's log tail and the NATS servers', for failure messages.
  std::string Logs() const;

 private:
  struct Node {
    uint16_t port = 0;
    std::string db;
    std::string log;
    std::unique_ptr<BackgroundProcess> process;
  };
  bool Launch(int i);
  // Launch, then WaitHealthy; a failure says the node did not `what`.
  bool LaunchHealthy(int i, const char* what);
  bool WaitHealthy(int i, std::string* why);
  bool Fail(const std::string& what);

  std::string bin_;
  SyncmgrClusterOptions options_;
  NatsCluster nats_;
  std::string dir_;
  std::vector<Node> nodes_;
  std::string error_;
};

// Sends `req` until an answer other than 503 (no owner yet: a node may be
// taking the tenant over) or a failed connection comes, for at most
// `retry_for` (at least 10 lease TTLs). Returns the last answer.
HttpResponse RetryWhileUnavailable(HttpClient& c, const HttpRequest& req,
                                   std::chrono::milliseconds retry_for = std::chrono::seconds(60));
// The same for a POST of a JSON body.
HttpResponse RetryPost(HttpClient& c, const std::string& target, const std::string& body,
                       std::chrono::milliseconds retry_for = std::chrono::seconds(60));

}  // namespace syncmgr::testing
