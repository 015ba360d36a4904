#include "tests/support/serve_child.h"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace syncmgr::testing {

ServeChild::ServeChild(const std::string& bin, const std::string& db, const std::string& admin_key,
                       const std::string& log)
    : log_(log) {
  for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {
    port_ = FreeLoopbackPort();
    ProcessOptions options;
    options.env = {{"SYNCMGR_ADMIN_KEY", admin_key}};
    process_ = std::make_unique<BackgroundProcess>();
    if (!process_->Start({bin, "serve", "--db", db, "--port", std::to_string(port_)}, options,
                         log_)) {
      continue;
    }
    // Ready when /health answers; bounded: 300 × 50 ms.
    for (int i = 0; i < 300 && process_->running(); ++i) {
      HttpClient probe(port_);
      probe.set_timeout(std::chrono::milliseconds(2000));
      if (probe.Get("/health").status == 200) {
        ready_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!ready_) process_->Stop(SIGKILL, std::chrono::seconds(30));
  }
}

ServeChild::~ServeChild() { Stop(); }

std::string ServeChild::log() const {
  std::ifstream in(log_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<int> ServeChild::Stop() {
  if (!process_ || !ready_) return std::nullopt;
  ready_ = false;
  return process_->Stop(SIGTERM, std::chrono::seconds(120));
}

HttpClient ServeChild::Client(const std::string& key) const {
  HttpClient c(port_);
  c.set_api_key(key);
  return c;
}

}  // namespace syncmgr::testing
