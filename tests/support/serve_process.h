// A real `syncmgr serve` child process on a data directory, for the push
// tests that restart or kill the server: started on a free loopback port,
// restartable (with other flags), its output appended to a log file.
//
//   ServeOptions o;
//   o.binary = SYNCMGR_BIN;  o.db = dir + "/db";  o.log = dir + "/serve.log";
//   ServeProcess serve(o);
//   serve.Start();                      // waits for GET /health, bounded
//   HttpClient c = serve.Client(key);
//   serve.Stop(SIGKILL);  serve.Start();
//
// Thread-safety: one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/process.h"

namespace syncmgr::testing {

struct ServeOptions {
  std::string binary;  // the syncmgr executable (the test's SYNCMGR_BIN)
  std::string db;      // --db
  std::string log;     // stdout and stderr, appended
  std::string admin_key = "push-serve-admin-key";  // SYNCMGR_ADMIN_KEY
  // Flags after `serve --db DB --port P`. Default: --allow-private-push
  // (receivers run on loopback).
  std::vector<std::string> flags = {"--allow-private-push"};
};

class ServeProcess {
 public:
  explicit ServeProcess(ServeOptions options) : options_(std::move(options)) {}
  // Destroying it SIGKILLs a child still running (BackgroundProcess).

  // Starts the server and waits until GET /health answers (bounded: three
  // ports, 300 × 100 ms each); fails the test (ADD_FAILURE) otherwise.
  void Start();
  // Sends `sig` and waits (bounded) for the exit; the exit code (128 +
  // signal when killed), nullopt if it did not exit in time.
  std::optional<int> Stop(int sig, std::chrono::seconds timeout = std::chrono::seconds(60));

  // The flags of the next Start.
  std::vector<std::string>& flags() { return options_.flags; }
  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& log() const { return options_.log; }
  const std::string& admin_key() const { return options_.admin_key; }
  HttpClient Client(const std::string& api_key) const;

 private:
  ServeOptions options_;
  uint16_t port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace syncmgr::testing
