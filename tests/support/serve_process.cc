#include "tests/support/serve_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace syncmgr::testing {

void ServeProcess::Start() {
  for (int attempt = 0; attempt < 3; ++attempt) {  // another process may take the port first
    port_ = FreeLoopbackPort();
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
      if (c.Get("/health").status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    process_->Stop(SIGKILL, std::chrono::seconds(30));
  }
  std::ifstream in(options_.log);
  std::stringstream log;
  log << in.rdbuf();
  ADD_FAILURE() << "syncmgr serve did not come up; log:\n" << log.str();
}

std::optional<int> ServeProcess::Stop(int sig, std::chrono::seconds timeout) {
  if (!process_) return std::nullopt;
  return process_->Stop(sig, timeout);
}

HttpClient ServeProcess::Client(const std::string& api_key) const {
  HttpClient c(port_);
  c.set_api_key(api_key);
  return c;
}

}  // namespace syncmgr::testing
