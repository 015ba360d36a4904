#include "tests/support/serve_process.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/support/files.h"

namespace syncmgr::testing {

bool ServeProcess::Start() {
  // Another process may take a free port first: then another one.
  const int attempts = options_.port != 0 ? 1 : 3;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    port_ = options_.port != 0 ? options_.port : FreeLoopbackPort();
    if (port_ == 0) continue;
    ProcessOptions env;
    env.env = {{"SYNCMGR_ADMIN_KEY", options_.admin_key}};
    std::vector<std::string> argv = {options_.binary, "serve", "--db", options_.db, "--port",
                                     std::to_string(port_)};
    argv.insert(argv.end(), options_.flags.begin(), options_.flags.end());
    process_ = std::make_unique<BackgroundProcess>();
    if (!process_->Start(argv, env, options_.log)) continue;
    HttpClient c(port_);
    c.set_timeout(std::chrono::milliseconds(2000));
    for (int i = 0; i < 300 && process_->running(); ++i) {  // bounded: 300 × 100 ms
      if (c.Get("/health").status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    process_->Stop(SIGKILL, std::chrono::seconds(30));
  }
  ADD_FAILURE() << "syncmgr serve --db " << options_.db << " did not come up; log:\n"
                << ReadLog();
  return false;
}

std::optional<int> ServeProcess::Stop(int sig, std::chrono::seconds timeout) {
  if (!process_) return std::nullopt;
  return process_->Stop(sig, timeout);
}

std::string ServeProcess::ReadLog() const { return ReadFile(options_.log); }

HttpClient ServeProcess::Client(const std::string& api_key) const {
  HttpClient c(port_);
  c.set_api_key(api_key);
  return c;
}

}  // namespace syncmgr::testing
