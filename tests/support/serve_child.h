// ServeChild: the real `syncmgr serve` as a child process on a free loopback
// port, for the tests that run the built binary (cli_replay_test,
// compat_test). Every wait is bounded.
//
// Thread-safety: none; use from the test's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/http_client.h"
#include "tests/support/process.h"

namespace syncmgr::testing {

class ServeChild {
 public:
  // Starts `bin serve --db DB --port P` with SYNCMGR_ADMIN_KEY=admin_key,
  // its output appended to `log`, and waits until /health answers (up to
  // 15 s; up to three ports are tried). ready() says whether it did.
  ServeChild(const std::string& bin, const std::string& db, const std::string& admin_key,
             const std::string& log);
  ~ServeChild();  // Stop(), then SIGKILL if still running
  ServeChild(const ServeChild&) = delete;
  ServeChild& operator=(const ServeChild&) = delete;

  bool ready() const { return ready_; }
  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // What the child wrote so far.
  std::string log() const;
  // SIGTERM and wait (up to 120 s): the exit code, 0 after a clean stop;
  // nullopt if it was not running or did not exit in time.
  std::optional<int> Stop();
  HttpClient Client(const std::string& key) const;

 private:
  std::string log_;
  uint16_t port_ = 0;
  bool ready_ = false;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace syncmgr::testing
