// ServeProcess: the real `syncmgr serve` of this build as a child process on
// a data directory, for every test that runs the built binary (the CLI's
// remote mode, replay and backup, format compatibility, push delivery across
// restarts and kill -9): started on a free loopback port, restartable (with
// other flags), its output appended to a log file. Every wait is bounded.
//
//   ServeOptions o;
//   o.binary = SYNCMGR_BIN;  o.db = dir + "/db";  o.log = dir + "/serve.log";
//   ServeProcess serve(o);
//   ASSERT_TRUE(serve.Start());         // waits for GET /health
//   HttpClient c = serve.Client(serve.admin_key());
//   serve.Stop(SIGKILL);  serve.Start();
//
// Thread-safety: none; use from the test's thread.
#pragma once

#include <signal.h>

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
  std::string admin_key = "serve-process-admin-key";  // SYNCMGR_ADMIN_KEY
  // Flags after `serve --db DB --port P`, e.g. --allow-private-push for
  // receivers on loopback. Default: none.
  std::vector<std::string> flags;
  // The port: 0 picks a free loopback port at each Start (three tries);
  // another, that port (one try: a restart where clients left it).
  uint16_t port = 0;
};

class ServeProcess {
 public:
  explicit ServeProcess(ServeOptions options) : options_(std::move(options)) {}
  // SIGKILLs a child still running.
  ~ServeProcess() = default;
  ServeProcess(ServeProcess&&) = default;
  ServeProcess& operator=(ServeProcess&&) = default;

  // Starts the server and waits until GET /health answers (bounded: three
  // ports, or the fixed one once, 300 × 100 ms each). False, and the test fails (ADD_FAILURE) with
  // the server's log, if it did not come up.
  bool Start();
  // Sends `sig` and waits (bounded) for the exit: the exit code (0 after a
  // clean stop, 128 + signal when killed), nullopt if it was not running or
  // did not exit in time.
  std::optional<int> Stop(int sig = SIGTERM,
                          std::chrono::seconds timeout = std::chrono::seconds(120));
  bool running() { return process_ && process_->running(); }

  // The flags of the next Start.
  std::vector<std::string>& flags() { return options_.flags; }
  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& log() const { return options_.log; }
  // What the child wrote so far.
  std::string ReadLog() const;
  const std::string& admin_key() const { return options_.admin_key; }
  HttpClient Client(const std::string& api_key) const;

 private:
  ServeOptions options_;
  uint16_t port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace syncmgr::testing
