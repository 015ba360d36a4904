// A throwaway NATS JetStream cluster for tests: N (default 3) real
// nats-server processes (Debian's, installed by scripts/bootstrap.sh) on
// free loopback ports, each with its own generated config file and store
// directory in a fresh temporary directory, joined by routes into one
// JetStream cluster. Servers can be killed (SIGKILL), paused (SIGSTOP),
// resumed (SIGCONT) and restarted on the same ports and store. Everything
// is killed and removed on destruction.
//
//   syncmgr::testing::NatsCluster nats;
//   ASSERT_TRUE(nats.Start()) << nats.error();   // waits for a meta leader
//   opts.servers = nats.ClientUrls();
//   nats.Kill(1); ... ASSERT_TRUE(nats.Restart(1)) << nats.error();
//
// Every wait is bounded. The servers die with the test process, even when
// it crashes (ProcessOptions::die_with_parent). Binary:
// $SYNCMGR_NATS_SERVER, else /usr/sbin/nats-server.
//
// Thread-safety: use from one thread, the one that lives as long as the
// servers (the test's main thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace syncmgr::testing {

class BackgroundProcess;

struct NatsClusterOptions {
  int servers = 3;
  // Start and Restart wait this long for JetStream to answer. Default: 60 s.
  std::chrono::seconds ready_timeout{60};
};

class NatsCluster {
 public:
  static std::string Binary();
  static bool BinaryPresent();

  NatsCluster();
  ~NatsCluster();  // kills every server and removes the directory
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // Writes the configs, starts every server and waits until each one's
  // JetStream answers (which needs a meta leader) and a stream replicated
  // on every server can be created (the meta leader knows every peer).
  // False with error() on failure (the servers' log tails included).
  bool Start(const NatsClusterOptions& options = {});
  const std::string& error() const { return error_; }

  int size() const { return static_cast<int>(servers_.size()); }
  // "nats://127.0.0.1:PORT" of server i, and of all of them.
  std::string ClientUrl(int i) const;
  std::vector<std::string> ClientUrls() const;
  // "n0", "n1", ...: the server_name JetStream reports (leaders, peers).
  std::string ServerName(int i) const;
  // The index of the server named `name`; -1 if none.
  int IndexOf(const std::string& name) const;

  // SIGKILL, and wait for the process to be gone.
  void Kill(int i);
  // SIGSTOP / SIGCONT.
  bool Pause(int i);
  bool Resume(int i);
  // Starts a killed server again with its config (same ports, same store)
  // and waits until its JetStream answers. False with error() on failure.
  bool Restart(int i);
  bool running(int i);

  // Waits until every running server's JetStream answers. False with
  // error() after `timeout`.
  bool WaitReady(std::chrono::seconds timeout);
  // The last `bytes` of server i's log.
  std::string LogTail(int i, size_t bytes = 4000) const;

 private:
  struct Server {
    std::string name;
    uint16_t client_port = 0;
    uint16_t cluster_port = 0;
    std::string config_path;
    std::string log_path;
    std::unique_ptr<BackgroundProcess> process;
  };
  bool Launch(int i);
  bool ServerReady(int i, std::string* why);
  bool CanPlaceReplicas(std::string* why);
  bool Fail(const std::string& what);

  NatsClusterOptions options_;
  std::string dir_;
  std::vector<Server> servers_;
  std::string error_;
};

}  // namespace syncmgr::testing
